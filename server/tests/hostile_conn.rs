//! Hostile connections against the real `ember serve` binary on loopback: slow or silent
//! clients are closed by their timeouts, the connection cap sheds while `GET /ping` still
//! answers, the in-flight cap answers 503, SIGTERM always finishes (and still answers the
//! request in flight), and rejected requests neither flood the log nor forge log lines.
//! Every socket read has a timeout; every wait is bounded.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::*;

const CLASSES: [&str; 4] = ["unacc", "acc", "good", "vgood"];

/// `ember serve` of the car-evaluation example with its schema in the environment, logging at
/// INFO, with `args`; answering `/ping`.
fn serve_car(args: &[&str]) -> Serve {
    ember_serve(&car_model())
        .args(args)
        .env("SAGEMAKER_SPARKML_SCHEMA", &car_schema())
        .start()
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
    let s = serve_car(&["--header-timeout-secs", "1", "--idle-timeout-secs", "60"]);
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
    let r = request(s.addr, "POST", "/invocations", CAR_ROW);
    assert_eq!(status(&r), 200, "{r}");
}

#[test]
fn a_body_that_never_completes_gets_408_within_the_body_timeout() {
    let s = serve_car(&["--body-timeout-secs", "1"]);
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
    let s = serve_car(&["--header-timeout-secs", "1", "--idle-timeout-secs", "4"]);
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
    let s = serve_car(&["--max-connections", "8", "--header-timeout-secs", "3"]);
    let mut silent: Vec<TcpStream> = (0..8).map(|_| connect(s.addr)).collect();
    std::thread::sleep(Duration::from_millis(300)); // let the acceptor count them

    let r = request(s.addr, "POST", "/invocations", CAR_ROW);
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
        let r = request(s.addr, "POST", "/invocations", CAR_ROW);
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
    let s = serve_car(&["--threads", "1", "--max-in-flight", "1"]);
    let mut slow = connect(s.addr);
    let full = format!(
        "POST /invocations HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/csv\r\n\
         Content-Length: {}\r\n\r\n",
        CAR_ROW.len()
    );
    slow.write_all(full.as_bytes()).unwrap();
    slow.write_all(&CAR_ROW.as_bytes()[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let r = request(s.addr, "POST", "/invocations", CAR_ROW);
    assert_eq!(status(&r), 503, "{r}");
    assert_eq!(header(&r, "retry-after"), Some("1"), "{r}");
    assert!(body(&r).contains("--max-in-flight"), "{r}");
    assert_eq!(status(&request(s.addr, "GET", "/ping", "")), 200);

    // the slow request still gets its answer, and then the place is free again
    slow.write_all(&CAR_ROW.as_bytes()[5..]).unwrap();
    let (r, _) = read_to_close(&mut slow);
    assert_eq!(status(&r), 200, "{r}");
    let r = request(s.addr, "POST", "/invocations", CAR_ROW);
    assert_eq!(status(&r), 200, "{r}");
}

#[test]
fn sigterm_exits_within_the_grace_period_with_a_partial_headers_connection_open() {
    let mut s = serve_car(&["--header-timeout-secs", "120", "--shutdown-grace-secs", "2"]);
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
    let mut s = serve_car(&["--shutdown-grace-secs", "20"]);
    let mut c = connect(s.addr);
    let head = format!(
        "POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        CAR_ROW.len()
    );
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(&CAR_ROW.as_bytes()[..4]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.term();
    std::thread::sleep(Duration::from_millis(500));
    c.write_all(&CAR_ROW.as_bytes()[4..]).unwrap();
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
    let mut s = serve_car(&["--log-rejected-per-sec", "3"]);
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
    let s = serve_car(&[]);
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
        "POST /invocations HTTP/1.1\r\nHost: t\r\nContent-Type: text/csv\r\nContent-Length: {}\r\n\r\n{CAR_ROW}",
        CAR_ROW.len()
    );
    c.write_all(req.as_bytes()).unwrap();
    let r = read_response(&mut c);
    assert_eq!(status(&r), 200, "{r}");
    assert_eq!(header(&r, "connection"), None, "{r}");
}

#[test]
fn a_body_sent_to_a_route_that_reads_none_gets_connection_close_on_404_and_405() {
    // the body is left unread, so hyper closes the connection after the answer: say so
    let s = serve_car(&[]);
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
    let s = serve_car(&[]);
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
