//! Tried as a new user would: `storyline serve --follow feeds.opml` against a feed on
//! 127.0.0.1 (items built at test time from `../shared/data`), the page opened in headless
//! Chromium, a new item added to the feed, and the page shows it without a reload; then the
//! page closed, another item added, and the page opened again marks it as new since the last
//! visit; then the feeds view shows the feed's health. Screenshots go to
//! `target/screenshots/`.
//!
//! The follower checks the feed every second (`--every 1`), so nothing waits for minutes;
//! every wait below is a bounded number of looks at the state, not a time limit.

#[path = "../../storyline-server/tests/chromium/mod.rs"]
mod chromium;
mod request;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use chromium::{browser, screenshot_dir, start_chromedriver};
use fantoccini::{Client, Locator};
use request::request_line;
use serde_json::Value;

/// Looks at the page or the API before giving up: generous, since the machine may be busy.
const LOOKS: usize = 3000;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

/// Reports with titles (the GVC set), as (guid, title, text, published): long ones, which
/// the feed carries in full, so that the follower fetches no page (their addresses are not
/// real).
fn reports(n: usize) -> Vec<(String, String, String, String)> {
    let text = std::fs::read_to_string(data().join("cluster/gvc-dev/articles.jsonl"))
        .expect("read the GVC articles");
    text.lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).expect("a JSON line");
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            (s("id"), s("title"), s("text"), s("published"))
        })
        .filter(|r| r.2.split_whitespace().count() >= 300)
        .take(n)
        .collect()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An RSS feed of `items`, full text in `content:encoded`.
fn feed(items: &[(String, String, String, String)]) -> String {
    let mut x = String::from(
        r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Local desk</title>"#,
    );
    for (id, title, text, published) in items {
        let body: String = text
            .lines()
            .map(|l| format!("&lt;p&gt;{}&lt;/p&gt;", esc(&esc(l))))
            .collect();
        let date = chrono::NaiveDate::parse_from_str(published, "%Y-%m-%d")
            .map(|d| d.format("%a, %d %b %Y 12:00:00 +0000").to_string())
            .unwrap_or_default();
        x.push_str(&format!(
            "<item><guid>gvc-{id}</guid><title>{}</title><link>https://desk.example/{id}</link>\
             <pubDate>{date}</pubDate><description>x</description>\
             <content:encoded>{body}</content:encoded></item>",
            esc(title)
        ));
    }
    x + "</channel></rss>"
}

/// Serves the current `body` at /feed.xml until the test ends.
fn serve_feed(body: Arc<Mutex<String>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the feed server");
    let addr = listener.local_addr().expect("feed server address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let first = request_line(&stream);
            let payload = if first.starts_with("GET /feed.xml ") {
                body.lock().map(|b| b.clone()).unwrap_or_default()
            } else {
                String::new()
            };
            let status = if payload.is_empty() {
                "404 Not Found"
            } else {
                "200 OK"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{payload}",
                payload.len()
            );
        }
    });
    format!("http://{addr}/feed.xml")
}

/// Kills the server however the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> Value {
    let mut s = std::net::TcpStream::connect(addr).expect("connect to the server");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    serde_json::from_str(body).unwrap_or(Value::Null)
}

/// Waits until the server has stored `n` articles.
fn wait_for_articles(addr: &str, n: u64) {
    for _ in 0..LOOKS {
        if http_get(addr, "/api/stats")["articles"].as_u64() == Some(n) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the server never held {n} articles");
}

/// The text of the first element matching `css` that passes `ok`, over the same time
/// as [`LOOKS`] looks 100 ms apart.
async fn wait_for(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    chromium::wait_text_polls(c, css, 2 * LOOKS, ok).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_item_in_a_followed_feed_appears_on_the_open_page() {
    let items = reports(6);
    let body = Arc::new(Mutex::new(feed(&items[..3])));
    let feed_url = serve_feed(Arc::clone(&body));
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("news.db");
    let opml = dir.path().join("feeds.opml");
    std::fs::write(
        &opml,
        format!(
            r#"<?xml version="1.0"?><opml version="2.0"><head><title>mine</title></head><body>
            <outline text="Local desk" type="rss" xmlUrl="{feed_url}"/></body></opml>"#
        ),
    )
    .expect("write the OPML file");

    let mut child = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(&db)
        .args(["serve", "--create", "--addr", "127.0.0.1:0"])
        .args(["--allow-private-addresses", "--every", "1", "--follow"])
        .arg(&opml)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start storyline serve");
    let stdout = child.stdout.take().expect("server stdout");
    let _server = Server(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the server's first line");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    wait_for_articles(&addr, 3);

    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;
    let base = format!("http://{addr}");
    c.goto(&format!("{base}/")).await.expect("open the page");
    wait_for(&c, "#stories .story-link", |t| !t.is_empty()).await;
    wait_for(&c, "#live-status", |t| t == "live").await;
    // A mark on this very page: gone if the page were reloaded.
    c.execute("window.notReloaded = true;", vec![])
        .await
        .expect("mark the page");

    // A new item in the feed reaches the open page by itself.
    *body.lock().expect("feed body") = feed(&items[..4]);
    let fourth = &items[3].1;
    let shown = wait_for(&c, "#live-articles", |t| t.contains(fourth.as_str())).await;
    assert!(shown.contains("new"), "{shown}");
    let story_of = c
        .find(Locator::Css("#live-articles a"))
        .await
        .expect("the new article's link")
        .attr("href")
        .await
        .expect("its address")
        .expect("an address");
    let fresh = wait_for(&c, "#stories .story-item", |t| t.starts_with("new")).await;
    assert!(!fresh.is_empty());
    let still_here = c
        .execute("return window.notReloaded === true;", vec![])
        .await
        .expect("read the mark");
    assert_eq!(still_here, Value::Bool(true), "the page was reloaded");
    let dir_shots = screenshot_dir();
    std::fs::write(
        dir_shots.join("live-new-article.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save the screenshot");
    // The new article's story opens from the live list.
    c.goto(&format!("{base}/{story_of}"))
        .await
        .expect("open the story");
    wait_for(&c, "#sources", |t| t.contains(fourth.as_str())).await;

    // Away from the page, another item comes in: the next visit marks it.
    c.goto("about:blank").await.expect("leave the page");
    *body.lock().expect("feed body") = feed(&items[..5]);
    wait_for_articles(&addr, 4 + 1);
    c.goto(&format!("{base}/"))
        .await
        .expect("open the page again");
    let fifth = &items[4].1;
    let visit = wait_for(&c, "#live-articles .kind-visit", |t| {
        t.contains(fifth.as_str())
    })
    .await;
    assert!(visit.contains("since last visit"), "{visit}");
    assert!(!visit.contains(fourth.as_str()));
    let count = wait_for(&c, "#live-count", |t| !t.is_empty()).await;
    assert_eq!(count, "1 new article since your last visit");

    // The feeds view: the feed's health.
    c.goto(&format!("{base}/#/feeds"))
        .await
        .expect("open the feeds view");
    let row = wait_for(&c, "#feeds tbody tr", |t| t.contains("Local desk")).await;
    assert!(row.contains(&feed_url), "{row}");
    let failures = c
        .find(Locator::Css("#feeds tbody tr td.num"))
        .await
        .expect("the failures cell")
        .text()
        .await
        .expect("its text");
    assert_eq!(failures, "0");
    std::fs::write(
        dir_shots.join("live-feeds.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save the screenshot");
    c.close().await.expect("close the browser");
}
