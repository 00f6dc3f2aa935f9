//! Hostile input: every bad file gets a clear error naming it (or a sensible skip), the run
//! goes on, and nothing already stored is lost.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

use storyline::store::Store;

fn storyline(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(db)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run storyline")
}

fn good_line(id: &str, published: &str) -> String {
    serde_json::json!({
        "id": id,
        "published": published,
        "text": "The harbour authority reopened the port on Monday after a week of repairs to the main quay."
    })
    .to_string()
}

#[test]
fn bad_files_are_named_and_skipped_and_stored_articles_survive() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let first = dir.path().join("first.jsonl");
    std::fs::write(&first, good_line("kept", "2024-01-02") + "\n").unwrap();
    assert!(storyline(&db, &["ingest", first.to_str().unwrap()])
        .status
        .success());

    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    // Binary junk under a text name.
    let junk: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(bad.join("junk.txt"), &junk).unwrap();
    // Invalid UTF-8 inside a JSONL line, and a 50 MB single line.
    let mut f = std::fs::File::create(bad.join("mixed.jsonl")).unwrap();
    f.write_all(
        b"{\"id\":\"latin1\",\"text\":\"caf\xe9 \xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\xe9\"}\n",
    )
    .unwrap();
    f.write_all(b"{\"id\":\"huge\",\"text\":\"").unwrap();
    f.write_all(&vec![b'a'; 50 << 20]).unwrap();
    f.write_all(b"\"}\n").unwrap();
    // Dates at the edges of the calendar, and an empty article.
    writeln!(f, "{}", good_line("year0", "0000-01-01")).unwrap();
    writeln!(f, "{}", good_line("year9999", "9999-12-31T23:59:59Z")).unwrap();
    writeln!(f, "{}", serde_json::json!({"id": "empty", "text": "   "})).unwrap();
    drop(f);
    // A feed that tries entity expansion (billion laughs).
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE rss [\n<!ENTITY lol \"lol\">\n");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_string()
        } else {
            format!("lol{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{prev};").repeat(10)
        ));
    }
    laughs.push_str("]>\n<rss version=\"2.0\"><channel><title>T</title><item><guid>x</guid><title>&lol9;</title><description>&lol9;</description></item></channel></rss>");
    std::fs::write(bad.join("laughs.rss"), laughs).unwrap();
    // An empty file and a truncated gzip page.
    std::fs::write(bad.join("empty.txt"), b"").unwrap();
    std::fs::write(bad.join("broken.html.gz"), [0x1f, 0x8b, 0x08, 0x00, 0x01]).unwrap();

    let out = storyline(&db, &["--json", "ingest", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(3),
        "bad records give exit 3; stderr: {stderr}"
    );
    for named in [
        "junk.txt",
        "mixed.jsonl:2",
        "mixed.jsonl:5",
        "empty.txt",
        "broken.html.gz",
    ] {
        assert!(stderr.contains(named), "{named} not named in: {stderr}");
    }
    assert!(
        stderr.contains("over the article size limit") || stderr.contains("over the"),
        "{stderr}"
    );

    let store = Store::open(&db).unwrap();
    let ids: Vec<String> = store
        .assignments()
        .unwrap()
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert!(
        ids.contains(&"kept".to_string()),
        "earlier article lost: {ids:?}"
    );
    for id in ["latin1", "year0", "year9999"] {
        assert!(ids.contains(&id.to_string()), "{id} not stored: {ids:?}");
    }
    assert!(!ids.contains(&"huge".to_string()) && !ids.contains(&"empty".to_string()));
    // The expansion never produced a giant article.
    let counts = store.counts().unwrap();
    assert!(counts.articles <= 5, "{counts:?}");
    let biggest: usize = store
        .stories(100, 0)
        .unwrap()
        .iter()
        .flat_map(|s| store.story_articles(s.id).unwrap())
        .map(|a| a.article.text.len())
        .max()
        .unwrap_or(0);
    assert!(biggest < 1 << 20, "an article of {biggest} bytes");
}

#[test]
fn a_directory_of_nothing_and_a_missing_path_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let empty = dir.path().join("nothing");
    std::fs::create_dir(&empty).unwrap();
    let out = storyline(&db, &["--json", "ingest", empty.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ingest"]["read"], 0);
}
