//! The store's tests: migrations from every older schema, read snapshots, signatures.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::*;
use crate::core::{ArticleId, EntityKind, EventId, Sentence, Span, StoryId};

/// The row trigger that filled the search index up to version 5.
const FTS_TRIGGER: &str = "
        CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
            INSERT INTO articles_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
        END;";

fn triggers(store: &SqliteStore) -> i64 {
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

/// `schema` without what version 12 added: the date-order index on articles (an index on
/// the event alone before) and the source list stored with a report.
fn schema_v11(schema: &str) -> String {
    let order = "CREATE INDEX IF NOT EXISTS articles_event_order\n    ON articles(event_id, published, seq, duplicate_of);";
    let list = ",\n    sources          BLOB\n";
    assert!(
        schema.contains(order) && schema.contains(list),
        "v11 schema rebuilt"
    );
    schema
        .replace(
            order,
            "CREATE INDEX IF NOT EXISTS articles_event ON articles(event_id);",
        )
        .replace(list, "\n")
}

/// `schema` without what version 15 added: the clauses kept with the annotations (where
/// there is an `annotations` table, which version 9 added).
fn schema_v14(schema: &str) -> String {
    let clauses = "    mentions    BLOB NOT NULL,\n    clauses     BLOB\n";
    assert!(
        schema.contains(clauses) || !schema.contains("TABLE IF NOT EXISTS annotations"),
        "v14 schema rebuilt"
    );
    schema.replace(clauses, "    mentions    BLOB NOT NULL\n")
}

/// A store at `dir/v{version}.db` as an older build left it: `schema`, then `rows`, then
/// the version in `meta`.
fn old_store(dir: &Path, version: i64, schema: &str, rows: &str) -> PathBuf {
    let path = dir.join(format!("v{version}.db"));
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(&schema_v14(&schema_v11(schema)))
        .unwrap();
    conn.execute_batch(rows).unwrap();
    conn.execute(
        "INSERT INTO meta(key, value) VALUES ('schema_version', ?1)",
        [version.to_string()],
    )
    .unwrap();
    path
}

fn key_indexes(store: &SqliteStore) -> i64 {
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
    let store = SqliteStore::open(&path).unwrap();
    store.conn.execute_batch(ONE_STORY).unwrap();
    let writer = SqliteStore::open(&path).unwrap();
    let seen = store
        .snapshot(|s| {
            let row = s.story(StoryId(1))?;
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
            let articles = s.snapshot(|s| s.story_articles(StoryId(1)))?;
            Ok((row.n_articles, articles.len()))
        })
        .unwrap();
    assert_eq!(seen, (1, 1), "the snapshot saw half of the second batch");
    assert_eq!(store.story(StoryId(1)).unwrap().n_articles, 2);
    assert_eq!(store.story_articles(StoryId(1)).unwrap().len(), 2);
    // A failing body still ends the read, so the next read sees new commits.
    let failed: Result<()> = store.snapshot(|_| Err(Error::Invalid("stop".into())));
    assert!(failed.is_err());
    assert!(store.conn.is_autocommit(), "snapshot left open");
}

#[test]
fn signatures_of_the_first_minhash_family_are_made_again_from_the_text_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("s.db")).unwrap();
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
            id: ArticleId(1),
            signature: fresh.clone(),
            original: ArticleId(1),
            original_event: EventId(1),
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
    let store = SqliteStore::open(&path).unwrap();
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
    let ferry = crate::search::Query::parse("ferry").unwrap();
    let hits = store
        .search_query(&ferry, &query::ArticleFilter::default(), 10, 0, 10)
        .unwrap();
    assert_eq!(hits.total, 1);
    assert_eq!(hits.articles[0].article.id, "a1");
    assert_eq!(hits.stories[0].story, StoryId(1));
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
    let store = SqliteStore::open(&path).unwrap();
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
fn fts_setting(store: &SqliteStore, key: &str) -> Option<i64> {
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
    let fresh = SqliteStore::open(&dir.path().join("new.db")).unwrap();
    assert_eq!(fts_setting(&fresh, "automerge"), Some(16));
    // As version 7 left it: FTS5's default merge width.
    let path = old_store(
        dir.path(),
        7,
        &schema_v8(include_str!("schema.sql")),
        "DELETE FROM articles_fts_config WHERE k = 'automerge';",
    );
    let store = SqliteStore::open(&path).unwrap();
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
    let store = SqliteStore::open(&path).unwrap();
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
    let store = SqliteStore::open(&path).unwrap();
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
    match SqliteStore::open(&path) {
        Err(Error::SchemaVersion { found: 99, .. }) => {}
        Err(other) => panic!("wrong error {other}"),
        Ok(_) => panic!("a store from a newer version must be refused"),
    }
}

#[test]
fn a_version_11_store_reads_story_order_from_an_index_and_makes_its_reports_again() {
    let dir = tempfile::tempdir().unwrap();
    let schema = format!(
        "{}{}",
        include_str!("schema.sql"),
        include_str!("feeds.sql")
    );
    let path = old_store(
        dir.path(),
        11,
        &schema,
        "INSERT INTO stories(id, n_articles, n_events, centroid, last_seq) VALUES (1, 3, 1, x'', 4);
         INSERT INTO events(id, story_id, n_articles, centroid, entities, last_seq)
             VALUES (1, 1, 3, x'', '[]', 4);
         INSERT INTO articles(id, ext_id, published, text, origin, fingerprint, event_id, seq)
             VALUES (1, 'late', '2024-03-22T08:00:00Z', 'x', 'o', 0, 1, 1),
                    (2, 'undated', NULL, 'x', 'o', 0, 1, 2),
                    (3, 'early', '2024-03-21T09:30:00Z', 'x', 'o', 0, 1, 3);
         INSERT INTO story_reports(story_id, revision, report_revision, headline, report)
             VALUES (1, 4, 4, 'old', '{}');",
    );
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(
        store.meta("schema_version").unwrap(),
        Some(SCHEMA_VERSION.to_string())
    );
    let index = |name: &str| -> i64 {
        store
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(
        (index("articles_event"), index("articles_event_order")),
        (0, 1)
    );
    // Date order, undated last, from the index.
    let order: Vec<(ArticleId, bool)> = store
        .story_order(StoryId(1))
        .unwrap()
        .into_iter()
        .map(|r| (r.row_id, r.dated))
        .collect();
    assert_eq!(
        order,
        [
            (ArticleId(3), true),
            (ArticleId(1), true),
            (ArticleId(2), false)
        ]
    );
    // The report stored without a source list is not served, current or last.
    assert_eq!(store.story_report_row(StoryId(1)).unwrap().current, None);
    assert_eq!(store.last_story_report(StoryId(1)).unwrap(), None);
    assert_eq!(store.story_revisions(StoryId(1)).unwrap(), (4, Some(4)));
    // The rows of a page, in the order asked.
    let page = store.source_rows(&[ArticleId(2), ArticleId(3)]).unwrap();
    assert_eq!(
        page.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["undated", "early"]
    );
}
