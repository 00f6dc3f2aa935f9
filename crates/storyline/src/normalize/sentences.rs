//! Sentence splitting with byte spans into the cleaned text.
//!
//! Rules: a sentence ends at `.`, `!` or `?` (plus closing quotes or brackets) before white
//! space and a capital, digit or quote — unless the word before the period is a known
//! abbreviation or a single initial. Each line (paragraph) ends a sentence. Short lines with no
//! final punctuation are headings ("Looking Ahead"): they are not sentences, unless the article
//! has nothing else (a headline-only item).

use crate::core::{Sentence, Span};

const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "gen", "sen", "rep", "gov", "lt", "col", "sgt", "capt", "cmdr",
    "adm", "maj", "prof", "jr", "sr", "inc", "co", "corp", "ltd", "vs", "etc", "e.g", "i.e", "no",
    "u.s", "u.n", "u.k", "e.u", "mt", "ft", "a.m", "p.m", "rev", "hon", "pres", "gov", "dept",
    "univ", "approx", "est", "fig", "al", "ave", "blvd", "rd", "mass", "calif", "fla", "ariz",
    "wash",
];

/// Lines shorter than this without final punctuation are taken as headings.
const MAX_HEADING_WORDS: usize = 14;

/// Splits cleaned text (paragraphs separated by `\n`) into sentences with byte spans.
pub fn split_sentences(text: &str) -> Vec<Sentence> {
    let mut spans = Vec::new();
    let mut headings = Vec::new();
    let mut offset = 0;
    for line in text.split('\n') {
        let start = offset;
        offset += line.len() + 1;
        let trimmed = line.trim_end();
        if trimmed.trim().is_empty() {
            continue;
        }
        let ends_with_punct = trimmed
            .trim_end_matches(['"', '\'', '”', '’', ')', ']'])
            .ends_with(['.', '!', '?', ':', ';']);
        if !ends_with_punct && trimmed.split_whitespace().count() < MAX_HEADING_WORDS {
            headings.push(Span {
                start,
                end: start + trimmed.len(),
            });
            continue;
        }
        split_line(trimmed, start, &mut spans);
    }
    if spans.is_empty() {
        spans = headings;
    }
    spans
        .into_iter()
        .enumerate()
        .map(|(idx, span)| Sentence { idx, span })
        .collect()
}

fn split_line(line: &str, base: usize, out: &mut Vec<Span>) {
    let bytes = line.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if matches!(c, b'.' | b'!' | b'?') {
            // Extend over closing quotes/brackets (ASCII and typographic).
            let mut end = i + 1;
            loop {
                let rest = &line[end..];
                if let Some(ch) = rest.chars().next() {
                    if matches!(ch, '"' | '\'' | ')' | ']' | '”' | '’' | '.' | '!' | '?') {
                        end += ch.len_utf8();
                        continue;
                    }
                }
                break;
            }
            let rest = &line[end..];
            let next_is_space = rest.starts_with(char::is_whitespace);
            let after = rest.trim_start();
            let opens_sentence = after.chars().next().is_some_and(|ch| {
                ch.is_uppercase()
                    || ch.is_ascii_digit()
                    || matches!(ch, '"' | '“' | '\'' | '‘' | '(' | '`')
            });
            if next_is_space && opens_sentence && !(c == b'.' && is_abbreviation(&line[start..i])) {
                push_trimmed(line, base, start, end, out);
                start = end;
            }
            i = end;
        } else {
            i += 1;
        }
    }
    push_trimmed(line, base, start, line.len(), out);
}

/// Whether the word right before a period is an abbreviation or an initial ("J.").
fn is_abbreviation(before: &str) -> bool {
    let word = before
        .rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"')
        .next()
        .unwrap_or("");
    if word.chars().count() == 1 && word.chars().all(char::is_uppercase) {
        return true;
    }
    let lower = word.to_lowercase();
    ABBREVIATIONS.contains(&lower.as_str()) || crate::calendar::is_month_abbreviation(&lower)
}

fn push_trimmed(line: &str, base: usize, start: usize, end: usize, out: &mut Vec<Span>) {
    let piece = &line[start..end];
    let lead = piece.len() - piece.trim_start().len();
    let trail = piece.len() - piece.trim_end().len();
    if piece.trim().is_empty() {
        return;
    }
    out.push(Span {
        start: base + start + lead,
        end: base + end - trail,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(text: &str) -> Vec<&str> {
        split_sentences(text)
            .iter()
            .map(|s| s.span.slice(text))
            .collect()
    }

    #[test]
    fn splits_on_terminal_punctuation_but_not_abbreviations() {
        let t = "U.S. Secretary of State Antony Blinken spoke. Mr. Smith left at 5 p.m. Monday.\n\
                 Looking Ahead\nShe said: \"We will win.\" Then she left!";
        assert_eq!(
            texts(t),
            vec![
                "U.S. Secretary of State Antony Blinken spoke.",
                "Mr. Smith left at 5 p.m. Monday.",
                "She said: \"We will win.\"",
                "Then she left!",
            ]
        );
    }

    #[test]
    fn headline_only_text_is_one_sentence() {
        assert_eq!(
            texts("Fed official says weak data caused by weather"),
            vec!["Fed official says weak data caused by weather"]
        );
    }

    #[test]
    fn spans_point_into_the_text() {
        let t = "Ünïcode first. Second “quoted.” Third one.";
        for s in split_sentences(t) {
            assert!(t.get(s.span.start..s.span.end).is_some());
        }
        assert_eq!(texts(t).len(), 3);
    }
}
