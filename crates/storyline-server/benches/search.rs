//! Search latency on a 100,000-article store (a benchmark, not a test):
//!
//! ```sh
//! cargo bench -p storyline-server --bench search            # builds the store on first run
//! cargo bench -p storyline-server --bench search -- --rebuild
//! ```
//!
//! The store is generated at run time from the articles under `../shared/data` (every
//! `articles.jsonl`), drawn with replacement, each copy given a new id and a new date, and
//! ingested through the real pipeline (so the FTS index is the one `serve` uses). It is kept
//! in `target/bench/search-100k.db` and reused. Each query runs as `GET /api/search` runs it
//! (`storyline::read::search`: top 20 articles with snippets + top 10 stories by headline); the median over all
//! timed runs is the figure to report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{Duration, TimeZone, Utc};
use storyline::ingest::{self, Record};
use storyline::pipeline::{Pipeline, PipelineConfig};
use storyline::read;
use storyline::search::Query;
use storyline::store::{ArticleFilter, Store};

const TARGET_ARTICLES: usize = 100_000;
const RUNS: usize = 7;

const QUERIES: &[&str] = &[
    "Blinken",
    "earthquake",
    "president",
    "oil spill",
    "\"oil spill\"",
    "\"White House\"",
    "Gaza OR Israel",
    "election NOT poll",
    "vaccin*",
    "Libya rebels",
    "Michael Jackson",
    "Haiti aid",
    "stock market",
    "police",
    "the",
    "said",
    "BP",
    "swine flu",
    "\"prime minister\"",
    "court ruling",
];

fn main() {
    let rebuild = std::env::args().any(|a| a == "--rebuild");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let db = root.join("target/bench/search-100k.db");
    let have = if db.exists() && !rebuild {
        Store::open(&db)
            .and_then(|s| s.counts())
            .map(|c| c.articles as usize)
            .unwrap_or(0)
    } else {
        0
    };
    if have < TARGET_ARTICLES {
        build(&root.join("../shared/data"), &db);
    }
    let store = match Store::open(&db) {
        Ok(s) => s,
        Err(e) => panic!("open {}: {e}", db.display()),
    };
    let counts = store.counts().expect("counts");
    println!(
        "store {}: {} articles, {} events, {} stories",
        db.display(),
        counts.articles,
        counts.events,
        counts.stories
    );

    let filter = ArticleFilter::default();
    let filtered = ArticleFilter {
        since: Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).single(),
        before: Utc.with_ymd_and_hms(2023, 1, 1, 0, 0, 0).single(),
        ..ArticleFilter::default()
    };
    let mut all = Vec::new();
    println!(
        "{:<24} {:>8} {:>10} {:>10}",
        "query", "hits", "median ms", "max ms"
    );
    for (i, q) in QUERIES.iter().enumerate() {
        // Every fourth query also carries a date filter, as the API allows.
        let f = if i % 4 == 3 { &filtered } else { &filter };
        let parsed = Query::parse(q).expect("query");
        let warm = read::search(&store, q, &parsed, f, 20, 0).expect("search");
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let r = read::search(&store, q, &parsed, f, 20, 0).expect("search");
            times.push(t.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(r);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{:<24} {:>8} {:>10.2} {:>10.2}",
            format!("{q}{}", if i % 4 == 3 { " [2022]" } else { "" }),
            warm.articles.len(),
            times[RUNS / 2],
            times[RUNS - 1]
        );
        all.extend(times);
    }
    all.sort_by(f64::total_cmp);
    let pct = |p: f64| all[((all.len() - 1) as f64 * p).round() as usize];
    println!(
        "all {} timed searches: median {:.2} ms, p90 {:.2} ms, max {:.2} ms",
        all.len(),
        pct(0.5),
        pct(0.9),
        pct(1.0)
    );
}

/// Generates the store: every article of `../shared/data`, drawn with replacement until
/// there are 100,000, each with a fresh id and a date spread over 2015–2024.
fn build(data: &Path, db: &Path) {
    let mut files = Vec::new();
    collect_jsonl(data, &mut files);
    files.sort();
    let mut pool: Vec<Record> = Vec::new();
    for f in &files {
        pool.extend(ingest::read_path(f, None).filter_map(Result::ok));
    }
    assert!(!pool.is_empty(), "no articles under {}", data.display());
    println!(
        "generating {TARGET_ARTICLES} articles from {} originals in {} files",
        pool.len(),
        files.len()
    );
    if let Some(dir) = db.parent() {
        std::fs::create_dir_all(dir).expect("bench dir");
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let start = Utc
        .with_ymd_and_hms(2015, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let span_minutes = 10 * 365 * 24 * 60;
    // A fixed LCG: the same store on every machine.
    let mut state: u64 = 0x5eed;
    let records = (0..TARGET_ARTICLES).map(move |i| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut r = pool[(state >> 33) as usize % pool.len()].clone();
        r.article.id = format!("bench-{i:06}");
        r.article.published =
            Some(start + Duration::minutes((i as i64 * span_minutes) / TARGET_ARTICLES as i64));
        r.warnings.clear();
        Ok(r)
    });
    let mut p = Pipeline::open(db, PipelineConfig::default()).expect("open pipeline");
    let t = Instant::now();
    let report = p
        .ingest(records, |pr| {
            if pr.read % 10_000 == 0 {
                println!("  {} read, {:.0} s", pr.read, t.elapsed().as_secs_f64());
            }
        })
        .expect("ingest");
    println!(
        "stored {} articles in {:.0} s ({} errors)",
        report.stored,
        report.seconds,
        report.errors.len()
    );
}

fn collect_jsonl(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect_jsonl(&p, out);
        } else if p.file_name().is_some_and(|n| n == "articles.jsonl") {
            out.push(p);
        }
    }
}
