//! Pure text functions of one article: boilerplate removal, sentence splitting, tokens.
//! Nothing here keeps state between articles, so callers may run it in parallel freely.

mod boilerplate;
mod sentences;
mod tokens;

pub use boilerplate::clean;
pub use sentences::split_sentences;
pub use tokens::{content_terms, fingerprint, is_stopword, words, years, Stemmer};
