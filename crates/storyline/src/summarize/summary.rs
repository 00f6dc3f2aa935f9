//! Extractive summary by concept coverage: the sentences that together cover the most
//! widely and prominently reported facts (word bigrams and content words that many articles
//! use, early) within a word budget, no two repeating each other, each citing its
//! supporting articles.
//!
//! Selection is a greedy budgeted maximum coverage (gain per word, the classic
//! approximation of the ICSI summarizer's exact program), restarted from each of the best
//! few opening choices, keeping the best cover, then refined by a bounded swap search (one
//! sentence in for one out, added or dropped) on the exact objective of the set as read,
//! whose last sentence is the one the budget cuts. A covered concept earns nothing twice, so
//! redundancy is penalised by the objective itself; a cosine check removes what remains.

use serde::Deserialize;

use super::concepts::ConceptTable;
use super::space::{cosine, SentenceSpace, SentenceVec, SourceDoc};
use crate::core::Claim;
use crate::normalize::Stemmer;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SummaryConfig {
    /// The budget: sentences are added until the summary has this many words…
    pub min_words: usize,
    /// …and the sentence that crosses the budget may run to this many.
    pub max_words: usize,
    /// A sentence this similar (cosine) to one already chosen repeats it and is skipped.
    pub redundancy: f32,
    /// Another article supports a sentence if it has one at least this similar.
    pub support: f32,
    /// Sentences shorter than this are fragments, longer are run-ons: both skipped.
    pub min_sentence_words: usize,
    pub max_sentence_words: usize,
    /// A concept counts only when at least this many independent articles use it (fewer
    /// when the story has fewer articles).
    pub min_concept_docs: usize,
    /// Gain is divided by the sentence's words to this power (1: gain per word).
    pub length_exponent: f32,
    /// Weight of a sentence's centroid salience (per word) next to concept gain; also what
    /// fills a summary when no concept is left.
    pub salience_weight: f32,
    /// Weight of a content-word concept relative to a bigram as likely to be reported.
    pub unigram_weight: f32,
    /// A concept's weight is `concept_scale` times the chance that a human summary of the
    /// story uses it, a logistic function of `[bias, share of the articles using it, their
    /// earliness]`, where earliness sums 1 / (1 + the sentence an article first uses it in)
    /// over the articles, divided by their number: what most sources report, and report
    /// first, is what summaries keep. Separate models for bigrams and for content words.
    pub bigram_logit: [f32; 3],
    pub unigram_logit: [f32; 3],
    pub concept_scale: f32,
    /// Gain multiplier of a sentence that quotes someone: quotes are colour, not the facts a
    /// summary needs, and their words are spent on attribution.
    pub quote_factor: f32,
    /// What a content word earns each time it is covered again, relative to the last time.
    pub repeat_decay: f32,
    /// Greedy runs, each forced to open with one of the best single sentences.
    pub starts: usize,
    /// Only the first this many sentences of an article are candidates (0: all): news
    /// puts what matters first, and late sentences are often background.
    pub max_position: usize,
    /// Gain multiplier of a sentence that opens with a quotation or leans on an earlier
    /// one (a pronoun or connective first): out of its article it reads badly.
    pub opener_factor: f32,
    /// Most candidate sentences considered (the best by standalone gain), which bounds the
    /// time on very large stories.
    pub max_candidates: usize,
    /// Rounds of the swap search that refines the greedy choice (0: none), and the best
    /// candidates it may bring in: both bound its time on very large stories.
    pub swap_rounds: usize,
    pub swap_pool: usize,
}

impl Default for SummaryConfig {
    fn default() -> Self {
        SummaryConfig {
            min_words: 100,
            max_words: 150,
            redundancy: 0.45,
            support: 0.4,
            min_sentence_words: 8,
            max_sentence_words: 45,
            min_concept_docs: 2,
            length_exponent: 1.0,
            salience_weight: 3.0,
            unigram_weight: 0.6,
            // Fitted (weighted logistic regression) to which concepts of the DUC 2004 dev
            // articles its human summaries use; refitting on either half of the clusters
            // moves them little and keeps the gain on the other half.
            bigram_logit: [-5.38, 4.25, 5.70],
            unigram_logit: [-4.29, 2.87, 6.10],
            // With the swap search finding the objective's optimum, concepts a little
            // heavier than the greedy wanted (3.0) do better; 3.2-3.8 choose alike on dev.
            concept_scale: 3.5,
            quote_factor: 1.0,
            repeat_decay: 0.0,
            starts: 1,
            max_position: 0,
            max_candidates: 500,
            opener_factor: 0.5,
            swap_rounds: 20,
            swap_pool: 200,
        }
    }
}

/// The candidates of a space: sentences of independent articles, of a sensible length, that
/// are statements (not questions).
pub(crate) fn candidates<'s>(
    space: &'s SentenceSpace<'_>,
    cfg_min: usize,
    cfg_max: usize,
) -> Vec<&'s SentenceVec> {
    // Sorted on copies of the saliences, not through the references: in a big story each
    // comparison would fetch two sentences from memory. Ties keep the space's order.
    let mut c: Vec<(f32, usize)> = unordered_candidates(space, cfg_min, cfg_max)
        .into_iter()
        .map(|s| (s.salience, s.index))
        .collect();
    c.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    c.into_iter().map(|(_, i)| &space.sentences[i]).collect()
}

/// The [`candidates`] in the space's order, for callers that rank them themselves.
pub(crate) fn unordered_candidates<'s>(
    space: &'s SentenceSpace<'_>,
    cfg_min: usize,
    cfg_max: usize,
) -> Vec<&'s SentenceVec> {
    space
        .sentences
        .iter()
        .filter(|s| is_candidate(space, s, cfg_min, cfg_max))
        .collect()
}

/// The candidates' order (most salient first, then the space's order): how ties are
/// broken, compared where needed rather than by sorting the whole story by salience.
pub(crate) fn candidate_order(a: &SentenceVec, b: &SentenceVec) -> std::cmp::Ordering {
    b.salience
        .total_cmp(&a.salience)
        .then(a.index.cmp(&b.index))
}

/// Whether `s` is one of the [`candidates`].
pub(crate) fn is_candidate(
    space: &SentenceSpace<'_>,
    s: &SentenceVec,
    cfg_min: usize,
    cfg_max: usize,
) -> bool {
    !space.docs[s.doc].is_copy
        && (cfg_min..=cfg_max).contains(&s.words)
        && !space.text(s).trim_end().ends_with('?')
}

/// Concept weights and repeat decays.
struct Weights {
    weight: Vec<f32>,
    decay: Vec<f32>,
}

/// A candidate with its weighted concepts (concept id, word position).
struct Cand<'s> {
    s: &'s SentenceVec,
    concepts: Vec<(u32, u32)>,
    /// Gain multiplier (quotes).
    factor: f32,
}

/// First words that refer back to an earlier sentence or join onto one.
const DEPENDENT_OPENERS: &[&str] = &[
    "he", "she", "it", "they", "this", "these", "those", "his", "her", "their", "its", "we", "i",
    "but", "and", "also", "however", "yet", "so", "then", "there", "such", "that",
];

/// Whether a sentence opens with a quotation or a word that needs the sentence before.
fn dependent_opening(text: &str) -> bool {
    let t = text.trim_start();
    if t.starts_with(['"', '“', '\'', '‘', '`']) {
        return true;
    }
    let first = t
        .split(|c: char| !c.is_alphanumeric())
        .next()
        .unwrap_or("")
        .to_lowercase();
    DEPENDENT_OPENERS.contains(&first.as_str())
}

fn quotes(text: &str) -> bool {
    text.contains(['"', '“', '”']) || text.contains("``") || text.contains("''")
}

/// Concept gain and cost of adding `c` with `room` words left in the budget: only concepts
/// inside the words that fit count, as a reader (or ROUGE's cut) sees only those.
/// A concept already covered `k` times earns `weight * decay^k` again (decay 0 for
/// bigrams: once is enough; a content word, a name, may bear repeating a little).
fn gain(
    c: &Cand<'_>,
    covered: &[u32],
    weights: &Weights,
    room: usize,
    cfg: &SummaryConfig,
) -> (f32, usize) {
    let fit = c.s.words.min(room);
    let mut g = 0.0;
    let mut seen: Vec<u32> = Vec::new();
    for &(id, pos) in &c.concepts {
        if pos as usize >= fit {
            continue;
        }
        let k = covered[id as usize] + seen.iter().filter(|&&x| x == id).count() as u32;
        seen.push(id);
        let w = weights.weight[id as usize];
        g += if k == 0 {
            w
        } else {
            w * weights.decay[id as usize].powi(k as i32)
        };
    }
    g += cfg.salience_weight * c.s.salience * fit as f32;
    (g * c.factor, fit)
}

/// Marks the concepts of `c` within its first `fit` words as covered once more.
fn cover(covered: &mut [u32], c: &Cand<'_>, fit: usize) {
    for &(id, pos) in &c.concepts {
        if (pos as usize) < fit {
            covered[id as usize] += 1;
        }
    }
}

/// One greedy run; `first` forces the opening sentence. Returns the chosen candidate
/// indices and the objective reached.
fn greedy(
    cands: &[Cand<'_>],
    weights: &Weights,
    first: Option<usize>,
    cfg: &SummaryConfig,
) -> (Vec<usize>, f32) {
    let mut covered = vec![0u32; weights.weight.len()];
    let mut chosen: Vec<usize> = Vec::new();
    let mut used = 0;
    let mut total = 0.0;
    loop {
        if used >= cfg.min_words {
            break;
        }
        let room = cfg.min_words - used;
        let pick = match (chosen.is_empty(), first) {
            (true, Some(f)) => Some((f, gain(&cands[f], &covered, weights, room, cfg).0)),
            _ => {
                let mut best: Option<(usize, f32, f32)> = None;
                for (i, c) in cands.iter().enumerate() {
                    if chosen.contains(&i) || used + c.s.words > cfg.max_words {
                        continue;
                    }
                    if chosen
                        .iter()
                        .any(|&j| cosine(&cands[j].s.vector, &c.s.vector) >= cfg.redundancy)
                    {
                        continue;
                    }
                    let (g, fit) = gain(c, &covered, weights, room, cfg);
                    let score = g / (fit.max(1) as f32).powf(cfg.length_exponent);
                    if best.is_none_or(|b| score > b.1) {
                        best = Some((i, score, g));
                    }
                }
                best.map(|(i, _, g)| (i, g))
            }
        };
        let Some((i, g)) = pick else { break };
        if g <= 0.0 && !chosen.is_empty() {
            // Nothing left to cover: a longer summary would only add noise.
            break;
        }
        cover(&mut covered, &cands[i], cands[i].s.words.min(room));
        total += g;
        used += cands[i].s.words;
        chosen.push(i);
    }
    (chosen, total)
}

/// The objective of a chosen set read in output order (`order`): each sentence's gain with
/// only the words that fit in the budget counting, as ROUGE's `-l` cut (or a reader) sees
/// them. `covered` is scratch, all zero on entry and on return.
fn order_value(
    order: &[usize],
    cands: &[Cand<'_>],
    weights: &Weights,
    covered: &mut [u32],
    cfg: &SummaryConfig,
) -> f32 {
    let mut used = 0;
    let mut total = 0.0;
    for &i in order {
        let room = cfg.min_words.saturating_sub(used);
        if room == 0 {
            break;
        }
        let c = &cands[i];
        let (g, fit) = gain(c, covered, weights, room, cfg);
        cover(covered, c, fit);
        total += g;
        used += c.s.words;
    }
    for &i in order {
        for &(id, _) in &cands[i].concepts {
            covered[id as usize] = 0;
        }
    }
    total
}

/// The best output order of a set and its value: story order, except that one sentence, the
/// one most worth having in part, goes last where the budget cuts it. `None` when the set
/// breaks the budget (over `max_words`, or a sentence would start past `min_words`).
fn set_value(
    set: &[usize],
    cands: &[Cand<'_>],
    weights: &Weights,
    covered: &mut [u32],
    cfg: &SummaryConfig,
) -> Option<(Vec<usize>, f32)> {
    let total: usize = set.iter().map(|&i| cands[i].s.words).sum();
    if total > cfg.max_words {
        return None;
    }
    let mut story: Vec<usize> = set.to_vec();
    story.sort_by_key(|&i| (cands[i].s.doc, cands[i].s.sentence.idx));
    if total <= cfg.min_words {
        let v = order_value(&story, cands, weights, covered, cfg);
        return Some((story, v));
    }
    let mut best: Option<(Vec<usize>, f32)> = None;
    for k in 0..story.len() {
        let last = story[k];
        if total - cands[last].s.words >= cfg.min_words {
            continue;
        }
        let mut order: Vec<usize> = story.clone();
        order.remove(k);
        order.push(last);
        let v = order_value(&order, cands, weights, covered, cfg);
        if best.as_ref().is_none_or(|b| v > b.1) {
            best = Some((order, v));
        }
    }
    best
}

/// Improves a chosen set by local search: replace one sentence by an unchosen one, or add
/// or drop one, whenever the objective rises within the budget and without repeats; the
/// best move each round, at most `cfg.swap_rounds` rounds.
fn swap_search(
    start: &[usize],
    cands: &[Cand<'_>],
    weights: &Weights,
    cfg: &SummaryConfig,
) -> Vec<usize> {
    let mut covered = vec![0u32; weights.weight.len()];
    let Some((mut order, mut value)) = set_value(start, cands, weights, &mut covered, cfg) else {
        return start.to_vec();
    };
    let pool = cands.len().min(cfg.swap_pool);
    for _ in 0..cfg.swap_rounds {
        let mut best: Option<(Vec<usize>, f32)> = None;
        let consider =
            |set: Vec<usize>, covered: &mut Vec<u32>, best: &mut Option<(Vec<usize>, f32)>| {
                if let Some((o, v)) = set_value(&set, cands, weights, covered, cfg) {
                    if v > value + 1e-4 && best.as_ref().is_none_or(|b| v > b.1) {
                        *best = Some((o, v));
                    }
                }
            };
        // Drops: one sentence fewer can leave room for more of the one the budget cuts.
        for k in 0..order.len() {
            let mut set = order.clone();
            set.remove(k);
            if !set.is_empty() {
                consider(set, &mut covered, &mut best);
            }
        }
        for i in 0..pool {
            if order.contains(&i) {
                continue;
            }
            let clashes: Vec<usize> = (0..order.len())
                .filter(|&k| {
                    cosine(&cands[order[k]].s.vector, &cands[i].s.vector) >= cfg.redundancy
                })
                .collect();
            // Add it or swap it for any chosen sentence when it repeats none; swap it for
            // the one it repeats when there is one.
            match clashes.len() {
                0 => {
                    let mut set = order.clone();
                    set.push(i);
                    consider(set, &mut covered, &mut best);
                    for k in 0..order.len() {
                        let mut set = order.clone();
                        set[k] = i;
                        consider(set, &mut covered, &mut best);
                    }
                }
                1 => {
                    let mut set = order.clone();
                    set[clashes[0]] = i;
                    consider(set, &mut covered, &mut best);
                }
                _ => {}
            }
        }
        let Some((o, v)) = best else { break };
        order = o;
        value = v;
    }
    order
}

/// An extractive summary of `docs` with citations (1-based indices into `docs`).
pub fn summarize(docs: &[SourceDoc<'_>], cfg: &SummaryConfig) -> Vec<Claim> {
    summarize_in(&SentenceSpace::new(docs), cfg)
}

/// [`summarize`] in a space already made (a report's summary, timeline and headline share
/// one).
pub fn summarize_in(space: &SentenceSpace<'_>, cfg: &SummaryConfig) -> Vec<Claim> {
    let docs = space.docs;
    // In the space's order: the ranking below breaks its ties as `candidates` orders them,
    // so the whole pool need not be sorted first.
    let mut pool = unordered_candidates(space, cfg.min_sentence_words, cfg.max_sentence_words);
    if pool.is_empty() {
        // Headline-only stories: fall back to whatever sentences there are.
        pool = unordered_candidates(space, 1, usize::MAX);
    }
    let stemmer = Stemmer::english();
    let mut table = ConceptTable::default();
    // Every sentence of every article votes for concepts; only candidates can be chosen.
    let mut per_sentence = Vec::with_capacity(space.sentences.len());
    for s in &space.sentences {
        let counted = !docs[s.doc].is_copy;
        per_sentence.push(table.add(space.text(s), s.doc, counted, s.sentence.idx, &stemmer));
    }
    let independent = docs.iter().filter(|d| !d.is_copy).count();
    let min_docs = cfg.min_concept_docs.min(independent.div_ceil(2)).max(1) as u32;
    let n = independent.max(1) as f32;
    let weights: Vec<f32> = table
        .docs
        .iter()
        .zip(&table.early_docs)
        .zip(&table.unigram)
        .map(|((&d, &early), &uni)| {
            let (scale, [bias, share, earliness]) = if uni {
                (cfg.unigram_weight, cfg.unigram_logit)
            } else {
                (1.0, cfg.bigram_logit)
            };
            if d >= min_docs && scale > 0.0 {
                let z = bias + share * d as f32 / n + earliness * early / n;
                scale * cfg.concept_scale / (1.0 + (-z).exp())
            } else {
                0.0
            }
        })
        .collect();
    // `per_sentence` is in `space.sentences` order: a candidate's concepts are at its index.
    let cands: Vec<Cand<'_>> = pool
        .iter()
        .filter(|s| cfg.max_position == 0 || s.sentence.idx < cfg.max_position)
        .filter_map(|s| {
            per_sentence.get(s.index).map(|concepts| Cand {
                s,
                concepts: concepts
                    .items
                    .iter()
                    .copied()
                    .filter(|(id, _)| weights[*id as usize] > 0.0)
                    .collect(),
                factor: {
                    let text = space.text(s);
                    let q = if quotes(text) { cfg.quote_factor } else { 1.0 };
                    let o = if dependent_opening(text) {
                        cfg.opener_factor
                    } else {
                        1.0
                    };
                    q * o
                },
            })
        })
        .collect();
    let weights = Weights {
        decay: table
            .unigram
            .iter()
            .map(|&u| if u { cfg.repeat_decay } else { 0.0 })
            .collect(),
        weight: weights,
    };
    let none = vec![0u32; weights.weight.len()];
    let standalone = |c: &Cand<'_>| {
        let (g, fit) = gain(c, &none, &weights, cfg.min_words, cfg);
        g / (fit.max(1) as f32).powf(cfg.length_exponent)
    };
    // Scored once each: a comparator that rescored would cost N log N gain evaluations.
    let mut scored: Vec<(f32, Cand<'_>)> = cands.into_iter().map(|c| (standalone(&c), c)).collect();
    // The best `max_candidates` by standalone gain, ties in the candidates' order (most
    // salient, then the space's order): picked, then only they sorted, not the whole story.
    let rank = |a: &(f32, Cand<'_>), b: &(f32, Cand<'_>)| {
        b.0.total_cmp(&a.0)
            .then_with(|| candidate_order(a.1.s, b.1.s))
    };
    let keep = cfg.max_candidates.min(scored.len());
    if keep < scored.len() {
        if keep > 0 {
            scored.select_nth_unstable_by(keep - 1, rank);
        }
        scored.truncate(keep);
    }
    scored.sort_unstable_by(rank);
    let cands: Vec<Cand<'_>> = scored.into_iter().map(|(_, c)| c).collect();
    let mut best = greedy(&cands, &weights, None, cfg);
    for f in 0..cfg.starts.min(cands.len()) {
        let run = greedy(&cands, &weights, Some(f), cfg);
        if run.1 > best.1 {
            best = run;
        }
    }
    if best.0.is_empty() {
        return Vec::new();
    }
    // The greedy's set refined by swaps, in its best output order: story order (articles
    // come in date order, then position), except the sentence crossing the budget goes last.
    let order = swap_search(&best.0, &cands, &weights, cfg);
    let chosen: Vec<&SentenceVec> = order.iter().map(|&i| cands[i].s).collect();
    space.claims(&chosen, cfg.support)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Article;
    use crate::normalize::split_sentences;

    fn article(id: &str, text: &str) -> Article {
        Article {
            id: id.into(),
            title: None,
            source: None,
            url: None,
            published: None,
            lang: None,
            text: text.into(),
        }
    }

    #[test]
    fn candidates_run_from_the_most_salient_with_ties_in_story_order() {
        // Forty reports of the same two sentences: each copy of a sentence is exactly as
        // salient as the others, and copies must come in story order, which is how the
        // summary and the timeline break ties between them.
        let text = "The dam burst after days of heavy rain in the valley. Rescue teams searched the flooded town for survivors.";
        let arts: Vec<Article> = (0..40).map(|i| article(&format!("a{i}"), text)).collect();
        let sents: Vec<_> = arts.iter().map(|a| split_sentences(&a.text)).collect();
        let docs: Vec<SourceDoc<'_>> = arts
            .iter()
            .zip(&sents)
            .map(|(article, sentences)| SourceDoc {
                article,
                sentences,
                is_copy: false,
            })
            .collect();
        let space = SentenceSpace::new(&docs);
        assert!(space
            .sentences
            .iter()
            .enumerate()
            .all(|(i, s)| s.index == i));
        let pool = candidates(&space, 1, usize::MAX);
        assert_eq!(pool.len(), 80);
        for w in pool.windows(2) {
            let (a, b) = (w[0], w[1]);
            assert!(
                a.salience > b.salience || (a.salience == b.salience && a.index < b.index),
                "{} ({}) before {} ({})",
                a.index,
                a.salience,
                b.index,
                b.salience
            );
        }
    }

    #[test]
    fn openers_that_lean_on_an_earlier_sentence_are_recognised() {
        for t in [
            "He has been linked to the bombings.",
            "``We refuse any agreement,'' the group said.",
            "\"It is over,\" she said.",
            "But the talks stalled.",
        ] {
            assert!(dependent_opening(t), "{t}");
        }
        for t in [
            "Hurricane Mitch killed thousands in Honduras.",
            "Heavy rains flooded the capital.",
            "Theirs was a long road.",
        ] {
            assert!(!dependent_opening(t), "{t}");
        }
    }

    #[test]
    fn summary_cites_supporting_articles_and_skips_repeats() {
        let a = article(
            "a",
            "The city council approved the new transit budget on Monday after a long debate. \
            Residents had packed the hall to argue about bus routes and fares for hours.",
        );
        let b = article(
            "b",
            "On Monday the city council approved the transit budget after a long debate. \
            The mayor said new bus lines would open next spring across the northern districts.",
        );
        let sa = split_sentences(&a.text);
        let sb = split_sentences(&b.text);
        let docs = [
            SourceDoc {
                article: &a,
                sentences: &sa,
                is_copy: false,
            },
            SourceDoc {
                article: &b,
                sentences: &sb,
                is_copy: false,
            },
        ];
        let claims = summarize(&docs, &SummaryConfig::default());
        let budget: Vec<&Claim> = claims
            .iter()
            .filter(|c| c.text.contains("approved"))
            .collect();
        assert_eq!(
            budget.len(),
            1,
            "the repeated budget sentence appears once: {claims:?}"
        );
        assert_eq!(budget[0].citations, vec![1, 2]);
        for c in &claims {
            let src = if c.article == "a" { &a.text } else { &b.text };
            assert_eq!(c.span.slice(src), c.text);
        }
    }
}
