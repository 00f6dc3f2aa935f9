//! The one place that knows the order of the stages:
//! read → normalize → dedup → cluster → extract → store.
//!
//! Records arrive in batches. The pure work of a batch (cleaning, sentences, terms, entities,
//! signatures) runs in parallel; dedup and clustering then take the articles one at a time in
//! date order; the batch and the clusterer's changes are committed in one transaction.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::cluster::{ArticleFeatures, ClusterConfig, Clusterer, TermBag};
use crate::core::{Article, ArticleId, EntityKind, EventId, Sentence};
use crate::dedup::{DedupIndex, Signature};
use crate::embed::Embedder;
use crate::error::{IngestError, Result};
use crate::extract::{canonical_entities, mentions, Mention};
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
    }
}

/// Progress after each committed batch.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub read: usize,
    pub stored: usize,
}

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
    /// A second connection to the store, for asking which ids are stored already while
    /// the placer's connection writes (WAL lets the two run side by side).
    lookup: Store,
    batch_size: usize,
}

/// The sequential part: dedup, clustering and the store's writes.
struct Placer {
    store: Store,
    clusterer: Clusterer,
    dedup: DedupIndex,
    embedder: Option<Arc<dyn Embedder>>,
}

/// Characters of an article given to the embedder: the model reads at most 256 tokens,
/// so tokenising more is wasted work.
const EMBED_CHARS: usize = 1500;

impl Pipeline {
    /// Opens (or creates) the store and restores the clustering and dedup state from it.
    pub fn open(db: &Path, config: PipelineConfig) -> Result<Pipeline> {
        let store = Store::open(db)?;
        let clusterer = store.restore_clusterer(config.cluster.clone())?;
        let mut dedup = DedupIndex::new(config.dedup_capacity);
        for (id, sig, original) in store.recent_signatures(config.dedup_capacity)? {
            dedup.insert(id, sig, original);
        }
        Ok(Pipeline {
            placer: Placer {
                store,
                clusterer,
                dedup,
                embedder: None,
            },
            lookup: Store::open(db)?,
            batch_size: config.batch_size.max(1),
        })
    }

    /// Adds sentence embeddings as a clustering signal. Use the same model for every run
    /// on a store: stored event embeddings are compared with new ones.
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Pipeline {
        self.placer.embedder = Some(embedder);
        self
    }

    pub fn store(&self) -> &Store {
        &self.placer.store
    }

    /// Events the clusterer holds in memory now.
    pub fn n_live_events(&self) -> usize {
        self.placer.clusterer.n_live_events()
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
        // Three stages overlap: while the placer clusters and commits one batch on its own
        // thread (clustering and the store are sequential by nature), this thread reads the
        // next batch and analyses it on the other cores. Reading never holds a batch back:
        // if the input pauses (a pipe), the batch read before is committed meanwhile.
        let mut analysed: Option<Vec<std::result::Result<Analyzed, IngestError>>> = None;
        loop {
            let placer = &mut self.placer;
            let lookup = &self.lookup;
            let batch_size = self.batch_size;
            let mut placed = IngestReport::default();
            let ready = analysed.take();
            let committing = ready.is_some();
            let (outcome, next, exhausted) = std::thread::scope(|scope| {
                let commit = ready.map(|batch| {
                    let placed = &mut placed;
                    scope.spawn(move || placer.place_and_commit(batch, placed))
                });
                let mut batch = Vec::with_capacity(batch_size);
                for item in records.by_ref() {
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
                let exhausted = batch.is_empty();
                let next = fresh_records(lookup, batch, &mut report).map(|fresh| {
                    fresh
                        .into_par_iter()
                        .map(|r| analyze(r, &stemmer))
                        .collect::<Vec<_>>()
                });
                let outcome = match commit.map(|h| h.join()) {
                    Some(Ok(result)) => result,
                    Some(Err(panic)) => std::panic::resume_unwind(panic),
                    None => Ok(()),
                };
                (outcome, next, exhausted)
            });
            report.absorb(placed);
            outcome?;
            if committing {
                progress(Progress {
                    read: report.read,
                    stored: report.stored,
                });
            }
            if exhausted {
                break;
            }
            analysed = Some(next?);
        }
        report.seconds = started.elapsed().as_secs_f64();
        Ok(report)
    }
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
    /// Clusters an analysed batch and commits it with the clusterer's changes, in one
    /// transaction.
    fn place_and_commit(
        &mut self,
        mut analyzed: Vec<std::result::Result<Analyzed, IngestError>>,
        report: &mut IngestReport,
    ) -> Result<()> {
        // Never store an article twice: the previous batch was still being committed when
        // this one was filtered, so look again.
        let ids: Vec<&str> = analyzed
            .iter()
            .filter_map(|a| a.as_ref().ok())
            .map(|a| a.record.article.id.as_str())
            .collect();
        let stored = self.store.existing_ids(&ids)?;
        if !stored.is_empty() {
            analyzed.retain(|a| match a {
                Ok(a) if stored.contains(&a.record.article.id) => {
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
        let mut batch_events: HashMap<ArticleId, EventId> = HashMap::new();
        let mut placed = Vec::with_capacity(good.len());
        let first_id = self.store.next_article_id()?;
        for (row_id, mut a) in (first_id..).zip(good) {
            let copy = a.signature.as_ref().and_then(|s| self.dedup.find(s));
            let duplicate_of = copy.map(|c| c.original);
            if let Some(orig) = duplicate_of {
                a.features.copy_of_event = match batch_events.get(&orig) {
                    Some(&e) => Some(e),
                    None => self.store.event_of(orig)?,
                };
            }
            let started = Instant::now();
            let assignment = self.clusterer.assign(&a.features);
            report.cluster_seconds += started.elapsed().as_secs_f64();
            if let Some(sig) = &a.signature {
                self.dedup
                    .insert(row_id, sig.clone(), duplicate_of.unwrap_or(row_id));
            }
            batch_events.insert(row_id, assignment.event);
            report.new_events += usize::from(assignment.new_event);
            report.new_stories += usize::from(assignment.new_story);
            report.copies += usize::from(duplicate_of.is_some());
            placed.push((
                a,
                row_id,
                duplicate_of,
                assignment.event,
                self.clusterer.seq(),
            ));
        }
        let changes = self.clusterer.take_changes();
        let rows: Vec<NewArticle<'_>> = placed
            .iter()
            .map(|(a, row_id, duplicate_of, event, seq)| NewArticle {
                row_id: *row_id,
                article: &a.record.article,
                origin: a.record.origin.to_string(),
                fingerprint: a.fingerprint,
                signature: a.signature.as_ref(),
                duplicate_of: *duplicate_of,
                // An event of this batch may have merged into another since.
                event: changes.resolve_event(*event),
                seq: *seq,
                sentences: &a.sentences,
                mentions: &a.mentions,
            })
            .collect();
        self.store.commit_batch(
            &rows,
            &changes,
            seq_before,
            self.clusterer.seq(),
            self.clusterer.clock(),
        )?;
        report.stored += rows.len();
        Ok(())
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

/// The pure, per-article stages: clean, split, tokenise, find entities, sign.
fn analyze(mut record: Record, stemmer: &Stemmer) -> std::result::Result<Analyzed, IngestError> {
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
    let words: Vec<String> = normalize::words(&article.text).collect();
    let mut terms = normalize::content_terms_of(&words, stemmer);
    if let Some(title) = &article.title {
        if !article.text.starts_with(title.as_str()) {
            terms.extend(normalize::content_terms(title, stemmer));
        }
    }
    let entities = canonical_entities(found.iter().map(|m| (article.id.as_str(), m)))
        .into_iter()
        .filter(|e| e.kind != EntityKind::Other)
        .map(|e| e.name.to_lowercase())
        .collect();
    let signature = Signature::from_words(&words);
    let fingerprint = normalize::fingerprint_of(&words);
    let features = ArticleFeatures {
        terms: TermBag::new(terms),
        entities,
        time: article.published,
        years: normalize::years(lead(&article.text)),
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
