//! `storyline cluster` and `storyline eval`: the same pipeline as ingest, on a fresh
//! temporary store, scored against gold labels only after clustering is done.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use storyline::core::{EventId, StoryId};
use storyline::ingest::Format;
use storyline::pipeline::IngestReport;
use storyline::store::Store;
use storyline_eval::cluster::{score, ClusterScores};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// B-cubed, pairwise P/R/F1 and NMI of event (or story) clustering against gold labels.
    Cluster {
        /// Articles, JSONL.
        #[arg(required_unless_present = "all")]
        articles: Option<PathBuf>,
        /// Gold labels, JSONL `{"id", "event", "topic"}`.
        #[arg(required_unless_present = "all")]
        gold: Option<PathBuf>,
        /// Which gold field to score: events against `event`, stories against `topic`.
        #[arg(long, value_enum, default_value_t = Key::Event)]
        key: Key,
        /// Every set under DATA (`cluster/*`, `compare/*`) in one table, beside the
        /// single-pass TF-IDF baseline.
        #[arg(long, value_name = "DATA", conflicts_with_all = ["articles", "gold", "key"])]
        all: Option<PathBuf>,
        /// With --all, also cut each set into N consecutive parts (file order) and score
        /// each part clustered on its own: a change that lifts a whole set but drops a part
        /// will likely drop a held-out half too.
        #[arg(long, value_name = "N", requires = "all", default_value_t = 1,
              value_parser = clap::value_parser!(u32).range(1..=20))]
        parts: u32,
    },
    /// Precision and recall of people / organisations / places against a reference
    /// annotation (`scripts/ner_reference.py` writes one with spaCy).
    Entities {
        /// Articles, JSONL.
        articles: PathBuf,
        /// Reference, JSONL `{"id", "entities": [{"text", "label"}]}`.
        reference: PathBuf,
    },
    /// Main-text extraction scored with the article-extraction benchmark's shingle P/R/F1.
    Extract {
        /// Folders with `html/<id>.html(.gz)` pages and `gold.jsonl` (`{"id","url","articleBody"}`);
        /// several give one table with their mean.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Score another extractor's output (JSONL `{"id","articleBody"|"text"}`) instead
        /// (one folder only).
        #[arg(long)]
        predictions: Option<PathBuf>,
        /// List the worst pages.
        #[arg(long, short)]
        verbose: bool,
    },
    /// DUC-style summaries: one per cluster folder (`<cluster>/articles.jsonl`), written to
    /// `OUT/<cluster>.txt` and scored against `<cluster>/refs/` with ROUGE-1/2 recall.
    Summary {
        dir: PathBuf,
        #[arg(long, default_value_t = 100)]
        words: usize,
        #[arg(long)]
        out: PathBuf,
        /// Score the `<cluster>.txt` summaries already in OUT (another system's, say)
        /// instead of writing storyline's.
        #[arg(long)]
        existing: bool,
    },
    /// Timeline17-style timelines: one per gold timeline of `TOPIC_DIR/timelines.jsonl`, with
    /// its number of dates and mean sentences per date, written to `OUT/`.
    Timeline {
        topic_dir: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Clustering throughput on a JSONL file: the whole ingest on a fresh temporary store,
    /// several times, reporting medians (end to end, and the clustering stage alone).
    Cluster {
        articles: PathBuf,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

pub fn bench(cmd: BenchCommand, json: bool, model: Option<&Path>) -> Result<ExitCode> {
    let BenchCommand::Cluster { articles, runs } = cmd;
    let (mut total, mut cluster, mut embed) = (Vec::new(), Vec::new(), Vec::new());
    let mut n = 0;
    for _ in 0..runs.max(1) {
        let (_, r) = cluster_file(&articles, true, model)?;
        n = r.stored;
        total.push(r.stored as f64 / r.seconds.max(1e-9));
        cluster.push(r.stored as f64 / r.cluster_seconds.max(1e-9));
        embed.push(r.embed_seconds);
    }
    let (total_med, cluster_med, embed_med) = (
        median(total.clone()),
        median(cluster.clone()),
        median(embed),
    );
    if json {
        crate::print::json(&serde_json::json!({
            "articles": articles, "n": n, "runs": runs, "embeddings": model.is_some(),
            "median_articles_per_second": total_med,
            "median_cluster_stage_articles_per_second": cluster_med,
            "median_embed_seconds": embed_med,
            "runs_articles_per_second": total, "runs_cluster_stage_articles_per_second": cluster,
        }))?;
    } else {
        println!(
            "{} ({n} articles, {} runs, embeddings {}): median {total_med:.0} articles/s end to end; \
             clustering stage alone {cluster_med:.0} articles/s; embedding {embed_med:.1}s",
            articles.display(),
            runs,
            if model.is_some() { "on" } else { "off" }
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Key {
    Event,
    Topic,
}

impl Key {
    pub(crate) fn field(self) -> &'static str {
        match self {
            Key::Event => "event",
            Key::Topic => "topic",
        }
    }
}

/// `(id, event, story)` per article.
pub type Assignments = Vec<(String, EventId, StoryId)>;

/// Clusters a JSONL file on a fresh temporary store.
pub fn cluster_file(
    articles: &Path,
    quiet: bool,
    model: Option<&Path>,
) -> Result<(Assignments, IngestReport)> {
    let dir = tempfile::tempdir().context("cannot create a temporary store")?;
    let db = dir.path().join("eval.db");
    let report = crate::ingest_with(
        &db,
        &[articles.to_path_buf()],
        Some(Format::Jsonl),
        quiet,
        model,
    )?;
    let assignments = Store::open(&db)?.assignments()?;
    Ok((assignments, report))
}

pub fn write_assignments(assignments: &Assignments, out: &Path) -> Result<()> {
    let mut w: Box<dyn Write> = if out.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(out)
                .with_context(|| format!("cannot write {}", out.display()))?,
        ))
    };
    for (id, event, story) in assignments {
        writeln!(
            w,
            "{}",
            serde_json::json!({ "id": id, "event": event, "story": story })
        )?;
    }
    w.flush()?;
    Ok(())
}

/// The non-blank lines of a JSONL label file, parsed, each with its `id` (a string or a
/// number) and its place (`file:line`) for error messages.
pub(crate) fn read_jsonl_by_id(path: &Path) -> Result<Vec<(String, serde_json::Value, String)>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let at = format!("{}:{}", path.display(), i + 1);
        let line = line.with_context(|| at.clone())?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("{at}: malformed JSON"))?;
        let id = match &v["id"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => bail!("{at}: no \"id\""),
        };
        out.push((id, v, at));
    }
    Ok(out)
}

pub(crate) fn read_gold(path: &Path, field: &str) -> Result<HashMap<String, String>> {
    let mut gold = HashMap::new();
    for (id, v, at) in read_jsonl_by_id(path)? {
        let label = match &v[field] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Number(n) => n.to_string(),
            _ => bail!("{at}: no {field:?} label"),
        };
        gold.insert(id, label);
    }
    Ok(gold)
}

pub fn run(cmd: EvalCommand, json: bool, quiet: bool, model: Option<&Path>) -> Result<ExitCode> {
    match cmd {
        EvalCommand::Entities {
            articles,
            reference,
        } => crate::entities_cmd::eval_entities(&articles, &reference, json),
        EvalCommand::Summary {
            dir,
            words,
            out,
            existing,
        } => crate::summary_cmd::eval_summary(&dir, words, &out, existing, json),
        EvalCommand::Timeline { topic_dir, out } => {
            crate::summary_cmd::eval_timeline(&topic_dir, &out, json)
        }
        EvalCommand::Cluster {
            all: Some(data),
            parts,
            ..
        } => {
            let all = crate::eval_cluster_all::run(&data, parts as usize, quiet, model)?;
            if json {
                crate::print::json(&all)?;
            } else {
                crate::eval_cluster_all::print(&all);
            }
            Ok(ExitCode::SUCCESS)
        }
        EvalCommand::Cluster {
            articles: Some(articles),
            gold: Some(gold),
            key,
            all: None,
            ..
        } => {
            let (assignments, report) = cluster_file(&articles, quiet, model)?;
            // Gold is read only now, after clustering has finished.
            let gold = read_gold(&gold, key.field())?;
            let predicted: HashMap<String, String> = assignments
                .iter()
                .map(|(id, event, story)| {
                    let label = if key == Key::Event {
                        event.to_string()
                    } else {
                        story.to_string()
                    };
                    (id.clone(), label)
                })
                .collect();
            let scores = score(&predicted, &gold);
            let rate = report.read as f64 / report.seconds.max(1e-9);
            if json {
                crate::print::json(&serde_json::json!({
                    "articles": articles, "key": key.field(), "scores": scores,
                    "ingest": { "read": report.read, "stored": report.stored, "seconds": report.seconds,
                                "articles_per_second": rate, "errors": report.errors.len() },
                }))?;
            } else {
                print_scores(&articles, key, &scores, &report, rate);
            }
            Ok(ExitCode::SUCCESS)
        }
        EvalCommand::Cluster { .. } => bail!("eval cluster needs ARTICLES and GOLD, or --all DATA"),
        EvalCommand::Extract {
            dirs,
            predictions,
            verbose,
        } => crate::eval_extract::run(&dirs, predictions.as_deref(), verbose, json),
    }
}

fn print_scores(articles: &Path, key: Key, s: &ClusterScores, r: &IngestReport, rate: f64) {
    println!(
        "{} ({}): {} articles scored, {} missing; {} gold clusters, {} predicted",
        articles.display(),
        key.field(),
        s.items,
        s.missing,
        s.gold_clusters,
        s.predicted_clusters
    );
    println!(
        "B-cubed   P {:.4}  R {:.4}  F1 {:.4}",
        s.bcubed.precision, s.bcubed.recall, s.bcubed.f1
    );
    println!(
        "Pairwise  P {:.4}  R {:.4}  F1 {:.4}",
        s.pairwise.precision, s.pairwise.recall, s.pairwise.f1
    );
    println!("NMI       {:.4}", s.nmi);
    println!(
        "Ingest    {} articles in {:.2}s: {rate:.0} articles/s",
        r.read, r.seconds
    );
}
