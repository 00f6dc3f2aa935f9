//! ROUGE-N recall as ROUGE-1.5.5 computes it with `-n N -m -l L -f A` (the DUC 2004 settings),
//! so regression tests need no Perl. Checked against the Perl script on the DUC 2004 peers
//! (`scripts/rouge_duc.py`); the one known difference is the stemmer: Snowball English here,
//! Porter's original plus WordNet exceptions there.
//!
//! Steps, as in the script: each summary line is lower-cased; the summary is cut to its first
//! `L` whitespace tokens (references too); `-` is set apart and every other character that is
//! not a letter or digit becomes a space; tokens longer than 3 characters are stemmed; n-gram
//! hits are clipped per reference and summed over all references (model average, `-f A`).

use std::collections::HashMap;

use storyline::normalize::Stemmer;

/// Hits and reference n-gram count of one summary against its references.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RougeCounts {
    pub hits: usize,
    pub total: usize,
}

impl RougeCounts {
    pub fn recall(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.hits as f64 / self.total as f64
        }
    }
}

/// The tokens ROUGE-1.5.5 sees in a summary given as lines, cut at `limit` words (0: no cut).
pub fn tokens(lines: &[&str], limit: usize, stemmer: &Stemmer) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    'lines: for line in lines.iter().filter(|l| !l.is_empty()) {
        for w in line.split_whitespace() {
            if limit > 0 && kept.len() >= limit {
                break 'lines;
            }
            kept.push(w.to_lowercase());
        }
    }
    let text = kept.join(" ").replace('-', " - ");
    let text: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                ' '
            }
        })
        .collect();
    text.split_whitespace()
        // Only tokens that start with a letter or digit count (`-` alone does not).
        .filter(|t| t.starts_with(|c: char| c.is_ascii_alphanumeric()))
        .map(|t| {
            if t.len() > 3 {
                stemmer.stem(t).into_owned()
            } else {
                t.to_string()
            }
        })
        .collect()
}

fn ngrams(tokens: &[String], n: usize) -> HashMap<&[String], usize> {
    let mut m = HashMap::new();
    if n > 0 && tokens.len() >= n {
        for g in tokens.windows(n) {
            *m.entry(g).or_default() += 1;
        }
    }
    m
}

/// ROUGE-N hits and counts of `summary` against `references` (each a list of lines).
pub fn rouge_n(
    summary: &[&str],
    references: &[Vec<&str>],
    n: usize,
    limit: usize,
    stemmer: &Stemmer,
) -> RougeCounts {
    let peer = tokens(summary, limit, stemmer);
    let peer_grams = ngrams(&peer, n);
    let mut counts = RougeCounts::default();
    for r in references {
        let model = tokens(r, limit, stemmer);
        let model_grams = ngrams(&model, n);
        counts.total += model_grams.values().sum::<usize>();
        counts.hits += model_grams
            .iter()
            .map(|(g, c)| peer_grams.get(g).map_or(0, |p| (*p).min(*c)))
            .sum::<usize>();
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_rouge_155() {
        let s = Stemmer::english();
        assert_eq!(
            tokens(&["The U.S.-led talks", "were held."], 0, &s),
            vec!["the", "u", "s", "led", "talk", "were", "held"]
        );
        // The cut is in whitespace words before punctuation is removed.
        assert_eq!(tokens(&["a b, c", "d e"], 4, &s), vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn hits_are_clipped_per_reference_and_summed() {
        let s = Stemmer::english();
        let refs = vec![vec!["the cat sat"], vec!["a dog sat"]];
        let r1 = rouge_n(&["the cat sat sat"], &refs, 1, 0, &s);
        assert_eq!(r1, RougeCounts { hits: 4, total: 6 });
        let r2 = rouge_n(&["the cat sat"], &refs, 2, 0, &s);
        assert_eq!(r2, RougeCounts { hits: 2, total: 4 });
    }
}
