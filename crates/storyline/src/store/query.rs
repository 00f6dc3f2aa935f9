//! Read queries for browsing and search: filtered story and article pages, one article with
//! its analysis, and FTS5 search. Kept apart from `mod.rs` (the write side) but still the
//! store: no other module writes SQL, and only this one speaks FTS5's query syntax.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{time_from_sql, time_to_sql, SqliteStore, StoredArticle, StoryRow};
use crate::core::{Article, ArticleId, EventId, StoryId};
use crate::error::{Error, Result};
use crate::search::{Query, Term};

/// Which stories a listing keeps. Every field is optional; `None` keeps everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoryFilter {
    /// Stories with news at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Stories with news before this time.
    pub before: Option<DateTime<Utc>>,
    /// Stories where some article mentions this name (case-insensitive, as written).
    pub entity: Option<String>,
    /// Stories with an article from this source (case-insensitive).
    pub source: Option<String>,
}

/// Which articles a listing or search keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleFilter {
    pub since: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    pub source: Option<String>,
    pub story: Option<StoryId>,
}

/// An article without its text: what lists and search results show.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleRow {
    pub row_id: ArticleId,
    pub id: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub event: EventId,
    pub story: StoryId,
    /// External id of the article this one copies.
    pub duplicate_of: Option<String>,
}

/// One search hit: an article, its BM25 score (lower is better, as SQLite gives it) and a
/// snippet of its text with matches between `SNIPPET_START` and `SNIPPET_END`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleHit {
    pub article: ArticleRow,
    pub score: f64,
    pub snippet: String,
}

/// Stories ranked by their best-matching article.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryHit {
    pub story: StoryId,
    pub score: f64,
    /// Matching articles in the story.
    pub hits: u64,
    /// Title of the best-matching article.
    pub top_title: Option<String>,
}

/// What one search finds.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHits {
    /// Matching articles (after the filters), over all pages.
    pub total: u64,
    /// The requested page of articles, best first.
    pub articles: Vec<ArticleHit>,
    /// The best stories, by their best-matching article.
    pub stories: Vec<StoryHit>,
}

/// One matching article as the ranking sees it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Match {
    pub(super) score: f64,
    pub(super) article: ArticleId,
    pub(super) story: StoryId,
}

impl Match {
    /// Best BM25 first (SQLite's scores are lower for better matches), then article id, so
    /// pages are stable.
    fn rank_cmp(&self, other: &Match) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then(self.article.cmp(&other.article))
    }
}

/// Markers around matched terms in snippets: control characters, which never occur in
/// cleaned article text, so callers can split on them without escaping rules.
pub const SNIPPET_START: char = '\u{2}';
pub const SNIPPET_END: char = '\u{3}';

/// Title matches count more than body matches.
const BM25: &str = "bm25(articles_fts, 4.0, 1.0)";

pub(super) const ARTICLE_COLUMNS: &str = "a.id, a.ext_id, a.title, a.source, a.url, a.published, \
     a.event_id, e.story_id, (SELECT d.ext_id FROM articles d WHERE d.id = a.duplicate_of)";

const ARTICLE_WHERE: &str = "(?1 IS NULL OR a.published >= ?1) AND (?2 IS NULL OR a.published < ?2)
     AND (?3 IS NULL OR a.source = ?3 COLLATE NOCASE) AND (?4 IS NULL OR e.story_id = ?4)";

pub(super) fn article_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ArticleRow> {
    Ok(ArticleRow {
        row_id: r.get(0)?,
        id: r.get(1)?,
        title: r.get(2)?,
        source: r.get(3)?,
        url: r.get(4)?,
        published: time_from_sql(r.get(5)?),
        event: r.get(6)?,
        story: r.get(7)?,
        duplicate_of: r.get(8)?,
    })
}

impl SqliteStore {
    /// A page of stories, most recently active first, and how many match in all.
    pub fn stories_filtered(
        &self,
        filter: &StoryFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<StoryRow>, u64)> {
        let cond = format!(
            "(?1 IS NULL OR s.last_time >= ?1) AND (?2 IS NULL OR s.first_time < ?2)
             AND (?3 IS NULL OR EXISTS (SELECT 1 FROM events e
                    JOIN articles a ON a.event_id = e.id JOIN annotations m ON m.article_id = a.id
                    WHERE e.story_id = s.id AND {mentions_name}(m.mentions, ?3)))
             AND (?4 IS NULL OR EXISTS (SELECT 1 FROM events e
                    JOIN articles a ON a.event_id = e.id
                    WHERE e.story_id = s.id AND a.source = ?4 COLLATE NOCASE))",
            mentions_name = super::annotations::MENTIONS_NAME_FN
        );
        let p = params![
            time_to_sql(filter.since),
            time_to_sql(filter.before),
            filter.entity,
            filter.source
        ];
        let total: u64 = self
            .conn
            .query_row(
                &format!("SELECT count(*) FROM stories s WHERE {cond}"),
                p,
                |r| r.get(0),
            )
            .map_err(|e| self.e(e))?;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT s.id, s.first_time, s.last_time, s.n_articles, s.n_events FROM stories s
                 WHERE {cond}
                 ORDER BY s.last_time IS NULL, s.last_time DESC, s.n_articles DESC, s.id
                 LIMIT ?5 OFFSET ?6"
            ))
            .map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map(
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.entity,
                    filter.source,
                    limit as i64,
                    offset as i64
                ],
                Self::story_row,
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))?;
        Ok((rows, total))
    }

    /// A page of articles, newest first (undated last), and how many match in all.
    pub fn articles_page(
        &self,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
    ) -> Result<(Vec<ArticleRow>, u64)> {
        let from = "FROM articles a JOIN events e ON e.id = a.event_id";
        let total: u64 = self
            .conn
            .query_row(
                &format!("SELECT count(*) {from} WHERE {ARTICLE_WHERE}"),
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.source,
                    filter.story
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.e(e))?;
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ARTICLE_COLUMNS} {from} WHERE {ARTICLE_WHERE}
                 ORDER BY a.published IS NULL, a.published DESC, a.seq DESC LIMIT ?5 OFFSET ?6"
            ))
            .map_err(|e| self.e(e))?;
        let rows = stmt
            .query_map(
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.source,
                    filter.story,
                    limit as i64,
                    offset as i64
                ],
                article_row,
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| self.e(e))?;
        Ok((rows, total))
    }

    /// One article by its external id, with text, sentences and mentions.
    pub fn article(&self, ext_id: &str) -> Result<(ArticleRow, StoredArticle)> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {ARTICLE_COLUMNS}, a.lang, a.text, a.duplicate_of
                     FROM articles a JOIN events e ON e.id = a.event_id WHERE a.ext_id = ?1"
                ),
                [ext_id],
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
                            lang: r.get(9)?,
                            text: r.get(10)?,
                        },
                        event: row.event,
                        duplicate_of: r.get(11)?,
                        sentences: Vec::new(),
                        mentions: Vec::new(),
                        clauses: None,
                    };
                    Ok((row, stored))
                },
            )
            .optional()
            .map_err(|e| self.e(e))?;
        let (row, mut stored) = found.ok_or_else(|| Error::NotFound {
            what: "article",
            id: ext_id.to_string(),
        })?;
        (stored.sentences, stored.mentions, stored.clauses) = self.annotations(row.row_id)?;
        Ok((row, stored))
    }

    /// Full-text search over titles and texts: a page of articles, best BM25 first, and the
    /// stories ranked by their best-matching article.
    ///
    /// The match runs once: every matching article comes back with only its score and story
    /// (from covering indexes, never the wide article rows), the article page and the story
    /// ranking are both taken from that list, and only the rows shown are then read in full.
    pub fn search_query(
        &self,
        query: &Query,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
        story_limit: usize,
    ) -> Result<SearchHits> {
        let fts = fts5_query(query);
        self.snapshot(|s| s.search_in_snapshot(&fts, filter, limit, offset, story_limit))
    }

    fn search_in_snapshot(
        &self,
        query: &str,
        filter: &ArticleFilter,
        limit: usize,
        offset: usize,
        story_limit: usize,
    ) -> Result<SearchHits> {
        // CROSS JOIN keeps the FTS table as the outer loop (its auxiliary functions need the
        // MATCH to drive the scan); INDEXED BY makes SQLite read the narrow key indexes
        // instead of the article rows, which hold the whole text.
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT articles_fts.rowid, {BM25}, e.story_id
                 FROM articles_fts CROSS JOIN articles a INDEXED BY articles_keys
                      CROSS JOIN events e INDEXED BY events_keys
                 WHERE articles_fts MATCH ?5 AND a.id = articles_fts.rowid
                       AND e.id = a.event_id AND {ARTICLE_WHERE}"
            ))
            .map_err(|e| self.e(e))?;
        let matches: Vec<Match> = stmt
            .query_map(
                params![
                    time_to_sql(filter.since),
                    time_to_sql(filter.before),
                    filter.source,
                    filter.story,
                    query
                ],
                |r| {
                    Ok(Match {
                        score: r.get(1)?,
                        article: r.get(0)?,
                        story: r.get(2)?,
                    })
                },
            )
            .and_then(|rows| rows.collect())
            .map_err(|e| self.search_error(e, query))?;
        let (total, matches, stories) = rank(matches, limit, offset, story_limit);

        let mut row_stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ARTICLE_COLUMNS} FROM articles a JOIN events e ON e.id = a.event_id
                 WHERE a.id = ?1"
            ))
            .map_err(|e| self.e(e))?;
        // Snippets only for the page shown: building one for every match of a common word
        // would cost more than the ranking.
        let mut snip = self
            .conn
            .prepare_cached(
                "SELECT snippet(articles_fts, 1, char(2), char(3), '…', 24) FROM articles_fts
                 WHERE articles_fts MATCH ?1 AND rowid = ?2",
            )
            .map_err(|e| self.e(e))?;
        let mut articles = Vec::with_capacity(matches.len());
        for m in &matches {
            let article = row_stmt
                .query_row([m.article], article_row)
                .map_err(|e| self.e(e))?;
            let snippet = snip
                .query_row(params![query, m.article], |r| r.get::<_, Option<String>>(0))
                .optional()
                .map_err(|e| self.search_error(e, query))?
                .flatten()
                .unwrap_or_default();
            articles.push(ArticleHit {
                article,
                score: m.score,
                snippet,
            });
        }

        let mut title_stmt = self
            .conn
            .prepare_cached("SELECT title FROM articles WHERE id = ?1")
            .map_err(|e| self.e(e))?;
        let stories = stories
            .into_iter()
            .map(|(best, hits)| {
                let top_title = title_stmt
                    .query_row([best.article], |r| r.get::<_, Option<String>>(0))
                    .map_err(|e| self.e(e))?;
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

    /// [`fts5_query`] writes only what FTS5 parses (the property tests hold it to that), so
    /// a syntax error here is a bug; it still names the query rather than only the store.
    fn search_error(&self, e: rusqlite::Error, query: &str) -> Error {
        if let rusqlite::Error::SqliteFailure(f, Some(msg)) = &e {
            if f.code == rusqlite::ErrorCode::Unknown {
                return Error::Invalid(format!("search {query:?} failed: {msg}"));
            }
        }
        self.e(e)
    }
}

/// The ranking both engines share: how many matched, the page of articles `offset..`
/// `offset + limit` best first, and the best `story_limit` stories with their best match and
/// match count.
pub(super) fn rank(
    mut matches: Vec<Match>,
    limit: usize,
    offset: usize,
    story_limit: usize,
) -> (u64, Vec<Match>, Vec<(Match, u64)>) {
    let total = matches.len() as u64;

    // Stories: best (lowest) score, ties to the lower article id, and the match count.
    let mut by_story: HashMap<StoryId, (Match, u64)> = HashMap::new();
    for m in &matches {
        by_story
            .entry(m.story)
            .and_modify(|(best, n)| {
                *n += 1;
                if m.rank_cmp(best).is_lt() {
                    *best = *m;
                }
            })
            .or_insert((*m, 1));
    }
    let mut stories: Vec<(Match, u64)> = by_story.into_values().collect();
    stories.sort_unstable_by(|a, b| {
        a.0.score
            .total_cmp(&b.0.score)
            .then(a.0.story.cmp(&b.0.story))
    });
    stories.truncate(story_limit);

    // The article page: partition around its end, then sort only what is kept.
    let end = offset.saturating_add(limit).min(matches.len());
    if offset >= end {
        matches.clear();
    } else {
        if end < matches.len() {
            matches.select_nth_unstable_by(end, Match::rank_cmp);
            matches.truncate(end);
        }
        matches.sort_unstable_by(Match::rank_cmp);
        matches.drain(..offset);
    }

    (total, matches, stories)
}

/// One term as an FTS5 string: its words quoted, so FTS5 reads them as a phrase and never as
/// syntax, with `*` after the closing quote for a prefix.
fn fts5_term(t: &Term) -> String {
    let words = t.words.join(" ").replace('"', "\"\"");
    if t.prefix {
        format!("\"{words}\"*")
    } else {
        format!("\"{words}\"")
    }
}

/// How an engine's query language spells a term and the three operators: the one shape
/// both FTS5 and `tsquery` share, `all AND … NOT (any of the excluded)`.
pub(crate) struct BooleanSyntax {
    pub term: fn(&Term) -> String,
    pub or: &'static str,
    pub and: &'static str,
    /// Between the wanted part (in brackets) and the excluded terms.
    pub and_not: &'static str,
}

impl BooleanSyntax {
    fn any(&self, terms: &[Term]) -> String {
        match terms {
            [one] => (self.term)(one),
            _ => format!(
                "({})",
                terms
                    .iter()
                    .map(self.term)
                    .collect::<Vec<_>>()
                    .join(self.or)
            ),
        }
    }

    /// `q` in this syntax: the groups joined by `and`, each group's terms by `or`.
    pub(crate) fn render(&self, q: &Query) -> String {
        let all = q
            .all
            .iter()
            .map(|g| self.any(g))
            .collect::<Vec<_>>()
            .join(self.and);
        if q.exclude.is_empty() {
            all
        } else {
            format!("({all}){}{}", self.and_not, self.any(&q.exclude))
        }
    }
}

/// A [`Query`] in FTS5 syntax: `"a" AND ("b" OR "c")`, and `(…) NOT (…)` for exclusions.
pub(crate) fn fts5_query(q: &Query) -> String {
    BooleanSyntax {
        term: fts5_term,
        or: " OR ",
        and: " AND ",
        and_not: " NOT ",
    }
    .render(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Bad FTS syntax → `Error::Invalid` needs a non-empty index (SQLite skips parsing the
    // query on an empty one); `storyline-server/tests/api.rs` checks it on the seeds.
    #[test]
    fn search_on_an_empty_store_finds_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = crate::store::Store::open(&dir.path().join("s.db")).expect("open");
        let f = ArticleFilter::default();
        for q in ["blinken", "\"two words\""] {
            let hits = store.search(q, &f, 10, 0, 10).expect("search");
            assert_eq!(hits.total, 0);
            assert!(hits.articles.is_empty() && hits.stories.is_empty());
        }
    }

    /// The two statements search used before it ran the match once: the ranking the single
    /// pass must reproduce.
    fn reference(
        store: &SqliteStore,
        q: &str,
        f: &ArticleFilter,
    ) -> (Vec<(String, f64)>, Vec<StoryHit>) {
        let p = params![
            time_to_sql(f.since),
            time_to_sql(f.before),
            f.source,
            f.story,
            q
        ];
        let mut stmt = store
            .conn
            .prepare(&format!(
                "WITH f AS MATERIALIZED (SELECT rowid, {BM25} AS score FROM articles_fts
                                         WHERE articles_fts MATCH ?5)
                 SELECT a.ext_id, f.score
                 FROM f JOIN articles a ON a.id = f.rowid JOIN events e ON e.id = a.event_id
                 WHERE {ARTICLE_WHERE} ORDER BY f.score, a.id"
            ))
            .expect("prepare");
        let articles = stmt
            .query_map(p, |r| Ok((r.get(0)?, r.get(1)?)))
            .and_then(|rows| rows.collect())
            .expect("articles");
        let mut stmt = store
            .conn
            .prepare(&format!(
                "WITH f AS MATERIALIZED (SELECT rowid, {BM25} AS score FROM articles_fts
                                         WHERE articles_fts MATCH ?5)
                 SELECT e.story_id, min(f.score), count(*), a.title
                 FROM f JOIN articles a ON a.id = f.rowid JOIN events e ON e.id = a.event_id
                 WHERE {ARTICLE_WHERE}
                 GROUP BY e.story_id ORDER BY min(f.score), e.story_id"
            ))
            .expect("prepare");
        let stories = stmt
            .query_map(p, |r| {
                Ok(StoryHit {
                    story: r.get(0)?,
                    score: r.get(1)?,
                    hits: r.get(2)?,
                    top_title: r.get(3)?,
                })
            })
            .and_then(|rows| rows.collect())
            .expect("stories");
        (articles, stories)
    }

    #[test]
    fn one_pass_search_ranks_pages_and_filters_like_the_plain_queries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("s.db")).expect("open");
        // 60 synthetic articles over 6 stories (12 events), with repeated texts so that
        // scores tie, two sources and dates over two years.
        let words = ["ferry", "harbour", "storm", "council", "budget", "bridge"];
        let mut sql = String::new();
        for story in 1..=6 {
            sql += &format!(
                "INSERT INTO stories(id, n_articles, n_events, centroid, last_seq)
                 VALUES ({story}, 10, 2, x'', 1);"
            );
        }
        for event in 1..=12 {
            let story = (event + 1) / 2;
            sql += &format!(
                "INSERT INTO events(id, story_id, n_articles, centroid, entities, last_seq)
                 VALUES ({event}, {story}, 5, x'', '{{}}', 1);"
            );
        }
        for id in 1..=60 {
            let event = (id * 7) % 12 + 1;
            let w1 = words[id % 6];
            let w2 = words[(id / 6) % 6];
            let source = if id % 3 == 0 { "Wire A" } else { "wire b" };
            let month = id % 12 + 1;
            let year = 2020 + id % 2;
            let text =
                format!("The {w1} and the {w2} were news. The {w1} again.").repeat(id % 4 + 1);
            sql += &format!(
                "INSERT INTO articles(id, ext_id, title, source, published, text, origin,
                   fingerprint, event_id, seq)
                 VALUES ({id}, 'a{id}', 'About the {w2}', '{source}',
                   '{year}-{month:02}-01T00:00:00Z', '{text}', 'test', 0, {event}, {id});"
            );
        }
        // As `commit_batch` does: the search index is filled per batch, not per row.
        sql += "INSERT INTO articles_fts(rowid, title, text) SELECT id, title, text FROM articles;";
        store.conn.execute_batch(&sql).expect("fill");

        let date = |y, m| chrono::TimeZone::with_ymd_and_hms(&Utc, y, m, 1, 0, 0, 0).single();
        let filters = [
            ArticleFilter::default(),
            ArticleFilter {
                since: date(2020, 6),
                before: date(2021, 3),
                ..ArticleFilter::default()
            },
            ArticleFilter {
                source: Some("WIRE B".into()),
                ..ArticleFilter::default()
            },
            ArticleFilter {
                story: Some(StoryId(3)),
                ..ArticleFilter::default()
            },
        ];
        for q in [
            "ferry",
            "the",
            "storm OR bridge",
            "\"the ferry\"",
            "bud*",
            "zebra",
        ] {
            let parsed = Query::parse(q).expect("query");
            for f in &filters {
                let (want, want_stories) = reference(&store, q, f);
                for (limit, offset) in [(20, 0), (7, 5), (10, 55), (3, 1000)] {
                    let got = store
                        .search_query(&parsed, f, limit, offset, 4)
                        .expect("search");
                    assert_eq!(got.total, want.len() as u64, "{q} {f:?}");
                    let page: Vec<(String, f64)> = got
                        .articles
                        .iter()
                        .map(|h| (h.article.id.clone(), h.score))
                        .collect();
                    let want_page: Vec<(String, f64)> =
                        want.iter().skip(offset).take(limit).cloned().collect();
                    assert_eq!(page, want_page, "{q} {f:?} {limit}+{offset}");
                    let want_top: Vec<StoryHit> = want_stories.iter().take(4).cloned().collect();
                    assert_eq!(got.stories.len(), want_top.len(), "{q} {f:?}");
                    for (g, w) in got.stories.iter().zip(&want_top) {
                        assert_eq!((g.story, g.score, g.hits), (w.story, w.score, w.hits));
                        // The title is the best article's; on a tie SQLite's pick is
                        // arbitrary, so compare only where the best score is unique.
                        let best: Vec<&(String, f64)> =
                            want.iter().filter(|(_, s)| *s == w.score).collect();
                        if best.len() == 1 {
                            assert_eq!(g.top_title, w.top_title, "{q} story {}", w.story);
                        }
                    }
                    for h in &got.articles {
                        if q != "zebra" {
                            assert!(h.snippet.contains(SNIPPET_START), "{q}: {}", h.snippet);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn queries_become_fts5_phrases_and_operators() {
        let fts = |s: &str| fts5_query(&Query::parse(s).expect("query"));
        assert_eq!(fts("U.S. ceasefire"), r#""u s" AND "ceasefire""#);
        assert_eq!(fts("Blinken's"), r#""blinken s""#);
        assert_eq!(fts("hostages: 40"), r#""hostages" AND "40""#);
        assert_eq!(fts("a OR b c"), r#"("a" OR "b") AND "c""#);
        assert_eq!(fts("cease* NOT Egypt"), r#"("cease"*) NOT "egypt""#);
        assert_eq!(
            fts("gaza NOT egypt NOT \"west bank\""),
            r#"("gaza") NOT ("egypt" OR "west bank")"#
        );
    }

    /// An FTS5 table like the store's, with a little text, so that MATCH parses its query
    /// (SQLite skips parsing on an empty index).
    fn fts_table() -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().expect("memory db");
        conn.execute_batch(
            "CREATE VIRTUAL TABLE t USING fts5(title, text);
             INSERT INTO t VALUES ('U.S. envoy', 'Blinken''s visit: hostages, 40 of them, café');
             INSERT INTO t VALUES ('Saudi-Arabia', 'ceasefire talks in Gaza (Egypt)');",
        )
        .expect("fts table");
        conn
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever is typed, reading it never panics and what the store sends FTS5 parses.
        #[test]
        fn every_typed_query_reads_and_parses_in_fts5(
            input in proptest::string::string_regex(
                r#"([A-Za-zé0-9]{1,6}|OR|NOT|AND|NEAR|[\"*()'.:\-+^{}\[\],;&|!?#@$%~/\\ ]|[\PC]){0,12}"#
            ).expect("regex")
        ) {
            let conn = fts_table();
            if let Ok(q) = Query::parse(&input) {
                let fts = fts5_query(&q);
                let n: rusqlite::Result<i64> = conn.query_row(
                    "SELECT count(*) FROM t WHERE t MATCH ?1",
                    [&fts],
                    |r| r.get(0),
                );
                proptest::prop_assert!(n.is_ok(), "{input:?} -> {fts}: {n:?}");
            }
        }

        /// Any string at all, including control characters and lone operators.
        #[test]
        fn any_string_reads_without_panic(input in "\\PC*|.*") {
            let conn = fts_table();
            if let Ok(q) = Query::parse(&input) {
                proptest::prop_assert!(q.all.iter().all(|g| !g.is_empty()));
                let fts = fts5_query(&q);
                let n: rusqlite::Result<i64> =
                    conn.query_row("SELECT count(*) FROM t WHERE t MATCH ?1", [&fts], |r| r.get(0));
                proptest::prop_assert!(n.is_ok(), "{input:?} -> {fts}: {n:?}");
            }
        }
    }
}
