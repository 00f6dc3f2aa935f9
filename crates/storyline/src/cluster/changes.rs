//! Change tracking: what changed since the store last took the changes.

use rustc_hash::FxHashSet as HashSet;

use super::snapshot::ChangeSet;
use super::Clusterer;
use crate::core::{EventId, StoryId};

/// Events and stories changed or merged since the last [`Clusterer::take_changes`].
#[derive(Default)]
pub(super) struct Dirty {
    pub(super) events: HashSet<EventId>,
    pub(super) stories: HashSet<StoryId>,
    /// `(from, into)`, in the order they happened.
    pub(super) merged_events: Vec<(EventId, EventId)>,
    pub(super) merged_stories: Vec<(StoryId, StoryId)>,
}

impl Clusterer {
    /// Hands over what changed since the last call and retires events and stories that can
    /// no longer take articles, freeing their memory. Call after each committed batch.
    pub fn take_changes(&mut self) -> ChangeSet {
        let mut changes = ChangeSet {
            terms: self.vocab.take_pending(),
            n_docs: self.vocab.n_docs(),
            next_event: self.next_event,
            next_story: self.next_story,
            ..ChangeSet::default()
        };
        changes.events = (self.dirty.events.drain())
            .filter_map(|id| self.events.get(&id).map(|e| e.snapshot()))
            .collect();
        changes.stories = (self.dirty.stories.drain())
            .filter_map(|id| {
                let s = self.stories.get(&id)?;
                Some(s.snapshot(self.index.story_terms(id)))
            })
            .collect();
        changes.events.sort_by_key(|e| e.id);
        changes.stories.sort_by_key(|s| s.id);
        changes.merged_events = std::mem::take(&mut self.dirty.merged_events);
        changes.merged_stories = std::mem::take(&mut self.dirty.merged_stories);
        (changes.retired_events, changes.retired_stories) = self.retire();
        let sweep = self.config.vocab_sweep_docs;
        if sweep > 0 && self.vocab.docs_since_sweep() >= sweep {
            changes.terms.forgotten = self.forget_idle_terms();
        }
        changes.sweeps = self.vocab.sweeps();
        changes
    }
}
