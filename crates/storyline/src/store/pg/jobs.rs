//! The job queue on PostgreSQL: workers claim queued jobs with `FOR UPDATE SKIP LOCKED`
//! inside a transaction that also writes each job's result, so a job is done exactly once
//! and a worker that dies mid-job (its transaction rolled back) leaves it queued for another.
//! The clusterer is whoever holds a session-level advisory lock.

use postgres::Client;

use super::PgStore;
use crate::error::Result;
use crate::store::{ClaimedJob, FinishedJob, JobCounts, NewFeedItem, TryLimits, Worked};

type PgResult<T> = std::result::Result<T, postgres::Error>;

/// Held (session-level) by the one worker that places analysed batches: its connection
/// closing, however the process died, frees it for a standby.
const CLUSTERER_LOCK: i64 = 0x5354_4f52_5943_4c55;

/// Serialises enqueuers for the moment a batch number is handed out, so numbers follow
/// commit order and leave no gap the clusterer would wait on.
const ENQUEUE_LOCK: i64 = 0x5354_4f52_5945_4e51;

impl PgStore {
    /// Queues `payloads` as one batch of `kind` jobs, in this order; returns its number.
    pub fn enqueue_jobs(&self, kind: &str, payloads: &[Vec<u8>]) -> Result<u64> {
        self.write(|| {
            let mut c = self.c();
            enqueue(&mut c, kind, payloads, &[]).map_err(|e| self.e(e))
        })
    }

    /// Queues `payloads` as one batch of `kind` jobs, each carrying the article of the feed
    /// item beside it, and remembers the items as taken, in one transaction: a job and its
    /// item's memory exist together, so a job that fails for good always finds the item to
    /// forget (see `record`), and a poller killed after the commit queues nothing twice.
    pub fn enqueue_feed_items(
        &self,
        kind: &str,
        payloads: &[Vec<u8>],
        items: &[NewFeedItem],
    ) -> Result<u64> {
        let ids: Vec<Option<String>> = items.iter().map(|i| Some(i.article_id.clone())).collect();
        self.write(|| {
            let batch = enqueue(&mut self.c(), kind, payloads, &ids).map_err(|e| self.e(e))?;
            self.mark_items_seen(items)?;
            Ok(batch)
        })
    }

    /// Claims up to `limit` queued jobs of `kind`, hands them to `run` and records what it
    /// returns, one outcome a job in the same order, all in one transaction: a result marks
    /// its job done; an error counts an attempt, and the `tries.attempts`-th marks it failed.
    pub fn work_jobs(
        &self,
        kind: &str,
        limit: usize,
        tries: TryLimits,
        run: impl FnOnce(&[ClaimedJob]) -> Vec<std::result::Result<Vec<u8>, String>>,
    ) -> Result<Worked> {
        self.write(|| {
            let jobs = claim(&mut self.c(), kind, limit).map_err(|e| self.e(e))?;
            if jobs.is_empty() {
                return Ok(Worked::default());
            }
            // The connection is not borrowed while the jobs run.
            let outcomes = run(&jobs);
            let mut c = self.c();
            let items_forgotten = record(&mut c, &jobs, outcomes, tries).map_err(|e| self.e(e))?;
            Ok(Worked {
                claimed: jobs.len(),
                items_forgotten,
            })
        })
    }

    /// The first batch of `kind` with a job not failed, if every job of it has finished:
    /// its number and its jobs in input order (failed ones included, to be reported).
    pub fn finished_batch(&self, kind: &str) -> Result<Option<(u64, Vec<FinishedJob>)>> {
        finished_batch(&mut self.c(), kind).map_err(|e| self.e(e))
    }

    pub fn forget_done_jobs(&self, kind: &str) -> Result<u64> {
        self.c()
            .execute(
                "DELETE FROM jobs WHERE kind = $1 AND state = 'done'",
                &[&kind],
            )
            .map_err(|e| self.e(e))
    }

    pub fn job_counts(&self, kind: &str) -> Result<JobCounts> {
        let row = self
            .c()
            .query_one(
                "SELECT count(*) FILTER (WHERE state = 'queued'),
                        count(*) FILTER (WHERE state = 'done'),
                        count(*) FILTER (WHERE state = 'failed')
                 FROM jobs WHERE kind = $1",
                &[&kind],
            )
            .map_err(|e| self.e(e))?;
        let n = |i: usize| -> Result<u64> {
            let v: i64 = row.try_get(i).map_err(|e| self.e(e))?;
            Ok(u64::try_from(v).unwrap_or(0))
        };
        Ok(JobCounts {
            queued: n(0)?,
            done: n(1)?,
            failed: n(2)?,
        })
    }

    /// Takes the clusterer's lock for this connection's session if no other session holds
    /// it; `true` when this one holds it now.
    pub fn try_clusterer_lock(&self) -> Result<bool> {
        self.c()
            .query_one("SELECT pg_try_advisory_lock($1)", &[&CLUSTERER_LOCK])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.e(e))
    }
}

/// `items`: each job's feed item, in order (empty: none has one).
fn enqueue(
    c: &mut Client,
    kind: &str,
    payloads: &[Vec<u8>],
    items: &[Option<String>],
) -> PgResult<u64> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&ENQUEUE_LOCK])?;
    // Numbers are kept in `meta`, not taken from the table: consumed batches are deleted.
    let batch: i64 = c
        .query_one(
            "INSERT INTO meta(key, value) VALUES ('job_batch', '1')
             ON CONFLICT (key) DO UPDATE SET value = (meta.value::bigint + 1)::text
             RETURNING value::bigint",
            &[],
        )?
        .try_get(0)?;
    let pos: Vec<i32> = (0..payloads.len())
        .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect();
    let items: Vec<Option<String>> = (0..payloads.len())
        .map(|i| items.get(i).cloned().flatten())
        .collect();
    c.execute(
        "INSERT INTO jobs(kind, batch, pos, payload, item)
         SELECT $1, $2, pos, payload, item
         FROM unnest($3::int[], $4::bytea[], $5::text[]) AS u(pos, payload, item)",
        &[&kind, &batch, &pos, &payloads, &items],
    )?;
    Ok(u64::try_from(batch).unwrap_or(0))
}

fn claim(c: &mut Client, kind: &str, limit: usize) -> PgResult<Vec<ClaimedJob>> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = c.query(
        "SELECT id, batch, payload, attempts, state FROM jobs
         WHERE kind = $1 AND state = 'queued'
         ORDER BY batch, pos LIMIT $2
         FOR UPDATE SKIP LOCKED",
        &[&kind, &limit],
    )?;
    // The state as locked, checked again, so a job is never run twice: a row another worker
    // finished after this statement's snapshot is locked in its new version. (Once, three
    // workers on 20,000 jobs deadlocked, a claim's update against the clusterer's delete of
    // a finished batch, as if a done row had been claimed; the cause is not confirmed and
    // the check has not been seen to drop a row since.)
    let mut queued = Vec::with_capacity(rows.len());
    for r in &rows {
        if r.try_get::<_, String>(4)? == "queued" {
            queued.push(r);
        }
    }
    if queued.len() < rows.len() {
        tracing::debug!(
            skipped = rows.len() - queued.len(),
            "claimed rows another worker finished meanwhile"
        );
    }
    queued
        .into_iter()
        .map(|r| {
            Ok(ClaimedJob {
                id: r.try_get(0)?,
                batch: u64::try_from(r.try_get::<_, i64>(1)?).unwrap_or(0),
                payload: r.try_get(2)?,
                attempts: u32::try_from(r.try_get::<_, i32>(3)?).unwrap_or(0),
            })
        })
        .collect()
}

/// Records the outcomes of `jobs`; returns how many feed items it forgot.
fn record(
    c: &mut Client,
    jobs: &[ClaimedJob],
    outcomes: Vec<std::result::Result<Vec<u8>, String>>,
    tries: TryLimits,
) -> PgResult<usize> {
    let mut forgotten = 0;
    let mut done_ids = Vec::new();
    let mut results = Vec::new();
    for (job, outcome) in jobs.iter().zip(outcomes) {
        match outcome {
            Ok(result) => {
                done_ids.push(job.id);
                results.push(result);
            }
            Err(error) => {
                let attempts = job.attempts.saturating_add(1);
                let state = if attempts >= tries.attempts {
                    "failed"
                } else {
                    "queued"
                };
                c.execute(
                    "UPDATE jobs SET attempts = $2, error = $3, state = $4,
                            done_at = CASE WHEN $4 = 'failed' THEN now() END
                     WHERE id = $1",
                    &[
                        &job.id,
                        &i32::try_from(attempts).unwrap_or(i32::MAX),
                        &error,
                        &state,
                    ],
                )?;
                if state == "failed" && forget_item(c, job.id, tries.item_jobs)? {
                    forgotten += 1;
                }
            }
        }
    }
    c.execute(
        "UPDATE jobs SET state = 'done', result = u.result, done_at = now()
         FROM unnest($1::bigint[], $2::bytea[]) AS u(id, result)
         WHERE jobs.id = u.id",
        &[&done_ids, &results],
    )?;
    Ok(forgotten)
}

/// A feed item whose job has just failed for good is forgotten, in the transaction that
/// marks the job failed, so the next poll of its feed brings it again, unless its article is
/// stored anyway (another job carried it) or it has failed `item_jobs` times now (its
/// failed jobs, kept with their errors, are the count). Its feed's validators go with it:
/// the feed, unchanged, would answer the next poll "not modified", and the item not be read;
/// and its `forgotten` count goes up, so a poll in flight does not store them again.
/// Returns whether the item was forgotten.
fn forget_item(c: &mut Client, job: i64, item_jobs: u32) -> PgResult<bool> {
    // A data-modifying WITH runs whether or not the outer query reads it.
    let n: i64 = c
        .query_one(
            "WITH forgotten AS (
             DELETE FROM feed_items f USING jobs j
             WHERE j.id = $1 AND f.article_id = j.item
               AND (SELECT count(*) FROM jobs k WHERE k.item = j.item AND k.state = 'failed')
                   < $2
               AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.ext_id = j.item)
             RETURNING f.feed_url),
         reset AS (
             UPDATE feeds SET etag = NULL, last_modified = NULL, forgotten = forgotten + 1
             WHERE url IN (SELECT feed_url FROM forgotten))
         SELECT count(*) FROM forgotten",
            &[&job, &i64::from(item_jobs)],
        )?
        .try_get(0)?;
    Ok(n > 0)
}

fn finished_batch(c: &mut Client, kind: &str) -> PgResult<Option<(u64, Vec<FinishedJob>)>> {
    let Some(first) = c.query_opt(
        "SELECT batch FROM jobs WHERE kind = $1 AND state <> 'failed' ORDER BY batch LIMIT 1",
        &[&kind],
    )?
    else {
        return Ok(None);
    };
    let batch: i64 = first.try_get(0)?;
    let rows = c.query(
        "SELECT id, state, result, error FROM jobs WHERE kind = $1 AND batch = $2 ORDER BY pos",
        &[&kind, &batch],
    )?;
    let mut jobs = Vec::with_capacity(rows.len());
    for r in &rows {
        let state: String = r.try_get(1)?;
        let outcome = match state.as_str() {
            "done" => Ok(r.try_get::<_, Option<Vec<u8>>>(2)?.unwrap_or_default()),
            "failed" => Err(r.try_get::<_, Option<String>>(3)?.unwrap_or_default()),
            // A job still to run (or running): the batch waits for it.
            _ => return Ok(None),
        };
        jobs.push(FinishedJob {
            id: r.try_get(0)?,
            outcome,
        });
    }
    Ok(Some((u64::try_from(batch).unwrap_or(0), jobs)))
}

/// Deletes a placed batch's done jobs (its failed ones stay, with their errors).
pub(super) fn consume_batch(c: &mut Client, kind: &str, batch: u64) -> PgResult<()> {
    let batch = i64::try_from(batch).unwrap_or(i64::MAX);
    c.execute(
        "DELETE FROM jobs WHERE kind = $1 AND batch = $2 AND state = 'done'",
        &[&kind, &batch],
    )?;
    Ok(())
}
