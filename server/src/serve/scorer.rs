//! Scoring requests: directly, or coalesced with concurrent requests into one batch.
//!
//! Each serving thread has its own [`Scorer`]. With coalescing on, a request first steps aside
//! once (`yield_now`) so the other connections ready on the thread reach the scorer too; a
//! request then alone is scored at once. Otherwise requests go to the thread's batcher task,
//! which takes every request already queued (and, with a window, waits up to that long for
//! more, never beyond `max_records`), types their records straight into one batch (no
//! per-request batch to build and concatenate), evaluates requests that share a schema as one
//! batch, and splits the result back. If a coalesced batch fails (a record some stage rejects), each request is evaluated on
//! its own so the error reaches only the request that caused it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arrow::array::ArrayRef;
use tokio::sync::{mpsc, oneshot};

use super::contract::Prepared;
use super::decode::{Records, build_batch, build_batches};
use super::error::ApiError;
use super::metrics::Metrics;

/// Request coalescing settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coalesce {
    /// Every request is evaluated on its own, in its handler.
    Off,
    /// Concurrent requests are evaluated together.
    On {
        /// How long the batcher waits for more requests after the first (zero: take only
        /// those already queued).
        window: Duration,
        /// Records per coalesced batch at most.
        max_records: usize,
    },
}

/// The scored output column of one request.
#[derive(Debug)]
pub struct Scored {
    /// Records in the request.
    pub records: usize,
    /// The output column, one row per surviving record.
    pub column: ArrayRef,
    /// When records were dropped (`handleInvalid = skip`): the record index of each row.
    pub rows: Option<Vec<usize>>,
}

type Reply = Result<Scored, ApiError>;

struct Job {
    prepared: Arc<Prepared>,
    records: Records,
    reply: oneshot::Sender<Reply>,
}

/// Scores request batches, coalescing them when configured to.
pub struct Scorer {
    tx: Option<mpsc::Sender<Job>>,
    metrics: Arc<Metrics>,
    /// Requests inside [`Scorer::score`] right now (on this scorer's thread).
    in_flight: AtomicUsize,
}

/// Counts a request in [`Scorer::score`] until it leaves.
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("coalescing", &self.tx.is_some())
            .finish()
    }
}

/// Requests larger than this are scored on the blocking pool rather than a runtime worker.
const BLOCKING_RECORDS: usize = 4096;

fn score_now(prepared: &Prepared, records: &Records, metrics: &Metrics) -> Reply {
    let batch = build_batch(records, prepared)?;
    metrics.batch(batch.num_rows());
    let (out, rows) = prepared
        .compiled
        .evaluate_rows(&batch)
        .map_err(ApiError::from_ember)?;
    Ok(Scored {
        records: batch.num_rows(),
        column: Arc::clone(out.column(prepared.output_index)),
        rows,
    })
}

impl Scorer {
    /// A scorer; with coalescing on, spawns the batcher task (call inside a Tokio runtime).
    /// `queue` bounds the batcher's queue: the thread's cap on requests in flight, so a
    /// request never waits for room in it (a full queue would score the request in place).
    pub fn new(coalesce: Coalesce, metrics: Arc<Metrics>, queue: usize) -> Self {
        let tx = match coalesce {
            Coalesce::Off => None,
            Coalesce::On {
                window,
                max_records,
            } => {
                let (tx, rx) = mpsc::channel(queue.max(1));
                tokio::spawn(batcher(
                    rx,
                    window,
                    max_records.max(1),
                    Arc::clone(&metrics),
                ));
                Some(tx)
            }
        };
        Self {
            tx,
            metrics,
            in_flight: AtomicUsize::new(0),
        }
    }

    /// Scores one request's records.
    pub async fn score(&self, prepared: Arc<Prepared>, records: Records) -> Reply {
        if records.max_rows() > BLOCKING_RECORDS {
            let metrics = Arc::clone(&self.metrics);
            return tokio::task::spawn_blocking(move || score_now(&prepared, &records, &metrics))
                .await
                .map_err(|e| ApiError::internal(format!("scoring: {e}")))?;
        }
        let _in_flight = InFlight::enter(&self.in_flight);
        if let Some(tx) = &self.tx {
            // Step aside once: the other connections that are ready on this thread get to
            // parse their requests and reach this point too. A request that then finds itself
            // alone is scored at once (the batcher would only add a hand-off); otherwise all
            // of them go to the batcher and are scored as one batch.
            tokio::task::yield_now().await;
            if self.in_flight.load(Ordering::Relaxed) == 1 {
                return score_now(&prepared, &records, &self.metrics);
            }
            let (reply, rx) = oneshot::channel();
            let job = Job {
                prepared,
                records,
                reply,
            };
            // never wait for room in the queue: a full (or closed) queue scores in place
            return match tx.try_send(job) {
                Ok(()) => rx
                    .await
                    .unwrap_or_else(|_| Err(ApiError::internal("scoring: the batcher stopped"))),
                Err(
                    mpsc::error::TrySendError::Full(job) | mpsc::error::TrySendError::Closed(job),
                ) => score_now(&job.prepared, &job.records, &self.metrics),
            };
        }
        score_now(&prepared, &records, &self.metrics)
    }
}

async fn batcher(
    mut rx: mpsc::Receiver<Job>,
    window: Duration,
    max_records: usize,
    metrics: Arc<Metrics>,
) {
    while let Some(first) = rx.recv().await {
        let mut records = first.records.max_rows();
        let mut jobs = vec![first];
        // Take what is queued. (Requests step aside once before they queue, in
        // `Scorer::score`, so by now every connection that was ready on this thread has
        // queued its request too.)
        while records < max_records {
            match rx.try_recv() {
                Ok(j) => {
                    records += j.records.max_rows();
                    jobs.push(j);
                }
                Err(_) => break,
            }
        }
        if !window.is_zero() && records < max_records {
            let deadline = tokio::time::Instant::now() + window;
            while records < max_records {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(j)) => {
                        records += j.records.max_rows();
                        jobs.push(j);
                    }
                    _ => break,
                }
            }
        }
        // evaluate requests that share a compiled schema together
        while !jobs.is_empty() {
            let key = Arc::as_ptr(&jobs[0].prepared);
            let (group, rest): (Vec<Job>, Vec<Job>) = jobs
                .into_iter()
                .partition(|j| Arc::as_ptr(&j.prepared) == key);
            jobs = rest;
            run_group(group, &metrics);
        }
    }
}

fn run_group(mut group: Vec<Job>, metrics: &Metrics) {
    let prepared = Arc::clone(&group[0].prepared);
    // type every request's records into one batch; a request with a wrong value gets its
    // error and the others are typed again without it
    let (batch, counts) = loop {
        let parts: Vec<&Records> = group.iter().map(|j| &j.records).collect();
        match build_batches(&parts, &prepared) {
            Ok(built) => break built,
            Err((bad, e)) => {
                let job = group.remove(bad);
                let _ = job.reply.send(Err(e));
                if group.is_empty() {
                    return;
                }
            }
        }
    };
    metrics.batch(batch.num_rows());
    match prepared.compiled.evaluate_rows(&batch) {
        Ok((out, out_rows)) => {
            let column = out.column(prepared.output_index);
            let mut start = 0usize; // first record of the job in the combined batch
            let mut out_row = 0usize; // first output row of the job
            for (j, n) in group.into_iter().zip(counts) {
                let (len, rows) = match &out_rows {
                    None => (n, None),
                    Some(r) => {
                        let len = r[out_row..].iter().take_while(|i| **i < start + n).count();
                        let mine = r[out_row..out_row + len]
                            .iter()
                            .map(|i| i - start)
                            .collect();
                        (len, Some(mine))
                    }
                };
                let _ = j.reply.send(Ok(Scored {
                    records: n,
                    column: column.slice(out_row, len),
                    rows,
                }));
                start += n;
                out_row += len;
            }
        }
        Err(_) if group.len() > 1 => {
            // some record was rejected: score each request alone so only its owner sees it
            for j in group {
                let _ = j.reply.send(score_now(&j.prepared, &j.records, metrics));
            }
        }
        Err(e) => {
            if let Some(j) = group.into_iter().next() {
                let _ = j.reply.send(Err(ApiError::from_ember(e)));
            }
        }
    }
}
