//! Date mentions in text, resolved against the article's publication day: "March 3",
//! "3 March 2010", "2010-03-03", "on Tuesday", "yesterday", "two days ago", "last week".
//!
//! Pure. Relative mentions need the publication day and are skipped without it, so an
//! undated article is never given a date it does not state. A weekday is the nearest such
//! day before or on publication (news reports what happened), or after it when the sentence
//! speaks of the future ("will", "next Tuesday").

use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use chrono::{Datelike, Days, NaiveDate, Weekday};

use crate::calendar;
use crate::core::Span;

/// How precise a mention is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Granularity {
    Day,
    Week,
    Month,
    Year,
}

/// A date mentioned in a text. For a week, month or year, `date` is its first day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateMention {
    pub span: Span,
    pub date: NaiveDate,
    pub granularity: Granularity,
}

const WEEKDAYS: &[(&str, Weekday)] = &[
    ("monday", Weekday::Mon),
    ("tuesday", Weekday::Tue),
    ("wednesday", Weekday::Wed),
    ("thursday", Weekday::Thu),
    ("friday", Weekday::Fri),
    ("saturday", Weekday::Sat),
    ("sunday", Weekday::Sun),
];

const NUMBER_WORDS: &[(&str, u64)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
];

/// Words that put a sentence in the future, so a bare weekday points forward.
const FUTURE: &[&str] = &["will", "shall", "scheduled", "upcoming", "planned"];

struct Tok<'a> {
    text: &'a str,
    lower: String,
    start: usize,
    end: usize,
}

/// Words and numbers with byte offsets; an ISO date "2010-03-03" stays one token.
fn tokens(text: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let inside = c.is_alphanumeric() || (c == '-' && start.is_some());
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push(tok(text, s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(tok(text, s, text.len()));
    }
    out
}

fn tok(text: &str, start: usize, end: usize) -> Tok<'_> {
    let t = text[start..end].trim_end_matches('-');
    Tok {
        text: t,
        lower: t.to_lowercase(),
        start,
        end: start + t.len(),
    }
}

fn month(t: &Tok<'_>) -> Option<u32> {
    // Capitalised only: "may" and "march" are also verbs.
    if !t.text.starts_with(|c: char| c.is_uppercase()) {
        return None;
    }
    calendar::month_number(&t.lower)
}

fn day_number(t: &Tok<'_>) -> Option<u32> {
    let digits = t
        .lower
        .trim_end_matches(|c: char| c.is_alphabetic())
        .to_string();
    let suffix = &t.lower[digits.len()..];
    if digits.is_empty()
        || digits.len() > 2
        || !digits.chars().all(|c| c.is_ascii_digit())
        || !matches!(suffix, "" | "st" | "nd" | "rd" | "th")
    {
        return None;
    }
    digits.parse().ok().filter(|d| (1..=31).contains(d))
}

fn year(t: &Tok<'_>) -> Option<i32> {
    if t.text.len() == 4 && t.text.chars().all(|c| c.is_ascii_digit()) {
        t.text.parse().ok().filter(|y| (1800..=2200).contains(y))
    } else {
        None
    }
}

fn iso(t: &Tok<'_>) -> Option<NaiveDate> {
    let p: Vec<&str> = t.text.split('-').collect();
    if p.len() == 3 && p[0].len() == 4 && p[1].len() == 2 && p[2].len() == 2 {
        NaiveDate::from_ymd_opt(p[0].parse().ok()?, p[1].parse().ok()?, p[2].parse().ok()?)
    } else {
        None
    }
}

/// A month and day without a year: the year that puts it closest to publication.
fn nearest_year(m: u32, d: u32, published: NaiveDate) -> Option<NaiveDate> {
    let y = published.year();
    [y - 1, y, y + 1]
        .iter()
        .filter_map(|&y| NaiveDate::from_ymd_opt(y, m, d))
        .min_by_key(|date| (*date - published).num_days().abs())
}

fn shift(date: NaiveDate, days: i64) -> Option<NaiveDate> {
    if days >= 0 {
        date.checked_add_days(Days::new(days as u64))
    } else {
        date.checked_sub_days(Days::new(days.unsigned_abs()))
    }
}

/// Every date mention of `text`, in order. Relative ones only when `published` is known.
pub fn date_mentions(text: &str, published: Option<NaiveDate>) -> Vec<DateMention> {
    let toks = tokens(text);
    let future = toks.iter().any(|t| FUTURE.contains(&t.lower.as_str()));
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let prev = i.checked_sub(1).map(|j| toks[j].lower.as_str());
        let mut push = |from: usize, to: usize, date: NaiveDate, g: Granularity| {
            out.push(DateMention {
                span: Span {
                    start: toks[from].start,
                    end: toks[to].end,
                },
                date,
                granularity: g,
            });
        };
        if let Some(date) = iso(t) {
            push(i, i, date, Granularity::Day);
            i += 1;
            continue;
        }
        if let Some(m) = month(t) {
            let next = toks.get(i + 1);
            let after = toks.get(i + 2);
            // "March 3[, 2010]"
            if let Some(d) = next.and_then(day_number) {
                let y = after.and_then(year);
                let date = match y {
                    Some(y) => NaiveDate::from_ymd_opt(y, m, d),
                    None => published.and_then(|p| nearest_year(m, d, p)),
                };
                if let Some(date) = date {
                    let to = if y.is_some() { i + 2 } else { i + 1 };
                    push(i, to, date, Granularity::Day);
                    i = to + 1;
                    continue;
                }
            }
            // "3 March[ 2010]"
            if let Some(d) = i.checked_sub(1).and_then(|j| day_number(&toks[j])) {
                let y = next.and_then(year);
                let date = match y {
                    Some(y) => NaiveDate::from_ymd_opt(y, m, d),
                    None => published.and_then(|p| nearest_year(m, d, p)),
                };
                if let Some(date) = date {
                    let to = if y.is_some() { i + 1 } else { i };
                    push(i - 1, to, date, Granularity::Day);
                    i = to + 1;
                    continue;
                }
            }
            // "March 2010"
            if let Some(date) = next
                .and_then(year)
                .and_then(|y| NaiveDate::from_ymd_opt(y, m, 1))
            {
                push(i, i + 1, date, Granularity::Month);
                i += 2;
                continue;
            }
        }
        let Some(p) = published else {
            i += 1;
            continue;
        };
        if let Some(&(_, wd)) = WEEKDAYS.iter().find(|w| w.0 == t.lower) {
            let back = (p.weekday().num_days_from_monday() as i64
                - wd.num_days_from_monday() as i64)
                .rem_euclid(7);
            let days = match prev {
                Some("next") | Some("coming") => 7 - back,
                Some("last") | Some("past") if back == 0 => -7,
                Some("last") | Some("past") => -back,
                _ if future && back != 0 => 7 - back,
                _ => -back,
            };
            if let Some(date) = shift(p, days) {
                push(i, i, date, Granularity::Day);
            }
            i += 1;
            continue;
        }
        let next = toks.get(i + 1).map(|t| t.lower.as_str());
        let relative = match (t.lower.as_str(), next) {
            ("today" | "tonight", _) => Some((0, 0)),
            ("this", Some("morning" | "afternoon" | "evening")) => Some((0, 1)),
            ("yesterday", _) => Some((-1, 0)),
            ("tomorrow", _) => Some((1, 0)),
            ("last", Some("night")) => Some((-1, 1)),
            _ => None,
        };
        if let Some((days, extra)) = relative {
            if let Some(date) = shift(p, days) {
                push(i, i + extra, date, Granularity::Day);
            }
            i += 1 + extra;
            continue;
        }
        // "two days ago"
        if let (Some("days" | "day"), Some("ago")) =
            (next, toks.get(i + 2).map(|t| t.lower.as_str()))
        {
            let n = t
                .lower
                .parse::<u64>()
                .ok()
                .or_else(|| NUMBER_WORDS.iter().find(|w| w.0 == t.lower).map(|w| w.1));
            if let Some(date) = n.filter(|n| *n <= 31).and_then(|n| shift(p, -(n as i64))) {
                push(i, i + 2, date, Granularity::Day);
                i += 3;
                continue;
            }
        }
        // "last week / month / year"
        if t.lower == "last" {
            let unit = match next {
                Some("week") => Some(Granularity::Week),
                Some("month") => Some(Granularity::Month),
                Some("year") => Some(Granularity::Year),
                _ => None,
            };
            let date = unit.and_then(|g| match g {
                Granularity::Week => shift(p, -7)
                    .and_then(|d| shift(d, -(d.weekday().num_days_from_monday() as i64))),
                Granularity::Month => {
                    let (y, m) = if p.month() == 1 {
                        (p.year() - 1, 12)
                    } else {
                        (p.year(), p.month() - 1)
                    };
                    NaiveDate::from_ymd_opt(y, m, 1)
                }
                _ => NaiveDate::from_ymd_opt(p.year() - 1, 1, 1),
            });
            if let (Some(g), Some(date)) = (unit, date) {
                push(i, i + 1, date, g);
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Words one of which, or an ASCII digit, every day-precise mention holds: a weekday,
/// "today", "tonight", "this morning/afternoon/evening", "yesterday", "tomorrow", "last
/// night", "N days ago"; a month's day and an ISO date have digits.
const DAY_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "today",
    "tonight",
    "morning",
    "afternoon",
    "evening",
    "yesterday",
    "tomorrow",
    "night",
    "ago",
];

/// Whether a text may mention a day: most sentences hold neither a digit nor a
/// [`DAY_WORDS`] word and need no tokenising (a token's lower case is part of the text's).
fn may_name_a_day(text: &str) -> bool {
    if text.bytes().any(|b| b.is_ascii_digit()) {
        return true;
    }
    DAY_WORD_SEARCH.is_match(text)
}

/// [`DAY_WORDS`] in one automaton: a substring search per word (a searcher built each time)
/// over a lower-cased copy cost ingest more than the tokenising it saves. ASCII case folding
/// finds what lower-casing found: the only non-ASCII letters whose lower case holds an ASCII
/// letter are 'K' (Kelvin, to "k") and 'İ' (to "i" and a combining dot), and no word holds a
/// "k" or ends in "i".
static DAY_WORD_SEARCH: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(DAY_WORDS)
        .unwrap_or_else(|e| unreachable!("fixed word list: {e}"))
});

/// The days a text mentions (day-precise mentions only), without repeats.
pub fn mentioned_days(text: &str, published: Option<NaiveDate>) -> Vec<NaiveDate> {
    if !may_name_a_day(text) {
        return Vec::new();
    }
    let mut days: Vec<NaiveDate> = date_mentions(text, published)
        .into_iter()
        .filter(|m| m.granularity == Granularity::Day)
        .map(|m| m.date)
        .collect();
    days.sort();
    days.dedup();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_word_check_agrees_with_a_lower_cased_search() {
        let lowered = |t: &str| {
            let lower = t.to_lowercase();
            t.bytes().any(|b| b.is_ascii_digit()) || DAY_WORDS.iter().any(|w| lower.contains(w))
        };
        for text in [
            "Officials met on FRIDAY.",
            "Talks resumed Yesterday in Chicago",
            "The council voted to close the school.",
            "FRİDAY was quiet, the KELVİN scale",
            "Tonight’s vote",
            "Élections municipales à Paris",
        ] {
            assert_eq!(may_name_a_day(text), lowered(text), "{text}");
        }
        assert!(may_name_a_day("Officials met on FRIDAY."));
        assert!(!may_name_a_day("The council voted to close the school."));
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn days(text: &str, published: Option<NaiveDate>) -> Vec<(NaiveDate, Granularity, String)> {
        date_mentions(text, published)
            .into_iter()
            .map(|m| (m.date, m.granularity, m.span.slice(text).to_string()))
            .collect()
    }

    // 2010-03-10 was a Wednesday.
    fn wed() -> Option<NaiveDate> {
        Some(d(2010, 3, 10))
    }

    #[test]
    fn texts_passed_over_untokenised_name_no_day() {
        // Each way of naming a day, with and without a publication day; the quick check
        // must let every one through to the tokeniser.
        for text in [
            "The talks resumed on MONDAY in Geneva.",
            "Officials met Sunday.",
            "The vote is set for today.",
            "Rebels attacked the town tonight.",
            "The minister resigned this afternoon.",
            "Troops withdrew yesterday.",
            "The court rules tomorrow.",
            "Shelling resumed last night.",
            "The ceasefire began two days ago.",
            "The dam burst on March 3.",
            "The dam burst on 3 March 2010.",
            "Filed 2010-03-03 by the agency.",
            "No day is named in this sentence at all.",
        ] {
            for published in [wed(), None] {
                let full: Vec<NaiveDate> = {
                    let mut v: Vec<NaiveDate> = date_mentions(text, published)
                        .into_iter()
                        .filter(|m| m.granularity == Granularity::Day)
                        .map(|m| m.date)
                        .collect();
                    v.sort();
                    v.dedup();
                    v
                };
                assert_eq!(mentioned_days(text, published), full, "{text}");
                if published.is_some() && !text.starts_with("No day") {
                    assert!(!full.is_empty(), "{text}");
                }
            }
        }
    }

    #[test]
    fn absolute_dates_with_and_without_year() {
        use Granularity::*;
        assert_eq!(
            days(
                "On March 3, 2009 the well blew; on 25 April 2009 it was capped.",
                None
            ),
            vec![
                (d(2009, 3, 3), Day, "March 3, 2009".into()),
                (d(2009, 4, 25), Day, "25 April 2009".into())
            ]
        );
        // Without a year: the one nearest publication (Dec 30 read in January is last year's).
        assert_eq!(
            days("Talks began Dec. 30.", Some(d(2011, 1, 4))),
            vec![(d(2010, 12, 30), Day, "Dec. 30".into())]
        );
        assert_eq!(
            days("Published 2010-04-20 at noon.", None),
            vec![(d(2010, 4, 20), Day, "2010-04-20".into())]
        );
        assert_eq!(
            days("In March 2011 the war began.", None),
            vec![(d(2011, 3, 1), Month, "March 2011".into())]
        );
        // A year-less date needs the publication day.
        assert!(days("Talks began March 3.", None).is_empty());
    }

    #[test]
    fn verbs_and_numbers_are_not_dates() {
        assert!(days("Protesters may march 3 miles to the capital.", wed()).is_empty());
        assert!(days("He scored 31 points in 2010 games.", wed()).is_empty());
    }

    #[test]
    fn weekdays_and_relative_days_resolve_against_publication() {
        use Granularity::*;
        let got = days(
            "The council met on Monday, and again yesterday; a vote is due today.",
            wed(),
        );
        assert_eq!(
            got,
            vec![
                (d(2010, 3, 8), Day, "Monday".into()),
                (d(2010, 3, 9), Day, "yesterday".into()),
                (d(2010, 3, 10), Day, "today".into())
            ]
        );
        // The same weekday as publication is that day; future tense looks forward.
        assert_eq!(days("It happened Wednesday.", wed())[0].0, d(2010, 3, 10));
        assert_eq!(days("They will meet Friday.", wed())[0].0, d(2010, 3, 12));
        assert_eq!(days("They meet next Monday.", wed())[0].0, d(2010, 3, 15));
        assert_eq!(days("It was two days ago.", wed())[0].0, d(2010, 3, 8));
        assert_eq!(days("Last night the storm hit.", wed())[0].0, d(2010, 3, 9));
        assert_eq!(
            days("Prices fell last week.", wed()),
            vec![(d(2010, 3, 1), Week, "last week".into())]
        );
        // An undated article gets no relative dates.
        assert!(days("It happened on Tuesday, yesterday.", None).is_empty());
    }

    #[test]
    fn tokenised_text_as_in_timeline17() {
        assert_eq!(
            mentioned_days(
                "Susan Watts | 18:00 UK time , Saturday , 25 April 2009 Experts",
                Some(d(2009, 4, 25))
            ),
            vec![d(2009, 4, 25)]
        );
    }
}
