//! The embedded store: one SQLite file. The only module that writes SQL.
//!
//! Each ingest batch is one transaction holding its articles, their sentences and mentions
//! (one `annotations` row an article),
//! and the clusterer's changed state, so a crash leaves either the whole batch or none of it.
//! WAL mode lets readers (CLI, API) read while an ingest writes.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::cluster::{ChangeSet, EventSnapshot, Snapshot, StorySnapshot, TermId};
use crate::core::{Article, ArticleId, EntityKind, EventId, Sentence, Span, StoryId};
use crate::dedup::Signature;
use crate::error::{Error, Result};
use crate::extract::Mention;

mod annotations;
mod query;
pub use query::{
    ArticleFilter, ArticleHit, ArticleRow, SearchHits, StoryFilter, StoryHit, SNIPPET_END,
    SNIPPET_START,
};

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

/// Version of the schema this build writes. Stores from newer builds are refused.
pub const SCHEMA_VERSION: i64 = 9;

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

/// Batches whose document-frequency increments wait in `vocab_pending` before they are
/// added to `vocab`: a fold rewrites the vocabulary's pages once instead of once a batch,
/// and a store opens by summing at most this many small rows.
const VOCAB_FOLD_BATCHES: i64 = 32;

/// `(term id, increment)` pairs as little-endian u32 pairs, the layout of `vocab_pending`.
fn increments_to_bytes(increments: &[(u32, u32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(increments.len() * 8);
    for (id, inc) in increments {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&inc.to_le_bytes());
    }
    out
}

/// Document-frequency increments logged since the last fold, summed per term id.
fn pending_df(conn: &Connection) -> rusqlite::Result<HashMap<u32, u32>> {
    let mut stmt = conn.prepare_cached("SELECT increments FROM vocab_pending")?;
    let blobs = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut sum: HashMap<u32, u32> = HashMap::new();
    for (id, inc) in blobs.iter().flat_map(|b| increments_from_bytes(b)) {
        *sum.entry(id).or_default() += inc;
    }
    Ok(sum)
}

/// Adds the pending document-frequency increments to `vocab` and clears them.
fn fold_pending_df(conn: &Connection) -> rusqlite::Result<()> {
    let mut sum: Vec<(u32, u32)> = pending_df(conn)?.into_iter().collect();
    // In id order, so the updates walk the table's pages once, front to back.
    sum.sort_unstable();
    let mut df_stmt = conn.prepare_cached("UPDATE vocab SET df = df + ?2 WHERE id = ?1")?;
    for (id, inc) in sum {
        df_stmt.execute(params![id, inc])?;
    }
    conn.execute("DELETE FROM vocab_pending", [])?;
    Ok(())
}

fn increments_from_bytes(bytes: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    bytes.chunks_exact(8).map(|c| {
        (
            u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
            u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
        )
    })
}

/// Centroid weights (by term id) as stored: `(term id u32, weight f32)` pairs,
/// little-endian.
fn weights_to_bytes(weights: &[(TermId, f32)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(weights.len() * 8);
    for (id, w) in weights {
        out.extend_from_slice(&id.to_le_bytes());
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

fn weights_from_bytes(bytes: &[u8]) -> Vec<(TermId, f32)> {
    bytes
        .chunks_exact(8)
        .map(|c| {
            (
                u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                f32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            )
        })
        .collect()
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

fn time_to_sql(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn time_from_sql(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
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
            source,
        }
    }

    fn e(&self, source: rusqlite::Error) -> Error {
        Self::err(&self.path, source)
    }

    fn init(&self) -> Result<()> {
        self.conn
            .busy_timeout(std::time::Duration::from_secs(30))
            .map_err(|e| self.e(e))?;
        annotations::register(&self.conn).map_err(|e| self.e(e))?;
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
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

    /// What the clusterer restores itself from: the live events and stories and the
    /// vocabulary.
    pub fn cluster_snapshot(&self) -> Result<Snapshot> {
        let n_docs: u64 = self
            .meta("n_docs")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let seq: u64 = self.meta("seq")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let clock = time_from_sql(self.meta("clock")?);
        let mut stmt = self
            .conn
            .prepare("SELECT id, term, df FROM vocab")
            .map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, u32>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        let pending = pending_df(&self.conn).map_err(|e| self.e(e))?;
        let mut rows = rows;
        for (id, _, df) in &mut rows {
            *df += pending.get(id).copied().unwrap_or(0);
        }

        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, story_id, first_time, last_time, n_articles, centroid, entities, last_seq,
                        signals
                 FROM events WHERE live = 1",
            )
            .map_err(|e| self.e(e))?;
        let raw_events = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, u64>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, u64>(7)?,
                    r.get::<_, String>(8)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        let events = raw_events
            .into_iter()
            .map(
                |(id, story, first, last, n, centroid, ents, last_seq, signals)| EventSnapshot {
                    id,
                    story,
                    first_time: time_from_sql(first),
                    last_time: time_from_sql(last),
                    n_articles: n,
                    centroid: weights_from_bytes(&centroid),
                    entities: serde_json::from_str(&ents).unwrap_or_default(),
                    last_seq,
                    signals: serde_json::from_str(&signals).unwrap_or_default(),
                },
            )
            .collect();
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, first_time, last_time, n_articles, n_events, centroid, last_seq, norm_sum
                 FROM stories WHERE live = 1",
            )
            .map_err(|e| self.e(e))?;
        let raw_stories = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, u64>(3)?,
                    r.get::<_, u64>(4)?,
                    r.get::<_, Vec<u8>>(5)?,
                    r.get::<_, u64>(6)?,
                    r.get::<_, f64>(7)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        let stories = raw_stories
            .into_iter()
            .map(
                |(id, first, last, n, n_events, centroid, last_seq, norm_sum)| StorySnapshot {
                    id,
                    first_time: time_from_sql(first),
                    last_time: time_from_sql(last),
                    n_articles: n,
                    n_events,
                    centroid: weights_from_bytes(&centroid),
                    last_seq,
                    norm_sum: norm_sum as f32,
                },
            )
            .collect();
        let next = |table: &str| -> Result<i64> {
            self.conn
                .query_row(
                    &format!("SELECT coalesce(max(id), 0) + 1 FROM {table}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.e(e))
        };
        Ok(Snapshot {
            terms: rows,
            n_docs,
            events,
            stories,
            next_event: next("events")?,
            next_story: next("stories")?,
            clock,
            seq,
        })
    }

    /// The clusterer sequence number as last committed; a writer compares it with its own
    /// to notice another writer.
    pub fn committed_seq(&self) -> Result<u64> {
        Ok(self.meta("seq")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The `limit` most recent signatures, oldest first, each with its copy chain's
    /// original and that original's event. Those of the first MinHash family are made again
    /// ([`Store::sign_again`]).
    pub fn recent_signatures(&self, limit: usize) -> Result<Vec<StoredSignature>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.minhash, o.id, o.event_id FROM articles a
                 JOIN articles o ON o.id = coalesce(a.duplicate_of, a.id)
                 WHERE a.minhash IS NOT NULL ORDER BY a.id DESC LIMIT ?1",
            )
            .map_err(|e| self.e(e))?;
        let mut rows = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        rows.reverse();
        let decoded: Vec<(ArticleId, Option<Signature>, ArticleId, EventId)> = rows
            .into_iter()
            .map(|(id, bytes, original, event)| {
                (id, Signature::from_bytes(&bytes), original, event)
            })
            .collect();
        let stale: Vec<ArticleId> = decoded
            .iter()
            .filter(|(_, sig, _, _)| sig.is_none())
            .map(|(id, _, _, _)| *id)
            .collect();
        let mut fresh = if stale.is_empty() {
            HashMap::new()
        } else {
            self.sign_again(&stale)?
        };
        Ok(decoded
            .into_iter()
            .filter_map(|(id, sig, original, original_event)| {
                let signature = sig.or_else(|| fresh.remove(&id).flatten())?;
                Some(StoredSignature {
                    id,
                    signature,
                    original,
                    original_event,
                })
            })
            .collect())
    }

    /// Signs articles again from their stored (cleaned) text, as ingest does, and stores
    /// the new signatures, so it happens once: for signatures written by a build with the
    /// first MinHash family, which no signature made now can be compared with.
    fn sign_again(&self, ids: &[ArticleId]) -> Result<HashMap<ArticleId, Option<Signature>>> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.e(e))?;
        let mut out = HashMap::with_capacity(ids.len());
        {
            let mut text_stmt = tx
                .prepare("SELECT text FROM articles WHERE id = ?1")
                .map_err(|e| self.e(e))?;
            let mut update = tx
                .prepare("UPDATE articles SET minhash = ?2 WHERE id = ?1")
                .map_err(|e| self.e(e))?;
            for &id in ids {
                let text: String = text_stmt
                    .query_row([id], |r| r.get(0))
                    .map_err(|e| self.e(e))?;
                let sig = Signature::from_words(&crate::normalize::WordList::of(&text).words());
                update
                    .execute(params![id, sig.as_ref().map(Signature::to_bytes)])
                    .map_err(|e| self.e(e))?;
                out.insert(id, sig);
            }
        }
        tx.commit().map_err(|e| self.e(e))?;
        Ok(out)
    }

    /// Which of these external ids are stored already.
    pub fn existing_ids(&self, ids: &[&str]) -> Result<HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM articles WHERE ext_id = ?1")
            .map_err(|e| self.e(e))?;
        let mut found = HashSet::new();
        for id in ids {
            if stmt.exists([id]).map_err(|e| self.e(e))? {
                found.insert(id.to_string());
            }
        }
        Ok(found)
    }

    pub fn next_article_id(&self) -> Result<ArticleId> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) + 1 FROM articles", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.e(e))
    }

    /// Writes one batch and the clusterer's changes in a single transaction. `seq_before` is
    /// the sequence the writer started the batch from; if the store has moved on, another
    /// writer got there first and nothing is written.
    pub fn commit_batch(
        &mut self,
        batch: &[NewArticle<'_>],
        changes: &ChangeSet,
        seq_before: u64,
        seq_after: u64,
        clock: Option<DateTime<Utc>>,
    ) -> Result<()> {
        let path = self.path.clone();
        let e = |source| Self::err(&path, source);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        let committed: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map_err(e)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if committed != seq_before {
            return Err(Error::Invalid(format!(
                "{}: another ingest wrote to this store meanwhile; run one ingest at a time",
                path.display()
            )));
        }
        {
            let mut story_stmt = tx
                .prepare_cached(
                    "INSERT INTO stories(id, first_time, last_time, n_articles, n_events, centroid, last_seq, live, norm_sum)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8)
                     ON CONFLICT(id) DO UPDATE SET first_time = excluded.first_time,
                       last_time = excluded.last_time, n_articles = excluded.n_articles,
                       n_events = excluded.n_events, centroid = excluded.centroid,
                       last_seq = excluded.last_seq, live = 1, norm_sum = excluded.norm_sum",
                )
                .map_err(e)?;
            for s in &changes.stories {
                story_stmt
                    .execute(params![
                        s.id,
                        time_to_sql(s.first_time),
                        time_to_sql(s.last_time),
                        s.n_articles,
                        s.n_events,
                        weights_to_bytes(&s.centroid),
                        s.last_seq,
                        s.norm_sum
                    ])
                    .map_err(e)?;
            }
            let mut event_stmt = tx
                .prepare_cached(
                    "INSERT INTO events(id, story_id, first_time, last_time, n_articles, centroid, entities, last_seq, live, signals)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9)
                     ON CONFLICT(id) DO UPDATE SET story_id = excluded.story_id,
                       first_time = excluded.first_time, last_time = excluded.last_time,
                       n_articles = excluded.n_articles, centroid = excluded.centroid,
                       entities = excluded.entities, last_seq = excluded.last_seq, live = 1,
                       signals = excluded.signals",
                )
                .map_err(e)?;
            for ev in &changes.events {
                let ents = serde_json::to_string(&ev.entities).unwrap_or_else(|_| "{}".into());
                let signals = serde_json::to_string(&ev.signals).unwrap_or_else(|_| "{}".into());
                event_stmt
                    .execute(params![
                        ev.id,
                        ev.story,
                        time_to_sql(ev.first_time),
                        time_to_sql(ev.last_time),
                        ev.n_articles,
                        weights_to_bytes(&ev.centroid),
                        ents,
                        ev.last_seq,
                        signals
                    ])
                    .map_err(e)?;
            }
            let mut retire_event = tx
                .prepare_cached("UPDATE events SET live = 0 WHERE id = ?1")
                .map_err(e)?;
            for id in &changes.retired_events {
                retire_event.execute([id]).map_err(e)?;
            }
            let mut retire_story = tx
                .prepare_cached("UPDATE stories SET live = 0 WHERE id = ?1")
                .map_err(e)?;
            for id in &changes.retired_stories {
                retire_story.execute([id]).map_err(e)?;
            }
            let mut article_stmt = tx
                .prepare_cached(
                    "INSERT INTO articles(id, ext_id, title, source, url, published, lang, text, origin,
                       fingerprint, minhash, duplicate_of, event_id, seq)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                )
                .map_err(e)?;
            for a in batch {
                let art = a.article;
                article_stmt
                    .execute(params![
                        a.row_id,
                        art.id,
                        art.title,
                        art.source,
                        art.url,
                        time_to_sql(art.published),
                        art.lang,
                        art.text,
                        a.origin,
                        a.fingerprint as i64,
                        a.signature.map(Signature::to_bytes),
                        a.duplicate_of,
                        a.event,
                        a.seq as i64
                    ])
                    .map_err(e)?;
            }
            let mut annotate = tx
                .prepare_cached(
                    "INSERT INTO annotations(article_id, sentences, mentions) VALUES (?1, ?2, ?3)",
                )
                .map_err(e)?;
            for a in batch {
                annotate
                    .execute(params![
                        a.row_id,
                        annotations::encode_sentences(a.sentences),
                        annotations::encode_mentions(a.mentions)
                    ])
                    .map_err(e)?;
            }
            // The batch's rows into the search index in one statement: FTS5 keeps them in
            // memory and writes one segment (a statement per row would write one each).
            if let (Some(first), Some(last)) = (
                batch.iter().map(|a| a.row_id).min(),
                batch.iter().map(|a| a.row_id).max(),
            ) {
                tx.prepare_cached(
                    "INSERT INTO articles_fts(rowid, title, text)
                     SELECT id, title, text FROM articles WHERE id BETWEEN ?1 AND ?2",
                )
                .and_then(|mut s| s.execute(params![first, last]))
                .map_err(e)?;
            }
            // Merges last, once every row they touch exists; each target is resolved to
            // where it finally went so no row ever points at a dropped event or story.
            for &(from, _) in &changes.merged_events {
                let into = changes.resolve_event(from);
                tx.execute(
                    "UPDATE articles SET event_id = ?2 WHERE event_id = ?1",
                    params![from, into],
                )
                .map_err(e)?;
                tx.execute("DELETE FROM events WHERE id = ?1", [from])
                    .map_err(e)?;
            }
            for &(from, _) in &changes.merged_stories {
                let into = changes.resolve_story(from);
                tx.execute(
                    "UPDATE events SET story_id = ?2 WHERE story_id = ?1",
                    params![from, into],
                )
                .map_err(e)?;
                tx.execute("DELETE FROM stories WHERE id = ?1", [from])
                    .map_err(e)?;
            }
            let mut new_term = tx
                .prepare_cached("INSERT OR REPLACE INTO vocab(id, term, df) VALUES (?1, ?2, 0)")
                .map_err(e)?;
            for (id, term) in &changes.terms.new_terms {
                new_term.execute(params![id, term]).map_err(e)?;
            }
            if !changes.terms.df_increments.is_empty() {
                tx.prepare_cached("INSERT INTO vocab_pending(increments) VALUES (?1)")
                    .and_then(|mut s| {
                        s.execute([increments_to_bytes(&changes.terms.df_increments)])
                    })
                    .map_err(e)?;
            }
            // A forgotten id may be handed out again in a later batch: its pending
            // increments go into its row before the row goes, so none land on the new term.
            let fold_due = !changes.terms.forgotten.is_empty()
                || tx
                    .query_row("SELECT count(*) FROM vocab_pending", [], |r| {
                        r.get::<_, i64>(0)
                    })
                    .map_err(e)?
                    >= VOCAB_FOLD_BATCHES;
            if fold_due {
                fold_pending_df(&tx).map_err(e)?;
            }
            let mut forget = tx
                .prepare_cached("DELETE FROM vocab WHERE id = ?1")
                .map_err(e)?;
            for id in &changes.terms.forgotten {
                forget.execute([id]).map_err(e)?;
            }
            let mut meta_stmt = tx
                .prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)")
                .map_err(e)?;
            meta_stmt
                .execute(params!["n_docs", changes.n_docs.to_string()])
                .map_err(e)?;
            meta_stmt
                .execute(params!["seq", seq_after.to_string()])
                .map_err(e)?;
            if let Some(c) = time_to_sql(clock) {
                meta_stmt.execute(params!["clock", c]).map_err(e)?;
            }
        }
        tx.commit().map_err(e)
    }

    pub fn counts(&self) -> Result<Counts> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM articles),
                        (SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL),
                        (SELECT count(*) FROM events), (SELECT count(*) FROM stories)",
                [],
                |r| {
                    Ok(Counts {
                        articles: r.get(0)?,
                        duplicates: r.get(1)?,
                        events: r.get(2)?,
                        stories: r.get(3)?,
                    })
                },
            )
            .map_err(|e| self.e(e))
    }

    /// Stories, most recently active first (undated ones after dated, then by size).
    pub fn stories(&self, limit: usize, offset: usize) -> Result<Vec<StoryRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, first_time, last_time, n_articles, n_events FROM stories
                 ORDER BY last_time IS NULL, last_time DESC, n_articles DESC, id
                 LIMIT ?1 OFFSET ?2",
            )
            .map_err(|e| self.e(e))?;
        stmt.query_map(params![limit as i64, offset as i64], Self::story_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))
    }

    pub fn story(&self, id: StoryId) -> Result<StoryRow> {
        self.conn
            .query_row(
                "SELECT id, first_time, last_time, n_articles, n_events FROM stories WHERE id = ?1",
                [id],
                Self::story_row,
            )
            .optional()
            .map_err(|e| self.e(e))?
            .ok_or(Error::NotFound {
                what: "story",
                id: id.to_string(),
            })
    }

    fn story_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoryRow> {
        Ok(StoryRow {
            id: r.get(0)?,
            first_time: time_from_sql(r.get(1)?),
            last_time: time_from_sql(r.get(2)?),
            n_articles: r.get(3)?,
            n_events: r.get(4)?,
        })
    }

    /// Every article of a story, in date order (undated last), with sentences and mentions.
    pub fn story_articles(&self, story: StoryId) -> Result<Vec<StoredArticle>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.ext_id, a.title, a.source, a.url, a.published, a.lang, a.text,
                        a.event_id, a.duplicate_of
                 FROM articles a JOIN events e ON a.event_id = e.id
                 WHERE e.story_id = ?1
                 ORDER BY a.published IS NULL, a.published, a.seq",
            )
            .map_err(|e| self.e(e))?;
        let mut articles: Vec<StoredArticle> = stmt
            .query_map([story], |r| {
                Ok(StoredArticle {
                    row_id: r.get(0)?,
                    article: Article {
                        id: r.get(1)?,
                        title: r.get(2)?,
                        source: r.get(3)?,
                        url: r.get(4)?,
                        published: time_from_sql(r.get(5)?),
                        lang: r.get(6)?,
                        text: r.get(7)?,
                    },
                    event: r.get(8)?,
                    duplicate_of: r.get(9)?,
                    sentences: Vec::new(),
                    mentions: Vec::new(),
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        for a in &mut articles {
            (a.sentences, a.mentions) = self.annotations(a.row_id)?;
        }
        Ok(articles)
    }

    /// An article's sentences and mentions; none for an article stored without them.
    fn annotations(&self, article: ArticleId) -> Result<(Vec<Sentence>, Vec<Mention>)> {
        let blobs: Option<(Vec<u8>, Vec<u8>)> = self
            .conn
            .prepare_cached("SELECT sentences, mentions FROM annotations WHERE article_id = ?1")
            .and_then(|mut stmt| {
                stmt.query_row([article], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.e(e))?;
        let Some((sentences, mentions)) = blobs else {
            return Ok((Vec::new(), Vec::new()));
        };
        Ok((
            annotations::decode_sentences(&sentences)
                .map_err(|_| self.corrupt("sentences", article))?,
            annotations::decode_mentions(&mentions)
                .map_err(|_| self.corrupt("mentions", article))?,
        ))
    }

    /// The error for an `annotations` blob of article row `article` that does not decode.
    fn corrupt(&self, what: &str, article: ArticleId) -> Error {
        Error::Invalid(format!(
            "{}: the {what} of article row {article} do not decode",
            self.path.display()
        ))
    }

    /// Every mention in the store with its article's external id.
    pub fn all_mentions(&self) -> Result<Vec<(String, Mention)>> {
        self.mentions_where("", [])
    }

    /// The mentions in one story's articles.
    pub fn story_mentions(&self, story: StoryId) -> Result<Vec<(String, Mention)>> {
        self.mentions_where(
            "WHERE a.event_id IN (SELECT id FROM events WHERE story_id = ?1)",
            [story],
        )
    }

    fn mentions_where<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<(String, Mention)>> {
        let sql = format!(
            "SELECT a.ext_id, m.article_id, m.mentions
             FROM annotations m JOIN articles a ON a.id = m.article_id {filter} ORDER BY a.seq"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.e(e))?;
        let mut rows = stmt.query(params).map_err(|e| self.e(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.e(e))? {
            let ext_id: String = r.get(0).map_err(|e| self.e(e))?;
            let row: ArticleId = r.get(1).map_err(|e| self.e(e))?;
            let blob = r
                .get_ref(2)
                .and_then(|v| Ok(v.as_blob()?))
                .map_err(|e| self.e(e))?;
            let mentions =
                annotations::decode_mentions(blob).map_err(|_| self.corrupt("mentions", row))?;
            out.extend(mentions.into_iter().map(|m| (ext_id.clone(), m)));
        }
        Ok(out)
    }

    /// `(external id, event, story)` for every stored article, in ingest order.
    pub fn assignments(&self) -> Result<Vec<(String, EventId, StoryId)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.ext_id, a.event_id, e.story_id FROM articles a
                 JOIN events e ON a.event_id = e.id ORDER BY a.seq",
            )
            .map_err(|e| self.e(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))
    }

    /// Number of events per story, for the events of one story.
    pub fn story_events(&self, story: StoryId) -> Result<HashMap<EventId, u64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, n_articles FROM events WHERE story_id = ?1")
            .map_err(|e| self.e(e))?;
        stmt.query_map([story], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The row trigger that filled the search index up to version 5.
    const FTS_TRIGGER: &str = "
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END;";

    fn triggers(store: &Store) -> i64 {
        store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// Version 8's tables for sentences and mentions, a row each.
    const V8_ROW_TABLES: &str = "
CREATE TABLE IF NOT EXISTS sentences (
    article_id  INTEGER NOT NULL REFERENCES articles(id),
    idx         INTEGER NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    PRIMARY KEY (article_id, idx)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS mentions (
    article_id  INTEGER NOT NULL REFERENCES articles(id),
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    start       INTEGER NOT NULL,
    end         INTEGER NOT NULL,
    initial     INTEGER NOT NULL,
    role        TEXT
);
CREATE INDEX IF NOT EXISTS mentions_article ON mentions(article_id);
";

    /// The schema of version 8: sentences and mentions in rows, not `annotations` (9).
    fn schema_v8(schema: &str) -> String {
        let start = schema
            .find("CREATE TABLE IF NOT EXISTS annotations")
            .unwrap();
        let end = start + schema[start..].find(");").unwrap() + 2;
        format!("{}{V8_ROW_TABLES}{}", &schema[..start], &schema[end..])
    }

    /// The schema of version 3: without the two covering indexes search relies on (4),
    /// without stories.norm_sum (5), with the search index's row trigger (until 6).
    fn schema_v3(schema: &str) -> String {
        let v3: String = schema_v8(schema)
            .lines()
            .filter(|l| !l.contains("articles_keys") && !l.contains("events_keys"))
            .map(|l| format!("{l}\n"))
            .collect();
        let v3 = v3.replace(
            "    live        INTEGER NOT NULL DEFAULT 1,\n    norm_sum    REAL NOT NULL DEFAULT 0\n",
            "    live        INTEGER NOT NULL DEFAULT 1\n",
        );
        assert!(
            !v3.contains("_keys") && !v3.contains("norm_sum"),
            "v3 schema rebuilt"
        );
        v3 + FTS_TRIGGER
    }

    /// A store at `dir/v{version}.db` as an older build left it: `schema`, then `rows`, then
    /// the version in `meta`.
    fn old_store(dir: &Path, version: i64, schema: &str, rows: &str) -> PathBuf {
        let path = dir.join(format!("v{version}.db"));
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(schema).unwrap();
        conn.execute_batch(rows).unwrap();
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
            [version.to_string()],
        )
        .unwrap();
        path
    }

    fn key_indexes(store: &Store) -> i64 {
        store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master
                 WHERE type = 'index' AND name IN ('articles_keys', 'events_keys')",
                [],
                |r| r.get(0),
            )
            .unwrap()
    }

    /// A story, an event and one article, inserted as an ingest batch would leave them.
    const ONE_STORY: &str = "
        INSERT INTO stories(id, n_articles, n_events, centroid, last_seq)
          VALUES (1, 1, 1, x'', 1);
        INSERT INTO events(id, story_id, n_articles, centroid, entities, last_seq)
          VALUES (1, 1, 1, x'', '{}', 1);
        INSERT INTO articles(id, ext_id, title, text, origin, fingerprint, event_id, seq)
          VALUES (1, 'a1', 'Ferry line opens', 'The ferry line opened today.', 'test', 0, 1, 1);";

    #[test]
    fn a_snapshot_reads_one_state_while_another_connection_commits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = Store::open(&path).unwrap();
        store.conn.execute_batch(ONE_STORY).unwrap();
        let writer = Store::open(&path).unwrap();
        let seen = store
            .snapshot(|s| {
                let row = s.story(1)?;
                // A second batch commits between the story row and its articles.
                writer
                    .conn
                    .execute_batch(
                        "BEGIN IMMEDIATE;
                         INSERT INTO articles(id, ext_id, title, text, origin, fingerprint,
                                              event_id, seq)
                           VALUES (2, 'a2', 'Ferry busy', 'The ferry was full.', 'test', 0, 1, 2);
                         UPDATE events SET n_articles = 2 WHERE id = 1;
                         UPDATE stories SET n_articles = 2 WHERE id = 1;
                         COMMIT;",
                    )
                    .map_err(|e| s.e(e))?;
                // Nested snapshots share the outer one.
                let articles = s.snapshot(|s| s.story_articles(1))?;
                Ok((row.n_articles, articles.len()))
            })
            .unwrap();
        assert_eq!(seen, (1, 1), "the snapshot saw half of the second batch");
        assert_eq!(store.story(1).unwrap().n_articles, 2);
        assert_eq!(store.story_articles(1).unwrap().len(), 2);
        // A failing body still ends the read, so the next read sees new commits.
        let failed: Result<()> = store.snapshot(|_| Err(Error::Invalid("stop".into())));
        assert!(failed.is_err());
        assert!(store.conn.is_autocommit(), "snapshot left open");
    }

    #[test]
    fn signatures_of_the_first_minhash_family_are_made_again_from_the_text_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        store.conn.execute_batch(ONE_STORY).unwrap();
        let words: Vec<String> = crate::normalize::words("The ferry line opened today.").collect();
        let fresh = Signature::from_words(&words).unwrap();
        // The first family's bytes: flag byte without the family bit, other minima.
        let mut old = vec![0u8];
        old.extend(std::iter::repeat_n(7u8, 4 * crate::dedup::N_HASHES));
        store
            .conn
            .execute("UPDATE articles SET minhash = ?1 WHERE id = 1", [&old])
            .unwrap();
        assert_eq!(
            store.recent_signatures(10).unwrap(),
            vec![StoredSignature {
                id: 1,
                signature: fresh.clone(),
                original: 1,
                original_event: 1,
            }]
        );
        let kept: Vec<u8> = store
            .conn
            .query_row("SELECT minhash FROM articles WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(kept, fresh.to_bytes());
    }

    #[test]
    fn a_version_3_store_gains_the_search_indexes_and_story_norms() {
        let dir = tempfile::tempdir().unwrap();
        let path = old_store(
            dir.path(),
            3,
            &schema_v3(include_str!("schema.sql")),
            ONE_STORY,
        );
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta("schema_version").unwrap(),
            Some(SCHEMA_VERSION.to_string())
        );
        assert_eq!(key_indexes(&store), 2);
        assert_eq!(triggers(&store), 0, "the row trigger is dropped");
        let norm: f64 = store
            .conn
            .query_row("SELECT norm_sum FROM stories WHERE id = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(
            norm, 0.0,
            "old stories read as 0: the clusterer estimates it"
        );
        let hits = store
            .search("ferry", &query::ArticleFilter::default(), 10, 0, 10)
            .unwrap();
        assert_eq!(hits.total, 1);
        assert_eq!(hits.articles[0].article.id, "a1");
        assert_eq!(hits.stories[0].story, 1);
        assert_eq!(
            hits.stories[0].top_title.as_deref(),
            Some("Ferry line opens")
        );
    }

    #[test]
    fn a_version_6_store_keeps_its_vocabulary_without_the_text_index() {
        let dir = tempfile::tempdir().unwrap();
        let path = old_store(
            dir.path(),
            6,
            &schema_v8(include_str!("schema.sql")),
            "DROP TABLE vocab_pending;
             DROP TABLE vocab;
             CREATE TABLE vocab (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE,
                                 df INTEGER NOT NULL);
             INSERT INTO vocab(id, term, df) VALUES (0, 'ferri', 3), (1, 'harbour', 1);
             INSERT INTO meta(key, value) VALUES ('n_docs', '3');",
        );
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta("schema_version").unwrap(),
            Some(SCHEMA_VERSION.to_string())
        );
        let vocab_indexes: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'vocab'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(vocab_indexes, 0);
        let snapshot = store.cluster_snapshot().unwrap();
        let vocab =
            crate::cluster::Clusterer::restore(crate::cluster::ClusterConfig::default(), snapshot)
                .vocab()
                .idf(0);
        // ln(3 + 1) - ln(3 + 1) + 1: df 3 of 3 documents came through.
        assert!((vocab - 1.0).abs() < 1e-6, "idf {vocab}");
        store
            .conn
            .execute("INSERT INTO vocab_pending(increments) VALUES (x'00')", [])
            .unwrap();
    }

    /// An FTS5 setting as the index stores it.
    fn fts_setting(store: &Store, key: &str) -> Option<i64> {
        store
            .conn
            .query_row(
                "SELECT v FROM articles_fts_config WHERE k = ?1",
                [key],
                |r| r.get(0),
            )
            .optional()
            .unwrap()
    }

    #[test]
    fn the_search_index_merges_sixteen_segments_at_a_time_in_new_and_migrated_stores() {
        let dir = tempfile::tempdir().unwrap();
        let fresh = Store::open(&dir.path().join("new.db")).unwrap();
        assert_eq!(fts_setting(&fresh, "automerge"), Some(16));
        // As version 7 left it: FTS5's default merge width.
        let path = old_store(
            dir.path(),
            7,
            &schema_v8(include_str!("schema.sql")),
            "DELETE FROM articles_fts_config WHERE k = 'automerge';",
        );
        let store = Store::open(&path).unwrap();
        assert_eq!(fts_setting(&store, "automerge"), Some(16));
        assert_eq!(fts_setting(&store, "hashsize"), Some(8_388_608));
    }

    #[test]
    fn a_version_8_store_folds_its_sentence_and_mention_rows_into_annotations() {
        let dir = tempfile::tempdir().unwrap();
        let rows = format!(
            "{ONE_STORY}
             INSERT INTO sentences(article_id, idx, start, end) VALUES (1, 0, 0, 28);
             INSERT INTO mentions(article_id, name, kind, start, end, initial, role)
               VALUES (1, 'Ferry', 'other', 4, 9, 0, NULL),
                      (1, 'Harbour Board', 'organization', 10, 23, 0, 'the operator');"
        );
        let path = old_store(dir.path(), 8, &schema_v8(include_str!("schema.sql")), &rows);
        let store = Store::open(&path).unwrap();
        let (_, stored) = store.article("a1").unwrap();
        assert_eq!(
            stored.sentences,
            vec![Sentence {
                idx: 0,
                span: Span { start: 0, end: 28 }
            }]
        );
        let names: Vec<_> = stored
            .mentions
            .iter()
            .map(|m| (m.name.as_str(), m.kind, m.span.start, m.role.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("Ferry", EntityKind::Other, 4, None),
                (
                    "Harbour Board",
                    EntityKind::Organization,
                    10,
                    Some("the operator")
                )
            ]
        );
        assert_eq!(store.all_mentions().unwrap().len(), 2);
        let filter = |name: &str| StoryFilter {
            entity: Some(name.to_string()),
            ..StoryFilter::default()
        };
        assert_eq!(
            store
                .stories_filtered(&filter("harbour board"), 10, 0)
                .unwrap()
                .1,
            1
        );
        assert_eq!(
            store.stories_filtered(&filter("Harbour"), 10, 0).unwrap().1,
            0
        );
        let old_tables: i64 = store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('sentences', 'mentions')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old_tables, 0);
    }

    #[test]
    fn a_version_1_store_is_migrated_and_a_newer_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Version 1 had neither mentions.role (added in 2), events.signals (3), the
        // key indexes (4) nor stories.norm_sum (5).
        let v1 = schema_v3(include_str!("schema.sql"))
            .replace(
                "    initial     INTEGER NOT NULL,\n    role        TEXT\n",
                "    initial     INTEGER NOT NULL\n",
            )
            .replace(
                "    live        INTEGER NOT NULL DEFAULT 1,\n    -- JSON: years mentioned and summed embedding (cluster::EventSignals)\n    signals     TEXT NOT NULL DEFAULT '{}'\n",
                "    live        INTEGER NOT NULL DEFAULT 1\n",
            );
        assert!(
            !v1.contains("signals") && !v1.contains("role "),
            "v1 schema rebuilt"
        );
        let path = old_store(dir.path(), 1, &v1, "");
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.meta("schema_version").unwrap(),
            Some(SCHEMA_VERSION.to_string())
        );
        assert_eq!(triggers(&store), 0);
        assert!(
            store.all_mentions().unwrap().is_empty(),
            "role column readable"
        );
        assert_eq!(key_indexes(&store), 2);
        store
            .conn
            .execute(
                "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
                [],
            )
            .unwrap();
        drop(store);
        match Store::open(&path) {
            Err(Error::SchemaVersion { found: 99, .. }) => {}
            Err(other) => panic!("wrong error {other}"),
            Ok(_) => panic!("a store from a newer version must be refused"),
        }
    }
}
