//! `storyline enqueue` and `storyline worker`: ingest through a PostgreSQL store's job queue,
//! with any number of workers on any number of machines. A worker also polls the followed
//! feeds (`storyline feeds add`), claiming them through the same leases as `storyline
//! follow`, and queues what they bring.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use storyline::embed::Embedder;
use storyline::follow::SystemClock;
use storyline::ingest::{self, Format};
use storyline::pipeline::{self, PipelineConfig, WorkerConfig, WorkerEvent};
use storyline::store::{Store, TryLimits};
use storyline_follow::{ClientConfig, Follower, PollReport, Which};

use crate::{print, FormatArg};

#[derive(Args)]
pub struct EnqueueArgs {
    /// Files or folders, as `storyline ingest` reads them; `-` reads JSONL from stdin.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Read every file as this format instead of going by its name.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
}

#[derive(Args)]
pub struct WorkerArgs {
    /// Exit once nothing is queued and every batch is placed, instead of waiting for more.
    #[arg(long)]
    until_idle: bool,
    /// Jobs claimed at a time.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..))]
    claim: u32,
    /// Attempts after which a failing job is given up (kept as failed, with its error).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    max_attempts: u32,
    /// Jobs of one feed item that may fail for good: after each of the first ones the item
    /// is forgotten and queued again at its feed's next poll; after the last it is left.
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..))]
    item_tries: u32,
    /// Also fetch loopback, private and link-local addresses (tests, intranets).
    #[arg(long)]
    allow_private_addresses: bool,
    /// Check every feed this often, in seconds, instead of as often as it publishes.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    every: Option<u64>,
    /// How long a feed this worker polls stays its own, renewed while it polls: a killed
    /// worker's feeds are polled by another this long after it died.
    #[arg(long, value_name = "SECS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..))]
    feed_lease: u64,
}

/// What a worker's feed poller did, over all its polls.
#[derive(Debug, Default, Serialize)]
struct FeedTotals {
    /// Feed polls (a feed polled twice counts twice).
    polled: usize,
    new_items: usize,
    updated_items: usize,
    pages_fetched: usize,
    /// Articles queued as "analyse" jobs.
    queued: usize,
    /// Feeds and items that failed, each with the reason.
    failures: Vec<String>,
}

impl FeedTotals {
    fn absorb(&mut self, r: PollReport) {
        self.polled += r.feeds.len();
        self.new_items += r.new_items;
        self.updated_items += r.updated_items;
        self.pages_fetched += r.pages_fetched;
        self.queued += r.queued;
        self.failures
            .extend(r.failures.into_iter().map(|f| match f.item {
                Some(item) => format!("{} item {item}: {}", f.feed, f.reason),
                None => format!("{}: {}", f.feed, f.reason),
            }));
    }
}

/// Longest wait between looks at the feeds: one followed meanwhile is polled this soon.
const FEEDS_LOOK: i64 = 30;

/// Longest wait, in milliseconds, of an idle worker (`--until-idle`) between looks at the
/// feeds other pollers hold.
const HELD_LOOK_MS: i64 = 1000;

/// Polls the followed feeds as they fall due, on a thread of its own, queueing what they
/// bring; with `until_idle`, until a poll finds no feed to claim and no other poller holds
/// one (then `producing` clears). A worker killed mid-poll loses nothing: its feeds are free
/// again when their leases run out, and it remembered only the items it queued, in the
/// transaction that queued them. So an idle worker waits for the leases of others: a live
/// holder frees them when it has queued what they brought, a dead one's run out and the
/// feeds are polled here.
fn spawn_feed_poller(
    db: &Path,
    args: &WorkerArgs,
    pipeline: PipelineConfig,
    producing: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<Result<FeedTotals>>> {
    let config = ClientConfig {
        allow_private_addresses: args.allow_private_addresses,
        ..ClientConfig::default()
    };
    let mut follower = Follower::open(db, pipeline, config, Arc::new(SystemClock))?
        .with_queue()
        .with_holder_prefix("worker")
        .with_feed_lease(std::time::Duration::from_secs(args.feed_lease));
    if let Some(secs) = args.every {
        follower = follower.with_fixed_interval(secs);
    }
    let until_idle = args.until_idle;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the feed poller's runtime")?;
    let thread = std::thread::Builder::new()
        .name("storyline-worker-feeds".into())
        .spawn(move || {
            let polled = runtime.block_on(async move {
                let mut totals = FeedTotals::default();
                loop {
                    // Before the claims: a lease that runs out after a claim passed its feed
                    // by is still one to wait for (its feed is claimed at the next look).
                    let looked = chrono::Utc::now();
                    match follower.poll(Which::Due).await {
                        Ok(r) if r.feeds.is_empty() && until_idle => {
                            let held = follower.leased_elsewhere(looked)?;
                            let Some(until) = held.iter().map(|l| l.until).min() else {
                                break;
                            };
                            // Looked at again when the first lease may have run out, or
                            // sooner: a live holder frees its feeds as soon as it is done.
                            let wait = (until - chrono::Utc::now()).num_milliseconds() + 1;
                            let wait = wait.clamp(10, HELD_LOOK_MS) as u64;
                            tokio::time::sleep(std::time::Duration::from_millis(wait)).await;
                            continue;
                        }
                        Ok(r) => totals.absorb(r),
                        Err(e) if until_idle => return Err(e.into()),
                        // The store may be back at the next look.
                        Err(e) => eprintln!("worker: feeds: {e}"),
                    }
                    if until_idle {
                        continue;
                    }
                    let now = chrono::Utc::now();
                    let wait = follower
                        .next_due()
                        .ok()
                        .flatten()
                        .map_or(FEEDS_LOOK, |t| (t - now).num_seconds())
                        .clamp(1, FEEDS_LOOK);
                    tokio::time::sleep(std::time::Duration::from_secs(wait as u64)).await;
                }
                Ok(totals)
            });
            producing.store(false, Ordering::SeqCst);
            polled
        })
        .context("cannot start the feed poller's thread")?;
    Ok(thread)
}

/// `storyline enqueue`: the records as "analyse" jobs, in input order; returns at once.
pub fn enqueue(db: &Path, args: &EnqueueArgs, json: bool) -> Result<ExitCode> {
    pipeline::needs_postgres(db, "`storyline enqueue`")?;
    let format: Option<Format> = args.format.map(Into::into);
    let files = crate::article_files(&args.paths, format)?;
    let store =
        Store::open(db).with_context(|| format!("cannot open the store {}", db.display()))?;
    let records = files.iter().flat_map(|f| ingest::read_path(f, format));
    let report = pipeline::enqueue(&store, records, &PipelineConfig::default())?;
    for e in &report.errors {
        eprintln!("skipped: {e}");
    }
    if json {
        print::json(&report)?;
    } else {
        println!(
            "Queued {} of {} read, in {}: `storyline worker` ingests them.",
            report.queued,
            print::plural(report.read, "record"),
            print::plural(report.batches, "batch"),
        );
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}

/// `storyline worker`: runs jobs until stopped (a kill at any moment loses nothing: what
/// it was doing goes back to the queue), or with `--until-idle` until the queue is empty.
pub fn worker(
    db: &Path,
    args: &WorkerArgs,
    json: bool,
    quiet: bool,
    embedder: Option<Arc<dyn Embedder>>,
) -> Result<ExitCode> {
    pipeline::needs_postgres(db, "`storyline worker`")?;
    let producing = Arc::new(AtomicBool::new(true));
    let pipeline_config = crate::pipeline_config()?;
    let feeds = spawn_feed_poller(db, args, pipeline_config.clone(), producing.clone())
        .with_context(|| format!("worker on {}", db.display()))?;
    let config = WorkerConfig {
        embedder,
        claim: args.claim as usize,
        tries: TryLimits {
            attempts: args.max_attempts,
            item_jobs: args.item_tries,
        },
        until_idle: args.until_idle,
        pipeline: pipeline_config,
        producing: Some(producing),
        ..WorkerConfig::default()
    };
    let never = AtomicBool::new(false);
    let report = pipeline::run_worker(db, &config, &never, |event| {
        if quiet {
            return;
        }
        match event {
            WorkerEvent::Clustering => eprintln!("worker: clustering (holds the clusterer lock)"),
            WorkerEvent::Placed { batch, report } => eprintln!(
                "worker: batch {batch} placed: {} stored, {} already stored",
                report.stored, report.already_stored
            ),
        }
    })
    .with_context(|| format!("worker on {}", db.display()))?;
    // Done by now: the worker stops only once the poller has (`until_idle`).
    let feeds = feeds
        .join()
        .map_err(|_| anyhow::anyhow!("the feed poller stopped on a panic"))??;
    for line in &feeds.failures {
        eprintln!("failed: {line}");
    }
    for line in report.ingest.errors.iter() {
        eprintln!("skipped: {line}");
    }
    for line in report.ingest.warnings.iter() {
        eprintln!("warning: {line}");
    }
    if json {
        #[derive(Serialize)]
        struct Out<'a> {
            #[serde(flatten)]
            worker: &'a pipeline::WorkerReport,
            feeds: &'a FeedTotals,
        }
        print::json(&Out {
            worker: &report,
            feeds: &feeds,
        })?;
    } else {
        if feeds.polled > 0 {
            println!(
                "Polled {}: {} new, {} updated; queued {}.",
                print::plural(feeds.polled, "feed"),
                feeds.new_items,
                feeds.updated_items,
                print::plural(feeds.queued, "article"),
            );
        }
        println!(
            "Analysed {}, {} failed; placed {} ({} stored); made {} again.",
            print::plural(report.analysed, "job"),
            report.failed_attempts,
            print::plural(report.batches_placed, "batch"),
            print::plural(report.ingest.stored, "new article"),
            print::plural(report.reports_refreshed, "story report"),
        );
        if report.items_forgotten > 0 {
            println!(
                "Forgot {} whose jobs failed for good: the next polls queue them again.",
                print::plural(report.items_forgotten, "feed item"),
            );
        }
        if config.embedder.is_some() {
            println!(
                "Embedded {} in {:.1} s.",
                print::plural(report.embedded, "article"),
                report.embed_seconds
            );
        }
    }
    Ok(
        if report.ingest.errors.is_empty() && feeds.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        },
    )
}
