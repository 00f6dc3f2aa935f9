//! Concepts for coverage-based selection (after Gillick & Favre's ICSI summarizer): a
//! concept is a stemmed word bigram that is not two stop words, or a content word. The table
//! counts the independent articles that use each and how early they do; the summarizer
//! weighs concepts by both, so what many sources report, and report first, counts most.
//! Concepts that few articles share are dropped: they are one source's detail, not the story.

use rustc_hash::FxHashMap;

use crate::normalize::{is_stopword, text_key, Stemmer, WordList};

/// Concept ids of one text, in order of appearance with their word positions.
pub struct TextConcepts {
    /// `(concept id, index of its last word)`.
    pub items: Vec<(u32, u32)>,
}

/// What a concept needs of a word: its stem (by id) and whether it is a stop word or a
/// single letter. Kept per distinct word, since a story repeats its words over and over and
/// Snowball stemming was most of the table's cost.
#[derive(Clone, Copy)]
struct WordInfo {
    stem: u32,
    stop: bool,
    content: bool,
}

/// Interns concepts and counts the articles that use each.
#[derive(Default)]
pub struct ConceptTable {
    /// A word (by [`text_key`]) → what a concept needs of it.
    words: FxHashMap<u64, WordInfo>,
    /// A stem → its id: words with one stem share it.
    stems: FxHashMap<Box<str>, u32>,
    /// A concept → its id, by stem ids: a content word is `(u32::MAX, stem)`, a bigram its
    /// two stems (ids are below `u32::MAX`, so the two kinds never meet).
    ids: FxHashMap<(u32, u32), u32>,
    /// The words of the text being added, one buffer reused across texts.
    list: WordList,
    /// Scratch: the words of the text being added.
    infos: Vec<WordInfo>,
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
        self.list.refill(text);
        self.infos.clear();
        for w in self.list.iter() {
            let info = match self.words.get(&text_key(w)) {
                Some(&info) => info,
                None => {
                    let stem = stemmer.stem(w);
                    let next = self.stems.len() as u32;
                    let stem = *self.stems.entry(Box::from(stem.as_ref())).or_insert(next);
                    let stop = is_stopword(w);
                    let info = WordInfo {
                        stem,
                        stop,
                        content: !stop && w.chars().count() > 1,
                    };
                    self.words.insert(text_key(w), info);
                    info
                }
            };
            self.infos.push(info);
        }
        let mut items = Vec::new();
        for i in 0..self.infos.len() {
            let w = self.infos[i];
            // The content word ending here, then the bigram ending here.
            if w.content {
                let id = self.intern((u32::MAX, w.stem), true);
                self.count(id, doc, counted, position);
                items.push((id, i as u32));
            }
            if i > 0 && !(self.infos[i - 1].stop && w.stop) {
                let id = self.intern((self.infos[i - 1].stem, w.stem), false);
                self.count(id, doc, counted, position);
                items.push((id, i as u32));
            }
        }
        TextConcepts { items }
    }

    /// The id of a concept.
    fn intern(&mut self, key: (u32, u32), unigram: bool) -> u32 {
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
