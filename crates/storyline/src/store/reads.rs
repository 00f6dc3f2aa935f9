//! Reads: what the pipeline, the CLI and the API ask of the store, besides search and
//! the filtered lists (`query`).

use std::collections::{HashMap, HashSet};

use rusqlite::{params, OptionalExtension};

use super::codec::{article_at, time_from_sql};
use super::{annotations, Counts, SqliteStore, StoredArticle, StoredSignature, StoryRow};
use crate::core::{ArticleId, EventId, StoryId};
use crate::dedup::Signature;
use crate::error::{Error, Result};
use crate::extract::Mention;

impl SqliteStore {
    /// The clusterer sequence number as last committed; a writer compares it with its own
    /// to notice another writer.
    pub fn committed_seq(&self) -> Result<u64> {
        Ok(self.meta("seq")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// The `limit` most recent signatures, oldest first, each with its copy chain's
    /// original and that original's event. Those of the first MinHash family are made again
    /// ([`SqliteStore::sign_again`]).
    pub fn recent_signatures(&self, limit: usize) -> Result<Vec<StoredSignature>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.minhash, o.id, o.event_id FROM articles a
                 JOIN articles o ON o.id = coalesce(a.duplicate_of, a.id)
                 WHERE a.minhash IS NOT NULL ORDER BY a.id DESC LIMIT ?1",
            )
            .map_err(|e| self.e(e))?;
        let mut rows = stmt
            .query_map([limit as i64], |r| {
                Ok((
                    r.get::<_, ArticleId>(0)?,
                    r.get::<_, Vec<u8>>(1)?,
                    r.get::<_, ArticleId>(2)?,
                    r.get::<_, EventId>(3)?,
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
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

    /// Signs articles again from their stored (cleaned) text, as ingest does, and stores
    /// the new signatures, so it happens once: for signatures written by a build with the
    /// first MinHash family, which no signature made now can be compared with.
    fn sign_again(&self, ids: &[ArticleId]) -> Result<HashMap<ArticleId, Option<Signature>>> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.e(e))?;
        let mut out = HashMap::with_capacity(ids.len());
        {
            let mut text_stmt = tx
                .prepare("SELECT text FROM articles WHERE id = ?1")
                .map_err(|e| self.e(e))?;
            let mut update = tx
                .prepare("UPDATE articles SET minhash = ?2 WHERE id = ?1")
                .map_err(|e| self.e(e))?;
            for &id in ids {
                let text: String = text_stmt
                    .query_row([id], |r| r.get(0))
                    .map_err(|e| self.e(e))?;
                let sig = Signature::from_words(&crate::normalize::WordList::of(&text).words());
                update
                    .execute(params![id, sig.as_ref().map(Signature::to_bytes)])
                    .map_err(|e| self.e(e))?;
                out.insert(id, sig);
            }
        }
        tx.commit().map_err(|e| self.e(e))?;
        Ok(out)
    }

    /// Which of these external ids are stored already.
    pub fn existing_ids(&self, ids: &[&str]) -> Result<HashSet<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT 1 FROM articles WHERE ext_id = ?1")
            .map_err(|e| self.e(e))?;
        let mut found = HashSet::new();
        for id in ids {
            if stmt.exists([id]).map_err(|e| self.e(e))? {
                found.insert(id.to_string());
            }
        }
        Ok(found)
    }

    pub fn next_article_id(&self) -> Result<ArticleId> {
        self.conn
            .query_row("SELECT coalesce(max(id), 0) + 1 FROM articles", [], |r| {
                r.get(0)
            })
            .map_err(|e| self.e(e))
    }

    pub fn counts(&self) -> Result<Counts> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM articles),
                        (SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL),
                        (SELECT count(*) FROM events), (SELECT count(*) FROM stories)",
                [],
                |r| {
                    Ok(Counts {
                        articles: r.get(0)?,
                        duplicates: r.get(1)?,
                        events: r.get(2)?,
                        stories: r.get(3)?,
                    })
                },
            )
            .map_err(|e| self.e(e))
    }

    /// Stories, most recently active first (undated ones after dated, then by size).
    pub fn stories(&self, limit: usize, offset: usize) -> Result<Vec<StoryRow>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, first_time, last_time, n_articles, n_events FROM stories
                 ORDER BY last_time IS NULL, last_time DESC, n_articles DESC, id
                 LIMIT ?1 OFFSET ?2",
            )
            .map_err(|e| self.e(e))?;
        stmt.query_map(params![limit as i64, offset as i64], Self::story_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))
    }

    pub fn story(&self, id: StoryId) -> Result<StoryRow> {
        self.conn
            .query_row(
                "SELECT id, first_time, last_time, n_articles, n_events FROM stories WHERE id = ?1",
                [id],
                Self::story_row,
            )
            .optional()
            .map_err(|e| self.e(e))?
            .ok_or(Error::NotFound {
                what: "story",
                id: id.to_string(),
            })
    }

    pub(super) fn story_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoryRow> {
        Ok(StoryRow {
            id: r.get(0)?,
            first_time: time_from_sql(r.get(1)?),
            last_time: time_from_sql(r.get(2)?),
            n_articles: r.get(3)?,
            n_events: r.get(4)?,
        })
    }

    /// Every article of a story, in date order (undated last), with sentences and mentions.
    pub fn story_articles(&self, story: StoryId) -> Result<Vec<StoredArticle>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.id, a.ext_id, a.title, a.source, a.url, a.published, a.lang, a.text,
                        a.event_id, a.duplicate_of
                 FROM articles a JOIN events e ON a.event_id = e.id
                 WHERE e.story_id = ?1
                 ORDER BY a.published IS NULL, a.published, a.seq",
            )
            .map_err(|e| self.e(e))?;
        let mut articles: Vec<StoredArticle> = stmt
            .query_map([story], |r| {
                Ok(StoredArticle {
                    row_id: r.get(0)?,
                    article: article_at(r, 1)?,
                    event: r.get(8)?,
                    duplicate_of: r.get(9)?,
                    sentences: Vec::new(),
                    mentions: Vec::new(),
                    clauses: None,
                })
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| self.e(e))?;
        for a in &mut articles {
            (a.sentences, a.mentions, a.clauses) = self.annotations(a.row_id)?;
        }
        Ok(articles)
    }

    /// An article's sentences, mentions and clauses; none for an article stored without
    /// them (clauses `None`: to be made from the text).
    pub(super) fn annotations(&self, article: ArticleId) -> Result<annotations::Annotations> {
        type Blobs = (Vec<u8>, Vec<u8>, Option<Vec<u8>>);
        let blobs: Option<Blobs> = self
            .conn
            .prepare_cached(
                "SELECT sentences, mentions, clauses FROM annotations WHERE article_id = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([article], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                    .optional()
            })
            .map_err(|e| self.e(e))?;
        let Some((sentences, mentions, clauses)) = blobs else {
            return Ok((Vec::new(), Vec::new(), None));
        };
        annotations::decode(&sentences, &mentions, clauses.as_deref())
            .map_err(|what| self.corrupt(what, article))
    }

    /// The error for an `annotations` blob of article row `article` that does not decode.
    fn corrupt(&self, what: &str, article: ArticleId) -> Error {
        Error::Invalid(format!(
            "{}: the {what} of article row {article} do not decode",
            self.path.display()
        ))
    }

    /// Every mention in the store with its article's external id.
    pub fn all_mentions(&self) -> Result<Vec<(String, Mention)>> {
        self.mentions_where("", [])
    }

    /// The mentions in one story's articles.
    pub fn story_mentions(&self, story: StoryId) -> Result<Vec<(String, Mention)>> {
        self.mentions_where(
            "WHERE a.event_id IN (SELECT id FROM events WHERE story_id = ?1)",
            [story],
        )
    }

    fn mentions_where<P: rusqlite::Params>(
        &self,
        filter: &str,
        params: P,
    ) -> Result<Vec<(String, Mention)>> {
        let sql = format!(
            "SELECT a.ext_id, m.article_id, m.mentions
             FROM annotations m JOIN articles a ON a.id = m.article_id {filter} ORDER BY a.seq"
        );
        let mut stmt = self.conn.prepare(&sql).map_err(|e| self.e(e))?;
        let mut rows = stmt.query(params).map_err(|e| self.e(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.e(e))? {
            let ext_id: String = r.get(0).map_err(|e| self.e(e))?;
            let row: ArticleId = r.get(1).map_err(|e| self.e(e))?;
            let blob = r
                .get_ref(2)
                .and_then(|v| Ok(v.as_blob()?))
                .map_err(|e| self.e(e))?;
            let mentions =
                annotations::decode_mentions(blob).map_err(|_| self.corrupt("mentions", row))?;
            out.extend(mentions.into_iter().map(|m| (ext_id.clone(), m)));
        }
        Ok(out)
    }

    /// `(external id, event, story)` for every stored article, in ingest order.
    pub fn assignments(&self) -> Result<Vec<(String, EventId, StoryId)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT a.ext_id, a.event_id, e.story_id FROM articles a
                 JOIN events e ON a.event_id = e.id ORDER BY a.seq",
            )
            .map_err(|e| self.e(e))?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))
    }

    /// Number of events per story, for the events of one story.
    pub fn story_events(&self, story: StoryId) -> Result<HashMap<EventId, u64>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, n_articles FROM events WHERE story_id = ?1")
            .map_err(|e| self.e(e))?;
        stmt.query_map([story], |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))
    }
}
