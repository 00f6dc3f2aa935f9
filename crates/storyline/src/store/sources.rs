//! A story's source list: its articles in date order, read from the narrow
//! `articles_event_order` index (never the article rows, whose text a row walk passes), and
//! stored with the story's report as a list of row ids (with events and copies), so a page of it is a lookup of a
//! few rows however big the story is.

use rusqlite::OptionalExtension;

use super::codec::time_from_sql;
use super::{SourceRow, SqliteStore};
use crate::core::{ArticleId, EventId, StoryId};
use crate::error::{Error, Result};

/// One article of a story as its order needs it: no title, no text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderRow {
    pub row_id: ArticleId,
    pub event: EventId,
    pub duplicate_of: Option<ArticleId>,
    pub dated: bool,
}

/// One entry of a story's stored source list: the article, its event and the source
/// number of the article it copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListedSource {
    pub row_id: ArticleId,
    pub event: EventId,
    /// 1-based, as citations number sources.
    pub copy_of: Option<usize>,
}

/// Bytes of one [`ListedSource`] in a stored list: row id, event id, copy-of number (0:
/// none), little-endian.
const LISTED_BYTES: usize = 8 + 8 + 4;

/// A story's source list as stored with its report.
pub fn encode_sources(list: &[ListedSource]) -> Vec<u8> {
    let mut out = Vec::with_capacity(list.len() * LISTED_BYTES);
    for s in list {
        out.extend_from_slice(&s.row_id.0.to_le_bytes());
        out.extend_from_slice(&s.event.0.to_le_bytes());
        let copy_of = s.copy_of.and_then(|n| u32::try_from(n).ok()).unwrap_or(0);
        out.extend_from_slice(&copy_of.to_le_bytes());
    }
    out
}

/// The inverse of [`encode_sources`]; `None` for a blob whose length is not a whole number
/// of entries.
pub fn decode_sources(blob: &[u8]) -> Option<Vec<ListedSource>> {
    if blob.len() % LISTED_BYTES != 0 {
        return None;
    }
    let int = |b: &[u8]| {
        let mut x = [0u8; 8];
        x.copy_from_slice(b);
        i64::from_le_bytes(x)
    };
    Some(
        blob.chunks_exact(LISTED_BYTES)
            .map(|c| {
                let mut n = [0u8; 4];
                n.copy_from_slice(&c[16..20]);
                let copy_of = u32::from_le_bytes(n) as usize;
                ListedSource {
                    row_id: ArticleId(int(&c[..8])),
                    event: EventId(int(&c[8..16])),
                    copy_of: (copy_of > 0).then_some(copy_of),
                }
            })
            .collect(),
    )
}

/// A stored time ("2024-03-21T09:30:00Z": one format, UTC, seconds) as a number in the same
/// order: its digits. Undated sorts after every date as `u64::MAX`.
pub(super) fn time_key(t: &str) -> u64 {
    t.bytes()
        .filter(u8::is_ascii_digit)
        .take(19)
        .fold(0u64, |k, d| k * 10 + u64::from(d - b'0'))
}

impl SqliteStore {
    /// Every article of a story in date order (undated last, then by ingest order), from
    /// the index alone: the order [`Store::story_articles`] gives. Sorted here, on times
    /// read without a copy, rather than by SQLite, whose sorter took longer than the read.
    pub fn story_order(&self, story: StoryId) -> Result<Vec<OrderRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT a.id, a.event_id, a.duplicate_of, a.published, a.seq
                 FROM events e JOIN articles a INDEXED BY articles_event_order
                   ON a.event_id = e.id
                 WHERE e.story_id = ?1",
            )
            .map_err(|e| self.e(e))?;
        let mut keyed: Vec<(u64, i64, OrderRow)> = stmt
            .query_map([story], |r| {
                let published = r.get_ref(3)?.as_str_or_null()?;
                let row = OrderRow {
                    row_id: r.get(0)?,
                    event: r.get(1)?,
                    duplicate_of: r.get(2)?,
                    dated: published.is_some(),
                };
                Ok((published.map_or(u64::MAX, time_key), r.get(4)?, row))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        keyed.sort_unstable_by_key(|&(time, seq, row)| (time, seq, row.row_id));
        Ok(keyed.into_iter().map(|(_, _, row)| row).collect())
    }

    /// These articles without their text, in the order asked: a page of a source list.
    /// The columns read all come before the text in the row, so no row is walked past it.
    pub fn source_rows(&self, rows: &[ArticleId]) -> Result<Vec<SourceRow>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT ext_id, title, source, url, published FROM articles WHERE id = ?1",
            )
            .map_err(|e| self.e(e))?;
        rows.iter()
            .map(|&row_id| {
                stmt.query_row([row_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .optional()
                .map_err(|e| self.e(e))?
                .map(|(id, title, source, url, published)| SourceRow {
                    row_id,
                    id,
                    title,
                    source,
                    url,
                    published: time_from_sql(published),
                })
                .ok_or_else(|| Error::NotFound {
                    what: "article row",
                    id: row_id.to_string(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_list_round_trips_and_a_torn_one_is_refused() {
        let list = vec![
            ListedSource {
                row_id: ArticleId(1),
                event: EventId(4),
                copy_of: None,
            },
            ListedSource {
                row_id: ArticleId(i64::MAX),
                event: EventId(70_000),
                copy_of: Some(1),
            },
        ];
        let blob = encode_sources(&list);
        assert_eq!(blob.len(), 2 * LISTED_BYTES);
        assert_eq!(decode_sources(&blob), Some(list));
        assert_eq!(decode_sources(&blob[..blob.len() - 1]), None);
        assert_eq!(decode_sources(&[]), Some(Vec::new()));
    }
}
