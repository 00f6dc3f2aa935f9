//! Shared vocabulary of the pipeline: plain data types that every stage uses and no stage owns.
//! No logic lives here beyond small accessors.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A row id of the store, as a type of its own per table, so that an article's id cannot
/// be passed where an event's is meant. Serialised as the bare number.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl $name {
            /// The id after this one: ids are handed out in order.
            pub fn next(self) -> $name {
                $name(self.0 + 1)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                s.parse().map($name)
            }
        }
    };
}

row_id!(
    /// Row id of an article in the store.
    ArticleId
);
row_id!(
    /// Row id of an event (one occurrence: a summit, a vote, an earthquake).
    EventId
);
row_id!(
    /// Row id of a story (the long-running thread that links events).
    StoryId
);

/// One news article as ingested: cleaned text plus what the input said about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// External id: the file name for text files, the `id` field in JSONL, the guid of a feed item.
    pub id: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    /// Publication time; `None` means undated (never guessed).
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    /// Main text with boilerplate removed; paragraphs separated by `\n`.
    pub text: String,
}

impl Article {
    /// The publication day, if the article is dated.
    pub fn date(&self) -> Option<NaiveDate> {
        self.published.map(|t| t.date_naive())
    }
}

/// A byte range into an article's text. Spans are never rewritten by later stages, so every
/// sentence, entity and fact can be cited and highlighted in the original text.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn slice<'a>(&self, text: &'a str) -> &'a str {
        text.get(self.start..self.end).unwrap_or("")
    }
}

/// A sentence of an article: its position and its byte span.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sentence {
    pub idx: usize,
    pub span: Span,
}

/// The kind of a named entity.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EntityKind {
    Person,
    Organization,
    Place,
    Other,
}

impl EntityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Person => "person",
            EntityKind::Organization => "organization",
            EntityKind::Place => "place",
            EntityKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> EntityKind {
        match s {
            "person" => EntityKind::Person,
            "organization" => EntityKind::Organization,
            "place" => EntityKind::Place,
            _ => EntityKind::Other,
        }
    }
}

/// A named entity under its canonical name, with the variants seen in the text.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub name: String,
    pub kind: EntityKind,
    pub aliases: Vec<String>,
    /// Number of mentions.
    pub mentions: usize,
    /// Articles that mention it (external ids).
    pub articles: Vec<String>,
}

/// A cluster of articles about one occurrence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: EventId,
    pub story: StoryId,
    pub first_published: Option<DateTime<Utc>>,
    pub last_published: Option<DateTime<Utc>>,
    pub n_articles: usize,
}

/// A thread of events, as listed by `storyline stories`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    // Ids are plain integers on the wire (the newtypes serialise transparently).
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: StoryId,
    pub headline: String,
    pub first_published: Option<DateTime<Utc>>,
    pub last_published: Option<DateTime<Utc>>,
    pub n_articles: usize,
    pub n_events: usize,
}

/// A sentence chosen for a summary or timeline, with the sources that support it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claim {
    pub text: String,
    /// 1-based numbers into the story's source list: `[1][3]`.
    pub citations: Vec<usize>,
    /// External id of the article the sentence was taken from.
    pub article: String,
    /// Where the sentence stands in that article's text.
    pub span: Span,
}
