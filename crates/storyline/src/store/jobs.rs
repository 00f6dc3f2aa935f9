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

/// How often jobs may fail before they are given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLimits {
    /// Attempts after which a job that keeps failing is marked failed, never run again.
    pub attempts: u32,
    /// Jobs of one feed item that may fail for good: each of the first `item_jobs - 1` such
    /// failures forgets the item, so the next poll of its feed queues it again; a
    /// permanently broken item is queued this many times, one poll apart, then left as
    /// taken.
    pub item_jobs: u32,
}

impl Default for TryLimits {
    fn default() -> Self {
        TryLimits {
            attempts: 3,
            item_jobs: 3,
        }
    }
}

/// What one claim of jobs did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Worked {
    /// Jobs claimed (0: none was free).
    pub claimed: usize,
    /// Feed items forgotten because their jobs failed for good: the next poll of their
    /// feeds queues them again.
    pub items_forgotten: usize,
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
