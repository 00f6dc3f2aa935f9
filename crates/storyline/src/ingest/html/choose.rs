//! Which extractor's text to keep, judged from the two cleaned texts and what the page says
//! it is about.
//!
//! Readability (`libreadability`, `readable`) is the steadier extractor across kinds of news
//! site; trafilatura (`traf`) keeps more of the article on some pages and whole sidebars on
//! others. Compared in word 4-grams:
//! - the article speaks of what the page's title and description name. Two texts that share
//!   next to nothing are two different boxes of the page: when one clearly names more of the
//!   topic, it is kept. Texts that overlap are judged so only when one names nearly all of
//!   the topic and the other next to none (Readability took a sidebar);
//! - trafilatura's text lying almost wholly inside Readability's, in fewer lines and holding
//!   at least half of it, is the same article without the captions, bylines and link lines
//!   Readability kept around it (a smaller part is a fragment, not a trim, unless what
//!   Readability adds is mostly link lines: the page's lists of other stories);
//! - Readability's text a small fragment of trafilatura's (a teaser or one box of the page)
//!   means Readability missed the article's main node.
//!
//! Otherwise Readability's text is kept. The thresholds were fitted on three dev sets
//! together (ScrapingHub, L3S-GN1, Dragnet) and hold when fitted on any two of them.

use std::collections::{HashMap, HashSet};

use crate::normalize::{is_stopword, words};

/// Trafilatura's text this much inside Readability's is the same article, trimmed or not.
const TRAF_INSIDE_READABLE: f64 = 0.96;
/// ... as long as it keeps at least this share of Readability's text.
const TRIM_KEEPS: f64 = 0.5;
/// Readability's lines beyond trafilatura's text holding less than this share of their words
/// in sentences are lists of links and labels, not the rest of the article.
const SENTENCE_SHARE: f64 = 0.5;
/// A line longer than this many words is prose even without a full stop.
const LINK_LINE_MAX_WORDS: usize = 16;
/// Trafilatura's text this many times longer than Readability's means Readability kept a
/// fragment only.
const FRAGMENT_RATIO: f64 = 12.0;
/// Two texts each sharing less than this with the other are different parts of the page.
const DISJOINT: f64 = 0.2;
/// Fewer content words than this in the title and description say too little to judge by
/// (a bare site name).
pub(super) const MIN_TOPIC_WORDS: usize = 5;
/// How much larger a share of the title's and description's words one text must name than
/// the other to be kept, when the two texts are different parts of the page ...
pub(super) const TOPIC_MARGIN: f64 = 0.4;
/// ... and when they overlap: then only a text naming nearly all of the topic beats one
/// naming next to none of it (Readability's pick of a sidebar inside trafilatura's text).
const TOPIC_MARGIN_OVERLAPPING: f64 = 0.8;

/// `about`: the page's title and description, where it has them.
pub fn choose<'a>(traf: &'a str, readable: &'a str, about: &[Option<&str>]) -> &'a str {
    let t = shingles(traf);
    let r = shingles(readable);
    let (nt, nr) = (t.values().sum::<usize>(), r.values().sum::<usize>());
    if nt == 0 {
        return readable;
    }
    if nr == 0 {
        return traf;
    }
    let common: usize = t
        .iter()
        .map(|(k, &c)| c.min(r.get(k).copied().unwrap_or(0)))
        .sum();
    let traf_inside = common as f64 / nt as f64;
    let readable_inside = common as f64 / nr as f64;
    let margin = if traf_inside < DISJOINT && readable_inside < DISJOINT {
        TOPIC_MARGIN
    } else {
        TOPIC_MARGIN_OVERLAPPING
    };
    if let Some(pick) = on_topic(traf, readable, about, margin) {
        return pick;
    }
    let take_traf = if traf_inside >= TRAF_INSIDE_READABLE {
        lines(traf) < lines(readable)
            && (nt as f64 >= TRIM_KEEPS * nr as f64 || adds_links_only(readable, traf, &t))
    } else {
        (nt + 1) as f64 > FRAGMENT_RATIO * (nr + 1) as f64
    };
    if take_traf {
        traf
    } else {
        readable
    }
}

/// The text that names clearly more of the page's topic words than the other, if one does.
fn on_topic<'a>(a: &'a str, b: &'a str, about: &[Option<&str>], margin: f64) -> Option<&'a str> {
    let topic: HashSet<String> = about
        .iter()
        .flatten()
        .flat_map(|t| content_words(t))
        .collect();
    if topic.len() < MIN_TOPIC_WORDS {
        return None;
    }
    let share = |text: &str| {
        let seen = content_words(text);
        topic.iter().filter(|w| seen.contains(*w)).count() as f64 / topic.len() as f64
    };
    let (sa, sb) = (share(a), share(b));
    if sa - sb >= margin {
        Some(a)
    } else if sb - sa >= margin {
        Some(b)
    } else {
        None
    }
}

/// Lower-cased words of three letters or more, stop words and numbers left out.
pub(super) fn content_words(text: &str) -> HashSet<String> {
    words(text)
        .filter(|w| w.chars().count() >= 3 && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !is_stopword(w))
        .collect()
}

/// Whether the lines of `readable` that `traf_shingles` do not hold are mostly link lines
/// (short, not ending a sentence), by words.
fn adds_links_only(readable: &str, traf: &str, traf_shingles: &HashMap<Vec<&str>, usize>) -> bool {
    let (mut prose, mut all) = (0usize, 0usize);
    for line in readable.lines() {
        let own = shingles(line);
        let n: usize = own.values().sum();
        let held: usize = own
            .iter()
            .map(|(k, &c)| c.min(traf_shingles.get(k).copied().unwrap_or(0)))
            .sum();
        // A line mostly in trafilatura's text is shared, not added; one of under four
        // words is a single shingle of its own, so it is looked for as it stands.
        if n == 0 || 2 * held >= n || (n == 1 && traf.contains(line.trim())) {
            continue;
        }
        let words = line.split_whitespace().count();
        all += words;
        let t = line.trim_end();
        if words > LINK_LINE_MAX_WORDS || t.ends_with(['.', '!', '?', '"', '”']) {
            prose += words;
        }
    }
    all > 0 && (prose as f64) < SENTENCE_SHARE * all as f64
}

fn lines(text: &str) -> usize {
    text.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Word 4-grams counted with repeats, so text kept twice counts twice. A text of one to
/// three words is one shingle, so a short text is not taken for an empty one.
fn shingles(text: &str) -> HashMap<Vec<&str>, usize> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = HashMap::new();
    if words.is_empty() {
        return out;
    }
    for w in words.windows(4.min(words.len())) {
        *out.entry(w.to_vec()).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(prefix: &str, n: usize) -> String {
        (0..n)
            .map(|i| format!("{prefix}{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn readability_is_kept_unless_trafilatura_trims_it() {
        let article = words("a", 100);
        let with_caption = format!("{}\n{}\n{}", words("cap", 3), article, words("by", 2));
        // Trafilatura: the article alone, in fewer lines than Readability's.
        assert_eq!(choose(&article, &with_caption, &[]), article);
        // Trafilatura adds a sidebar: Readability's text stays.
        let padded = format!("{article}\n{}", words("side", 60));
        assert_eq!(choose(&padded, &article, &[]), article);
        // Same text, same lines: Readability's.
        let same = article.clone();
        assert!(std::ptr::eq(choose(&article, &same, &[]), same.as_str()));
    }

    #[test]
    fn a_readability_fragment_gives_way_to_trafilatura() {
        let article = words("a", 400);
        let fragment = words("a", 20);
        assert_eq!(choose(&article, &fragment, &[]), article);
        // A text a few times longer is not enough.
        let longer = words("a", 120);
        let part = words("a", 40);
        assert_eq!(choose(&longer, &part, &[]), part);
    }

    #[test]
    fn a_trim_that_keeps_under_half_is_a_fragment() {
        let (a, b, c) = (words("a", 100), words("b", 100), words("c", 100));
        let article = format!("{a}\n{b}\n{c}");
        // Inside Readability's text and in fewer lines, but a third of it.
        assert_eq!(choose(&a, &article, &[]), article);
        let most = format!("{a}\n{b}");
        assert_eq!(choose(&most, &article, &[]), most);
    }

    #[test]
    fn a_small_trim_of_link_lists_is_still_a_trim() {
        let article = format!("{}.\n{}.", words("a", 100), words("b", 100));
        let links: Vec<String> = (0..60).map(|i| words(&format!("l{i}x"), 5)).collect();
        let page = format!("{article}\n{}", links.join("\n"));
        // Under half of Readability's text, but what Readability adds is a list of links.
        assert_eq!(choose(&article, &page, &[]), article);
        // The same share added as paragraphs: trafilatura's text is a fragment.
        let more: Vec<String> = (0..3)
            .map(|i| format!("{}.", words(&format!("p{i}x"), 100)))
            .collect();
        let long = format!("{article}\n{}", more.join("\n"));
        assert_eq!(choose(&article, &long, &[]), long);
    }

    #[test]
    fn of_two_different_boxes_the_one_on_the_pages_topic_is_kept() {
        let story = "The council approved the harbour budget after residents protested \
            against the toll bridge plan, and the mayor promised a second vote on the bridge."
            .repeat(3);
        let sidebar = "Disclaimer: this site has no affiliation with the makers of any \
            equipment mentioned here. All trademarks belong to their owners."
            .repeat(4);
        let about = [
            Some("Council approves harbour budget"),
            Some("Residents protested the toll bridge plan."),
        ];
        // Readability took the longer sidebar; the page names the story's words.
        assert_eq!(choose(&story, &sidebar, &about), story);
        assert_eq!(choose(&sidebar, &story, &about), story);
        // A bare site name says too little: the usual rules decide (Readability's text).
        assert_eq!(choose(&story, &sidebar, &[Some("Daily Bugle")]), sidebar);
        // Readability's sidebar inside trafilatura's story-and-sidebar: the story side wins
        // only because the sidebar names none of the topic; naming some of it is enough to stay.
        let both = format!("{story}\n{sidebar}");
        assert_eq!(choose(&both, &sidebar, &about), both);
        let half_on_topic = format!("{sidebar} The council met.");
        assert_eq!(
            choose(
                &both,
                &half_on_topic,
                &[Some("Council budget vote passes narrowly tonight")]
            ),
            half_on_topic
        );
    }

    #[test]
    fn an_empty_candidate_gives_way_to_the_other() {
        let article = words("a", 50);
        assert_eq!(choose("", &article, &[]), article);
        assert_eq!(choose(&article, " \n", &[]), article);
        assert_eq!(choose("Short", "", &[]), "Short");
    }
}
