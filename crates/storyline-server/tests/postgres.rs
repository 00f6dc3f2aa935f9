//! Readers on a PostgreSQL store (a throw-away cluster): two servers on one database, one
//! ingesting, the other announcing each batch as PostgreSQL tells of its commit; and the
//! health check while the database server stops and comes back. Without PostgreSQL these
//! tests return at once (and fail under `CI=true`).

mod common;

use std::path::Path;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use storyline::ingest;
use storyline::pipeline::{Pipeline, PipelineConfig};
use storyline_server::{router, AppState, ServerConfig};
use storyline_testpg::Cluster;
use tower::ServiceExt;

/// Frames read from a stream before giving up on an event: keep-alive comments come every
/// few milliseconds here, so this bounds the looks (a few tens of seconds), not the time.
const FRAMES: usize = 5000;

/// The seeds, ingested into the PostgreSQL store at `url` (on a blocking thread: the sync
/// client may not run on the test's async one).
async fn seed(url: &str) {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || {
        let mut p = Pipeline::open(Path::new(&url), PipelineConfig::default()).expect("pipeline");
        let records = common::ingest_files()
            .into_iter()
            .flat_map(|f| ingest::read_path(&f, None).collect::<Vec<_>>());
        let report = p.ingest(records, |_| {}).expect("ingest seeds");
        assert!(report.stored >= 5, "seeds stored: {report:?}");
    })
    .await
    .expect("seeding");
}

/// A server on `url` whose watcher never looks by itself: it learns of a batch only when
/// PostgreSQL tells of it.
fn server(url: &str) -> Router {
    let mut config = ServerConfig::new(url);
    config.live.poll = Duration::from_secs(3600);
    config.live.safety_poll = Duration::from_secs(3600);
    config.live.keep_alive = Duration::from_millis(10);
    router(AppState::open(config).expect("open state"))
}

async fn send(router: &Router, req: Request<Body>) -> axum::response::Response {
    router.clone().oneshot(req).await.expect("response")
}

/// `GET /api/live` as a browser opens it: the stream's body, once it answered 200.
async fn open_live(router: &Router) -> Body {
    let res = send(
        router,
        Request::get("/api/live")
            .header("accept", "text/event-stream")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.into_body()
}

/// `POST /api/ingest` of JSON lines.
async fn post_ndjson(router: &Router, lines: String) -> axum::response::Response {
    send(
        router,
        Request::post("/api/ingest")
            .header("content-type", "application/x-ndjson")
            .body(Body::from(lines))
            .expect("request"),
    )
    .await
}

async fn get_json(router: &Router, uri: &str) -> (StatusCode, Value) {
    let res = send(router, Request::get(uri).body(Body::empty()).expect("req")).await;
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON"))
}

/// The next event of a stream: (name, data).
async fn next_event(body: &mut Body, buf: &mut String) -> (String, Value) {
    for _ in 0..FRAMES {
        if let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut name, mut data) = (String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event: ") {
                    name = v.into();
                } else if let Some(v) = line.strip_prefix("data: ") {
                    data.push_str(v);
                }
            }
            if name.is_empty() {
                continue; // a keep-alive comment
            }
            return (name, serde_json::from_str(&data).expect("event data"));
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
    panic!("no event in {FRAMES} frames: no batch was told; pending: {buf:?}");
}

/// Two reports of the GVC set, one JSONL line each.
fn reports() -> Vec<(String, String)> {
    let path = common::shared().join("data/cluster/gvc-dev/articles.jsonl");
    let text = std::fs::read_to_string(path).expect("GVC articles");
    text.lines()
        .skip(20)
        .take(2)
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON line");
            (
                v["id"].as_str().expect("id").to_string(),
                l.to_string() + "\n",
            )
        })
        .collect()
}

/// Server B, which never looks at the store by itself, announces each batch stored
/// through server A as PostgreSQL tells of its commit, and serves the story at the
/// revision the batch gave it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_announces_batches_stored_through_the_first() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.url();
    seed(&url).await;
    let (a, b) = (server(&url), server(&url));

    let mut body = open_live(&b).await;
    let mut buf = String::new();
    let (name, hello) = next_event(&mut body, &mut buf).await;
    assert_eq!(name, "hello");
    let mut last = hello["last"].as_i64().expect("last");
    assert!(last >= 5, "{hello}");

    // The first batch may be found by the look B takes when its listener connects; the
    // second can only come by a notice.
    for (id, line) in reports() {
        let res = post_ndjson(&a, line).await;
        assert_eq!(res.status(), StatusCode::OK, "ingest of {id} through A");
        let (name, batch) = next_event(&mut body, &mut buf).await;
        assert_eq!(name, "batch");
        assert_eq!(batch["after"].as_i64(), Some(last), "{batch}");
        assert_eq!(batch["n_articles"], 1, "{batch}");
        assert_eq!(batch["articles"][0]["id"], id.as_str());
        last = batch["last"].as_i64().expect("last");
        let story = &batch["stories"][0];
        let (sid, revision) = (story["id"].as_i64().expect("id"), &story["revision"]);
        let res = send(
            &b,
            Request::get(format!("/api/stories/{sid}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()["etag"].to_str().expect("tag"),
            format!("\"s{sid}-r{revision}\""),
            "B serves the story as the batch left it"
        );
        let (s, health) = get_json(&b, "/healthz").await;
        assert_eq!(s, StatusCode::OK, "{health}");
        assert_eq!(health["last_article"].as_i64(), Some(last));
    }
}

/// `/healthz` on PostgreSQL: 200 with the engine, schema version and newest article; 503
/// while the database server is down, naming nothing of the store; 200 again once it is
/// back (the server drops the connections it closed). The live stream opened before
/// lives on, and its listener connects again: batches stored after the restart are
/// announced (the server never looks by itself).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_follows_the_database_server_down_and_back() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let url = cluster.url();
    seed(&url).await;
    let app = server(&url);
    let mut body = open_live(&app).await;
    let mut buf = String::new();
    let (name, _) = next_event(&mut body, &mut buf).await;
    assert_eq!(name, "hello");
    let (s, v) = get_json(&app, "/healthz").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "ok");
    assert_eq!(v["engine"], "PostgreSQL");
    assert_eq!(
        v["schema_version"].as_i64(),
        Some(storyline::store::PG_SCHEMA_VERSION)
    );
    let newest = v["last_article"].as_i64().expect("newest");
    assert!(newest >= 5, "{v}");

    cluster.stop();
    let (s, v) = get_json(&app, "/healthz").await;
    assert_eq!(s, StatusCode::SERVICE_UNAVAILABLE, "{v}");
    assert_eq!(v["status"], "unavailable");
    assert_eq!(v["engine"], "PostgreSQL");
    let text = v.to_string();
    assert!(
        !text.contains("127.0.0.1") && !text.contains("postgres@"),
        "the store's address leaked: {text}"
    );

    cluster.restart();
    let (s, v) = get_json(&app, "/healthz").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["last_article"].as_i64(), Some(newest));

    // A look of the watcher's that spanned the restart could find the first batch; only
    // a listener connected again tells of the second.
    let mut last = newest;
    for (id, line) in reports() {
        let res = post_ndjson(&app, line).await;
        assert_eq!(res.status(), StatusCode::OK, "ingest of {id}");
        let (name, batch) = next_event(&mut body, &mut buf).await;
        assert_eq!(name, "batch");
        assert_eq!(batch["after"].as_i64(), Some(last), "{batch}");
        assert_eq!(batch["articles"][0]["id"], id.as_str());
        last = batch["last"].as_i64().expect("last");
    }
}
