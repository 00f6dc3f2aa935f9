//! Which extractor's text to keep, judged from the two cleaned texts themselves.
//!
//! Readability (`libreadability`, `readable`) is the steadier extractor across kinds of news
//! site; trafilatura (`traf`) keeps more of the article on some pages and whole sidebars on
//! others. Compared in word 4-grams, two cases favour trafilatura:
//! - its text lies almost wholly inside Readability's but in fewer lines: the same article
//!   without the captions, bylines and link lines Readability kept around it;
//! - Readability's text is a small fragment of trafilatura's (a teaser or one box of the
//!   page), so Readability missed the article's main node.
//!
//! Otherwise Readability's text is kept. The thresholds were fitted on three dev sets
//! together (ScrapingHub, L3S-GN1, Dragnet) and hold when fitted on any two of them.

use std::collections::HashMap;

/// Trafilatura's text this much inside Readability's is the same article, trimmed or not.
const TRAF_INSIDE_READABLE: f64 = 0.96;
/// Trafilatura's text this many times longer than Readability's means Readability kept a
/// fragment only.
const FRAGMENT_RATIO: f64 = 12.0;

pub fn choose<'a>(traf: &'a str, readable: &'a str) -> &'a str {
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
    let take_traf = if traf_inside >= TRAF_INSIDE_READABLE {
        lines(traf) < lines(readable)
    } else {
        (nt + 1) as f64 > FRAGMENT_RATIO * (nr + 1) as f64
    };
    if take_traf {
        traf
    } else {
        readable
    }
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
        assert_eq!(choose(&article, &with_caption), article);
        // Trafilatura adds a sidebar: Readability's text stays.
        let padded = format!("{article}\n{}", words("side", 60));
        assert_eq!(choose(&padded, &article), article);
        // Same text, same lines: Readability's.
        let same = article.clone();
        assert!(std::ptr::eq(choose(&article, &same), same.as_str()));
    }

    #[test]
    fn a_readability_fragment_gives_way_to_trafilatura() {
        let article = words("a", 400);
        let fragment = words("a", 20);
        assert_eq!(choose(&article, &fragment), article);
        // A text a few times longer is not enough.
        let longer = words("a", 120);
        let part = words("a", 40);
        assert_eq!(choose(&longer, &part), part);
    }

    #[test]
    fn an_empty_candidate_gives_way_to_the_other() {
        let article = words("a", 50);
        assert_eq!(choose("", &article), article);
        assert_eq!(choose(&article, " \n"), article);
        assert_eq!(choose("Short", ""), "Short");
    }
}
