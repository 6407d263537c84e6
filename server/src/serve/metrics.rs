//! Prometheus metrics, kept per server (so several servers in one process, as in tests, do not
//! share counters) with atomics on the hot path.
//!
//! * `ember_http_requests_total{route,status}`
//! * `ember_invocation_duration_seconds` (histogram of `/invocations` latency)
//! * `ember_batch_records` (histogram of records per evaluated batch, after coalescing)
//! * `ember_records_total` (records scored)
//! * `ember_model_load_seconds` (gauge: model load and compile time at start-up)
//! * `ember_connections_open` (gauge), `ember_connections_shed_total` (served in shedding mode
//!   over the connection cap), `ember_connections_evicted_total` (shed connections closed
//!   to make room for newer ones, every shedding slot being taken), `ember_connections_timed_out_total{phase="headers"|"idle"}`,
//!   `ember_connections_aborted_total` (closed at the end of the shutdown grace period),
//!   `ember_accept_errors_total`

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

const LATENCY_BOUNDS: [f64; 14] = [
    25e-6, 50e-6, 100e-6, 250e-6, 500e-6, 1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3,
    1.0,
];
const BATCH_BOUNDS: [f64; 11] = [
    1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
];

/// Writes a metric family's `# HELP` and `# TYPE` lines.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes a metric family of one unlabelled sample.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

struct Histogram<const N: usize> {
    bounds: [f64; N],
    buckets: [AtomicU64; N],
    count: AtomicU64,
    /// Sum in units of 1e-9 (nanoseconds for latency, nano-records for batches).
    sum_nanos: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds: [f64; N]) -> Self {
        Self {
            bounds,
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum_nanos: AtomicU64::new(0),
        }
    }

    fn observe(&self, v: f64) {
        if let Some(i) = self.bounds.iter().position(|b| v <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_nanos
            .fetch_add((v * 1e9) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        family(out, name, "histogram", help);
        let mut cumulative = 0;
        for (b, c) in self.bounds.iter().zip(&self.buckets) {
            cumulative += c.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The routes counted separately (anything else counts as `other`).
const ROUTES: [&str; 5] = [
    "invocations",
    "ping",
    "execution-parameters",
    "metrics",
    "other",
];
/// The statuses counted with atomics; others go to a locked map.
const STATUSES: [u16; 10] = [200, 400, 404, 405, 406, 408, 413, 415, 500, 503];

/// The server's metrics.
pub struct Metrics {
    /// Responses by route and common status, without a lock on the request path.
    common: [[AtomicU64; STATUSES.len()]; ROUTES.len()],
    /// Responses with any other status.
    requests: Mutex<BTreeMap<(&'static str, u16), u64>>,
    latency: Histogram<14>,
    batches: Histogram<11>,
    records: AtomicU64,
    model_load_seconds: f64,
    /// Connection counters.
    pub connections: ConnMetrics,
}

/// Connection counters (see the module docs).
#[derive(Debug, Default)]
pub struct ConnMetrics {
    /// Connections open now (served normally or shed); the acceptor's cap reads it.
    pub open: AtomicUsize,
    /// Connections open now in shedding mode.
    pub shedding: AtomicUsize,
    /// Connections served in shedding mode.
    pub shed: AtomicU64,
    /// Shed connections closed to make room for newer ones.
    pub evicted: AtomicU64,
    /// Connections closed for not completing a request head in time.
    pub timed_out_headers: AtomicU64,
    /// Keep-alive connections closed for idling.
    pub timed_out_idle: AtomicU64,
    /// Connections closed when the shutdown grace period ended.
    pub aborted: AtomicU64,
    /// Failed `accept` calls.
    pub accept_errors: AtomicU64,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// Metrics for a server whose model took `model_load_seconds` to load and compile.
    pub fn new(model_load_seconds: f64) -> Self {
        Self {
            common: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            requests: Mutex::new(BTreeMap::new()),
            latency: Histogram::new(LATENCY_BOUNDS),
            batches: Histogram::new(BATCH_BOUNDS),
            records: AtomicU64::new(0),
            model_load_seconds,
            connections: ConnMetrics::default(),
        }
    }

    /// Counts a response.
    pub fn request(&self, route: &'static str, status: u16) {
        let r = ROUTES.iter().position(|x| *x == route);
        let s = STATUSES.iter().position(|x| *x == status);
        if let (Some(r), Some(s)) = (r, s) {
            self.common[r][s].fetch_add(1, Ordering::Relaxed);
        } else if let Ok(mut m) = self.requests.lock() {
            *m.entry((route, status)).or_insert(0) += 1;
        }
    }

    /// Records an `/invocations` latency.
    pub fn invocation(&self, seconds: f64) {
        self.latency.observe(seconds);
    }

    /// Records an evaluated batch of `records` records.
    pub fn batch(&self, records: usize) {
        self.batches.observe(records as f64);
        self.records.fetch_add(records as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        family(
            &mut out,
            "ember_http_requests_total",
            "counter",
            "HTTP responses by route and status.",
        );
        let mut all: BTreeMap<(&'static str, u16), u64> = BTreeMap::new();
        for (r, route) in ROUTES.iter().enumerate() {
            for (s, status) in STATUSES.iter().enumerate() {
                let n = self.common[r][s].load(Ordering::Relaxed);
                if n > 0 {
                    all.insert((route, *status), n);
                }
            }
        }
        if let Ok(m) = self.requests.lock() {
            all.extend(m.iter().map(|(k, v)| (*k, *v)));
        }
        for ((route, status), n) in all.iter() {
            let _ = writeln!(
                out,
                "ember_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
            );
        }
        self.latency.render(
            &mut out,
            "ember_invocation_duration_seconds",
            "Latency of /invocations, from request to response.",
        );
        self.batches.render(
            &mut out,
            "ember_batch_records",
            "Records per evaluated batch (after coalescing concurrent requests).",
        );
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let c = &self.connections;
        single(
            &mut out,
            "ember_records_total",
            "counter",
            "Records scored.",
            n(&self.records),
        );
        single(
            &mut out,
            "ember_model_load_seconds",
            "gauge",
            "Time to load and compile the model at start-up.",
            self.model_load_seconds,
        );
        single(
            &mut out,
            "ember_connections_open",
            "gauge",
            "Connections open now.",
            c.open.load(Ordering::Relaxed),
        );
        single(
            &mut out,
            "ember_connections_shed_total",
            "counter",
            "Connections over the connection cap, served in shedding mode (GET /ping 200, else 503).",
            n(&c.shed),
        );
        single(
            &mut out,
            "ember_connections_evicted_total",
            "counter",
            "Shed connections closed early to make room for newer ones (every shedding slot taken).",
            n(&c.evicted),
        );
        let timed_out = "ember_connections_timed_out_total";
        family(
            &mut out,
            timed_out,
            "counter",
            "Connections closed by a timeout.",
        );
        for (phase, count) in [
            ("headers", &c.timed_out_headers),
            ("idle", &c.timed_out_idle),
        ] {
            let _ = writeln!(out, "{timed_out}{{phase=\"{phase}\"}} {}", n(count));
        }
        single(
            &mut out,
            "ember_connections_aborted_total",
            "counter",
            "Connections closed at the end of the shutdown grace period.",
            n(&c.aborted),
        );
        single(
            &mut out,
            "ember_accept_errors_total",
            "counter",
            "Failed accept calls (e.g. out of file descriptors).",
            n(&c.accept_errors),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exposition text of the counters and gauges, as the metrics module wrote it before
    /// the families were written through `family`/`single` (the histograms' shape is checked by
    /// the HTTP tests).
    #[test]
    fn the_exposition_text_is_unchanged() {
        let m = Metrics::new(1.25);
        m.request("invocations", 200);
        m.request("ping", 418);
        m.invocation(0.003);
        m.batch(7);
        let c = &m.connections;
        for (counter, v) in [
            (&c.shed, 4),
            (&c.evicted, 5),
            (&c.timed_out_headers, 6),
            (&c.timed_out_idle, 7),
            (&c.aborted, 8),
            (&c.accept_errors, 9),
        ] {
            counter.store(v, Ordering::Relaxed);
        }
        c.open.store(3, Ordering::Relaxed);
        let text = m.render();
        assert!(text.starts_with(HEAD), "{text}");
        assert!(text.ends_with(TAIL), "{text}");
        assert!(text.contains("ember_invocation_duration_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("ember_batch_records_bucket{le=\"8\"} 1\n"));
    }

    const HEAD: &str = "# HELP ember_http_requests_total HTTP responses by route and status.
# TYPE ember_http_requests_total counter
ember_http_requests_total{route=\"invocations\",status=\"200\"} 1
ember_http_requests_total{route=\"ping\",status=\"418\"} 1
";

    const TAIL: &str = "# HELP ember_records_total Records scored.
# TYPE ember_records_total counter
ember_records_total 7
# HELP ember_model_load_seconds Time to load and compile the model at start-up.
# TYPE ember_model_load_seconds gauge
ember_model_load_seconds 1.25
# HELP ember_connections_open Connections open now.
# TYPE ember_connections_open gauge
ember_connections_open 3
# HELP ember_connections_shed_total Connections over the connection cap, served in shedding mode (GET /ping 200, else 503).
# TYPE ember_connections_shed_total counter
ember_connections_shed_total 4
# HELP ember_connections_evicted_total Shed connections closed early to make room for newer ones (every shedding slot taken).
# TYPE ember_connections_evicted_total counter
ember_connections_evicted_total 5
# HELP ember_connections_timed_out_total Connections closed by a timeout.
# TYPE ember_connections_timed_out_total counter
ember_connections_timed_out_total{phase=\"headers\"} 6
ember_connections_timed_out_total{phase=\"idle\"} 7
# HELP ember_connections_aborted_total Connections closed at the end of the shutdown grace period.
# TYPE ember_connections_aborted_total counter
ember_connections_aborted_total 8
# HELP ember_accept_errors_total Failed accept calls (e.g. out of file descriptors).
# TYPE ember_accept_errors_total counter
ember_accept_errors_total 9
";
}
