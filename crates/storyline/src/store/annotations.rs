//! An article's sentences, mentions and clauses as compact blobs in one row of `annotations`.
//!
//! They were a row per sentence and per mention: about 40 and 70 rows an article, whose
//! inserts (with the mentions' index) took about 30% of the writer's CPU. Nothing queries
//! a single mention across articles by index, so one row per article loses no access path;
//! the one filter on a name (`stories_filtered`) calls [`MENTIONS_NAME_FN`].
//!
//! Layout, all integers LEB128 varints:
//! - sentences: per sentence, `start − previous end` (zigzag) and `end − start` (`idx` is
//!   the position, as `split_sentences` numbers them);
//! - mentions: per mention, `start − previous start` (zigzag), `end − start`, a flags byte
//!   (kind in bits 0–1, sentence-initial bit 2, has a role bit 3), the name's length and
//!   bytes, then the role's if it has one. Mentions come in text order, as found;
//! - clauses (what `statements::clauses` finds, made at ingest so that a report does not
//!   stem every clause it reads again): the version of the rules that made them
//!   ([`CLAUSE_RULES`]), the number of distinct terms the clauses use and those terms in
//!   sorted order, each as the length of the prefix it shares with the one before, then the
//!   rest's length and bytes; then per clause: `sentence − previous clause's sentence`,
//!   `start − previous end` (zigzag), `end − start`, its number of terms and their positions
//!   in that list, the first and then the gaps (a clause's terms are sorted, so they rise).
//!   The list is shared because a clause's terms are mostly its article's: each spelled out
//!   per clause made the blob about as long as the text.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::Connection;

use crate::core::{EntityKind, Sentence, Span};
use crate::extract::Mention;
use crate::statements::{Clause, NumberedClauses, WordTerms, CLAUSE_RULES};

/// The SQL function `mentions_name(blob, name)`: whether any mention in a `mentions` blob
/// has `name` (ASCII case ignored, as `COLLATE NOCASE`).
pub const MENTIONS_NAME_FN: &str = "mentions_name";

/// A blob that does not decode: stored by another program, or damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// A span as `start − base` (a zigzag varint, exact in either direction; sentences and
/// mentions come in text order, so it is small and positive) and its length.
fn put_span(out: &mut Vec<u8>, span: Span, base: usize) {
    let d = span.start as i64 - base as i64;
    put_varint(out, ((d << 1) ^ (d >> 63)) as u64);
    put_varint(out, span.end.saturating_sub(span.start) as u64);
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    fn varint(&mut self) -> Result<u64, Corrupt> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.bytes.split_first().ok_or(Corrupt)?;
            self.bytes = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(Corrupt)
    }

    fn usize(&mut self) -> Result<usize, Corrupt> {
        usize::try_from(self.varint()?).map_err(|_| Corrupt)
    }

    /// A count of items that each take at least a byte: never more than the bytes left, so
    /// a damaged count cannot make a vast allocation.
    fn count(&mut self) -> Result<usize, Corrupt> {
        let n = self.usize()?;
        if n > self.bytes.len() {
            return Err(Corrupt);
        }
        Ok(n)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], Corrupt> {
        if len > self.bytes.len() {
            return Err(Corrupt);
        }
        let (s, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, Corrupt> {
        let (&b, rest) = self.bytes.split_first().ok_or(Corrupt)?;
        self.bytes = rest;
        Ok(b)
    }

    fn str(&mut self) -> Result<&'a str, Corrupt> {
        let len = self.usize()?;
        if len > self.bytes.len() {
            return Err(Corrupt);
        }
        let (s, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(s).map_err(|_| Corrupt)
    }

    /// A span `put_span` wrote against `base`, refusing one out of range.
    fn span(&mut self, base: usize) -> Result<Span, Corrupt> {
        let z = self.varint()?;
        let d = (z >> 1) as i64 ^ -((z & 1) as i64);
        let start = usize::try_from(base as i64 + d).map_err(|_| Corrupt)?;
        let end = start.checked_add(self.usize()?).ok_or(Corrupt)?;
        Ok(Span { start, end })
    }
}

pub fn encode_sentences(sentences: &[Sentence]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sentences.len() * 3);
    let mut prev_end = 0;
    for s in sentences {
        put_span(&mut out, s.span, prev_end);
        prev_end = s.span.end;
    }
    out
}

pub fn decode_sentences(bytes: &[u8]) -> Result<Vec<Sentence>, Corrupt> {
    let mut r = Reader { bytes };
    let mut out = Vec::new();
    let mut prev_end = 0;
    while !r.is_empty() {
        let span = r.span(prev_end)?;
        out.push(Sentence {
            idx: out.len(),
            span,
        });
        prev_end = span.end;
    }
    Ok(out)
}

const INITIAL: u8 = 1 << 2;
const HAS_ROLE: u8 = 1 << 3;

fn kind_bits(kind: EntityKind) -> u8 {
    match kind {
        EntityKind::Person => 0,
        EntityKind::Organization => 1,
        EntityKind::Place => 2,
        EntityKind::Other => 3,
    }
}

fn kind_of_bits(bits: u8) -> EntityKind {
    match bits & 3 {
        0 => EntityKind::Person,
        1 => EntityKind::Organization,
        2 => EntityKind::Place,
        _ => EntityKind::Other,
    }
}

pub fn encode_mentions(mentions: &[Mention]) -> Vec<u8> {
    let mut out = Vec::with_capacity(mentions.len() * 16);
    let mut prev_start = 0;
    for m in mentions {
        put_span(&mut out, m.span, prev_start);
        let mut flags = kind_bits(m.kind);
        if m.sentence_initial {
            flags |= INITIAL;
        }
        if m.role.is_some() {
            flags |= HAS_ROLE;
        }
        out.push(flags);
        put_varint(&mut out, m.name.len() as u64);
        out.extend_from_slice(m.name.as_bytes());
        if let Some(role) = &m.role {
            put_varint(&mut out, role.len() as u64);
            out.extend_from_slice(role.as_bytes());
        }
        prev_start = m.span.start;
    }
    out
}

/// Calls `each(name, mention parts)` for every mention in `bytes`, in order, stopping early
/// when `each` returns false.
fn for_each_mention<'a>(
    bytes: &'a [u8],
    mut each: impl FnMut(&'a str, Span, u8, Option<&'a str>) -> bool,
) -> Result<(), Corrupt> {
    let mut r = Reader { bytes };
    let mut prev_start = 0;
    while !r.is_empty() {
        let span = r.span(prev_start)?;
        let flags = r.byte()?;
        let name = r.str()?;
        let role = if flags & HAS_ROLE != 0 {
            Some(r.str()?)
        } else {
            None
        };
        prev_start = span.start;
        if !each(name, span, flags, role) {
            break;
        }
    }
    Ok(())
}

pub fn decode_mentions(bytes: &[u8]) -> Result<Vec<Mention>, Corrupt> {
    let mut out = Vec::new();
    for_each_mention(bytes, |name, span, flags, role| {
        out.push(Mention {
            name: name.to_string(),
            kind: kind_of_bits(flags),
            span,
            sentence_initial: flags & INITIAL != 0,
            role: role.map(str::to_string),
        });
        true
    })?;
    Ok(out)
}

/// Whether an encoded mention list names `wanted` (ASCII case aside): the test behind
/// [`MENTIONS_NAME_FN`], and the PostgreSQL engine's entity filter.
pub fn mentions_name(blob: &[u8], wanted: &str) -> Result<bool, Corrupt> {
    let mut found = false;
    for_each_mention(blob, |name, _, _, _| {
        found = name.eq_ignore_ascii_case(wanted);
        !found
    })?;
    Ok(found)
}

pub fn encode_clauses(clauses: &[Clause]) -> Vec<u8> {
    let mut terms: Vec<&str> = clauses
        .iter()
        .flat_map(|c| c.terms.iter().map(String::as_str))
        .collect();
    terms.sort_unstable();
    terms.dedup();
    let mut out = Vec::with_capacity(terms.len() * 6 + clauses.len() * 12);
    put_clause_terms(&mut out, &terms);
    // Looked up by hash: a binary search's string compares were most of the encoding.
    let position: rustc_hash::FxHashMap<&str, usize> =
        terms.iter().enumerate().map(|(i, &t)| (t, i)).collect();
    let mut prev = (0, 0);
    let mut at: Vec<usize> = Vec::new();
    for c in clauses {
        // Every term is in the list; a clause's terms are sorted and distinct already, so
        // sorting their positions keeps their order.
        at.clear();
        at.extend(
            c.terms
                .iter()
                .filter_map(|t| position.get(t.as_str()).copied()),
        );
        at.sort_unstable();
        at.dedup();
        prev = put_clause(&mut out, prev, c.sentence, c.span, &at);
    }
    out
}

/// [`encode_clauses`] of the clauses `numbered` as numbers of `terms`: the same bytes,
/// without a string per term of each clause (what ingest encodes, for every article).
pub fn encode_numbered_clauses(numbered: &NumberedClauses, terms: &WordTerms) -> Vec<u8> {
    // The terms the clauses use, in the order of their text: each term's place is its
    // rank there, so a clause's rising places are its terms sorted as strings.
    let mut seen = vec![false; terms.len()];
    let mut used: Vec<(u64, u32)> = Vec::new();
    for &id in numbered.all_ids() {
        if let Some(s) = seen.get_mut(id as usize).filter(|s| !**s) {
            *s = true;
            used.push((prefix_key(terms.text(id)), id));
        }
    }
    // By the first eight bytes as a number, the rest compared only when those are the
    // same: the order of the strings, without a string compare for most pairs.
    used.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| terms.text(a.1).cmp(terms.text(b.1)))
    });
    let mut rank = vec![0usize; terms.len()];
    for (r, &(_, id)) in used.iter().enumerate() {
        rank[id as usize] = r;
    }
    let texts: Vec<&str> = used.iter().map(|&(_, id)| terms.text(id)).collect();
    let mut out = Vec::with_capacity(texts.len() * 6 + numbered.len() * 12);
    put_clause_terms(&mut out, &texts);
    let mut prev = (0, 0);
    let mut at: Vec<usize> = Vec::new();
    for (span, sentence, ids) in numbered.iter() {
        // A clause's numbers are distinct, so are their ranks.
        at.clear();
        at.extend(ids.iter().map(|&id| rank[id as usize]));
        at.sort_unstable();
        prev = put_clause(&mut out, prev, sentence, span, &at);
    }
    out
}

/// A text's first eight bytes as a big-endian number, zeros after a shorter text: two
/// texts whose numbers differ are in the order of their numbers (a shorter text's zeros
/// stand where the longer one's bytes, being greater, make it the later one).
fn prefix_key(text: &str) -> u64 {
    let mut bytes = [0u8; 8];
    let head = &text.as_bytes()[..text.len().min(8)];
    bytes[..head.len()].copy_from_slice(head);
    u64::from_be_bytes(bytes)
}

/// The rules' version and the clauses' distinct terms, sorted: each as the prefix it
/// shares with the one before and the rest.
fn put_clause_terms(out: &mut Vec<u8>, terms: &[&str]) {
    put_varint(out, CLAUSE_RULES);
    put_varint(out, terms.len() as u64);
    let mut prev: &[u8] = &[];
    for t in terms {
        let t = t.as_bytes();
        let shared = prev.iter().zip(t).take_while(|(a, b)| a == b).count();
        put_varint(out, shared as u64);
        put_varint(out, (t.len() - shared) as u64);
        out.extend_from_slice(&t[shared..]);
        prev = t;
    }
}

/// One clause after the one whose sentence and end are `prev`, with its terms' places
/// `at` (rising) in the list; returns its sentence and end.
fn put_clause(
    out: &mut Vec<u8>,
    (prev_sentence, prev_end): (usize, usize),
    sentence: usize,
    span: Span,
    at: &[usize],
) -> (usize, usize) {
    put_varint(out, sentence.saturating_sub(prev_sentence) as u64);
    put_span(out, span, prev_end);
    put_varint(out, at.len() as u64);
    let mut prev_at = 0;
    for (k, &p) in at.iter().enumerate() {
        put_varint(out, if k == 0 { p } else { p - prev_at } as u64);
        prev_at = p;
    }
    (sentence, span.end)
}

/// The clauses in `bytes`, or `None` when other rules than today's made them (they are
/// then made again from the text, as for an article stored before clauses were).
pub fn decode_clauses(bytes: &[u8]) -> Result<Option<Vec<Clause>>, Corrupt> {
    let mut r = Reader { bytes };
    if r.varint()? != CLAUSE_RULES {
        return Ok(None);
    }
    let n = r.count()?;
    let mut terms: Vec<String> = Vec::with_capacity(n);
    for _ in 0..n {
        let shared = r.usize()?;
        let prev = terms.last().map_or(&[][..], |t| t.as_bytes());
        if shared > prev.len() {
            return Err(Corrupt);
        }
        let len = r.usize()?;
        let mut t = prev[..shared].to_vec();
        t.extend_from_slice(r.take(len)?);
        let t = String::from_utf8(t).map_err(|_| Corrupt)?;
        // Sorted and distinct, as written: anything else is damage.
        if terms.last().is_some_and(|p| *p >= t) {
            return Err(Corrupt);
        }
        terms.push(t);
    }
    let mut out = Vec::new();
    let (mut prev_sentence, mut prev_end) = (0usize, 0);
    while !r.is_empty() {
        let sentence = prev_sentence.checked_add(r.usize()?).ok_or(Corrupt)?;
        let span = r.span(prev_end)?;
        let k = r.count()?;
        let mut clause_terms = Vec::with_capacity(k);
        let mut at = 0usize;
        for i in 0..k {
            let step = r.usize()?;
            if i > 0 && step == 0 {
                return Err(Corrupt);
            }
            at = at.checked_add(step).ok_or(Corrupt)?;
            clause_terms.push(terms.get(at).ok_or(Corrupt)?.clone());
        }
        out.push(Clause {
            span,
            sentence,
            terms: clause_terms,
        });
        prev_sentence = sentence;
        prev_end = span.end;
    }
    Ok(Some(out))
}

/// An article's decoded annotations: sentences, mentions, and clauses (`None` when not
/// stored, or made by other rules).
pub(super) type Annotations = (Vec<Sentence>, Vec<Mention>, Option<Vec<Clause>>);

/// One `annotations` row's blobs decoded, or which of them does not decode.
pub(super) fn decode(
    sentences: &[u8],
    mentions: &[u8],
    clauses: Option<&[u8]>,
) -> Result<Annotations, &'static str> {
    Ok((
        decode_sentences(sentences).map_err(|Corrupt| "sentences")?,
        decode_mentions(mentions).map_err(|Corrupt| "mentions")?,
        match clauses {
            Some(c) => decode_clauses(c).map_err(|Corrupt| "clauses")?,
            None => None,
        },
    ))
}

/// Registers [`MENTIONS_NAME_FN`] on `conn`.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    conn.create_scalar_function(
        MENTIONS_NAME_FN,
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx: &Context<'_>| {
            let blob = ctx.get_raw(0).as_blob_or_null()?.unwrap_or_default();
            let Some(wanted) = ctx.get_raw(1).as_str_or_null()? else {
                return Ok(false);
            };
            mentions_name(blob, wanted).map_err(|Corrupt| {
                rusqlite::Error::UserFunctionError("a mentions blob does not decode".into())
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mention(name: &str, kind: EntityKind, start: usize, role: Option<&str>) -> Mention {
        Mention {
            name: name.to_string(),
            kind,
            span: Span {
                start,
                end: start + name.len(),
            },
            sentence_initial: start == 0,
            role: role.map(str::to_string),
        }
    }

    #[test]
    fn sentences_and_mentions_come_back_as_they_went_in() {
        let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/seeds");
        let mut files = 0;
        for entry in std::fs::read_dir(seeds).expect("../shared/seeds beside the repository") {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let sentences = crate::normalize::split_sentences(&text);
            let mentions = crate::extract::mentions(&text, &sentences);
            assert!(sentences.len() > 1 && !mentions.is_empty());
            assert_eq!(
                decode_sentences(&encode_sentences(&sentences)).unwrap(),
                sentences
            );
            assert_eq!(
                decode_mentions(&encode_mentions(&mentions)).unwrap(),
                mentions
            );
            files += 1;
        }
        assert!(files >= 5);
        let built = vec![
            mention("Cairo", EntityKind::Place, 0, None),
            mention(
                "Antony Blinken",
                EntityKind::Person,
                300,
                Some("Secretary of State"),
            ),
            mention("Hamas", EntityKind::Organization, 70_000, None),
            mention("Monday", EntityKind::Other, 70_100, Some("")),
        ];
        assert_eq!(decode_mentions(&encode_mentions(&built)).unwrap(), built);
        assert!(decode_mentions(&[]).unwrap().is_empty());
        assert!(decode_sentences(&[]).unwrap().is_empty());
    }

    fn clause(sentence: usize, start: usize, end: usize, terms: &[&str]) -> Clause {
        Clause {
            span: Span { start, end },
            sentence,
            terms: terms.iter().map(|t| t.to_string()).collect(),
        }
    }

    /// Clauses of hand-made shapes: a term that shares part of a character with the one
    /// before ("cafè", "café" share the first byte of the accent), sentences skipped, a
    /// clause whose span starts before the previous one ended, one without terms.
    fn built_clauses() -> Vec<Clause> {
        vec![
            clause(0, 4, 60, &["blinken", "cafè", "café", "ceasefir"]),
            clause(0, 62, 120, &["café", "hostag", "releas"]),
            clause(3, 100, 90_000, &["ceasefir", "rafah", "été"]),
            clause(3, 90_001, 90_002, &[]),
            clause(7, 5, 9, &["z"]),
        ]
    }

    #[test]
    fn clauses_come_back_as_they_went_in() {
        let seeds = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/seeds");
        let stemmer = crate::normalize::Stemmer::english();
        let mut files = 0;
        for entry in std::fs::read_dir(seeds).expect("../shared/seeds beside the repository") {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            let sentences = crate::normalize::split_sentences(&text);
            let clauses = crate::statements::clauses(&text, &sentences, &stemmer);
            assert!(clauses.len() > 5, "{}", clauses.len());
            let blob = encode_clauses(&clauses);
            assert_eq!(decode_clauses(&blob).unwrap(), Some(clauses));
            files += 1;
        }
        assert!(files >= 5);
        let built = built_clauses();
        assert_eq!(
            decode_clauses(&encode_clauses(&built)).unwrap(),
            Some(built)
        );
        // No clauses is a list, not "not made".
        assert_eq!(decode_clauses(&encode_clauses(&[])).unwrap(), Some(vec![]));
    }

    /// What ingest stores (terms as numbers, placed by rank) is byte for byte what the
    /// clauses with their terms spelled out encode to, on real articles; and on their
    /// sentences ended two bytes early, inside a word, so that clauses split their own
    /// last words and number terms the article's words do not have.
    #[test]
    fn clauses_encoded_by_number_are_the_clauses_encoded_by_term() {
        let stemmer = crate::normalize::Stemmer::english();
        let (mut articles, mut clauses_seen, mut cut_words) = (0, 0, 0);
        for set in [
            "cluster/ecbplus-dev",
            "compare/newswcl50",
            "cluster/gvc-dev",
        ] {
            let path = format!("../../../shared/data/{set}/articles.jsonl");
            let file =
                std::fs::read_to_string(&path).expect("../shared/data beside the repository");
            for line in file.lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let text = v["text"].as_str().unwrap_or_default();
                let sentences = crate::normalize::split_sentences(text);
                let early: Vec<Sentence> = sentences
                    .iter()
                    .map(|&s| {
                        let mut s = s;
                        let end = s.span.end.saturating_sub(2);
                        if end > s.span.start && text.is_char_boundary(end) {
                            s.span.end = end;
                        }
                        s
                    })
                    .collect();
                let list = crate::normalize::WordList::of(text);
                for sentences in [&sentences, &early] {
                    let spelled = crate::statements::clauses(text, sentences, &stemmer);
                    let mut terms = WordTerms::of(&list, &stemmer);
                    let numbered = crate::statements::numbered_clauses(
                        text, sentences, &list, &mut terms, &stemmer,
                    );
                    assert_eq!(
                        encode_numbered_clauses(&numbered, &terms),
                        encode_clauses(&spelled),
                        "{set}: {}",
                        v["id"]
                    );
                    clauses_seen += spelled.len();
                    cut_words += spelled
                        .iter()
                        .filter(|c| list.words_in(c.span.start..c.span.end).is_none())
                        .count();
                }
                articles += 1;
            }
        }
        assert!(
            articles > 500 && clauses_seen > 10_000 && cut_words > 1_000,
            "{articles} {clauses_seen} {cut_words}"
        );
    }

    #[test]
    fn clauses_of_other_rules_are_not_read_as_todays() {
        let mut blob = encode_clauses(&built_clauses());
        assert_eq!(blob[0] as u64, CLAUSE_RULES);
        blob[0] = (CLAUSE_RULES + 1) as u8;
        assert_eq!(decode_clauses(&blob), Ok(None));
    }

    #[test]
    fn a_damaged_clause_blob_is_an_error_not_a_panic() {
        let built = built_clauses();
        let bytes = encode_clauses(&built);
        // Cut anywhere: an error, or (cut between two clauses) the clauses before the cut.
        for cut in 0..bytes.len() {
            match decode_clauses(&bytes[..cut]) {
                Err(Corrupt) => {}
                Ok(Some(some)) => assert!(some.len() < built.len() && built.starts_with(&some)),
                Ok(None) => panic!("cut at {cut} read as other rules"),
            }
        }
        let rules = CLAUSE_RULES as u8;
        // A term that is not UTF-8.
        assert_eq!(decode_clauses(&[rules, 1, 0, 1, 0xff]), Err(Corrupt));
        // Terms out of order, or twice.
        assert_eq!(
            decode_clauses(&[rules, 2, 0, 1, b'b', 0, 1, b'a']),
            Err(Corrupt)
        );
        assert_eq!(decode_clauses(&[rules, 2, 0, 1, b'a', 1, 0]), Err(Corrupt));
        // A prefix longer than the term before.
        assert_eq!(
            decode_clauses(&[rules, 2, 0, 1, b'a', 2, 1, b'b']),
            Err(Corrupt)
        );
        // A clause naming a term past the list, or one term twice (a gap of 0).
        assert_eq!(
            decode_clauses(&[rules, 1, 0, 1, b'a', 0, 0, 3, 1, 1]),
            Err(Corrupt)
        );
        assert_eq!(
            decode_clauses(&[rules, 1, 0, 1, b'a', 0, 0, 3, 2, 0, 0]),
            Err(Corrupt)
        );
        // A count of terms far past what the blob holds: refused, not allocated.
        let mut huge = vec![rules];
        put_varint(&mut huge, u64::MAX >> 1);
        assert_eq!(decode_clauses(&huge), Err(Corrupt));
        let mut huge = vec![rules, 0, 0, 0, 3];
        put_varint(&mut huge, 1 << 40);
        assert_eq!(decode_clauses(&huge), Err(Corrupt));
    }

    #[test]
    fn a_damaged_blob_is_an_error_not_a_panic() {
        let built = vec![mention(
            "Antony Blinken",
            EntityKind::Person,
            3,
            Some("envoy"),
        )];
        let bytes = encode_mentions(&built);
        for cut in 0..bytes.len() {
            assert_eq!(
                decode_mentions(&bytes[..cut]).map(|m| m.len()).ok(),
                (cut == 0).then_some(0)
            );
        }
        assert_eq!(decode_sentences(&[0x80; 11]), Err(Corrupt));
        assert_eq!(
            decode_sentences(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 1]),
            Err(Corrupt)
        );
        // A name that is not UTF-8.
        assert_eq!(decode_mentions(&[0, 1, 0, 1, 0xff]), Err(Corrupt));
    }

    #[test]
    fn the_sql_function_finds_a_name_ignoring_ascii_case() {
        let conn = Connection::open_in_memory().unwrap();
        register(&conn).unwrap();
        let blob = encode_mentions(&[
            mention("Cairo", EntityKind::Place, 0, None),
            mention("Antony Blinken", EntityKind::Person, 30, None),
        ]);
        let has = |name: &str| -> bool {
            conn.query_row(
                "SELECT mentions_name(?1, ?2)",
                rusqlite::params![blob, name],
                |r| r.get(0),
            )
            .unwrap()
        };
        assert!(has("antony blinken"));
        assert!(has("CAIRO"));
        assert!(!has("Blinken"));
        let bad: rusqlite::Result<bool> =
            conn.query_row("SELECT mentions_name(x'80', 'a')", [], |r| r.get(0));
        assert!(bad.is_err());
    }
}
