//! Main-text extraction scores, exactly as the article-extraction benchmark computes them
//! (scrapinghub/article-extraction-benchmark, `evaluate.py`):
//!
//! - tokens are the runs of `\w` characters in Python's sense (letters, numbers, `_`);
//! - a text's shingles are its word 4-grams counted as a *multiset* (a `Counter`); a text of
//!   one to three tokens has a single shingle of all its tokens, an empty text none;
//! - per page, TP/FP/FN are the multiset overlap and the two differences, then divided by
//!   their sum so every page weighs the same;
//! - precision is averaged over the pages with TP + FP > 0, recall over the pages with
//!   TP + FN > 0, and F1 is the harmonic mean of the two averages (not a mean of F1s).

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Serialize;

/// Shingle length used by the benchmark.
pub const NGRAM: usize = 4;

/// One page's normalised counts: `tp + fp + fn_ == 1` unless both texts are empty (all 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PageCounts {
    pub tp: f64,
    pub fp: f64,
    #[serde(rename = "fn")]
    pub fn_: f64,
}

impl PageCounts {
    /// The benchmark's `precision_score`.
    pub fn precision(&self) -> f64 {
        if self.fp == 0.0 && self.fn_ == 0.0 {
            1.0
        } else if self.tp == 0.0 && self.fp == 0.0 {
            0.0
        } else {
            self.tp / (self.tp + self.fp)
        }
    }

    /// The benchmark's `recall_score`.
    pub fn recall(&self) -> f64 {
        if self.fp == 0.0 && self.fn_ == 0.0 {
            1.0
        } else if self.tp == 0.0 && self.fn_ == 0.0 {
            0.0
        } else {
            self.tp / (self.tp + self.fn_)
        }
    }

    /// This page's own F1, for ranking the worst pages (not part of the benchmark's mean).
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        }
    }
}

/// Scores over a set of pages.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ExtractScores {
    pub pages: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// The `\w+` tokens of a text. Python's `\w` is `str.isalnum()` or `_`, i.e. Unicode letters
/// (L*) and numbers (N*); Rust's `\w` also takes combining marks, so the class is spelled out.
pub fn tokens(text: &str) -> Vec<&str> {
    static TOKEN: OnceLock<regex::Regex> = OnceLock::new();
    let re = TOKEN.get_or_init(|| regex::Regex::new(r"[\p{L}\p{N}_]+").expect("constant pattern"));
    re.find_iter(text).map(|m| m.as_str()).collect()
}

/// The multiset of word 4-grams of a text, as the benchmark's `_all_shingles`.
pub fn shingles(text: &str) -> HashMap<Vec<&str>, usize> {
    let toks = tokens(text);
    let mut out: HashMap<Vec<&str>, usize> = HashMap::new();
    if toks.is_empty() {
        return out;
    }
    // `range(0, max(1, len - n + 1))`: short texts keep one shingle of all their tokens.
    let starts = toks.len().saturating_sub(NGRAM - 1).max(1);
    for i in 0..starts {
        let end = (i + NGRAM).min(toks.len());
        *out.entry(toks[i..end].to_vec()).or_default() += 1;
    }
    out
}

/// TP/FP/FN of one page's prediction against its gold text, normalised to sum 1.
pub fn score_page(gold: &str, predicted: &str) -> PageCounts {
    let g = shingles(gold);
    let p = shingles(predicted);
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    for (k, &gc) in &g {
        let pc = p.get(k).copied().unwrap_or(0);
        tp += gc.min(pc);
        fn_ += gc.saturating_sub(pc);
    }
    for (k, &pc) in &p {
        let gc = g.get(k).copied().unwrap_or(0);
        fp += pc.saturating_sub(gc);
    }
    let sum = (tp + fp + fn_) as f64;
    if sum == 0.0 {
        return PageCounts::default();
    }
    PageCounts {
        tp: tp as f64 / sum,
        fp: fp as f64 / sum,
        fn_: fn_ as f64 / sum,
    }
}

/// The benchmark's `metrics_from_tp_fp_fns`. With no page to average, the mean is 0.
pub fn aggregate(pages: &[PageCounts]) -> ExtractScores {
    let mean = |xs: Vec<f64>| {
        if xs.is_empty() {
            0.0
        } else {
            xs.iter().sum::<f64>() / xs.len() as f64
        }
    };
    let precision = mean(
        pages
            .iter()
            .filter(|c| c.tp + c.fp > 0.0)
            .map(PageCounts::precision)
            .collect(),
    );
    let recall = mean(
        pages
            .iter()
            .filter(|c| c.tp + c.fn_ > 0.0)
            .map(PageCounts::recall)
            .collect(),
    );
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    ExtractScores {
        pages: pages.len(),
        precision,
        recall,
        f1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn tokens_are_python_word_runs() {
        assert_eq!(
            tokens("Don't stop—the café's 2,500 snake_case words!"),
            [
                "Don",
                "t",
                "stop",
                "the",
                "café",
                "s",
                "2",
                "500",
                "snake_case",
                "words"
            ]
        );
        // A combining accent is not a word character in Python: "e\u{301}" splits.
        assert_eq!(tokens("cafe\u{301}s"), ["cafe", "s"]);
        assert!(tokens(" —, ").is_empty());
    }

    #[test]
    fn shingles_count_repeats_and_keep_short_texts() {
        let s = shingles("a b c d a b c d");
        assert_eq!(s.len(), 4); // abcd, bcda, cdab, dabc
        assert_eq!(s[&vec!["a", "b", "c", "d"]], 2);
        let short = shingles("only two");
        assert_eq!(short.len(), 1);
        assert_eq!(short[&vec!["only", "two"]], 1);
        assert!(shingles("").is_empty());
        assert_eq!(shingles("w x y z").len(), 1);
    }

    #[test]
    fn identical_texts_score_one() {
        let c = score_page("one two three four five", "one two three four five");
        assert_eq!((c.tp, c.fp, c.fn_), (1.0, 0.0, 0.0));
        assert_eq!((c.precision(), c.recall()), (1.0, 1.0));
    }

    #[test]
    fn known_counts_on_hand_made_texts() {
        // gold: 6 tokens → 3 shingles (abcd, bcde, cdef); prediction adds "g": 4 shingles,
        // of which the 3 gold ones match. TP 3, FP 1, FN 0 → 3/4, 1/4, 0.
        let c = score_page("a b c d e f", "a b c d e f g");
        assert!(close(c.tp, 0.75) && close(c.fp, 0.25) && close(c.fn_, 0.0));
        assert!(close(c.precision(), 0.75) && close(c.recall(), 1.0));

        // Prediction misses the last word: 2 of 3 gold shingles; TP 2, FP 0, FN 1.
        let c = score_page("a b c d e f", "a b c d e");
        assert!(close(c.tp, 2.0 / 3.0) && close(c.fn_, 1.0 / 3.0) && c.fp == 0.0);

        // Multiset: gold has "x y z w" twice, prediction once → TP 1, FN 1 (plus the rest).
        let c = score_page("x y z w x y z w", "x y z w");
        // gold shingles: xyzw ×2, yzwx, zwxy, wxyz → 5; prediction: xyzw → 1.
        assert!(close(c.tp, 1.0 / 5.0) && close(c.fn_, 4.0 / 5.0) && c.fp == 0.0);
    }

    #[test]
    fn empty_sides() {
        // Nothing extracted: all FN, precision 0 but left out of the precision mean.
        let c = score_page("a b c d e", "");
        assert_eq!((c.tp, c.fp, c.fn_), (0.0, 0.0, 1.0));
        assert_eq!((c.precision(), c.recall()), (0.0, 0.0));
        let both = score_page("", "—");
        assert_eq!(both, PageCounts::default());
    }

    #[test]
    fn aggregate_averages_precision_and_recall_then_takes_f1() {
        let pages = [
            score_page("a b c d e f", "a b c d e f g"), // P 0.75, R 1
            score_page("a b c d e f", "a b c d e"),     // P 1, R 2/3
            score_page("a b c d e", ""),                // no precision; R 0
        ];
        let s = aggregate(&pages);
        assert_eq!(s.pages, 3);
        assert!(close(s.precision, (0.75 + 1.0) / 2.0));
        assert!(close(s.recall, (1.0 + 2.0 / 3.0 + 0.0) / 3.0));
        let f1 = 2.0 * s.precision * s.recall / (s.precision + s.recall);
        assert!(close(s.f1, f1));
        assert_eq!(aggregate(&[]).f1, 0.0);
    }
}
