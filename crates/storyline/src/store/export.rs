//! Every stored article with its event and story, streamed in ingest order: backups, and
//! moving a store to another engine (`storyline ingest` of an export rebuilds it).

use serde::Serialize;

use super::codec::article_at;
use super::SqliteStore;
use crate::core::{Article, EventId, StoryId};
use crate::error::Result;

/// One line of `storyline export`: the article as ingest reads it, and where it was filed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportedArticle {
    #[serde(flatten)]
    pub article: Article,
    pub event: EventId,
    pub story: StoryId,
}

impl SqliteStore {
    /// Hands every article to `visit`, in ingest order, one at a time (memory stays flat at
    /// any store size). Stops at the first error `visit` returns.
    pub fn export(&self, mut visit: impl FnMut(ExportedArticle) -> Result<()>) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.ext_id, a.title, a.source, a.url, a.published, a.lang, a.text,
                        a.event_id, e.story_id
                 FROM articles a JOIN events e ON a.event_id = e.id ORDER BY a.seq",
            )
            .map_err(|e| self.e(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.e(e))?;
        while let Some(r) = rows.next().map_err(|e| self.e(e))? {
            let exported = (|| -> rusqlite::Result<ExportedArticle> {
                Ok(ExportedArticle {
                    article: article_at(r, 0)?,
                    event: r.get(7)?,
                    story: r.get(8)?,
                })
            })()
            .map_err(|e| self.e(e))?;
            visit(exported)?;
        }
        Ok(())
    }
}
