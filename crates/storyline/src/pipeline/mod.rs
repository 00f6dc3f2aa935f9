//! The one place that knows the order of the stages:
//! read → normalize → dedup → cluster → extract → store.
//!
//! Records arrive in batches. The pure work of a batch (cleaning, sentences, terms, entities,
//! signatures) runs in parallel; dedup and clustering then take the articles one at a time in
//! date order; the batch and the clusterer's changes are committed in one transaction, on a
//! writer thread of its own, while the next batch is clustered.

mod analysis;
mod placement;
#[cfg(test)]
mod tests;
mod threads;
mod worker;

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::ClusterConfig;
use crate::embed::Embedder;
use crate::error::{IngestError, Result};
use crate::ingest::Record;
use crate::normalize::Stemmer;
use crate::store::{NewArticle, Store};

use analysis::analyze;
pub use analysis::embed_text;
use placement::{AnalysedBatch, PlacedBatch, Placer};
pub(crate) use threads::lower_this_thread_priority;
use threads::{analysis_pool, join_stage, spawn_stage, thread_cpu_seconds};
pub use worker::{
    enqueue, enqueue_feed_items, needs_postgres, run_worker, EnqueueReport, WorkerConfig,
    WorkerEvent, WorkerReport,
};

#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    pub cluster: ClusterConfig,
    /// Articles per transaction: large enough to amortise commits, small enough that a crash
    /// loses little work and progress stays visible.
    pub batch_size: usize,
    /// Recent articles the near-duplicate index remembers.
    pub dedup_capacity: usize,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            cluster: ClusterConfig::default(),
            batch_size: 500,
            dedup_capacity: 100_000,
        }
    }
}

/// What an ingest run did; also the body of `POST /api/ingest`'s answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Records read, good or bad.
    pub read: usize,
    /// New articles stored.
    pub stored: usize,
    /// Articles whose id was stored already (by an earlier run or earlier in this one).
    pub already_stored: usize,
    /// Stored articles that are near-duplicates of an earlier article.
    pub copies: usize,
    pub new_events: usize,
    pub new_stories: usize,
    /// Bad records, each naming its file (`request` for an API body) and line; they were
    /// skipped.
    pub errors: Vec<String>,
    /// Records kept despite a problem (e.g. an unreadable date).
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// Of `seconds`, the time spent assigning articles to events and stories.
    pub cluster_seconds: f64,
    /// Of `seconds`, the time spent computing sentence embeddings (0 without a model).
    pub embed_seconds: f64,
    /// CPU seconds of the placer stage (dedup lookups, clustering), which runs on one thread:
    /// with [`IngestReport::write_cpu_seconds`] it shows which sequential stage bounds a run.
    pub place_cpu_seconds: f64,
    /// CPU seconds of the writer stage (the store's inserts, indexes and commits).
    pub write_cpu_seconds: f64,
}

impl IngestReport {
    /// Adds what another part counted (the placer's share of a run, a poll's next round).
    /// `seconds` is left to the caller: parts of one run overlap in time.
    pub fn absorb(&mut self, other: IngestReport) {
        self.read += other.read;
        self.stored += other.stored;
        self.already_stored += other.already_stored;
        self.copies += other.copies;
        self.new_events += other.new_events;
        self.new_stories += other.new_stories;
        self.errors.extend(other.errors);
        self.warnings.extend(other.warnings);
        self.cluster_seconds += other.cluster_seconds;
        self.embed_seconds += other.embed_seconds;
        self.place_cpu_seconds += other.place_cpu_seconds;
        self.write_cpu_seconds += other.write_cpu_seconds;
    }
}

/// Up to `batch_size` good records from `records`; the bad ones go to the report's errors.
/// Empty when the input has ended.
fn next_batch(
    records: &mut impl Iterator<Item = std::result::Result<Record, IngestError>>,
    batch_size: usize,
    report: &mut IngestReport,
) -> Vec<Record> {
    let mut batch = Vec::with_capacity(batch_size);
    for item in records {
        report.read += 1;
        match item {
            Ok(mut r) => {
                for w in &mut r.warnings {
                    *w = format!("{}: {w}", r.origin);
                }
                batch.push(r);
            }
            Err(e) => report.errors.push(e.to_string()),
        }
        if batch.len() >= batch_size {
            break;
        }
    }
    batch
}

/// Log bytes after which the writer checkpoints itself during an ingest: only if the
/// checkpoint thread falls this far behind.
const WRITER_CHECKPOINT_BYTES: u64 = 64 << 20;

/// Commits between checkpoints during an ingest. Each batch rewrites the same hot pages
/// (index interiors, the events and stories it changed, the search index's newest
/// segments); a checkpoint after every commit copied them into the file each time. The
/// checkpointer took about 4.5 % of ingest CPU so, and 2.7 % with one every fourth commit
/// (`perf record` of `bench ingest --articles 20000`). Four batches of full articles stay
/// well under the writer's own threshold (`WRITER_CHECKPOINT_BYTES`).
const BATCHES_PER_CHECKPOINT: usize = 4;

/// Progress after each committed batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub read: usize,
    pub stored: usize,
}

pub struct Pipeline {
    placer: Placer,
    /// The write connection. During an ingest it lives on the writer thread.
    store: Store,
    /// A second connection to the store, for asking which ids are stored already while
    /// the writer's connection writes (WAL lets the two run side by side).
    lookup: Store,
    /// A connection that copies the write-ahead log into the database file while the
    /// writer goes on (see `ingest`).
    checkpointer: Store,
    batch_size: usize,
    /// Threads for the parallel analysis stage, at a lower priority (see `analysis_pool`).
    analysis: rayon::ThreadPool,
}

impl Pipeline {
    /// Opens (or creates) the store and restores the clustering and dedup state from it.
    pub fn open(db: &Path, config: PipelineConfig) -> Result<Pipeline> {
        let store = Store::open(db)?;
        Ok(Pipeline {
            placer: Placer::restore(&store, &config)?,
            store,
            lookup: Store::open(db)?,
            checkpointer: Store::open(db)?,
            batch_size: config.batch_size.max(1),
            analysis: analysis_pool()?,
        })
    }

    /// Adds sentence embeddings as a clustering signal. Use the same model for every run
    /// on a store: stored event embeddings are compared with new ones.
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Pipeline {
        self.placer.embedder = Some(embedder);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Events the clusterer holds in memory now.
    pub fn n_live_events(&self) -> usize {
        self.placer.clusterer.n_live_events()
    }

    pub fn n_live_stories(&self) -> usize {
        self.placer.clusterer.n_live_stories()
    }

    /// Terms the clusterer keeps a document frequency for.
    pub fn n_terms(&self) -> usize {
        self.placer.clusterer.vocab().len()
    }

    /// Ingests records until the iterator ends. Bad records are reported and skipped; an
    /// error is returned only when the store itself fails (then the current batch is rolled
    /// back and everything committed before it stays).
    pub fn ingest<I>(
        &mut self,
        records: I,
        mut progress: impl FnMut(Progress),
    ) -> Result<IngestReport>
    where
        I: IntoIterator<Item = std::result::Result<Record, IngestError>>,
    {
        let started = Instant::now();
        let mut report = IngestReport::default();
        let mut records = records.into_iter();
        let stemmer = Stemmer::english();
        let Pipeline {
            placer,
            store,
            lookup,
            checkpointer,
            batch_size,
            analysis,
        } = self;
        let batch_size = *batch_size;
        // Everything before this run is committed: number the rows from the store.
        placer.start_ingest(store.next_article_id()?);
        let committed = AtomicUsize::new(0);
        let committed_batches = AtomicUsize::new(0);
        // Three sequential stages on their own threads, joined by queues one batch deep:
        // this thread reads batch N+2 and analyses it on the analysis pool, the placer
        // clusters batch N+1, and the writer commits batch N (clustering and the store are
        // sequential by nature). No stage waits for another to finish its batch unless its
        // queue is full or empty: a lockstep of reading and placing left a core idle
        // whenever one of the two ran long. Reading never holds a batch back: if the input
        // pauses (a pipe), the batches read before are placed and committed meanwhile.
        let (to_writer, placed_batches) = mpsc::sync_channel::<PlacedBatch>(1);
        let (to_placer, analysed_batches) = mpsc::sync_channel::<AnalysedBatch>(1);
        // Checkpoints run on a thread of their own: on the writer's, the syncs of each
        // checkpoint stalled the whole pipeline, and a batch of full articles fills the
        // log's default 1,000 pages, so that was nearly every commit. The writer's own
        // threshold stays as a backstop should the checkpointer fall behind.
        store.set_auto_checkpoint(Some(WRITER_CHECKPOINT_BYTES))?;
        let (to_checkpointer, commits) = mpsc::sync_channel::<()>(1);
        let ingested = std::thread::scope(|outer| {
            let checkpoints = spawn_stage(outer, "checkpoint", move || -> Result<()> {
                for () in commits {
                    checkpointer.checkpoint()?;
                }
                // The writer has stopped: leave the database file up to date.
                checkpointer.checkpoint()
            })?;
            let writer = spawn_stage(outer, "writer", || -> Result<f64> {
                // Owned here, so the checkpointer stops when the writer does.
                let to_checkpointer = to_checkpointer;
                let cpu_at_start = thread_cpu_seconds();
                let mut written_batches = 0usize;
                // Stored story reports of the stories each batch changed are made again
                // behind the writer (crate::report); dropped at the end, it finishes them.
                let reports = crate::report::Refresher::start(store.path())?;
                for batch in placed_batches {
                    let n = batch.rows.len();
                    write_batch(store, &batch)?;
                    reports.touched(batch.changes.stories.iter().map(|s| s.id).collect());
                    committed.fetch_add(n, Ordering::Release);
                    committed_batches.fetch_add(1, Ordering::Release);
                    // Full means a checkpoint is asked for already; gone means the
                    // checkpointer failed, which joining it reports.
                    written_batches += 1;
                    if written_batches % BATCHES_PER_CHECKPOINT == 0 {
                        let _ = to_checkpointer.try_send(());
                    }
                }
                Ok(thread_cpu_seconds() - cpu_at_start)
            })?;
            let placer = spawn_stage(outer, "placer", move || -> Result<IngestReport> {
                let cpu_at_start = thread_cpu_seconds();
                let mut placed = IngestReport::default();
                for batch in analysed_batches {
                    let batch = placer.place(batch, &mut placed)?;
                    if to_writer.send(batch).is_err() {
                        break; // the writer failed; its error is the one to report
                    }
                }
                placed.place_cpu_seconds += thread_cpu_seconds() - cpu_at_start;
                Ok(placed)
            });
            // This thread reads and analyses until the input ends or the placer hangs up.
            let read = if placer.is_ok() {
                loop {
                    let batch = next_batch(&mut records, batch_size, &mut report);
                    if batch.is_empty() {
                        break Ok(());
                    }
                    // Read before the lookup, so the lookup sees at least these batches.
                    let committed_before = committed_batches.load(Ordering::Acquire);
                    let fresh =
                        match not_stored(lookup, batch, |r| r.article.id.as_str(), &mut report) {
                            Ok(fresh) => fresh,
                            Err(e) => break Err(e),
                        };
                    let analysed = analysis.install(|| {
                        fresh
                            .into_par_iter()
                            .map(|r| analyze(r, &stemmer))
                            .collect::<Vec<_>>()
                    });
                    let batch = AnalysedBatch {
                        committed_before,
                        articles: analysed,
                    };
                    if to_placer.send(batch).is_err() {
                        // The placer stopped on an error; joining it reports that.
                        break Ok(());
                    }
                    progress(Progress {
                        read: report.read,
                        stored: committed.load(Ordering::Acquire),
                    });
                }
            } else {
                Ok(())
            };
            // No more batches: the placer places what it holds, hands it on and stops, and
            // with its sender gone the writer commits what it holds and stops.
            drop(to_placer);
            let placed = placer.map(join_stage);
            let written = join_stage(writer);
            let checkpointed = join_stage(checkpoints);
            report.write_cpu_seconds += written?;
            report.absorb(placed??);
            checkpointed?;
            read
        });
        // SQLite's own threshold, for whatever the connection does next.
        store.set_auto_checkpoint(None)?;
        ingested?;
        progress(Progress {
            read: report.read,
            stored: committed.load(Ordering::Acquire),
        });
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
}

/// Commits one placed batch in one transaction.
fn write_batch(store: &mut Store, batch: &PlacedBatch) -> Result<()> {
    store.commit_batch(
        &new_articles(batch),
        &batch.changes,
        batch.seq_before,
        batch.seq_after,
        batch.clock,
    )
}

/// A placed batch's rows as the store takes them.
fn new_articles(batch: &PlacedBatch) -> Vec<NewArticle<'_>> {
    batch
        .rows
        .iter()
        .map(|p| {
            let a = &p.analyzed;
            NewArticle {
                row_id: p.row_id,
                article: &a.record.article,
                origin: a.record.origin.to_string(),
                fingerprint: a.fingerprint,
                signature: a.signature.as_ref(),
                duplicate_of: p.duplicate_of,
                event: p.event,
                seq: p.seq,
                sentences: &a.sentences,
                mentions: &a.mentions,
                clauses: a.clauses.as_deref(),
            }
        })
        .collect()
}

/// The items of a batch whose article is not stored yet, so that a re-run analyses (and
/// the worker's clusterer places) only what is new. Drops ids stored before or seen earlier
/// in the batch, counting each as already stored.
pub(super) fn not_stored<T>(
    lookup: &Store,
    batch: Vec<T>,
    id: impl Fn(&T) -> &str,
    report: &mut IngestReport,
) -> Result<Vec<T>> {
    let ids: Vec<&str> = batch.iter().map(&id).collect();
    let stored = lookup.existing_ids(&ids)?;
    let mut seen = HashSet::new();
    Ok(batch
        .into_iter()
        .filter(|item| {
            let new = !stored.contains(id(item)) && seen.insert(id(item).to_string());
            if !new {
                report.already_stored += 1;
            }
            new
        })
        .collect())
}
