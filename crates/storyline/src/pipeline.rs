//! The one place that knows the order of the stages:
//! read → normalize → dedup → cluster → extract → store.
//!
//! Records arrive in batches. The pure work of a batch (cleaning, sentences, terms, entities,
//! signatures) runs in parallel; dedup and clustering then take the articles one at a time in
//! date order; the batch and the clusterer's changes are committed in one transaction, on a
//! writer thread of its own, while the next batch is clustered.

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{term_key, ArticleFeatures, ChangeSet, ClusterConfig, Clusterer, TermCounter};
use crate::core::{Article, ArticleId, Entity, EntityKind, EventId, Sentence};
use crate::dedup::{DedupIndex, Signature};
use crate::embed::Embedder;
use crate::error::{Error, IngestError, Result};
use crate::extract::{canonical_entities, mentions, protagonist_words, Mention};
use crate::ingest::Record;
use crate::normalize::{self, Stemmer};
use crate::store::{NewArticle, Store};

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

/// What an ingest run did.
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
    /// Bad records, each naming its file and line; they were skipped.
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
    /// Adds what another stage counted (the placer's share of a run).
    fn absorb(&mut self, other: IngestReport) {
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

/// Starts a pipeline stage on a thread of `scope` named `storyline-{stage}`, so a profiler
/// or debugger shows the stages apart.
fn spawn_stage<'scope, 'env, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    stage: &'static str,
    f: impl FnOnce() -> T + Send + 'scope,
) -> Result<std::thread::ScopedJoinHandle<'scope, T>> {
    std::thread::Builder::new()
        .name(format!("storyline-{stage}"))
        .spawn_scoped(scope, f)
        .map_err(|source| Error::Thread { stage, source })
}

/// Waits for a stage's thread; a panic there is raised again here.
fn join_stage<T>(stage: std::thread::ScopedJoinHandle<'_, T>) -> T {
    match stage.join() {
        Ok(result) => result,
        Err(panic) => std::panic::resume_unwind(panic),
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

/// CPU time (user + system) the calling thread has used, in seconds; 0 where unsupported.
fn thread_cpu_seconds() -> f64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec; the call only fills it.
        if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } == 0 {
            return ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
        }
    }
    0.0
}

/// The analysis stage's threads, one per core, named, and at a lower scheduling priority
/// than the placer and writer. Those two are sequential and bound a run: with equal
/// priorities the scheduler gave the writer a third to a half of a core while it always had
/// work, the other stages ran ahead, blocked, and a core sat idle. Analysis is parallel and
/// a batch ahead, so yielding to them costs it nothing.
fn analysis_pool() -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .thread_name(|i| format!("storyline-analysis-{i}"))
        .start_handler(|_| lower_this_thread_priority())
        .build()
        .map_err(|e| Error::Thread {
            stage: "analysis",
            source: std::io::Error::other(e.to_string()),
        })
}

/// Raises the calling thread's nice value (Linux sets it per thread). Best effort: a
/// system that refuses only loses the ordering.
pub(crate) fn lower_this_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id; no memory is shared.
        unsafe {
            let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
            // Relative to the process's own niceness, so `nice storyline …` keeps the order.
            let now = libc::getpriority(libc::PRIO_PROCESS, tid);
            libc::setpriority(libc::PRIO_PROCESS, tid, (now + ANALYSIS_NICE).min(19));
        }
    }
}

/// How much nicer analysis threads are than the rest: at 10 the scheduler weighs a placer or
/// writer thread about nine times an analysis thread.
#[cfg(target_os = "linux")]
const ANALYSIS_NICE: libc::c_int = 10;

/// Log pages after which the writer checkpoints itself during an ingest: only if the
/// checkpoint thread falls this far behind (64 MiB of 4 KiB pages).
const WRITER_CHECKPOINT_PAGES: u32 = 16_384;

/// SQLite's own threshold, restored after an ingest for whatever the connection does next.
const DEFAULT_CHECKPOINT_PAGES: u32 = 1_000;

/// Progress after each committed batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub read: usize,
    pub stored: usize,
}

/// An article after the pure stages, or why it could not be analysed.
type Analysis = std::result::Result<Analyzed, IngestError>;

/// One article after the pure stages.
struct Analyzed {
    record: Record,
    sentences: Vec<Sentence>,
    mentions: Vec<Mention>,
    features: ArticleFeatures,
    signature: Option<Signature>,
    fingerprint: u64,
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

/// The sequential part: dedup and clustering. The store's writes follow on their own
/// thread.
struct Placer {
    clusterer: Clusterer,
    dedup: DedupIndex,
    embedder: Option<Arc<dyn Embedder>>,
    /// Row id of the next article, taken from the store at the start of each ingest; the
    /// store's lags behind by the batches in flight.
    next_row: ArticleId,
    /// Batches this ingest has handed to the writer.
    batches_sent: usize,
    /// The ids of each batch handed to the writer that an incoming batch's filter may not
    /// have seen committed, by batch number (from 1, the writer's commit order).
    recent_ids: VecDeque<(usize, HashSet<String>)>,
}

/// A batch after the parallel stages. Its ids were checked against the store once the
/// writer had committed `committed_before` batches of this ingest; the placer checks them
/// against the batches after that.
struct AnalysedBatch {
    committed_before: usize,
    articles: Vec<Analysis>,
}

/// A placed article, waiting for its commit.
struct Placed {
    analyzed: Analyzed,
    row_id: ArticleId,
    duplicate_of: Option<ArticleId>,
    event: EventId,
    seq: u64,
}

/// A clustered batch and the clusterer's changes, for one transaction.
struct PlacedBatch {
    rows: Vec<Placed>,
    changes: ChangeSet,
    seq_before: u64,
    seq_after: u64,
    clock: Option<DateTime<Utc>>,
}

/// Characters of an article given to the embedder: the model reads at most 256 tokens,
/// so tokenising more is wasted work.
const EMBED_CHARS: usize = 1500;

impl Pipeline {
    /// Opens (or creates) the store and restores the clustering and dedup state from it.
    pub fn open(db: &Path, config: PipelineConfig) -> Result<Pipeline> {
        let store = Store::open(db)?;
        let clusterer = Clusterer::restore(config.cluster.clone(), store.cluster_snapshot()?);
        let mut dedup = DedupIndex::new(config.dedup_capacity);
        for s in store.recent_signatures(config.dedup_capacity)? {
            dedup.insert(s.id, s.signature, s.original, s.original_event);
        }
        Ok(Pipeline {
            placer: Placer {
                clusterer,
                dedup,
                embedder: None,
                next_row: 0,
                batches_sent: 0,
                recent_ids: VecDeque::new(),
            },
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
        store.set_auto_checkpoint(WRITER_CHECKPOINT_PAGES)?;
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
                    let _ = to_checkpointer.try_send(());
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
                    let fresh = match fresh_records(lookup, batch, &mut report) {
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
        store.set_auto_checkpoint(DEFAULT_CHECKPOINT_PAGES)?;
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
    let rows: Vec<NewArticle<'_>> = batch
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
            }
        })
        .collect();
    store.commit_batch(
        &rows,
        &batch.changes,
        batch.seq_before,
        batch.seq_after,
        batch.clock,
    )
}

/// The records of a batch not stored yet, so that a re-run analyses only what is new.
/// Drops ids stored before or seen earlier in the batch.
fn fresh_records(
    lookup: &Store,
    batch: Vec<Record>,
    report: &mut IngestReport,
) -> Result<Vec<Record>> {
    let ids: Vec<&str> = batch.iter().map(|r| r.article.id.as_str()).collect();
    let stored = lookup.existing_ids(&ids)?;
    let mut seen = HashSet::new();
    Ok(batch
        .into_iter()
        .filter(|r| {
            let new = !stored.contains(&r.article.id) && seen.insert(r.article.id.clone());
            if !new {
                report.already_stored += 1;
            }
            new
        })
        .collect())
}

impl Placer {
    /// Resets what one ingest tracks. Everything before it is committed, so rows are
    /// numbered from `next_row`, the store's next.
    fn start_ingest(&mut self, next_row: ArticleId) {
        self.next_row = next_row;
        self.batches_sent = 0;
        self.recent_ids.clear();
    }

    /// Clusters an analysed batch; the result goes to the writer, which commits it with the
    /// clusterer's changes in one transaction.
    fn place(&mut self, batch: AnalysedBatch, report: &mut IngestReport) -> Result<PlacedBatch> {
        let AnalysedBatch {
            committed_before,
            articles: mut analyzed,
        } = batch;
        // Never store an article twice: the store showed every batch up to
        // `committed_before` when this one was filtered; the ones placed since are here.
        // Later batches were filtered later, so what that filter saw is needed no more.
        while self
            .recent_ids
            .front()
            .is_some_and(|(n, _)| *n <= committed_before)
        {
            self.recent_ids.pop_front();
        }
        if !self.recent_ids.is_empty() {
            analyzed.retain(|a| match a {
                Ok(a)
                    if self
                        .recent_ids
                        .iter()
                        .any(|(_, ids)| ids.contains(&a.record.article.id)) =>
                {
                    report.already_stored += 1;
                    false
                }
                _ => true,
            });
        }
        let mut good = Vec::with_capacity(analyzed.len());
        for a in analyzed.drain(..) {
            match a {
                Ok(a) => {
                    report.warnings.extend(a.record.warnings.iter().cloned());
                    good.push(a)
                }
                Err(e) => report.errors.push(e.to_string()),
            }
        }
        if let Some(embedder) = &self.embedder {
            let texts: Vec<String> = good.iter().map(|a| embed_text(&a.record.article)).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let started = Instant::now();
            let vectors = embedder.embed(&refs)?;
            report.embed_seconds += started.elapsed().as_secs_f64();
            for (a, v) in good.iter_mut().zip(vectors) {
                a.features.embedding = Some(v);
            }
        }
        // Date order; undated articles after the dated ones, in input order.
        good.sort_by_key(|a| {
            (
                a.record.article.published.is_none(),
                a.record.article.published,
            )
        });

        let seq_before = self.clusterer.seq();
        let mut placed = Vec::with_capacity(good.len());
        let first_id = self.next_row;
        for (row_id, mut a) in (first_id..).zip(good) {
            let copy = a.signature.as_ref().and_then(|s| self.dedup.find(s));
            let duplicate_of = copy.map(|c| c.original);
            // The original's event when it was placed; the clusterer follows any merge since.
            a.features.copy_of_event = copy.map(|c| c.event);
            let started = Instant::now();
            let assignment = self.clusterer.assign(&a.features);
            report.cluster_seconds += started.elapsed().as_secs_f64();
            if let Some(sig) = &a.signature {
                let (original, original_event) =
                    copy.map_or((row_id, assignment.event), |c| (c.original, c.event));
                self.dedup
                    .insert(row_id, sig.clone(), original, original_event);
            }
            report.new_events += usize::from(assignment.new_event);
            report.new_stories += usize::from(assignment.new_story);
            report.copies += usize::from(duplicate_of.is_some());
            // The store needs none of the clustering features (terms, entities, embedding):
            // free them now rather than while the batch waits for the writer.
            drop(std::mem::take(&mut a.features));
            placed.push(Placed {
                analyzed: a,
                row_id,
                duplicate_of,
                event: assignment.event,
                seq: self.clusterer.seq(),
            });
        }
        self.next_row = first_id + placed.len() as ArticleId;
        let changes = self.clusterer.take_changes();
        for p in &mut placed {
            // An event of this batch may have merged into another since.
            p.event = changes.resolve_event(p.event);
        }
        self.batches_sent += 1;
        let ids = placed.iter().map(|p| p.analyzed.record.article.id.clone());
        self.recent_ids
            .push_back((self.batches_sent, ids.collect()));
        report.stored += placed.len();
        Ok(PlacedBatch {
            rows: placed,
            changes,
            seq_before,
            seq_after: self.clusterer.seq(),
            clock: self.clusterer.clock(),
        })
    }
}

/// Characters of the lead searched for years: a dateline or "on 21 July 2013" there dates
/// the event, while years further down are mostly background ("since 2005").
const YEAR_LEAD_CHARS: usize = 400;

fn lead(text: &str) -> &str {
    let end = text
        .char_indices()
        .nth(YEAR_LEAD_CHARS)
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// Title and lead of an article, as the embedder sees it.
fn embed_text(a: &Article) -> String {
    let mut out = String::new();
    if let Some(t) = &a.title {
        if !a.text.starts_with(t.as_str()) {
            out.push_str(t);
            out.push('\n');
        }
    }
    let end = a
        .text
        .char_indices()
        .nth(EMBED_CHARS)
        .map_or(a.text.len(), |(i, _)| i);
    out.push_str(&a.text[..end]);
    out
}

/// The pure, per-article stages: clean (an opening web address becomes the url), split,
/// tokenise, find entities, sign.
fn analyze(mut record: Record, stemmer: &Stemmer) -> std::result::Result<Analyzed, IngestError> {
    if let Some((address, rest)) = normalize::split_leading_web_address(&record.article.text) {
        record.article.text = rest.to_string();
        record.article.url.get_or_insert(address);
    }
    let mut cleaned = normalize::clean(&record.article.text);
    if cleaned.is_empty() {
        // All of it looked like page debris ("Share this on:"). Never lose an article: keep
        // the text as it came, and say so.
        cleaned = record
            .article
            .text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        record.warnings.push(format!(
            "{}: article {:?} looks like page debris only; kept as it is",
            record.origin, record.article.id
        ));
    }
    if cleaned.is_empty() {
        return Err(IngestError {
            location: record.origin.clone(),
            message: format!("article {:?} has no text", record.article.id),
        });
    }
    record.article.text = cleaned;
    let article: &Article = &record.article;
    let sentences = normalize::split_sentences(&article.text);
    let found = mentions(&article.text, &sentences);
    // One tokenisation serves the terms, the signature and the fingerprint.
    let list = normalize::WordList::of(&article.text);
    let words: Vec<&str> = list.words();
    let mut terms = TermCounter::default();
    normalize::for_each_content_term(&words, stemmer, |t| terms.add(t));
    if let Some(title) = &article.title {
        if !article.text.starts_with(title.as_str()) {
            normalize::for_each_content_term(normalize::words(title), stemmer, |t| terms.add(t));
        }
    }
    let named: Vec<Entity> = canonical_entities(found.iter().map(|m| (article.id.as_str(), m)))
        .into_iter()
        .filter(|e| e.kind != EntityKind::Other)
        .collect();
    let entities: Vec<String> = named.iter().map(|e| e.name.to_lowercase()).collect();
    let mut name_keys: Vec<u64> = Vec::new();
    let name_words = named
        .iter()
        .flat_map(protagonist_words)
        .flat_map(normalize::words);
    normalize::for_each_content_term(name_words, stemmer, |t| name_keys.push(term_key(t)));
    name_keys.sort_unstable();
    name_keys.dedup();
    let signature = Signature::from_words(&words);
    let fingerprint = normalize::fingerprint_of(&words);
    let features = ArticleFeatures {
        terms: terms.finish(),
        entities,
        time: article.published,
        years: normalize::years(lead(&article.text)),
        name_keys,
        ..ArticleFeatures::default()
    };
    Ok(Analyzed {
        sentences,
        mentions: found,
        features,
        signature,
        fingerprint,
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Location};
    use std::path::PathBuf;
    use std::time::Duration;

    fn record(id: &str, i: usize) -> std::result::Result<Record, IngestError> {
        let towns = ["Harwich", "Dover", "Tromso", "Bergen", "Kiel", "Aarhus"];
        let town = towns[i % towns.len()];
        Ok(Record {
            article: Article {
                id: id.to_string(),
                title: Some(format!("Ferry line {i} opens in {town}")),
                source: Some("Test Wire".into()),
                url: None,
                published: DateTime::from_timestamp(1_700_000_000 + 3600 * i as i64, 0),
                lang: Some("en".into()),
                text: format!(
                    "The ferry line number {i} opened in {town} on Monday after years of delay.\n\
                     Officials in {town} said the crossing would carry {i} thousand passengers \
                     a year and create jobs at the harbour."
                ),
            },
            origin: Location {
                path: PathBuf::from("test.jsonl"),
                line: Some(i + 1),
            },
            warnings: Vec::new(),
        })
    }

    fn config(batch_size: usize) -> PipelineConfig {
        PipelineConfig {
            batch_size,
            ..PipelineConfig::default()
        }
    }

    /// Every row `sql` returns from the store at `db`.
    fn rows<T>(
        db: &Path,
        sql: &str,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Vec<T> {
        let conn = rusqlite::Connection::open(db).unwrap();
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], row)
            .unwrap()
            .collect::<rusqlite::Result<Vec<T>>>()
            .unwrap();
        rows
    }

    fn stored_ids(db: &Path) -> Vec<String> {
        rows(db, "SELECT ext_id FROM articles ORDER BY id", |r| r.get(0))
    }

    #[test]
    fn a_pause_in_the_input_leaves_no_placed_batch_uncommitted() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let mut pipeline = Pipeline::open(&db, config(2)).unwrap();
        let (tx, rx) = mpsc::channel();
        let ingest = std::thread::spawn(move || pipeline.ingest(rx, |_| {}).map(|r| r.stored));
        // Two whole batches and part of a third, then the input pauses.
        for i in 0..5 {
            tx.send(record(&format!("a{i}"), i)).unwrap();
        }
        let waited = Instant::now();
        while stored_ids(&db).len() < 4 {
            assert!(
                waited.elapsed() < Duration::from_secs(20),
                "the batches read before a pause were never committed"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(stored_ids(&db).len(), 4, "whole batches only");
        tx.send(record("a5", 5)).unwrap();
        drop(tx);
        assert_eq!(ingest.join().unwrap().unwrap(), 6);
        assert_eq!(stored_ids(&db).len(), 6);
    }

    #[test]
    fn an_id_repeated_while_its_first_batch_is_in_flight_is_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let mut pipeline = Pipeline::open(&db, config(2)).unwrap();
        let ids = ["a", "b", "c", "a", "d", "b", "a", "e", "c", "f", "a", "g"];
        let records: Vec<_> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| record(id, i))
            .collect();
        let report = pipeline.ingest(records, |_| {}).unwrap();
        let mut stored = stored_ids(&db);
        assert_eq!(stored.len(), 7);
        assert_eq!(report.stored, 7);
        assert_eq!(report.already_stored, 5);
        stored.sort();
        stored.dedup();
        assert_eq!(stored.len(), 7, "each id once");
        // Every batch is in the search index, each article once.
        let hits = pipeline
            .store()
            .search("ferry", &crate::store::ArticleFilter::default(), 20, 0, 20)
            .unwrap();
        assert_eq!(hits.total, 7);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn analysis_threads_run_at_a_lower_priority_than_the_caller() {
        let nice = || {
            // SAFETY: reads the calling thread's own priority.
            unsafe {
                let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
                libc::getpriority(libc::PRIO_PROCESS, tid)
            }
        };
        let pool = analysis_pool().unwrap();
        let here = nice();
        let there = pool.install(|| (0..4).into_par_iter().map(|_| nice()).collect::<Vec<_>>());
        for n in there {
            assert_eq!(n, (here + ANALYSIS_NICE).min(19));
        }
    }

    #[test]
    fn document_frequencies_reopen_the_same_whether_folded_or_still_pending() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        // One article a batch: more batches than a fold takes, so the store holds folded
        // counts and pending increments both.
        let mut pipeline = Pipeline::open(&db, config(1)).unwrap();
        let records: Vec<_> = (0..45).map(|i| record(&format!("a{i}"), i)).collect();
        pipeline.ingest(records, |_| {}).unwrap();
        let conn = rusqlite::Connection::open(&db).unwrap();
        let pending: i64 = conn
            .query_row("SELECT count(*) FROM vocab_pending", [], |r| r.get(0))
            .unwrap();
        assert!((1..45).contains(&pending), "{pending} batches pending");
        let reopened = Pipeline::open(&db, config(1)).unwrap();
        let (live, restored) = (
            pipeline.placer.clusterer.vocab(),
            reopened.placer.clusterer.vocab(),
        );
        assert_eq!(restored.n_docs(), live.n_docs());
        assert_eq!(restored.len(), live.len());
        for id in 0..live.id_bound() as u32 {
            assert_eq!(restored.idf(id), live.idf(id), "term {id}");
        }
    }

    /// Articles each with names of their own (letters only, so each stays one term) and
    /// nothing else: each its own event and story.
    fn named_record(i: usize) -> std::result::Result<Record, IngestError> {
        let name: String = [i / 26 % 26, i % 26]
            .iter()
            .map(|&k| char::from(b'a' + k as u8))
            .collect();
        let mut r = record(&format!("n{i}"), i)?;
        r.article.text =
            format!("Vel{name}ski, Zor{name} and Kar{name}.\nVel{name}ski, Kar{name}.");
        r.article.title = None;
        Ok(r)
    }

    #[test]
    fn idle_terms_are_forgotten_their_ids_reused_and_the_store_reopens_the_same() {
        let forgetting = |sweep: u64| PipelineConfig {
            batch_size: 1,
            cluster: ClusterConfig {
                vocab_sweep_docs: sweep,
                vocab_idle_sweeps: 1,
                max_live_events: 1,
                max_live_stories: 1,
                ..ClusterConfig::default()
            },
            ..PipelineConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let records = || (0..80).map(named_record).collect::<Vec<_>>();
        let mut keeping = Pipeline::open(&dir.path().join("keep.db"), forgetting(0)).unwrap();
        keeping.ingest(records(), |_| {}).unwrap();
        let db = dir.path().join("forget.db");
        let mut pipeline = Pipeline::open(&db, forgetting(5)).unwrap();
        pipeline.ingest(records(), |_| {}).unwrap();

        let (all, live) = (
            keeping.placer.clusterer.vocab(),
            pipeline.placer.clusterer.vocab(),
        );
        assert_eq!(live.n_docs(), all.n_docs());
        // Three names an article: most are forgotten, and their ids handed out again.
        assert!(
            live.len() * 2 < all.len(),
            "{} of {}",
            live.len(),
            all.len()
        );
        assert!(
            live.id_bound() * 2 < all.len(),
            "ids up to {}",
            live.id_bound()
        );
        // The first article's names are gone from the store too; the last article's stay,
        // its event being live.
        let conn = rusqlite::Connection::open(&db).unwrap();
        let has = |term: &str| -> bool {
            conn.query_row("SELECT count(*) FROM vocab WHERE term = ?1", [term], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap()
                > 0
        };
        assert!(has("veldbski") && has("zordb"), "the last article's names");
        assert!(
            !has("velaaski") && !has("zoraa"),
            "the first article's names"
        );

        // Reused ids carry only their new term's counts, also after reopening (the old
        // term's pending increments were folded into its row before the row went).
        let reopened = Pipeline::open(&db, forgetting(5)).unwrap();
        let restored = reopened.placer.clusterer.vocab();
        assert_eq!(restored.len(), live.len());
        assert_eq!(restored.id_bound(), live.id_bound());
        for id in 0..live.id_bound() as u32 {
            assert_eq!(restored.idf(id), live.idf(id), "term {id}");
        }
    }

    /// `(external id, duplicate_of's external id, whether both are in one event)`.
    fn copies(db: &Path) -> Vec<(String, String, bool)> {
        rows(
            db,
            "SELECT c.ext_id, o.ext_id, c.event_id = o.event_id FROM articles c
             JOIN articles o ON o.id = c.duplicate_of ORDER BY c.id",
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    #[test]
    fn a_copy_joins_its_originals_event_from_the_same_batch_a_batch_before_or_a_run_before() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        // Batches of two: c0 copies a0 in its own batch, c1 copies a1 from the batch before.
        let first = [("a0", 0), ("c0", 0), ("a1", 1), ("a2", 2), ("c1", 1)];
        let mut pipeline = Pipeline::open(&db, config(2)).unwrap();
        let records: Vec<_> = first.iter().map(|(id, i)| record(id, *i)).collect();
        assert_eq!(pipeline.ingest(records, |_| {}).unwrap().copies, 2);
        drop(pipeline);
        // Reopened, the dedup index comes from the store: c2 copies a2 of the first run.
        let mut pipeline = Pipeline::open(&db, config(2)).unwrap();
        assert_eq!(
            pipeline.ingest([record("c2", 2)], |_| {}).unwrap().copies,
            1
        );
        let expected = [("c0", "a0"), ("c1", "a1"), ("c2", "a2")];
        let expected: Vec<(String, String, bool)> = expected
            .iter()
            .map(|(c, o)| (c.to_string(), o.to_string(), true))
            .collect();
        assert_eq!(copies(&db), expected);
    }

    #[test]
    fn an_opening_web_address_becomes_the_url_and_leaves_the_text() {
        // ECB+'s second-event articles open with their address, spelled out in tokens.
        let path = std::path::Path::new("../../../shared/data/cluster/ecbplus-dev/articles.jsonl");
        let stemmer = Stemmer::english();
        let (mut with, mut without) = (0, 0);
        for r in crate::ingest::read_path(path, None).take(60) {
            let r = r.unwrap();
            let opened_with_address = r.article.text.starts_with("http");
            let a = analyze(r, &stemmer).unwrap();
            let article = &a.record.article;
            assert!(!article.text.contains("http : / /"), "{}", article.id);
            assert!(a
                .sentences
                .iter()
                .all(|s| !article.text[s.span.start..s.span.end].starts_with("http")));
            if opened_with_address {
                with += 1;
                let url = article.url.as_deref().unwrap_or_default();
                assert!(url.starts_with("http://") && !url.contains(' '), "{url:?}");
            } else {
                without += 1;
                assert_eq!(article.url, None, "{}", article.id);
            }
        }
        assert!(
            with >= 20 && without >= 20,
            "{with} with, {without} without"
        );
    }

    #[test]
    fn a_store_error_rolls_back_its_batch_only_and_is_returned() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("s.db");
        let records = || {
            (0..10)
                .map(|i| record(&format!("a{i}"), i))
                .collect::<Vec<_>>()
        };
        let mut pipeline = Pipeline::open(&db, config(2)).unwrap();
        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch(
                "CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN new.ext_id = 'a5'
                 BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            )
            .unwrap();
        let err = pipeline.ingest(records(), |_| {});
        assert!(matches!(err, Err(Error::Store { .. })), "{:?}", err.err());
        // Batches [a0 a1] and [a2 a3] stay; [a4 a5] is rolled back; none after it is written.
        assert_eq!(stored_ids(&db), ["a0", "a1", "a2", "a3"]);
        drop(pipeline);

        rusqlite::Connection::open(&db)
            .unwrap()
            .execute_batch("DROP TRIGGER refuse;")
            .unwrap();
        let mut pipeline = Pipeline::open(&db, config(2)).unwrap();
        let report = pipeline.ingest(records(), |_| {}).unwrap();
        assert_eq!(report.already_stored, 4);
        assert_eq!(report.stored, 6);
        let mut stored = stored_ids(&db);
        stored.sort();
        let want: Vec<String> = (0..10).map(|i| format!("a{i}")).collect();
        assert_eq!(stored, want);
    }
}
