//! Words, stemmed content terms and a content fingerprint.

use std::hash::BuildHasher;

/// English stop words: function words that say nothing about what an article is about.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "according",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "d",
    "did",
    "didn",
    "do",
    "does",
    "doesn",
    "doing",
    "don",
    "down",
    "during",
    "each",
    "even",
    "ever",
    "few",
    "for",
    "friday",
    "from",
    "further",
    "get",
    "got",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "into",
    "is",
    "isn",
    "it",
    "its",
    "itself",
    "just",
    "last",
    "like",
    "ll",
    "m",
    "made",
    "make",
    "many",
    "may",
    "me",
    "might",
    "monday",
    "more",
    "most",
    "mr",
    "mrs",
    "ms",
    "much",
    "must",
    "my",
    "myself",
    "new",
    "news",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "per",
    "re",
    "report",
    "reported",
    "reports",
    "s",
    "said",
    "same",
    "saturday",
    "say",
    "says",
    "she",
    "should",
    "since",
    "so",
    "some",
    "still",
    "such",
    "sunday",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "though",
    "through",
    "thursday",
    "to",
    "told",
    "too",
    "tuesday",
    "two",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "ve",
    "very",
    "was",
    "wasn",
    "we",
    "wednesday",
    "week",
    "were",
    "weren",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "won",
    "would",
    "year",
    "years",
    "yet",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.binary_search(&word).is_ok()
}

/// Whether a word (lower-cased, as [`words`] gives it) has a content term: neither a stop
/// word nor a single letter.
pub fn is_content_word(word: &str) -> bool {
    word.chars().nth(1).is_some() && !is_stopword(word)
}

/// Lower-cased words: runs of letters and digits. A possessive `'s` is dropped.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    runs(text).filter_map(word)
}

/// The non-empty runs of letters, digits and apostrophes between separators, as written.
///
/// Scanned by byte through a class table, decoding only non-ASCII characters: a split on a
/// `char` predicate decodes every character, and took about a seventh longer over ECB+ and
/// GVC's texts (a byte loop calling a per-character test took longer still). Empty runs
/// make no word, so leaving them out changes no word list.
fn runs(text: &str) -> Runs<'_> {
    Runs { text, at: 0 }
}

struct Runs<'t> {
    text: &'t str,
    at: usize,
}

/// Class of a byte for [`Runs`]: outside a run, inside one, or the start of a non-ASCII
/// character, which must be decoded to tell.
const OUTSIDE: u8 = 0;
const INSIDE: u8 = 1;
const DECODE: u8 = 2;
const BYTE_CLASS: [u8; 256] = {
    let mut class = [OUTSIDE; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        class[b] = if !byte.is_ascii() {
            DECODE
        } else if byte.is_ascii_alphanumeric() || byte == b'\'' {
            INSIDE
        } else {
            OUTSIDE
        };
        b += 1;
    }
    class
};

impl<'t> Runs<'t> {
    /// Whether the non-ASCII character at byte `i` belongs to a run, and its length.
    #[cold]
    fn non_ascii_at(&self, i: usize) -> (bool, usize) {
        match self.text.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => (c.is_alphanumeric() || c == '’', c.len_utf8()),
            None => (false, 1),
        }
    }

    /// The first byte at or after `i` whose inside-ness is `inside`, or the end.
    #[inline(always)]
    fn end_of_class(&self, mut i: usize, inside: bool) -> usize {
        let bytes = self.text.as_bytes();
        let want = if inside { INSIDE } else { OUTSIDE };
        while let Some(&b) = bytes.get(i) {
            let class = BYTE_CLASS[usize::from(b)];
            if class == want {
                i += 1;
            } else if class != DECODE {
                break;
            } else {
                let (is_inside, n) = self.non_ascii_at(i);
                if is_inside != inside {
                    break;
                }
                i += n;
            }
        }
        i
    }
}

impl<'t> Iterator for Runs<'t> {
    type Item = &'t str;

    fn next(&mut self) -> Option<&'t str> {
        let start = self.end_of_class(self.at, false);
        self.at = self.end_of_class(start, true);
        (self.at > start).then(|| &self.text[start..self.at])
    }
}

/// [`words`] of a text in one buffer: one allocation for all the words of an article
/// instead of one a word (the analysis splits every article once, and the allocations were
/// a sixth of that).
#[derive(Debug, Default)]
pub struct WordList {
    buf: String,
    ends: Vec<usize>,
    /// Where each word's run lies in the text (bytes): a part of the text (a clause) finds
    /// its words here instead of splitting itself again.
    runs: Vec<std::ops::Range<usize>>,
}

impl WordList {
    pub fn of(text: &str) -> WordList {
        let mut list = WordList {
            buf: String::with_capacity(text.len()),
            ends: Vec::new(),
            runs: Vec::new(),
        };
        list.refill(text);
        list
    }

    /// The list becomes that of `text`, in the room it already has: for callers that split
    /// many short texts one after the other (a story's sentences).
    pub fn refill(&mut self, text: &str) {
        self.buf.clear();
        self.ends.clear();
        self.runs.clear();
        for w in runs(text) {
            if push_word(w, &mut self.buf) {
                self.ends.push(self.buf.len());
                // A run is a slice of `text`: its offset is the distance of their pointers.
                let start = w.as_ptr() as usize - text.as_ptr() as usize;
                self.runs.push(start..start + w.len());
            }
        }
    }

    /// The words, in order, without collecting them.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let w = &self.buf[start..end];
            start = end;
            w
        })
    }

    /// The byte ranges in the text of the runs the words come from, one a word.
    pub fn runs(&self) -> &[std::ops::Range<usize>] {
        &self.runs
    }

    /// The indices of the words of `part` of the text: those whose runs lie inside it, or
    /// `None` when a run crosses one of its ends (the part's own words then differ from
    /// the text's there: split, they are other words).
    pub fn words_in(&self, part: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
        let from = self.runs.partition_point(|r| r.start < part.start);
        let to = self.runs.partition_point(|r| r.start < part.end);
        let crosses_start = from > 0 && self.runs[from - 1].end > part.start;
        let crosses_end = to > from && self.runs[to - 1].end > part.end;
        (!crosses_start && !crosses_end).then_some(from..to)
    }

    /// The words, in order: the same as [`words`] gives.
    pub fn words(&self) -> Vec<&str> {
        self.iter().collect()
    }
}

/// One run between separators as a lower-cased word without apostrophes, if any is left.
fn word(w: &str) -> Option<String> {
    let mut out = String::with_capacity(w.len());
    push_word(w, &mut out).then_some(out)
}

/// Appends [`word`] of `w` to `out`; false (and nothing appended) when no word is left.
fn push_word(w: &str, out: &mut String) -> bool {
    if w.bytes().all(|b| b.is_ascii_alphanumeric()) {
        // Nearly every word: no apostrophe to drop, nothing but ASCII to lower-case.
        let before = out.len();
        out.push_str(w);
        out[before..].make_ascii_lowercase();
        return !w.is_empty();
    }
    let w = w.trim_matches(['\'', '’']);
    let w = w
        .strip_suffix("'s")
        .or_else(|| w.strip_suffix("’s"))
        .unwrap_or(w);
    let before = out.len();
    if w.is_ascii() {
        out.extend(
            w.bytes()
                .filter(|&b| b != b'\'')
                .map(|b| char::from(b.to_ascii_lowercase())),
        );
    } else {
        out.push_str(&w.to_lowercase().replace(['\'', '’'], ""));
    }
    out.len() > before
}

/// An English Snowball stemmer; cheap to create, shareable across threads.
pub struct Stemmer(rust_stemmers::Stemmer);

impl Stemmer {
    pub fn english() -> Stemmer {
        Stemmer(rust_stemmers::Stemmer::create(
            rust_stemmers::Algorithm::English,
        ))
    }

    pub fn stem<'a>(&self, word: &'a str) -> std::borrow::Cow<'a, str> {
        self.0.stem(word)
    }
}

/// Stemmed content terms of a text: stop words and one-letter words removed.
pub fn content_terms(text: &str, stemmer: &Stemmer) -> Vec<String> {
    content_terms_of(words(text), stemmer)
}

/// [`content_terms`] of words already split by [`words`], for callers that need the words
/// too: an article is tokenised once for its terms, its signature and its fingerprint.
pub fn content_terms_of<S: AsRef<str>>(
    words: impl IntoIterator<Item = S>,
    stemmer: &Stemmer,
) -> Vec<String> {
    let mut out = Vec::new();
    for_each_content_term(words, stemmer, |t| out.push(t.to_string()));
    out
}

/// Calls `f` with each content term of `words`, in order: [`content_terms_of`] without an
/// owned string per word, for callers that count terms (an article's are mostly repeats).
pub fn for_each_content_term<S: AsRef<str>>(
    words: impl IntoIterator<Item = S>,
    stemmer: &Stemmer,
    mut f: impl FnMut(&str),
) {
    for_each_word_term(words, stemmer, |_, t| f(t))
}

/// [`for_each_content_term`] with the index of the word each term is of.
pub fn for_each_word_term<S: AsRef<str>>(
    words: impl IntoIterator<Item = S>,
    stemmer: &Stemmer,
    mut f: impl FnMut(usize, &str),
) {
    for_each_keyed_word_term(words, stemmer, |i, t, _| f(i, t))
}

/// [`for_each_word_term`] with each term's [`text_key`] too, kept in the stem cache beside
/// the term: a caller that counts or numbers terms by key (ingest, for every word of every
/// article) then hashes no term text again.
pub fn for_each_keyed_word_term<S: AsRef<str>>(
    words: impl IntoIterator<Item = S>,
    stemmer: &Stemmer,
    mut f: impl FnMut(usize, &str, u64),
) {
    STEMS.with(|cache| {
        let mut cache = cache.borrow_mut();
        for (i, w) in words.into_iter().enumerate() {
            let w = w.as_ref();
            let key = text_key(w);
            if let Some(term) = cache.get(&key) {
                if let Some((t, k)) = term {
                    f(i, t, *k);
                }
                continue;
            }
            let term = is_content_word(w).then(|| {
                let t = Box::<str>::from(stemmer.stem(w));
                let k = text_key(&t);
                (t, k)
            });
            if let Some((t, k)) = &term {
                f(i, t, *k);
            }
            if cache.len() < STEM_CACHE_WORDS {
                cache.insert(key, term);
            }
        }
    })
}

/// Distinct words whose content term a thread remembers. News vocabulary is Zipfian, so the
/// first few tens of thousands of words a thread meets cover nearly every word it will read,
/// and a lookup costs a fraction of Snowball stemming. Once full the cache only serves, so
/// its memory (a few MiB a thread) stays fixed however long the stream.
const STEM_CACHE_WORDS: usize = 1 << 15;

/// A 64-bit key of a text, of high quality (foldhash's, with a fixed seed), for maps that
/// find a word or a term by its key alone: a lookup then compares two integers instead of
/// following the stored text to compare its bytes (that compare and its cache miss were two
/// thirds of a stem-cache lookup, and a lookup runs for every word of every article). Two
/// texts of one map sharing a key would be taken for each other; with 2^15 words in the stem
/// cache the odds of that over a billion distinct words are about 2^-19. Keys never leave the
/// process, so the hash may change between releases.
pub fn text_key(text: &str) -> u64 {
    const KEYS: foldhash::quality::FixedState =
        foldhash::quality::FixedState::with_seed(0x5354_454d_5f4b_4559);
    KEYS.hash_one(text)
}

/// A content term and its [`text_key`].
type KeyedTerm = (Box<str>, u64);

thread_local! {
    /// Word (by [`text_key`]) → its content term and the term's own key (`None` for stop
    /// words and one-letter words). Only the English stemmer exists, so the word alone is
    /// the key.
    static STEMS: std::cell::RefCell<rustc_hash::FxHashMap<u64, Option<KeyedTerm>>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

/// Distinct years (1900–2099) a text mentions, as four-digit numbers standing alone:
/// evidence of *when* an undated article's event happened.
pub fn years(text: &str) -> Vec<i32> {
    let mut out: Vec<i32> = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|w| w.len() == 4)
        .filter_map(|w| w.parse::<i32>().ok())
        .filter(|y| (1900..=2099).contains(y))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Distinct figures a text gives: numbers standing alone ("23 pirates", "magnitude 5.6",
/// "$1,100", "7-year-old"), as written without thousands separators. Not years (see
/// [`years`]), and not a number run into letters ("1st", "10am", "F16"). Two reports of one
/// occurrence give the same counts, ages and sums; two occurrences of one kind seldom do.
pub fn figures(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let starts = bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric());
        if !starts {
            i += 1;
            continue;
        }
        let start = i;
        // Digits, and a '.' or ',' between digits.
        while i < bytes.len()
            && (bytes[i].is_ascii_digit()
                || (matches!(bytes[i], b'.' | b',')
                    && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)))
        {
            i += 1;
        }
        if bytes.get(i).is_some_and(u8::is_ascii_alphabetic) {
            continue;
        }
        let figure = text[start..i].replace(',', "");
        let year = figure.len() == 4
            && figure
                .parse::<i32>()
                .is_ok_and(|y| (1900..=2099).contains(&y));
        if !year {
            out.push(figure);
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// A 64-bit fingerprint of a text's words (FNV-1a), stable across runs and platforms:
/// the same words in the same order give the same value whatever the spacing or case.
pub fn fingerprint(text: &str) -> u64 {
    fingerprint_of(words(text))
}

/// [`fingerprint`] of words already split by [`words`].
pub fn fingerprint_of<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for word in words {
        for b in word.as_ref().bytes().chain(std::iter::once(b' ')) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {

    /// The runs as the first tokeniser found them: a split on a character predicate, whose
    /// empty pieces make no word.
    fn runs_by_split(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
            .filter(|r| !r.is_empty())
            .collect()
    }

    /// Runs and words of `text` are those of the first tokeniser.
    fn assert_tokenised_as_by_split(text: &str) {
        assert_eq!(
            runs(text).collect::<Vec<_>>(),
            runs_by_split(text),
            "{text:?}"
        );
        assert_eq!(
            WordList::of(text).words(),
            reference_words(text),
            "{text:?}"
        );
    }

    #[test]
    fn runs_scanned_by_byte_are_those_of_a_split_by_character() {
        for text in [
            "",
            "  ,;",
            "Zürich's café, São Paulo — Δελφοί; naïve ‘quotes’ don't l’État",
            "'tis the O'Briens' '' DON'T Obama’s ’ 2014's",
            "emoji 🙂between… words\u{a0}and\u{2009}spaces",
            "ends in é",
        ] {
            assert_tokenised_as_by_split(text);
        }
        // Real news; SemEval's pairs are in several languages and scripts.
        let mut texts = 0;
        for set in [
            "cluster/ecbplus-dev",
            "cluster/gvc-dev",
            "compare/newswcl50",
        ] {
            let path = format!("../../../shared/data/{set}/articles.jsonl");
            for r in crate::ingest::read_path(std::path::Path::new(&path), None) {
                assert_tokenised_as_by_split(&r.expect("a readable article").article.text);
                texts += 1;
            }
        }
        let pairs = "../../../shared/data/similarity/semeval-dev/pairs.csv";
        let pairs = std::fs::read_to_string(pairs).expect("SemEval pairs");
        for line in pairs.lines() {
            assert_tokenised_as_by_split(line);
        }
        assert!(texts > 700, "{texts} articles read");
    }

    #[test]
    fn a_part_of_a_text_finds_its_words_unless_it_cuts_one() {
        let text = "Rebels took the town's port, officials said; talks stalled.";
        let list = WordList::of(text);
        let part = |s: &str| {
            let start = text.find(s).expect("part of the text");
            list.words_in(start..start + s.len())
        };
        let words = list.words();
        let of = |r: std::ops::Range<usize>| words[r].join(" ");
        // Whole words, with or without the punctuation around them: the part's own words.
        for s in [
            "Rebels took the town's port",
            "officials said;",
            " talks stalled",
        ] {
            let found = part(s).map(of);
            assert_eq!(found, Some(words_of(s).join(" ")), "{s:?}");
        }
        // A part cutting a word at either end has other words than the text there.
        assert_eq!(part("ebels took"), None);
        assert_eq!(part("officials sa"), None);
        assert_eq!(part("town"), None);
    }

    fn words_of(s: &str) -> Vec<String> {
        super::words(s).collect()
    }

    #[test]
    fn figures_are_numbers_standing_alone_without_years() {
        assert_eq!(
            figures("In 2008 the navy held 23 pirates, a 7-year-old and $1,100; a 5.6 quake."),
            vec!["1100", "23", "5.6", "7"]
        );
        // Run into letters: ordinals, times, model names. A sentence's full stop is not a
        // decimal point.
        assert_eq!(figures("The 1st at 10am in an F16, then 3."), vec!["3"]);
        assert!(figures("no figures here").is_empty());
        // Bytes after a multi-byte character are still read as they are.
        assert_eq!(figures("€40 and ‘12’"), vec!["12", "40"]);
    }

    #[test]
    fn years_are_standalone_four_digit_numbers_in_range() {
        assert_eq!(
            years("On 21 July 2013, 2,000 people; 1850 and 2013 again; 20131 no; /2012/08/"),
            vec![2012, 2013]
        );
    }

    use super::*;

    #[test]
    fn stopword_list_is_sorted_for_binary_search() {
        let mut sorted = STOPWORDS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, STOPWORDS);
    }

    #[test]
    fn terms_are_stemmed_content_words() {
        let s = Stemmer::english();
        assert_eq!(
            content_terms(
                "Blinken's talks in Doha: negotiations were progressing.",
                &s
            ),
            vec!["blinken", "talk", "doha", "negoti", "progress"]
        );
    }

    /// The words as first written, before the one-pass ASCII lower-casing.
    fn reference_words(text: &str) -> Vec<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
            .map(|w| {
                let w = w.trim_matches(['\'', '’']);
                let w = w
                    .strip_suffix("'s")
                    .or_else(|| w.strip_suffix("’s"))
                    .unwrap_or(w);
                w.to_lowercase().replace(['\'', '’'], "")
            })
            .filter(|w| !w.is_empty())
            .collect()
    }

    #[test]
    fn words_match_the_reference_on_mixed_text() {
        let text = "Blinken's O'Neill ROCK'N'ROLL 'quoted' ’curly’s’ don't İstanbul ÉCOLE \
                    Straße naïve 3.5% x's 'S ’ '' a-b_c 東京 Δέλτα's";
        assert_eq!(words(text).collect::<Vec<_>>(), reference_words(text));
        assert_eq!(WordList::of(text).words(), reference_words(text));
        assert!(WordList::of(" '' ’ ").words().is_empty());
    }

    #[test]
    fn terms_of_words_equal_terms_of_text_and_repeat_from_the_cache() {
        let s = Stemmer::english();
        let text = "The negotiations were progressing; negotiations progress. A Z zz";
        let direct = content_terms(text, &s);
        let words: Vec<String> = words(text).collect();
        assert_eq!(content_terms_of(&words, &s), direct);
        assert_eq!(content_terms_of(&words, &s), direct);
        assert_eq!(
            direct,
            vec!["negoti", "progress", "negoti", "progress", "zz"]
        );
        assert_eq!(fingerprint_of(&words), fingerprint(text));
    }

    #[test]
    fn fingerprint_ignores_case_and_spacing() {
        assert_eq!(fingerprint("Hello,  World"), fingerprint("hello world"));
        assert_ne!(fingerprint("hello world"), fingerprint("world hello"));
    }
}
