//! Concepts for coverage-based selection (after Gillick & Favre's ICSI summarizer): a
//! concept is a stemmed word bigram that is not two stop words, or a content word. The table
//! counts the independent articles that use each and how early they do; the summarizer
//! weighs concepts by both, so what many sources report, and report first, counts most.
//! Concepts that few articles share are dropped: they are one source's detail, not the story.

use std::collections::HashMap;

use crate::normalize::{is_stopword, words, Stemmer};

/// Concept ids of one text, in order of appearance with their word positions.
pub struct TextConcepts {
    /// `(concept id, index of its last word)`.
    pub items: Vec<(u32, usize)>,
}

/// Interns concepts and counts the articles that use each.
#[derive(Default)]
pub struct ConceptTable {
    ids: HashMap<(String, String), u32>,
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
                let id = self.intern((stems[i].clone(), String::new()), true);
                self.count(id, doc, counted, position);
                items.push((id, i));
            }
            if i > 0 && !(is_stopword(&toks[i - 1]) && is_stopword(&toks[i])) {
                let id = self.intern((stems[i - 1].clone(), stems[i].clone()), false);
                self.count(id, doc, counted, position);
                items.push((id, i));
            }
        }
        TextConcepts { items }
    }

    fn intern(&mut self, key: (String, String), unigram: bool) -> u32 {
        let next = self.ids.len() as u32;
        let id = *self.ids.entry(key).or_insert(next);
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
