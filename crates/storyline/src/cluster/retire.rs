//! Retirement: events and stories that can no longer take articles leave memory, and so do
//! the terms and merge trails nothing live needs.

use chrono::{DateTime, Utc};
use rustc_hash::FxHashSet as HashSet;

use super::vector::TermId;
use super::Clusterer;
use crate::core::{EventId, StoryId};

/// A live cluster as retirement sees it: id, last publication time, last update.
type Activity<I> = (I, Option<DateTime<Utc>>, u64);

impl Clusterer {
    /// Retires the events and stories idle beyond their windows, then the least recently
    /// active beyond the caps (stories only once no live event holds them); returns their
    /// ids.
    pub(super) fn retire(&mut self) -> (Vec<EventId>, Vec<StoryId>) {
        let cfg = &self.config;
        let (event_window, max_events) = (cfg.longest_event_window(), cfg.max_live_events);
        let (story_window, max_stories) = (cfg.story_window_days, cfg.max_live_stories);
        let events: Vec<Activity<EventId>> = (self.events.values())
            .map(|e| (e.id, e.last_time, e.last_seq))
            .collect();
        let retire = retirees(
            &events,
            self.events.len(),
            self.clock,
            event_window,
            max_events,
        );
        for id in &retire {
            if let Some(e) = self.events.remove(id) {
                self.index.unfile_event(&e);
            }
        }
        if !retire.is_empty() {
            self.forget_dead_redirects();
        }
        let live_stories: HashSet<StoryId> = self.events.values().map(|e| e.story).collect();
        let idle: Vec<Activity<StoryId>> = (self.stories.values())
            .filter(|s| !live_stories.contains(&s.id))
            .map(|s| (s.id, s.last_time, s.last_seq))
            .collect();
        let n_stories = self.stories.len();
        let retire_stories = retirees(&idle, n_stories, self.clock, story_window, max_stories);
        for &id in &retire_stories {
            self.stories.remove(&id);
            self.story_entities.remove(&id);
            self.reindex_story(id);
        }
        (retire, retire_stories)
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

    /// Has the vocabulary forget idle terms that no live event or story holds. Runs after
    /// retirement, so the terms of events that just retired can go too.
    pub(super) fn forget_idle_terms(&mut self) -> Vec<TermId> {
        let mut in_use = vec![false; self.vocab.id_bound()];
        let mut hold = |t: TermId| {
            if let Some(u) = in_use.get_mut(t as usize) {
                *u = true;
            }
        };
        let centroids = (self.events.values().map(|e| &e.centroid))
            .chain(self.stories.values().map(|s| &s.centroid));
        for c in centroids {
            c.weights().keys().for_each(|&t| hold(t));
        }
        // The story index may still list a term its centroid has since dropped.
        self.index.story_index_terms().for_each(hold);
        self.vocab
            .forget_idle(self.config.vocab_idle_sweeps, &in_use)
    }
}

/// Which of `candidates` retire, of `n_live` clusters in memory: those whose last article
/// is more than `window` days older than `clock`, then, while more than `cap` would stay,
/// the least recently updated.
fn retirees<I: Copy + Eq + Ord + std::hash::Hash>(
    candidates: &[Activity<I>],
    n_live: usize,
    clock: Option<DateTime<Utc>>,
    window: f32,
    cap: usize,
) -> Vec<I> {
    let expired = |last: Option<DateTime<Utc>>| match (clock, last) {
        (Some(c), Some(l)) => (c - l).num_seconds() as f32 / 86_400.0 > window,
        _ => false,
    };
    let mut retire: Vec<I> = (candidates.iter())
        .filter(|c| expired(c.1))
        .map(|c| c.0)
        .collect();
    if n_live - retire.len() > cap {
        let gone: HashSet<I> = retire.iter().copied().collect();
        let mut rest: Vec<(u64, I)> = (candidates.iter())
            .filter(|c| !gone.contains(&c.0))
            .map(|c| (c.2, c.0))
            .collect();
        rest.sort_unstable();
        let excess = n_live - retire.len() - cap;
        retire.extend(rest.into_iter().take(excess).map(|(_, id)| id));
    }
    retire
}
