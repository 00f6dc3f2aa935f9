//! The JSON API over a temporary store built from `../shared/seeds`: status codes, JSON
//! shapes, bad input (malformed JSON, oversize bodies, unknown ids) answered with a clear 4xx
//! and nothing stored. Requests go straight into the router (no socket needed).

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use storyline_server::{router, AppState, ServerConfig};
use tower::ServiceExt;

struct App {
    _dir: tempfile::TempDir,
    router: Router,
}

fn app() -> App {
    let (dir, db) = common::seeded_store();
    let state = AppState::open(ServerConfig::new(db)).expect("open state");
    App {
        _dir: dir,
        router: router(state),
    }
}

impl App {
    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let res = self.router.clone().oneshot(req).await.expect("response");
        let status = res.status();
        let ct = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let json = if ct.starts_with("application/json") {
            serde_json::from_slice(&bytes).expect("JSON body")
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };
        (status, json)
    }

    async fn get(&self, uri: &str) -> (StatusCode, Value) {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    async fn post(&self, uri: &str, ct: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        self.send(
            Request::post(uri)
                .header("content-type", ct)
                .body(body.into())
                .expect("request"),
        )
        .await
    }

    async fn articles(&self) -> u64 {
        let (s, v) = self.get("/api/stats").await;
        assert_eq!(s, StatusCode::OK);
        v["articles"].as_u64().expect("articles count")
    }
}

fn assert_error(status: StatusCode, body: &Value, want: StatusCode) {
    assert_eq!(status, want, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "error message: {body}"
    );
}

#[tokio::test]
async fn stories_list_and_story_shape() {
    let app = app();
    let (s, page) = app.get("/api/stories").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(page["total"].as_u64().is_some_and(|t| t >= 1));
    let stories = page["stories"].as_array().expect("stories");
    assert!(!stories.is_empty());
    for k in ["id", "headline", "n_articles", "n_events", "last_published"] {
        assert!(stories[0].get(k).is_some(), "story item lacks {k}");
    }
    // Newest activity first.
    let last: Vec<&str> = stories
        .iter()
        .filter_map(|s| s["last_published"].as_str())
        .collect();
    assert!(last.windows(2).all(|w| w[0] >= w[1]), "{last:?}");

    let id = stories[0]["id"].as_i64().expect("id");
    let (s, story) = app.get(&format!("/api/stories/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    for k in [
        "headline", "summary", "timeline", "entities", "events", "facts", "sources",
    ] {
        assert!(story.get(k).is_some(), "story lacks {k}");
    }
    let n_sources = story["sources"].as_array().expect("sources").len();
    let summary = story["summary"].as_array().expect("summary");
    assert!(!summary.is_empty());
    for claim in summary {
        let cites = claim["citations"].as_array().expect("citations");
        assert!(!cites.is_empty(), "uncited claim {claim}");
        for c in cites {
            let n = c.as_u64().expect("citation number") as usize;
            assert!((1..=n_sources).contains(&n));
        }
        assert!(claim["span"]["end"].as_u64() > claim["span"]["start"].as_u64());
    }
    for f in story["facts"].as_array().expect("facts") {
        for k in ["agreed", "single_source", "conflicts"] {
            assert!(f[k].is_array(), "facts lack {k}");
        }
    }
}

#[tokio::test]
async fn story_filters() {
    let app = app();
    let (_, all) = app.get("/api/stories").await;
    let total = all["total"].as_u64().expect("total");
    let (s, v) = app.get("/api/stories?since=2999-01-01").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["total"], 0);
    let (_, v) = app
        .get("/api/stories?since=2000-01-01&until=2999-12-31")
        .await;
    assert_eq!(v["total"].as_u64(), Some(total));
    let (_, v) = app.get("/api/stories?entity=Blinken").await;
    assert!(v["total"].as_u64().is_some_and(|t| t >= 1), "{v}");
    let (_, v) = app.get("/api/stories?entity=Nobody%20Atall").await;
    assert_eq!(v["total"], 0);
    let (_, v) = app.get("/api/stories?source=no-such-source").await;
    assert_eq!(v["total"], 0);
    let (_, v) = app.get("/api/stories?limit=1&offset=0").await;
    assert_eq!(v["stories"].as_array().map(Vec::len), Some(1));

    let (s, v) = app.get("/api/stories?since=yesterday").await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
    let (s, v) = app.get("/api/stories?limit=many").await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn unknown_ids_are_clear_4xx() {
    let app = app();
    let (s, v) = app.get("/api/stories/987654").await;
    assert_error(s, &v, StatusCode::NOT_FOUND);
    let (s, v) = app.get("/api/stories/not-a-number").await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
    // In plain words, not Rust's: no "Cannot parse `abc` to a `i64`".
    assert_eq!(
        v["error"], "\"not-a-number\" in the address should be a number",
        "{v}"
    );
    let (s, v) = app.get("/api/articles/no-such-article").await;
    assert_error(s, &v, StatusCode::NOT_FOUND);
    let (s, v) = app.get("/api/entities?story=987654").await;
    assert_error(s, &v, StatusCode::NOT_FOUND);
    let (s, v) = app.get("/api/no-such-route").await;
    assert_error(s, &v, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn articles_and_entities() {
    let app = app();
    let (s, page) = app.get("/api/articles?limit=10").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(page["total"], 5);
    let first = &page["articles"][0];
    let id = first["id"].as_str().expect("id");
    let (s, a) = app.get(&format!("/api/articles/{id}")).await;
    assert_eq!(s, StatusCode::OK);
    assert!(a["text"].as_str().is_some_and(|t| t.len() > 100));
    let sentences = a["sentences"].as_array().expect("sentences");
    assert!(!sentences.is_empty() && sentences[0]["text"].as_str().is_some());
    assert!(a["story"].as_i64().is_some());

    let (s, v) = app.get("/api/entities?kind=person&name=blinken").await;
    assert_eq!(s, StatusCode::OK);
    let names: Vec<&str> = v
        .as_array()
        .expect("entities")
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.iter().any(|n| n.contains("Blinken")), "{names:?}");
    let (s, v) = app.get("/api/entities?kind=planet").await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn search_ranks_filters_and_reads_punctuation_as_words() {
    let app = app();
    let (s, r) = app.get("/api/search?q=Blinken").await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let hits = r["articles"].as_array().expect("hits");
    assert!(!hits.is_empty());
    let scores: Vec<f64> = hits.iter().filter_map(|h| h["score"].as_f64()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] <= w[1]),
        "BM25 order {scores:?}"
    );
    assert!(hits[0]["snippet"]
        .as_array()
        .expect("snippet")
        .iter()
        .any(|p| p["hit"] == true && p["text"].as_str().is_some_and(|t| t.contains("Blinken"))));
    assert!(!r["stories"].as_array().expect("stories").is_empty());
    let total = r["total"].as_u64().expect("total");
    assert!(total >= hits.len() as u64);
    // Pages come from the same ranking: the second hit is the first of page two.
    let (_, page2) = app.get("/api/search?q=Blinken&limit=1&offset=1").await;
    assert_eq!(page2["total"].as_u64(), Some(total));
    if hits.len() > 1 {
        assert_eq!(
            page2["articles"][0]["article"]["id"],
            hits[1]["article"]["id"]
        );
    }

    // A phrase matches only the words in that order.
    let (s, r) = app.get("/api/search?q=%22Secretary%20of%20State%22").await;
    assert_eq!(s, StatusCode::OK);
    assert!(!r["articles"].as_array().expect("hits").is_empty());
    let (_, r) = app.get("/api/search?q=%22State%20of%20Secretary%22").await;
    assert!(r["articles"].as_array().expect("hits").is_empty());

    let (_, r) = app.get("/api/search?q=Blinken&since=2999-01-01").await;
    assert!(r["articles"].as_array().expect("hits").is_empty());

    // What FTS5 used to refuse is read as words.
    for typed in ["%22unclosed", "Secretary:State", "(Blinken", "Blinken%27s"] {
        let (s, v) = app.get(&format!("/api/search?q={typed}")).await;
        assert_eq!(s, StatusCode::OK, "{typed}: {v}");
    }
    for empty in ["", "?q=%20", "?q=AND", "?q=%2B%2B"] {
        let (s, v) = app.get(&format!("/api/search{empty}")).await;
        assert_error(s, &v, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], "type a word to search for", "{empty}");
    }
}

/// The titles and texts of every stored article, as the API gives them.
async fn stored_articles(app: &App) -> Vec<(String, String)> {
    let (_, page) = app.get("/api/articles?limit=100").await;
    let mut out = Vec::new();
    for a in page["articles"].as_array().expect("articles") {
        let id = a["id"].as_str().expect("id");
        let (_, full) = app.get(&format!("/api/articles/{id}")).await;
        out.push((
            full["title"].as_str().unwrap_or("").to_string(),
            full["text"].as_str().expect("text").to_string(),
        ));
    }
    out
}

#[tokio::test]
async fn the_search_table_finds_what_a_word_by_word_scan_finds() {
    let app = app();
    let articles = stored_articles(&app).await;
    assert_eq!(articles.len(), 5);
    let (_, list) = app.get("/api/stories").await;
    let headline = list["stories"][0]["headline"].clone();
    let mut found_some = 0;
    for typed in common::query_table::QUERIES {
        let uri = format!(
            "/api/search?limit=100&q={}",
            typed
                .bytes()
                .map(|b| format!("%{b:02X}"))
                .collect::<String>()
        );
        let (s, r) = app.get(&uri).await;
        match common::query_table::expected(typed, &articles) {
            Ok(n) => {
                assert_eq!(s, StatusCode::OK, "{typed:?}: {r}");
                assert_eq!(r["query"], *typed);
                assert_eq!(r["total"].as_u64(), Some(n as u64), "{typed:?}");
                assert_eq!(r["articles"].as_array().map(Vec::len), Some(n), "{typed:?}");
                if n > 0 {
                    found_some += 1;
                    // The seeds make one story: it is named by its headline.
                    assert_eq!(r["stories"][0]["headline"], headline, "{typed:?}");
                }
            }
            Err(e) => {
                assert_error(s, &r, StatusCode::BAD_REQUEST);
                assert_eq!(r["error"], e.to_string(), "{typed:?}");
            }
        }
    }
    assert!(
        found_some >= 30,
        "most of the table finds something: {found_some}"
    );
}

fn guarded_app(edit: impl FnOnce(&mut ServerConfig)) -> App {
    let (dir, db) = common::seeded_store();
    let mut config = ServerConfig::new(db);
    edit(&mut config);
    App {
        _dir: dir,
        router: router(AppState::open(config).expect("open state")),
    }
}

fn ingest_request(headers: &[(&str, &str)]) -> Request<Body> {
    let mut req = Request::post("/api/ingest").header("content-type", "application/x-ndjson");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::from(
        "{\"id\":\"guard-1\",\"text\":\"The harbour reopened on Monday after repairs.\"}\n",
    ))
    .expect("request")
}

#[tokio::test]
async fn another_sites_page_cannot_write_and_rebinding_is_refused() {
    let app = app();
    let before = app.articles().await;
    for headers in [
        &[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://evil.example"),
        ][..],
        &[("host", "127.0.0.1:8080"), ("origin", "null")],
        &[("host", "127.0.0.1:8080"), ("sec-fetch-site", "cross-site")],
        &[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:9999"),
        ],
    ] {
        let (s, v) = app.send(ingest_request(headers)).await;
        assert_error(s, &v, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.articles().await, before);
    // DNS rebinding: a page whose name now points at 127.0.0.1 still names itself.
    let (s, v) = app
        .send(
            Request::get("/api/stories")
                .header("host", "evil.example:8080")
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_error(s, &v, StatusCode::FORBIDDEN);
    // The server's own page, and a program (no Origin), may write.
    let (s, v) = app
        .send(ingest_request(&[
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080"),
            ("sec-fetch-site", "same-origin"),
        ]))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(app.articles().await, before + 1);
}

#[tokio::test]
async fn with_a_key_writes_need_it_and_a_private_server_reads_need_it_too() {
    const KEY: &str = "k3y-for-the-tests-0123456789";
    let app = guarded_app(|c| c.token = Some(KEY.into()));
    let before = app.articles().await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some("k3y-for-the-tests-0123456789"),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("authorization", a)).into_iter().collect();
        let res = app
            .router
            .clone()
            .oneshot(ingest_request(&headers))
            .await
            .expect("response");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
    }
    assert_eq!(app.articles().await, before, "reads stay open");
    let bearer = format!("Bearer {KEY}");
    let (s, v) = app
        .send(ingest_request(&[("authorization", &bearer)]))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    let private = guarded_app(|c| {
        c.token = Some(KEY.into());
        c.private = true;
    });
    let (s, v) = private.get("/api/stories").await;
    assert_error(s, &v, StatusCode::UNAUTHORIZED);
    let (s, _) = private
        .send(
            Request::get("/api/stories")
                .header("authorization", &bearer)
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // The page itself loads without the key: it asks for it.
    let (s, _) = private.get("/").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = app();
    for uri in [
        "/",
        "/app.js",
        "/api/stories",
        "/api/no-such-route",
        "/api/stories/x",
    ] {
        let res = app
            .router
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let h = res.headers();
        assert_eq!(
            h["content-security-policy"],
            storyline_server::guard::CONTENT_SECURITY_POLICY,
            "{uri}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{uri}");
    }
}

#[tokio::test]
async fn a_request_over_its_time_is_answered_not_left_hanging() {
    // One request at a time, and an ingest whose body never ends holds that turn: a read
    // waits for it and the guard answers when the read's time is up. (A zero time-out on an
    // idle server raced the store read, which can finish in its first poll.)
    let app = guarded_app(|c| {
        c.limits.max_concurrent = 1;
        c.limits.read_timeout = std::time::Duration::from_millis(200);
    });
    let (_sender, endless) =
        http_body_util::channel::Channel::<axum::body::Bytes, std::convert::Infallible>::new(1);
    let hold = Request::post("/api/ingest")
        .header("content-type", "application/x-ndjson")
        .body(Body::new(endless))
        .expect("request");
    let held = tokio::spawn(app.router.clone().oneshot(hold));
    // The test runtime has one thread: yielding lets the ingest take the turn and park on
    // its body before the read is sent.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    let (s, v) = app.get("/api/stories").await;
    assert_error(s, &v, StatusCode::SERVICE_UNAVAILABLE);
    held.abort();
}

#[tokio::test]
async fn off_loopback_the_server_refuses_to_start_without_a_key() {
    let (_dir, db) = common::seeded_store();
    // Refused before binding: nothing listens on the network.
    let addr: std::net::SocketAddr = "0.0.0.0:0".parse().expect("addr");
    let e =
        storyline_server::bind_and_serve(ServerConfig::new(&db), addr, |_| panic!("must not bind"))
            .await
            .expect_err("refused");
    assert!(matches!(e, storyline_server::ServeError::NoToken(_)), "{e}");
    assert!(e.to_string().contains("--token-file"), "{e}");
}

#[tokio::test]
async fn ingest_validates_and_stores_nothing_on_bad_input() {
    let app = app();
    let before = app.articles().await;

    let (s, v) = app
        .post("/api/ingest", "application/x-ndjson", "{not json\n")
        .await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
    assert!(!v["details"].as_array().expect("details").is_empty(), "{v}");
    assert_eq!(app.articles().await, before);

    let (s, v) = app
        .post("/api/ingest", "application/x-ndjson", "{\"id\":\"x\"}\n")
        .await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
    assert_eq!(app.articles().await, before);

    let (s, v) = app.post("/api/ingest", "application/x-ndjson", "").await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);

    let (s, v) = app.post("/api/ingest", "image/png", "{}").await;
    assert_error(s, &v, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (s, v) = app
        .post("/api/ingest?format=csv", "text/plain", "a,b")
        .await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);

    let line = format!(
        "{{\"id\":\"big\",\"title\":\"Big\",\"text\":\"{}\"}}\n",
        "word ".repeat(400_000)
    );
    let huge = line.repeat(10); // about 20 MB, over the 16 MiB limit
    let (s, v) = app.post("/api/ingest", "application/x-ndjson", huge).await;
    assert_error(s, &v, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.articles().await, before);

    let (s, v) = app
        .post("/api/ingest", "application/rss+xml", "<rss><chan")
        .await;
    assert_error(s, &v, StatusCode::BAD_REQUEST);
    assert_eq!(app.articles().await, before);
}

#[tokio::test]
async fn ingest_while_serving_shows_new_articles() {
    let app = app();
    let before = app.articles().await;
    let body = concat!(
        "{\"id\":\"api-1\",\"published\":\"2024-05-02\",\"source\":\"Test Wire\",\"title\":\"Zanzibar ferry line opens\",\"text\":\"The new Zanzibar ferry line opened on Thursday with 12 boats. Officials said the Zanzibar ferry would carry 3,000 passengers a day.\"}\n",
        "{oops\n",
        "{\"id\":\"api-2\",\"published\":\"2024-05-03\",\"source\":\"Other Wire\",\"title\":\"Zanzibar ferries busy\",\"text\":\"Zanzibar ferry operators reported full boats on the first day. The line has 12 boats, officials said.\"}\n",
    );
    let (s, r) = app.post("/api/ingest", "application/x-ndjson", body).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["stored"], 2);
    let errors = r["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].as_str().is_some_and(|e| e.contains(":2")),
        "{errors:?}"
    );
    assert_eq!(app.articles().await, before + 2);

    let (_, r) = app.get("/api/search?q=zanzibar").await;
    assert_eq!(r["articles"].as_array().map(Vec::len), Some(2));
    let (_, v) = app.get("/api/stories?source=Test%20Wire").await;
    assert!(v["total"].as_u64().is_some_and(|t| t >= 1));

    // The same records again: already stored, nothing duplicated.
    let (s, r) = app
        .post("/api/ingest?format=jsonl", "text/plain", body)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(r["already_stored"], 2);
    assert_eq!(app.articles().await, before + 2);

    let feed = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
        <item><guid>feed-1</guid><title>Quokka census</title><pubDate>Mon, 06 May 2024 10:00:00 GMT</pubDate>
        <description>Rangers counted 1,200 quokkas on the island this spring.</description></item>
        </channel></rss>"#;
    let (s, r) = app.post("/api/ingest", "application/rss+xml", feed).await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["stored"], 1);
}

#[tokio::test]
async fn every_documented_path_answers() {
    let app = app();
    let (s, doc) = app.get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    let (_, page) = app.get("/api/stories").await;
    let story = page["stories"][0]["id"].as_i64().expect("story id");
    let (_, arts) = app.get("/api/articles").await;
    let article = arts["articles"][0]["id"]
        .as_str()
        .expect("article id")
        .to_string();
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 8, "{:?}", paths.keys());
    for (path, ops) in paths {
        let uri = path
            .replace("/stories/{id}", &format!("/stories/{story}"))
            .replace("/articles/{id}", &format!("/articles/{article}"));
        let uri = if uri == "/api/search" {
            "/api/search?q=Blinken".to_string()
        } else {
            uri
        };
        for method in ops.as_object().expect("operations").keys() {
            let feed = r#"{"url": "https://wire.example/feed.xml"}"#;
            let (s, v) = match method.as_str() {
                // An event stream never ends: its answer is the status and the type.
                "get" if uri == "/api/live" => {
                    let res = app
                        .router
                        .clone()
                        .oneshot(Request::get(&uri).body(Body::empty()).expect("request"))
                        .await
                        .expect("response");
                    assert_eq!(res.status(), StatusCode::OK, "{uri}");
                    assert_eq!(res.headers()["content-type"], "text/event-stream");
                    continue;
                }
                "get" => app.get(&uri).await,
                "post" if uri == "/api/feeds" => app.post(&uri, "application/json", feed).await,
                "delete" if uri == "/api/feeds" => {
                    app.post(&uri, "application/json", feed).await;
                    let (s, v) = app
                        .send(
                            Request::delete("/api/feeds?url=https://wire.example/feed.xml")
                                .body(Body::empty())
                                .expect("request"),
                        )
                        .await;
                    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
                    continue;
                }
                "post" => {
                    app.post(&uri, "application/x-ndjson", "{\"id\":\"doc-check\",\"text\":\"Checking that the documented ingest route answers.\"}\n")
                        .await
                }
                m => panic!("undocumented method {m} on {path}"),
            };
            assert_eq!(s, StatusCode::OK, "{method} {uri}: {v}");
        }
    }
    // And the page itself.
    let (s, html) = app.get("/").await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.as_str().is_some_and(|h| h.contains("/app.js")));
    for asset in ["/app.js", "/app.css"] {
        assert_eq!(app.get(asset).await.0, StatusCode::OK);
    }
}

/// Checks one story body against itself: counts, events and citations all refer to the same
/// set of sources. A story read half-way through an ingest batch would break one of these.
fn assert_consistent_story(story: &Value) {
    let sources = story["sources"].as_array().expect("sources");
    let n = sources.len();
    assert_eq!(story["n_articles"].as_u64(), Some(n as u64), "{story}");
    let events = story["events"].as_array().expect("events");
    assert_eq!(
        story["n_events"].as_u64(),
        Some(events.len() as u64),
        "{story}"
    );
    let in_events: u64 = events
        .iter()
        .map(|e| e["n_articles"].as_u64().expect("event n_articles"))
        .sum();
    assert_eq!(in_events, n as u64, "{story}");
    for (i, s) in sources.iter().enumerate() {
        assert_eq!(s["n"].as_u64(), Some(i as u64 + 1), "{story}");
    }
    let ids: Vec<&str> = sources.iter().filter_map(|s| s["id"].as_str()).collect();
    let timeline = &story["timeline"];
    let dated = timeline["dated"].as_array().expect("timeline.dated");
    let claims = story["summary"]
        .as_array()
        .expect("summary")
        .iter()
        .chain(
            dated
                .iter()
                .flat_map(|d| d["sentences"].as_array().into_iter().flatten()),
        )
        .chain(timeline["undated"].as_array().expect("timeline.undated"));
    for claim in claims {
        let article = claim["article"].as_str().expect("claim article");
        assert!(
            ids.contains(&article),
            "claim from {article}, not a source: {story}"
        );
        for c in claim["citations"].as_array().expect("citations") {
            let c = c.as_u64().expect("citation number") as usize;
            assert!(
                (1..=n).contains(&c),
                "citation [{c}] of {n} sources: {story}"
            );
        }
    }
}

/// Ingest batches go in while readers list stories and read each one in a loop: no reader
/// ever gets a 5xx (SQLITE_BUSY included) or a story whose parts disagree.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn readers_never_see_a_half_written_story_while_ingest_commits() {
    let app = std::sync::Arc::new(app());
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut readers = Vec::new();
    for r in 0..3 {
        let (app, done) = (app.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0usize;
            // At least a few rounds, even if the writer finishes first.
            while reads < 20 || !done.load(std::sync::atomic::Ordering::Relaxed) {
                let (s, page) = app.get("/api/stories?limit=100").await;
                assert_eq!(s, StatusCode::OK, "reader {r}: {page}");
                let stories = page["stories"].as_array().expect("stories").clone();
                assert!(page["total"].as_u64() >= Some(stories.len() as u64));
                for item in &stories {
                    let id = item["id"].as_i64().expect("id");
                    let (s, story) = app.get(&format!("/api/stories/{id}")).await;
                    // A story merged into another after the list was read is gone: 404.
                    if s == StatusCode::NOT_FOUND {
                        continue;
                    }
                    assert_eq!(s, StatusCode::OK, "reader {r} story {id}: {story}");
                    assert_consistent_story(&story);
                    reads += 1;
                }
                let (s, v) = app.get("/api/search?q=ferry").await;
                assert_eq!(s, StatusCode::OK, "reader {r}: {v}");
            }
            reads
        }));
    }

    // Synthetic reports on a few running topics, so batches both start stories and grow
    // (and sometimes merge) existing ones.
    let topics = [
        ("Ferry", "harbour", "ferry line to the island"),
        ("Bridge", "river", "toll bridge over the river"),
        ("Library", "council", "new public library"),
    ];
    let mut stored = 0;
    for batch in 0..12 {
        let mut body = String::new();
        for k in 0..4 {
            let i = batch * 4 + k;
            let (topic, place, thing) = topics[i % topics.len()];
            body += &serde_json::json!({
                "id": format!("concurrent-{i}"),
                "published": format!("2024-06-{:02}", 1 + i % 28),
                "source": format!("Wire {}", i % 5),
                "title": format!("{topic} update {i}"),
                "text": format!(
                    "Officials said the {thing} near the {place} would open in {} weeks. \
                     The {thing} cost {} million dollars, the {place} council said on Monday. \
                     Residents of the {place} district welcomed the {thing} on day {i}.",
                    2 + i % 7,
                    10 + i
                ),
            })
            .to_string();
            body.push('\n');
        }
        let (s, r) = app.post("/api/ingest", "application/x-ndjson", body).await;
        assert_eq!(s, StatusCode::OK, "batch {batch}: {r}");
        stored += r["stored"].as_u64().expect("stored");
    }
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(stored, 48);
    for r in readers {
        let reads = r.await.expect("reader panicked");
        assert!(reads >= 20, "{reads} story reads");
    }
    // And after the last batch every story still holds together.
    let (_, page) = app.get("/api/stories?limit=100").await;
    for item in page["stories"].as_array().expect("stories") {
        let (s, story) = app.get(&format!("/api/stories/{}", item["id"])).await;
        assert_eq!(s, StatusCode::OK);
        assert_consistent_story(&story);
    }
}

/// The properties a schema names, following `$ref` and `allOf` (a flattened field).
fn schema_properties<'a>(doc: &'a Value, schema: &'a Value) -> Vec<(&'a str, &'a Value)> {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.trim_start_matches("#/components/schemas/");
        return schema_properties(doc, &doc["components"]["schemas"][name]);
    }
    let mut out: Vec<(&str, &Value)> = schema["properties"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        out.extend(schema_properties(doc, part));
    }
    out
}

/// The schema of an array's items, or of the value itself.
fn items(v: &Value) -> &Value {
    if v["type"] == "array" {
        &v["items"]
    } else {
        v
    }
}

#[tokio::test]
async fn openapi_describes_the_story_body_field_by_field() {
    let app = app();
    let (s, doc) = app.get("/api/openapi.json").await;
    assert_eq!(s, StatusCode::OK);
    // Every reference resolves to a described type (ids are inline integers, not a
    // reference to a type alias).
    let text = doc.to_string();
    for r in text.split("\"#/components/schemas/").skip(1) {
        let name = r.split('"').next().expect("ref name");
        let target = &doc["components"]["schemas"][name];
        assert!(
            target.get("properties").is_some()
                || target.get("allOf").is_some()
                || target.get("enum").is_some()
                || target.get("oneOf").is_some(),
            "$ref {name} names no described type: {target}"
        );
    }
    let body = &doc["paths"]["/api/stories/{id}"]["get"]["responses"]["200"]["content"]
        ["application/json"]["schema"];
    let props = schema_properties(&doc, body);
    let names: Vec<&str> = props.iter().map(|(k, _)| *k).collect();
    for k in [
        "id",
        "headline",
        "first_published",
        "last_published",
        "n_articles",
        "n_events",
        "summary",
        "timeline",
        "entities",
        "events",
        "facts",
        "sources",
    ] {
        assert!(names.contains(&k), "story schema lacks {k}: {names:?}");
    }
    let field = |props: &[(&str, &'_ Value)], k: &str| -> Vec<String> {
        let (_, v) = props.iter().find(|(n, _)| *n == k).expect("field");
        schema_properties(&doc, items(v))
            .into_iter()
            .map(|(n, _)| n.to_string())
            .collect()
    };
    let claim = field(&props, "summary");
    for k in ["text", "citations", "article", "span"] {
        assert!(claim.iter().any(|n| n == k), "claim lacks {k}: {claim:?}");
    }
    let timeline = field(&props, "timeline");
    assert!(timeline.iter().any(|n| n == "dated") && timeline.iter().any(|n| n == "undated"));
    let source = field(&props, "sources");
    for k in [
        "n",
        "id",
        "title",
        "source",
        "url",
        "published",
        "event",
        "copy_of",
    ] {
        assert!(
            source.iter().any(|n| n == k),
            "source lacks {k}: {source:?}"
        );
    }
    let facts = field(&props, "facts");
    for k in ["event", "agreed", "single_source", "conflicts"] {
        assert!(facts.iter().any(|n| n == k), "facts lack {k}: {facts:?}");
    }
    let entity = field(&props, "entities");
    assert!(entity.iter().any(|n| n == "kind") && entity.iter().any(|n| n == "aliases"));
    let event = field(&props, "events");
    assert!(event.iter().any(|n| n == "sources"), "{event:?}");

    // And a real story answer has exactly the fields the schema names at the top level.
    let (_, page) = app.get("/api/stories?limit=1").await;
    let (_, story) = app
        .get(&format!("/api/stories/{}", page["stories"][0]["id"]))
        .await;
    let mut got: Vec<&str> = story
        .as_object()
        .expect("story object")
        .keys()
        .map(String::as_str)
        .collect();
    let mut want = names.clone();
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

/// The first seed story's id, its `ETag` and its body.
async fn first_story(app: &App) -> (i64, String, Value) {
    let (_, page) = app.get("/api/stories").await;
    let id = page["stories"][0]["id"].as_i64().expect("id");
    let res = app
        .router
        .clone()
        .oneshot(
            Request::get(format!("/api/stories/{id}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let tag = res.headers()["etag"].to_str().expect("etag").to_string();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (id, tag, serde_json::from_slice(&bytes).expect("JSON"))
}

async fn status_with_tag(app: &App, id: i64, tag: &str) -> StatusCode {
    let req = Request::get(format!("/api/stories/{id}"))
        .header("if-none-match", tag)
        .body(Body::empty())
        .expect("request");
    app.router
        .clone()
        .oneshot(req)
        .await
        .expect("response")
        .status()
}

#[tokio::test]
async fn a_story_is_tagged_with_its_revision_and_an_unchanged_one_answers_304() {
    let app = app();
    let (id, tag, story) = first_story(&app).await;
    assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    assert_eq!(
        status_with_tag(&app, id, &tag).await,
        StatusCode::NOT_MODIFIED
    );
    assert_eq!(
        status_with_tag(&app, id, "\"s1-r0\"").await,
        StatusCode::OK,
        "another tag is no match"
    );
    // A copy of one of its articles joins the story: a new revision, a new tag.
    let seed = std::fs::read_to_string(common::ingest_files().first().expect("a seed file"))
        .expect("seed text");
    let line = serde_json::json!({"id": "again-1", "text": seed}).to_string();
    let (s, v) = app.post("/api/ingest", "application/x-ndjson", line).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(status_with_tag(&app, id, &tag).await, StatusCode::OK);
    let (_, new_tag, after) = first_story(&app).await;
    assert_ne!(new_tag, tag);
    assert_eq!(
        after["n_articles"].as_u64(),
        story["n_articles"].as_u64().map(|n| n + 1),
        "{after}"
    );
    assert_eq!(
        status_with_tag(&app, id, &new_tag).await,
        StatusCode::NOT_MODIFIED
    );
}

#[tokio::test]
async fn a_storys_sources_and_timeline_are_paged_with_their_totals() {
    let app = app();
    let (id, _, whole) = first_story(&app).await;
    let n_sources = whole["sources"].as_array().expect("sources").len();
    let n_dated = whole["timeline"]["dated"].as_array().expect("dated").len();
    assert!(n_sources >= 3 && n_dated >= 2, "{whole}");
    assert_eq!(whole["sources_total"].as_u64(), Some(n_sources as u64));
    assert_eq!(whole["timeline_total"].as_u64(), Some(n_dated as u64));

    let (s, page) = app
        .get(&format!("/api/stories/{id}?offset=1&limit=2"))
        .await;
    assert_eq!(s, StatusCode::OK, "{page}");
    let sources = page["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2);
    assert_eq!(sources[0], whole["sources"][1]);
    assert_eq!(sources[1], whole["sources"][2]);
    assert_eq!(page["sources_total"].as_u64(), Some(n_sources as u64));
    assert_eq!(page["timeline"]["dated"][0], whole["timeline"]["dated"][1]);
    assert_eq!(page["timeline_total"].as_u64(), Some(n_dated as u64));
    assert_eq!(page["summary"], whole["summary"]);
    // An event lists only its sources on the page; its count stays whole.
    for e in page["events"].as_array().expect("events") {
        for n in e["sources"].as_array().expect("event sources") {
            assert!((2..=3).contains(&n.as_u64().expect("n")), "{e}");
        }
    }
    let (s, past) = app
        .get(&format!("/api/stories/{id}?offset={}", n_sources + 5))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(past["sources"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn at_its_bound_on_long_work_the_server_answers_503_with_retry_after() {
    let (_dir, db) = common::seeded_store();
    let db_path = db.clone();
    let mut config = ServerConfig::new(db);
    config.limits.max_heavy = 1;
    // Past this wait for the turn held below, a first read is refused.
    config.limits.heavy_wait = std::time::Duration::from_millis(50);
    let state = AppState::open(config).expect("open state");
    let app = router(std::sync::Arc::clone(&state));
    let id = {
        let res = app
            .clone()
            .oneshot(Request::get("/api/stories").body(Body::empty()).expect("r"))
            .await
            .expect("response");
        let bytes = res.into_body().collect().await.expect("body").to_bytes();
        let v: Value = serde_json::from_slice(&bytes).expect("JSON");
        v["stories"][0]["id"].as_i64().expect("id")
    };
    let get = || {
        Request::get(format!("/api/stories/{id}"))
            .body(Body::empty())
            .expect("request")
    };
    let turn = state.try_heavy_turn().expect("a free turn");
    let res = app.clone().oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "1");
    drop(turn);
    let res = app.clone().oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let tag = res.headers()["etag"].clone();
    // Now in memory: read without a turn even while all are taken.
    let turn = state.try_heavy_turn().expect("a free turn");
    let res = app.clone().oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    drop(turn);
    // A batch changes the story; the ingest's refresh stores its new report, which is then
    // a lookup: sent under the new tag even while every turn is taken.
    let seed = std::fs::read_to_string(common::ingest_files().first().expect("a seed file"))
        .expect("seed text");
    post_article(&app, "again-2", &seed).await;
    let turn = state.try_heavy_turn().expect("a free turn");
    let res = app.clone().oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    let refreshed = res.headers()["etag"].clone();
    assert_ne!(refreshed, tag);
    drop(turn);
    // The story moves on without a new report (a batch whose refresh has not stored one
    // yet): its last whole report is sent under its own revision's tag, turns taken or not,
    // and nothing is made on the read.
    rusqlite::Connection::open(&db_path)
        .expect("open")
        .execute(
            "UPDATE story_reports SET revision = revision + 1 WHERE story_id = ?1",
            [id],
        )
        .expect("bump");
    let turn = state.try_heavy_turn().expect("a free turn");
    let res = app.clone().oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], refreshed);
    drop(turn);
    let res = app.clone().oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], refreshed);
    // A client holding that report already is told so.
    let res = app
        .clone()
        .oneshot(
            Request::get(format!("/api/stories/{id}"))
                .header("if-none-match", refreshed.clone())
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(res.headers()["etag"], refreshed);
    // A server that has nothing in memory reads that last stored report too, without a turn.
    let mut config = ServerConfig::new(db_path);
    config.limits.max_heavy = 1;
    let fresh = AppState::open(config).expect("open state");
    let fresh_app = router(std::sync::Arc::clone(&fresh));
    let _turn = fresh.try_heavy_turn().expect("a free turn");
    let res = fresh_app.oneshot(get()).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["etag"], refreshed);
}

#[tokio::test]
async fn a_story_is_sent_compressed_to_a_client_that_accepts_it() {
    let app = app();
    let (id, _, whole) = first_story(&app).await;
    let req = Request::get(format!("/api/stories/{id}"))
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .expect("gzip");
    let v: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v, whole);
}

#[tokio::test]
async fn feeds_are_listed_added_and_removed_and_writes_need_the_key() {
    const KEY: &str = "k3y-for-the-tests-0123456789";
    let app = guarded_app(|c| c.token = Some(KEY.into()));
    let bearer = format!("Bearer {KEY}");
    let (s, v) = app.get("/api/feeds").await;
    assert_eq!((s, v), (StatusCode::OK, serde_json::json!([])));
    let post = |auth: Option<&str>, body: &str| {
        let mut req = Request::post("/api/feeds").header("content-type", "application/json");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.body(Body::from(body.to_string())).expect("request")
    };
    let feed = r#"{"url": "https://wire.example/feed.xml"}"#;
    let (s, v) = app.send(post(None, feed)).await;
    assert_error(s, &v, StatusCode::UNAUTHORIZED);
    let (s, v) = app.send(post(Some(&bearer), feed)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["added"], true);
    let (_, v) = app.send(post(Some(&bearer), feed)).await;
    assert_eq!(v["added"], false);
    for bad in [
        r#"{"url": "file:///etc/passwd"}"#,
        r#"{"link": "x"}"#,
        "not json",
    ] {
        let (s, v) = app.send(post(Some(&bearer), bad)).await;
        assert_error(s, &v, StatusCode::BAD_REQUEST);
    }
    let (_, v) = app.get("/api/feeds").await;
    assert_eq!(v[0]["url"], "https://wire.example/feed.xml");
    assert_eq!(v[0]["failures"], 0);

    let delete = |auth: Option<&str>| {
        let mut req = Request::delete("/api/feeds?url=https%3A%2F%2Fwire.example%2Ffeed.xml");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.body(Body::empty()).expect("request")
    };
    let (s, v) = app.send(delete(None)).await;
    assert_error(s, &v, StatusCode::UNAUTHORIZED);
    let (s, _) = app.send(delete(Some(&bearer))).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = app.send(delete(Some(&bearer))).await;
    assert_error(s, &v, StatusCode::NOT_FOUND);
    let (_, v) = app.get("/api/feeds").await;
    assert_eq!(v, serde_json::json!([]));
}

async fn story_bytes(
    router: &Router,
    uri: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, Vec<u8>) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, bytes.to_vec())
}

#[tokio::test]
async fn a_repeated_story_read_at_one_revision_is_sent_from_memory() {
    let (_dir, db) = common::seeded_store();
    let state = AppState::open(ServerConfig::new(db)).expect("open state");
    let app = router(std::sync::Arc::clone(&state));
    let (_, page) = story_bytes(&app, "/api/stories", &[]).await;
    let page: Value = serde_json::from_slice(&page).expect("JSON");
    let id = page["stories"][0]["id"].as_i64().expect("id");
    let uri = format!("/api/stories/{id}?offset=1&limit=2");

    let (s, first) = story_bytes(&app, &uri, &[]).await;
    assert_eq!(s, StatusCode::OK);
    let after_first = state.story_read_counts();
    assert_eq!(after_first.reports_made, 1);
    assert_eq!(after_first.pages_encoded, 1);
    let (s, again) = story_bytes(&app, &uri, &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(again, first);
    let after_again = state.story_read_counts();
    assert_eq!(
        after_again.pages_encoded, 1,
        "the page is not encoded again"
    );
    assert_eq!(
        after_again.pages_from_memory,
        after_first.pages_from_memory + 1
    );
    assert_eq!(after_again.reports_made, 1);

    // Gzipped for a client that takes it, from the same page in memory.
    let (s, zipped) = story_bytes(&app, &uri, &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(s, StatusCode::OK);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&zipped[..]),
        &mut unzipped,
    )
    .expect("gzip");
    assert_eq!(unzipped, first);
    assert_eq!(state.story_read_counts().pages_encoded, 1);
    // Not for one that refuses it.
    let (_, plain) = story_bytes(&app, &uri, &[("accept-encoding", "gzip;q=0")]).await;
    assert_eq!(plain, first);

    // Another page is another entry.
    let (s, other) = story_bytes(&app, &format!("/api/stories/{id}?limit=2"), &[]).await;
    assert_eq!(s, StatusCode::OK);
    assert_ne!(other, first);
    assert_eq!(state.story_read_counts().pages_encoded, 2);

    // A client holding the page is answered 304 without it being read or encoded.
    let res = app
        .clone()
        .oneshot(Request::get(&uri).body(Body::empty()).expect("request"))
        .await
        .expect("response");
    let tag = res.headers()["etag"].to_str().expect("etag").to_string();
    let before = state.story_read_counts();
    let (s, body) = story_bytes(&app, &uri, &[("if-none-match", &tag)]).await;
    assert_eq!(s, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    let after = state.story_read_counts();
    assert_eq!(after.pages_encoded, before.pages_encoded);
    assert_eq!(after.pages_from_memory, before.pages_from_memory);
}

/// Ingests one article through the API, which must take it.
async fn post_article(router: &Router, id: &str, text: &str) {
    let line = serde_json::json!({"id": id, "text": text}).to_string();
    let res = router
        .clone()
        .oneshot(
            Request::post("/api/ingest")
                .header("content-type", "application/x-ndjson")
                .body(Body::from(line))
                .expect("request"),
        )
        .await
        .expect("response");
    assert_eq!(res.status(), StatusCode::OK, "ingest of {id}");
}

/// The store's story ids, after `extra` unrelated one-article stories are posted.
async fn story_ids(router: &Router, extra: &[&str]) -> Vec<i64> {
    for (k, text) in extra.iter().enumerate() {
        post_article(router, &format!("extra-{k}"), text).await;
    }
    let (_, page) = story_bytes(router, "/api/stories?limit=100", &[]).await;
    let page: Value = serde_json::from_slice(&page).expect("JSON");
    page["stories"]
        .as_array()
        .expect("stories")
        .iter()
        .map(|s| s["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_reads_of_a_story_make_its_report_once() {
    let (_dir, db) = common::seeded_store();
    let mut config = ServerConfig::new(db);
    // Enough turns for every reader to make its own, were they not made to wait for one.
    config.limits.max_heavy = 8;
    let state = AppState::open(config).expect("open state");
    let app = router(std::sync::Arc::clone(&state));
    let id = story_ids(&app, &[]).await[0];
    let readers: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            let uri = format!("/api/stories/{id}");
            tokio::spawn(async move { story_bytes(&app, &uri, &[]).await })
        })
        .collect();
    let mut bodies = Vec::new();
    for r in readers {
        let (s, body) = r.await.expect("reader");
        assert_eq!(s, StatusCode::OK);
        bodies.push(body);
    }
    let counts = state.story_read_counts();
    assert_eq!(counts.reports_made, 1, "{counts:?}");
    assert_eq!(counts.pages_encoded, 1, "{counts:?}");
    assert!(bodies.iter().all(|b| b == &bodies[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_first_read_waits_for_a_turn_of_long_work_rather_than_being_refused() {
    let (_dir, db) = common::seeded_store();
    let mut config = ServerConfig::new(db);
    config.limits.max_heavy = 1;
    let state = AppState::open(config).expect("open state");
    let app = router(std::sync::Arc::clone(&state));
    let ids = story_ids(
        &app,
        &[
            "The harbour reopened on Monday after three weeks of repairs to the sea wall.",
            "A rare orchid flowered in the city's botanical garden for the first time in a decade.",
        ],
    )
    .await;
    assert_eq!(ids.len(), 3, "{ids:?}");
    let readers: Vec<_> = ids
        .iter()
        .map(|id| {
            let app = app.clone();
            let uri = format!("/api/stories/{id}");
            tokio::spawn(async move { story_bytes(&app, &uri, &[]).await.0 })
        })
        .collect();
    for r in readers {
        assert_eq!(r.await.expect("reader"), StatusCode::OK);
    }
    assert_eq!(state.story_read_counts().reports_made, 3);
}

/// `GET /healthz`, for a load balancer: 200 with the engine, the schema version and the
/// newest article while the store reads, with no key even on a private server; 503 once the
/// store's file is junk, and the answer names nothing of the store (no path, no error text).
#[tokio::test]
async fn healthz_needs_no_key_and_says_503_when_the_store_cannot_be_read() {
    const KEY: &str = "k3y-for-the-health-tests-0123";
    let (dir, db) = common::seeded_store();
    let mut config = ServerConfig::new(&db);
    config.token = Some(KEY.into());
    config.private = true;
    let app = App {
        _dir: dir,
        router: router(AppState::open(config).expect("open state")),
    };
    let (s, v) = app.get("/healthz").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["engine"], "SQLite");
    assert_eq!(
        v["schema_version"].as_i64(),
        Some(storyline::store::SCHEMA_VERSION)
    );
    let newest = {
        let store = storyline::store::Store::open(&db).expect("store");
        store.last_article().expect("newest").0
    };
    assert!(newest >= 5);
    assert_eq!(v["last_article"].as_i64(), Some(newest));
    let (s, doc) = app
        .send(
            Request::get("/api/openapi.json")
                .header("authorization", format!("Bearer {KEY}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["paths"]["/healthz"]["get"].is_object(), "documented");

    // The file, and its write-ahead log, become junk under the running server.
    let junk = vec![0x5a_u8; 64 << 10];
    for name in ["serve.db", "serve.db-wal", "serve.db-shm"] {
        let path = db.with_file_name(name);
        if path.exists() {
            std::fs::write(&path, &junk).expect("overwrite");
        }
    }
    let (s, v) = app.get("/healthz").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["status"], "unavailable");
    assert_eq!(v["engine"], "SQLite");
    assert!(v.get("last_article").is_none(), "{v}");
    let text = v.to_string();
    assert!(
        !text.contains("serve.db"),
        "the store's path leaked: {text}"
    );
}
