//! Pure text functions of one article: boilerplate removal, sentence splitting, tokens.
//! Nothing here keeps state between articles (beyond a per-thread memo of stems, which
//! changes no result), so callers may run it in parallel freely.

mod boilerplate;
mod sentences;
mod tokens;

pub use boilerplate::{clean, clean_article, split_leading_web_address, Cleaned};
pub use sentences::split_sentences;
pub use tokens::{
    content_terms, content_terms_of, figures, fingerprint, fingerprint_of, for_each_content_term,
    for_each_keyed_word_term, for_each_word_term, is_content_word, is_stopword, text_key, words,
    years, Stemmer, WordList,
};
