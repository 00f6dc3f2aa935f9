//! The search language: what a person types, read into a [`Query`] that names no engine.
//! The store turns it into its engine's syntax (FTS5 today; `to_tsquery` fits the same
//! shape).
//!
//! Reading never fails on what was typed. Words are runs of letters and digits; everything
//! else separates them, so `U.S.`, `Blinken's`, `Saudi-Arabia`, `hostages: 40` and
//! `ceasefire (Gaza` are all plain words. A word written with inner punctuation
//! (`U.S.`, `Saudi-Arabia`) is kept as a phrase of its parts, so it matches the text as
//! written. The operators work only when written as operators:
//!
//! - `"a phrase"`: the words next to each other, in that order (an unclosed quote is ignored);
//! - `a OR b`: either (upper-case `OR`; `or` is a word);
//! - `NOT a`: leave out what has `a` (upper-case `NOT`);
//! - `cease*`: any word that starts with `cease`.
//!
//! Words side by side must all match. A query with no word to look for (empty, only
//! punctuation, or only `NOT` terms) is [`EmptyQuery`].

use serde::Serialize;

/// One thing to match: a word, or words that must stand next to each other in this order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    /// Lower-cased words, each a run of letters and digits; never empty.
    pub words: Vec<String>,
    /// The last word matches any word it begins (`cease*`).
    pub prefix: bool,
}

/// What a query asks for: every group must match (a group matches when any of its terms
/// does), and no `exclude` term may.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    /// Never empty, nor is any group.
    pub all: Vec<Vec<Term>>,
    pub exclude: Vec<Term>,
}

/// Nothing to search for; the message says what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmptyQuery {
    #[error("type a word to search for")]
    NoWords,
    #[error("NOT only leaves things out: add a word to search for")]
    OnlyExcluded,
}

/// A piece of the typed text, before operators are applied.
#[derive(Debug)]
enum Piece {
    Term(Term),
    Or,
    Not,
    And,
}

/// Letters and digits make words; as FTS5's default tokenizer splits them.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

pub(crate) fn words_of(s: &str) -> Vec<String> {
    s.split(|c: char| !is_word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn pieces(input: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut rest = input;
    while let Some(start) = rest.find(|c: char| !c.is_whitespace()) {
        rest = &rest[start..];
        if let Some(body) = rest.strip_prefix('"') {
            if let Some(close) = body.find('"') {
                let after = &body[close + 1..];
                let prefix = after.starts_with('*');
                let words = words_of(&body[..close]);
                if !words.is_empty() {
                    out.push(Piece::Term(Term { words, prefix }));
                }
                rest = after.strip_prefix('*').unwrap_or(after);
                continue;
            }
            // An unclosed quote is a typo, not a phrase to the end.
            rest = body;
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '"')
            .unwrap_or(rest.len());
        let chunk = &rest[..end];
        rest = &rest[end..];
        match chunk {
            "OR" => out.push(Piece::Or),
            "NOT" => out.push(Piece::Not),
            "AND" => out.push(Piece::And),
            _ => {
                let words = words_of(chunk);
                if words.is_empty() {
                    continue;
                }
                // `cease*` is a prefix; `C++*` or `*gaza` are words with punctuation.
                let prefix = chunk
                    .trim_end_matches(|c: char| !is_word_char(c) && c != '*')
                    .ends_with('*')
                    && chunk
                        .trim_end_matches('*')
                        .ends_with(|c: char| is_word_char(c));
                out.push(Piece::Term(Term { words, prefix }));
            }
        }
    }
    out
}

impl Query {
    /// Reads what a person typed; see the module documentation for the rules.
    pub fn parse(input: &str) -> Result<Query, EmptyQuery> {
        let mut all: Vec<Vec<Term>> = Vec::new();
        let mut exclude = Vec::new();
        let (mut or, mut not) = (false, false);
        for piece in pieces(input) {
            match piece {
                Piece::Term(t) => {
                    if not {
                        exclude.push(t);
                    } else if let (true, Some(group)) = (or, all.last_mut()) {
                        group.push(t);
                    } else {
                        all.push(vec![t]);
                    }
                    (or, not) = (false, false);
                }
                // An operator with nothing to join is dropped, as a person would read it.
                Piece::Or => or = !not && !all.is_empty(),
                Piece::Not => (or, not) = (false, true),
                Piece::And => or = false,
            }
        }
        match (all.is_empty(), exclude.is_empty()) {
            (false, _) => Ok(Query { all, exclude }),
            (true, true) => Err(EmptyQuery::NoWords),
            (true, false) => Err(EmptyQuery::OnlyExcluded),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(words: &[&str]) -> Term {
        Term {
            words: words.iter().map(|w| w.to_string()).collect(),
            prefix: false,
        }
    }

    fn all(groups: &[&[Term]]) -> Query {
        Query {
            all: groups.iter().map(|g| g.to_vec()).collect(),
            exclude: Vec::new(),
        }
    }

    #[test]
    fn punctuation_is_read_as_words() {
        let q = |s| Query::parse(s).unwrap();
        assert_eq!(
            q("U.S. ceasefire"),
            all(&[&[t(&["u", "s"])], &[t(&["ceasefire"])]])
        );
        assert_eq!(
            q("Blinken's visit"),
            all(&[&[t(&["blinken", "s"])], &[t(&["visit"])]])
        );
        assert_eq!(
            q("hostages: 40"),
            all(&[&[t(&["hostages"])], &[t(&["40"])]])
        );
        assert_eq!(q("Saudi-Arabia"), all(&[&[t(&["saudi", "arabia"])]]));
        assert_eq!(q("C++"), all(&[&[t(&["c"])]]));
        assert_eq!(
            q("ceasefire (Gaza"),
            all(&[&[t(&["ceasefire"])], &[t(&["gaza"])]])
        );
        assert_eq!(
            q("\"Gaza ceasefire"),
            all(&[&[t(&["gaza"])], &[t(&["ceasefire"])]])
        );
    }

    #[test]
    fn operators_work_when_written_as_operators() {
        let q = |s| Query::parse(s).unwrap();
        assert_eq!(
            q("\"West Bank\" settlers"),
            all(&[&[t(&["west", "bank"])], &[t(&["settlers"])]])
        );
        assert_eq!(
            q("Hamas OR Hezbollah Israel"),
            all(&[&[t(&["hamas"]), t(&["hezbollah"])], &[t(&["israel"])]])
        );
        assert_eq!(q("war or peace").all.len(), 3);
        let not = q("Gaza NOT Egypt");
        assert_eq!(not.all, vec![vec![t(&["gaza"])]]);
        assert_eq!(not.exclude, vec![t(&["egypt"])]);
        let prefix = q("cease* talks");
        assert!(prefix.all[0][0].prefix && !prefix.all[1][0].prefix);
        assert!(q("\"peace tal\"*").all[0][0].prefix);
        assert!(!q("C++").all[0][0].prefix);
        assert!(!q("*gaza").all[0][0].prefix);
        // Dangling operators are dropped.
        assert_eq!(q("OR gaza OR"), all(&[&[t(&["gaza"])]]));
        assert_eq!(q("gaza NOT"), all(&[&[t(&["gaza"])]]));
        assert_eq!(
            q("gaza AND israel"),
            all(&[&[t(&["gaza"])], &[t(&["israel"])]])
        );
    }

    #[test]
    fn nothing_to_search_for_is_said_plainly() {
        for s in ["", "   ", "++", "\"\"", "( )", "OR", "AND NOT"] {
            assert_eq!(Query::parse(s), Err(EmptyQuery::NoWords), "{s:?}");
        }
        assert_eq!(Query::parse("NOT gaza"), Err(EmptyQuery::OnlyExcluded));
    }
}
