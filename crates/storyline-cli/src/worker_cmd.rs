//! `storyline enqueue` and `storyline worker`: ingest through a PostgreSQL store's job queue,
//! with any number of workers on any number of machines.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use storyline::embed::Embedder;
use storyline::ingest::{self, Format};
use storyline::pipeline::{self, PipelineConfig, WorkerConfig, WorkerEvent};
use storyline::store::Store;

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
    let config = WorkerConfig {
        embedder,
        claim: args.claim as usize,
        max_attempts: args.max_attempts,
        until_idle: args.until_idle,
        pipeline: crate::pipeline_config()?,
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
    for line in report.ingest.errors.iter() {
        eprintln!("skipped: {line}");
    }
    for line in report.ingest.warnings.iter() {
        eprintln!("warning: {line}");
    }
    if json {
        print::json(&report)?;
    } else {
        println!(
            "Analysed {}, {} failed; placed {} ({} stored).",
            print::plural(report.analysed, "job"),
            report.failed_attempts,
            print::plural(report.batches_placed, "batch"),
            print::plural(report.ingest.stored, "new article"),
        );
        if config.embedder.is_some() {
            println!(
                "Embedded {} in {:.1} s.",
                print::plural(report.embedded, "article"),
                report.embed_seconds
            );
        }
    }
    Ok(if report.ingest.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
