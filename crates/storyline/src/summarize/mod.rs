//! Extractive summaries, headlines and timelines of a set of articles (a story).
//!
//! Pure functions: they take the articles with their sentences and return sentences of those
//! articles, each with citations to the articles that support it. Nothing is written or
//! invented: every output sentence is a span of an input article.
//!
//! All three share one [`SentenceSpace`]: TF-IDF vectors of every sentence, IDF taken over the
//! story's own sentences, and the story centroid. A sentence's *salience* is its cosine with
//! the centroid plus a bonus for leading sentences (news puts the essentials first).

mod concepts;
mod headline;
pub(crate) use headline::LEAD_IN;
mod space;
mod summary;
mod timeline;

pub use headline::{headline, headline_in, whole_clause, HEADLINE_CHARS};
pub use space::{SentenceSpace, SourceDoc};
pub use summary::{summarize, summarize_in, SummaryConfig};
pub use timeline::{timeline, timeline_in, Timeline, TimelineConfig, TimelineEntry};
