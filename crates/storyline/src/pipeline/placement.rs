//! The sequential part of an ingest: dedup and clustering, one article at a time in date
//! order.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use crate::cluster::{ChangeSet, Clusterer};
use crate::core::{ArticleId, EventId};
use crate::dedup::DedupIndex;
use crate::embed::Embedder;
use crate::error::Result;

use super::analysis::{embed_text, Analysis, Analyzed};
use super::{IngestReport, PipelineConfig};
use crate::store::Store;

/// The sequential part: dedup and clustering. The store's writes follow on their own
/// thread.
pub(super) struct Placer {
    pub(super) clusterer: Clusterer,
    pub(super) dedup: DedupIndex,
    pub(super) embedder: Option<Arc<dyn Embedder>>,
    /// Row id of the next article, taken from the store at the start of each ingest; the
    /// store's lags behind by the batches in flight.
    pub(super) next_row: ArticleId,
    /// Batches this ingest has handed to the writer.
    pub(super) batches_sent: usize,
    /// The ids of each batch handed to the writer that an incoming batch's filter may not
    /// have seen committed, by batch number (from 1, the writer's commit order).
    pub(super) recent_ids: VecDeque<(usize, HashSet<String>)>,
}

/// A batch after the parallel stages. Its ids were checked against the store once the
/// writer had committed `committed_before` batches of this ingest; the placer checks them
/// against the batches after that.
pub(super) struct AnalysedBatch {
    pub(super) committed_before: usize,
    pub(super) articles: Vec<Analysis>,
}

/// A placed article, waiting for its commit.
pub(super) struct Placed {
    pub(super) analyzed: Analyzed,
    pub(super) row_id: ArticleId,
    pub(super) duplicate_of: Option<ArticleId>,
    pub(super) event: EventId,
    pub(super) seq: u64,
}

/// A clustered batch and the clusterer's changes, for one transaction.
pub(super) struct PlacedBatch {
    pub(super) rows: Vec<Placed>,
    pub(super) changes: ChangeSet,
    pub(super) seq_before: u64,
    pub(super) seq_after: u64,
    pub(super) clock: Option<DateTime<Utc>>,
}

impl Placer {
    /// The clusterer and dedup index as the store last committed them.
    pub(super) fn restore(store: &Store, config: &PipelineConfig) -> Result<Placer> {
        let clusterer = Clusterer::restore(config.cluster.clone(), store.cluster_snapshot()?);
        let mut dedup = DedupIndex::new(config.dedup_capacity);
        for s in store.recent_signatures(config.dedup_capacity)? {
            dedup.insert(s.id, s.signature, s.original, s.original_event);
        }
        Ok(Placer {
            clusterer,
            dedup,
            embedder: None,
            next_row: ArticleId(0),
            batches_sent: 0,
            recent_ids: VecDeque::new(),
        })
    }

    /// Resets what one ingest tracks. Everything before it is committed, so rows are
    /// numbered from `next_row`, the store's next.
    pub(super) fn start_ingest(&mut self, next_row: ArticleId) {
        self.next_row = next_row;
        self.batches_sent = 0;
        self.recent_ids.clear();
    }

    /// Clusters an analysed batch; the result goes to the writer, which commits it with the
    /// clusterer's changes in one transaction.
    pub(super) fn place(
        &mut self,
        batch: AnalysedBatch,
        report: &mut IngestReport,
    ) -> Result<PlacedBatch> {
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
            // A worker with the model embedded its articles already (`worker.rs`).
            let mut missing: Vec<&mut Analyzed> = good
                .iter_mut()
                .filter(|a| a.features.embedding.is_none())
                .collect();
            report.embed_seconds += embed_all(embedder.as_ref(), &mut missing)?;
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
        for (row_id, mut a) in (first_id.0..).map(ArticleId).zip(good) {
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
        self.next_row = ArticleId(first_id.0 + placed.len() as i64);
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

/// Gives each article its sentence embedding (title and lead, `embed_text`), in one call to
/// the model; returns the seconds it took.
pub(super) fn embed_all(embedder: &dyn Embedder, articles: &mut [&mut Analyzed]) -> Result<f64> {
    if articles.is_empty() {
        return Ok(0.0);
    }
    let texts: Vec<String> = articles
        .iter()
        .map(|a| embed_text(&a.record.article))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let started = Instant::now();
    let vectors = embedder.embed(&refs)?;
    for (a, v) in articles.iter_mut().zip(vectors) {
        a.features.embedding = Some(v);
    }
    Ok(started.elapsed().as_secs_f64())
}
