//! `storyline serve`: a JSON API, full-text search and a web page over one storyline store.
//!
//! The store is SQLite in WAL mode: any number of readers may read while one writer commits.
//! Handlers are async, SQLite is blocking, so every store call runs on tokio's blocking pool
//! ([`AppState::read`]) with a connection taken from a small pool of read connections. Ingest
//! (`POST /api/ingest`) goes through one writer at a time; each batch is one transaction, so
//! readers see a story before or after a batch, never half of it.
//!
//! Wire types live in [`api`]; SQL stays in `storyline::store`; who may do what is
//! [`guard`].

pub mod api;
pub mod guard;
pub mod live;
mod story_cache;
mod web;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::Router;
use storyline::store::Store;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest ingest request body: a batch of JSONL or one feed document. Bigger inputs go
/// through `storyline ingest`, which streams.
pub const DEFAULT_MAX_BODY: usize = 16 << 20;

/// Idle read connections kept open between requests: opening one reads the schema, which
/// costs more than most reads, so there are enough for the reads of many readers at once.
const READ_POOL: usize = 16;

/// How long a story may be served from a report older than the story before the server
/// makes the current one itself: an ingest's own refresh usually stores it well within
/// this, and making it twice would take the readers' processor.
pub(crate) const STALE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub db: PathBuf,
    pub max_body: usize,
    /// The key writes need (`Authorization: Bearer …`); reads too when `private`.
    pub token: Option<String>,
    /// Reads need the key as well.
    pub private: bool,
    /// Only loopback clients can reach the server, so a request naming another host is a
    /// DNS-rebinding page and is refused. Off for a server bound to a network address.
    pub loopback: bool,
    /// Limits on time and concurrency.
    pub limits: guard::Limits,
    /// The live stream's bounds and how often it looks for news.
    pub live: live::LiveConfig,
    /// The one writer's turn: held for a whole ingest. Shared with anything else in the
    /// process that ingests into the same store (the feed follower of `serve --follow`), so
    /// no two pipelines write at once, each restored from what the other committed.
    pub writer: Arc<Mutex<()>>,
}

impl ServerConfig {
    /// A loopback server without a key: writes only from its own page or from programs.
    pub fn new(db: impl Into<PathBuf>) -> Self {
        ServerConfig {
            db: db.into(),
            max_body: DEFAULT_MAX_BODY,
            token: None,
            private: false,
            loopback: true,
            limits: guard::Limits::default(),
            live: live::LiveConfig::default(),
            writer: Arc::new(Mutex::new(())),
        }
    }
}

/// Shared by all handlers.
pub struct AppState {
    config: ServerConfig,
    readers: Mutex<Vec<Store>>,
    /// Held for the whole of an ingest: the store refuses a second concurrent writer anyway,
    /// this makes the second request wait instead of failing.
    writer: Arc<Mutex<()>>,
    pub(crate) reports: Mutex<story_cache::ReportCache>,
    /// Encoded story pages: a repeated read at a revision is a lookup and a copy.
    pub(crate) pages: Mutex<story_cache::BodyCache>,
    /// Readers of a story whose report is not in memory wait for one of them to get it.
    pub(crate) report_gates: Arc<story_cache::Gates<storyline::core::StoryId>>,
    /// Readers of a page not yet encoded wait for one of them to encode it.
    pub(crate) page_gates: Arc<story_cache::Gates<story_cache::PageKey>>,
    pub(crate) counts: ReadCounters,
    /// Story revisions as last read, good until the next commit.
    pub(crate) revisions: Mutex<story_cache::RevisionMemo>,
    /// Turns for work that may be long (making a story report, an ingest): a bound on how
    /// many run at once. Past it a story read waits up to `heavy_wait` and an ingest not at
    /// all; then the answer is 503 with `Retry-After` rather than a queue.
    pub(crate) heavy: Arc<tokio::sync::Semaphore>,
    pub(crate) live: live::Live,
    /// Since when each story has been served from a report older than the story.
    pub(crate) stale_since:
        Mutex<std::collections::HashMap<storyline::core::StoryId, std::time::Instant>>,
}

impl AppState {
    /// Opens (and creates, when missing) the store once, so a bad path or a store from a
    /// newer storyline fails at start-up rather than on the first request.
    pub fn open(config: ServerConfig) -> storyline::Result<Arc<AppState>> {
        let store = Store::open(&config.db)?;
        let memo = story_cache::RevisionMemo::new(Store::open(&config.db)?);
        Ok(Arc::new(AppState {
            readers: Mutex::new(vec![store]),
            writer: Arc::clone(&config.writer),
            reports: Mutex::new(story_cache::ReportCache::default()),
            pages: Mutex::new(story_cache::BodyCache::default()),
            report_gates: Arc::default(),
            page_gates: Arc::default(),
            counts: ReadCounters::default(),
            revisions: Mutex::new(memo),
            heavy: Arc::new(tokio::sync::Semaphore::new(config.limits.max_heavy.max(1))),
            live: live::Live::new(config.live.clone()),
            stale_since: Mutex::new(std::collections::HashMap::new()),
            config,
        }))
    }

    /// One of the few turns for long work (a story report not in memory, an ingest), or
    /// `None` when all are taken: the caller then answers 503 rather than queue.
    pub fn try_heavy_turn(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        self.heavy.try_acquire().ok()
    }

    /// How story reads have been answered since the server started.
    pub fn story_read_counts(&self) -> StoryReadCounts {
        let c = &self.counts;
        StoryReadCounts {
            reports_made: c.reports_made.load(Ordering::Relaxed),
            pages_encoded: c.pages_encoded.load(Ordering::Relaxed),
            pages_from_memory: c.pages_from_memory.load(Ordering::Relaxed),
        }
    }

    /// Runs `f` with a read connection on the blocking pool, inside one read transaction.
    pub async fn read<T, F>(self: &Arc<Self>, f: F) -> Result<T, api::ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> storyline::Result<T> + Send + 'static,
    {
        let state = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let pooled = state.readers.lock().ok().and_then(|mut p| p.pop());
            let store = match pooled {
                Some(s) => s,
                None => Store::open(&state.config.db)?,
            };
            // One read transaction per request: everything a handler reads comes from the
            // same committed state, whatever an ingest commits meanwhile.
            let out = store.snapshot(f);
            // A connection the database server closed (it restarted) would fail every
            // request it served, and the idle ones beside it were closed too: fresh ones
            // are opened for the next requests instead.
            if store.is_closed() {
                if let Ok(mut pool) = state.readers.lock() {
                    pool.clear();
                }
                return out;
            }
            if let Ok(mut pool) = state.readers.lock() {
                if pool.len() < READ_POOL {
                    pool.push(store);
                }
            }
            out
        })
        .await
        .map_err(api::ApiError::internal)?
        .map_err(api::ApiError::from)
    }
}

#[derive(Default)]
pub(crate) struct ReadCounters {
    pub(crate) reports_made: AtomicU64,
    pub(crate) pages_encoded: AtomicU64,
    pub(crate) pages_from_memory: AtomicU64,
}

/// How story reads have been answered: what the caches save is seen here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryReadCounts {
    /// Story reports made by readers (not the ones an ingest's refresh makes).
    pub reports_made: u64,
    /// Pages of stories read from the store and encoded.
    pub pages_encoded: u64,
    /// Pages of stories sent as kept in memory.
    pub pages_from_memory: u64,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "storyline",
        description = "News stories built from articles: events, cited summaries, timelines, \
                       entities, corroborated facts, and full-text search."
    ),
    tags((name = "storyline"))
)]
struct ApiDoc;

/// The API routes and the OpenAPI description generated from the same route list, so the
/// description cannot name a route that does not exist.
fn api_router() -> (Router<Arc<AppState>>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::list_stories))
        .routes(routes!(api::get_story))
        .routes(routes!(api::list_articles))
        .routes(routes!(api::get_article))
        .routes(routes!(api::list_entities))
        .routes(routes!(api::search))
        .routes(routes!(api::ingest))
        .routes(routes!(api::stats))
        .routes(routes!(api::list_feeds, api::add_feed, api::remove_feed))
        .routes(routes!(live::live_stream))
        .routes(routes!(live::updates))
        .routes(routes!(api::healthz))
        .split_for_parts()
}

/// The OpenAPI description of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_router().1
}

/// The whole application: API, OpenAPI description, web page.
pub fn router(state: Arc<AppState>) -> Router {
    let (api, doc) = api_router();
    let doc = Arc::new(doc);
    let max_body = state.config.max_body;
    let guard = Arc::new(guard::Guard::new(&state.config));
    api.route(
        "/api/openapi.json",
        axum::routing::get(move || {
            let doc = Arc::clone(&doc);
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
    .fallback(api::not_found)
    .merge(web::routes())
    .layer(DefaultBodyLimit::max(max_body))
    // Answers compressed when the client accepts it: a big story's report is megabytes of
    // repetitive JSON.
    .layer(tower_http::compression::CompressionLayer::new())
    // Outermost, so that refusals and time-outs get the security headers too.
    .layer(axum::middleware::from_fn_with_state(guard, guard::check))
    .with_state(state)
}

/// Serves until the process is stopped (Ctrl-C ends it cleanly).
pub async fn serve(state: Arc<AppState>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = router(Arc::clone(&state));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            // An error here means no signal handler could be installed: serve until killed.
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            // Live streams never end by themselves, and shutdown waits for them.
            state.live.close();
        })
        .await
}

/// Binds `addr` and serves; the bound address is reported through `on_bound` (port 0 picks
/// a free port).
///
/// Off loopback, writing needs a key: without `config.token` the server refuses to start.
pub async fn bind_and_serve(
    mut config: ServerConfig,
    addr: SocketAddr,
    on_bound: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    config.loopback = addr.ip().is_loopback();
    if !config.loopback && config.token.is_none() {
        return Err(ServeError::NoToken(addr));
    }
    if config.private && config.token.is_none() {
        return Err(ServeError::PrivateWithoutToken);
    }
    let state = AppState::open(config)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let bound = listener.local_addr().map_err(ServeError::Serve)?;
    on_bound(bound);
    serve(state, listener).await.map_err(ServeError::Serve)?;
    Ok(())
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] storyline::Error),
    // The reason is the source, not part of this message, so that it prints once.
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("serving stopped")]
    Serve(#[source] std::io::Error),
    #[error(
        "{0} is reachable from the network, so writing needs a key: give one with \
         --token-file FILE or STORYLINE_TOKEN (or listen on 127.0.0.1)"
    )]
    NoToken(SocketAddr),
    #[error("--private needs a key: give one with --token-file FILE or STORYLINE_TOKEN")]
    PrivateWithoutToken,
}
