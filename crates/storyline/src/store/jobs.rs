//! The job queue's types, as every caller sees them (the queue itself lives on PostgreSQL:
//! `pg/jobs.rs`). Payloads and results are opaque bytes: the store keeps them, the
//! pipeline gives them meaning.

use serde::Serialize;

/// A queued job a worker has claimed: its row stays locked until the worker's transaction
/// ends, so no other worker sees it meanwhile.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    /// The input batch it belongs to.
    pub batch: u64,
    pub payload: Vec<u8>,
    /// Failed attempts before this one.
    pub attempts: u32,
}

/// A job of a batch every job of which has finished, for the clusterer, in input order.
#[derive(Debug, Clone)]
pub struct FinishedJob {
    pub id: i64,
    /// `Ok(result)` when done; `Err(error)` when it failed too often.
    pub outcome: Result<Vec<u8>, String>,
}

/// How far the queue is, per state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// Waiting to be run (or being run now).
    pub queued: u64,
    /// Run, waiting for their batch to be consumed.
    pub done: u64,
    /// Given up after too many attempts (kept, with their error, for a person to read).
    pub failed: u64,
}

impl JobCounts {
    /// Nothing left to run or to consume.
    pub fn idle(&self) -> bool {
        self.queued == 0 && self.done == 0
    }
}
