//! Pure extraction from one article's text: named entities (with spans) and, across a set of
//! articles, their canonical names. No I/O and no state between calls.

mod dates;
mod entities;
mod facts;
mod gazetteer;

pub use dates::{date_mentions, mentioned_days, DateMention, Granularity};
pub use entities::{canonical_entities, mentions, Mention};
pub use facts::{facts, Fact, FactKind, Precision};

use crate::core::{Entity, EntityKind};

/// The people, organisations and places of one cleaned text, under canonical names.
pub fn article_entities(id: &str, text: &str) -> Vec<Entity> {
    let sentences = crate::normalize::split_sentences(text);
    let found = mentions(text, &sentences);
    canonical_entities(found.iter().map(|m| (id, m)))
        .into_iter()
        .filter(|e| e.kind != EntityKind::Other)
        .collect()
}
