//! The `storyline` command: thin argument handling and printing over the engine library.
//!
//! Exit codes (also in `--help`): 0 success; 1 fatal error; 2 bad usage; 3 finished, but
//! some input records were bad and skipped (each is named on standard error); 4 not found.

// glibc malloc took a fifth of ingest CPU on long runs (fragmentation, consolidation);
// jemalloc cut CPU per article by 15% and peak RSS by 8% at 100k articles.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

mod bench;
mod bench_embed;
mod bench_follow;
mod entities_cmd;
mod eval;
mod eval_cluster_all;
mod eval_extract;
mod follow_cmd;
mod load;
mod print;
mod serve_cmd;
mod summary_cmd;
mod worker_cmd;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use storyline::core::StoryId;
use storyline::ingest::{self, Format};
use storyline::pipeline::{IngestReport, Pipeline, PipelineConfig};
use storyline::read::{self, EntityFilter};
use storyline::search::{EmptyQuery, Query};
use storyline::store::{ArticleFilter, Store};

const EXIT_STATUS: &str = "\
Exit status:
  0  success
  1  fatal error: a store or file could not be opened, read or written
  2  bad usage: an unknown option, a bad value, a search with no word in it
  3  finished, but some input was bad and skipped (each named on standard error)
  4  not found: no such story (`show 99`)";

#[derive(Parser)]
#[command(
    name = "storyline",
    version,
    about = "Turn a stream of news articles into stories: \
    events, cited summaries, timelines and the people, organisations and places in them.",
    after_help = EXIT_STATUS
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct Global {
    /// The store: a SQLite file, or a PostgreSQL database as a `postgres://` URL; created on
    /// first use.
    #[arg(
        long,
        global = true,
        default_value = "storyline.db",
        env = "STORYLINE_DB"
    )]
    db: PathBuf,
    /// Machine-readable JSON on standard output.
    #[arg(long, global = true)]
    json: bool,
    /// No progress bar.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Folder of the all-MiniLM-L6-v2 model (`scripts/fetch-model.sh`): adds sentence
    /// embeddings to clustering. Needs a build with `--features embeddings`.
    #[arg(long, global = true, env = "STORYLINE_MODEL")]
    model: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Ingest, then show every story: the one command for a first look at a folder of news.
    Run {
        /// Files or folders (.txt, .jsonl, .html, .rss/.atom); `-` reads JSONL from stdin.
        /// Files with other names are skipped with a warning unless `--format` is given.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Read every file as this format instead of going by its name.
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
        /// Show at most this many stories in full (the most recent).
        #[arg(long, default_value_t = 5)]
        top: usize,
    },
    /// Add articles to the store; new articles join existing events and stories.
    Ingest {
        /// Files or folders (.txt, .jsonl, .html, .rss/.atom); `-` reads JSONL from stdin.
        /// Files with other names are skipped with a warning unless `--format` is given.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Read every file as this format instead of going by its name (`--format text`
        /// reads a README or a text file with an odd name as an article).
        #[arg(long, value_enum)]
        format: Option<FormatArg>,
    },
    /// Queue files for `storyline worker` (a PostgreSQL store only): each record becomes an
    /// "analyse" job, in input order; returns at once.
    Enqueue(worker_cmd::EnqueueArgs),
    /// Run queued jobs on a PostgreSQL store, with any number of workers at once; the one
    /// holding the clusterer lock also files the analysed articles into events and stories,
    /// batch by batch in queue order (a standby takes over when it dies). Workers also poll
    /// the followed feeds (`feeds add`), each feed by one of them at a time.
    Worker(worker_cmd::WorkerArgs),
    /// List stories, most recently active first.
    Stories {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// Search the stored articles: the best stories, then the best articles with the
    /// matching passage.
    ///
    /// Type words as you would anywhere: all must match, and punctuation only separates
    /// words (`U.S. ceasefire`, `Blinken's visit`, `Saudi-Arabia` all work). Operators:
    /// `"a phrase"`, `Hamas OR Hezbollah`, `Gaza NOT Egypt`, `cease*` (upper-case OR/NOT).
    Search {
        query: String,
        /// Articles to list (stories: the best 10).
        #[arg(long, default_value_t = 10)]
        limit: usize,
        #[arg(long, default_value_t = 0)]
        offset: usize,
    },
    /// One story: headline, cited summary, timeline, entities, sources.
    Show {
        /// Story id, as `storyline stories` lists it.
        story: StoryId,
        /// First source to list (0-based); a big story's list is long.
        #[arg(long, default_value_t = 0)]
        sources_offset: usize,
        /// Most sources to list; the rest are counted ("sources 1–100 of 50,000").
        #[arg(long, default_value_t = 100, conflicts_with = "all_sources")]
        sources_limit: usize,
        /// List every source, however many.
        #[arg(long)]
        all_sources: bool,
    },
    /// People, organisations and places across the store, under canonical names.
    Entities(entities_cmd::EntitiesArgs),
    /// Extract the article from web pages (.html, .html.gz; `-` for stdin).
    Extract {
        #[arg(required = true)]
        pages: Vec<PathBuf>,
    },
    /// Cluster a JSONL file on a fresh temporary store and write `{"id","event","story"}` lines.
    Cluster {
        articles: PathBuf,
        /// Where to write the assignments (`-` for stdout).
        #[arg(long, default_value = "-")]
        out: PathBuf,
    },
    /// Every stored article as a JSON line (`id`, `title`, `source`, `url`, `published`,
    /// `lang`, `text`, plus its `event` and `story`), in ingest order: a backup, or a move to
    /// another store (`storyline ingest` of an export rebuilds an equivalent one).
    Export {
        /// Where to write (`-` for stdout).
        #[arg(long, default_value = "-")]
        out: PathBuf,
    },
    /// Score storyline against gold data.
    #[command(subcommand)]
    Eval(eval::EvalCommand),
    /// Benchmarks on generated streams (not part of the tests).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Serve the JSON API (/api, /api/openapi.json), search and the web page over the store.
    Serve(serve_cmd::ServeArgs),
    /// Follow news feeds (RSS, Atom, JSON Feed; OPML lists): fetch new items and their
    /// pages, ingest them, and keep polling until Ctrl-C (or once, with `--once`).
    Follow(follow_cmd::FollowArgs),
    /// The followed feeds and their health; `add`, `remove`, `export` (OPML).
    Feeds {
        #[command(subcommand)]
        command: Option<follow_cmd::FeedsCommand>,
    },
    /// Cited summary of a JSONL file of articles taken as one story.
    Summarize(summary_cmd::SummarizeArgs),
    /// Dated timeline of a JSONL file of articles taken as one story.
    Timeline(summary_cmd::TimelineArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum FormatArg {
    Text,
    Jsonl,
    Html,
    Feed,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Format {
        match f {
            FormatArg::Text => Format::Text,
            FormatArg::Jsonl => Format::Jsonl,
            FormatArg::Html => Format::Html,
            FormatArg::Feed => Format::Feed,
        }
    }
}

fn main() -> ExitCode {
    // Die quietly on a closed pipe (`storyline show 1 | head`) like other Unix tools,
    // instead of panicking on the failed write.
    #[cfg(unix)]
    // SAFETY: restoring the default SIGPIPE action before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STORYLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(exit_code(&e))
        }
    }
}

/// A command line that cannot be carried out as given (exit 2, as clap's own errors).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Usage(pub(crate) String);

/// Exit status by the kind of failure; see [`EXIT_STATUS`].
fn exit_code(e: &anyhow::Error) -> u8 {
    for cause in e.chain() {
        if cause.is::<Usage>() || cause.is::<EmptyQuery>() {
            return 2;
        }
        if let Some(storyline::Error::NotFound { .. }) = cause.downcast_ref() {
            return 4;
        }
    }
    1
}

fn run(cli: Cli) -> Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Run { paths, format, top } => {
            let report = ingest_paths(g, &paths, format.map(Into::into))?;
            let store = Store::open(&g.db)?;
            let stories = read::list_stories(&store, top, 0)?;
            let reports = stories
                .iter()
                .map(|s| read::story_report(&store, s.id))
                .collect::<storyline::Result<Vec<_>>>()?;
            if g.json {
                print::json(&serde_json::json!({ "ingest": report, "stories": reports }))?;
            } else {
                print::ingest_summary(&report, &store.counts()?);
                let total = store.counts()?.stories as usize;
                for r in &reports {
                    println!();
                    print::story(r);
                }
                if total > reports.len() {
                    println!(
                        "\n… and {} more: `storyline stories --db {}`",
                        print::plural(total - reports.len(), "story"),
                        g.db.display()
                    );
                }
            }
            Ok(exit_for(&report))
        }
        Command::Ingest { paths, format } => {
            let report = ingest_paths(g, &paths, format.map(Into::into))?;
            let counts = Store::open(&g.db)?.counts()?;
            if g.json {
                print::json(&serde_json::json!({ "ingest": report, "store": counts }))?;
            } else {
                print::ingest_summary(&report, &counts);
            }
            Ok(exit_for(&report))
        }
        Command::Enqueue(args) => worker_cmd::enqueue(&g.db, &args, g.json),
        Command::Worker(args) => {
            worker_cmd::worker(&g.db, &args, g.json, g.quiet, embedder(g.model.as_deref())?)
        }
        Command::Stories { limit, offset } => {
            let store = open_existing(&g.db)?;
            let stories = read::list_stories(&store, limit, offset)?;
            if g.json {
                print::json(&stories)?;
            } else {
                print::story_list(&stories);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            limit,
            offset,
        } => {
            let parsed =
                Query::parse(&query).map_err(|e| Usage(format!("search {query:?}: {e}")))?;
            let store = open_existing(&g.db)?;
            let found = read::search(
                &store,
                &query,
                &parsed,
                &ArticleFilter::default(),
                limit,
                offset,
            )?;
            if g.json {
                print::json(&found)?;
            } else {
                print::search(&found);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Show {
            story,
            sources_offset,
            sources_limit,
            all_sources,
        } => {
            let store = open_existing(&g.db)?;
            let limit = (!all_sources).then_some(sources_limit);
            let (_, report) = read::story_report_page(&store, story, sources_offset, limit)?;
            if g.json {
                print::json(&report)?;
            } else {
                print::story(&report);
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Entities(args) => {
            let filter: EntityFilter = (&args).into();
            entities_cmd::list(&open_existing(&g.db)?, &filter, g.json)
        }
        Command::Extract { pages } => extract_pages(g, &pages),
        Command::Cluster { articles, out } => {
            let (assignments, _) = eval::cluster_file(&articles, g.quiet, g.model.as_deref())?;
            eval::write_assignments(&assignments, &out)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { out } => export(&open_existing(&g.db)?, &out, g.quiet),
        Command::Eval(cmd) => eval::run(cmd, g.json, g.quiet, g.model.as_deref()),
        Command::Bench(cmd) => bench::run(cmd, &g.db, g.json, g.model.as_deref()),
        Command::Serve(args) => serve_cmd::run(&g.db, &args),
        Command::Follow(args) => follow_cmd::follow(&g.db, &args, g.json),
        Command::Feeds { command } => follow_cmd::feeds(&g.db, command, g.json),
        Command::Summarize(args) => summary_cmd::summarize_cmd(args, g.json),
        Command::Timeline(args) => summary_cmd::timeline_cmd(args, g.json),
    }
}

fn exit_for(report: &IngestReport) -> ExitCode {
    if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

/// `storyline export`: one JSON line an article, streamed.
fn export(store: &Store, out: &Path, quiet: bool) -> Result<ExitCode> {
    let mut w: Box<dyn std::io::Write> = if out.as_os_str() == "-" {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(out)
                .with_context(|| format!("cannot write {}", out.display()))?,
        ))
    };
    let failed = |source| storyline::Error::Io {
        path: out.to_path_buf(),
        source,
    };
    let mut n = 0usize;
    store.export(|a| {
        serde_json::to_writer(&mut w, &a).map_err(|e| failed(e.into()))?;
        w.write_all(b"\n").map_err(failed)?;
        n += 1;
        Ok(())
    })?;
    w.flush().map_err(failed)?;
    if !quiet && out.as_os_str() != "-" {
        eprintln!(
            "{} exported to {}",
            print::plural(n, "article"),
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Reading commands must not create an empty store by accident.
fn open_existing(db: &Path) -> Result<Store> {
    if !Store::is_url(db) && !db.exists() {
        anyhow::bail!(
            "no store at {}: ingest some articles first (`storyline ingest PATH --db {}`)",
            db.display(),
            db.display()
        );
    }
    Ok(Store::open(db)?)
}

pub(crate) fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

/// Runs the pipeline over files and folders, reporting bad records on stderr as it goes.
/// The sentence-embedding model, when one is asked for.
#[cfg(feature = "embeddings")]
fn embedder(
    model: Option<&Path>,
) -> Result<Option<std::sync::Arc<dyn storyline::embed::Embedder>>> {
    let Some(dir) = model else {
        return Ok(None);
    };
    let m = storyline_embed::MiniLm::load(dir).with_context(|| {
        format!(
            "cannot load the model in {} (scripts/fetch-model.sh fetches it)",
            dir.display()
        )
    })?;
    // Experiments only: remember vectors across runs of the same data.
    if let Some(cache) = std::env::var_os("STORYLINE_EMBED_CACHE") {
        let c = storyline_embed::Cached::new(m, Path::new(&cache))?;
        return Ok(Some(std::sync::Arc::new(c)));
    }
    Ok(Some(std::sync::Arc::new(m)))
}

#[cfg(not(feature = "embeddings"))]
fn embedder(
    model: Option<&Path>,
) -> Result<Option<std::sync::Arc<dyn storyline::embed::Embedder>>> {
    match model {
        Some(_) => anyhow::bail!("--model needs a storyline built with `--features embeddings`"),
        None => Ok(None),
    }
}

/// The files `paths` name and hold that are read as articles: a README or a PDF in a folder
/// of news is not one, so only what is named as one is read, unless a format was given.
pub(crate) fn article_files(paths: &[PathBuf], format: Option<Format>) -> Result<Vec<PathBuf>> {
    let mut files = ingest::expand_paths(paths)?;
    let mut skipped = Vec::new();
    if format.is_none() {
        files.retain(|f| {
            let known = f.as_os_str() == "-" || ingest::Format::from_name(f).is_some();
            if !known {
                skipped.push(f.clone());
            }
            known
        });
    }
    for f in &skipped {
        eprintln!(
            "warning: {}: skipped: not named as an article file ({}); \
             `--format text` reads it as text",
            f.display(),
            ingest::KNOWN_EXTENSIONS
        );
    }
    Ok(files)
}

/// The pipeline's settings: the defaults, with clustering settings overridden by
/// `STORYLINE_CLUSTER_CONFIG` (a JSON object; an expert knob for experiments). `ingest` and
/// `worker` read it alike, so both file articles the same way.
pub(crate) fn pipeline_config() -> Result<PipelineConfig> {
    let mut config = PipelineConfig::default();
    if let Ok(json) = std::env::var("STORYLINE_CLUSTER_CONFIG") {
        config.cluster = serde_json::from_str(&json)
            .with_context(|| format!("STORYLINE_CLUSTER_CONFIG is not valid settings: {json}"))?;
    }
    Ok(config)
}

pub(crate) fn ingest_with(
    db: &Path,
    paths: &[PathBuf],
    format: Option<Format>,
    quiet: bool,
    model: Option<&Path>,
) -> Result<IngestReport> {
    let files = article_files(paths, format)?;
    let mut pipeline = Pipeline::open(db, pipeline_config()?)
        .with_context(|| format!("cannot open the store {}", db.display()))?;
    if let Some(e) = embedder(model)? {
        pipeline = pipeline.with_embedder(e);
    }
    let bar = progress_bar(quiet);
    let started = std::time::Instant::now();
    let records = files.iter().flat_map(|f| ingest::read_path(f, format));
    let report = pipeline.ingest(records, |p| {
        let rate = p.read as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "{} read, {} stored ({rate:.0} articles/s)",
            p.read, p.stored
        ));
    })?;
    bar.finish_and_clear();
    for line in in_input_order(&files, &report) {
        eprintln!("{line}");
    }
    Ok(report)
}

/// Bad records and warnings, in the order of the files and of the lines within each: the
/// report keeps them in two lists, and each message starts with `FILE:LINE: ` or `FILE: `.
fn in_input_order(files: &[PathBuf], report: &IngestReport) -> Vec<String> {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let place = |message: &str| {
        // The longest file name the message starts with (one name may prefix another).
        let file = names
            .iter()
            .enumerate()
            .filter(|(_, n)| {
                message
                    .strip_prefix(n.as_str())
                    .is_some_and(|rest| rest.starts_with(':'))
            })
            .max_by_key(|(_, n)| n.len());
        let Some((index, name)) = file else {
            return (usize::MAX, 0);
        };
        let line = message[name.len() + 1..]
            .split(':')
            .next()
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        (index, line)
    };
    let mut lines: Vec<((usize, usize), String)> = report
        .errors
        .iter()
        .map(|e| (place(e), format!("skipped: {e}")))
        .chain(
            report
                .warnings
                .iter()
                .map(|w| (place(w), format!("warning: {w}"))),
        )
        .collect();
    // Stable: messages of one line keep their order.
    lines.sort_by_key(|(at, _)| *at);
    lines.into_iter().map(|(_, line)| line).collect()
}

fn ingest_paths(g: &Global, paths: &[PathBuf], format: Option<Format>) -> Result<IngestReport> {
    ingest_with(&g.db, paths, format, g.quiet, g.model.as_deref())
}

fn extract_pages(g: &Global, pages: &[PathBuf]) -> Result<ExitCode> {
    let mut failed = false;
    for page in ingest::expand_paths(pages)? {
        let result = if page.as_os_str() == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                .context("cannot read stdin")
                .map(|_| bytes)
        } else {
            ingest::read_page_bytes(&page).map_err(Into::into)
        };
        let id = page
            .file_name()
            .map(|n| {
                n.to_string_lossy()
                    .split('.')
                    .next()
                    .unwrap_or("")
                    .to_string()
            })
            .unwrap_or_else(|| "stdin".into());
        match result.and_then(|b| ingest::extract_page(&b, &id).map_err(anyhow::Error::from)) {
            Ok(a) => {
                if g.json {
                    let line = serde_json::json!({
                        "id": a.id, "title": a.title, "published": a.published,
                        "source": a.source, "url": a.url, "text": a.text,
                    });
                    println!("{line}");
                } else {
                    println!("# {}\n{}\n", a.title.as_deref().unwrap_or(&a.id), a.text);
                }
            }
            Err(e) => {
                failed = true;
                eprintln!("skipped: {}: {e:#}", page.display());
            }
        }
    }
    Ok(if failed {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}
