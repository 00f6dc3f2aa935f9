//! What is new, as it is stored: `GET /api/live` is a stream of server-sent events, one per
//! batch committed to the store, each naming the new articles and the stories they went
//! into with their revisions; `GET /api/updates?after=N` answers the same once, as JSON,
//! for a client that polls instead.
//!
//! One watcher per server reads the store's newest article id and, when it moved, what
//! changed, which it hands to every open stream. It watches the store rather than this
//! process's writes, so that what another process stores (a `storyline follow` or
//! `storyline ingest` beside the server, another machine) is announced as well. On SQLite
//! it looks every [`LiveConfig::poll`]; on PostgreSQL a thread listens for the notice each
//! batch's commit sends (`Store::listen`) and wakes it at once, and it looks every
//! [`LiveConfig::safety_poll`] besides, in case a notice was lost with its connection.
//!
//! A stream is long by nature: the guard exempts it from the request time-out and the cap
//! on requests in flight, and it has its own cap ([`LiveConfig::max_streams`]) past which a
//! request is answered 503 with `Retry-After`.

use std::convert::Infallible;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use storyline::core::ArticleId;
use storyline::read::ArticleSummary;
use storyline::store::{Changes, Store};
use tokio::sync::{broadcast, watch, Notify, OwnedSemaphorePermit, Semaphore};
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiError, ErrorBody};
use crate::AppState;

/// The stream's path: the guard exempts it from the request time-out.
pub const PATH: &str = "/api/live";

/// Articles and stories named in one event at most; the counts say how many there were.
const MAX_LIST: usize = 100;
const DEFAULT_LIST: usize = 20;

/// Bounds of the live stream.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveConfig {
    /// Streams open at once; past that a request is answered 503.
    pub max_streams: usize,
    /// How often the watcher looks for a new batch in a SQLite store.
    pub poll: Duration,
    /// How often it looks in a PostgreSQL store, which tells of each commit: only a lost
    /// connection's notices are found this way.
    pub safety_poll: Duration,
    /// A comment line this often keeps proxies from closing an idle stream.
    pub keep_alive: Duration,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            max_streams: 32,
            poll: Duration::from_secs(1),
            safety_poll: Duration::from_secs(10),
            keep_alive: Duration::from_secs(15),
        }
    }
}

/// One batch, or everything since a point: the new articles, newest first, and the stories
/// they touched with their revisions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LiveBatch {
    /// The article id this starts after.
    pub after: i64,
    /// The newest article's id: ask from here next (`?after=`), or resume a stream with
    /// `Last-Event-ID`, which each event carries.
    pub last: i64,
    /// Articles stored after `after`, all of them.
    pub n_articles: u64,
    /// The newest of them, at most `limit`.
    pub articles: Vec<ArticleSummary>,
    /// The stories they went into, the most recently touched first, at most `limit`.
    pub stories: Vec<StoryTouched>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoryTouched {
    pub id: i64,
    /// The story's revision after the change (as `ETag`s of `/api/stories/{id}` name it).
    pub revision: u64,
}

impl From<&Changes> for LiveBatch {
    fn from(c: &Changes) -> Self {
        LiveBatch {
            after: c.after.0,
            last: c.last.0,
            n_articles: c.n_articles,
            articles: c
                .articles
                .iter()
                .cloned()
                .map(ArticleSummary::from)
                .collect(),
            stories: c
                .stories
                .iter()
                .map(|(id, revision)| StoryTouched {
                    id: id.0,
                    revision: *revision,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LiveQuery {
    /// Start after this article id (the `last` of an earlier answer). Without it, from now
    /// on: the first event names no article.
    pub after: Option<i64>,
    /// Articles and stories listed per event, 1–100 (default 20).
    pub limit: Option<usize>,
}

/// The server's watcher and its streams.
pub(crate) struct Live {
    config: LiveConfig,
    batches: broadcast::Sender<Arc<Changes>>,
    streams: Arc<Semaphore>,
    watcher: OnceLock<()>,
    closing: watch::Sender<bool>,
}

impl Live {
    pub(crate) fn new(config: LiveConfig) -> Live {
        Live {
            batches: broadcast::channel(64).0,
            streams: Arc::new(Semaphore::new(config.max_streams.max(1))),
            watcher: OnceLock::new(),
            closing: watch::channel(false).0,
            config,
        }
    }

    /// Ends every stream (the server is stopping: a graceful shutdown waits for open
    /// connections, and a stream would never end by itself).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Starts the watcher, if it is not running yet, from `from`: the point the first
    /// stream read the store at after subscribing, so a batch committed between that read
    /// and the watcher's first look is announced, not taken for the starting point.
    fn start_watcher(&self, state: &Arc<AppState>, from: ArticleId) {
        self.watcher.get_or_init(|| {
            let db = state.config.db.clone();
            let (poll, wake) = if Store::is_url(&db) {
                let wake = Arc::new(Notify::new());
                let listening = Arc::downgrade(&wake);
                let started = std::thread::Builder::new()
                    .name("live-listen".into())
                    .spawn(move || listen_for_batches(&db, &listening));
                match started {
                    Ok(_) => (self.config.safety_poll, Some(wake)),
                    Err(e) => {
                        tracing::warn!("live: cannot start the listener ({e}); polling");
                        (self.config.poll, None)
                    }
                }
            } else {
                (self.config.poll, None)
            };
            tokio::spawn(watch_store(
                Arc::downgrade(state),
                self.batches.clone(),
                from,
                poll,
                wake,
            ));
        });
    }
}

/// First wait after a lost listening connection; it doubles on each failure, up to the most.
const LISTEN_RETRY: Duration = Duration::from_millis(500);
const LISTEN_RETRY_MAX: Duration = Duration::from_secs(30);

/// How long the listener waits for a notice before it looks whether the watcher is still
/// there (it ends with the server).
const LISTEN_CHECK: Duration = Duration::from_secs(1);

/// On a thread of its own: listens for the store's commits and wakes the watcher at each,
/// reconnecting with a growing pause when the connection is lost. Ends when the watcher
/// has.
fn listen_for_batches(db: &std::path::Path, wake: &Weak<Notify>) {
    let mut retry = LISTEN_RETRY;
    loop {
        match Store::listen(db) {
            Ok(Some(mut listener)) => {
                retry = LISTEN_RETRY;
                // What was committed while no one listened is found by one look.
                let Some(watcher) = wake.upgrade() else {
                    return;
                };
                watcher.notify_one();
                drop(watcher);
                loop {
                    let heard = listener.wait(LISTEN_CHECK);
                    let Some(watcher) = wake.upgrade() else {
                        return;
                    };
                    match heard {
                        Ok(Some(_)) => watcher.notify_one(),
                        Ok(None) => {}
                        Err(e) => {
                            tracing::warn!("live: listening connection lost: {e}");
                            break;
                        }
                    }
                }
            }
            Ok(None) => return,
            Err(e) => tracing::warn!("live: cannot listen for new batches: {e}"),
        }
        std::thread::sleep(retry);
        if wake.strong_count() == 0 {
            return;
        }
        retry = (retry * 2).min(LISTEN_RETRY_MAX);
    }
}

/// Looks for new articles every `poll`, and at once when woken, and broadcasts what
/// changed; ends with the server.
async fn watch_store(
    state: Weak<AppState>,
    batches: broadcast::Sender<Arc<Changes>>,
    from: ArticleId,
    poll: Duration,
    wake: Option<Arc<Notify>>,
) {
    let mut seen = from;
    let mut tick = tokio::time::interval(poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        match &wake {
            Some(wake) => tokio::select! {
                _ = tick.tick() => {}
                () = wake.notified() => {}
            },
            None => {
                tick.tick().await;
            }
        }
        let Some(state) = state.upgrade() else {
            return;
        };
        // With nobody listening only the point moves on: a stream that opens later asks
        // the store from its own point.
        let listening = batches.receiver_count() > 0;
        let read = state
            .read(move |s| {
                let last = s.last_article()?;
                if listening && last > seen {
                    s.changes_since(seen, MAX_LIST).map(|c| (last, Some(c)))
                } else {
                    Ok((last, None))
                }
            })
            .await;
        drop(state);
        match read {
            Ok((last, changes)) => {
                seen = last;
                if let Some(c) = changes {
                    // No receiver left is no error: the next stream starts from the store.
                    let _ = batches.send(Arc::new(c));
                }
            }
            // A store that cannot be read now may be readable at the next tick.
            Err(e) => tracing::warn!("live: cannot read the store: {}", e.body.error),
        }
    }
}

fn list_limit(limit: Option<usize>) -> usize {
    limit.unwrap_or(DEFAULT_LIST).clamp(1, MAX_LIST)
}

/// From `after`, or from now on when there is none.
fn changes_from(s: &Store, after: Option<i64>, limit: usize) -> storyline::Result<Changes> {
    match after {
        Some(a) => s.changes_since(ArticleId(a.max(0)), limit),
        None => s.changes_since(s.last_article()?, limit),
    }
}

/// One stream's place: the last article it announced.
struct Stream {
    state: Arc<AppState>,
    batches: broadcast::Receiver<Arc<Changes>>,
    closing: watch::Receiver<bool>,
    cursor: ArticleId,
    limit: usize,
    first: Option<Changes>,
    _turn: OwnedSemaphorePermit,
}

fn event(name: &'static str, c: &Changes) -> Event {
    let batch = LiveBatch::from(c);
    let data = serde_json::to_string(&batch).unwrap_or_else(|_| "{}".into());
    Event::default()
        .event(name)
        .id(c.last.0.to_string())
        .data(data)
}

impl Stream {
    /// The next event: the first answer, then each batch after the cursor. A batch that
    /// does not start at the cursor (the stream fell behind, or opened between two batches)
    /// is read from the store instead, so nothing is skipped or told twice.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Stream)> {
        if let Some(c) = self.first.take() {
            self.cursor = c.last;
            return Some((Ok(event("hello", &c)), self));
        }
        loop {
            if *self.closing.borrow() {
                return None;
            }
            let got = tokio::select! {
                got = self.batches.recv() => got,
                _ = self.closing.changed() => return None,
            };
            let changes = match got {
                Ok(c) if c.last <= self.cursor => continue,
                Ok(c) if c.after == self.cursor => c.as_ref().clone(),
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                    let (after, limit) = (self.cursor.0, self.limit);
                    match self
                        .state
                        .read(move |s| s.changes_since(ArticleId(after), limit))
                        .await
                    {
                        Ok(c) if c.last > self.cursor => c,
                        Ok(_) => continue,
                        // The client resumes from its last event id.
                        Err(_) => return None,
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            };
            let mut changes = changes;
            changes.articles.truncate(self.limit);
            changes.stories.truncate(self.limit);
            self.cursor = changes.last;
            return Some((Ok(event("batch", &changes)), self));
        }
    }
}

/// A `Last-Event-ID` header: where a reconnecting `EventSource` left off.
fn last_event_id(headers: &HeaderMap) -> Option<i64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// New articles and the stories they touched, as they are stored: server-sent events. The
/// first event (`hello`) names what was stored after `after`; each later one (`batch`)
/// names one committed batch. Each event's id is its `last` article id.
#[utoipa::path(get, path = "/api/live", params(LiveQuery),
    responses((status = 200, content_type = "text/event-stream", body = LiveBatch,
               description = "events `hello` then `batch`, each data a LiveBatch"),
              (status = 503, body = ErrorBody, description = "too many streams open; see Retry-After")))]
pub async fn live_stream(
    State(state): State<Arc<AppState>>,
    q: Result<Query<LiveQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Query(q) = q?;
    let Ok(turn) = Arc::clone(&state.live.streams).try_acquire_owned() else {
        return Err(ApiError::busy(
            "too many live streams open; poll /api/updates or try again later",
        ));
    };
    // Subscribed before the first read, so no batch falls between the two.
    let batches = state.live.batches.subscribe();
    let limit = list_limit(q.limit);
    let after = q.after.or_else(|| last_event_id(&headers));
    let first = state.read(move |s| changes_from(s, after, limit)).await?;
    state.live.start_watcher(&state, first.last);
    let stream = Stream {
        closing: state.live.closing.subscribe(),
        state: Arc::clone(&state),
        batches,
        cursor: first.after,
        limit,
        first: Some(first),
        _turn: turn,
    };
    let events = futures_util::stream::unfold(stream, Stream::next);
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(state.live.config.keep_alive))
        .into_response();
    // Proxies that buffer answers would hold the events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// What was stored after `after`, once, for a client that polls instead of streaming.
#[utoipa::path(get, path = "/api/updates", params(LiveQuery),
    responses((status = 200, body = LiveBatch), (status = 400, body = ErrorBody)))]
pub async fn updates(
    State(state): State<Arc<AppState>>,
    q: Result<Query<LiveQuery>, QueryRejection>,
) -> Result<Json<LiveBatch>, ApiError> {
    let Query(q) = q?;
    let limit = list_limit(q.limit);
    let c = state.read(move |s| changes_from(s, q.after, limit)).await?;
    Ok(Json(LiveBatch::from(&c)))
}
