//! A dated timeline: for each day, the sentences that best tell what happened, drawn from the
//! articles published that day. Undated articles are listed apart and never given a date.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::space::{cosine, SentenceSpace, SentenceVec, SourceDoc};
use super::summary::candidates;
use crate::core::Claim;

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineConfig {
    /// How many dates to keep (the busiest); `None` keeps every date.
    pub dates: Option<usize>,
    /// Sentences per date.
    pub sentences_per_date: Option<usize>,
    /// A sentence this similar to one already on the timeline is skipped.
    pub redundancy: f32,
    pub support: f32,
}

impl Default for TimelineConfig {
    fn default() -> Self {
        TimelineConfig {
            dates: None,
            sentences_per_date: None,
            redundancy: 0.45,
            support: 0.4,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub date: NaiveDate,
    pub sentences: Vec<Claim>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    /// Entries in date order.
    pub dated: Vec<TimelineEntry>,
    /// One entry per undated article: its most salient sentence.
    pub undated: Vec<Claim>,
}

pub fn timeline(docs: &[SourceDoc<'_>], cfg: &TimelineConfig) -> Timeline {
    let space = SentenceSpace::new(docs);
    let mut pool = candidates(&space, 6, 60);
    if pool.is_empty() {
        pool = candidates(&space, 1, usize::MAX);
    }
    let mut by_date: BTreeMap<NaiveDate, Vec<&SentenceVec>> = BTreeMap::new();
    let mut undated: BTreeMap<usize, &SentenceVec> = BTreeMap::new();
    for s in &pool {
        match docs[s.doc].article.date() {
            Some(d) => by_date.entry(d).or_default().push(s),
            None => {
                undated.entry(s.doc).or_insert(s);
            }
        }
    }
    let mut dates: Vec<NaiveDate> = by_date.keys().copied().collect();
    if let Some(n) = cfg.dates {
        // The busiest dates: most independent articles that day, then most salient.
        let weight = |d: &NaiveDate| {
            let ss = &by_date[d];
            let mut docs_that_day: Vec<usize> = ss.iter().map(|s| s.doc).collect();
            docs_that_day.dedup();
            (docs_that_day.len(), ss.first().map_or(0.0, |s| s.salience))
        };
        dates.sort_by(|a, b| {
            let (wa, wb) = (weight(a), weight(b));
            wb.0.cmp(&wa.0).then(wb.1.total_cmp(&wa.1)).then(a.cmp(b))
        });
        dates.truncate(n);
        dates.sort();
    }
    let mut chosen: Vec<&SentenceVec> = Vec::new();
    let mut dated = Vec::new();
    for date in dates {
        let mut picked = Vec::new();
        for s in &by_date[&date] {
            if picked.len() >= cfg.sentences_per_date.unwrap_or(1) {
                break;
            }
            if chosen
                .iter()
                .any(|c| cosine(&c.vector, &s.vector) >= cfg.redundancy)
            {
                continue;
            }
            chosen.push(s);
            picked.push(*s);
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
