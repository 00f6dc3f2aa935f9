//! `storyline eval extract DIR...`: runs the HTML extractor that ingest uses on every
//! `DIR/html/<id>.html(.gz)`, then (and only then) reads `DIR/gold.jsonl` and scores with the
//! article-extraction benchmark's measure (`storyline_eval::extract`). Several folders give
//! one table with their mean.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use storyline::ingest;
use storyline_eval::extract::{aggregate, score_page, ExtractScores, PageCounts};

/// How many of the worst pages the human report lists with `--verbose`.
const WORST_SHOWN: usize = 15;

#[derive(Serialize)]
struct PageResult {
    id: String,
    url: Option<String>,
    precision: f64,
    recall: f64,
    f1: f64,
    counts: PageCounts,
    /// Why nothing was extracted (scored as an empty text).
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// One folder's scores.
struct SetResult {
    dir: PathBuf,
    scores: ExtractScores,
    failed: usize,
    pages_run: usize,
    seconds: f64,
    /// Worst first.
    pages: Vec<PageResult>,
}

impl SetResult {
    fn pages_per_second(&self) -> f64 {
        self.pages_run as f64 / self.seconds.max(1e-9)
    }
}

pub fn run(
    dirs: &[PathBuf],
    predictions: Option<&Path>,
    verbose: bool,
    json: bool,
) -> Result<ExitCode> {
    if predictions.is_some() && dirs.len() != 1 {
        bail!("--predictions scores one folder; {} were given", dirs.len());
    }
    let sets = dirs
        .iter()
        .map(|d| score_set(d, predictions))
        .collect::<Result<Vec<_>>>()?;
    if let [set] = sets.as_slice() {
        report_one(set, predictions, verbose, json)?;
    } else {
        report_many(&sets, json)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn score_set(dir: &Path, predictions: Option<&Path>) -> Result<SetResult> {
    let started = Instant::now();
    let (texts, pages_run) = match predictions {
        Some(p) => (read_jsonl_texts(p, &["articleBody", "text"])?, 0),
        None => {
            let pages = list_pages(&dir.join("html"))?;
            let n = pages.len();
            (extract_all(&pages), n)
        }
    };
    let seconds = started.elapsed().as_secs_f64();
    // Gold is read only now, after extraction has finished.
    let gold_path = dir.join("gold.jsonl");
    let gold = read_gold(&gold_path)?;
    if gold.is_empty() {
        bail!("{}: no gold pages", gold_path.display());
    }
    let mut results: Vec<PageResult> = gold
        .iter()
        .map(|(id, (url, body))| {
            let (text, error) = match texts.get(id) {
                Some(Ok(t)) => (t.as_str(), None),
                Some(Err(e)) => ("", Some(e.clone())),
                None => ("", Some("no page or prediction for this id".to_string())),
            };
            let counts = score_page(body, text);
            PageResult {
                id: id.clone(),
                url: url.clone(),
                precision: counts.precision(),
                recall: counts.recall(),
                f1: counts.f1(),
                counts,
                error,
            }
        })
        .collect();
    results.sort_by(|a, b| a.f1.total_cmp(&b.f1).then_with(|| a.id.cmp(&b.id)));
    let counts: Vec<PageCounts> = results.iter().map(|r| r.counts).collect();
    let scores = aggregate(&counts);
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    Ok(SetResult {
        dir: dir.to_path_buf(),
        scores,
        failed,
        pages_run,
        seconds,
        pages: results,
    })
}

fn report_one(
    set: &SetResult,
    predictions: Option<&Path>,
    verbose: bool,
    json: bool,
) -> Result<()> {
    if json {
        return crate::print::json(&serde_json::json!({
            "dir": set.dir, "predictions": predictions, "scores": set.scores,
            "failed": set.failed, "pages_extracted": set.pages_run, "seconds": set.seconds,
            "pages": set.pages,
        }));
    }
    print_report(set);
    if verbose {
        println!("\nWorst pages (page F1, P, R):");
        for r in set.pages.iter().take(WORST_SHOWN) {
            println!(
                "  {:.3}  P {:.3}  R {:.3}  {}  {}{}",
                r.f1,
                r.precision,
                r.recall,
                r.id,
                r.url.as_deref().unwrap_or(""),
                r.error
                    .as_deref()
                    .map(|e| format!("  [{e}]"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Several sets: one row each and their unweighted mean, so a small set counts as much as
/// a large one (each stands for a kind of site).
fn report_many(sets: &[SetResult], json: bool) -> Result<()> {
    let n = sets.len() as f64;
    let mean = |f: &dyn Fn(&SetResult) -> f64| sets.iter().map(f).sum::<f64>() / n;
    let (p, r, f1) = (
        mean(&|s| s.scores.precision),
        mean(&|s| s.scores.recall),
        mean(&|s| s.scores.f1),
    );
    if json {
        let rows: Vec<_> = sets
            .iter()
            .map(|s| {
                serde_json::json!({
                    "dir": s.dir, "scores": s.scores, "failed": s.failed,
                    "pages_extracted": s.pages_run, "seconds": s.seconds,
                })
            })
            .collect();
        return crate::print::json(&serde_json::json!({
            "sets": rows,
            "mean": { "precision": p, "recall": r, "f1": f1 },
        }));
    }
    let name = |s: &SetResult| {
        s.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| s.dir.display().to_string())
    };
    let width = sets.iter().map(|s| name(s).len()).max().unwrap_or(0).max(4);
    println!(
        "{:<width$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>7}",
        "set", "pages", "failed", "P", "R", "F1", "pages/s"
    );
    for s in sets {
        println!(
            "{:<width$}  {:>6}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}  {:>7.0}",
            name(s),
            s.scores.pages,
            s.failed,
            s.scores.precision,
            s.scores.recall,
            s.scores.f1,
            s.pages_per_second()
        );
    }
    println!(
        "{:<width$}  {:>6}  {:>6}  {:>6.4}  {:>6.4}  {:>6.4}",
        "mean",
        sets.iter().map(|s| s.scores.pages).sum::<usize>(),
        sets.iter().map(|s| s.failed).sum::<usize>(),
        p,
        r,
        f1
    );
    Ok(())
}

fn print_report(set: &SetResult) {
    let s = &set.scores;
    println!(
        "{}: {} gold pages, {} with nothing extracted",
        set.dir.display(),
        s.pages,
        set.failed
    );
    println!(
        "Shingle  P {:.4}  R {:.4}  F1 {:.4}",
        s.precision, s.recall, s.f1
    );
    if set.pages_run > 0 {
        println!(
            "Extract  {} pages in {:.2}s: {:.0} pages/s",
            set.pages_run,
            set.seconds,
            set.pages_per_second()
        );
    }
}

/// `(id, path)` of every `.html` / `.html.gz` page in a folder, in name order.
fn list_pages(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot list {}", dir.display()))?
            .path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lower = name.to_lowercase();
        if lower.ends_with(".html") || lower.ends_with(".html.gz") || lower.ends_with(".htm") {
            let id = name.split('.').next().unwrap_or_default().to_string();
            pages.push((id, path));
        }
    }
    pages.sort();
    if pages.is_empty() {
        bail!("no .html or .html.gz pages in {}", dir.display());
    }
    Ok(pages)
}

type Texts = HashMap<String, Result<String, String>>;

/// Extracts every page with the ingest extractor, one worker per core.
fn extract_all(pages: &[(String, PathBuf)]) -> Texts {
    let next = AtomicUsize::new(0);
    let out = Mutex::new(Texts::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(pages.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, path)) = pages.get(i) else {
                    break;
                };
                let text = ingest::read_page_bytes(path)
                    .map_err(|e| e.to_string())
                    .and_then(|bytes| ingest::extract_page(&bytes, id).map_err(|e| e.to_string()))
                    .map(|a| a.text);
                if let Ok(mut map) = out.lock() {
                    map.insert(id.clone(), text);
                }
            });
        }
    });
    out.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// `id → (url, articleBody)` from the gold file.
fn read_gold(path: &Path) -> Result<HashMap<String, (Option<String>, String)>> {
    let mut gold = HashMap::new();
    for (id, v, _) in crate::eval::read_jsonl_by_id(path)? {
        // The benchmark reads a missing body as an empty text.
        let body = v["articleBody"].as_str().unwrap_or_default().to_string();
        let url = v["url"].as_str().map(str::to_string);
        gold.insert(id.to_string(), (url, body));
    }
    Ok(gold)
}

/// Predictions made elsewhere (another extractor): `{"id", "articleBody" | "text"}` per line.
fn read_jsonl_texts(path: &Path, fields: &[&str]) -> Result<Texts> {
    let mut texts = Texts::new();
    for (id, v, _) in crate::eval::read_jsonl_by_id(path)? {
        let text = fields
            .iter()
            .find_map(|f| v[*f].as_str())
            .map(str::to_string)
            .ok_or_else(|| v["error"].as_str().unwrap_or("no text").to_string());
        texts.insert(id.to_string(), text);
    }
    Ok(texts)
}
