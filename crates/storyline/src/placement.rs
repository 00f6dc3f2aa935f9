//! Undated reports placed by evidence. An undated article is never given a date, but what it
//! says can bound when it was written: "his seventh round" of an actor whose "sixth visit" a
//! dated report describes comes after that report; "since the October 7 attack" comes after
//! October 7. Each bound keeps its reason and the quotes it rests on. **Pure.**

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::core::{Article, Claim, EntityKind, Sentence, Span};
use crate::extract::{date_mentions, series_in, Granularity, Mention};

/// One article of a story, as placement sees it.
pub struct PlaceSource<'a> {
    /// Its 1-based number in the story's source list.
    pub n: usize,
    pub article: &'a Article,
    pub sentences: &'a [Sentence],
    pub mentions: &'a [Mention],
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Relation {
    After,
    Before,
}

/// One piece of evidence for where an undated article stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bound {
    pub relation: Relation,
    pub date: NaiveDate,
    /// Why, in words: "seventh round of Antony Blinken, after his sixth visit reported on
    /// 2024-03-21".
    pub reason: String,
    /// The sentences it rests on, each citing its source.
    pub quotes: Vec<Claim>,
}

/// Where an undated article stands: the tightest bounds and all the evidence.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The undated article's source number.
    pub source: usize,
    pub article: String,
    /// Written after this day (the latest "after" bound), if any evidence says so.
    pub after: Option<NaiveDate>,
    /// Written before this day (the earliest "before" bound).
    pub before: Option<NaiveDate>,
    pub evidence: Vec<Bound>,
}

/// Words that, before a date, say the text was written after it.
const SINCE: &[&str] = &["since", "after", "following"];

/// An ordinal trip in an article: which one, of whom, and where it is said.
struct Ordinal {
    k: u32,
    noun_phrase: String,
    sentence: Span,
}

fn ordinals(text: &str, sentences: &[Sentence]) -> Vec<Ordinal> {
    let mut out = Vec::new();
    for s in sentences {
        let (words, found) = series_in(s.span.slice(text));
        for (k, i, j) in found {
            out.push(Ordinal {
                k,
                noun_phrase: words[i..=j].join(" "),
                sentence: s.span,
            });
        }
    }
    out
}

/// The person an article is about: the person whose last name it mentions most. A bare
/// surname ("Blinken's visit") counts for the person even when the extractor could not type
/// that mention on its own.
fn protagonist(mentions: &[Mention]) -> Option<(String, String)> {
    let last = |m: &Mention| m.name.split_whitespace().last().map(str::to_lowercase);
    let mut people: Vec<(String, String, usize)> = Vec::new();
    for m in mentions.iter().filter(|m| m.kind == EntityKind::Person) {
        let Some(key) = last(m) else { continue };
        match people.iter_mut().find(|c| c.0 == key) {
            Some(c) if m.name.len() > c.1.len() => c.1 = m.name.clone(),
            Some(_) => {}
            None => people.push((key, m.name.clone(), 0)),
        }
    }
    for m in mentions {
        if let Some(key) = last(m) {
            if let Some(c) = people.iter_mut().find(|c| c.0 == key) {
                c.2 += 1;
            }
        }
    }
    people
        .into_iter()
        .max_by(|a, b| a.2.cmp(&b.2).then(b.0.cmp(&a.0)))
        .filter(|c| c.2 >= 2)
        .map(|c| (c.0, c.1))
}

fn quote(src: &PlaceSource<'_>, span: Span) -> Claim {
    Claim {
        text: span.slice(&src.article.text).trim().to_string(),
        citations: vec![src.n],
        article: src.article.id.clone(),
        span,
    }
}

/// A dated article, its day, its protagonist (last name, full name) and its ordinal trips.
type DatedOrdinals<'s> = (
    &'s PlaceSource<'s>,
    NaiveDate,
    Option<(String, String)>,
    Vec<Ordinal>,
);

/// Placements of the story's undated articles that the evidence bounds.
pub fn place_undated(sources: &[PlaceSource<'_>]) -> Vec<Placement> {
    let latest_published = sources.iter().filter_map(|s| s.article.date()).max();
    let dated: Vec<DatedOrdinals<'_>> = sources
        .iter()
        .filter_map(|s| {
            let d = s.article.date()?;
            Some((
                s,
                d,
                protagonist(s.mentions),
                ordinals(&s.article.text, s.sentences),
            ))
        })
        .collect();
    let mut out = Vec::new();
    for u in sources.iter().filter(|s| s.article.published.is_none()) {
        let mut evidence: Vec<Bound> = Vec::new();
        if let Some((actor, name)) = protagonist(u.mentions) {
            for o in ordinals(&u.article.text, u.sentences) {
                for (d, day, d_actor, d_ordinals) in &dated {
                    if d_actor.as_ref().map(|a| &a.0) != Some(&actor) {
                        continue;
                    }
                    for p in d_ordinals.iter().filter(|p| p.k != o.k) {
                        let relation = if o.k > p.k {
                            Relation::After
                        } else {
                            Relation::Before
                        };
                        let word = if relation == Relation::After {
                            "after"
                        } else {
                            "before"
                        };
                        evidence.push(Bound {
                            relation,
                            date: *day,
                            reason: format!(
                                "\"{}\" of {name} comes {word} the \"{}\" reported on {day}",
                                o.noun_phrase, p.noun_phrase
                            ),
                            quotes: vec![quote(u, o.sentence), quote(d, p.sentence)],
                        });
                    }
                }
            }
        }
        if let Some(reference) = latest_published {
            for s in u.sentences {
                let body = s.span.slice(&u.article.text);
                for m in date_mentions(body, Some(reference)) {
                    if m.granularity != Granularity::Day {
                        continue;
                    }
                    let said = m.span.slice(body);
                    let named_month = said.chars().any(|c| c.is_alphabetic());
                    let before_words: Vec<&str> = body[..m.span.start].split_whitespace().collect();
                    let cue = before_words
                        .iter()
                        .rev()
                        .take(4)
                        .any(|w| SINCE.contains(&w.to_lowercase().as_str()));
                    // A date said without its year is taken in the year that puts it on or
                    // before the story's latest report: "since October 7" looks back.
                    let mut date = m.date;
                    let has_year = said
                        .split(|c: char| !c.is_ascii_digit())
                        .any(|r| r.len() == 4);
                    if date > reference && !has_year {
                        date = date.with_year(date.year() - 1).unwrap_or(date);
                    }
                    if !named_month || !cue || date > reference {
                        continue;
                    }
                    evidence.push(Bound {
                        relation: Relation::After,
                        date,
                        reason: format!("it speaks of the time since {said} ({date})"),
                        quotes: vec![quote(u, s.span)],
                    });
                }
            }
        }
        if evidence.is_empty() {
            continue;
        }
        let after = evidence
            .iter()
            .filter(|b| b.relation == Relation::After)
            .map(|b| b.date)
            .max();
        let before = evidence
            .iter()
            .filter(|b| b.relation == Relation::Before)
            .map(|b| b.date)
            .min();
        // The tightest evidence first.
        evidence.sort_by_key(|b| std::cmp::Reverse(b.date));
        out.push(Placement {
            source: u.n,
            article: u.article.id.clone(),
            after,
            before,
            evidence,
        });
    }
    out
}
