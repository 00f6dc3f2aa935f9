//! Followed feeds and the items taken from them, on PostgreSQL (SQLite's `feeds`).

use chrono::{DateTime, Utc};
use postgres::Row;

use super::reads::count;
use super::PgStore;
use crate::error::Result;
use crate::store::codec::{time_from_sql, time_to_sql};
use crate::store::feeds::{due_at, leases};
use crate::store::{FeedClaim, FeedLease, FeedRow, FeedSuccess, NewFeedItem, SeenItem};

type PgResult<T> = std::result::Result<T, postgres::Error>;

const FEED_COLUMNS: &str =
    "url, title, site, etag, last_modified, added, next_check, interval_secs,
    last_fetch, last_new_item, failures, last_error,
    (SELECT count(*) FROM feed_items i WHERE i.feed_url = feeds.url), forgotten";

fn feed_row(r: &Row) -> PgResult<FeedRow> {
    Ok(FeedRow {
        url: r.try_get(0)?,
        title: r.try_get(1)?,
        site: r.try_get(2)?,
        etag: r.try_get(3)?,
        last_modified: r.try_get(4)?,
        added: time_from_sql(r.try_get(5)?),
        next_check: time_from_sql(r.try_get(6)?),
        interval_secs: r.try_get(7)?,
        last_fetch: time_from_sql(r.try_get(8)?),
        last_new_item: time_from_sql(r.try_get(9)?),
        failures: r.try_get::<_, i64>(10)?.clamp(0, i64::from(u32::MAX)) as u32,
        last_error: r.try_get(11)?,
        items: count(r.try_get(12)?),
        forgotten: count(r.try_get(13)?),
    })
}

impl PgStore {
    fn execute(&self, sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) -> Result<u64> {
        self.c().execute(sql, params).map_err(|e| self.e(e))
    }

    pub fn add_feed(&self, url: &str, title: Option<&str>, now: DateTime<Utc>) -> Result<bool> {
        let n = self.execute(
            "INSERT INTO feeds(url, title, added) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&url, &title, &time_to_sql(Some(now))],
        )?;
        Ok(n > 0)
    }

    pub fn remove_feed(&self, url: &str) -> Result<bool> {
        Ok(self.execute("DELETE FROM feeds WHERE url = $1", &[&url])? > 0)
    }

    pub fn feeds(&self) -> Result<Vec<FeedRow>> {
        self.rows(
            &format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY added, url"),
            &[],
            feed_row,
        )
    }

    pub fn feed(&self, url: &str) -> Result<Option<FeedRow>> {
        self.row(
            &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = $1"),
            &[&url],
            feed_row,
        )
    }

    pub fn record_feed_success(&self, url: &str, s: &FeedSuccess) -> Result<()> {
        self.execute(
            "UPDATE feeds SET title = coalesce($2, title), site = coalesce($3, site),
                etag = CASE WHEN $10::bigint IS NULL OR forgotten = $10
                    THEN coalesce($4, etag) ELSE etag END,
                last_modified = CASE WHEN $10::bigint IS NULL OR forgotten = $10
                    THEN coalesce($5, last_modified) ELSE last_modified END,
                last_fetch = $6, next_check = $7, interval_secs = $8,
                last_new_item = coalesce($9, last_new_item),
                failures = 0, last_error = NULL, lease_holder = NULL, lease_until = NULL
             WHERE url = $1",
            &[
                &url,
                &s.title,
                &s.site,
                &s.etag,
                &s.last_modified,
                &time_to_sql(s.fetched),
                &time_to_sql(s.next_check),
                &s.interval_secs,
                &time_to_sql(s.new_item_at),
                &s.forgotten.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
            ],
        )?;
        Ok(())
    }

    pub fn record_feed_failure(
        &self,
        url: &str,
        at: DateTime<Utc>,
        next_check: DateTime<Utc>,
        error: &str,
    ) -> Result<()> {
        self.execute(
            "UPDATE feeds SET failures = failures + 1, last_error = $2, last_fetch = $3,
                next_check = $4, lease_holder = NULL, lease_until = NULL
             WHERE url = $1",
            &[
                &url,
                &error,
                &time_to_sql(Some(at)),
                &time_to_sql(Some(next_check)),
            ],
        )?;
        Ok(())
    }

    pub fn claim_feeds(&self, c: &FeedClaim<'_>) -> Result<Vec<FeedRow>> {
        self.write(|| {
            // `SKIP LOCKED`: a feed another follower is claiming this instant is left to it,
            // not waited for; the outer condition is checked again on the locked row.
            let claimed = self.rows(
                "UPDATE feeds SET lease_holder = $1, lease_until = $2
                 WHERE url IN (SELECT url FROM feeds
                     WHERE ($3::text IS NULL OR next_check IS NULL OR next_check <= $3)
                       AND ($7 OR lease_until IS NULL OR lease_until < $4)
                       AND ($5::text IS NULL OR url > $5)
                     ORDER BY url LIMIT $6
                     FOR UPDATE SKIP LOCKED)
                   AND ($7 OR lease_until IS NULL OR lease_until < $4)
                 RETURNING url",
                &[
                    &c.holder,
                    &c.until.timestamp_millis(),
                    &time_to_sql(c.due_by),
                    &c.now.timestamp_millis(),
                    &c.after,
                    &(c.limit.min(i64::MAX as usize) as i64),
                    &c.take_over,
                ],
                |r| r.try_get::<_, String>(0),
            )?;
            if claimed.is_empty() {
                return Ok(Vec::new());
            }
            self.rows(
                &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE url = ANY($1) ORDER BY url"),
                &[&claimed],
                feed_row,
            )
        })
    }

    pub fn renew_feed_leases(
        &self,
        holder: &str,
        urls: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64> {
        self.execute(
            "UPDATE feeds SET lease_until = $3 WHERE url = ANY($1) AND lease_holder = $2",
            &[&urls, &holder, &until.timestamp_millis()],
        )
    }

    pub fn feed_leases(&self, now: DateTime<Utc>) -> Result<Vec<FeedLease>> {
        let rows = self.rows(
            "SELECT url, lease_holder, lease_until FROM feeds
             WHERE lease_holder IS NOT NULL AND lease_until >= $1 ORDER BY url",
            &[&now.timestamp_millis()],
            |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
        )?;
        Ok(leases(rows))
    }

    pub fn next_feed_due(&self, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
        let due = self.rows("SELECT next_check, lease_until FROM feeds", &[], |r| {
            Ok(due_at(time_from_sql(r.try_get(0)?), r.try_get(1)?, now))
        })?;
        Ok(due.into_iter().min())
    }

    /// As on SQLite; `seen_order` stands in for SQLite's rowid (insertion order).
    pub fn seen_item(&self, guid: Option<&str>, link: Option<&str>) -> Result<Option<SeenItem>> {
        self.row(
            "SELECT article_id, guid, content_hash, version FROM feed_items
             WHERE ($1::text IS NOT NULL AND guid = $1)
                OR ($2::text IS NOT NULL AND (link = $2 OR url = $2))
             ORDER BY ($1::text IS NOT NULL AND guid = $1) DESC, version DESC, seen_order DESC
             LIMIT 1",
            &[&guid, &link],
            |r| {
                Ok(SeenItem {
                    article_id: r.try_get(0)?,
                    guid: r.try_get(1)?,
                    content_hash: r.try_get(2)?,
                    version: r.try_get::<_, i64>(3)?.clamp(0, i64::from(u32::MAX)) as u32,
                })
            },
        )
    }

    pub fn mark_items_seen(&self, items: &[NewFeedItem]) -> Result<()> {
        self.write(|| {
            for i in items {
                self.execute(
                    "INSERT INTO feed_items(article_id, feed_url, guid, link, url,
                        content_hash, version, update_of, seen)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                    &[
                        &i.article_id,
                        &i.feed_url,
                        &i.guid,
                        &i.link,
                        &i.url,
                        &i.content_hash,
                        &i64::from(i.version),
                        &i.update_of,
                        &time_to_sql(Some(i.seen)),
                    ],
                )?;
            }
            Ok(())
        })
    }

    pub fn rename_item_guid(&self, article_id: &str, guid: &str) -> Result<()> {
        self.execute(
            "UPDATE feed_items SET guid = $2 WHERE article_id = $1",
            &[&article_id, &guid],
        )?;
        Ok(())
    }

    pub fn item_update_of(&self, article_id: &str) -> Result<Option<String>> {
        Ok(self
            .row(
                "SELECT update_of FROM feed_items WHERE article_id = $1",
                &[&article_id],
                |r| r.try_get::<_, Option<String>>(0),
            )?
            .flatten())
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
            // One statement: the row lock of `ON CONFLICT … DO UPDATE` lets only one of
            // two racing followers take the slot.
            let n = self.execute(
                "INSERT INTO host_slots(host, slot, holder, until) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (host, slot) DO UPDATE
                     SET holder = excluded.holder, until = excluded.until
                     WHERE host_slots.holder IS NULL OR host_slots.until < $5",
                &[
                    &host,
                    &i64::from(slot),
                    &holder,
                    &until.timestamp_millis(),
                    &now.timestamp_millis(),
                ],
            )?;
            if n > 0 {
                return Ok(Some(slot));
            }
        }
        Ok(None)
    }

    pub fn release_host_slot(&self, host: &str, slot: u32, holder: &str) -> Result<()> {
        self.execute(
            "UPDATE host_slots SET holder = NULL, until = NULL
             WHERE host = $1 AND slot = $2 AND holder = $3",
            &[&host, &i64::from(slot), &holder],
        )?;
        Ok(())
    }
}
