//! `storyline eval cluster --all DATA`: every clustering set under `DATA/cluster/` and
//! `DATA/compare/` in one table, storyline beside the single-pass baseline. A set is a folder
//! with `articles.jsonl` and `gold.jsonl`; it is scored on `event`, and on `topic` (stories)
//! where its gold names more than one topic. Sets added later are picked up as they are.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;
use storyline_eval::baseline::{self, Doc};
use storyline_eval::cluster::{score, ClusterScores};

use crate::eval::{cluster_file, read_gold, read_jsonl_by_id, Key};

/// One set (or one part of it) scored on one gold field.
#[derive(Serialize)]
pub struct SetScore {
    pub set: String,
    pub key: &'static str,
    /// Which part of the set, `"k/N"`, when it was cut into parts (`--parts`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub part: Option<String>,
    pub articles: usize,
    pub scores: ClusterScores,
    /// B³ F1 of the single-pass baseline on the same articles and gold.
    pub baseline_f1: f64,
}

#[derive(Serialize)]
pub struct AllScores {
    pub sets: Vec<SetScore>,
    /// Means over the rows of whole sets.
    pub mean_f1: f64,
    pub mean_nmi: f64,
    pub mean_baseline_f1: f64,
}

/// The set folders under `data`, in name order.
fn discover(data: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut sets = Vec::new();
    for group in ["cluster", "compare"] {
        let Ok(entries) = std::fs::read_dir(data.join(group)) else {
            continue;
        };
        for entry in entries.flatten() {
            let dir = entry.path();
            if dir.join("articles.jsonl").is_file() && dir.join("gold.jsonl").is_file() {
                let name = format!("{group}/{}", entry.file_name().to_string_lossy());
                sets.push((name, dir));
            }
        }
    }
    sets.sort();
    if sets.is_empty() {
        bail!(
            "{}: no clustering sets (folders cluster/* or compare/* with articles.jsonl and gold.jsonl)",
            data.display()
        );
    }
    Ok(sets)
}

/// The gold fields a set is scored on: `event`, and `topic` when it separates anything.
fn keys(gold: &Path) -> Result<Vec<Key>> {
    let mut topics = HashSet::new();
    for (_, v, _) in read_jsonl_by_id(gold)? {
        if let Some(t) = v.get("topic") {
            topics.insert(t.to_string());
        }
    }
    Ok(if topics.len() > 1 {
        vec![Key::Event, Key::Topic]
    } else {
        vec![Key::Event]
    })
}

/// `articles` cut into `parts` files of consecutive non-blank lines, of equal size give or
/// take one line, written under `dir`.
fn cut(articles: &Path, parts: usize, dir: &Path) -> Result<Vec<PathBuf>> {
    let text = std::fs::read_to_string(articles)
        .with_context(|| format!("cannot read {}", articles.display()))?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // An empty part would be scored as a row of zeros.
    if lines.len() < parts {
        bail!(
            "{}: {} articles cannot be cut into {parts} parts (--parts)",
            articles.display(),
            lines.len()
        );
    }
    let stem = articles
        .parent()
        .and_then(Path::file_name)
        .map_or_else(|| "set".into(), |n| n.to_string_lossy().into_owned());
    let mut out = Vec::with_capacity(parts);
    for k in 0..parts {
        let (from, to) = (k * lines.len() / parts, (k + 1) * lines.len() / parts);
        let path = dir.join(format!("{stem}-{}-of-{parts}.jsonl", k + 1));
        let mut body = lines[from..to].join("\n");
        body.push('\n');
        std::fs::write(&path, body).with_context(|| format!("cannot write {}", path.display()))?;
        out.push(path);
    }
    Ok(out)
}

/// The baseline's labels for a JSONL file.
fn baseline_labels(articles: &Path) -> Result<HashMap<String, String>> {
    let rows = read_jsonl_by_id(articles)?;
    let docs: Vec<Doc<'_>> = rows
        .iter()
        .map(|(id, v, _)| Doc {
            id,
            text: v["text"].as_str().unwrap_or(""),
            published: v["published"].as_str(),
        })
        .collect();
    Ok(baseline::single_pass(&docs, baseline::THRESHOLD)
        .into_iter()
        .map(|(id, c)| (id, c.to_string()))
        .collect())
}

/// Scores every set under `data`, and with `parts` > 1 each of its parts clustered alone.
pub fn run(data: &Path, parts: usize, quiet: bool, model: Option<&Path>) -> Result<AllScores> {
    let mut sets = Vec::new();
    let scratch = tempfile::tempdir().context("cannot create a temporary folder")?;
    for (name, dir) in discover(data)? {
        if !quiet {
            eprintln!("clustering {name} …");
        }
        let articles = dir.join("articles.jsonl");
        let gold_path = dir.join("gold.jsonl");
        let keys = keys(&gold_path)?;
        let mut inputs = vec![(None, articles.clone())];
        if parts > 1 {
            for (k, path) in cut(&articles, parts, scratch.path())?
                .into_iter()
                .enumerate()
            {
                inputs.push((Some(format!("{}/{parts}", k + 1)), path));
            }
        }
        let mut clustered = Vec::with_capacity(inputs.len());
        for (part, articles) in inputs {
            let (assignments, report) = cluster_file(&articles, true, model)?;
            let base = baseline_labels(&articles)?;
            clustered.push((part, assignments, report.read, base));
        }
        for &key in &keys {
            // Gold is read only now, after clustering has finished.
            let gold = read_gold(&gold_path, key.field())?;
            for (part, assignments, read, base) in &clustered {
                let predicted: HashMap<String, String> = assignments
                    .iter()
                    .map(|(id, event, story)| {
                        let label = match key {
                            Key::Event => event.to_string(),
                            Key::Topic => story.to_string(),
                        };
                        (id.clone(), label)
                    })
                    .collect();
                sets.push(SetScore {
                    set: name.clone(),
                    key: key.field(),
                    part: part.clone(),
                    articles: *read,
                    scores: score(&predicted, &gold),
                    baseline_f1: score(base, &gold).bcubed.f1,
                });
            }
        }
    }
    let whole: Vec<&SetScore> = sets.iter().filter(|s| s.part.is_none()).collect();
    let n = whole.len() as f64;
    let mean = |f: &dyn Fn(&SetScore) -> f64| whole.iter().map(|s| f(s)).sum::<f64>() / n;
    Ok(AllScores {
        mean_f1: mean(&|s| s.scores.bcubed.f1),
        mean_nmi: mean(&|s| s.scores.nmi),
        mean_baseline_f1: mean(&|s| s.baseline_f1),
        sets,
    })
}

pub fn print(all: &AllScores) {
    println!(
        "{:<26} {:<6} {:>8}  {:>6} {:>6} {:>6} {:>6}  {:>9}",
        "set", "key", "articles", "B³ P", "B³ R", "B³ F1", "NMI", "baseline"
    );
    for s in &all.sets {
        let b = &s.scores.bcubed;
        let set = match &s.part {
            Some(part) => format!("  {part}"),
            None => s.set.clone(),
        };
        println!(
            "{:<26} {:<6} {:>8}  {:>6.4} {:>6.4} {:>6.4} {:>6.4}  {:>9.4}",
            set, s.key, s.articles, b.precision, b.recall, b.f1, s.scores.nmi, s.baseline_f1
        );
    }
    println!(
        "{:<26} {:<6} {:>8}  {:>6} {:>6} {:>6.4} {:>6.4}  {:>9.4}",
        "mean", "", "", "", "", all.mean_f1, all.mean_nmi, all.mean_baseline_f1
    );
    println!(
        "baseline: single-pass TF-IDF, cosine ≥ 0.3, date order (scripts/baseline_singlepass.py)"
    );
}

#[cfg(test)]
mod tests {
    use super::cut;

    #[test]
    fn parts_are_consecutive_and_none_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        let articles = dir.path().join("articles.jsonl");
        std::fs::write(&articles, "a\n\nb\nc\nd\ne\n").unwrap();
        let parts = cut(&articles, 2, dir.path()).unwrap();
        let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
        assert_eq!(read(&parts[0]), "a\nb\n");
        assert_eq!(read(&parts[1]), "c\nd\ne\n");
        let err = cut(&articles, 6, dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("5 articles cannot be cut into 6 parts"),
            "{err}"
        );
    }
}
