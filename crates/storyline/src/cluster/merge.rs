//! Merging: a live event (or story) that has grown close to another joins it, so that one
//! split early, before its vocabulary settled, heals. One procedure serves both levels;
//! [`Level`] says what differs: the candidates, the score and what a merge moves.

use std::cell::OnceCell;
use std::cmp::Reverse;

use rustc_hash::FxHashMap as HashMap;

use super::config::ClusterConfig;
use super::index::MERGE_CANDIDATES;
use super::score::{
    beats, cosine_dense, entity_overlap_maps, normalised, numbers_disjoint, spans_apart,
    weighted_overlap,
};
use super::state::{either_time, prune_entities, EventState, StoryState, TimeSpan};
use super::vector::{Centroid, TermId};
use super::Clusterer;
use crate::core::{EventId, StoryId};

/// Further merge checks of an event that has just merged (see [`Clusterer::assign`]).
pub(super) const MERGE_ROUNDS: usize = 3;

/// What a merge check reads of a live event or story.
pub(super) trait Cluster {
    fn n_articles(&self) -> u64;
    /// Articles it held at its last merge check, 0 before the first.
    fn merge_checked_at(&mut self) -> &mut u64;
    fn span(&self) -> TimeSpan;
    fn centroid(&self) -> &Centroid;
}

/// Where the clusterer keeps the live clusters of one level.
pub(super) trait Live {
    type Id: Copy + Eq + Ord + std::hash::Hash;
    type State: Cluster;
    fn live(c: &Clusterer) -> &HashMap<Self::Id, Self::State>;
    fn live_mut(c: &mut Clusterer) -> &mut HashMap<Self::Id, Self::State>;
}

/// One level of clusters the clusterer merges at.
pub(super) trait Level: Live {
    /// The merge threshold for a text of `n_terms` distinct terms.
    fn threshold(cfg: &ClusterConfig, n_terms: usize) -> f32;
    /// Days apart beyond which two clusters never merge.
    /// How far apart in days two clusters of texts of `n_terms` distinct terms may be.
    fn window(cfg: &ClusterConfig, n_terms: usize) -> f32;
    /// Live clusters that may be close to `id`, strongest first.
    fn candidates(c: &Clusterer, id: Self::Id) -> Vec<Self::Id>;
    /// The members' summed norms under the IDF of `level` (see `EventSignals::norm_sum`).
    fn norm_sum(s: &Self::State, level: f32) -> f32;
    /// How close the pair's clusters are; under the threshold when they stay apart.
    fn score(c: &Clusterer, p: &Pair<'_, Self::State>) -> f32;
    /// Folds live cluster `from` into `into` and notes the merge.
    fn absorb(c: &mut Clusterer, from: Self::Id, into: Self::Id);
}

pub(super) struct Events;
pub(super) struct Stories;

/// The cluster checked for a merge and one candidate.
pub(super) struct Pair<'a, S> {
    pub(super) this: &'a S,
    pub(super) other: &'a S,
    /// Days apart, when both are dated.
    pub(super) gap: Option<f32>,
    /// Centroid and mean cosine blended (see [`Clusterer::clusters_blend`]).
    pub(super) lexical: f32,
    /// Distinct terms of the article that set the check off, and the threshold for it.
    pub(super) n_terms: usize,
    pub(super) threshold: f32,
    /// The checked cluster's protagonist, found once, when a candidate first passes the
    /// threshold.
    pub(super) protagonist: &'a OnceCell<Option<TermId>>,
}

impl Clusterer {
    /// Merges `id` into the live cluster of its level it has grown close to, if any;
    /// returns where its articles now are. Only the cluster just touched is checked: the
    /// others have not moved since their own last check.
    pub(super) fn maybe_merge<L: Level>(&mut self, id: L::Id, n_terms: usize) -> L::Id {
        let Some(c) = L::live_mut(self).get_mut(&id) else {
            return id;
        };
        let n = c.n_articles();
        if !merge_check_due(n, *c.merge_checked_at()) {
            return id;
        }
        *c.merge_checked_at() = n;
        let live = L::live(self);
        let this = &live[&id];
        let threshold = L::threshold(&self.config, n_terms);
        let window = L::window(&self.config, n_terms);
        let level = self.vocab.idf_level();
        let protagonist = OnceCell::new();
        let mut best: Option<(L::Id, f32)> = None;
        for other in L::candidates(self, id) {
            let Some(o) = live.get(&other) else {
                continue;
            };
            let gap = spans_apart(this.span(), o.span());
            if gap.is_some_and(|g| g > window) {
                continue;
            }
            let lexical = self.clusters_blend(
                (this.centroid(), L::norm_sum(this, level)),
                (o.centroid(), L::norm_sum(o, level)),
                n_terms,
            );
            let pair = Pair {
                this,
                other: o,
                gap,
                lexical,
                n_terms,
                threshold,
                protagonist: &protagonist,
            };
            let score = L::score(self, &pair);
            if score >= threshold && beats(best, other, score) {
                best = Some((other, score));
            }
        }
        let Some((other, _)) = best else {
            return id;
        };
        // The larger (then older) cluster absorbs the other, so ids stay stable where most
        // articles already point.
        let size = |id: L::Id| live.get(&id).map_or(0, Cluster::n_articles);
        let (big, small) = if (size(id), Reverse(id)) >= (size(other), Reverse(other)) {
            (id, other)
        } else {
            (other, id)
        };
        L::absorb(self, small, big);
        big
    }
}

/// Events and stories keep the same fields for what a merge check reads, each level in
/// its own map.
macro_rules! levels {
    ($($level:ty => $id:ty, $state:ty, $map:ident);*) => {$(
        impl Cluster for $state {
            fn n_articles(&self) -> u64 {
                self.n_articles
            }

            fn merge_checked_at(&mut self) -> &mut u64 {
                &mut self.merge_checked_at
            }

            fn span(&self) -> TimeSpan {
                (self.first_time, self.last_time)
            }

            fn centroid(&self) -> &Centroid {
                &self.centroid
            }
        }

        impl Live for $level {
            type Id = $id;
            type State = $state;

            fn live(c: &Clusterer) -> &HashMap<$id, $state> {
                &c.$map
            }

            fn live_mut(c: &mut Clusterer) -> &mut HashMap<$id, $state> {
                &mut c.$map
            }
        }
    )*};
}

levels!(Events => EventId, EventState, events; Stories => StoryId, StoryState, stories);

impl Level for Events {
    fn threshold(cfg: &ClusterConfig, n_terms: usize) -> f32 {
        cfg.blended(cfg.merge_threshold, cfg.mean_merge_threshold, n_terms)
    }

    fn window(cfg: &ClusterConfig, n_terms: usize) -> f32 {
        cfg.pace(n_terms).0
    }

    fn candidates(c: &Clusterer, id: EventId) -> Vec<EventId> {
        let terms = c.events[&id]
            .centroid
            .top_terms(c.config.merge_terms, &c.vocab);
        c.index.merge_candidates(&terms, id)
    }

    fn norm_sum(e: &EventState, level: f32) -> f32 {
        e.signals.norm_sum_at(level)
    }

    fn score(c: &Clusterer, p: &Pair<'_, EventState>) -> f32 {
        let (e, o, n_terms, threshold) = (p.this, p.other, p.n_terms, p.threshold);
        let cfg = &c.config;
        let lexical = p.lexical;
        let embedding = match (&e.signals.embedding, &o.signals.embedding) {
            (Some(a), Some(b)) => cfg.embedding_bonus(n_terms, cosine_dense(&normalised(a), b)),
            _ => 0.0,
        };
        // As in `score`: shared entities are compared only when they could matter.
        if cfg.cannot_reach(lexical + embedding + cfg.entity_weight, threshold) {
            return f32::NEG_INFINITY;
        }
        let entity = entity_overlap_maps(&e.entities, &o.entities);
        let mut score = cfg.damped(
            lexical + cfg.entity_weight * entity + embedding,
            p.gap.map(|g| g / cfg.pace(n_terms).1),
            (
                numbers_disjoint(&e.signals.years, &o.signals.years),
                numbers_disjoint(&e.signals.series, &o.signals.series),
            ),
        );
        if score >= threshold
            && c.protagonists_differ(
                *p.protagonist.get_or_init(|| {
                    c.protagonist_of_centroid(&e.centroid, e.signals.names.as_ref())
                }),
                (&o.centroid, o.signals.names.as_ref()),
                |t| e.centroid.weight(t).unwrap_or(0.0),
                false,
            )
        {
            score *= cfg.protagonist_penalty;
        }
        score
    }

    fn absorb(c: &mut Clusterer, from: EventId, into: EventId) {
        let max_terms = c.config.max_centroid_terms;
        let (Some(src), Some(mut dst)) = (c.events.remove(&from), c.events.remove(&into)) else {
            return;
        };
        c.index.unfile_event(&src);
        c.index.unfile_event(&dst);
        dst.centroid.merge(&src.centroid, &c.vocab, max_terms);
        for (k, n) in &src.entities {
            *dst.entities.entry(k.clone()).or_default() += n;
        }
        prune_entities(&mut dst.entities);
        dst.signals.merge(&src.signals, c.vocab.idf_level());
        dst.signals.keep_names_in(&dst.centroid);
        dst.n_articles += src.n_articles;
        dst.first_time = either_time(dst.first_time, src.first_time, std::cmp::min);
        dst.last_time = either_time(dst.last_time, src.last_time, std::cmp::max);
        dst.last_seq = c.seq;
        // The merged event leaves its story, whichever story takes its articles: two events
        // of one story merging left that story counting an event it no longer had.
        if let Some(s) = c.stories.get_mut(&src.story) {
            s.n_events = s.n_events.saturating_sub(1);
            c.dirty.stories.insert(src.story);
        }
        if src.story != dst.story {
            // The merged event's articles now belong to the other story: move their count
            // with them, or the two stories' counts disagree with their events.
            if let Some(s) = c.stories.get_mut(&src.story) {
                s.n_articles = s.n_articles.saturating_sub(src.n_articles);
            }
            if let Some(s) = c.stories.get_mut(&dst.story) {
                s.n_articles += src.n_articles;
                c.dirty.stories.insert(dst.story);
            }
        }
        c.index.file_event(&dst);
        c.events.insert(into, dst);
        c.dirty.events.insert(into);
        c.dirty.events.remove(&from);
        c.redirect.insert(from, into);
        c.dirty.merged_events.push((from, into));
    }
}

impl Level for Stories {
    fn threshold(cfg: &ClusterConfig, n_terms: usize) -> f32 {
        cfg.blended(
            cfg.story_merge_threshold,
            cfg.story_mean_merge_threshold,
            n_terms,
        )
    }

    fn window(cfg: &ClusterConfig, _n_terms: usize) -> f32 {
        cfg.story_window_days
    }

    fn candidates(c: &Clusterer, id: StoryId) -> Vec<StoryId> {
        let terms = c.index.story_terms(id);
        c.index.candidate_stories(&terms, id, MERGE_CANDIDATES)
    }

    fn norm_sum(s: &StoryState, level: f32) -> f32 {
        s.norm_sum_at(level)
    }

    fn score(c: &Clusterer, p: &Pair<'_, StoryState>) -> f32 {
        let (s, o, cfg) = (p.this, p.other, &c.config);
        let mut score = p.lexical;
        if c.story_entities_used() {
            score += cfg.story_entity_weight
                * c.story_entities
                    .get(&s.id)
                    .map_or(0.0, |a| weighted_overlap(a, c.story_entities.get(&o.id)));
        }
        score
    }

    fn absorb(c: &mut Clusterer, small: StoryId, big: StoryId) {
        let max_terms = c.config.max_centroid_terms;
        let (Some(src), Some(mut dst)) = (c.stories.remove(&small), c.stories.remove(&big)) else {
            return;
        };
        dst.centroid.merge(&src.centroid, &c.vocab, max_terms);
        let level = c.vocab.idf_level();
        dst.norm_sum = dst.norm_sum_at(level) + src.norm_sum_at(level);
        dst.norm_level = level;
        dst.n_articles += src.n_articles;
        dst.n_events += src.n_events;
        dst.first_time = either_time(dst.first_time, src.first_time, std::cmp::min);
        dst.last_time = either_time(dst.last_time, src.last_time, std::cmp::max);
        dst.last_seq = c.seq;
        c.stories.insert(big, dst);
        c.reindex_story(small);
        c.reindex_story(big);
        if let Some(ents) = c.story_entities.remove(&small) {
            let into = c.story_entities.entry(big).or_default();
            for (k, n) in ents {
                *into.entry(k).or_default() += n;
            }
        }
        for e in c.events.values_mut() {
            if e.story == small {
                e.story = big;
                c.dirty.events.insert(e.id);
            }
        }
        c.dirty.stories.insert(big);
        c.dirty.stories.remove(&small);
        c.dirty.merged_stories.push((small, big));
    }
}

/// Whether a cluster of `n` articles, last checked for merges at size `last` (0: never), is
/// due again.
/// One more article barely moves a large cluster's centroid, so large clusters are checked
/// when they have grown by an eighth: comparing whole centroids on every article was
/// the costliest part of clustering on long streams. The other side of any pair is
/// checked as it grows, too.
pub(super) fn merge_check_due(n: u64, last: u64) -> bool {
    n <= 8 || n * 8 >= last * 9
}
