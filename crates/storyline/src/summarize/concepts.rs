//! Concepts for coverage-based selection (after Gillick & Favre's ICSI summarizer): a
//! concept is a stemmed word bigram that is not two stop words; its weight is the number of
//! independent articles that use it, so what many sources report counts most. Concepts
//! that few articles share are dropped: they are one source's detail, not the story.

use std::collections::HashMap;

use crate::normalize::{is_stopword, words, Stemmer};

/// Concept ids of one text, in order of appearance with their word positions.
pub struct TextConcepts {
    /// `(concept id, index of its first word)`.
    pub items: Vec<(u32, usize)>,
}

/// Interns concepts and counts the articles that use each.
#[derive(Default)]
pub struct ConceptTable {
    ids: HashMap<(String, String), u32>,
    /// Independent articles using the concept.
    pub docs: Vec<u32>,
    /// Independent articles using it in their opening sentences.
    pub lead_docs: Vec<u32>,
    last_doc: Vec<usize>,
    last_lead_doc: Vec<usize>,
}

impl ConceptTable {
    /// Concepts of one sentence of article `doc`; `counted`: whether it adds to the
    /// article counts (copies do not), `lead`: whether it is an opening sentence.
    pub fn add(
        &mut self,
        text: &str,
        doc: usize,
        counted: bool,
        lead: bool,
        stemmer: &Stemmer,
    ) -> TextConcepts {
        let toks: Vec<String> = words(text).collect();
        let mut items = Vec::new();
        for (i, pair) in toks.windows(2).enumerate() {
            let (a, b) = (&pair[0], &pair[1]);
            if is_stopword(a) && is_stopword(b) {
                continue;
            }
            let key = (stemmer.stem(a).into_owned(), stemmer.stem(b).into_owned());
            let next = self.ids.len() as u32;
            let id = *self.ids.entry(key).or_insert(next);
            if id as usize == self.docs.len() {
                self.docs.push(0);
                self.lead_docs.push(0);
                self.last_doc.push(usize::MAX);
                self.last_lead_doc.push(usize::MAX);
            }
            let k = id as usize;
            if counted && self.last_doc[k] != doc {
                self.last_doc[k] = doc;
                self.docs[k] += 1;
            }
            if counted && lead && self.last_lead_doc[k] != doc {
                self.last_lead_doc[k] = doc;
                self.lead_docs[k] += 1;
            }
            items.push((id, i));
        }
        TextConcepts { items }
    }
}
