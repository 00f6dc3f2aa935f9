//! `storyline enqueue` and `storyline worker` on a throw-away PostgreSQL cluster: however
//! many workers run, and whichever of them is killed, the store ends up as one plain
//! `storyline ingest` of the same input leaves a SQLite file. Without PostgreSQL these tests
//! return at once (and fail under `CI=true`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;

use serde_json::Value;
use storyline_testpg::Cluster;

mod stores;
use stores::{renumbered, shared, storyline};

/// The seeds and three dev sets: 6,563 records, 14 batches.
fn inputs() -> Vec<String> {
    let data = shared().join("data/cluster");
    [
        shared().join("seeds"),
        data.join("ecbplus-dev/articles.jsonl"),
        data.join("gvc-dev/articles.jsonl"),
        data.join("googlenews-dev/articles.jsonl"),
    ]
    .iter()
    .map(|p| p.to_string_lossy().into_owned())
    .collect()
}

/// The export of one plain `storyline ingest` of the inputs into a SQLite file.
fn plain_ingest(dir: &Path) -> String {
    let sqlite = dir.join("plain.db").to_string_lossy().into_owned();
    let inputs = inputs();
    let mut args = vec!["ingest"];
    args.extend(inputs.iter().map(String::as_str));
    storyline(&sqlite, &args);
    storyline(&sqlite, &["export"])
}

fn enqueue(db: &str) {
    let mut args = vec!["--json", "enqueue"];
    let inputs = inputs();
    args.extend(inputs.iter().map(String::as_str));
    let report: Value = serde_json::from_str(&storyline(db, &args)).expect("JSON");
    assert_eq!(report["queued"], 6563);
    assert_eq!(report["batches"], 14);
}

fn worker(db: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["--db", db, "--json", "worker", "--until-idle"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a worker")
}

/// A finished worker's JSON report.
fn report(child: Child) -> Value {
    let out = child.wait_with_output().expect("a worker ends");
    assert!(
        out.status.success(),
        "worker: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the worker's JSON report")
}

fn sum(reports: &[Value], field: impl Fn(&Value) -> &Value) -> u64 {
    reports
        .iter()
        .map(|r| field(r).as_u64().expect("a count"))
        .sum()
}

#[test]
fn one_worker_or_three_file_the_articles_as_one_plain_ingest_does() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plain = renumbered(&plain_ingest(dir.path()));
    assert_eq!(plain.len(), 6563);
    for n in [1, 3] {
        let db = cluster.create_database(&format!("workers{n}"));
        enqueue(&db);
        let workers: Vec<Child> = (0..n).map(|_| worker(&db)).collect();
        let reports: Vec<Value> = workers.into_iter().map(report).collect();
        assert_eq!(sum(&reports, |r| &r["analysed"]), 6563, "{n} workers");
        assert_eq!(sum(&reports, |r| &r["ingest"]["stored"]), 6563);
        assert_eq!(sum(&reports, |r| &r["batches_placed"]), 14);
        if n > 1 {
            let busy = reports.iter().filter(|r| r["analysed"] != 0).count();
            assert!(busy > 1, "one worker did all the analysis: {reports:?}");
        }
        let queued = renumbered(&storyline(&db, &["export"]));
        assert_eq!(queued.len(), plain.len(), "{n} workers");
        for (a, b) in plain.iter().zip(&queued) {
            assert_eq!(a, b, "{n} workers filed an article differently");
        }
    }
}

#[test]
fn a_killed_clusterer_is_replaced_and_no_article_is_lost_or_stored_twice() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let plain = plain_ingest(dir.path());
    let db = cluster.url();
    enqueue(&db);

    // Two workers; each line either writes to stderr comes here with the worker's index.
    let (lines, said) = mpsc::channel::<(usize, String)>();
    let mut workers: Vec<Child> = Vec::new();
    for i in 0..2 {
        let mut w = worker(&db);
        let stderr = w.stderr.take().expect("stderr");
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = lines.send((i, line));
            }
        });
        workers.push(w);
    }
    // Kill the clusterer -9 as soon as it has placed its second batch.
    let mut clusterer = None;
    let killed = loop {
        let (i, line) = said.recv().expect("the workers report");
        if line.contains("clustering") {
            clusterer = Some(i);
        }
        if clusterer == Some(i) && line.contains("batch 2 placed") {
            workers[i].kill().expect("kill -9 the clusterer");
            let _ = workers[i].wait();
            break i;
        }
    };
    // The standby takes over; a third worker joins.
    let standby = workers.remove(1 - killed);
    let third = worker(&db);
    let reports = [report(standby), report(third)];
    assert!(
        reports.iter().any(|r| r["clusterer"] == true),
        "nobody took over: {reports:?}"
    );
    // The kill came mid-run: the new clusterer had batches left to place (and the killed
    // one had placed two at least).
    let placed_after = sum(&reports, |r| &r["batches_placed"]);
    assert!((1..=12).contains(&placed_after), "{reports:?}");

    // Every article once (a lost or doubled one would change the length), filed as one
    // undisturbed plain ingest files it: the standby's clusterer, restored from what the
    // killed one committed, goes on exactly as the killed one would have.
    let plain = renumbered(&plain);
    let after = renumbered(&storyline(&db, &["export"]));
    assert_eq!(after.len(), 6563);
    for (a, b) in plain.iter().zip(&after) {
        assert_eq!(a, b, "filed differently after the kill");
    }
}

#[test]
fn a_worker_on_a_sqlite_file_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    for args in [&["worker"][..], &["enqueue", "x.jsonl"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
            .args(["--db", db.to_str().unwrap()])
            .args(args)
            .output()
            .expect("run storyline");
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("needs a PostgreSQL store (--db postgres://"),
            "{err}"
        );
        assert!(!db.exists(), "a SQLite file was created");
    }
}

/// A worker of a build without the model code, asked for a model, says so rather than file
/// articles without the signal the user expects (a build with it embeds: the model crate's
/// `tests/worker.rs`).
#[test]
fn a_worker_asked_to_embed_by_a_build_without_the_model_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["--db", "postgres://127.0.0.1:1/none", "--model"])
        .arg(dir.path())
        .args(["worker", "--until-idle"])
        .output()
        .expect("run storyline");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--features embeddings"), "{err}");
}

/// A worker files with the settings `ingest` would use: it reads `STORYLINE_CLUSTER_CONFIG`
/// too, and refuses a bad one by name.
#[test]
fn a_worker_reads_the_clustering_settings_as_ingest_does() {
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args([
            "--db",
            "postgres://127.0.0.1:1/none",
            "worker",
            "--until-idle",
        ])
        .env("STORYLINE_CLUSTER_CONFIG", r#"{"no_such_setting":1}"#)
        .env_remove("STORYLINE_MODEL")
        .output()
        .expect("run storyline");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("STORYLINE_CLUSTER_CONFIG is not valid"),
        "{err}"
    );
}
