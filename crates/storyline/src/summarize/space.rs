//! The shared sentence vector space of a story.

use rustc_hash::FxHashMap;

use crate::core::{Article, Claim, Sentence};
use crate::normalize::{for_each_content_term, Stemmer, WordList};

/// One article given to the summarizer.
#[derive(Debug, Clone, Copy)]
pub struct SourceDoc<'a> {
    pub article: &'a Article,
    pub sentences: &'a [Sentence],
    /// A near-duplicate of another doc in the set: its sentences are not candidates and it
    /// is not cited as an independent source.
    pub is_copy: bool,
}

/// A sentence with its sparse, L2-normalised TF-IDF vector (sorted by term id).
#[derive(Debug, Clone)]
pub struct SentenceVec {
    /// Its place in [`SentenceSpace::sentences`].
    pub index: usize,
    pub doc: usize,
    pub sentence: Sentence,
    pub words: usize,
    pub vector: Vec<(u32, f32)>,
    pub salience: f32,
}

/// Sentences of a story as vectors, with the story centroid.
pub struct SentenceSpace<'a> {
    pub docs: &'a [SourceDoc<'a>],
    pub sentences: Vec<SentenceVec>,
}

/// How much the first sentence of an article gains over a late one.
const LEAD_BONUS: f32 = 0.15;

impl<'a> SentenceSpace<'a> {
    pub fn new(docs: &'a [SourceDoc<'a>]) -> SentenceSpace<'a> {
        let stemmer = Stemmer::english();
        // Terms are looked up by reference and owned only when new: most are repeats.
        let mut ids: FxHashMap<String, u32> = FxHashMap::default();
        let mut df: Vec<u32> = Vec::new();
        // Room for every sentence at once: grown by doubling, a big story's list was
        // copied to fresh memory over and over.
        let mut sentences: Vec<SentenceVec> =
            Vec::with_capacity(docs.iter().map(|d| d.sentences.len()).sum());
        let mut terms: Vec<u32> = Vec::new();
        // Each sentence's words in one buffer, reused: not a string a word.
        let mut list = WordList::default();
        for (d, doc) in docs.iter().enumerate() {
            for s in doc.sentences {
                let mut s = *s;
                s.span.start += dateline_len(s.span.slice(&doc.article.text));
                let text = s.span.slice(&doc.article.text);
                terms.clear();
                list.refill(text);
                for_each_content_term(list.iter(), &stemmer, |t| {
                    let id = match ids.get(t) {
                        Some(&id) => id,
                        None => {
                            let id = ids.len() as u32;
                            ids.insert(t.to_string(), id);
                            df.push(0);
                            id
                        }
                    };
                    terms.push(id);
                });
                // Term counts, sorted by id: a sort of the sentence's few terms rather than
                // a hash map per sentence.
                terms.sort_unstable();
                // Room for every term at once: grown a push at a time, the vectors of a big
                // story were reallocated over and over.
                let mut v: Vec<(u32, f32)> = Vec::with_capacity(terms.len());
                for &id in &terms {
                    match v.last_mut() {
                        Some((last, c)) if *last == id => *c += 1.0,
                        _ => {
                            df[id as usize] += 1;
                            v.push((id, 1.0));
                        }
                    }
                }
                sentences.push(SentenceVec {
                    index: sentences.len(),
                    doc: d,
                    sentence: s,
                    words: text.split_whitespace().count(),
                    vector: v,
                    salience: 0.0,
                });
            }
        }
        let n = sentences.len() as f32;
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| ((n + 1.0) / (d as f32 + 1.0)).ln() + 1.0)
            .collect();
        for s in &mut sentences {
            for (id, w) in &mut s.vector {
                *w = (1.0 + w.ln()) * idf[*id as usize];
            }
            normalise(&mut s.vector);
        }
        // The centroid counts each independent article once: copies would skew it. Dense,
        // indexed by term: a sparse merge would cost the whole vocabulary per sentence.
        let mut centroid = vec![0.0f32; df.len()];
        for s in sentences.iter().filter(|s| !docs[s.doc].is_copy) {
            for &(id, w) in &s.vector {
                centroid[id as usize] += w;
            }
        }
        let norm = centroid.iter().map(|w| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            centroid.iter_mut().for_each(|w| *w /= norm);
        }
        for s in &mut sentences {
            let lead = LEAD_BONUS / (1.0 + s.sentence.idx as f32);
            s.salience = dot_dense(&s.vector, &centroid) + lead;
        }
        SentenceSpace { docs, sentences }
    }

    pub fn text(&self, s: &SentenceVec) -> &'a str {
        s.sentence.span.slice(&self.docs[s.doc].article.text)
    }

    /// The claim for each of `chosen`: its text and the 1-based numbers of the independent
    /// docs that contain a sentence saying much the same (`support` cosine or more). One
    /// pass over the story's sentences for all of them, not one a claim: in a big story
    /// each pass reads every sentence from memory.
    pub fn claims(&self, chosen: &[&SentenceVec], support: f32) -> Vec<Claim> {
        let mut citations: Vec<Vec<usize>> = chosen.iter().map(|s| vec![s.doc + 1]).collect();
        for o in &self.sentences {
            let d = o.doc;
            if self.docs[d].is_copy {
                continue;
            }
            for (s, cited) in chosen.iter().zip(&mut citations) {
                if d == s.doc || cited.last() == Some(&(d + 1)) {
                    continue;
                }
                if cosine(&o.vector, &s.vector) >= support {
                    cited.push(d + 1);
                }
            }
        }
        chosen
            .iter()
            .zip(citations)
            .map(|(s, mut citations)| {
                citations.sort_unstable();
                citations.dedup();
                Claim {
                    text: self.text(s).to_string(),
                    citations,
                    article: self.docs[s.doc].article.id.clone(),
                    span: s.sentence.span,
                }
            })
            .collect()
    }
}

/// Bytes of a leading dateline ("WASHINGTON (AP) _ ", "MUNICH, Germany (AP) - "): a place
/// in capitals, maybe a region and an agency, then a dash. It is not part of the sentence a
/// reader wants quoted, and it costs words in a summary.
pub fn dateline_len(text: &str) -> usize {
    let mut head_end = text.len().min(80);
    while !text.is_char_boundary(head_end) {
        head_end -= 1;
    }
    let head = &text[..head_end];
    for sep in [" _ ", " -- ", " - ", " — ", " – "] {
        let Some(p) = head.find(sep) else { continue };
        let before = &text[..p];
        let words: Vec<&str> = before.split_whitespace().collect();
        let place_in_caps = words.first().is_some_and(|w| {
            let w = w.trim_end_matches(',');
            w.chars().filter(|c| c.is_alphabetic()).count() >= 2
                && w.chars().all(|c| !c.is_lowercase())
        });
        let all_capitalised = words
            .iter()
            .all(|w| w.starts_with(|c: char| c.is_uppercase() || c == '('));
        if place_in_caps && all_capitalised && words.len() <= 6 {
            return p + sep.len();
        }
    }
    0
}

fn normalise(v: &mut [(u32, f32)]) {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in v.iter_mut() {
            *w /= norm;
        }
    }
}

/// Dot product of two sparse vectors sorted by id.
pub fn dot(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// Dot product of a sparse vector with a dense one indexed by term id.
pub fn dot_dense(a: &[(u32, f32)], dense: &[f32]) -> f32 {
    a.iter()
        .map(|&(id, w)| w * dense.get(id as usize).copied().unwrap_or(0.0))
        .sum()
}

/// Cosine of two normalised vectors.
pub fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
    dot(a, b)
}

#[cfg(test)]
mod tests {
    use super::dateline_len;

    #[test]
    fn datelines_are_found_and_plain_sentences_kept() {
        let t = "MUNICH, Germany (AP) _ U.S. prosecutors asked for more time.";
        assert_eq!(
            &t[dateline_len(t)..],
            "U.S. prosecutors asked for more time."
        );
        let t = "WASHINGTON - The Senate voted.";
        assert_eq!(&t[dateline_len(t)..], "The Senate voted.");
        for t in [
            "The vote - a close one - passed.",
            "U.S. officials said the talks - held in secret - failed.",
            "Ranariddh told reporters Wednesday that he believed it.",
        ] {
            assert_eq!(dateline_len(t), 0, "{t}");
        }
    }
}
