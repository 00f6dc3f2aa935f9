//! Handlers and wire types of the JSON API. Every error is JSON `{"error": …}` with a 4xx
//! status for anything the client can fix; 5xx only when the store itself fails.

use std::io::Cursor;
use std::path::Path as FsPath;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use storyline::core::{EntityKind, StoryId};
use storyline::ingest::{self, Format};
use storyline::pipeline::{IngestReport, Pipeline, PipelineConfig};
use storyline::read::{self, EntityFilter, StoryReport};
pub use storyline::read::{ArticleHitOut, ArticleSummary, SearchResult, SnippetPart, StoryHitOut};
use storyline::search::Query as SearchText;
use storyline::store::{ArticleFilter, FeedRow, Store, StoryFilter};
use utoipa::{IntoParams, ToSchema};

use crate::story_cache::{lock, Encoded, PageKey};
use crate::AppState;

type AppResult<T> = Result<Json<T>, ApiError>;

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

// ---------------------------------------------------------------- errors

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
    /// Per-record problems, for ingest requests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    /// A 401 says how to authenticate (`WWW-Authenticate: Bearer`).
    pub www_authenticate: bool,
    /// A 503 says when to try again (`Retry-After`, seconds).
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorBody {
                error: message.into(),
                details: Vec::new(),
            },
            www_authenticate: false,
            retry_after: None,
        }
    }

    /// 503: the server is at its bound; try again in a second.
    pub fn busy(message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, message);
        e.retry_after = Some(1);
        e
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {e}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }
}

impl From<storyline::Error> for ApiError {
    fn from(e: storyline::Error) -> Self {
        use storyline::Error as E;
        match e {
            E::NotFound { .. } => Self::new(StatusCode::NOT_FOUND, e.to_string()),
            E::Invalid(_) | E::Input(_) => Self::bad_request(e.to_string()),
            E::WrittenMeanwhile { .. } => Self::new(StatusCode::CONFLICT, e.to_string()),
            E::Io { .. }
            | E::Store { .. }
            | E::SchemaVersion { .. }
            | E::Embed(_)
            | E::Thread { .. } => Self::internal(e),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        Self::bad_request(e.body_text())
    }
}

impl From<PathRejection> for ApiError {
    /// Axum's own text speaks of Rust types ("Cannot parse `abc` to a `i64`").
    fn from(e: PathRejection) -> Self {
        use axum::extract::path::ErrorKind as K;
        use axum::extract::rejection::PathRejection as P;
        let P::FailedToDeserializePathParams(p) = e else {
            return Self::bad_request(e.body_text());
        };
        match p.into_kind() {
            K::ParseErrorAtKey { value, .. }
            | K::ParseErrorAtIndex { value, .. }
            | K::ParseError { value, .. } => {
                Self::bad_request(format!("{value:?} in the address should be a number"))
            }
            other => Self::bad_request(format!("bad address: {other}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if self.www_authenticate {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        r
    }
}

/// Unknown paths under `/api` answer JSON 404 like every other API error.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such route")
}

// ---------------------------------------------------------------- shared wire types

#[derive(Debug, Serialize, ToSchema)]
pub struct StoryItem {
    pub id: i64,
    pub headline: String,
    pub first_published: Option<DateTime<Utc>>,
    pub last_published: Option<DateTime<Utc>>,
    pub n_articles: usize,
    pub n_events: usize,
}

impl From<storyline::Story> for StoryItem {
    fn from(s: storyline::Story) -> Self {
        StoryItem {
            id: s.id.0,
            headline: s.headline,
            first_published: s.first_published,
            last_published: s.last_published,
            n_articles: s.n_articles,
            n_events: s.n_events,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoryPage {
    /// Stories matching the filters, over all pages.
    pub total: u64,
    pub limit: usize,
    pub offset: usize,
    pub stories: Vec<StoryItem>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticlePage {
    pub total: u64,
    pub limit: usize,
    pub offset: usize,
    pub articles: Vec<ArticleSummary>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SentenceOut {
    pub idx: usize,
    /// Byte offsets into `text`.
    pub start: usize,
    pub end: usize,
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MentionOut {
    pub name: String,
    pub kind: String,
    pub start: usize,
    pub end: usize,
    pub role: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDetail {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    pub lang: Option<String>,
    pub text: String,
    pub sentences: Vec<SentenceOut>,
    pub mentions: Vec<MentionOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EntityOut {
    pub name: String,
    pub kind: String,
    pub aliases: Vec<String>,
    pub mentions: usize,
    /// Articles that mention it.
    pub articles: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub articles: u64,
    pub duplicates: u64,
    pub events: u64,
    pub stories: u64,
}

// ---------------------------------------------------------------- query parameters

fn page(limit: Option<usize>, offset: Option<usize>) -> (usize, usize) {
    (
        limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT),
        offset.unwrap_or(0),
    )
}

/// `[since, before)`; either end open.
type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// `since` and `until` are inclusive days; the store takes `[since 00:00, until+1 00:00)`.
fn date_range(since: Option<&str>, until: Option<&str>) -> Result<TimeRange, ApiError> {
    let day = |name: &str, s: &str| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request(format!("{name} must be YYYY-MM-DD, got {s:?}")))
    };
    let since = since
        .map(|s| day("since", s))
        .transpose()?
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    let before = until
        .map(|s| day("until", s))
        .transpose()?
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc());
    Ok((since, before))
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoriesQuery {
    /// Page size, 1–100 (default 20).
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    /// Stories with news on or after this day (YYYY-MM-DD).
    pub since: Option<String>,
    /// Stories with news on or before this day (YYYY-MM-DD).
    pub until: Option<String>,
    /// Stories mentioning this name (as written in an article, case-insensitive).
    pub entity: Option<String>,
    /// Stories with an article from this source.
    pub source: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ArticlesQuery {
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub source: Option<String>,
    /// Only articles of this story.
    pub story: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Words to look for, as a person types them (all must match; punctuation separates
    /// words); `"a phrase"`, `OR`, `NOT word` and `prefix*` work as operators.
    pub q: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub source: Option<String>,
    pub story: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EntitiesQuery {
    /// person, organization, place or other (without it: every kind but other).
    pub kind: Option<String>,
    /// Names containing this text (case-insensitive).
    pub name: Option<String>,
    /// Only entities of this story.
    pub story: Option<i64>,
    /// At most this many (default 50, up to 500), most mentioned first.
    pub limit: Option<usize>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// `jsonl` or `feed` (RSS/Atom); otherwise taken from Content-Type.
    pub format: Option<String>,
}

// ---------------------------------------------------------------- handlers

/// Stories, most recently active first.
#[utoipa::path(get, path = "/api/stories", params(StoriesQuery),
    responses((status = 200, body = StoryPage), (status = 400, body = ErrorBody)))]
pub async fn list_stories(
    State(state): State<Arc<AppState>>,
    q: Result<Query<StoriesQuery>, QueryRejection>,
) -> AppResult<StoryPage> {
    let Query(q) = q?;
    let (limit, offset) = page(q.limit, q.offset);
    let (since, before) = date_range(q.since.as_deref(), q.until.as_deref())?;
    let filter = StoryFilter {
        since,
        before,
        entity: non_empty(q.entity),
        source: non_empty(q.source),
    };
    let (stories, total) = state
        .read(move |s| read::find_stories(s, &filter, limit, offset))
        .await?;
    Ok(Json(StoryPage {
        total,
        limit,
        offset,
        stories: stories.into_iter().map(StoryItem::from).collect(),
    }))
}

/// Which part of a story's long lists to send.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StoryQuery {
    /// First source and first dated timeline entry to send (0-based).
    pub offset: Option<usize>,
    /// Most sources and dated timeline entries to send; 100 when absent.
    pub limit: Option<usize>,
}

/// Sources (and dated timeline entries) a story read sends when no `limit` is asked: a
/// read of a story of any size costs about the same.
pub const STORY_PAGE: usize = 100;

/// A story report, its long lists cut to the page asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct StoryOut {
    #[serde(flatten)]
    pub report: StoryReport,
    /// Dated timeline entries in the whole story; `timeline.dated` holds those from
    /// `offset` on.
    pub timeline_total: usize,
    pub offset: usize,
    pub limit: usize,
}

/// The `ETag` of a story at a revision. The store's path is not in it: a client that keeps
/// tags across servers sends one that merely misses.
fn story_etag(id: StoryId, revision: u64) -> String {
    format!("\"s{id}-r{revision}\"")
}

fn page_of<T: Clone>(items: &[T], offset: usize, limit: Option<usize>) -> Vec<T> {
    let start = offset.min(items.len());
    let end = limit.map_or(items.len(), |l| start.saturating_add(l).min(items.len()));
    items[start..end].to_vec()
}

/// One story: headline, cited summary, timeline, entities, events, facts, sources.
///
/// Sent with its revision as `ETag` (`If-None-Match` with it answers 304) and
/// `Cache-Control: no-cache`, so a client revalidates and a big story is sent once per
/// revision. `offset` and `limit` page the sources and the dated timeline entries.
#[utoipa::path(get, path = "/api/stories/{id}",
    params(("id" = i64, Path, description = "Story id"), StoryQuery),
    responses((status = 200, body = StoryOut,
               description = "The story, as `storyline show --json` prints it, with its long lists paged"),
              (status = 304, description = "The story has not changed since the tag sent"),
              (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 503, body = ErrorBody, description = "At the bound on long reads; see Retry-After")))]
pub async fn get_story(
    State(state): State<Arc<AppState>>,
    id: Result<Path<i64>, PathRejection>,
    q: Result<Query<StoryQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Path(id) = id?;
    let id = StoryId(id);
    let Query(q) = q?;
    let sent = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let matches = |revision: u64| {
        let tag = story_etag(id, revision);
        sent.is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
    };
    let (offset, limit) = (q.offset.unwrap_or(0), q.limit.unwrap_or(STORY_PAGE));
    // Only the store knows whether the story has changed (an ingest may run in another
    // process); what was read of it holds until anything is committed.
    let (known, version) = lock(&state.revisions).get(id);
    let (revision, stored_at) = match known {
        Some(revisions) => revisions,
        None => {
            let revisions = state.read(move |s| s.story_revisions(id)).await?;
            lock(&state.revisions).put(id, revisions, version);
            revisions
        }
    };
    if matches(revision) {
        return Ok(not_modified(id, revision));
    }
    let key = PageKey {
        story: id,
        offset,
        limit,
    };
    let (served, body) = story_page(&state, id, revision, stored_at, key).await?;
    if due_for_current(&state, id, served < revision) {
        // Behind the answer: the next reader gets the current report.
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            if let Ok(turn) = Arc::clone(&state.heavy).try_acquire_owned() {
                if let Ok(made) = state
                    .read(move |s| {
                        let _turn = turn;
                        read::current_report(s, id)
                    })
                    .await
                {
                    remember(&state, id, made);
                }
            }
        });
    }
    // The last whole report, older than the story: the client may hold it already.
    if matches(served) {
        return Ok(not_modified(id, served));
    }
    let (bytes, gzip) = if accepts_gzip(&headers) {
        (body.gzip(), true)
    } else {
        (body.json.clone(), false)
    };
    let mut r = (
        [(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/json"),
        )],
        bytes,
    )
        .into_response();
    if gzip {
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_ENCODING,
            header::HeaderValue::from_static("gzip"),
        );
        h.insert(
            header::VARY,
            header::HeaderValue::from_static("accept-encoding"),
        );
    }
    cache_headers(&mut r, id, served);
    Ok(r)
}

/// A client that takes gzip (`Accept-Encoding: gzip`, not `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            !refused
                && (name.eq_ignore_ascii_case("gzip")
                    || name.eq_ignore_ascii_case("x-gzip")
                    || name == "*")
        })
}

/// `ETag` and `Cache-Control` of a story answer: a client revalidates, and a big story is
/// sent once per revision.
fn cache_headers(r: &mut Response, id: StoryId, revision: u64) {
    let h = r.headers_mut();
    if let Ok(v) = header::HeaderValue::from_str(&story_etag(id, revision)) {
        h.insert(header::ETAG, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
}

fn not_modified(id: StoryId, revision: u64) -> Response {
    let mut r = StatusCode::NOT_MODIFIED.into_response();
    cache_headers(&mut r, id, revision);
    r
}

/// The story's report in memory at its revision or at its stored report's.
fn report_in_memory(
    state: &AppState,
    id: StoryId,
    revision: u64,
    stored_at: Option<u64>,
) -> Option<Arc<read::KeptReport>> {
    let mut c = lock(&state.reports);
    c.get((id, revision))
        .or_else(|| stored_at.and_then(|at| c.get((id, at))))
}

/// The report a story is answered from, for the one reader holding the story's gate: the
/// last stored one (a lookup), else made here within the bound on long work.
async fn get_report(
    state: &Arc<AppState>,
    id: StoryId,
    revision: u64,
    stored_at: Option<u64>,
) -> Result<Arc<read::KeptReport>, ApiError> {
    // Got by the reader this one waited for.
    if let Some(kept) = report_in_memory(state, id, revision, stored_at) {
        return Ok(kept);
    }
    let latest = lock(&state.reports).latest(id);
    if let Some(stored) = state.read(move |s| read::last_report(s, id)).await? {
        // One made here but not stored (an ingest held the write lock) may be newer.
        return Ok(match latest {
            Some(kept) if kept.revision > stored.revision => kept,
            _ => remember(state, id, stored),
        });
    }
    // Never stored. One in memory is given rather than waited for a turn: it is made again
    // behind the answer when it stays old (`due_for_current`).
    let turn = match latest {
        Some(kept) => match Arc::clone(&state.heavy).try_acquire_owned() {
            Ok(turn) => turn,
            Err(_) => return Ok(kept),
        },
        None => {
            let wait = state.config.limits.heavy_wait;
            match tokio::time::timeout(wait, Arc::clone(&state.heavy).acquire_owned()).await {
                Ok(Ok(turn)) => turn,
                _ => {
                    return Err(ApiError::busy(
                        "the server is at its bound on long work; try again in a second",
                    ))
                }
            }
        }
    };
    // The turn goes with the work, which runs to its end even if this reader stops
    // waiting for it.
    let made = state
        .read(move |s| {
            let _turn = turn;
            read::current_report(s, id)
        })
        .await?;
    state.counts.reports_made.fetch_add(1, Ordering::Relaxed);
    Ok(remember(state, id, made))
}

/// Whether the story has been answered from a report older than it for longer than the
/// grace an ingest's refresh is given; then the server makes the current one itself, once
/// per grace period, not once per reader.
fn due_for_current(state: &AppState, id: StoryId, stale: bool) -> bool {
    let mut since = lock(&state.stale_since);
    if !stale {
        since.remove(&id);
        return false;
    }
    let first = *since.entry(id).or_insert_with(std::time::Instant::now);
    let due = first.elapsed() >= crate::STALE_GRACE;
    if due {
        since.insert(id, std::time::Instant::now());
    }
    due
}

/// The page of a story as sent, with the revision of the report it was encoded from: kept
/// in memory, or read (the rows of its sources) and encoded once for all the readers asking
/// for it at the same time. When a newer report than the kept page's is to be had, one
/// reader encodes the page of it while the others are sent the page as it was.
async fn story_page(
    state: &Arc<AppState>,
    id: StoryId,
    revision: u64,
    stored_at: Option<u64>,
    key: PageKey,
) -> Result<(u64, Arc<Encoded>), ApiError> {
    let newest = stored_at.max(lock(&state.reports).latest(id).map(|k| k.revision));
    let kept_page = lock(&state.pages).get(&key);
    if let Some((at, page)) = kept_page {
        if newest.is_some_and(|n| at < n) {
            if let Some(_held) = state.page_gates.try_hold(key) {
                // On failure the page as it was still serves.
                if let Ok(Some(fresh)) =
                    fresh_page(state, id, revision, stored_at, key, false).await
                {
                    return Ok(fresh);
                }
            }
        }
        state
            .counts
            .pages_from_memory
            .fetch_add(1, Ordering::Relaxed);
        return Ok((at, page));
    }
    let _held = state.page_gates.hold(key).await;
    fresh_page(state, id, revision, stored_at, key, true)
        .await?
        .ok_or_else(|| ApiError::internal("a story page was not made"))
}

/// The page of the newest report to be had, for the one reader holding the page's gate.
/// Without `wait`, `None` when another reader is getting the story's report.
async fn fresh_page(
    state: &Arc<AppState>,
    id: StoryId,
    revision: u64,
    stored_at: Option<u64>,
    key: PageKey,
    wait: bool,
) -> Result<Option<(u64, Arc<Encoded>)>, ApiError> {
    let kept = match report_in_memory(state, id, revision, stored_at) {
        Some(kept) => kept,
        None => {
            let _held = if wait {
                state.report_gates.hold(id).await
            } else {
                match state.report_gates.try_hold(id) {
                    Some(held) => held,
                    None => return Ok(None),
                }
            };
            get_report(state, id, revision, stored_at).await?
        }
    };
    // Encoded meanwhile by the reader this one waited for.
    if let Some((at, page)) = lock(&state.pages).get(&key) {
        if at >= kept.revision {
            state
                .counts
                .pages_from_memory
                .fetch_add(1, Ordering::Relaxed);
            return Ok(Some((at, page)));
        }
    }
    let (offset, limit) = (key.offset, key.limit);
    let at = kept.revision;
    let json = state
        .read(move |s| {
            let mut report = kept.page(s, offset, Some(limit))?;
            let timeline_total = report.timeline.dated.len();
            report.timeline.dated = page_of(&report.timeline.dated, offset, Some(limit));
            Ok(serde_json::to_vec(&StoryOut {
                report,
                timeline_total,
                offset,
                limit,
            }))
        })
        .await?
        .map_err(ApiError::internal)?;
    state.counts.pages_encoded.fetch_add(1, Ordering::Relaxed);
    let page = Arc::new(Encoded::new(json));
    lock(&state.pages).put(key, at, Arc::clone(&page));
    Ok(Some((at, page)))
}

fn remember(state: &AppState, id: StoryId, kept: read::KeptReport) -> Arc<read::KeptReport> {
    let kept = Arc::new(kept);
    lock(&state.reports).put((id, kept.revision), Arc::clone(&kept));
    kept
}
/// Articles, newest first.
#[utoipa::path(get, path = "/api/articles", params(ArticlesQuery),
    responses((status = 200, body = ArticlePage), (status = 400, body = ErrorBody)))]
pub async fn list_articles(
    State(state): State<Arc<AppState>>,
    q: Result<Query<ArticlesQuery>, QueryRejection>,
) -> AppResult<ArticlePage> {
    let Query(q) = q?;
    let (limit, offset) = page(q.limit, q.offset);
    let (since, before) = date_range(q.since.as_deref(), q.until.as_deref())?;
    let filter = ArticleFilter {
        since,
        before,
        source: non_empty(q.source),
        story: q.story.map(StoryId),
    };
    let (rows, total) = state
        .read(move |s| s.articles_page(&filter, limit, offset))
        .await?;
    Ok(Json(ArticlePage {
        total,
        limit,
        offset,
        articles: rows.into_iter().map(ArticleSummary::from).collect(),
    }))
}

/// One article with its text, sentences and entity mentions.
#[utoipa::path(get, path = "/api/articles/{id}",
    params(("id" = String, Path, description = "Article id as ingested")),
    responses((status = 200, body = ArticleDetail), (status = 404, body = ErrorBody)))]
pub async fn get_article(
    State(state): State<Arc<AppState>>,
    id: Result<Path<String>, PathRejection>,
) -> AppResult<ArticleDetail> {
    let Path(id) = id?;
    let (row, stored) = state.read(move |s| s.article(&id)).await?;
    let text = stored.article.text;
    let sentences = stored
        .sentences
        .iter()
        .map(|s| SentenceOut {
            idx: s.idx,
            start: s.span.start,
            end: s.span.end,
            // Spans come from the store; a bad one shows as empty rather than failing.
            text: text.get(s.span.start..s.span.end).unwrap_or("").to_string(),
        })
        .collect();
    let mentions = stored
        .mentions
        .into_iter()
        .map(|m| MentionOut {
            name: m.name,
            kind: m.kind.as_str().to_string(),
            start: m.span.start,
            end: m.span.end,
            role: m.role,
        })
        .collect();
    Ok(Json(ArticleDetail {
        summary: row.into(),
        lang: stored.article.lang,
        text,
        sentences,
        mentions,
    }))
}

/// Entities under their canonical names, most mentioned first.
#[utoipa::path(get, path = "/api/entities", params(EntitiesQuery),
    responses((status = 200, body = Vec<EntityOut>), (status = 400, body = ErrorBody)))]
pub async fn list_entities(
    State(state): State<Arc<AppState>>,
    q: Result<Query<EntitiesQuery>, QueryRejection>,
) -> AppResult<Vec<EntityOut>> {
    let Query(q) = q?;
    let kind = match q.kind.as_deref() {
        None | Some("") => None,
        Some(k @ ("person" | "organization" | "place" | "other")) => Some(EntityKind::parse(k)),
        Some(k) => {
            return Err(ApiError::bad_request(format!(
                "kind must be person, organization, place or other, got {k:?}"
            )))
        }
    };
    let filter = EntityFilter {
        kind,
        name: non_empty(q.name),
        story: q.story.map(StoryId),
        min_articles: 1,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
    };
    let entities = state.read(move |s| read::entities(s, &filter)).await?;
    Ok(Json(
        entities
            .into_iter()
            .map(|e| EntityOut {
                name: e.name,
                kind: e.kind.as_str().to_string(),
                aliases: e.aliases,
                mentions: e.mentions,
                articles: e.articles.len(),
            })
            .collect(),
    ))
}

/// Full-text search (SQLite FTS5, BM25) over articles, and stories by their articles.
#[utoipa::path(get, path = "/api/search", params(SearchQuery),
    responses((status = 200, body = SearchResult),
              (status = 400, body = ErrorBody, description = "no word to search for")))]
pub async fn search(
    State(state): State<Arc<AppState>>,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> AppResult<SearchResult> {
    let Query(q) = q?;
    let typed = q.q.unwrap_or_default();
    let query = SearchText::parse(&typed).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let (limit, offset) = page(q.limit, q.offset);
    let (since, before) = date_range(q.since.as_deref(), q.until.as_deref())?;
    let filter = ArticleFilter {
        since,
        before,
        source: non_empty(q.source),
        story: q.story.map(StoryId),
    };
    let result = state
        .read(move |s| read::search(s, &typed, &query, &filter, limit, offset))
        .await?;
    Ok(Json(result))
}

fn ingest_format(q: &IngestQuery, headers: &HeaderMap) -> Result<Format, ApiError> {
    if let Some(f) = q.format.as_deref() {
        return match f {
            "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
            "feed" | "rss" | "atom" => Ok(Format::Feed),
            _ => Err(ApiError::bad_request(format!(
                "format must be jsonl or feed, got {f:?}"
            ))),
        };
    }
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = ct.split(';').next().unwrap_or("").trim();
    match mime {
        "application/x-ndjson"
        | "application/jsonl"
        | "application/json"
        | "application/x-jsonlines" => Ok(Format::Jsonl),
        "application/rss+xml" | "application/atom+xml" | "application/xml" | "text/xml" => {
            Ok(Format::Feed)
        }
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "send JSONL (application/x-ndjson) or a feed (application/rss+xml, \
                 application/atom+xml), or say ?format=jsonl|feed; got {mime:?}"
            ),
        )),
    }
}

/// Ingests JSONL (one article per line) or one RSS/Atom feed document. Bad records are
/// listed and skipped; when no record is good, nothing is stored and the answer is 400.
#[utoipa::path(post, path = "/api/ingest", params(IngestQuery),
    request_body(content = String, description = "JSONL or an RSS/Atom document",
                 content_type = "application/x-ndjson"),
    responses((status = 200, body = IngestReport),
              (status = 400, body = ErrorBody, description = "no valid record"),
              (status = 413, body = ErrorBody, description = "body over the size limit"),
              (status = 415, body = ErrorBody, description = "unknown format"),
              (status = 503, body = ErrorBody, description = "At the bound on long work; see Retry-After")))]
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    q: Result<Query<IngestQuery>, QueryRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> AppResult<IngestReport> {
    let Query(q) = q?;
    let body = body.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let format = ingest_format(&q, &headers)?;
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::bad_request("empty body"));
    }
    let Some(_turn) = state.try_heavy_turn() else {
        return Err(ApiError::busy(
            "the server is at its bound on long work; try again in a second",
        ));
    };
    let state2 = Arc::clone(&state);
    tokio::task::spawn_blocking(move || -> Result<IngestReport, ApiError> {
        // Read every record first: a request with no good record stores nothing.
        let records: Vec<_> =
            ingest::read_stream(Cursor::new(body), FsPath::new("request"), format).collect();
        let good = records.iter().filter(|r| r.is_ok()).count();
        if good == 0 {
            let mut err = ApiError::bad_request("no valid record in the request; nothing stored");
            err.body.details = records
                .into_iter()
                .filter_map(|r| r.err().map(|e| e.to_string()))
                .collect();
            return Err(err);
        }
        let _writer = state2.writer.lock().map_err(ApiError::internal)?;
        let mut pipeline = Pipeline::open(&state2.config.db, PipelineConfig::default())?;
        Ok(pipeline.ingest(records, |_| {})?)
    })
    .await
    .map_err(ApiError::internal)?
    .map(Json)
}

/// How much the store holds.
#[utoipa::path(get, path = "/api/stats", responses((status = 200, body = Stats)))]
pub async fn stats(State(state): State<Arc<AppState>>) -> AppResult<Stats> {
    let c = state.read(|s| s.counts()).await?;
    Ok(Json(Stats {
        articles: c.articles,
        duplicates: c.duplicates,
        events: c.events,
        stories: c.stories,
    }))
}

/// Whether this server can read its store, for a load balancer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` when the store cannot be read.
    pub status: &'static str,
    /// `SQLite` or `PostgreSQL`.
    pub engine: &'static str,
    /// The store's schema version (each engine counts its own); absent when unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<i64>,
    /// The newest article's id (0 in an empty store); absent when unavailable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_article: Option<i64>,
}

/// Health for a load balancer: 200 when a read of the store on the server's own read
/// connections succeeds, 503 when it fails. Needs no key, even on a private server, and
/// says nothing a client could not learn otherwise (no address of the store, no error text).
#[utoipa::path(get, path = "/healthz",
    responses((status = 200, body = Health),
              (status = 503, body = Health, description = "the store cannot be read")))]
pub async fn healthz(State(state): State<Arc<AppState>>) -> Response {
    let read = state
        .read(|s| Ok((s.engine(), s.schema_version()?, s.last_article()?)))
        .await;
    let (status, health) = match read {
        Ok((engine, version, last)) => (
            StatusCode::OK,
            Health {
                status: "ok",
                engine,
                schema_version: Some(version),
                last_article: Some(last.0),
            },
        ),
        Err(e) => {
            // The reason is for the operator's log: it may name the store's address.
            tracing::warn!("healthz: the store cannot be read: {}", e.body.error);
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Health {
                    status: "unavailable",
                    engine: Store::engine_of(&state.config.db),
                    schema_version: None,
                    last_article: None,
                },
            )
        }
    };
    let mut r = (status, Json(health)).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    r
}

// ---------------------------------------------------------------- feeds

/// A feed to follow.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FeedRequest {
    /// The feed's address (http or https): RSS, Atom or JSON Feed.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FeedAdded {
    pub url: String,
    /// `false` when it was followed already.
    pub added: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct FeedQuery {
    /// The followed feed's address, as listed.
    pub url: String,
}

/// Runs `f` on a store connection of its own, holding the one writer lock.
async fn write_store<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Store) -> storyline::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || -> Result<T, ApiError> {
        let _writer = state.writer.lock().map_err(ApiError::internal)?;
        let store = Store::open(&state.config.db)?;
        Ok(f(&store)?)
    })
    .await
    .map_err(ApiError::internal)?
}

/// The followed feeds and their health: last fetch, last new item, next check, failures
/// in a row, last error.
#[utoipa::path(get, path = "/api/feeds", responses((status = 200, body = Vec<FeedRow>)))]
pub async fn list_feeds(State(state): State<Arc<AppState>>) -> AppResult<Vec<FeedRow>> {
    Ok(Json(state.read(|s| s.feeds()).await?))
}

/// Follows a feed. A write: it needs the key whenever the server has one.
#[utoipa::path(post, path = "/api/feeds", request_body = FeedRequest,
    responses((status = 200, body = FeedAdded),
              (status = 400, body = ErrorBody, description = "not an http(s) address")))]
pub async fn add_feed(
    State(state): State<Arc<AppState>>,
    body: Result<Json<FeedRequest>, JsonRejection>,
) -> AppResult<FeedAdded> {
    let Json(req) = body.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let url = req.url.trim().to_string();
    let lower = url.to_ascii_lowercase();
    let web = lower.starts_with("http://") || lower.starts_with("https://");
    if !web || url.len() > 2048 || url.chars().any(char::is_whitespace) {
        return Err(ApiError::bad_request(format!(
            "not an http or https feed address: {url:?}"
        )));
    }
    let u = url.clone();
    let added = write_store(&state, move |s| s.add_feed(&u, None, Utc::now())).await?;
    Ok(Json(FeedAdded { url, added }))
}

/// Stops following a feed; the articles it brought stay.
#[utoipa::path(delete, path = "/api/feeds", params(FeedQuery),
    responses((status = 204, description = "no longer followed"),
              (status = 404, body = ErrorBody, description = "not followed")))]
pub async fn remove_feed(
    State(state): State<Arc<AppState>>,
    q: Result<Query<FeedQuery>, QueryRejection>,
) -> Result<StatusCode, ApiError> {
    let Query(q) = q?;
    let url = q.url.clone();
    if write_store(&state, move |s| s.remove_feed(&url)).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no followed feed {}", q.url),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    fn seed_files() -> Vec<std::path::PathBuf> {
        let seeds = FsPath::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
        ingest::expand_paths(&[seeds]).expect("seed files")
    }

    /// A fresh store holding the seed reports; the directory lives as long as the guard.
    fn seeded_store() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("serve.db");
        let mut p = Pipeline::open(&db, PipelineConfig::default()).expect("pipeline");
        let records = seed_files()
            .into_iter()
            .flat_map(|f| ingest::read_path(&f, None).collect::<Vec<_>>());
        p.ingest(records, |_| {}).expect("ingest seeds");
        (dir, db)
    }

    async fn send(app: &axum::Router, req: Request<Body>) -> Response {
        app.clone().oneshot(req).await.expect("response")
    }

    async fn tag_of(app: &axum::Router, id: StoryId) -> String {
        let res = send(
            app,
            Request::get(format!("/api/stories/{id}"))
                .body(Body::empty())
                .expect("request"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        res.headers()[header::ETAG]
            .to_str()
            .expect("etag")
            .to_string()
    }

    #[tokio::test]
    async fn while_one_reader_gets_a_newer_report_the_others_are_sent_the_page_as_it_was() {
        let (_dir, db) = seeded_store();
        let state = AppState::open(crate::ServerConfig::new(db)).expect("state");
        let app = crate::router(Arc::clone(&state));
        let id = state.read(|s| s.stories(1, 0)).await.expect("stories")[0].id;
        let old = tag_of(&app, id).await;
        // A batch joins the story; the ingest's refresh stores its new report.
        let seed = std::fs::read_to_string(&seed_files()[0]).expect("seed text");
        let line = serde_json::json!({"id": "again-3", "text": seed}).to_string();
        let res = send(
            &app,
            Request::post("/api/ingest")
                .header("content-type", "application/x-ndjson")
                .body(Body::from(line))
                .expect("request"),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let (revision, stored_at) = state
            .read(move |s| s.story_revisions(id))
            .await
            .expect("revisions");
        assert_eq!(
            stored_at,
            Some(revision),
            "the refresh stored the new report"
        );
        // Another reader is reading that report: this one is not kept waiting for it.
        let held = state.report_gates.try_hold(id).expect("a free gate");
        assert_eq!(tag_of(&app, id).await, old);
        drop(held);
        assert_eq!(tag_of(&app, id).await, story_etag(id, revision));
    }
}
