//! `storyline follow` killed with SIGKILL in the middle of a poll, then started again: every
//! item is stored exactly once and none is lost. The feeds are served on 127.0.0.1 by a
//! server the test runs (items built at test time from `../shared/data`).
//!
//! The follower stores a poll a round of feeds at a time. With more feeds than one round,
//! the server holds back the second round's feeds: the kill comes once the first round is
//! stored and a request of the second is under way, whatever the machine's speed.
#![cfg(unix)]

mod ecb_feeds;
mod request;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use request::request_line;

/// Feeds followed: more than the 100 a round holds.
const FEEDS: usize = 130;
/// The feeds of the first round, which the server answers at once.
const FIRST_ROUND: usize = 100;
/// Looks at the state before giving up: a bound on looks, not on time.
const LOOKS: usize = 6000;

/// The feed server: feeds past the first round wait until `release` is set.
struct FeedServer {
    base: String,
    /// Requests for second-round feeds received so far.
    held: Arc<AtomicUsize>,
    release: Arc<(Mutex<bool>, Condvar)>,
}

impl FeedServer {
    fn start(feeds: Vec<String>) -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the feed server");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let feeds = Arc::new(feeds);
        let held = Arc::new(AtomicUsize::new(0));
        let release = Arc::new((Mutex::new(false), Condvar::new()));
        let (h, r) = (Arc::clone(&held), Arc::clone(&release));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (feeds, held, release) = (Arc::clone(&feeds), Arc::clone(&h), Arc::clone(&r));
                std::thread::spawn(move || answer(stream, &feeds, &held, &release));
            }
        });
        FeedServer {
            base,
            held,
            release,
        }
    }

    fn url(&self, i: usize) -> String {
        format!("{}/f/{i:03}.xml", self.base)
    }

    fn release(&self) {
        let (lock, cv) = &*self.release;
        *lock.lock().expect("release lock") = true;
        cv.notify_all();
    }
}

fn answer(
    mut stream: std::net::TcpStream,
    feeds: &[String],
    held: &AtomicUsize,
    release: &(Mutex<bool>, Condvar),
) {
    let first = request_line(&stream);
    let feed = first
        .strip_prefix("GET /f/")
        .and_then(|rest| rest.split(".xml").next())
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n < feeds.len());
    let Some(n) = feed else {
        let _ = write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    };
    if n >= FIRST_ROUND {
        held.fetch_add(1, Ordering::SeqCst);
        let (lock, cv) = release;
        let mut released = lock.lock().expect("release lock");
        while !*released {
            released = cv.wait(released).expect("release wait");
        }
    }
    let body = &feeds[n];
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// (article ids, feed item rows, distinct links among them) in the store.
fn stored(db: &Path) -> (Vec<String>, usize, usize) {
    let conn = rusqlite::Connection::open(db).expect("open the store");
    let mut stmt = conn
        .prepare("SELECT ext_id FROM articles ORDER BY ext_id")
        .expect("query");
    let ids = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect::<rusqlite::Result<Vec<String>>>())
        .unwrap_or_default();
    let (items, links) = conn
        .query_row(
            "SELECT count(*), count(DISTINCT link) FROM feed_items",
            [],
            |r| Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as usize)),
        )
        .unwrap_or((0, 0));
    (ids, items, links)
}

#[test]
fn killed_mid_poll_and_restarted_stores_every_item_once() {
    let feeds = ecb_feeds::feeds(FEEDS);
    assert_eq!(feeds.len(), FEEDS, "enough long ECB+ reports");
    let server = FeedServer::start(feeds);
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("s.db");
    let urls: Vec<String> = (0..FEEDS).map(|i| server.url(i)).collect();
    ecb_feeds::add_feeds(&db, &urls);

    let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(&db)
        .args(["follow", "--allow-private-addresses"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start storyline follow");
    // Mid-poll: the first round stored, a feed of the second being fetched.
    let mut looks = 0;
    while server.held.load(Ordering::SeqCst) == 0 {
        looks += 1;
        assert!(looks < LOOKS, "the second round was never fetched");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (before, _, _) = stored(&db);
    assert_eq!(before.len(), FIRST_ROUND, "the first round is stored");
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
    server.release();

    // The killed follower's leases on the second round have not run out: taken over, as
    // the follower is known dead.
    let report = ecb_feeds::follow_once(&db, &["--take-over"]);
    // The second round's items are new; the first round's are known, not taken again.
    let counts = ["new_items", "known_items", "updated_items"].map(|k| report[k].as_u64());
    let want = [FEEDS - FIRST_ROUND, FIRST_ROUND, 0].map(|n| Some(n as u64));
    assert_eq!(counts, want, "failures: {}", report["failures"]);

    let (ids, items, links) = stored(&db);
    let mut distinct = ids.clone();
    distinct.dedup();
    assert_eq!(ids.len(), FEEDS, "every item stored");
    assert_eq!(distinct.len(), FEEDS, "none twice");
    assert!(
        ids.iter().all(|id| !id.contains("#v")),
        "no item taken for an update"
    );
    assert_eq!((items, links), (FEEDS, FEEDS), "every item remembered once");
}
