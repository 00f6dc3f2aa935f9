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
use super::summary::{candidate_order, is_candidate};
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
    /// A sentence naming no day is listed under its publication day only when it is among
    /// its article's first this many: a report leads with its news, and its later
    /// sentences that name no day are mostly background of no particular day.
    pub lead_sentences: usize,
    /// …and under the day before too: a report often tells the previous day's news without
    /// naming the day ("officials said", the morning paper). Both as in news-tls's
    /// DATEWISE candidates (first five sentences, publication day and the day before).
    pub day_before: bool,
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
            lead_sentences: 5,
            day_before: true,
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

/// How many of a day's best-scored sentences are put in order at a time.
const FEW: usize = 64;

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
    let (mut min, mut max) = (cfg.min_sentence_words, cfg.max_sentence_words);
    if !space
        .sentences
        .iter()
        .any(|s| is_candidate(space, s, min, max))
    {
        (min, max) = (1, usize::MAX);
    }
    let in_span = |d: &NaiveDate| cfg.span.is_none_or(|(a, b)| (a..=b).contains(d));
    let mut by_date: BTreeMap<NaiveDate, Vec<Dated<'_>>> = BTreeMap::new();
    // Each undated article's first candidate.
    let mut undated: BTreeMap<usize, &SentenceVec> = BTreeMap::new();
    // Articles speaking of each day: by publication, by mention.
    let mut published_on: HashMap<NaiveDate, HashSet<usize>> = HashMap::new();
    let mut mentioned_by: HashMap<NaiveDate, HashSet<usize>> = HashMap::new();
    for (d, doc) in docs.iter().enumerate() {
        if let Some(p) = doc.article.date().filter(|_| !doc.is_copy) {
            published_on.entry(p).or_default().insert(d);
        }
    }
    // Candidates are listed under their days in the space's order, the order they lie in
    // memory, not in the candidates' (salience) order: there every list, centroid and score
    // would be a fetch from anywhere in a big story, and a sentence would cost more the
    // bigger the story.
    for s in space
        .sentences
        .iter()
        .filter(|s| is_candidate(space, s, min, max))
    {
        let Some(published) = docs[s.doc].article.date() else {
            // Never dated: not even by a date it mentions, which could be a past event's.
            let e = undated.entry(s.doc).or_insert(s);
            if candidate_order(s, e).is_lt() {
                *e = s;
            }
            continue;
        };
        let mut named = false;
        for d in mentioned_days(space.text(s), Some(published))
            .into_iter()
            .filter(|d| in_span(d))
        {
            named = true;
            mentioned_by.entry(d).or_default().insert(s.doc);
            by_date
                .entry(d)
                .or_default()
                .push(Dated { s, mentioned: true });
        }
        if !named && s.sentence.idx < cfg.lead_sentences {
            let before = published.pred_opt().filter(|_| cfg.day_before);
            for day in std::iter::once(published).chain(before) {
                by_date.entry(day).or_default().push(Dated {
                    s,
                    mentioned: false,
                });
            }
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
    // Each day listed, with how many of `chosen` are its.
    let mut days: Vec<(NaiveDate, usize)> = Vec::new();
    let mut dense: Vec<f32> = Vec::new();
    for date in dates {
        let ss = &by_date[&date];
        // Summed in the candidates' order, as the day's sentences were always summed: a
        // float sum in another order differs in its last bits, and near-ties then pick
        // another sentence. Sorted on copied keys, not through the sentences.
        let mut keyed: Vec<(f32, usize)> = ss.iter().map(|x| (x.s.salience, x.s.index)).collect();
        keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        fill_centroid(&mut dense, keyed.iter().map(|&(_, i)| &space.sentences[i]));
        let centroid = &dense;
        let score = |x: &Dated<'_>| {
            dot_dense(&x.s.vector, centroid)
                + cfg.salience_weight * x.s.salience
                + if x.mentioned { cfg.mention_bonus } else { 0.0 }
        };
        // Scored once each, and only the best few put in order: a day of a big story holds
        // most of its sentences, and only its first non-redundant ones are taken. Ties go
        // to the more salient (the pool's order).
        let mut ranked: Vec<(f32, &Dated<'_>)> = ss.iter().map(|x| (score(x), x)).collect();
        let order = |a: &(f32, &Dated<'_>), b: &(f32, &Dated<'_>)| {
            b.0.total_cmp(&a.0)
                .then_with(|| candidate_order(a.1.s, b.1.s))
        };
        let mut picked: Vec<&SentenceVec> = Vec::new();
        let mut from = 0;
        while picked.len() < k && from < ranked.len() {
            // The next best `FEW` (or all that are left), in order.
            let rest = &mut ranked[from..];
            let few = FEW.min(rest.len());
            if few < rest.len() {
                rest.select_nth_unstable_by(few - 1, order);
            }
            rest[..few].sort_unstable_by(order);
            for &(_, x) in &rest[..few] {
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
            from += few;
        }
        if !picked.is_empty() {
            days.push((date, picked.len()));
        }
    }
    // Every claim in one pass over the story: `chosen` holds each day's picks in turn.
    let undated: Vec<&SentenceVec> = undated.into_values().collect();
    let quoted: Vec<&SentenceVec> = chosen.iter().chain(&undated).copied().collect();
    let mut claims = space.claims(&quoted, cfg.support).into_iter();
    let dated = days
        .into_iter()
        .map(|(date, n)| TimelineEntry {
            date,
            sentences: claims.by_ref().take(n).collect(),
        })
        .collect();
    Timeline {
        dated,
        undated: claims.collect(),
    }
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

    fn source_docs<'a>(
        arts: &'a [Article],
        sents: &'a [Vec<crate::core::Sentence>],
    ) -> Vec<SourceDoc<'a>> {
        arts.iter()
            .zip(sents)
            .map(|(article, sentences)| SourceDoc {
                article,
                sentences,
                is_copy: false,
            })
            .collect()
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
        let docs = source_docs(&arts, &sents);
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

    #[test]
    fn a_report_speaks_for_its_day_and_the_day_before_through_its_lead_only() {
        // Published on the 11th, naming no day: its first five sentences report the news
        // of the 11th or of the day before; the later ones (here background) are no
        // candidates for any day.
        let lead = "Rescue teams pulled survivors from the flooded valley below the broken dam.";
        let filler = [
            "The governor toured the shelters where families spent the night.",
            "Power lines across the region were still down in many villages.",
            "Schools stayed closed while engineers inspected the bridges nearby.",
            "Volunteers handed out blankets and bottled water at the stadium.",
            "Farmers counted the cattle lost to the water in the lower fields.",
        ];
        let background = "Engineers had warned for years that the old dam could burst one day.";
        let text = std::iter::once(lead)
            .chain(filler)
            .chain([background])
            .collect::<Vec<_>>()
            .join(" ");
        let arts = [article("a", Some(11), &text)];
        let sents: Vec<_> = arts.iter().map(|a| split_sentences(&a.text)).collect();
        assert_eq!(sents[0].len(), 7);
        let docs = source_docs(&arts, &sents);
        let on = |day: u32| {
            let d = NaiveDate::from_ymd_opt(2010, 3, day).expect("a day of March 2010");
            let cfg = TimelineConfig {
                dates: Some(1),
                sentences_per_date: Some(10),
                redundancy: 1.1,
                span: Some((d, d)),
                ..TimelineConfig::default()
            };
            let tl = timeline(&docs, &cfg);
            tl.dated
                .iter()
                .flat_map(|e| e.sentences.iter().map(|c| c.text.clone()))
                .collect::<Vec<_>>()
        };
        for day in [10, 11] {
            let texts = on(day);
            assert_eq!(texts.len(), 5, "day {day}: {texts:?}");
            assert!(texts.iter().any(|t| t == lead), "day {day}: {texts:?}");
            assert!(
                !texts.iter().any(|t| t == background),
                "day {day}: {texts:?}"
            );
        }
        assert!(on(9).is_empty());
    }

    #[test]
    fn a_day_finds_its_next_sentence_past_more_repeats_than_are_ordered_at_once() {
        // One day: many reports of one sentence, then one other sentence. Two sentences
        // are asked for; every repeat after the first is redundant, so the second must be
        // found past all of them, beyond the first few put in order.
        let same = "The dam burst after days of heavy rain and flooded the valley below.";
        let mut arts: Vec<Article> = (0..(2 * FEW as u32 + 5))
            .map(|i| article(&format!("r{i}"), Some(10), same))
            .collect();
        arts.push(article(
            "other",
            Some(10),
            "Rescue teams searched the flooded town for survivors until late at night.",
        ));
        let sents: Vec<_> = arts.iter().map(|a| split_sentences(&a.text)).collect();
        let docs = source_docs(&arts, &sents);
        let cfg = TimelineConfig {
            sentences_per_date: Some(2),
            ..TimelineConfig::default()
        };
        let tl = timeline(&docs, &cfg);
        assert_eq!(tl.dated.len(), 1);
        let texts: Vec<&str> = tl.dated[0]
            .sentences
            .iter()
            .map(|c| c.text.as_str())
            .collect();
        assert_eq!(texts.len(), 2, "{texts:?}");
        assert_eq!(texts[0], same);
        assert!(texts[1].starts_with("Rescue teams"), "{texts:?}");
        // The first report of the repeated sentence is the one quoted (ties go to the
        // story's order), cited by every report of it.
        assert_eq!(tl.dated[0].sentences[0].article, "r0");
        assert_eq!(tl.dated[0].sentences[0].citations.len(), 2 * FEW + 5);
    }
}
