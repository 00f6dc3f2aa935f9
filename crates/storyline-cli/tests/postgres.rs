//! The command line on a PostgreSQL store (`--db postgres://…`, a throw-away cluster) against
//! the same commands on a SQLite file: the same input files the same events and stories.
//! Without PostgreSQL these tests return at once (and fail under `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use storyline_testpg::Cluster;

mod stores;
use stores::{json, renumbered, shared, storyline};

/// The inputs in the order they are ingested: ECB+, GVC in two runs (the second restores
/// the clusterer from the store), the seeds.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let gvc = std::fs::read_to_string(shared().join("data/cluster/gvc-dev/articles.jsonl"))
        .expect("gvc-dev");
    let lines: Vec<&str> = gvc.lines().collect();
    let (first, second) = lines.split_at(230);
    let halves = [dir.join("gvc1.jsonl"), dir.join("gvc2.jsonl")];
    std::fs::write(&halves[0], first.join("\n") + "\n").unwrap();
    std::fs::write(&halves[1], second.join("\n") + "\n").unwrap();
    let [one, two] = halves;
    vec![
        shared().join("data/cluster/ecbplus-dev/articles.jsonl"),
        one,
        two,
        shared().join("seeds"),
    ]
}

#[test]
fn postgres_files_the_dev_sets_and_the_seeds_as_sqlite_does() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = dir.path().join("s.db").to_string_lossy().into_owned();
    let pg = cluster.url();
    for input in inputs(dir.path()) {
        for db in [&sqlite, &pg] {
            storyline(db, &["ingest", input.to_str().unwrap()]);
        }
    }
    let (lite_export, pg_export) = (storyline(&sqlite, &["export"]), storyline(&pg, &["export"]));
    let (lite, post) = (renumbered(&lite_export), renumbered(&pg_export));
    assert!(lite.len() > 700, "{} articles", lite.len());
    assert_eq!(lite.len(), post.len());
    for (a, b) in lite.iter().zip(&post) {
        assert_eq!(a, b, "filed differently");
    }

    // The listings agree (headlines of big stories aside: see below) ...
    let shape = |db: &str| -> Vec<(Value, Value, Value)> {
        let list = json(&storyline(db, &["--json", "stories", "--limit", "1000"]));
        list.as_array()
            .expect("a list")
            .iter()
            .map(|s| {
                (
                    s["n_articles"].clone(),
                    s["n_events"].clone(),
                    s["first_published"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(shape(&sqlite), shape(&pg));
    assert_eq!(
        json(&storyline(&sqlite, &["--json", "entities"])),
        json(&storyline(&pg, &["--json", "entities"]))
    );
    // ... a small story reads the same, report and all ...
    let seed_story = |export: &str| -> String {
        export
            .lines()
            .map(json)
            .find(|a| a["id"].as_str().is_some_and(|id| id.starts_with("000_")))
            .map(|a| a["story"].to_string())
            .expect("the seeds are stored")
    };
    let lite_show = json(&storyline(
        &sqlite,
        &["--json", "show", &seed_story(&lite_export)],
    ));
    let pg_show = json(&storyline(
        &pg,
        &["--json", "show", &seed_story(&pg_export)],
    ));
    assert_eq!(lite_show["summary"], pg_show["summary"]);
    assert_eq!(lite_show["timeline"], pg_show["timeline"]);
    assert_eq!(lite_show["headline"], pg_show["headline"]);
    // ... and search finds the same articles (ranked by each engine's own measure).
    for q in [
        "ceasefire",
        "shooting OR earthquake",
        "police NOT fire",
        "hostag*",
    ] {
        let found = |db: &str| {
            let hits = json(&storyline(db, &["--json", "search", q, "--limit", "1000"]));
            let mut ids: Vec<String> = hits["articles"]
                .as_array()
                .expect("articles")
                .iter()
                .map(|h| h["article"]["id"].as_str().unwrap_or_default().to_string())
                .collect();
            ids.sort();
            (hits["total"].clone(), ids)
        };
        let lite_found = found(&sqlite);
        assert!(!lite_found.1.is_empty(), "{q} finds nothing");
        assert_eq!(lite_found, found(&pg), "{q}");
    }
}

#[test]
fn an_export_moves_a_store_between_the_engines() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let pg = cluster.url();
    for input in [
        shared().join("data/cluster/gvc-dev/articles.jsonl"),
        shared().join("seeds"),
    ] {
        storyline(&pg, &["ingest", input.to_str().unwrap()]);
    }
    let from_pg = dir.path().join("from-pg.jsonl");
    storyline(&pg, &["export", "--out", from_pg.to_str().unwrap()]);
    // Into SQLite, and from there into a second PostgreSQL database.
    let sqlite = dir.path().join("moved.db").to_string_lossy().into_owned();
    storyline(&sqlite, &["ingest", from_pg.to_str().unwrap()]);
    let from_sqlite = dir.path().join("from-sqlite.jsonl");
    storyline(&sqlite, &["export", "--out", from_sqlite.to_str().unwrap()]);
    let again = cluster.create_database("moved_back");
    storyline(&again, &["ingest", from_sqlite.to_str().unwrap()]);
    let first = renumbered(&std::fs::read_to_string(&from_pg).unwrap());
    assert_eq!(first.len(), 258 + 5, "every article once");
    assert_eq!(
        first,
        renumbered(&std::fs::read_to_string(&from_sqlite).unwrap())
    );
    assert_eq!(first, renumbered(&storyline(&again, &["export"])));
}

#[test]
fn a_postgres_store_that_cannot_be_reached_is_a_clear_error() {
    // A port nobody listens on: the error names the store without its password.
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args([
            "--db",
            "postgresql://ann:secret@127.0.0.1:1/news",
            "--quiet",
            "stories",
        ])
        .output()
        .expect("run storyline");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("postgresql://ann:***@127.0.0.1:1/news"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
}
