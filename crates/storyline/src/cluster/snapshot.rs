//! The clusterer's whole contract with the store: a [`Snapshot`] of its live state to
//! restore from, and a [`ChangeSet`] to write after each batch. Plain data with public
//! fields: the store encodes and decodes them without knowing how the clusterer works.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

use super::state::{EventSignals, EventState, StoryState};
use super::vector::{Centroid, TermId, Vocab, VocabChanges};
use crate::core::{EventId, StoryId};

/// A live event as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSnapshot {
    pub id: EventId,
    pub story: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    /// Centroid term weights (summed sublinear counts, without IDF), by term id.
    pub centroid: Vec<(TermId, f32)>,
    /// Mentions of each entity key in its articles (the most mentioned, when many).
    pub entities: HashMap<String, u32>,
    /// Order of the last update, for retiring the least recently active.
    pub last_seq: u64,
    /// Signals beyond terms and entities.
    pub signals: EventSignals,
    /// The centroid's IDF-weighted norm as the clusterer holds it: taken at its last
    /// update, under the IDF of then (0 when unknown: computed again under today's).
    pub centroid_norm: f32,
    /// Articles it held at its last merge check (0: never checked).
    pub merge_checked_at: u64,
}

/// A live story as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct StorySnapshot {
    pub id: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    pub n_events: u64,
    /// As [`EventSnapshot::centroid`].
    pub centroid: Vec<(TermId, f32)>,
    pub last_seq: u64,
    /// Sum of the members' TF-IDF norms when they joined (see [`EventSignals::norm_sum`]);
    /// 0 when unknown.
    pub norm_sum: f32,
    /// As [`EventSnapshot::centroid_norm`].
    pub centroid_norm: f32,
    /// As [`EventSnapshot::merge_checked_at`].
    pub merge_checked_at: u64,
    /// The terms the story is found under for candidate lookups, heaviest first when they
    /// were chosen (its last update); None when unknown: chosen again from the centroid.
    pub index_terms: Option<Vec<TermId>>,
}

/// What the clusterer restores itself from ([`super::Clusterer::restore`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// The remembered vocabulary: `(term id, term, document frequency, the sweep interval it
    /// was last counted in)`.
    pub terms: Vec<(TermId, String, u32, u32)>,
    /// Documents the vocabulary has counted.
    pub n_docs: u64,
    /// Sweeps of idle terms done, and the documents counted at the last (see
    /// [`Vocab::sweeps`]).
    pub sweeps: (u32, u64),
    pub events: Vec<EventSnapshot>,
    pub stories: Vec<StorySnapshot>,
    /// The ids the next new event and story get.
    pub next_event: EventId,
    pub next_story: StoryId,
    /// The newest publication time seen.
    pub clock: Option<DateTime<Utc>>,
    /// Articles assigned so far.
    pub seq: u64,
}

/// Everything that changed since the last [`super::Clusterer::take_changes`], for the store.
#[derive(Debug, Default)]
pub struct ChangeSet {
    pub terms: VocabChanges,
    pub n_docs: u64,
    /// As [`Snapshot::sweeps`], after this batch.
    pub sweeps: (u32, u64),
    /// Events and stories that changed, by id.
    pub events: Vec<EventSnapshot>,
    pub stories: Vec<StorySnapshot>,
    /// Events and stories leaving memory (already included above if they changed).
    pub retired_events: Vec<EventId>,
    pub retired_stories: Vec<StoryId>,
    /// Events merged into another `(from, into)`, in the order they happened: the store
    /// moves `from`'s articles to `into` and drops `from`.
    pub merged_events: Vec<(EventId, EventId)>,
    /// Stories merged into another `(from, into)`, in order.
    pub merged_stories: Vec<(StoryId, StoryId)>,
    /// The ids the next new event and story get (an event or story merged away leaves its
    /// id unused, so the highest stored id does not tell).
    pub next_event: EventId,
    pub next_story: StoryId,
}

impl ChangeSet {
    /// Where an event id of this batch ended up after the merges.
    pub fn resolve_event(&self, id: EventId) -> EventId {
        follow(&self.merged_events, id)
    }

    /// Where a story id of this batch ended up after the merges.
    pub fn resolve_story(&self, id: StoryId) -> StoryId {
        follow(&self.merged_stories, id)
    }
}

/// `id` moved along the merges `(from, into)`, in order.
fn follow<I: Copy + Eq>(merges: &[(I, I)], mut id: I) -> I {
    for &(from, into) in merges {
        if from == id {
            id = into;
        }
    }
    id
}

/// A centroid's weights by term id, as snapshots hold them (the order they are summed in
/// does not matter: see `vector::ExactSum`).
fn weights_by_id(c: &Centroid) -> Vec<(TermId, f32)> {
    let mut weights: Vec<(TermId, f32)> = c.weights().iter().map(|(&t, &w)| (t, w)).collect();
    weights.sort_unstable_by_key(|e| e.0);
    weights
}

impl EventState {
    pub(super) fn from_snapshot(s: EventSnapshot, vocab: &Vocab) -> EventState {
        EventState {
            id: s.id,
            story: s.story,
            first_time: s.first_time,
            last_time: s.last_time,
            n_articles: s.n_articles,
            centroid: Centroid::restore(s.centroid, s.centroid_norm, vocab),
            entities: s.entities,
            last_seq: s.last_seq,
            signals: s.signals,
            merge_checked_at: s.merge_checked_at,
        }
    }

    pub(super) fn snapshot(&self) -> EventSnapshot {
        EventSnapshot {
            id: self.id,
            story: self.story,
            first_time: self.first_time,
            last_time: self.last_time,
            n_articles: self.n_articles,
            centroid: weights_by_id(&self.centroid),
            entities: self.entities.clone(),
            last_seq: self.last_seq,
            signals: self.signals.clone(),
            centroid_norm: self.centroid.norm(),
            merge_checked_at: self.merge_checked_at,
        }
    }
}

impl StoryState {
    /// `norm_level` is derived later, by [`super::Clusterer::restore`].
    pub(super) fn from_snapshot(s: StorySnapshot, vocab: &Vocab) -> StoryState {
        StoryState {
            id: s.id,
            first_time: s.first_time,
            last_time: s.last_time,
            n_articles: s.n_articles,
            n_events: s.n_events,
            centroid: Centroid::restore(s.centroid, s.centroid_norm, vocab),
            last_seq: s.last_seq,
            norm_sum: s.norm_sum,
            norm_level: 0.0,
            merge_checked_at: s.merge_checked_at,
        }
    }

    /// With the terms the story is indexed under.
    pub(super) fn snapshot(&self, index_terms: Vec<TermId>) -> StorySnapshot {
        StorySnapshot {
            id: self.id,
            first_time: self.first_time,
            last_time: self.last_time,
            n_articles: self.n_articles,
            n_events: self.n_events,
            centroid: weights_by_id(&self.centroid),
            last_seq: self.last_seq,
            norm_sum: self.norm_sum,
            centroid_norm: self.centroid.norm(),
            merge_checked_at: self.merge_checked_at,
            index_terms: Some(index_terms),
        }
    }
}
