//! What the sources of one event say, grouped into statements: the clauses of different
//! sources that say the same thing (paraphrases included) form one statement, listing every
//! source that says it. Two or more independent sources: agreed; one: single-source.
//! Near-duplicate copies count as their original, never as a second voice.
//!
//! Sameness is content-word overlap between clauses: Dice over stemmed terms weighted by
//! their rarity among the event's clauses, so that two clauses sharing "ceasefire",
//! "hostage", "release" and "deal" match while two sharing only the protagonist's name do
//! not. Clauses rather than sentences, because a long sentence often joins two claims and
//! another source makes only one of them. **Pure.**

use rustc_hash::{FxHashMap, FxHashSet};

use serde::{Deserialize, Serialize};

use crate::core::{Claim, EventId, Span};
use crate::corroborate::FactSource;
use crate::normalize::{
    for_each_content_term, for_each_keyed_word_term, text_key, Stemmer, WordList,
};
use crate::summarize::LEAD_IN;

mod differ;

pub use differ::{Difference, DifferingValue, Slot};

/// Version of the rules [`clauses`] follows. Clauses are made at ingest and stored with
/// the article; stored ones of other rules are made again on read, so **any change to what
/// `clauses` returns must raise it** (else a report would mix old and new clauses).
pub const CLAUSE_RULES: u64 = 1;

/// A clause of an article: its span and its distinct stemmed content terms.
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub span: Span,
    /// Index of the sentence it belongs to.
    pub sentence: usize,
    pub terms: Vec<String>,
}

/// One thing the sources of an event say.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// The clause that says it best (the one closest to all the others).
    pub text: String,
    /// Independent sources (originals) that say it.
    pub sources: Vec<usize>,
    /// Copies of those sources, which say it too but add no independent voice.
    pub copies: Vec<usize>,
    /// One clause per independent source, verbatim, with its span.
    pub quotes: Vec<Claim>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventStatements {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub event: EventId,
    /// How many statements two or more independent sources make.
    pub n_agreed: usize,
    /// The leading agreed statements (at most [`AGREED_SHOWN`]), most sources first.
    pub agreed: Vec<Statement>,
    /// How many statements only one source makes (every clause no other source matches).
    pub n_single_source: usize,
    /// The leading single-source statements (at most [`SINGLE_SOURCE_SHOWN`]), by how
    /// early their source says them.
    pub single_source: Vec<Statement>,
    /// How many agreed statements some sources give differently (a place, a day, a person,
    /// yes against no).
    #[serde(default)]
    pub n_differ: usize,
    /// The leading ones (at most [`DIFFER_SHOWN`]), in the order of their statements.
    #[serde(default)]
    pub differ: Vec<Difference>,
}

/// Weighted Dice two clauses need to say the same thing.
pub const SAME_THING: f32 = 0.45;
/// …and the distinct content terms they must share.
const MIN_SHARED: usize = 3;
/// Words a clause needs to be a statement at all…
const MIN_WORDS: usize = 5;
/// …and content terms.
const MIN_TERMS: usize = 4;
/// Most single-source statements a report lists.
pub const SINGLE_SOURCE_SHOWN: usize = 5;
/// Most agreed statements a report lists per event.
pub const AGREED_SHOWN: usize = 20;
/// Most differences a report lists per event.
pub const DIFFER_SHOWN: usize = 10;

/// A clause opening with it is an attribution, no statement.
const ACCORDING: &str = "according";

/// Words that, after a comma, open a new clause.
const CLAUSE_OPENERS: &[&str] = &[
    "while",
    "whereas",
    "but",
    "which",
    "who",
    "as",
    "amid",
    "after",
    "following",
    "despite",
    "although",
    "though",
    "because",
    "since",
    "when",
    "where",
    "with",
    "including",
    "saying",
    "according",
    "marking",
    "and",
];

/// The content term of each word of a text's [`WordList`], if it has one: made with the
/// text's one tokenisation (at ingest, with its term counts), so that its clauses take
/// their terms from here instead of splitting and stemming their words again. Each distinct
/// term is held once under a number, so that a clause's terms are numbers to sort and the
/// clauses' encoding finds each term's place without comparing or hashing strings again.
#[derive(Debug, Default)]
pub struct WordTerms {
    /// The distinct terms, one after the other.
    buf: String,
    /// Per term number, where it lies in `buf`.
    spans: Vec<(u32, u32)>,
    /// Per word, its term's number, or [`NO_TERM`].
    words: Vec<u32>,
    /// A term's [`text_key`] → its number (a term whose key another holds already is
    /// found by comparing the terms).
    index: FxHashMap<u64, u32>,
    /// Per term number, its [`text_key`] and how many words [`WordTerms::set`] gave it: the
    /// article's term counts, which ingest takes from here rather than hashing every term
    /// again to count it.
    keys: Vec<u64>,
    counts: Vec<f32>,
    /// Whether two distinct terms have shared a key.
    collided: bool,
}

/// A word without a content term (a stop word, a one-letter word).
const NO_TERM: u32 = u32::MAX;

impl WordTerms {
    pub fn of(list: &WordList, stemmer: &Stemmer) -> WordTerms {
        let words = list.words();
        let mut out = WordTerms::with_capacity(words.len());
        for_each_keyed_word_term(&words, stemmer, |i, t, key| out.set(i, t, key));
        out.finish(words.len())
    }

    /// Room for a text of `words` words (about half of them content words, most of those
    /// repeats), so that numbering them seldom grows a table.
    pub fn with_capacity(words: usize) -> WordTerms {
        WordTerms {
            buf: String::with_capacity(words * 3),
            spans: Vec::with_capacity(words / 2),
            words: Vec::with_capacity(words),
            index: FxHashMap::with_capacity_and_hasher(words / 2, Default::default()),
            keys: Vec::with_capacity(words / 2),
            counts: Vec::with_capacity(words / 2),
            collided: false,
        }
    }

    /// `term`, whose [`text_key`] is `key`, is the term of word `i`; the words since the
    /// last one given have none. Given in word order (as [`for_each_keyed_word_term`]
    /// gives them, with their keys).
    pub fn set(&mut self, i: usize, term: &str, key: u64) {
        self.words.resize(i, NO_TERM);
        let id = self.number_keyed(term, key);
        if let Some(n) = self.counts.get_mut(id as usize) {
            *n += 1.0;
        }
        self.words.push(id);
    }

    /// Each term [`WordTerms::set`] gave a word, in the order of its first word: its key,
    /// its text and how many words have it (terms only clauses numbered have none).
    pub fn counted(&self) -> impl Iterator<Item = (u64, &str, f32)> + '_ {
        (0..self.spans.len() as u32)
            .filter(|&id| self.counts[id as usize] > 0.0)
            .map(|id| {
                (
                    self.keys[id as usize],
                    self.text(id),
                    self.counts[id as usize],
                )
            })
    }

    /// Whether two distinct terms have shared a [`text_key`] (about never): a count by key
    /// then adds theirs together, which [`WordTerms::counted`] does not.
    pub fn collided(&self) -> bool {
        self.collided
    }

    /// Done, for a list of `words` words: those after the last one given have no term.
    pub fn finish(mut self, words: usize) -> WordTerms {
        self.words.resize(words, NO_TERM);
        self
    }

    /// The number of `term`, given it now if it has none yet.
    fn number(&mut self, term: &str) -> u32 {
        self.number_keyed(term, text_key(term))
    }

    fn number_keyed(&mut self, term: &str, key: u64) -> u32 {
        match self.index.get(&key) {
            Some(&id) if self.text(id) == term => id,
            // Another term holds the key (about never): find it among all, or add it
            // without a key.
            Some(_) => match (0..self.spans.len() as u32).find(|&id| self.text(id) == term) {
                Some(id) => id,
                None => {
                    self.collided = true;
                    self.push(term, key)
                }
            },
            None => {
                let id = self.push(term, key);
                self.index.insert(key, id);
                id
            }
        }
    }

    fn push(&mut self, term: &str, key: u64) -> u32 {
        let start = self.buf.len() as u32;
        self.buf.push_str(term);
        self.spans.push((start, self.buf.len() as u32));
        self.keys.push(key);
        self.counts.push(0.0);
        self.spans.len() as u32 - 1
    }

    /// Distinct terms numbered so far.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Term number `id`.
    pub fn text(&self, id: u32) -> &str {
        self.spans
            .get(id as usize)
            .and_then(|&(start, end)| self.buf.get(start as usize..end as usize))
            .unwrap_or("")
    }

    fn term_of(&self, word: usize) -> Option<u32> {
        self.words.get(word).copied().filter(|&id| id != NO_TERM)
    }
}

/// The clauses of an article (per-article work: it needs nothing of the event, so it is
/// done at ingest and stored with the article).
pub fn clauses(text: &str, sentences: &[crate::core::Sentence], stemmer: &Stemmer) -> Vec<Clause> {
    let list = WordList::of(text);
    let mut terms = WordTerms::of(&list, stemmer);
    clauses_of_words(text, sentences, &list, &mut terms, stemmer)
}

/// [`clauses`] of a text already split into `list` with `word_terms`, its words' terms.
pub fn clauses_of_words(
    text: &str,
    sentences: &[crate::core::Sentence],
    list: &WordList,
    word_terms: &mut WordTerms,
    stemmer: &Stemmer,
) -> Vec<Clause> {
    let numbered = numbered_clauses(text, sentences, list, word_terms, stemmer);
    numbered
        .iter()
        .map(|(span, sentence, ids)| {
            let mut terms: Vec<String> = ids
                .iter()
                .map(|&id| word_terms.text(id).to_string())
                .collect();
            terms.sort_unstable();
            Clause {
                span,
                sentence,
                terms,
            }
        })
        .collect()
}

/// [`clauses`] with their terms as numbers of a [`WordTerms`]: what ingest encodes
/// (`store::encode_numbered_clauses`), without a string per term of each clause.
#[derive(Debug, Default)]
pub struct NumberedClauses {
    /// Per clause: its span, its sentence and where its terms lie in `ids`.
    clauses: Vec<(Span, usize, std::ops::Range<usize>)>,
    /// The clauses' term numbers, each clause's distinct and rising.
    ids: Vec<u32>,
}

impl NumberedClauses {
    /// Each clause: its span, its sentence and its distinct term numbers (rising).
    pub fn iter(&self) -> impl Iterator<Item = (Span, usize, &[u32])> + '_ {
        self.clauses
            .iter()
            .map(|(span, sentence, at)| (*span, *sentence, &self.ids[at.clone()]))
    }

    pub fn len(&self) -> usize {
        self.clauses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Every term number the clauses use, with repeats.
    pub fn all_ids(&self) -> &[u32] {
        &self.ids
    }
}

/// Whether `word`, lower-cased, is one of `list` (lower-case ASCII words): without the
/// lower-cased copy for an ASCII word, nearly every one (this runs for every sentence and
/// comma of every article at ingest).
fn lower_is_one_of(word: &str, list: &[&str]) -> bool {
    if word.is_ascii() {
        list.iter().any(|w| w.eq_ignore_ascii_case(word))
    } else {
        list.contains(&word.to_lowercase().as_str())
    }
}

/// [`clauses_of_words`] with the terms as numbers given by `word_terms` (a clause's words
/// that end cut are split and their terms numbered there too).
pub fn numbered_clauses(
    text: &str,
    sentences: &[crate::core::Sentence],
    list: &WordList,
    word_terms: &mut WordTerms,
    stemmer: &Stemmer,
) -> NumberedClauses {
    let mut out = NumberedClauses::default();
    let mut cuts: Vec<usize> = Vec::new();
    for (si, s) in sentences.iter().enumerate() {
        let body = s.span.slice(text);
        cuts.clear();
        cuts.push(0);
        let first = body.split_whitespace().next().unwrap_or("");
        if lower_is_one_of(first, LEAD_IN) {
            if let Some(i) = body.find(", ") {
                cuts.push(i + 2);
            }
        }
        // Both marks are ASCII, so looking at bytes finds them (and only them) without
        // decoding every character; memchr looks at many bytes at a time.
        for i in memchr::memchr2_iter(b';', b',', body.as_bytes()) {
            let mark = body.as_bytes()[i];
            let after = &body[i + 1..];
            // ", and" opens a clause only when a verb-bearing clause follows, which we
            // approximate by its length; a list's last item is short.
            let opens = mark == b';' || {
                let next = after
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .trim_matches(|c: char| !c.is_alphanumeric());
                lower_is_one_of(next, CLAUSE_OPENERS)
                    && (!lower_is_one_of(next, &["and"])
                        || after.split_whitespace().nth(5).is_some())
            };
            if opens {
                cuts.push(i + 1);
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        cuts.push(body.len());
        for w in cuts.windows(2) {
            let piece = &body[w[0]..w[1]];
            let lead = piece.len() - piece.trim_start().len();
            let trimmed = piece
                .trim()
                .trim_end_matches([',', ';', '.', ':'])
                .trim_end();
            // A name alone ("Commerce Secretary Wilbur Ross") or an attribution
            // ("according to the medical examiner's office") is no statement.
            // "According" in any case: no other letter lower-cases to one of its ASCII
            // letters, so comparing bytes ignoring ASCII case is `to_lowercase` without
            // the copy of the clause.
            if trimmed.split_whitespace().nth(MIN_WORDS - 1).is_none()
                || trimmed
                    .get(..ACCORDING.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(ACCORDING))
            {
                continue;
            }
            let start = s.span.start + w[0] + lead;
            // Runs at ingest for every clause of every article: its words and their terms
            // are the article's, found by where they lie, not split and stemmed again. A
            // clause whose end cuts a word (a sentence ending inside one) splits its own
            // text.
            let from = out.ids.len();
            match list.words_in(start..start + trimmed.len()) {
                Some(words) => out.ids.extend(words.filter_map(|i| word_terms.term_of(i))),
                None => for_each_content_term(WordList::of(trimmed).words(), stemmer, |t| {
                    let id = word_terms.number(t);
                    out.ids.push(id);
                }),
            }
            let ids = &mut out.ids[from..];
            ids.sort_unstable();
            let mut kept = 0;
            for k in 0..ids.len() {
                if k == 0 || ids[k] != ids[kept - 1] {
                    ids[kept] = ids[k];
                    kept += 1;
                }
            }
            out.ids.truncate(from + kept);
            if kept < MIN_TERMS {
                out.ids.truncate(from);
                continue;
            }
            out.clauses.push((
                Span {
                    start,
                    end: start + trimmed.len(),
                },
                si,
                from..from + kept,
            ));
        }
    }
    out
}

/// One clause of the event with who says it.
struct Said<'a> {
    source: usize,
    original: usize,
    article: &'a str,
    text: &'a str,
    /// The whole article's text and day, for what it names outside the clause.
    full: &'a str,
    published: Option<chrono::NaiveDate>,
    clause: &'a Clause,
    /// Term ids and their weights.
    weights: Vec<(u32, f32)>,
    total: f32,
}

fn dice(a: &Said<'_>, b: &Said<'_>) -> (f32, usize) {
    let (mut i, mut j, mut shared, mut n) = (0, 0, 0.0, 0);
    while i < a.weights.len() && j < b.weights.len() {
        match a.weights[i].0.cmp(&b.weights[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                shared += a.weights[i].1;
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (2.0 * shared / (a.total + b.total).max(f32::EPSILON), n)
}

/// The statements of one event, from its articles' clauses (`clauses[i]` belongs to
/// `sources[i]`).
pub fn statements<C: AsRef<[Clause]>>(
    event: EventId,
    sources: &[FactSource<'_>],
    clauses: &[C],
) -> EventStatements {
    let stemmer = Stemmer::english();
    // Copies say what their original says: only originals' clauses are compared, and a
    // copy is listed beside its original.
    let mut said: Vec<Said<'_>> = Vec::new();
    let mut ids: FxHashMap<&str, u32> = FxHashMap::default();
    let mut df: Vec<u32> = Vec::new();
    let mut raw: Vec<Vec<u32>> = Vec::new();
    for (s, cs) in sources.iter().zip(clauses) {
        if s.original != s.n {
            continue;
        }
        for c in cs.as_ref() {
            let mut v = Vec::with_capacity(c.terms.len());
            for t in &c.terms {
                let next = ids.len() as u32;
                let id = *ids.entry(t.as_str()).or_insert(next);
                if id as usize == df.len() {
                    df.push(0);
                }
                df[id as usize] += 1;
                v.push(id);
            }
            raw.push(v);
            said.push(Said {
                source: s.n,
                original: s.original,
                article: &s.article.id,
                text: c.span.slice(&s.article.text),
                full: &s.article.text,
                published: s.article.date(),
                clause: c,
                weights: Vec::new(),
                total: 0.0,
            });
        }
    }
    let n = said.len() as f32;
    let idf: Vec<f32> = df
        .iter()
        .map(|&d| ((n + 1.0) / (d as f32 + 0.5)).ln().max(0.1))
        .collect();
    for (x, v) in said.iter_mut().zip(raw) {
        let mut w: Vec<(u32, f32)> = v.into_iter().map(|id| (id, idf[id as usize])).collect();
        w.sort_unstable_by_key(|e| e.0);
        x.total = w.iter().map(|e| e.1).sum();
        x.weights = w;
    }
    // Candidate pairs through an inverted index on terms: only clauses sharing a term meet.
    let mut postings: Vec<Vec<usize>> = vec![Vec::new(); df.len()];
    for (i, x) in said.iter().enumerate() {
        for &(id, _) in &x.weights {
            postings[id as usize].push(i);
        }
    }
    let mut matches: Vec<Vec<(usize, f32)>> = vec![Vec::new(); said.len()];
    // `met[j] == i`: clause j was already compared with clause i (a mark per clause, not a
    // set per clause: this loop is the report's hottest).
    let mut met: Vec<usize> = vec![usize::MAX; said.len()];
    for (i, x) in said.iter().enumerate() {
        for &(id, _) in &x.weights {
            for &j in &postings[id as usize] {
                if j <= i || said[j].original == x.original || met[j] == i {
                    continue;
                }
                met[j] = i;
                let (d, shared) = dice(x, &said[j]);
                if d >= SAME_THING && shared >= MIN_SHARED {
                    matches[i].push((j, d));
                    matches[j].push((i, d));
                }
            }
        }
    }
    // Greedy: the clause matched by the most other sources seeds a statement, which takes
    // from each other source its best-matching clause still free. Matching the seed only
    // (not members of members) keeps chains of half-similar clauses apart.
    let support = |i: usize| {
        matches[i]
            .iter()
            .map(|&(j, _)| said[j].original)
            .collect::<FxHashSet<_>>()
            .len()
    };
    let mut order: Vec<usize> = (0..said.len()).collect();
    let supports: Vec<usize> = order.iter().map(|&i| support(i)).collect();
    // Summed once each, not per comparison: a clause of many sources has many matches.
    let weight_sums: Vec<f32> = (0..said.len())
        .map(|i| matches[i].iter().map(|m| m.1).sum::<f32>())
        .collect();
    order.sort_by(|&a, &b| {
        supports[b]
            .cmp(&supports[a])
            .then(weight_sums[b].total_cmp(&weight_sums[a]))
            .then(a.cmp(&b))
    });
    let mut used = vec![false; said.len()];
    let mut agreed: Vec<(usize, Statement, Vec<Difference>)> = Vec::new();
    let mut singles: Vec<(usize, usize)> = Vec::new();
    for &seed in &order {
        if used[seed] {
            continue;
        }
        used[seed] = true;
        let mut members = vec![seed];
        let mut best: FxHashMap<usize, (usize, f32)> = FxHashMap::default();
        for &(j, d) in &matches[seed] {
            if used[j] {
                continue;
            }
            let e = best.entry(said[j].original).or_insert((j, d));
            if d > e.1 {
                *e = (j, d);
            }
        }
        for (_, (j, _)) in best {
            used[j] = true;
            members.push(j);
        }
        if members.len() == 1 {
            singles.push((seed, said[seed].clause.sentence));
            continue;
        }
        members.sort_by_key(|&m| said[m].source);
        let mut srcs: Vec<usize> = members.iter().map(|&m| said[m].original).collect();
        srcs.sort_unstable();
        srcs.dedup();
        let key = srcs.len();
        let st = statement(&said, seed, &members, sources);
        let versions: Vec<differ::Version<'_>> = members
            .iter()
            .zip(&st.quotes)
            .map(|(&m, q)| differ::Version {
                clause: said[m].text,
                article_text: said[m].full,
                published: said[m].published,
                quote: q.clone(),
            })
            .collect();
        let differences = differ::differences(&st.text, &versions, &stemmer);
        agreed.push((key, st, differences));
    }
    // Most sources first; ties in the order seeds were taken (most supported first).
    agreed.sort_by_key(|a| std::cmp::Reverse(a.0));
    let n_differ = agreed.iter().filter(|a| !a.2.is_empty()).count();
    let differ: Vec<Difference> = agreed
        .iter()
        .flat_map(|a| a.2.iter().cloned())
        .take(DIFFER_SHOWN)
        .collect();
    // Shown first: clauses that stand alone (not a lead-in "Amid the violence"), early in
    // their article.
    let leads = |i: usize| {
        let t = said[i].text;
        !t.chars().next().is_some_and(char::is_uppercase)
            || LEAD_IN.contains(
                &t.split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_lowercase()
                    .as_str(),
            )
    };
    singles.sort_by_key(|&(i, sentence)| (leads(i), sentence, said[i].source));
    EventStatements {
        event,
        n_agreed: agreed.len(),
        agreed: agreed
            .into_iter()
            .map(|(_, s, _)| s)
            .take(AGREED_SHOWN)
            .collect(),
        n_single_source: singles.len(),
        single_source: singles
            .iter()
            .take(SINGLE_SOURCE_SHOWN)
            .map(|&(i, _)| statement(&said, i, &[i], sources))
            .collect(),
        n_differ,
        differ,
    }
}

fn statement(
    said: &[Said<'_>],
    seed: usize,
    members: &[usize],
    sources: &[FactSource<'_>],
) -> Statement {
    let originals: Vec<usize> = members.iter().map(|&m| said[m].original).collect();
    let mut srcs = originals.clone();
    srcs.sort_unstable();
    srcs.dedup();
    let mut copies: Vec<usize> = sources
        .iter()
        .filter(|s| s.original != s.n && srcs.contains(&s.original))
        .map(|s| s.n)
        .collect();
    copies.sort_unstable();
    // Said best by a clause that stands alone (it opens with a capital, not "with stops
    // in …"), the seed first among those.
    let stands_alone = |m: usize| {
        said[m].text.chars().next().is_some_and(char::is_uppercase)
            && !LEAD_IN.contains(
                &said[m]
                    .text
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_lowercase()
                    .as_str(),
            )
    };
    let text_of = std::iter::once(seed)
        .chain(members.iter().copied())
        .find(|&m| stands_alone(m))
        .unwrap_or(seed);
    Statement {
        text: said[text_of].text.to_string(),
        sources: srcs,
        copies,
        quotes: members
            .iter()
            .map(|&m| Claim {
                text: said[m].text.to_string(),
                citations: vec![said[m].source],
                article: said[m].article.to_string(),
                span: said[m].clause.span,
            })
            .collect(),
    }
}
