//! The PostgreSQL engine: the same tables as SQLite's (`schema_pg.sql`) behind the same
//! methods, for stores shared by many machines. One client connection per `PgStore`, like
//! one SQLite connection per `SqliteStore`.
//!
//! Transactions are explicit (`BEGIN`/`COMMIT` on the connection), nesting as savepoints, so
//! that a write inside [`PgStore::snapshot`] (a report stored while a request reads) joins
//! the request's transaction as SQLite's savepoints do.

use std::cell::{Cell, RefCell, RefMut};
use std::path::{Path, PathBuf};

use postgres::{Client, NoTls};

use crate::error::{Error, Result};

mod feeds;
mod jobs;
pub(crate) mod listen;
mod query;
mod reads;
mod writes;

#[cfg(test)]
pub(crate) use query::tsquery;

/// Version of the PostgreSQL schema this build writes; stores from newer builds are refused.
pub const PG_SCHEMA_VERSION: i64 = 8;

/// The step that takes a PostgreSQL store from version `i + 1` to `i + 2`.
const PG_MIGRATIONS: &[&str] = &[
    // 1 → 2: turns at a host, shared by every follower of the store.
    HOST_SLOTS, // 2 → 3: the job queue of `storyline worker`.
    JOBS,
    // 3 → 4: what a restored clusterer needs to go on exactly as the live one would.
    RESUME_STATE,
    // 4 → 5: an article's clauses, made at ingest.
    CLAUSES,
    // 5 → 6: feed leases, so followers sharing the store never poll a feed twice.
    FEED_LEASES,
    // 6 → 7: the feed item a job's article came from, forgotten when the job fails.
    JOB_ITEMS,
    // 7 → 8: a count of each feed's forgotten items, checked by a poll in flight.
    FEED_FORGOTTEN,
];

/// Items of a feed forgotten after their jobs failed for good (`jobs.rs`): a poll keeps its
/// new validators only if the count is the one it claimed the feed with. In a fresh store
/// and as step 7 → 8.
const FEED_FORGOTTEN: &str =
    "ALTER TABLE feeds ADD COLUMN IF NOT EXISTS forgotten BIGINT NOT NULL DEFAULT 0;";

/// The feed item (its article id) whose article a job carries, when a worker's feed poller
/// queued it: a job that fails for good forgets the item, so a later poll brings it again
/// (`jobs.rs`). In a fresh store and as step 6 → 7; NULL for every other job.
const JOB_ITEMS: &str = "
ALTER TABLE jobs ADD COLUMN IF NOT EXISTS item TEXT;
CREATE INDEX IF NOT EXISTS jobs_item ON jobs(item) WHERE item IS NOT NULL;";

/// An article's clauses beside its sentences and mentions (SQLite's step 14 → 15), in a
/// fresh store and as step 4 → 5; NULL on rows stored before, whose clauses a report makes
/// from the text.
const CLAUSES: &str = "ALTER TABLE annotations ADD COLUMN IF NOT EXISTS clauses BYTEA;";

/// Feed leases (SQLite's `feed_leases.sql`, step 15 → 16), in a fresh store and as step
/// 5 → 6.
const FEED_LEASES: &str = "
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS lease_holder TEXT;
ALTER TABLE feeds ADD COLUMN IF NOT EXISTS lease_until BIGINT;";

/// Columns of events and stories (SQLite's step 13 → 14) for what a restored clusterer
/// needs to go on exactly as the live one would: the centroid's norm as last refreshed, the
/// size at the last merge check, a story's index terms, the sweep interval a term was last
/// counted in. In a fresh store and as step 3 → 4; old rows have none and are restored as
/// before.
const RESUME_STATE: &str = "
ALTER TABLE vocab ADD COLUMN IF NOT EXISTS seen BIGINT NOT NULL DEFAULT 0;
ALTER TABLE vocab_pending ADD COLUMN IF NOT EXISTS sweep BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS centroid_norm DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE events ADD COLUMN IF NOT EXISTS merge_checked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN IF NOT EXISTS centroid_norm DOUBLE PRECISION NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN IF NOT EXISTS merge_checked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stories ADD COLUMN IF NOT EXISTS index_terms BYTEA;";

/// The table of turns at a host (SQLite's `hosts.sql`), in a fresh store and as step 1 → 2.
const HOST_SLOTS: &str = "CREATE TABLE IF NOT EXISTS host_slots (
    host    TEXT NOT NULL,
    slot    BIGINT NOT NULL,
    holder  TEXT,
    until   BIGINT,
    PRIMARY KEY (host, slot)
);";

/// The job queue (`jobs.rs`), in a fresh store and as step 2 → 3. `batch` and `pos` are the
/// input's batch and place in it, given when queued, so that what is placed together and in
/// which order never depends on which worker ran what. `state` is `queued`, `done` (with its
/// `result`) or `failed` (with its `error`, after too many attempts).
const JOBS: &str = "CREATE TABLE IF NOT EXISTS jobs (
    id        BIGSERIAL PRIMARY KEY,
    kind      TEXT NOT NULL,
    batch     BIGINT NOT NULL,
    pos       INTEGER NOT NULL,
    payload   BYTEA NOT NULL,
    state     TEXT NOT NULL DEFAULT 'queued',
    attempts  INTEGER NOT NULL DEFAULT 0,
    error     TEXT,
    result    BYTEA,
    queued_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    done_at   TIMESTAMPTZ
);
CREATE INDEX IF NOT EXISTS jobs_queued ON jobs(kind, batch, pos) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS jobs_batch ON jobs(kind, batch);";

/// Serialises writers of one store (ingest batches) across machines: held for the length of
/// a batch's transaction. An arbitrary constant, the same in every build.
const WRITER_LOCK: i64 = 0x5354_4f52_594c_494e;

pub(crate) struct PgStore {
    /// Never `None` but while the store is dropped.
    client: RefCell<Option<Client>>,
    /// The URL as given, to open more connections to the same store.
    url: PathBuf,
    /// The URL without its password, for messages.
    shown: PathBuf,
    /// Open transactions on this connection: 0, or 1 plus nested savepoints.
    pub(super) depth: Cell<u32>,
}

/// Whether `--db` names a PostgreSQL store rather than a SQLite file.
pub fn is_url(db: &Path) -> bool {
    db.to_str()
        .is_some_and(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
}

/// The URL with any password replaced by `***`.
fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{scheme}://{name}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl PgStore {
    /// Connects and creates or checks the schema. The sync client runs its own small async
    /// runtime, which may not start on a thread that runs async tasks (a server opening
    /// its store at start-up): so this runs on a thread of its own.
    pub fn open(url: &Path) -> Result<PgStore> {
        let url = url.to_path_buf();
        let shown = PathBuf::from(without_password(url.to_str().unwrap_or_default()));
        let connect = move || -> Result<PgStore> {
            let text = url.to_str().unwrap_or_default();
            let client = Client::connect(text, NoTls).map_err(|e| Error::Store {
                path: shown.clone(),
                source: Box::new(e),
            })?;
            let store = PgStore {
                client: RefCell::new(Some(client)),
                url,
                shown,
                depth: Cell::new(0),
            };
            store.init()?;
            Ok(store)
        };
        std::thread::Builder::new()
            .name("pg-connect".into())
            .spawn(connect)
            .map_err(|source| Error::Thread {
                stage: "PostgreSQL connection",
                source,
            })?
            .join()
            .map_err(|_| Error::Invalid("the PostgreSQL connection thread panicked".into()))?
    }

    pub(super) fn e(&self, source: postgres::Error) -> Error {
        Error::Store {
            path: self.shown.clone(),
            source: Box::new(source),
        }
    }

    /// The connection. Methods borrow it for one statement or one loop at a time and never
    /// call each other while holding it.
    pub(super) fn c(&self) -> RefMut<'_, Client> {
        RefMut::map(self.client.borrow_mut(), |c| {
            c.as_mut()
                .expect("the client is only taken when the store is dropped")
        })
    }

    pub fn path(&self) -> &Path {
        &self.url
    }

    /// Whether the server closed the connection (it stopped, or dropped this client).
    pub fn is_closed(&self) -> bool {
        self.c().is_closed()
    }

    /// Runs `f` in a transaction: the outermost one `BEGIN`s with `begin`, nested ones are
    /// savepoints. Commits when `f` succeeds, rolls back when it fails.
    fn in_transaction<T>(&self, begin: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let depth = self.depth.get();
        let (open, done, undo) = if depth == 0 {
            (begin, "COMMIT", "ROLLBACK")
        } else {
            (
                "SAVEPOINT nested",
                "RELEASE SAVEPOINT nested",
                "ROLLBACK TO SAVEPOINT nested; RELEASE SAVEPOINT nested",
            )
        };
        self.c().batch_execute(open).map_err(|e| self.e(e))?;
        self.depth.set(depth + 1);
        let out = f();
        self.depth.set(depth);
        let end = if out.is_ok() { done } else { undo };
        // Ended apart from the `if`: the connection's borrow must not last into the
        // rollback below (a server gone mid-transaction fails the commit).
        let ended = self.c().batch_execute(end);
        if let Err(e) = ended {
            if depth == 0 {
                let _ = self.c().batch_execute("ROLLBACK");
            }
            return out.and(Err(self.e(e)));
        }
        out
    }

    /// A write transaction (or a savepoint inside the caller's).
    pub(super) fn write<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.in_transaction("BEGIN", f)
    }

    /// Runs `f` inside one repeatable-read transaction: every query sees the same committed
    /// state, whatever another machine commits meanwhile (SQLite's read snapshot).
    pub fn snapshot<T>(&self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.in_transaction("BEGIN ISOLATION LEVEL REPEATABLE READ", f)
    }

    pub(super) fn meta(&self, key: &str) -> Result<Option<String>> {
        let row = self
            .c()
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&key])
            .map_err(|e| self.e(e))?;
        row.map(|r| r.try_get(0)).transpose().map_err(|e| self.e(e))
    }

    /// Creates the schema on first use, or brings an older one up to date; refuses a newer.
    fn init(&self) -> Result<()> {
        let has_meta: bool = self
            .c()
            .query_one("SELECT to_regclass('meta') IS NOT NULL", &[])
            .and_then(|r| r.try_get(0))
            .map_err(|e| self.e(e))?;
        if !has_meta {
            // Two machines creating one store at once: the lock makes the second wait, and
            // `IF NOT EXISTS` lets it find the first one's tables.
            return self.write(|| {
                let mut c = self.c();
                c.batch_execute("SELECT pg_advisory_xact_lock(1)")
                    .and_then(|()| c.batch_execute(include_str!("../schema_pg.sql")))
                    .and_then(|()| c.batch_execute(HOST_SLOTS))
                    .and_then(|()| c.batch_execute(JOBS))
                    .and_then(|()| c.batch_execute(RESUME_STATE))
                    .and_then(|()| c.batch_execute(CLAUSES))
                    .and_then(|()| c.batch_execute(FEED_LEASES))
                    .and_then(|()| c.batch_execute(JOB_ITEMS))
                    .and_then(|()| c.batch_execute(FEED_FORGOTTEN))
                    .and_then(|()| {
                        c.execute(
                            "INSERT INTO meta(key, value) VALUES ('schema_version', $1)
                             ON CONFLICT (key) DO NOTHING",
                            &[&PG_SCHEMA_VERSION.to_string()],
                        )
                    })
                    .map_err(|e| self.e(e))?;
                Ok(())
            });
        }
        let found: i64 = self
            .meta("schema_version")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if !(1..=PG_SCHEMA_VERSION).contains(&found) {
            return Err(Error::SchemaVersion {
                path: self.shown.clone(),
                found,
                supported: PG_SCHEMA_VERSION,
            });
        }
        for (step, sql) in PG_MIGRATIONS.iter().enumerate().skip(found as usize - 1) {
            let version = step as i64 + 2;
            self.write(|| {
                let mut c = self.c();
                c.batch_execute(sql)
                    .and_then(|()| {
                        c.execute(
                            "UPDATE meta SET value = $1 WHERE key = 'schema_version'",
                            &[&version.to_string()],
                        )
                    })
                    .map_err(|e| self.e(e))?;
                Ok(())
            })?;
        }
        Ok(())
    }
}

impl Drop for PgStore {
    /// Closing the client runs its runtime too: on a thread of its own, as in `open`.
    fn drop(&mut self) {
        if let Some(client) = self.client.get_mut().take() {
            close_off_thread(client);
        }
    }
}

/// Closes a client on a thread of its own: dropping the sync client runs its runtime,
/// which may not run on a thread that runs async tasks (see `PgStore::open`).
pub(super) fn close_off_thread(client: Client) {
    if let Ok(closing) = std::thread::Builder::new().spawn(move || drop(client)) {
        let _ = closing.join();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_postgres_and_messages_hide_the_password() {
        assert!(is_url(Path::new("postgres://u@h/db")));
        assert!(is_url(Path::new("postgresql://h/db")));
        assert!(!is_url(Path::new("storyline.db")));
        assert!(!is_url(Path::new("./postgres://x")));
        assert_eq!(
            without_password("postgresql://ann:secret@db.example:5432/news"),
            "postgresql://ann:***@db.example:5432/news"
        );
        assert_eq!(
            without_password("postgres://ann@db/news"),
            "postgres://ann@db/news"
        );
        assert_eq!(without_password("postgres://db/news"), "postgres://db/news");
    }
}
