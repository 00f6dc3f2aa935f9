//! What the sources of one event agree on, what rests on a single source, and where they
//! give different values for the same thing.
//!
//! Facts (from `extract::facts`) are grouped by what they count (kind, unit, stemmed subject).
//! Near-duplicate copies count once, as their original. Two values conflict only when they
//! cannot both be right after hedges and rounding ("about 40" and "38" agree; "1,200" and
//! "1,234" agree), when no single source reports both (then they are two different things,
//! "10 hostages freed" and "40 hostages held"), and when the quoting sentences share context
//! beyond the number (so two different occurrences are not taken for one).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::{Deserialize, Serialize};

use crate::core::{Article, Claim, EventId, Sentence, Span};
use crate::extract::{Fact, FactKind, Precision};
use crate::normalize::{content_terms, Stemmer};

/// One article of an event, with its facts.
pub struct FactSource<'a> {
    /// Its 1-based number in the story's source list.
    pub n: usize,
    /// The number of the article it copies, or its own number.
    pub original: usize,
    pub article: &'a Article,
    pub sentences: &'a [Sentence],
    pub facts: Vec<Fact>,
}

/// One value given for a subject, with who gives it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactValue {
    /// As the first source wrote it: "approximately 40 hostages".
    pub text: String,
    pub value: f64,
    pub precision: Precision,
    /// Independent sources (originals; copies fold into them).
    pub sources: Vec<usize>,
    /// The sentences that state it.
    pub quotes: Vec<Claim>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FactGroup {
    pub subject: String,
    pub kind: FactKind,
    pub unit: Option<String>,
    pub values: Vec<FactValue>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventFacts {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub event: EventId,
    /// Stated by two or more independent sources, with compatible values.
    pub agreed: Vec<FactGroup>,
    /// Stated by one source only.
    pub single_source: Vec<FactGroup>,
    /// Incompatible values for the same thing from different sources.
    pub conflicts: Vec<FactGroup>,
}

/// Share of context words two quotes must have in common for their values to conflict.
const CONFLICT_CONTEXT: f32 = 0.2;

/// Whether two reported values can both be right.
pub fn compatible(a: &Fact, b: &Fact) -> bool {
    if a.value == b.value {
        return true;
    }
    if a.kind == FactKind::Ordinal || b.kind == FactKind::Ordinal {
        return false;
    }
    let bound_ok = |x: &Fact, y: &Fact| match x.precision {
        Precision::AtLeast => y.value >= x.value,
        Precision::AtMost => y.value <= x.value,
        _ => false,
    };
    if bound_ok(a, b) || bound_ok(b, a) {
        return true;
    }
    let (lo, hi) = (a.value.min(b.value), a.value.max(b.value));
    let approximate =
        a.precision == Precision::Approximate || b.precision == Precision::Approximate;
    if approximate && hi - lo <= (0.1 * hi).max(1.0) {
        return true;
    }
    // A round figure next to a precise one: "1,200" and "1,234".
    let round = |v: f64| v >= 10.0 && v % 10f64.powi((v.log10().floor() as i32 - 1).max(1)) == 0.0;
    (round(a.value) || round(b.value)) && hi - lo <= 0.05 * hi
}

struct Reported<'a> {
    source: &'a FactSource<'a>,
    fact: &'a Fact,
}

pub fn corroborate(event: EventId, sources: &[FactSource<'_>]) -> EventFacts {
    let stemmer = Stemmer::english();
    let mut groups: BTreeMap<(FactKind, Option<String>, String), Vec<Reported<'_>>> =
        BTreeMap::new();
    for s in sources {
        for f in &s.facts {
            groups
                .entry((f.kind, f.unit.clone(), f.subject_key.clone()))
                .or_default()
                .push(Reported { source: s, fact: f });
        }
    }
    let mut out = EventFacts {
        event,
        agreed: Vec::new(),
        single_source: Vec::new(),
        conflicts: Vec::new(),
    };
    for ((kind, unit, _), reports) in groups {
        // Cluster compatible values; exact repeats first so clusters form around them.
        let mut clusters: Vec<Vec<&Reported<'_>>> = Vec::new();
        for r in &reports {
            match clusters
                .iter_mut()
                .find(|c| c.iter().all(|o| compatible(o.fact, r.fact)))
            {
                Some(c) => c.push(r),
                None => clusters.push(vec![r]),
            }
        }
        let subject = reports[0].fact.subject.clone();
        let to_value = |c: &[&Reported<'_>]| -> FactValue {
            let sources: BTreeSet<usize> = c.iter().map(|r| r.source.original).collect();
            let mut quotes: Vec<Claim> = Vec::new();
            let mut seen = HashSet::new();
            for r in c {
                let Some(sentence) = r.source.sentences.iter().find(|s| s.idx == r.fact.sentence)
                else {
                    continue;
                };
                if seen.insert((r.source.n, sentence.idx)) {
                    quotes.push(Claim {
                        text: sentence.span.slice(&r.source.article.text).to_string(),
                        citations: vec![r.source.original],
                        article: r.source.article.id.clone(),
                        span: sentence.span,
                    });
                }
            }
            FactValue {
                text: c[0].fact.text.clone(),
                value: c[0].fact.value,
                precision: c[0].fact.precision,
                sources: sources.into_iter().collect(),
                quotes,
            }
        };
        let group = |values: Vec<FactValue>| FactGroup {
            subject: subject.clone(),
            kind,
            unit: unit.clone(),
            values,
        };
        let values: Vec<FactValue> = clusters.iter().map(|c| to_value(c)).collect();
        if values.len() == 1 {
            let v = values
                .into_iter()
                .next()
                .map(|v| vec![v])
                .unwrap_or_default();
            if v[0].sources.len() >= 2 {
                out.agreed.push(group(v));
            } else {
                out.single_source.push(group(v));
            }
            continue;
        }
        // One source giving two values means two different things share the subject.
        let per_source_values =
            |src: usize| values.iter().filter(|v| v.sources.contains(&src)).count();
        let ambiguous = values
            .iter()
            .flat_map(|v| v.sources.iter())
            .any(|&s| per_source_values(s) > 1);
        let related = !ambiguous && quotes_share_context(&values, &subject, &stemmer);
        if related {
            out.conflicts.push(group(values));
        } else {
            for v in values {
                if v.sources.len() >= 2 {
                    out.agreed.push(group(vec![v]));
                } else {
                    out.single_source.push(group(vec![v]));
                }
            }
        }
    }
    let n_sources =
        |g: &FactGroup| std::cmp::Reverse(g.values.iter().map(|v| v.sources.len()).sum::<usize>());
    out.agreed.sort_by_key(n_sources);
    out.conflicts.sort_by_key(n_sources);
    out
}

/// Whether quotes of different values talk about the same occurrence: their content words,
/// numbers and the subject itself aside, overlap enough.
fn quotes_share_context(values: &[FactValue], subject: &str, stemmer: &Stemmer) -> bool {
    let subject: HashSet<String> = content_terms(subject, stemmer).into_iter().collect();
    let words = |c: &Claim| -> HashSet<String> {
        content_terms(&c.text, stemmer)
            .into_iter()
            .filter(|w| !w.chars().any(|ch| ch.is_ascii_digit()) && !subject.contains(w))
            .collect()
    };
    for (i, a) in values.iter().enumerate() {
        for b in &values[i + 1..] {
            for qa in &a.quotes {
                for qb in &b.quotes {
                    let (wa, wb) = (words(qa), words(qb));
                    let inter = wa.intersection(&wb).count() as f32;
                    let union = wa.union(&wb).count().max(1) as f32;
                    if inter / union >= CONFLICT_CONTEXT {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// A span covering a whole sentence, for tests and callers that quote sentences.
pub fn sentence_span(sentences: &[Sentence], idx: usize) -> Option<Span> {
    sentences.iter().find(|s| s.idx == idx).map(|s| s.span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::facts;
    use crate::normalize::split_sentences;

    struct Doc {
        article: Article,
        sentences: Vec<Sentence>,
    }

    fn doc(id: &str, text: &str) -> Doc {
        Doc {
            article: Article {
                id: id.into(),
                title: None,
                source: None,
                url: None,
                published: None,
                lang: None,
                text: text.into(),
            },
            sentences: split_sentences(text),
        }
    }

    /// `(doc, original number)` pairs; numbers are positions + 1.
    fn run(docs: &[(&Doc, usize)]) -> EventFacts {
        let stemmer = Stemmer::english();
        let sources: Vec<FactSource<'_>> = docs
            .iter()
            .enumerate()
            .map(|(i, (d, original))| FactSource {
                n: i + 1,
                original: *original,
                article: &d.article,
                sentences: &d.sentences,
                facts: facts(&d.article.text, &d.sentences, &stemmer),
            })
            .collect();
        corroborate(EventId(7), &sources)
    }

    fn subjects(groups: &[FactGroup]) -> Vec<String> {
        let mut s: Vec<String> = groups.iter().map(|g| g.subject.clone()).collect();
        s.sort();
        s
    }

    #[test]
    fn real_conflict_is_flagged_with_both_quotes() {
        let a = doc(
            "a",
            "The earthquake killed 12 people in the coastal town on Sunday.",
        );
        let b = doc(
            "b",
            "Officials said the earthquake killed 15 people in the coastal town.",
        );
        let f = run(&[(&a, 1), (&b, 2)]);
        assert_eq!(subjects(&f.conflicts), vec!["people"], "{f:?}");
        let values: Vec<f64> = f.conflicts[0].values.iter().map(|v| v.value).collect();
        assert_eq!(values, vec![12.0, 15.0]);
        assert_eq!(f.conflicts[0].values[1].quotes[0].article, "b");
    }

    #[test]
    fn rounding_and_hedges_are_not_conflicts() {
        let a = doc(
            "a",
            "The deal would free approximately 40 hostages held in Gaza.",
        );
        let b = doc(
            "b",
            "The deal would free 38 hostages held in Gaza, officials said.",
        );
        let c = doc("c", "The fire destroyed 1,200 homes in the valley.");
        let d = doc("d", "The fire destroyed 1,234 homes across the valley.");
        let f = run(&[(&a, 1), (&b, 2), (&c, 3), (&d, 4)]);
        assert!(f.conflicts.is_empty(), "{:?}", f.conflicts);
        assert_eq!(subjects(&f.agreed), vec!["homes", "hostages"]);
    }

    #[test]
    fn copies_count_once() {
        let a = doc("a", "Rescuers pulled 30 survivors from the rubble.");
        let copy = doc("copy", "Rescuers pulled 30 survivors from the rubble.");
        let f = run(&[(&a, 1), (&copy, 1)]);
        assert!(f.agreed.is_empty(), "a copy is not a second source: {f:?}");
        assert_eq!(f.single_source[0].values[0].sources, vec![1]);
        let other = doc(
            "b",
            "Thirty survivors were pulled from the rubble by rescuers.",
        );
        let f = run(&[(&a, 1), (&copy, 1), (&other, 3)]);
        assert_eq!(f.agreed[0].values[0].sources, vec![1, 3]);
    }

    #[test]
    fn different_things_with_one_subject_are_not_conflicts() {
        let a = doc(
            "a",
            "Militants freed 10 hostages on Friday. They still hold 40 hostages in tunnels.",
        );
        let b = doc("b", "Negotiators said 40 hostages remain in captivity.");
        let f = run(&[(&a, 1), (&b, 2)]);
        assert!(f.conflicts.is_empty(), "{:?}", f.conflicts);
        let forty = f
            .agreed
            .iter()
            .find(|g| g.values[0].value == 40.0)
            .expect("40 agreed");
        assert_eq!(forty.values[0].sources, vec![1, 2]);
    }

    #[test]
    fn unrelated_occurrences_are_not_conflicts() {
        let a = doc(
            "a",
            "A bomb in the market killed 5 people on Monday morning.",
        );
        let b = doc(
            "b",
            "Floods in the northern province have killed 9 people this season.",
        );
        let f = run(&[(&a, 1), (&b, 2)]);
        assert!(f.conflicts.is_empty(), "{:?}", f.conflicts);
    }
}
