//! Clustering scores: B-cubed, pairwise precision/recall/F1, and NMI.

use std::collections::HashMap;

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PRF {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

impl PRF {
    pub fn new(precision: f64, recall: f64) -> PRF {
        let f1 = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        PRF {
            precision,
            recall,
            f1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClusterScores {
    /// Items scored: in both the prediction and the gold.
    pub items: usize,
    /// Gold items with no prediction (scored as nothing: they are left out).
    pub missing: usize,
    pub predicted_clusters: usize,
    pub gold_clusters: usize,
    pub bcubed: PRF,
    pub pairwise: PRF,
    /// Normalised mutual information (arithmetic-mean normalisation, as scikit-learn).
    pub nmi: f64,
}

/// Scores predicted cluster labels against gold labels, over the items both label.
pub fn score(predicted: &HashMap<String, String>, gold: &HashMap<String, String>) -> ClusterScores {
    let items: Vec<(&str, &str)> = gold
        .iter()
        .filter_map(|(id, g)| predicted.get(id).map(|p| (p.as_str(), g.as_str())))
        .collect();
    let n = items.len();
    let mut joint: HashMap<(&str, &str), usize> = HashMap::new();
    let mut pred_size: HashMap<&str, usize> = HashMap::new();
    let mut gold_size: HashMap<&str, usize> = HashMap::new();
    for &(p, g) in &items {
        *joint.entry((p, g)).or_default() += 1;
        *pred_size.entry(p).or_default() += 1;
        *gold_size.entry(g).or_default() += 1;
    }
    let (mut bp, mut br) = (0.0, 0.0);
    for (&(p, g), &c) in &joint {
        let c = c as f64;
        bp += c * c / pred_size[p] as f64;
        br += c * c / gold_size[g] as f64;
    }
    let nf = n.max(1) as f64;
    let pairs = |k: usize| (k * k.saturating_sub(1) / 2) as f64;
    let tp: f64 = joint.values().map(|&c| pairs(c)).sum();
    let pred_pairs: f64 = pred_size.values().map(|&c| pairs(c)).sum();
    let gold_pairs: f64 = gold_size.values().map(|&c| pairs(c)).sum();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 1.0 };
    let entropy = |sizes: &HashMap<&str, usize>| {
        -sizes
            .values()
            .map(|&c| {
                let p = c as f64 / nf;
                p * p.ln()
            })
            .sum::<f64>()
    };
    let mutual: f64 = joint
        .iter()
        .map(|(&(p, g), &c)| {
            let pij = c as f64 / nf;
            pij * (pij * nf * nf / (pred_size[p] as f64 * gold_size[g] as f64)).ln()
        })
        .sum();
    let (hp, hg) = (entropy(&pred_size), entropy(&gold_size));
    let nmi = if hp + hg > 0.0 {
        2.0 * mutual / (hp + hg)
    } else {
        1.0
    };
    ClusterScores {
        items: n,
        missing: gold.len() - n,
        predicted_clusters: pred_size.len(),
        gold_clusters: gold_size.len(),
        bcubed: PRF::new(bp / nf, br / nf),
        pairwise: PRF::new(ratio(tp, pred_pairs), ratio(tp, gold_pairs)),
        nmi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn perfect_clustering_scores_one() {
        let g = labels(&[("a", "1"), ("b", "1"), ("c", "2")]);
        let p = labels(&[("a", "x"), ("b", "x"), ("c", "y")]);
        let s = score(&p, &g);
        assert_eq!((s.bcubed.f1, s.pairwise.f1), (1.0, 1.0));
        assert!((s.nmi - 1.0).abs() < 1e-12);
    }

    #[test]
    fn known_values_for_a_merge() {
        // Gold {a,b} {c}; predicted everything together.
        let g = labels(&[("a", "1"), ("b", "1"), ("c", "2")]);
        let p = labels(&[("a", "x"), ("b", "x"), ("c", "x")]);
        let s = score(&p, &g);
        // B-cubed precision: (2/3 + 2/3 + 1/3) / 3 = 5/9; recall 1.
        assert!((s.bcubed.precision - 5.0 / 9.0).abs() < 1e-12);
        assert_eq!(s.bcubed.recall, 1.0);
        // Pairwise: 1 true pair of 3 predicted.
        assert!((s.pairwise.precision - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(s.nmi, 0.0);
        assert_eq!(s.missing, 0);
    }
}
