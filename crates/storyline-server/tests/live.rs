//! The live stream (`GET /api/live`) and its polling twin (`GET /api/updates`) over a store
//! built from `../shared/seeds`, with reports from `../shared/data` ingested while a stream
//! is open. Requests go straight into the router.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use storyline_server::{router, AppState, ServerConfig};
use tower::ServiceExt;

/// Frames read from a stream before giving up on an event: keep-alive comments come every
/// few milliseconds in these tests, so this bounds the looks, not the time.
const FRAMES: usize = 5000;

fn app(configure: impl FnOnce(&mut ServerConfig)) -> (tempfile::TempDir, Router) {
    let (dir, db) = common::seeded_store();
    let mut config = ServerConfig::new(db);
    config.live.poll = Duration::from_millis(5);
    config.live.keep_alive = Duration::from_millis(10);
    configure(&mut config);
    (dir, router(AppState::open(config).expect("open state")))
}

async fn send(router: &Router, req: Request<Body>) -> axum::response::Response {
    router.clone().oneshot(req).await.expect("response")
}

async fn json(router: &Router, uri: &str) -> Value {
    let res = send(router, Request::get(uri).body(Body::empty()).expect("req")).await;
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    serde_json::from_slice(&bytes).expect("JSON")
}

/// The next event of a stream: (name, id, data).
async fn next_event(body: &mut Body, buf: &mut String) -> (String, String, Value) {
    for _ in 0..FRAMES {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut id, mut data) = (String::new(), String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = v.into();
                } else if let Some(v) = line.strip_prefix("id: ") {
                    id = v.into();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            if name.is_empty() {
                continue; // a keep-alive comment
            }
            return (name, id, serde_json::from_str(&data).expect("event data"));
        }
        let frame = body
            .frame()
            .await
            .expect("the stream ended")
            .expect("a frame");
        if let Ok(bytes) = frame.into_data() {
            buf.push_str(std::str::from_utf8(&bytes).expect("UTF-8"));
        }
    }
    panic!("no event in {FRAMES} frames; pending: {buf:?}");
}

/// Two reports of the GVC set, as JSONL.
fn two_reports() -> (String, Vec<String>) {
    let path = common::shared().join("data/cluster/gvc-dev/articles.jsonl");
    let text = std::fs::read_to_string(path).expect("GVC articles");
    let lines: Vec<&str> = text.lines().skip(10).take(2).collect();
    let ids = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).expect("JSON line")["id"]
                .as_str()
                .expect("id")
                .to_string()
        })
        .collect();
    (lines.join("\n") + "\n", ids)
}

fn open_stream(uri: &str) -> Request<Body> {
    Request::get(uri)
        .header("accept", "text/event-stream")
        .body(Body::empty())
        .expect("request")
}

/// A stream names what was stored after its point, then each batch as it is committed,
/// and lives on however short the read time-out (zero here: any read that waits at all is
/// cut, but not the stream, nor its first answer).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_announces_each_batch_and_is_exempt_from_the_read_timeout() {
    let (_dir, app) = app(|c| c.limits.read_timeout = Duration::ZERO);
    let res = send(&app, open_stream("/api/live?after=0&limit=100")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"].to_str().expect("type"),
        "text/event-stream"
    );
    assert!(
        res.headers().get("content-encoding").is_none(),
        "not compressed"
    );
    let mut body = res.into_body();
    let mut buf = String::new();
    let (name, id, hello) = next_event(&mut body, &mut buf).await;
    assert_eq!(name, "hello");
    let seeded = hello["n_articles"].as_u64().expect("count");
    assert!(seeded >= 5, "{hello}");
    assert_eq!(
        hello["articles"].as_array().map(Vec::len),
        Some(seeded as usize)
    );
    assert_eq!(hello["last"].as_i64(), Some(seeded as i64));
    assert_eq!(id, seeded.to_string());

    let (jsonl, ids) = two_reports();
    let res = send(
        &app,
        Request::post("/api/ingest")
            .header("content-type", "application/x-ndjson")
            .body(Body::from(jsonl))
            .expect("request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);

    let (name, id, batch) = next_event(&mut body, &mut buf).await;
    assert_eq!(name, "batch");
    assert_eq!(batch["after"], hello["last"]);
    assert_eq!(batch["n_articles"], 2);
    assert_eq!(batch["last"].as_i64(), Some(seeded as i64 + 2));
    assert_eq!(id, (seeded + 2).to_string());
    let mut got: Vec<String> = batch["articles"]
        .as_array()
        .expect("articles")
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_string())
        .collect();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    let stories = batch["stories"].as_array().expect("stories");
    assert!(!stories.is_empty());
    for s in stories {
        assert!(s["revision"].as_u64().is_some_and(|r| r > 0), "{s}");
        let in_story = batch["articles"]
            .as_array()
            .expect("articles")
            .iter()
            .any(|a| a["story"] == s["id"]);
        assert!(in_story, "{s} is the story of a new article");
    }
}

/// Past the cap on open streams a request is answered 503 with `Retry-After` at once; a
/// closed stream gives its place back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_past_the_cap_are_refused_with_503() {
    let (_dir, app) = app(|c| c.live.max_streams = 2);
    let first = send(&app, open_stream("/api/live")).await;
    let second = send(&app, open_stream("/api/live")).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = send(&app, open_stream("/api/live")).await;
    assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(third.headers()["retry-after"], "1");
    // Ordinary requests are not held up by the open streams.
    json(&app, "/api/stats").await;
    drop(first);
    let again = send(&app, open_stream("/api/live")).await;
    assert_eq!(again.status(), StatusCode::OK);
    drop(second);
}

/// `/api/updates?after=N` answers once what a stream from N would say first, and a stream
/// resumes from `Last-Event-ID` as a reconnecting `EventSource` sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_and_resumed_streams_start_at_their_point() {
    let (_dir, app) = app(|_| {});
    let now = json(&app, "/api/updates").await;
    let last = now["last"].as_i64().expect("last");
    assert!(last >= 5);
    assert_eq!(now["n_articles"], 0, "no point: from now on");

    let since = json(&app, &format!("/api/updates?after={}&limit=1", last - 3)).await;
    assert_eq!(since["n_articles"], 3);
    assert_eq!(since["articles"].as_array().map(Vec::len), Some(1));
    assert_eq!(since["last"], last);

    let res = send(
        &app,
        Request::get("/api/live?limit=10")
            .header("last-event-id", (last - 2).to_string())
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let (name, _, hello) = next_event(&mut body, &mut String::new()).await;
    assert_eq!(name, "hello");
    assert_eq!(hello["after"], last - 2);
    assert_eq!(hello["n_articles"], 2);

    let (status, bad) = {
        let res = send(
            &app,
            Request::get("/api/updates?after=x")
                .body(Body::empty())
                .expect("req"),
        )
        .await;
        (res.status(), res.into_body().collect().await.expect("body"))
    };
    assert_eq!(status, StatusCode::BAD_REQUEST, "{:?}", bad.to_bytes());
}
