//! Followed feeds and the items already taken from them (see `feeds.sql`).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};

use super::{time_from_sql, time_to_sql, SqliteStore};
use crate::error::Result;

/// A followed feed and its health.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FeedRow {
    pub url: String,
    pub title: Option<String>,
    pub site: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub added: Option<DateTime<Utc>>,
    /// When it is due; `None`: at once.
    pub next_check: Option<DateTime<Utc>>,
    pub interval_secs: Option<i64>,
    pub last_fetch: Option<DateTime<Utc>>,
    pub last_new_item: Option<DateTime<Utc>>,
    /// Failed polls in a row (0 after a good one).
    pub failures: u32,
    pub last_error: Option<String>,
    /// Item versions stored from it.
    pub items: u64,
    /// How many of its items have been forgotten after their jobs failed for good
    /// (PostgreSQL's workers; always 0 on SQLite, which has no job queue). A poll hands back
    /// the count it claimed the feed with in [`FeedSuccess::forgotten`].
    #[serde(skip)]
    pub forgotten: u64,
}

/// What a good poll learnt about a feed.
#[derive(Debug, Clone, Default)]
pub struct FeedSuccess {
    pub title: Option<String>,
    pub site: Option<String>,
    /// Validators for the next request; `None` keeps the stored ones (a 304 sends none).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fetched: Option<DateTime<Utc>>,
    pub next_check: Option<DateTime<Utc>>,
    pub interval_secs: Option<i64>,
    /// Set when the poll brought new items.
    pub new_item_at: Option<DateTime<Utc>>,
    /// The feed's [`FeedRow::forgotten`] when the poll claimed it. If an item was forgotten
    /// since, the new validators are not kept: the poll may have read that item as taken
    /// just before it was forgotten, and with them the next poll would be answered "not
    /// modified" and never read it again. `None`: keep them regardless.
    pub forgotten: Option<u64>,
}

/// The newest stored version of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenItem {
    pub article_id: String,
    /// The guid it was stored under, if it had one.
    pub guid: Option<String>,
    pub content_hash: String,
    pub version: u32,
}

/// An item version to remember as taken.
#[derive(Debug, Clone)]
pub struct NewFeedItem {
    pub article_id: String,
    pub feed_url: String,
    pub guid: Option<String>,
    pub link: Option<String>,
    /// The article's address after redirects.
    pub url: Option<String>,
    pub content_hash: String,
    pub version: u32,
    pub update_of: Option<String>,
    pub seen: DateTime<Utc>,
}

/// Which feeds [`Store::claim_feeds`](super::Store::claim_feeds) leases, to whom, and until
/// when.
#[derive(Debug, Clone)]
pub struct FeedClaim<'a> {
    /// Who polls them: one name per follower process.
    pub holder: &'a str,
    /// Only feeds whose next check has come by then; `None`: every feed (`follow --once`).
    pub due_by: Option<DateTime<Utc>>,
    /// Only feeds whose address sorts after this one (the last of the claimer's previous
    /// round), so that one poll visits a feed once.
    pub after: Option<&'a str>,
    /// A lease that ran out before this is free again (its holder died).
    pub now: DateTime<Utc>,
    pub until: DateTime<Utc>,
    /// Feeds claimed at most.
    pub limit: usize,
    /// Takes over the leases of other holders too: `follow --once` polls every feed, and
    /// cannot tell a follower killed mid-poll from one still polling.
    pub take_over: bool,
}

/// A feed another follower holds: it polls the feed until `until` (or dies, and its lease
/// runs out then).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FeedLease {
    pub url: String,
    pub holder: String,
    pub until: DateTime<Utc>,
}

/// When a feed falls due for a claimer at `now`: at its next check, but not before a live
/// lease of another holder runs out (until then that holder polls it, or dies).
pub(super) fn due_at(
    next_check: Option<DateTime<Utc>>,
    lease_until: Option<i64>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let due = next_check.unwrap_or(now);
    match lease_until.and_then(DateTime::from_timestamp_millis) {
        Some(until) if until >= now => due.max(until),
        _ => due,
    }
}

/// Leases as both engines read them: (url, holder, until in epoch milliseconds).
pub(super) fn leases(rows: Vec<(String, String, i64)>) -> Vec<FeedLease> {
    rows.into_iter()
        .filter_map(|(url, holder, until)| {
            Some(FeedLease {
                url,
                holder,
                until: DateTime::from_timestamp_millis(until)?,
            })
        })
        .collect()
}

const FEED_COLUMNS: &str =
    "url, title, site, etag, last_modified, added, next_check, interval_secs,
    last_fetch, last_new_item, failures, last_error,
    (SELECT count(*) FROM feed_items i WHERE i.feed_url = feeds.url)";

fn feed_row(r: &Row<'_>) -> rusqlite::Result<FeedRow> {
    Ok(FeedRow {
        url: r.get(0)?,
        title: r.get(1)?,
        site: r.get(2)?,
        etag: r.get(3)?,
        last_modified: r.get(4)?,
        added: time_from_sql(r.get(5)?),
        next_check: time_from_sql(r.get(6)?),
        interval_secs: r.get(7)?,
        last_fetch: time_from_sql(r.get(8)?),
        last_new_item: time_from_sql(r.get(9)?),
        failures: r.get::<_, i64>(10)?.clamp(0, i64::from(u32::MAX)) as u32,
        last_error: r.get(11)?,
        items: r.get::<_, i64>(12)?.max(0) as u64,
        forgotten: 0,
    })
}

impl SqliteStore {
    /// Follows `url` (due at once); `false` when it was followed already.
    pub fn add_feed(&self, url: &str, title: Option<&str>, now: DateTime<Utc>) -> Result<bool> {
        let n = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO feeds(url, title, added) VALUES (?1, ?2, ?3)",
                params![url, title, time_to_sql(Some(now))],
            )
            .map_err(|e| self.e(e))?;
        Ok(n > 0)
    }

    /// Stops following `url`; what it brought in stays. `false` when it was not followed.
    pub fn remove_feed(&self, url: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM feeds WHERE url = ?1", [url])
            .map_err(|e| self.e(e))?;
        Ok(n > 0)
    }

    /// Every followed feed, in the order they were added.
    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY added, url");
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map([], feed_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        Ok(rows)
    }

    pub fn feed(&self, url: &str) -> Result<Option<FeedRow>> {
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = ?1");
        self.conn
            .query_row(&sql, [url], feed_row)
            .optional()
            .map_err(|e| self.e(e))
    }

    /// Records a good poll: failures reset, validators kept for the next request.
    pub fn record_feed_success(&self, url: &str, s: &FeedSuccess) -> Result<()> {
        self.conn
            .execute(
                "UPDATE feeds SET title = coalesce(?2, title), site = coalesce(?3, site),
                    etag = coalesce(?4, etag), last_modified = coalesce(?5, last_modified),
                    last_fetch = ?6, next_check = ?7, interval_secs = ?8,
                    last_new_item = coalesce(?9, last_new_item),
                    failures = 0, last_error = NULL, lease_holder = NULL, lease_until = NULL
                 WHERE url = ?1",
                params![
                    url,
                    s.title,
                    s.site,
                    s.etag,
                    s.last_modified,
                    time_to_sql(s.fetched),
                    time_to_sql(s.next_check),
                    s.interval_secs,
                    time_to_sql(s.new_item_at),
                ],
            )
            .map_err(|e| self.e(e))?;
        Ok(())
    }

    /// Records a failed poll: one more failure in a row, the reason, and when to try again.
    pub fn record_feed_failure(
        &self,
        url: &str,
        at: DateTime<Utc>,
        next_check: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "UPDATE feeds SET failures = failures + 1, last_error = ?2, last_fetch = ?3,
                    next_check = ?4, lease_holder = NULL, lease_until = NULL
                 WHERE url = ?1",
                params![
                    url,
                    error,
                    time_to_sql(Some(at)),
                    time_to_sql(Some(next_check))
                ],
            )
            .map_err(|e| self.e(e))?;
        Ok(())
    }

    pub fn claim_feeds(&self, c: &FeedClaim<'_>) -> Result<Vec<FeedRow>> {
        // An immediate transaction takes the write lock first: two followers choosing at
        // once cannot both see a feed as free.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.e(e))?;
        let urls: Vec<String> = tx
            .prepare(
                "UPDATE feeds SET lease_holder = ?1, lease_until = ?2
                 WHERE url IN (SELECT url FROM feeds
                     WHERE (?3 IS NULL OR next_check IS NULL OR next_check <= ?3)
                       AND (?7 OR lease_until IS NULL OR lease_until < ?4)
                       AND (?5 IS NULL OR url > ?5)
                     ORDER BY url LIMIT ?6)
                 RETURNING url",
            )
            .and_then(|mut stmt| {
                stmt.query_map(
                    params![
                        c.holder,
                        c.until.timestamp_millis(),
                        time_to_sql(c.due_by),
                        c.now.timestamp_millis(),
                        c.after,
                        c.limit.min(i64::MAX as usize) as i64,
                        c.take_over,
                    ],
                    |r| r.get(0),
                )?
                .collect()
            })
            .map_err(|e| self.e(e))?;
        let sql = format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = ?1");
        let mut rows = Vec::with_capacity(urls.len());
        for url in &urls {
            rows.push(tx.query_row(&sql, [url], feed_row).map_err(|e| self.e(e))?);
        }
        tx.commit().map_err(|e| self.e(e))?;
        rows.sort_by(|a, b| a.url.cmp(&b.url));
        Ok(rows)
    }

    pub fn renew_feed_leases(
        &self,
        holder: &str,
        urls: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.e(e))?;
        let mut n = 0;
        for url in urls {
            n += tx
                .execute(
                    "UPDATE feeds SET lease_until = ?3 WHERE url = ?1 AND lease_holder = ?2",
                    params![url, holder, until.timestamp_millis()],
                )
                .map_err(|e| self.e(e))?;
        }
        tx.commit().map_err(|e| self.e(e))?;
        Ok(n as u64)
    }

    pub fn feed_leases(&self, now: DateTime<Utc>) -> Result<Vec<FeedLease>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT url, lease_holder, lease_until FROM feeds
                 WHERE lease_holder IS NOT NULL AND lease_until >= ?1 ORDER BY url",
            )
            .map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map([now.timestamp_millis()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        Ok(leases(rows))
    }

    pub fn next_feed_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let mut stmt = self
            .conn
            .prepare("SELECT next_check, lease_until FROM feeds")
            .map_err(|e| self.e(e))?;
        let due = stmt
            .query_map([], |r| Ok(due_at(time_from_sql(r.get(0)?), r.get(1)?, now)))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        Ok(due.into_iter().min())
    }

    /// The newest stored version of an item known by this guid or address (as linked, or
    /// where the link led), from any feed.
    pub fn seen_item(&self, guid: Option<&str>, link: Option<&str>) -> Result<Option<SeenItem>> {
        self.conn
            .query_row(
                "SELECT article_id, guid, content_hash, version FROM feed_items
                 WHERE (?1 IS NOT NULL AND guid = ?1)
                    OR (?2 IS NOT NULL AND (link = ?2 OR url = ?2))
                 ORDER BY (?1 IS NOT NULL AND guid = ?1) DESC, version DESC, rowid DESC
                 LIMIT 1",
                params![guid, link],
                |r| {
                    Ok(SeenItem {
                        article_id: r.get(0)?,
                        guid: r.get(1)?,
                        content_hash: r.get(2)?,
                        version: r.get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                    })
                },
            )
            .optional()
            .map_err(|e| self.e(e))
    }

    /// Remembers items as taken, in one transaction. An item remembered already is left
    /// as it was (a poll repeated after a crash).
    pub fn mark_items_seen(&self, items: &[NewFeedItem]) -> Result<()> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.e(e))?;
        {
            let mut insert = tx
                .prepare(
                    "INSERT OR IGNORE INTO feed_items(article_id, feed_url, guid, link, url,
                        content_hash, version, update_of, seen)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(|e| self.e(e))?;
            for i in items {
                insert
                    .execute(params![
                        i.article_id,
                        i.feed_url,
                        i.guid,
                        i.link,
                        i.url,
                        i.content_hash,
                        i64::from(i.version),
                        i.update_of,
                        time_to_sql(Some(i.seen)),
                    ])
                    .map_err(|e| self.e(e))?;
            }
        }
        tx.commit().map_err(|e| self.e(e))
    }

    /// Records that the feed now calls a stored item by another guid, so that a later
    /// change under the new guid is known as an update of it.
    pub fn rename_item_guid(&self, article_id: &str, guid: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE feed_items SET guid = ?2 WHERE article_id = ?1",
                params![article_id, guid],
            )
            .map_err(|e| self.e(e))?;
        Ok(())
    }

    /// The article a stored item version updates, if it is an update.
    pub fn item_update_of(&self, article_id: &str) -> Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT update_of FROM feed_items WHERE article_id = ?1",
                [article_id],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.e(e))
    }

    pub fn take_host_slot(
        &self,
        host: &str,
        limit: u32,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<u32>> {
        for slot in 0..limit.max(1) {
            // One statement: taken only if free or its lease ran out, so two followers
            // racing for a slot cannot both get it.
            let n = self
                .conn
                .execute(
                    "INSERT INTO host_slots(host, slot, holder, until) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(host, slot) DO UPDATE
                         SET holder = excluded.holder, until = excluded.until
                         WHERE host_slots.holder IS NULL OR host_slots.until < ?5",
                    params![
                        host,
                        slot,
                        holder,
                        until.timestamp_millis(),
                        now.timestamp_millis()
                    ],
                )
                .map_err(|e| self.e(e))?;
            if n > 0 {
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }

    pub fn release_host_slot(&self, host: &str, slot: u32, holder: &str) -> Result<()> {
        self.conn
            .execute(
                "UPDATE host_slots SET holder = NULL, until = NULL
                 WHERE host = ?1 AND slot = ?2 AND holder = ?3",
                params![host, slot, holder],
            )
            .map_err(|e| self.e(e))?;
        Ok(())
    }
}
