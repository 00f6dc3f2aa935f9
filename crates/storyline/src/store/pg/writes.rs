//! An ingest batch on PostgreSQL: the same rows as SQLite's `writes`, a statement per table
//! with the batch's values as arrays (`unnest`), so a batch costs a few round trips, not one
//! per row; and a notice to the store's listeners (`listen.rs`) when it commits.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use postgres::Client;

use super::{PgStore, WRITER_LOCK};
use crate::cluster::{ChangeSet, EventSnapshot, StorySnapshot, VocabChanges};
use crate::dedup::Signature;
use crate::error::{Error, Result};
use crate::search::words_of;
use crate::store::codec::{
    entities_to_sql, increments_from_bytes, increments_to_bytes, signals_to_sql, sum_pending,
    term_ids_to_bytes, time_to_sql, weights_to_bytes,
};
use crate::store::{annotations, NewArticle};

/// As on SQLite (`writes::VOCAB_FOLD_BATCHES`): batches of document-frequency increments
/// kept apart before they are added to `vocab`.
const VOCAB_FOLD_BATCHES: i64 = 32;

type PgResult<T> = std::result::Result<T, postgres::Error>;

impl PgStore {
    /// [`crate::store::Store::commit_batch`] on PostgreSQL: one transaction, and a lock
    /// held to its end so that writers on other machines wait for it rather than interleave.
    pub fn commit_batch(
        &mut self,
        batch: &[NewArticle<'_>],
        changes: &ChangeSet,
        seq_before: u64,
        seq_after: u64,
        clock: Option<DateTime<Utc>>,
    ) -> Result<()> {
        self.commit_batch_consuming(batch, changes, seq_before, seq_after, clock, None)
    }

    /// [`PgStore::commit_batch`], and when `consumed` names a job batch (kind, number), its
    /// done jobs deleted in the same transaction: a placed batch is never placed again.
    pub fn commit_batch_consuming(
        &mut self,
        batch: &[NewArticle<'_>],
        changes: &ChangeSet,
        seq_before: u64,
        seq_after: u64,
        clock: Option<DateTime<Utc>>,
        consumed: Option<(&str, u64)>,
    ) -> Result<()> {
        let written = self.write(|| {
            let mut c = self.c();
            let written = write_batch(&mut c, batch, changes, seq_before, seq_after, clock)
                .map_err(|e| self.e(e))?;
            if let (true, Some((kind, job_batch))) = (written, consumed) {
                super::jobs::consume_batch(&mut c, kind, job_batch).map_err(|e| self.e(e))?;
            }
            Ok(written)
        })?;
        if !written {
            return Err(Error::WrittenMeanwhile {
                path: self.shown.clone(),
            });
        }
        Ok(())
    }
}

/// The batch's rows, or `false` (nothing written) when the store is no longer at
/// `seq_before`.
fn write_batch(
    c: &mut Client,
    batch: &[NewArticle<'_>],
    changes: &ChangeSet,
    seq_before: u64,
    seq_after: u64,
    clock: Option<DateTime<Utc>>,
) -> PgResult<bool> {
    c.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITER_LOCK])?;
    let committed: u64 = c
        .query_opt("SELECT value FROM meta WHERE key = 'seq'", &[])?
        .map(|r| r.try_get::<_, String>(0))
        .transpose()?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if committed != seq_before {
        return Ok(false);
    }
    write_stories(c, &changes.stories)?;
    write_events(c, &changes.events)?;
    let retired: Vec<i64> = changes.retired_events.iter().map(|e| e.0).collect();
    c.execute("UPDATE events SET live = 0 WHERE id = ANY($1)", &[&retired])?;
    let retired: Vec<i64> = changes.retired_stories.iter().map(|s| s.0).collect();
    c.execute(
        "UPDATE stories SET live = 0 WHERE id = ANY($1)",
        &[&retired],
    )?;
    write_articles(c, batch)?;
    write_annotations(c, batch)?;
    // Merges last, each target resolved to where it finally went (as on SQLite).
    for &(from, _) in &changes.merged_events {
        let to = changes.resolve_event(from);
        c.execute(
            "UPDATE articles SET event_id = $2 WHERE event_id = $1",
            &[&from.0, &to.0],
        )?;
        c.execute("DELETE FROM events WHERE id = $1", &[&from.0])?;
    }
    for &(from, _) in &changes.merged_stories {
        let to = changes.resolve_story(from);
        c.execute(
            "UPDATE events SET story_id = $2 WHERE story_id = $1",
            &[&from.0, &to.0],
        )?;
        c.execute("DELETE FROM stories WHERE id = $1", &[&from.0])?;
    }
    write_revisions(c, changes, seq_after)?;
    write_vocab(c, &changes.terms)?;
    let mut meta = vec![
        ("n_docs", changes.n_docs.to_string()),
        ("seq", seq_after.to_string()),
        ("next_event", changes.next_event.0.to_string()),
        ("next_story", changes.next_story.0.to_string()),
        ("vocab_sweep", changes.sweeps.0.to_string()),
        ("vocab_swept_at", changes.sweeps.1.to_string()),
    ];
    if let Some(t) = time_to_sql(clock) {
        meta.push(("clock", t));
    }
    for (key, value) in meta {
        c.execute(
            "INSERT INTO meta(key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )?;
    }
    // Told to every listener when, and only if, this transaction commits: readers on
    // other machines learn of the batch at once instead of asking every second.
    c.execute(
        "SELECT pg_notify($1, $2)",
        &[&super::listen::CHANNEL, &seq_after.to_string()],
    )?;
    Ok(true)
}

fn int(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn write_stories(c: &mut Client, stories: &[StorySnapshot]) -> PgResult<()> {
    if stories.is_empty() {
        return Ok(());
    }
    let id: Vec<i64> = stories.iter().map(|s| s.id.0).collect();
    let first: Vec<Option<String>> = stories.iter().map(|s| time_to_sql(s.first_time)).collect();
    let last: Vec<Option<String>> = stories.iter().map(|s| time_to_sql(s.last_time)).collect();
    let n_articles: Vec<i64> = stories.iter().map(|s| int(s.n_articles)).collect();
    let n_events: Vec<i64> = stories.iter().map(|s| int(s.n_events)).collect();
    let centroid: Vec<Vec<u8>> = stories
        .iter()
        .map(|s| weights_to_bytes(&s.centroid))
        .collect();
    let last_seq: Vec<i64> = stories.iter().map(|s| int(s.last_seq)).collect();
    let norm_sum: Vec<f64> = stories.iter().map(|s| f64::from(s.norm_sum)).collect();
    let norm: Vec<f64> = stories.iter().map(|s| f64::from(s.centroid_norm)).collect();
    let checked: Vec<i64> = stories.iter().map(|s| int(s.merge_checked_at)).collect();
    let index_terms: Vec<Option<Vec<u8>>> = stories
        .iter()
        .map(|s| s.index_terms.as_deref().map(term_ids_to_bytes))
        .collect();
    c.execute(
        "INSERT INTO stories(id, first_time, last_time, n_articles, n_events, centroid, last_seq,
                             live, norm_sum, centroid_norm, merge_checked_at, index_terms)
         SELECT id, ft, lt, na, ne, c, ls, 1, ns, cn, mc, it
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::bigint[],
                     $6::bytea[], $7::bigint[], $8::float8[], $9::float8[], $10::bigint[],
                     $11::bytea[]) AS u(id, ft, lt, na, ne, c, ls, ns, cn, mc, it)
         ON CONFLICT (id) DO UPDATE SET first_time = excluded.first_time,
           last_time = excluded.last_time, n_articles = excluded.n_articles,
           n_events = excluded.n_events, centroid = excluded.centroid,
           last_seq = excluded.last_seq, live = 1, norm_sum = excluded.norm_sum,
           centroid_norm = excluded.centroid_norm, merge_checked_at = excluded.merge_checked_at,
           index_terms = excluded.index_terms",
        &[
            &id,
            &first,
            &last,
            &n_articles,
            &n_events,
            &centroid,
            &last_seq,
            &norm_sum,
            &norm,
            &checked,
            &index_terms,
        ],
    )?;
    Ok(())
}

fn write_events(c: &mut Client, events: &[EventSnapshot]) -> PgResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let id: Vec<i64> = events.iter().map(|e| e.id.0).collect();
    let story: Vec<i64> = events.iter().map(|e| e.story.0).collect();
    let first: Vec<Option<String>> = events.iter().map(|e| time_to_sql(e.first_time)).collect();
    let last: Vec<Option<String>> = events.iter().map(|e| time_to_sql(e.last_time)).collect();
    let n_articles: Vec<i64> = events.iter().map(|e| int(e.n_articles)).collect();
    let centroid: Vec<Vec<u8>> = events
        .iter()
        .map(|e| weights_to_bytes(&e.centroid))
        .collect();
    let entities: Vec<String> = events.iter().map(entities_to_sql).collect();
    let last_seq: Vec<i64> = events.iter().map(|e| int(e.last_seq)).collect();
    let signals: Vec<String> = events.iter().map(signals_to_sql).collect();
    let norm: Vec<f64> = events.iter().map(|e| f64::from(e.centroid_norm)).collect();
    let checked: Vec<i64> = events.iter().map(|e| int(e.merge_checked_at)).collect();
    c.execute(
        "INSERT INTO events(id, story_id, first_time, last_time, n_articles, centroid, entities,
                            last_seq, live, signals, centroid_norm, merge_checked_at)
         SELECT id, st, ft, lt, na, c, en, ls, 1, sg, cn, mc
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::bigint[],
                     $6::bytea[], $7::text[], $8::bigint[], $9::text[], $10::float8[],
                     $11::bigint[])
              AS u(id, st, ft, lt, na, c, en, ls, sg, cn, mc)
         ON CONFLICT (id) DO UPDATE SET story_id = excluded.story_id,
           first_time = excluded.first_time, last_time = excluded.last_time,
           n_articles = excluded.n_articles, centroid = excluded.centroid,
           entities = excluded.entities, last_seq = excluded.last_seq, live = 1,
           signals = excluded.signals, centroid_norm = excluded.centroid_norm,
           merge_checked_at = excluded.merge_checked_at",
        &[
            &id,
            &story,
            &first,
            &last,
            &n_articles,
            &centroid,
            &entities,
            &last_seq,
            &signals,
            &norm,
            &checked,
        ],
    )?;
    Ok(())
}

fn write_articles(c: &mut Client, batch: &[NewArticle<'_>]) -> PgResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let id: Vec<i64> = batch.iter().map(|a| a.row_id.0).collect();
    let ext: Vec<&str> = batch.iter().map(|a| a.article.id.as_str()).collect();
    let title: Vec<Option<&str>> = batch.iter().map(|a| a.article.title.as_deref()).collect();
    let source: Vec<Option<&str>> = batch.iter().map(|a| a.article.source.as_deref()).collect();
    let url: Vec<Option<&str>> = batch.iter().map(|a| a.article.url.as_deref()).collect();
    let published: Vec<Option<String>> = batch
        .iter()
        .map(|a| time_to_sql(a.article.published))
        .collect();
    let lang: Vec<Option<&str>> = batch.iter().map(|a| a.article.lang.as_deref()).collect();
    let text: Vec<&str> = batch.iter().map(|a| a.article.text.as_str()).collect();
    let origin: Vec<&str> = batch.iter().map(|a| a.origin.as_str()).collect();
    // The bits as they are, as SQLite stores them.
    let fingerprint: Vec<i64> = batch.iter().map(|a| a.fingerprint as i64).collect();
    let minhash: Vec<Option<Vec<u8>>> = batch
        .iter()
        .map(|a| a.signature.map(Signature::to_bytes))
        .collect();
    let duplicate_of: Vec<Option<i64>> =
        batch.iter().map(|a| a.duplicate_of.map(|d| d.0)).collect();
    let event: Vec<i64> = batch.iter().map(|a| a.event.0).collect();
    let seq: Vec<i64> = batch.iter().map(|a| a.seq as i64).collect();
    let words = |s: &str| words_of(s).join(" ");
    let title_words: Vec<String> = batch
        .iter()
        .map(|a| words(a.article.title.as_deref().unwrap_or_default()))
        .collect();
    let text_words: Vec<String> = batch.iter().map(|a| words(&a.article.text)).collect();
    c.execute(
        "INSERT INTO articles(id, ext_id, title, source, url, published, lang, text, origin,
                              fingerprint, minhash, duplicate_of, event_id, seq, search)
         SELECT id, ext, ti, so, ur, pu, la, te, og, fp, mh, du, ev, sq,
                setweight(to_tsvector('simple', tw), 'A')
                || setweight(to_tsvector('simple', xw), 'B')
         FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::text[], $9::text[], $10::bigint[],
                     $11::bytea[], $12::bigint[], $13::bigint[], $14::bigint[], $15::text[],
                     $16::text[])
              AS u(id, ext, ti, so, ur, pu, la, te, og, fp, mh, du, ev, sq, tw, xw)",
        &[
            &id,
            &ext,
            &title,
            &source,
            &url,
            &published,
            &lang,
            &text,
            &origin,
            &fingerprint,
            &minhash,
            &duplicate_of,
            &event,
            &seq,
            &title_words,
            &text_words,
        ],
    )?;
    Ok(())
}

fn write_annotations(c: &mut Client, batch: &[NewArticle<'_>]) -> PgResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let id: Vec<i64> = batch.iter().map(|a| a.row_id.0).collect();
    let sentences: Vec<Vec<u8>> = batch
        .iter()
        .map(|a| annotations::encode_sentences(a.sentences))
        .collect();
    let mentions: Vec<Vec<u8>> = batch
        .iter()
        .map(|a| annotations::encode_mentions(a.mentions))
        .collect();
    let clauses: Vec<Option<&[u8]>> = batch.iter().map(|a| a.clauses).collect();
    c.execute(
        "INSERT INTO annotations(article_id, sentences, mentions, clauses)
         SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[])",
        &[&id, &sentences, &mentions, &clauses],
    )?;
    Ok(())
}

/// As on SQLite: every story the batch changed gets the batch's sequence number as its
/// revision; stories merged away lose their row.
fn write_revisions(c: &mut Client, changes: &ChangeSet, revision: u64) -> PgResult<()> {
    let mut bumped: Vec<i64> = changes.stories.iter().map(|s| s.id.0).collect();
    bumped.extend(
        changes
            .merged_stories
            .iter()
            .map(|&(from, _)| changes.resolve_story(from).0),
    );
    bumped.sort_unstable();
    bumped.dedup();
    c.execute(
        "INSERT INTO story_reports(story_id, revision) SELECT unnest($1::bigint[]), $2
         ON CONFLICT (story_id) DO UPDATE SET revision = excluded.revision",
        &[&bumped, &int(revision)],
    )?;
    let gone: Vec<i64> = changes.merged_stories.iter().map(|&(f, _)| f.0).collect();
    c.execute(
        "DELETE FROM story_reports WHERE story_id = ANY($1)",
        &[&gone],
    )?;
    Ok(())
}

/// As on SQLite: new terms, the batch's increments as one pending row, folded into `vocab`
/// every `VOCAB_FOLD_BATCHES` batches or before a term id is forgotten (and may be reused).
fn write_vocab(c: &mut Client, terms: &VocabChanges) -> PgResult<()> {
    // Replace semantics: a later entry for the same id wins, as `INSERT OR REPLACE` in order.
    let mut new_terms: HashMap<u32, &str> = HashMap::with_capacity(terms.new_terms.len());
    for (id, term) in &terms.new_terms {
        new_terms.insert(*id, term);
    }
    if !new_terms.is_empty() {
        let (ids, words): (Vec<i64>, Vec<&str>) = new_terms
            .into_iter()
            .map(|(id, t)| (i64::from(id), t))
            .unzip();
        c.execute(
            "INSERT INTO vocab(id, term, df) SELECT id, term, 0
             FROM unnest($1::bigint[], $2::text[]) AS u(id, term)
             ON CONFLICT (id) DO UPDATE SET term = excluded.term, df = 0, seen = 0",
            &[&ids, &words],
        )?;
    }
    if !terms.df_increments.is_empty() {
        c.execute(
            "INSERT INTO vocab_pending(increments, sweep) VALUES ($1, $2)",
            &[
                &increments_to_bytes(&terms.df_increments),
                &i64::from(terms.counted_in),
            ],
        )?;
    }
    let pending: i64 = c
        .query_one("SELECT count(*) FROM vocab_pending", &[])?
        .try_get(0)?;
    if !terms.forgotten.is_empty() || pending >= VOCAB_FOLD_BATCHES {
        let sum = pending_df(c)?;
        let mut ids = Vec::with_capacity(sum.len());
        let (mut incs, mut sweeps) = (Vec::with_capacity(sum.len()), Vec::with_capacity(sum.len()));
        for (id, (n, sweep)) in sum {
            ids.push(i64::from(id));
            incs.push(i64::from(n));
            sweeps.push(i64::from(sweep));
        }
        c.execute(
            "UPDATE vocab SET df = vocab.df + u.inc, seen = greatest(vocab.seen, u.sweep)
             FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS u(id, inc, sweep)
             WHERE vocab.id = u.id",
            &[&ids, &incs, &sweeps],
        )?;
        c.execute("DELETE FROM vocab_pending", &[])?;
    }
    if !terms.forgotten.is_empty() {
        let gone: Vec<i64> = terms.forgotten.iter().map(|&id| i64::from(id)).collect();
        c.execute("DELETE FROM vocab WHERE id = ANY($1)", &[&gone])?;
    }
    Ok(())
}

/// As on SQLite (`codec::pending_df`): increments logged since the last fold, summed per
/// term id, with the last sweep interval each term was counted in.
pub(super) fn pending_df(c: &mut Client) -> PgResult<HashMap<u32, (u32, u32)>> {
    let rows = c.query("SELECT increments, sweep FROM vocab_pending", &[])?;
    let rows = rows
        .iter()
        .map(|r| Ok((r.try_get::<_, Vec<u8>>(0)?, r.try_get::<_, i64>(1)?)))
        .collect::<PgResult<Vec<_>>>()?;
    Ok(sum_pending(rows.iter().map(|(blob, sweep)| {
        (
            increments_from_bytes(blob),
            u32::try_from(*sweep).unwrap_or(0),
        )
    })))
}
