//! Connection hardening: the timeouts, the open-connection cap (with a shedding mode that keeps
//! `GET /ping` reachable), the per-thread cap on requests in flight, and the rate limit on the
//! log lines of rejected (4xx) requests. docs/SERVING.md (`## Limits`) has the table.
//!
//! Timeouts are kept by a per-connection watchdog rather than hyper's `header_read_timeout`:
//! hyper starts that timer as soon as it waits for the next request head, so it would also be
//! the keep-alive idle timeout, and a slow-headers client and a load balancer's idle pooled
//! connection need very different bounds. The connection's I/O is wrapped in [`Watched`], which
//! notes when the first byte of a request head arrives; the service notes when a head has been
//! parsed (a request is in the service) and when its answer is ready. From these the watchdog
//! knows which phase the connection is in and closes it when the phase's bound passes:
//!
//! * a new connection that sends nothing, or a request head that is not complete:
//!   the header timeout (from the connection's start, or from the head's first byte);
//! * between requests on a keep-alive connection: the idle timeout (from the last answer);
//! * while a request is in the service: no watchdog bound; its body is bounded by the body
//!   timeout (408), and its scoring by the body size limit.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;
use tokio::time::Instant;

/// The flag and environment variable of each limit, as error messages and logs name them.
pub mod flags {
    /// The header timeout.
    pub const HEADER_TIMEOUT: &str = "--header-timeout-secs / EMBER_HEADER_TIMEOUT_SECS";
    /// The body timeout.
    pub const BODY_TIMEOUT: &str = "--body-timeout-secs / EMBER_BODY_TIMEOUT_SECS";
    /// The keep-alive idle timeout.
    pub const IDLE_TIMEOUT: &str = "--idle-timeout-secs / EMBER_IDLE_TIMEOUT_SECS";
    /// The open-connection cap.
    pub const MAX_CONNECTIONS: &str = "--max-connections / EMBER_MAX_CONNECTIONS";
    /// The per-thread cap on requests in flight.
    pub const MAX_IN_FLIGHT: &str = "--max-in-flight / EMBER_MAX_IN_FLIGHT";
    /// The shutdown grace period.
    pub const SHUTDOWN_GRACE: &str = "--shutdown-grace-secs / EMBER_SHUTDOWN_GRACE_SECS";
    /// The rejected-request log rate.
    pub const LOG_REJECTED: &str = "--log-rejected-per-sec / EMBER_LOG_REJECTED_PER_SEC";
}

/// Connection limits and timeouts (see the module docs and docs/SERVING.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnLimits {
    /// A new connection must complete its first request head, and a request head that has
    /// begun must complete, within this time; otherwise the connection is closed.
    pub header_timeout: Duration,
    /// A request body must arrive whole within this time after its head; otherwise 408.
    pub body_timeout: Duration,
    /// A keep-alive connection idle (no request begun) for longer than this after its last
    /// answer is closed.
    pub idle_timeout: Duration,
    /// Open connections at most (it is lowered at start-up to fit the file-descriptor limit).
    /// Connections over it are shed: one request, `GET /ping` 200, anything else 503.
    pub max_connections: usize,
    /// Requests in the service at once on one serving thread at most; more get 503.
    pub max_in_flight: usize,
    /// On SIGTERM, in-flight requests get this long to finish; then the remaining
    /// connections are closed.
    pub shutdown_grace: Duration,
    /// Rejected (4xx) requests logged at INFO per second at most; the rest at DEBUG, with a
    /// count of the suppressed lines at INFO.
    pub log_rejected_per_sec: u32,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(75),
            max_connections: 1024,
            max_in_flight: 128,
            shutdown_grace: Duration::from_secs(25),
            log_rejected_per_sec: 10,
        }
    }
}

/// Connections served in shedding mode (over the connection cap) at once at most; beyond
/// them the oldest shed connection is closed to make room for the new one.
pub const SHED_SLOTS: usize = 64;
/// File descriptors kept free of connections (listener, runtimes, model files, logs).
pub const FD_HEADROOM: usize = 256;
/// The longest a shed connection is given to send its request head.
pub const SHED_HEADER_TIMEOUT: Duration = Duration::from_secs(2);

/// The connection cap that fits `fd_limit` open files: `wanted`, or less so that the capped
/// connections, the shedding slots and [`FD_HEADROOM`] stay under the limit (at least 1).
pub fn fitting_cap(wanted: usize, fd_limit: u64) -> usize {
    let room = usize::try_from(fd_limit)
        .unwrap_or(usize::MAX)
        .saturating_sub(FD_HEADROOM + SHED_SLOTS);
    wanted.min(room).max(1)
}

/// Raises the soft open-file limit to the hard one; returns the limit now in force (`None`
/// where it cannot be read).
pub fn raise_fd_limit() -> Option<u64> {
    rlimit::increase_nofile_limit(u64::MAX).ok()
}

/// What a connection was doing when its watchdog closed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// It had not completed a request head in time.
    Headers,
    /// It sat idle between requests for longer than the idle timeout.
    Idle,
}

/// What the watchdog of one connection knows about it (shared by its I/O wrapper, its
/// service and the watchdog).
#[derive(Debug)]
pub struct ConnState {
    epoch: Instant,
    /// Requests in the service now.
    busy: AtomicU32,
    /// Requests answered so far.
    served: AtomicU64,
    /// 1 + ms since `epoch` when the first byte of the current request head arrived; 0: none.
    head_started: AtomicU64,
    /// ms since `epoch` of the last answer.
    last_done: AtomicU64,
    notify: Notify,
}

impl Default for ConnState {
    fn default() -> Self {
        Self::new()
    }
}

impl ConnState {
    /// The state of a connection accepted now.
    pub fn new() -> Self {
        Self {
            epoch: Instant::now(),
            busy: AtomicU32::new(0),
            served: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            last_done: AtomicU64::new(0),
            notify: Notify::new(),
        }
    }

    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    fn at(&self, ms: u64) -> Instant {
        self.epoch + Duration::from_millis(ms)
    }

    /// Bytes arrived from the client.
    fn read_some(&self) {
        if self.busy.load(Ordering::Relaxed) == 0 && self.head_started.load(Ordering::Relaxed) == 0
        {
            self.head_started
                .store(self.now_ms() + 1, Ordering::Relaxed);
            self.notify.notify_one();
        }
    }

    /// A request head was parsed: the request is in the service until the guard drops.
    pub fn request(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// When the connection's current phase ends, and which phase it is (`None`: a request
    /// is in the service).
    fn deadline(&self, limits: &ConnLimits) -> Option<(Instant, Phase)> {
        if self.busy.load(Ordering::Relaxed) > 0 {
            return None;
        }
        match self.head_started.load(Ordering::Relaxed) {
            0 if self.served.load(Ordering::Relaxed) == 0 => {
                Some((self.epoch + limits.header_timeout, Phase::Headers))
            }
            0 => Some((
                self.at(self.last_done.load(Ordering::Relaxed)) + limits.idle_timeout,
                Phase::Idle,
            )),
            started => Some((self.at(started - 1) + limits.header_timeout, Phase::Headers)),
        }
    }

    /// Resolves when the connection has overstayed its current phase.
    pub async fn expired(&self, limits: &ConnLimits) -> Phase {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let (at, phase) = match self.deadline(limits) {
                // a request in the service: look again later (it bounds itself)
                None => (Instant::now() + limits.header_timeout, None),
                Some((at, phase)) => (at, Some(phase)),
            };
            if let Some(phase) = phase
                && Instant::now() >= at
            {
                return phase;
            }
            tokio::select! {
                () = notified => {}
                () = tokio::time::sleep_until(at) => {}
            }
        }
    }
}

/// A request in the service (see [`ConnState::request`]); dropping it marks the answer given.
#[derive(Debug)]
pub struct Busy(Arc<ConnState>);

impl Drop for Busy {
    fn drop(&mut self) {
        let s = &self.0;
        s.last_done.store(s.now_ms(), Ordering::Relaxed);
        s.served.fetch_add(1, Ordering::Relaxed);
        s.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's I/O, noting for its watchdog when request bytes arrive.
#[derive(Debug)]
pub struct Watched<T> {
    io: T,
    state: Arc<ConnState>,
}

impl<T> Watched<T> {
    /// Wraps `io`, reporting to `state`.
    pub fn new(io: T, state: Arc<ConnState>) -> Self {
        Self { io, state }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.state.read_some();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// Admission to a bounded number of places (requests in flight on a thread).
#[derive(Debug)]
pub struct Admission {
    taken: AtomicUsize,
    max: usize,
}

impl Admission {
    /// `max` places (at least 1).
    pub fn new(max: usize) -> Self {
        Self {
            taken: AtomicUsize::new(0),
            max: max.max(1),
        }
    }

    /// The number of places.
    pub fn max(&self) -> usize {
        self.max
    }

    /// A place, held until the guard drops; `None` when all are taken.
    pub fn enter(&self) -> Option<Admitted<'_>> {
        let mut n = self.taken.load(Ordering::Relaxed);
        loop {
            if n >= self.max {
                return None;
            }
            match self
                .taken
                .compare_exchange_weak(n, n + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return Some(Admitted(&self.taken)),
                Err(now) => n = now,
            }
        }
    }
}

/// A place taken in an [`Admission`].
#[derive(Debug)]
pub struct Admitted<'a>(&'a AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// At most `per_sec` events a second pass; the others are counted, and the count is handed
/// to the first event of a later second.
#[derive(Debug)]
pub struct RateLimit {
    epoch: std::time::Instant,
    per_sec: u32,
    second: AtomicU64,
    passed: AtomicU32,
    suppressed: AtomicU64,
}

/// What [`RateLimit::check`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// This event is within the rate.
    pub pass: bool,
    /// Events suppressed in earlier seconds and not reported yet (reported now).
    pub suppressed_before: u64,
}

impl RateLimit {
    /// A limit of `per_sec` events a second (0: none pass).
    pub fn new(per_sec: u32) -> Self {
        Self {
            epoch: std::time::Instant::now(),
            per_sec,
            second: AtomicU64::new(0),
            passed: AtomicU32::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Decides on an event happening now.
    pub fn check(&self) -> Verdict {
        self.check_at(self.epoch.elapsed().as_secs())
    }

    /// Decides on an event happening in second `now` (since the limit was made).
    pub fn check_at(&self, now: u64) -> Verdict {
        let mut suppressed_before = 0;
        let second = self.second.load(Ordering::Relaxed);
        if now > second
            && self
                .second
                .compare_exchange(second, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.passed.store(0, Ordering::Relaxed);
            suppressed_before = self.suppressed.swap(0, Ordering::Relaxed);
        }
        let pass = self.passed.fetch_add(1, Ordering::Relaxed) < self.per_sec;
        if !pass {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
        Verdict {
            pass,
            suppressed_before,
        }
    }
}

/// Logs something at most once per interval, counting the occurrences in between.
#[derive(Debug)]
pub struct Throttled {
    epoch: std::time::Instant,
    every_ms: u64,
    /// 1 + ms since `epoch` of the last line; 0: none yet.
    last: AtomicU64,
    count: AtomicU64,
}

impl Throttled {
    /// At most one line per `every`.
    pub fn new(every: Duration) -> Self {
        Self {
            epoch: std::time::Instant::now(),
            every_ms: every.as_millis() as u64,
            last: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    /// Counts an occurrence; `Some(n)` when a line is due now, with the occurrences it covers.
    pub fn hit(&self) -> Option<u64> {
        self.count.fetch_add(1, Ordering::Relaxed);
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if (last == 0 || now >= last + self.every_ms)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.count.swap(0, Ordering::Relaxed));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admission_refuses_past_its_places_and_frees_them_on_drop() {
        let a = Admission::new(2);
        let one = a.enter().expect("first place");
        let two = a.enter().expect("second place");
        assert!(a.enter().is_none(), "a third request must be refused");
        drop(one);
        let three = a.enter().expect("a freed place is given again");
        assert!(a.enter().is_none());
        drop(two);
        drop(three);
        assert!(a.enter().is_some());
        // zero places would refuse everything: at least one is kept
        assert_eq!(Admission::new(0).max(), 1);
    }

    #[test]
    fn rate_limit_passes_n_per_second_and_reports_the_rest_later() {
        let r = RateLimit::new(3);
        let passed: Vec<bool> = (0..5).map(|_| r.check_at(0).pass).collect();
        assert_eq!(passed, [true, true, true, false, false]);
        let v = r.check_at(1);
        assert_eq!(
            v,
            Verdict {
                pass: true,
                suppressed_before: 2
            }
        );
        // the count is reported once
        assert_eq!(r.check_at(1).suppressed_before, 0);
        assert!(!RateLimit::new(0).check_at(0).pass);
    }

    #[test]
    fn throttled_logs_once_per_interval_with_the_count() {
        let t = Throttled::new(Duration::from_secs(3600));
        assert_eq!(t.hit(), Some(1));
        assert_eq!(t.hit(), None);
        assert_eq!(t.hit(), None);
        let t = Throttled::new(Duration::ZERO);
        assert_eq!(t.hit(), Some(1));
        assert_eq!(t.hit(), Some(1));
    }

    #[test]
    fn the_cap_fits_the_fd_limit() {
        assert_eq!(fitting_cap(1024, 1_000_000), 1024);
        assert_eq!(fitting_cap(1024, 1024), 1024 - FD_HEADROOM - SHED_SLOTS);
        assert_eq!(fitting_cap(1024, 10), 1);
    }

    fn about(elapsed: Duration, expected_ms: u64) {
        let ms = elapsed.as_millis() as u64;
        assert!(
            ms >= expected_ms && ms < expected_ms + 400,
            "took {ms} ms, expected about {expected_ms} ms"
        );
    }

    #[tokio::test]
    async fn the_watchdog_keeps_the_phase_bounds() {
        let limits = ConnLimits {
            header_timeout: Duration::from_millis(200),
            idle_timeout: Duration::from_millis(700),
            ..ConnLimits::default()
        };
        // a new connection that sends nothing: the header timeout from its start
        let s = Arc::new(ConnState::new());
        let t0 = Instant::now();
        assert_eq!(s.expired(&limits).await, Phase::Headers);
        about(t0.elapsed(), 200);

        // answered once, then idle: the idle timeout from the answer
        let s = Arc::new(ConnState::new());
        drop(s.request());
        let t0 = Instant::now();
        assert_eq!(s.expired(&limits).await, Phase::Idle);
        about(t0.elapsed(), 700);

        // idle, then a head begins and stalls: the header timeout from its first byte
        let s = Arc::new(ConnState::new());
        drop(s.request());
        let t0 = Instant::now();
        let watch = {
            let s = Arc::clone(&s);
            tokio::spawn(async move { s.expired(&limits).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        s.read_some();
        assert_eq!(watch.await.unwrap(), Phase::Headers);
        about(t0.elapsed(), 500);

        // a request in the service is not cut off
        let s = Arc::new(ConnState::new());
        let busy = s.request();
        let r = tokio::time::timeout(Duration::from_millis(1500), s.expired(&limits)).await;
        assert!(
            r.is_err(),
            "the watchdog closed a connection with a request in flight"
        );
        drop(busy);
    }
}
