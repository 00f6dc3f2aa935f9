//! Ingest through a job queue on a PostgreSQL store, for any number of workers on any
//! number of machines (`storyline enqueue`, `storyline worker`).
//!
//! `enqueue` cuts the input into the batches `Pipeline::ingest` would make and queues each
//! record as an "analyse" job, numbered by batch and place. Every worker claims queued jobs
//! (`Store::work_jobs`: `SKIP LOCKED`, result and "done" in the claim's transaction) and runs
//! the pure per-article stage on them. The one worker holding the clusterer lock also places
//! finished batches strictly in batch order, with the placer `Pipeline::ingest` uses, and
//! commits each with its jobs deleted in the same transaction. So what is placed together,
//! and in which order, is fixed when the input is queued: the result is that of one
//! `storyline ingest` of the same input, whichever worker ran what, and whichever died.
//!
//! Stored story reports a placed batch made outdated are made again by "refresh report"
//! jobs, one a story, which the clusterer queues after each commit and any worker runs.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::analysis::{analyze, Analysis};
use super::placement::{embed_all, AnalysedBatch, Placer};
use super::{analysis_pool, new_articles, next_batch, not_stored, IngestReport, PipelineConfig};
use crate::embed::Embedder;
use crate::error::{Error, IngestError, Result};
use crate::ingest::Record;
use crate::normalize::Stemmer;
use crate::report::refresh_reports;
use crate::store::{ClaimedJob, FinishedJob, NewFeedItem, Store, TryLimits};

/// The kind of job that analyses one record.
pub const ANALYSE: &str = "analyse";

/// The kind of job that makes a story's stored report again (its payload: the story id).
pub const REFRESH_REPORT: &str = "refresh report";

/// What `enqueue` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EnqueueReport {
    /// Records read, good or bad.
    pub read: usize,
    /// Records queued as jobs.
    pub queued: usize,
    /// Batches they make (each placed whole, in order).
    pub batches: usize,
    /// Bad records, each naming its file and line; they were not queued.
    pub errors: Vec<String>,
}

/// Queues every good record as an "analyse" job, in batches of `config.batch_size` as
/// `Pipeline::ingest` reads them, one transaction a batch. Returns once they are queued.
pub fn enqueue<I>(store: &Store, records: I, config: &PipelineConfig) -> Result<EnqueueReport>
where
    I: IntoIterator<Item = std::result::Result<Record, IngestError>>,
{
    let mut records = records.into_iter();
    let mut read = IngestReport::default();
    let mut report = EnqueueReport::default();
    loop {
        let batch = next_batch(&mut records, config.batch_size.max(1), &mut read);
        if batch.is_empty() {
            break;
        }
        let payloads = job_payloads(&batch)?;
        store.enqueue_jobs(ANALYSE, &payloads)?;
        report.queued += payloads.len();
        report.batches += 1;
    }
    report.read = read.read;
    report.errors = read.errors;
    Ok(report)
}

/// Queues the articles of feed items as "analyse" jobs, in batches of `config.batch_size`,
/// each batch with its items (`items[i]` is the item of `records[i]`) remembered in its
/// transaction (`Store::enqueue_feed_items`): a job that fails for good forgets its item,
/// so a later poll of the feed brings it again.
pub fn enqueue_feed_items(
    store: &Store,
    records: &[Record],
    items: &[NewFeedItem],
    config: &PipelineConfig,
) -> Result<EnqueueReport> {
    if records.len() != items.len() {
        return Err(Error::Invalid(format!(
            "{} records to queue for {} feed items",
            records.len(),
            items.len()
        )));
    }
    let size = config.batch_size.max(1);
    let mut report = EnqueueReport::default();
    for (records, items) in records.chunks(size).zip(items.chunks(size)) {
        store.enqueue_feed_items(ANALYSE, &job_payloads(records)?, items)?;
        report.read += records.len();
        report.queued += records.len();
        report.batches += 1;
    }
    Ok(report)
}

/// The payloads of "analyse" jobs: the records as JSON.
fn job_payloads(records: &[Record]) -> Result<Vec<Vec<u8>>> {
    records
        .iter()
        .map(serde_json::to_vec)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::Invalid(format!("a record cannot be queued: {e}")))
}

/// Refuses a SQLite file before it is opened (opening would create it): the queue is shared
/// by workers on many machines, which only a PostgreSQL store is.
pub fn needs_postgres(db: &Path, what: &str) -> Result<()> {
    if Store::is_url(db) {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "{}: {what} needs a PostgreSQL store (--db postgres://…), whose job queue workers \
         on many machines share; this is a SQLite file",
        db.display()
    )))
}

/// The result of an "analyse" job: the record's id (kept even when the analysis failed, so
/// the clusterer drops repeated ids exactly as `Pipeline::ingest` does) and its analysis.
#[derive(Serialize, Deserialize)]
struct Analysed {
    id: String,
    analysis: Analysis,
    /// The article's sentence embedding, when the worker has the model, as the bits of each
    /// component: a float written as decimal text and read back may differ in its last bit,
    /// and the clusterer must see what `storyline ingest` would have computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    embedding_bits: Option<Vec<u32>>,
}

#[derive(Clone)]
pub struct WorkerConfig {
    /// Clustering and dedup settings; the batch size is the one `enqueue` was given.
    pub pipeline: PipelineConfig,
    /// Jobs claimed in one transaction.
    pub claim: usize,
    /// How often a job, and the feed item it carries, may fail.
    pub tries: TryLimits,
    /// Stop once nothing is queued and every batch is placed (else wait for more).
    pub until_idle: bool,
    /// How often a standby tries to become the clusterer.
    pub lock_retry: Duration,
    /// How long an idle worker waits before it looks for jobs again.
    pub idle_wait: Duration,
    /// Set while something in this process may still queue jobs (the worker's feed
    /// poller): `until_idle` waits for it to clear as well as for the queue to empty.
    pub producing: Option<Arc<AtomicBool>>,
    /// The sentence-embedding model: each worker embeds the articles it analyses, so the
    /// model runs wherever there are workers, and the clusterer embeds only what a worker
    /// without it left. Give every worker the same model, as every ingest of a store.
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl std::fmt::Debug for WorkerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkerConfig")
            .field("pipeline", &self.pipeline)
            .field("claim", &self.claim)
            .field("tries", &self.tries)
            .field("until_idle", &self.until_idle)
            .field("lock_retry", &self.lock_retry)
            .field("idle_wait", &self.idle_wait)
            .field("producing", &self.producing)
            .field("embedder", &self.embedder.as_ref().map(|e| e.dim()))
            .finish()
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            pipeline: PipelineConfig::default(),
            claim: 32,
            tries: TryLimits::default(),
            until_idle: false,
            lock_retry: Duration::from_secs(1),
            idle_wait: Duration::from_millis(200),
            producing: None,
            embedder: None,
        }
    }
}

/// What a worker tells its caller as it goes.
#[derive(Debug)]
pub enum WorkerEvent<'a> {
    /// This worker took the clusterer lock and restored the clusterer from the store.
    Clustering,
    /// It placed and committed a batch.
    Placed {
        batch: u64,
        report: &'a IngestReport,
    },
}

/// What a worker did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkerReport {
    /// Jobs this worker analysed.
    pub analysed: usize,
    /// Of those, the articles it embedded (with a model).
    pub embedded: usize,
    /// Seconds it spent in the model.
    pub embed_seconds: f64,
    /// Story reports this worker made again ("refresh report" jobs that found the stored
    /// report outdated).
    pub reports_refreshed: usize,
    /// Attempts that failed (each one counted against its job).
    pub failed_attempts: usize,
    /// Feed items whose jobs failed for good and that were forgotten, so that the next poll
    /// of their feeds queues them again.
    pub items_forgotten: usize,
    /// Batches this worker placed as the clusterer.
    pub batches_placed: usize,
    /// What the placed batches brought, as `storyline ingest` reports it.
    pub ingest: IngestReport,
    /// Whether this worker was the clusterer when it stopped.
    pub clusterer: bool,
}

/// The clusterer's state while this worker holds the lock.
struct Clustering {
    placer: Placer,
}

/// Runs a worker on the PostgreSQL store `db` until `stop` is set (or, with
/// `until_idle`, until nothing is left to do). Refused on a SQLite store.
///
/// Two sides on two threads, as `ingest` runs its stages: this one claims and runs jobs;
/// the other tries for the clusterer lock and, holding it, places finished batches. In one
/// thread a lone worker would analyse and place by turns, each side idle while the other
/// ran.
pub fn run_worker(
    db: &Path,
    config: &WorkerConfig,
    stop: &AtomicBool,
    mut notify: impl FnMut(WorkerEvent<'_>),
) -> Result<WorkerReport> {
    // Three connections: one claims jobs; one holds the clusterer lock for its session and
    // writes the placed batches; reports are made and stored on the third, as `jobs` is in
    // the claim's transaction meanwhile.
    needs_postgres(db, "`storyline worker`")?;
    let jobs = Store::open(db)?;
    let writer = Store::open(db)?;
    let reports = Store::open(db)?;
    let pool = analysis_pool()?;
    let stemmer = Stemmer::english();
    let mut report = WorkerReport::default();
    // Set by either side when the worker is to end: idle, or an error on either side.
    let done = AtomicBool::new(false);
    // Odd while the clusterer's side places a batch (from taking it to queueing the reports
    // it outdated): the queue looks idle in that time, though refresh jobs are to come.
    let placings = AtomicU64::new(0);
    let (events, news) = mpsc::channel::<ClusterSide>();
    let mut tell = |event: ClusterSide| match event {
        ClusterSide::Clustering(told) => {
            notify(WorkerEvent::Clustering);
            let _ = told.send(());
        }
        ClusterSide::Placed(batch, placed) => notify(WorkerEvent::Placed {
            batch,
            report: &placed,
        }),
    };
    let (ran, clustered) = std::thread::scope(|s| {
        let clusterer = s.spawn(|| {
            let side = cluster_side(writer, config, stop, &done, &placings, events);
            done.store(true, Ordering::Relaxed);
            side
        });
        let ran = (|| -> Result<()> {
            while !stop.load(Ordering::Relaxed) && !done.load(Ordering::Relaxed) {
                for event in news.try_iter() {
                    tell(event);
                }
                let mut claimed = analyse_claim(&jobs, &pool, &stemmer, config, &mut report)?;
                // Reports after analyses: a reader without a current report makes one itself.
                if claimed == 0 {
                    claimed = refresh_claim(&jobs, &reports, config, &mut report)?;
                }
                if claimed > 0 {
                    continue;
                }
                // The flags are read before the queue: what a producer queued before it
                // cleared its flag is then in the count. A placing that began or ended
                // while the queue was read changes `placings`, and the queue is read again.
                let producing = config
                    .producing
                    .as_ref()
                    .is_some_and(|p| p.load(Ordering::SeqCst));
                let placed_before = placings.load(Ordering::SeqCst);
                if config.until_idle
                    && !producing
                    && placed_before % 2 == 0
                    && jobs.job_counts(ANALYSE)?.idle()
                    && jobs.job_counts(REFRESH_REPORT)?.queued == 0
                    && placings.load(Ordering::SeqCst) == placed_before
                {
                    break;
                }
                std::thread::sleep(config.idle_wait);
            }
            Ok(())
        })();
        done.store(true, Ordering::Relaxed);
        // The clusterer's side may wait for its news to be told.
        let clustered = loop {
            for event in news.try_iter() {
                tell(event);
            }
            if clusterer.is_finished() {
                break clusterer.join().unwrap_or_else(|_| {
                    Err(Error::Invalid("the clusterer's thread panicked".into()))
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        };
        (ran, clustered)
    });
    for event in news.try_iter() {
        tell(event);
    }
    ran?;
    let clustered = clustered?;
    report.batches_placed = clustered.batches_placed;
    report.ingest = clustered.ingest;
    report.clusterer = clustered.clusterer;
    Ok(report)
}

/// What the clusterer's side tells the worker's caller, through the side that runs jobs.
enum ClusterSide {
    /// It took the lock; it goes on once the caller has been told (the sender answers).
    Clustering(mpsc::Sender<()>),
    Placed(u64, IngestReport),
}

/// Claims up to `config.claim` "analyse" jobs, analyses (and embeds) them and records the
/// results in the claim's transaction; returns how many it claimed.
fn analyse_claim(
    jobs: &Store,
    pool: &rayon::ThreadPool,
    stemmer: &Stemmer,
    config: &WorkerConfig,
    report: &mut WorkerReport,
) -> Result<usize> {
    let mut failed = 0;
    let mut embedded = (0, 0.0);
    let worked = jobs.work_jobs(ANALYSE, config.claim, config.tries, |claimed| {
        let mut outcomes: Vec<_> = pool.install(|| {
            claimed
                .par_iter()
                .map(|job| analyse_job(job, stemmer))
                .collect()
        });
        if let Some(embedder) = &config.embedder {
            embedded = embed_jobs(embedder.as_ref(), claimed, &mut outcomes);
        }
        let outcomes: Vec<_> = outcomes
            .into_iter()
            .zip(claimed)
            .map(|(outcome, job)| {
                serde_json::to_vec(&outcome?)
                    .map_err(|e| format!("job {}: its result cannot be stored: {e}", job.id))
            })
            .collect();
        failed = outcomes.iter().filter(|o| o.is_err()).count();
        outcomes
    })?;
    report.analysed += worked.claimed - failed;
    report.failed_attempts += failed;
    report.items_forgotten += worked.items_forgotten;
    report.embedded += embedded.0;
    report.embed_seconds += embedded.1;
    Ok(worked.claimed)
}

/// Claims up to `config.claim` "refresh report" jobs and runs them; returns how many it
/// claimed.
fn refresh_claim(
    jobs: &Store,
    reports: &Store,
    config: &WorkerConfig,
    report: &mut WorkerReport,
) -> Result<usize> {
    let mut refreshed = 0;
    let mut failed = 0;
    let worked = jobs.work_jobs(REFRESH_REPORT, config.claim, config.tries, |claimed| {
        let outcomes: Vec<_> = claimed
            .iter()
            .map(|job| refresh_job(job, reports).map(|n| refreshed += n))
            .map(|done| done.map(|()| Vec::new()))
            .collect();
        failed = outcomes.iter().filter(|o| o.is_err()).count();
        outcomes
    })?;
    if worked.claimed > 0 {
        jobs.forget_done_jobs(REFRESH_REPORT)?;
    }
    report.reports_refreshed += refreshed;
    report.failed_attempts += failed;
    Ok(worked.claimed)
}

/// What the clusterer's side did.
#[derive(Default)]
struct Clustered {
    batches_placed: usize,
    ingest: IngestReport,
    clusterer: bool,
}

/// The clusterer's side of a worker: tries for the lock once every `lock_retry`; holding
/// it, places each finished batch in order, until the worker ends.
fn cluster_side(
    mut writer: Store,
    config: &WorkerConfig,
    stop: &AtomicBool,
    done: &AtomicBool,
    placings: &AtomicU64,
    events: mpsc::Sender<ClusterSide>,
) -> Result<Clustered> {
    let mut out = Clustered::default();
    let mut clustering: Option<Clustering> = None;
    let mut tried_lock: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) && !done.load(Ordering::Relaxed) {
        if clustering.is_none() && tried_lock.is_none_or(|t| t.elapsed() >= config.lock_retry) {
            tried_lock = Some(Instant::now());
            if writer.try_clusterer_lock()? {
                // Whatever the last clusterer committed is where this one goes on from.
                let mut placer = Placer::restore(&writer, &config.pipeline)?;
                placer.embedder = config.embedder.clone();
                clustering = Some(Clustering { placer });
                let (told, heard) = mpsc::channel();
                if events.send(ClusterSide::Clustering(told)).is_ok() {
                    let _ = heard.recv();
                }
            }
        }
        let mut busy = false;
        if let Some(c) = &mut clustering {
            // Odd from before a batch is taken until the refresh jobs it calls for are
            // queued, whether it is placed or not.
            placings.fetch_add(1, Ordering::SeqCst);
            let step = (|| -> Result<bool> {
                let Some((batch, finished)) = writer.finished_batch(ANALYSE)? else {
                    return Ok(false);
                };
                let mut placed = IngestReport::default();
                match place_batch(c, &mut writer, batch, finished, &mut placed) {
                    // Another writer (an `ingest`, a `follow` that stores for itself)
                    // committed since this clusterer was restored, and the commit refused
                    // the batch whole: restored after it, the clusterer places it again.
                    Err(Error::WrittenMeanwhile { .. }) => {
                        let embedder = c.placer.embedder.take();
                        c.placer = Placer::restore(&writer, &config.pipeline)?;
                        c.placer.embedder = embedder;
                    }
                    placing => {
                        placing?;
                        out.ingest.absorb(placed.clone());
                        out.batches_placed += 1;
                        let _ = events.send(ClusterSide::Placed(batch, placed));
                    }
                }
                Ok(true)
            })();
            placings.fetch_add(1, Ordering::SeqCst);
            busy = step?;
        }
        if !busy {
            std::thread::sleep(config.idle_wait);
        }
    }
    out.clusterer = clustering.is_some();
    Ok(out)
}

/// Runs one "analyse" job: its result, or why it failed (a payload that is no record, a
/// panic in the analysis). A record the analysis refuses (no text) is a result, reported
/// when its batch is placed, as `ingest` reports it.
fn analyse_job(job: &ClaimedJob, stemmer: &Stemmer) -> std::result::Result<Analysed, String> {
    let record: Record = serde_json::from_slice(&job.payload)
        .map_err(|e| format!("job {}: not a queued record: {e}", job.id))?;
    let id = record.article.id.clone();
    let analysis =
        catch_unwind(AssertUnwindSafe(|| analyze(record, stemmer))).map_err(|panic| {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("job {}: the analysis of {id:?} panicked: {why}", job.id)
        })?;
    Ok(Analysed {
        id,
        analysis,
        embedding_bits: None,
    })
}

/// Embeds the analysed articles of the claimed jobs in one call to the model. A failing
/// model fails those jobs (each attempt counted), as a failing analysis does. Returns how
/// many were embedded and the seconds it took.
fn embed_jobs(
    embedder: &dyn Embedder,
    claimed: &[ClaimedJob],
    outcomes: &mut [std::result::Result<Analysed, String>],
) -> (usize, f64) {
    let mut articles: Vec<&mut super::analysis::Analyzed> = outcomes
        .iter_mut()
        .filter_map(|o| o.as_mut().ok()?.analysis.as_mut().ok())
        .collect();
    let n = articles.len();
    match embed_all(embedder, &mut articles) {
        Ok(seconds) => {
            for o in outcomes.iter_mut().flatten() {
                if let Ok(a) = &mut o.analysis {
                    o.embedding_bits = a
                        .features
                        .embedding
                        .take()
                        .map(|v| v.iter().map(|x| x.to_bits()).collect());
                }
            }
            (n, seconds)
        }
        Err(e) => {
            for (o, job) in outcomes.iter_mut().zip(claimed) {
                if o.as_ref().is_ok_and(|a| a.analysis.is_ok()) {
                    *o = Err(format!("job {}: the model failed: {e}", job.id));
                }
            }
            (0, 0.0)
        }
    }
}

/// Runs one "refresh report" job: how many reports it stored (0: the stored one was
/// current, or the story was merged away), or why it failed.
fn refresh_job(job: &ClaimedJob, store: &Store) -> std::result::Result<usize, String> {
    let id: crate::core::StoryId = std::str::from_utf8(&job.payload)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("job {}: not a story id", job.id))?;
    refresh_reports(store, &[id]).map_err(|e| format!("job {}: story {id}: {e}", job.id))
}

/// Places one finished batch as `Pipeline::ingest` places a batch it read, and commits it
/// with its jobs deleted in the same transaction.
fn place_batch(
    c: &mut Clustering,
    writer: &mut Store,
    batch: u64,
    finished: Vec<FinishedJob>,
    report: &mut IngestReport,
) -> Result<()> {
    report.read += finished.len();
    let mut analysed = Vec::with_capacity(finished.len());
    for job in finished {
        match job.outcome {
            Ok(bytes) => match serde_json::from_slice::<Analysed>(&bytes) {
                Ok(mut a) => {
                    if let (Ok(article), Some(bits)) = (&mut a.analysis, a.embedding_bits.take()) {
                        article.features.embedding =
                            Some(bits.into_iter().map(f32::from_bits).collect());
                    }
                    analysed.push(a)
                }

                Err(e) => report
                    .errors
                    .push(format!("job {}: unreadable result: {e}", job.id)),
            },
            Err(error) => report
                .errors
                .push(format!("job {} failed: {error}", job.id)),
        }
    }
    // This worker is the only writer, so the store's answer is exact.
    let articles: Vec<Analysis> = not_stored(writer, analysed, |a| a.id.as_str(), report)?
        .into_iter()
        .map(|a| a.analysis)
        .collect();
    c.placer.start_ingest(writer.next_article_id()?);
    let placed = c.placer.place(
        AnalysedBatch {
            committed_before: 0,
            articles,
        },
        report,
    )?;
    writer.commit_batch_consuming(
        &new_articles(&placed),
        &placed.changes,
        placed.seq_before,
        placed.seq_after,
        placed.clock,
        (ANALYSE, batch),
    )?;
    // After the commit, not in it: a clusterer killed between the two leaves those reports
    // to be made by their next reader, as a refresh that fails does.
    let touched: Vec<_> = placed.changes.stories.iter().map(|s| s.id).collect();
    let stale: Vec<Vec<u8>> = writer
        .stale_reports(&touched)?
        .into_iter()
        .map(|id| id.to_string().into_bytes())
        .collect();
    if !stale.is_empty() {
        writer.enqueue_jobs(REFRESH_REPORT, &stale)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use storyline_testpg::Cluster;

    use super::*;
    use crate::ingest::{expand_paths, read_path};

    fn seeds() -> Vec<std::result::Result<Record, IngestError>> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
        expand_paths(&[dir])
            .expect("the seeds")
            .iter()
            .flat_map(|f| read_path(f, None))
            .collect()
    }

    fn until_idle() -> WorkerConfig {
        WorkerConfig {
            until_idle: true,
            idle_wait: Duration::from_millis(10),
            ..WorkerConfig::default()
        }
    }

    #[test]
    fn a_claimed_job_is_hidden_from_other_workers_and_requeued_when_its_worker_dies() {
        let Some(cluster) = Cluster::start() else {
            return;
        };
        let db = PathBuf::from(cluster.url());
        let queue = Store::open(&db).unwrap();
        let report = enqueue(&queue, seeds(), &PipelineConfig::default()).unwrap();
        assert_eq!((report.queued, report.batches), (5, 1));

        // A worker claims two jobs; while it holds them another claims the rest, and never
        // one of those two; then the first dies before it records anything.
        let dying = Store::open(&db).unwrap();
        let other = Store::open(&db).unwrap();
        let mut held = Vec::new();
        let mut taken = Vec::new();
        let died = catch_unwind(AssertUnwindSafe(|| {
            dying.work_jobs(ANALYSE, 2, TryLimits::default(), |jobs| {
                held = jobs.iter().map(|j| j.id).collect();
                other
                    .work_jobs(ANALYSE, 10, TryLimits::default(), |jobs| {
                        taken = jobs.iter().map(|j| j.id).collect();
                        jobs.iter().map(|_| Ok(b"{}".to_vec())).collect()
                    })
                    .unwrap();
                panic!("the worker dies mid-job");
            })
        }));
        assert!(died.is_err());
        assert_eq!((held.len(), taken.len()), (2, 3));
        assert!(
            held.iter().all(|id| !taken.contains(id)),
            "{held:?} {taken:?}"
        );
        drop(dying); // its connection closes: the transaction is rolled back
        let counts = queue.job_counts(ANALYSE).unwrap();
        assert_eq!((counts.queued, counts.done, counts.failed), (2, 3, 0));
        // The two come back to the next worker, with no attempt counted against them, once
        // the server has noticed the closed connection and ended its session (at once, but
        // not within the drop: meanwhile the rows are still locked and skipped).
        let mut again = Vec::new();
        for _ in 0..3000 {
            let worked = queue
                .work_jobs(ANALYSE, 10, TryLimits::default(), |jobs| {
                    again = jobs.iter().map(|j| (j.id, j.attempts)).collect();
                    jobs.iter().map(|_| Ok(b"{}".to_vec())).collect()
                })
                .unwrap();
            if worked.claimed > 0 {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        held.sort();
        assert_eq!(again, held.iter().map(|&id| (id, 0)).collect::<Vec<_>>());
    }

    /// A poll in flight read an item as taken; the item's job then failed for good and the
    /// item was forgotten. The poll must not store the feed's new validators: with them the
    /// next poll of the unchanged feed would be answered "not modified" and the item never
    /// read again.
    #[test]
    fn a_poll_in_flight_when_its_feeds_item_is_forgotten_keeps_no_validators() {
        use crate::store::{FeedClaim, FeedSuccess};
        use chrono::{TimeZone, Utc};
        let Some(cluster) = Cluster::start() else {
            return;
        };
        let store = Store::open(&PathBuf::from(cluster.url())).unwrap();
        let t = |m| Utc.with_ymd_and_hms(2024, 3, 1, 8, m, 0).unwrap();
        let feed = "http://wire.example/feed";
        store.add_feed(feed, None, t(0)).unwrap();
        let polled = |etag: &str, forgotten| FeedSuccess {
            etag: Some(etag.into()),
            forgotten,
            ..FeedSuccess::default()
        };
        store
            .record_feed_success(feed, &polled("e1", None))
            .unwrap();
        let item = NewFeedItem {
            article_id: "wire-1".into(),
            feed_url: feed.into(),
            guid: Some("g1".into()),
            link: None,
            url: None,
            content_hash: "h".into(),
            version: 1,
            update_of: None,
            seen: t(1),
        };
        store
            .enqueue_feed_items(ANALYSE, &[b"a record".to_vec()], &[item])
            .unwrap();
        let claim = |m| {
            let rows = store
                .claim_feeds(&FeedClaim {
                    holder: "poller",
                    due_by: None,
                    after: None,
                    now: t(m),
                    until: t(m + 5),
                    limit: 1,
                    take_over: true,
                })
                .unwrap();
            assert_eq!(rows.len(), 1);
            rows[0].forgotten
        };
        let in_flight = claim(2);
        let once = TryLimits {
            attempts: 1,
            item_jobs: 3,
        };
        let worked = store
            .work_jobs(ANALYSE, 10, once, |jobs| {
                jobs.iter().map(|_| Err("refused".to_string())).collect()
            })
            .unwrap();
        assert_eq!((worked.claimed, worked.items_forgotten), (1, 1));
        let etag = || store.feed(feed).unwrap().unwrap().etag;
        assert_eq!(etag(), None, "forgetting the item forgets the validators");
        store
            .record_feed_success(feed, &polled("e2", Some(in_flight)))
            .unwrap();
        assert_eq!(etag(), None, "the poll in flight kept its validators");
        // The next poll claims the feed after the forgetting: its validators are kept.
        let next = claim(10);
        assert_ne!(next, in_flight);
        store
            .record_feed_success(feed, &polled("e3", Some(next)))
            .unwrap();
        assert_eq!(etag().as_deref(), Some("e3"));
    }

    #[test]
    fn a_job_that_keeps_failing_is_given_up_and_its_batch_placed_without_it() {
        let Some(cluster) = Cluster::start() else {
            return;
        };
        let db = PathBuf::from(cluster.url());
        let queue = Store::open(&db).unwrap();
        let mut payloads: Vec<Vec<u8>> = seeds()
            .into_iter()
            .map(|r| serde_json::to_vec(&r.unwrap()).unwrap())
            .collect();
        payloads.insert(2, b"no record".to_vec());
        queue.enqueue_jobs(ANALYSE, &payloads).unwrap();

        let never = AtomicBool::new(false);
        let mut events = Vec::new();
        let report = run_worker(&db, &until_idle(), &never, |e| {
            events.push(format!("{e:?}"))
        })
        .unwrap();
        assert_eq!(report.failed_attempts, 3, "tried three times, no more");
        assert_eq!(report.analysed, 5);
        assert_eq!((report.ingest.stored, report.batches_placed), (5, 1));
        assert!(report.clusterer, "the only worker clusters");
        assert_eq!(events.first().map(String::as_str), Some("Clustering"));
        assert_eq!(report.ingest.errors.len(), 1, "{:?}", report.ingest.errors);
        assert!(report.ingest.errors[0].contains("not a queued record"));
        let counts = queue.job_counts(ANALYSE).unwrap();
        assert_eq!((counts.queued, counts.done, counts.failed), (0, 0, 1));
        assert_eq!(queue.counts().unwrap().articles, 5);
    }

    #[test]
    fn a_batch_another_writer_got_ahead_of_is_placed_again_after_it() {
        let Some(cluster) = Cluster::start() else {
            return;
        };
        let db = PathBuf::from(cluster.url());
        let queue = Store::open(&db).unwrap();
        let mut records = seeds();
        let direct = records.split_off(3);
        enqueue(&queue, records, &PipelineConfig::default()).unwrap();

        // Right after the clusterer is restored, another writer (an `ingest`) commits: the
        // clusterer's first commit is refused, and it must restore and place again.
        let mut direct = Some(direct);
        let never = AtomicBool::new(false);
        let report = run_worker(&db, &until_idle(), &never, |e| {
            if let (WorkerEvent::Clustering, Some(direct)) = (e, direct.take()) {
                let stored = crate::pipeline::Pipeline::open(&db, PipelineConfig::default())
                    .unwrap()
                    .ingest(direct, |_| {})
                    .unwrap()
                    .stored;
                assert_eq!(stored, 2);
            }
        })
        .unwrap();
        assert!(direct.is_none(), "the other writer ran");
        assert_eq!((report.ingest.stored, report.batches_placed), (3, 1));
        assert_eq!(queue.counts().unwrap().articles, 5);
        assert!(queue.job_counts(ANALYSE).unwrap().idle());
    }

    #[test]
    fn a_read_storys_report_outdated_by_a_batch_is_made_again_by_a_refresh_job() {
        let Some(cluster) = Cluster::start() else {
            return;
        };
        let db = PathBuf::from(cluster.url());
        let queue = Store::open(&db).unwrap();
        let mut records = seeds();
        let later = records.split_off(3);
        let config = PipelineConfig::default();
        enqueue(&queue, records, &config).unwrap();
        let never = AtomicBool::new(false);
        let first = run_worker(&db, &until_idle(), &never, |_| {}).unwrap();
        assert_eq!(first.reports_refreshed, 0, "no report was stored yet");

        // A reader stores the story's report; the next articles (the seeds are one story)
        // outdate it, and a worker makes it again.
        let story = queue.stories(10, 0).unwrap()[0].id;
        let (read_at, _) = crate::report::story_report_at(&queue, story).unwrap();
        enqueue(&queue, later, &config).unwrap();
        let second = run_worker(&db, &until_idle(), &never, |_| {}).unwrap();
        let now = crate::report::story_revision(&queue, story).unwrap();
        assert!(now > read_at, "the new articles joined the story");
        assert_eq!(second.reports_refreshed, 1, "{second:?}");
        let stored = crate::report::last_report(&queue, story).unwrap().unwrap();
        assert_eq!(stored.revision, now, "the stored report is current");
        assert!(queue.stale_reports(&[story]).unwrap().is_empty());
        let jobs = queue.job_counts(REFRESH_REPORT).unwrap();
        assert_eq!((jobs.queued, jobs.done, jobs.failed), (0, 0, 0));
    }

    #[test]
    fn a_sqlite_store_is_refused_before_it_is_created() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let never = AtomicBool::new(false);
        let err = run_worker(&db, &until_idle(), &never, |_| {}).unwrap_err();
        assert!(
            err.to_string().contains("needs a PostgreSQL store"),
            "{err}"
        );
        assert!(!db.exists());
    }
}
