//! Which extractor's text to keep. Trafilatura (`full`) is the better extractor on most
//! pages, but when it misjudges the main node it falls back to a large container and keeps
//! sidebars, "latest news" lists or the page's text several times over. Readability
//! (`focused`) then returns a clean subset of it. The sign is plain in word 4-grams: nearly
//! all of Readability's text is inside trafilatura's, but a good part of trafilatura's is not
//! inside Readability's. When Readability misses part of the article instead, the two texts
//! overlap on both sides and trafilatura is kept.

use std::collections::HashMap;

/// Readability's text must be this much inside trafilatura's to be trusted as the article…
const FOCUSED_INSIDE_FULL: f64 = 0.9;
/// …and trafilatura's this little inside Readability's to be judged padded.
const FULL_INSIDE_FOCUSED: f64 = 0.75;
/// Below this many 4-grams Readability's text is too short to overrule anything.
const MIN_FOCUSED_SHINGLES: usize = 20;

pub fn choose<'a>(full: &'a str, focused: &'a str) -> &'a str {
    if full.trim().is_empty() {
        return focused;
    }
    let f = shingles(full);
    let r = shingles(focused);
    let (nf, nr) = (f.values().sum::<usize>(), r.values().sum::<usize>());
    if nr < MIN_FOCUSED_SHINGLES || nf == 0 {
        return full;
    }
    let common: usize = r
        .iter()
        .map(|(k, &c)| c.min(f.get(k).copied().unwrap_or(0)))
        .sum();
    let focused_inside = common as f64 / nr as f64;
    let full_inside = common as f64 / nf as f64;
    if focused_inside >= FOCUSED_INSIDE_FULL && full_inside < FULL_INSIDE_FOCUSED {
        focused
    } else {
        full
    }
}

/// Word 4-grams counted with repeats, so text kept twice counts twice.
fn shingles(text: &str) -> HashMap<[&str; 4], usize> {
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = HashMap::new();
    for w in words.windows(4) {
        *out.entry([w[0], w[1], w[2], w[3]]).or_insert(0) += 1;
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
    fn padded_full_text_gives_way_to_the_focused_one() {
        let article = words("a", 60);
        let full = format!("{article}\n{}", words("sidebar", 200));
        assert_eq!(choose(&full, &article), article);
        // The same text kept three times is padding too.
        let tripled = format!("{article}\n{article}\n{article}");
        assert_eq!(choose(&tripled, &article), article);
    }

    #[test]
    fn full_text_is_kept_when_it_only_adds_a_little_or_the_focused_one_differs() {
        let article = words("a", 100);
        let full = format!("{article}\n{}", words("more", 20));
        assert_eq!(choose(&full, &article), full);
        let other = words("b", 100);
        assert_eq!(choose(&article, &other), article);
        assert_eq!(choose(&article, "short"), article);
        assert_eq!(choose("", &article), article);
    }
}
