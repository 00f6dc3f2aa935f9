//! Online clustering: each article, in date order, joins the most similar live event or
//! starts one; each new event joins the most similar live story or starts one.
//!
//! The clusterer is the pipeline's stateful coordination point. It keeps only *live* events
//! and stories in memory (recently active ones), so its state grows with the news of the last
//! days, not with the archive. It does no I/O: the pipeline restores it from a [`Snapshot`]
//! the store reads and writes back the [`ChangeSet`] that [`Clusterer::take_changes`]
//! returns; those two plain types are the whole contract with the store. The clock is the
//! newest publication time seen, passed in with each article; undated articles do not move
//! it.
//!
//! Similarity is lexical by default (TF-IDF over a live vocabulary, plus shared entities and
//! time distance). Another signal, such as sentence embeddings, plugs in as an extra score in
//! [`ArticleFeatures`] without changing the flow.
//!
//! Modules: `config` (settings), `state` (live events and stories), `index` (candidate
//! lookups), `score` (similarity), `particulars` (names and figures a report gives),
//! `assign` (placing an article), `merge` (one merge for
//! events and stories), `retire` (what leaves memory), `changes` (change tracking) and
//! `snapshot` (the contract with the store).

mod assign;
mod changes;
#[cfg(test)]
pub(crate) mod compare;
mod config;
mod index;
mod merge;
mod particulars;
mod retire;
mod score;
mod snapshot;
mod state;
#[cfg(test)]
mod tests;
mod vector;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap as HashMap;

pub use config::{ClusterConfig, REFERENCE_TERMS};
pub use particulars::particulars;
pub use snapshot::{ChangeSet, EventSnapshot, Snapshot, StorySnapshot};
pub use state::EventSignals;
pub use vector::{
    term_key, ArticleVector, Centroid, StableMap, TermBag, TermCounter, TermId, Vocab, VocabChanges,
};

use crate::core::{EventId, StoryId};
use changes::Dirty;
use index::CandidateIndex;
use state::{estimated_norm_sum, EventState, StoryState};

/// What the clusterer needs to know about one article.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ArticleFeatures {
    /// Stemmed content terms with their counts.
    pub terms: TermBag,
    /// Canonical entity keys (lower-cased names).
    pub entities: Vec<String>,
    /// When it was published.
    pub time: Option<DateTime<Utc>>,
    /// An earlier day its lead names as when what it reports happened (see
    /// [`ClusterConfig::NAMED_DAY_MIN_HALF_LIFE_DAYS`] for when it stands in for `time`).
    pub happened: Option<DateTime<Utc>>,
    /// The event of the article this one copies, when dedup found one.
    pub copy_of_event: Option<EventId>,
    /// Years the text mentions (distinct).
    pub years: Vec<i32>,
    /// Numbers of the trips or rounds of a series its lead reports ("his seventh round of
    /// shuttle diplomacy": 7), distinct. Two reports numbering different trips of one
    /// series report two occurrences, however alike their words.
    #[serde(default)]
    pub series: Vec<u32>,
    /// Keys of its particulars, distinct and sorted: the content words of the names in
    /// `entities` and the figures it gives (see [`particulars`] and
    /// [`ClusterConfig::particulars_min_cosine`]).
    #[serde(default)]
    pub particulars: Vec<u64>,
    /// Keys ([`vector::term_key`]) of the stemmed terms of the people it names, without
    /// titles or words that head organisation and place names (distinct; see
    /// `extract::protagonist_words`): the terms that can be its protagonist. Keys, hashed in
    /// the parallel analysis stage like [`TermBag`]'s, so the clusterer only looks them up.
    pub name_keys: Vec<u64>,
    /// Keys ([`vector::term_key`]) of the acronyms the runs of two to four content words of
    /// its lead spell (see [`ClusterConfig::acronym_weight`]), distinct.
    #[serde(default)]
    pub acronyms: Vec<u64>,
    /// L2-normalised sentence embedding, when a model is configured.
    pub embedding: Option<Vec<f32>>,
}

/// Where an article went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    pub event: EventId,
    pub story: StoryId,
    pub new_event: bool,
    pub new_story: bool,
    pub similarity: f32,
}

pub struct Clusterer {
    config: ClusterConfig,
    vocab: Vocab,
    events: HashMap<EventId, EventState>,
    stories: HashMap<StoryId, StoryState>,
    index: CandidateIndex,
    next_event: EventId,
    next_story: StoryId,
    clock: Option<DateTime<Utc>>,
    seq: u64,
    /// What changed since the last [`Clusterer::take_changes`].
    dirty: Dirty,
    /// Where merged-away events went, so a copy of an article in one still finds it.
    redirect: HashMap<EventId, EventId>,
    /// Entity mention counts per live story, kept only when `story_entity_weight` uses
    /// them. Derived, not stored: rebuilt from the live events on restore.
    story_entities: HashMap<StoryId, StableMap<String, f32>>,
}

impl Clusterer {
    pub fn new(config: ClusterConfig) -> Clusterer {
        Clusterer::from_parts(
            config,
            Vocab::default(),
            Vec::new(),
            Vec::new(),
            EventId(1),
            StoryId(1),
            None,
            0,
        )
    }

    /// Rebuilds the clusterer from what the store kept of it.
    pub fn restore(config: ClusterConfig, snapshot: Snapshot) -> Clusterer {
        let vocab = Vocab::restore(snapshot.terms, snapshot.n_docs, snapshot.sweeps);
        let events = (snapshot.events.into_iter())
            .map(|e| EventState::from_snapshot(e, &vocab))
            .collect();
        let stories = (snapshot.stories.into_iter())
            .map(|mut s| {
                let index_terms = s.index_terms.take();
                (StoryState::from_snapshot(s, &vocab), index_terms)
            })
            .collect();
        Clusterer::from_parts(
            config,
            vocab,
            events,
            stories,
            snapshot.next_event,
            snapshot.next_story,
            snapshot.clock,
            snapshot.seq,
        )
    }

    /// A clusterer of these live events and stories (each with the terms it is indexed
    /// under, when known); derives what is not stored.
    #[allow(clippy::too_many_arguments)]
    fn from_parts(
        config: ClusterConfig,
        vocab: Vocab,
        events: Vec<EventState>,
        mut stories: Vec<(StoryState, Option<Vec<TermId>>)>,
        next_event: EventId,
        next_story: StoryId,
        clock: Option<DateTime<Utc>>,
        seq: u64,
    ) -> Clusterer {
        let mut c = Clusterer {
            config,
            vocab,
            events: HashMap::default(),
            stories: HashMap::default(),
            index: CandidateIndex::default(),
            next_event,
            next_story,
            clock,
            seq,
            dirty: Dirty::default(),
            redirect: HashMap::default(),
            story_entities: HashMap::default(),
        };
        for mut e in events {
            if e.signals.norm_sum == 0.0 && e.n_articles > 0 {
                e.signals.norm_sum = estimated_norm_sum(&e.centroid, e.n_articles);
            }
            if c.story_entities_used() {
                let ents = c.story_entities.entry(e.story).or_default();
                for (k, &n) in &e.entities {
                    *ents.entry(k.clone()).or_default() += n as f32;
                }
            }
            c.index.file_event(&e);
            c.events.insert(e.id, e);
        }
        for (s, _) in &mut stories {
            if s.norm_sum == 0.0 && s.n_articles > 0 {
                s.norm_sum = estimated_norm_sum(&s.centroid, s.n_articles);
            } else {
                // The sum was last updated with the article of sequence number `last_seq`,
                // when the vocabulary had counted as many documents (one per article).
                s.norm_level = Vocab::idf_level_at(s.last_seq.min(c.vocab.n_docs()));
            }
        }
        // A story is indexed under its top terms when it last changed (IDF moves on
        // meanwhile): under the stored ones, as the live clusterer had it; chosen again
        // only when not stored.
        for (s, terms) in stories {
            let id = s.id;
            c.stories.insert(id, s);
            match terms {
                Some(terms) => c.index.refile_story(id, terms),
                None => c.reindex_story(id),
            }
        }
        c
    }

    /// Story entity overlap costs a map per story and a scan per comparison; skip both
    /// when it carries no weight.
    fn story_entities_used(&self) -> bool {
        self.config.story_entity_weight != 0.0
    }

    /// Re-files story `id` under its current top terms (or drops it from the index when it
    /// is gone).
    fn reindex_story(&mut self, id: StoryId) {
        let terms = self
            .stories
            .get(&id)
            .map(|s| s.centroid.top_terms(index::STORY_INDEX_TERMS, &self.vocab))
            .unwrap_or_default();
        self.index.refile_story(id, terms);
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    pub fn clock(&self) -> Option<DateTime<Utc>> {
        self.clock
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn n_live_events(&self) -> usize {
        self.events.len()
    }

    pub fn n_live_stories(&self) -> usize {
        self.stories.len()
    }

    /// Follows merges: the live event an old id now lives in.
    pub fn resolve(&self, mut id: EventId) -> EventId {
        while let Some(&next) = self.redirect.get(&id) {
            id = next;
        }
        id
    }
}
