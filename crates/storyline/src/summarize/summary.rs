//! Greedy extractive summary: the most salient sentences that do not repeat each other, in
//! story order, each citing its supporting articles.

use super::space::{cosine, SentenceSpace, SentenceVec, SourceDoc};
use crate::core::Claim;

#[derive(Debug, Clone, PartialEq)]
pub struct SummaryConfig {
    /// Keep adding sentences until the summary has at least this many words…
    pub min_words: usize,
    /// …but never go past this many.
    pub max_words: usize,
    /// A sentence this similar (cosine) to one already chosen repeats it and is skipped.
    pub redundancy: f32,
    /// Another article supports a sentence if it has one at least this similar.
    pub support: f32,
    /// Sentences shorter than this are fragments, longer are run-ons: both skipped.
    pub min_sentence_words: usize,
    pub max_sentence_words: usize,
}

impl Default for SummaryConfig {
    fn default() -> Self {
        SummaryConfig {
            min_words: 100,
            max_words: 150,
            redundancy: 0.45,
            support: 0.4,
            min_sentence_words: 8,
            max_sentence_words: 45,
        }
    }
}

/// The candidates of a space: sentences of independent articles, of a sensible length, that
/// are statements (not questions).
pub(super) fn candidates<'s>(
    space: &'s SentenceSpace<'_>,
    cfg_min: usize,
    cfg_max: usize,
) -> Vec<&'s SentenceVec> {
    let mut c: Vec<&SentenceVec> = space
        .sentences
        .iter()
        .filter(|s| !space.docs[s.doc].is_copy)
        .filter(|s| (cfg_min..=cfg_max).contains(&s.words))
        .filter(|s| !space.text(s).trim_end().ends_with('?'))
        .collect();
    c.sort_by(|a, b| b.salience.total_cmp(&a.salience));
    c
}

/// An extractive summary of `docs` with citations (1-based indices into `docs`).
pub fn summarize(docs: &[SourceDoc<'_>], cfg: &SummaryConfig) -> Vec<Claim> {
    let space = SentenceSpace::new(docs);
    let mut pool = candidates(&space, cfg.min_sentence_words, cfg.max_sentence_words);
    if pool.is_empty() {
        // Headline-only stories: fall back to whatever sentences there are.
        pool = candidates(&space, 1, usize::MAX);
    }
    let mut chosen: Vec<&SentenceVec> = Vec::new();
    let mut words = 0;
    for s in pool {
        if words >= cfg.min_words {
            break;
        }
        if words + s.words > cfg.max_words {
            continue;
        }
        if chosen
            .iter()
            .any(|c| cosine(&c.vector, &s.vector) >= cfg.redundancy)
        {
            continue;
        }
        words += s.words;
        chosen.push(s);
    }
    // Story order: by article (docs come in date order), then position in the article.
    chosen.sort_by_key(|s| (s.doc, s.sentence.idx));
    chosen
        .into_iter()
        .map(|s| space.claim(s, cfg.support))
        .collect()
}

/// Words a headline may have before it is shortened.
const HEADLINE_WORDS: usize = 18;

/// A headline for the story: the title of its most central article, or else its most salient
/// short sentence, shortened at a word boundary.
pub fn headline(docs: &[SourceDoc<'_>]) -> String {
    let space = SentenceSpace::new(docs);
    let pool = candidates(&space, 4, 60);
    let Some(best) = pool.first() else {
        return docs
            .iter()
            .find_map(|d| d.article.title.clone())
            .unwrap_or_else(|| "(untitled story)".to_string());
    };
    if let Some(title) = docs[best.doc]
        .article
        .title
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        return title.trim().to_string();
    }
    // Among nearly-as-salient sentences prefer the shortest: headlines are brief.
    let top = pool
        .iter()
        .take_while(|s| s.salience >= best.salience * 0.85)
        .min_by_key(|s| s.words)
        .unwrap_or(best);
    shorten_headline(space.text(top))
}

/// Words that open a lead-in clause ("As talks resumed, …") a headline can do without.
const LEAD_IN: &[&str] = &[
    "as",
    "amid",
    "amidst",
    "while",
    "after",
    "despite",
    "with",
    "following",
    "although",
    "though",
    "since",
    "when",
    "in",
];
/// Words before which a long headline can be cut without leaving a dangling phrase: clause
/// words first, prepositions only when no clause word fits.
const CUT_BEFORE_CLAUSE: &[&str] = &[
    "aimed",
    "that",
    "as",
    "amid",
    "after",
    "while",
    "following",
    "despite",
    "which",
    "who",
    "because",
    "since",
];
const CUT_BEFORE_PREPOSITION: &[&str] = &["in", "with", "to", "for", "on", "at", "from", "over"];

/// A sentence made headline-sized: a leading clause dropped, then cut before a preposition
/// or clause word, marked with "…" when shortened.
fn shorten_headline(sentence: &str) -> String {
    let mut words: Vec<&str> = sentence.split_whitespace().collect();
    let first = words.first().map(|w| w.to_lowercase()).unwrap_or_default();
    if LEAD_IN.contains(&first.as_str()) {
        if let Some(comma) = words.iter().position(|w| w.ends_with(',')) {
            if comma + 6 < words.len() {
                words.drain(..=comma);
            }
        }
    }
    let mut text = if words.len() <= HEADLINE_WORDS {
        words
            .join(" ")
            .trim_end_matches(['.', ',', ';', ':'])
            .to_string()
    } else {
        let cut_at = |list: &[&str]| {
            (8..=HEADLINE_WORDS).rev().find(|&i| {
                list.contains(&words[i].to_lowercase().as_str()) || words[i - 1].ends_with(',')
            })
        };
        let cut = cut_at(CUT_BEFORE_CLAUSE)
            .or_else(|| cut_at(CUT_BEFORE_PREPOSITION))
            .unwrap_or(HEADLINE_WORDS);
        let mut t = words[..cut]
            .join(" ")
            .trim_end_matches(['.', ',', ';', ':'])
            .to_string();
        t.push('…');
        t
    };
    if let Some(c) = text.chars().next() {
        if c.is_lowercase() {
            text = c.to_uppercase().chain(text.chars().skip(1)).collect();
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Article;
    use crate::normalize::split_sentences;

    fn article(id: &str, text: &str) -> Article {
        Article {
            id: id.into(),
            title: None,
            source: None,
            url: None,
            published: None,
            lang: None,
            text: text.into(),
        }
    }

    #[test]
    fn headlines_drop_lead_in_clauses_and_cut_at_a_phrase() {
        assert_eq!(
            shorten_headline("As talks resume in the capital, the envoy reports progress on a deal to end the strike."),
            "The envoy reports progress on a deal to end the strike"
        );
        assert_eq!(
            shorten_headline("The envoy reports progress in the high-stakes negotiations aimed at securing a ceasefire and the release of all hostages held in the city."),
            "The envoy reports progress in the high-stakes negotiations…"
        );
    }

    #[test]
    fn summary_cites_supporting_articles_and_skips_repeats() {
        let a = article(
            "a",
            "The city council approved the new transit budget on Monday after a long debate. \
            Residents had packed the hall to argue about bus routes and fares for hours.",
        );
        let b = article(
            "b",
            "On Monday the city council approved the transit budget after a long debate. \
            The mayor said new bus lines would open next spring across the northern districts.",
        );
        let sa = split_sentences(&a.text);
        let sb = split_sentences(&b.text);
        let docs = [
            SourceDoc {
                article: &a,
                sentences: &sa,
                is_copy: false,
            },
            SourceDoc {
                article: &b,
                sentences: &sb,
                is_copy: false,
            },
        ];
        let claims = summarize(&docs, &SummaryConfig::default());
        let budget: Vec<&Claim> = claims
            .iter()
            .filter(|c| c.text.contains("approved"))
            .collect();
        assert_eq!(
            budget.len(),
            1,
            "the repeated budget sentence appears once: {claims:?}"
        );
        assert_eq!(budget[0].citations, vec![1, 2]);
        for c in &claims {
            let src = if c.article == "a" { &a.text } else { &b.text };
            assert_eq!(c.span.slice(src), c.text);
        }
    }
}
