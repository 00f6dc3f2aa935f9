//! The search table: queries as people type them (the ones that used to fail among them),
//! run through the CLI, the API and the page against the seeds, and a reading of what each
//! must find that does not go through FTS5: the articles are scanned word by word.
//!
//! Shared by `storyline-server`'s API and browser tests and `storyline-cli`'s tests
//! (`#[path]`), so all three run the same table.

use storyline::search::{EmptyQuery, Query, Term};

pub const QUERIES: &[&str] = &[
    "Blinken",
    "U.S. ceasefire",
    "Blinken's visit",
    "hostages: 40",
    "Saudi-Arabia",
    "C++",
    "ceasefire (Gaza",
    "\"Gaza ceasefire",
    "\"Secretary of State\"",
    "\"State of Secretary\"",
    "Hamas OR Hezbollah",
    "Gaza NOT Egypt",
    "cease*",
    "Netanyahu",
    "Rafah offensive",
    "Qatar Egypt mediators",
    "US-Israel relations",
    "Security Council resolution",
    "\"United Nations Security Council\"",
    "hostage* release",
    "Jeddah",
    "Doha talks",
    "Burns CIA",
    "Israel's",
    "humanitarian aid",
    "\"Middle East\"",
    "two-state solution",
    "Ramadan",
    "October 7",
    "Shifa hospital",
    "Tel Aviv",
    "Crown Prince",
    "(Netanyahu)",
    "\"Netanyahu",
    "Blinken!!!",
    "ceasefire?",
    "#Gaza",
    "@Blinken",
    "ISRAEL",
    "blinken AND hamas",
    "ceasefire or truce",
    "Wednesday's meeting",
    "Ukraine",
    "quokka",
    "Antony J. Blinken",
    "\"Blinken\" OR \"Burns\" NOT Qatar",
    "",
    "++",
    "NOT Gaza",
];

/// Letters and digits make words, as FTS5's default tokenizer splits them.
pub fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn term_in(t: &Term, column: &[String]) -> bool {
    let n = t.words.len();
    column.windows(n).any(|w| {
        w.iter().zip(&t.words).enumerate().all(|(i, (have, want))| {
            if t.prefix && i == n - 1 {
                have.starts_with(want.as_str())
            } else {
                have == want
            }
        })
    })
}

/// Whether an article (its columns, each as words) is one `q` must find. A phrase never
/// spans two columns, as in FTS5.
pub fn matches(q: &Query, columns: &[Vec<String>]) -> bool {
    let has = |t: &Term| columns.iter().any(|c| term_in(t, c));
    q.all.iter().all(|group| group.iter().any(has)) && !q.exclude.iter().any(has)
}

/// What a query must give: how many of `articles` (title, text) it finds, or why there is
/// nothing to search for.
pub fn expected(query: &str, articles: &[(String, String)]) -> Result<usize, EmptyQuery> {
    let q = Query::parse(query)?;
    Ok(articles
        .iter()
        .filter(|(title, text)| matches(&q, &[words(title), words(text)]))
        .count())
}
