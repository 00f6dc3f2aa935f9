//! The store: one SQLite file (the default), or a PostgreSQL database shared by many
//! machines. The only module that writes SQL.
//!
//! Each ingest batch is one transaction holding its articles, their sentences and mentions
//! (one `annotations` row an article),
//! and the clusterer's changed state, so a crash leaves either the whole batch or none of it.
//! Readers (CLI, API) read while an ingest writes (SQLite's WAL mode; PostgreSQL's MVCC).
//!
//! [`Store`] dispatches each call to its engine: `sqlite` (with the SQLite modules
//! `migrations`, the schema and its upgrades; `writes`, an ingest batch, one function per
//! table; `codec`, the clusterer's snapshot and the row encodings; `reads`, `query`,
//! `reports`, `feeds` and `export`, what the CLI and the API ask) or `pg` (the same on
//! PostgreSQL, schema in `schema_pg.sql`). No engine's type is part of the public interface.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cluster::{ChangeSet, Snapshot};
use crate::core::{Article, ArticleId, EventId, Sentence, StoryId};
use crate::dedup::Signature;
use crate::error::{Error, Result};
use crate::extract::Mention;
use crate::statements::Clause;

mod annotations;
mod codec;
#[cfg(test)]
mod engines;
mod export;
mod feeds;
mod jobs;
mod live;
mod migrations;
mod pg;
mod query;
mod reads;
mod reports;
mod sources;
mod sqlite;
#[cfg(test)]
mod tests;
mod writes;

pub use annotations::{encode_clauses, encode_numbered_clauses};
use codec::{time_from_sql, time_to_sql};
pub use export::ExportedArticle;
pub use feeds::{FeedClaim, FeedLease, FeedRow, FeedSuccess, NewFeedItem, SeenItem};
pub use jobs::{ClaimedJob, FinishedJob, JobCounts, TryLimits, Worked};
pub use live::Changes;
pub use migrations::SCHEMA_VERSION;
pub use pg::PG_SCHEMA_VERSION;
use pg::{is_url, PgStore};
pub use query::{
    ArticleFilter, ArticleHit, ArticleRow, SearchHits, StoryFilter, StoryHit, SNIPPET_END,
    SNIPPET_START,
};
pub use reports::{ReportRow, SourceRow, StoredReport};
pub use sources::{decode_sources, encode_sources, ListedSource, OrderRow};
use sqlite::SqliteStore;

/// A stored article's near-duplicate signature, for the dedup index on open.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSignature {
    pub id: ArticleId,
    pub signature: Signature,
    /// The first article of its copy chain (itself if it is no copy).
    pub original: ArticleId,
    /// The event that original is in.
    pub original_event: EventId,
}

/// The store, on one of its engines: a SQLite file (the default) or a PostgreSQL database
/// (`--db postgres://…`). Callers see only this type; each method asks the engine.
pub struct Store {
    engine: Engine,
}

enum Engine {
    Sqlite(SqliteStore),
    // Boxed: its client is three times the size of a SQLite connection.
    Postgres(Box<PgStore>),
}

/// Hears of batches committed to a store by any process, as they commit (PostgreSQL's
/// `LISTEN`/`NOTIFY`). Made by [`Store::listen`].
pub struct ChangeListener {
    inner: Box<pg::listen::PgListener>,
}

impl ChangeListener {
    /// Waits up to `timeout` for a commit: the newest batch's sequence number told since
    /// the last call, or `None` when none was. An error means the connection is lost (the
    /// batches committed meanwhile are not told): open another with [`Store::listen`].
    pub fn wait(&mut self, timeout: Duration) -> Result<Option<u64>> {
        self.inner.wait(timeout)
    }
}

/// An article ready to be written, with everything the stages found.
pub struct NewArticle<'a> {
    pub row_id: ArticleId,
    pub article: &'a Article,
    pub origin: String,
    pub fingerprint: u64,
    pub signature: Option<&'a Signature>,
    pub duplicate_of: Option<ArticleId>,
    pub event: EventId,
    pub seq: u64,
    pub sentences: &'a [Sentence],
    pub mentions: &'a [Mention],
    /// Its clauses as [`encode_clauses`] wrote them (encoded in the parallel stage, off the
    /// writer's thread); `None`: not made, so a report makes them from the text.
    pub clauses: Option<&'a [u8]>,
}

/// An article as stored, with its analysis.
#[derive(Debug, Clone)]
pub struct StoredArticle {
    pub row_id: ArticleId,
    pub article: Article,
    pub event: EventId,
    pub duplicate_of: Option<ArticleId>,
    pub sentences: Vec<Sentence>,
    pub mentions: Vec<Mention>,
    /// Its clauses as made at ingest; `None` for an article stored before clauses were (or
    /// by other clause rules), whose clauses a report makes from the text.
    pub clauses: Option<Vec<Clause>>,
}

/// A story row: the numbers the store keeps about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryRow {
    pub id: StoryId,
    pub first_time: Option<DateTime<Utc>>,
    pub last_time: Option<DateTime<Utc>>,
    pub n_articles: u64,
    pub n_events: u64,
}

/// How much the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub articles: u64,
    pub duplicates: u64,
    pub events: u64,
    pub stories: u64,
}

/// Calls the same method on whichever engine stands behind the store.
macro_rules! engine {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.engine {
            Engine::Sqlite(s) => s.$method($($arg),*),
            Engine::Postgres(p) => p.$method($($arg),*),
        }
    };
}

impl Store {
    /// Opens the store `db` names, creating it (and its schema) on first use: a
    /// `postgres://` or `postgresql://` URL is a PostgreSQL database, anything else a
    /// SQLite file.
    pub fn open(db: &Path) -> Result<Store> {
        let engine = if is_url(db) {
            Engine::Postgres(Box::new(PgStore::open(db)?))
        } else {
            Engine::Sqlite(SqliteStore::open(db)?)
        };
        Ok(Store { engine })
    }

    /// Whether `db` names a PostgreSQL store (a URL) rather than a SQLite file.
    pub fn is_url(db: &Path) -> bool {
        is_url(db)
    }

    /// Which engine this store runs on: "SQLite" or "PostgreSQL".
    pub fn engine(&self) -> &'static str {
        Self::engine_of(self.path())
    }

    /// Which engine `db` names, without opening it: "SQLite" or "PostgreSQL".
    pub fn engine_of(db: &Path) -> &'static str {
        if is_url(db) {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }

    /// The schema version the store is at (each engine counts its own).
    pub fn schema_version(&self) -> Result<i64> {
        let found = engine!(self.meta("schema_version"))?;
        found
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::Invalid("the store records no schema version".into()))
    }

    /// Whether this store's connection is gone for good (a PostgreSQL server that closed
    /// it): a pool should drop it and open another. A SQLite file is never "closed".
    pub fn is_closed(&self) -> bool {
        match &self.engine {
            Engine::Sqlite(_) => false,
            Engine::Postgres(p) => p.is_closed(),
        }
    }

    /// A connection of its own that hears of each batch as it is committed to the store
    /// `db`, by any process; `None` where the engine tells no one (SQLite, where
    /// [`Store::last_article`] is asked instead). Blocking: use it on a thread of its own.
    pub fn listen(db: &Path) -> Result<Option<ChangeListener>> {
        if !is_url(db) {
            return Ok(None);
        }
        Ok(Some(ChangeListener {
            inner: Box::new(pg::listen::PgListener::open(db)?),
        }))
    }

    /// How many bytes SQLite's write-ahead log may hold before a commit on this connection
    /// copies them into the database file itself (`None`: SQLite's default, 1,000 pages).
    /// PostgreSQL checkpoints on its own.
    pub fn set_auto_checkpoint(&self, bytes: Option<u64>) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(s) => s.set_auto_checkpoint(bytes),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Copies what is committed in SQLite's write-ahead log into the database file, without
    /// waiting for readers or blocking the writer. Nothing to do on PostgreSQL.
    pub fn checkpoint(&self) -> Result<()> {
        match &self.engine {
            Engine::Sqlite(s) => s.checkpoint(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// What `--db` named: the file, or the URL (to open more connections to it).
    pub fn path(&self) -> &Path {
        engine!(self.path())
    }

    /// Runs `f` inside one read transaction, so all its queries see the same committed state
    /// even while another connection commits an ingest batch: a reader never sees a story
    /// row from before a batch beside articles from after it. Snapshots nest.
    pub fn snapshot<T>(&self, f: impl FnOnce(&Store) -> Result<T>) -> Result<T> {
        match &self.engine {
            Engine::Sqlite(s) => s.snapshot(|_| f(self)),
            Engine::Postgres(p) => p.snapshot(|| f(self)),
        }
    }

    /// Writes one batch and the clusterer's changes in a single transaction. `seq_before` is
    /// the sequence the writer started the batch from; if the store has moved on, another
    /// writer got there first and nothing is written.
    pub fn commit_batch(
        &mut self,
        batch: &[NewArticle<'_>],
        changes: &ChangeSet,
        seq_before: u64,
        seq_after: u64,
        clock: Option<DateTime<Utc>>,
    ) -> Result<()> {
        match &mut self.engine {
            Engine::Sqlite(s) => s.commit_batch(batch, changes, seq_before, seq_after, clock),
            Engine::Postgres(p) => p.commit_batch(batch, changes, seq_before, seq_after, clock),
        }
    }

    /// [`Store::commit_batch`], deleting in the same transaction the done jobs of the job
    /// batch `consumed` (kind, number) names: what a worker placed is never placed again.
    /// PostgreSQL only.
    pub fn commit_batch_consuming(
        &mut self,
        batch: &[NewArticle<'_>],
        changes: &ChangeSet,
        seq_before: u64,
        seq_after: u64,
        clock: Option<DateTime<Utc>>,
        consumed: (&str, u64),
    ) -> Result<()> {
        let refused = self.needs_postgres("placing queued jobs");
        match &mut self.engine {
            Engine::Sqlite(_) => Err(refused),
            Engine::Postgres(p) => p.commit_batch_consuming(
                batch,
                changes,
                seq_before,
                seq_after,
                clock,
                Some(consumed),
            ),
        }
    }

    /// The error of a job-queue call on SQLite: workers share a store across machines.
    fn needs_postgres(&self, what: &str) -> Error {
        Error::Invalid(format!(
            "{}: {what} needs a PostgreSQL store (--db postgres://…); this is a SQLite file",
            self.path().display()
        ))
    }

    /// Queues `payloads` as one batch of `kind` jobs, in this order, and returns the batch's
    /// number (batches are numbered in the order they are queued). PostgreSQL only.
    pub fn enqueue_jobs(&self, kind: &str, payloads: &[Vec<u8>]) -> Result<u64> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a job queue")),
            Engine::Postgres(p) => p.enqueue_jobs(kind, payloads),
        }
    }

    /// Queues `payloads` as one batch of `kind` jobs, each the article of the feed item
    /// beside it, and remembers the items as taken, in one transaction. A job that fails
    /// for good forgets its item, so a later poll brings it again (a few times at most).
    /// PostgreSQL only.
    pub fn enqueue_feed_items(
        &self,
        kind: &str,
        payloads: &[Vec<u8>],
        items: &[NewFeedItem],
    ) -> Result<u64> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a job queue")),
            Engine::Postgres(p) => p.enqueue_feed_items(kind, payloads, items),
        }
    }

    /// Claims up to `limit` queued jobs of `kind` that no other worker holds, runs them
    /// (`run` returns one outcome a job, in order) and records the outcomes in the same
    /// transaction: a job is done exactly once, and if this process dies first the jobs go
    /// back to the queue. An error counts an attempt; the `tries.attempts`-th marks the job
    /// failed for good (and may forget its feed item, see [`TryLimits`]). PostgreSQL only.
    pub fn work_jobs(
        &self,
        kind: &str,
        limit: usize,
        tries: TryLimits,
        run: impl FnOnce(&[ClaimedJob]) -> Vec<std::result::Result<Vec<u8>, String>>,
    ) -> Result<Worked> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a job queue")),
            Engine::Postgres(p) => p.work_jobs(kind, limit, tries, run),
        }
    }

    /// The oldest batch of `kind` jobs not yet consumed, once every job of it has finished:
    /// its number and its jobs in the order they were queued. `None` while its jobs run (or
    /// when there is none). PostgreSQL only.
    pub fn finished_batch(&self, kind: &str) -> Result<Option<(u64, Vec<FinishedJob>)>> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a job queue")),
            Engine::Postgres(p) => p.finished_batch(kind),
        }
    }

    /// Deletes the done jobs of `kind`, for kinds whose results nobody consumes (a report
    /// refresh's work is the report it stored); how many. PostgreSQL only.
    pub fn forget_done_jobs(&self, kind: &str) -> Result<u64> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a job queue")),
            Engine::Postgres(p) => p.forget_done_jobs(kind),
        }
    }

    /// The jobs of `kind` per state. PostgreSQL only.
    pub fn job_counts(&self, kind: &str) -> Result<JobCounts> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a job queue")),
            Engine::Postgres(p) => p.job_counts(kind),
        }
    }

    /// Tries to become the store's one clusterer: a lock held by this connection until it
    /// closes (however its process ends). `true` when this connection holds it now.
    /// PostgreSQL only.
    pub fn try_clusterer_lock(&self) -> Result<bool> {
        match &self.engine {
            Engine::Sqlite(_) => Err(self.needs_postgres("a clusterer lock")),
            Engine::Postgres(p) => p.try_clusterer_lock(),
        }
    }

    /// What the clusterer restores itself from: the live events and stories and the
    /// vocabulary. Events and stories come in id order on both engines (PostgreSQL's heap
    /// order moves with updates), so a restored clusterer files and breaks ties alike.
    pub fn cluster_snapshot(&self) -> Result<Snapshot> {
        engine!(self.cluster_snapshot())
    }

    /// The clusterer sequence number as last committed; a writer compares it with its own
    /// to notice another writer.
    pub fn committed_seq(&self) -> Result<u64> {
        engine!(self.committed_seq())
    }

    /// The `limit` most recent signatures, oldest first, each with its copy chain's
    /// original and that original's event. Those of the first MinHash family are made again.
    pub fn recent_signatures(&self, limit: usize) -> Result<Vec<StoredSignature>> {
        engine!(self.recent_signatures(limit))
    }

    /// Which of these external ids are stored already.
    pub fn existing_ids(&self, ids: &[&str]) -> Result<HashSet<String>> {
        engine!(self.existing_ids(ids))
    }

    pub fn next_article_id(&self) -> Result<ArticleId> {
        engine!(self.next_article_id())
    }

    pub fn counts(&self) -> Result<Counts> {
        engine!(self.counts())
    }

    /// Stories, most recently active first (undated ones after dated, then by size).
    pub fn stories(&self, limit: usize, offset: usize) -> Result<Vec<StoryRow>> {
        engine!(self.stories(limit, offset))
    }

    pub fn story(&self, id: StoryId) -> Result<StoryRow> {
        engine!(self.story(id))
    }

    /// Every article of a story, in date order (undated last), with sentences and mentions.
    pub fn story_articles(&self, story: StoryId) -> Result<Vec<StoredArticle>> {
        engine!(self.story_articles(story))
    }

    /// Every mention in the store with its article's external id.
    pub fn all_mentions(&self) -> Result<Vec<(String, Mention)>> {
        engine!(self.all_mentions())
    }

    /// The mentions in one story's articles.
    pub fn story_mentions(&self, story: StoryId) -> Result<Vec<(String, Mention)>> {
        engine!(self.story_mentions(story))
    }

    /// `(external id, event, story)` for every stored article, in ingest order.
    pub fn assignments(&self) -> Result<Vec<(String, EventId, StoryId)>> {
        engine!(self.assignments())
    }

    /// Number of articles per event, for the events of one story.
    pub fn story_events(&self, story: StoryId) -> Result<HashMap<EventId, u64>> {
        engine!(self.story_events(story))
    }

    /// Hands every article to `visit`, in ingest order, one at a time (memory stays flat at
    /// any store size). Stops at the first error `visit` returns.
    pub fn export(&self, visit: impl FnMut(ExportedArticle) -> Result<()>) -> Result<()> {
        engine!(self.export(visit))
    }

    /// A page of stories, most recently active first, and how many match in all.
    pub fn stories_filtered(
        &self,
        filter: &StoryFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<StoryRow>, u64)> {
        engine!(self.stories_filtered(filter, limit, offset))
    }

    /// A page of articles, newest first (undated last), and how many match in all.
    pub fn articles_page(
        &self,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ArticleRow>, u64)> {
        engine!(self.articles_page(filter, limit, offset))
    }

    /// One article by its external id, with text, sentences and mentions.
    pub fn article(&self, ext_id: &str) -> Result<(ArticleRow, StoredArticle)> {
        engine!(self.article(ext_id))
    }

    /// [`Store::search_query`] of what a person typed ([`crate::search::Query::parse`]); a
    /// query with no word to search for is `Error::Invalid`.
    pub fn search(
        &self,
        typed: &str,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
        story_limit: usize,
    ) -> Result<SearchHits> {
        let query =
            crate::search::Query::parse(typed).map_err(|e| Error::Invalid(e.to_string()))?;
        self.search_query(&query, filter, limit, offset, story_limit)
    }

    /// Full-text search over titles and texts: a page of articles, best first, and the
    /// stories ranked by their best-matching article (FTS5's BM25 on SQLite, `ts_rank` on
    /// PostgreSQL; lower scores are better on both).
    pub fn search_query(
        &self,
        query: &crate::search::Query,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
        story_limit: usize,
    ) -> Result<SearchHits> {
        engine!(self.search_query(query, filter, limit, offset, story_limit))
    }

    /// The story's revision and its report stored at that revision.
    pub fn story_report_row(&self, id: StoryId) -> Result<ReportRow> {
        engine!(self.story_report_row(id))
    }

    /// The story's revision and the revision its stored report was made at, without
    /// reading the report.
    pub fn story_revisions(&self, id: StoryId) -> Result<(u64, Option<u64>)> {
        engine!(self.story_revisions(id))
    }

    /// A number that changes when another connection commits (SQLite's `data_version`):
    /// what was read on this connection is still current while it stays the same. `None`
    /// where the engine gives no such number (PostgreSQL): then nothing read is known
    /// current without reading it again, so a server on PostgreSQL reads a story's revision
    /// on every request and sees another machine's batch as soon as it commits. (The
    /// committed sequence number would cost the same round trip, and this is asked on the
    /// server's async threads, where no blocking query may run.)
    pub fn data_version(&self) -> Result<Option<u64>> {
        match &self.engine {
            Engine::Sqlite(s) => s.data_version().map(Some),
            Engine::Postgres(_) => Ok(None),
        }
    }

    /// The story's last stored report, whatever revision it was made at.
    pub fn last_story_report(&self, id: StoryId) -> Result<Option<StoredReport>> {
        engine!(self.last_story_report(id))
    }

    /// Stores a story's report (JSON), headline and source list made at `revision`, unless
    /// the story has moved past it; waits at most `wait` for a lock. `Ok(false)` when
    /// nothing was stored.
    pub fn put_story_report(
        &self,
        id: StoryId,
        revision: u64,
        headline: &str,
        report: &str,
        order: &[u8],
        wait: Duration,
    ) -> Result<bool> {
        engine!(self.put_story_report(id, revision, headline, report, order, wait))
    }

    /// Those of `ids` whose stored report is older than the story.
    pub fn stale_reports(&self, ids: &[StoryId]) -> Result<Vec<StoryId>> {
        engine!(self.stale_reports(ids))
    }

    /// Every article of a story in date order (undated last, then by ingest order), from
    /// an index alone: no article row is read.
    pub fn story_order(&self, story: StoryId) -> Result<Vec<OrderRow>> {
        engine!(self.story_order(story))
    }

    /// These articles without their text, in the order asked: a page of a source list.
    pub fn source_rows(&self, rows: &[ArticleId]) -> Result<Vec<SourceRow>> {
        engine!(self.source_rows(rows))
    }

    /// The newest article's id (0 in an empty store).
    pub fn last_article(&self) -> Result<ArticleId> {
        engine!(self.last_article())
    }

    /// The articles stored after `after` and the stories they touched, at most `limit` of
    /// each: what the live page is told after a batch.
    pub fn changes_since(&self, after: ArticleId, limit: usize) -> Result<Changes> {
        let last = self.last_article()?;
        if last <= after {
            return Ok(Changes {
                after,
                last: last.max(after),
                n_articles: 0,
                articles: Vec::new(),
                stories: Vec::new(),
            });
        }
        engine!(self.changes_between(after, last, limit))
    }

    /// These article rows in full, with sentences and mentions, in the order asked.
    pub fn articles_by_row(&self, rows: &[ArticleId]) -> Result<Vec<StoredArticle>> {
        engine!(self.articles_by_row(rows, true))
    }

    /// These article rows without their sentences and mentions (empty), in the order
    /// asked: a choice made on the text, before [`Store::annotate`] decodes what it keeps.
    pub fn article_texts_by_row(&self, rows: &[ArticleId]) -> Result<Vec<StoredArticle>> {
        engine!(self.articles_by_row(rows, false))
    }

    /// Reads the sentences and mentions of articles read by [`Store::article_texts_by_row`].
    pub fn annotate(&self, articles: &mut [StoredArticle]) -> Result<()> {
        engine!(self.annotate(articles))
    }

    /// Follows `url` (due at once); `false` when it was followed already.
    pub fn add_feed(&self, url: &str, title: Option<&str>, now: DateTime<Utc>) -> Result<bool> {
        engine!(self.add_feed(url, title, now))
    }

    /// Stops following `url`; what it brought in stays. `false` when it was not followed.
    pub fn remove_feed(&self, url: &str) -> Result<bool> {
        engine!(self.remove_feed(url))
    }

    /// Every followed feed, in the order they were added.
    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        engine!(self.feeds())
    }

    pub fn feed(&self, url: &str) -> Result<Option<FeedRow>> {
        engine!(self.feed(url))
    }

    /// Leases to `claim.holder` the feeds it names whose lease is free (or ran out before
    /// `claim.now`), in address order, until `claim.until`: the feeds it is to poll. Every
    /// follower of the store claims before polling, so none polls a feed another is
    /// polling. Recording the poll ([`Store::record_feed_success`],
    /// [`Store::record_feed_failure`]) frees the lease.
    pub fn claim_feeds(&self, claim: &FeedClaim<'_>) -> Result<Vec<FeedRow>> {
        engine!(self.claim_feeds(claim))
    }

    /// Extends `holder`'s leases on these feeds to `until` (a long poll); the number it
    /// still held. A lease taken over since (it ran out) stays with its new holder.
    pub fn renew_feed_leases(
        &self,
        holder: &str,
        urls: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64> {
        engine!(self.renew_feed_leases(holder, urls, until))
    }

    /// The feeds a follower or worker holds at `now` (its lease has not run out), in
    /// address order.
    pub fn feed_leases(&self, now: DateTime<Utc>) -> Result<Vec<FeedLease>> {
        engine!(self.feed_leases(now))
    }

    /// When the next feed falls due (`None`: no feed is followed): its next check, or when
    /// another follower's live lease on it runs out, if later.
    pub fn next_feed_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        engine!(self.next_feed_due(now))
    }

    /// Records a good poll: failures reset, validators kept for the next request, the
    /// feed's lease freed.
    pub fn record_feed_success(&self, url: &str, s: &FeedSuccess) -> Result<()> {
        engine!(self.record_feed_success(url, s))
    }

    /// Records a failed poll: one more failure in a row, the reason, and when to try again;
    /// the feed's lease freed.
    pub fn record_feed_failure(
        &self,
        url: &str,
        at: DateTime<Utc>,
        next_check: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        engine!(self.record_feed_failure(url, at, next_check, error))
    }

    /// The newest stored version of an item known by this guid or address (as linked, or
    /// where the link led), from any feed.
    pub fn seen_item(&self, guid: Option<&str>, link: Option<&str>) -> Result<Option<SeenItem>> {
        engine!(self.seen_item(guid, link))
    }

    /// Remembers items as taken, in one transaction. An item remembered already is left
    /// as it was (a poll repeated after a crash).
    pub fn mark_items_seen(&self, items: &[NewFeedItem]) -> Result<()> {
        engine!(self.mark_items_seen(items))
    }

    /// Records that the feed now calls a stored item by another guid.
    pub fn rename_item_guid(&self, article_id: &str, guid: &str) -> Result<()> {
        engine!(self.rename_item_guid(article_id, guid))
    }

    /// The article a stored item version updates, if it is an update.
    pub fn item_update_of(&self, article_id: &str) -> Result<Option<String>> {
        engine!(self.item_update_of(article_id))
    }

    /// Takes one of `host`'s `limit` slots for `holder` until `until`, if one is free or
    /// its lease ran out before `now` (its holder died); `None` when all are taken. Every
    /// follower of the store takes a slot before a request, so together they keep to the
    /// limit.
    pub fn take_host_slot(
        &self,
        host: &str,
        limit: u32,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<u32>> {
        engine!(self.take_host_slot(host, limit, holder, now, until))
    }

    /// Frees a slot `holder` took; a slot taken over since (its lease ran out) stays with
    /// its new holder.
    pub fn release_host_slot(&self, host: &str, slot: u32, holder: &str) -> Result<()> {
        engine!(self.release_host_slot(host, slot, holder))
    }
}
