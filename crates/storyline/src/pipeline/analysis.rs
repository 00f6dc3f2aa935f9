//! The pure, per-article stages, run in parallel: clean, split, tokenise, find entities,
//! sign.

use crate::cluster::{term_key, ArticleFeatures, TermCounter};
use crate::core::{Article, Entity, EntityKind, Sentence};
use crate::dedup::Signature;
use crate::error::IngestError;
use crate::extract::{canonical_entities, mentions, protagonist_words, Mention};
use crate::ingest::{language, Record};
use crate::normalize::{self, Stemmer, WordList};
use crate::statements::WordTerms;
use crate::store::encode_numbered_clauses;

/// An article after the pure stages, or why it could not be analysed.
pub(super) type Analysis = std::result::Result<Analyzed, IngestError>;

/// One article after the pure stages. Serialised when a worker's analysis is queued for the
/// clusterer (`worker.rs`).
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct Analyzed {
    pub(super) record: Record,
    pub(super) sentences: Vec<Sentence>,
    pub(super) mentions: Vec<Mention>,
    pub(super) features: ArticleFeatures,
    pub(super) signature: Option<Signature>,
    pub(super) fingerprint: u64,
    /// Its clauses for the statements of a report, encoded for the store
    /// (`store::encode_numbered_clauses`): made here, in parallel, so that neither the writer nor a
    /// report pays for them. `None` in a queued result of a build before them: a report
    /// then makes them from the text.
    #[serde(default)]
    pub(super) clauses: Option<Vec<u8>>,
}

/// Characters of an article given to the embedder: the model reads at most 256 tokens,
/// so tokenising more is wasted work.
pub(super) const EMBED_CHARS: usize = 1500;

/// Characters of the lead searched for years: a dateline or "on 21 July 2013" there dates
/// the event, while years further down are mostly background ("since 2005").
pub(super) const YEAR_LEAD_CHARS: usize = 400;

pub(super) fn lead(text: &str) -> &str {
    let end = text
        .char_indices()
        .nth(YEAR_LEAD_CHARS)
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

/// The day before publication that an article's `lead` names as when what it reports
/// happened ("on Saturday", "the April 18 shooting"), up to a year back. Follow-up reports
/// of an incident come out days or weeks later and name its day; that day, not the
/// report's, is what they share with the first reports. The earliest day named: a
/// follow-up's lead names its own news first ("reports released Monday detail how…") and
/// the incident after it ("on the morning of July 14"). A day a span of time runs from
/// ("since the escalation on October 7") is background, not what is reported.
fn happened(article: &Article, lead: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let published = article.published?;
    let day = published.date_naive();
    crate::extract::date_mentions(lead, Some(day))
        .into_iter()
        .filter(|m| m.granularity == crate::extract::Granularity::Day)
        .filter(|m| !starts_a_span(lead.get(..m.span.start).unwrap_or("")))
        .map(|m| m.date)
        .filter(|d| *d < day && (day - *d).num_days() <= HAPPENED_MAX_DAYS)
        .min()
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc())
}

/// Whether the clause a day is named in, up to the day (`before`), opens a span of time
/// with "since": "since the conflict's escalation on October 7".
fn starts_a_span(before: &str) -> bool {
    let clause = before
        .rfind(['.', ',', ';', ':', '!', '?', '\n'])
        .map_or(before, |i| &before[i + 1..]);
    clause
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w.eq_ignore_ascii_case("since"))
}

/// How far back a named day may lie and still be taken for when the reported thing happened.
const HAPPENED_MAX_DAYS: i64 = 365;

/// Words of a text's opening in which runs are read for the acronyms they spell: where a
/// report names what a headline abbreviates.
const ACRONYM_LEAD_WORDS: usize = 60;
const ACRONYM_MIN_LETTERS: usize = 3;

/// Calls `f` with the content term of the acronym each run of two to four consecutive
/// content words of `text`'s opening spells ("Grand Theft Auto": "gta"), for runs of three
/// letters or more; `words` is the word list of `text`. Where the opening has capitals,
/// only capitalised words (names) make runs, since acronyms abbreviate names; in one
/// without any (a lower-cased feed), every content word does.
pub(super) fn for_each_acronym(
    words: &WordList,
    text: &str,
    stemmer: &Stemmer,
    mut f: impl FnMut(&str),
) {
    // (first character as written, the word) of the opening words.
    let opening: Vec<(char, &str)> = words
        .runs()
        .iter()
        .zip(words.iter())
        .take(ACRONYM_LEAD_WORDS)
        .filter_map(|(run, word)| Some((text.get(run.clone())?.chars().next()?, word)))
        .collect();
    let cased = opening.iter().any(|(c, _)| c.is_uppercase());
    let initial = |&(first, word): &(char, &str)| -> Option<char> {
        let c = word.chars().next()?;
        (c.is_alphabetic() && (!cased || first.is_uppercase()) && normalize::is_content_word(word))
            .then_some(c)
    };
    let initials: Vec<Option<char>> = opening.iter().map(initial).collect();
    // Every run's letters in one buffer, stemmed in one pass.
    let mut letters = String::new();
    let mut spelled: Vec<std::ops::Range<usize>> = Vec::new();
    for start in 0..initials.len() {
        let from = letters.len();
        for (n, c) in initials[start..]
            .iter()
            .take(4)
            .map_while(|c| *c)
            .enumerate()
        {
            letters.push(c);
            if n + 1 >= ACRONYM_MIN_LETTERS {
                spelled.push(from..letters.len());
            }
        }
    }
    let spelled = spelled.into_iter().map(|r| &letters[r]);
    normalize::for_each_word_term(spelled, stemmer, |_, t| f(t));
}

/// Title and lead of an article, as the embedder sees it (`bench embed` gives the same
/// text to the model it is compared with).
pub fn embed_text(a: &Article) -> String {
    let mut out = String::new();
    if let Some(t) = &a.title {
        if !a.text.starts_with(t.as_str()) {
            out.push_str(t);
            out.push('\n');
        }
    }
    let end = a
        .text
        .char_indices()
        .nth(EMBED_CHARS)
        .map_or(a.text.len(), |(i, _)| i);
    out.push_str(&a.text[..end]);
    out
}

/// The pure, per-article stages: clean (an opening web address becomes the url), split,
/// tokenise, find entities, sign.
pub(super) fn analyze(
    mut record: Record,
    stemmer: &Stemmer,
) -> std::result::Result<Analyzed, IngestError> {
    match normalize::clean_article(&mut record.article) {
        normalize::Cleaned::Clean => {}
        normalize::Cleaned::DebrisOnly => record.warnings.push(format!(
            "{}: article {:?} looks like page debris only; kept as it is",
            record.origin, record.article.id
        )),
        normalize::Cleaned::Empty => {
            return Err(IngestError {
                location: record.origin.clone(),
                message: format!("article {:?} has no text", record.article.id),
            })
        }
    }
    // The language the input gave, else the text's own when the detector is sure.
    if record.article.lang.is_none() {
        record.article.lang = language::detect(&record.article.text);
    }
    // A text not in English has its terms and names counted under its language: it then
    // shares none with an English one, so no English event or story ever lists it as a
    // candidate (candidates are found by shared terms and names), and English texts are
    // counted exactly as before. Texts of the same language still cluster together.
    let apart = language::apart_tag(record.article.lang.as_deref());
    let keep_apart = |t: &str| apart.as_ref().map(|tag| format!("{tag}:{t}"));
    let article: &Article = &record.article;
    let sentences = normalize::split_sentences(&article.text);
    let found = mentions(&article.text, &sentences);
    // One tokenisation serves the terms, the signature and the fingerprint.
    let list = normalize::WordList::of(&article.text);
    let words: Vec<&str> = list.words();
    // Each word's term is kept for the clauses, which take theirs from here, and counted
    // there too: the article's term counts are read off its numbered terms.
    let mut word_terms = WordTerms::with_capacity(words.len());
    normalize::for_each_keyed_word_term(&words, stemmer, |i, t, key| {
        word_terms.set(i, t, key);
    });
    let mut word_terms = word_terms.finish(words.len());
    // A text kept apart counts its terms under its tag, so by other keys than its words'.
    let mut terms = if apart.is_some() || word_terms.collided() {
        let mut counter = TermCounter::default();
        for (_, t, n) in word_terms.counted() {
            let apart = keep_apart(t);
            for _ in 0..n as usize {
                counter.add(apart.as_deref().unwrap_or(t));
            }
        }
        counter
    } else {
        TermCounter::of_counted(word_terms.counted())
    };
    let mut add = |t: &str| match keep_apart(t) {
        Some(apart) => terms.add(&apart),
        None => terms.add(t),
    };
    // A title apart from the text (not its first line) is split once, for its terms and
    // its acronyms.
    let title = article
        .title
        .as_deref()
        .filter(|t| !article.text.starts_with(t))
        .map(|t| (t, WordList::of(t)));
    if let Some((_, title_words)) = &title {
        normalize::for_each_content_term(title_words.iter(), stemmer, &mut add);
    }
    // The key of a term, kept apart as the terms are.
    let key_of = |t: &str| term_key(keep_apart(t).as_deref().unwrap_or(t));
    let named: Vec<Entity> = canonical_entities(found.iter().map(|m| (article.id.as_str(), m)))
        .into_iter()
        .filter(|e| e.kind != EntityKind::Other)
        .collect();
    let entities: Vec<String> = named
        .iter()
        .map(|e| {
            let name = e.name.to_lowercase();
            keep_apart(&name).unwrap_or(name)
        })
        .collect();
    let mut name_keys: Vec<u64> = Vec::new();
    let name_words = named
        .iter()
        .flat_map(protagonist_words)
        .flat_map(normalize::words);
    normalize::for_each_content_term(name_words, stemmer, |t| name_keys.push(key_of(t)));
    name_keys.sort_unstable();
    name_keys.dedup();
    let mut acronyms: Vec<u64> = Vec::new();
    let mut add_acronym = |t: &str| acronyms.push(key_of(t));
    if let Some((title, title_words)) = &title {
        for_each_acronym(title_words, title, stemmer, &mut add_acronym);
    }
    for_each_acronym(&list, &article.text, stemmer, &mut add_acronym);
    acronyms.sort_unstable();
    acronyms.dedup();
    // Near-copies are found by shingles of words: kept apart the same way, so a text in
    // another language is never taken for a copy of an English one (nor the reverse).
    let signature = match &apart {
        Some(_) => Signature::from_words(
            &words
                .iter()
                .filter_map(|w| keep_apart(w))
                .collect::<Vec<_>>(),
        ),
        None => Signature::from_words(&words),
    };
    let fingerprint = normalize::fingerprint_of(&words);
    // With the pipeline's stemmer (English, whatever the language), as a report made them.
    let clauses = encode_numbered_clauses(
        &crate::statements::numbered_clauses(
            &article.text,
            &sentences,
            &list,
            &mut word_terms,
            stemmer,
        ),
        &word_terms,
    );
    // Found once: finding where the lead ends counts its characters.
    let lead_text = lead(&article.text);
    let particulars = crate::cluster::particulars(&entities, &normalize::figures(&article.text));
    let features = ArticleFeatures {
        terms: terms.finish(),
        entities,
        time: article.published,
        happened: happened(article, lead_text),
        years: normalize::years(lead_text),
        series: crate::extract::series_numbers(lead_text),
        particulars,
        name_keys,
        acronyms,
        ..ArticleFeatures::default()
    };
    Ok(Analyzed {
        sentences,
        mentions: found,
        features,
        signature,
        fingerprint,
        clauses: Some(clauses),
        record,
    })
}
