//! `storyline bench ingest`: a reproducible stream of full news articles built from
//! `../shared/data`, ingested on a fresh store, with throughput and memory at checkpoints.
//!
//! The stream re-dates, re-sources and lightly rewrites real articles so that clusters,
//! duplicates and vocabulary behave like news: each pass over the pool renames a share of the
//! names (a new occurrence of the same kind of event, as in ECB+), changes numbers, drops
//! sentences, and one article in ten is a syndicated copy of a recent one.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use storyline::core::Article;
use storyline::error::Location;
use storyline::ingest::Record;
use storyline::pipeline::{Pipeline, PipelineConfig};

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Ingest a generated stream of full articles and report articles/s and memory, into a
    /// fresh temporary SQLite file, or into an empty PostgreSQL database given as `--db URL`.
    Ingest(IngestBenchArgs),
    #[command(flatten)]
    Eval(crate::eval::BenchCommand),
    /// Time summaries and timelines per story at several story sizes (median).
    Summary(crate::summary_cmd::BenchArgs),
    /// First full sync of many generated feeds from local servers on several loopback
    /// addresses: time, CPU per item, peak memory, the most requests at once on a host.
    Follow(crate::bench_follow::FollowBenchArgs),
    /// Concurrent readers of the store's biggest stories against the server on loopback
    /// for a fixed time, optionally while a file is ingested: latency percentiles, 503s and
    /// other failures.
    Load(crate::load::LoadArgs),
    /// Sentence-embedding throughput (needs `--model` and a build with `--features
    /// embeddings`): each article's title and lead, as ingest embeds them, in batches of
    /// 500; articles/s and tokens/s, median of the runs. `scripts/bench_embed_torch.py` runs
    /// PyTorch on the same texts.
    Embed(crate::bench_embed::EmbedBenchArgs),
}

/// `bench ingest`: the generated stream and what to do with it.
#[derive(clap::Args)]
pub struct IngestBenchArgs {
    /// Articles to generate.
    #[arg(long, default_value_t = 100_000)]
    articles: usize,
    /// Report at these article counts (comma-separated); the end is always reported.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    checkpoints: Vec<usize>,
    /// Articles per day of simulated stream time.
    #[arg(long, default_value_t = 100_000)]
    per_day: usize,
    /// Folder of evaluation data to draw articles from.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Write the generated stream as JSONL instead of ingesting it.
    #[arg(long)]
    write: Option<PathBuf>,
    /// Articles per story: the stream is then stories of this many distinct rewrites of
    /// one article each (sentences dropped, words swapped: not near-duplicates),
    /// interleaved, without syndicated copies.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    story_size: Option<u64>,
}

pub(crate) fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Full articles (not headline-only sets) under `data`.
pub(crate) fn load_pool(data: &Path) -> Result<Vec<String>> {
    let mut files = Vec::new();
    for sub in ["cluster/ecbplus-dev", "compare/newswcl50"] {
        files.push(data.join(sub).join("articles.jsonl"));
    }
    for parent in ["mds/duc2004-dev", "tls/t17-dev"] {
        let dir = data.join(parent);
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path().join("articles.jsonl")))
            .filter(|p| p.exists())
            .collect();
        entries.sort();
        files.extend(entries);
    }
    let mut pool = Vec::new();
    for f in files {
        let file =
            std::fs::File::open(&f).with_context(|| format!("cannot open {}", f.display()))?;
        for line in std::io::BufReader::new(file).lines() {
            let v: serde_json::Value = serde_json::from_str(&line?)?;
            if let Some(t) = v["text"]
                .as_str()
                .filter(|t| t.split_whitespace().count() >= 50)
            {
                pool.push(t.to_string());
            }
        }
    }
    if pool.is_empty() {
        bail!("no articles found under {}", data.display());
    }
    Ok(pool)
}

/// The `i`-th article of the stream.
struct Stream {
    pool: Vec<String>,
    order: Vec<usize>,
    seed: u64,
    per_day: usize,
    recent: std::collections::VecDeque<String>,
    /// Stories of this many articles each (`--story-size`), and how many there are.
    stories: Option<(usize, usize)>,
}

impl Stream {
    fn new(pool: Vec<String>, seed: u64, per_day: usize) -> Stream {
        let mut order: Vec<usize> = (0..pool.len()).collect();
        let mut s = seed;
        for i in (1..order.len()).rev() {
            let j = (splitmix(&mut s) % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        Stream {
            pool,
            order,
            seed,
            per_day,
            recent: Default::default(),
            stories: None,
        }
    }

    /// Makes the stream `articles` long in stories of `size` articles each.
    fn in_stories(mut self, size: usize, articles: usize) -> Stream {
        self.stories = Some((size, articles.div_ceil(size.max(1)).max(1)));
        self
    }

    fn article(&mut self, i: usize) -> Article {
        if let Some((size, n_stories)) = self.stories {
            return self.story_article(i, size, n_stories);
        }
        let mut rng = self.seed ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
        let secs = (i as u64 * 86_400) / self.per_day.max(1) as u64;
        let published = chrono::DateTime::from_timestamp(1_577_836_800 + secs as i64, 0);
        let source = format!("Outlet {}", splitmix(&mut rng) % 300);
        let copy = splitmix(&mut rng) % 10 == 0 && !self.recent.is_empty();
        let text = if copy {
            let k = (splitmix(&mut rng) % self.recent.len() as u64) as usize;
            format!("{}\n(Syndicated from a partner.)", self.recent[k])
        } else {
            let base = self.order[i % self.order.len()];
            let pass = i / self.order.len();
            let t = rewrite(&self.pool[base], pass, &mut rng);
            self.recent.push_back(t.clone());
            if self.recent.len() > 200 {
                self.recent.pop_front();
            }
            t
        };
        Article {
            id: format!("gen{i}"),
            title: None,
            source: Some(source),
            url: None,
            published,
            lang: Some("en".into()),
            text,
        }
    }
}

impl Stream {
    /// The `i`-th article of a stream of stories: story `i % n_stories`, whose articles are
    /// all rewrites of one pool article (renamed alike for stories past the pool's size, so
    /// each is a story of its own), each rewritten apart.
    fn story_article(&self, i: usize, size: usize, n_stories: usize) -> Article {
        let story = i % n_stories;
        let base = self.order[story % self.order.len()];
        let pass = story / self.order.len();
        // The same renaming for every article of the story.
        let mut story_rng = self.seed ^ (story as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let text = rewrite(&self.pool[base], pass, &mut story_rng);
        let mut rng = self.seed ^ (i as u64).wrapping_mul(0x2545_f491_4f6c_dd1d);
        let secs = (i as u64 * 86_400) / self.per_day.max(1) as u64;
        Article {
            id: format!("gen-s{size}-r{}-{i}", self.seed),
            title: None,
            source: Some(format!("Outlet {}", splitmix(&mut rng) % 300)),
            url: None,
            published: chrono::DateTime::from_timestamp(1_577_836_800 + secs as i64, 0),
            lang: Some("en".into()),
            text: vary(&text, &mut rng),
        }
    }
}

/// One reporter's version of a text: a sentence in three dropped (each paragraph keeps its
/// first) and a word in six swapped with the next. Terms stay, so the versions cluster
/// together; three-word shingles break, so they are not taken for copies of each other.
fn vary(text: &str, rng: &mut u64) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        for (n, sentence) in line.split_inclusive(". ").enumerate() {
            if n > 0 && splitmix(rng) % 3 == 0 {
                continue;
            }
            let mut words: Vec<&str> = sentence.split(' ').collect();
            let mut k = 0;
            while k + 1 < words.len() {
                if splitmix(rng) % 6 == 0 {
                    words.swap(k, k + 1);
                    k += 2;
                } else {
                    k += 1;
                }
            }
            out.push_str(&words.join(" "));
        }
        out.push('\n');
    }
    out
}

/// A light rewrite: in later passes a third of capitalised words get a pass suffix (new
/// names), digits shift, and a sentence in five is dropped.
pub(crate) fn rewrite(text: &str, pass: usize, rng: &mut u64) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        for (n, sentence) in line.split_inclusive(". ").enumerate() {
            // Keep each paragraph's first sentence, so no article is rewritten to nothing.
            if n > 0 && splitmix(rng) % 5 == 0 {
                continue;
            }
            for (k, word) in sentence.split(' ').enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                let capital = word.starts_with(char::is_uppercase);
                if pass > 0 && capital && splitmix(rng) % 3 == 0 {
                    let core = word.trim_end_matches(|c: char| !c.is_alphanumeric());
                    out.push_str(core);
                    out.push_str(&format!("{pass}"));
                    out.push_str(&word[core.len()..]);
                } else if pass > 0 && word.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                    out.extend(word.chars().map(|c| match c.to_digit(10) {
                        Some(d) => char::from_digit((d + pass as u32) % 10, 10).unwrap_or(c),
                        None => c,
                    }));
                } else {
                    out.push_str(word);
                }
            }
        }
        out.push('\n');
    }
    out
}

/// Current and peak resident memory in MiB, from /proc (Linux).
pub(crate) fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// CPU seconds (user + system, all threads) this process has used, from /proc (Linux):
/// less sensitive than wall time to other work on a shared machine.
pub(crate) fn cpu_seconds() -> f64 {
    // The process's CPU clock (every thread), to the nanosecond: `/proc/self/stat` counts
    // in hundredths of a second, a tenth of a 0.1 s run.
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid timespec for the call to write into.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) } == 0;
    if ok {
        t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
    } else {
        0.0
    }
}

pub fn run(
    cmd: BenchCommand,
    db: &Path,
    json: bool,
    model: Option<&Path>,
) -> Result<std::process::ExitCode> {
    let args = match cmd {
        BenchCommand::Eval(cmd) => return crate::eval::bench(cmd, json, model),
        BenchCommand::Summary(args) => return crate::summary_cmd::bench_cmd(args, json),
        BenchCommand::Follow(args) => return crate::bench_follow::run(args, json),
        BenchCommand::Load(args) => return crate::load::run(db, &args, json),
        BenchCommand::Embed(args) => return crate::bench_embed::run(&args, model, json),
        BenchCommand::Ingest(args) => args,
    };
    let IngestBenchArgs {
        articles,
        checkpoints,
        per_day,
        data,
        seed,
        write,
        story_size,
    } = args;
    let pool = load_pool(&data)?;
    let mut stream = Stream::new(pool, seed, per_day);
    if let Some(size) = story_size {
        stream = stream.in_stories(usize::try_from(size)?, articles);
    }
    if let Some(path) = write {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path)?);
        for i in 0..articles {
            let a = stream.article(i);
            serde_json::to_writer(&mut w, &a)?;
            std::io::Write::write_all(&mut w, b"\n")?;
        }
        return Ok(std::process::ExitCode::SUCCESS);
    }
    // A fresh store: a temporary SQLite file, or the PostgreSQL database `--db` names when
    // it is a URL (its engine is what is measured then), which must hold nothing yet.
    let dir = tempfile::tempdir()?;
    let db = if storyline::store::Store::is_url(db) {
        let held = storyline::store::Store::open(db)?.counts()?.articles;
        if held > 0 {
            bail!(
                "the PostgreSQL store --db names holds {held} articles already: \
                 bench ingest measures a fresh store; give it an empty database"
            );
        }
        db.to_path_buf()
    } else {
        dir.path().join("bench.db")
    };
    let mut pipeline = Pipeline::open(&db, PipelineConfig::default())?;
    let mut marks: Vec<usize> = checkpoints.into_iter().filter(|&c| c < articles).collect();
    marks.push(articles);
    let started = Instant::now();
    let mut done = 0;
    let mut last = (0usize, 0.0f64);
    let mut last_cpu = cpu_seconds();
    let mut rows = Vec::new();
    if !json {
        println!(
            "{:>9} {:>9} {:>12} {:>12} {:>13} {:>8} {:>8} {:>9} {:>9} {:>7} {:>7} {:>9}",
            "articles",
            "seconds",
            "segment a/s",
            "overall a/s",
            "CPU ms/article",
            "placer",
            "writer",
            "RSS MiB",
            "peak MiB",
            "events",
            "stories",
            "terms"
        );
    }
    for mark in marks {
        let records = (done..mark).map(|i| {
            Ok(Record {
                article: stream.article(i),
                origin: Location {
                    path: PathBuf::from("<generated>"),
                    line: Some(i + 1),
                },
                warnings: Vec::new(),
            })
        });
        let report = pipeline.ingest(records, |_| {})?;
        if !report.errors.is_empty() {
            bail!(
                "generated articles were refused: {:?}",
                &report.errors[..report.errors.len().min(3)]
            );
        }
        done = mark;
        let t = started.elapsed().as_secs_f64();
        let seg = (done - last.0) as f64 / (t - last.1).max(1e-9);
        let per_article = |secs: f64| secs * 1000.0 / (done - last.0).max(1) as f64;
        let cpu = cpu_seconds();
        let cpu_ms = per_article(cpu - last_cpu);
        last_cpu = cpu;
        // The two sequential stages' shares: whichever nears 1000 / (articles/s) bounds the run.
        let (place_ms, write_ms) = (
            per_article(report.place_cpu_seconds),
            per_article(report.write_cpu_seconds),
        );
        let (rss, peak) = memory_mib();
        let live = pipeline.n_live_events();
        let terms = pipeline.n_terms();
        let stories = pipeline.n_live_stories();
        if json {
            rows.push(serde_json::json!({"articles": done, "seconds": t, "segment_per_s": seg,
                "overall_per_s": done as f64 / t, "segment_cpu_ms_per_article": cpu_ms,
                "segment_placer_cpu_ms_per_article": place_ms, "segment_writer_cpu_ms_per_article": write_ms, "rss_mib": rss, "peak_rss_mib": peak, "live_events": live, "live_stories": stories, "vocab_terms": terms}));
        } else {
            println!(
                "{done:>9} {t:>9.1} {seg:>12.0} {:>12.0} {cpu_ms:>13.2} {place_ms:>8.2} {write_ms:>8.2} {rss:>9.0} {peak:>9.0} {live:>7} {stories:>7} {terms:>9}",
                done as f64 / t
            );
        }
        last = (done, t);
    }
    if json {
        crate::print::json(&rows)?;
    }
    Ok(std::process::ExitCode::SUCCESS)
}
