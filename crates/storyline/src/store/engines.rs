//! The same questions to both engines: a SQLite file and a throw-away PostgreSQL cluster
//! (`storyline-testpg`) get the same ingest and must give the same answers. Without
//! PostgreSQL these tests only run the SQLite half (and fail under `CI=true`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{TimeZone, Utc};
use storyline_testpg::Cluster;

use super::*;
use crate::ingest::{expand_paths, read_path};
use crate::pipeline::{Pipeline, PipelineConfig};
use crate::search::Query;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Ingests `records` of the gold set's GVC articles (in small batches, so that merges and
/// retirements happen inside the run) with a pipeline of its own, as one `storyline
/// ingest` would.
fn ingest(db: &Path, input: &Path, skip: usize, take: usize) {
    let mut records = Vec::new();
    for path in expand_paths(&[input.to_path_buf()]).expect("input") {
        records.extend(read_path(&path, None));
    }
    let config = PipelineConfig {
        batch_size: 16,
        ..PipelineConfig::default()
    };
    let mut pipeline = Pipeline::open(db, config).expect("pipeline");
    let report = pipeline
        .ingest(records.into_iter().skip(skip).take(take), |_| {})
        .expect("ingest");
    assert!(report.stored > 0, "{}: nothing stored", db.display());
}

/// One store of each engine (PostgreSQL when installed), filled the same way: GVC's first
/// 150 articles, then (a second run, which restores the clusterer from the store) the next
/// 120, then the seeds.
fn filled(dir: &Path, cluster: Option<&Cluster>) -> Vec<PathBuf> {
    let mut dbs = vec![dir.join("s.db")];
    if let Some(c) = cluster {
        dbs.push(PathBuf::from(c.url()));
    }
    let gvc = shared().join("data/cluster/gvc-dev/articles.jsonl");
    for db in &dbs {
        ingest(db, &gvc, 0, 150);
        ingest(db, &gvc, 150, 120);
        ingest(db, &shared().join("seeds"), 0, usize::MAX);
    }
    dbs
}

/// Everything a reader can ask of a store whose answers do not depend on the engine's
/// ranking, in a comparable form.
fn answers(store: &Store) -> Vec<String> {
    let mut out = Vec::new();
    let mut put = |what: &str, v: String| out.push(format!("{what}: {v}"));
    put("counts", format!("{:?}", store.counts().unwrap()));
    put("seq", format!("{:?}", store.committed_seq().unwrap()));
    put("next", format!("{:?}", store.next_article_id().unwrap()));
    put("assignments", format!("{:?}", store.assignments().unwrap()));
    let mut exported = Vec::new();
    store
        .export(|a| {
            exported.push(a);
            Ok(())
        })
        .unwrap();
    put("export", format!("{exported:?}"));
    let mut snap = store.cluster_snapshot().unwrap();
    snap.terms.sort_by_key(|t| t.0);
    snap.events.sort_by_key(|e| e.id);
    snap.stories.sort_by_key(|s| s.id);
    put("snapshot", format!("{snap:?}"));
    put(
        "signatures",
        format!("{:?}", store.recent_signatures(100).unwrap()),
    );
    let stories = store.stories(1000, 0).unwrap();
    put("stories", format!("{stories:?}"));
    for s in &stories {
        put("story", format!("{:?}", store.story(s.id).unwrap()));
        put(
            "articles",
            format!("{:?}", store.story_articles(s.id).unwrap()),
        );
        let order = store.story_order(s.id).unwrap();
        let rows: Vec<ArticleId> = order.iter().map(|o| o.row_id).collect();
        put("order", format!("{order:?}"));
        // Read whole, or read bare and annotated after: the same articles.
        let whole = store.articles_by_row(&rows).unwrap();
        let mut bare = store.article_texts_by_row(&rows).unwrap();
        assert!(bare
            .iter()
            .all(|a| a.sentences.is_empty() && a.mentions.is_empty()));
        store.annotate(&mut bare).unwrap();
        assert_eq!(format!("{bare:?}"), format!("{whole:?}"));
        assert!(whole.iter().all(|a| !a.sentences.is_empty()));
        put("articles by row", format!("{whole:?}"));
        put(
            "sources",
            format!("{:?}", store.source_rows(&rows).unwrap()),
        );
        put(
            "mentions",
            format!("{:?}", store.story_mentions(s.id).unwrap()),
        );
        let mut events: Vec<_> = store.story_events(s.id).unwrap().into_iter().collect();
        events.sort();
        put("events", format!("{events:?}"));
        put(
            "report",
            format!("{:?}", store.story_report_row(s.id).unwrap()),
        );
    }
    put(
        "all mentions",
        format!("{:?}", store.all_mentions().unwrap()),
    );
    let day = |y, m, d| Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).single();
    for filter in [
        StoryFilter::default(),
        StoryFilter {
            since: day(2015, 1, 1),
            before: day(2016, 6, 1),
            ..StoryFilter::default()
        },
        StoryFilter {
            entity: Some("chicago".into()),
            ..StoryFilter::default()
        },
        StoryFilter {
            entity: Some("Antony Blinken".into()),
            source: Some("nowhere".into()),
            ..StoryFilter::default()
        },
    ] {
        for (limit, offset) in [(10, 0), (7, 3)] {
            put(
                "stories filtered",
                format!(
                    "{:?}",
                    store.stories_filtered(&filter, limit, offset).unwrap()
                ),
            );
        }
    }
    for filter in [
        ArticleFilter::default(),
        ArticleFilter {
            since: day(2014, 6, 1),
            before: day(2015, 1, 1),
            ..ArticleFilter::default()
        },
        ArticleFilter {
            story: stories.first().map(|s| s.id),
            ..ArticleFilter::default()
        },
    ] {
        put(
            "articles page",
            format!("{:?}", store.articles_page(&filter, 20, 5).unwrap()),
        );
    }
    let first = &exported[0].article.id;
    put("article", format!("{:?}", store.article(first).unwrap()));
    let ids = [first.as_str(), "not stored"];
    let mut existing: Vec<_> = store.existing_ids(&ids).unwrap().into_iter().collect();
    existing.sort();
    put("existing", format!("{existing:?}"));
    // Search: the two engines rank differently (BM25, ts_rank), but match the same articles.
    for q in [
        "shooting",
        "police OR sheriff",
        "\"police said\"",
        "hostag*",
        "gun NOT police",
    ] {
        let hits = store
            .search(q, &ArticleFilter::default(), 10_000, 0, 10_000)
            .unwrap();
        let mut found: Vec<&str> = hits
            .articles
            .iter()
            .map(|h| h.article.id.as_str())
            .collect();
        found.sort_unstable();
        let mut per_story: Vec<(StoryId, u64)> =
            hits.stories.iter().map(|s| (s.story, s.hits)).collect();
        per_story.sort_unstable();
        put(
            "search",
            format!("{q}: {} {found:?} {per_story:?}", hits.total),
        );
        // Snippets come from the text: a match in the title alone leaves none marked.
        assert!(
            hits.articles
                .iter()
                .any(|h| h.snippet.contains(SNIPPET_START)),
            "{q}: no snippet with a marked match on {}",
            store.engine()
        );
    }
    out
}

#[test]
fn both_engines_give_the_same_answers_after_the_same_ingests() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    let dbs = filled(dir.path(), cluster.as_ref());
    let mut all: Vec<Vec<String>> = Vec::new();
    for db in &dbs {
        let store = Store::open(db).unwrap();
        all.push(answers(&store));
    }
    let sqlite = &all[0];
    assert!(sqlite.iter().any(|l| l.starts_with("search: shooting: ")));
    for other in &all[1..] {
        assert_eq!(sqlite.len(), other.len());
        for (a, b) in sqlite.iter().zip(other) {
            assert!(
                a == b,
                "SQLite and PostgreSQL differ:\n{a:.2000}\n{b:.2000}"
            );
        }
    }
}

#[test]
fn a_postgres_snapshot_reads_one_state_while_another_connection_commits() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = PathBuf::from(cluster.url());
    ingest(&url, &shared().join("seeds"), 0, 3);
    let store = Store::open(&url).unwrap();
    let writer = Store::open(&url).unwrap();
    let story = store.stories(1, 0).unwrap()[0].id;
    let before = store.story(story).unwrap().n_articles;
    let seen = store
        .snapshot(|s| {
            let row = s.story(story)?;
            // Another machine commits between the story row and its articles.
            let Engine::Postgres(w) = &writer.engine else {
                unreachable!("a URL opens PostgreSQL")
            };
            w.c()
                .batch_execute(&format!(
                    "BEGIN;
                     INSERT INTO articles(id, ext_id, title, text, origin, fingerprint,
                                          event_id, seq, search)
                       SELECT 1000, 'late', 'Late', 'Late news.', 'test', 0, min(id), 1000, ''
                       FROM events WHERE story_id = {story};
                     UPDATE stories SET n_articles = n_articles + 1 WHERE id = {story};
                     COMMIT;"
                ))
                .map_err(|e| w.e(e))?;
            let articles = s.snapshot(|s| s.story_articles(story))?;
            Ok((row.n_articles, articles.len() as u64))
        })
        .unwrap();
    assert_eq!(
        seen,
        (before, before),
        "the snapshot saw half of the commit"
    );
    assert_eq!(store.story(story).unwrap().n_articles, before + 1);
    assert_eq!(
        store.story_articles(story).unwrap().len() as u64,
        before + 1
    );
    // A failing body ends the transaction too: the next read sees new commits.
    let failed: Result<()> = store.snapshot(|_| Err(Error::Invalid("stop".into())));
    assert!(failed.is_err());
    let Engine::Postgres(p) = &store.engine else {
        unreachable!()
    };
    assert_eq!(p.depth.get(), 0, "snapshot left open");
    let open: i64 = p
        .c()
        .query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE pid = pg_backend_pid() AND state LIKE 'idle in transaction%'",
            &[],
        )
        .and_then(|r| r.try_get(0))
        .unwrap();
    assert_eq!(open, 0, "the connection stayed in a transaction");
}

#[test]
fn stored_reports_follow_the_revision_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    let mut dbs = vec![dir.path().join("s.db")];
    dbs.extend(cluster.as_ref().map(|c| PathBuf::from(c.url())));
    for db in &dbs {
        ingest(db, &shared().join("seeds"), 0, 3);
        let store = Store::open(db).unwrap();
        let id = store.stories(1, 0).unwrap()[0].id;
        let row = store.story_report_row(id).unwrap();
        assert_eq!(row.current, None);
        let wait = Duration::from_millis(100);
        assert!(!store
            .put_story_report(id, row.revision + 1, "h0", "{}", b"o", wait)
            .unwrap());
        assert!(store
            .put_story_report(id, row.revision, "h1", "{\"a\":1}", b"o1", wait)
            .unwrap());
        let current = store.story_report_row(id).unwrap().current.unwrap();
        assert_eq!(
            (current.headline.as_str(), current.report.as_str()),
            ("h1", "{\"a\":1}")
        );
        assert_eq!(current.order, b"o1");
        assert_eq!(
            store.story_revisions(id).unwrap(),
            (row.revision, Some(row.revision))
        );
        assert_eq!(store.stale_reports(&[id]).unwrap(), Vec::<StoryId>::new());
        // The next batch changes the story: the report made before is no longer served
        // (the ingest makes it again, as it is one somebody read), and a report made at
        // the old revision is refused.
        drop(store);
        ingest(db, &shared().join("seeds"), 3, usize::MAX);
        let store = Store::open(db).unwrap();
        let after = store.story_report_row(id).unwrap();
        assert!(after.revision > row.revision, "{}", store.engine());
        assert_ne!(
            after.current.as_ref().map(|c| c.headline.as_str()),
            Some("h1")
        );
        // The ingest made a read story's report again, and readers are given it.
        let last = store.last_story_report(id).unwrap().unwrap();
        assert_eq!(Some(last.revision), store.story_revisions(id).unwrap().1);
        assert!(!store
            .put_story_report(id, row.revision, "h2", "{}", b"o2", wait)
            .unwrap());
        assert_eq!(store.stale_reports(&[id]).unwrap(), Vec::<StoryId>::new());
        assert!(matches!(
            store.story_report_row(StoryId(999_999)),
            Err(Error::NotFound { .. })
        ));
    }
}

#[test]
fn feeds_and_their_items_are_kept_alike_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    let mut dbs = vec![dir.path().join("s.db")];
    dbs.extend(cluster.as_ref().map(|c| PathBuf::from(c.url())));
    let mut seen_by_engine = Vec::new();
    for db in &dbs {
        let store = Store::open(db).unwrap();
        let t = |h| Utc.with_ymd_and_hms(2024, 3, 1, h, 0, 0).unwrap();
        assert!(store.add_feed("http://a/feed", Some("A"), t(1)).unwrap());
        assert!(!store.add_feed("http://a/feed", None, t(2)).unwrap());
        assert!(store.add_feed("http://b/feed", None, t(2)).unwrap());
        store
            .record_feed_success(
                "http://a/feed",
                &FeedSuccess {
                    etag: Some("e1".into()),
                    fetched: Some(t(3)),
                    next_check: Some(t(4)),
                    interval_secs: Some(3600),
                    ..FeedSuccess::default()
                },
            )
            .unwrap();
        store
            .record_feed_failure("http://b/feed", t(3), t(5), "timed out")
            .unwrap();
        let item = |id: &str, guid: Option<&str>, version, update_of: Option<&str>| NewFeedItem {
            article_id: id.into(),
            feed_url: "http://a/feed".into(),
            guid: guid.map(str::to_string),
            link: Some("http://a/1".into()),
            url: Some("http://a/one".into()),
            content_hash: format!("h{version}"),
            version,
            update_of: update_of.map(str::to_string),
            seen: t(3),
        };
        store
            .mark_items_seen(&[
                item("x1", Some("g1"), 1, None),
                item("x2", None, 2, Some("x1")),
            ])
            .unwrap();
        // Again, as after a crash: nothing changes.
        store
            .mark_items_seen(&[item("x1", Some("other"), 9, None)])
            .unwrap();
        store.rename_item_guid("x2", "g2").unwrap();
        let seen = (
            store.feeds().unwrap(),
            store.feed("http://b/feed").unwrap(),
            store.seen_item(Some("g1"), None).unwrap(),
            store.seen_item(None, Some("http://a/one")).unwrap(),
            store.seen_item(Some("g2"), Some("http://a/1")).unwrap(),
            store.seen_item(Some("nothing"), None).unwrap(),
            store.item_update_of("x2").unwrap(),
            store.item_update_of("x1").unwrap(),
            store.remove_feed("http://b/feed").unwrap(),
            store.remove_feed("http://b/feed").unwrap(),
            store.feeds().unwrap().len(),
        );
        assert_eq!(seen.0.len(), 2);
        assert_eq!(seen.0[0].items, 2);
        assert_eq!(seen.1.as_ref().map(|f| f.failures), Some(1));
        assert_eq!(seen.3.as_ref().map(|s| s.version), Some(2));
        seen_by_engine.push(format!("{seen:?}"));
    }
    for other in &seen_by_engine[1..] {
        assert_eq!(&seen_by_engine[0], other);
    }
}

#[test]
fn a_postgres_store_of_a_newer_schema_is_refused() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = PathBuf::from(cluster.url());
    let store = Store::open(&url).unwrap();
    let Engine::Postgres(p) = &store.engine else {
        unreachable!()
    };
    p.c()
        .batch_execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
        .unwrap();
    match Store::open(&url) {
        Err(Error::SchemaVersion {
            found, supported, ..
        }) => assert_eq!((found, supported), (99, pg::PG_SCHEMA_VERSION)),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a store from a newer storyline was opened"),
    }
}

/// A PostgreSQL store of schema 3 gains what a restored clusterer goes on from (step 3 → 4);
/// its rows read as an old store's did: norms computed again, index terms chosen again,
/// the next ids after the highest stored.
#[test]
fn a_postgres_store_of_schema_3_is_migrated_and_restores_as_before() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = PathBuf::from(cluster.url());
    let gvc = shared().join("data/cluster/gvc-dev/articles.jsonl");
    ingest(&url, &gvc, 0, 100);
    let store = Store::open(&url).unwrap();
    let Engine::Postgres(p) = &store.engine else {
        unreachable!()
    };
    p.c()
        .batch_execute(
            "ALTER TABLE events DROP COLUMN centroid_norm, DROP COLUMN merge_checked_at;
             ALTER TABLE stories DROP COLUMN centroid_norm, DROP COLUMN merge_checked_at,
                 DROP COLUMN index_terms;
             ALTER TABLE vocab DROP COLUMN seen;
             ALTER TABLE vocab_pending DROP COLUMN sweep;
             DELETE FROM meta WHERE key IN ('next_event', 'next_story', 'vocab_sweep',
                                            'vocab_swept_at');
             UPDATE meta SET value = '3' WHERE key = 'schema_version'",
        )
        .unwrap();
    drop(store);
    let store = Store::open(&url).unwrap();
    assert_eq!(store.schema_version().unwrap(), pg::PG_SCHEMA_VERSION);
    let snapshot = store.cluster_snapshot().unwrap();
    assert!(!snapshot.events.is_empty() && !snapshot.stories.is_empty());
    assert!(snapshot
        .events
        .iter()
        .all(|e| e.centroid_norm == 0.0 && e.merge_checked_at == 0));
    assert!(snapshot.stories.iter().all(|s| s.index_terms.is_none()));
    assert!(snapshot.terms.iter().all(|t| t.3 == 0));
    assert_eq!(snapshot.sweeps.0, 0);
    let ids = store.assignments().unwrap();
    let highest = ids.iter().map(|a| a.1).max().unwrap();
    assert!(snapshot.next_event > highest);
    // And it takes more articles.
    drop(store);
    ingest(&url, &gvc, 100, 50);
}

/// A store of the schema before clauses were stored (SQLite 14, PostgreSQL 4) is migrated:
/// its articles have none, so their reports make them from the text, and those reports are
/// the ones the stored clauses gave; articles ingested after get theirs.
#[test]
fn a_store_from_before_stored_clauses_is_migrated_and_reads_the_same_reports() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    let mut dbs = vec![dir.path().join("s.db")];
    dbs.extend(cluster.as_ref().map(|c| PathBuf::from(c.url())));
    let gvc = shared().join("data/cluster/gvc-dev/articles.jsonl");
    let mut by_engine = Vec::new();
    for db in &dbs {
        ingest(db, &gvc, 0, 150);
        let store = Store::open(db).unwrap();
        let stories = store.stories(1000, 0).unwrap();
        let reports = |store: &Store| -> Vec<String> {
            stories
                .iter()
                .map(|s| format!("{:?}", crate::report::story_report(store, s.id).unwrap()))
                .collect()
        };
        let articles = |store: &Store| -> Vec<StoredArticle> {
            stories
                .iter()
                .flat_map(|s| store.story_articles(s.id).unwrap())
                .collect()
        };
        assert!(articles(&store).iter().all(|a| a.clauses.is_some()));
        let before = reports(&store);
        // Back to the schema before: no clauses column (nor the feed leases, which came
        // after), and no report stored.
        let old = "ALTER TABLE annotations DROP COLUMN clauses;
             ALTER TABLE feeds DROP COLUMN lease_holder;
             ALTER TABLE feeds DROP COLUMN lease_until;
             UPDATE story_reports SET report_revision = NULL, headline = NULL, report = NULL,
                                      sources = NULL;";
        let current = match &store.engine {
            Engine::Sqlite(s) => {
                s.conn
                    .execute_batch(&format!(
                        "{old} UPDATE meta SET value = '14' WHERE key = 'schema_version'"
                    ))
                    .unwrap();
                SCHEMA_VERSION
            }
            Engine::Postgres(p) => {
                p.c()
                    .batch_execute(&format!(
                        "{old} UPDATE meta SET value = '4' WHERE key = 'schema_version'"
                    ))
                    .unwrap();
                PG_SCHEMA_VERSION
            }
        };
        drop(store);
        let store = Store::open(db).unwrap();
        assert_eq!(store.schema_version().unwrap(), current);
        let old_articles = articles(&store);
        assert!(old_articles.iter().all(|a| a.clauses.is_none()));
        let after = reports(&store);
        assert_eq!(before.len(), after.len());
        for (b, a) in before.iter().zip(&after) {
            let at = b
                .bytes()
                .zip(a.bytes())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            assert!(
                b == a,
                "{}: a report differs after migration at {at}:\n{}\n{}",
                store.engine(),
                &b[at.saturating_sub(300)..(at + 300).min(b.len())],
                &a[at.saturating_sub(300)..(at + 300).min(a.len())]
            );
        }
        // Articles stored after the migration get their clauses; the old ones keep none.
        drop(store);
        ingest(db, &gvc, 150, 60);
        let store = Store::open(db).unwrap();
        let newest_old = old_articles.iter().map(|a| a.row_id).max().unwrap();
        let all: Vec<StoredArticle> = store
            .stories(1000, 0)
            .unwrap()
            .iter()
            .flat_map(|s| store.story_articles(s.id).unwrap())
            .collect();
        assert!(all.len() > old_articles.len());
        for a in &all {
            assert_eq!(
                a.clauses.is_some(),
                a.row_id > newest_old,
                "{}",
                a.article.id
            );
        }
        by_engine.push(before);
    }
    for other in &by_engine[1..] {
        assert_eq!(&by_engine[0], other);
    }
}

#[test]
fn every_typed_query_parses_as_a_postgres_tsquery() {
    use proptest::test_runner::{Config, TestRunner};
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let store = Store::open(Path::new(&cluster.url())).unwrap();
    let Engine::Postgres(p) = &store.engine else {
        unreachable!()
    };
    let mut runner = TestRunner::new(Config::with_cases(500));
    let typed = proptest::string::string_regex(
        r#"([A-Za-zé0-9]{1,6}|OR|NOT|AND|NEAR|[\"*()'.:\-+^{}\[\],;&|!?#@$%~/\\<> ]|[\PC]){0,12}"#,
    )
    .unwrap();
    runner
        .run(&typed, |input| {
            if let Ok(q) = Query::parse(&input) {
                let ts = pg::tsquery(&q);
                let parsed = p
                    .c()
                    .query_one(
                        "SELECT to_tsvector('simple', 'a b') @@ to_tsquery('simple', $1)",
                        &[&ts],
                    )
                    .map(|_| ());
                proptest::prop_assert!(parsed.is_ok(), "{input:?} -> {ts}: {parsed:?}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn host_slots_are_leases_shared_by_every_connection_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    let mut dbs = vec![dir.path().join("s.db")];
    dbs.extend(cluster.as_ref().map(|c| PathBuf::from(c.url())));
    for db in &dbs {
        // Two connections, as two followers of one store would have.
        let (a, b) = (Store::open(db).unwrap(), Store::open(db).unwrap());
        let t = |s| Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, s).unwrap();
        let host = "news.example:443";
        assert_eq!(
            a.take_host_slot(host, 2, "a", t(0), t(30)).unwrap(),
            Some(0)
        );
        assert_eq!(
            a.take_host_slot(host, 2, "a", t(0), t(30)).unwrap(),
            Some(1)
        );
        assert_eq!(b.take_host_slot(host, 2, "b", t(1), t(31)).unwrap(), None);
        // Another host has its own slots.
        assert_eq!(
            b.take_host_slot("other.example:443", 2, "b", t(1), t(31))
                .unwrap(),
            Some(0)
        );
        a.release_host_slot(host, 1, "a").unwrap();
        assert_eq!(
            b.take_host_slot(host, 2, "b", t(2), t(32)).unwrap(),
            Some(1)
        );
        // `a` died holding slot 0: its lease runs out and `b` takes the slot over, and a
        // late release by `a` does not free what `b` now holds.
        assert_eq!(b.take_host_slot(host, 2, "b", t(29), t(59)).unwrap(), None);
        assert_eq!(
            b.take_host_slot(host, 2, "b", t(31), t(59)).unwrap(),
            Some(0)
        );
        a.release_host_slot(host, 0, "a").unwrap();
        assert_eq!(a.take_host_slot(host, 2, "a", t(32), t(59)).unwrap(), None);
    }
}

#[test]
fn feed_leases_give_each_due_feed_to_one_claimer_until_polled_or_run_out_on_both_engines() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = Cluster::start();
    let mut dbs = vec![dir.path().join("s.db")];
    dbs.extend(cluster.as_ref().map(|c| PathBuf::from(c.url())));
    for db in &dbs {
        // Two connections, as two followers of one store would have.
        let (a, b) = (Store::open(db).unwrap(), Store::open(db).unwrap());
        let t =
            |m| Utc.with_ymd_and_hms(2024, 3, 1, 8, 0, 0).unwrap() + chrono::Duration::minutes(m);
        for f in ["http://a/1", "http://a/2", "http://a/3", "http://b/1"] {
            a.add_feed(f, None, t(0)).unwrap();
        }
        // http://b/1 is not due before 08:30.
        a.record_feed_success(
            "http://b/1",
            &FeedSuccess {
                next_check: Some(t(30)),
                ..FeedSuccess::default()
            },
        )
        .unwrap();
        let claim = |who: &Store, holder, after, now, limit| {
            let urls = |rows: Vec<FeedRow>| rows.into_iter().map(|r| r.url).collect::<Vec<_>>();
            urls(
                who.claim_feeds(&FeedClaim {
                    holder,
                    due_by: Some(now),
                    after,
                    now,
                    until: now + chrono::Duration::minutes(10),
                    limit,
                    take_over: false,
                })
                .unwrap(),
            )
        };
        assert_eq!(claim(&a, "a", None, t(1), 2), ["http://a/1", "http://a/2"]);
        // `b` gets what `a` left, and a's next round nothing more.
        assert_eq!(claim(&b, "b", None, t(1), 10), ["http://a/3"]);
        assert!(claim(&a, "a", Some("http://a/2"), t(1), 10).is_empty());
        assert_eq!(
            a.next_feed_due(t(1)).unwrap(),
            Some(t(11)),
            "every due feed is leased until 08:11"
        );
        // `a` polls http://a/1: its lease is freed, and it is not due again before 09:00.
        a.record_feed_success(
            "http://a/1",
            &FeedSuccess {
                next_check: Some(t(60)),
                ..FeedSuccess::default()
            },
        )
        .unwrap();
        b.record_feed_failure("http://a/3", t(2), t(70), "timed out")
            .unwrap();
        assert!(claim(&b, "b", None, t(5), 10).is_empty());
        // `a` died holding http://a/2: at 08:12 its lease has run out and `b` takes it,
        // and http://b/1, due at 08:30, comes with it at 08:31.
        assert!(claim(&b, "b", None, t(10), 10).is_empty());
        assert_eq!(claim(&b, "b", None, t(12), 10), ["http://a/2"]);
        let held = |urls: &[&str]| urls.iter().map(|u| u.to_string()).collect::<Vec<_>>();
        assert_eq!(
            b.renew_feed_leases("b", &held(&["http://a/2", "http://a/1"]), t(50))
                .unwrap(),
            1,
            "b holds http://a/2 only"
        );
        assert_eq!(claim(&a, "a", None, t(31), 10), ["http://b/1"]);
        // At 08:45 a's own lease on http://b/1 has run out, b's renewed one has not.
        assert_eq!(claim(&a, "a", None, t(45), 10), ["http://b/1"]);
        // `follow --once` claims every feed not leased, due or not, and with `take_over`
        // the leased ones too; a round goes on after the last feed of the previous one.
        let once = |after, take_over| {
            a.claim_feeds(&FeedClaim {
                holder: "c",
                due_by: None,
                after,
                now: t(46),
                until: t(56),
                limit: 10,
                take_over,
            })
            .unwrap()
        };
        let all = once(None, false);
        assert_eq!(
            all.iter().map(|r| r.url.as_str()).collect::<Vec<_>>(),
            ["http://a/1", "http://a/3"]
        );
        assert_eq!(all[1].last_error.as_deref(), Some("timed out"));
        let rest = once(Some("http://a/1"), true);
        assert_eq!(
            rest.iter().map(|r| r.url.as_str()).collect::<Vec<_>>(),
            ["http://a/2", "http://a/3", "http://b/1"]
        );
    }
}
