//! Two `storyline worker`s polling feeds on one PostgreSQL store, one of them killed with
//! SIGKILL in the middle of a poll: the survivor polls the dead worker's feeds once their
//! leases run out, every served article is stored exactly once, and the store files them as
//! an undisturbed run of the same two workers does. Without PostgreSQL the test returns at
//! once (and fails under `CI=true`).
//!
//! The feeds are served on 127.0.0.1 by two servers the test runs (items built at test time
//! from `../shared/data`): the first worker's round of 100 feeds on one, the second
//! worker's 30 on the other, each answering only once the test opens it. So each worker's
//! round is under way before anything is queued, the first round is queued before the
//! second, and the kill comes at a point the test sees, whatever the machine's speed.
#![cfg(unix)]

mod ecb_feeds;
mod request;
mod stores;

use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use request::request_line;
use serde_json::Value;
use stores::{renumbered, storyline};
use storyline::store::Store;
use storyline_testpg::Cluster;

/// Feeds followed: a round of the first worker (100, the most a poller claims at a time),
/// and the rest for the second.
const FEEDS: usize = 130;
const FIRST_ROUND: usize = 100;
/// Looks at the state, 20 ms apart, before giving up: a bound on looks, not on time. A
/// takeover waits for the dead worker's leases, and for its turns at the feeds' host
/// (which outlast a request's time-out: a minute).
const LOOKS: usize = 15_000;
/// A worker's feed lease, in seconds: its feeds are another's this long after it died.
const LEASE: &str = "5";

/// A feed server that answers only while open.
struct FeedServer {
    /// The start of its feeds' addresses (`http://127.0.0.1:PORT/f/`).
    prefix: String,
    open: Arc<(Mutex<bool>, Condvar)>,
    /// Feed requests received, answered or held.
    hits: Arc<AtomicUsize>,
}

impl FeedServer {
    /// Serves `/f/NNN.xml` from `feeds` (NNN: the index).
    fn start(feeds: Arc<Vec<String>>) -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a feed server");
        let prefix = format!("http://{}/f/", listener.local_addr().expect("address"));
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let hits = Arc::new(AtomicUsize::new(0));
        let (gate, counted) = (Arc::clone(&open), Arc::clone(&hits));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (feeds, gate, counted) =
                    (Arc::clone(&feeds), Arc::clone(&gate), Arc::clone(&counted));
                std::thread::spawn(move || answer(stream, &feeds, &gate, &counted));
            }
        });
        FeedServer { prefix, open, hits }
    }

    fn set_open(&self, open: bool) {
        let (lock, cv) = &*self.open;
        *lock.lock().expect("gate") = open;
        cv.notify_all();
    }
}

fn answer(
    mut stream: std::net::TcpStream,
    feeds: &[String],
    gate: &(Mutex<bool>, Condvar),
    hits: &AtomicUsize,
) {
    let first = request_line(&stream);
    let feed = first
        .strip_prefix("GET /f/")
        .and_then(|rest| rest.split(".xml").next())
        .and_then(|n| n.parse::<usize>().ok())
        .and_then(|n| feeds.get(n));
    let Some(body) = feed else {
        let _ = write!(
            stream,
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return;
    };
    hits.fetch_add(1, Ordering::SeqCst);
    let (lock, cv) = gate;
    let mut open = lock.lock().expect("gate");
    while !*open {
        open = cv.wait(open).expect("gate");
    }
    drop(open);
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Waits, looking every 20 ms, until `done` holds; fails naming `what` after `LOOKS` looks.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..LOOKS {
        if done() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("gave up waiting: {what}");
}

/// A worker polling the feeds (`--until-idle`: it ends once nothing is left to poll, queue
/// or place), with a short feed lease.
fn worker(db: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["--db", db, "--json", "--quiet", "worker", "--until-idle"])
        .args(["--allow-private-addresses", "--feed-lease", LEASE])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start a worker")
}

/// A worker's JSON report once it has ended by itself (it must succeed).
fn report(mut child: Child, db: &str) -> Value {
    wait_until(
        &format!("a worker to finish (stored {} articles)", stored(db)),
        || child.try_wait().expect("the worker's status").is_some(),
    );
    let out = child.wait_with_output().expect("the worker's output");
    serde_json::from_slice(&ecb_feeds::succeeded(out, "the worker"))
        .expect("the worker's JSON report")
}

fn kill_9(mut child: Child) {
    // SAFETY: signalling our own child by its id.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let _ = child.wait();
}

fn open_store(db: &str) -> Store {
    Store::open(Path::new(db)).expect("open the store")
}

fn stored(db: &str) -> u64 {
    open_store(db).counts().expect("counts").articles
}

/// The feeds each worker process holds now, by its process id (holders are named
/// `worker-PID-…`).
fn held_by(db: &str, pid: u32) -> Vec<String> {
    let leases = open_store(db)
        .feed_leases(chrono::Utc::now())
        .expect("the feed leases");
    let mine = format!("worker-{pid}-");
    leases
        .into_iter()
        .filter(|l| l.holder.starts_with(&mine))
        .map(|l| l.url)
        .collect()
}

/// Analyse jobs queued, run or failed, or articles stored: a worker has queued a round.
fn something_queued(db: &str) -> bool {
    let store = open_store(db);
    let jobs = store.job_counts("analyse").expect("job counts");
    jobs.queued + jobs.done + jobs.failed > 0 || store.counts().expect("counts").articles > 0
}

/// Where the run is cut short.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kill {
    /// Not at all: the reference.
    Nobody,
    /// The second worker, its round's feeds requested and not yet answered: nothing of
    /// its poll is queued, and its leases and its turns at the host outlive it.
    SecondWhileFetching,
    /// The first worker, as soon as the jobs of its round appear in the queue: its items
    /// were remembered with them; its feeds may or may not be recorded as polled.
    FirstOnceQueued,
}

/// What a run left.
struct Run {
    /// The reports of the workers that ended by themselves.
    reports: Vec<Value>,
    export: String,
}

/// One run on a fresh database: the first worker claims the first round and requests its
/// feeds, then the second claims the rest; the first round is answered (and queued)
/// before the second.
fn run(cluster: &Cluster, servers: &[FeedServer; 2], urls: &[String], kill: Kill) -> Run {
    let db = cluster.create_database(&format!("{kill:?}").to_lowercase());
    for s in servers {
        s.set_open(false);
        s.hits.store(0, Ordering::SeqCst);
    }
    ecb_feeds::add_feeds(&db, urls);

    let first = worker(&db);
    wait_until("the first worker to claim its round and request it", || {
        held_by(&db, first.id()).len() == FIRST_ROUND && servers[0].hits.load(Ordering::SeqCst) > 0
    });
    let second = worker(&db);
    wait_until("the second worker to claim the rest and request it", || {
        held_by(&db, second.id()).len() == FEEDS - FIRST_ROUND
            && servers[1].hits.load(Ordering::SeqCst) > 0
    });
    assert!(
        !something_queued(&db),
        "nothing is queued while every feed is held"
    );

    let mut reports = Vec::new();
    match kill {
        Kill::Nobody => {
            servers[0].set_open(true);
            wait_until("the first round to be queued", || something_queued(&db));
            servers[1].set_open(true);
            reports.push(report(first, &db));
            reports.push(report(second, &db));
        }
        Kill::SecondWhileFetching => {
            // Mid-poll: its requests are held, so its round cannot be recorded.
            let held = held_by(&db, second.id()).len();
            assert_eq!(
                held,
                FEEDS - FIRST_ROUND,
                "the second worker holds its round"
            );
            kill_9(second);
            servers[0].set_open(true);
            servers[1].set_open(true);
            reports.push(report(first, &db));
        }
        Kill::FirstOnceQueued => {
            servers[0].set_open(true);
            wait_until("the first round to be queued", || something_queued(&db));
            kill_9(first);
            servers[1].set_open(true);
            reports.push(report(second, &db));
        }
    }

    let export = storyline(&db, &["export"]);
    let mut ids: Vec<String> = export
        .lines()
        .map(|l| stores::json(l)["id"].to_string())
        .collect();
    assert_eq!(ids.len(), FEEDS, "{kill:?}: every served article stored");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), FEEDS, "{kill:?}: none twice");
    let store = open_store(&db);
    let feeds = store.feeds().expect("the feeds");
    assert_eq!(feeds.len(), FEEDS);
    let unpolled: Vec<String> = feeds
        .iter()
        .filter(|f| f.items != 1 || f.last_fetch.is_none())
        .map(|f| format!("{} ({} items, error {:?})", f.url, f.items, f.last_error))
        .collect();
    assert!(
        unpolled.is_empty(),
        "{kill:?}: feeds not polled, or their item not remembered once: {unpolled:?}"
    );
    assert!(
        store
            .feed_leases(chrono::Utc::now())
            .expect("leases")
            .is_empty(),
        "{kill:?}: a feed still held"
    );
    let jobs = store.job_counts("analyse").expect("job counts");
    assert_eq!((jobs.queued, jobs.done, jobs.failed), (0, 0, 0), "{kill:?}");
    Run { reports, export }
}

fn queued(report: &Value) -> u64 {
    report["feeds"]["queued"].as_u64().expect("feeds.queued")
}

#[test]
fn a_worker_killed_mid_poll_loses_no_item_and_files_none_twice() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let feeds = ecb_feeds::feeds(FEEDS);
    assert_eq!(feeds.len(), FEEDS, "enough long ECB+ reports");
    // The first round on the server whose addresses sort first: pollers claim feeds in
    // address order.
    let feeds = Arc::new(feeds);
    let mut servers = [
        FeedServer::start(Arc::clone(&feeds)),
        FeedServer::start(Arc::clone(&feeds)),
    ];
    servers.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    let urls: Vec<String> = (0..FEEDS)
        .map(|i| {
            let server = &servers[usize::from(i >= FIRST_ROUND)];
            format!("{}{i:03}.xml", server.prefix)
        })
        .collect();

    let reference = run(&cluster, &servers, &urls, Kill::Nobody);
    let queued_by: Vec<u64> = reference.reports.iter().map(queued).collect();
    assert_eq!(queued_by, [100, 30], "each worker queued its round");
    let reference = renumbered(&reference.export);

    for (kill, survivor_queued) in [
        (Kill::SecondWhileFetching, 130),
        (Kill::FirstOnceQueued, 30),
    ] {
        let out = run(&cluster, &servers, &urls, kill);
        // The survivor queued the dead worker's unqueued items, and no item queued before
        // the kill again.
        let survivor = &out.reports[0];
        assert_eq!(queued(survivor), survivor_queued, "{kill:?}: {survivor}");
        let export = renumbered(&out.export);
        assert_eq!(export.len(), reference.len());
        for (a, b) in reference.iter().zip(&export) {
            assert_eq!(a, b, "{kill:?}: filed otherwise than the undisturbed run");
        }
    }
}
