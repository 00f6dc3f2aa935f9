//! Pure extraction from one article's text: named entities (with spans) and, across a set of
//! articles, their canonical names. No I/O and no state between calls.

mod dates;
mod entities;
mod gazetteer;

pub use dates::{date_mentions, mentioned_days, DateMention, Granularity};
pub use entities::{canonical_entities, mentions, Mention};
