//! The clusterer a user would otherwise script in an afternoon, as the yardstick every
//! clustering figure is printed beside: single-pass TF-IDF online clustering, a Rust copy of
//! `scripts/baseline_singlepass.py` (scikit-learn's `TfidfVectorizer(stop_words="english",
//! sublinear_tf=True)`, then each article joins the closest cluster centroid at cosine ≥ 0.3,
//! else starts one). Articles are taken in date order where dated (ties in file order), then
//! the undated in file order, as a stream would deliver them. The vectorizer sees the whole
//! input first, a batch step storyline does not get to take.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// The script's default join threshold.
pub const THRESHOLD: f64 = 0.3;

/// One article as the baseline reads it.
pub struct Doc<'a> {
    pub id: &'a str,
    pub text: &'a str,
    /// The `published` field as written (ISO 8601 sorts as text), if any.
    pub published: Option<&'a str>,
}

/// scikit-learn's `ENGLISH_STOP_WORDS` (a public word list), so the copy matches the script.
#[rustfmt::skip]
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "across", "after", "afterwards", "again", "against", "all", "almost",
    "alone", "along", "already", "also", "although", "always", "am", "among", "amongst",
    "amoungst", "amount", "an", "and", "another", "any", "anyhow", "anyone", "anything",
    "anyway", "anywhere", "are", "around", "as", "at", "back", "be", "became", "because",
    "become", "becomes", "becoming", "been", "before", "beforehand", "behind", "being", "below",
    "beside", "besides", "between", "beyond", "bill", "both", "bottom", "but", "by", "call",
    "can", "cannot", "cant", "co", "con", "could", "couldnt", "cry", "de", "describe", "detail",
    "do", "done", "down", "due", "during", "each", "eg", "eight", "either", "eleven", "else",
    "elsewhere", "empty", "enough", "etc", "even", "ever", "every", "everyone", "everything",
    "everywhere", "except", "few", "fifteen", "fifty", "fill", "find", "fire", "first", "five",
    "for", "former", "formerly", "forty", "found", "four", "from", "front", "full", "further",
    "get", "give", "go", "had", "has", "hasnt", "have", "he", "hence", "her", "here",
    "hereafter", "hereby", "herein", "hereupon", "hers", "herself", "him", "himself", "his",
    "how", "however", "hundred", "i", "ie", "if", "in", "inc", "indeed", "interest", "into",
    "is", "it", "its", "itself", "keep", "last", "latter", "latterly", "least", "less", "ltd",
    "made", "many", "may", "me", "meanwhile", "might", "mill", "mine", "more", "moreover",
    "most", "mostly", "move", "much", "must", "my", "myself", "name", "namely", "neither",
    "never", "nevertheless", "next", "nine", "no", "nobody", "none", "noone", "nor", "not",
    "nothing", "now", "nowhere", "of", "off", "often", "on", "once", "one", "only", "onto",
    "or", "other", "others", "otherwise", "our", "ours", "ourselves", "out", "over", "own",
    "part", "per", "perhaps", "please", "put", "rather", "re", "same", "see", "seem", "seemed",
    "seeming", "seems", "serious", "several", "she", "should", "show", "side", "since",
    "sincere", "six", "sixty", "so", "some", "somehow", "someone", "something", "sometime",
    "sometimes", "somewhere", "still", "such", "system", "take", "ten", "than", "that", "the",
    "their", "them", "themselves", "then", "thence", "there", "thereafter", "thereby",
    "therefore", "therein", "thereupon", "these", "they", "thick", "thin", "third", "this",
    "those", "though", "three", "through", "throughout", "thru", "thus", "to", "together",
    "too", "top", "toward", "towards", "twelve", "twenty", "two", "un", "under", "until", "up",
    "upon", "us", "very", "via", "was", "we", "well", "were", "what", "whatever", "when",
    "whence", "whenever", "where", "whereafter", "whereas", "whereby", "wherein", "whereupon",
    "wherever", "whether", "which", "while", "whither", "who", "whoever", "whole", "whom",
    "whose", "why", "will", "with", "within", "without", "would", "yet", "you", "your", "yours",
    "yourself", "yourselves",
];

/// scikit-learn's default tokens: lower-cased runs of two or more word characters.
fn tokens(text: &str) -> Vec<String> {
    static TOKEN: OnceLock<regex::Regex> = OnceLock::new();
    let re = TOKEN.get_or_init(|| regex::Regex::new(r"\b\w\w+\b").expect("constant pattern"));
    let stop = stop_words();
    let lower = text.to_lowercase();
    re.find_iter(&lower)
        .map(|m| m.as_str())
        .filter(|t| !stop.contains(t))
        .map(str::to_string)
        .collect()
}

fn stop_words() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOP_WORDS.iter().copied().collect())
}

/// The stream order: dated articles by date (ties in file order), then the undated.
fn stream_order(docs: &[Doc<'_>]) -> Vec<usize> {
    let mut dated: Vec<usize> = (0..docs.len())
        .filter(|&i| docs[i].published.is_some())
        .collect();
    dated.sort_by_key(|&i| (docs[i].published, i));
    dated.extend((0..docs.len()).filter(|&i| docs[i].published.is_none()));
    dated
}

/// TF-IDF rows (term id, weight), sublinear TF, smooth IDF, L2-normalised.
fn tfidf(docs: &[Vec<String>]) -> Vec<Vec<(usize, f64)>> {
    let mut vocab: HashMap<&str, usize> = HashMap::new();
    let counts: Vec<HashMap<usize, u32>> = docs
        .iter()
        .map(|d| {
            let mut c = HashMap::new();
            for t in d {
                let n = vocab.len();
                let id = *vocab.entry(t.as_str()).or_insert(n);
                *c.entry(id).or_insert(0) += 1;
            }
            c
        })
        .collect();
    let mut df = vec![0u32; vocab.len()];
    for c in &counts {
        for &t in c.keys() {
            df[t] += 1;
        }
    }
    let n = docs.len() as f64;
    counts
        .into_iter()
        .map(|c| {
            let mut row: Vec<(usize, f64)> = c
                .into_iter()
                .map(|(t, tf)| {
                    let idf = ((1.0 + n) / (1.0 + f64::from(df[t]))).ln() + 1.0;
                    (t, (1.0 + f64::from(tf).ln()) * idf)
                })
                .collect();
            row.sort_unstable_by_key(|e| e.0);
            let norm = row.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt();
            if norm > 0.0 {
                row.iter_mut().for_each(|e| e.1 /= norm);
            }
            row
        })
        .collect()
}

/// Cluster labels (`(id, cluster)`), in stream order.
pub fn single_pass(docs: &[Doc<'_>], threshold: f64) -> Vec<(String, usize)> {
    let order = stream_order(docs);
    let texts: Vec<Vec<String>> = order.iter().map(|&i| tokens(docs[i].text)).collect();
    let rows = tfidf(&texts);
    // Per cluster: the summed vector and its squared norm; per term, the clusters whose sum
    // holds it, so a row is compared only with the clusters it shares a term with (every
    // other cosine is 0, below any threshold).
    let mut sums: Vec<HashMap<usize, f64>> = Vec::new();
    let mut sq_norms: Vec<f64> = Vec::new();
    let mut postings: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut labels = Vec::with_capacity(rows.len());
    for (k, row) in rows.iter().enumerate() {
        let mut dots: HashMap<usize, f64> = HashMap::new();
        for &(t, w) in row {
            for &c in postings.get(&t).map_or(&[][..], Vec::as_slice) {
                *dots.entry(c).or_insert(0.0) += w * sums[c][&t];
            }
        }
        let best = dots
            .into_iter()
            .map(|(c, d)| {
                (
                    c,
                    if sq_norms[c] > 0.0 {
                        d / sq_norms[c].sqrt()
                    } else {
                        0.0
                    },
                )
            })
            .fold(None, |best: Option<(usize, f64)>, (c, s)| match best {
                Some((bc, bs)) if bs > s || (bs == s && bc < c) => Some((bc, bs)),
                _ => Some((c, s)),
            });
        let cluster = match best {
            Some((c, s)) if s >= threshold => c,
            _ => {
                sums.push(HashMap::new());
                sq_norms.push(0.0);
                sums.len() - 1
            }
        };
        for &(t, w) in row {
            let entry = sums[cluster].entry(t).or_insert_with(|| {
                postings.entry(t).or_default().push(cluster);
                0.0
            });
            *entry += w;
        }
        sq_norms[cluster] = sums[cluster].values().map(|v| v * v).sum();
        labels.push((docs[order[k]].id.to_string(), cluster));
    }
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_follow_scikit_learn() {
        assert_eq!(
            tokens("The U.S. Army's 3rd unit, a x"),
            ["army", "3rd", "unit"]
        );
    }

    #[test]
    fn near_texts_join_and_others_start_a_cluster_in_date_order() {
        let docs = [
            Doc {
                id: "late",
                text: "earthquake strikes coastal town",
                published: Some("2024-01-02"),
            },
            Doc {
                id: "other",
                text: "parliament votes budget",
                published: None,
            },
            Doc {
                id: "early",
                text: "earthquake strikes town",
                published: Some("2024-01-01"),
            },
        ];
        let got = single_pass(&docs, THRESHOLD);
        assert_eq!(
            got,
            [
                ("early".to_string(), 0),
                ("late".to_string(), 0),
                ("other".to_string(), 1)
            ]
        );
    }
}
