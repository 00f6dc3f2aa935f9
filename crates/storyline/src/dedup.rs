//! Near-duplicate detection: MinHash signatures over word shingles with LSH banding.
//!
//! Syndicated copies and light rewrites link to the first article seen ("the original"), so
//! they are not counted as independent sources. The index is stateful and bounded: it holds
//! the most recent `capacity` signatures, because copies of an article appear within days.

use std::collections::hash_map::Entry;
use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::core::{ArticleId, EventId};

/// Hash functions per signature.
pub const N_HASHES: usize = 96;
const ROWS_PER_BAND: usize = 4;

/// Estimated Jaccard similarity of shingle sets from which two articles count as copies.
pub const DUPLICATE_JACCARD: f32 = 0.6;
/// Short texts (headlines) have few shingles, so one changed word moves Jaccard a lot;
/// they must match more closely to count as copies.
const SHORT_TEXT_WORDS: usize = 20;
const SHORT_DUPLICATE_JACCARD: f32 = 0.8;

/// A MinHash signature of an article's word shingles.
// Serialised as its stored bytes (a queued analysis carries it between machines).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(into = "Vec<u8>", try_from = "Vec<u8>")]
pub struct Signature {
    mins: [u32; N_HASHES],
    short: bool,
}

impl From<Signature> for Vec<u8> {
    fn from(s: Signature) -> Vec<u8> {
        s.to_bytes()
    }
}

impl TryFrom<Vec<u8>> for Signature {
    type Error = &'static str;
    fn try_from(bytes: Vec<u8>) -> Result<Signature, Self::Error> {
        Signature::from_bytes(&bytes).ok_or("not a signature of the current family")
    }
}

impl Signature {
    /// Signature of a sequence of lower-cased words: 3-word shingles, or 2-word shingles for
    /// short texts. `None` for texts with no words.
    ///
    /// Each word is hashed once; a shingle's hash mixes its words' hashes, and the
    /// `N_HASHES` permutations are multiply-add-shift hashes of that one value. (The first
    /// version ran a full mixer per shingle and permutation: nearly a tenth of ingest.)
    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Option<Signature> {
        if words.is_empty() {
            return None;
        }
        let short = words.len() < SHORT_TEXT_WORDS;
        let k = if short { 2 } else { 3 }.min(words.len());
        let hashes: Vec<u64> = words.iter().map(|w| word_hash(w.as_ref())).collect();
        let mut mins = [u32::MAX; N_HASHES];
        fold_shingles(&mut mins, &hashes, k);
        Some(Signature { mins, short })
    }

    /// Estimated Jaccard similarity of the two shingle sets.
    pub fn similarity(&self, other: &Signature) -> f32 {
        let same = self
            .mins
            .iter()
            .zip(other.mins.iter())
            .filter(|(a, b)| a == b)
            .count();
        same as f32 / N_HASHES as f32
    }

    fn band_keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.mins
            .chunks(ROWS_PER_BAND)
            .enumerate()
            .map(|(band, rows)| {
                let mut h = band as u64;
                for &r in rows {
                    h = splitmix64(h ^ u64::from(r));
                }
                h
            })
    }

    /// Bytes for storage: a flag byte, then the minima little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + 4 * N_HASHES);
        out.push((u8::from(self.short) * SHORT_FLAG) | FAMILY_FLAG);
        for m in self.mins {
            out.extend_from_slice(&m.to_le_bytes());
        }
        out
    }

    /// `None` for bytes that are not a signature, or a signature of the first hash family,
    /// which no signature made now can be compared with (its article must be signed again).
    pub fn from_bytes(bytes: &[u8]) -> Option<Signature> {
        if bytes.len() != 1 + 4 * N_HASHES || bytes[0] & FAMILY_FLAG == 0 {
            return None;
        }
        let mut mins = [0u32; N_HASHES];
        for (m, chunk) in mins.iter_mut().zip(bytes[1..].chunks_exact(4)) {
            *m = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Some(Signature {
            mins,
            short: bytes[0] & SHORT_FLAG != 0,
        })
    }
}

/// Lowers `mins` to the permuted hashes of every `k`-word shingle of `hashes` (word
/// hashes). The permutations are 96 independent lanes of the same 64-bit arithmetic, which
/// the compiler vectorises when allowed the instructions: the same code is compiled for
/// AVX-512 (native 64-bit multiplies), AVX2 and plain x86-64, and the CPU picks at run time.
/// Same integers either way. (Plain x86-64 multiplies one lane at a time: 61 µs an article
/// against 25 with AVX2 and 5.5 with AVX-512, and MinHash was 5% of ingest CPU.)
fn fold_shingles(mins: &mut [u32; N_HASHES], hashes: &[u64], k: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("avx512dq") {
            // SAFETY: the CPU supports AVX-512 F and DQ, checked just above.
            unsafe { fold_shingles_avx512(mins, hashes, k) };
            return;
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { fold_shingles_avx2(mins, hashes, k) };
            return;
        }
    }
    fold_shingles_portable(mins, hashes, k);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn fold_shingles_avx2(mins: &mut [u32; N_HASHES], hashes: &[u64], k: usize) {
    fold_shingles_portable(mins, hashes, k);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
fn fold_shingles_avx512(mins: &mut [u32; N_HASHES], hashes: &[u64], k: usize) {
    fold_shingles_portable(mins, hashes, k);
}

#[inline(always)]
fn fold_shingles_portable(mins: &mut [u32; N_HASHES], hashes: &[u64], k: usize) {
    for shingle in hashes.windows(k) {
        // Rotation by position keeps the order of the words in the hash.
        let h = splitmix64(
            shingle
                .iter()
                .enumerate()
                .fold(0, |acc, (i, &w)| acc ^ w.rotate_left(21 * i as u32)),
        );
        for (m, &(a, b)) in mins.iter_mut().zip(PERMUTATIONS.iter()) {
            let v = (a.wrapping_mul(h).wrapping_add(b) >> 32) as u32;
            *m = (*m).min(v);
        }
    }
}

/// Flag-byte bit of a signature of a short text.
const SHORT_FLAG: u8 = 1;
/// Flag-byte bit of the current hash family (word hashes and multiply-shift permutations).
/// Signatures stored without it came from the first family.
const FAMILY_FLAG: u8 = 2;

/// FNV-1a of a word.
fn word_hash(word: &str) -> u64 {
    word.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// `(a, b)` of each permutation `x ↦ (a·x + b) >> 32`: `a` odd, both from a fixed splitmix64
/// sequence, so signatures are the same in every run and on every platform.
const PERMUTATIONS: [(u64, u64); N_HASHES] = {
    let mut out = [(0u64, 0u64); N_HASHES];
    let mut i = 0;
    while i < N_HASHES {
        out[i] = (splitmix64(2 * i as u64) | 1, splitmix64(2 * i as u64 + 1));
        i += 1;
    }
    out
};

const fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// What the index found for a new article.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateOf {
    /// The original: the first article of the copy chain.
    pub original: ArticleId,
    /// The event the original was placed in (it may have merged since: follow it with
    /// `Clusterer::resolve`).
    pub event: EventId,
    pub similarity: f32,
}

/// An article the index remembers: its signature and its copy chain's original.
struct Remembered {
    signature: Signature,
    original: ArticleId,
    original_event: EventId,
}

/// The bounded LSH index of recent signatures.
///
/// Each of an article's 24 band keys is a bucket, and nearly every bucket holds one article
/// (copies are the exception): so a bucket is one id in `buckets`, and only the ids that
/// share a key with an earlier one go to `shared`. A vector per bucket was 2.4 million heap
/// vectors at the default capacity, about a seventh of peak memory at a million articles.
pub struct DedupIndex {
    capacity: usize,
    buckets: FxHashMap<u64, ArticleId>,
    shared: FxHashMap<u64, Vec<ArticleId>>,
    entries: FxHashMap<ArticleId, Remembered>,
    order: VecDeque<ArticleId>,
}

impl DedupIndex {
    pub fn new(capacity: usize) -> DedupIndex {
        DedupIndex {
            capacity: capacity.max(1),
            buckets: FxHashMap::default(),
            shared: FxHashMap::default(),
            entries: FxHashMap::default(),
            order: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most similar recent article at or above the copy threshold, if any.
    pub fn find(&self, sig: &Signature) -> Option<DuplicateOf> {
        let threshold = if sig.short {
            SHORT_DUPLICATE_JACCARD
        } else {
            DUPLICATE_JACCARD
        };
        let mut best: Option<(ArticleId, f32, &Remembered)> = None;
        // A copy shares most of its bands with its original, and a rewrite with each earlier
        // version: compare each candidate once, not once per band.
        let mut compared: FxHashSet<ArticleId> = FxHashSet::default();
        for key in sig.band_keys() {
            let first = self.buckets.get(&key);
            let more = self.shared.get(&key).into_iter().flatten();
            for id in first.into_iter().chain(more) {
                if !compared.insert(*id) {
                    continue;
                }
                let Some(other) = self.entries.get(id) else {
                    continue;
                };
                let s = sig.similarity(&other.signature);
                // Ties go to the older article, the likelier original.
                if s >= threshold
                    && best.is_none_or(|(bid, bs, _)| s > bs || (s == bs && *id < bid))
                {
                    best = Some((*id, s, other));
                }
            }
        }
        best.map(|(_, similarity, entry)| DuplicateOf {
            original: entry.original,
            event: entry.original_event,
            similarity,
        })
    }

    /// Adds an article; `original` is the root of its copy chain (itself if it is new) and
    /// `original_event` the event that root was placed in.
    pub fn insert(
        &mut self,
        id: ArticleId,
        sig: Signature,
        original: ArticleId,
        original_event: EventId,
    ) {
        for key in sig.band_keys() {
            match self.buckets.entry(key) {
                Entry::Vacant(slot) => {
                    slot.insert(id);
                }
                Entry::Occupied(_) => self.shared.entry(key).or_default().push(id),
            }
        }
        self.entries.insert(
            id,
            Remembered {
                signature: sig,
                original,
                original_event,
            },
        );
        self.order.push_back(id);
        while self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.remove(old);
            }
        }
    }

    /// What differs from `other`, for tests of an index restored from the store; events
    /// compared as `resolve` and `other_resolve` follow them (a restored index has each
    /// original's event after the merges since, the live one the event it was placed in).
    #[cfg(test)]
    pub(crate) fn differences(
        &self,
        other: &DedupIndex,
        resolve: impl Fn(EventId) -> EventId,
        other_resolve: impl Fn(EventId) -> EventId,
    ) -> Vec<String> {
        let mut out = Vec::new();
        if self.order != other.order {
            out.push(format!(
                "order: {} vs {} ids",
                self.order.len(),
                other.order.len()
            ));
        }
        let remembered = |d: &DedupIndex, resolve: &dyn Fn(EventId) -> EventId| {
            let mut v: Vec<_> = (d.entries.iter())
                .map(|(id, r)| {
                    let event = resolve(r.original_event);
                    (*id, r.signature.clone(), r.original, event)
                })
                .collect();
            v.sort_by_key(|e| e.0);
            v
        };
        let (a, b) = (
            remembered(self, &resolve),
            remembered(other, &other_resolve),
        );
        for (x, y) in a.iter().zip(&b).filter(|(x, y)| x != y).take(5) {
            out.push(format!(
                "entry {:?}: original {:?} in {:?} vs {:?} {:?} in {:?}",
                x.0, x.2, x.3, y.0, y.2, y.3
            ));
        }
        if self.buckets != other.buckets {
            out.push("buckets differ".into());
        }
        if self.shared != other.shared {
            out.push("shared buckets differ".into());
        }
        out
    }

    fn remove(&mut self, id: ArticleId) {
        if let Some(entry) = self.entries.remove(&id) {
            for key in entry.signature.band_keys() {
                if self.buckets.get(&key) == Some(&id) {
                    // The bucket's next id, if another shares the key, takes its place
                    // (`shared` never holds an empty vector).
                    match self.shared.get_mut(&key) {
                        Some(ids) => {
                            let next = ids.remove(0);
                            if ids.is_empty() {
                                self.shared.remove(&key);
                            }
                            self.buckets.insert(key, next);
                        }
                        None => {
                            self.buckets.remove(&key);
                        }
                    }
                } else if let Some(ids) = self.shared.get_mut(&key) {
                    ids.retain(|&x| x != id);
                    if ids.is_empty() {
                        self.shared.remove(&key);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sig(text: &str) -> Signature {
        let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
        Signature::from_words(&words).unwrap()
    }

    const BASE: &str = "the minister arrived in the capital on tuesday for talks with the \
        president about the new trade agreement which both sides hope to sign before the end \
        of the month after years of difficult negotiations over tariffs and quotas";

    #[test]
    fn copies_and_light_rewrites_link_to_the_original() {
        let mut index = DedupIndex::new(100);
        index.insert(ArticleId(1), sig(BASE), ArticleId(1), EventId(10));
        let copy = format!("{BASE} reuters");
        let found = index.find(&sig(&copy)).expect("copy found");
        assert_eq!((found.original, found.event), (ArticleId(1), EventId(10)));
        index.insert(ArticleId(2), sig(&copy), found.original, found.event);
        let rewrite = BASE.replace("tuesday", "wednesday");
        let found = index.find(&sig(&rewrite));
        assert_eq!(
            found.map(|d| (d.original, d.event)),
            Some((ArticleId(1), EventId(10)))
        );
        let other = "a powerful earthquake struck off the coast early on sunday killing at \
            least twelve people and destroying hundreds of homes in fishing villages nearby";
        assert_eq!(index.find(&sig(other)), None);
    }

    #[test]
    fn index_forgets_beyond_capacity() {
        let mut index = DedupIndex::new(1);
        index.insert(ArticleId(1), sig(BASE), ArticleId(1), EventId(10));
        index.insert(
            ArticleId(2),
            sig("completely different words here about sports and football games today"),
            ArticleId(2),
            EventId(20),
        );
        assert_eq!(index.len(), 1);
        assert_eq!(index.find(&sig(BASE)), None);
    }

    #[test]
    fn a_copy_stays_findable_when_the_article_it_shared_buckets_with_is_forgotten() {
        let mut index = DedupIndex::new(2);
        index.insert(ArticleId(1), sig(BASE), ArticleId(1), EventId(10));
        // Same text, so every bucket of 2 is one of 1's: 2 waits behind 1 in each.
        index.insert(ArticleId(2), sig(BASE), ArticleId(1), EventId(10));
        let other = "a powerful earthquake struck off the coast early on sunday killing at             least twelve people and destroying hundreds of homes in fishing villages nearby";
        index.insert(ArticleId(3), sig(other), ArticleId(3), EventId(30));
        assert_eq!(index.len(), 2);
        let found = index
            .find(&sig(BASE))
            .expect("2 took 1's place in its buckets");
        assert_eq!(found.original, ArticleId(1), "the chain's root is kept");
        assert_eq!(found.event, EventId(10), "and the root's event");
        index.insert(
            ArticleId(4),
            sig("words about sports and football games on a rainy day"),
            ArticleId(4),
            EventId(40),
        );
        assert_eq!(index.find(&sig(BASE)), None, "2 forgotten too");
        assert!(index.buckets.len() <= 2 * N_HASHES / ROWS_PER_BAND);
        assert!(index.shared.is_empty());
    }

    #[test]
    fn signature_round_trips_through_bytes() {
        let s = sig(BASE);
        assert_eq!(Signature::from_bytes(&s.to_bytes()), Some(s));
        let short = sig("a short headline about the talks");
        assert!(short.short);
        assert_eq!(Signature::from_bytes(&short.to_bytes()), Some(short));
    }

    #[test]
    fn signatures_of_the_first_hash_family_are_refused() {
        let mut bytes = sig(BASE).to_bytes();
        bytes[0] = 0;
        assert_eq!(Signature::from_bytes(&bytes), None);
    }

    #[test]
    fn estimated_similarity_follows_the_share_of_shingles() {
        // 200 distinct words; the copy replaces every fifth word from the middle on.
        let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
        let mut edited = words.clone();
        for w in edited.iter_mut().skip(100).step_by(5) {
            w.push('x');
        }
        let (a, b) = (
            Signature::from_words(&words).unwrap(),
            Signature::from_words(&edited).unwrap(),
        );
        let shingles = |ws: &[String]| -> std::collections::HashSet<String> {
            ws.windows(3).map(|w| w.join(" ")).collect()
        };
        let (sa, sb) = (shingles(&words), shingles(&edited));
        let jaccard = sa.intersection(&sb).count() as f32 / sa.union(&sb).count() as f32;
        let estimate = a.similarity(&b);
        assert!((estimate - jaccard).abs() < 0.15, "{estimate} vs {jaccard}");
        assert_eq!(a.similarity(&a), 1.0);
    }

    #[test]
    fn every_minhash_kernel_gives_the_same_minima() {
        let words: Vec<String> = (0..400).map(|i| format!("w{}", (i * 7919) % 263)).collect();
        let hashes: Vec<u64> = words.iter().map(|w| word_hash(w)).collect();
        for k in [2, 3] {
            let mut portable = [u32::MAX; N_HASHES];
            fold_shingles_portable(&mut portable, &hashes, k);
            let mut chosen = [u32::MAX; N_HASHES];
            fold_shingles(&mut chosen, &hashes, k);
            assert_eq!(portable, chosen);
            #[cfg(target_arch = "x86_64")]
            {
                if std::is_x86_feature_detected!("avx2") {
                    let mut avx2 = [u32::MAX; N_HASHES];
                    // SAFETY: AVX2 checked just above.
                    unsafe { fold_shingles_avx2(&mut avx2, &hashes, k) };
                    assert_eq!(portable, avx2);
                }
            }
        }
    }
}
