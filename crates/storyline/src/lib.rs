//! storyline turns a stream of news articles into events, stories, cited summaries and
//! timelines.
//!
//! The stages, in the order [`pipeline`] runs them:
//! [`ingest`] (read files and streams) → [`normalize`] (clean, split, tokenise) →
//! [`dedup`] (near-duplicates) → [`cluster`] (online events and stories) → [`extract`]
//! (entities) → [`store`] (SQLite). Reading a story back, [`summarize`] builds its headline,
//! summary and timeline; [`report`] assembles what `storyline show` prints; [`read`] is
//! everything a reader asks of a store (story lists, story reports, [`search`], entities),
//! one place that the command line and the server both call.
//!
//! ```no_run
//! use storyline::{ingest, pipeline::{Pipeline, PipelineConfig}};
//! let mut p = Pipeline::open("storyline.db".as_ref(), PipelineConfig::default())?;
//! let files = ingest::expand_paths(&["../shared/seeds".into()])?;
//! let records = files.iter().flat_map(|f| ingest::read_path(f, None));
//! let report = p.ingest(records, |_| {})?;
//! println!("stored {} articles", report.stored);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod calendar;
pub mod cluster;
pub mod core;
pub mod corroborate;
pub mod dedup;
pub mod embed;
pub mod error;
pub mod extract;
pub mod follow;
pub mod ingest;
pub mod normalize;
pub mod pipeline;
pub mod placement;
pub mod read;
pub mod report;
pub mod search;
pub mod statements;
pub mod store;
pub mod summarize;

pub use crate::core::{Article, Claim, Entity, EntityKind, Event, Sentence, Span, Story};
pub use crate::error::{Error, IngestError, Result};
