//! Two `storyline follow` processes on one store, as on two machines: they split the due
//! feeds between them, so every feed is fetched once and every item stored once, on a
//! SQLite file and on PostgreSQL; so do two `storyline worker`s on PostgreSQL, which poll
//! the feeds themselves, within the host's limit together. `follow --once` leaves alone a
//! feed another follower holds. The feeds are served on 127.0.0.1 by a server the test runs
//! (items built at test time from `../shared/data`).
#![cfg(unix)]

mod ecb_feeds;
mod request;

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use request::request_line;
use serde_json::Value;
use storyline::store::{FeedClaim, Store};

/// Feeds followed: more than the 100 a follower claims at a time, so both get some.
const FEEDS: usize = 130;
/// Looks at the server before giving up: a bound on looks, not on time.
const LOOKS: usize = 6000;

/// Answers feed requests only once opened.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn open(&self) {
        *self.open.lock().expect("gate") = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().expect("gate");
        while !*open {
            open = self.opened.wait(open).expect("gate");
        }
    }
}

/// What the feed server saw: requests for each feed, and the most answered at once.
#[derive(Default)]
struct Seen {
    hits: Mutex<HashMap<usize, usize>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

/// Serves /f/NNN.xml, counting the requests for each feed.
fn serve(feeds: Vec<String>) -> (String, Arc<Seen>) {
    let gate = Arc::new(Gate::default());
    gate.open();
    serve_gated(feeds, gate)
}

/// Serves /f/NNN.xml once `gate` is open, counting the requests for each feed and those
/// under way at once.
fn serve_gated(feeds: Vec<String>, gate: Arc<Gate>) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the feed server");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let seen = Arc::new(Seen::default());
    let (feeds, counted) = (Arc::new(feeds), Arc::clone(&seen));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let (feeds, counted, gate) =
                (Arc::clone(&feeds), Arc::clone(&counted), Arc::clone(&gate));
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
                *counted.hits.lock().expect("hits").entry(n).or_insert(0) += 1;
                let now = counted.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                counted.most_in_flight.fetch_max(now, Ordering::SeqCst);
                gate.wait();
                // Before the answer: once it has it, the client may ask again at once.
                counted.in_flight.fetch_sub(1, Ordering::SeqCst);
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
    (base, seen)
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
    let (base, seen) = serve(feeds);
    let hits = &seen.hits;
    let urls: Vec<String> = (0..FEEDS).map(|i| format!("{base}/f/{i:03}.xml")).collect();
    ecb_feeds::add_feeds(db, &urls);

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
        ecb_feeds::succeeded(out, "storyline follow");
    }

    let hits = hits.lock().expect("hits").clone();
    let twice: Vec<_> = hits.iter().filter(|(_, &n)| n != 1).collect();
    assert!(
        twice.is_empty(),
        "feeds not fetched exactly once: {twice:?}"
    );
    let mut ids = exported_ids(db);
    assert_eq!(ids.len(), FEEDS, "every item stored");
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

/// The stored articles' ids, sorted.
fn exported_ids(db: &str) -> Vec<String> {
    let out = storyline(db)
        .arg("export")
        .output()
        .expect("run storyline export");
    assert!(out.status.success());
    let mut ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("an exported line")["id"].to_string())
        .collect();
    ids.sort();
    ids
}

/// A worker and a second poller (another worker, or a `follow` that stores for itself) on
/// one PostgreSQL store, polling 130 feeds at the same time.
fn worker_and_another_poll_every_feed_once(second: &str) {
    let Some(cluster) = storyline_testpg::Cluster::start() else {
        return;
    };
    let db = cluster.url();
    let feeds = ecb_feeds::feeds(FEEDS);
    assert_eq!(feeds.len(), FEEDS, "enough long ECB+ reports");
    let gate = Arc::new(Gate::default());
    let (base, seen) = serve_gated(feeds, Arc::clone(&gate));
    let urls: Vec<String> = (0..FEEDS).map(|i| format!("{base}/f/{i:03}.xml")).collect();
    ecb_feeds::add_feeds(&db, &urls);

    let pollers = ["worker", second].map(|command| {
        let mut c = storyline(&db);
        c.args(["--json", command, "--allow-private-addresses"]);
        if command == "worker" {
            c.arg("--until-idle");
        }
        c.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start storyline")
    });
    // No feed is answered until both hold feeds: they poll at the same time, whatever the
    // machine's speed. The first to claim takes a round of 100, the other the rest.
    let store = Store::open(std::path::Path::new(&db)).expect("open the store");
    let mut holders = std::collections::HashSet::new();
    let mut looks = 0;
    while holders.len() < 2 && looks < LOOKS {
        looks += 1;
        std::thread::sleep(std::time::Duration::from_millis(50));
        holders = store
            .feed_leases(chrono::Utc::now())
            .expect("the feed leases")
            .into_iter()
            .map(|l| l.holder)
            .collect();
    }
    gate.open();
    if second == "follow" {
        // A follower runs until stopped: once every feed was fetched; SIGTERM lets it
        // store the poll under way first.
        let mut looks = 0;
        while seen.hits.lock().expect("hits").len() < FEEDS && looks < LOOKS {
            looks += 1;
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        // SAFETY: signalling our own child by its id.
        unsafe { libc::kill(pollers[1].id() as i32, libc::SIGTERM) };
    }
    let mut polled = Vec::new();
    for child in pollers {
        let stdout = ecb_feeds::succeeded(
            child.wait_with_output().expect("wait for storyline"),
            "storyline",
        );
        // A worker's one report, or a follower's, one a poll.
        let n: u64 = serde_json::Deserializer::from_slice(&stdout)
            .into_iter::<Value>()
            .map(|r| r.expect("a JSON report"))
            .map(|r| {
                r["feeds"]["polled"]
                    .as_u64()
                    .or(r["feeds"].as_array().map(|f| f.len() as u64))
                    .unwrap_or(0)
            })
            .sum();
        polled.push(n);
    }
    assert_eq!(holders.len(), 2, "both held feeds at once: {holders:?}");
    assert_eq!(polled.iter().sum::<u64>(), FEEDS as u64, "{polled:?}");
    assert!(polled.iter().all(|&n| n > 0), "both polled: {polled:?}");

    let hits = seen.hits.lock().expect("hits").clone();
    assert_eq!(hits.len(), FEEDS, "every feed fetched");
    let twice: Vec<_> = hits.iter().filter(|(_, &n)| n != 1).collect();
    assert!(
        twice.is_empty(),
        "feeds not fetched exactly once: {twice:?}"
    );
    // Each host's limit (two requests at once) holds across the pollers.
    let most = seen.most_in_flight.load(Ordering::SeqCst);
    assert!(most <= 2, "{most} requests at once");
    let mut ids = exported_ids(&db);
    assert_eq!(ids.len(), FEEDS, "every item stored");
    ids.dedup();
    assert_eq!(ids.len(), FEEDS, "none twice");
}

#[test]
fn two_workers_on_one_postgres_store_poll_every_feed_once_within_the_host_limit() {
    worker_and_another_poll_every_feed_once("worker");
}

#[test]
fn a_worker_and_a_follower_on_one_postgres_store_poll_every_feed_once() {
    worker_and_another_poll_every_feed_once("follow");
}

/// `follow --once` beside a follower that holds a feed: the feed is left to it, and named;
/// with `--take-over` it is polled too.
fn once_leaves_a_held_feed_to_its_holder(db: &str) {
    let feeds = ecb_feeds::feeds(3);
    let (base, seen) = serve(feeds);
    let urls: Vec<String> = (0..3).map(|i| format!("{base}/f/{i:03}.xml")).collect();
    ecb_feeds::add_feeds(db, &urls);
    let now = chrono::Utc::now();
    let store = Store::open(std::path::Path::new(db)).expect("open the store");
    let held = store
        .claim_feeds(&FeedClaim {
            holder: "follow-elsewhere",
            due_by: None,
            after: None,
            now,
            until: now + chrono::Duration::hours(1),
            limit: 1,
            take_over: false,
        })
        .expect("claim a feed");
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].url, urls[0], "the first in address order");

    let once = |extra: &[&str]| ecb_feeds::follow_once(db, extra);
    let report = once(&[]);
    let polled: Vec<&str> = report["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .filter_map(|f| f["url"].as_str())
        .collect();
    assert_eq!(polled, [&urls[1], &urls[2]]);
    let elsewhere = report["leased_elsewhere"]
        .as_array()
        .expect("leased_elsewhere");
    assert_eq!(elsewhere.len(), 1, "{elsewhere:?}");
    assert_eq!(elsewhere[0]["url"], urls[0].as_str());
    assert_eq!(elsewhere[0]["holder"], "follow-elsewhere");
    let hits = seen.hits.lock().expect("hits").clone();
    assert_eq!(
        hits,
        HashMap::from([(1, 1), (2, 1)]),
        "the held feed not fetched"
    );
    assert_eq!(exported_ids(db).len(), 2);

    let report = once(&["--take-over"]);
    assert_eq!(report["feeds"].as_array().map(Vec::len), Some(3));
    assert_eq!(seen.hits.lock().expect("hits").get(&0), Some(&1));
    assert_eq!(exported_ids(db).len(), 3);
}

#[test]
fn follow_once_on_a_sqlite_file_leaves_a_held_feed_to_its_holder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("s.db");
    once_leaves_a_held_feed_to_its_holder(db.to_str().expect("a UTF-8 path"));
}

#[test]
fn follow_once_on_a_postgres_store_leaves_a_held_feed_to_its_holder() {
    let Some(cluster) = storyline_testpg::Cluster::start() else {
        return;
    };
    once_leaves_a_held_feed_to_its_holder(&cluster.url());
}
