//! Hostile connections against the real `ember serve` binary on loopback: slow or silent
//! clients are closed by their timeouts, the connection cap sheds while `GET /ping` still
//! answers, the in-flight cap answers 503, SIGTERM always finishes (and still answers the
//! request in flight), and rejected requests neither flood the log nor forge log lines.
//! Every socket read has a timeout; every wait is bounded.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn car_model() -> PathBuf {
    root().join("examples/car-evaluation/model")
}

fn car_schema() -> String {
    std::fs::read_to_string(root().join("examples/car-evaluation/schema.json")).unwrap()
}

const GOOD_ROW: &str = "low,med,4,2,big,high";
const CLASSES: [&str; 4] = ["unacc", "acc", "good", "vgood"];

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `ember serve` with its stderr going to a file; killed when dropped.
struct Serve {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    fn start(args: &[&str]) -> Self {
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("stderr.log");
        let child = Command::new(env!("CARGO_BIN_EXE_ember"))
            .args(["serve", "--model"])
            .arg(car_model())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(args)
            .env("SAGEMAKER_SPARKML_SCHEMA", car_schema())
            .env("RUST_LOG", "info")
            .env_remove("SAGEMAKER_BIND_TO_PORT")
            .env_remove("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT")
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()))
            .spawn()
            .unwrap();
        let s = Self {
            child,
            addr,
            log,
            _dir: dir,
        };
        assert!(
            wait_ping(addr, Duration::from_secs(30)),
            "the server does not answer /ping; stderr:\n{}",
            s.stderr()
        );
        s
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn term(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM failed");
    }

    /// Waits up to `within` for the process to exit.
    fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

fn wait_ping(addr: SocketAddr, within: Duration) -> bool {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.write_all(b"GET /ping HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
            let mut buf = String::new();
            let _ = s.read_to_string(&mut buf);
            if buf.starts_with("HTTP/1.1 200") {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Reads until the server closes the connection (or the read timeout); returns what came and
/// whether it was closed.
fn read_to_close(s: &mut TcpStream) -> (String, bool) {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return (String::from_utf8_lossy(&all).into(), true),
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return (String::from_utf8_lossy(&all).into(), true);
            }
            Err(_) => return (String::from_utf8_lossy(&all).into(), false), // timed out
        }
    }
}

/// Reads one response with a `Content-Length` from a keep-alive connection.
fn read_response(s: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&all).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if body.len() >= len {
                return text;
            }
        }
        match s.read(&mut buf) {
            Ok(0) => return text,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) => panic!("reading a response: {e}; got so far: {text}"),
        }
    }
}

/// One request on a new connection (`Connection: close`), the whole response back.
fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    let mut s = connect(addr);
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let (text, _) = read_to_close(&mut s);
    text
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split_once("\r\n\r\n").map_or(response, |(h, _)| h);
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

fn assert_closed_within(s: &mut TcpStream, at_least: Duration, at_most: Duration, what: &str) {
    let started = Instant::now();
    let (_, closed) = read_to_close(s);
    let took = started.elapsed();
    assert!(closed, "{what}: the server did not close the connection");
    assert!(
        took >= at_least && took <= at_most,
        "{what}: closed after {took:?}, expected between {at_least:?} and {at_most:?}"
    );
}

#[test]
fn partial_headers_and_silent_connections_are_closed_within_the_header_timeout() {
    let s = Serve::start(&["--header-timeout-secs", "1", "--idle-timeout-secs", "60"]);
    let mut partial = connect(s.addr);
    partial
        .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-A: ")
        .unwrap();
    let mut silent = connect(s.addr);
    assert_closed_within(
        &mut partial,
        Duration::from_millis(700),
        Duration::from_secs(6),
        "partial headers",
    );
    assert_closed_within(
        &mut silent,
        Duration::ZERO,
        Duration::from_secs(6),
        "a connection that sends nothing",
    );
    // the server is fine afterwards
    let r = request(s.addr, "POST", "/invocations", GOOD_ROW);
    assert_eq!(status(&r), 200, "{r}");
}

#[test]
fn a_body_that_never_completes_gets_408_within_the_body_timeout() {
    let s = Serve::start(&["--body-timeout-secs", "1"]);
    let mut c = connect(s.addr);
    c.write_all(
        b"POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: 100\r\n\r\nlow,med",
    )
    .unwrap();
    let started = Instant::now();
    let (text, closed) = read_to_close(&mut c);
    let took = started.elapsed();
    assert_eq!(status(&text), 408, "{text}");
    assert!(body(&text).contains("--body-timeout-secs"), "{text}");
    assert!(closed, "the connection must close after a 408");
    assert!(
        took >= Duration::from_millis(700) && took < Duration::from_secs(6),
        "408 after {took:?}"
    );
}

#[test]
fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout_not_the_header_timeout() {
    let s = Serve::start(&["--header-timeout-secs", "1", "--idle-timeout-secs", "4"]);
    let mut c = connect(s.addr);
    c.write_all(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let r = read_response(&mut c);
    assert_eq!(status(&r), 200, "{r}");
    // still open past the header timeout: a second request on it works
    std::thread::sleep(Duration::from_millis(1800));
    c.write_all(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let r = read_response(&mut c);
    assert_eq!(status(&r), 200, "{r}");
    assert_closed_within(
        &mut c,
        Duration::from_secs(3),
        Duration::from_secs(10),
        "an idle keep-alive connection",
    );
}

#[test]
fn over_the_connection_cap_new_connections_are_shed_while_ping_answers() {
    let s = Serve::start(&["--max-connections", "8", "--header-timeout-secs", "3"]);
    let mut silent: Vec<TcpStream> = (0..8).map(|_| connect(s.addr)).collect();
    std::thread::sleep(Duration::from_millis(300)); // let the acceptor count them

    let r = request(s.addr, "POST", "/invocations", GOOD_ROW);
    assert_eq!(status(&r), 503, "{r}");
    assert_eq!(header(&r, "retry-after"), Some("1"), "{r}");
    assert!(body(&r).contains("8 open connections"), "{r}");
    assert!(body(&r).contains("--max-connections"), "{r}");
    let r = request(s.addr, "GET", "/ping", "");
    assert_eq!(status(&r), 200, "/ping while over the cap: {r}");

    // once the silent ones time out, normal service is back
    for c in &mut silent {
        let (_, closed) = read_to_close(c);
        assert!(closed, "a silent connection was not closed");
    }
    let started = Instant::now();
    loop {
        let r = request(s.addr, "POST", "/invocations", GOOD_ROW);
        if status(&r) == 200 {
            assert!(CLASSES.contains(&body(&r)), "{r}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "still refused after the silent connections closed: {r}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let metrics = request(s.addr, "GET", "/metrics", "");
    let shed: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("ember_connections_shed_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no shed counter: {metrics}"));
    assert!(shed >= 2, "{metrics}");
}

#[test]
fn past_the_in_flight_cap_requests_get_503_with_retry_after() {
    // one thread, one request in flight at most: a request whose body is still coming holds
    // the place
    let s = Serve::start(&["--threads", "1", "--max-in-flight", "1"]);
    let mut slow = connect(s.addr);
    let full = format!(
        "POST /invocations HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\n\r\n",
        GOOD_ROW.len()
    );
    slow.write_all(full.as_bytes()).unwrap();
    slow.write_all(&GOOD_ROW.as_bytes()[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let r = request(s.addr, "POST", "/invocations", GOOD_ROW);
    assert_eq!(status(&r), 503, "{r}");
    assert_eq!(header(&r, "retry-after"), Some("1"), "{r}");
    assert!(body(&r).contains("--max-in-flight"), "{r}");
    assert_eq!(status(&request(s.addr, "GET", "/ping", "")), 200);

    // the slow request still gets its answer, and then the place is free again
    slow.write_all(&GOOD_ROW.as_bytes()[5..]).unwrap();
    let (r, _) = read_to_close(&mut slow);
    assert_eq!(status(&r), 200, "{r}");
    let r = request(s.addr, "POST", "/invocations", GOOD_ROW);
    assert_eq!(status(&r), 200, "{r}");
}

#[test]
fn sigterm_exits_within_the_grace_period_with_a_partial_headers_connection_open() {
    let mut s = Serve::start(&["--header-timeout-secs", "120", "--shutdown-grace-secs", "2"]);
    let mut partial = connect(s.addr);
    partial
        .write_all(b"GET /ping HTTP/1.1\r\nHost: x\r\nX-A: ")
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    s.term();
    let exited = s.wait_exit(Duration::from_secs(10));
    let took = started.elapsed();
    assert!(
        exited.is_some(),
        "still running {took:?} after SIGTERM; stderr:\n{}",
        s.stderr()
    );
    assert!(took < Duration::from_secs(7), "exit took {took:?}");
    let (_, closed) = read_to_close(&mut partial);
    assert!(closed);
    assert!(
        s.stderr().contains("--shutdown-grace-secs"),
        "{}",
        s.stderr()
    );
}

#[test]
fn a_request_in_flight_at_sigterm_still_gets_its_answer() {
    let mut s = Serve::start(&["--shutdown-grace-secs", "20"]);
    let mut c = connect(s.addr);
    let head = format!(
        "POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        GOOD_ROW.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&GOOD_ROW.as_bytes()[..4]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.term();
    std::thread::sleep(Duration::from_millis(500));
    c.write_all(&GOOD_ROW.as_bytes()[4..]).unwrap();
    let (r, closed) = read_to_close(&mut c);
    assert_eq!(status(&r), 200, "{r}");
    assert!(CLASSES.contains(&body(&r)), "{r}");
    assert!(
        closed,
        "the connection closes after its last answer at shutdown"
    );
    // and then the process exits, well before the grace period ends
    assert!(
        s.wait_exit(Duration::from_secs(8)).is_some(),
        "stderr:\n{}",
        s.stderr()
    );
}

#[test]
fn rejected_requests_are_rate_limited_at_info_and_cannot_forge_log_lines() {
    let mut s = Serve::start(&["--log-rejected-per-sec", "3"]);
    let started = Instant::now();
    for _ in 0..40 {
        let r = request(s.addr, "POST", "/invocations", "low,med");
        assert_eq!(status(&r), 400, "{r}");
    }
    // a value with a quoted newline that, echoed raw, would read as a log line of its own
    std::thread::sleep(Duration::from_millis(1100));
    let forged = "low,med,4,2,big,\"purple\n2026-01-01T00:00:00.000000Z  INFO ember: FORGED\"";
    let r = request(s.addr, "POST", "/invocations", forged);
    assert_eq!(status(&r), 400, "{r}");
    let seconds = started.elapsed().as_secs() + 1;
    s.term();
    assert!(s.wait_exit(Duration::from_secs(30)).is_some());
    let log = s.stderr();

    let rejected = log
        .lines()
        .filter(|l| l.contains("request rejected"))
        .count();
    assert!(rejected >= 1, "no rejected request at INFO at all:\n{log}");
    assert!(
        rejected as u64 <= 3 * seconds,
        "{rejected} rejected-request lines in {seconds} s with a limit of 3 a second:\n{log}"
    );
    assert!(
        log.contains("rejected requests were logged at DEBUG only"),
        "no count of the suppressed lines:\n{log}"
    );
    assert!(log.len() < 20_000, "{} bytes of log", log.len());
    for line in log.lines().filter(|l| l.contains("FORGED")) {
        assert!(
            line.contains("request rejected"),
            "client text made a log line of its own: {line:?}\n{log}"
        );
    }
    assert!(
        log.lines()
            .any(|l| l.contains("FORGED") && l.contains("\\n")),
        "the rejected request with the newline was not logged (escaped):\n{log}"
    );
}

#[test]
fn an_answer_given_before_the_body_is_read_says_connection_close() {
    // hyper closes a connection whose request body was not read; a keep-alive client must be
    // told, or it sends its next request into a closed connection
    let s = Serve::start(&[]);
    let mut c = connect(s.addr);
    let body = "x".repeat(100_000);
    let req = format!(
        "POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-nonsense\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    let r = read_response(&mut c);
    assert_eq!(status(&r), 415, "{r}");
    assert_eq!(header(&r, "connection"), Some("close"), "{r}");
    // a request whose body was read keeps the connection
    let mut c = connect(s.addr);
    let req = format!(
        "POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n{GOOD_ROW}",
        GOOD_ROW.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    let r = read_response(&mut c);
    assert_eq!(status(&r), 200, "{r}");
    assert_eq!(header(&r, "connection"), None, "{r}");
}

#[test]
fn a_body_sent_to_a_route_that_reads_none_gets_connection_close_on_404_and_405() {
    // the body is left unread, so hyper closes the connection after the answer: say so
    let s = Serve::start(&[]);
    for (method, path, code) in [("POST", "/nope", 404), ("PUT", "/ping", 405)] {
        let mut c = connect(s.addr);
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\nhello"
        );
        c.write_all(req.as_bytes()).unwrap();
        let (r, closed) = read_to_close(&mut c);
        assert_eq!(status(&r), code, "{r}");
        assert_eq!(header(&r, "connection"), Some("close"), "{r}");
        assert!(closed, "{method} {path}: the connection stayed open");
    }
    // without a body the connection is kept
    let mut c = connect(s.addr);
    c.write_all(b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let r = read_response(&mut c);
    assert_eq!(status(&r), 404, "{r}");
    assert_eq!(header(&r, "connection"), None, "{r}");
}

#[test]
fn a_request_head_over_64_kib_is_answered_431() {
    let s = Serve::start(&[]);
    for (size, expected) in [(60_000, 200), (100_000, 431)] {
        let mut c = connect(s.addr);
        let head = format!(
            "GET /ping HTTP/1.1\r\nHost: t\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(size)
        );
        let _ = c.write_all(head.as_bytes());
        let (r, _) = read_to_close(&mut c);
        assert_eq!(status(&r), expected, "a {size}-byte header: {r}");
    }
}
