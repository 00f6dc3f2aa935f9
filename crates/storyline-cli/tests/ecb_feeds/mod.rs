//! Feeds for the follow tests, built at test time from `../shared/data` (no article text in
//! the repository).

// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// `n` RSS feeds, one per ECB+ report long enough to be carried in full (so no page is
/// fetched), each with one item; fewer when ECB+ has fewer such reports.
pub fn feeds(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(data().join("cluster/ecbplus-dev/articles.jsonl"))
        .expect("read the ECB+ articles");
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
        .filter(|v| {
            v["text"]
                .as_str()
                .is_some_and(|t| t.split_whitespace().count() >= 150)
        })
        .take(n)
        .enumerate()
        .map(|(i, v)| {
            let id = v["id"].as_str().unwrap_or_default();
            let body: String = v["text"]
                .as_str()
                .unwrap_or_default()
                .lines()
                .map(|l| format!("&lt;p&gt;{}&lt;/p&gt;", esc(&esc(l))))
                .collect();
            format!(
                r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Desk {i}</title><item><guid>ecb-{id}</guid><title>Report {i}</title><link>https://desk.example/{id}</link><description>x</description><content:encoded>{body}</content:encoded></item></channel></rss>"#
            )
        })
        .collect()
}

/// The standard output of a `storyline` run that must have succeeded (`what` names it in
/// the failure, with its exit status and standard error).
pub fn succeeded(out: Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} ended with {}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `storyline --db DB feeds add URLS…`, which must succeed.
pub fn add_feeds(db: impl AsRef<OsStr>, urls: &[String]) {
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(db)
        .args(["feeds", "add"])
        .args(urls)
        .output()
        .expect("run storyline feeds add");
    succeeded(out, "storyline feeds add");
}

/// `storyline --db DB --json follow --once --allow-private-addresses EXTRA…`, which must
/// succeed: its JSON report.
pub fn follow_once(db: impl AsRef<OsStr>, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(db)
        .args(["--json", "follow", "--once", "--allow-private-addresses"])
        .args(extra)
        .output()
        .expect("run storyline follow --once");
    serde_json::from_slice(&succeeded(out, "storyline follow --once")).expect("the JSON report")
}
