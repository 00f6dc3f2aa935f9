//! Particulars: the words of the names a report gives (people, places, organisations) and
//! its figures. Two reports of one occurrence share them; two occurrences of one kind share
//! their vocabulary instead (see [`ClusterConfig::particulars_min_cosine`]).

use rustc_hash::FxHashMap as HashMap;

use super::state::EventState;
use super::ClusterConfig;
use crate::normalize::{fingerprint_of, is_content_word};

/// Fewer particulars than this on either side say too little to tell occurrences apart.
const MIN_PARTICULARS: usize = 5;

/// An event keeps the members' counts of its `MAX_EVENT_PARTICULARS` most given
/// particulars once it has twice as many: the cosine is carried by what several members
/// give, and the map is written with the event.
const MAX_EVENT_PARTICULARS: usize = 64;

/// The particulars of a text naming `names` (canonical entity names) and giving `figures`,
/// as distinct sorted keys: the content words of the names, and the figures.
pub fn particulars(names: &[String], figures: &[String]) -> Vec<u64> {
    let words = names
        .iter()
        .flat_map(|n| n.split_whitespace())
        .filter(|w| is_content_word(w))
        .map(|w| key(w, false));
    let mut keys: Vec<u64> = words.chain(figures.iter().map(|f| key(f, true))).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Whether an article's particulars (distinct keys) meet event `e`'s less than the
/// configured cosine: the article's as a set against the event's counts of members giving
/// each.
pub(super) fn differ(cfg: &ClusterConfig, article: &[u64], e: &EventState) -> bool {
    let Some(event) = &e.signals.particulars else {
        return false;
    };
    if article.len() < MIN_PARTICULARS || event.len() < MIN_PARTICULARS {
        return false;
    }
    let norm = event
        .values()
        .map(|&n| (n as f32) * (n as f32))
        .sum::<f32>()
        .sqrt();
    let dot: f32 = article
        .iter()
        .filter_map(|k| event.get(k))
        .map(|&n| n as f32)
        .sum();
    dot / ((article.len() as f32).sqrt() * norm) < cfg.particulars_min_cosine
}

/// Keeps an event's [`MAX_EVENT_PARTICULARS`] most given particulars once it holds twice
/// as many (ties to the lower key, so every run keeps the same).
pub(super) fn prune(event: &mut HashMap<u64, u32>) {
    if event.len() <= MAX_EVENT_PARTICULARS * 2 {
        return;
    }
    let mut items: Vec<(u64, u32)> = event.drain().collect();
    items.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    items.truncate(MAX_EVENT_PARTICULARS);
    event.extend(items);
}

/// A particular's key: the [`fingerprint_of`] of its text (stable across runs, builds and
/// platforms, since an event's keys are written with it and read back by later runs). A
/// figure's is that of "#" and the figure, which no name's word can have: "47" of "AK-47"
/// is a figure, not the name's.
fn key(text: &str, figure: bool) -> u64 {
    if figure {
        fingerprint_of(["#", text])
    } else {
        fingerprint_of([text])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn particulars_are_the_content_words_of_names_and_the_figures() {
        let keys = particulars(
            &strings(&["gulf of aden", "ins mysore", "mysore"]),
            &strings(&["23", "47"]),
        );
        // "of" is no particular; "mysore" is one however often named.
        assert_eq!(keys.len(), 6);
        assert!(keys.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        assert!(keys.contains(&key("aden", false)) && keys.contains(&key("23", true)));
        assert!(!keys.contains(&key("of", false)));
        // A figure is not the word it is written as.
        assert_ne!(key("47", true), key("47", false));
    }

    /// Keys are stored with events and read back by later builds: the hash must not move.
    #[test]
    fn keys_are_fnv1a_of_the_text() {
        // FNV-1a of "a ".
        assert_eq!(key("a", false), 0x089c_0207_b545_2844);
    }

    #[test]
    fn prune_keeps_the_most_given() {
        let mut event: HashMap<u64, u32> = (0..=(2 * MAX_EVENT_PARTICULARS as u64))
            .map(|k| (k, if k % 2 == 0 { 2 } else { 1 }))
            .collect();
        prune(&mut event);
        assert_eq!(event.len(), MAX_EVENT_PARTICULARS);
        assert!(event.values().all(|&n| n == 2));
        // Under the cap nothing goes.
        let mut small: HashMap<u64, u32> = (0..10).map(|k| (k, 1)).collect();
        prune(&mut small);
        assert_eq!(small.len(), 10);
    }
}
