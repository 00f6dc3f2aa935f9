//! A story's headline: the most representative article title when there are titles, or else
//! a short whole clause of a salient sentence. Never a sentence cut at a word count: a cut
//! sentence ("… reports progress in the high-stakes negotiations…") reads as broken.

use std::collections::HashSet;

use super::space::{SentenceSpace, SourceDoc};
use super::summary::candidates;
use crate::normalize::{content_terms, Stemmer};

/// Longest headline clause, in characters.
pub const HEADLINE_CHARS: usize = 90;
/// Shortest headline clause, in words: fewer rarely says what happened.
const MIN_WORDS: usize = 5;
/// A clause of a sentence at least this fraction as salient as the best one may headline.
const SALIENCE_FLOOR: f32 = 0.5;

/// Words that open a lead-in clause ("As talks resumed, …"), ended by its first comma: a
/// headline can do without it, and statements leave it out of a clause.
pub(crate) const LEAD_IN: &[&str] = &[
    "as",
    "amid",
    "amidst",
    "while",
    "after",
    "despite",
    "following",
    "although",
    "though",
    "since",
    "when",
    "during",
    "before",
];
/// Prepositions that open a lead-in phrase a headline can also do without ("In Gaza, …");
/// a statement keeps them, since the place or time is part of what it says.
const PHRASE_LEAD_IN: &[&str] = &["with", "in", "on"];

/// Words that, after a comma, open a trailing clause or phrase: the main clause ends there.
/// Not "and": it also joins the last item of a list ("Saudi Arabia, Egypt, and Israel").
const TAIL: &[&str] = &[
    "with",
    "as",
    "while",
    "amid",
    "amidst",
    "which",
    "who",
    "whose",
    "where",
    "when",
    "after",
    "following",
    "despite",
    "including",
    "but",
    "although",
    "though",
    "because",
    "since",
    "before",
    "ahead",
    "saying",
    "according",
    "marking",
    "prompting",
    "raising",
    "leaving",
    "bringing",
    "sparking",
    "officials",
    "police",
    "authorities",
];

/// A headline for the story.
pub fn headline(docs: &[SourceDoc<'_>]) -> String {
    if let Some(title) = representative_title(docs) {
        return title;
    }
    headline_of_sentences(&SentenceSpace::new(docs))
}

/// [`headline`] with the space of the story's sentences already made (a report's summary,
/// timeline and headline share one).
pub fn headline_in(space: &SentenceSpace<'_>) -> String {
    match representative_title(space.docs) {
        Some(title) => title,
        None => headline_of_sentences(space),
    }
}

/// Without titles: a short whole clause of a salient sentence.
fn headline_of_sentences(space: &SentenceSpace<'_>) -> String {
    let pool = candidates(space, MIN_WORDS, 80);
    let Some(best) = pool.first() else {
        return "(untitled story)".to_string();
    };
    let floor = best.salience * SALIENCE_FLOOR;
    let clause = pool
        .iter()
        .filter(|s| s.salience >= floor)
        .find_map(|s| whole_clause(space.text(s)))
        .or_else(|| pool.iter().find_map(|s| whole_clause(space.text(s))));
    match clause {
        Some(c) => c.to_string(),
        // No short clause anywhere: the most salient sentence whole, never cut.
        None => space
            .text(best)
            .trim()
            .trim_end_matches(['.', ';', ':'])
            .to_string(),
    }
}

/// The title whose words the story's independent articles use most: each title term scores
/// the share of articles that use it, and the sum is divided by the square root of the
/// title's terms so that long titles gain nothing from length alone.
fn representative_title(docs: &[SourceDoc<'_>]) -> Option<String> {
    let stemmer = Stemmer::english();
    let independent: Vec<&SourceDoc<'_>> = docs.iter().filter(|d| !d.is_copy).collect();
    let titled: Vec<(&SourceDoc<'_>, &str)> = independent
        .iter()
        .filter_map(|d| {
            let t = d.article.title.as_deref()?.trim();
            (!t.is_empty()).then_some((*d, t))
        })
        .collect();
    match titled.len() {
        0 => return None,
        1 => return Some(titled[0].1.to_string()),
        _ => {}
    }
    let doc_terms: Vec<HashSet<String>> = independent
        .iter()
        .map(|d| {
            let mut terms: HashSet<String> = content_terms(&d.article.text, &stemmer)
                .into_iter()
                .collect();
            if let Some(t) = d.article.title.as_deref() {
                terms.extend(content_terms(t, &stemmer));
            }
            terms
        })
        .collect();
    let n = doc_terms.len().max(1) as f32;
    let score = |title: &str| {
        // Summed in term order: a hash set's order changes from one process to the next,
        // and with it the last bits of the sum, so near-tied titles swapped from read to
        // read of one store.
        let mut terms: Vec<String> = content_terms(title, &stemmer);
        terms.sort_unstable();
        terms.dedup();
        if terms.is_empty() {
            return 0.0;
        }
        let sum: f32 = terms
            .iter()
            .map(|t| doc_terms.iter().filter(|d| d.contains(t)).count() as f32 / n)
            .sum();
        sum / (terms.len() as f32).sqrt()
    };
    let mut best: Option<(f32, &str)> = None;
    for (_, t) in titled {
        let s = score(t);
        if best.is_none_or(|(b, _)| s > b) {
            best = Some((s, t));
        }
    }
    best.map(|(_, t)| t.to_string())
}

/// The main clause of a sentence when it is short and whole: a leading clause ("Amid the
/// violence, …") dropped, ending where a trailing clause begins (", with …", ", which …")
/// or at the sentence's end. `None` when that clause is too long or too short, or would
/// leave a quotation or parenthesis open.
pub fn whole_clause(sentence: &str) -> Option<&str> {
    let s = sentence.trim();
    let first = s.split_whitespace().next()?.to_lowercase();
    let mut start = 0;
    if LEAD_IN.contains(&first.as_str()) || PHRASE_LEAD_IN.contains(&first.as_str()) {
        // The lead-in ends at the first comma, and the subject after it is capitalised;
        // otherwise the comma was inside the lead-in and its end is unknown.
        start = s.find(", ")? + 2;
        if !s[start..].chars().next().is_some_and(char::is_uppercase) {
            return None;
        }
    }
    let body = &s[start..];
    let mut end = body.len();
    for (i, _) in body.match_indices([',', ';']) {
        if body[i..].starts_with(';') {
            end = i;
            break;
        }
        let next = body[i + 1..]
            .split_whitespace()
            .next()
            .unwrap_or("")
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_lowercase();
        if TAIL.contains(&next.as_str()) {
            end = i;
            break;
        }
    }
    let clause = body[..end]
        .trim()
        .trim_end_matches(['.', ',', ';', ':', ' ']);
    let words = clause.split_whitespace().count();
    let balanced = clause.matches('"').count() % 2 == 0
        && clause.matches('(').count() == clause.matches(')').count()
        && clause.matches('“').count() == clause.matches('”').count()
        && clause.matches("``").count() == clause.matches("''").count();
    let opens_well = clause
        .chars()
        .next()
        .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
    (clause.chars().count() <= HEADLINE_CHARS && words >= MIN_WORDS && balanced && opens_well)
        .then_some(clause)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lead_in_is_dropped_and_the_main_clause_kept_whole() {
        assert_eq!(
            whole_clause("Amid the violence in Gaza and a strained alliance, Envoy Jane Roe embarked on a regional tour, with stops in Riyadh, Cairo, and Amman."),
            Some("Envoy Jane Roe embarked on a regional tour")
        );
        // The main clause runs past the limit: no clause, rather than a cut one.
        assert_eq!(
            whole_clause("The envoy reports progress in the high-stakes negotiations aimed at securing a ceasefire and the release of all hostages held in the city."),
            None
        );
        // A list's commas do not end the clause.
        assert_eq!(
            whole_clause("Ministers of France, Germany, and Italy met in Rome."),
            Some("Ministers of France, Germany, and Italy met in Rome")
        );
    }
}
