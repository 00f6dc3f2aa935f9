//! Concepts for coverage-based selection (after Gillick & Favre's ICSI summarizer): a
//! concept is a stemmed word bigram that is not two stop words, or a content word. The table
//! counts the independent articles that use each and how early they do; the summarizer
//! weighs concepts by both, so what many sources report, and report first, counts most.
//! Concepts that few articles share are dropped: they are one source's detail, not the story.

use rustc_hash::FxHashMap;

use crate::normalize::{is_stopword, words, Stemmer};

/// Concept ids of one text, in order of appearance with their word positions.
pub struct TextConcepts {
    /// `(concept id, index of its last word)`.
    pub items: Vec<(u32, usize)>,
}

/// Interns concepts and counts the articles that use each.
#[derive(Default)]
pub struct ConceptTable {
    /// A content word's stem, or a bigram's two stems joined by a space (a word has none).
    ids: FxHashMap<String, u32>,
    /// Scratch for a key being looked up: a concept is owned only when new.
    key: String,
    /// Whether a concept is a single content word (else a bigram).
    pub unigram: Vec<bool>,
    /// Independent articles using the concept.
    pub docs: Vec<u32>,
    /// Sum over independent articles using it of 1 / (1 + the sentence it first appears in):
    /// how early the articles bring it up.
    pub early_docs: Vec<f32>,
    last_doc: Vec<usize>,
}

impl ConceptTable {
    /// Concepts of sentence `position` (0: the first) of article `doc`; `counted`: whether
    /// it adds to the article counts (copies do not).
    pub fn add(
        &mut self,
        text: &str,
        doc: usize,
        counted: bool,
        position: usize,
        stemmer: &Stemmer,
    ) -> TextConcepts {
        let toks: Vec<String> = words(text).collect();
        let stems: Vec<String> = toks.iter().map(|w| stemmer.stem(w).into_owned()).collect();
        let mut items = Vec::new();
        for i in 0..toks.len() {
            // The content word ending here, then the bigram ending here.
            if !is_stopword(&toks[i]) && toks[i].chars().count() > 1 {
                self.key.clear();
                self.key.push_str(&stems[i]);
                let id = self.intern(true);
                self.count(id, doc, counted, position);
                items.push((id, i));
            }
            if i > 0 && !(is_stopword(&toks[i - 1]) && is_stopword(&toks[i])) {
                self.key.clear();
                self.key.push_str(&stems[i - 1]);
                self.key.push(' ');
                self.key.push_str(&stems[i]);
                let id = self.intern(false);
                self.count(id, doc, counted, position);
                items.push((id, i));
            }
        }
        TextConcepts { items }
    }

    /// The id of the concept in `self.key`.
    fn intern(&mut self, unigram: bool) -> u32 {
        let id = match self.ids.get(&self.key) {
            Some(&id) => id,
            None => {
                let id = self.ids.len() as u32;
                self.ids.insert(self.key.clone(), id);
                id
            }
        };
        if id as usize == self.docs.len() {
            self.docs.push(0);
            self.early_docs.push(0.0);
            self.unigram.push(unigram);
            self.last_doc.push(usize::MAX);
        }
        id
    }

    fn count(&mut self, id: u32, doc: usize, counted: bool, position: usize) {
        let k = id as usize;
        if counted && self.last_doc[k] != doc {
            self.last_doc[k] = doc;
            self.docs[k] += 1;
            self.early_docs[k] += 1.0 / (1.0 + position as f32);
        }
    }
}
