//! Browsing and search on PostgreSQL: SQLite's `query` with PostgreSQL's full-text search
//! (a `tsquery` built from the same [`Query`], `ts_rank` over the weighted `search` column,
//! `ts_headline` for snippets) in place of FTS5.

use std::collections::HashSet;

use postgres::Row;

use super::reads::{page, story_row};
use super::PgStore;
use crate::core::{Article, ArticleId, EventId, StoryId};
use crate::error::{Error, Result};
use crate::search::{Query, Term};
use crate::store::annotations;
use crate::store::codec::{time_from_sql, time_to_sql};
use crate::store::query::{rank, BooleanSyntax, Match};
use crate::store::{
    ArticleFilter, ArticleHit, ArticleRow, Changes, SearchHits, StoredArticle, StoryFilter,
    StoryHit, StoryRow,
};

type PgResult<T> = std::result::Result<T, postgres::Error>;

const ARTICLE_COLUMNS: &str = "a.id, a.ext_id, a.title, a.source, a.url, a.published, \
     a.event_id, e.story_id, (SELECT d.ext_id FROM articles d WHERE d.id = a.duplicate_of)";

/// The article filters, parameters $1–$4 (SQLite's `COLLATE NOCASE` becomes `lower`).
const ARTICLE_WHERE: &str = "($1::text IS NULL OR a.published >= $1)
     AND ($2::text IS NULL OR a.published < $2)
     AND ($3::text IS NULL OR lower(a.source) = lower($3))
     AND ($4::bigint IS NULL OR e.story_id = $4)";

/// Weights of the `search` column's classes D, C, B (text), A (title): a title match counts
/// four times a text match, as the FTS5 ranking's `bm25(articles_fts, 4.0, 1.0)`.
const WEIGHTS: &str = "'{0.1, 0.1, 0.25, 1.0}'";

fn article_row(r: &Row) -> PgResult<ArticleRow> {
    Ok(ArticleRow {
        row_id: ArticleId(r.try_get(0)?),
        id: r.try_get(1)?,
        title: r.try_get(2)?,
        source: r.try_get(3)?,
        url: r.try_get(4)?,
        published: time_from_sql(r.try_get(5)?),
        event: EventId(r.try_get(6)?),
        story: StoryId(r.try_get(7)?),
        duplicate_of: r.try_get(8)?,
    })
}

impl PgStore {
    pub fn stories_filtered(
        &self,
        filter: &StoryFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<StoryRow>, u64)> {
        // The names are in the encoded mention lists, which only Rust reads: the stories
        // whose articles name the entity are found first, then filtered on like the rest.
        let named: Option<Vec<i64>> = match &filter.entity {
            Some(name) => Some(self.stories_naming(name)?),
            None => None,
        };
        let cond =
            "($1::text IS NULL OR s.last_time >= $1) AND ($2::text IS NULL OR s.first_time < $2)
             AND ($3::bigint[] IS NULL OR s.id = ANY($3))
             AND ($4::text IS NULL OR EXISTS (SELECT 1 FROM events e
                    JOIN articles a ON a.event_id = e.id
                    WHERE e.story_id = s.id AND lower(a.source) = lower($4)))";
        let since = time_to_sql(filter.since);
        let before = time_to_sql(filter.before);
        let total = self
            .row(
                &format!("SELECT count(*) FROM stories s WHERE {cond}"),
                &[&since, &before, &named, &filter.source],
                |r| r.try_get::<_, i64>(0),
            )?
            .unwrap_or(0);
        let rows = self.rows(
            &format!(
                "SELECT s.id, s.first_time, s.last_time, s.n_articles, s.n_events FROM stories s
                 WHERE {cond}
                 ORDER BY s.last_time IS NULL, s.last_time DESC, s.n_articles DESC, s.id
                 LIMIT $5 OFFSET $6"
            ),
            &[
                &since,
                &before,
                &named,
                &filter.source,
                &page(limit),
                &page(offset),
            ],
            story_row,
        )?;
        Ok((rows, total.max(0) as u64))
    }

    /// The stories with an article that mentions `name` (ASCII case aside, as on SQLite).
    fn stories_naming(&self, name: &str) -> Result<Vec<i64>> {
        let rows = self.rows(
            "SELECT e.story_id, m.article_id, m.mentions FROM annotations m
             JOIN articles a ON a.id = m.article_id JOIN events e ON e.id = a.event_id",
            &[],
            |r| {
                Ok((
                    r.try_get::<_, i64>(0)?,
                    ArticleId(r.try_get(1)?),
                    r.try_get::<_, Vec<u8>>(2)?,
                ))
            },
        )?;
        let mut found = HashSet::new();
        for (story, article, blob) in rows {
            if !found.contains(&story)
                && annotations::mentions_name(&blob, name)
                    .map_err(|_| self.corrupt("mentions", article))?
            {
                found.insert(story);
            }
        }
        Ok(found.into_iter().collect())
    }

    pub fn articles_page(
        &self,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ArticleRow>, u64)> {
        let from = "FROM articles a JOIN events e ON e.id = a.event_id";
        let since = time_to_sql(filter.since);
        let before = time_to_sql(filter.before);
        let story = filter.story.map(|s| s.0);
        let total = self
            .row(
                &format!("SELECT count(*) {from} WHERE {ARTICLE_WHERE}"),
                &[&since, &before, &filter.source, &story],
                |r| r.try_get::<_, i64>(0),
            )?
            .unwrap_or(0);
        let rows = self.rows(
            &format!(
                "SELECT {ARTICLE_COLUMNS} {from} WHERE {ARTICLE_WHERE}
                 ORDER BY a.published IS NULL, a.published DESC, a.seq DESC LIMIT $5 OFFSET $6"
            ),
            &[
                &since,
                &before,
                &filter.source,
                &story,
                &page(limit),
                &page(offset),
            ],
            article_row,
        )?;
        Ok((rows, total.max(0) as u64))
    }

    pub fn article(&self, ext_id: &str) -> Result<(ArticleRow, StoredArticle)> {
        let found = self.row(
            &format!(
                "SELECT {ARTICLE_COLUMNS}, a.lang, a.text, a.duplicate_of
                 FROM articles a JOIN events e ON e.id = a.event_id WHERE a.ext_id = $1"
            ),
            &[&ext_id],
            |r| {
                let row = article_row(r)?;
                let stored = StoredArticle {
                    row_id: row.row_id,
                    article: Article {
                        id: row.id.clone(),
                        title: row.title.clone(),
                        source: row.source.clone(),
                        url: row.url.clone(),
                        published: row.published,
                        lang: r.try_get(9)?,
                        text: r.try_get(10)?,
                    },
                    event: row.event,
                    duplicate_of: r.try_get::<_, Option<i64>>(11)?.map(ArticleId),
                    sentences: Vec::new(),
                    mentions: Vec::new(),
                    clauses: None,
                };
                Ok((row, stored))
            },
        )?;
        let (row, mut stored) = found.ok_or_else(|| Error::NotFound {
            what: "article",
            id: ext_id.to_string(),
        })?;
        (stored.sentences, stored.mentions, stored.clauses) = self.annotations(row.row_id)?;
        Ok((row, stored))
    }

    /// Full-text search: every match with its score (`-ts_rank`, so lower is better as with
    /// BM25 on SQLite) and story, ranked by the engines' shared [`rank`]; rows and snippets
    /// only for the page shown.
    pub fn search_query(
        &self,
        query: &Query,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
        story_limit: usize,
    ) -> Result<SearchHits> {
        let tsq = tsquery(query);
        self.snapshot(|| self.search_in_snapshot(&tsq, filter, limit, offset, story_limit))
    }

    fn search_in_snapshot(
        &self,
        tsq: &str,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
        story_limit: usize,
    ) -> Result<SearchHits> {
        let since = time_to_sql(filter.since);
        let before = time_to_sql(filter.before);
        let story = filter.story.map(|s| s.0);
        let matches = self.rows(
            &format!(
                "SELECT a.id, -ts_rank({WEIGHTS}, a.search, q)::float8, e.story_id
                 FROM articles a JOIN events e ON e.id = a.event_id,
                      to_tsquery('simple', $5) AS q
                 WHERE a.search @@ q AND {ARTICLE_WHERE}"
            ),
            &[&since, &before, &filter.source, &story, &tsq],
            |r| {
                Ok(Match {
                    article: ArticleId(r.try_get(0)?),
                    score: r.try_get(1)?,
                    story: StoryId(r.try_get(2)?),
                })
            },
        )?;
        let (total, matches, stories) = rank(matches, limit, offset, story_limit);
        let mut articles = Vec::with_capacity(matches.len());
        for m in &matches {
            let found = self.row(
                &format!(
                    "SELECT {ARTICLE_COLUMNS},
                            ts_headline('simple', a.text, to_tsquery('simple', $2),
                                        'StartSel=' || chr(2) || ', StopSel=' || chr(3)
                                        || ', MaxWords=24, MinWords=12, ShortWord=0')
                     FROM articles a JOIN events e ON e.id = a.event_id WHERE a.id = $1"
                ),
                &[&m.article.0, &tsq],
                |r| Ok((article_row(r)?, r.try_get::<_, Option<String>>(9)?)),
            )?;
            let (article, snippet) = found.ok_or(Error::NotFound {
                what: "article row",
                id: m.article.to_string(),
            })?;
            articles.push(ArticleHit {
                article,
                score: m.score,
                snippet: snippet.unwrap_or_default(),
            });
        }
        let stories = stories
            .into_iter()
            .map(|(best, hits)| {
                let top_title = self
                    .row(
                        "SELECT title FROM articles WHERE id = $1",
                        &[&best.article.0],
                        |r| r.try_get::<_, Option<String>>(0),
                    )?
                    .flatten();
                Ok(StoryHit {
                    story: best.story,
                    score: best.score,
                    hits,
                    top_title,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(SearchHits {
            total,
            articles,
            stories,
        })
    }
}

/// One word as a `tsquery` operand: quoted, so that no character of it is read as syntax.
fn lexeme(word: &str, prefix: bool) -> String {
    let quoted = format!("'{}'", word.replace('\\', "\\\\").replace('\'', "''"));
    if prefix {
        quoted + ":*"
    } else {
        quoted
    }
}

/// A term: its words in a row (`<->`), the last one a prefix for `cease*`.
fn ts_term(t: &Term) -> String {
    let last = t.words.len().saturating_sub(1);
    let words: Vec<String> = t
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| lexeme(w, t.prefix && i == last))
        .collect();
    match words.len() {
        1 => words.join(""),
        _ => format!("({})", words.join(" <-> ")),
    }
}

/// A [`Query`] in `tsquery` syntax: `'a' & ('b' | 'c')`, and `(…) & !(…)` for exclusions.
pub(crate) fn tsquery(q: &Query) -> String {
    BooleanSyntax {
        term: ts_term,
        or: " | ",
        and: " & ",
        and_not: " & !",
    }
    .render(q)
}

/// What changed after a point, as SQLite's `live.rs` answers it.
impl PgStore {
    pub fn last_article(&self) -> Result<ArticleId> {
        let last: Option<Option<i64>> =
            self.row("SELECT max(id) FROM articles", &[], |r| r.try_get(0))?;
        Ok(ArticleId(last.flatten().unwrap_or(0)))
    }

    /// The articles stored after `after` and the stories they touched, at most `limit` of
    /// each, when the store's newest article, `last`, is past `after` (`Store::changes_since`
    /// answers the common case, nothing new, for both engines).
    pub fn changes_between(
        &self,
        after: ArticleId,
        last: ArticleId,
        limit: usize,
    ) -> Result<Changes> {
        let n_articles: i64 = self
            .row(
                "SELECT count(*) FROM articles WHERE id > $1",
                &[&after.0],
                |r| r.try_get(0),
            )?
            .unwrap_or(0);
        let limit = page(limit);
        let articles = self.rows(
            &format!(
                "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN events e ON e.id = a.event_id
                 WHERE a.id > $1 ORDER BY a.id DESC LIMIT $2"
            ),
            &[&after.0, &limit],
            article_row,
        )?;
        let stories = self.rows(
            "SELECT e.story_id, coalesce(r.revision, s.last_seq), max(a.id) AS newest
             FROM articles a JOIN events e ON e.id = a.event_id
             JOIN stories s ON s.id = e.story_id
             LEFT JOIN story_reports r ON r.story_id = e.story_id
             WHERE a.id > $1 GROUP BY e.story_id, r.revision, s.last_seq
             ORDER BY newest DESC LIMIT $2",
            &[&after.0, &limit],
            |r| {
                Ok((
                    StoryId(r.try_get(0)?),
                    r.try_get::<_, i64>(1)?.max(0) as u64,
                ))
            },
        )?;
        Ok(Changes {
            after,
            last,
            n_articles: n_articles.max(0) as u64,
            articles,
            stories,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_become_tsquery_phrases_and_operators() {
        let ts = |s: &str| tsquery(&Query::parse(s).expect("query"));
        assert_eq!(ts("U.S. ceasefire"), "('u' <-> 's') & 'ceasefire'");
        assert_eq!(ts("a OR b c"), "('a' | 'b') & 'c'");
        assert_eq!(ts("cease* NOT Egypt"), "('cease':*) & !'egypt'");
        assert_eq!(
            ts("gaza NOT egypt NOT \"west bank\""),
            "('gaza') & !('egypt' | ('west' <-> 'bank'))"
        );
    }
}
