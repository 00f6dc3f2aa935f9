//! `storyline summarize`, `storyline timeline` and their evaluations (`eval summary`,
//! `eval timeline`): a JSONL file of articles taken as one story, run through the same
//! summarizer and timeline builder that `storyline show` uses.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;
use storyline::core::{Article, Claim, Sentence};
use storyline::ingest::{self, Format};
use storyline::normalize::{self, Stemmer};
use storyline::summarize::{self, SourceDoc, SummaryConfig, TimelineConfig};
use storyline_eval::rouge::{rouge_n, RougeCounts};

#[derive(Args)]
pub struct SummarizeArgs {
    /// Articles, JSONL (one story).
    pub articles: PathBuf,
    /// Word budget: the summary fills this many words; its last sentence may run past it
    /// (ROUGE's `-l` cut). Default: the product's 100–150 words.
    #[arg(long)]
    pub words: Option<usize>,
    /// One sentence a line, no citation markers.
    #[arg(long)]
    pub plain: bool,
}

#[derive(Args)]
pub struct TimelineArgs {
    /// Articles, JSONL (one story).
    pub articles: PathBuf,
    /// Number of dates; default: chosen from the story's size.
    #[arg(long)]
    pub dates: Option<usize>,
    /// Sentences per date; default 1 (or what the story's size suggests).
    #[arg(long)]
    pub sentences: Option<usize>,
}

/// Articles with their sentences, as the pipeline would store them.
pub struct Loaded {
    pub articles: Vec<Article>,
    pub sentences: Vec<Vec<Sentence>>,
    pub copies: Vec<bool>,
}

impl Loaded {
    pub fn docs(&self) -> Vec<SourceDoc<'_>> {
        self.articles
            .iter()
            .zip(&self.sentences)
            .zip(&self.copies)
            .map(|((article, sentences), &is_copy)| SourceDoc {
                article,
                sentences,
                is_copy,
            })
            .collect()
    }

    /// `n` articles drawn in turn from these (repeating when `n` is larger), for the
    /// benchmark. Repeats are not flagged as copies so that they cost what new articles
    /// would.
    pub fn repeated(&self, n: usize) -> Loaded {
        let k = self.articles.len().max(1);
        let pick = |i: usize| i % k;
        Loaded {
            articles: (0..n)
                .map(|i| {
                    let mut a = self.articles[pick(i)].clone();
                    a.id = format!("{}#{}", a.id, i / k);
                    a
                })
                .collect(),
            sentences: (0..n).map(|i| self.sentences[pick(i)].clone()).collect(),
            copies: (0..n).map(|i| self.copies[pick(i)]).collect(),
        }
    }
}

/// Reads a JSONL file of articles: cleaned and split as ingest does, in date order (undated
/// last), exact copies flagged so they are neither candidates nor independent sources.
pub fn load(path: &Path) -> Result<Loaded> {
    let mut articles = Vec::new();
    for record in ingest::read_path(path, Some(Format::Jsonl)) {
        // A bad record is named and skipped, as ingest does; the rest of the story stands.
        let mut article = match record {
            Ok(r) => r.article,
            Err(e) => {
                eprintln!("skipped: {e}");
                continue;
            }
        };
        // The same cleaning as ingest; an article with no text at all is left out.
        if normalize::clean_article(&mut article) != normalize::Cleaned::Empty {
            articles.push(article);
        }
    }
    if articles.is_empty() {
        bail!("{}: no articles with text", path.display());
    }
    // Stable: articles of one day keep their file order.
    articles.sort_by_key(|a| (a.published.is_none(), a.published));
    let mut seen = HashSet::new();
    let copies = articles
        .iter()
        .map(|a| !seen.insert(normalize::fingerprint(&a.text)))
        .collect();
    let sentences = articles
        .iter()
        .map(|a| normalize::split_sentences(&a.text))
        .collect();
    Ok(Loaded {
        articles,
        sentences,
        copies,
    })
}

/// The product's summary settings, with the budget of `--words`. Expert knob for
/// experiments, like `STORYLINE_CLUSTER_CONFIG`: `STORYLINE_SUMMARY_CONFIG` takes a JSON object
/// with any fields of `SummaryConfig`.
pub fn summary_config(words: Option<usize>) -> Result<SummaryConfig> {
    let mut cfg = match std::env::var("STORYLINE_SUMMARY_CONFIG") {
        Ok(json) => serde_json::from_str(&json)
            .with_context(|| format!("STORYLINE_SUMMARY_CONFIG is not valid settings: {json}"))?,
        Err(_) => SummaryConfig::default(),
    };
    if let Some(w) = words {
        cfg.min_words = w;
        cfg.max_words = w + w / 2;
    }
    Ok(cfg)
}

fn cites(c: &Claim) -> String {
    c.citations.iter().map(|n| format!("[{n}]")).collect()
}

/// The summary as text: one sentence a line, with or without citation markers.
pub fn render_summary(claims: &[Claim], plain: bool) -> String {
    claims
        .iter()
        .map(|c| {
            let text = c.text.split_whitespace().collect::<Vec<_>>().join(" ");
            if plain {
                format!("{text}\n")
            } else {
                format!("{text} {}\n", cites(c))
            }
        })
        .collect()
}

pub fn summarize_cmd(args: SummarizeArgs, json: bool) -> Result<ExitCode> {
    let loaded = load(&args.articles)?;
    let docs = loaded.docs();
    let claims = summarize::summarize(&docs, &summary_config(args.words)?);
    if json {
        crate::print::json(&claims)?;
    } else {
        print!("{}", render_summary(&claims, args.plain));
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Serialize)]
struct DateOut {
    date: String,
    sentences: Vec<String>,
}

/// The dated entries as `timeline --json` prints them and `eval timeline` writes them.
fn dates_out(tl: &summarize::Timeline) -> Vec<DateOut> {
    tl.dated
        .iter()
        .map(|e| DateOut {
            date: e.date.to_string(),
            sentences: e.sentences.iter().map(|c| c.text.clone()).collect(),
        })
        .collect()
}

/// The product's timeline settings; `STORYLINE_TIMELINE_CONFIG` (JSON, any fields of
/// `TimelineConfig`) is the expert knob for experiments.
fn timeline_config() -> Result<TimelineConfig> {
    match std::env::var("STORYLINE_TIMELINE_CONFIG") {
        Ok(json) => serde_json::from_str(&json)
            .with_context(|| format!("STORYLINE_TIMELINE_CONFIG is not valid settings: {json}")),
        Err(_) => Ok(TimelineConfig::default()),
    }
}

pub fn timeline_cmd(args: TimelineArgs, json: bool) -> Result<ExitCode> {
    let loaded = load(&args.articles)?;
    let docs = loaded.docs();
    let cfg = TimelineConfig {
        dates: args.dates,
        sentences_per_date: args.sentences,
        ..timeline_config()?
    };
    let tl = summarize::timeline(&docs, &cfg);
    if json {
        let out = dates_out(&tl);
        crate::print::json(&out)?;
    } else {
        for e in &tl.dated {
            println!("{}", e.date);
            for c in &e.sentences {
                println!("  {} {}", c.text, cites(c));
            }
        }
        if !tl.undated.is_empty() {
            println!("undated");
            for c in &tl.undated {
                println!("  {} {}", c.text, cites(c));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Cluster folders of a DUC-style set: each holds `articles.jsonl` (and `refs/`).
fn cluster_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("articles.jsonl").is_file())
        .collect();
    out.sort();
    if out.is_empty() {
        bail!("{}: no cluster folders with articles.jsonl", dir.display());
    }
    Ok(out)
}

fn read_lines(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path)
        .or_else(|_| std::fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()))
        .with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect())
}

/// ROUGE-1/2 recall (x100) of one cluster's summary lines against its `refs/`, `-l words`.
pub fn score_cluster(
    cluster: &Path,
    summary: &[String],
    words: usize,
    stemmer: &Stemmer,
) -> Result<Option<[f64; 2]>> {
    let ref_dir = cluster.join("refs");
    if !ref_dir.is_dir() {
        return Ok(None);
    }
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&ref_dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    let refs = paths
        .iter()
        .map(|p| read_lines(p))
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<Vec<&str>> = refs
        .iter()
        .map(|r| r.iter().map(String::as_str).collect())
        .collect();
    let peer: Vec<&str> = summary.iter().map(String::as_str).collect();
    let r = |n| rouge_n(&peer, &refs, n, words, stemmer);
    let (r1, r2): (RougeCounts, RougeCounts) = (r(1), r(2));
    Ok(Some([100.0 * r1.recall(), 100.0 * r2.recall()]))
}

pub fn eval_summary(
    dir: &Path,
    words: usize,
    out: &Path,
    existing: bool,
    json: bool,
) -> Result<ExitCode> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let stemmer = Stemmer::english();
    let cfg = summary_config(Some(words))?;
    let mut rows = Vec::new();
    for cluster in cluster_dirs(dir)? {
        let name = cluster
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let path = out.join(format!("{name}.txt"));
        let lines = if existing {
            if !path.is_file() {
                continue;
            }
            read_lines(&path)?
        } else {
            let loaded = load(&cluster.join("articles.jsonl"))?;
            let claims = summarize::summarize(&loaded.docs(), &cfg);
            let text = render_summary(&claims, true);
            std::fs::write(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            text.lines().map(str::to_string).collect()
        };
        if let Some(s) = score_cluster(&cluster, &lines, words, &stemmer)? {
            rows.push((name, s));
        }
    }
    let n = rows.len().max(1) as f64;
    let mean = |k: usize| rows.iter().map(|r| r.1[k]).sum::<f64>() / n;
    if json {
        let per: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(c, s)| (c.clone(), serde_json::json!({"R-1": s[0], "R-2": s[1]})))
            .collect();
        crate::print::json(&serde_json::json!({
            "clusters": rows.len(), "words": words, "R-1": mean(0), "R-2": mean(1), "per_cluster": per,
        }))?;
    } else {
        println!(
            "{} summaries written to {}; ROUGE recall x100 (storyline's ROUGE-1.5.5 re-implementation, -n 2 -m -l {words}):",
            rows.len(),
            out.display()
        );
        for (c, s) in &rows {
            println!("  {c}  R-1 {:6.2}  R-2 {:6.2}", s[0], s[1]);
        }
        println!("mean   R-1 {:6.2}  R-2 {:6.2}", mean(0), mean(1));
        println!(
            "official: python3 scripts/rouge_duc.py {} --peers --system storyline={}",
            dir.display(),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One gold timeline of `timelines.jsonl`: its dates and sentences per date.
struct GoldTimeline {
    name: String,
    dates: Vec<chrono::NaiveDate>,
    mean_sentences: f64,
}

fn read_gold_timelines(path: &Path) -> Result<Vec<GoldTimeline>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let where_ = || format!("{}:{}", path.display(), i + 1);
        let v: serde_json::Value = serde_json::from_str(line).with_context(where_)?;
        let entries = v["entries"]
            .as_array()
            .with_context(|| format!("{}: no \"entries\"", where_()))?;
        // A date listed twice counts once, with its last entry's sentences: news-tls and
        // tilse read a timeline as a map from date to summary, so the last one wins.
        let mut by_date = std::collections::BTreeMap::new();
        for e in entries {
            let date = e[0]
                .as_str()
                .and_then(|d| d.get(..10))
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .with_context(|| format!("{}: bad date {}", where_(), e[0]))?;
            by_date.insert(date, e[1].as_array().map_or(0, Vec::len));
        }
        if by_date.is_empty() {
            bail!("{}: empty timeline", where_());
        }
        let sentences: usize = by_date.values().sum();
        let dates: Vec<chrono::NaiveDate> = by_date.into_keys().collect();
        let name = v["topic"].as_str().unwrap_or("timeline").to_string();
        out.push(GoldTimeline {
            name: format!("{i:02}_{name}"),
            mean_sentences: sentences as f64 / dates.len() as f64,
            dates,
        });
    }
    Ok(out)
}

/// Round half to even, as numpy's `round` in the news-tls protocol.
fn round_half_even(x: f64) -> usize {
    let r = x.round();
    let r = if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    };
    r.max(1.0) as usize
}

pub fn eval_timeline(topic: &Path, out: &Path, json: bool) -> Result<ExitCode> {
    let all = load(&topic.join("articles.jsonl"))?;
    let golds = read_gold_timelines(&topic.join("timelines.jsonl"))?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut rows = Vec::new();
    for g in &golds {
        let (first, last) = (g.dates[0], g.dates[g.dates.len() - 1]);
        // news-tls: the input is the articles published within the reference's time span,
        // and the system is told how many dates and sentences per date to give.
        let keep: Vec<usize> = (0..all.articles.len())
            .filter(|&i| {
                all.articles[i]
                    .date()
                    .is_some_and(|d| (first..=last).contains(&d))
            })
            .collect();
        let subset = Loaded {
            articles: keep.iter().map(|&i| all.articles[i].clone()).collect(),
            sentences: keep.iter().map(|&i| all.sentences[i].clone()).collect(),
            copies: keep.iter().map(|&i| all.copies[i]).collect(),
        };
        let k = round_half_even(g.mean_sentences);
        let cfg = TimelineConfig {
            dates: Some(g.dates.len()),
            sentences_per_date: Some(k),
            span: Some((first, last)),
            ..timeline_config()?
        };
        let tl = summarize::timeline(&subset.docs(), &cfg);
        let entries = dates_out(&tl);
        let path = out.join(format!("{}.json", g.name));
        std::fs::write(&path, serde_json::to_string_pretty(&entries)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        let predicted: HashSet<chrono::NaiveDate> = tl.dated.iter().map(|e| e.date).collect();
        let hits = g.dates.iter().filter(|d| predicted.contains(d)).count() as f64;
        let (p, r) = (
            hits / predicted.len().max(1) as f64,
            hits / g.dates.len() as f64,
        );
        let f1 = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        rows.push((g.name.clone(), g.dates.len(), k, subset.articles.len(), f1));
    }
    let mean_f1 = rows.iter().map(|r| r.4).sum::<f64>() / rows.len().max(1) as f64;
    if json {
        let per: Vec<serde_json::Value> = rows
            .iter()
            .map(|(n, d, k, a, f)| serde_json::json!({"timeline": n, "dates": d, "sentences_per_date": k, "articles": a, "date_f1": f}))
            .collect();
        crate::print::json(&serde_json::json!({"timelines": per, "date_f1": mean_f1}))?;
    } else {
        for (n, d, k, a, f) in &rows {
            println!("  {n}: {d} dates x {k} sentences from {a} articles, date F1 {f:.3}");
        }
        println!(
            "{} timelines written to {}; mean date F1 {mean_f1:.3}",
            rows.len(),
            out.display()
        );
        println!("alignment ROUGE: python3 scripts/tilse_eval.py TOPIC_DIR=OUT ...");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
pub struct BenchArgs {
    /// JSONL files to draw articles from (repeated when a size needs more).
    #[arg(required = true)]
    pub articles: Vec<PathBuf>,
    /// Story sizes, in articles.
    #[arg(long, value_delimiter = ',', default_value = "10,100,1000,5000")]
    pub sizes: Vec<usize>,
    /// Timed runs per size; the median is reported.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Summary and timeline time per story at several story sizes (median of `runs`).
pub fn bench_cmd(args: BenchArgs, json: bool) -> Result<ExitCode> {
    let mut pool = Loaded {
        articles: Vec::new(),
        sentences: Vec::new(),
        copies: Vec::new(),
    };
    for p in &args.articles {
        let l = load(p)?;
        pool.articles.extend(l.articles);
        pool.sentences.extend(l.sentences);
        pool.copies.extend(l.copies);
    }
    let scfg = summary_config(None)?;
    let tcfg = timeline_config()?;
    let mut rows = Vec::new();
    for &n in &args.sizes {
        let story = pool.repeated(n);
        let docs = story.docs();
        let sentences: usize = story.sentences.iter().map(Vec::len).sum();
        // Wall and CPU milliseconds (medians): on a shared machine the wall time also
        // counts the waits for a core, which grow with a run's length.
        let time = |f: &dyn Fn()| {
            let (wall, cpu): (Vec<f64>, Vec<f64>) = (0..args.runs.max(1))
                .map(|_| {
                    let (t, c) = (std::time::Instant::now(), crate::bench::cpu_seconds());
                    f();
                    (
                        t.elapsed().as_secs_f64() * 1000.0,
                        (crate::bench::cpu_seconds() - c) * 1000.0,
                    )
                })
                .unzip();
            (median(wall), median(cpu))
        };
        let (summary_ms, summary_cpu_ms) = time(&|| {
            std::hint::black_box(summarize::summarize(&docs, &scfg));
        });
        let (timeline_ms, timeline_cpu_ms) = time(&|| {
            std::hint::black_box(summarize::timeline(&docs, &tcfg));
        });
        if !json {
            println!(
                "{n:>6} articles ({sentences:>7} sentences): summary {summary_ms:>9.1} ms ({summary_cpu_ms:.0} ms CPU), timeline {timeline_ms:>9.1} ms ({timeline_cpu_ms:.0} ms CPU) (median of {})",
                args.runs.max(1)
            );
        }
        rows.push(serde_json::json!({"articles": n, "sentences": sentences, "summary_ms": summary_ms, "summary_cpu_ms": summary_cpu_ms, "timeline_ms": timeline_ms, "timeline_cpu_ms": timeline_cpu_ms}));
    }
    if json {
        crate::print::json(&rows)?;
    }
    Ok(ExitCode::SUCCESS)
}
