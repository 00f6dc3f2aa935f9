//! The read side: assembles what a reader sees of a story (headline, cited summary,
//! timeline, entities, sources) from the store, with the same summarizer the evaluation uses.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};

use crate::core::{ArticleId, Claim, Entity, EntityKind, EventId, Story, StoryId};
use crate::corroborate::{corroborate, EventFacts, FactSource};
use crate::error::{Error, Result};
use crate::extract::canonical_entities;
use crate::normalize::{for_each_content_term, words, Stemmer};
use crate::placement::{place_undated, PlaceSource, Placement};
use crate::statements::{clauses, statements, Clause, EventStatements};
use crate::store::{
    decode_sources, encode_sources, ListedSource, OrderRow, Store, StoredArticle, StoredReport,
    StoryFilter, StoryRow,
};
use crate::summarize::{self, SentenceSpace, SourceDoc, SummaryConfig, Timeline, TimelineConfig};

/// One numbered source of a story.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEntry {
    #[cfg_attr(feature = "openapi", schema(value_type = i64))]
    pub id: EventId,
    pub n_articles: usize,
    /// Source numbers of its articles among the sources given (all of them unless paged).
    pub sources: Vec<usize>,
}

/// Everything `storyline show` prints about one story.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// The sources the summary, timeline, facts and statements cite, whatever page of
    /// `sources` is given.
    #[serde(default)]
    pub cited: Vec<SourceEntry>,
    /// Undated sources in the whole story.
    #[serde(default)]
    pub undated: usize,
    /// Sources in the whole story; `sources` holds a page of them (all unless paged).
    #[serde(default)]
    pub sources_total: usize,
    pub sources: Vec<SourceEntry>,
}

/// A story's report as stored: the report without its source list (bounded, whatever the
/// story's size), and the list itself as row ids, from which a page is read.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptReport {
    /// The story revision it was made at.
    pub revision: u64,
    /// `sources` and the events' `sources` empty.
    pub report: StoryReport,
    pub sources: Vec<ListedSource>,
}

impl KeptReport {
    /// A stored report, when it decodes (one of another build may not).
    fn from_stored(stored: StoredReport) -> Option<KeptReport> {
        Some(KeptReport {
            revision: stored.revision,
            report: serde_json::from_str(&stored.report).ok()?,
            sources: decode_sources(&stored.order)?,
        })
    }

    /// The report with the sources from `offset` on (at most `limit` of them, all without),
    /// read from the store by row, and each event's sources among them.
    pub fn page(&self, store: &Store, offset: usize, limit: Option<usize>) -> Result<StoryReport> {
        let start = offset.min(self.sources.len());
        let end = limit.map_or(self.sources.len(), |l| {
            start.saturating_add(l).min(self.sources.len())
        });
        let listed = &self.sources[start..end];
        let rows = store.source_rows(&listed.iter().map(|l| l.row_id).collect::<Vec<_>>())?;
        let sources: Vec<SourceEntry> = listed
            .iter()
            .zip(rows)
            .enumerate()
            .map(|(k, (l, r))| SourceEntry {
                n: start + k + 1,
                id: r.id,
                title: r.title,
                source: r.source,
                url: r.url,
                published: r.published,
                event: l.event,
                copy_of: l.copy_of,
            })
            .collect();
        let mut report = self.report.clone();
        let slot: HashMap<EventId, usize> = report
            .events
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id, i))
            .collect();
        for s in &sources {
            if let Some(&i) = slot.get(&s.event) {
                report.events[i].sources.push(s.n);
            }
        }
        report.sources = sources;
        report.sources_total = self.sources.len();
        Ok(report)
    }
}

/// Most entities a report lists: the main ones, by mentions.
const MAX_ENTITIES: usize = 25;

/// Most articles whose text a report reads. A story up to this size is read whole, so the
/// report of a small story is what it always was; a bigger one is represented by this many
/// originals chosen per event ([`chosen_articles`]), so a report costs about the same at 50
/// and at 50,000 articles. The source list, the events and their counts stay whole.
pub const REPORT_ARTICLES: usize = 64;

/// Most article text a big story's report reads, in bytes: its cost follows the text it
/// reads more than the number of articles (the statements compare every clause with every
/// other source's), so 64 long articles would cost several times 64 short ones. About 64
/// articles of 2,000 bytes; the first chosen article is read whatever its length.
pub const REPORT_TEXT: usize = 128_000;

/// Fewest candidates read per event of a big story before the choice (the first, the newest
/// and evenly spaced ones between); a story of few events gets more per event.
const CANDIDATES_PER_EVENT: usize = 6;

/// Most candidates read in all.
const MAX_CANDIDATES: usize = 2 * REPORT_ARTICLES;

/// How much of an article's text its centrality is judged on: the lead, where news puts
/// what it is about, and a bound on the cost of a very long article.
const CENTRALITY_BYTES: usize = 3_000;

/// How long the background refresh waits for the write lock an ingest holds.
const REFRESH_WAIT: Duration = Duration::from_secs(10);

fn docs(articles: &[StoredArticle]) -> Vec<SourceDoc<'_>> {
    let rows: HashSet<ArticleId> = articles.iter().map(|a| a.row_id).collect();
    articles
        .iter()
        .map(|a| SourceDoc {
            article: &a.article,
            sentences: &a.sentences,
            is_copy: a.duplicate_of.is_some_and(|o| rows.contains(&o)),
        })
        .collect()
}

/// Up to `k` of `members` (in date order): the first, the last (newest) and evenly spaced
/// ones between.
fn spread(members: &[usize], k: usize) -> Vec<usize> {
    let n = members.len();
    if n <= k {
        return members.to_vec();
    }
    let mut picks: Vec<usize> = (0..k)
        .map(|j| members[j * (n - 1) / (k - 1).max(1)])
        .collect();
    picks.dedup();
    picks
}

/// `picks` ordered from the most to the least central: the cosine of each one's lead terms
/// to the sum of all of them.
fn by_centrality(
    picks: &[usize],
    texts: &HashMap<usize, StoredArticle>,
    stemmer: &Stemmer,
) -> Vec<usize> {
    // Ordered maps: sums of floats taken in hash order differ in their last bits from run
    // to run, and near-ties then pick different articles (and headlines) for one story.
    let vectors: Vec<BTreeMap<String, f32>> = picks
        .iter()
        .map(|i| {
            let mut v: BTreeMap<String, f32> = BTreeMap::new();
            if let Some(a) = texts.get(i) {
                let text = &a.article.text;
                let mut end = text.len().min(CENTRALITY_BYTES);
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                // A term is owned only when new: most are repeats.
                for_each_content_term(words(&text[..end]), stemmer, |t| match v.get_mut(t) {
                    Some(x) => *x += 1.0,
                    None => {
                        v.insert(t.to_string(), 1.0);
                    }
                });
            }
            let norm = v.values().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
            v.values_mut().for_each(|x| *x /= norm);
            v
        })
        .collect();
    let mut centroid: BTreeMap<&str, f32> = BTreeMap::new();
    for v in &vectors {
        for (t, x) in v {
            *centroid.entry(t.as_str()).or_default() += x;
        }
    }
    let mut scored: Vec<(f32, usize)> = picks
        .iter()
        .zip(&vectors)
        .map(|(&i, v)| {
            let dot: f32 = v
                .iter()
                .map(|(t, x)| x * centroid.get(t.as_str()).copied().unwrap_or(0.0))
                .sum();
            (dot, i)
        })
        .collect();
    // Ties go to the earlier article, so the choice does not depend on hashing.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    scored.into_iter().map(|(_, i)| i).collect()
}

/// The articles a report is made from, in date order: the whole story up to
/// [`REPORT_ARTICLES`]; beyond, originals only (a copy says what its original says), taken
/// event by event, biggest events first, in rounds: each event's most central article,
/// then its newest, then its next most central, until [`REPORT_ARTICLES`] or
/// [`REPORT_TEXT`]. Candidates are read without their annotations, which are decoded for
/// the chosen only.
fn chosen_articles(store: &Store, rows: &[OrderRow]) -> Result<Vec<StoredArticle>> {
    if rows.len() <= REPORT_ARTICLES {
        let all: Vec<ArticleId> = rows.iter().map(|r| r.row_id).collect();
        return store.articles_by_row(&all);
    }
    // Fx maps: these are looked up once per article of the story, and never iterated.
    let in_story: FxHashSet<ArticleId> = rows.iter().map(|r| r.row_id).collect();
    let mut events: Vec<(EventId, Vec<usize>)> = Vec::new();
    let mut slot: FxHashMap<EventId, usize> = FxHashMap::default();
    for (i, r) in rows.iter().enumerate() {
        if r.duplicate_of.is_some_and(|o| in_story.contains(&o)) {
            continue;
        }
        let k = *slot.entry(r.event).or_insert_with(|| {
            events.push((r.event, Vec::new()));
            events.len() - 1
        });
        events[k].1.push(i);
    }
    // Biggest events first; among equals the most recent, then the lower id.
    events.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then_with(|| b.1.last().cmp(&a.1.last()))
            .then(a.0.cmp(&b.0))
    });
    // A story of few events gets more candidates from each.
    let per_event = CANDIDATES_PER_EVENT.max(MAX_CANDIDATES.div_ceil(events.len().max(1)));
    let mut pool: Vec<Vec<usize>> = Vec::new();
    let mut n_candidates = 0;
    for (_, members) in &events {
        if n_candidates >= MAX_CANDIDATES {
            break;
        }
        let picks = spread(members, per_event.min(MAX_CANDIDATES - n_candidates));
        n_candidates += picks.len();
        pool.push(picks);
    }
    let flat: Vec<usize> = pool.iter().flatten().copied().collect();
    let read =
        store.article_texts_by_row(&flat.iter().map(|&i| rows[i].row_id).collect::<Vec<_>>())?;
    let mut texts: HashMap<usize, StoredArticle> = flat.iter().copied().zip(read).collect();
    let stemmer = Stemmer::english();
    let ranked: Vec<Vec<usize>> = pool
        .iter()
        .map(|picks| {
            let central = by_centrality(picks, &texts, &stemmer);
            let newest = picks.last().copied();
            let mut order: Vec<usize> = Vec::with_capacity(central.len());
            for (k, &i) in central.iter().enumerate() {
                if k == 1 {
                    if let Some(n) = newest.filter(|n| !order.contains(n)) {
                        order.push(n);
                    }
                }
                if !order.contains(&i) {
                    order.push(i);
                }
            }
            order
        })
        .collect();
    let mut chosen: Vec<usize> = Vec::with_capacity(REPORT_ARTICLES);
    let mut text = 0;
    'rounds: for round in 0.. {
        let mut any = false;
        for order in &ranked {
            if let Some(&i) = order.get(round) {
                any = true;
                let len = texts.get(&i).map_or(0, |a| a.article.text.len());
                if !chosen.is_empty() && text + len > REPORT_TEXT {
                    break 'rounds;
                }
                text += len;
                chosen.push(i);
                if chosen.len() == REPORT_ARTICLES {
                    break 'rounds;
                }
            }
        }
        if !any {
            break;
        }
    }
    chosen.sort_unstable();
    let mut chosen: Vec<StoredArticle> = chosen
        .into_iter()
        .filter_map(|i| texts.remove(&i))
        .collect();
    store.annotate(&mut chosen)?;
    Ok(chosen)
}

/// Citations made against the chosen articles (1-based positions) turned into the story's
/// source numbers.
fn renumber(claims: &mut [Claim], number: &[usize]) {
    for c in claims {
        c.citations = c
            .citations
            .iter()
            .filter_map(|&k| k.checked_sub(1).and_then(|k| number.get(k)).copied())
            .collect();
    }
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

/// The headline `stories` and `show` give a story: the stored report's when it is current,
/// else made from the articles a report would be made from.
pub(crate) fn story_headline(store: &Store, id: StoryId) -> Result<String> {
    if let Some(stored) = store.story_report_row(id)?.current {
        return Ok(stored.headline);
    }
    let chosen = chosen_articles(store, &store.story_order(id)?)?;
    Ok(summarize::headline(&docs(&chosen)))
}

fn with_headlines(store: &Store, rows: Vec<StoryRow>) -> Result<Vec<Story>> {
    rows.into_iter()
        .map(|row| {
            Ok(Story {
                id: row.id,
                headline: story_headline(store, row.id)?,
                first_published: row.first_time,
                last_published: row.last_time,
                n_articles: row.n_articles as usize,
                n_events: row.n_events as usize,
            })
        })
        .collect()
}

/// A story's report with all its sources: the stored one when it was made at the story's
/// current revision, else made now (and stored for the next reader).
pub fn story_report(store: &Store, id: StoryId) -> Result<StoryReport> {
    story_report_at(store, id).map(|(_, r)| r)
}

/// [`story_report`] with the story revision it belongs to (a server's `ETag`).
pub fn story_report_at(store: &Store, id: StoryId) -> Result<(u64, StoryReport)> {
    story_report_page(store, id, 0, None)
}

/// A story's report with the page of its sources from `offset` on (at most `limit`, all
/// without), and the revision it belongs to: what `show` prints. Its cost does not grow
/// with the story but for the page asked.
pub fn story_report_page(
    store: &Store,
    id: StoryId,
    offset: usize,
    limit: Option<usize>,
) -> Result<(u64, StoryReport)> {
    let kept = current_report(store, id)?;
    Ok((kept.revision, kept.page(store, offset, limit)?))
}

/// A story's report at its current revision: the stored one, else made now and stored for
/// the next reader.
pub fn current_report(store: &Store, id: StoryId) -> Result<KeptReport> {
    let (kept, made) = store.snapshot(|s| {
        let row = s.story_report_row(id)?;
        // One that no longer decodes (another build's) is made again.
        if let Some(kept) = row.current.and_then(KeptReport::from_stored) {
            return Ok((kept, false));
        }
        let (report, sources) = make_report(s, id)?;
        let kept = KeptReport {
            revision: row.revision,
            report,
            sources,
        };
        Ok((kept, true))
    })?;
    if made {
        // Without waiting for an ingest's write lock, and never failing the read (a
        // read-only file): a report not stored is made again by the next reader.
        let _ = save(store, id, &kept, Duration::ZERO);
    }
    Ok(kept)
}

/// The story's last stored report, whatever revision it was made at (`None` when none is
/// stored, or it does not decode). Never makes one: what a busy server gives while the
/// current one is being made.
pub fn last_report(store: &Store, id: StoryId) -> Result<Option<KeptReport>> {
    Ok(store
        .last_story_report(id)?
        .and_then(KeptReport::from_stored))
}

/// A story's current revision alone: a cheap check whether a reader's copy is current.
pub fn story_revision(store: &Store, id: StoryId) -> Result<u64> {
    Ok(store.story_revisions(id)?.0)
}

fn save(store: &Store, id: StoryId, kept: &KeptReport, wait: Duration) -> Result<bool> {
    let json = serde_json::to_string(&kept.report)
        .map_err(|e| Error::Invalid(format!("the report of story {id} does not encode: {e}")))?;
    store.put_story_report(
        id,
        kept.revision,
        &kept.report.story.headline,
        &json,
        &encode_sources(&kept.sources),
        wait,
    )
}

/// Makes again and stores the reports of those of `ids` that have an outdated one; returns
/// how many were stored. Stories nobody has read have none and are left for their first
/// read, so an ingest of many stories nobody reads pays nothing for them.
pub fn refresh_reports(store: &Store, ids: &[StoryId]) -> Result<usize> {
    let mut stored = 0;
    for id in store.stale_reports(ids)? {
        let kept = match store.snapshot(|s| {
            let revision = s.story_report_row(id)?.revision;
            let (report, sources) = make_report(s, id)?;
            Ok(KeptReport {
                revision,
                report,
                sources,
            })
        }) {
            // Merged away since: nothing to refresh.
            Err(Error::NotFound { .. }) => continue,
            other => other?,
        };
        if save(store, id, &kept, REFRESH_WAIT)? {
            stored += 1;
        }
    }
    Ok(stored)
}

/// Refreshes stored reports ([`refresh_reports`]) on a thread of its own at a lower
/// priority, for the stories each committed batch changed; what arrives while it works is
/// done in one round, each story once, at its newest revision.
pub(crate) struct Refresher {
    to_thread: Option<std::sync::mpsc::Sender<Vec<StoryId>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Refresher {
    pub(crate) fn start(db: &std::path::Path) -> Result<Refresher> {
        let store = Store::open(db)?;
        let (to_thread, batches) = std::sync::mpsc::channel::<Vec<StoryId>>();
        let thread = std::thread::Builder::new()
            .name("storyline-reports".into())
            .spawn(move || {
                crate::pipeline::lower_this_thread_priority();
                while let Ok(first) = batches.recv() {
                    let mut ids: std::collections::BTreeSet<StoryId> = first.into_iter().collect();
                    while let Ok(more) = batches.try_recv() {
                        ids.extend(more);
                    }
                    let ids: Vec<StoryId> = ids.into_iter().collect();
                    // A failure costs freshness only: the next reader makes the report.
                    let _ = refresh_reports(&store, &ids);
                }
            })
            .map_err(|source| Error::Thread {
                stage: "reports",
                source,
            })?;
        Ok(Refresher {
            to_thread: Some(to_thread),
            thread: Some(thread),
        })
    }

    /// Stories a batch just committed changed.
    pub(crate) fn touched(&self, ids: Vec<StoryId>) {
        if let Some(t) = &self.to_thread {
            // Gone only if the thread panicked; readers then make reports themselves.
            let _ = t.send(ids);
        }
    }
}

impl Drop for Refresher {
    /// Finishes what was handed over, so an ingest ends with its readers' reports current.
    fn drop(&mut self) {
        drop(self.to_thread.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Makes a story's report from the store (inside the caller's snapshot): the report
/// without its sources, and the source list.
fn make_report(store: &Store, id: StoryId) -> Result<(StoryReport, Vec<ListedSource>)> {
    let row = store.story(id)?;
    let rows = store.story_order(id)?;
    let chosen = chosen_articles(store, &rows)?;
    // Fx maps: looked up once per article of the story, never iterated.
    let number_of: FxHashMap<ArticleId, usize> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (r.row_id, i + 1))
        .collect();
    let numbers: Vec<usize> = chosen
        .iter()
        .map(|a| number_of.get(&a.row_id).copied().unwrap_or(0))
        .collect();
    let docs = docs(&chosen);
    // One sentence space for the summary, the timeline and the headline: the same TF-IDF
    // vectors each would make apart.
    let space = SentenceSpace::new(&docs);
    let mut summary = summarize::summarize_in(&space, &SummaryConfig::default());
    renumber(&mut summary, &numbers);
    let mut timeline = summarize::timeline_in(&space, &TimelineConfig::default());
    for entry in &mut timeline.dated {
        renumber(&mut entry.sentences, &numbers);
    }
    renumber(&mut timeline.undated, &numbers);
    let entities: Vec<Entity> = canonical_entities(
        chosen
            .iter()
            .flat_map(|a| a.mentions.iter().map(move |m| (a.article.id.as_str(), m))),
    )
    .into_iter()
    .filter(|e| e.kind != EntityKind::Other || e.articles.len() > 1)
    .take(MAX_ENTITIES)
    .collect();
    let listed: Vec<ListedSource> = rows
        .iter()
        .map(|r| ListedSource {
            row_id: r.row_id,
            event: r.event,
            copy_of: r.duplicate_of.and_then(|o| number_of.get(&o).copied()),
        })
        .collect();
    let mut events: Vec<EventEntry> = Vec::new();
    let mut event_slot: FxHashMap<EventId, usize> = FxHashMap::default();
    for s in &listed {
        let k = *event_slot.entry(s.event).or_insert_with(|| {
            events.push(EventEntry {
                id: s.event,
                n_articles: 0,
                sources: Vec::new(),
            });
            events.len() - 1
        });
        events[k].n_articles += 1;
    }
    let cited: Vec<SourceEntry> = chosen
        .iter()
        .zip(&numbers)
        .map(|(a, &n)| SourceEntry {
            n,
            id: a.article.id.clone(),
            title: a.article.title.clone(),
            source: a.article.source.clone(),
            url: a.article.url.clone(),
            published: a.article.published,
            event: a.event,
            copy_of: n
                .checked_sub(1)
                .and_then(|i| listed.get(i))
                .and_then(|l| l.copy_of),
        })
        .collect();
    let stemmer = Stemmer::english();
    let mut chosen_in: HashMap<EventId, Vec<(usize, &StoredArticle)>> = HashMap::new();
    for (a, &n) in chosen.iter().zip(&numbers) {
        chosen_in.entry(a.event).or_default().push((n, a));
    }
    // Facts per event from its chosen articles; an event none was chosen from has none.
    let facts = events
        .iter()
        .filter_map(|e| {
            let members = chosen_in.get(&e.id)?;
            let sources: Vec<FactSource<'_>> = members
                .iter()
                .map(|&(n, a)| FactSource {
                    n,
                    original: n
                        .checked_sub(1)
                        .and_then(|i| listed.get(i))
                        .and_then(|s| s.copy_of)
                        .unwrap_or(n),
                    article: &a.article,
                    sentences: &a.sentences,
                    facts: crate::extract::facts(&a.article.text, &a.sentences, &stemmer),
                })
                .collect();
            let facts = corroborate(e.id, &sources);
            // Made at ingest; an article stored before that gets them made here.
            let article_clauses: Vec<Cow<'_, [Clause]>> = members
                .iter()
                .map(|&(_, a)| match &a.clauses {
                    Some(stored) => Cow::Borrowed(stored.as_slice()),
                    None => Cow::Owned(clauses(&a.article.text, &a.sentences, &stemmer)),
                })
                .collect();
            Some((facts, statements(e.id, &sources, &article_clauses)))
        })
        .collect::<Vec<_>>();
    let (facts, statements): (Vec<EventFacts>, Vec<EventStatements>) = facts.into_iter().unzip();
    // Placed from the chosen articles, by their numbers among all the story's sources.
    let placements = place_undated(
        &chosen
            .iter()
            .zip(&numbers)
            .map(|(a, &n)| PlaceSource {
                n,
                article: &a.article,
                sentences: &a.sentences,
                mentions: &a.mentions,
            })
            .collect::<Vec<_>>(),
    );
    let report = StoryReport {
        story: Story {
            id,
            headline: summarize::headline_in(&space),
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
        cited,
        undated: rows.iter().filter(|r| !r.dated).count(),
        sources_total: listed.len(),
        sources: Vec::new(),
    };
    Ok((report, listed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::IngestError;
    use crate::ingest::{expand_paths, read_path, Record};
    use crate::pipeline::{Pipeline, PipelineConfig};
    use std::path::Path;

    fn seeds() -> Vec<Record> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
        let files = expand_paths(&[dir]).unwrap();
        let records: Vec<Record> = files
            .iter()
            .flat_map(|f| read_path(f, None))
            .collect::<std::result::Result<_, IngestError>>()
            .unwrap();
        assert!(
            records.len() >= 3,
            "the seeds are a story of several articles"
        );
        records
    }

    fn ingest(db: &Path, records: Vec<Record>) {
        let mut p = Pipeline::open(db, PipelineConfig::default()).unwrap();
        let report = p.ingest(records.into_iter().map(Ok), |_| {}).unwrap();
        assert!(report.errors.is_empty(), "{:?}", report.errors);
    }

    /// The story's report as a fresh make gives it, at its current revision.
    fn made(store: &Store, id: StoryId) -> KeptReport {
        store
            .snapshot(|s| {
                let revision = s.story_report_row(id)?.revision;
                let (report, sources) = make_report(s, id)?;
                Ok(KeptReport {
                    revision,
                    report,
                    sources,
                })
            })
            .unwrap()
    }

    fn biggest_story(store: &Store) -> StoryRow {
        store
            .stories(1000, 0)
            .unwrap()
            .into_iter()
            .max_by_key(|s| s.n_articles)
            .unwrap()
    }

    /// A reporter's version of `text`: a sentence in three dropped, a word in five swapped
    /// with the next, so no two versions are near-duplicates of each other.
    fn version(text: &str, k: u64) -> String {
        let mut x = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut out = String::new();
        for line in text.lines() {
            for (n, sentence) in line.split_inclusive(". ").enumerate() {
                if n > 0 && next() % 3 == 0 {
                    continue;
                }
                let mut words: Vec<&str> = sentence.split(' ').collect();
                for i in 0..words.len().saturating_sub(1) {
                    if next() % 5 == 0 {
                        words.swap(i, i + 1);
                    }
                }
                out.push_str(&words.join(" "));
            }
            out.push('\n');
        }
        out
    }

    #[test]
    fn a_read_stores_the_report_a_fresh_make_gives_and_the_next_batch_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        let seeds = seeds();
        ingest(&db, seeds.clone());
        let store = Store::open(&db).unwrap();
        let story = biggest_story(&store);
        let before = store.story_report_row(story.id).unwrap();
        assert!(before.current.is_none(), "no report before the first read");

        let (revision, first) = story_report_at(&store, story.id).unwrap();
        assert_eq!(revision, before.revision);
        let stored = store.story_report_row(story.id).unwrap();
        let stored = stored.current.expect("the first read stores the report");
        assert_eq!(stored.headline, first.story.headline);
        let decoded = KeptReport::from_stored(stored).unwrap();
        let fresh = made(&store, story.id);
        assert_eq!(decoded, fresh);
        let whole = fresh.page(&store, 0, None).unwrap();
        assert_eq!(first, whole);
        assert_eq!(first.sources.len(), story.n_articles as usize);
        assert_eq!(first.sources_total, story.n_articles as usize);
        assert_eq!(story_report(&store, story.id).unwrap(), whole);

        // A later batch adds to the story: a new revision, and the stored report (which a
        // reader had asked for) is made again behind the writer.
        let mut more = seeds[0].clone();
        more.article.id = format!("{}-again", more.article.id);
        more.article.text = version(&more.article.text, 7);
        ingest(&db, vec![more]);
        let after = store.story_report_row(story.id).unwrap();
        assert!(
            after.revision > revision,
            "{} then {}",
            revision,
            after.revision
        );
        let stored = after.current.expect("the ingest refreshed the read report");
        let refreshed = KeptReport::from_stored(stored).unwrap();
        assert_eq!(
            refreshed.report.story.n_articles,
            story.n_articles as usize + 1
        );
        assert_eq!(refreshed.sources.len(), story.n_articles as usize + 1);
        assert_eq!(refreshed, made(&store, story.id));
        assert_ne!(refreshed.page(&store, 0, None).unwrap(), first);
    }

    #[test]
    fn a_report_made_for_an_older_revision_is_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        ingest(&db, seeds());
        let store = Store::open(&db).unwrap();
        let story = biggest_story(&store);
        let revision = story_revision(&store, story.id).unwrap();
        // A report stored at another revision, as one left by a reader before a batch.
        assert!(store
            .put_story_report(story.id, revision, "old", "{}", &[], Duration::ZERO)
            .unwrap());
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute(
            "UPDATE story_reports SET revision = revision + 1 WHERE story_id = ?1",
            [story.id],
        )
        .unwrap();
        assert!(store.story_report_row(story.id).unwrap().current.is_none());
        let report = story_report(&store, story.id).unwrap();
        assert_ne!(report.story.headline, "old");
        // And a report for a revision the story has moved past is not stored.
        assert!(!store
            .put_story_report(story.id, revision, "old", "{}", &[], Duration::ZERO)
            .unwrap());
    }

    /// 40 rewrites of each seed, as distinct articles: `text(seed's text, a number that
    /// differs for each)` gives each one's text.
    fn seed_versions(text: impl Fn(&str, u64) -> String) -> Vec<Record> {
        let seeds = seeds();
        let mut records = Vec::new();
        for k in 0..40u64 {
            for s in &seeds {
                let mut r = s.clone();
                r.article.id = format!("{}-v{k}", r.article.id);
                r.article.text = text(&s.article.text, k * 31 + s.article.text.len() as u64);
                records.push(r);
            }
        }
        records
    }

    #[test]
    fn a_big_story_is_reported_from_a_bounded_choice_of_originals_from_every_event() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        ingest(&db, seed_versions(version));
        let store = Store::open(&db).unwrap();
        let story = biggest_story(&store);
        assert!(story.n_articles as usize > 2 * REPORT_ARTICLES, "{story:?}");
        let rows = store.story_order(story.id).unwrap();
        let chosen = chosen_articles(&store, &rows).unwrap();
        // Bounded by articles or by text, whichever comes first: the next article would
        // have passed the text bound.
        let text: usize = chosen.iter().map(|a| a.article.text.len()).sum();
        assert!(
            chosen.len() <= REPORT_ARTICLES && text <= REPORT_TEXT,
            "{text}"
        );
        let longest = store
            .article_texts_by_row(&rows.iter().map(|r| r.row_id).collect::<Vec<_>>())
            .unwrap()
            .iter()
            .map(|a| a.article.text.len())
            .max()
            .unwrap();
        assert!(
            chosen.len() == REPORT_ARTICLES || text + longest > REPORT_TEXT,
            "{} articles, {text} bytes",
            chosen.len()
        );
        // Each chosen article is read whole, with the sentences and mentions stored for
        // it, though the candidates were read without them.
        let whole = store
            .articles_by_row(&chosen.iter().map(|a| a.row_id).collect::<Vec<_>>())
            .unwrap();
        assert_eq!(format!("{chosen:?}"), format!("{whole:?}"));
        assert!(chosen.iter().all(|a| !a.sentences.is_empty()));
        let in_story: HashSet<ArticleId> = rows.iter().map(|r| r.row_id).collect();
        assert!(chosen
            .iter()
            .all(|a| !a.duplicate_of.is_some_and(|o| in_story.contains(&o))));
        // In date order, each once.
        let position: HashMap<ArticleId, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.row_id, i))
            .collect();
        let at: Vec<usize> = chosen.iter().map(|a| position[&a.row_id]).collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
        // Every event with an original is represented while there are fewer events than
        // places, and the newest original of the biggest event is in.
        let mut originals: HashMap<EventId, Vec<usize>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            if !r.duplicate_of.is_some_and(|o| in_story.contains(&o)) {
                originals.entry(r.event).or_default().push(i);
            }
        }
        let events: HashSet<EventId> = chosen.iter().map(|a| a.event).collect();
        if originals.len() <= REPORT_ARTICLES {
            assert_eq!(events.len(), originals.len());
        }
        let biggest = originals.values().max_by_key(|v| v.len()).unwrap();
        assert!(at.contains(biggest.last().unwrap()));

        // The report cites the story's own numbering and lists every source.
        let report = story_report(&store, story.id).unwrap();
        assert_eq!(report.sources.len(), rows.len());
        let chosen_numbers: HashSet<usize> = at.iter().map(|i| i + 1).collect();
        let cited: Vec<usize> = report
            .summary
            .iter()
            .chain(report.timeline.dated.iter().flat_map(|e| &e.sentences))
            .flat_map(|c| c.citations.iter().copied())
            .collect();
        assert!(!cited.is_empty());
        assert!(
            cited.iter().all(|n| chosen_numbers.contains(n)),
            "{cited:?}"
        );
        // The sentence's own article is among its citations, under its story number.
        for claim in &report.summary {
            assert!(
                claim
                    .citations
                    .iter()
                    .any(|&n| report.sources[n - 1].id == claim.article),
                "{claim:?}"
            );
        }
    }

    #[test]
    fn a_big_story_of_long_articles_is_reported_from_at_most_the_text_bound() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        // Articles three versions long: 64 of them would be far more text than the bound.
        let records = seed_versions(|text, seed| {
            (0..3)
                .map(|j| version(text, seed * 3 + j))
                .collect::<Vec<_>>()
                .join("\n")
        });
        ingest(&db, records);
        let store = Store::open(&db).unwrap();
        let story = biggest_story(&store);
        let rows = store.story_order(story.id).unwrap();
        assert!(rows.len() > 2 * REPORT_ARTICLES, "{story:?}");
        let all = store
            .article_texts_by_row(&rows.iter().map(|r| r.row_id).collect::<Vec<_>>())
            .unwrap();
        let shortest = all.iter().map(|a| a.article.text.len()).min().unwrap();
        assert!(REPORT_ARTICLES * shortest > REPORT_TEXT, "{shortest}");
        let chosen = chosen_articles(&store, &rows).unwrap();
        let text: usize = chosen.iter().map(|a| a.article.text.len()).sum();
        assert!(
            text <= REPORT_TEXT,
            "{} articles, {text} bytes",
            chosen.len()
        );
        // The bound is used, not undershot: one more article would pass it.
        let longest = all.iter().map(|a| a.article.text.len()).max().unwrap();
        assert!(text + longest > REPORT_TEXT, "{text}");
        assert!(chosen.len() > 1 && chosen.len() < REPORT_ARTICLES);
        // And the report of the story is made from them.
        let report = story_report(&store, story.id).unwrap();
        assert_eq!(report.cited.len(), chosen.len());
        assert_eq!(report.sources_total, rows.len());
    }

    /// Every record of `paths` under `../shared`.
    fn shared_records(paths: &[&str]) -> Vec<Record> {
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
        let paths: Vec<_> = paths.iter().map(|p| shared.join(p)).collect();
        expand_paths(&paths)
            .unwrap()
            .iter()
            .flat_map(|f| read_path(f, None))
            .collect::<std::result::Result<_, IngestError>>()
            .unwrap()
    }

    fn made_reports(store: &Store, stories: &[StoryRow]) -> Vec<StoryReport> {
        stories
            .iter()
            .map(|s| store.snapshot(|x| make_report(x, s.id)).unwrap().0)
            .collect()
    }

    #[test]
    fn reports_from_the_clauses_stored_at_ingest_are_the_reports_from_clauses_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("r.db");
        ingest(
            &db,
            shared_records(&[
                "data/cluster/gvc-dev/articles.jsonl",
                "data/compare/newswcl50/articles.jsonl",
            ]),
        );
        let store = Store::open(&db).unwrap();
        let stories = store.stories(10_000, 0).unwrap();
        assert!(stories.len() > 50, "{}", stories.len());
        // Each article's stored clauses are what its text gives.
        let stemmer = Stemmer::english();
        let mut n_clauses = 0;
        for s in &stories {
            let rows: Vec<ArticleId> = store
                .story_order(s.id)
                .unwrap()
                .iter()
                .map(|r| r.row_id)
                .collect();
            for a in store.articles_by_row(&rows).unwrap() {
                let made = clauses(&a.article.text, &a.sentences, &stemmer);
                n_clauses += made.len();
                assert_eq!(a.clauses.as_ref(), Some(&made), "{}", a.article.id);
            }
        }
        assert!(n_clauses > 5_000, "{n_clauses}");
        let from_stored = made_reports(&store, &stories);
        let said = |reports: &[StoryReport]| -> usize {
            reports
                .iter()
                .flat_map(|r| &r.statements)
                .map(|s| s.n_agreed + s.n_single_source)
                .sum()
        };
        let agreed: usize = from_stored
            .iter()
            .flat_map(|r| &r.statements)
            .map(|s| s.n_agreed)
            .sum();
        assert!(agreed > 100 && said(&from_stored) > 1000, "{agreed}");

        // As a store from before clauses were stored: made from the text, the same reports.
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute("UPDATE annotations SET clauses = NULL", [])
            .unwrap();
        assert!(store.articles_by_row(&[ArticleId(1)]).unwrap()[0]
            .clauses
            .is_none());
        let made_again = made_reports(&store, &stories);
        for (a, b) in from_stored.iter().zip(&made_again) {
            assert!(a == b, "story {}", a.story.id);
        }

        // The stored clauses are what a report reads: stored as none, no statements.
        conn.execute(
            "UPDATE annotations SET clauses = ?1",
            [crate::store::encode_clauses(&[])],
        )
        .unwrap();
        assert_eq!(said(&made_reports(&store, &stories)), 0);

        // A damaged blob is an error naming what and where, never a panic.
        conn.execute(
            "UPDATE annotations SET clauses = x'01ff' WHERE article_id = 1",
            [],
        )
        .unwrap();
        let error = store.articles_by_row(&[ArticleId(1)]).unwrap_err();
        assert!(
            error.to_string().contains("the clauses of article row 1"),
            "{error}"
        );
    }

    #[test]
    fn spread_keeps_the_first_and_the_newest() {
        let members: Vec<usize> = (10..30).collect();
        assert_eq!(spread(&members, 4), vec![10, 16, 22, 29]);
        assert_eq!(spread(&members[..3], 4), vec![10, 11, 12]);
    }
}
