//! The read side: assembles what a reader sees of a story (headline, cited summary,
//! timeline, entities, sources) from the store, with the same summarizer the evaluation uses.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::core::{Claim, Entity, EntityKind, EventId, Story, StoryId};
use crate::corroborate::{corroborate, EventFacts, FactSource};
use crate::error::Result;
use crate::extract::canonical_entities;
use crate::normalize::Stemmer;
use crate::placement::{place_undated, PlaceSource, Placement};
use crate::statements::{clauses, statements, EventStatements};
use crate::store::{Store, StoredArticle, StoryFilter, StoryRow};
use crate::summarize::{self, SourceDoc, SummaryConfig, Timeline, TimelineConfig};

/// One numbered source of a story.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SourceEntry {
    /// The number citations use: `[n]`.
    pub n: usize,
    pub id: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub url: Option<String>,
    /// `None`: undated.
    pub published: Option<DateTime<Utc>>,
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub event: EventId,
    /// The source number of the article this one copies, when it is a near-duplicate.
    pub copy_of: Option<usize>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventEntry {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: EventId,
    pub n_articles: usize,
    /// Source numbers of its articles.
    pub sources: Vec<usize>,
}

/// Everything `storyline show` prints about one story.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryReport {
    #[serde(flatten)]
    pub story: Story,
    pub summary: Vec<Claim>,
    pub timeline: Timeline,
    pub entities: Vec<Entity>,
    pub events: Vec<EventEntry>,
    /// Per event: facts the sources agree on, single-source facts, and conflicts.
    pub facts: Vec<EventFacts>,
    /// Per event: what two or more independent sources say, and what only one says.
    pub statements: Vec<EventStatements>,
    /// Undated articles whose text bounds when they were written ("after 2024-03-21"),
    /// with the reasons and quotes.
    pub placements: Vec<Placement>,
    pub sources: Vec<SourceEntry>,
}

/// Most entities a report lists: the main ones, by mentions.
const MAX_ENTITIES: usize = 25;

fn docs(articles: &[StoredArticle]) -> Vec<SourceDoc<'_>> {
    articles
        .iter()
        .map(|a| SourceDoc {
            article: &a.article,
            sentences: &a.sentences,
            is_copy: a
                .duplicate_of
                .is_some_and(|o| articles.iter().any(|x| x.row_id == o)),
        })
        .collect()
}

/// Stories, most recently active first, with headlines.
pub fn list_stories(store: &Store, limit: usize, offset: usize) -> Result<Vec<Story>> {
    store.snapshot(|s| with_headlines(s, s.stories(limit, offset)?))
}

/// A filtered page of stories with headlines, and how many stories match in all.
pub fn find_stories(
    store: &Store,
    filter: &StoryFilter,
    limit: usize,
    offset: usize,
) -> Result<(Vec<Story>, u64)> {
    // One snapshot: the total, the page and the headlines agree even while an ingest commits.
    store.snapshot(|s| {
        let (rows, total) = s.stories_filtered(filter, limit, offset)?;
        Ok((with_headlines(s, rows)?, total))
    })
}

/// The headline `stories` and `show` give a story.
pub(crate) fn story_headline(store: &Store, id: StoryId) -> Result<String> {
    Ok(summarize::headline(&docs(&store.story_articles(id)?)))
}

fn with_headlines(store: &Store, rows: Vec<StoryRow>) -> Result<Vec<Story>> {
    rows.into_iter()
        .map(|row| {
            let articles = store.story_articles(row.id)?;
            Ok(Story {
                id: row.id,
                headline: summarize::headline(&docs(&articles)),
                first_published: row.first_time,
                last_published: row.last_time,
                n_articles: row.n_articles as usize,
                n_events: row.n_events as usize,
            })
        })
        .collect()
}

pub fn story_report(store: &Store, id: StoryId) -> Result<StoryReport> {
    // The story row and its articles from one snapshot, so the counts match the sources
    // even when an ingest commits between the two reads.
    let (row, articles) = store.snapshot(|s| Ok((s.story(id)?, s.story_articles(id)?)))?;
    let docs = docs(&articles);
    let summary = summarize::summarize(&docs, &SummaryConfig::default());
    let timeline = summarize::timeline(&docs, &TimelineConfig::default());
    let entities: Vec<Entity> = canonical_entities(
        articles
            .iter()
            .flat_map(|a| a.mentions.iter().map(move |m| (a.article.id.as_str(), m))),
    )
    .into_iter()
    .filter(|e| e.kind != EntityKind::Other || e.articles.len() > 1)
    .take(MAX_ENTITIES)
    .collect();
    let number_of = |row_id| {
        articles
            .iter()
            .position(|a| a.row_id == row_id)
            .map(|i| i + 1)
    };
    let sources: Vec<SourceEntry> = articles
        .iter()
        .enumerate()
        .map(|(i, a)| SourceEntry {
            n: i + 1,
            id: a.article.id.clone(),
            title: a.article.title.clone(),
            source: a.article.source.clone(),
            url: a.article.url.clone(),
            published: a.article.published,
            event: a.event,
            copy_of: a.duplicate_of.and_then(number_of),
        })
        .collect();
    let mut events: Vec<EventEntry> = Vec::new();
    for s in &sources {
        match events.iter_mut().find(|e| e.id == s.event) {
            Some(e) => {
                e.n_articles += 1;
                e.sources.push(s.n);
            }
            None => events.push(EventEntry {
                id: s.event,
                n_articles: 1,
                sources: vec![s.n],
            }),
        }
    }
    let stemmer = Stemmer::english();
    let facts = events
        .iter()
        .map(|e| {
            let sources: Vec<FactSource<'_>> = e
                .sources
                .iter()
                .map(|&n| {
                    let a = &articles[n - 1];
                    FactSource {
                        n,
                        original: sources[n - 1].copy_of.unwrap_or(n),
                        article: &a.article,
                        sentences: &a.sentences,
                        facts: crate::extract::facts(&a.article.text, &a.sentences, &stemmer),
                    }
                })
                .collect();
            let facts = corroborate(e.id, &sources);
            let article_clauses: Vec<_> = sources
                .iter()
                .map(|s| clauses(&s.article.text, s.sentences, &stemmer))
                .collect();
            (facts, statements(e.id, &sources, &article_clauses))
        })
        .collect::<Vec<_>>();
    let (facts, statements): (Vec<EventFacts>, Vec<EventStatements>) = facts.into_iter().unzip();
    let placements = place_undated(
        &articles
            .iter()
            .enumerate()
            .map(|(i, a)| PlaceSource {
                n: i + 1,
                article: &a.article,
                sentences: &a.sentences,
                mentions: &a.mentions,
            })
            .collect::<Vec<_>>(),
    );
    Ok(StoryReport {
        story: Story {
            id,
            headline: summarize::headline(&docs),
            first_published: row.first_time,
            last_published: row.last_time,
            n_articles: row.n_articles as usize,
            n_events: row.n_events as usize,
        },
        summary,
        timeline,
        entities,
        events,
        facts,
        statements,
        placements,
        sources,
    })
}
