//! Headless Chromium through chromedriver, for the tests that open the web page (this
//! crate's `browser.rs`, and the CLI's `live_page.rs`, which includes this file by path).
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Polls of the page before giving up on an element: a bound on requests, not on time.
pub const POLLS: usize = 400;

/// Kills chromedriver (and with it the browser) however the test ends.
pub struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn start_chromedriver() -> (Driver, u16) {
    for bin in [CHROMIUM, CHROMEDRIVER] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: install Debian's chromium and chromium-driver \
             (apt-get install chromium chromium-driver; .ci/run does it)"
        );
    }
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let stdout = child.stdout.take().expect("chromedriver stdout");
    let driver = Driver(child);
    // chromedriver picks a free port for --port=0 and prints it.
    let mut port = None;
    for line in BufReader::new(stdout).lines().take(50) {
        let line = line.expect("chromedriver output");
        if let Some(rest) = line.split("started successfully on port ").nth(1) {
            port = rest.trim_end_matches('.').trim().parse().ok();
            break;
        }
    }
    (driver, port.expect("chromedriver did not report its port"))
}

pub async fn browser(port: u16, profile: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,1000",
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("WebDriver session")
}

/// The first element matching `css` whose text passes `ok`, polling a bounded number of times.
pub async fn wait_text(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    wait_text_polls(c, css, POLLS, ok).await
}

/// [`wait_text`] with its own bound on polls (50 ms apart), for pages that wait on a server.
pub async fn wait_text_polls(
    c: &Client,
    css: &str,
    polls: usize,
    ok: impl Fn(&str) -> bool,
) -> String {
    let mut last = String::new();
    for _ in 0..polls {
        if let Ok(els) = c.find_all(Locator::Css(css)).await {
            for e in els {
                if let Ok(t) = e.text().await {
                    if ok(&t) {
                        return t;
                    }
                    last = t;
                }
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {css} with the expected text; last seen: {last:?}");
}

/// WebDriver screenshots show the viewport only: grow the window to the page's height
/// (capped) for one picture of the whole story page.
pub async fn full_page_screenshot(c: &Client, width: u32, path: &Path) {
    let height = c
        .execute("return document.documentElement.scrollHeight;", vec![])
        .await
        .expect("page height")
        .as_u64()
        .unwrap_or(1000)
        .clamp(600, 6000) as u32;
    c.set_window_size(width, height + 140)
        .await
        .expect("resize for screenshot");
    c.execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    std::fs::write(path, c.screenshot().await.expect("screenshot")).expect("save screenshot");
}

pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}
