//! Read queries for browsing and search: filtered story and article pages, one article with
//! its analysis, and FTS5 search. Kept apart from `mod.rs` (the write side) but still the
//! store: no other module writes SQL.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{time_from_sql, time_to_sql, Store, StoredArticle, StoryRow};
use crate::core::{Article, ArticleId, EventId, StoryId};
use crate::error::{Error, Result};

/// Which stories a listing keeps. Every field is optional; `None` keeps everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoryFilter {
    /// Stories with news at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Stories with news before this time.
    pub before: Option<DateTime<Utc>>,
    /// Stories where some article mentions this name (case-insensitive, as written).
    pub entity: Option<String>,
    /// Stories with an article from this source (case-insensitive).
    pub source: Option<String>,
}

/// Which articles a listing or search keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleFilter {
    pub since: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub story: Option<StoryId>,
}

/// An article without its text: what lists and search results show.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRow {
    pub row_id: ArticleId,
    pub id: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub event: EventId,
    pub story: StoryId,
    /// External id of the article this one copies.
    pub duplicate_of: Option<String>,
}

/// One search hit: an article, its BM25 score (lower is better, as SQLite gives it) and a
/// snippet of its text with matches between `SNIPPET_START` and `SNIPPET_END`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleHit {
    pub article: ArticleRow,
    pub score: f64,
    pub snippet: String,
}

/// Stories ranked by their best-matching article.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryHit {
    pub story: StoryId,
    pub score: f64,
    /// Matching articles in the story.
    pub hits: u64,
    /// Title of the best-matching article.
    pub top_title: Option<String>,
}

/// Markers around matched terms in snippets: control characters, which never occur in
/// cleaned article text, so callers can split on them without escaping rules.
pub const SNIPPET_START: char = '\u{2}';
pub const SNIPPET_END: char = '\u{3}';

/// Title matches count more than body matches.
const BM25: &str = "bm25(articles_fts, 4.0, 1.0)";

const ARTICLE_COLUMNS: &str = "a.id, a.ext_id, a.title, a.source, a.url, a.published, \
     a.event_id, e.story_id, (SELECT d.ext_id FROM articles d WHERE d.id = a.duplicate_of)";

const ARTICLE_WHERE: &str = "(?1 IS NULL OR a.published >= ?1) AND (?2 IS NULL OR a.published < ?2)
     AND (?3 IS NULL OR a.source = ?3 COLLATE NOCASE) AND (?4 IS NULL OR e.story_id = ?4)";

fn article_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ArticleRow> {
    Ok(ArticleRow {
        row_id: r.get(0)?,
        id: r.get(1)?,
        title: r.get(2)?,
        source: r.get(3)?,
        url: r.get(4)?,
        published: time_from_sql(r.get(5)?),
        event: r.get(6)?,
        story: r.get(7)?,
        duplicate_of: r.get(8)?,
    })
}

impl Store {
    /// A page of stories, most recently active first, and how many match in all.
    pub fn stories_filtered(
        &self,
        filter: &StoryFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<StoryRow>, u64)> {
        let cond = "(?1 IS NULL OR s.last_time >= ?1) AND (?2 IS NULL OR s.first_time < ?2)
             AND (?3 IS NULL OR EXISTS (SELECT 1 FROM events e
                    JOIN articles a ON a.event_id = e.id JOIN mentions m ON m.article_id = a.id
                    WHERE e.story_id = s.id AND m.name = ?3 COLLATE NOCASE))
             AND (?4 IS NULL OR EXISTS (SELECT 1 FROM events e
                    JOIN articles a ON a.event_id = e.id
                    WHERE e.story_id = s.id AND a.source = ?4 COLLATE NOCASE))";
        let p = params![
            time_to_sql(filter.since),
            time_to_sql(filter.before),
            filter.entity,
            filter.source
        ];
        let total: u64 = self
            .conn
            .query_row(
                &format!("SELECT count(*) FROM stories s WHERE {cond}"),
                p,
                |r| r.get(0),
            )
            .map_err(|e| self.e(e))?;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT s.id, s.first_time, s.last_time, s.n_articles, s.n_events FROM stories s
                 WHERE {cond}
                 ORDER BY s.last_time IS NULL, s.last_time DESC, s.n_articles DESC, s.id
                 LIMIT ?5 OFFSET ?6"
            ))
            .map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map(
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.entity,
                    filter.source,
                    limit as i64,
                    offset as i64
                ],
                Self::story_row,
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))?;
        Ok((rows, total))
    }

    /// A page of articles, newest first (undated last), and how many match in all.
    pub fn articles_page(
        &self,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ArticleRow>, u64)> {
        let from = "FROM articles a JOIN events e ON e.id = a.event_id";
        let total: u64 = self
            .conn
            .query_row(
                &format!("SELECT count(*) {from} WHERE {ARTICLE_WHERE}"),
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.source,
                    filter.story
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.e(e))?;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ARTICLE_COLUMNS} {from} WHERE {ARTICLE_WHERE}
                 ORDER BY a.published IS NULL, a.published DESC, a.seq DESC LIMIT ?5 OFFSET ?6"
            ))
            .map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map(
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.source,
                    filter.story,
                    limit as i64,
                    offset as i64
                ],
                article_row,
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))?;
        Ok((rows, total))
    }

    /// One article by its external id, with text, sentences and mentions.
    pub fn article(&self, ext_id: &str) -> Result<(ArticleRow, StoredArticle)> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {ARTICLE_COLUMNS}, a.lang, a.text, a.duplicate_of
                     FROM articles a JOIN events e ON e.id = a.event_id WHERE a.ext_id = ?1"
                ),
                [ext_id],
                |r| {
                    let row = article_row(r)?;
                    let stored = StoredArticle {
                        row_id: row.row_id,
                        article: Article {
                            id: row.id.clone(),
                            title: row.title.clone(),
                            source: row.source.clone(),
                            url: row.url.clone(),
                            published: row.published,
                            lang: r.get(9)?,
                            text: r.get(10)?,
                        },
                        event: row.event,
                        duplicate_of: r.get(11)?,
                        sentences: Vec::new(),
                        mentions: Vec::new(),
                    };
                    Ok((row, stored))
                },
            )
            .optional()
            .map_err(|e| self.e(e))?;
        let (row, mut stored) = found.ok_or_else(|| Error::NotFound {
            what: "article",
            id: ext_id.to_string(),
        })?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT idx, start, end FROM sentences WHERE article_id = ?1 ORDER BY idx",
            )
            .map_err(|e| self.e(e))?;
        stored.sentences = stmt
            .query_map([row.row_id], super::sentence_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))?;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT name, kind, start, end, initial, role FROM mentions
                 WHERE article_id = ?1 ORDER BY start",
            )
            .map_err(|e| self.e(e))?;
        stored.mentions = stmt
            .query_map([row.row_id], |r| super::mention_from_row(r, 0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))?;
        Ok((row, stored))
    }

    /// Full-text search over titles and texts, best BM25 first. `query` is FTS5 query
    /// syntax (words, `"phrases"`, `AND`/`OR`/`NOT`, `prefix*`); a query FTS5 cannot parse is
    /// `Error::Invalid`, not a store failure.
    pub fn search_articles(
        &self,
        query: &str,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
    ) -> Result<Vec<ArticleHit>> {
        // The CTE is materialized: FTS5's auxiliary functions only work in the query that
        // holds the MATCH, and SQLite would otherwise flatten it into the join.
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "WITH f AS MATERIALIZED (SELECT rowid, {BM25} AS score FROM articles_fts
                                         WHERE articles_fts MATCH ?5)
                 SELECT {ARTICLE_COLUMNS}, f.score
                 FROM f JOIN articles a ON a.id = f.rowid JOIN events e ON e.id = a.event_id
                 WHERE {ARTICLE_WHERE}
                 ORDER BY f.score, a.id LIMIT ?6 OFFSET ?7"
            ))
            .map_err(|e| self.e(e))?;
        let mut hits: Vec<ArticleHit> = stmt
            .query_map(
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.source,
                    filter.story,
                    query,
                    limit as i64,
                    offset as i64
                ],
                |r| {
                    Ok(ArticleHit {
                        article: article_row(r)?,
                        score: r.get(9)?,
                        snippet: String::new(),
                    })
                },
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| self.search_error(e, query))?;
        // Snippets only for the page shown: building one for every match of a common word
        // would cost more than the ranking.
        let mut snip = self
            .conn
            .prepare_cached(
                "SELECT snippet(articles_fts, 1, char(2), char(3), '…', 24) FROM articles_fts
                 WHERE articles_fts MATCH ?1 AND rowid = ?2",
            )
            .map_err(|e| self.e(e))?;
        for h in &mut hits {
            h.snippet = snip
                .query_row(params![query, h.article.row_id], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .optional()
                .map_err(|e| self.search_error(e, query))?
                .flatten()
                .unwrap_or_default();
        }
        Ok(hits)
    }

    /// Stories ranked by their best-matching article (same query syntax and filters).
    pub fn search_stories(
        &self,
        query: &str,
        filter: &ArticleFilter,
        limit: usize,
    ) -> Result<Vec<StoryHit>> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "WITH f AS MATERIALIZED (SELECT rowid, {BM25} AS score FROM articles_fts
                                         WHERE articles_fts MATCH ?5)
                 SELECT e.story_id, min(f.score), count(*), a.title
                 FROM f JOIN articles a ON a.id = f.rowid JOIN events e ON e.id = a.event_id
                 WHERE {ARTICLE_WHERE}
                 GROUP BY e.story_id ORDER BY min(f.score), e.story_id LIMIT ?6"
            ))
            .map_err(|e| self.e(e))?;
        // SQLite takes the bare column `a.title` from the row holding min(): the best hit.
        stmt.query_map(
            params![
                time_to_sql(filter.since),
                time_to_sql(filter.before),
                filter.source,
                filter.story,
                query,
                limit as i64
            ],
            |r| {
                Ok(StoryHit {
                    story: r.get(0)?,
                    score: r.get(1)?,
                    hits: r.get(2)?,
                    top_title: r.get(3)?,
                })
            },
        )
        .and_then(|rows| rows.collect())
        .map_err(|e| self.search_error(e, query))
    }

    /// FTS5 reports a query it cannot parse as a generic SQLITE_ERROR ("fts5: syntax error
    /// near …", "no such column: …" for `word:`); that is the caller's input, not the store.
    fn search_error(&self, e: rusqlite::Error, query: &str) -> Error {
        if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e {
            if f.code == rusqlite::ErrorCode::Unknown {
                return Error::Invalid(format!("bad search query {query:?}: {msg}"));
            }
        }
        self.e(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bad FTS syntax → `Error::Invalid` needs a non-empty index (SQLite skips parsing the
    // query on an empty one); `storyline-server/tests/api.rs` checks it on the seeds.
    #[test]
    fn search_on_an_empty_store_finds_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("s.db")).expect("open");
        let f = ArticleFilter::default();
        assert!(store
            .search_articles("blinken", &f, 10, 0)
            .is_ok_and(|h| h.is_empty()));
        assert!(store
            .search_stories("\"two words\"", &f, 10)
            .is_ok_and(|h| h.is_empty()));
    }
}
