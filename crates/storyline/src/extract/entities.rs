//! Named entities by capitalisation, title words and small gazetteers.
//!
//! A run of capitalised words ("Secretary of State Antony Blinken") is one candidate. Leading
//! title words make it a person and are dropped from the name; a last word like "Council" makes
//! it an organisation; the gazetteer and words like "Strip" make it a place. Across articles,
//! [`canonical_entities`] folds variants under one name: a surname into the full name, an
//! acronym into the words it abbreviates, "U.S." into "United States".

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rustc_hash::{FxHashMap, FxHashSet};

use super::gazetteer::{
    ALIASES, DEMONYMS, FACILITY_NOUNS, KNOWN_ORGS, NOT_NAMES, NOT_NAMES_ALONE, ORG_SUFFIXES,
    PERSON_TITLES, PLACES, PLACE_PREFIXES, PLACE_SUFFIXES, VENUE_SUFFIXES,
};
use crate::core::{Entity, EntityKind, Sentence, Span};

/// One mention of a name in an article.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Mention {
    /// The name as written, without titles or possessive.
    pub name: String,
    pub kind: EntityKind,
    pub span: Span,
    /// A lone capitalised word at the start of a sentence may be an ordinary word.
    pub sentence_initial: bool,
    /// How the text describes the entity right there: a title before the name ("Secretary
    /// of State") or an apposition after it ("the top US diplomat").
    pub role: Option<String>,
}

struct Token<'a> {
    word: &'a str,
    start: usize,
    /// Punctuation after the word (comma, colon…) ends a name.
    breaks_after: bool,
}

/// Prepositions that put a following unknown name in a place.
const PLACE_PREPOSITIONS: &[&str] = &[
    "in",
    "near",
    "outside",
    "across",
    "throughout",
    "towards",
    "toward",
];

const CONNECTORS: &[&str] = &[
    "of", "de", "del", "da", "bin", "ibn", "al", "van", "von", "der", "la", "le",
];

/// The word lists as sets: `classify` asks several lists for every candidate name, and
/// scanning the slices (hundreds of names) was a fifth of entity finding.
type WordSet = LazyLock<FxHashSet<&'static str>>;

fn set(words: &[&'static str]) -> FxHashSet<&'static str> {
    words.iter().copied().collect()
}

// Month names are not names either; their one table is `calendar`'s.
static NOT_NAME: WordSet = LazyLock::new(|| {
    let mut words = set(NOT_NAMES);
    words.extend(crate::calendar::MONTH_NAMES);
    words
});
static CONNECTOR: WordSet = LazyLock::new(|| set(CONNECTORS));
static ORG_SUFFIX: WordSet = LazyLock::new(|| set(ORG_SUFFIXES));
static KNOWN_ORG: WordSet = LazyLock::new(|| set(KNOWN_ORGS));
static PERSON_TITLE: WordSet = LazyLock::new(|| set(PERSON_TITLES));
static PLACE: WordSet = LazyLock::new(|| set(PLACES));
static PLACE_SUFFIX: WordSet = LazyLock::new(|| set(PLACE_SUFFIXES));
static DEMONYM: WordSet = LazyLock::new(|| set(DEMONYMS));
static PLACE_PREFIX: WordSet = LazyLock::new(|| set(PLACE_PREFIXES));
static VENUE_SUFFIX: WordSet = LazyLock::new(|| set(VENUE_SUFFIXES));
static FACILITY_NOUN: WordSet = LazyLock::new(|| set(FACILITY_NOUNS));
static NOT_NAME_ALONE: WordSet = LazyLock::new(|| set(NOT_NAMES_ALONE));

/// Words a page's dateline or time stamp leaves after a name ("Perris Saturday", "4 PM
/// EDT"): never the end of one. Month names are not here: "Theresa May", "April".
const TRAILING_TIME_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "am",
    "pm",
    "edt",
    "est",
    "cdt",
    "cst",
    "mdt",
    "mst",
    "pdt",
    "pst",
    "gmt",
    "utc",
];

/// A title or a word that heads organisation or place names ("Center", "Ave"), in any case.
pub(super) fn is_generic_name_word(word: &str) -> bool {
    let w = word.to_lowercase();
    [&PERSON_TITLE, &ORG_SUFFIX, &PLACE_SUFFIX]
        .iter()
        .any(|set| set.contains(w.as_str()))
}

/// [`ALIASES`] by alias; the first entry of an alias wins, as a scan of the list would.
static ALIAS: LazyLock<FxHashMap<&'static str, &'static str>> = LazyLock::new(|| {
    let mut map = FxHashMap::default();
    for &(a, canonical) in ALIASES {
        map.entry(a).or_insert(canonical);
    }
    map
});

/// Mentions of named entities in `text`, found sentence by sentence.
pub fn mentions(text: &str, sentences: &[Sentence]) -> Vec<Mention> {
    let mut out = Vec::new();
    // One buffer for every sentence's tokens: growing a new one per sentence was a fifth
    // of this function.
    let mut tokens: Vec<Token<'_>> = Vec::new();
    for sentence in sentences {
        tokenize(text, sentence.span, &mut tokens);
        let mut i = 0;
        while i < tokens.len() {
            if !is_capitalised(tokens[i].word) {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while j < tokens.len() && !tokens[j - 1].breaks_after {
                let w = tokens[j].word;
                // A capitalised word goes on without the set lookup a connector needs.
                let connector = || {
                    j + 1 < tokens.len()
                        && !tokens[j].breaks_after
                        && is_capitalised(tokens[j + 1].word)
                        && CONNECTOR.contains(w)
                };
                if is_capitalised(w) || connector() {
                    j += 1;
                } else {
                    break;
                }
            }
            let before = i.checked_sub(1).map(|b| tokens[b].word);
            let after = tokens
                .get(j)
                .filter(|_| !tokens[j - 1].breaks_after)
                .map(|t| t.word);
            let context = Context {
                sentence_initial: i == 0,
                before,
                after,
            };
            let (name, place_after_of) = classify(text, &tokens[i..j], context);
            if let Some(mut m) = name {
                if matches!(m.kind, EntityKind::Person | EntityKind::Other) && m.role.is_none() {
                    m.role = apposition(text, m.span.end, sentence.span.end);
                }
                out.push(m);
            }
            out.extend(place_after_of);
            i = j;
        }
    }
    out
}

/// Words an apposition may have: "Antony Blinken, the top US diplomat, said…".
const MAX_APPOSITION_WORDS: usize = 8;

/// The role phrase right after a name, when the text sets it off with commas:
/// ", the top US diplomat," (a name that follows is an apposition of another kind: a list).
fn apposition(text: &str, after: usize, sentence_end: usize) -> Option<String> {
    let rest = text.get(after..sentence_end)?;
    let rest = rest.strip_prefix(", ")?;
    if !(rest.starts_with("the ") || rest.starts_with("a ") || rest.starts_with("an ")) {
        return None;
    }
    let end = rest.find([',', ';', '.', '(', ')']).unwrap_or(rest.len());
    let phrase = rest[..end].trim();
    let words: Vec<&str> = phrase.split_whitespace().collect();
    // A role is mostly lower-case words ("the top US diplomat"), not another name.
    let capitalised = words
        .iter()
        .skip(1)
        .filter(|w| w.starts_with(char::is_uppercase))
        .count();
    if words.len() < 2 || words.len() > MAX_APPOSITION_WORDS || capitalised * 2 > words.len() {
        return None;
    }
    Some(phrase.to_string())
}

/// The tokens of `span` of `text`, in `out` (emptied first).
fn tokenize<'a>(text: &'a str, span: Span, out: &mut Vec<Token<'a>>) {
    let s = span.slice(text);
    out.clear();
    let mut offset = span.start;
    for raw in s.split(' ') {
        let start_in_raw = raw.len() - raw.trim_start_matches(is_open_punct).len();
        let core = raw.trim_start_matches(is_open_punct);
        let no_close = core.trim_end_matches(|c| is_close_punct(c) && c != '.');
        let mut breaks_after = no_close.len() < core.len();
        let mut word = no_close;
        for suffix in ["'s", "’s", "'", "’"] {
            if let Some(w) = word.strip_suffix(suffix) {
                word = w;
                break;
            }
        }
        if let Some(stem) = word.strip_suffix('.') {
            // "D." (an initial), "U.S." and "Jr." keep their period and continue a name;
            // any other word with a period ends the sentence or phrase.
            let initial = stem.chars().count() == 1 && stem.chars().all(char::is_uppercase);
            let dotted = stem.contains('.');
            let abbrev = matches!(
                stem,
                "Jr" | "Sr" | "Mr" | "Mrs" | "Ms" | "Dr" | "St" | "Gen" | "Sen" | "Rep" | "Gov"
            );
            if !(initial || dotted || abbrev) {
                word = stem;
                breaks_after = true;
            }
        }
        if word.is_empty() || !word.chars().any(char::is_alphanumeric) {
            // A detached comma or dash (tokenised text: "Argentina , Australia") ends a name.
            if raw
                .chars()
                .any(|c| c != '-' && c != '&' && !c.is_alphanumeric())
            {
                if let Some(prev) = out.last_mut() {
                    prev.breaks_after = true;
                }
            }
        } else {
            out.push(Token {
                word,
                start: offset + start_in_raw,
                breaks_after,
            });
        }
        offset += raw.len() + 1;
    }
}

fn is_open_punct(c: char) -> bool {
    matches!(c, '"' | '\'' | '(' | '[' | '“' | '‘' | '`')
}

fn is_close_punct(c: char) -> bool {
    matches!(
        c,
        '"' | ')' | ']' | '”' | ',' | ';' | ':' | '!' | '?' | '.' | '`'
    ) || (c == '\'' || c == '’')
}

fn is_capitalised(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) if c.is_uppercase() => true,
        // "al-Hadath", "el-Sisi"
        Some('a' | 'e') => {
            (word.starts_with("al-") || word.starts_with("el-"))
                && word[3..].starts_with(char::is_uppercase)
        }
        _ => false,
    }
}

/// The mention a run of capitalised words makes, and the place it names after "of" when
/// the run is "Name of Place" ("Raymond Williams of Indianapolis"): both are mentioned.
fn classify(
    text: &str,
    run: &[Token<'_>],
    context: Context<'_>,
) -> (Option<Mention>, Option<Mention>) {
    let mut place_after_of = None;
    let name = classify_run(text, run, context, &mut place_after_of);
    (name, place_after_of)
}

/// Where a run of capitalised words stands in its sentence.
#[derive(Clone, Copy)]
struct Context<'a> {
    sentence_initial: bool,
    /// The word before the run.
    before: Option<&'a str>,
    /// The word right after the run, unless punctuation parts them.
    after: Option<&'a str>,
}

fn classify_run(
    text: &str,
    run: &[Token<'_>],
    context: Context<'_>,
    place_after_of: &mut Option<Mention>,
) -> Option<Mention> {
    let Context {
        sentence_initial,
        before,
        after,
    } = context;
    // Each word lower-cased once, `low` kept beside `run` as it is cut: the rules below ask
    // for most words' lower case several times, and this runs for every capitalised run of
    // every article at ingest.
    let lowered: Vec<String> = run.iter().map(|t| t.word.to_lowercase()).collect();
    let mut low: &[String] = &lowered;
    // Drop leading words that are not names ("The", "Despite").
    let mut run = run;
    let mut at_start = sentence_initial;
    while let Some(first) = run.first() {
        let acronym =
            first.word.len() > 1 && first.word.chars().all(|c| c.is_uppercase() || c == '.');
        if (NOT_NAME.contains(low[0].as_str()) && !acronym) || CONNECTOR.contains(first.word) {
            run = &run[1..];
            low = &low[1..];
            at_start = false;
        } else {
            break;
        }
    }
    while run.last().is_some_and(|t| {
        CONNECTOR.contains(t.word) || TRAILING_TIME_WORDS.contains(&low[run.len() - 1].as_str())
    }) {
        run = &run[..run.len() - 1];
        low = &low[..run.len()];
    }
    if let [only] = low {
        if NOT_NAME_ALONE.contains(only.as_str()) {
            return None;
        }
    }
    let mention = |run: &[Token<'_>], kind, initial: bool| {
        let (first, last) = (run.first()?, run.last()?);
        let span = Span {
            start: first.start,
            end: last.start + last.word.len(),
        };
        Some(Mention {
            name: span.slice(text).to_string(),
            kind,
            span,
            sentence_initial: initial && run.len() == 1,
            role: None,
        })
    };
    // "Department of Justice", "University of Chicago": the head before "of" decides.
    if let Some(of) = run.iter().position(|t| t.word == "of").filter(|&of| of > 0) {
        if ORG_SUFFIX.contains(low[of - 1].as_str()) {
            return mention(run, EntityKind::Organization, at_start);
        }
        // "Shinzo Abe of Japan", "President Putin of Russia": the name is before "of".
        let after = low[of + 1..].join(" ");
        if is_place(&after) {
            *place_after_of = mention(&run[of + 1..], EntityKind::Place, false);
            run = &run[..of];
            low = &low[..of];
        }
    }
    let last = run.last()?;
    let full_lower = low.join(" ");
    let last_lower = &low[run.len() - 1];
    if ORG_SUFFIX.contains(last_lower.as_str()) || KNOWN_ORG.contains(full_lower.as_str()) {
        return mention(run, EntityKind::Organization, at_start);
    }
    // Leading titles: "Secretary of State Antony Blinken", "Prime Minister Netanyahu".
    let mut k = 0;
    while k < run.len() {
        let w = low[k].trim_end_matches('.');
        if PERSON_TITLE.contains(w) || (k > 0 && CONNECTOR.contains(run[k].word)) {
            k += 1;
        } else {
            break;
        }
    }
    if k > 0 && k < run.len() {
        let rest = &run[k..];
        let rest_lower = low[k..].join(" ");
        if !is_place(&rest_lower) {
            let role = Span {
                start: run[0].start,
                end: run[k - 1].start + run[k - 1].word.len(),
            };
            return mention(rest, EntityKind::Person, false).map(|m| Mention {
                role: Some(role.slice(text).to_string()),
                ..m
            });
        }
        return mention(rest, EntityKind::Place, at_start);
    }
    // A title after a modifier: "Judiciary Chairman Bob Goodlatte", "London Mayor Sadiq
    // Khan". The name is the one to three words after the last title.
    if k == 0 && !KNOWN_ORG.contains(full_lower.as_str()) {
        let is_title = |w: &String| PERSON_TITLE.contains(w.trim_end_matches('.'));
        if let Some(t) = low.iter().rposition(is_title).filter(|&t| t > 0) {
            let rest = &run[t + 1..];
            let rest_lower = low[t + 1..].join(" ");
            let plain = rest
                .iter()
                .all(|w| !CONNECTOR.contains(w.word) && w.word.chars().all(char::is_alphabetic));
            if (1..=3).contains(&rest.len()) && plain && !is_place(&rest_lower) {
                let role = Span {
                    start: run[0].start,
                    end: run[t].start + run[t].word.len(),
                };
                return mention(rest, EntityKind::Person, false).map(|m| Mention {
                    role: Some(role.slice(text).to_string()),
                    ..m
                });
            }
        }
    }
    if k == run.len() && !KNOWN_ORG.contains(full_lower.as_str()) {
        // Only titles ("Prime Minister"), or a title word alone ("Secretary").
        if !is_place(&full_lower) {
            return None;
        }
    }
    if is_place(&full_lower) || PLACE_SUFFIX.contains(last_lower.as_str()) && run.len() > 1 {
        return mention(run, EntityKind::Place, at_start);
    }
    if DEMONYM.contains(last_lower.as_str()) {
        // "Israeli", "North Korean": adjectives, not names.
        return None;
    }
    // "the Al Shifa hospital", "the Jabalia camp": a name before a lower-case word for a
    // place or a building names that place.
    if after.is_some_and(|a| FACILITY_NOUN.contains(a)) {
        return mention(run, EntityKind::Place, at_start);
    }
    if VENUE_SUFFIX.contains(last_lower.as_str()) && run.len() > 1 {
        return mention(run, EntityKind::Organization, at_start);
    }
    if (2..=3).contains(&run.len()) && PLACE_PREFIX.contains(low[0].as_str()) {
        return mention(run, EntityKind::Place, at_start);
    }
    // "in Newport Beach", "near Gaza City": a preposition of place before an unknown name.
    let place_cue = before.is_some_and(|b| PLACE_PREPOSITIONS.contains(&b));
    if run.len() == 1 {
        let w = last.word;
        let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
        if (2..=6).contains(&letters.len()) && letters.iter().all(|c| c.is_uppercase()) {
            return mention(run, EntityKind::Organization, at_start);
        }
        if place_cue && !at_start {
            return mention(run, EntityKind::Place, at_start);
        }
        return mention(run, EntityKind::Other, at_start);
    }
    if place_cue {
        return mention(run, EntityKind::Place, at_start);
    }
    let plain_words = run.iter().all(|t| {
        t.word
            .chars()
            .all(|c| c.is_alphabetic() || c == '-' || c == '.')
    });
    if run.len() <= 4 && plain_words && !DEMONYM.contains(low[0].as_str()) {
        return mention(run, EntityKind::Person, at_start);
    }
    mention(run, EntityKind::Other, at_start)
}

fn is_place(lower: &str) -> bool {
    // "N.Y." and "Fla." are listed without their last stop.
    let lower = lower.strip_suffix('.').unwrap_or(lower);
    let canon = alias(lower).map(str::to_lowercase);
    let key = canon.as_deref().unwrap_or(lower);
    PLACE.contains(key)
}

fn alias(lower: &str) -> Option<&'static str> {
    ALIAS.get(lower).copied()
}

/// Folds mentions from many articles into entities under canonical names.
/// `mentions` pairs each mention with the external id of its article.
pub fn canonical_entities<'a>(
    mentions: impl IntoIterator<Item = (&'a str, &'a Mention)>,
) -> Vec<Entity> {
    struct Group {
        name: String,
        kinds: BTreeMap<EntityKind, usize>,
        aliases: BTreeMap<String, usize>,
        articles: Vec<String>,
        mentions: usize,
        only_initial: bool,
    }
    let mut groups: FxHashMap<String, Group> = FxHashMap::default();
    for (article, m) in mentions {
        let lower = m.name.to_lowercase();
        let (name, key) = match alias(&lower) {
            Some(a) => (a.to_string(), a.to_lowercase()),
            // The name's key is the lower-cased name just made.
            None => (m.name.clone(), lower),
        };
        let g = groups.entry(key).or_insert_with(|| Group {
            name: name.clone(),
            kinds: BTreeMap::new(),
            aliases: BTreeMap::new(),
            articles: Vec::new(),
            mentions: 0,
            only_initial: true,
        });
        *g.kinds.entry(m.kind).or_default() += 1;
        match g.aliases.get_mut(&m.name) {
            Some(n) => *n += 1,
            None => {
                g.aliases.insert(m.name.clone(), 1);
            }
        }
        if let Some(role) = &m.role {
            // "Secretary of State Antony Blinken", "the top US diplomat"
            let alias = if role.starts_with(|c: char| c.is_lowercase()) {
                role.clone()
            } else {
                format!("{role} {}", m.name)
            };
            *g.aliases.entry(alias).or_default() += 1;
        }
        if g.articles.last().map(String::as_str) != Some(article)
            && !g.articles.iter().any(|a| a == article)
        {
            g.articles.push(article.to_string());
        }
        g.mentions += 1;
        g.only_initial &= m.sentence_initial;
    }
    let kind_of = |g: &Group| {
        g.kinds
            .iter()
            .filter(|(k, _)| **k != EntityKind::Other)
            .max_by_key(|(_, n)| **n)
            .map(|(k, _)| *k)
            .unwrap_or(EntityKind::Other)
    };
    // Fold a surname ("Blinken") into the one person whose name ends with it, and an
    // acronym ("CIA") into the one organisation whose initials it spells.
    // Each name's words, kind and initials, worked out once: comparing every pair of names
    // is quadratic, and allocating inside it made this a fifth of ingest time.
    struct Shape<'k> {
        key: &'k String,
        words: Vec<&'k str>,
        kind: EntityKind,
        initials: String,
    }
    let shapes: Vec<Shape<'_>> = groups
        .iter()
        .map(|(key, g)| {
            let words: Vec<&str> = key.split(' ').collect();
            let initials = words
                .iter()
                .filter(|w| !CONNECTOR.contains(*w))
                .filter_map(|w| w.chars().next())
                .collect();
            Shape {
                key,
                words,
                kind: kind_of(g),
                initials,
            }
        })
        .collect();
    // A name can fold only into one that ends with its last word or whose initials spell
    // it: look those up rather than compare every pair (an article names dozens).
    let mut by_last: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    let mut by_initials: FxHashMap<&str, Vec<usize>> = FxHashMap::default();
    for (i, shape) in shapes.iter().enumerate() {
        if let Some(last) = shape.words.last() {
            by_last.entry(last).or_default().push(i);
        }
        by_initials.entry(&shape.initials).or_default().push(i);
    }
    let mut target: FxHashMap<String, String> = FxHashMap::default();
    for short in &shapes {
        let one_word = short.words.len() == 1;
        let org_like = matches!(short.kind, EntityKind::Organization | EntityKind::Other);
        if !one_word && !org_like {
            continue; // can fold into nothing below
        }
        let bare: std::borrow::Cow<'_, str> = if short.key.contains('.') {
            short.key.replace('.', "").into()
        } else {
            short.key.as_str().into()
        };
        let same_last = short.words.last().and_then(|w| by_last.get(w));
        let spelled = by_initials.get(bare.as_ref()).filter(|_| one_word);
        // A name is listed under its last word and its initials both at most once.
        let in_same_last = |i: &usize| same_last.is_some_and(|l| l.contains(i));
        let mut candidates = same_last
            .into_iter()
            .flatten()
            .chain(spelled.into_iter().flatten().filter(|i| !in_same_last(i)))
            .map(|&i| &shapes[i])
            .filter(|long| {
                if long.words.len() <= short.words.len() {
                    return false;
                }
                let is_suffix = long.words.ends_with(&short.words);
                match long.kind {
                    // "Blinken" → "Antony Blinken"
                    EntityKind::Person => one_word && is_suffix,
                    // "Security Council" → "United Nations Security Council"; "CIA" → its words
                    EntityKind::Organization => {
                        (one_word && long.initials == bare) || (!one_word && is_suffix && org_like)
                    }
                    _ => false,
                }
            });
        if let (Some(only), None) = (candidates.next(), candidates.next()) {
            target.insert(short.key.clone(), only.key.clone());
        }
    }
    // Folds chain ("SC" → "Security Council" → "United Nations Security Council"): each
    // name goes straight to the end of its chain, so the order folds are applied in cannot
    // drop a group whose target has already folded away; and they are applied in name order
    // so that every run lists an entity's articles the same way.
    let mut folds: Vec<(&String, &String)> = target.iter().collect();
    folds.sort();
    let folds: Vec<(String, String)> = folds
        .into_iter()
        .map(|(from, to)| {
            let mut end = to;
            // At most one step a fold: a cycle cannot hold the loop.
            for _ in 0..target.len() {
                match target.get(end) {
                    Some(next) => end = next,
                    None => break,
                }
            }
            (from.clone(), end.clone())
        })
        .filter(|(from, to)| from != to)
        .collect();
    for (from, to) in folds {
        if let Some(g) = groups.remove(&from) {
            if let Some(t) = groups.get_mut(&to) {
                for (k, n) in g.kinds {
                    if k != EntityKind::Other {
                        *t.kinds.entry(k).or_default() += n;
                    }
                }
                for (a, n) in g.aliases {
                    *t.aliases.entry(a).or_default() += n;
                }
                for a in g.articles {
                    if !t.articles.contains(&a) {
                        t.articles.push(a);
                    }
                }
                t.mentions += g.mentions;
                t.only_initial = false;
            }
        }
    }
    let mut entities: Vec<Entity> = groups
        .into_values()
        .filter(|g| !(g.only_initial && kind_of(g) == EntityKind::Other))
        .map(|g| {
            let kind = kind_of(&g);
            let mut aliases: Vec<String> = g.aliases.into_keys().filter(|a| *a != g.name).collect();
            aliases.sort();
            Entity {
                name: g.name,
                kind,
                aliases,
                mentions: g.mentions,
                articles: g.articles,
            }
        })
        .collect();
    entities.sort_by(|a, b| {
        b.mentions
            .cmp(&a.mentions)
            .then_with(|| a.name.cmp(&b.name))
    });
    entities
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::split_sentences;

    fn found(text: &str) -> Vec<(String, EntityKind)> {
        let sentences = split_sentences(text);
        mentions(text, &sentences)
            .into_iter()
            .map(|m| (m.name, m.kind))
            .collect()
    }

    #[test]
    fn titles_make_people_and_suffixes_make_organisations() {
        let got = found(
            "US Secretary of State Antony Blinken met CIA director Bill Burns at the United \
             Nations Security Council in New York on Tuesday.",
        );
        assert!(
            got.contains(&("Antony Blinken".into(), EntityKind::Person)),
            "{got:?}"
        );
        assert!(
            got.contains(&("Bill Burns".into(), EntityKind::Person)),
            "{got:?}"
        );
        assert!(
            got.contains(&("CIA".into(), EntityKind::Organization)),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                "United Nations Security Council".into(),
                EntityKind::Organization
            )),
            "{got:?}"
        );
        assert!(
            got.contains(&("New York".into(), EntityKind::Place)),
            "{got:?}"
        );
        assert!(!got.iter().any(|(n, _)| n == "Tuesday"), "{got:?}");
    }

    #[test]
    fn streets_towns_venues_and_facilities_are_not_people() {
        let got = found(
            "Police said the man was shot on Redbud Berry Way in West Haven. He was taken to \
             the Al Shifa hospital, then to the Key Club Cabaret. The Red Cross came.",
        );
        for (name, kind) in [
            ("Redbud Berry Way", EntityKind::Place),
            ("West Haven", EntityKind::Place),
            ("Al Shifa", EntityKind::Place),
            ("Key Club Cabaret", EntityKind::Organization),
            ("Red Cross", EntityKind::Organization),
        ] {
            assert!(got.contains(&(name.into(), kind)), "{name}: {got:?}");
        }
        // A common noun at the start of a sentence is no name.
        assert!(!got.iter().any(|(n, _)| n == "Police"), "{got:?}");
    }

    #[test]
    fn a_title_after_a_modifier_and_a_place_after_of_are_found() {
        let got =
            found("Judiciary Chairman Bob Goodlatte met Jane Smith of Texas in Perris Saturday.");
        for (name, kind) in [
            ("Bob Goodlatte", EntityKind::Person),
            ("Jane Smith", EntityKind::Person),
            ("Texas", EntityKind::Place),
            ("Perris", EntityKind::Place),
        ] {
            assert!(got.contains(&(name.into(), kind)), "{name}: {got:?}");
        }
        let goodlatte = mentions(
            "Judiciary Chairman Bob Goodlatte spoke.",
            &split_sentences("Judiciary Chairman Bob Goodlatte spoke."),
        );
        assert_eq!(goodlatte[0].role.as_deref(), Some("Judiciary Chairman"));
    }

    #[test]
    fn titles_and_appositions_become_aliases() {
        let text = "Secretary of State Antony Blinken landed. Antony Blinken, the top US \
                    diplomat, met officials. Blinken, the envoy, left.";
        let ms = mentions(text, &split_sentences(text));
        let entities = canonical_entities(ms.iter().map(|m| ("a", m)));
        let blinken = entities
            .iter()
            .find(|e| e.name == "Antony Blinken")
            .expect("person");
        assert_eq!(
            blinken.aliases,
            vec![
                "Blinken",
                "Secretary of State Antony Blinken",
                "the envoy",
                "the top US diplomat"
            ],
            "{entities:?}"
        );
    }

    #[test]
    fn variants_fold_under_one_canonical_name() {
        let text = "Antony Blinken arrived in the U.S. capital. Blinken's aides said the \
                    United States would act. Later Blinken spoke to the World Health \
                    Organization and the WHO replied.";
        let sentences = split_sentences(text);
        let ms = mentions(text, &sentences);
        let entities = canonical_entities(ms.iter().map(|m| ("a1", m)));
        let names: Vec<&str> = entities.iter().map(|e| e.name.as_str()).collect();
        let blinken = entities
            .iter()
            .find(|e| e.name == "Antony Blinken")
            .expect("person");
        assert_eq!(blinken.mentions, 3, "{entities:?}");
        assert_eq!(blinken.aliases, vec!["Blinken".to_string()]);
        let us = entities
            .iter()
            .find(|e| e.name == "United States")
            .expect("place");
        assert_eq!((us.kind, us.mentions), (EntityKind::Place, 2));
        assert!(
            !names.contains(&"Blinken") && !names.contains(&"U.S"),
            "{names:?}"
        );
        let who = entities
            .iter()
            .find(|e| e.name == "World Health Organization")
            .unwrap();
        assert_eq!(who.mentions, 2, "{entities:?}");
    }

    #[test]
    fn chained_folds_lose_nothing_whatever_the_map_order() {
        let text = "The United Nations Security Council met on Monday. The Security Council \
                    voted. The SC adjourned.";
        let ms = mentions(text, &split_sentences(text));
        // Each call's maps are seeded anew, so the folds come in varying orders.
        for _ in 0..20 {
            let entities = canonical_entities(ms.iter().map(|m| ("a", m)));
            let council = entities
                .iter()
                .find(|e| e.name == "United Nations Security Council")
                .expect("organisation");
            assert_eq!(council.mentions, 3, "{entities:?}");
            assert_eq!(council.aliases, vec!["SC", "Security Council"]);
        }
    }
}
