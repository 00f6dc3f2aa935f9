//! The SQLite engine: one file, WAL mode so that readers (CLI, API) read while an ingest
//! writes. Its queries live in the modules beside this one (`migrations`, `writes`,
//! `codec`, `reads`, `query`, `reports`, `feeds`, `export`).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

pub(crate) struct SqliteStore {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
}

impl SqliteStore {
    /// Opens the store at `path`, creating it (and its schema) on first use.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path).map_err(|e| Self::err(path, e))?;
        let store = SqliteStore {
            conn,
            path: path.to_path_buf(),
        };
        store.init()?;
        Ok(store)
    }

    pub(super) fn err(path: &Path, source: rusqlite::Error) -> Error {
        Error::Store {
            path: path.to_path_buf(),
            source: Box::new(source),
        }
    }

    pub(super) fn e(&self, source: rusqlite::Error) -> Error {
        Self::err(&self.path, source)
    }

    /// How many bytes the write-ahead log may hold before a commit on this connection copies
    /// them into the database file itself (a checkpoint, with its disk syncs); `None` for
    /// SQLite's default of 1,000 pages. In pages of this store's size: a store made before
    /// the default page size grew keeps its 4 KiB pages.
    pub fn set_auto_checkpoint(&self, bytes: Option<u64>) -> Result<()> {
        const SQLITE_DEFAULT_PAGES: u64 = 1_000;
        let pages = match bytes {
            None => SQLITE_DEFAULT_PAGES,
            Some(bytes) => {
                let page_size: i64 = self
                    .conn
                    .query_row("PRAGMA page_size", [], |r| r.get(0))
                    .map_err(|e| self.e(e))?;
                (bytes / page_size.max(512) as u64).max(1)
            }
        };
        self.conn
            .pragma_update(None, "wal_autocheckpoint", pages)
            .map_err(|e| self.e(e))
    }

    /// A number that differs from the one this connection last gave whenever another
    /// connection (of any process) has committed since.
    pub fn data_version(&self) -> Result<u64> {
        self.conn
            .query_row("PRAGMA data_version", [], |r| r.get::<_, i64>(0))
            .map(|v| v as u64)
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
    pub fn snapshot<T>(&self, f: impl FnOnce(&SqliteStore) -> Result<T>) -> Result<T> {
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

    pub(super) fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.e(e))
    }
}
