//! Test support: every difference between two clusterers' live state, down to the order a
//! centroid's map iterates in (float sums follow it), so that a clusterer restored from
//! the store can be checked against the one that wrote it.

use std::fmt::Debug;

use super::state::{EventState, StoryState};
use super::vector::Centroid;
use super::Clusterer;

/// What differs between `a` and `b`, one line a difference (at most `max` lines, then a
/// count of the rest); empty when they would go on placing articles alike.
pub(crate) fn differences(a: &Clusterer, b: &Clusterer, max: usize) -> Vec<String> {
    let mut out = Diffs::default();
    out.eq("next_event", &a.next_event, &b.next_event);
    out.eq("next_story", &a.next_story, &b.next_story);
    out.eq("clock", &a.clock, &b.clock);
    out.eq("seq", &a.seq, &b.seq);
    // Merge trails (`redirect`) are not stored: the store moves a merged event's rows, so a
    // restored dedup index knows each original's event as it is now. What counts is that
    // both sides resolve alike (see `DedupIndex::differences`).
    let story_entities = |c: &Clusterer| {
        let mut v: Vec<_> = (c.story_entities.iter())
            .map(|(id, m)| (*id, sorted(m)))
            .collect();
        v.sort_by_key(|x| x.0);
        v
    };
    out.eq("story_entities", &story_entities(a), &story_entities(b));
    for d in a.vocab.differences(&b.vocab) {
        out.push(format!("vocab {d}"));
    }
    out.eq(
        "event ids",
        &sorted_keys(&a.events),
        &sorted_keys(&b.events),
    );
    for (id, e) in &a.events {
        if let Some(f) = b.events.get(id) {
            event_differences(&mut out, e, f);
        }
    }
    out.eq(
        "story ids",
        &sorted_keys(&a.stories),
        &sorted_keys(&b.stories),
    );
    for (id, s) in &a.stories {
        if let Some(t) = b.stories.get(id) {
            story_differences(&mut out, s, t);
        }
    }
    let (x, y) = (&a.index, &b.index);
    out.eq(
        "index by_entity",
        &sorted_sets(&x.by_entity),
        &sorted_sets(&y.by_entity),
    );
    out.eq(
        "index by_term",
        &sorted_sets(&x.by_term),
        &sorted_sets(&y.by_term),
    );
    out.eq(
        "index story_by_term",
        &sorted_sets(&x.story_by_term),
        &sorted_sets(&y.story_by_term),
    );
    out.eq(
        "index story_terms",
        &sorted(&x.story_terms),
        &sorted(&y.story_terms),
    );
    out.finish(max)
}

fn event_differences(out: &mut Diffs, e: &EventState, f: &EventState) {
    let at = |what: &str| format!("event {} {what}", e.id.0);
    out.eq(&at("story"), &e.story, &f.story);
    out.eq(
        &at("times"),
        &(e.first_time, e.last_time),
        &(f.first_time, f.last_time),
    );
    out.eq(&at("n_articles"), &e.n_articles, &f.n_articles);
    centroid_differences(out, &at("centroid"), &e.centroid, &f.centroid);
    out.eq(&at("entities"), &sorted(&e.entities), &sorted(&f.entities));
    out.eq(&at("last_seq"), &e.last_seq, &f.last_seq);
    let (s, t) = (&e.signals, &f.signals);
    out.eq(&at("years"), &sorted(&s.years), &sorted(&t.years));
    out.eq(&at("series"), &sorted(&s.series), &sorted(&t.series));
    out.eq(&at("embedding"), &s.embedding, &t.embedding);
    out.eq(
        &at("norm_sum"),
        &s.norm_sum.to_bits(),
        &t.norm_sum.to_bits(),
    );
    out.eq(
        &at("norm_level"),
        &s.norm_level.to_bits(),
        &t.norm_level.to_bits(),
    );
    let names = |n: &Option<rustc_hash::FxHashSet<u32>>| {
        n.as_ref().map(|n| {
            let mut v: Vec<u32> = n.iter().copied().collect();
            v.sort_unstable();
            v
        })
    };
    out.eq(&at("names"), &names(&s.names), &names(&t.names));
    out.eq(
        &at("merge_checked_at"),
        &e.merge_checked_at,
        &f.merge_checked_at,
    );
}

fn story_differences(out: &mut Diffs, s: &StoryState, t: &StoryState) {
    let at = |what: &str| format!("story {} {what}", s.id.0);
    out.eq(
        &at("times"),
        &(s.first_time, s.last_time),
        &(t.first_time, t.last_time),
    );
    out.eq(
        &at("counts"),
        &(s.n_articles, s.n_events),
        &(t.n_articles, t.n_events),
    );
    centroid_differences(out, &at("centroid"), &s.centroid, &t.centroid);
    out.eq(&at("last_seq"), &s.last_seq, &t.last_seq);
    out.eq(
        &at("norm_sum"),
        &s.norm_sum.to_bits(),
        &t.norm_sum.to_bits(),
    );
    out.eq(
        &at("norm_level"),
        &s.norm_level.to_bits(),
        &t.norm_level.to_bits(),
    );
    out.eq(
        &at("merge_checked_at"),
        &s.merge_checked_at,
        &t.merge_checked_at,
    );
}

fn centroid_differences(out: &mut Diffs, at: &str, a: &Centroid, b: &Centroid) {
    let bits = |c: &Centroid| {
        let mut v: Vec<(u32, u32)> = c.weights().iter().map(|(&t, w)| (t, w.to_bits())).collect();
        v.sort_unstable();
        v
    };
    out.eq(&format!("{at} weights"), &bits(a), &bits(b));
    out.eq(
        &format!("{at} norm"),
        &a.norm().to_bits(),
        &b.norm().to_bits(),
    );
    // The order the weights iterate in may differ (a map's order follows its history):
    // every sum over them is exact (`vector::ExactSum`) and every ranking breaks ties by
    // term id, so it does not matter.
}

fn sorted<K: Ord + Clone, V: Clone, S>(m: &std::collections::HashMap<K, V, S>) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn sorted_keys<K: Ord + Copy, V, S>(m: &std::collections::HashMap<K, V, S>) -> Vec<K> {
    let mut v: Vec<K> = m.keys().copied().collect();
    v.sort_unstable();
    v
}

fn sorted_sets<K: Ord + Clone, I: Ord + Copy, S, T>(
    m: &std::collections::HashMap<K, std::collections::HashSet<I, T>, S>,
) -> Vec<(K, Vec<I>)> {
    let mut v: Vec<(K, Vec<I>)> = (m.iter())
        .map(|(k, set)| {
            let mut ids: Vec<I> = set.iter().copied().collect();
            ids.sort_unstable();
            (k.clone(), ids)
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[derive(Default)]
struct Diffs(Vec<String>);

impl Diffs {
    fn push(&mut self, line: String) {
        self.0.push(line);
    }

    fn eq<T: PartialEq + Debug>(&mut self, what: &str, a: &T, b: &T) {
        if a != b {
            let (a, b) = (format!("{a:?}"), format!("{b:?}"));
            let cut = |s: &str| s.chars().take(300).collect::<String>();
            self.0.push(format!("{what}: {} vs {}", cut(&a), cut(&b)));
        }
    }

    fn finish(mut self, max: usize) -> Vec<String> {
        if self.0.len() > max {
            let more = self.0.len() - max;
            self.0.truncate(max);
            self.0.push(format!("... and {more} more"));
        }
        self.0
    }
}
