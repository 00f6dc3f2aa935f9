//! The poll: fetch the feeds that are due, decide which items are new or updated, fetch the
//! pages of those that carry no full text, ingest them through the ordinary pipeline, then
//! remember them and each feed's validators and schedule.
//!
//! Articles are committed before their items are remembered, and validators are stored
//! last, so a crash between the two repeats the poll: each article keeps an id derived from
//! its item, which the pipeline will not store twice. A follower that queues (a worker's)
//! remembers items in the transaction that queues their jobs instead.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use storyline::error::Location;
use storyline::follow::{next_after_failure, next_after_success, parse_feed, Clock, FeedItem};
use storyline::ingest::{extract_page, Record};
use storyline::pipeline::{IngestReport, Pipeline, PipelineConfig};
use storyline::store::{FeedClaim, FeedLease, FeedRow, FeedSuccess, NewFeedItem, Store};
use storyline::Article;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::{
    ClientConfig, FetchError, Fetched, Fetcher, SharedHostSlots, Validators, FEED_LIMIT, PAGE_LIMIT,
};
use crate::robots::RobotsCache;

/// Feeds, and pages, fetched at once at most (each host still gets at most two).
const IN_FLIGHT: usize = 32;

/// Feeds fetched, extracted and stored together within a poll.
const FEEDS_PER_ROUND: usize = 100;

/// How long a claimed feed is this follower's to poll. Renewed every third of it while its
/// round runs, so a slow round keeps its feeds and a killed follower's are free again soon.
const FEED_LEASE: std::time::Duration = std::time::Duration::from_secs(120);

/// Times a round's articles are taken again after another writer committed first.
const INGEST_ATTEMPTS: u32 = 8;

/// What one poll did.
#[derive(Debug, Default, Serialize)]
pub struct PollReport {
    pub feeds: Vec<FeedOutcome>,
    /// Items met for the first time, and stored (or refused by the pipeline, see `ingest`).
    pub new_items: usize,
    /// Items whose content changed since they were stored: kept as updates.
    pub updated_items: usize,
    /// Items already stored, unchanged.
    pub known_items: usize,
    /// Pages fetched for items that carried no full text.
    pub pages_fetched: usize,
    /// What the pipeline did with the articles.
    pub ingest: IngestReport,
    /// Articles queued for `storyline worker`s instead (a follower that queues).
    pub queued: usize,
    /// Feeds left alone because another follower or worker holds them (`Which::All`).
    pub leased_elsewhere: Vec<FeedLease>,
    /// Every feed or item that failed, with the reason.
    pub failures: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct FeedOutcome {
    pub url: String,
    /// `fetched`, `not modified` or `failed`.
    pub status: &'static str,
    pub new_items: usize,
    pub updated_items: usize,
    pub next_check: DateTime<Utc>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub feed: String,
    /// The item's link or guid; `None` when the whole feed failed.
    pub item: Option<String>,
    pub reason: String,
}

/// Which feeds a poll visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every followed feed (`--once`), due or not, but those another follower or worker
    /// holds: it is polling them now (or died, and they are free when its lease runs out).
    All,
    /// Every followed feed, taking over other holders' leases: for a follower known dead
    /// (`--once --take-over`), as a follower cannot tell a dead holder from a live one.
    AllTakingOver,
    /// Those whose next check has come and that no other follower of the store holds.
    Due,
}

impl Which {
    fn all(self) -> bool {
        self != Which::Due
    }
}

pub struct Follower {
    fetcher: Arc<Fetcher>,
    clock: Arc<dyn Clock>,
    db: PathBuf,
    pipeline_config: PipelineConfig,
    /// The feed tables' connection; the articles go through a pipeline opened per poll.
    store: Store,
    /// Another writer's turn to share (the server's), when one ingests into the same store.
    writer: Option<Arc<std::sync::Mutex<()>>>,
    /// Every feed checked this often, in place of the schedule that follows how often it
    /// publishes.
    every_secs: Option<i64>,
    /// This follower's name on the feeds it claims.
    holder: String,
    feed_lease: std::time::Duration,
    /// The connection that renews leases while a round runs (the follower's own is busy
    /// with the round).
    lease_store: Arc<std::sync::Mutex<Store>>,
    /// Queue articles for workers instead of ingesting them.
    queue: bool,
}

/// A feed's fetch, as the concurrent stage hands it back.
struct FeedFetch {
    row: FeedRow,
    result: Result<Option<(storyline::follow::FeedDoc, Validators)>, FetchError>,
    parse_error: Option<String>,
}

/// An item to store.
struct Pending {
    feed: String,
    source: Option<String>,
    item: FeedItem,
    article_id: String,
    version: u32,
    update_of: Option<String>,
}

impl Follower {
    /// A follower of the feeds followed in the store at `db` (created on first use).
    pub fn open(
        db: &Path,
        pipeline_config: PipelineConfig,
        config: ClientConfig,
        clock: Arc<dyn Clock>,
    ) -> storyline::Result<Follower> {
        // Turns at a host are taken in the store, so followers sharing it (several
        // `follow`s, a server's) keep to one per-host limit together.
        let slots = Arc::new(StoreHostSlots::open(db)?);
        let fetcher = Fetcher::new(config)
            .map_err(|e| storyline::Error::Invalid(e.to_string()))?
            .with_shared_slots(slots);
        Ok(Follower {
            fetcher: Arc::new(fetcher),
            clock,
            db: db.to_path_buf(),
            pipeline_config,
            store: Store::open(db)?,
            writer: None,
            every_secs: None,
            holder: holder_name("follow"),
            feed_lease: FEED_LEASE,
            lease_store: Arc::new(std::sync::Mutex::new(Store::open(db)?)),
            queue: false,
        })
    }

    /// Leases claimed feeds for this long (by the follower's clock; at least a second) before
    /// another follower may take them over, renewed while their round runs.
    pub fn with_feed_lease(mut self, lease: std::time::Duration) -> Follower {
        self.feed_lease = lease.max(std::time::Duration::from_secs(1));
        self
    }

    /// Queues a round's articles as "analyse" jobs (a PostgreSQL store's queue) instead of
    /// ingesting them: `storyline worker` polls feeds this way, so that what it brings is
    /// placed by the one clusterer in queue order, as everything else queued is. Each item
    /// is remembered with its job, and forgotten if the job fails for good (retried at the
    /// next polls, a few times).
    pub fn with_queue(mut self) -> Follower {
        self.queue = true;
        self
    }

    /// Names this follower's leases `prefix-…` (a worker's read `worker-…`).
    pub fn with_holder_prefix(mut self, prefix: &str) -> Follower {
        self.holder = holder_name(prefix);
        self
    }

    fn lease_until(&self) -> DateTime<Utc> {
        self.clock.now()
            + chrono::Duration::from_std(self.feed_lease).unwrap_or(chrono::Duration::MAX)
    }

    /// Ingests only while holding `lock`, with a pipeline restored under it, so another
    /// writer in the process that holds the same lock never writes at the same time.
    pub fn with_writer_lock(mut self, lock: Arc<std::sync::Mutex<()>>) -> Follower {
        self.writer = Some(lock);
        self
    }

    /// Checks every feed every `secs` seconds (at least 1) after a good poll, in place of
    /// the schedule that follows how often a feed publishes (10 minutes to 6 hours): for
    /// one's own feeds, and for tests, which cannot wait ten minutes. Failures still back off.
    pub fn with_fixed_interval(mut self, secs: u64) -> Follower {
        self.every_secs = Some(secs.clamp(1, i64::MAX as u64) as i64);
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// When the next feed falls due (`None`: no feed is followed); a feed another follower
    /// holds, not before its lease runs out.
    pub fn next_due(&self) -> storyline::Result<Option<DateTime<Utc>>> {
        tokio::task::block_in_place(|| self.store.next_feed_due(self.clock.now()))
    }

    /// The feeds another follower or worker held at `at` and has not freed since: it polls
    /// them (or died, and they are free when its lease runs out). Asked with the time a
    /// claim was made, it names every feed the claim left alone for its holder, even one
    /// whose lease has run out since.
    pub fn leased_elsewhere(&self, at: DateTime<Utc>) -> storyline::Result<Vec<FeedLease>> {
        let leases = tokio::task::block_in_place(|| self.store.feed_leases(at))?;
        Ok(leases
            .into_iter()
            .filter(|l| l.holder != self.holder)
            .collect())
    }

    /// Polls the feeds `which` names once. Fails only when the store fails; a feed or an
    /// item that fails is named in the report and tried again later.
    ///
    /// Feeds are claimed in the store (leased to this follower) a round at a time before
    /// they are fetched, so followers sharing the store split the due feeds between them
    /// and none is polled twice; a follower that dies mid-poll leaves its feeds to be
    /// claimed again when their lease runs out.
    pub async fn poll(&mut self, which: Which) -> storyline::Result<PollReport> {
        let now = self.clock.now();
        let mut report = PollReport::default();
        let mut this_poll: HashSet<String> = HashSet::new();
        let mut pipeline = None;
        // Address order, from after the last feed of the previous round: a feed polled in
        // this poll is not claimed again by it (`Which::All` ignores the schedule).
        let all = which.all();
        let mut after: Option<String> = None;
        // A round of feeds at a time, each stored before the next is fetched: memory stays
        // bounded by a round, and a stop between rounds loses nothing.
        loop {
            let claim = FeedClaim {
                holder: &self.holder,
                due_by: (!all).then_some(now),
                after: after.as_deref(),
                now: self.clock.now(),
                until: self.lease_until(),
                limit: FEEDS_PER_ROUND,
                take_over: which == Which::AllTakingOver,
            };
            let round = tokio::task::block_in_place(|| self.store.claim_feeds(&claim))?;
            let Some(last) = round.last() else {
                break;
            };
            after = Some(last.url.clone());
            self.poll_round(round, now, &mut report, &mut this_poll, &mut pipeline)
                .await?;
        }
        if which == Which::All {
            report.leased_elsewhere = self
                .leased_elsewhere(self.clock.now())?
                .into_iter()
                .filter(|l| !report.feeds.iter().any(|f| f.url == l.url))
                .collect();
        }
        Ok(report)
    }

    /// Renews this follower's leases on `feeds` every third of a lease until the returned
    /// guard is dropped (the round is recorded, or given up).
    fn keep_leases(&self, feeds: Vec<String>) -> AbortOnDrop {
        let store = self.lease_store.clone();
        let holder = self.holder.clone();
        let clock = self.clock.clone();
        let lease = self.feed_lease;
        let feeds = Arc::new(feeds);
        AbortOnDrop(tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease / 3).await;
                let (store, holder, clock, feeds) =
                    (store.clone(), holder.clone(), clock.clone(), feeds.clone());
                let renewed = tokio::task::spawn_blocking(move || {
                    let until = clock.now()
                        + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
                    let store = store.lock().unwrap_or_else(|p| p.into_inner());
                    store.renew_feed_leases(&holder, &feeds, until)
                })
                .await;
                // A renewal that fails leaves the lease to run out: at worst another
                // follower polls the feeds again, and stores nothing twice.
                if let Ok(Err(e)) = renewed {
                    tracing::warn!("could not renew feed leases: {e}");
                }
            }
        }))
    }

    async fn poll_round(
        &self,
        feeds: Vec<FeedRow>,
        now: DateTime<Utc>,
        report: &mut PollReport,
        this_poll: &mut HashSet<String>,
        pipeline: &mut Option<Pipeline>,
    ) -> storyline::Result<()> {
        let _leases = self.keep_leases(feeds.iter().map(|f| f.url.clone()).collect());
        let fetches = self.fetch_feeds(feeds).await;
        // The store's client blocks: off the async workers (PostgreSQL's sync client may not
        // even run on one).
        let pending =
            tokio::task::block_in_place(|| self.pending_items(&fetches, report, this_poll))?;
        let (records, taken) = self.articles(pending, report).await;
        let ingest = if records.is_empty() {
            IngestReport::default()
        } else if self.queue {
            // Each item remembered with its job, in the job's transaction: a job that fails
            // for good forgets its item, so the item must not be remembered after it.
            let items = self.remembered(&taken);
            let queued = tokio::task::block_in_place(|| {
                storyline::pipeline::enqueue_feed_items(
                    &self.store,
                    &records,
                    &items,
                    &self.pipeline_config,
                )
            })?;
            report.queued += queued.queued;
            IngestReport {
                errors: queued.errors,
                ..IngestReport::default()
            }
        } else {
            tokio::task::block_in_place(|| self.ingest(&records, pipeline))?
        };
        for e in &ingest.errors {
            report.failures.push(Failure {
                feed: e.split(": ").next().unwrap_or("").to_string(),
                item: None,
                reason: e.clone(),
            });
        }
        // Rounds run one after another, so their times add up.
        report.ingest.seconds += ingest.seconds;
        report.ingest.absorb(ingest);
        tokio::task::block_in_place(|| self.record_round(fetches, &taken, now, report))
    }

    /// Stores a round's articles. Another writer (a follower on another machine, an ingest)
    /// may commit after the pipeline was restored: the batch is then refused whole and taken
    /// again by a pipeline restored after it, which knows what is stored already by id.
    fn ingest(
        &self,
        records: &[Record],
        pipeline: &mut Option<Pipeline>,
    ) -> storyline::Result<IngestReport> {
        let mut attempts = 0;
        loop {
            let records = records.iter().cloned().map(Ok);
            let done = if let Some(lock) = &self.writer {
                // Restored under the lock, after whatever the other writer committed.
                let _turn = lock.lock().unwrap_or_else(|p| p.into_inner());
                Pipeline::open(&self.db, self.pipeline_config.clone())?.ingest(records, |_| {})
            } else {
                // A pipeline per poll, restored from the store: a long-lived one would miss
                // what another writer (`storyline ingest`, the server) stored meanwhile.
                let p = match pipeline {
                    Some(p) => p,
                    None => {
                        pipeline.insert(Pipeline::open(&self.db, self.pipeline_config.clone())?)
                    }
                };
                p.ingest(records, |_| {})
            };
            match done {
                Err(storyline::Error::WrittenMeanwhile { .. }) if attempts < INGEST_ATTEMPTS => {
                    attempts += 1;
                    *pipeline = None;
                }
                done => return done,
            }
        }
    }

    /// The items of a round's fetched feeds that are new or changed, in feed order; known
    /// ones counted in `report`.
    fn pending_items(
        &self,
        fetches: &[FeedFetch],
        report: &mut PollReport,
        this_poll: &mut HashSet<String>,
    ) -> storyline::Result<Vec<Pending>> {
        let mut pending = Vec::new();
        let store = &self.store;
        for f in fetches {
            let Ok(Some((doc, _))) = &f.result else {
                continue;
            };
            if f.parse_error.is_some() {
                continue;
            }
            let source = doc
                .title
                .clone()
                .or_else(|| f.row.title.clone())
                .or_else(|| host_of(doc.site.as_deref().unwrap_or(&f.row.url)));
            for (i, item) in doc.items.iter().enumerate() {
                let Some(key) = item.key() else {
                    report.failures.push(Failure {
                        feed: f.row.url.clone(),
                        item: Some(format!("item {}", i + 1)),
                        reason: "has neither a guid nor a link".into(),
                    });
                    continue;
                };
                let base = article_id(&f.row.url, item);
                // The same item twice in this poll (two feeds carry it): once is enough. A
                // link names an item only when it has no guid: some feeds give every item
                // the same link.
                let mut names = vec![base.clone(), key.to_string()];
                if item.guid.is_none() {
                    names.extend(item.link.clone());
                }
                if names.iter().any(|n| this_poll.contains(n)) {
                    report.known_items += 1;
                    continue;
                }
                this_poll.extend(names);
                let seen = store.seen_item(item.guid.as_deref(), item.link.as_deref())?;
                let (article_id, version, update_of) = match seen {
                    // Same guid, or same link and same words (a feed that renamed its
                    // guids): known.
                    Some(s) if s.content_hash == item.content_hash => {
                        if let Some(guid) = item
                            .guid
                            .as_deref()
                            .filter(|g| s.guid.as_deref() != Some(*g))
                        {
                            store.rename_item_guid(&s.article_id, guid)?;
                        }
                        report.known_items += 1;
                        continue;
                    }
                    // Other words under another guid at the same link: another item (a feed
                    // that gives every item its front page as link), not an update.
                    Some(s) if item.guid.is_some() && s.guid != item.guid => (base, 1, None),
                    Some(s) => {
                        let base = s.article_id.split("#v").next().unwrap_or(&s.article_id);
                        let version = s.version + 1;
                        (format!("{base}#v{version}"), version, Some(s.article_id))
                    }
                    None => (base, 1, None),
                };
                pending.push(Pending {
                    feed: f.row.url.clone(),
                    source: source.clone(),
                    item: item.clone(),
                    article_id,
                    version,
                    update_of,
                });
            }
        }
        Ok(pending)
    }

    /// The items `taken`, as the store remembers them.
    fn remembered(&self, taken: &[(Pending, Option<String>)]) -> Vec<NewFeedItem> {
        let seen_at = self.clock.now();
        taken
            .iter()
            .map(|(p, url)| NewFeedItem {
                article_id: p.article_id.clone(),
                feed_url: p.feed.clone(),
                guid: p.item.guid.clone(),
                link: p.item.link.clone(),
                url: url.clone(),
                content_hash: p.item.content_hash.clone(),
                version: p.version,
                update_of: p.update_of.clone(),
                seen: seen_at,
            })
            .collect()
    }

    /// Remembers the items `taken` (queued ones were, with their jobs), then records each
    /// feed's poll (which frees its lease).
    fn record_round(
        &self,
        fetches: Vec<FeedFetch>,
        taken: &[(Pending, Option<String>)],
        now: DateTime<Utc>,
        report: &mut PollReport,
    ) -> storyline::Result<()> {
        let store = &self.store;
        if !self.queue {
            store.mark_items_seen(&self.remembered(taken))?;
        }
        for f in fetches {
            let url = f.row.url.clone();
            let (new, updated) =
                taken
                    .iter()
                    .filter(|(p, _)| p.feed == url)
                    .fold((0, 0), |(n, u), (p, _)| {
                        if p.update_of.is_some() {
                            (n, u + 1)
                        } else {
                            (n + 1, u)
                        }
                    });
            report.new_items += new;
            report.updated_items += updated;
            let failure = match (&f.result, &f.parse_error) {
                (Err(e), _) => Some((e.to_string(), e.retry_after_secs())),
                (Ok(_), Some(p)) => Some((p.clone(), None)),
                _ => None,
            };
            let outcome = match failure {
                Some((reason, retry_after)) => {
                    let next = next_after_failure(
                        &url,
                        now,
                        f.row.failures.saturating_add(1),
                        retry_after,
                    );
                    store.record_feed_failure(&url, now, next, &reason)?;
                    report.failures.push(Failure {
                        feed: url.clone(),
                        item: None,
                        reason: reason.clone(),
                    });
                    FeedOutcome {
                        url,
                        status: "failed",
                        new_items: 0,
                        updated_items: 0,
                        next_check: next,
                        error: Some(reason),
                    }
                }
                None => {
                    let (next, interval) = match self.every_secs {
                        Some(every) => (now + chrono::Duration::seconds(every), every),
                        None => {
                            next_after_success(&url, now, f.row.interval_secs, new + updated > 0)
                        }
                    };
                    let (doc, validators) = match f.result {
                        Ok(Some((doc, v))) => (Some(doc), v),
                        _ => (None, Validators::default()),
                    };
                    store.record_feed_success(
                        &url,
                        &FeedSuccess {
                            title: doc.as_ref().and_then(|d| d.title.clone()),
                            site: doc.as_ref().and_then(|d| d.site.clone()),
                            etag: validators.etag,
                            last_modified: validators.last_modified,
                            fetched: Some(now),
                            next_check: Some(next),
                            interval_secs: Some(interval),
                            new_item_at: (new + updated > 0).then_some(now),
                            forgotten: Some(f.row.forgotten),
                        },
                    )?;
                    FeedOutcome {
                        url,
                        status: if doc.is_some() {
                            "fetched"
                        } else {
                            "not modified"
                        },
                        new_items: new,
                        updated_items: updated,
                        next_check: next,
                        error: None,
                    }
                }
            };
            report.feeds.push(outcome);
        }
        Ok(())
    }

    async fn fetch_feeds(&self, feeds: Vec<FeedRow>) -> Vec<FeedFetch> {
        let gate = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut tasks = JoinSet::new();
        for (i, row) in feeds.into_iter().enumerate() {
            let fetcher = self.fetcher.clone();
            let gate = gate.clone();
            tasks.spawn(async move {
                let _turn = gate.acquire_owned().await;
                let validators = Validators {
                    etag: row.etag.clone(),
                    last_modified: row.last_modified.clone(),
                };
                let fetched = fetcher.get(&row.url, Some(&validators), FEED_LIMIT).await;
                let mut parse_error = None;
                let result = fetched.map(|f| match f {
                    Fetched::NotModified => None,
                    Fetched::Body(body) => match parse_feed(&body.bytes, &row.url) {
                        Ok(doc) => Some((doc, body.validators)),
                        Err(e) => {
                            parse_error = Some(e.to_string());
                            None
                        }
                    },
                });
                (
                    i,
                    FeedFetch {
                        row,
                        result,
                        parse_error,
                    },
                )
            });
        }
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Ok(f) = done {
                out.push(f);
            }
        }
        out.sort_by_key(|(i, _)| *i);
        out.into_iter().map(|(_, f)| f).collect()
    }

    /// The articles of the pending items, fetching pages where needed; with each item taken,
    /// the address its article was found at. Items whose page failed are left out (named in
    /// the report) and tried again at the next poll.
    async fn articles(
        &self,
        pending: Vec<Pending>,
        report: &mut PollReport,
    ) -> (Vec<Record>, Vec<(Pending, Option<String>)>) {
        let robots = Arc::new(RobotsCache::default());
        let gate = Arc::new(Semaphore::new(IN_FLIGHT));
        let mut tasks = JoinSet::new();
        for (i, p) in pending.into_iter().enumerate() {
            let fetcher = self.fetcher.clone();
            let robots = robots.clone();
            let gate = gate.clone();
            tasks.spawn(async move {
                let _turn = gate.acquire_owned().await;
                let out = article_for(&fetcher, &robots, &p).await;
                (i, p, out)
            });
        }
        let mut done = Vec::new();
        while let Some(r) = tasks.join_next().await {
            if let Ok(r) = r {
                done.push(r);
            }
        }
        done.sort_by_key(|(i, _, _)| *i);
        let mut records = Vec::new();
        let mut taken = Vec::new();
        for (_, p, out) in done {
            match out {
                Ok((article, fetched_page)) => {
                    report.pages_fetched += usize::from(fetched_page);
                    let url = article.url.clone();
                    records.push(Record {
                        article,
                        origin: Location {
                            path: PathBuf::from(&p.feed),
                            line: None,
                        },
                        warnings: Vec::new(),
                    });
                    taken.push((p, url));
                }
                Err(reason) => report.failures.push(Failure {
                    feed: p.feed.clone(),
                    item: p.item.link.clone().or(p.item.guid.clone()),
                    reason,
                }),
            }
        }
        (records, taken)
    }
}

/// The article for an item: its own full text, or the extracted text of its page; with
/// whether a page was fetched.
async fn article_for(
    fetcher: &Fetcher,
    robots: &RobotsCache,
    p: &Pending,
) -> Result<(Article, bool), String> {
    let item = &p.item;
    let from_item = |text: String, url: Option<String>| Article {
        id: p.article_id.clone(),
        title: item.title.clone(),
        source: p.source.clone(),
        url,
        published: item.published,
        lang: item.lang.clone(),
        text,
    };
    if let Some(text) = &item.full_text {
        return Ok((from_item(text.clone(), item.link.clone()), false));
    }
    let Some(link) = &item.link else {
        // Nothing to fetch: the item's own words are all there is.
        let text = item
            .summary
            .clone()
            .or(item.title.clone())
            .ok_or("has no text and no link")?;
        return Ok((from_item(text, None), false));
    };
    robots.check(fetcher, link).await?;
    let body = match fetcher.get(link, None, PAGE_LIMIT).await {
        Ok(Fetched::Body(b)) => b,
        Ok(Fetched::NotModified) => return Err("page: unexpected 304".into()),
        Err(e) => return Err(format!("page: {e}")),
    };
    let id = p.article_id.clone();
    let page = tokio::task::spawn_blocking(move || {
        extract_page(&body.bytes, &id).map(|a| (a, body.final_url))
    })
    .await
    .map_err(|e| format!("page extraction stopped: {e}"))?
    .map_err(|e| format!("page: {e}"))?;
    let (page, final_url) = page;
    Ok((
        Article {
            id: p.article_id.clone(),
            title: item.title.clone().or(page.title),
            source: p.source.clone().or(page.source),
            url: Some(final_url),
            published: item.published.or(page.published),
            lang: item.lang.clone().or(page.lang),
            text: page.text,
        },
        true,
    ))
}

/// The stored id of an item's article: a guid that names itself globally (a URL, a URN, a
/// tag URI) as it is; a local guid ("1234") qualified by its feed; else the link.
fn article_id(feed_url: &str, item: &FeedItem) -> String {
    match (&item.guid, &item.link) {
        (Some(g), _) if g.contains("://") || g.starts_with("urn:") || g.starts_with("tag:") => {
            g.clone()
        }
        (Some(g), _) => format!("{feed_url}#{g}"),
        (None, Some(link)) => link.clone(),
        (None, None) => String::new(),
    }
}

/// Stops a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A name for this follower's feed leases, unique among the followers of a store: the
/// process and the moment the follower was made.
fn holder_name(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{prefix}-{}-{nanos:x}", std::process::id())
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|u| {
        u.host_str()
            .map(|h| h.trim_start_matches("www.").to_string())
    })
}

/// The store's host slots, on a connection of their own (the follower's is busy with a
/// poll's bookkeeping when a request wants a turn).
pub struct StoreHostSlots(std::sync::Mutex<Store>);

impl StoreHostSlots {
    pub fn open(db: &Path) -> storyline::Result<StoreHostSlots> {
        Ok(StoreHostSlots(std::sync::Mutex::new(Store::open(db)?)))
    }
}

impl SharedHostSlots for StoreHostSlots {
    fn take(
        &self,
        host: &str,
        limit: u32,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<u32>, String> {
        // Leases are real time between processes, not the follower's (injectable) clock.
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let store = self.0.lock().unwrap_or_else(|p| p.into_inner());
        store
            .take_host_slot(host, limit, holder, now, until)
            .map_err(|e| e.to_string())
    }

    fn release(&self, host: &str, slot: u32, holder: &str) {
        let store = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // A release that fails leaves the lease to run out: the host waits, nothing is lost.
        if let Err(e) = store.release_host_slot(host, slot, holder) {
            tracing::warn!("could not free a turn at {host}: {e}");
        }
    }
}
