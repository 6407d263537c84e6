//! Scoring requests: directly, or coalesced with concurrent requests into one batch.
//!
//! With coalescing on, handlers hand their batch to one batcher task. It takes every request
//! already queued (and, with a window, waits up to that long for more, never beyond
//! `max_records`), evaluates requests that share a schema as one batch, and splits the result
//! back. If a coalesced batch fails (a record some stage rejects), each request is evaluated on
//! its own so the error reaches only the request that caused it.

use std::sync::Arc;
use std::time::Duration;

use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::concat_batches;
use ember_engine::{EmberError, Result};
use tokio::sync::{mpsc, oneshot};

use super::contract::Prepared;
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
    /// The output column, one row per surviving record.
    pub column: ArrayRef,
    /// When records were dropped (`handleInvalid = skip`): the record index of each row.
    pub rows: Option<Vec<usize>>,
}

struct Job {
    prepared: Arc<Prepared>,
    batch: RecordBatch,
    reply: oneshot::Sender<Result<Scored>>,
}

/// Scores request batches, coalescing them when configured to.
pub struct Scorer {
    tx: Option<mpsc::Sender<Job>>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Scorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scorer")
            .field("coalescing", &self.tx.is_some())
            .finish()
    }
}

/// How many times the batcher steps aside for ready connections before evaluating a batch
/// (it stops early once a round brings nothing new).
const GATHER_ROUNDS: usize = 16;

/// Requests larger than this are scored on the blocking pool rather than a runtime worker.
const BLOCKING_RECORDS: usize = 4096;

fn score_now(prepared: &Prepared, batch: &RecordBatch) -> Result<Scored> {
    let (out, rows) = prepared.compiled.evaluate_rows(batch)?;
    Ok(Scored {
        column: Arc::clone(out.column(prepared.output_index)),
        rows,
    })
}

impl Scorer {
    /// A scorer; with coalescing on, spawns the batcher task (call inside a Tokio runtime).
    pub fn new(coalesce: Coalesce, metrics: Arc<Metrics>) -> Self {
        let tx = match coalesce {
            Coalesce::Off => None,
            Coalesce::On {
                window,
                max_records,
            } => {
                let (tx, rx) = mpsc::channel(4096);
                tokio::spawn(batcher(
                    rx,
                    window,
                    max_records.max(1),
                    Arc::clone(&metrics),
                ));
                Some(tx)
            }
        };
        Self { tx, metrics }
    }

    /// Scores one request's batch.
    pub async fn score(&self, prepared: Arc<Prepared>, batch: RecordBatch) -> Result<Scored> {
        let records = batch.num_rows();
        if records > BLOCKING_RECORDS {
            self.metrics.batch(records);
            return tokio::task::spawn_blocking(move || score_now(&prepared, &batch))
                .await
                .map_err(|e| EmberError::Data {
                    context: "scoring".into(),
                    message: e.to_string(),
                })?;
        }
        if let Some(tx) = &self.tx {
            let (reply, rx) = oneshot::channel();
            let job = Job {
                prepared,
                batch,
                reply,
            };
            match tx.send(job).await {
                Ok(()) => {
                    return rx.await.unwrap_or_else(|_| {
                        Err(EmberError::Data {
                            context: "scoring".into(),
                            message: "the batcher stopped".into(),
                        })
                    });
                }
                Err(mpsc::error::SendError(job)) => {
                    self.metrics.batch(records);
                    return score_now(&job.prepared, &job.batch);
                }
            }
        }
        self.metrics.batch(records);
        score_now(&prepared, &batch)
    }
}

async fn batcher(
    mut rx: mpsc::Receiver<Job>,
    window: Duration,
    max_records: usize,
    metrics: Arc<Metrics>,
) {
    while let Some(first) = rx.recv().await {
        let mut records = first.batch.num_rows();
        let mut jobs = vec![first];
        // Take what is queued; then step aside (`yield_now`) so the connections that are ready
        // on this worker parse their requests and queue them too, and take those. A lone
        // request finds nothing else runnable and goes on at once; under load the batch grows
        // to what is already in flight, without waiting for anything that has not arrived.
        for round in 0..=GATHER_ROUNDS {
            let before = jobs.len();
            while records < max_records {
                match rx.try_recv() {
                    Ok(j) => {
                        records += j.batch.num_rows();
                        jobs.push(j);
                    }
                    Err(_) => break,
                }
            }
            if records >= max_records || (round > 0 && jobs.len() == before) {
                break;
            }
            if round < GATHER_ROUNDS {
                tokio::task::yield_now().await;
            }
        }
        if !window.is_zero() && records < max_records {
            let deadline = tokio::time::Instant::now() + window;
            while records < max_records {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(j)) => {
                        records += j.batch.num_rows();
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

fn run_group(group: Vec<Job>, metrics: &Metrics) {
    if group.len() == 1 {
        for j in group {
            metrics.batch(j.batch.num_rows());
            let _ = j.reply.send(score_now(&j.prepared, &j.batch));
        }
        return;
    }
    let prepared = Arc::clone(&group[0].prepared);
    let batches: Vec<&RecordBatch> = group.iter().map(|j| &j.batch).collect();
    let combined = concat_batches(prepared.compiled.input_schema(), batches.iter().copied());
    let scored = combined
        .map_err(EmberError::from)
        .and_then(|b| score_now(&prepared, &b));
    match scored {
        Ok(s) => {
            metrics.batch(group.iter().map(|j| j.batch.num_rows()).sum());
            let mut start = 0usize; // first record of the job in the combined batch
            let mut out_row = 0usize; // first output row of the job
            for j in group {
                let n = j.batch.num_rows();
                let (len, rows) = match &s.rows {
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
                let column = s.column.slice(out_row, len);
                let _ = j.reply.send(Ok(Scored { column, rows }));
                start += n;
                out_row += len;
            }
        }
        Err(_) => {
            // some record was rejected: score each request alone so only its owner sees it
            for j in group {
                metrics.batch(j.batch.num_rows());
                let _ = j.reply.send(score_now(&j.prepared, &j.batch));
            }
        }
    }
}
