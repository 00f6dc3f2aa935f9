//! The embedded store: one SQLite file. The only module that writes SQL.
//!
//! Each ingest batch is one transaction holding its articles, their sentences and mentions
//! (one `annotations` row an article),
//! and the clusterer's changed state, so a crash leaves either the whole batch or none of it.
//! WAL mode lets readers (CLI, API) read while an ingest writes.
//!
//! Modules: `migrations` (the schema and its upgrades), `writes` (an ingest batch, one
//! function per table), `codec` (the clusterer's snapshot and the row encodings), `reads`
//! and `query` (what the CLI and the API ask). No rusqlite type is part of the public
//! interface, so that another engine can stand behind it.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

use crate::core::{Article, ArticleId, EventId, Sentence, StoryId};
use crate::dedup::Signature;
use crate::error::{Error, Result};
use crate::extract::Mention;

mod annotations;
mod codec;
mod export;
mod feeds;
mod live;
mod migrations;
mod query;
mod reads;
mod reports;
mod sources;
#[cfg(test)]
mod tests;
mod writes;

use codec::{time_from_sql, time_to_sql};
pub use export::ExportedArticle;
pub use feeds::{FeedRow, FeedSuccess, NewFeedItem, SeenItem};
pub use live::Changes;
pub use migrations::SCHEMA_VERSION;
pub use query::{
    ArticleFilter, ArticleHit, ArticleRow, SearchHits, StoryFilter, StoryHit, SNIPPET_END,
    SNIPPET_START,
};
pub use reports::{ReportRow, SourceRow, StoredReport};
pub use sources::{decode_sources, encode_sources, ListedSource, OrderRow};

/// A stored article's near-duplicate signature, for the dedup index on open.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSignature {
    pub id: ArticleId,
    pub signature: Signature,
    /// The first article of its copy chain (itself if it is no copy).
    pub original: ArticleId,
    /// The event that original is in.
    pub original_event: EventId,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// An article ready to be written, with everything the stages found.
pub struct NewArticle<'a> {
    pub row_id: ArticleId,
    pub article: &'a Article,
    pub origin: String,
    pub fingerprint: u64,
    pub signature: Option<&'a Signature>,
    pub duplicate_of: Option<ArticleId>,
    pub event: EventId,
    pub seq: u64,
    pub sentences: &'a [Sentence],
    pub mentions: &'a [Mention],
}

/// An article as stored, with its analysis.
#[derive(Debug, Clone)]
pub struct StoredArticle {
    pub row_id: ArticleId,
    pub article: Article,
    pub event: EventId,
    pub duplicate_of: Option<ArticleId>,
    pub sentences: Vec<Sentence>,
    pub mentions: Vec<Mention>,
}

/// A story row: the numbers the store keeps about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryRow {
    pub id: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    pub n_events: u64,
}

/// How much the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub articles: u64,
    pub duplicates: u64,
    pub events: u64,
    pub stories: u64,
}

impl Store {
    /// Opens the store at `path`, creating it (and its schema) on first use.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path).map_err(|e| Self::err(path, e))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.init()?;
        Ok(store)
    }

    fn err(path: &Path, source: rusqlite::Error) -> Error {
        Error::Store {
            path: path.to_path_buf(),
            source: Box::new(source),
        }
    }

    fn e(&self, source: rusqlite::Error) -> Error {
        Self::err(&self.path, source)
    }

    /// How many pages the write-ahead log may hold before a commit on this connection copies
    /// them into the database file itself (a checkpoint, with its disk syncs).
    pub fn set_auto_checkpoint(&self, pages: u32) -> Result<()> {
        self.conn
            .pragma_update(None, "wal_autocheckpoint", pages)
            .map_err(|e| self.e(e))
    }

    /// Copies what is committed in the write-ahead log into the database file, without
    /// waiting for readers or blocking the writer (frames a reader may still need are left
    /// for the next call).
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
            .map_err(|e| self.e(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` inside one read transaction, so all its queries see the same committed state
    /// even while another connection commits an ingest batch: a reader never sees a story
    /// row from before a batch beside articles from after it. Savepoints nest, so a snapshot
    /// may run inside another.
    pub fn snapshot<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        self.conn
            .execute_batch("SAVEPOINT snapshot")
            .map_err(|e| self.e(e))?;
        let out = f(self);
        // Nothing was written, so releasing only ends the read. Should that fail, roll back:
        // a pooled connection left inside a transaction would keep serving an old snapshot.
        if let Err(e) = self.conn.execute_batch("RELEASE snapshot") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return out.and(Err(self.e(e)));
        }
        out
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.e(e))
    }
}
