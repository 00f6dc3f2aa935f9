//! The live state of the clusterer: a running summary of each event and story in memory.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde::{Deserialize, Serialize};

use super::particulars;
use super::vector::{Centroid, TermId};
use crate::core::{EventId, StoryId};

/// A live event's running state.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct EventState {
    pub id: EventId,
    pub story: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    pub centroid: Centroid,
    pub entities: HashMap<String, u32>,
    /// Order of the last update, for retiring the least recently active.
    pub last_seq: u64,
    /// Signals beyond terms and entities (persisted as one JSON value).
    pub signals: EventSignals,
    /// Articles it held at its last merge check, 0 before the first (see
    /// [`merge_check_due`](super::merge::merge_check_due)). Not stored: a restored event is checked on its next article.
    pub merge_checked_at: u64,
}

/// An event's years and summed embedding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventSignals {
    /// Articles mentioning each year.
    pub years: HashMap<i32, u32>,
    /// Articles whose lead numbers a trip or round in a series ("his sixth visit"), by
    /// number (see [`ArticleFeatures::series`](super::ArticleFeatures::series)).
    pub series: HashMap<u32, u32>,
    /// Sum of member embeddings (cosine against it needs only its norm).
    pub embedding: Option<Vec<f32>>,
    /// Sum of the members' TF-IDF norms when they joined: the centroid's dot product with
    /// an article, divided by it, estimates the article's mean cosine to the members.
    pub norm_sum: f32,
    /// [`Vocab::idf_level`](super::Vocab::idf_level) when `norm_sum` was last brought up to date; 0 when unknown
    /// (an event stored before it was kept: its sum is taken as current).
    pub norm_level: f32,
    /// The centroid's terms that a member named as part of a person's name (see
    /// [`ArticleFeatures::name_keys`](super::ArticleFeatures::name_keys)): the terms that can be
    /// the event's protagonist. None for an event stored
    /// before it was kept (then any term can). Only centroid terms, because a protagonist
    /// is one: with every name ever said, written with the event after each batch, ingest
    /// ran 10% slower at 100k articles.
    pub names: Option<HashSet<TermId>>,
    /// Members giving each particular (see
    /// [`ArticleFeatures::particulars`](super::ArticleFeatures::particulars)), the most
    /// given kept (see [`particulars::prune`]). None for an event stored before they were
    /// kept: judged on the members it has had since, it would turn its own reports away.
    pub particulars: Option<HashMap<u64, u32>>,
}

impl EventSignals {
    /// `norm_sum` under the IDF of `level` (see [`rescaled`]).
    pub(super) fn norm_sum_at(&self, level: f32) -> f32 {
        rescaled(self.norm_sum, self.norm_level, level)
    }

    pub(super) fn add(
        &mut self,
        (years, series): (&[i32], &[u32]),
        embedding: Option<&[f32]>,
        norm: f32,
        level: f32,
    ) {
        self.norm_sum = self.norm_sum_at(level) + norm;
        self.norm_level = level;
        for &y in years {
            *self.years.entry(y).or_default() += 1;
        }
        for &k in series {
            *self.series.entry(k).or_default() += 1;
        }
        if let Some(v) = embedding {
            match &mut self.embedding {
                Some(sum) if sum.len() == v.len() => {
                    for (s, x) in sum.iter_mut().zip(v) {
                        *s += x;
                    }
                }
                _ => self.embedding = Some(v.to_vec()),
            }
        }
    }

    pub(super) fn merge(&mut self, other: &EventSignals, level: f32) {
        self.norm_sum = self.norm_sum_at(level) + other.norm_sum_at(level);
        self.norm_level = level;
        for (&y, &n) in &other.years {
            *self.years.entry(y).or_default() += n;
        }
        for (&k, &n) in &other.series {
            *self.series.entry(k).or_default() += n;
        }
        match (&mut self.particulars, &other.particulars) {
            (Some(ours), Some(theirs)) => {
                for (&k, &n) in theirs {
                    *ours.entry(k).or_default() += n;
                }
                particulars::prune(ours);
            }
            // One side's particulars are unknown: so are the merged event's.
            _ => self.particulars = None,
        }
        match (&mut self.names, &other.names) {
            (Some(ours), Some(theirs)) => ours.extend(theirs),
            // One side's names are unknown: so are the merged event's.
            _ => self.names = None,
        }
        if let Some(v) = &other.embedding {
            self.add((&[], &[]), Some(v), 0.0, level);
        }
    }

    /// Notes the particulars a member gives.
    pub(super) fn add_particulars(&mut self, keys: &[u64]) {
        if let Some(ours) = &mut self.particulars {
            for &k in keys {
                *ours.entry(k).or_default() += 1;
            }
            particulars::prune(ours);
        }
    }

    /// Notes a member's names (term ids), those `centroid` holds.
    pub(super) fn add_names(&mut self, names: &[TermId], centroid: &Centroid) {
        if let Some(ours) = &mut self.names {
            ours.extend(names.iter().filter(|t| centroid.holds(**t)));
        }
    }

    /// Keeps the names to the terms `centroid` holds (after a merge).
    pub(super) fn keep_names_in(&mut self, centroid: &Centroid) {
        if let Some(names) = &mut self.names {
            names.retain(|t| centroid.holds(*t));
        }
    }
}

/// A sum of TF-IDF norms taken when the IDF scale stood at `then`, brought to the scale at
/// `now` (see [`Vocab::idf_level`](super::Vocab::idf_level)); as it is when `then` is unknown (0).
///
/// Every IDF rises with the log of the documents seen, so a norm taken early in a stream is
/// small beside today's: the first articles of a stream joined when every IDF was near 1,
/// and their summed norms, never updated, made the mean-cosine estimate (dot ÷ summed
/// norms) of early events far too high: on NewsWCL50 the first report of Kim's end to
/// nuclear tests scored 0.43 against the five reports of Pompeo's trip (about 0.23 computed
/// pair by pair) and joined them. The level is the IDF of a term only one document has had:
/// when an article is counted, most of its norm is such terms, and their IDF follows the
/// level as the stream grows (see the test `mean_cosine_of_an_early_event_follows_the_idf`).
fn rescaled(sum: f32, then: f32, now: f32) -> f32 {
    if then > 0.0 {
        sum * (now / then)
    } else {
        sum
    }
}

/// A live story's running state.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct StoryState {
    pub id: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    pub n_events: u64,
    pub centroid: Centroid,
    pub last_seq: u64,
    /// Sum of the members' TF-IDF norms when they joined (see [`EventSignals::norm_sum`]).
    pub norm_sum: f32,
    /// As [`EventSignals::norm_level`]. Not stored: [`Clusterer::restore`](super::Clusterer::restore) derives it from
    /// `last_seq` (each article counts one document).
    pub norm_level: f32,
    /// As [`EventState::merge_checked_at`].
    pub merge_checked_at: u64,
}

impl StoryState {
    /// `norm_sum` under the IDF of `level` (see [`rescaled`]).
    pub(super) fn norm_sum_at(&self, level: f32) -> f32 {
        rescaled(self.norm_sum, self.norm_level, level)
    }
}

/// An estimate of the members' summed norms for a cluster stored before they were kept:
/// between identical members (the norm of the sum) and orthogonal ones (that times sqrt(n)).
pub(super) fn estimated_norm_sum(centroid: &Centroid, n_articles: u64) -> f32 {
    centroid.norm() * (n_articles as f32).sqrt()
}

/// Entities an event keeps: its most mentioned. A large event on a long stream gathered
/// thousands of passing names, and comparing those maps became a fifth of ingest time.
pub(super) const MAX_EVENT_ENTITIES: usize = 100;

/// Keeps an event's `MAX_EVENT_ENTITIES` most mentioned entities once it holds twice as
/// many (ties to the name, so every run keeps the same); returns the names dropped.
pub(super) fn prune_entities(entities: &mut HashMap<String, u32>) -> Vec<String> {
    if entities.len() <= MAX_EVENT_ENTITIES * 2 {
        return Vec::new();
    }
    let mut items: Vec<(String, u32)> = entities.drain().collect();
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let dropped = items.split_off(MAX_EVENT_ENTITIES);
    entities.extend(items);
    dropped.into_iter().map(|(k, _)| k).collect()
}

/// First and last publication time of an event or story.
pub(super) type TimeSpan = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Two times combined by `pick` (the earlier or the later), or the one known.
pub(super) fn either_time(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
    pick: fn(DateTime<Utc>, DateTime<Utc>) -> DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(pick(x, y)),
        (x, y) => x.or(y),
    }
}
