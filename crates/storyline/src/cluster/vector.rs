//! Sparse term vectors and the live vocabulary (document frequencies) behind TF-IDF.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

pub type TermId = u32;

/// A map whose iteration order depends only on its contents and history, not on a random
/// seed: float sums over it come out the same in every run, so clustering is reproducible.
/// Fx hashing, because SipHash on these small keys was a fifth of ingest time.
pub type StableMap<K, V> = FxHashMap<K, V>;

/// Term ids and document frequencies of the recent stream.
///
/// Names make news vocabulary open-ended (about four new terms an article on a long
/// stream: 1.4 million at 340,000 articles), so memory holds no term text at all: terms are
/// found by a 64-bit hash of their text (two terms colliding among millions is a
/// one-in-a-million event, and would only pool two rare words' counts), and terms gone
/// quiet are forgotten ([`Vocab::forget_idle`]). The store keeps the id-to-term table of
/// the terms remembered.
#[derive(Debug, Default)]
pub struct Vocab {
    ids: FxHashMap<u64, TermId>,
    df: Vec<u32>,
    /// ln(df + 1) per term and ln(n_docs + 1), kept up to date as counts change: IDF is
    /// read for every term of every comparison, and a logarithm each time was 5% of ingest.
    ln_df: Vec<f32>,
    ln_docs: f32,
    n_docs: u64,
    /// Per term id, the sweep ([`Vocab::forget_idle`]) during whose interval it was last
    /// counted.
    seen: Vec<u32>,
    sweep: u32,
    /// `n_docs` at the last sweep (or when restored).
    swept_at: u64,
    /// Ids of forgotten terms, handed out again smallest first, so that a store reopened
    /// (where they are the gaps in the ids) hands them out in the same order.
    free: BinaryHeap<Reverse<TermId>>,
    /// Document-frequency increments not yet written to the store.
    pending: FxHashMap<TermId, u32>,
    /// Terms first seen since the last [`Vocab::take_pending`], with their text.
    new_terms: Vec<(TermId, Box<str>)>,
}

/// Vocabulary changes for the store: terms to insert, and document-frequency increments
/// (for new and old terms alike).
#[derive(Debug, Default)]
pub struct VocabChanges {
    /// New terms; an id may be one forgotten earlier (then the store replaces its text).
    pub new_terms: Vec<(TermId, String)>,
    pub df_increments: Vec<(TermId, u32)>,
    /// Ids of terms forgotten by [`Vocab::forget_idle`], before any new term reuses them.
    pub forgotten: Vec<TermId>,
    /// The sweep interval the increments were counted in (see [`Vocab::forget_idle`]): a
    /// term's last is what decides when it is forgotten.
    pub counted_in: u32,
}

impl Vocab {
    /// Rebuilds a vocabulary from stored `(id, term, df, sweep interval last counted in)`
    /// rows, the document count and the sweeps done ([`Vocab::sweeps`]). Ids missing from
    /// the rows are those of forgotten terms, free for new ones.
    pub fn restore(
        mut rows: Vec<(TermId, String, u32, u32)>,
        n_docs: u64,
        (sweep, swept_at): (u32, u64),
    ) -> Vocab {
        rows.sort_by_key(|r| r.0);
        let mut v = Vocab {
            n_docs,
            ln_docs: (n_docs as f32 + 1.0).ln(),
            sweep,
            swept_at,
            ..Vocab::default()
        };
        for (id, term, df, seen) in rows {
            while v.df.len() < id as usize {
                v.free.push(Reverse(v.df.len() as TermId));
                v.push_slot(0);
            }
            v.ids.insert(term_key(&term), id);
            v.push_slot(df);
            if let Some(s) = v.seen.last_mut() {
                *s = seen;
            }
        }
        v
    }

    /// Sweeps done ([`Vocab::forget_idle`]) and the documents counted at the last.
    pub fn sweeps(&self) -> (u32, u64) {
        (self.sweep, self.swept_at)
    }

    fn push_slot(&mut self, df: u32) {
        self.df.push(df);
        self.ln_df.push((df as f32 + 1.0).ln());
        self.seen.push(self.sweep);
    }

    pub fn n_docs(&self) -> u64 {
        self.n_docs
    }

    /// What differs from `other`, for tests of a restored vocabulary.
    #[cfg(test)]
    pub(super) fn differences(&self, other: &Vocab) -> Vec<String> {
        let mut out = Vec::new();
        let free = |v: &Vocab| {
            let mut f: Vec<TermId> = v.free.iter().map(|r| r.0).collect();
            f.sort_unstable();
            f
        };
        let ln_bits = |v: &Vocab| v.ln_df.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        let checks: [(&str, bool); 10] = [
            ("ids", self.ids == other.ids),
            ("df", self.df == other.df),
            ("ln_df", ln_bits(self) == ln_bits(other)),
            ("ln_docs", self.ln_docs.to_bits() == other.ln_docs.to_bits()),
            ("n_docs", self.n_docs == other.n_docs),
            ("seen", self.seen == other.seen),
            ("sweep", self.sweep == other.sweep),
            ("swept_at", self.swept_at == other.swept_at),
            ("free", free(self) == free(other)),
            (
                "pending",
                self.pending.is_empty() && other.pending.is_empty(),
            ),
        ];
        for (what, same) in checks {
            if !same {
                out.push(format!("{what} differs"));
            }
        }
        if self.df != other.df {
            let n = (self.df.iter().zip(&other.df))
                .filter(|(a, b)| a != b)
                .count();
            out.push(format!(
                "df: {n} ids differ, lengths {} vs {}",
                self.df.len(),
                other.df.len()
            ));
        }
        out
    }

    /// Terms remembered (not forgotten).
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// One past the highest term id in use: the size of a table indexed by term id.
    pub fn id_bound(&self) -> usize {
        self.df.len()
    }

    /// Smoothed inverse document frequency.
    pub fn idf(&self, id: TermId) -> f32 {
        let ln_df = self.ln_df.get(id as usize).copied().unwrap_or(0.0);
        self.ln_docs - ln_df + 1.0
    }

    /// The IDF of a term only one document has had: the top of the scale for the terms of
    /// an article just counted, rising with the log of the documents seen. A TF-IDF norm
    /// taken early in a stream is brought up to date by the ratio of this level now and
    /// then (see `cluster::rescaled`).
    pub fn idf_level(&self) -> f32 {
        idf_level_of(self.ln_docs)
    }

    /// [`Vocab::idf_level`] as it stood when `n_docs` documents had been counted.
    pub fn idf_level_at(n_docs: u64) -> f32 {
        idf_level_of((n_docs as f32 + 1.0).ln())
    }

    /// Term frequencies of a document, by term id, interning new terms.
    pub fn counts(&mut self, bag: &TermBag) -> Vec<(TermId, f32)> {
        let mut v: Vec<(TermId, f32)> = Vec::with_capacity(bag.terms.len());
        for (key, text, n) in &bag.terms {
            let id = match self.ids.get(key) {
                Some(&id) => id,
                None => {
                    // A forgotten term's slot was left at df 0.
                    let id = match self.free.pop() {
                        Some(Reverse(id)) => id,
                        None => {
                            self.push_slot(0);
                            (self.df.len() - 1) as TermId
                        }
                    };
                    self.ids.insert(*key, id);
                    self.new_terms.push((id, text.clone()));
                    id
                }
            };
            v.push((id, *n));
        }
        v.sort_unstable_by_key(|e| e.0);
        v
    }

    /// Documents counted with the term.
    pub fn df(&self, id: TermId) -> u32 {
        self.df.get(id as usize).copied().unwrap_or(0)
    }

    /// The id of a term already interned, by its [`term_key`], if any.
    pub fn id_of(&self, key: u64) -> Option<TermId> {
        self.ids.get(&key).copied()
    }

    /// Counts one more document containing these terms.
    pub fn add_document(&mut self, counts: &[(TermId, f32)]) {
        self.n_docs += 1;
        self.ln_docs = (self.n_docs as f32 + 1.0).ln();
        for &(id, _) in counts {
            self.df[id as usize] += 1;
            self.ln_df[id as usize] = (self.df[id as usize] as f32 + 1.0).ln();
            self.seen[id as usize] = self.sweep;
            *self.pending.entry(id).or_default() += 1;
        }
    }

    /// Documents counted since the last sweep (or since the vocabulary was restored).
    pub fn docs_since_sweep(&self) -> u64 {
        self.n_docs - self.swept_at
    }

    /// Forgets the terms counted in none of the last `idle_sweeps` intervals between sweeps
    /// and not `in_use` (indexed by term id): their document frequencies and ids go, the
    /// ids to be handed out again. Returns the ids forgotten.
    ///
    /// Why: names make the vocabulary grow with the archive (four new terms an article on
    /// the generated stream), and each term costs about 40 bytes of memory and a cache miss
    /// on a large map. A term back after a long silence counts as new, so its IDF is that of
    /// a rare term, which by then it is.
    pub fn forget_idle(&mut self, idle_sweeps: u32, in_use: &[bool]) -> Vec<TermId> {
        self.sweep += 1;
        self.swept_at = self.n_docs;
        let (sweep, seen, df, ln_df) = (self.sweep, &self.seen, &mut self.df, &mut self.ln_df);
        let mut forgotten = Vec::new();
        self.ids.retain(|_, &mut id| {
            let i = id as usize;
            let idle = sweep - seen[i] > idle_sweeps;
            if !idle || in_use.get(i).copied().unwrap_or(false) {
                return true;
            }
            df[i] = 0;
            ln_df[i] = 0.0;
            forgotten.push(id);
            false
        });
        forgotten.sort_unstable();
        self.free.extend(forgotten.iter().map(|&id| Reverse(id)));
        forgotten
    }

    /// New terms and document-frequency increments since the last call.
    pub fn take_pending(&mut self) -> VocabChanges {
        let mut df_increments: Vec<(TermId, u32)> = self.pending.drain().collect();
        df_increments.sort_unstable_by_key(|r| r.0);
        VocabChanges {
            new_terms: self
                .new_terms
                .drain(..)
                .map(|(id, t)| (id, t.into()))
                .collect(),
            df_increments,
            forgotten: Vec::new(),
            counted_in: self.sweep,
        }
    }
}

/// ln(n_docs + 1) - ln(df + 1) + 1 with df = 1: the smoothed IDF ([`Vocab::idf`]) of a
/// term one document has had.
fn idf_level_of(ln_docs: f32) -> f32 {
    ln_docs - std::f32::consts::LN_2 + 1.0
}

/// A document's distinct terms with their counts and keys, in order of first occurrence.
/// Built in the parallel analysis stage, so that the clusterer's one thread neither hashes
/// term text nor counts repeats (that was a tenth of its time on full articles).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TermBag {
    terms: Vec<(u64, Box<str>, f32)>,
}

impl TermBag {
    pub fn new<S: AsRef<str>>(terms: impl IntoIterator<Item = S>) -> TermBag {
        let mut counter = TermCounter::default();
        for t in terms {
            counter.add(t.as_ref());
        }
        counter.finish()
    }
}

/// Builds a [`TermBag`] one term at a time, owning each distinct term once.
#[derive(Default)]
pub struct TermCounter {
    at: FxHashMap<u64, usize>,
    bag: TermBag,
}

impl TermCounter {
    /// A counter holding `counted` already: distinct terms, each with its [`term_key`] and
    /// count, in the order of their first word (as [`TermCounter::add`] would have made
    /// them).
    pub fn of_counted<'a>(counted: impl IntoIterator<Item = (u64, &'a str, f32)>) -> TermCounter {
        TermCounter {
            at: FxHashMap::default(),
            bag: TermBag {
                terms: counted
                    .into_iter()
                    .map(|(key, term, n)| (key, term.into(), n))
                    .collect(),
            },
        }
    }

    pub fn add(&mut self, term: &str) {
        // A counter made by `of_counted` finds its terms by key from the first add on.
        if self.at.len() < self.bag.terms.len() {
            for (i, t) in self.bag.terms.iter().enumerate() {
                self.at.entry(t.0).or_insert(i);
            }
        }
        let key = term_key(term);
        match self.at.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => self.bag.terms[*e.get()].2 += 1.0,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(self.bag.terms.len());
                self.bag.terms.push((key, term.into(), 1.0));
            }
        }
    }

    pub fn finish(self) -> TermBag {
        self.bag
    }
}

/// The key the vocabulary and an article's term counts find a term by
/// ([`normalize::text_key`](crate::normalize::text_key)): it runs for every word of every
/// article, and SipHash (std's default) cost several times more.
pub fn term_key(term: &str) -> u64 {
    crate::normalize::text_key(term)
}

/// Sublinear term weight: a word said ten times is not ten times as telling.
pub fn sublinear(tf: f32) -> f32 {
    1.0 + tf.ln()
}

/// An article's normalised TF-IDF vector, with each term's live IDF beside it: looked up
/// once for the article rather than again for each of the clusters it is scored against
/// (those lookups, scattered over the vocabulary, were a third of the clusterer's scoring).
#[derive(Debug, Clone, Default)]
pub struct ArticleVector {
    pub terms: Vec<(TermId, f32)>,
    idf: Vec<f32>,
}

impl ArticleVector {
    /// The vector of `counts` under the vocabulary's IDFs now, and its norm before
    /// normalising.
    pub fn of_counts(counts: &[(TermId, f32)], vocab: &Vocab) -> (ArticleVector, f32) {
        let idf: Vec<f32> = counts.iter().map(|&(id, _)| vocab.idf(id)).collect();
        let (terms, norm) = tfidf_from_idf(counts, &idf);
        (ArticleVector { terms, idf }, norm)
    }

    /// Distinct terms.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// The L2-normalised TF-IDF vector of a document's term counts given each term's IDF, and
/// its norm before normalising.
fn tfidf_from_idf(counts: &[(TermId, f32)], idf: &[f32]) -> (Vec<(TermId, f32)>, f32) {
    let mut v: Vec<(TermId, f32)> = counts
        .iter()
        .zip(idf)
        .map(|(&(id, tf), &idf)| (id, sublinear(tf) * idf))
        .collect();
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut v {
            *w /= norm;
        }
    }
    (v, norm)
}

/// A cluster centroid: summed sublinear term weights of its members, without IDF, so that
/// the live IDF applies at comparison time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Centroid {
    weights: StableMap<TermId, f32>,
    /// Norm of the IDF-weighted centroid, refreshed on every update.
    norm: f32,
    /// Bit `id % FILTER_BITS` set for each term of `weights` (empty: none yet), so that
    /// scoring skips the map for most terms it does not hold. Each article is scored against
    /// dozens of events and stories, and looking each of its terms up in each centroid,
    /// mostly in vain, was the clusterer's hottest loop.
    filter: Vec<u64>,
}

/// Bits of a centroid's term filter: a few cache lines, and under a third of them set
/// at the largest centroid (`2 × max_centroid_terms`).
const FILTER_BITS: usize = 4096;

/// Sets term `id`'s bit in a centroid's `filter`, made on its first term.
fn mark(filter: &mut Vec<u64>, id: TermId) {
    if filter.is_empty() {
        *filter = vec![0; FILTER_BITS / 64];
    }
    let bit = id as usize % FILTER_BITS;
    filter[bit / 64] |= 1 << (bit % 64);
}

impl Centroid {
    pub fn from_weights(weights: StableMap<TermId, f32>, vocab: &Vocab) -> Centroid {
        let mut c = Centroid {
            weights,
            norm: 0.0,
            filter: Vec::new(),
        };
        c.refilter();
        c.refresh_norm(vocab);
        c
    }

    /// The summed weight of each term.
    pub fn weights(&self) -> &StableMap<TermId, f32> {
        &self.weights
    }

    /// The summed weight of term `id`, if the centroid holds it.
    #[inline]
    pub fn weight(&self, id: TermId) -> Option<f32> {
        if self.may_hold(id) {
            self.weights.get(&id).copied()
        } else {
            None
        }
    }

    /// Whether the centroid holds term `id`.
    #[inline]
    pub fn holds(&self, id: TermId) -> bool {
        self.weight(id).is_some()
    }

    /// Whether term `id` may be in the centroid (if not, it surely is not).
    #[inline]
    fn may_hold(&self, id: TermId) -> bool {
        let bit = id as usize % FILTER_BITS;
        self.filter
            .get(bit / 64)
            .is_some_and(|w| w & (1 << (bit % 64)) != 0)
    }

    /// The filter of the terms held now (after terms were dropped).
    fn refilter(&mut self) {
        self.filter.iter_mut().for_each(|w| *w = 0);
        for &id in self.weights.keys() {
            mark(&mut self.filter, id);
        }
    }

    /// A centroid as a snapshot keeps it: its weights and its norm as last refreshed (under
    /// the IDF of then: a live centroid's norm is refreshed only when it changes, and
    /// computing it again under today's IDF scored a restored cluster otherwise than the
    /// live one would have). A norm of 0 (unknown) is computed again.
    pub fn restore(weights: Vec<(TermId, f32)>, norm: f32, vocab: &Vocab) -> Centroid {
        let mut c = Centroid {
            weights: weights.into_iter().collect(),
            norm,
            filter: Vec::new(),
        };
        c.refilter();
        if norm <= 0.0 || !norm.is_finite() {
            c.refresh_norm(vocab);
        }
        c
    }

    /// Adds a document's term counts; returns the terms pruned away (see [`Centroid::prune`]),
    /// so that an index over centroid terms can follow.
    pub fn add(
        &mut self,
        counts: &[(TermId, f32)],
        vocab: &Vocab,
        max_terms: usize,
    ) -> Vec<TermId> {
        for &(id, tf) in counts {
            *self.weights.entry(id).or_default() += sublinear(tf);
            mark(&mut self.filter, id);
        }
        let dropped = if self.weights.len() > max_terms * 2 {
            self.prune(max_terms, vocab)
        } else {
            Vec::new()
        };
        self.refresh_norm(vocab);
        dropped
    }

    pub fn merge(&mut self, other: &Centroid, vocab: &Vocab, max_terms: usize) {
        for (&id, &w) in &other.weights {
            *self.weights.entry(id).or_default() += w;
            mark(&mut self.filter, id);
        }
        if self.weights.len() > max_terms * 2 {
            self.prune(max_terms, vocab);
        }
        self.refresh_norm(vocab);
    }

    /// Keeps the `max_terms` heaviest terms (by weight × IDF): memory per cluster stays
    /// bounded. Returns the terms dropped.
    fn prune(&mut self, max_terms: usize, vocab: &Vocab) -> Vec<TermId> {
        // Each term's weight × IDF found once, not in every comparison of the sort (that
        // was most of a prune, and prunes were a tenth of the clusterer on full articles).
        let mut items: Vec<(f32, TermId, f32)> = self
            .weights
            .drain()
            .map(|(id, w)| (w * vocab.idf(id), id, w))
            .collect();
        // Ties broken by term id, so the same terms survive in every run. Only the kept
        // are sorted (they fill the map in that order, as they always have); the dropped
        // are only unfiled, in any order.
        let heavier_first = |a: &(f32, TermId, f32), b: &(f32, TermId, f32)| {
            b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
        };
        let keep = max_terms.min(items.len());
        if keep < items.len() {
            items.select_nth_unstable_by(keep, heavier_first);
        }
        items[..keep].sort_unstable_by(heavier_first);
        let dropped = items.split_off(keep);
        self.weights = items.into_iter().map(|(_, id, w)| (id, w)).collect();
        self.refilter();
        dropped.into_iter().map(|(_, id, _)| id).collect()
    }

    fn refresh_norm(&mut self, vocab: &Vocab) {
        let mut sum = ExactSum::default();
        for (&id, &w) in &self.weights {
            let x = f64::from(w * vocab.idf(id));
            sum.add(x * x);
        }
        self.norm = sum.value().sqrt();
    }

    /// Cosine similarity with an article's normalised TF-IDF vector.
    pub fn cosine(&self, v: &ArticleVector) -> f32 {
        if self.norm == 0.0 {
            return 0.0;
        }
        self.dot(v) / self.norm
    }

    /// Dot product of the IDF-weighted centroid with an article's TF-IDF vector, under the
    /// IDFs the vector carries.
    pub fn dot(&self, v: &ArticleVector) -> f32 {
        v.terms
            .iter()
            .zip(&v.idf)
            .filter(|(&(id, _), _)| self.may_hold(id))
            .filter_map(|(&(id, w), &idf)| self.weights.get(&id).map(|c| c * idf * w))
            .sum()
    }

    /// Norm of the IDF-weighted centroid.
    pub fn norm(&self) -> f32 {
        self.norm
    }

    /// Cosine similarity of two centroids under the live IDF: how close two clusters are.
    pub fn cosine_centroid(&self, other: &Centroid, vocab: &Vocab) -> f32 {
        if self.norm == 0.0 || other.norm == 0.0 {
            return 0.0;
        }
        let (small, large) = if self.weights.len() <= other.weights.len() {
            (self, other)
        } else {
            (other, self)
        };
        let mut dot = ExactSum::default();
        for (id, &w) in &small.weights {
            if !large.may_hold(*id) {
                continue;
            }
            if let Some(&x) = large.weights.get(id) {
                let idf = vocab.idf(*id);
                dot.add(f64::from(w * x * idf * idf));
            }
        }
        dot.value() / (self.norm * other.norm)
    }

    /// The `n` terms with the heaviest IDF-weighted weight, heaviest first.
    pub fn top_terms(&self, n: usize, vocab: &Vocab) -> Vec<TermId> {
        let mut items: Vec<(TermId, f32)> = self
            .weights
            .iter()
            .map(|(&id, &w)| (id, w * vocab.idf(id)))
            .collect();
        // Select, then sort only the `n` kept: a full sort of up to 2 × max_centroid_terms
        // items for a dozen of them showed in profiles. The order is total (ties by id), so
        // the result is the same as sorting everything.
        let heavier_first =
            |a: &(TermId, f32), b: &(TermId, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        if n < items.len() {
            items.select_nth_unstable_by(n, heavier_first);
            items.truncate(n);
        }
        items.sort_unstable_by(heavier_first);
        items.into_iter().map(|(id, _)| id).collect()
    }
}

/// A sum whose result does not depend on the order of its terms, for sums over a map:
/// a map's order depends on its history (a centroid restored from the store iterates
/// otherwise than the live one it was taken from), and a float sum's rounding on the order,
/// so a restored clusterer scored a hair apart and, now and then, placed an article
/// elsewhere. Each term is taken as a fixed-point integer in units of 2^-40 (exact for the
/// products of f32 weights and IDFs summed here, which are at least 1 unless a weight is
/// below 1: truncated there, far below an f32's precision), summed exactly, and rounded
/// once.
#[derive(Default)]
pub(super) struct ExactSum(i128);

impl ExactSum {
    /// Fractional bits of the fixed point.
    const FRAC: i32 = 40;
    /// Terms are clamped to ±2^100 units (2^60 ≈ 1e18), so that no sum of fewer than 2^26
    /// terms overflows.
    const MAX_SHIFT: i32 = 100 - 52;

    pub(super) fn add(&mut self, x: f64) {
        let bits = x.to_bits();
        let exp = ((bits >> 52) & 0x7ff) as i32;
        if exp == 0 || exp == 0x7ff {
            return; // zero, subnormal (below the grid), infinite or not a number
        }
        let mant = i128::from((bits & ((1 << 52) - 1)) | (1 << 52));
        // x = mant × 2^(exp − 1075); in units of 2^-FRAC:
        let shift = exp - 1075 + Self::FRAC;
        let units = if shift >= 0 {
            mant << shift.min(Self::MAX_SHIFT)
        } else if shift > -64 {
            mant >> -shift
        } else {
            0
        };
        self.0 += if x < 0.0 { -units } else { units };
    }

    pub(super) fn value(&self) -> f32 {
        (self.0 as f64 / (1u64 << Self::FRAC) as f64) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn centroid_cosine_prefers_shared_rare_terms() {
        let mut vocab = Vocab::default();
        let docs = [
            "quake coast tsunami",
            "quake coast damage",
            "vote parliament budget",
        ];
        let mut centroid = Centroid::default();
        for d in docs {
            let c = vocab.counts(&TermBag::new(terms(d)));
            vocab.add_document(&c);
        }
        let c0 = vocab.counts(&TermBag::new(terms(docs[0])));
        centroid.add(&c0, &vocab, 100);
        let q1 = vocab.counts(&TermBag::new(terms("quake tsunami warning")));
        let q2 = vocab.counts(&TermBag::new(terms("parliament budget vote")));
        let s1 = centroid.cosine(&ArticleVector::of_counts(&q1, &vocab).0);
        let s2 = centroid.cosine(&ArticleVector::of_counts(&q2, &vocab).0);
        assert!(s1 > 0.4 && s2 == 0.0, "{s1} {s2}");
    }

    #[test]
    fn pending_df_drains() {
        let mut vocab = Vocab::default();
        let c = vocab.counts(&TermBag::new(terms("a b b c")));
        vocab.add_document(&c);
        let first = vocab.take_pending();
        assert_eq!((first.new_terms.len(), first.df_increments.len()), (3, 3));
        let again = vocab.take_pending();
        assert!(again.new_terms.is_empty() && again.df_increments.is_empty());
    }

    #[test]
    fn idle_terms_are_forgotten_unless_in_use_and_their_ids_reused_smallest_first() {
        let mut vocab = Vocab::default();
        let doc = |vocab: &mut Vocab, text: &str| {
            let c = vocab.counts(&TermBag::new(terms(text)));
            vocab.add_document(&c);
            c
        };
        doc(&mut vocab, "old gone kept");
        let in_use = |v: &Vocab| {
            let mut u = vec![false; v.id_bound()];
            u[2] = true; // "kept", held by a live centroid
            u
        };
        assert!(
            vocab.forget_idle(1, &in_use(&vocab)).is_empty(),
            "seen last interval"
        );
        doc(&mut vocab, "recent");
        assert_eq!(vocab.forget_idle(1, &in_use(&vocab)), [0, 1]);
        assert_eq!((vocab.len(), vocab.id_bound()), (2, 4));
        assert_eq!(vocab.idf(0), vocab.idf_level() + std::f32::consts::LN_2);
        vocab.take_pending();
        // New terms take the freed ids, smallest first, and count from zero.
        let c = doc(&mut vocab, "fresh");
        assert_eq!(c[0].0, 0);
        assert_eq!(vocab.idf(0), vocab.idf_level());
        let changes = vocab.take_pending();
        assert_eq!(changes.new_terms, [(0, "fresh".to_string())]);
        // A restored vocabulary finds the free id in the gap.
        let rows = vec![
            (0, "fresh".into(), 1, 2),
            (2, "kept".into(), 1, 0),
            (3, "recent".into(), 1, 1),
        ];
        let mut back = Vocab::restore(rows, 3, (2, 3));
        assert_eq!(back.counts(&TermBag::new(terms("again")))[0].0, 1);
    }
}
