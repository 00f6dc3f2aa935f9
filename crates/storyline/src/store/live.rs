//! What changed after a point: the articles stored since an article id, and the stories
//! they went into with their revisions. The live page asks this after every committed
//! batch; article ids are handed out in order, so "after id N" reads a range of the
//! primary key however big the store is.

use rusqlite::params;

use super::query::{article_row, ARTICLE_COLUMNS};
use super::{ArticleRow, SqliteStore};
use crate::core::{ArticleId, StoryId};
use crate::error::Result;

/// The articles stored after a point, and the stories they touched.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    /// The point asked from.
    pub after: ArticleId,
    /// The newest article's id: the point to ask from next.
    pub last: ArticleId,
    /// Articles stored after `after`, all of them.
    pub n_articles: u64,
    /// The newest of them, newest first, up to the limit asked for.
    pub articles: Vec<ArticleRow>,
    /// The stories those articles are in, with each story's revision, the most recently
    /// touched first, up to the limit asked for.
    pub stories: Vec<(StoryId, u64)>,
}

impl SqliteStore {
    /// The newest article's id (0 in an empty store).
    pub fn last_article(&self) -> Result<ArticleId> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) FROM articles", [], |r| {
                r.get(0).map(ArticleId)
            })
            .map_err(|e| self.e(e))
    }

    /// The articles stored after `after` and the stories they touched, at most `limit` of
    /// each, when the store's newest article, `last`, is past `after` (`Store::changes_since`
    /// answers the common case, nothing new, for both engines).
    pub fn changes_between(
        &self,
        after: ArticleId,
        last: ArticleId,
        limit: usize,
    ) -> Result<Changes> {
        let n_articles: u64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM articles WHERE id > ?1",
                [after.0],
                |r| r.get(0),
            )
            .map_err(|e| self.e(e))?;
        let articles = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN events e ON e.id = a.event_id
                 WHERE a.id > ?1 ORDER BY a.id DESC LIMIT ?2"
            ))
            .and_then(|mut stmt| {
                stmt.query_map(params![after.0, limit as i64], article_row)
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            })
            .map_err(|e| self.e(e))?;
        let stories = self
            .conn
            .prepare_cached(
                "SELECT e.story_id, coalesce(r.revision, s.last_seq), max(a.id) AS newest
                 FROM articles a JOIN events e ON e.id = a.event_id
                 JOIN stories s ON s.id = e.story_id
                 LEFT JOIN story_reports r ON r.story_id = e.story_id
                 WHERE a.id > ?1 GROUP BY e.story_id ORDER BY newest DESC LIMIT ?2",
            )
            .and_then(|mut stmt| {
                stmt.query_map(params![after.0, limit as i64], |r| {
                    Ok((StoryId(r.get(0)?), r.get::<_, i64>(1)?.max(0) as u64))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            })
            .map_err(|e| self.e(e))?;
        Ok(Changes {
            after,
            last,
            n_articles,
            articles,
            stories,
        })
    }
}
