//! Placing an article: into the best live event, or a new event placed in the best live
//! story or a new one.

use chrono::{DateTime, Utc};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use super::index::{MAX_CANDIDATES, STORY_INDEX_TERMS};
use super::merge::{Events, Stories, MERGE_ROUNDS};
use super::particulars;
use super::score::{beats, days_apart, weighted_overlap};
use super::state::{prune_entities, EventSignals, EventState, StoryState};
use super::vector::{self, ArticleVector, Centroid, StableMap, TermId};
use super::{ArticleFeatures, Assignment, ClusterConfig, Clusterer};
use crate::core::{EventId, StoryId};

/// Texts that must use an acronym as a word before a run of names spelling it counts it:
/// one could be a chance spelling, or the article itself.
const ACRONYM_MIN_DF: u32 = 2;

impl Clusterer {
    /// Assigns one article. Articles must come in date order within a run for the time
    /// windows to mean anything; undated ones may come anywhere.
    pub fn assign(&mut self, features: &ArticleFeatures) -> Assignment {
        self.seq += 1;
        if let Some(t) = features.time {
            if self.clock.is_none_or(|c| t > c) {
                self.clock = Some(t);
            }
        }
        let mut counts = self.vocab.counts(&features.terms);
        self.add_acronyms(&mut counts, &features.acronyms);
        self.vocab.add_document(&counts);
        let (vector, norm) = ArticleVector::of_counts(&counts, &self.vocab);
        // A report that names the day its news happened is placed at that day, when its
        // pace is slow enough for a day to mean something (the clock stays with publication).
        let time = match features.happened {
            Some(day)
                if self.config.pace(vector.len()).1
                    >= ClusterConfig::NAMED_DAY_MIN_HALF_LIFE_DAYS =>
            {
                Some(day)
            }
            _ => features.time,
        };
        let entities: HashSet<&str> = features.entities.iter().map(String::as_str).collect();

        let copy_target = features
            .copy_of_event
            .map(|e| self.resolve(e))
            .filter(|e| self.events.contains_key(e));
        // The article's terms by weight, heaviest first (ties to the lower id), ranked once
        // for both candidate lookups.
        let mut ranked: Vec<(TermId, f32)> = vector.terms.clone();
        ranked.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let ranked: Vec<TermId> = ranked.into_iter().map(|(t, _)| t).collect();
        let names: Vec<TermId> = features
            .name_keys
            .iter()
            .filter_map(|&k| self.vocab.id_of(k))
            .collect();
        let (best, similarity) = match copy_target {
            Some(e) => (Some(e), 1.0),
            None => {
                let article = (
                    counts.as_slice(),
                    self.protagonist_of_counts(&counts, &names),
                );
                self.best_event(&vector, &ranked, &entities, features, time, article)
            }
        };
        let (mut event, new_event, new_story) = match best {
            Some(event_id) => {
                self.add_to_event(event_id, (&counts, &names), norm, features, time);
                (event_id, false, false)
            }
            None => {
                let (story, new_story) =
                    self.story_for_new_event(&vector, &ranked, &entities, time);
                let id = self.next_event;
                self.next_event = self.next_event.next();
                let mut centroid = Centroid::default();
                centroid.add(&counts, &self.vocab, self.config.max_centroid_terms);
                let mut ents = HashMap::default();
                for e in &features.entities {
                    *ents.entry(e.clone()).or_default() += 1;
                }
                let mut signals = EventSignals {
                    names: Some(HashSet::default()),
                    particulars: Some(HashMap::default()),
                    ..EventSignals::default()
                };
                signals.add(
                    (&features.years, &features.series),
                    features.embedding.as_deref(),
                    norm,
                    self.vocab.idf_level(),
                );
                signals.add_names(&names, &centroid);
                signals.add_particulars(&features.particulars);
                let event = EventState {
                    id,
                    story,
                    first_time: time,
                    last_time: time,
                    n_articles: 1,
                    centroid,
                    entities: ents,
                    last_seq: self.seq,
                    signals,
                    merge_checked_at: 0,
                };
                self.index.file_event(&event);
                self.events.insert(id, event);
                self.dirty.events.insert(id);
                self.update_story(story, &counts, norm, time, true);
                (id, true, new_story)
            }
        };
        if let Some(s) = self
            .events
            .get(&event)
            .map(|e| e.story)
            .filter(|_| self.story_entities_used())
        {
            let ents = self.story_entities.entry(s).or_default();
            for k in &features.entities {
                *ents.entry(k.clone()).or_default() += 1.0;
            }
        }
        // An event that has just merged is a new centroid and may now be close to a third,
        // which no article may come to check: check it again, a few rounds at most
        // (googlenews-dev F1 0.836 -> 0.839, NMI 0.904 -> 0.905).
        for round in 0..=MERGE_ROUNDS {
            if round > 0 {
                if let Some(e) = self.events.get_mut(&event) {
                    e.merge_checked_at = 0;
                }
            }
            let merges = self.dirty.merged_events.len();
            event = self.maybe_merge::<Events>(event, vector.len());
            if self.dirty.merged_events.len() == merges {
                break;
            }
        }
        let story = self.events.get(&event).map_or(StoryId(0), |e| e.story);
        let story = self.maybe_merge::<Stories>(story, vector.len());
        Assignment {
            event,
            story,
            new_event,
            new_story,
            similarity,
        }
    }

    /// Adds to an article's term counts the acronyms its opening spells that the stream
    /// uses as words (in [`ACRONYM_MIN_DF`] texts or more), unless it uses them itself.
    fn add_acronyms(&self, counts: &mut Vec<(TermId, f32)>, acronyms: &[u64]) {
        let weight = self.config.acronym_weight;
        if weight <= 0.0 || acronyms.is_empty() {
            return;
        }
        let before = counts.len();
        for &key in acronyms {
            let Some(id) = self.vocab.id_of(key) else {
                continue;
            };
            if self.vocab.df(id) >= ACRONYM_MIN_DF
                && counts[..before].binary_search_by_key(&id, |c| c.0).is_err()
            {
                counts.push((id, weight));
            }
        }
        if counts.len() > before {
            counts.sort_unstable_by_key(|c| c.0);
            counts.dedup_by_key(|c| c.0);
        }
    }

    /// The live event the article joins, with its score; none when no event is close
    /// enough, or two are about as close.
    fn best_event(
        &self,
        vector: &ArticleVector,
        ranked: &[TermId],
        entities: &HashSet<&str>,
        f: &ArticleFeatures,
        time: Option<DateTime<Utc>>,
        (counts, protagonist): (&[(TermId, f32)], Option<TermId>),
    ) -> (Option<EventId>, f32) {
        let candidates = self.index.candidate_events(entities, ranked);
        let cfg = &self.config;
        let threshold = cfg.blended(cfg.event_threshold, cfg.mean_threshold, vector.len());
        let burst_days = cfg.burst_minutes / (24.0 * 60.0);
        let (window, half_life) = cfg.pace(vector.len());
        let mut best: Option<(EventId, f32)> = None;
        // Events over the threshold: (id, score before the protagonist penalty, after it,
        // or NEG_INFINITY when that fell under the threshold).
        let mut over_threshold: Vec<(EventId, f32, f32)> = Vec::new();
        let judge_particulars = cfg.judges_particulars(vector.len());
        for (id, shared) in candidates {
            let Some(e) = self.events.get(&id) else {
                continue;
            };
            let gap = days_apart(time, e.first_time, e.last_time);
            if gap.is_some_and(|g| g > window) {
                continue;
            }
            if shared < cfg.min_shared_keys && gap.is_none_or(|g| g > burst_days) {
                continue;
            }
            let half_lives = gap.map(|g| g / half_life);
            let mut score = self.score(e, vector, entities, f, (time, half_lives), threshold);
            if score < threshold {
                continue;
            }
            let raw = score;
            let said = |t: TermId| {
                counts
                    .binary_search_by_key(&t, |c| c.0)
                    .map_or(0.0, |i| vector::sublinear(counts[i].1))
            };
            let one_sided = e.n_articles >= cfg.protagonist_absent_articles;
            if self.protagonists_differ(
                protagonist,
                (&e.centroid, e.signals.names.as_ref()),
                said,
                one_sided,
            ) {
                score *= cfg.protagonist_penalty;
                if score < threshold {
                    over_threshold.push((id, raw, f32::NEG_INFINITY));
                    continue;
                }
            }
            if judge_particulars && particulars::differ(cfg, &f.particulars, e) {
                score *= cfg.particulars_penalty;
                if score < threshold {
                    over_threshold.push((id, raw, f32::NEG_INFINITY));
                    continue;
                }
            }
            over_threshold.push((id, raw, score));
            if beats(best, id, score) {
                best = Some((id, score));
            }
        }
        // The best other score. An event the article is closer to in words than to its best,
        // but whose protagonist differs, counts with its words: the article does not settle
        // for a farther event. On NewsWCL50 the first report of Mueller's questions for Trump
        // scored 0.249 on the DNC's lawsuit, whose protagonist it lacks, and otherwise joined
        // Comey's memos (0.245).
        let second = match best {
            Some((bid, bs)) => over_threshold
                .iter()
                .filter(|p| p.0 != bid)
                .map(|&(_, raw, score)| if raw > bs { raw } else { score })
                .fold(f32::NEG_INFINITY, f32::max),
            None => f32::NEG_INFINITY,
        };
        let margin = cfg.ambiguity_margin * cfg.link_share(vector.len());
        match best {
            Some((_, s)) if margin > 0.0 && second >= s * (1.0 - margin) => (None, 0.0),
            Some((id, s)) => (Some(id), s),
            None => (None, 0.0),
        }
    }

    /// Adds the article to event `id` and its story; returns the story.
    fn add_to_event(
        &mut self,
        id: EventId,
        (counts, names): (&[(TermId, f32)], &[TermId]),
        norm: f32,
        f: &ArticleFeatures,
        time: Option<DateTime<Utc>>,
    ) -> StoryId {
        let max_terms = self.config.max_centroid_terms;
        let Some(mut e) = self.events.remove(&id) else {
            return StoryId(0);
        };
        // Re-file only what changes: new terms and entities in, pruned terms out.
        // Re-filing all of a large event's terms on every article cost a tenth of ingest.
        let new_terms: Vec<TermId> = counts
            .iter()
            .map(|c| c.0)
            .filter(|t| !e.centroid.holds(*t))
            .collect();
        let dropped = e.centroid.add(counts, &self.vocab, max_terms);
        for t in dropped {
            self.index.unfile_term(t, id);
            if let Some(n) = &mut e.signals.names {
                n.remove(&t);
            }
        }
        for t in new_terms {
            if e.centroid.holds(t) {
                self.index.file_term(t, id);
            }
        }
        for ent in &f.entities {
            match e.entities.get_mut(ent) {
                Some(n) => *n += 1,
                None => {
                    e.entities.insert(ent.clone(), 1);
                    self.index.file_entity(ent.clone(), id);
                }
            }
        }
        for gone in prune_entities(&mut e.entities) {
            self.index.unfile_entity(&gone, id);
        }
        let level = self.vocab.idf_level();
        e.signals
            .add((&f.years, &f.series), f.embedding.as_deref(), norm, level);
        e.signals.add_names(names, &e.centroid);
        e.signals.add_particulars(&f.particulars);
        e.n_articles += 1;
        if let Some(t) = time {
            e.first_time = Some(e.first_time.map_or(t, |x| x.min(t)));
            e.last_time = Some(e.last_time.map_or(t, |x| x.max(t)));
        }
        e.last_seq = self.seq;
        let story = e.story;
        self.events.insert(id, e);
        self.dirty.events.insert(id);
        self.update_story(story, counts, norm, time, false);
        story
    }

    /// The live story a new event of this article joins, or a new one; whether it is new.
    fn story_for_new_event(
        &mut self,
        vector: &ArticleVector,
        ranked: &[TermId],
        entities: &HashSet<&str>,
        time: Option<DateTime<Utc>>,
    ) -> (StoryId, bool) {
        let article_entities: StableMap<String, f32> = if self.story_entities_used() {
            entities.iter().map(|e| (e.to_string(), 1.0)).collect()
        } else {
            StableMap::default()
        };
        let cfg = &self.config;
        let threshold = cfg.blended(cfg.story_threshold, cfg.story_mean_threshold, vector.len());
        let terms = &ranked[..ranked.len().min(STORY_INDEX_TERMS)];
        let level = self.vocab.idf_level();
        let mut best: Option<(StoryId, f32)> = None;
        for id in self
            .index
            .candidate_stories(terms, StoryId(0), MAX_CANDIDATES)
        {
            let Some(s) = self.stories.get(&id) else {
                continue;
            };
            let gap = days_apart(time, s.first_time, s.last_time);
            if gap.is_some_and(|g| g > cfg.story_window_days) {
                continue;
            }
            let mut score = self.lexical_blend(&s.centroid, s.norm_sum_at(level), vector);
            if self.story_entities_used() {
                score += cfg.story_entity_weight
                    * weighted_overlap(&article_entities, self.story_entities.get(&s.id));
            }
            if score >= threshold && beats(best, s.id, score) {
                best = Some((s.id, score));
            }
        }
        if let Some((id, _)) = best {
            return (id, false);
        }
        let id = self.next_story;
        self.next_story = self.next_story.next();
        self.stories.insert(
            id,
            StoryState {
                id,
                first_time: None,
                last_time: None,
                n_articles: 0,
                n_events: 0,
                centroid: Centroid::default(),
                last_seq: self.seq,
                norm_sum: 0.0,
                norm_level: 0.0,
                merge_checked_at: 0,
            },
        );
        (id, true)
    }

    /// Adds an article (of a new event or not) to story `id`.
    fn update_story(
        &mut self,
        id: StoryId,
        counts: &[(TermId, f32)],
        norm: f32,
        time: Option<DateTime<Utc>>,
        new_event: bool,
    ) {
        let max_terms = self.config.max_centroid_terms;
        let level = self.vocab.idf_level();
        if let Some(s) = self.stories.get_mut(&id) {
            s.centroid.add(counts, &self.vocab, max_terms);
            s.norm_sum = s.norm_sum_at(level) + norm;
            s.norm_level = level;
            s.n_articles += 1;
            s.n_events += u64::from(new_event);
            if let Some(t) = time {
                s.first_time = Some(s.first_time.map_or(t, |x| x.min(t)));
                s.last_time = Some(s.last_time.map_or(t, |x| x.max(t)));
            }
            s.last_seq = self.seq;
            self.dirty.stories.insert(id);
            self.reindex_story(id);
        }
    }
}
