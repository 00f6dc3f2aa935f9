//! Writes: an ingest batch and the clusterer's changes in one transaction, one function per
//! table.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::codec::{
    entities_to_sql, increments_to_bytes, pending_df, signals_to_sql, term_ids_to_bytes,
    time_to_sql, weights_to_bytes,
};
use super::{annotations, NewArticle, SqliteStore};
use crate::cluster::{ChangeSet, EventSnapshot, StorySnapshot, VocabChanges};
use crate::dedup::Signature;
use crate::error::{Error, Result};

/// Batches whose document-frequency increments wait in `vocab_pending` before they are
/// added to `vocab`: a fold rewrites the vocabulary's pages once instead of once a batch,
/// and a store opens by summing at most this many small rows.
const VOCAB_FOLD_BATCHES: i64 = 32;

impl SqliteStore {
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
        let path = self.path.clone();
        let e = |source| Self::err(&path, source);
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(e)?;
        let committed: u64 = tx
            .query_row("SELECT value FROM meta WHERE key = 'seq'", [], |r| {
                r.get::<_, String>(0)
            })
            .optional()
            .map_err(e)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        if committed != seq_before {
            return Err(Error::WrittenMeanwhile { path });
        }
        write_stories(&tx, &changes.stories).map_err(e)?;
        write_events(&tx, &changes.events).map_err(e)?;
        retire(&tx, "events", &changes.retired_events).map_err(e)?;
        retire(&tx, "stories", &changes.retired_stories).map_err(e)?;
        write_articles(&tx, batch).map_err(e)?;
        write_annotations(&tx, batch).map_err(e)?;
        write_search_index(&tx, batch).map_err(e)?;
        // Merges last, once every row they touch exists; each target is resolved to where
        // it finally went so no row ever points at a dropped event or story.
        let events = |id| changes.resolve_event(id);
        merge_rows(
            &tx,
            &changes.merged_events,
            events,
            ("articles", "event_id"),
            "events",
        )
        .map_err(e)?;
        let stories = |id| changes.resolve_story(id);
        merge_rows(
            &tx,
            &changes.merged_stories,
            stories,
            ("events", "story_id"),
            "stories",
        )
        .map_err(e)?;
        write_revisions(&tx, changes, seq_after).map_err(e)?;
        write_vocab(&tx, &changes.terms).map_err(e)?;
        write_meta(&tx, changes, seq_after, clock).map_err(e)?;
        tx.commit().map_err(e)
    }
}

fn write_stories(tx: &Connection, stories: &[StorySnapshot]) -> rusqlite::Result<()> {
    let mut story_stmt = tx.prepare_cached(
        "INSERT INTO stories(id, first_time, last_time, n_articles, n_events, centroid, last_seq, live, norm_sum,
                             centroid_norm, merge_checked_at, index_terms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?11)
         ON CONFLICT(id) DO UPDATE SET first_time = excluded.first_time,
           last_time = excluded.last_time, n_articles = excluded.n_articles,
           n_events = excluded.n_events, centroid = excluded.centroid,
           last_seq = excluded.last_seq, live = 1, norm_sum = excluded.norm_sum,
           centroid_norm = excluded.centroid_norm, merge_checked_at = excluded.merge_checked_at,
           index_terms = excluded.index_terms",
    )?;
    for s in stories {
        story_stmt.execute(params![
            s.id,
            time_to_sql(s.first_time),
            time_to_sql(s.last_time),
            s.n_articles,
            s.n_events,
            weights_to_bytes(&s.centroid),
            s.last_seq,
            s.norm_sum,
            s.centroid_norm,
            s.merge_checked_at,
            s.index_terms.as_deref().map(term_ids_to_bytes)
        ])?;
    }
    Ok(())
}

fn write_events(tx: &Connection, events: &[EventSnapshot]) -> rusqlite::Result<()> {
    let mut event_stmt = tx.prepare_cached(
        "INSERT INTO events(id, story_id, first_time, last_time, n_articles, centroid, entities, last_seq, live, signals,
                            centroid_norm, merge_checked_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, ?11)
         ON CONFLICT(id) DO UPDATE SET story_id = excluded.story_id,
           first_time = excluded.first_time, last_time = excluded.last_time,
           n_articles = excluded.n_articles, centroid = excluded.centroid,
           entities = excluded.entities, last_seq = excluded.last_seq, live = 1,
           signals = excluded.signals, centroid_norm = excluded.centroid_norm,
           merge_checked_at = excluded.merge_checked_at",
    )?;
    for ev in events {
        event_stmt.execute(params![
            ev.id,
            ev.story,
            time_to_sql(ev.first_time),
            time_to_sql(ev.last_time),
            ev.n_articles,
            weights_to_bytes(&ev.centroid),
            entities_to_sql(ev),
            ev.last_seq,
            signals_to_sql(ev),
            ev.centroid_norm,
            ev.merge_checked_at
        ])?;
    }
    Ok(())
}

/// Marks rows of `table` (events or stories) as no longer in the clusterer's memory.
fn retire<I: rusqlite::ToSql>(tx: &Connection, table: &str, ids: &[I]) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(&format!("UPDATE {table} SET live = 0 WHERE id = ?1"))?;
    for id in ids {
        stmt.execute([id])?;
    }
    Ok(())
}

fn write_articles(tx: &Connection, batch: &[NewArticle<'_>]) -> rusqlite::Result<()> {
    let mut article_stmt = tx.prepare_cached(
        "INSERT INTO articles(id, ext_id, title, source, url, published, lang, text, origin,
           fingerprint, minhash, duplicate_of, event_id, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?;
    for a in batch {
        let art = a.article;
        article_stmt.execute(params![
            a.row_id,
            art.id,
            art.title,
            art.source,
            art.url,
            time_to_sql(art.published),
            art.lang,
            art.text,
            a.origin,
            a.fingerprint as i64,
            a.signature.map(Signature::to_bytes),
            a.duplicate_of,
            a.event,
            a.seq as i64
        ])?;
    }
    Ok(())
}

fn write_annotations(tx: &Connection, batch: &[NewArticle<'_>]) -> rusqlite::Result<()> {
    let mut annotate = tx.prepare_cached(
        "INSERT INTO annotations(article_id, sentences, mentions, clauses)
         VALUES (?1, ?2, ?3, ?4)",
    )?;
    for a in batch {
        annotate.execute(params![
            a.row_id,
            annotations::encode_sentences(a.sentences),
            annotations::encode_mentions(a.mentions),
            a.clauses
        ])?;
    }
    Ok(())
}

/// The batch's rows into the search index in one statement: FTS5 keeps them in memory and
/// writes one segment (a statement per row would write one each).
fn write_search_index(tx: &Connection, batch: &[NewArticle<'_>]) -> rusqlite::Result<()> {
    if let (Some(first), Some(last)) = (
        batch.iter().map(|a| a.row_id).min(),
        batch.iter().map(|a| a.row_id).max(),
    ) {
        tx.prepare_cached(
            "INSERT INTO articles_fts(rowid, title, text)
             SELECT id, title, text FROM articles WHERE id BETWEEN ?1 AND ?2",
        )
        .and_then(|mut s| s.execute(params![first, last]))?;
    }
    Ok(())
}

/// Applies merges `(from, _)` of `table`'s rows, in order: the `members` rows whose
/// `column` points at `from` move to where it finally went (`resolve`), and `from` goes.
fn merge_rows<I: rusqlite::ToSql + Copy>(
    tx: &Connection,
    merges: &[(I, I)],
    resolve: impl Fn(I) -> I,
    (members, column): (&str, &str),
    table: &str,
) -> rusqlite::Result<()> {
    let move_members = format!("UPDATE {members} SET {column} = ?2 WHERE {column} = ?1");
    let drop = format!("DELETE FROM {table} WHERE id = ?1");
    for &(from, _) in merges {
        tx.execute(&move_members, params![from, resolve(from)])?;
        tx.execute(&drop, [from])?;
    }
    Ok(())
}

/// Every story the batch changed gets the batch's sequence number as its revision, in the
/// batch's transaction, so a stored report of an older revision is never taken for current.
/// Stories merged away lose their row. Their last report stays until a new one replaces it.
fn write_revisions(tx: &Connection, changes: &ChangeSet, revision: u64) -> rusqlite::Result<()> {
    let mut bump = tx.prepare_cached(
        "INSERT INTO story_reports(story_id, revision) VALUES (?1, ?2)
         ON CONFLICT(story_id) DO UPDATE SET revision = excluded.revision",
    )?;
    for s in &changes.stories {
        bump.execute(params![s.id, revision as i64])?;
    }
    for &(from, _) in &changes.merged_stories {
        bump.execute(params![changes.resolve_story(from), revision as i64])?;
    }
    let mut gone = tx.prepare_cached("DELETE FROM story_reports WHERE story_id = ?1")?;
    for &(from, _) in &changes.merged_stories {
        gone.execute([from])?;
    }
    Ok(())
}

/// New terms, document-frequency increments (folded into `vocab` now and then) and
/// forgotten terms.
fn write_vocab(tx: &Connection, terms: &VocabChanges) -> rusqlite::Result<()> {
    let mut new_term =
        tx.prepare_cached("INSERT OR REPLACE INTO vocab(id, term, df) VALUES (?1, ?2, 0)")?;
    for (id, term) in &terms.new_terms {
        new_term.execute(params![id, term])?;
    }
    if !terms.df_increments.is_empty() {
        tx.prepare_cached("INSERT INTO vocab_pending(increments, sweep) VALUES (?1, ?2)")
            .and_then(|mut s| {
                s.execute(params![
                    increments_to_bytes(&terms.df_increments),
                    terms.counted_in
                ])
            })?;
    }
    // A forgotten id may be handed out again in a later batch: its pending
    // increments go into its row before the row goes, so none land on the new term.
    let fold_due = !terms.forgotten.is_empty()
        || tx.query_row("SELECT count(*) FROM vocab_pending", [], |r| {
            r.get::<_, i64>(0)
        })? >= VOCAB_FOLD_BATCHES;
    if fold_due {
        fold_pending_df(tx)?;
    }
    let mut forget = tx.prepare_cached("DELETE FROM vocab WHERE id = ?1")?;
    for id in &terms.forgotten {
        forget.execute([id])?;
    }
    Ok(())
}

/// Adds the pending document-frequency increments to `vocab` and clears them.
fn fold_pending_df(conn: &Connection) -> rusqlite::Result<()> {
    let mut sum: Vec<(u32, (u32, u32))> = pending_df(conn)?.into_iter().collect();
    // In id order, so the updates walk the table's pages once, front to back.
    sum.sort_unstable();
    let mut df_stmt =
        conn.prepare_cached("UPDATE vocab SET df = df + ?2, seen = max(seen, ?3) WHERE id = ?1")?;
    for (id, (inc, sweep)) in sum {
        df_stmt.execute(params![id, inc, sweep])?;
    }
    conn.execute("DELETE FROM vocab_pending", [])?;
    Ok(())
}

fn write_meta(
    tx: &Connection,
    changes: &ChangeSet,
    seq: u64,
    clock: Option<DateTime<Utc>>,
) -> rusqlite::Result<()> {
    let mut meta_stmt =
        tx.prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)")?;
    meta_stmt.execute(params!["n_docs", changes.n_docs.to_string()])?;
    meta_stmt.execute(params!["seq", seq.to_string()])?;
    meta_stmt.execute(params!["next_event", changes.next_event.0.to_string()])?;
    meta_stmt.execute(params!["next_story", changes.next_story.0.to_string()])?;
    meta_stmt.execute(params!["vocab_sweep", changes.sweeps.0.to_string()])?;
    meta_stmt.execute(params!["vocab_swept_at", changes.sweeps.1.to_string()])?;
    if let Some(c) = time_to_sql(clock) {
        meta_stmt.execute(params!["clock", c])?;
    }
    Ok(())
}
