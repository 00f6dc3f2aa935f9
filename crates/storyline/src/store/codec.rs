//! The snapshot codec: the clusterer's [`Snapshot`] read from the rows of `vocab`,
//! `events`, `stories` and `meta`, and the encodings its [`ChangeSet`] is written in
//! (see `writes`); times and the binary columns.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::Connection;

use super::SqliteStore;
use crate::cluster::{EventSnapshot, Snapshot, StorySnapshot, TermId};
use crate::core::{Article, ArticleId, EventId, StoryId};
use crate::error::Result;

/// Ids are stored as SQLite integers, as they are.
macro_rules! sql_row_id {
    ($($name:ident),*) => {$(
        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(self.0.into())
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(value).map($name)
            }
        }
    )*};
}

sql_row_id!(ArticleId, EventId, StoryId);

pub(super) fn time_to_sql(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(super) fn time_from_sql(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// An article from the columns `ext_id, title, source, url, published, lang, text` of a
/// row, in that order from column `first` on: one place that knows how they decode.
pub(super) fn article_at(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<Article> {
    Ok(Article {
        id: r.get(first)?,
        title: r.get(first + 1)?,
        source: r.get(first + 2)?,
        url: r.get(first + 3)?,
        published: time_from_sql(r.get(first + 4)?),
        lang: r.get(first + 5)?,
        text: r.get(first + 6)?,
    })
}

/// Centroid weights (by term id) as stored: `(term id u32, weight f32)` pairs,
/// little-endian.
pub(super) fn weights_to_bytes(weights: &[(TermId, f32)]) -> Vec<u8> {
    pairs_to_bytes(weights, |&(id, w)| (id.to_le_bytes(), w.to_le_bytes()))
}

pub(super) fn weights_from_bytes(bytes: &[u8]) -> Vec<(TermId, f32)> {
    pairs_from_bytes(bytes, |id, w| {
        (u32::from_le_bytes(id), f32::from_le_bytes(w))
    })
    .collect()
}

/// Term ids as stored (a story's index terms): little-endian u32s, in order.
pub(super) fn term_ids_to_bytes(ids: &[TermId]) -> Vec<u8> {
    ids.iter().flat_map(|id| id.to_le_bytes()).collect()
}

pub(super) fn term_ids_from_bytes(bytes: &[u8]) -> Vec<TermId> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// `(term id, increment)` pairs as little-endian u32 pairs, the layout of `vocab_pending`.
pub(super) fn increments_to_bytes(increments: &[(u32, u32)]) -> Vec<u8> {
    pairs_to_bytes(increments, |&(id, n)| (id.to_le_bytes(), n.to_le_bytes()))
}

pub(super) fn increments_from_bytes(bytes: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    pairs_from_bytes(bytes, |id, n| {
        (u32::from_le_bytes(id), u32::from_le_bytes(n))
    })
}

/// Pairs of 4-byte values, one after the other.
fn pairs_to_bytes<T>(pairs: &[T], bytes: impl Fn(&T) -> ([u8; 4], [u8; 4])) -> Vec<u8> {
    let mut out = Vec::with_capacity(pairs.len() * 8);
    for p in pairs {
        let (a, b) = bytes(p);
        out.extend_from_slice(&a);
        out.extend_from_slice(&b);
    }
    out
}

/// The pairs [`pairs_to_bytes`] wrote (a trailing partial pair is ignored).
fn pairs_from_bytes<'a, T: 'a>(
    bytes: &'a [u8],
    pair: fn([u8; 4], [u8; 4]) -> T,
) -> impl Iterator<Item = T> + 'a {
    bytes
        .chunks_exact(8)
        .map(move |c| pair([c[0], c[1], c[2], c[3]], [c[4], c[5], c[6], c[7]]))
}

/// Document-frequency increments logged since the last fold, summed per term id, with the
/// last sweep interval each term was counted in.
pub(super) fn pending_df(conn: &Connection) -> rusqlite::Result<HashMap<u32, (u32, u32)>> {
    let mut stmt = conn.prepare_cached("SELECT increments, sweep FROM vocab_pending")?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, u32>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(sum_pending(rows.iter().map(|(blob, sweep)| {
        (increments_from_bytes(blob), *sweep)
    })))
}

/// Increments `(id, n)` of each pending row, with its sweep, summed per term id (the
/// sweep: the latest).
pub(super) fn sum_pending<I: Iterator<Item = (u32, u32)>>(
    rows: impl Iterator<Item = (I, u32)>,
) -> HashMap<u32, (u32, u32)> {
    let mut sum: HashMap<u32, (u32, u32)> = HashMap::new();
    for (increments, sweep) in rows {
        for (id, inc) in increments {
            let e = sum.entry(id).or_default();
            e.0 += inc;
            e.1 = e.1.max(sweep);
        }
    }
    sum
}

/// An event's entity counts as stored: a JSON object.
pub(super) fn entities_to_sql(e: &EventSnapshot) -> String {
    serde_json::to_string(&e.entities).unwrap_or_else(|_| "{}".into())
}

/// An event's signals as stored: a JSON object.
pub(super) fn signals_to_sql(e: &EventSnapshot) -> String {
    serde_json::to_string(&e.signals).unwrap_or_else(|_| "{}".into())
}

impl SqliteStore {
    /// What the clusterer restores itself from: the live events and stories and the
    /// vocabulary.
    pub fn cluster_snapshot(&self) -> Result<Snapshot> {
        let n_docs: u64 = self
            .meta("n_docs")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let seq: u64 = self.meta("seq")?.and_then(|v| v.parse().ok()).unwrap_or(0);
        let clock = time_from_sql(self.meta("clock")?);
        let terms = terms(&self.conn).map_err(|e| self.e(e))?;
        let sweeps = sweeps(n_docs, |key| self.meta(key))?;
        let events = live_events(&self.conn).map_err(|e| self.e(e))?;
        let stories = live_stories(&self.conn).map_err(|e| self.e(e))?;
        // Kept in `meta` since the clusterer hands them over; before, the highest id + 1
        // (which reuses the id of an event or story merged away last).
        let next = |table: &str, key: &str| -> Result<i64> {
            if let Some(n) = self.meta(key)?.and_then(|v| v.parse().ok()) {
                return Ok(n);
            }
            self.conn
                .query_row(
                    &format!("SELECT coalesce(max(id), 0) + 1 FROM {table}"),
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| self.e(e))
        };
        Ok(Snapshot {
            terms,
            n_docs,
            sweeps,
            events,
            stories,
            next_event: EventId(next("events", "next_event")?),
            next_story: StoryId(next("stories", "next_story")?),
            clock,
            seq,
        })
    }
}

/// Sweeps of idle terms done and the documents counted at the last, from the `meta` values
/// `meta` reads; a store of a build that kept none: none done, counted from `n_docs` (as
/// such stores were restored).
pub(super) fn sweeps(
    n_docs: u64,
    meta: impl Fn(&str) -> Result<Option<String>>,
) -> Result<(u32, u64)> {
    let sweep = meta("vocab_sweep")?.and_then(|v| v.parse().ok());
    let swept_at = meta("vocab_swept_at")?.and_then(|v| v.parse().ok());
    Ok((sweep.unwrap_or(0), swept_at.unwrap_or(n_docs)))
}

/// The remembered vocabulary with its document frequencies, pending increments included.
fn terms(conn: &Connection) -> rusqlite::Result<Vec<(TermId, String, u32, u32)>> {
    let mut rows = conn
        .prepare("SELECT id, term, df, seen FROM vocab")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<Vec<(TermId, String, u32, u32)>>>()?;
    let pending = pending_df(conn)?;
    for (id, _, df, seen) in &mut rows {
        if let Some(&(inc, sweep)) = pending.get(id) {
            *df += inc;
            *seen = (*seen).max(sweep);
        }
    }
    Ok(rows)
}

fn live_events(conn: &Connection) -> rusqlite::Result<Vec<EventSnapshot>> {
    conn.prepare(
        "SELECT id, story_id, first_time, last_time, n_articles, centroid, entities, last_seq,
                signals, centroid_norm, merge_checked_at
         FROM events WHERE live = 1 ORDER BY id",
    )?
    .query_map([], |r| {
        Ok(EventSnapshot {
            id: r.get(0)?,
            story: r.get(1)?,
            first_time: time_from_sql(r.get(2)?),
            last_time: time_from_sql(r.get(3)?),
            n_articles: r.get(4)?,
            centroid: weights_from_bytes(&r.get::<_, Vec<u8>>(5)?),
            entities: serde_json::from_str(&r.get::<_, String>(6)?).unwrap_or_default(),
            last_seq: r.get(7)?,
            signals: serde_json::from_str(&r.get::<_, String>(8)?).unwrap_or_default(),
            centroid_norm: r.get::<_, f64>(9)? as f32,
            merge_checked_at: r.get(10)?,
        })
    })?
    .collect()
}

fn live_stories(conn: &Connection) -> rusqlite::Result<Vec<StorySnapshot>> {
    conn.prepare(
        "SELECT id, first_time, last_time, n_articles, n_events, centroid, last_seq, norm_sum,
                centroid_norm, merge_checked_at, index_terms
         FROM stories WHERE live = 1 ORDER BY id",
    )?
    .query_map([], |r| {
        Ok(StorySnapshot {
            id: r.get(0)?,
            first_time: time_from_sql(r.get(1)?),
            last_time: time_from_sql(r.get(2)?),
            n_articles: r.get(3)?,
            n_events: r.get(4)?,
            centroid: weights_from_bytes(&r.get::<_, Vec<u8>>(5)?),
            last_seq: r.get(6)?,
            norm_sum: r.get::<_, f64>(7)? as f32,
            centroid_norm: r.get::<_, f64>(8)? as f32,
            merge_checked_at: r.get(9)?,
            index_terms: (r.get::<_, Option<Vec<u8>>>(10)?).map(|b| term_ids_from_bytes(&b)),
        })
    })?
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event's signals go through JSON; a restored clusterer goes on exactly as the live
    /// one only if every float comes back bit for bit (serde_json reads an f32 through an
    /// f64, a second rounding).
    #[test]
    fn event_signals_round_trip_bit_for_bit() {
        // A spread of bit patterns over the finite positive and negative floats.
        let floats: Vec<f32> = (0..200_000u32)
            .map(|i| f32::from_bits(i.wrapping_mul(2_654_435_761) & 0xff7f_ffff))
            .filter(|x| x.is_finite())
            .collect();
        let signals = crate::cluster::EventSignals {
            norm_sum: floats[1],
            norm_level: floats[2],
            embedding: Some(floats.clone()),
            // Keys over 2^53 too: JSON numbers would lose them, map keys are strings.
            particulars: Some([(u64::MAX - 1, 3), (7, 1)].into_iter().collect()),
            ..Default::default()
        };
        let e = EventSnapshot {
            id: EventId(1),
            story: StoryId(1),
            first_time: None,
            last_time: None,
            n_articles: 1,
            centroid: Vec::new(),
            entities: Default::default(),
            last_seq: 1,
            signals,
            centroid_norm: 1.0,
            merge_checked_at: 0,
        };
        let back: crate::cluster::EventSignals = serde_json::from_str(&signals_to_sql(&e)).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>();
        assert_eq!(bits(back.embedding.as_deref().unwrap()), bits(&floats));
        assert_eq!(back, e.signals);
    }

    #[test]
    fn centroid_weights_round_trip_through_bytes() {
        let weights: Vec<(TermId, f32)> = vec![(0, 1.5), (3, 0.25), (70_000, 2.0)];
        let bytes = weights_to_bytes(&weights);
        assert_eq!(bytes.len(), 24);
        assert_eq!(weights_from_bytes(&bytes), weights);
    }
}
