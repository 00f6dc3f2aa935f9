//! End to end in headless Chromium (Debian `chromium` + `chromium-driver`, which `.ci/run`
//! installs): open the page, search for "Blinken", open the story, click a citation, and
//! check what the popover shows. Screenshots of the story page at desktop and phone width go
//! to `target/screenshots/` (CI artifacts).
//!
//! A missing browser is a failure, never a silent skip: CI must not pass without this test.

mod chromium;
mod common;

use std::path::Path;

use chromium::{
    browser, full_page_screenshot, screenshot_dir, start_chromedriver, wait_text, POLLS,
};
use fantoccini::{Client, Locator};
use storyline_server::{serve, AppState, ServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_open_story_and_click_a_citation() {
    let (dir, db) = common::seeded_store();
    // Two unrelated synthetic reports beside the seeds' one story, so the list has pages.
    let extra = dir.path().join("extra.jsonl");
    std::fs::write(
        &extra,
        concat!(
            "{\"id\":\"page-1\",\"published\":\"2024-05-02\",\"url\":\"https://www.parks.example.org/quokkas\",\"title\":\"Quokka census on the island\",\"text\":\"Rangers counted 1,200 quokkas on the island this spring. The census takes a week.\"}\n",
            "{\"id\":\"page-2\",\"published\":\"2024-05-03\",\"title\":\"Glacier railway reopens\",\"text\":\"The glacier railway reopened on Friday after repairs to the tunnel. Trains run hourly.\"}\n",
        ),
    )
    .expect("write extra records");
    let mut p = storyline::pipeline::Pipeline::open(&db, Default::default()).expect("pipeline");
    let report = p
        .ingest(storyline::ingest::read_path(&extra, None), |_| {})
        .expect("ingest extra");
    assert_eq!(report.stored, 2, "{report:?}");
    drop(p);
    let state = AppState::open(ServerConfig::new(&db)).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(serve(state, listener));

    let (_driver, port) = start_chromedriver();
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;

    // The story list pages: one story per request here, "More stories" until all are shown.
    c.goto(&format!("{base}/?page=1")).await.expect("open page");
    wait_text(&c, "#stories .story-link", |t| !t.is_empty()).await;
    let count = wait_text(&c, "#stories-count", |t| t.starts_with("1 of ")).await;
    let total: usize = count
        .split_whitespace()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .expect("story total");
    assert!(total >= 3, "seeds and extras make several stories: {count}");
    for shown in 2..=total {
        c.find(Locator::Css("#more-stories"))
            .await
            .expect("more button")
            .click()
            .await
            .expect("more");
        wait_text(&c, "#stories-count", |t| {
            t.starts_with(&format!("{shown} of "))
        })
        .await;
    }
    let links = c
        .find_all(Locator::Css("#stories .story-link"))
        .await
        .expect("story links");
    assert_eq!(links.len(), total);
    let more_hidden = c
        .execute(
            "return document.getElementById('more-stories').hidden;",
            vec![],
        )
        .await
        .expect("script");
    assert_eq!(
        more_hidden,
        serde_json::Value::Bool(true),
        "all shown, no more button"
    );

    // Search for Blinken.
    let q = c.find(Locator::Css("#q")).await.expect("search box");
    q.send_keys("Blinken").await.expect("type");
    c.find(Locator::Css("#search-button"))
        .await
        .expect("button")
        .click()
        .await
        .expect("search");
    wait_text(&c, "h1", |t| t.contains("Search: Blinken")).await;
    let hit = wait_text(&c, "#search-articles mark", |t| t == "Blinken").await;
    assert_eq!(hit, "Blinken");

    // Open the best-matching story.
    let link = c
        .find(Locator::Css("#search-stories .story-link"))
        .await
        .expect("story result");
    link.click().await.expect("open story");
    let headline = wait_text(&c, "#headline", |t| !t.is_empty()).await;
    assert!(!headline.is_empty());
    let summary = wait_text(&c, "#summary", |t| t.contains('[')).await;
    assert!(summary.len() > 200, "summary: {summary}");
    c.find(Locator::Css("#timeline-chart rect.bar"))
        .await
        .expect("timeline chart with bars");
    let chips = c
        .find_all(Locator::Css("#entities .chip"))
        .await
        .expect("entity chips");
    assert!(!chips.is_empty());
    let entities = c
        .find(Locator::Css("#entities"))
        .await
        .expect("entities")
        .text()
        .await
        .expect("text");
    assert!(entities.contains("Blinken"), "entities: {entities}");
    let sources = wait_text(&c, "#sources", |t| t.contains("2024")).await;
    assert!(sources.lines().count() >= 2, "sources: {sources}");
    wait_text(&c, "#facts", |t| t.contains("Sources agree")).await;
    // What several sources say, each with its citations as buttons (not object names).
    let statements = wait_text(&c, "#statements", |t| t.contains("ceasefire")).await;
    assert!(!statements.contains("[object"), "statements: {statements}");
    // The March trip's reports 001 and 002 (sources [3] and [4]) agree on it; 004, a later
    // trip, is an event of its own.
    assert!(
        statements.contains("[3]") && statements.contains("[4]"),
        "statements: {statements}"
    );
    // The undated report says how it is bounded and that its dated support is dated.
    let timeline = wait_text(&c, "#timeline", |t| t.contains("after 2024-03-21")).await;
    assert!(
        timeline.contains("dated sources say much the same"),
        "timeline: {timeline}"
    );

    let dir = screenshot_dir();
    full_page_screenshot(&c, 1280, &dir.join("story-desktop.png")).await;
    c.set_window_size(1280, 1000).await.expect("resize");

    // Click the first citation of the summary: the popover names that source and quotes
    // the sentence.
    let cite = c
        .find(Locator::Css("#summary .cite"))
        .await
        .expect("a citation");
    let n: usize = cite
        .attr("data-n")
        .await
        .expect("attr")
        .and_then(|n| n.parse().ok())
        .expect("citation number");
    let claim = c
        .find(Locator::Css("#summary .claim"))
        .await
        .expect("claim")
        .text()
        .await
        .expect("claim text");
    cite.click().await.expect("click citation");
    let source = wait_text(&c, "#popover-source", |t| !t.is_empty()).await;
    assert!(source.starts_with(&format!("[{n}]")), "popover: {source}");
    let sentence = wait_text(&c, "#popover-sentence", |t| t.len() > 20 && t != "…").await;
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 3)
            .map(str::to_lowercase)
            .collect()
    };
    let claim_words = words(&claim);
    let shared = words(&sentence)
        .iter()
        .filter(|w| claim_words.contains(w))
        .count();
    assert!(
        shared >= 3,
        "popover sentence {sentence:?} vs claim {claim:?}"
    );
    // The source list names the same article as the popover.
    let listed = c
        .find(Locator::Css(&format!("#source-{n}")))
        .await
        .expect("source entry")
        .text()
        .await
        .expect("text");
    let title = source.trim_start_matches(&format!("[{n}] ")).to_string();
    assert!(listed.contains(&title), "{listed:?} vs {title:?}");
    std::fs::write(
        dir.join("story-citation-desktop.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save screenshot");

    // Phone width: the page must not need horizontal scrolling.
    c.find(Locator::Css("#popover .close"))
        .await
        .expect("popover close button")
        .click()
        .await
        .expect("close popover");
    c.set_window_size(390, 844).await.expect("resize");
    let overflow = c
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .expect("script");
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "horizontal overflow at phone width: {overflow}"
    );
    full_page_screenshot(&c, 390, &dir.join("story-phone.png")).await;
    c.set_window_size(390, 844).await.expect("resize");
    c.execute("window.scrollTo(0, 0);", vec![])
        .await
        .expect("scroll");
    cite.click().await.expect("click citation at phone width");
    wait_text(&c, "#popover-sentence", |t| t.len() > 20 && t != "…").await;
    std::fs::write(
        dir.join("story-citation-phone.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save screenshot");

    // A report with an address and no source name is shown as from its site.
    c.goto(&format!("{base}/#/search/quokkas"))
        .await
        .expect("search by address");
    wait_text(&c, ".search-article .muted", |t| {
        t.starts_with("parks.example.org · 2024-05-02")
    })
    .await;

    search_table_in_the_page(&c, &base, &db).await;
    c.close().await.expect("close browser");

    private_server_asks_for_its_key_once(port, &db).await;
}

/// The search table typed into the search box: the page shows what the API finds, stories
/// by their headline, and a plain message when there is no word to search for. The page is
/// served under the content security policy, so this also shows the policy lets it work.
async fn search_table_in_the_page(c: &Client, base: &str, db: &Path) {
    let store = storyline::store::Store::open(db).expect("store");
    c.goto(&format!("{base}/")).await.expect("open page");
    for typed in common::query_table::QUERIES {
        if typed.is_empty() {
            continue; // an empty box goes back to the story list
        }
        // Clear what the last query showed, so nothing stale can pass for this one.
        c.execute("document.getElementById('app').replaceChildren();", vec![])
            .await
            .expect("clear");
        let q = c.find(Locator::Css("#q")).await.expect("search box");
        q.clear().await.expect("clear box");
        q.send_keys(typed).await.expect("type");
        c.find(Locator::Css("#search-button"))
            .await
            .expect("button")
            .click()
            .await
            .expect("search");
        match storyline::search::Query::parse(typed) {
            Ok(parsed) => {
                let want =
                    storyline::read::search(&store, typed, &parsed, &Default::default(), 30, 0)
                        .expect("search");
                let heading = format!("Articles ({})", want.articles.len());
                wait_text(c, "h2", |t| t == heading).await;
                let shown = c
                    .find_all(Locator::Css("#search-articles .search-article"))
                    .await
                    .expect("articles");
                assert_eq!(shown.len(), want.total as usize, "{typed:?}");
                let stories = c
                    .find_all(Locator::Css("#search-stories .story-link"))
                    .await
                    .expect("stories");
                assert_eq!(stories.len(), want.stories.len(), "{typed:?}");
                for (link, hit) in stories.iter().zip(&want.stories) {
                    assert_eq!(link.text().await.expect("text"), hit.headline, "{typed:?}");
                }
            }
            Err(e) => {
                let message = e.to_string();
                wait_text(c, "#error", |t| t == message).await;
            }
        }
    }
}

/// A private server: the page asks for the key once, keeps it for the session, and shows
/// the stories; a reload does not ask again.
async fn private_server_asks_for_its_key_once(port: u16, db: &Path) {
    const KEY: &str = "browser-test-key-0123456789";
    let mut config = ServerConfig::new(db);
    config.token = Some(KEY.into());
    config.private = true;
    let state = AppState::open(config).expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(serve(state, listener));
    let profile = tempfile::tempdir().expect("profile dir");
    let c = browser(port, profile.path()).await;
    c.goto(&format!("{base}/")).await.expect("open page");
    let mut asked = false;
    for _ in 0..POLLS {
        if c.get_alert_text().await.is_ok() {
            c.send_alert_text(KEY).await.expect("type the key");
            c.accept_alert().await.expect("accept");
            asked = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(asked, "the page asks for the key");
    wait_text(&c, "#stories .story-link", |t| !t.is_empty()).await;
    c.refresh().await.expect("reload");
    wait_text(&c, "#stories .story-link", |t| !t.is_empty()).await;
    assert!(c.get_alert_text().await.is_err(), "asked only once");
    c.close().await.expect("close browser");
}
