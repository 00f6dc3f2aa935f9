//! Facts that carry numbers: counts ("approximately 40 hostages"), durations ("a six-week
//! pause"), ordinals ("his sixth visit"), percentages, money and ages, each with the subject it
//! counts, how exact the source was, and its span.
//!
//! Found by rules over tokens: a number (digits or words, with scale words like "million"),
//! hedges before it ("about", "more than"), and the noun phrase after it. Years, clock times
//! and day-of-month numbers are dates, not facts, and are skipped.

use serde::{Deserialize, Serialize};

use crate::core::{Sentence, Span};
use crate::normalize::{is_stopword, Stemmer};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FactKind {
    Count,
    Ordinal,
    Duration,
    Percent,
    Money,
    Age,
}

/// How the source qualified the number.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Exact,
    /// "about", "approximately", "nearly", "some", "an estimated"
    Approximate,
    /// "more than", "at least", "over"
    AtLeast,
    /// "up to", "fewer than", "less than"
    AtMost,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    pub kind: FactKind,
    pub value: f64,
    pub precision: Precision,
    /// Unit for durations and ages ("week", "year").
    pub unit: Option<String>,
    /// What is counted, as written ("hostages", "round of shuttle diplomacy").
    pub subject: String,
    /// Stemmed subject, for grouping facts about the same thing.
    pub subject_key: String,
    /// The number with its hedge and subject, as written.
    pub text: String,
    pub span: Span,
    /// Index of the sentence in the article.
    pub sentence: usize,
}

const UNITS: &[&str] = &[
    "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks",
    "month", "months", "year", "years", "decade", "decades",
];
const ONES: &[&str] = &[
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: &[&str] = &[
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const ORDINALS: &[&str] = &[
    "zeroth",
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
];
const SCALES: &[(&str, f64)] = &[
    ("dozen", 12.0),
    ("hundred", 1e2),
    ("thousand", 1e3),
    ("million", 1e6),
    ("billion", 1e9),
    ("trillion", 1e12),
];
const HEDGES: &[(&str, Precision)] = &[
    ("about", Precision::Approximate),
    ("approximately", Precision::Approximate),
    ("around", Precision::Approximate),
    ("roughly", Precision::Approximate),
    ("nearly", Precision::Approximate),
    ("almost", Precision::Approximate),
    ("some", Precision::Approximate),
    ("estimated", Precision::Approximate),
    ("approx", Precision::Approximate),
    ("over", Precision::AtLeast),
    ("least", Precision::AtLeast),
    ("than", Precision::AtLeast),
    ("to", Precision::AtMost),
];
/// Words after a duration that make it a time reference ("two weeks later").
const TIME_REFERENCES: &[&str] = &[
    "later",
    "ago",
    "earlier",
    "before",
    "after",
    "prior",
    "since",
    "afterwards",
];
/// Plural nouns that "two" usually pairs with trivially.
const GENERIC_PAIRS: &[&str] = &[
    "countries",
    "nations",
    "leaders",
    "sides",
    "parties",
    "governments",
    "koreas",
    "men",
    "women",
    "sessions",
    "days",
    "things",
    "ways",
    "states",
    "presidents",
    "neighbours",
    "neighbors",
    "allies",
    "rivals",
    "teams",
    "groups",
    "companies",
];
/// Words that may stand between a number and what it counts, or that end a subject.
const SUBJECT_STOP: &[&str] = &[
    "of", "in", "on", "at", "for", "from", "to", "by", "with", "and", "or",
];

struct Tok<'a> {
    word: &'a str,
    lower: String,
    start: usize,
    end: usize,
    /// Punctuation right after the word ends any phrase.
    closes: bool,
}

fn tokens(text: &str, span: Span) -> Vec<Tok<'_>> {
    let s = span.slice(text);
    let mut out: Vec<Tok<'_>> = Vec::new();
    let mut offset = span.start;
    for raw in s.split(' ') {
        let lead = raw.len()
            - raw
                .trim_start_matches(|c: char| "\"'(“‘[".contains(c))
                .len();
        let core = &raw[lead..];
        let mut word = core.trim_end_matches(|c: char| ",;:!?\"')”’]".contains(c));
        let mut closes = word.len() < core.len();
        // A final period ends the phrase, except in abbreviations ("U.S.", "D.").
        if let Some(stem) = word.strip_suffix('.') {
            let initial = stem.len() == 1 && stem.chars().all(char::is_uppercase);
            if !(stem.contains('.') || initial) {
                word = stem;
                closes = true;
            }
        }
        let word = word
            .strip_suffix("'s")
            .or_else(|| word.strip_suffix("’s"))
            .unwrap_or(word);
        if word.chars().any(char::is_alphanumeric) {
            out.push(Tok {
                word,
                lower: word.to_lowercase(),
                start: offset + lead,
                end: offset + lead + word.len(),
                closes,
            });
        } else if raw.chars().any(|c| c != '-') {
            // Detached punctuation in tokenised text ("Mueller , 73 , took") ends a phrase.
            if let Some(prev) = out.last_mut() {
                prev.closes = true;
            }
        } else if !raw.is_empty() {
            out.push(Tok {
                word: raw,
                lower: raw.to_string(),
                start: offset,
                end: offset + raw.len(),
                closes: false,
            });
        }
        offset += raw.len() + 1;
    }
    out
}

/// The value of a number word or numeral, and whether it is an ordinal.
fn number(word: &str) -> Option<(f64, bool)> {
    let w = word
        .trim_start_matches(['$', '€', '£'])
        .trim_end_matches('%');
    if let Some(i) = ONES.iter().position(|x| *x == w) {
        return Some((i as f64, false));
    }
    if let Some(i) = TENS.iter().position(|x| !x.is_empty() && *x == w) {
        return Some((i as f64 * 10.0, false));
    }
    if let Some((t, o)) = w.split_once('-') {
        if let (Some(t), Some(o)) = (
            TENS.iter().position(|x| !x.is_empty() && *x == t),
            ONES.iter().position(|x| *x == o),
        ) {
            return Some((t as f64 * 10.0 + o as f64, false));
        }
    }
    if let Some(i) = ORDINALS.iter().position(|x| *x == w) {
        return Some((i as f64, true));
    }
    for suffix in ["st", "nd", "rd", "th"] {
        if let Some(d) = w.strip_suffix(suffix) {
            if !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()) {
                return d.parse().ok().map(|v| (v, true));
            }
        }
    }
    if w.chars().next().is_some_and(|c| c.is_ascii_digit())
        && w.chars()
            .all(|c| c.is_ascii_digit() || c == ',' || c == '.')
    {
        let clean: String = w.chars().filter(|&c| c != ',').collect();
        return clean.trim_end_matches('.').parse().ok().map(|v| (v, false));
    }
    None
}

fn is_month(word: &str) -> bool {
    crate::calendar::month_number(word).is_some()
}

/// Facts with numbers in the sentences of one article.
pub fn facts(text: &str, sentences: &[Sentence], stemmer: &Stemmer) -> Vec<Fact> {
    let mut out = Vec::new();
    for sentence in sentences {
        let toks = tokens(text, sentence.span);
        let mut i = 0;
        while i < toks.len() {
            match fact_at(text, &toks, i, sentence.idx, stemmer) {
                Some((fact, next)) => {
                    out.push(fact);
                    i = next;
                }
                None => i += 1,
            }
        }
    }
    out
}

fn fact_at(
    text: &str,
    toks: &[Tok<'_>],
    i: usize,
    sentence: usize,
    stemmer: &Stemmer,
) -> Option<(Fact, usize)> {
    let t = &toks[i];
    // "six-week", "90-day", "33-year-old": number-unit compounds.
    let (num_part, compound_unit) = match t.lower.split_once('-') {
        Some((n, rest)) if number(n).is_some() && number(&t.lower).is_none() => {
            (n.to_string(), Some(rest.to_string()))
        }
        _ => (t.lower.clone(), None),
    };
    let (mut value, ordinal) = number(&num_part)?;
    let word_at = |k: usize| toks.get(k).map(|x| x.lower.as_str());
    // "1950 - 53": the second half of a range or date is not a count of what follows.
    if i >= 2 && word_at(i - 1) == Some("-") && number(&toks[i - 2].lower).is_some() {
        return None;
    }
    // Tokenised text spaces its hyphens: "90 - day stay" is "90-day stay".
    let (compound_unit, spaced) = match (compound_unit, word_at(i + 1), word_at(i + 2)) {
        (None, Some("-"), Some(u)) if !toks[i].closes => (Some(u.to_string()), true),
        (c, _, _) => (c, false),
    };
    // Lone "one"/"first" are mostly not facts ("one of the", "for the first time").
    if (num_part == "one" || num_part == "first") && compound_unit.is_none() {
        return None;
    }
    let prev = |k: usize| i.checked_sub(k).map(|j| toks[j].lower.as_str());
    let next_word = toks.get(i + 1).map(|x| x.lower.as_str());
    // Dates and times are not facts: "March 3", "3 March", "in 2024", "10:30", "5 p.m.".
    if prev(1).is_some_and(is_month)
        || next_word.is_some_and(|n| {
            is_month(n) || matches!(n, "p.m" | "a.m" | "p.m." | "a.m." | "pm" | "am")
        })
        || t.word.contains(':')
        || (!ordinal
            && compound_unit.is_none()
            && (1800.0..=2100.0).contains(&value)
            && value.fract() == 0.0
            && !t.word.contains(','))
    {
        return None;
    }
    let mut start = i;
    let mut kind = if ordinal {
        FactKind::Ordinal
    } else {
        FactKind::Count
    };
    if t.word.starts_with(['$', '€', '£']) {
        kind = FactKind::Money;
    }
    if t.word.ends_with('%') {
        kind = FactKind::Percent;
    }
    // Hedges before the number.
    let mut precision = Precision::Exact;
    if let Some(p) = prev(1) {
        if let Some((_, h)) = HEDGES.iter().find(|(w, _)| *w == p) {
            let h = match (p, prev(2)) {
                ("than", Some("fewer" | "less")) => Precision::AtMost,
                ("than", Some("more")) | ("least", Some("at")) => *h,
                ("than" | "least", _) => Precision::Exact,
                ("to", Some("up")) => Precision::AtMost,
                ("to", _) => Precision::Exact,
                _ => *h,
            };
            if h != Precision::Exact {
                precision = h;
                start =
                    i - if matches!(p, "than" | "least") || (p == "to" && h == Precision::AtMost) {
                        2
                    } else {
                        1
                    };
                if p == "estimated" && prev(2) == Some("an") {
                    start -= 1;
                }
            }
        }
    }
    let mut j = if spaced { i + 3 } else { i + 1 };
    // Scale words: "2.5 million", "forty thousand".
    while let Some(s) = toks.get(j).filter(|_| !toks[j - 1].closes) {
        match SCALES.iter().find(|(w, _)| *w == s.lower) {
            Some((_, m)) => {
                value *= m;
                j += 1;
            }
            None => break,
        }
    }
    if toks
        .get(j)
        .filter(|_| !toks[j - 1].closes)
        .is_some_and(|x| x.lower == "percent" || x.lower == "per")
    {
        kind = FactKind::Percent;
        j += if toks.get(j + 1).is_some_and(|x| x.lower == "cent") {
            2
        } else {
            1
        };
    }
    let mut unit = None;
    if let Some(u) = compound_unit {
        let u = u.trim_end_matches("-old");
        let base = u.trim_end_matches('s');
        if UNITS.contains(&u) || UNITS.contains(&base) {
            kind = if t.lower.ends_with("-old") {
                FactKind::Age
            } else {
                FactKind::Duration
            };
            unit = Some(base.to_string());
        } else {
            return None;
        }
    } else if let Some(n) = toks.get(j).filter(|_| !toks[j - 1].closes) {
        if UNITS.contains(&n.lower.as_str()) && kind == FactKind::Count {
            kind = FactKind::Duration;
            unit = Some(n.lower.trim_end_matches('s').to_string());
            j += 1;
            if toks.get(j).is_some_and(|x| x.lower == "old") {
                kind = FactKind::Age;
                j += 1;
            }
        }
    }
    // The subject: content words after the number, with an "of …" complement.
    let mut subject_toks: Vec<&Tok<'_>> = Vec::new();
    let mut k = j;
    if !toks[j - 1].closes {
        if toks.get(k).is_some_and(|x| x.lower == "of") && kind != FactKind::Ordinal {
            k += 1; // "40 of the hostages"
            if toks.get(k).is_some_and(|x| x.lower == "the") {
                k += 1;
            }
        }
        while let Some(x) = toks.get(k) {
            if number(&x.lower).is_some()
                || SUBJECT_STOP.contains(&x.lower.as_str())
                || (is_stopword(&x.lower) && x.lower != "us")
            {
                break;
            }
            // Without a tagger, take the head noun alone, plus one more word when the first
            // looks like a modifier ("injured people", "Israeli soldiers"): a longer run
            // would swallow the verb ("people fled").
            let modifier = subject_toks.is_empty() && looks_like_modifier(x.word);
            subject_toks.push(x);
            k += 1;
            if x.closes || !modifier {
                break;
            }
        }
        // "round of shuttle diplomacy": keep a short of-complement.
        if !subject_toks.is_empty()
            && !subject_toks.last().is_some_and(|x| x.closes)
            && toks.get(k).is_some_and(|x| x.lower == "of")
        {
            let mut extra = Vec::new();
            let mut m = k + 1;
            while let Some(x) = toks.get(m) {
                if is_stopword(&x.lower) || number(&x.lower).is_some() || extra.len() >= 2 {
                    break;
                }
                extra.push(x);
                m += 1;
                if x.closes {
                    break;
                }
            }
            if !extra.is_empty() {
                subject_toks.push(&toks[k]);
                subject_toks.extend(extra);
            }
        }
    }
    // "two months later", "three years ago": a time reference, not a fact.
    if subject_toks
        .first()
        .is_some_and(|x| TIME_REFERENCES.contains(&x.lower.as_str()))
    {
        return None;
    }
    // "the two countries", "both leaders": a pair everyone agrees on tells the reader nothing.
    if value == 2.0
        && kind == FactKind::Count
        && subject_toks.len() == 1
        && GENERIC_PAIRS.contains(&subject_toks[0].lower.as_str())
    {
        return None;
    }
    if !subject_toks.is_empty()
        && !subject_toks
            .iter()
            .any(|x| x.word.chars().any(char::is_alphabetic))
    {
        return None;
    }
    if subject_toks.is_empty() {
        // "prices rose 20 percent", "paid $5 million": what is measured stands before.
        if !matches!(kind, FactKind::Percent | FactKind::Money) {
            return None;
        }
        let mut b = start;
        while b > 0 && subject_toks.len() < 2 {
            b -= 1;
            let x = &toks[b];
            if x.closes || number(&x.lower).is_some() || is_stopword(&x.lower) {
                break;
            }
            subject_toks.insert(0, x);
        }
        if subject_toks.is_empty() {
            return None;
        }
        let (a, z) = (
            subject_toks[0].start,
            subject_toks[subject_toks.len() - 1].end,
        );
        let span = Span {
            start: a.min(toks[start].start),
            end: toks[j - 1].end.max(z),
        };
        return Some((
            Fact {
                kind,
                value,
                precision,
                unit,
                subject: text[a..z].to_string(),
                subject_key: key_of(&subject_toks, stemmer),
                text: span.slice(text).to_string(),
                span,
                sentence,
            },
            j,
        ));
    }
    let first = &toks[start];
    let last = subject_toks.last().map_or(&toks[j - 1], |x| *x);
    let span = Span {
        start: first.start,
        end: last.end,
    };
    let subject = {
        let (a, b) = (subject_toks[0].start, last.end);
        text[a..b].to_string()
    };
    let subject_key = key_of(&subject_toks, stemmer);
    Some((
        Fact {
            kind,
            value,
            precision,
            unit,
            subject,
            subject_key,
            text: span.slice(text).to_string(),
            span,
            sentence,
        },
        k.max(i + 1),
    ))
}

fn key_of(toks: &[&Tok<'_>], stemmer: &Stemmer) -> String {
    toks.iter()
        .filter(|x| x.lower != "of")
        .map(|x| stemmer.stem(&x.lower.replace(['\'', '’'], "")).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Common adjectives that modify the noun after them ("two separate occasions").
const ADJECTIVES: &[&str] = &[
    "separate",
    "different",
    "other",
    "new",
    "major",
    "additional",
    "several",
    "key",
    "top",
    "main",
    "large",
    "small",
    "big",
    "young",
    "old",
    "senior",
    "junior",
    "former",
    "total",
    "more",
    "few",
    "many",
    "full",
    "whole",
    "straight",
    "consecutive",
    "extra",
];

/// Adjective- or adverb-like words that usually modify the noun after them.
fn looks_like_modifier(word: &str) -> bool {
    let lower = word.to_lowercase();
    word.starts_with(char::is_uppercase)
        || ADJECTIVES.contains(&lower.as_str())
        || [
            "al", "ian", "ese", "ish", "ive", "ous", "ful", "ic", "ary", "ed", "ing", "ern", "ly",
        ]
        .iter()
        .any(|s| lower.ends_with(s) && lower.len() > s.len() + 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::split_sentences;

    fn found(text: &str) -> Vec<Fact> {
        facts(text, &split_sentences(text), &Stemmer::english())
    }

    #[test]
    fn counts_durations_ordinals_with_hedges() {
        let fs = found(
            "The deal would free approximately 40 hostages in exchange for a six-week pause. \
             It was his sixth visit to the region since October 7, 2023.",
        );
        let brief: Vec<(FactKind, f64, Precision, &str)> = fs
            .iter()
            .map(|f| (f.kind, f.value, f.precision, f.subject.as_str()))
            .collect();
        assert_eq!(
            brief,
            vec![
                (FactKind::Count, 40.0, Precision::Approximate, "hostages"),
                (FactKind::Duration, 6.0, Precision::Exact, "pause"),
                (FactKind::Ordinal, 6.0, Precision::Exact, "visit"),
            ]
        );
        assert_eq!(fs[0].text, "approximately 40 hostages");
        assert_eq!(fs[1].unit.as_deref(), Some("week"));
    }

    #[test]
    fn scales_percent_money_age_and_of_complements() {
        let fs = found(
            "More than 2.5 million people fled, and prices rose 20 percent in a year. \
             The 33-year-old actress paid $5 million. It was the seventh round of shuttle diplomacy.",
        );
        let people = fs.iter().find(|f| f.subject == "people").expect("people");
        assert_eq!(
            (people.value, people.precision),
            (2.5e6, Precision::AtLeast)
        );
        let pct = fs
            .iter()
            .find(|f| f.kind == FactKind::Percent)
            .expect("percent");
        assert_eq!((pct.value, pct.subject.as_str()), (20.0, "prices rose"));
        let money = fs
            .iter()
            .find(|f| f.kind == FactKind::Money)
            .expect("money");
        assert_eq!((money.value, money.subject.as_str()), (5e6, "actress paid"));
        assert!(fs
            .iter()
            .any(|f| f.kind == FactKind::Age && f.value == 33.0 && f.subject == "actress"));
        let round = fs.iter().find(|f| f.kind == FactKind::Ordinal).unwrap();
        assert_eq!(
            (round.value, round.subject.as_str()),
            (7.0, "round of shuttle diplomacy")
        );
    }

    #[test]
    fn tokenised_hyphens_ranges_and_time_references() {
        let fs = found("She began a 90 - day stay . The 1950 - 53 Korean War ended . Two months later , four dozen troops left .");
        let brief: Vec<(FactKind, f64, &str)> = fs
            .iter()
            .map(|f| (f.kind, f.value, f.subject.as_str()))
            .collect();
        assert_eq!(
            brief,
            vec![
                (FactKind::Duration, 90.0, "stay"),
                (FactKind::Count, 48.0, "troops")
            ]
        );
    }

    #[test]
    fn modifiers_abbreviations_and_detached_commas() {
        let fs = found("He withdrew 28,500 U.S. troops on two separate occasions from seven largely Muslim countries . Mueller , 73 , took over .");
        let subjects: Vec<&str> = fs.iter().map(|f| f.subject.as_str()).collect();
        assert_eq!(
            subjects,
            vec!["U.S. troops", "separate occasions", "largely Muslim"]
        );
    }

    #[test]
    fn dates_and_times_are_not_facts() {
        assert!(
            found("On March 3 the talks resumed at 10:30 in 2024, and again on 5 May.").is_empty()
        );
    }
}
