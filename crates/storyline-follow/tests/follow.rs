//! The follower against a local server on 127.0.0.1 that each test starts: feeds built at
//! test time from `../shared/data` articles, article pages from the saved pages of
//! `../shared/data/extract`, and misbehaving endpoints. The clock is a `ManualClock`, so
//! back-offs of hours pass without waiting.

use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use storyline::follow::{Clock, ManualClock};
use storyline::pipeline::PipelineConfig;
use storyline_follow::{ClientConfig, Follower, PollReport, Which};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// What the server answers at a path.
#[derive(Clone)]
enum Route {
    /// A feed with an ETag; a matching If-None-Match gets 304.
    Feed(String),
    /// A page, sent gzipped as saved (Content-Encoding: gzip).
    Page(Vec<u8>),
    Status(u16, Option<String>),
    Redirect(String),
    /// Answers after this long.
    Slow(Duration),
    /// A body of this many MiB, streamed without a length.
    Huge(usize),
    /// Gzip-encoded bytes sent as they are (a gzip bomb).
    Gzip(Vec<u8>),
    Text(String),
}

/// A request as logged: path, If-None-Match, User-Agent.
type Logged = (String, Option<String>, Option<String>);

#[derive(Default)]
struct Served {
    routes: Mutex<HashMap<String, Route>>,
    /// Every request: path, If-None-Match, User-Agent.
    log: Mutex<Vec<Logged>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Served {
    fn set(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }
    fn hits(&self, path: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p == path)
            .count()
    }
    fn requests(&self, path: &str) -> Vec<Logged> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p == path)
            .cloned()
            .collect()
    }
}

async fn answer(State(s): State<Arc<Served>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    // Read the headers first: a request body is not `Sync`, so no borrow of it may live
    // across an await.
    let (inm, agent) = {
        let h = |name: header::HeaderName| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (h(header::IF_NONE_MATCH), h(header::USER_AGENT))
    };
    drop(req);
    s.log
        .lock()
        .unwrap()
        .push((path.clone(), inm.clone(), agent));
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let route = s.routes.lock().unwrap().get(&path).cloned();
    let response = match route {
        None => StatusCode::NOT_FOUND.into_response(),
        Some(Route::Feed(xml)) => {
            let etag = format!("\"{}\"", storyline::follow::items::hash_hex(&[&xml]));
            if inm.as_deref() == Some(etag.as_str()) {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                let mut headers = HeaderMap::new();
                headers.insert(header::ETAG, etag.parse().unwrap());
                headers.insert(header::CONTENT_TYPE, "application/rss+xml".parse().unwrap());
                (headers, xml).into_response()
            }
        }
        Some(Route::Page(gz)) => {
            // Overlap page requests, so the per-host limit is exercised.
            tokio::time::sleep(Duration::from_millis(30)).await;
            (
                [
                    (header::CONTENT_ENCODING, "gzip"),
                    (header::CONTENT_TYPE, "text/html"),
                ],
                gz,
            )
                .into_response()
        }
        Some(Route::Status(code, retry_after)) => {
            let mut r = StatusCode::from_u16(code).unwrap().into_response();
            if let Some(ra) = retry_after {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, ra.parse().unwrap());
            }
            r
        }
        Some(Route::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Some(Route::Slow(d)) => {
            tokio::time::sleep(d).await;
            "late".into_response()
        }
        Some(Route::Huge(mib)) => {
            let chunk = Bytes::from(vec![b'x'; 1 << 20]);
            let stream = futures_util::stream::iter(
                (0..mib).map(move |_| Ok::<_, std::convert::Infallible>(chunk.clone())),
            );
            Body::from_stream(stream).into_response()
        }
        Some(Route::Gzip(bytes)) => ([(header::CONTENT_ENCODING, "gzip")], bytes).into_response(),
        Some(Route::Text(t)) => t.into_response(),
    };
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

async fn serve() -> (String, Arc<Served>) {
    let served = Arc::new(Served::default());
    let app = axum::Router::new()
        .fallback(answer)
        .with_state(served.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), served)
}

/// A feed item.
#[derive(Clone)]
struct Item {
    guid: Option<String>,
    link: String,
    title: String,
    published: Option<DateTime<Utc>>,
    description: String,
    content: Option<String>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn rss(title: &str, items: &[Item]) -> String {
    let mut x = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>
<title>{}</title><link>https://desk.example/</link><description>test feed</description>
"#,
        esc(title)
    );
    for it in items {
        x.push_str("<item>");
        if let Some(g) = &it.guid {
            x.push_str(&format!("<guid isPermaLink=\"false\">{}</guid>", esc(g)));
        }
        x.push_str(&format!(
            "<title>{}</title><link>{}</link><description>{}</description>",
            esc(&it.title),
            esc(&it.link),
            esc(&it.description)
        ));
        if let Some(p) = it.published {
            x.push_str(&format!("<pubDate>{}</pubDate>", p.to_rfc2822()));
        }
        if let Some(c) = &it.content {
            let html: String = c.lines().map(|l| format!("<p>{}</p>", esc(l))).collect();
            x.push_str(&format!(
                "<content:encoded><![CDATA[{html}]]></content:encoded>"
            ));
        }
        x.push_str("</item>\n");
    }
    x.push_str("</channel></rss>");
    x
}

/// Full-text items from the first `n` GVC reports (dated full articles) long enough to
/// count as full text.
fn full_items(base: &str, n: usize) -> Vec<Item> {
    let f = std::fs::File::open(data().join("cluster/gvc-dev/articles.jsonl")).unwrap();
    std::io::BufReader::new(f)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(&l.unwrap()).unwrap())
        .filter(|v| v["text"].as_str().unwrap().split_whitespace().count() >= 150)
        .take(n)
        .map(|v| {
            let id = v["id"].as_str().unwrap().to_string();
            let text = v["text"].as_str().unwrap().to_string();
            let published = v["published"]
                .as_str()
                .and_then(storyline::ingest::parse_published);
            Item {
                guid: Some(format!("gvc-{id}")),
                link: format!("{base}/story/{id}"),
                title: v["title"].as_str().unwrap_or("untitled").to_string(),
                published,
                description: text.chars().take(120).collect(),
                content: Some(text),
            }
        })
        .collect()
}

/// Saved news pages (gzipped) whose article the extractor finds, up to `n`, by file stem.
fn pages(n: usize) -> Vec<(String, Vec<u8>)> {
    let dir = data().join("extract/scrapinghub-dev/html");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let gz = std::fs::read(&p).unwrap();
        let mut html = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut html)
            .unwrap();
        let stem = p.file_name().unwrap().to_string_lossy()[..16].to_string();
        if storyline::ingest::extract_page(&html, &stem).is_ok() {
            out.push((stem, gz));
        }
        if out.len() == n {
            break;
        }
    }
    out
}

fn t0() -> DateTime<Utc> {
    "2026-03-01T08:00:00Z".parse().unwrap()
}

fn follower(db: &Path, clock: Arc<ManualClock>, allow_private: bool) -> Follower {
    let config = ClientConfig {
        allow_private_addresses: allow_private,
        // Short, so the slow-server test is quick; long enough for a busy machine.
        timeout: Duration::from_secs(5),
        ..ClientConfig::default()
    };
    Follower::open(db, PipelineConfig::default(), config, clock).unwrap()
}

/// Off the async workers: PostgreSQL's sync client may not run on one.
fn add(f: &Follower, url: &str) {
    tokio::task::block_in_place(|| f.store().add_feed(url, None, t0()).unwrap());
}

fn reasons(r: &PollReport) -> Vec<String> {
    r.failures
        .iter()
        .map(|f| format!("{} {:?}: {}", f.feed, f.item, f.reason))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_item_once_pages_fetched_validators_resent_and_restart_resumes() {
    let (base, served) = serve().await;
    let full = full_items(&base, 12);
    let mut items = full.clone();
    let pages = pages(6);
    for (stem, gz) in &pages {
        served.set(&format!("/page/{stem}"), Route::Page(gz.clone()));
        // The item links to a redirect: the stored url is where it led.
        served.set(
            &format!("/go/{stem}"),
            Route::Redirect(format!("{base}/page/{stem}")),
        );
        items.push(Item {
            guid: Some(format!("page-{stem}")),
            link: format!("{base}/go/{stem}"),
            title: format!("Page {stem}"),
            published: None,
            description: "A teaser only.".into(),
            content: None,
        });
    }
    served.set("/feed.xml", Route::Feed(rss("The Desk", &items)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let feed = format!("{base}/feed.xml");
    let mut f = follower(&db, clock.clone(), true);
    add(&f, &feed);

    let r = f.poll(Which::All).await.unwrap();
    assert!(r.failures.is_empty(), "{:?}", reasons(&r));
    assert_eq!(r.new_items, items.len());
    assert_eq!(r.pages_fetched, pages.len());
    assert_eq!(r.ingest.stored, items.len());
    assert!(
        served.max_in_flight.load(Ordering::SeqCst) <= 2,
        "more than 2 requests at once to one host"
    );
    let store = f.store();
    let (_, a) = store
        .article(&format!("{feed}#page-{}", pages[0].0))
        .unwrap();
    assert_eq!(
        a.article.url.as_deref(),
        Some(format!("{base}/page/{}", pages[0].0).as_str())
    );
    assert_eq!(a.article.source.as_deref(), Some("The Desk"));
    assert!(a.article.text.len() > 200, "{}", a.article.text);
    let (_, b) = store
        .article(&format!("{feed}#{}", full[0].guid.as_deref().unwrap()))
        .unwrap();
    assert_eq!(b.article.published, full[0].published);
    assert_eq!(
        b.article.text.lines().next(),
        full[0].content.as_deref().unwrap().lines().next()
    );
    // Every request said who we are.
    let ua = format!("storyline/{}", env!("CARGO_PKG_VERSION"));
    assert!(served
        .log
        .lock()
        .unwrap()
        .iter()
        .all(|(_, _, agent)| agent.as_deref() == Some(ua.as_str())));

    // The second poll sends the ETag back and gets 304: nothing fetched, nothing stored.
    let r = f.poll(Which::All).await.unwrap();
    let feed_requests = served.requests("/feed.xml");
    assert_eq!(feed_requests.len(), 2);
    assert!(feed_requests[1].1.is_some(), "no If-None-Match sent");
    assert_eq!(r.feeds[0].status, "not modified");
    assert_eq!((r.new_items, r.ingest.stored), (0, 0));
    let row = f.store().feed(&feed).unwrap().unwrap();
    assert_eq!(row.items as usize, items.len());
    assert!(row.etag.is_some());
    drop(f);

    // Restart on the same store; the feed gains one item: only that one is stored.
    let mut more = items.clone();
    more.insert(0, full_items(&base, 13).pop().unwrap());
    served.set("/feed.xml", Route::Feed(rss("The Desk", &more)));
    let mut f = follower(&db, clock.clone(), true);
    let page_hits = served.hits(&format!("/page/{}", pages[0].0));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!(
        (r.new_items, r.known_items, r.ingest.stored),
        (1, items.len(), 1)
    );
    assert_eq!(
        served.hits(&format!("/page/{}", pages[0].0)),
        page_hits,
        "page fetched again"
    );
    assert_eq!(
        f.store().counts().unwrap().articles as usize,
        items.len() + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_guids_for_old_links_are_known_and_a_changed_report_is_an_update() {
    let (base, served) = serve().await;
    let items = full_items(&base, 5);
    served.set("/f.xml", Route::Feed(rss("Wire", &items)));
    let dir = tempfile::tempdir().unwrap();
    let feed = format!("{base}/f.xml");
    let mut f = follower(
        &dir.path().join("s.db"),
        Arc::new(ManualClock::new(t0())),
        true,
    );
    add(&f, &feed);
    assert_eq!(f.poll(Which::All).await.unwrap().new_items, 5);

    // The feed renames every guid, links unchanged: nothing is new.
    let renamed: Vec<Item> = items
        .iter()
        .map(|i| Item {
            guid: Some(format!("new-{}", i.guid.as_deref().unwrap())),
            ..i.clone()
        })
        .collect();
    served.set("/f.xml", Route::Feed(rss("Wire", &renamed)));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!((r.new_items, r.known_items, r.ingest.stored), (0, 5, 0));

    // One report is corrected: its text changes. It is stored once more, as an update
    // linked to the first version, and the first version stays.
    let mut corrected = renamed.clone();
    let text = corrected[2].content.clone().unwrap();
    corrected[2].content = Some(format!("{text}\nCorrection: an earlier version of this report gave the wrong age for one of the victims."));
    served.set("/f.xml", Route::Feed(rss("Wire", &corrected)));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!((r.new_items, r.updated_items, r.known_items), (0, 1, 4));
    assert_eq!(r.ingest.stored, 1);
    let store = f.store();
    let first = format!("{feed}#{}", items[2].guid.as_deref().unwrap());
    let update = format!("{first}#v2");
    assert_eq!(store.item_update_of(&update).unwrap(), Some(first.clone()));
    let (first_row, _) = store.article(&first).unwrap();
    let (_, updated) = store.article(&update).unwrap();
    assert!(updated.article.text.contains("Correction:"));
    // The near-duplicate stage links the update to the first version, so the story counts
    // the two as one source.
    assert_eq!(updated.duplicate_of, Some(first_row.row_id));

    // Polled again unchanged: nothing more.
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!((r.new_items, r.updated_items, r.ingest.stored), (0, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_on_429_is_obeyed_and_500s_back_off() {
    let (base, served) = serve().await;
    served.set("/busy.xml", Route::Status(429, Some("7200".into())));
    served.set("/broken.xml", Route::Status(500, None));
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t0()));
    let mut f = follower(&dir.path().join("s.db"), clock.clone(), true);
    let busy = format!("{base}/busy.xml");
    let broken = format!("{base}/broken.xml");
    add(&f, &busy);
    add(&f, &broken);

    let r = f.poll(Which::Due).await.unwrap();
    assert_eq!(r.failures.len(), 2, "{:?}", reasons(&r));
    assert!(reasons(&r).iter().any(|m| m.contains("HTTP 429")));
    let row = f.store().feed(&busy).unwrap().unwrap();
    assert_eq!(row.next_check, Some(t0() + chrono::Duration::seconds(7200)));
    assert_eq!(row.failures, 1);

    // Follow the broken feed's schedule: each wait is about twice the one before, and the
    // busy feed is not asked again before its hour is up.
    let mut waits = Vec::new();
    for _ in 0..4 {
        let next = f
            .store()
            .feed(&broken)
            .unwrap()
            .unwrap()
            .next_check
            .unwrap();
        waits.push((next - Clock::now(&*clock)).num_seconds());
        clock.advance(next - Clock::now(&*clock));
        f.poll(Which::Due).await.unwrap();
    }
    assert_eq!(served.hits("/broken.xml"), 5);
    for w in waits.windows(2) {
        assert!(w[1] as f64 > 1.6 * w[0] as f64, "{waits:?}");
    }
    let row = f.store().feed(&broken).unwrap().unwrap();
    assert_eq!(row.failures, 5);
    assert_eq!(row.last_error.as_deref(), Some("HTTP 500"));
    assert!(Clock::now(&*clock) < t0() + chrono::Duration::seconds(7200));
    assert_eq!(
        served.hits("/busy.xml"),
        1,
        "asked again before Retry-After ran out"
    );

    // Past the hour, and the server is well again: polled, failures reset.
    served.set("/busy.xml", Route::Feed(rss("Busy", &full_items(&base, 1))));
    clock.advance(chrono::Duration::seconds(7200));
    let r = f.poll(Which::Due).await.unwrap();
    assert_eq!(served.hits("/busy.xml"), 2);
    assert_eq!(r.new_items, 1);
    assert_eq!(f.store().feed(&busy).unwrap().unwrap().failures, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_servers_fail_their_feed_with_the_reason() {
    let (base, served) = serve().await;
    served.set("/loop/a", Route::Redirect(format!("{base}/loop/b")));
    served.set("/loop/b", Route::Redirect(format!("{base}/loop/a")));
    served.set("/slow.xml", Route::Slow(Duration::from_secs(30)));
    served.set("/huge.xml", Route::Huge(100));
    // 64 MiB of zeros, 64 KiB on the wire.
    let mut bomb = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut bomb, &vec![0u8; 64 << 20]).unwrap();
    served.set("/bomb.xml", Route::Gzip(bomb.finish().unwrap()));
    served.set(
        "/bad.xml",
        Route::Text("<rss version=\"2.0\"><channel><title>x</title><item><title>y</item>".into()),
    );
    served.set("/ok.xml", Route::Feed(rss("Fine", &full_items(&base, 2))));
    let dir = tempfile::tempdir().unwrap();
    let mut f = follower(
        &dir.path().join("s.db"),
        Arc::new(ManualClock::new(t0())),
        true,
    );
    for p in [
        "/loop/a",
        "/slow.xml",
        "/huge.xml",
        "/bomb.xml",
        "/bad.xml",
        "/ok.xml",
    ] {
        add(&f, &format!("{base}{p}"));
    }
    let r = f.poll(Which::All).await.unwrap();
    let reason = |p: &str| {
        let url = format!("{base}{p}");
        r.failures
            .iter()
            .find(|x| x.feed == url && x.item.is_none())
            .map(|x| x.reason.clone())
            .unwrap_or_else(|| panic!("{p} did not fail: {:?}", reasons(&r)))
    };
    assert_eq!(reason("/loop/a"), "more than 5 redirects");
    assert_eq!(served.hits("/loop/a") + served.hits("/loop/b"), 6);
    assert_eq!(reason("/slow.xml"), "timed out");
    assert_eq!(reason("/huge.xml"), "body over the 16 MiB limit");
    assert_eq!(reason("/bomb.xml"), "body over the 16 MiB limit");
    let bad = reason("/bad.xml");
    assert!(
        bad.starts_with(&format!("{base}/bad.xml: not a valid RSS/Atom/JSON feed")),
        "{bad}"
    );
    // The good feed in the same poll is unharmed.
    assert_eq!(r.new_items, 2);
    assert_eq!(r.failures.len(), 5, "{:?}", reasons(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_is_obeyed_for_pages_not_for_the_feed() {
    let (base, served) = serve().await;
    served.set(
        "/robots.txt",
        Route::Text("User-agent: *\nDisallow: /private/\n".into()),
    );
    let pages = pages(2);
    let mut items = Vec::new();
    for (i, (stem, gz)) in pages.iter().enumerate() {
        let path = if i == 0 {
            format!("/private/{stem}")
        } else {
            format!("/page/{stem}")
        };
        served.set(&path, Route::Page(gz.clone()));
        items.push(Item {
            guid: None,
            link: format!("{base}{path}"),
            title: format!("Page {i}"),
            published: None,
            description: "Teaser.".into(),
            content: None,
        });
    }
    // The subscribed feed sits under the disallowed folder: the user asked for it.
    served.set("/private/feed.xml", Route::Feed(rss("Desk", &items)));
    let dir = tempfile::tempdir().unwrap();
    let mut f = follower(
        &dir.path().join("s.db"),
        Arc::new(ManualClock::new(t0())),
        true,
    );
    add(&f, &format!("{base}/private/feed.xml"));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!(r.ingest.stored, 1);
    let [failure] = &r.failures[..] else {
        panic!("{:?}", reasons(&r))
    };
    assert_eq!(failure.item.as_deref(), Some(items[0].link.as_str()));
    assert!(
        failure.reason.contains("robots.txt disallows it"),
        "{}",
        failure.reason
    );
    assert_eq!(served.hits(&format!("/private/{}", pages[0].0)), 0);
    assert_eq!(served.hits("/robots.txt"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_refused_without_the_flag() {
    let (base, served) = serve().await;
    served.set("/f.xml", Route::Feed(rss("Here", &full_items(&base, 1))));
    let port = base.rsplit(':').next().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut f = follower(
        &dir.path().join("s.db"),
        Arc::new(ManualClock::new(t0())),
        false,
    );
    add(&f, &format!("{base}/f.xml"));
    // A name that resolves to loopback: the resolver refuses it.
    add(&f, &format!("http://localhost:{port}/f.xml"));
    add(&f, "file:///etc/passwd");
    let r = f.poll(Which::All).await.unwrap();
    let msgs = reasons(&r);
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    for expected in [
        "refused: 127.0.0.1 is not a public address",
        "refused: localhost resolves only to non-public addresses",
        "refused: only http and https",
    ] {
        assert!(
            msgs.iter().any(|m| m.contains(expected)),
            "{expected}: {msgs:?}"
        );
    }
    assert_eq!(
        served.hits("/f.xml"),
        0,
        "a request reached the loopback server"
    );
    assert_eq!(r.ingest.stored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_commit_and_before_the_bookkeeping_stores_nothing_twice() {
    let (base, served) = serve().await;
    let items = full_items(&base, 6);
    served.set("/f.xml", Route::Feed(rss("Wire", &items)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let feed = format!("{base}/f.xml");
    let mut f = follower(&db, clock.clone(), true);
    add(&f, &feed);
    assert_eq!(f.poll(Which::All).await.unwrap().ingest.stored, 6);
    drop(f);
    // What a kill -9 between the pipeline's commit and the follower's bookkeeping leaves:
    // the articles, but neither the items remembered nor the feed's validators.
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch(
        "DELETE FROM feed_items; UPDATE feeds SET etag = NULL, last_modified = NULL;",
    )
    .unwrap();
    drop(conn);
    let mut f = follower(&db, clock, true);
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!(served.requests("/f.xml")[1].1, None);
    assert_eq!((r.ingest.stored, r.ingest.already_stored), (0, 6));
    assert_eq!(f.store().counts().unwrap().articles, 6);
    // And the items are remembered now.
    assert_eq!(f.store().feed(&feed).unwrap().unwrap().items, 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_sharing_one_link_under_their_own_guids_are_each_stored() {
    let (base, served) = serve().await;
    // Some feeds give every item the site's front page as its link.
    let items: Vec<Item> = full_items(&base, 3)
        .into_iter()
        .map(|i| Item {
            link: format!("{base}/"),
            ..i
        })
        .collect();
    served.set("/f.xml", Route::Feed(rss("Front", &items)));
    let dir = tempfile::tempdir().unwrap();
    let mut f = follower(
        &dir.path().join("s.db"),
        Arc::new(ManualClock::new(t0())),
        true,
    );
    add(&f, &format!("{base}/f.xml"));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!((r.new_items, r.ingest.stored), (3, 3), "{:?}", reasons(&r));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!((r.new_items, r.updated_items), (0, 0));
    // A later item at the same link is one more item, not an update of the others.
    let mut more = items.clone();
    more.push(Item {
        link: format!("{base}/"),
        ..full_items(&base, 4).pop().unwrap()
    });
    served.set("/f.xml", Route::Feed(rss("Front", &more)));
    let r = f.poll(Which::All).await.unwrap();
    assert_eq!((r.new_items, r.updated_items, r.ingest.stored), (1, 0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn followers_sharing_a_store_keep_to_two_requests_per_host_together() {
    use storyline_follow::{Fetcher, StoreHostSlots};
    let (base, served) = serve().await;
    served.set("/slow", Route::Slow(Duration::from_millis(150)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    // Two fetchers, as in two processes: each has its own in-process limit of two, and
    // only the store's slots stand between them.
    let fetcher = || {
        let config = ClientConfig {
            allow_private_addresses: true,
            ..ClientConfig::default()
        };
        Arc::new(
            Fetcher::new(config)
                .unwrap()
                .with_shared_slots(Arc::new(StoreHostSlots::open(&db).unwrap())),
        )
    };
    let (a, b) = (fetcher(), fetcher());
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..8 {
        let f = if i % 2 == 0 { a.clone() } else { b.clone() };
        let url = format!("{base}/slow");
        tasks.spawn(async move { f.get(&url, None, 1 << 20).await.map(|_| ()) });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(served.hits("/slow"), 8);
    assert_eq!(
        served.max_in_flight.load(Ordering::SeqCst),
        2,
        "the two fetchers together must have had exactly two requests at the host at once"
    );
    // Every turn was given back.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let held: i64 = conn
        .query_row(
            "SELECT count(*) FROM host_slots WHERE holder IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 0);
}

/// Followers of one store, as on several machines: each has its own connections, its own
/// fetcher and its own name on the feeds it claims.
async fn two_followers_poll_each_due_feed_once(db: &Path) {
    let (base, served) = serve().await;
    let items = full_items(&base, 12);
    let feeds: Vec<String> = (0..6).map(|i| format!("/f{i}.xml")).collect();
    for (i, path) in feeds.iter().enumerate() {
        served.set(
            path,
            Route::Feed(rss(&format!("Desk {i}"), &items[2 * i..2 * i + 2])),
        );
    }
    let clock = Arc::new(ManualClock::new(t0()));
    let mut a = follower(db, clock.clone(), true);
    let mut b = follower(db, clock.clone(), true);
    for path in &feeds {
        add(&a, &format!("{base}{path}"));
    }
    // Twice: at once, and when every feed is due again.
    for turn in 1..=2 {
        let (ra, rb) = tokio::join!(a.poll(Which::Due), b.poll(Which::Due));
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        for path in &feeds {
            assert_eq!(served.hits(path), turn, "{path} fetched once a turn");
        }
        assert_eq!(ra.feeds.len() + rb.feeds.len(), feeds.len());
        let stored = ra.ingest.stored + rb.ingest.stored;
        assert_eq!(stored, if turn == 1 { items.len() } else { 0 });
        clock.advance(chrono::Duration::days(2));
    }
    tokio::task::block_in_place(|| {
        let store = a.store();
        assert_eq!(store.counts().unwrap().articles, items.len() as u64);
        let remembered: u64 = store.feeds().unwrap().iter().map(|f| f.items).sum();
        assert_eq!(remembered, items.len() as u64, "every item remembered once");
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_followers_of_one_sqlite_file_poll_each_due_feed_once() {
    let dir = tempfile::tempdir().unwrap();
    two_followers_poll_each_due_feed_once(&dir.path().join("s.db")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_followers_of_one_postgres_store_poll_each_due_feed_once() {
    let Some(cluster) = storyline_testpg::Cluster::start() else {
        return;
    };
    two_followers_poll_each_due_feed_once(Path::new(&cluster.url())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_followers_feeds_are_taken_over_when_its_lease_runs_out() {
    let (base, served) = serve().await;
    let items = full_items(&base, 6);
    let feeds: Vec<String> = (0..3).map(|i| format!("/f{i}.xml")).collect();
    for path in &feeds {
        // Answers long after the poll is killed.
        served.set(path, Route::Slow(Duration::from_secs(60)));
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let lease = Duration::from_secs(90);
    let mut dead = follower(&db, clock.clone(), true).with_feed_lease(lease);
    for path in &feeds {
        add(&dead, &format!("{base}{path}"));
    }
    // Killed with every feed's request under way: the poll is dropped where it stands,
    // and nothing of it is recorded.
    let requested = async {
        let mut looks = 0;
        while feeds.iter().any(|p| served.hits(p) == 0) {
            looks += 1;
            assert!(looks < 6000, "the feeds were never requested");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::select! {
        r = dead.poll(Which::Due) => panic!("the poll ended before it was killed: {:?}", r.map(|r| reasons(&r))),
        () = requested => {}
    }
    drop(dead);
    for (i, path) in feeds.iter().enumerate() {
        served.set(path, Route::Feed(rss("Wire", &items[2 * i..2 * i + 2])));
    }

    let mut f = follower(&db, clock.clone(), true);
    clock.advance(chrono::Duration::seconds(89));
    let r = f.poll(Which::Due).await.unwrap();
    assert!(r.feeds.is_empty(), "still leased: {:?}", r.feeds);
    assert_eq!(
        f.next_due().unwrap(),
        Some(t0() + chrono::Duration::seconds(90)),
        "due when the lease runs out"
    );
    clock.advance(chrono::Duration::seconds(2));
    let r = f.poll(Which::Due).await.unwrap();
    assert_eq!(r.feeds.len(), feeds.len(), "{:?}", reasons(&r));
    assert_eq!(r.ingest.stored, items.len());
    for path in &feeds {
        assert_eq!(
            served.hits(path),
            2,
            "{path}: the killed poll's, then the new one"
        );
    }
    assert_eq!(f.store().counts().unwrap().articles, items.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poll_longer_than_its_lease_renews_it_and_keeps_its_feed() {
    let (base, served) = serve().await;
    served.set("/slow.xml", Route::Slow(Duration::from_secs(3)));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let clock = Arc::new(ManualClock::new(t0()));
    let mut a = follower(&db, clock.clone(), true).with_feed_lease(Duration::from_secs(1));
    let mut b = follower(&db, clock.clone(), true);
    add(&a, &format!("{base}/slow.xml"));
    let lease_until = || -> Option<i64> {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.query_row("SELECT lease_until FROM feeds", [], |r| r.get(0))
            .unwrap()
    };
    let (ra, rb) = tokio::join!(a.poll(Which::Due), async {
        let mut looks = 0;
        while served.hits("/slow.xml") == 0 {
            looks += 1;
            assert!(looks < 6000, "the feed was never requested");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // By the followers' clock the poll now outlasts its lease ten times over...
        clock.advance(chrono::Duration::seconds(10));
        // ...and renews it: the feed is a's until a second from now.
        let renewed = (clock.now() + chrono::Duration::seconds(1)).timestamp_millis();
        let mut looks = 0;
        while lease_until() != Some(renewed) {
            looks += 1;
            assert!(looks < 6000, "the lease was never renewed");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            served.hits("/slow.xml"),
            1,
            "a's request is still under way"
        );
        b.poll(Which::Due).await.unwrap()
    });
    assert!(rb.feeds.is_empty(), "b polled a's feed: {:?}", rb.feeds);
    assert_eq!(ra.unwrap().feeds.len(), 1);
    assert_eq!(served.hits("/slow.xml"), 1);
}

/// A sentence model that errs on the articles whose text it is given under one of the
/// `refused` titles, as often as the count beside it allows (a model server that trips on
/// one input): the worker's "analyse" job of such an article fails.
struct Refusing {
    refused: Mutex<Vec<(String, usize)>>,
}

impl storyline::embed::Embedder for Refusing {
    fn embed(&self, texts: &[&str]) -> storyline::Result<Vec<Vec<f32>>> {
        let mut refused = self.refused.lock().unwrap();
        for (title, left) in refused.iter_mut() {
            if *left > 0 && texts.iter().any(|t| t.starts_with(&format!("{title}\n"))) {
                *left -= 1;
                return Err(storyline::Error::Embed(format!("refused {title:?}")));
            }
        }
        // Any fixed vector serves: what is asserted is what is stored, not how it is filed.
        Ok(texts.iter().map(|_| vec![1.0, 0.0, 0.0, 0.0]).collect())
    }

    fn dim(&self) -> usize {
        4
    }
}

/// `storyline worker --until-idle` on `db` with the model `embedder`, one job a claim.
async fn work(db: &Path, embedder: Arc<Refusing>) -> storyline::pipeline::WorkerReport {
    let config = storyline::pipeline::WorkerConfig {
        claim: 1,
        until_idle: true,
        lock_retry: Duration::from_millis(10),
        idle_wait: Duration::from_millis(10),
        embedder: Some(embedder),
        ..Default::default()
    };
    let db = db.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let never = std::sync::atomic::AtomicBool::new(false);
        storyline::pipeline::run_worker(&db, &config, &never, |_| {}).unwrap()
    })
    .await
    .unwrap()
}

/// A worker's poller queues the articles of new items; when an article's job fails for good
/// (three attempts), the item is forgotten with it, so the next poll queues it again, and
/// an item whose job keeps failing is queued at three polls, then left as taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_whose_job_fails_for_good_is_queued_again_at_the_next_polls_three_times() {
    let Some(cluster) = storyline_testpg::Cluster::start() else {
        return;
    };
    let db = PathBuf::from(cluster.url());
    let (base, served) = serve().await;
    let mut items = full_items(&base, 4);
    // Refused three times (its first job's attempts), then embedded; refused always.
    let (flaky, broken) = ("Flaky wire report", "Broken wire report");
    items[2].title = flaky.into();
    items[3].title = broken.into();
    served.set("/wire.xml", Route::Feed(rss("Wire", &items)));
    let model = Arc::new(Refusing {
        refused: Mutex::new(vec![(flaky.into(), 3), (broken.into(), usize::MAX)]),
    });
    let clock = Arc::new(ManualClock::new(t0()));
    let mut f = follower(&db, clock.clone(), true).with_queue();
    add(&f, &format!("{base}/wire.xml"));
    let store = || storyline::store::Store::open(&db).unwrap();
    let articles = || tokio::task::block_in_place(|| store().counts().unwrap().articles);
    let jobs = || tokio::task::block_in_place(|| store().job_counts("analyse").unwrap());

    // (the feed's answer, queued by the poll, stored by the worker, items it forgot,
    // articles in the store) at each poll. The feed never changes: forgetting an item forgets the feed's ETag too,
    // or the next poll would be answered "not modified" and read no item.
    let mut seen = Vec::new();
    for _ in 0..4 {
        let r = f.poll(Which::All).await.unwrap();
        assert!(r.failures.is_empty(), "{:?}", reasons(&r));
        let w = work(&db, model.clone()).await;
        seen.push((
            r.feeds[0].status,
            r.queued,
            w.ingest.stored,
            w.items_forgotten,
            articles(),
        ));
        clock.advance(chrono::Duration::hours(1));
    }
    assert_eq!(
        seen,
        [
            ("fetched", 4, 2, 2, 2),
            ("fetched", 2, 1, 1, 3),
            ("fetched", 1, 0, 0, 3),
            ("not modified", 0, 0, 0, 3)
        ],
        "the two refused items queued again after their jobs failed; the broken one three \
         times in all"
    );
    let jobs = jobs();
    assert_eq!(
        (jobs.queued, jobs.done, jobs.failed),
        (0, 0, 4),
        "the flaky item's first job and the broken item's three, kept with their errors"
    );
    // Every item remembered once, the broken one too (left as taken).
    let feed = tokio::task::block_in_place(|| f.store().feed(&format!("{base}/wire.xml")));
    assert_eq!(feed.unwrap().map(|f| f.items), Some(4));
}
