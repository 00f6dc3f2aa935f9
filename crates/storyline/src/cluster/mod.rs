//! Online clustering: each article, in date order, joins the most similar live event or
//! starts one; each new event joins the most similar live story or starts one.
//!
//! The clusterer is the pipeline's stateful coordination point. It keeps only *live* events
//! and stories in memory (recently active ones), so its state grows with the news of the last
//! days, not with the archive. It does no I/O: the pipeline restores it from the store and
//! writes back what [`Clusterer::take_changes`] returns. The clock is the newest publication
//! time seen, passed in with each article; undated articles do not move it.
//!
//! Similarity is lexical by default (TF-IDF over a live vocabulary, plus shared entities and
//! time distance). Another signal, such as sentence embeddings, plugs in as an extra score in
//! [`ArticleFeatures`] without changing the flow.

mod vector;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use vector::{
    term_key, tfidf_with_norm, Centroid, StableMap, TermBag, TermCounter, TermId, Vocab,
    VocabChanges,
};

use crate::core::{EventId, StoryId};

/// Settings of the clusterer. One default serves every data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClusterConfig {
    /// Minimum combined similarity for an article of [`REFERENCE_TERMS`] distinct terms to
    /// join an event.
    pub event_threshold: f32,
    /// Minimum similarity for a new event of [`REFERENCE_TERMS`] distinct terms to join a story.
    pub story_threshold: f32,
    /// How thresholds move with article length, per unit of ln(terms / REFERENCE_TERMS).
    /// A headline shares few words with any centroid even when it is on topic, so short
    /// texts need a lower bar than full articles.
    pub threshold_slope: f32,
    /// Bonus for shared entities (cosine of entity sets), added to the TF-IDF cosine.
    pub entity_weight: f32,
    /// An event takes no new articles this many days after its last one. With the time
    /// decay below, a day outside the span already cuts a score sevenfold, so a longer
    /// window kept events live (and in memory) that could no longer take anything.
    pub event_window_days: f32,
    /// Time-decay scale: at this many days outside an event's span, similarity is halved.
    /// Short, because events are bursty: a live event keeps getting articles, so its span
    /// keeps up; what comes after a long silence is more likely a new event of the story.
    pub event_half_life_days: f32,
    /// A story takes no new events this many days after its last article.
    pub story_window_days: f32,
    /// At most this many events stay in memory; the least recently active retire first.
    /// A live event with its centroid, entities and index entries costs about 50 KiB
    /// (1,451 more live events at 1M generated articles added 82 MiB of RSS), so 5,000
    /// keep a 1M stream at 100,000 articles a day within 1 GiB; that stream has about
    /// 6,000 events of the last two days.
    pub max_live_events: usize,
    /// At most this many stories stay in memory; beyond it, the least recently active of
    /// those with no live event retire first. Without a cap a fast stream (100,000 articles
    /// a day) keeps every story of the 45-day window in memory.
    pub max_live_stories: usize,
    /// At most this many terms per centroid (heaviest kept).
    pub max_centroid_terms: usize,
    /// Every this many articles the vocabulary forgets idle terms (0: never), so that its
    /// memory follows the recent stream, not the archive: a vocabulary that never forgot
    /// held 1.22 million terms at 300k generated articles, four more an article (some 4
    /// million, ~200 MiB, at 1M).
    pub vocab_sweep_docs: u64,
    /// A term is forgotten when no article of the last `vocab_idle_sweeps` whole intervals
    /// between sweeps had it and no live event or story centroid holds it.
    pub vocab_idle_sweeps: u32,
    /// Score multiplier when article and event both mention years and share none: two
    /// earthquakes in the same place, years apart, are different events.
    pub year_penalty: f32,
    /// Bonus for the event that is bursting right now (articles within minutes): news
    /// arrives in bursts, so an article most likely continues the burst in progress.
    pub burst_weight: f32,
    /// Time scale of that burst bonus, in minutes.
    pub burst_minutes: f32,
    /// An article joins only an event sharing at least this many of its telling terms and
    /// entities, unless it arrives within `burst_minutes` of the event. One shared word is
    /// too little evidence without time to back it: on undated stemmed titles
    /// (googlenews-dev) single words drew headlines into large events of another topic, and
    /// this rule took precision from 0.81 to 0.90 at the same recall.
    pub min_shared_keys: u32,
    /// Two live events whose centroids come this close merge (same length scaling as
    /// `event_threshold`): an event split early, before its vocabulary settled, heals.
    pub merge_threshold: f32,
    /// Two live stories whose centroids come this close merge.
    pub story_merge_threshold: f32,
    /// Bonus for a story sharing the main people, places and organisations (cosine of
    /// entity mention counts): a story's events share participants more than words.
    /// Off by default: on ECB+ topics it linked same-kind stories (two shootings) as
    /// often as it joined the two events of one topic (0.3 measured 0.796 vs 0.812).
    pub story_entity_weight: f32,
    /// Weight of sentence-embedding cosine (when the pipeline has a model), counted above
    /// `embedding_offset`, the cosine of unrelated news texts.
    pub embedding_weight: f32,
    pub embedding_offset: f32,
    /// Weight of average link in lexical similarity for full articles (0 = centroid cosine
    /// only). An event's centroid drifts toward what its members share, so once it holds
    /// two neighbouring events it draws in the whole story; the mean cosine to the members
    /// stays low for such a loose event. Headlines get little of it (see `link_share`):
    /// their few words make every mean cosine small.
    pub mean_link: f32,
    /// `event_threshold` for the mean-cosine part.
    pub mean_threshold: f32,
    /// `merge_threshold` for the mean-cosine part.
    pub mean_merge_threshold: f32,
    /// `threshold_slope` for the mean-cosine part.
    pub mean_slope: f32,
    /// `story_threshold` for the mean-cosine part.
    pub story_mean_threshold: f32,
    /// `story_merge_threshold` for the mean-cosine part.
    pub story_mean_merge_threshold: f32,
    /// A full article scoring within this fraction of its best event's score on a second
    /// live event starts an event of its own (headlines get little of it, see
    /// `link_share`). Close to two events at once, it shares the background they share
    /// rather than the news of either: on NewsWCL50 the first report of Mueller's
    /// questions for Trump scored 0.249 on the DNC's lawsuit and 0.245 on Comey's memos and
    /// took the first. Kept small: a bridge between two halves of one split-up event looks
    /// the same, and at 0.1 ECB+ event recall fell from 0.969 to 0.946.
    pub ambiguity_margin: f32,
    /// A term said at least this often in one article (or, summed as sublinear counts, in
    /// a cluster) can be its protagonist: its most telling repeated term of a person's name
    /// (see [`ArticleFeatures::name_keys`]), mostly the main participant's. High, so that only a name an article keeps coming back to counts.
    /// Names only: on NewsWCL50 a report of Pompeo's trip to North Korea said "possible"
    /// five times, took it for its protagonist and split from the other reports.
    pub protagonist_min_tf: f32,
    /// A protagonist said at most this often on the other side counts as absent there: a
    /// report of Klitschko beating Rahman names his previous opponent, Thompson, once.
    pub protagonist_passing_tf: f32,
    /// Score multiplier when article and event each have a protagonist the other side
    /// names at most in passing: reports of two fights of one boxer share every word of a
    /// title fight but the opponent's name. Strong, nearly a veto, because the words they
    /// share put such pairs far above the threshold (Klitschko–Thompson scored 0.36 on
    /// Klitschko–Rahman against a threshold of 0.13; at 0.4 ECB+ kept the two together).
    pub protagonist_penalty: f32,
    /// An event of at least this many articles that never names an article's protagonist
    /// is about something else, whoever its own protagonist is: the penalty applies on
    /// that evidence alone. On NewsWCL50 the five reports of Kim's end to nuclear tests
    /// (each saying "test" five times or more) scored 0.27 on the five of Pompeo's trip to
    /// North Korea, which never say it, against a threshold of 0.21; both sides' main
    /// names ("north", "kim") are shared, so the two-sided rule cannot tell them apart.
    /// Not for smaller events: one or two reports leave out too much (at 3, ECB+ event
    /// recall fell from 0.954 to 0.947).
    pub protagonist_absent_articles: u64,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            event_threshold: 0.28,
            story_threshold: 0.2,
            threshold_slope: 0.06,
            entity_weight: 0.1,
            event_window_days: 2.0,
            event_half_life_days: 0.15,
            story_window_days: 45.0,
            max_live_events: 5_000,
            max_live_stories: 10_000,
            max_centroid_terms: 400,
            vocab_sweep_docs: 50_000,
            vocab_idle_sweeps: 2,
            year_penalty: 0.5,
            burst_weight: 0.08,
            burst_minutes: 5.0,
            min_shared_keys: 2,
            merge_threshold: 0.45,
            story_merge_threshold: 0.45,
            story_entity_weight: 0.0,
            embedding_weight: 1.0,
            embedding_offset: 0.7,
            mean_link: 1.0,
            mean_threshold: 0.1,
            mean_merge_threshold: 0.27,
            mean_slope: 0.09,
            story_mean_threshold: 0.07,
            story_mean_merge_threshold: 0.07,
            ambiguity_margin: 0.05,
            protagonist_min_tf: 5.0,
            protagonist_passing_tf: 1.0,
            protagonist_penalty: 0.3,
            protagonist_absent_articles: 4,
        }
    }
}

/// What the clusterer needs to know about one article.
#[derive(Debug, Clone, Default)]
pub struct ArticleFeatures {
    /// Stemmed content terms with their counts.
    pub terms: TermBag,
    /// Canonical entity keys (lower-cased names).
    pub entities: Vec<String>,
    pub time: Option<DateTime<Utc>>,
    /// The event of the article this one copies, when dedup found one.
    pub copy_of_event: Option<EventId>,
    /// Years the text mentions (distinct).
    pub years: Vec<i32>,
    /// Keys ([`vector::term_key`]) of the stemmed terms of the people it names, without
    /// titles or words that head organisation and place names (distinct; see
    /// `extract::protagonist_words`): the terms that can be its protagonist. Keys, hashed in
    /// the parallel analysis stage like [`TermBag`]'s, so the clusterer only looks them up.
    pub name_keys: Vec<u64>,
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

/// A live event's running state.
#[derive(Debug, Clone, PartialEq)]
pub struct EventState {
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
    /// [`merge_check_due`]). Not stored: a restored event is checked on its next article.
    pub merge_checked_at: u64,
}

/// An event's years and summed embedding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventSignals {
    /// Articles mentioning each year.
    pub years: HashMap<i32, u32>,
    /// Sum of member embeddings (cosine against it needs only its norm).
    pub embedding: Option<Vec<f32>>,
    /// Sum of the members' TF-IDF norms when they joined: the centroid's dot product with
    /// an article, divided by it, estimates the article's mean cosine to the members.
    pub norm_sum: f32,
    /// [`Vocab::idf_level`] when `norm_sum` was last brought up to date; 0 when unknown
    /// (an event stored before it was kept: its sum is taken as current).
    pub norm_level: f32,
    /// The centroid's terms that a member named as part of a person's name (see
    /// [`ArticleFeatures::name_keys`]): the terms that can be the event's protagonist. None for an event stored
    /// before it was kept (then any term can). Only centroid terms, because a protagonist
    /// is one: with every name ever said, written with the event after each batch, ingest
    /// ran 10% slower at 100k articles.
    pub names: Option<HashSet<TermId>>,
}

impl EventSignals {
    /// `norm_sum` under the IDF of `level` (see [`rescaled`]).
    fn norm_sum_at(&self, level: f32) -> f32 {
        rescaled(self.norm_sum, self.norm_level, level)
    }

    fn add(&mut self, years: &[i32], embedding: Option<&[f32]>, norm: f32, level: f32) {
        self.norm_sum = self.norm_sum_at(level) + norm;
        self.norm_level = level;
        for &y in years {
            *self.years.entry(y).or_default() += 1;
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

    fn merge(&mut self, other: &EventSignals, level: f32) {
        self.norm_sum = self.norm_sum_at(level) + other.norm_sum_at(level);
        self.norm_level = level;
        for (&y, &n) in &other.years {
            *self.years.entry(y).or_default() += n;
        }
        match (&mut self.names, &other.names) {
            (Some(ours), Some(theirs)) => ours.extend(theirs),
            // One side's names are unknown: so are the merged event's.
            _ => self.names = None,
        }
        if let Some(v) = &other.embedding {
            self.add(&[], Some(v), 0.0, level);
        }
    }

    /// Notes a member's names (term ids), those `centroid` holds.
    fn add_names(&mut self, names: &[TermId], centroid: &Centroid) {
        if let Some(ours) = &mut self.names {
            ours.extend(names.iter().filter(|t| centroid.weights.contains_key(t)));
        }
    }

    /// Keeps the names to the terms `centroid` holds (after a merge).
    fn keep_names_in(&mut self, centroid: &Centroid) {
        if let Some(names) = &mut self.names {
            names.retain(|t| centroid.weights.contains_key(t));
        }
    }
}

/// A sum of TF-IDF norms taken when the IDF scale stood at `then`, brought to the scale at
/// `now` (see [`Vocab::idf_level`]); as it is when `then` is unknown (0).
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
pub struct StoryState {
    pub id: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    pub n_events: u64,
    pub centroid: Centroid,
    pub last_seq: u64,
    /// Sum of the members' TF-IDF norms when they joined (see [`EventSignals::norm_sum`]).
    pub norm_sum: f32,
    /// As [`EventSignals::norm_level`]. Not stored: [`Clusterer::restore`] derives it from
    /// `last_seq` (each article counts one document).
    pub norm_level: f32,
    /// As [`EventState::merge_checked_at`].
    pub merge_checked_at: u64,
}

impl StoryState {
    /// `norm_sum` under the IDF of `level` (see [`rescaled`]).
    fn norm_sum_at(&self, level: f32) -> f32 {
        rescaled(self.norm_sum, self.norm_level, level)
    }
}

/// Everything that changed since the last [`Clusterer::take_changes`], for the store.
#[derive(Debug, Default)]
pub struct Changes {
    pub terms: VocabChanges,
    pub n_docs: u64,
    pub events: Vec<EventState>,
    pub stories: Vec<StoryState>,
    /// Events and stories leaving memory (already included above if they changed).
    pub retired_events: Vec<EventId>,
    pub retired_stories: Vec<StoryId>,
    /// Events merged into another `(from, into)`, in the order they happened: the store
    /// moves `from`'s articles to `into` and drops `from`.
    pub merged_events: Vec<(EventId, EventId)>,
    /// Stories merged into another `(from, into)`, in order.
    pub merged_stories: Vec<(StoryId, StoryId)>,
}

impl Changes {
    /// Where an event id of this batch ended up after the merges.
    pub fn resolve_event(&self, mut id: EventId) -> EventId {
        for &(from, into) in &self.merged_events {
            if from == id {
                id = into;
            }
        }
        id
    }

    /// Where a story id of this batch ended up after the merges.
    pub fn resolve_story(&self, mut id: StoryId) -> StoryId {
        for &(from, into) in &self.merged_stories {
            if from == id {
                id = into;
            }
        }
        id
    }
}

pub struct Clusterer {
    config: ClusterConfig,
    vocab: Vocab,
    events: HashMap<EventId, EventState>,
    stories: HashMap<StoryId, StoryState>,
    /// Live events by entity key, for finding candidates fast.
    by_entity: HashMap<String, HashSet<EventId>>,
    /// Live events by term, for finding candidates fast.
    by_term: HashMap<TermId, HashSet<EventId>>,
    next_event: EventId,
    next_story: StoryId,
    clock: Option<DateTime<Utc>>,
    seq: u64,
    dirty_events: HashSet<EventId>,
    dirty_stories: HashSet<StoryId>,
    merged_events: Vec<(EventId, EventId)>,
    merged_stories: Vec<(StoryId, StoryId)>,
    /// Where merged-away events went, so a copy of an article in one still finds it.
    redirect: HashMap<EventId, EventId>,
    /// Entity mention counts per live story, kept only when `story_entity_weight` uses
    /// them. Derived, not stored: rebuilt from the live events on restore.
    story_entities: HashMap<StoryId, StableMap<String, f32>>,
    /// Live stories by their most telling terms, so that placing an event scores the few
    /// stories that share its words instead of every live story (tens of thousands on a
    /// large stream). `story_terms` is what each story is indexed under now.
    story_by_term: HashMap<TermId, HashSet<StoryId>>,
    story_terms: HashMap<StoryId, Vec<TermId>>,
}

/// Article length (distinct terms) at which the configured thresholds apply as they are.
pub const REFERENCE_TERMS: f32 = 100.0;
/// Thresholds never drop below this, however short the text.
const MIN_THRESHOLD: f32 = 0.05;

impl ClusterConfig {
    /// What an embedding cosine adds to the score of a text of `n_terms` distinct terms:
    /// counted above `embedding_offset`, weighted in full for articles and little for
    /// headlines. Measured on ../shared/data, MiniLM separates events of full articles well
    /// (same event median cosine 0.77, other topics 0.10) but not stemmed headlines (0.12 vs
    /// 0.05).
    fn embedding_bonus(&self, n_terms: usize, cosine: f32) -> f32 {
        self.embedding_weight * full_article_share(n_terms) * (cosine - self.embedding_offset)
    }

    /// A score damped by the days between the two time spans (`gap`) and by disjoint years.
    fn damped(&self, mut score: f32, gap: Option<f32>, years_apart: bool) -> f32 {
        if let Some(g) = gap {
            score *= 1.0 / (1.0 + g / self.event_half_life_days);
        }
        if years_apart {
            score *= self.year_penalty;
        }
        score
    }

    /// Weight of the average-link estimate for a text of `n_terms` distinct terms: full for
    /// articles, little for headlines, whose few words make every mean cosine small.
    fn link_share(&self, n_terms: usize) -> f32 {
        self.mean_link * full_article_share(n_terms)
    }

    /// Whether a score whose parts before the time and year damping add up to at most
    /// `bound` must stay under `threshold`: the damping factors lie in (0, 1], so it can
    /// only shrink a positive score. The margin keeps float rounding (the parts are added
    /// in another order in the bound) from ever deciding; with unusual settings the answer
    /// is always no.
    fn cannot_reach(&self, bound: f32, threshold: f32) -> bool {
        const MARGIN: f32 = 1e-4;
        threshold > 0.0
            && self.entity_weight >= 0.0
            && (0.0..=1.0).contains(&self.year_penalty)
            && self.event_half_life_days > 0.0
            && bound < threshold - MARGIN
    }

    /// The threshold for a text of `n_terms` distinct terms, for a score that blends
    /// centroid cosine and mean cosine as [`Clusterer::lexical_blend`] does: each part's
    /// threshold scaled by length with its own slope, blended with the same share.
    fn blended(&self, centroid: f32, mean: f32, n_terms: usize) -> f32 {
        let a = self.link_share(n_terms);
        let mean = length_scaled(mean, self.mean_slope, n_terms);
        a * mean + (1.0 - a) * length_scaled(centroid, self.threshold_slope, n_terms)
    }
}

/// How much of a full article a text of `n_terms` distinct terms is (1 from
/// [`REFERENCE_TERMS`] on).
fn full_article_share(n_terms: usize) -> f32 {
    (n_terms as f32 / REFERENCE_TERMS).min(1.0)
}

/// `threshold` moved by `slope` per unit of ln(terms / REFERENCE_TERMS), never under
/// [`MIN_THRESHOLD`].
fn length_scaled(threshold: f32, slope: f32, n_terms: usize) -> f32 {
    let n = (n_terms.max(1)) as f32;
    (threshold + slope * (n / REFERENCE_TERMS).ln()).max(MIN_THRESHOLD)
}

/// An estimate of the members' summed norms for a cluster stored before they were kept:
/// between identical members (the norm of the sum) and orthogonal ones (that times sqrt(n)).
fn estimated_norm_sum(centroid: &Centroid, n_articles: u64) -> f32 {
    centroid.norm() * (n_articles as f32).sqrt()
}

/// Terms of an article used to find candidate events: its most telling ones.
const CANDIDATE_TERMS: usize = 12;
/// Candidate events scored in full per article: those sharing the most telling terms and
/// entities. Scoring every event that shares any term cost most of the ingest time.
const MAX_CANDIDATES: usize = 48;
/// Events (or stories) compared centroid to centroid when checking whether the one just
/// touched should merge: fewer than for an article, each comparison costing a full centroid.
const MERGE_CANDIDATES: usize = 12;
/// Further merge checks of an event that has just merged (see [`Clusterer::assign`]).
const MERGE_ROUNDS: usize = 3;
/// Terms a story is indexed under: its heaviest, a story's vocabulary being broad.
const STORY_INDEX_TERMS: usize = 32;

/// Candidate lookups skip a term or entity filed under more live events than this: it tells
/// events apart no better than a stop word ("United States" on a stream of 100,000
/// articles a day), and counting its postings made time per article grow with live events.
const MAX_POSTINGS: usize = 1_000;

/// Entities an event keeps: its most mentioned. A large event on a long stream gathered
/// thousands of passing names, and comparing those maps became a fifth of ingest time.
const MAX_EVENT_ENTITIES: usize = 100;

/// Keeps an event's `MAX_EVENT_ENTITIES` most mentioned entities once it holds twice as
/// many (ties to the name, so every run keeps the same); returns the names dropped.
fn prune_entities(entities: &mut HashMap<String, u32>) -> Vec<String> {
    if entities.len() <= MAX_EVENT_ENTITIES * 2 {
        return Vec::new();
    }
    let mut items: Vec<(String, u32)> = entities.drain().collect();
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let dropped = items.split_off(MAX_EVENT_ENTITIES);
    entities.extend(items);
    dropped.into_iter().map(|(k, _)| k).collect()
}

fn telling(postings: &&HashSet<EventId>) -> bool {
    postings.len() <= MAX_POSTINGS
}

/// First and last publication time of an event or story.
type TimeSpan = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Takes `id` out of the postings of `key`, dropping the key when nothing is left under it
/// and halving a set's table when it is a quarter full: a set never shrinks by itself, so
/// on a long stream each term's set kept the size of its busiest day (at 500k generated
/// articles, with live events at their cap, `by_term`'s sets had room for 3.5 times their
/// entries and still grew; 2.5 times with this).
fn unfile<K, Q, I>(index: &mut HashMap<K, HashSet<I>>, key: &Q, id: I)
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
    I: std::hash::Hash + Eq,
{
    if let Some(set) = index.get_mut(key) {
        set.remove(&id);
        if set.is_empty() {
            index.remove(key);
        } else if set.capacity() > 32 && set.len() * 4 < set.capacity() {
            set.shrink_to(set.len() * 2);
        }
    }
}

/// The `max` ids with the most hits (ties to the lower id, so runs are reproducible).
fn strongest(hits: HashMap<EventId, u32>, max: usize) -> Vec<EventId> {
    strongest_with_hits(hits, max)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// [`strongest`], with each id's hits.
fn strongest_with_hits(hits: HashMap<EventId, u32>, max: usize) -> Vec<(EventId, u32)> {
    let mut v: Vec<(EventId, u32)> = hits.into_iter().collect();
    v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(max);
    v
}

impl Clusterer {
    pub fn new(config: ClusterConfig) -> Clusterer {
        Clusterer::restore(
            config,
            Vocab::default(),
            Vec::new(),
            Vec::new(),
            1,
            1,
            None,
            0,
        )
    }

    /// Rebuilds the clusterer from stored state.
    #[allow(clippy::too_many_arguments)]
    pub fn restore(
        config: ClusterConfig,
        vocab: Vocab,
        events: Vec<EventState>,
        stories: Vec<StoryState>,
        next_event: EventId,
        next_story: StoryId,
        clock: Option<DateTime<Utc>>,
        seq: u64,
    ) -> Clusterer {
        let mut c = Clusterer {
            config,
            vocab,
            events: HashMap::default(),
            stories: stories.into_iter().map(|s| (s.id, s)).collect(),
            by_entity: HashMap::default(),
            by_term: HashMap::default(),
            next_event,
            next_story,
            clock,
            seq,
            dirty_events: HashSet::default(),
            dirty_stories: HashSet::default(),
            merged_events: Vec::new(),
            merged_stories: Vec::new(),
            redirect: HashMap::default(),
            story_entities: HashMap::default(),
            story_by_term: HashMap::default(),
            story_terms: HashMap::default(),
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
            c.index_event(&e);
            c.events.insert(e.id, e);
        }
        for s in c.stories.values_mut() {
            if s.norm_sum == 0.0 && s.n_articles > 0 {
                s.norm_sum = estimated_norm_sum(&s.centroid, s.n_articles);
            } else {
                // The sum was last updated with the article of sequence number `last_seq`,
                // when the vocabulary had counted as many documents (one per article).
                s.norm_level = Vocab::idf_level_at(s.last_seq.min(c.vocab.n_docs()));
            }
        }
        let ids: Vec<StoryId> = c.stories.keys().copied().collect();
        for id in ids {
            c.reindex_story(id);
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
        let new = self
            .stories
            .get(&id)
            .map(|s| s.centroid.top_terms(STORY_INDEX_TERMS, &self.vocab))
            .unwrap_or_default();
        let old = self.story_terms.remove(&id).unwrap_or_default();
        for t in old.iter().filter(|t| !new.contains(t)) {
            unfile(&mut self.story_by_term, t, id);
        }
        for &t in new.iter().filter(|t| !old.contains(t)) {
            self.story_by_term.entry(t).or_default().insert(id);
        }
        if !new.is_empty() {
            self.story_terms.insert(id, new);
        }
    }

    /// Live stories indexed under the most of `terms`, strongest first.
    fn candidate_stories(&self, terms: &[TermId], skip: StoryId, max: usize) -> Vec<StoryId> {
        let mut hits: HashMap<StoryId, u32> = HashMap::default();
        for t in terms {
            for &id in self.story_by_term.get(t).into_iter().flatten() {
                if id != skip {
                    *hits.entry(id).or_default() += 1;
                }
            }
        }
        strongest(hits, max)
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

    fn index_event(&mut self, e: &EventState) {
        for key in e.entities.keys() {
            self.by_entity.entry(key.clone()).or_default().insert(e.id);
        }
        for &t in e.centroid.weights.keys() {
            self.by_term.entry(t).or_default().insert(e.id);
        }
    }

    fn unindex_event(&mut self, e: &EventState) {
        for key in e.entities.keys() {
            unfile(&mut self.by_entity, key.as_str(), e.id);
        }
        for t in e.centroid.weights.keys() {
            unfile(&mut self.by_term, t, e.id);
        }
    }

    /// Assigns one article. Articles must come in date order within a run for the time
    /// windows to mean anything; undated ones may come anywhere.
    pub fn assign(&mut self, features: &ArticleFeatures) -> Assignment {
        self.seq += 1;
        if let Some(t) = features.time {
            if self.clock.is_none_or(|c| t > c) {
                self.clock = Some(t);
            }
        }
        let counts = self.vocab.counts(&features.terms);
        self.vocab.add_document(&counts);
        let (vector, norm) = tfidf_with_norm(&counts, &self.vocab);
        let entities: HashSet<&str> = features.entities.iter().map(String::as_str).collect();

        let copy_target = features
            .copy_of_event
            .map(|e| self.resolve(e))
            .filter(|e| self.events.contains_key(e));
        // The article's terms by weight, heaviest first (ties to the lower id), ranked once
        // for both candidate lookups.
        let mut ranked: Vec<(TermId, f32)> = vector.clone();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let ranked: Vec<TermId> = ranked.into_iter().map(|(t, _)| t).collect();
        let names: Vec<TermId> = features
            .name_keys
            .iter()
            .filter_map(|&k| self.vocab.id_of(k))
            .collect();
        let (best, similarity) = match copy_target {
            Some(e) => (Some(e), 1.0),
            None => {
                let article = (
                    counts.as_slice(),
                    self.protagonist_of_counts(&counts, &names),
                );
                self.best_event(&vector, &ranked, &entities, features, article)
            }
        };
        let (mut event, new_event, new_story) = match best {
            Some(event_id) => {
                self.add_to_event(event_id, (&counts, &names), norm, features);
                (event_id, false, false)
            }
            None => {
                let (story, new_story) =
                    self.story_for_new_event(&vector, &ranked, &entities, features.time);
                let id = self.next_event;
                self.next_event += 1;
                let mut centroid = Centroid::default();
                centroid.add(&counts, &self.vocab, self.config.max_centroid_terms);
                let mut ents = HashMap::default();
                for e in &features.entities {
                    *ents.entry(e.clone()).or_default() += 1;
                }
                let mut signals = EventSignals {
                    names: Some(HashSet::default()),
                    ..EventSignals::default()
                };
                signals.add(
                    &features.years,
                    features.embedding.as_deref(),
                    norm,
                    self.vocab.idf_level(),
                );
                signals.add_names(&names, &centroid);
                let event = EventState {
                    id,
                    story,
                    first_time: features.time,
                    last_time: features.time,
                    n_articles: 1,
                    centroid,
                    entities: ents,
                    last_seq: self.seq,
                    signals,
                    merge_checked_at: 0,
                };
                self.index_event(&event);
                self.events.insert(id, event);
                self.dirty_events.insert(id);
                self.update_story(story, &counts, norm, features.time, true);
                (id, true, new_story)
            }
        };
        if let Some(s) = self
            .events
            .get(&event)
            .map(|e| e.story)
            .filter(|_| self.story_entities_used())
        {
            let ents = self.story_entities.entry(s).or_default();
            for k in &features.entities {
                *ents.entry(k.clone()).or_default() += 1.0;
            }
        }
        // An event that has just merged is a new centroid and may now be close to a third,
        // which no article may come to check: check it again, a few rounds at most
        // (googlenews-dev F1 0.836 -> 0.839, NMI 0.904 -> 0.905).
        for round in 0..=MERGE_ROUNDS {
            if round > 0 {
                if let Some(e) = self.events.get_mut(&event) {
                    e.merge_checked_at = 0;
                }
            }
            let merges = self.merged_events.len();
            event = self.maybe_merge_event(event, vector.len());
            if self.merged_events.len() == merges {
                break;
            }
        }
        let story = self.events.get(&event).map_or(0, |e| e.story);
        let story = self.maybe_merge_story(story, vector.len());
        Assignment {
            event,
            story,
            new_event,
            new_story,
            similarity,
        }
    }

    /// Follows merges: the live event an old id now lives in.
    pub fn resolve(&self, mut id: EventId) -> EventId {
        while let Some(&next) = self.redirect.get(&id) {
            id = next;
        }
        id
    }

    /// Drops the merge trails that end in a retired event: a copy found through one could
    /// not join it anyway, and without this the map kept one entry for every merge of the
    /// run, growing with the archive instead of the live news. Trails through retired ids
    /// to a live event stay whole.
    fn forget_dead_redirects(&mut self) {
        let dead: Vec<EventId> = self
            .redirect
            .keys()
            .copied()
            .filter(|&id| !self.events.contains_key(&self.resolve(id)))
            .collect();
        for id in dead {
            self.redirect.remove(&id);
        }
    }

    /// The article-to-event score: TF-IDF cosine, shared entities, embedding, burst, damped
    /// by time distance and by disjoint years. `f32::NEG_INFINITY` when it cannot reach
    /// `threshold` (then the entities are never compared).
    fn score(
        &self,
        e: &EventState,
        vector: &[(TermId, f32)],
        entities: &HashSet<&str>,
        f: &ArticleFeatures,
        gap: Option<f32>,
        threshold: f32,
    ) -> f32 {
        let cfg = &self.config;
        let norm_sum = e.signals.norm_sum_at(self.vocab.idf_level());
        let lexical = self.lexical_blend(&e.centroid, norm_sum, vector);
        let embedding = match (&f.embedding, &e.signals.embedding) {
            (Some(v), Some(sum)) => cfg.embedding_bonus(vector.len(), cosine_dense(v, sum)),
            _ => 0.0,
        };
        let burst = match (f.time, e.last_time) {
            (Some(t), Some(last)) => {
                let minutes = (t - last).num_seconds().unsigned_abs() as f32 / 60.0;
                cfg.burst_weight * (-minutes / cfg.burst_minutes.max(1e-3)).exp()
            }
            _ => 0.0,
        };
        // Shared entities can add at most `entity_weight`; look them up only when that could
        // lift the score to the threshold.
        if cfg.cannot_reach(lexical + (embedding + burst) + cfg.entity_weight, threshold) {
            return f32::NEG_INFINITY;
        }
        let entity = entity_overlap(entities, &e.entities);
        let score = lexical + cfg.entity_weight * entity + embedding + burst;
        cfg.damped(score, gap, years_conflict(&f.years, &e.signals.years))
    }

    /// Lexical similarity of an article to an event or story (its centroid, and its
    /// members' norms summing to `norm_sum`): centroid cosine blended with the article's
    /// estimated mean cosine to the members (average link, see `mean_link`).
    fn lexical_blend(&self, centroid: &Centroid, norm_sum: f32, vector: &[(TermId, f32)]) -> f32 {
        let norm = centroid.norm();
        if norm == 0.0 {
            return 0.0;
        }
        let dot = centroid.dot(vector, &self.vocab);
        let mean = (norm_sum > 0.0).then(|| dot / norm_sum);
        self.blend(vector.len(), dot / norm, mean)
    }

    /// [`Clusterer::lexical_blend`] of two clusters: centroid to centroid, blended with
    /// their estimated mean pairwise cosine.
    fn clusters_blend(&self, a: (&Centroid, f32), b: (&Centroid, f32), n_terms: usize) -> f32 {
        let cosine = a.0.cosine_centroid(b.0, &self.vocab);
        let mean = (a.1 > 0.0 && b.1 > 0.0).then(|| cosine * a.0.norm() * b.0.norm() / (a.1 * b.1));
        self.blend(n_terms, cosine, mean)
    }

    /// Centroid cosine and mean cosine (when known) blended by the text's `link_share`.
    fn blend(&self, n_terms: usize, cosine: f32, mean: Option<f32>) -> f32 {
        let a = self.config.link_share(n_terms);
        match mean {
            Some(mean) if a > 0.0 => a * mean + (1.0 - a) * cosine,
            _ => cosine,
        }
    }

    /// An article's protagonist: its most telling term (sublinear count × IDF) among its
    /// `names` said at least `protagonist_min_tf` times. None when the rule is off.
    fn protagonist_of_counts(&self, counts: &[(TermId, f32)], names: &[TermId]) -> Option<TermId> {
        let cfg = &self.config;
        if cfg.protagonist_penalty >= 1.0 {
            return None;
        }
        heaviest(
            counts
                .iter()
                .filter(|c| c.1 >= cfg.protagonist_min_tf && names.contains(&c.0))
                .map(|&(t, tf)| (t, vector::sublinear(tf) * self.vocab.idf(t))),
        )
    }

    /// A cluster's protagonist: its most telling term (summed sublinear counts × IDF) among
    /// its `names` (any term when unknown) weighing as much as one article's protagonist:
    /// said `protagonist_min_tf` times in one article, or fewer times in each of several.
    fn protagonist_of_centroid(
        &self,
        c: &Centroid,
        names: Option<&HashSet<TermId>>,
    ) -> Option<TermId> {
        let cfg = &self.config;
        if cfg.protagonist_penalty >= 1.0 {
            return None;
        }
        let min_weight = vector::sublinear(cfg.protagonist_min_tf.max(1.0));
        heaviest(
            c.weights
                .iter()
                .filter(|e| *e.1 >= min_weight && names.is_none_or(|n| n.contains(e.0)))
                .map(|(&t, &w)| (t, w * self.vocab.idf(t))),
        )
    }

    /// Whether our protagonist (an article's or a cluster's) is at most passing in
    /// `centroid`, and the centroid's protagonist at most passing on our side, whose
    /// summed sublinear count of a term `ours_weight` gives: each side's main participant
    /// is absent from the other. With `one_sided`, our protagonist never said in the
    /// centroid is enough (see `protagonist_absent_articles`).
    fn protagonists_differ(
        &self,
        ours: Option<TermId>,
        (centroid, names): (&Centroid, Option<&HashSet<TermId>>),
        ours_weight: impl Fn(TermId) -> f32,
        one_sided: bool,
    ) -> bool {
        let Some(ours) = ours else {
            return false;
        };
        // The weight of a term said `protagonist_passing_tf` times (none below once).
        let tf = self.config.protagonist_passing_tf;
        let passing = if tf >= 1.0 {
            vector::sublinear(tf)
        } else {
            0.0
        };
        let theirs_weight = |t: TermId| centroid.weights.get(&t).copied().unwrap_or(0.0);
        theirs_weight(ours) <= passing
            && ((one_sided && theirs_weight(ours) == 0.0)
                || self
                    .protagonist_of_centroid(centroid, names)
                    .is_some_and(|theirs| ours_weight(theirs) <= passing))
    }

    fn days_apart(
        a: Option<DateTime<Utc>>,
        first: Option<DateTime<Utc>>,
        last: Option<DateTime<Utc>>,
    ) -> Option<f32> {
        let t = a?;
        let (first, last) = (first?, last?);
        let secs = if t < first {
            (first - t).num_seconds()
        } else if t > last {
            (t - last).num_seconds()
        } else {
            0
        };
        Some(secs as f32 / 86_400.0)
    }

    /// Days between two time spans (0 when they overlap at an end), for merge checks.
    fn spans_apart(a: TimeSpan, b: TimeSpan) -> Option<f32> {
        let (Some(first), Some(last)) = a else {
            return None;
        };
        Self::days_apart(Some(first), b.0, b.1)
            .into_iter()
            .chain(Self::days_apart(Some(last), b.0, b.1))
            .reduce(f32::min)
    }

    fn best_event(
        &self,
        vector: &[(TermId, f32)],
        ranked: &[TermId],
        entities: &HashSet<&str>,
        f: &ArticleFeatures,
        (counts, protagonist): (&[(TermId, f32)], Option<TermId>),
    ) -> (Option<EventId>, f32) {
        let time = f.time;
        let mut hits: HashMap<EventId, u32> = HashMap::default();
        for e in entities {
            for &id in self.by_entity.get(*e).into_iter().filter(telling).flatten() {
                *hits.entry(id).or_default() += 1;
            }
        }
        for t in ranked.iter().take(CANDIDATE_TERMS) {
            for &id in self.by_term.get(t).into_iter().filter(telling).flatten() {
                *hits.entry(id).or_default() += 1;
            }
        }
        let candidates = strongest_with_hits(hits, MAX_CANDIDATES);
        let cfg = &self.config;
        let threshold = cfg.blended(cfg.event_threshold, cfg.mean_threshold, vector.len());
        let burst_days = cfg.burst_minutes / (24.0 * 60.0);
        let mut best: Option<(EventId, f32)> = None;
        // Events over the threshold: (id, score before the protagonist penalty, after it,
        // or NEG_INFINITY when that fell under the threshold).
        let mut over_threshold: Vec<(EventId, f32, f32)> = Vec::new();
        for (id, shared) in candidates {
            let Some(e) = self.events.get(&id) else {
                continue;
            };
            let gap = Self::days_apart(time, e.first_time, e.last_time);
            if gap.is_some_and(|g| g > cfg.event_window_days) {
                continue;
            }
            if shared < cfg.min_shared_keys && gap.is_none_or(|g| g > burst_days) {
                continue;
            }
            let mut score = self.score(e, vector, entities, f, gap, threshold);
            if score < threshold {
                continue;
            }
            let raw = score;
            let said = |t: TermId| {
                counts
                    .binary_search_by_key(&t, |c| c.0)
                    .map_or(0.0, |i| vector::sublinear(counts[i].1))
            };
            let one_sided = e.n_articles >= cfg.protagonist_absent_articles;
            if self.protagonists_differ(
                protagonist,
                (&e.centroid, e.signals.names.as_ref()),
                said,
                one_sided,
            ) {
                score *= cfg.protagonist_penalty;
                if score < threshold {
                    over_threshold.push((id, raw, f32::NEG_INFINITY));
                    continue;
                }
            }
            over_threshold.push((id, raw, score));
            if best.is_none_or(|(bid, bs)| score > bs || (score == bs && id < bid)) {
                best = Some((id, score));
            }
        }
        // The best other score. An event the article is closer to in words than to its best,
        // but whose protagonist differs, counts with its words: the article does not settle
        // for a farther event. On NewsWCL50 the first report of Mueller's questions for Trump
        // scored 0.249 on the DNC's lawsuit, whose protagonist it lacks, and otherwise joined
        // Comey's memos (0.245).
        let second = match best {
            Some((bid, bs)) => over_threshold
                .iter()
                .filter(|p| p.0 != bid)
                .map(|&(_, raw, score)| if raw > bs { raw } else { score })
                .fold(f32::NEG_INFINITY, f32::max),
            None => f32::NEG_INFINITY,
        };
        let margin = cfg.ambiguity_margin * cfg.link_share(vector.len());
        match best {
            Some((_, s)) if margin > 0.0 && second >= s * (1.0 - margin) => (None, 0.0),
            Some((id, s)) => (Some(id), s),
            None => (None, 0.0),
        }
    }

    fn add_to_event(
        &mut self,
        id: EventId,
        (counts, names): (&[(TermId, f32)], &[TermId]),
        norm: f32,
        f: &ArticleFeatures,
    ) -> StoryId {
        let max_terms = self.config.max_centroid_terms;
        let Some(mut e) = self.events.remove(&id) else {
            return 0;
        };
        // Re-file only what changes: new terms and entities in, pruned terms out.
        // Re-filing all of a large event's terms on every article cost a tenth of ingest.
        let new_terms: Vec<TermId> = counts
            .iter()
            .map(|c| c.0)
            .filter(|t| !e.centroid.weights.contains_key(t))
            .collect();
        let dropped = e.centroid.add(counts, &self.vocab, max_terms);
        for t in dropped {
            unfile(&mut self.by_term, &t, id);
            if let Some(n) = &mut e.signals.names {
                n.remove(&t);
            }
        }
        for t in new_terms {
            if e.centroid.weights.contains_key(&t) {
                self.by_term.entry(t).or_default().insert(id);
            }
        }
        for ent in &f.entities {
            match e.entities.get_mut(ent) {
                Some(n) => *n += 1,
                None => {
                    e.entities.insert(ent.clone(), 1);
                    self.by_entity.entry(ent.clone()).or_default().insert(id);
                }
            }
        }
        for gone in prune_entities(&mut e.entities) {
            unfile(&mut self.by_entity, gone.as_str(), id);
        }
        let level = self.vocab.idf_level();
        e.signals.add(&f.years, f.embedding.as_deref(), norm, level);
        e.signals.add_names(names, &e.centroid);
        e.n_articles += 1;
        if let Some(t) = f.time {
            e.first_time = Some(e.first_time.map_or(t, |x| x.min(t)));
            e.last_time = Some(e.last_time.map_or(t, |x| x.max(t)));
        }
        e.last_seq = self.seq;
        let story = e.story;
        self.events.insert(id, e);
        self.dirty_events.insert(id);
        self.update_story(story, counts, norm, f.time, false);
        story
    }

    fn story_for_new_event(
        &mut self,
        vector: &[(TermId, f32)],
        ranked: &[TermId],
        entities: &HashSet<&str>,
        time: Option<DateTime<Utc>>,
    ) -> (StoryId, bool) {
        let article_entities: StableMap<String, f32> = if self.story_entities_used() {
            entities.iter().map(|e| (e.to_string(), 1.0)).collect()
        } else {
            StableMap::default()
        };
        let cfg = &self.config;
        let threshold = cfg.blended(cfg.story_threshold, cfg.story_mean_threshold, vector.len());
        let terms = &ranked[..ranked.len().min(STORY_INDEX_TERMS)];
        let level = self.vocab.idf_level();
        let mut best: Option<(StoryId, f32)> = None;
        for id in self.candidate_stories(terms, 0, MAX_CANDIDATES) {
            let Some(s) = self.stories.get(&id) else {
                continue;
            };
            let gap = Self::days_apart(time, s.first_time, s.last_time);
            if gap.is_some_and(|g| g > cfg.story_window_days) {
                continue;
            }
            let mut score = self.lexical_blend(&s.centroid, s.norm_sum_at(level), vector);
            if self.story_entities_used() {
                score += cfg.story_entity_weight
                    * weighted_overlap(&article_entities, self.story_entities.get(&s.id));
            }
            if score >= threshold
                && best.is_none_or(|(bid, bs)| score > bs || (score == bs && s.id < bid))
            {
                best = Some((s.id, score));
            }
        }
        if let Some((id, _)) = best {
            return (id, false);
        }
        let id = self.next_story;
        self.next_story += 1;
        self.stories.insert(
            id,
            StoryState {
                id,
                first_time: None,
                last_time: None,
                n_articles: 0,
                n_events: 0,
                centroid: Centroid::default(),
                last_seq: self.seq,
                norm_sum: 0.0,
                norm_level: 0.0,
                merge_checked_at: 0,
            },
        );
        (id, true)
    }

    fn update_story(
        &mut self,
        id: StoryId,
        counts: &[(TermId, f32)],
        norm: f32,
        time: Option<DateTime<Utc>>,
        new_event: bool,
    ) {
        let max_terms = self.config.max_centroid_terms;
        let level = self.vocab.idf_level();
        if let Some(s) = self.stories.get_mut(&id) {
            s.centroid.add(counts, &self.vocab, max_terms);
            s.norm_sum = s.norm_sum_at(level) + norm;
            s.norm_level = level;
            s.n_articles += 1;
            s.n_events += u64::from(new_event);
            if let Some(t) = time {
                s.first_time = Some(s.first_time.map_or(t, |x| x.min(t)));
                s.last_time = Some(s.last_time.map_or(t, |x| x.max(t)));
            }
            s.last_seq = self.seq;
            self.dirty_stories.insert(id);
            self.reindex_story(id);
        }
    }

    /// Merges `id` into the live event it has grown close to, if any; returns where the
    /// article's event now is. Only the event just touched is checked: the others have not
    /// moved since their own last check.
    fn maybe_merge_event(&mut self, id: EventId, n_terms: usize) -> EventId {
        let cfg = &self.config;
        let Some(e) = self.events.get_mut(&id) else {
            return id;
        };
        if !merge_check_due(e.n_articles, e.merge_checked_at) {
            return id;
        }
        e.merge_checked_at = e.n_articles;
        let e = &self.events[&id];
        let threshold = cfg.blended(cfg.merge_threshold, cfg.mean_merge_threshold, n_terms);
        let level = self.vocab.idf_level();
        let mut hits: HashMap<EventId, u32> = HashMap::default();
        for t in e.centroid.top_terms(CANDIDATE_TERMS, &self.vocab) {
            for &other in self.by_term.get(&t).into_iter().filter(telling).flatten() {
                if other != id {
                    *hits.entry(other).or_default() += 1;
                }
            }
        }
        let candidates = strongest(hits, MERGE_CANDIDATES);
        // The event's protagonist, found once, when a candidate first passes the threshold.
        let protagonist = std::cell::OnceCell::new();
        let mut best: Option<(EventId, f32)> = None;
        for other_id in candidates {
            let Some(o) = self.events.get(&other_id) else {
                continue;
            };
            let gap = Self::spans_apart((e.first_time, e.last_time), (o.first_time, o.last_time));
            if gap.is_some_and(|g| g > cfg.event_window_days) {
                continue;
            }
            let lexical = self.clusters_blend(
                (&e.centroid, e.signals.norm_sum_at(level)),
                (&o.centroid, o.signals.norm_sum_at(level)),
                n_terms,
            );
            let embedding = match (&e.signals.embedding, &o.signals.embedding) {
                (Some(a), Some(b)) => cfg.embedding_bonus(n_terms, cosine_dense(&normalised(a), b)),
                _ => 0.0,
            };
            // As in `score`: shared entities are compared only when they could matter.
            if cfg.cannot_reach(lexical + embedding + cfg.entity_weight, threshold) {
                continue;
            }
            let entity = entity_overlap_maps(&e.entities, &o.entities);
            let mut score = cfg.damped(
                lexical + cfg.entity_weight * entity + embedding,
                gap,
                years_disjoint(&e.signals.years, &o.signals.years),
            );
            if score >= threshold
                && self.protagonists_differ(
                    *protagonist.get_or_init(|| {
                        self.protagonist_of_centroid(&e.centroid, e.signals.names.as_ref())
                    }),
                    (&o.centroid, o.signals.names.as_ref()),
                    |t| e.centroid.weights.get(&t).copied().unwrap_or(0.0),
                    false,
                )
            {
                score *= cfg.protagonist_penalty;
            }
            if score >= threshold
                && best.is_none_or(|(bid, bs)| score > bs || (score == bs && other_id < bid))
            {
                best = Some((other_id, score));
            }
        }
        let Some((other, _)) = best else {
            return id;
        };
        // The larger (then older) event absorbs the other, so ids stay stable where most
        // articles already point.
        let (big, small) = {
            let a = (self.events[&id].n_articles, std::cmp::Reverse(id));
            let b = (self.events[&other].n_articles, std::cmp::Reverse(other));
            if a >= b {
                (id, other)
            } else {
                (other, id)
            }
        };
        self.merge_events(small, big);
        big
    }

    fn merge_events(&mut self, from: EventId, into: EventId) {
        let max_terms = self.config.max_centroid_terms;
        let (Some(src), Some(mut dst)) = (self.events.remove(&from), self.events.remove(&into))
        else {
            return;
        };
        self.unindex_event(&src);
        self.unindex_event(&dst);
        dst.centroid.merge(&src.centroid, &self.vocab, max_terms);
        for (k, n) in &src.entities {
            *dst.entities.entry(k.clone()).or_default() += n;
        }
        prune_entities(&mut dst.entities);
        dst.signals.merge(&src.signals, self.vocab.idf_level());
        dst.signals.keep_names_in(&dst.centroid);
        dst.n_articles += src.n_articles;
        dst.first_time = min_time(dst.first_time, src.first_time);
        dst.last_time = max_time(dst.last_time, src.last_time);
        dst.last_seq = self.seq;
        if src.story != dst.story {
            // The merged event's articles now belong to the other story: move their count
            // with them, or the two stories' counts disagree with their events.
            if let Some(s) = self.stories.get_mut(&src.story) {
                s.n_events = s.n_events.saturating_sub(1);
                s.n_articles = s.n_articles.saturating_sub(src.n_articles);
                self.dirty_stories.insert(src.story);
            }
            if let Some(s) = self.stories.get_mut(&dst.story) {
                s.n_articles += src.n_articles;
                self.dirty_stories.insert(dst.story);
            }
        }
        self.index_event(&dst);
        self.events.insert(into, dst);
        self.dirty_events.insert(into);
        self.dirty_events.remove(&from);
        self.redirect.insert(from, into);
        self.merged_events.push((from, into));
    }

    /// Merges story `id` into a live story whose centroid has come close, if any; returns
    /// the surviving story.
    fn maybe_merge_story(&mut self, id: StoryId, n_terms: usize) -> StoryId {
        let cfg = &self.config;
        let Some(s) = self.stories.get_mut(&id) else {
            return id;
        };
        if !merge_check_due(s.n_articles, s.merge_checked_at) {
            return id;
        }
        s.merge_checked_at = s.n_articles;
        let s = &self.stories[&id];
        let level = self.vocab.idf_level();
        let threshold = cfg.blended(
            cfg.story_merge_threshold,
            cfg.story_mean_merge_threshold,
            n_terms,
        );
        let terms = self.story_terms.get(&id).cloned().unwrap_or_default();
        let mut best: Option<(StoryId, f32)> = None;
        for other in self.candidate_stories(&terms, id, MERGE_CANDIDATES) {
            let Some(o) = self.stories.get(&other) else {
                continue;
            };
            let gap = Self::spans_apart((s.first_time, s.last_time), (o.first_time, o.last_time));
            if gap.is_some_and(|g| g > cfg.story_window_days) {
                continue;
            }
            let mut score = self.clusters_blend(
                (&s.centroid, s.norm_sum_at(level)),
                (&o.centroid, o.norm_sum_at(level)),
                n_terms,
            );
            if self.story_entities_used() {
                score += cfg.story_entity_weight
                    * self
                        .story_entities
                        .get(&id)
                        .map_or(0.0, |a| weighted_overlap(a, self.story_entities.get(&o.id)));
            }
            if score >= threshold
                && best.is_none_or(|(bid, bs)| score > bs || (score == bs && o.id < bid))
            {
                best = Some((o.id, score));
            }
        }
        let Some((other, _)) = best else {
            return id;
        };
        let (big, small) = {
            let a = (self.stories[&id].n_articles, std::cmp::Reverse(id));
            let b = (self.stories[&other].n_articles, std::cmp::Reverse(other));
            if a >= b {
                (id, other)
            } else {
                (other, id)
            }
        };
        let max_terms = cfg.max_centroid_terms;
        let (Some(src), Some(mut dst)) = (self.stories.remove(&small), self.stories.remove(&big))
        else {
            return id;
        };
        dst.centroid.merge(&src.centroid, &self.vocab, max_terms);
        let level = self.vocab.idf_level();
        dst.norm_sum = dst.norm_sum_at(level) + src.norm_sum_at(level);
        dst.norm_level = level;
        dst.n_articles += src.n_articles;
        dst.n_events += src.n_events;
        dst.first_time = min_time(dst.first_time, src.first_time);
        dst.last_time = max_time(dst.last_time, src.last_time);
        dst.last_seq = self.seq;
        self.stories.insert(big, dst);
        self.reindex_story(small);
        self.reindex_story(big);
        if let Some(ents) = self.story_entities.remove(&small) {
            let into = self.story_entities.entry(big).or_default();
            for (k, n) in ents {
                *into.entry(k).or_default() += n;
            }
        }
        for e in self.events.values_mut() {
            if e.story == small {
                e.story = big;
                self.dirty_events.insert(e.id);
            }
        }
        self.dirty_stories.insert(big);
        self.dirty_stories.remove(&small);
        self.merged_stories.push((small, big));
        big
    }

    /// Hands over what changed since the last call and retires events and stories that can
    /// no longer take articles, freeing their memory. Call after each committed batch.
    pub fn take_changes(&mut self) -> Changes {
        let mut changes = Changes {
            terms: self.vocab.take_pending(),
            n_docs: self.vocab.n_docs(),
            ..Changes::default()
        };
        changes.events = self
            .dirty_events
            .drain()
            .filter_map(|id| self.events.get(&id).cloned())
            .collect();
        changes.stories = self
            .dirty_stories
            .drain()
            .filter_map(|id| self.stories.get(&id).cloned())
            .collect();
        changes.events.sort_by_key(|e| e.id);
        changes.stories.sort_by_key(|s| s.id);
        changes.merged_events = std::mem::take(&mut self.merged_events);
        changes.merged_stories = std::mem::take(&mut self.merged_stories);

        let cfg = self.config.clone();
        let clock = self.clock;
        let expired = |last: Option<DateTime<Utc>>, window: f32| match (clock, last) {
            (Some(c), Some(l)) => (c - l).num_seconds() as f32 / 86_400.0 > window,
            _ => false,
        };
        let mut retire: Vec<EventId> = self
            .events
            .values()
            .filter(|e| expired(e.last_time, cfg.event_window_days))
            .map(|e| e.id)
            .collect();
        if self.events.len() - retire.len() > cfg.max_live_events {
            let gone: HashSet<EventId> = retire.iter().copied().collect();
            let mut rest: Vec<(u64, EventId)> = self
                .events
                .values()
                .filter(|e| !gone.contains(&e.id))
                .map(|e| (e.last_seq, e.id))
                .collect();
            rest.sort_unstable();
            let excess = rest.len() - cfg.max_live_events;
            retire.extend(rest.into_iter().take(excess).map(|(_, id)| id));
        }
        for id in &retire {
            if let Some(e) = self.events.remove(id) {
                self.unindex_event(&e);
            }
        }
        if !retire.is_empty() {
            self.forget_dead_redirects();
        }
        let live_stories: HashSet<StoryId> = self.events.values().map(|e| e.story).collect();
        let mut retire_stories: Vec<StoryId> = self
            .stories
            .values()
            .filter(|s| {
                !live_stories.contains(&s.id) && expired(s.last_time, cfg.story_window_days)
            })
            .map(|s| s.id)
            .collect();
        if self.stories.len() - retire_stories.len() > cfg.max_live_stories {
            let gone: HashSet<StoryId> = retire_stories.iter().copied().collect();
            let mut idle: Vec<(u64, StoryId)> = self
                .stories
                .values()
                .filter(|s| !gone.contains(&s.id) && !live_stories.contains(&s.id))
                .map(|s| (s.last_seq, s.id))
                .collect();
            idle.sort_unstable();
            let excess = self.stories.len() - retire_stories.len() - cfg.max_live_stories;
            retire_stories.extend(idle.into_iter().take(excess).map(|(_, id)| id));
        }
        for &id in &retire_stories {
            self.stories.remove(&id);
            self.story_entities.remove(&id);
            self.reindex_story(id);
        }
        changes.retired_events = retire;
        changes.retired_stories = retire_stories;
        if cfg.vocab_sweep_docs > 0 && self.vocab.docs_since_sweep() >= cfg.vocab_sweep_docs {
            changes.terms.forgotten = self.forget_idle_terms();
        }
        changes
    }

    /// Has the vocabulary forget idle terms that no live event or story holds. Runs after
    /// retirement, so the terms of events that just retired can go too.
    fn forget_idle_terms(&mut self) -> Vec<TermId> {
        let mut in_use = vec![false; self.vocab.id_bound()];
        let mut hold = |t: TermId| {
            if let Some(u) = in_use.get_mut(t as usize) {
                *u = true;
            }
        };
        let centroids = (self.events.values().map(|e| &e.centroid))
            .chain(self.stories.values().map(|s| &s.centroid));
        for c in centroids {
            c.weights.keys().for_each(|&t| hold(t));
        }
        // The story index may still list a term its centroid has since dropped.
        for terms in self.story_terms.values() {
            terms.iter().for_each(|&t| hold(t));
        }
        self.vocab
            .forget_idle(self.config.vocab_idle_sweeps, &in_use)
    }
}

/// Whether a cluster of `n` articles, last checked for merges at size `last` (0: never), is
/// due again.
/// One more article barely moves a large cluster's centroid, so large clusters are checked
/// when they have grown by an eighth: comparing whole centroids on every article was
/// the costliest part of clustering on long streams. The other side of any pair is
/// checked as it grows, too.
fn merge_check_due(n: u64, last: u64) -> bool {
    n <= 8 || n * 8 >= last * 9
}

fn min_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

fn max_time(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// The term of the largest weight (ties to the lower id, so runs are reproducible).
fn heaviest(items: impl Iterator<Item = (TermId, f32)>) -> Option<TermId> {
    items
        .reduce(|a, b| {
            if b.1 > a.1 || (b.1 == a.1 && b.0 < a.0) {
                b
            } else {
                a
            }
        })
        .map(|(t, _)| t)
}

/// Cosine of a unit vector with an unnormalised sum of unit vectors.
fn cosine_dense(unit: &[f32], sum: &[f32]) -> f32 {
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 || unit.len() != sum.len() {
        return 0.0;
    }
    unit.iter().zip(sum).map(|(a, b)| a * b).sum::<f32>() / norm
}

fn normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|x| x / norm).collect()
}

/// The article names years, the event names years, and none is shared.
fn years_conflict(article: &[i32], event: &HashMap<i32, u32>) -> bool {
    !article.is_empty() && !event.is_empty() && !article.iter().any(|y| event.contains_key(y))
}

fn years_disjoint(a: &HashMap<i32, u32>, b: &HashMap<i32, u32>) -> bool {
    !a.is_empty() && !b.is_empty() && !a.keys().any(|y| b.contains_key(y))
}

/// Cosine of entity mention counts.
fn weighted_overlap(a: &StableMap<String, f32>, b: Option<&StableMap<String, f32>>) -> f32 {
    let Some(b) = b else {
        return 0.0;
    };
    let norm = |m: &StableMap<String, f32>| m.values().map(|x| x * x).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    let dot: f32 = a.iter().filter_map(|(k, x)| b.get(k).map(|y| x * y)).sum();
    dot / (na * nb)
}

/// Cosine of two events' entity sets (binary).
fn entity_overlap_maps(a: &HashMap<String, u32>, b: &HashMap<String, u32>) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let shared = small.keys().filter(|k| large.contains_key(*k)).count();
    shared as f32 / ((a.len() * b.len()) as f32).sqrt()
}

/// Cosine of binary entity sets.
fn entity_overlap(article: &HashSet<&str>, event: &HashMap<String, u32>) -> f32 {
    if article.is_empty() || event.is_empty() {
        return 0.0;
    }
    let shared = article.iter().filter(|e| event.contains_key(**e)).count();
    shared as f32 / ((article.len() * event.len()) as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn features(text: &str, ents: &[&str], day: Option<u32>) -> ArticleFeatures {
        ArticleFeatures {
            terms: TermBag::new(text.split_whitespace()),
            entities: ents.iter().map(|s| s.to_string()).collect(),
            time: day.map(|d| Utc.with_ymd_and_hms(2024, 3, d, 12, 0, 0).unwrap()),
            ..ArticleFeatures::default()
        }
    }

    /// Features of a text naming `names` (terms of names, as the pipeline finds them) but
    /// no entities, so that no entity bonus moves the scores.
    fn named(text: &str, names: &[&str]) -> ArticleFeatures {
        ArticleFeatures {
            name_keys: names.iter().map(|s| vector::term_key(s)).collect(),
            ..features(text, &[], None)
        }
    }

    #[test]
    fn similar_articles_share_an_event_and_others_do_not() {
        let mut c = Clusterer::new(ClusterConfig::default());
        let a = c.assign(&features(
            "quake strike coast tsunami warn",
            &["chile"],
            Some(1),
        ));
        let b = c.assign(&features("quake coast tsunami damag", &["chile"], Some(1)));
        let x = c.assign(&features(
            "parliament vote budget approv",
            &["germany"],
            Some(2),
        ));
        assert!(a.new_event && a.new_story);
        assert_eq!((b.event, b.new_event), (a.event, false));
        assert_ne!(x.event, a.event);
        assert_ne!(x.story, a.story);
    }

    /// Assigns unrelated news, then three "black friday" reports, then a "black nativity"
    /// review sharing only "black" with them; returns whether the review joined them.
    fn one_shared_word_joins(config: ClusterConfig, day: Option<u32>) -> bool {
        let mut c = Clusterer::new(config);
        for text in [
            "parliament vote budget approv",
            "quake strike coast tsunami",
            "court rule appeal judg",
            "storm flood river evacu",
        ] {
            c.assign(&features(text, &[], day));
        }
        let event = c
            .assign(&features("black friday shopper deal", &[], day))
            .event;
        for text in ["black friday deal store", "black friday shopper crowd"] {
            assert_eq!(c.assign(&features(text, &[], day)).event, event);
        }
        c.assign(&features("black nativity review", &[], day)).event == event
    }

    #[test]
    fn one_shared_word_is_enough_only_when_time_backs_it() {
        let loose = ClusterConfig {
            min_shared_keys: 1,
            ..ClusterConfig::default()
        };
        assert!(
            one_shared_word_joins(loose, None),
            "the case needs the rule"
        );
        assert!(!one_shared_word_joins(ClusterConfig::default(), None));
        // Within the burst (same minute) the shared word is backed by time.
        assert!(one_shared_word_joins(ClusterConfig::default(), Some(1)));
    }

    #[test]
    fn old_events_take_no_new_articles_and_retire() {
        let mut c = Clusterer::new(ClusterConfig::default());
        let a = c.assign(&features("quake strike coast tsunami", &["chile"], Some(1)));
        let _ = c.assign(&features("unrelated market stock rally", &[], Some(20)));
        let changes = c.take_changes();
        assert!(changes.retired_events.contains(&a.event));
        let b = c.assign(&features(
            "quake strike coast tsunami",
            &["chile"],
            Some(21),
        ));
        assert_ne!(b.event, a.event);
    }

    #[test]
    fn stories_beyond_the_cap_retire_least_recent_first_but_never_with_live_events() {
        let cfg = ClusterConfig {
            max_live_stories: 2,
            ..ClusterConfig::default()
        };
        let mut c = Clusterer::new(cfg);
        let texts = [
            "quake strike coast tsunami",
            "parliament vote budget deficit",
            "football final stadium goal",
            "election ballot candidate turnout",
        ];
        // Four unrelated stories on day 1; by day 8 their events have all retired (2-day
        // window), while the stories are still inside their 45-day window.
        let first: Vec<Assignment> = texts
            .iter()
            .map(|t| c.assign(&features(t, &[], Some(1))))
            .collect();
        let _ = c.take_changes();
        let fresh = c.assign(&features("comet telescope orbit discovery", &[], Some(8)));
        let changes = c.take_changes();
        let mut retired = changes.retired_stories.clone();
        retired.sort_unstable();
        // Five stories, cap two: the three least recently active idle ones go.
        let oldest: Vec<StoryId> = first.iter().take(3).map(|a| a.story).collect();
        assert_eq!(retired, oldest);
        assert!(
            !retired.contains(&fresh.story),
            "a story with a live event stays"
        );
    }

    #[test]
    fn a_large_event_keeps_its_most_mentioned_entities_and_unfiles_the_rest() {
        let mut c = Clusterer::new(ClusterConfig::default());
        let text = "quake strike coast tsunami warning";
        let first = c.assign(&features(text, &["chile"], Some(1)));
        // 250 articles of the same event, each naming the event's place and one passing name.
        let names: Vec<String> = (0..250).map(|i| format!("passer{i}")).collect();
        for n in &names {
            let a = c.assign(&features(text, &["chile", n], Some(1)));
            assert_eq!(a.event, first.event);
        }
        let e = &c.events[&first.event];
        assert!(
            e.entities.len() <= MAX_EVENT_ENTITIES * 2,
            "{}",
            e.entities.len()
        );
        assert_eq!(e.entities.get("chile"), Some(&251), "the main entity stays");
        // Every dropped name left the index too; every kept one is filed.
        for n in &names {
            let filed = c.by_entity.get(n).is_some_and(|s| s.contains(&first.event));
            assert_eq!(filed, e.entities.contains_key(n), "{n}");
        }
    }

    /// An article as close to two live events as to either starts a third.
    #[test]
    fn an_article_between_two_events_starts_its_own() {
        let words = |prefix: &str, n: usize| -> String {
            (0..n).map(|i| format!("{prefix}{i} ")).collect()
        };
        let a = format!("{}{}", words("bg", 10), words("a", 100));
        let b = format!("{}{}", words("bg", 10), words("b", 100));
        let probe = format!("{}{}{}", words("bg", 10), words("a", 50), words("b", 50));
        for (margin, own) in [(0.0, false), (0.05, true)] {
            let mut c = Clusterer::new(ClusterConfig {
                ambiguity_margin: margin,
                ..ClusterConfig::default()
            });
            // Two entities each: an undated article's candidate must share two keys with it,
            // and its heaviest terms (ties to the older) all point to the first event.
            let ea = c.assign(&features(&a, &["x", "x2"], None)).event;
            assert_eq!(c.assign(&features(&a, &["x", "x2"], None)).event, ea);
            let eb = c.assign(&features(&b, &["y", "y2"], None)).event;
            assert_eq!(c.assign(&features(&b, &["y", "y2"], None)).event, eb);
            assert_ne!(ea, eb);
            let p = c.assign(&features(&probe, &["x", "x2", "y", "y2"], None));
            assert_eq!(p.new_event, own, "margin {margin}");
        }
    }

    /// The mean-cosine estimate of an event formed at the start of a stream follows the IDF
    /// as it rises: after a hundred more documents it stays near the mean cosine computed
    /// member by member, where the sum of the norms the members had when they joined put it
    /// at nearly three times that.
    #[test]
    fn mean_cosine_of_an_early_event_follows_the_idf() {
        let members = [
            "pompeo korea kim summit trip secret director",
            "pompeo korea kim summit meet envoy visit",
            "pompeo korea kim summit talks plan week",
        ];
        let mut c = Clusterer::new(ClusterConfig::default());
        let event = c.assign(&features(members[0], &[], None)).event;
        for text in &members[1..] {
            assert_eq!(c.assign(&features(text, &[], None)).event, event);
        }
        for i in 0..100 {
            let text = format!("filler{i} other{i} words{i} korea");
            c.assign(&features(&text, &[], None));
        }
        let mut vocab_probe = |text: &str| {
            let counts = c.vocab.counts(&TermBag::new(text.split_whitespace()));
            tfidf_with_norm(&counts, &c.vocab)
        };
        let probe = vocab_probe("kim korea test nuclear halt pompeo");
        let vectors: Vec<_> = members.iter().map(|m| vocab_probe(m).0).collect();
        let dot = |a: &[(TermId, f32)], b: &[(TermId, f32)]| -> f32 {
            a.iter()
                .filter_map(|(t, x)| b.iter().find(|(u, _)| u == t).map(|(_, y)| x * y))
                .sum()
        };
        let exact = vectors.iter().map(|v| dot(&probe.0, v)).sum::<f32>() / 3.0;
        let e = &c.events[&event];
        let level = c.vocab.idf_level();
        let estimate = e.centroid.dot(&probe.0, &c.vocab) / e.signals.norm_sum_at(level);
        let stale = e.centroid.dot(&probe.0, &c.vocab) / e.signals.norm_sum;
        assert!(
            (estimate / exact - 1.0).abs() < 0.25,
            "{estimate} vs {exact}"
        );
        assert!(stale > exact * 1.5, "{stale} vs {exact}");
    }

    #[test]
    fn disjoint_years_in_the_lead_keep_same_kind_events_apart() {
        // Disjoint years halve the score: enough to fall under a strict threshold.
        let mut c = Clusterer::new(ClusterConfig {
            event_threshold: 0.8,
            merge_threshold: 0.9,
            ..ClusterConfig::default()
        });
        let mut a = features("quake strike island coast injur", &["iran"], None);
        a.years = vec![2005];
        let mut b = features("quake strike island coast injur", &["iran"], None);
        b.years = vec![2008];
        let mut d = features("quake strike island coast injur", &["iran"], None);
        d.years = vec![2005, 2006];
        let (a, b, d) = (c.assign(&a), c.assign(&b), c.assign(&d));
        assert_ne!(a.event, b.event);
        assert_eq!(a.event, d.event);
        assert_eq!(a.story, b.story, "same kind of event, same story");
    }

    #[test]
    fn large_clusters_are_checked_for_merges_as_they_grow_by_an_eighth() {
        // Never checked, or small: always.
        assert!(merge_check_due(500, 0));
        assert!((1..=8).all(|n| merge_check_due(n, n)));
        // Large: not on every article, but once it has grown by an eighth.
        assert!(!merge_check_due(9, 9));
        assert!(!merge_check_due(17, 16));
        assert!(merge_check_due(18, 16));
        assert!(!merge_check_due(449, 400));
        assert!(merge_check_due(450, 400));
        // A merge into a cluster makes it due at once.
        assert!(merge_check_due(900, 400));
    }

    #[test]
    fn events_that_converge_merge_and_the_store_learns_where() {
        let cfg = ClusterConfig {
            event_threshold: 0.9,
            merge_threshold: 0.6,
            ..ClusterConfig::default()
        };
        let mut c = Clusterer::new(cfg);
        let a = c.assign(&features("vote parliament budget", &[], Some(1)));
        let b = c.assign(&features("vote senate tax", &[], Some(1)));
        assert_ne!(a.event, b.event);
        // An article bridging both pulls b's centroid toward a's: they merge.
        let m = c.assign(&features("vote parliament budget senate tax", &[], Some(1)));
        assert_eq!(c.resolve(a.event), c.resolve(b.event));
        assert_eq!(m.event, c.resolve(a.event));
        let changes = c.take_changes();
        assert!(!changes.merged_events.is_empty());
        for &(from, _) in &changes.merged_events {
            assert_eq!(changes.resolve_event(from), m.event);
        }
        // Once the merged event retires, its merge trail goes too: the map follows the
        // live events, not every merge of the run.
        let _ = c.assign(&features("unrelated market stock rally", &[], Some(20)));
        let changes = c.take_changes();
        assert!(changes.retired_events.contains(&m.event));
        assert!(c.redirect.is_empty(), "{:?}", c.redirect);
    }

    /// Two live events with centroids of one direction: `tight` of two full copies of the
    /// article's words (plus one word it lacks), `loose` of two reports sharing none, one
    /// with each half of them. By centroid `loose` is the closer; by mean cosine to the
    /// members (what the reports are actually like) `tight` is.
    fn tight_and_loose(config: ClusterConfig) -> (Clusterer, EventId) {
        // `loose` is event 1, `tight` event 2.
        let words: Vec<String> = (0..120).map(|i| format!("w{i}")).collect();
        let mut rows: Vec<(TermId, String, u32)> = words
            .iter()
            .enumerate()
            .map(|(i, w)| (i as TermId, w.clone(), 3))
            .collect();
        rows.push((120, "extra".into(), 2));
        let vocab = Vocab::restore(rows, 4);
        let idf = vocab.idf(0);
        let weights = |ids: std::ops::Range<u32>, w: f32| -> StableMap<TermId, f32> {
            ids.map(|id| (id, w)).collect()
        };
        let event = |id: EventId, weights: StableMap<TermId, f32>, norm_sum: f32| EventState {
            id,
            story: 1,
            first_time: None,
            last_time: None,
            n_articles: 2,
            centroid: Centroid::from_weights(weights, &vocab),
            entities: HashMap::default(),
            last_seq: 1,
            signals: EventSignals {
                norm_sum,
                ..EventSignals::default()
            },
            merge_checked_at: 0,
        };
        // Member norms when they joined: all 120 words (and "extra"), or 60 of them.
        let full = (120.0f32 * idf * idf + vocab.idf(120).powi(2)).sqrt();
        let half = (60.0f32).sqrt() * idf;
        let loose = event(1, weights(0..120, 1.0), 2.0 * half);
        let mut tight_weights = weights(0..120, 2.0);
        tight_weights.insert(120, 2.0);
        let tight = event(2, tight_weights, 2.0 * full);
        let story = StoryState {
            id: 1,
            first_time: None,
            last_time: None,
            n_articles: 4,
            n_events: 2,
            centroid: Centroid::from_weights(weights(0..120, 3.0), &vocab),
            last_seq: 1,
            norm_sum: 2.0 * (full + half),
            norm_level: 0.0,
            merge_checked_at: 0,
        };
        let c = Clusterer::restore(
            config,
            vocab,
            vec![loose, tight],
            vec![story],
            3,
            2,
            None,
            1,
        );
        (c, 2)
    }

    #[test]
    fn an_article_joins_the_event_whose_reports_it_is_like_not_the_nearest_centroid() {
        let article = features(
            &(0..120).map(|i| format!("w{i} ")).collect::<String>(),
            &[],
            None,
        );
        let (mut c, tight) = tight_and_loose(ClusterConfig::default());
        assert_eq!(c.assign(&article).event, tight, "average link");
        let centroid_only = ClusterConfig {
            mean_link: 0.0,
            ..ClusterConfig::default()
        };
        let (mut c, _) = tight_and_loose(centroid_only);
        assert_eq!(c.assign(&article).event, 1, "centroid cosine alone: loose");
    }

    /// Two reports of one kind of event that differ in their main participant: each says
    /// its own name again and again, and the second names the first's once in passing.
    #[test]
    fn an_article_whose_protagonist_the_event_never_names_starts_its_own() {
        // Each report: words of the kind of event (said twice, so that they find the event),
        // words of its own, and its participant's name again and again.
        let report = |own: &str, name: &str, times: usize, extra: &str| -> String {
            let kind: String = (0..30).map(|i| format!("w{i} w{i} ")).collect();
            let own: String = (0..60).map(|i| format!("{own}{i} ")).collect();
            format!("{kind}{own}{}{extra}", format!("{name} ").repeat(times))
        };
        let first = report("a", "rahman", 6, "");
        let second = report("b", "thompson", 6, "rahman");
        let same = report("c", "rahman", 5, "");
        let default = ClusterConfig::default().protagonist_penalty;
        for (penalty, apart) in [(1.0, false), (default, true)] {
            let mut c = Clusterer::new(ClusterConfig {
                protagonist_penalty: penalty,
                ..ClusterConfig::default()
            });
            let a = c.assign(&named(&first, &["rahman"]));
            let b = c.assign(&named(&second, &["thompson", "rahman"]));
            assert_eq!(a.event != b.event, apart, "penalty {penalty}");
            // A report naming the same participant still joins.
            assert_eq!(c.assign(&named(&same, &["rahman"])).event, a.event);
        }
        // A word said again and again is no protagonist unless it is part of a name.
        let mut c = Clusterer::new(ClusterConfig::default());
        let a = c.assign(&features(&first, &[], None));
        let b = c.assign(&features(&second, &[], None));
        assert_eq!(a.event, b.event, "no names, no protagonists");
    }

    /// An event of several reports none of which says the article's most repeated name:
    /// the article is about something else even though it shares the event's own names.
    #[test]
    fn an_article_whose_protagonist_a_grown_event_never_says_is_not_taken_in() {
        // Each report of the trip: words of the kind, its own words, the place again and again.
        let report = |own: &str| -> String {
            let kind: String = (0..30).map(|i| format!("w{i} w{i} ")).collect();
            let own: String = (0..20).map(|i| format!("{own}x{i} ")).collect();
            format!("{kind}{own}korea korea korea korea korea")
        };
        // Half the words of the kind, the place, and its own repeated name.
        let half: String = (0..15).map(|i| format!("w{i} w{i} ")).collect();
        let tests = format!("{half}korea korea korea korea korea {}", "test ".repeat(5));
        for (min_articles, apart) in [(u64::MAX, false), (4, true)] {
            let mut c = Clusterer::new(ClusterConfig {
                protagonist_absent_articles: min_articles,
                ..ClusterConfig::default()
            });
            let trip = c.assign(&named(&report("a0"), &["korea"])).event;
            for i in 1..4 {
                let own = format!("a{i}");
                let e = c.assign(&named(&report(&own), &["korea"])).event;
                assert_eq!(e, trip);
            }
            // Whether it is taken in; a merge check may still join the two clusters later.
            let a = c.assign(&named(&tests, &["korea", "test"]));
            assert_eq!(a.new_event, apart, "at {min_articles}");
        }
    }

    #[test]
    fn copies_join_the_event_of_their_original() {
        let mut c = Clusterer::new(ClusterConfig::default());
        let a = c.assign(&features("quake strike coast", &[], Some(1)));
        let mut f = features("totally different words", &[], Some(1));
        f.copy_of_event = Some(a.event);
        assert_eq!(c.assign(&f).event, a.event);
    }
}
