//! `storyline ingest` stopped and run again on the same store files every article as one
//! run does: the second run's clusterer, restored from the store, goes on exactly as the
//! one that wrote it would have.

use std::io::Write;
use std::process::{Command, Stdio};

mod stores;
use stores::{renumbered, shared, storyline};

/// `storyline --db DB ingest -` of these JSONL lines, read from standard input.
fn ingest_lines(db: &str, lines: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["--db", db, "--quiet", "ingest", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run storyline");
    let mut stdin = child.stdin.take().expect("stdin");
    for line in lines {
        writeln!(stdin, "{line}").expect("write a line");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("ingest ends");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The lines of these sets of `../shared/data/cluster`, one after the other.
fn lines_of(sets: &[&str]) -> String {
    sets.iter()
        .map(|set| {
            let path = shared().join(format!("data/cluster/{set}/articles.jsonl"));
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"))
        })
        .collect()
}

/// One ingest of `text`'s lines, and the same stopped after each of `splits` lines (whole
/// batches of 500) and run again for the rest: the same events and stories, up to ids.
fn resumed_runs_file_as_one(name: &str, text: &str, splits: &[usize]) {
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let one = dir.path().join("one.db").to_string_lossy().into_owned();
    ingest_lines(&one, &lines);
    let whole = renumbered(&storyline(&one, &["export"]));
    assert_eq!(whole.len(), lines.len(), "{name}");
    for &split in splits {
        let db = dir.path().join(format!("at{split}.db"));
        let db = db.to_string_lossy().into_owned();
        ingest_lines(&db, &lines[..split]);
        ingest_lines(&db, &lines[split..]);
        let resumed = renumbered(&storyline(&db, &["export"]));
        assert_eq!(resumed.len(), whole.len(), "{name} at {split}");
        let apart = (whole.iter().zip(&resumed))
            .filter(|(a, b)| a["event"] != b["event"])
            .count();
        let stories_apart = (whole.iter().zip(&resumed))
            .filter(|(a, b)| a["story"] != b["story"])
            .count();
        assert_eq!(
            (apart, stories_apart),
            (0, 0),
            "{name} stopped after {split}: articles in other events, other stories"
        );
        for (a, b) in whole.iter().zip(&resumed) {
            assert_eq!(a, b, "{name} stopped after {split}");
        }
    }
}

#[test]
fn googlenews_resumed_files_as_one_run() {
    resumed_runs_file_as_one(
        "googlenews-dev",
        &lines_of(&["googlenews-dev"]),
        &[1000, 3500],
    );
}

#[test]
fn uci_stream_resumed_files_as_one_run() {
    resumed_runs_file_as_one("uci-stream", &lines_of(&["uci-stream"]), &[1000, 4000]);
}

/// ECB+ (462 full reports) is one batch alone: it goes first in a stream with GVC and
/// Google News, stopped inside and after it.
#[test]
fn ecbplus_in_a_stream_resumed_files_as_one_run() {
    let text = lines_of(&["ecbplus-dev", "gvc-dev", "googlenews-dev"]);
    resumed_runs_file_as_one("ecbplus-dev, gvc-dev, googlenews-dev", &text, &[500, 1000]);
}
