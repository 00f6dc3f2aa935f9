//! Stored story reports and what a bounded report reads: a story's revision, its last
//! report with its source list (`sources.rs`), and the full rows of the few articles a
//! report is made from.

use std::time::Duration;

use rusqlite::{params, ErrorCode, OptionalExtension};

use super::codec::article_at;
use super::{SqliteStore, StoredArticle};
use crate::core::{ArticleId, StoryId};
use crate::error::{Error, Result};

/// A story's revision and, when it was made at that revision, its stored report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// The sequence number of the ingest batch that last changed the story.
    pub revision: u64,
    /// The report stored for this very revision, if any.
    pub current: Option<StoredReport>,
}

/// A report as stored: what a reader is given of it, whatever the story's size.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    /// The story revision it was made at.
    pub revision: u64,
    pub headline: String,
    /// The report without its source list (JSON).
    pub report: String,
    /// The story's source list at that revision ([`super::encode_sources`]).
    pub order: Vec<u8>,
}

/// One article of a story as its source list shows it: no text.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceRow {
    pub row_id: ArticleId,
    pub id: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<chrono::DateTime<chrono::Utc>>,
}

/// The revision a report was made at, headline, report, source list.
type RawStoredReport = (Option<i64>, Option<String>, Option<String>, Option<Vec<u8>>);

/// Revision, the revision the report was made at, headline, report, source list.
type RawReportRow = (
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<Vec<u8>>,
);

/// The store's usual busy wait (as `init` sets it), restored after a write that waits less.
const BUSY_WAIT: Duration = Duration::from_secs(30);

impl SqliteStore {
    /// The story's revision and its report stored at that revision. A story without a
    /// revision row (none is missing after the upgrade, but a row may be lost to nothing
    /// else) falls back to its last sequence number.
    pub fn story_report_row(&self, id: StoryId) -> Result<ReportRow> {
        let row: Option<RawReportRow> = self
            .conn
            .prepare_cached(
                "SELECT coalesce(r.revision, s.last_seq), r.report_revision, r.headline, r.report,
                        r.sources
                 FROM stories s LEFT JOIN story_reports r ON r.story_id = s.id WHERE s.id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()
            })
            .map_err(|e| self.e(e))?;
        let (revision, made_at, headline, report, order) = row.ok_or(Error::NotFound {
            what: "story",
            id: id.to_string(),
        })?;
        let current =
            stored(made_at, headline, report, order).filter(|r| r.revision == revision as u64);
        Ok(ReportRow {
            revision: revision as u64,
            current,
        })
    }

    /// The story's revision and the revision its stored report was made at, without
    /// reading the report: what a reader checks its copy against.
    pub fn story_revisions(&self, id: StoryId) -> Result<(u64, Option<u64>)> {
        let row: Option<(i64, Option<i64>)> = self
            .conn
            .prepare_cached(
                "SELECT coalesce(r.revision, s.last_seq), r.report_revision
                 FROM stories s LEFT JOIN story_reports r ON r.story_id = s.id WHERE s.id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.e(e))?;
        let (revision, made_at) = row.ok_or(Error::NotFound {
            what: "story",
            id: id.to_string(),
        })?;
        Ok((revision as u64, made_at.map(|r| r as u64)))
    }

    /// The story's last stored report, whatever revision it was made at: what a reader is
    /// given while the current one is being made.
    pub fn last_story_report(&self, id: StoryId) -> Result<Option<StoredReport>> {
        let row: Option<RawStoredReport> = self
            .conn
            .prepare_cached(
                "SELECT report_revision, headline, report, sources FROM story_reports
                 WHERE story_id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .optional()
            })
            .map_err(|e| self.e(e))?;
        Ok(row.and_then(|(at, h, r, o)| stored(at, h, r, o)))
    }

    /// Stores a story's report (JSON) and headline made at `revision`, replacing the one
    /// before in one statement, so a reader sees the old or the new, never a mix. Nothing is
    /// stored when the story has moved past `revision` meanwhile. Waits at most `wait` for
    /// the write lock; `Ok(false)` when it was not had (an ingest holds it) or the story moved
    /// on: the report is then made again on a later read.
    pub fn put_story_report(
        &self,
        id: StoryId,
        revision: u64,
        headline: &str,
        report: &str,
        order: &[u8],
        wait: Duration,
    ) -> Result<bool> {
        self.conn.busy_timeout(wait).map_err(|e| self.e(e))?;
        let written = self
            .conn
            .prepare_cached(
                "INSERT INTO story_reports(story_id, revision, report_revision, headline, report,
                                           sources)
                 SELECT ?1, ?2, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM stories WHERE id = ?1)
                 ON CONFLICT(story_id) DO UPDATE SET report_revision = excluded.report_revision,
                   headline = excluded.headline, report = excluded.report,
                   sources = excluded.sources
                 WHERE story_reports.revision = excluded.report_revision",
            )
            .and_then(|mut stmt| {
                stmt.execute(params![id, revision as i64, headline, report, order])
            });
        self.conn.busy_timeout(BUSY_WAIT).map_err(|e| self.e(e))?;
        match written {
            Ok(n) => Ok(n > 0),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if matches!(f.code, ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.e(e)),
        }
    }

    /// Those of `ids` whose stored report is older than the story: the ones an ingest
    /// should make again (a story nobody has read has no report and is left for its first
    /// read).
    pub fn stale_reports(&self, ids: &[StoryId]) -> Result<Vec<StoryId>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT 1 FROM story_reports WHERE story_id = ?1
                 AND report IS NOT NULL AND report_revision IS NOT revision",
            )
            .map_err(|e| self.e(e))?;
        let mut out = Vec::new();
        for &id in ids {
            if stmt.exists([id]).map_err(|e| self.e(e))? {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// These article rows, in the order asked; with their sentences and mentions when
    /// `annotated` (else those are left empty, for [`SqliteStore::annotate`]).
    pub fn articles_by_row(
        &self,
        rows: &[ArticleId],
        annotated: bool,
    ) -> Result<Vec<StoredArticle>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ext_id, title, source, url, published, lang, text, event_id, duplicate_of
                 FROM articles WHERE id = ?1",
            )
            .map_err(|e| self.e(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for &row_id in rows {
            let mut a = stmt
                .query_row([row_id], |r| {
                    Ok(StoredArticle {
                        row_id,
                        article: article_at(r, 0)?,
                        event: r.get(7)?,
                        duplicate_of: r.get(8)?,
                        sentences: Vec::new(),
                        mentions: Vec::new(),
                        clauses: None,
                    })
                })
                .map_err(|e| self.e(e))?;
            if annotated {
                (a.sentences, a.mentions, a.clauses) = self.annotations(row_id)?;
            }
            out.push(a);
        }
        Ok(out)
    }

    /// Reads and decodes the sentences and mentions of articles read without them.
    pub fn annotate(&self, articles: &mut [StoredArticle]) -> Result<()> {
        for a in articles {
            (a.sentences, a.mentions, a.clauses) = self.annotations(a.row_id)?;
        }
        Ok(())
    }
}

/// A stored report from its columns, when it is whole: a row a report was never stored in,
/// or one written before source lists were stored with reports, is none.
pub(super) fn stored(
    made_at: Option<i64>,
    headline: Option<String>,
    report: Option<String>,
    order: Option<Vec<u8>>,
) -> Option<StoredReport> {
    match (made_at, headline, report, order) {
        (Some(at), Some(headline), Some(report), Some(order)) => Some(StoredReport {
            revision: at as u64,
            headline,
            report,
            order,
        }),
        _ => None,
    }
}
