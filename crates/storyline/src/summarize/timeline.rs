//! A dated timeline: the days that matter and, for each, the sentences that best tell what
//! happened that day. Undated articles are listed apart and never given a date.
//!
//! Dates come from the text as well as from publication (after news-tls's DATEWISE): a
//! sentence that mentions a day ("on Tuesday", "March 3") speaks of that day; one that
//! mentions none speaks of its article's publication day. A day's weight is how many
//! articles speak of it, text mentions counting more than publications because a day that
//! later reports look back to is the day something happened. A day's sentences are ranked by
//! closeness to what all of that day's sentences say (its centroid).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::space::{cosine, dot_dense, SentenceSpace, SentenceVec, SourceDoc};
use super::summary::candidates;
use crate::core::Claim;
use crate::extract::mentioned_days;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TimelineConfig {
    /// How many dates to keep (the weightiest); `None`: every publication day, plus days
    /// from a week before the first report on that at least two articles mention.
    pub dates: Option<usize>,
    /// Sentences per date; `None`: one.
    pub sentences_per_date: Option<usize>,
    /// A sentence this similar to one already on the timeline is skipped.
    pub redundancy: f32,
    pub support: f32,
    /// Only days in this range (inclusive) may be chosen.
    pub span: Option<(NaiveDate, NaiveDate)>,
    /// Weight of an article mentioning a day in its text, next to 1 for one published
    /// that day.
    pub mention_weight: f32,
    /// Bonus (cosine units) of a sentence that names the day it is listed under.
    pub mention_bonus: f32,
    /// Weight of a sentence's story-wide salience next to its closeness to its day.
    pub salience_weight: f32,
    /// Candidate sentence length, in words.
    pub min_sentence_words: usize,
    pub max_sentence_words: usize,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        TimelineConfig {
            dates: None,
            sentences_per_date: None,
            redundancy: 0.55,
            support: 0.4,
            span: None,
            mention_weight: 3.0,
            mention_bonus: 0.0,
            salience_weight: 0.0,
            min_sentence_words: 6,
            max_sentence_words: 60,
        }
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub date: NaiveDate,
    pub sentences: Vec<Claim>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Entries in date order.
    pub dated: Vec<TimelineEntry>,
    /// One entry per undated article: its most salient sentence.
    pub undated: Vec<Claim>,
}

/// A candidate sentence listed under one day, and whether it names that day.
struct Dated<'s> {
    s: &'s SentenceVec,
    mentioned: bool,
}

pub fn timeline(docs: &[SourceDoc<'_>], cfg: &TimelineConfig) -> Timeline {
    timeline_in(&SentenceSpace::new(docs), cfg)
}

/// [`timeline`] in a space already made (a report's summary, timeline and headline share
/// one).
pub fn timeline_in(space: &SentenceSpace<'_>, cfg: &TimelineConfig) -> Timeline {
    let docs = space.docs;
    let mut pool = candidates(space, cfg.min_sentence_words, cfg.max_sentence_words);
    if pool.is_empty() {
        pool = candidates(space, 1, usize::MAX);
    }
    let in_span = |d: &NaiveDate| cfg.span.is_none_or(|(a, b)| (a..=b).contains(d));
    let mut by_date: BTreeMap<NaiveDate, Vec<Dated<'_>>> = BTreeMap::new();
    let mut undated: BTreeMap<usize, &SentenceVec> = BTreeMap::new();
    // Articles speaking of each day: by publication, by mention.
    let mut published_on: HashMap<NaiveDate, HashSet<usize>> = HashMap::new();
    let mut mentioned_by: HashMap<NaiveDate, HashSet<usize>> = HashMap::new();
    for (d, doc) in docs.iter().enumerate() {
        if let Some(p) = doc.article.date().filter(|_| !doc.is_copy) {
            published_on.entry(p).or_default().insert(d);
        }
    }
    // The days each dated candidate mentions, found in the space's order, the order the
    // texts lie in memory: in the pool's (salience) order each would be a fetch from
    // anywhere in a big story.
    let mut in_pool = vec![false; space.sentences.len()];
    for s in &pool {
        in_pool[s.index] = true;
    }
    let mut mentions: Vec<Vec<NaiveDate>> = vec![Vec::new(); space.sentences.len()];
    for s in space.sentences.iter().filter(|s| in_pool[s.index]) {
        if let Some(published) = docs[s.doc].article.date() {
            mentions[s.index] = mentioned_days(space.text(s), Some(published))
                .into_iter()
                .filter(|d| in_span(d))
                .collect();
        }
    }
    for s in &pool {
        let Some(published) = docs[s.doc].article.date() else {
            // Never dated: not even by a date it mentions, which could be a past event's.
            undated.entry(s.doc).or_insert(s);
            continue;
        };
        let days = std::mem::take(&mut mentions[s.index]);
        if days.is_empty() {
            by_date.entry(published).or_default().push(Dated {
                s,
                mentioned: false,
            });
        }
        for d in days {
            mentioned_by.entry(d).or_default().insert(s.doc);
            by_date
                .entry(d)
                .or_default()
                .push(Dated { s, mentioned: true });
        }
    }
    let count =
        |m: &HashMap<NaiveDate, HashSet<usize>>, d: &NaiveDate| m.get(d).map_or(0, HashSet::len);
    let weight = |d: &NaiveDate| {
        count(&published_on, d) as f32 + cfg.mention_weight * count(&mentioned_by, d) as f32
    };
    let mut dates: Vec<NaiveDate> = by_date.keys().copied().filter(|d| in_span(d)).collect();
    match cfg.dates {
        Some(n) => {
            dates.sort_by(|a, b| weight(b).total_cmp(&weight(a)).then(a.cmp(b)));
            dates.truncate(n);
            dates.sort();
        }
        None => {
            // Unasked, show the story's own days: its publication days, and days at most a
            // week before its first report that two articles mention. Older mentions are
            // background ("since the attack of October 7"), not this story's events.
            let first = published_on.keys().min().copied();
            let last = published_on.keys().max().copied();
            let recent = |d: &NaiveDate| match (first, last) {
                (Some(f), Some(l)) => (f - chrono::Days::new(7)..=l).contains(d),
                _ => false,
            };
            dates.retain(|d| {
                published_on.contains_key(d) || (count(&mentioned_by, d) >= 2 && recent(d))
            });
        }
    }

    let k = cfg.sentences_per_date.unwrap_or(1);
    let mut chosen: Vec<&SentenceVec> = Vec::new();
    let mut dated = Vec::new();
    let mut dense: Vec<f32> = Vec::new();
    for date in dates {
        let ss = &by_date[&date];
        fill_centroid(&mut dense, ss.iter().map(|x| x.s));
        let centroid = &dense;
        let score = |x: &Dated<'_>| {
            dot_dense(&x.s.vector, centroid)
                + cfg.salience_weight * x.s.salience
                + if x.mentioned { cfg.mention_bonus } else { 0.0 }
        };
        // Scored once each: a comparator that rescored would cost N log N dot products, and
        // one day of a big story holds most of its sentences. The sort is stable, so ties
        // keep the pool's order (most salient first) as before.
        let mut ranked: Vec<(f32, &Dated<'_>)> = ss.iter().map(|x| (score(x), x)).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut picked: Vec<&SentenceVec> = Vec::new();
        for (_, x) in ranked {
            if picked.len() >= k {
                break;
            }
            if chosen
                .iter()
                .any(|c| cosine(&c.vector, &x.s.vector) >= cfg.redundancy)
            {
                continue;
            }
            chosen.push(x.s);
            picked.push(x.s);
        }
        if !picked.is_empty() {
            dated.push(TimelineEntry {
                date,
                sentences: picked
                    .into_iter()
                    .map(|s| space.claim(s, cfg.support))
                    .collect(),
            });
        }
    }
    let undated = undated
        .into_values()
        .map(|s| space.claim(s, cfg.support))
        .collect();
    Timeline { dated, undated }
}

/// `dense` := the normalised sum of some sentence vectors, on their terms (a buffer reused
/// across days so that scoring a sentence costs its own terms, not the vocabulary; entries
/// of other terms are stale, and only these sentences are scored against it).
fn fill_centroid<'s>(dense: &mut Vec<f32>, ss: impl Iterator<Item = &'s SentenceVec> + Clone) {
    for s in ss.clone() {
        for &(id, _) in &s.vector {
            if let Some(w) = dense.get_mut(id as usize) {
                *w = 0.0;
            }
        }
    }
    let mut touched: Vec<u32> = Vec::new();
    for s in ss {
        for &(id, w) in &s.vector {
            let i = id as usize;
            if i >= dense.len() {
                dense.resize(i + 1, 0.0);
            }
            if dense[i] == 0.0 {
                touched.push(id);
            }
            dense[i] += w;
        }
    }
    let norm = touched
        .iter()
        .map(|&id| dense[id as usize].powi(2))
        .sum::<f32>()
        .sqrt();
    if norm > 0.0 {
        for &id in &touched {
            dense[id as usize] /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Article;
    use crate::normalize::split_sentences;
    use chrono::{TimeZone, Utc};

    fn article(id: &str, day: Option<u32>, text: &str) -> Article {
        Article {
            id: id.into(),
            title: None,
            source: None,
            url: None,
            published: day.and_then(|d| Utc.with_ymd_and_hms(2010, 3, d, 12, 0, 0).single()),
            lang: None,
            text: text.into(),
        }
    }

    #[test]
    fn days_come_from_mentions_and_undated_articles_stay_apart() {
        // 2010-03-10 and 2010-03-11 are a Wednesday and a Thursday.
        let arts = [
            article("a", Some(10), "The dam burst on Monday and flooded the valley below the town. Rescue teams searched the flooded valley for survivors all day."),
            article("b", Some(11), "Officials said on Thursday that the dam burst Monday after days of heavy rain. The governor declared a state of emergency across the region."),
            article("c", None, "Engineers had warned for years that the old dam could burst in a heavy storm."),
        ];
        let sents: Vec<_> = arts.iter().map(|a| split_sentences(&a.text)).collect();
        let docs: Vec<SourceDoc<'_>> = arts
            .iter()
            .zip(&sents)
            .map(|(article, sentences)| SourceDoc {
                article,
                sentences,
                is_copy: false,
            })
            .collect();
        let cfg = TimelineConfig {
            dates: Some(1),
            ..TimelineConfig::default()
        };
        let tl = timeline(&docs, &cfg);
        // Monday 2010-03-08 is mentioned by both dated articles: it is the day that matters.
        assert_eq!(tl.dated.len(), 1);
        assert_eq!(tl.dated[0].date.to_string(), "2010-03-08");
        assert!(tl.dated[0].sentences[0].text.contains("burst"));
        assert_eq!(tl.undated.len(), 1);
        assert_eq!(tl.undated[0].article, "c");
    }
}
