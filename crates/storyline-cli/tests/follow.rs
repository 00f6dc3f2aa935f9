//! `storyline follow` and `storyline feeds` end to end, against a small HTTP server on
//! 127.0.0.1 that the test runs on a thread (feeds built from `../shared/data`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

fn storyline(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .expect("run storyline")
}

/// An RSS feed of the first `n` ECB+ articles, full text in `content:encoded`.
fn feed(n: usize) -> String {
    let text = std::fs::read_to_string(data().join("cluster/ecbplus-dev/articles.jsonl")).unwrap();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut x = String::from(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>ECB desk</title>"#,
    );
    for line in text.lines().take(n) {
        let v: Value = serde_json::from_str(line).unwrap();
        let body: String = v["text"]
            .as_str()
            .unwrap()
            .lines()
            .map(|l| format!("&lt;p&gt;{}&lt;/p&gt;", esc(&esc(l))))
            .collect();
        x.push_str(&format!(
            "<item><guid>ecb-{}</guid><title>{}</title><link>https://ecb.example/{}</link>\
             <description>x</description><content:encoded>{body}</content:encoded></item>",
            v["id"].as_str().unwrap(),
            esc(v["title"].as_str().unwrap_or("untitled")),
            v["id"].as_str().unwrap(),
        ));
    }
    x + "</channel></rss>"
}

/// Serves `body` at /feed.xml (and 404 elsewhere) until the test ends; counts requests.
fn serve(body: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            let _ = reader.read_line(&mut first);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let (status, payload) = if first.starts_with("GET /feed.xml ") {
                ("200 OK", body.as_str())
            } else {
                ("404 Not Found", "")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{payload}",
                payload.len()
            );
        }
    });
    (format!("http://{addr}"), hits)
}

#[test]
fn follow_once_reports_stores_and_lists_feeds() {
    let (base, _) = serve(feed(8));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let good = format!("{base}/feed.xml");
    let missing = format!("{base}/gone.xml");
    let opml = dir.path().join("subs.opml");
    std::fs::write(
        &opml,
        format!(
            r#"<?xml version="1.0"?><opml version="2.0"><head><title>t</title></head><body>
            <outline text="Gone" type="rss" xmlUrl="{missing}"/></body></opml>"#
        ),
    )
    .unwrap();

    // Without the flag, loopback is refused: both feeds fail, exit 3.
    let out = storyline(&db, &["follow", "--once", &good]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a public address"), "{err}");

    let out = storyline(
        &db,
        &[
            "--json",
            "follow",
            "--once",
            "--allow-private-addresses",
            opml.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["new_items"], 8);
    assert_eq!(report["ingest"]["stored"], 8);
    let failures = report["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["feed"], missing.as_str());
    assert_eq!(failures[0]["reason"], "HTTP 404");

    let out = storyline(&db, &["--json", "feeds"]);
    let feeds: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = feeds.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let row = |url: &str| rows.iter().find(|r| r["url"] == url).unwrap().clone();
    assert_eq!(row(&good)["items"], 8);
    assert_eq!(row(&good)["title"], "ECB desk");
    assert_eq!(row(&missing)["failures"], 1);
    assert_eq!(row(&missing)["last_error"], "HTTP 404");
    // The loopback refusal counted as a failure; the good poll after it reset the count.
    assert_eq!(row(&good)["failures"], 0);

    let out = storyline(&db, &["feeds", "export"]);
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(xml.contains(&format!("xmlUrl=\"{good}\"")), "{xml}");

    // Removing the feed keeps its articles; following it again stores nothing twice.
    assert_eq!(
        storyline(&db, &["feeds", "remove", &good]).status.code(),
        Some(0)
    );
    assert_eq!(
        storyline(&db, &["feeds", "remove", &good]).status.code(),
        Some(4)
    );
    let out = storyline(&db, &["--json", "stories"]);
    assert!(!serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .is_empty());
    let out = storyline(
        &db,
        &[
            "--json",
            "follow",
            "--once",
            "--allow-private-addresses",
            &good,
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            report["new_items"].as_u64(),
            report["ingest"]["stored"].as_u64()
        ),
        (Some(0), Some(0))
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_following_after_the_poll_and_exits_0() {
    let (base, hits) = serve(feed(5));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(&db)
        .args([
            "--json",
            "follow",
            "--allow-private-addresses",
            &format!("{base}/feed.xml"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // One JSON line per poll: wait for the first.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let report: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(report["ingest"]["stored"], 5);
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let out = storyline(&db, &["--json", "feeds"]);
    let feeds: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(feeds[0]["items"], 5);
}

/// A GET on the local server, as a plain HTTP/1.1 exchange; the body.
fn http_get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

#[test]
fn serve_follow_stores_the_feeds_items_while_serving() {
    let (base, _) = serve(feed(5));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(&db)
        .args([
            "serve",
            "--create",
            "--addr",
            "127.0.0.1:0",
            "--allow-private-addresses",
        ])
        .args(["--follow", &format!("{base}/feed.xml")])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    // The follower polls at once; a feed's last fetch is recorded after its articles and
    // items are committed, so wait for that.
    let feeds: Value = loop {
        let feeds: Value = serde_json::from_str(&http_get(&addr, "/api/feeds")).unwrap();
        if !feeds[0]["last_fetch"].is_null() {
            break feeds;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let stats: Value = serde_json::from_str(&http_get(&addr, "/api/stats")).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(stats["articles"], 5);
    assert_eq!(feeds[0]["items"], 5);
    assert_eq!(feeds[0]["title"], "ECB desk");
}
