//! The schema and its upgrades: a new store gets `schema.sql`; an older one is brought up
//! to date one version at a time.

use rusqlite::{params, Connection};

use super::{annotations, SqliteStore};
use crate::core::{EntityKind, Sentence, Span};
use crate::error::{Error, Result};
use crate::extract::Mention;

/// Version of the schema this build writes. Stores from newer builds are refused.
pub const SCHEMA_VERSION: i64 = 16;

/// One step of the schema: SQL, then, when rows must be rewritten in a way SQL cannot
/// (blobs encoded in Rust), a function run after it in the same transaction.
struct Migration {
    sql: &'static str,
    data: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

const fn sql(sql: &'static str) -> Migration {
    Migration { sql, data: None }
}

/// The step that takes a store from version `i + 1` to `i + 2`.
const MIGRATIONS: &[Migration] = &[
    // 1 → 2: mentions keep the role the text gives a person (title or apposition).
    sql("ALTER TABLE mentions ADD COLUMN role TEXT;"),
    // 2 → 3: events keep extra clustering signals (years named, embedding centroid).
    sql("ALTER TABLE events ADD COLUMN signals TEXT NOT NULL DEFAULT '{}';"),
    // 3 → 4: narrow covering indexes, so search maps every match to its story and applies
    // its filters without reading the article rows (which hold the whole text).
    sql(
        "CREATE INDEX IF NOT EXISTS articles_keys ON articles(id, event_id, published, source);
     CREATE INDEX IF NOT EXISTS events_keys ON events(id, story_id);",
    ),
    // 4 → 5: stories keep their members' summed TF-IDF norms, for average-link linking.
    // 0 on old rows: the clusterer then estimates it from the centroid.
    sql("ALTER TABLE stories ADD COLUMN norm_sum REAL NOT NULL DEFAULT 0;"),
    // 5 → 6: the search index is filled per batch by `commit_batch`, no longer per row by a
    // trigger (each row's statement savepoint made FTS5 write a segment per article). Rows
    // indexed so far stay indexed; a build of version 5 would no longer index, so it is
    // refused by the version check.
    // FTS5 keeps a whole batch in memory before writing its segment (`hashsize`, a setting
    // stored in the index).
    sql("DROP TRIGGER IF EXISTS articles_fts_insert;
     INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize', 8388608);"),
    // 6 → 7: document-frequency increments are logged per batch and folded into `vocab` now
    // and then (updating it every batch rewrote most of its pages), and `vocab` loses the
    // index on its text, which no query used and which took an insert at a random place per
    // new term.
    sql(
        "CREATE TABLE vocab_v7 (id INTEGER PRIMARY KEY, term TEXT NOT NULL, df INTEGER NOT NULL);
     INSERT INTO vocab_v7(id, term, df) SELECT id, term, df FROM vocab;
     DROP TABLE vocab;
     ALTER TABLE vocab_v7 RENAME TO vocab;
     CREATE TABLE IF NOT EXISTS vocab_pending (id INTEGER PRIMARY KEY, increments BLOB NOT NULL);",
    ),
    // 7 → 8: the search index merges its segments 16 at a time (a setting stored in the
    // index); what is indexed already stays as it is.
    sql("INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 16);"),
    // 8 → 9: sentences and mentions become one `annotations` row an article.
    Migration {
        sql: "CREATE TABLE annotations (
                  article_id  INTEGER PRIMARY KEY REFERENCES articles(id),
                  sentences   BLOB NOT NULL,
                  mentions    BLOB NOT NULL
              );",
        data: Some(fold_annotations),
    },
    // 9 → 10: stories get a revision and a stored report. Existing stories start at their
    // last sequence number (every later batch writes a higher one); their reports are made
    // on first read.
    sql(
        "CREATE TABLE IF NOT EXISTS story_reports (
             story_id         INTEGER PRIMARY KEY,
             revision         INTEGER NOT NULL,
             report_revision  INTEGER,
             headline         TEXT,
             report           TEXT
         );
         INSERT OR IGNORE INTO story_reports(story_id, revision) SELECT id, last_seq FROM stories;",
    ),
    // 10 → 11: followed feeds and the items taken from them.
    sql(include_str!("feeds.sql")),
    // 11 → 12: a story's articles in date order come from an index (the article rows hold
    // the text a row walk passes), and a stored report keeps its story's source list. The
    // reports stored before have none and are made again on their next read.
    sql("DROP INDEX IF EXISTS articles_event;
         CREATE INDEX IF NOT EXISTS articles_event_order
             ON articles(event_id, published, seq, duplicate_of);
         ALTER TABLE story_reports ADD COLUMN sources BLOB;"),
    // 12 → 13: turns at a host, shared by every follower of the store.
    sql(include_str!("hosts.sql")),
    // 13 → 14: what a restored clusterer needs to go on exactly as the live one would.
    sql(include_str!("resume.sql")),
    // 14 → 15: an article's clauses are made at ingest and kept with its annotations. Rows
    // stored before have none (NULL): a report makes those from the text, as it did.
    sql("ALTER TABLE annotations ADD COLUMN clauses BLOB;"),
    // 15 → 16: feed leases, so followers sharing the store never poll a feed twice.
    sql(include_str!("feed_leases.sql")),
];

/// The 8 → 9 step's data: each article's sentence and mention rows, encoded, into
/// `annotations`; then the old tables go.
fn fold_annotations(conn: &Connection) -> rusqlite::Result<()> {
    let ids: Vec<i64> = conn
        .prepare("SELECT id FROM articles ORDER BY id")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut sentences =
        conn.prepare("SELECT idx, start, end FROM sentences WHERE article_id = ?1 ORDER BY idx")?;
    let mut mentions = conn.prepare(
        "SELECT name, kind, start, end, initial, role FROM mentions
         WHERE article_id = ?1 ORDER BY rowid",
    )?;
    let mut insert = conn
        .prepare("INSERT INTO annotations(article_id, sentences, mentions) VALUES (?1, ?2, ?3)")?;
    for id in ids {
        let s: Vec<Sentence> = sentences
            .query_map([id], |r| {
                Ok(Sentence {
                    idx: r.get::<_, i64>(0)? as usize,
                    span: Span {
                        start: r.get::<_, i64>(1)? as usize,
                        end: r.get::<_, i64>(2)? as usize,
                    },
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let m: Vec<Mention> = mentions
            .query_map([id], |r| {
                Ok(Mention {
                    name: r.get(0)?,
                    kind: EntityKind::parse(&r.get::<_, String>(1)?),
                    span: Span {
                        start: r.get::<_, i64>(2)? as usize,
                        end: r.get::<_, i64>(3)? as usize,
                    },
                    sentence_initial: r.get(4)?,
                    role: r.get(5)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        insert.execute(params![
            id,
            annotations::encode_sentences(&s),
            annotations::encode_mentions(&m)
        ])?;
    }
    conn.execute_batch("DROP TABLE mentions; DROP TABLE sentences;")
}

impl SqliteStore {
    /// Sets the connection up and creates or upgrades the schema.
    pub(super) fn init(&self) -> Result<()> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| self.e(e))?;
        annotations::register(&self.conn).map_err(|e| self.e(e))?;
        // 16 KiB pages in a new store (an existing one keeps its own): an ingest writes
        // every page twice, to the log and then the file, a system call each. On 4 KiB
        // pages system time was 11 % of ingest CPU; 16 KiB pages cut it by a fifth and
        // ingest CPU by about 4 % (`bench ingest --articles 20000`), and search was no
        // slower.
        self.conn
            .execute_batch(
                "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; \
                 PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
            )
            .map_err(|e| self.e(e))?;
        let has_meta: bool = self
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(|e| self.e(e))?
            > 0;
        if has_meta {
            let found: i64 = self
                .meta("schema_version")?
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if !(1..=SCHEMA_VERSION).contains(&found) {
                return Err(Error::SchemaVersion {
                    path: self.path.clone(),
                    found,
                    supported: SCHEMA_VERSION,
                });
            }
            return self.migrate(found);
        }
        let tx = self.conn.unchecked_transaction().map_err(|e| self.e(e))?;
        tx.execute_batch(include_str!("schema.sql"))
            .map_err(|e| self.e(e))?;
        tx.execute_batch(include_str!("feeds.sql"))
            .map_err(|e| self.e(e))?;
        tx.execute_batch(include_str!("hosts.sql"))
            .map_err(|e| self.e(e))?;
        tx.execute_batch(include_str!("resume.sql"))
            .map_err(|e| self.e(e))?;
        tx.execute_batch(include_str!("feed_leases.sql"))
            .map_err(|e| self.e(e))?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )
        .map_err(|e| self.e(e))?;
        tx.commit().map_err(|e| self.e(e))
    }

    /// Upgrades a store written by an older version, one step per version, each step in
    /// its own transaction.
    fn migrate(&self, mut version: i64) -> Result<()> {
        while version < SCHEMA_VERSION {
            let step = &MIGRATIONS[(version - 1) as usize];
            let tx = self.conn.unchecked_transaction().map_err(|e| self.e(e))?;
            tx.execute_batch(step.sql).map_err(|e| self.e(e))?;
            if let Some(data) = step.data {
                data(&tx).map_err(|e| self.e(e))?;
            }
            version += 1;
            tx.execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [version.to_string()],
            )
            .map_err(|e| self.e(e))?;
            tx.commit().map_err(|e| self.e(e))?;
        }
        Ok(())
    }
}
