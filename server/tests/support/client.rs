//! A minimal HTTP/1.1 client over raw sockets, for exact bytes and headers: one request per
//! connection (`Connection: close`) parsed into a [`Resp`], or raw response texts read from a
//! connection the test drives itself. Every socket operation has a timeout.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A free loopback port at the time of asking (for a test that must name the port itself;
/// a spawned server otherwise binds port 0).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A connection to `addr`: 5 s to connect, 15 s for each read or write.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
    s.set_write_timeout(Some(Duration::from_secs(15))).unwrap();
    s
}

/// Reads until the server closes the connection (or the read timeout); returns what came and
/// whether it was closed (a reset counts as closed).
pub fn read_to_close(s: &mut TcpStream) -> (String, bool) {
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
pub fn read_response(s: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&all).to_string();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let len = header(head, "content-length")
                .and_then(|v| v.parse::<usize>().ok())
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

/// The status code of a raw response text.
pub fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"))
}

/// The body of a raw response text (empty when there is none).
pub fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A header of a raw response text, by name in any case, its value trimmed.
pub fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split_once("\r\n\r\n").map_or(response, |(h, _)| h);
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

/// Sends one request on a new connection (`Connection: close`, then `headers`, then its
/// `Content-Length`) and reads until the server closes it; the raw response text, or `None`
/// when connecting or sending fails or the server does not close within `timeout`.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    timeout: Duration,
) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    s.set_read_timeout(Some(timeout)).ok()?;
    s.set_write_timeout(Some(timeout)).ok()?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    s.write_all(head.as_bytes()).ok()?;
    s.write_all(body).ok()?;
    let (text, closed) = read_to_close(&mut s);
    closed.then_some(text)
}

/// One `text/csv` request on a new connection, the raw response text back (15 s at most).
pub fn request(addr: SocketAddr, method: &str, path: &str, body: &str) -> String {
    send(
        addr,
        method,
        path,
        &[("Content-Type", "text/csv")],
        body.as_bytes(),
        Duration::from_secs(15),
    )
    .unwrap_or_else(|| panic!("{method} {path}: no whole answer within 15 s"))
}

/// A parsed response.
#[derive(Debug)]
pub struct Resp {
    /// The status code.
    pub status: u16,
    /// The headers, in order, names and values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body as text.
    pub body: String,
}

impl Resp {
    /// Parses a raw response text; `None` when it has no status line or no end of head.
    pub fn parse(text: &str) -> Option<Resp> {
        let (head, body) = text.split_once("\r\n\r\n")?;
        let mut lines = head.lines();
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect();
        Some(Resp {
            status,
            headers,
            body: body.to_string(),
        })
    }

    /// A header's value, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request on a new connection, parsed; fails the test without an answer within 60 s.
pub fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    send(addr, method, path, headers, body, Duration::from_secs(60))
        .as_deref()
        .and_then(Resp::parse)
        .unwrap_or_else(|| panic!("{method} {path}: no answer within 60 s"))
}

/// `POST /invocations` with a `Content-Type` and, if given, an `Accept`.
pub fn post(addr: SocketAddr, content_type: &str, accept: Option<&str>, body: &str) -> Resp {
    let mut h = vec![("Content-Type", content_type)];
    if let Some(a) = accept {
        h.push(("Accept", a));
    }
    http(addr, "POST", "/invocations", &h, body.as_bytes())
}

/// `GET /ping` once (5 s at most): how long a 200 took, or `None`.
pub fn ping(addr: SocketAddr) -> Option<Duration> {
    let started = Instant::now();
    let r = Resp::parse(&send(
        addr,
        "GET",
        "/ping",
        &[],
        b"",
        Duration::from_secs(5),
    )?)?;
    (r.status == 200).then(|| started.elapsed())
}

/// Asks `GET /ping` until it answers 200, for `within` at most: how long that took.
pub fn wait_ping(addr: SocketAddr, within: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < within {
        if ping(addr).is_some() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}
