//! The clusterer's settings, and the thresholds and weights they give a text of a given
//! length.

use serde::{Deserialize, Serialize};

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
    /// `event_window_days` for full reports. A stream of headlines repeats one item within
    /// hours, but follow-up reports of one incident (the victims named, a suspect charged)
    /// come out over days and weeks. A text between a headline and a full report gets a
    /// window in between, geometric in its share of a full article's terms (see `pace`).
    pub report_window_days: f32,
    /// `event_half_life_days` for full reports, interpolated the same way.
    pub report_half_life_days: f32,
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
    /// Score multiplier when article and event both number trips or rounds of a series
    /// ("sixth visit", "seventh round of talks") and share no number: the numbers say
    /// outright that they are two occurrences, however alike the words.
    pub series_penalty: f32,
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
    /// An event checked for a merge is compared only with live events holding one of its
    /// this many heaviest terms (weight × IDF): two events of one story share what one of
    /// them is about, and events that overlap only in lighter words are neighbouring
    /// stories. A headline event's dozen heaviest terms reach well into words its members
    /// use once, and looking candidates up through all twelve merged such neighbours
    /// (googlenews-dev 0.842 -> 0.851, NMI 0.906 -> 0.912, better in each half and
    /// quarter; full-article sets unchanged).
    pub merge_terms: usize,
    /// Bonus for a story sharing the main people, places and organisations (cosine of
    /// entity mention counts): a story's events share participants more than words.
    /// Off by default: on ECB+ topics it linked same-kind stories (two shootings) as
    /// often as it joined the two events of one topic (0.3 measured 0.796 vs 0.812).
    pub story_entity_weight: f32,
    /// Weight of sentence-embedding cosine (when the pipeline has a model), counted above
    /// `embedding_offset`, the cosine of unrelated news texts.
    pub embedding_weight: f32,
    pub embedding_offset: f32,
    /// Count of the acronym a run of words in a text's lead spells ("grand theft auto":
    /// "gta"), added to its terms when the stream uses that acronym as a word: headlines
    /// abbreviate the names that reports spell out. 0 turns it off.
    pub acronym_weight: f32,
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
    /// (see [`ArticleFeatures::name_keys`](super::ArticleFeatures::name_keys)), mostly the main participant's. High, so that only a name an article keeps coming back to counts.
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
    /// A full report whose particulars (the words of the people, places and organisations
    /// it names, and its figures) meet an event's less than this (cosine against the
    /// event's counts of them) reports another occurrence of the event's kind, however
    /// alike the words: two reports of one incident name its victims, its town and its
    /// toll, while two shootings, two pirate attacks or two quakes share only their
    /// vocabulary and the region. Well under a report's cosine to its own event (on ECB+,
    /// GVC and NewsWCL50, 2 % of those lie under 0.17–0.30), above a third of those to
    /// another event of the same kind; every set scores the same from 0.11 to 0.135. 0
    /// turns it off.
    pub particulars_min_cosine: f32,
    /// Score multiplier then: nearly a veto, as for protagonists.
    pub particulars_penalty: f32,
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
            report_window_days: 60.0,
            report_half_life_days: 30.0,
            story_window_days: 45.0,
            max_live_events: 5_000,
            max_live_stories: 10_000,
            max_centroid_terms: 400,
            vocab_sweep_docs: 50_000,
            vocab_idle_sweeps: 2,
            year_penalty: 0.5,
            series_penalty: 0.3,
            burst_weight: 0.08,
            burst_minutes: 5.0,
            min_shared_keys: 2,
            merge_threshold: 0.45,
            story_merge_threshold: 0.45,
            merge_terms: 3,
            story_entity_weight: 0.0,
            embedding_weight: 1.0,
            embedding_offset: 0.7,
            acronym_weight: 1.0,
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
            particulars_min_cosine: 0.12,
            particulars_penalty: 0.3,
        }
    }
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
    pub(super) fn embedding_bonus(&self, n_terms: usize, cosine: f32) -> f32 {
        self.embedding_weight * full_article_share(n_terms) * (cosine - self.embedding_offset)
    }

    /// The time window and half-life, in days, for a text of `n_terms` distinct terms: the
    /// headline values for the shortest texts, the full-report values from
    /// [`REFERENCE_TERMS`] on, geometric in between.
    pub(super) fn pace(&self, n_terms: usize) -> (f32, f32) {
        let share = full_article_share(n_terms);
        let between = |short: f32, long: f32| {
            if short > 0.0 && long > 0.0 {
                short * (long / short).powf(share)
            } else {
                short
            }
        };
        (
            between(self.event_window_days, self.report_window_days),
            between(self.event_half_life_days, self.report_half_life_days),
        )
    }

    /// A named day is precise to a day: it can place a text only where the time model's
    /// half-life is at least that long. Full reports (half-life 30 days) take the day they
    /// name; headlines (3.6 hours) keep their publication time, which for them is sharper.
    pub const NAMED_DAY_MIN_HALF_LIFE_DAYS: f32 = 1.0;

    /// The longest an event can wait for its next article: its window at any length.
    pub(super) fn longest_event_window(&self) -> f32 {
        self.event_window_days.max(self.report_window_days)
    }

    /// A score damped by the time between the two spans, counted in half-lives of the
    /// text's pace (see [`ClusterConfig::pace`]), and by disjoint years and trip numbers.
    pub(super) fn damped(
        &self,
        mut score: f32,
        half_lives: Option<f32>,
        (years_apart, series_apart): (bool, bool),
    ) -> f32 {
        if let Some(h) = half_lives {
            score *= 1.0 / (1.0 + h);
        }
        if years_apart {
            score *= self.year_penalty;
        }
        if series_apart {
            score *= self.series_penalty;
        }
        score
    }

    /// Whether the particulars rule judges a text of `n_terms` distinct terms: a headline
    /// or a snippet names too few of its event's particulars to be held to them (applied
    /// to every text, uci-stream fell from 0.870 to 0.855).
    pub(super) fn judges_particulars(&self, n_terms: usize) -> bool {
        self.particulars_min_cosine > 0.0 && full_article_share(n_terms) >= 0.5
    }

    /// Weight of the average-link estimate for a text of `n_terms` distinct terms: full for
    /// articles, little for headlines, whose few words make every mean cosine small.
    pub(super) fn link_share(&self, n_terms: usize) -> f32 {
        self.mean_link * full_article_share(n_terms)
    }

    /// Whether a score whose parts before the time and year damping add up to at most
    /// `bound` must stay under `threshold`: the damping factors lie in (0, 1], so it can
    /// only shrink a positive score. The margin keeps float rounding (the parts are added
    /// in another order in the bound) from ever deciding; with unusual settings the answer
    /// is always no.
    pub(super) fn cannot_reach(&self, bound: f32, threshold: f32) -> bool {
        const MARGIN: f32 = 1e-4;
        threshold > 0.0
            && self.entity_weight >= 0.0
            && (0.0..=1.0).contains(&self.year_penalty)
            && (0.0..=1.0).contains(&self.series_penalty)
            && self.event_half_life_days > 0.0
            && bound < threshold - MARGIN
    }

    /// The threshold for a text of `n_terms` distinct terms, for a score that blends
    /// centroid cosine and mean cosine as [`Clusterer::lexical_blend`](super::Clusterer::lexical_blend) does: each part's
    /// threshold scaled by length with its own slope, blended with the same share.
    pub(super) fn blended(&self, centroid: f32, mean: f32, n_terms: usize) -> f32 {
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
