//! The pure, per-article stages, run in parallel: clean, split, tokenise, find entities,
//! sign.

use crate::cluster::{term_key, ArticleFeatures, TermCounter};
use crate::core::{Article, Entity, EntityKind, Sentence};
use crate::dedup::Signature;
use crate::error::IngestError;
use crate::extract::{canonical_entities, mentions, protagonist_words, Mention};
use crate::ingest::Record;
use crate::normalize::{self, Stemmer};

/// An article after the pure stages, or why it could not be analysed.
pub(super) type Analysis = std::result::Result<Analyzed, IngestError>;

/// One article after the pure stages.
pub(super) struct Analyzed {
    pub(super) record: Record,
    pub(super) sentences: Vec<Sentence>,
    pub(super) mentions: Vec<Mention>,
    pub(super) features: ArticleFeatures,
    pub(super) signature: Option<Signature>,
    pub(super) fingerprint: u64,
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

/// The day before publication that an article's lead names as when what it reports
/// happened ("on Saturday", "the April 18 shooting"), up to a year back. Follow-up reports
/// of an incident come out days or weeks later and name its day; that day, not the
/// report's, is what they share with the first reports.
fn happened(article: &Article) -> Option<chrono::DateTime<chrono::Utc>> {
    let published = article.published?;
    let day = published.date_naive();
    let named = crate::extract::date_mentions(lead(&article.text), Some(day))
        .into_iter()
        .filter(|m| m.granularity == crate::extract::Granularity::Day)
        .map(|m| m.date)
        .find(|d| *d <= day && (day - *d).num_days() <= HAPPENED_MAX_DAYS);
    named
        .filter(|d| *d < day)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .map(|t| t.and_utc())
}

/// How far back a named day may lie and still be taken for when the reported thing happened.
const HAPPENED_MAX_DAYS: i64 = 365;

/// Title and lead of an article, as the embedder sees it.
pub(super) fn embed_text(a: &Article) -> String {
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
    let article: &Article = &record.article;
    let sentences = normalize::split_sentences(&article.text);
    let found = mentions(&article.text, &sentences);
    // One tokenisation serves the terms, the signature and the fingerprint.
    let list = normalize::WordList::of(&article.text);
    let words: Vec<&str> = list.words();
    let mut terms = TermCounter::default();
    normalize::for_each_content_term(&words, stemmer, |t| terms.add(t));
    if let Some(title) = &article.title {
        if !article.text.starts_with(title.as_str()) {
            normalize::for_each_content_term(normalize::words(title), stemmer, |t| terms.add(t));
        }
    }
    let named: Vec<Entity> = canonical_entities(found.iter().map(|m| (article.id.as_str(), m)))
        .into_iter()
        .filter(|e| e.kind != EntityKind::Other)
        .collect();
    let entities: Vec<String> = named.iter().map(|e| e.name.to_lowercase()).collect();
    let mut name_keys: Vec<u64> = Vec::new();
    let name_words = named
        .iter()
        .flat_map(protagonist_words)
        .flat_map(normalize::words);
    normalize::for_each_content_term(name_words, stemmer, |t| name_keys.push(term_key(t)));
    name_keys.sort_unstable();
    name_keys.dedup();
    let signature = Signature::from_words(&words);
    let fingerprint = normalize::fingerprint_of(&words);
    let features = ArticleFeatures {
        terms: terms.finish(),
        entities,
        time: article.published,
        happened: happened(article),
        years: normalize::years(lead(&article.text)),
        name_keys,
        ..ArticleFeatures::default()
    };
    Ok(Analyzed {
        sentences,
        mentions: found,
        features,
        signature,
        fingerprint,
        record,
    })
}
