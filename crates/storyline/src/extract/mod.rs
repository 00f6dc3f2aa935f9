//! Pure extraction from one article's text: named entities (with spans) and, across a set of
//! articles, their canonical names. No I/O and no state between calls.

mod entities;
mod gazetteer;

pub use entities::{canonical_entities, mentions, Mention};
