//! Named-entity scores against a reference annotation (e.g. spaCy's en_core_web_sm output,
//! written by `scripts/ner_reference.py`): precision and recall of the distinct
//! (name, kind) pairs each article mentions, micro-averaged over articles.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::cluster::PRF;
use storyline::core::EntityKind;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntityScores {
    pub articles: usize,
    /// Name and kind must both match.
    pub typed: PRF,
    /// The name alone must match (detection).
    pub untyped: PRF,
    pub by_kind: BTreeMap<String, PRF>,
}

/// The form names are compared in: lower case, no leading "the", no possessive, single
/// spaces, no surrounding punctuation.
pub fn comparable_name(name: &str) -> String {
    let lower = name.to_lowercase().replace(['’'], "'");
    let lower = lower.trim_matches(|c: char| !c.is_alphanumeric());
    let lower = lower.strip_suffix("'s").unwrap_or(lower);
    let lower = lower.strip_prefix("the ").unwrap_or(lower);
    lower.split_whitespace().collect::<Vec<_>>().join(" ")
}

type Names = HashMap<String, Vec<(String, EntityKind)>>;

/// Scores `ours` against `reference`, over the articles the reference covers.
pub fn score(ours: &Names, reference: &Names) -> EntityScores {
    let set = |v: Option<&Vec<(String, EntityKind)>>| -> HashSet<(String, EntityKind)> {
        v.into_iter()
            .flatten()
            .map(|(n, k)| (comparable_name(n), *k))
            .filter(|(n, _)| !n.is_empty())
            .collect()
    };
    let kinds = [
        EntityKind::Person,
        EntityKind::Organization,
        EntityKind::Place,
    ];
    let mut counts: HashMap<Option<EntityKind>, (usize, usize, usize)> = HashMap::new();
    let (mut ut_tp, mut ut_sys, mut ut_ref) = (0, 0, 0);
    for id in reference.keys() {
        let sys = set(ours.get(id));
        let gold = set(reference.get(id));
        for k in kinds.iter().map(|k| Some(*k)).chain([None]) {
            let of = |s: &HashSet<(String, EntityKind)>| -> HashSet<(String, EntityKind)> {
                s.iter()
                    .filter(|(_, kk)| k.is_none_or(|k| *kk == k))
                    .cloned()
                    .collect()
            };
            let (s, g) = (of(&sys), of(&gold));
            let c = counts.entry(k).or_default();
            c.0 += s.intersection(&g).count();
            c.1 += s.len();
            c.2 += g.len();
        }
        let names = |s: &HashSet<(String, EntityKind)>| -> HashSet<String> {
            s.iter().map(|(n, _)| n.clone()).collect()
        };
        let (sn, gn) = (names(&sys), names(&gold));
        ut_tp += sn.intersection(&gn).count();
        ut_sys += sn.len();
        ut_ref += gn.len();
    }
    let prf = |tp: usize, sys: usize, gold: usize| {
        let p = if sys > 0 { tp as f64 / sys as f64 } else { 0.0 };
        let r = if gold > 0 {
            tp as f64 / gold as f64
        } else {
            0.0
        };
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        PRF {
            precision: p,
            recall: r,
            f1,
        }
    };
    let (tp, sys, gold) = counts.get(&None).copied().unwrap_or_default();
    EntityScores {
        articles: reference.len(),
        typed: prf(tp, sys, gold),
        untyped: prf(ut_tp, ut_sys, ut_ref),
        by_kind: kinds
            .iter()
            .map(|k| {
                let (tp, sys, gold) = counts.get(&Some(*k)).copied().unwrap_or_default();
                (k.as_str().to_string(), prf(tp, sys, gold))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_without_articles_and_possessives() {
        assert_eq!(comparable_name("the  United Nations'"), "united nations");
        assert_eq!(comparable_name("Blinken's"), "blinken");
    }

    #[test]
    fn typed_and_untyped_scores() {
        let ours: Names = [(
            "a".to_string(),
            vec![
                ("Antony Blinken".into(), EntityKind::Person),
                ("Doha".into(), EntityKind::Organization),
            ],
        )]
        .into();
        let reference: Names = [(
            "a".to_string(),
            vec![
                ("Antony Blinken".into(), EntityKind::Person),
                ("Doha".into(), EntityKind::Place),
                ("Qatar".into(), EntityKind::Place),
            ],
        )]
        .into();
        let s = score(&ours, &reference);
        assert_eq!((s.typed.precision, s.typed.recall), (0.5, 1.0 / 3.0));
        assert_eq!((s.untyped.precision, s.untyped.recall), (1.0, 2.0 / 3.0));
        assert_eq!(s.by_kind["person"].f1, 1.0);
    }
}
