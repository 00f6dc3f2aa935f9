//! Reads on PostgreSQL: the clusterer's snapshot, what ingest asks, story reads, export and
//! stored reports; the same questions and answers as SQLite's `codec`, `reads`, `export`
//! and `reports`.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use postgres::Row;

use super::writes::pending_df;
use super::PgStore;
use crate::cluster::{EventSnapshot, Snapshot, StorySnapshot, TermId};
use crate::core::{Article, ArticleId, EventId, StoryId};
use crate::dedup::Signature;
use crate::error::{Error, Result};
use crate::extract::Mention;
use crate::store::codec::{sweeps, term_ids_from_bytes, time_from_sql, weights_from_bytes};
use crate::store::reports::stored;
use crate::store::sources::time_key;
use crate::store::{
    annotations, Counts, ExportedArticle, OrderRow, ReportRow, SourceRow, StoredArticle,
    StoredReport, StoredSignature, StoryRow,
};

type PgResult<T> = std::result::Result<T, postgres::Error>;

/// An article from the columns `ext_id, title, source, url, published, lang, text` of a
/// row, from column `first` on (SQLite's `codec::article_at`).
pub(super) fn article_at(r: &Row, first: usize) -> PgResult<Article> {
    Ok(Article {
        id: r.try_get(first)?,
        title: r.try_get(first + 1)?,
        source: r.try_get(first + 2)?,
        url: r.try_get(first + 3)?,
        published: time_from_sql(r.try_get(first + 4)?),
        lang: r.try_get(first + 5)?,
        text: r.try_get(first + 6)?,
    })
}

pub(super) fn story_row(r: &Row) -> PgResult<StoryRow> {
    Ok(StoryRow {
        id: StoryId(r.try_get(0)?),
        first_time: time_from_sql(r.try_get(1)?),
        last_time: time_from_sql(r.try_get(2)?),
        n_articles: count(r.try_get(3)?),
        n_events: count(r.try_get(4)?),
    })
}

/// A stored count or sequence number (never negative).
pub(super) fn count(n: i64) -> u64 {
    n.max(0) as u64
}

impl PgStore {
    /// Rows of `sql` mapped by `f`, every error the store's.
    pub(super) fn rows<T>(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        f: impl Fn(&Row) -> PgResult<T>,
    ) -> Result<Vec<T>> {
        let rows = self.c().query(sql, params).map_err(|e| self.e(e))?;
        rows.iter()
            .map(f)
            .collect::<PgResult<Vec<T>>>()
            .map_err(|e| self.e(e))
    }

    /// The one row of `sql`, if any, mapped by `f`.
    pub(super) fn row<T>(
        &self,
        sql: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
        f: impl Fn(&Row) -> PgResult<T>,
    ) -> Result<Option<T>> {
        let row = self.c().query_opt(sql, params).map_err(|e| self.e(e))?;
        row.as_ref().map(f).transpose().map_err(|e| self.e(e))
    }

    pub fn cluster_snapshot(&self) -> Result<Snapshot> {
        let n_docs: u64 = self
            .meta("n_docs")?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let seq = self.committed_seq()?;
        let clock = time_from_sql(self.meta("clock")?);
        let mut terms: Vec<(TermId, String, u32, u32)> =
            self.rows("SELECT id, term, df, seen FROM vocab", &[], |r| {
                Ok((
                    r.try_get::<_, i64>(0)? as TermId,
                    r.try_get(1)?,
                    r.try_get::<_, i64>(2)? as u32,
                    r.try_get::<_, i64>(3)? as u32,
                ))
            })?;
        let pending = pending_df(&mut self.c()).map_err(|e| self.e(e))?;
        for (id, _, df, seen) in &mut terms {
            if let Some(&(inc, sweep)) = pending.get(id) {
                *df += inc;
                *seen = (*seen).max(sweep);
            }
        }
        let sweeps = sweeps(n_docs, |key| self.meta(key))?;
        let events = self.rows(
            "SELECT id, story_id, first_time, last_time, n_articles, centroid, entities, last_seq,
                    signals, centroid_norm, merge_checked_at
             FROM events WHERE live = 1 ORDER BY id",
            &[],
            |r| {
                Ok(EventSnapshot {
                    id: EventId(r.try_get(0)?),
                    story: StoryId(r.try_get(1)?),
                    first_time: time_from_sql(r.try_get(2)?),
                    last_time: time_from_sql(r.try_get(3)?),
                    n_articles: count(r.try_get(4)?),
                    centroid: weights_from_bytes(r.try_get(5)?),
                    entities: serde_json::from_str(r.try_get(6)?).unwrap_or_default(),
                    last_seq: count(r.try_get(7)?),
                    signals: serde_json::from_str(r.try_get(8)?).unwrap_or_default(),
                    centroid_norm: r.try_get::<_, f64>(9)? as f32,
                    merge_checked_at: count(r.try_get(10)?),
                })
            },
        )?;
        let stories = self.rows(
            "SELECT id, first_time, last_time, n_articles, n_events, centroid, last_seq, norm_sum,
                    centroid_norm, merge_checked_at, index_terms
             FROM stories WHERE live = 1 ORDER BY id",
            &[],
            |r| {
                Ok(StorySnapshot {
                    id: StoryId(r.try_get(0)?),
                    first_time: time_from_sql(r.try_get(1)?),
                    last_time: time_from_sql(r.try_get(2)?),
                    n_articles: count(r.try_get(3)?),
                    n_events: count(r.try_get(4)?),
                    centroid: weights_from_bytes(r.try_get(5)?),
                    last_seq: count(r.try_get(6)?),
                    norm_sum: r.try_get::<_, f64>(7)? as f32,
                    centroid_norm: r.try_get::<_, f64>(8)? as f32,
                    merge_checked_at: count(r.try_get(9)?),
                    index_terms: (r.try_get::<_, Option<&[u8]>>(10)?).map(term_ids_from_bytes),
                })
            },
        )?;
        // As on SQLite: kept in `meta`, else the highest id + 1.
        let next = |table: &str, key: &str| -> Result<i64> {
            if let Some(n) = self.meta(key)?.and_then(|v| v.parse().ok()) {
                return Ok(n);
            }
            Ok(self
                .row(
                    &format!("SELECT coalesce(max(id), 0) + 1 FROM {table}"),
                    &[],
                    |r| r.try_get(0),
                )?
                .unwrap_or(1))
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

    pub fn committed_seq(&self) -> Result<u64> {
        Ok(self.meta("seq")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    pub fn recent_signatures(&self, limit: usize) -> Result<Vec<StoredSignature>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut rows = self.rows(
            "SELECT a.id, a.minhash, o.id, o.event_id FROM articles a
             JOIN articles o ON o.id = coalesce(a.duplicate_of, a.id)
             WHERE a.minhash IS NOT NULL ORDER BY a.id DESC LIMIT $1",
            &[&limit],
            |r| {
                Ok((
                    ArticleId(r.try_get(0)?),
                    r.try_get::<_, Vec<u8>>(1)?,
                    ArticleId(r.try_get(2)?),
                    EventId(r.try_get(3)?),
                ))
            },
        )?;
        rows.reverse();
        let decoded: Vec<(ArticleId, Option<Signature>, ArticleId, EventId)> = rows
            .into_iter()
            .map(|(id, bytes, original, event)| {
                (id, Signature::from_bytes(&bytes), original, event)
            })
            .collect();
        let stale: Vec<ArticleId> = decoded
            .iter()
            .filter(|(_, sig, _, _)| sig.is_none())
            .map(|(id, _, _, _)| *id)
            .collect();
        let mut fresh = if stale.is_empty() {
            HashMap::new()
        } else {
            self.sign_again(&stale)?
        };
        Ok(decoded
            .into_iter()
            .filter_map(|(id, sig, original, original_event)| {
                let signature = sig.or_else(|| fresh.remove(&id).flatten())?;
                Some(StoredSignature {
                    id,
                    signature,
                    original,
                    original_event,
                })
            })
            .collect())
    }

    /// As on SQLite: signatures of an older MinHash family made again from the text, once.
    fn sign_again(&self, ids: &[ArticleId]) -> Result<HashMap<ArticleId, Option<Signature>>> {
        self.write(|| {
            let mut out = HashMap::with_capacity(ids.len());
            for &id in ids {
                let text: String = self
                    .row("SELECT text FROM articles WHERE id = $1", &[&id.0], |r| {
                        r.try_get(0)
                    })?
                    .ok_or(Error::NotFound {
                        what: "article row",
                        id: id.to_string(),
                    })?;
                let sig = Signature::from_words(&crate::normalize::WordList::of(&text).words());
                self.c()
                    .execute(
                        "UPDATE articles SET minhash = $2 WHERE id = $1",
                        &[&id.0, &sig.as_ref().map(Signature::to_bytes)],
                    )
                    .map_err(|e| self.e(e))?;
                out.insert(id, sig);
            }
            Ok(out)
        })
    }

    pub fn existing_ids(&self, ids: &[&str]) -> Result<HashSet<String>> {
        let found = self.rows(
            "SELECT ext_id FROM articles WHERE ext_id = ANY($1)",
            &[&ids],
            |r| r.try_get(0),
        )?;
        Ok(found.into_iter().collect())
    }

    pub fn next_article_id(&self) -> Result<ArticleId> {
        let next = self.row("SELECT coalesce(max(id), 0) + 1 FROM articles", &[], |r| {
            r.try_get(0)
        })?;
        Ok(ArticleId(next.unwrap_or(1)))
    }

    pub fn counts(&self) -> Result<Counts> {
        let counts = self.row(
            "SELECT (SELECT count(*) FROM articles),
                    (SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL),
                    (SELECT count(*) FROM events), (SELECT count(*) FROM stories)",
            &[],
            |r| {
                Ok(Counts {
                    articles: count(r.try_get(0)?),
                    duplicates: count(r.try_get(1)?),
                    events: count(r.try_get(2)?),
                    stories: count(r.try_get(3)?),
                })
            },
        )?;
        Ok(counts.unwrap_or(Counts {
            articles: 0,
            duplicates: 0,
            events: 0,
            stories: 0,
        }))
    }

    pub fn stories(&self, limit: usize, offset: usize) -> Result<Vec<StoryRow>> {
        self.rows(
            "SELECT id, first_time, last_time, n_articles, n_events FROM stories
             ORDER BY last_time IS NULL, last_time DESC, n_articles DESC, id
             LIMIT $1 OFFSET $2",
            &[&page(limit), &page(offset)],
            story_row,
        )
    }

    pub fn story(&self, id: StoryId) -> Result<StoryRow> {
        self.row(
            "SELECT id, first_time, last_time, n_articles, n_events FROM stories WHERE id = $1",
            &[&id.0],
            story_row,
        )?
        .ok_or(Error::NotFound {
            what: "story",
            id: id.to_string(),
        })
    }

    pub fn story_articles(&self, story: StoryId) -> Result<Vec<StoredArticle>> {
        let mut articles = self.rows(
            "SELECT a.id, a.ext_id, a.title, a.source, a.url, a.published, a.lang, a.text,
                    a.event_id, a.duplicate_of
             FROM articles a JOIN events e ON a.event_id = e.id
             WHERE e.story_id = $1
             ORDER BY a.published IS NULL, a.published, a.seq",
            &[&story.0],
            |r| {
                Ok(StoredArticle {
                    row_id: ArticleId(r.try_get(0)?),
                    article: article_at(r, 1)?,
                    event: EventId(r.try_get(8)?),
                    duplicate_of: r.try_get::<_, Option<i64>>(9)?.map(ArticleId),
                    sentences: Vec::new(),
                    mentions: Vec::new(),
                    clauses: None,
                })
            },
        )?;
        for a in &mut articles {
            (a.sentences, a.mentions, a.clauses) = self.annotations(a.row_id)?;
        }
        Ok(articles)
    }

    pub(super) fn annotations(&self, article: ArticleId) -> Result<annotations::Annotations> {
        let blobs = self.row(
            "SELECT sentences, mentions, clauses FROM annotations WHERE article_id = $1",
            &[&article.0],
            |r| {
                Ok((
                    r.try_get::<_, Vec<u8>>(0)?,
                    r.try_get::<_, Vec<u8>>(1)?,
                    r.try_get::<_, Option<Vec<u8>>>(2)?,
                ))
            },
        )?;
        let Some((sentences, mentions, clauses)) = blobs else {
            return Ok((Vec::new(), Vec::new(), None));
        };
        annotations::decode(&sentences, &mentions, clauses.as_deref())
            .map_err(|what| self.corrupt(what, article))
    }

    pub(super) fn corrupt(&self, what: &str, article: ArticleId) -> Error {
        Error::Invalid(format!(
            "{}: the {what} of article row {article} do not decode",
            self.shown.display()
        ))
    }

    pub fn all_mentions(&self) -> Result<Vec<(String, Mention)>> {
        self.mentions_where("", &[])
    }

    pub fn story_mentions(&self, story: StoryId) -> Result<Vec<(String, Mention)>> {
        self.mentions_where(
            "WHERE a.event_id IN (SELECT id FROM events WHERE story_id = $1)",
            &[&story.0],
        )
    }

    fn mentions_where(
        &self,
        filter: &str,
        params: &[&(dyn postgres::types::ToSql + Sync)],
    ) -> Result<Vec<(String, Mention)>> {
        let rows = self.rows(
            &format!(
                "SELECT a.ext_id, m.article_id, m.mentions
                 FROM annotations m JOIN articles a ON a.id = m.article_id {filter} ORDER BY a.seq"
            ),
            params,
            |r| {
                Ok((
                    r.try_get::<_, String>(0)?,
                    ArticleId(r.try_get(1)?),
                    r.try_get::<_, Vec<u8>>(2)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for (ext_id, row, blob) in rows {
            let mentions =
                annotations::decode_mentions(&blob).map_err(|_| self.corrupt("mentions", row))?;
            out.extend(mentions.into_iter().map(|m| (ext_id.clone(), m)));
        }
        Ok(out)
    }

    pub fn assignments(&self) -> Result<Vec<(String, EventId, StoryId)>> {
        self.rows(
            "SELECT a.ext_id, a.event_id, e.story_id FROM articles a
             JOIN events e ON a.event_id = e.id ORDER BY a.seq",
            &[],
            |r| {
                Ok((
                    r.try_get(0)?,
                    EventId(r.try_get(1)?),
                    StoryId(r.try_get(2)?),
                ))
            },
        )
    }

    pub fn story_events(&self, story: StoryId) -> Result<HashMap<EventId, u64>> {
        let rows = self.rows(
            "SELECT id, n_articles FROM events WHERE story_id = $1",
            &[&story.0],
            |r| Ok((EventId(r.try_get(0)?), count(r.try_get(1)?))),
        )?;
        Ok(rows.into_iter().collect())
    }

    /// Every article in ingest order, fetched a page at a time so memory stays flat.
    pub fn export(&self, mut visit: impl FnMut(ExportedArticle) -> Result<()>) -> Result<()> {
        const PAGE: i64 = 1000;
        let mut after = (i64::MIN, i64::MIN);
        loop {
            let page = self.rows(
                "SELECT a.ext_id, a.title, a.source, a.url, a.published, a.lang, a.text,
                        a.event_id, e.story_id, a.seq, a.id
                 FROM articles a JOIN events e ON a.event_id = e.id
                 WHERE (a.seq, a.id) > ($1, $2) ORDER BY a.seq, a.id LIMIT $3",
                &[&after.0, &after.1, &PAGE],
                |r| {
                    Ok((
                        ExportedArticle {
                            article: article_at(r, 0)?,
                            event: EventId(r.try_get(7)?),
                            story: StoryId(r.try_get(8)?),
                        },
                        (r.try_get::<_, i64>(9)?, r.try_get::<_, i64>(10)?),
                    ))
                },
            )?;
            let Some(&(_, last)) = page.last() else {
                return Ok(());
            };
            for (exported, _) in page {
                visit(exported)?;
            }
            after = last;
        }
    }

    pub fn story_report_row(&self, id: StoryId) -> Result<ReportRow> {
        type Raw = (
            i64,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<Vec<u8>>,
        );
        let row: Option<Raw> = self.row(
            "SELECT coalesce(r.revision, s.last_seq), r.report_revision, r.headline, r.report,
                    r.sources
             FROM stories s LEFT JOIN story_reports r ON r.story_id = s.id WHERE s.id = $1",
            &[&id.0],
            |r| {
                Ok((
                    r.try_get(0)?,
                    r.try_get(1)?,
                    r.try_get(2)?,
                    r.try_get(3)?,
                    r.try_get(4)?,
                ))
            },
        )?;
        let (revision, made_at, headline, report, order) = row.ok_or(Error::NotFound {
            what: "story",
            id: id.to_string(),
        })?;
        let current =
            stored(made_at, headline, report, order).filter(|r| r.revision == count(revision));
        Ok(ReportRow {
            revision: count(revision),
            current,
        })
    }

    pub fn story_revisions(&self, id: StoryId) -> Result<(u64, Option<u64>)> {
        let row: Option<(i64, Option<i64>)> = self.row(
            "SELECT coalesce(r.revision, s.last_seq), r.report_revision
             FROM stories s LEFT JOIN story_reports r ON r.story_id = s.id WHERE s.id = $1",
            &[&id.0],
            |r| Ok((r.try_get(0)?, r.try_get(1)?)),
        )?;
        let (revision, made_at) = row.ok_or(Error::NotFound {
            what: "story",
            id: id.to_string(),
        })?;
        Ok((count(revision), made_at.map(count)))
    }

    pub fn last_story_report(&self, id: StoryId) -> Result<Option<StoredReport>> {
        type Raw = (Option<i64>, Option<String>, Option<String>, Option<Vec<u8>>);
        let row: Option<Raw> = self.row(
            "SELECT report_revision, headline, report, sources FROM story_reports
             WHERE story_id = $1",
            &[&id.0],
            |r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)),
        )?;
        Ok(row.and_then(|(at, h, r, o)| stored(at, h, r, o)))
    }

    /// As on SQLite: stored only while the story is still at `revision`; `Ok(false)` when a
    /// lock was not had within `wait` or the story moved on.
    pub fn put_story_report(
        &self,
        id: StoryId,
        revision: u64,
        headline: &str,
        report: &str,
        order: &[u8],
        wait: Duration,
    ) -> Result<bool> {
        let revision = i64::try_from(revision).unwrap_or(i64::MAX);
        let timeout = format!("SET LOCAL lock_timeout = {}", wait.as_millis().max(1));
        let written = self.write(|| {
            let mut c = self.c();
            let out = c.batch_execute(&timeout).and_then(|()| {
                c.execute(
                    "INSERT INTO story_reports(story_id, revision, report_revision, headline,
                                               report, sources)
                     SELECT $1, $2, $2, $3, $4, $5
                     WHERE EXISTS (SELECT 1 FROM stories WHERE id = $1)
                     ON CONFLICT (story_id) DO UPDATE SET report_revision = excluded.report_revision,
                       headline = excluded.headline, report = excluded.report,
                       sources = excluded.sources
                     WHERE story_reports.revision = excluded.report_revision",
                    &[&id.0, &revision, &headline, &report, &order],
                )
            });
            match out {
                Ok(n) => Ok(n > 0),
                Err(e) => Err(self.e(e)),
            }
        });
        match written {
            Err(Error::Store { source, .. })
                if source
                    .downcast_ref::<postgres::Error>()
                    .and_then(postgres::Error::code)
                    == Some(&postgres::error::SqlState::LOCK_NOT_AVAILABLE) =>
            {
                Ok(false)
            }
            other => other,
        }
    }

    /// A story's articles in date order (undated last, then by ingest order), from the
    /// index alone, as SQLite's `story_order`.
    pub fn story_order(&self, story: StoryId) -> Result<Vec<OrderRow>> {
        let mut keyed: Vec<(u64, i64, OrderRow)> = self.rows(
            "SELECT a.id, a.event_id, a.duplicate_of, a.published, a.seq
             FROM events e JOIN articles a ON a.event_id = e.id
             WHERE e.story_id = $1",
            &[&story.0],
            |r| {
                let published: Option<String> = r.try_get(3)?;
                let row = OrderRow {
                    row_id: ArticleId(r.try_get(0)?),
                    event: EventId(r.try_get(1)?),
                    duplicate_of: r.try_get::<_, Option<i64>>(2)?.map(ArticleId),
                    dated: published.is_some(),
                };
                Ok((
                    published.as_deref().map_or(u64::MAX, time_key),
                    r.try_get(4)?,
                    row,
                ))
            },
        )?;
        keyed.sort_unstable_by_key(|&(time, seq, row)| (time, seq, row.row_id));
        Ok(keyed.into_iter().map(|(_, _, row)| row).collect())
    }

    /// These articles without their text, in the order asked.
    pub fn source_rows(&self, rows: &[ArticleId]) -> Result<Vec<SourceRow>> {
        rows.iter()
            .map(|&row_id| {
                self.row(
                    "SELECT ext_id, title, source, url, published FROM articles WHERE id = $1",
                    &[&row_id.0],
                    |r| {
                        Ok(SourceRow {
                            row_id,
                            id: r.try_get(0)?,
                            title: r.try_get(1)?,
                            source: r.try_get(2)?,
                            url: r.try_get(3)?,
                            published: time_from_sql(r.try_get(4)?),
                        })
                    },
                )?
                .ok_or_else(|| Error::NotFound {
                    what: "article row",
                    id: row_id.to_string(),
                })
            })
            .collect()
    }

    pub fn stale_reports(&self, ids: &[StoryId]) -> Result<Vec<StoryId>> {
        let want: Vec<i64> = ids.iter().map(|s| s.0).collect();
        let stale: HashSet<i64> = self
            .rows(
                "SELECT story_id FROM story_reports WHERE story_id = ANY($1)
                 AND report IS NOT NULL AND report_revision IS DISTINCT FROM revision",
                &[&want],
                |r| r.try_get(0),
            )?
            .into_iter()
            .collect();
        Ok(ids
            .iter()
            .copied()
            .filter(|s| stale.contains(&s.0))
            .collect())
    }

    pub fn articles_by_row(
        &self,
        rows: &[ArticleId],
        annotated: bool,
    ) -> Result<Vec<StoredArticle>> {
        let mut out = Vec::with_capacity(rows.len());
        for &row_id in rows {
            let mut a = self
                .row(
                    "SELECT ext_id, title, source, url, published, lang, text, event_id,
                            duplicate_of
                     FROM articles WHERE id = $1",
                    &[&row_id.0],
                    |r| {
                        Ok(StoredArticle {
                            row_id,
                            article: article_at(r, 0)?,
                            event: EventId(r.try_get(7)?),
                            duplicate_of: r.try_get::<_, Option<i64>>(8)?.map(ArticleId),
                            sentences: Vec::new(),
                            mentions: Vec::new(),
                            clauses: None,
                        })
                    },
                )?
                .ok_or(Error::NotFound {
                    what: "article row",
                    id: row_id.to_string(),
                })?;
            if annotated {
                (a.sentences, a.mentions, a.clauses) = self.annotations(row_id)?;
            }
            out.push(a);
        }
        Ok(out)
    }

    pub fn annotate(&self, articles: &mut [StoredArticle]) -> Result<()> {
        for a in articles {
            (a.sentences, a.mentions, a.clauses) = self.annotations(a.row_id)?;
        }
        Ok(())
    }
}

/// A limit or offset as PostgreSQL takes it.
pub(super) fn page(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
