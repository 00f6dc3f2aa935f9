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
    let text = space.text(top).trim();
    let words: Vec<&str> = text.split_whitespace().collect();
    if words.len() <= HEADLINE_WORDS {
        return text.trim_end_matches('.').to_string();
    }
    let mut cut = words[..HEADLINE_WORDS].join(" ");
    cut = cut.trim_end_matches([',', ';', ':', '.']).to_string();
    cut.push('…');
    cut
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
