//! Candidate indexes: live events filed under their terms and entities, live stories under
//! their heaviest terms, so that placing an article or checking a merge scores the few
//! clusters that share its words instead of every live one.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::state::EventState;
use super::vector::TermId;
use crate::core::{EventId, StoryId};

/// Terms of an article used to find candidate events: its most telling ones.
pub(super) const CANDIDATE_TERMS: usize = 12;
/// Candidate events scored in full per article: those sharing the most telling terms and
/// entities. Scoring every event that shares any term cost most of the ingest time.
pub(super) const MAX_CANDIDATES: usize = 48;
/// Events (or stories) compared centroid to centroid when checking whether the one just
/// touched should merge: fewer than for an article, each comparison costing a full centroid.
pub(super) const MERGE_CANDIDATES: usize = 12;
/// Terms a story is indexed under: its heaviest, a story's vocabulary being broad.
pub(super) const STORY_INDEX_TERMS: usize = 32;

/// Candidate lookups skip a term or entity filed under more live events than this: it tells
/// events apart no better than a stop word ("United States" on a stream of 100,000
/// articles a day), and counting its postings made time per article grow with live events.
const MAX_POSTINGS: usize = 1_000;

/// The clusterer's indexes over its live events and stories. Derived, not stored: rebuilt
/// from the live clusters on restore.
#[derive(Default)]
pub(super) struct CandidateIndex {
    /// Live events by entity key.
    pub(super) by_entity: HashMap<String, HashSet<EventId>>,
    /// Live events by term.
    pub(super) by_term: HashMap<TermId, HashSet<EventId>>,
    /// Live stories by their most telling terms (tens of thousands of live stories on a
    /// large stream). `story_terms` is what each story is indexed under now.
    pub(super) story_by_term: HashMap<TermId, HashSet<StoryId>>,
    pub(super) story_terms: HashMap<StoryId, Vec<TermId>>,
}

impl CandidateIndex {
    pub(super) fn file_event(&mut self, e: &EventState) {
        for key in e.entities.keys() {
            self.file_entity(key.clone(), e.id);
        }
        for &t in e.centroid.weights().keys() {
            self.file_term(t, e.id);
        }
    }

    pub(super) fn unfile_event(&mut self, e: &EventState) {
        for key in e.entities.keys() {
            self.unfile_entity(key, e.id);
        }
        for &t in e.centroid.weights().keys() {
            self.unfile_term(t, e.id);
        }
    }

    pub(super) fn file_term(&mut self, t: TermId, id: EventId) {
        self.by_term.entry(t).or_default().insert(id);
    }

    pub(super) fn unfile_term(&mut self, t: TermId, id: EventId) {
        unfile(&mut self.by_term, &t, id);
    }

    pub(super) fn file_entity(&mut self, key: String, id: EventId) {
        self.by_entity.entry(key).or_default().insert(id);
    }

    pub(super) fn unfile_entity(&mut self, key: &str, id: EventId) {
        unfile(&mut self.by_entity, key, id);
    }

    /// Candidate events of an article (its entities and its terms, heaviest first): those
    /// sharing the most of them, with how many they share.
    pub(super) fn candidate_events(
        &self,
        entities: &HashSet<&str>,
        ranked: &[TermId],
    ) -> Vec<(EventId, u32)> {
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
        strongest_with_hits(hits, MAX_CANDIDATES)
    }

    /// Live events other than `id` filed under the most of `terms` (an event's top terms),
    /// strongest first.
    pub(super) fn merge_candidates(&self, terms: &[TermId], id: EventId) -> Vec<EventId> {
        let postings = terms.iter().map(|t| self.by_term.get(t).filter(telling));
        strongest(count_hits(postings, id), MERGE_CANDIDATES)
    }

    /// Re-files story `id` under `terms`, its top terms now (none: it is gone).
    pub(super) fn refile_story(&mut self, id: StoryId, terms: Vec<TermId>) {
        let old = self.story_terms.remove(&id).unwrap_or_default();
        for t in old.iter().filter(|t| !terms.contains(t)) {
            unfile(&mut self.story_by_term, t, id);
        }
        for &t in terms.iter().filter(|t| !old.contains(t)) {
            self.story_by_term.entry(t).or_default().insert(id);
        }
        if !terms.is_empty() {
            self.story_terms.insert(id, terms);
        }
    }

    /// The terms story `id` is filed under.
    pub(super) fn story_terms(&self, id: StoryId) -> Vec<TermId> {
        self.story_terms.get(&id).cloned().unwrap_or_default()
    }

    /// Every term the story index files a story under.
    pub(super) fn story_index_terms(&self) -> impl Iterator<Item = TermId> + '_ {
        self.story_terms.values().flatten().copied()
    }

    /// Live stories other than `skip` indexed under the most of `terms`, strongest first.
    pub(super) fn candidate_stories(
        &self,
        terms: &[TermId],
        skip: StoryId,
        max: usize,
    ) -> Vec<StoryId> {
        let postings = terms.iter().map(|t| self.story_by_term.get(t));
        strongest(count_hits(postings, skip), max)
    }
}

fn telling(postings: &&HashSet<EventId>) -> bool {
    postings.len() <= MAX_POSTINGS
}

/// How many of `postings` list each id but `skip`.
fn count_hits<'a, I: Copy + Eq + std::hash::Hash + 'a>(
    postings: impl Iterator<Item = Option<&'a HashSet<I>>>,
    skip: I,
) -> HashMap<I, u32> {
    let mut hits: HashMap<I, u32> = HashMap::default();
    for &id in postings.flatten().flatten() {
        if id != skip {
            *hits.entry(id).or_default() += 1;
        }
    }
    hits
}

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
fn strongest<I: Copy + Ord + std::hash::Hash>(hits: HashMap<I, u32>, max: usize) -> Vec<I> {
    strongest_with_hits(hits, max)
        .into_iter()
        .map(|(id, _)| id)
        .collect()
}

/// [`strongest`], with each id's hits.
fn strongest_with_hits<I: Copy + Ord>(hits: HashMap<I, u32>, max: usize) -> Vec<(I, u32)> {
    let mut v: Vec<(I, u32)> = hits.into_iter().collect();
    v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(max);
    v
}
