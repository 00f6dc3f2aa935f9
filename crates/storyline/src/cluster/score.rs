//! Scoring: how close an article is to an event or story, and one cluster to another.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::state::{EventState, TimeSpan};
use super::vector::{self, ArticleVector, Centroid, StableMap, TermId};
use super::{ArticleFeatures, Clusterer};

impl Clusterer {
    /// The article-to-event score: TF-IDF cosine, shared entities, embedding, burst (from
    /// `time`, where the article is placed), damped by time distance (`half_lives` of the
    /// article's pace) and by disjoint years or trip numbers. `f32::NEG_INFINITY` when it cannot reach
    /// `threshold` (then the entities are never compared).
    pub(super) fn score(
        &self,
        e: &EventState,
        vector: &ArticleVector,
        entities: &HashSet<&str>,
        f: &ArticleFeatures,
        (time, half_lives): (Option<DateTime<Utc>>, Option<f32>),
        threshold: f32,
    ) -> f32 {
        let cfg = &self.config;
        let norm_sum = e.signals.norm_sum_at(self.vocab.idf_level());
        let lexical = self.lexical_blend(&e.centroid, norm_sum, vector);
        let embedding = match (&f.embedding, &e.signals.embedding) {
            (Some(v), Some(sum)) => cfg.embedding_bonus(vector.len(), cosine_dense(v, sum)),
            _ => 0.0,
        };
        let burst = match (time, e.last_time) {
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
        cfg.damped(
            score,
            half_lives,
            (
                numbers_conflict(&f.years, &e.signals.years),
                numbers_conflict(&f.series, &e.signals.series),
            ),
        )
    }

    /// Lexical similarity of an article to an event or story (its centroid, and its
    /// members' norms summing to `norm_sum`): centroid cosine blended with the article's
    /// estimated mean cosine to the members (average link, see `mean_link`).
    pub(super) fn lexical_blend(
        &self,
        centroid: &Centroid,
        norm_sum: f32,
        vector: &ArticleVector,
    ) -> f32 {
        let norm = centroid.norm();
        if norm == 0.0 {
            return 0.0;
        }
        let dot = centroid.dot(vector);
        let mean = (norm_sum > 0.0).then(|| dot / norm_sum);
        self.blend(vector.len(), dot / norm, mean)
    }

    /// [`Clusterer::lexical_blend`] of two clusters: centroid to centroid, blended with
    /// their estimated mean pairwise cosine.
    pub(super) fn clusters_blend(
        &self,
        a: (&Centroid, f32),
        b: (&Centroid, f32),
        n_terms: usize,
    ) -> f32 {
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
    pub(super) fn protagonist_of_counts(
        &self,
        counts: &[(TermId, f32)],
        names: &[TermId],
    ) -> Option<TermId> {
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
    pub(super) fn protagonist_of_centroid(
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
            c.weights()
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
    pub(super) fn protagonists_differ(
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
        let theirs_weight = |t: TermId| centroid.weight(t).unwrap_or(0.0);
        theirs_weight(ours) <= passing
            && ((one_sided && theirs_weight(ours) == 0.0)
                || self
                    .protagonist_of_centroid(centroid, names)
                    .is_some_and(|theirs| ours_weight(theirs) <= passing))
    }
}

/// Whether `score` for cluster `id` beats the best so far (ties to the lower id, so runs
/// are reproducible).
pub(super) fn beats<I: Ord + Copy>(best: Option<(I, f32)>, id: I, score: f32) -> bool {
    best.is_none_or(|(bid, bs)| score > bs || (score == bs && id < bid))
}

/// Days from `a` to the span `first..=last` (0 inside it).
pub(super) fn days_apart(
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
pub(super) fn spans_apart(a: TimeSpan, b: TimeSpan) -> Option<f32> {
    let (Some(first), Some(last)) = a else {
        return None;
    };
    days_apart(Some(first), b.0, b.1)
        .into_iter()
        .chain(days_apart(Some(last), b.0, b.1))
        .reduce(f32::min)
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
pub(super) fn cosine_dense(unit: &[f32], sum: &[f32]) -> f32 {
    let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 || unit.len() != sum.len() {
        return 0.0;
    }
    unit.iter().zip(sum).map(|(a, b)| a * b).sum::<f32>() / norm
}

pub(super) fn normalised(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|x| x / norm).collect()
}

/// The article names some numbers (years, trips of a series), the event names some, and
/// none is shared.
pub(super) fn numbers_conflict<K: Eq + std::hash::Hash>(
    article: &[K],
    event: &HashMap<K, u32>,
) -> bool {
    !article.is_empty() && !event.is_empty() && !article.iter().any(|y| event.contains_key(y))
}

/// [`numbers_conflict`] of two clusters.
pub(super) fn numbers_disjoint<K: Eq + std::hash::Hash>(
    a: &HashMap<K, u32>,
    b: &HashMap<K, u32>,
) -> bool {
    !a.is_empty() && !b.is_empty() && !a.keys().any(|y| b.contains_key(y))
}

/// Cosine of entity mention counts.
pub(super) fn weighted_overlap(
    a: &StableMap<String, f32>,
    b: Option<&StableMap<String, f32>>,
) -> f32 {
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
pub(super) fn entity_overlap_maps(a: &HashMap<String, u32>, b: &HashMap<String, u32>) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let shared = small.keys().filter(|k| large.contains_key(*k)).count();
    shared as f32 / ((a.len() * b.len()) as f32).sqrt()
}

/// Cosine of binary entity sets.
pub(super) fn entity_overlap(article: &HashSet<&str>, event: &HashMap<String, u32>) -> f32 {
    if article.is_empty() || event.is_empty() {
        return 0.0;
    }
    let shared = article.iter().filter(|e| event.contains_key(**e)).count();
    shared as f32 / ((article.len() * event.len()) as f32).sqrt()
}
