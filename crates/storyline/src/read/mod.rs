//! The read side: everything a reader asks of a store, in the shapes both the command line
//! and the server give out. Story lists and reports are assembled in [`crate::report`];
//! search and the entity listing are here. Nothing here writes.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::{Entity, EntityKind, EventId, StoryId};
use crate::error::Result;
use crate::extract::canonical_entities;
use crate::search::Query;
use crate::store::{ArticleFilter, ArticleRow, Store, SNIPPET_END, SNIPPET_START};

pub use crate::report::{
    current_report, find_stories, last_report, list_stories, refresh_reports, story_report,
    story_report_at, story_report_page, story_revision, KeptReport, StoryReport, REPORT_ARTICLES,
};

/// Stories a search lists beside its page of articles.
pub const SEARCH_STORIES: usize = 10;

/// An article without its text, as lists and search results show it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleSummary {
    pub id: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub event: EventId,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub story: StoryId,
    /// Id of the article this one is a near-duplicate of.
    pub duplicate_of: Option<String>,
}

impl From<ArticleRow> for ArticleSummary {
    fn from(r: ArticleRow) -> Self {
        ArticleSummary {
            id: r.id,
            title: r.title,
            source: r.source,
            url: r.url,
            published: r.published,
            event: r.event,
            story: r.story,
            duplicate_of: r.duplicate_of,
        }
    }
}

/// A piece of a search snippet: matched words are `hit`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnippetPart {
    pub text: String,
    /// A matched term.
    pub hit: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArticleHitOut {
    pub article: ArticleSummary,
    /// BM25; lower is better.
    pub score: f64,
    pub snippet: Vec<SnippetPart>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryHitOut {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub story: StoryId,
    /// The story's headline, as `stories` and `show` give it.
    pub headline: String,
    pub score: f64,
    /// Matching articles in the story.
    pub hits: u64,
    /// Title of the best-matching article.
    pub top_title: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResult {
    /// The query as typed.
    pub query: String,
    /// Matching articles over all pages.
    pub total: u64,
    pub articles: Vec<ArticleHitOut>,
    /// Stories ranked by their best-matching article.
    pub stories: Vec<StoryHitOut>,
}

fn snippet_parts(s: &str) -> Vec<SnippetPart> {
    let mut parts = Vec::new();
    let mut hit = false;
    let mut cur = String::new();
    for c in s.chars() {
        if c == SNIPPET_START || c == SNIPPET_END {
            if !cur.is_empty() {
                parts.push(SnippetPart {
                    text: std::mem::take(&mut cur),
                    hit,
                });
            }
            hit = c == SNIPPET_START;
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        parts.push(SnippetPart { text: cur, hit });
    }
    parts
}

/// One search: a page of articles with their matching passage, and the best stories by
/// headline. `typed` is echoed back as the query; `query` is what was read from it
/// ([`Query::parse`]).
pub fn search(
    store: &Store,
    typed: &str,
    query: &Query,
    filter: &ArticleFilter,
    limit: usize,
    offset: usize,
) -> Result<SearchResult> {
    // One snapshot: the hits and the headlines come from the same committed state.
    store.snapshot(|s| {
        let found = s.search_query(query, filter, limit, offset, SEARCH_STORIES)?;
        let stories = found
            .stories
            .into_iter()
            .map(|h| {
                Ok(StoryHitOut {
                    headline: crate::report::story_headline(s, h.story)?,
                    story: h.story,
                    score: h.score,
                    hits: h.hits,
                    top_title: h.top_title,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchResult {
            query: typed.to_string(),
            total: found.total,
            articles: found
                .articles
                .into_iter()
                .map(|h| ArticleHitOut {
                    snippet: snippet_parts(&h.snippet),
                    article: h.article.into(),
                    score: h.score,
                })
                .collect(),
            stories,
        })
    })
}

/// Which entities a listing keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityFilter {
    /// Only this kind. Without it, every kind but [`EntityKind::Other`] (names the
    /// extractor could not type, mostly noise unless asked for).
    pub kind: Option<EntityKind>,
    /// Names or aliases containing this text (case-insensitive).
    pub name: Option<String>,
    /// Only the entities of this story; a story that does not exist is `NotFound`.
    pub story: Option<StoryId>,
    /// Only entities mentioned in at least this many articles.
    pub min_articles: usize,
    pub limit: usize,
}

impl Default for EntityFilter {
    fn default() -> Self {
        EntityFilter {
            kind: None,
            name: None,
            story: None,
            min_articles: 1,
            limit: 50,
        }
    }
}

/// Entities under their canonical names, most mentioned first.
pub fn entities(store: &Store, filter: &EntityFilter) -> Result<Vec<Entity>> {
    let mentions = store.snapshot(|s| match filter.story {
        Some(id) => s.story(id).and_then(|_| s.story_mentions(id)),
        None => s.all_mentions(),
    })?;
    let needle = filter.name.as_deref().map(str::to_lowercase);
    Ok(
        canonical_entities(mentions.iter().map(|(id, m)| (id.as_str(), m)))
            .into_iter()
            .filter(|e| match filter.kind {
                Some(k) => e.kind == k,
                None => e.kind != EntityKind::Other,
            })
            .filter(|e| e.articles.len() >= filter.min_articles)
            .filter(|e| {
                needle.as_deref().is_none_or(|n| {
                    e.name.to_lowercase().contains(n)
                        || e.aliases.iter().any(|a| a.to_lowercase().contains(n))
                })
            })
            .take(filter.limit)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_split_at_the_markers() {
        let parts = snippet_parts("the \u{2}ferry\u{3} sailed");
        let texts: Vec<(&str, bool)> = parts.iter().map(|p| (p.text.as_str(), p.hit)).collect();
        assert_eq!(
            texts,
            [("the ", false), ("ferry", true), (" sailed", false)]
        );
    }
}
