//! Two `storyline follow` processes on one store, as on two machines: they split the due
//! feeds between them, so every feed is fetched once and every item stored once, on a
//! SQLite file and on PostgreSQL. The feeds are served on 127.0.0.1 by a server the test
//! runs (items built at test time from `../shared/data`).
#![cfg(unix)]

mod ecb_feeds;
mod request;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use request::request_line;
use serde_json::Value;

/// Feeds followed: more than the 100 a follower claims at a time, so both get some.
const FEEDS: usize = 130;
/// Looks at the server before giving up: a bound on looks, not on time.
const LOOKS: usize = 6000;

/// Serves /f/NNN.xml, counting the requests for each feed.
fn serve(feeds: Vec<String>) -> (String, Arc<Mutex<HashMap<usize, usize>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the feed server");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let (feeds, counted) = (Arc::new(feeds), Arc::clone(&hits));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (feeds, counted) = (Arc::clone(&feeds), Arc::clone(&counted));
            std::thread::spawn(move || {
                let first = request_line(&stream);
                let n = first
                    .strip_prefix("GET /f/")
                    .and_then(|rest| rest.split(".xml").next())
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|&n| n < feeds.len());
                let Some(n) = n else {
                    let _ = write!(
                        stream,
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    );
                    return;
                };
                *counted.lock().expect("hits").entry(n).or_insert(0) += 1;
                let body = &feeds[n];
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\
                     Connection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    (base, hits)
}

fn storyline(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_storyline"));
    c.args(["--db", db]);
    c
}

fn follower(db: &str) -> Child {
    storyline(db)
        .args(["follow", "--allow-private-addresses"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start storyline follow")
}

fn two_followers_fetch_every_feed_once(db: &str) {
    let feeds = ecb_feeds::feeds(FEEDS);
    assert_eq!(feeds.len(), FEEDS, "enough long ECB+ reports");
    let (base, hits) = serve(feeds);
    let urls: Vec<String> = (0..FEEDS).map(|i| format!("{base}/f/{i:03}.xml")).collect();
    let out = storyline(db)
        .args(["feeds", "add"])
        .args(&urls)
        .output()
        .expect("run storyline feeds add");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let followers = [follower(db), follower(db)];
    let mut looks = 0;
    while hits.lock().expect("hits").len() < FEEDS {
        looks += 1;
        assert!(looks < LOOKS, "not every feed was fetched");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SIGTERM: each finishes and stores the poll under way, then exits 0.
    for child in &followers {
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    }
    for child in followers {
        let out = child.wait_with_output().expect("wait for storyline follow");
        assert!(
            out.status.success(),
            "storyline follow ended with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let hits = hits.lock().expect("hits").clone();
    let twice: Vec<_> = hits.iter().filter(|(_, &n)| n != 1).collect();
    assert!(
        twice.is_empty(),
        "feeds not fetched exactly once: {twice:?}"
    );
    let out = storyline(db)
        .arg("export")
        .output()
        .expect("run storyline export");
    assert!(out.status.success());
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("an exported line")["id"].to_string())
        .collect();
    assert_eq!(ids.len(), FEEDS, "every item stored");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), FEEDS, "none twice");
}

#[test]
fn two_follow_processes_on_one_sqlite_file_fetch_every_feed_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("s.db");
    two_followers_fetch_every_feed_once(db.to_str().expect("a UTF-8 path"));
}

#[test]
fn two_follow_processes_on_one_postgres_store_fetch_every_feed_once() {
    let Some(cluster) = storyline_testpg::Cluster::start() else {
        return;
    };
    two_followers_fetch_every_feed_once(&cluster.url());
}
