//! `storyline follow` and `storyline feeds`: follow news feeds into the store.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use storyline::follow::opml::{parse_opml, write_opml, Subscription};
use storyline::follow::SystemClock;
use storyline::pipeline::PipelineConfig;
use storyline::store::{FeedRow, Store};
use storyline_follow::{ClientConfig, Follower, PollReport, Which};

use crate::{print, Usage};

#[derive(Args)]
pub struct FollowArgs {
    /// Feed addresses (RSS, Atom, JSON Feed) or OPML files: followed from now on, with those
    /// followed already. None: follow those followed already.
    sources: Vec<String>,
    /// Poll every feed once, ingest, print a report and exit (3 when a feed or item failed).
    /// A feed another follower or worker is polling is left to it, and named.
    #[arg(long)]
    once: bool,
    /// With --once: poll the feeds other followers hold too; for a follower you know is
    /// dead (its feeds are free anyway once its lease runs out, within 2 minutes).
    #[arg(long, requires = "once")]
    take_over: bool,
    /// Also fetch loopback, private and link-local addresses (tests, intranets).
    #[arg(long)]
    allow_private_addresses: bool,
    /// Check every feed this often, in seconds, instead of as often as it publishes (10 min
    /// to 6 h). For feeds of your own: a public site may take it for abuse.
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..))]
    every: Option<u64>,
}

#[derive(Subcommand)]
pub enum FeedsCommand {
    /// Follow feeds: addresses or OPML files.
    Add {
        #[arg(required = true)]
        sources: Vec<String>,
    },
    /// Stop following a feed; the articles it brought stay.
    Remove { url: String },
    /// Write the followed feeds as OPML.
    Export,
}

/// The feeds `sources` name: addresses as they are, OPML files read.
fn subscriptions(sources: &[String]) -> Result<Vec<Subscription>> {
    let mut out = Vec::new();
    for s in sources {
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            out.push(Subscription {
                url: s.clone(),
                title: None,
            });
        } else if lower.contains("://") {
            return Err(Usage(format!("{s}: only http and https feeds are followed")).into());
        } else {
            let path = Path::new(s);
            let xml = std::fs::read_to_string(path).with_context(|| {
                format!("{s}: neither a feed address (http/https) nor a readable OPML file")
            })?;
            out.extend(parse_opml(&xml, s)?);
        }
    }
    Ok(out)
}

fn add(store: &Store, subs: &[Subscription]) -> Result<usize> {
    let now = chrono::Utc::now();
    let mut added = 0;
    for s in subs {
        added += usize::from(store.add_feed(&s.url, s.title.as_deref(), now)?);
    }
    Ok(added)
}

pub fn feeds(db: &Path, cmd: Option<FeedsCommand>, json: bool) -> Result<ExitCode> {
    let store =
        Store::open(db).with_context(|| format!("cannot open the store {}", db.display()))?;
    match cmd {
        None => {
            let rows = store.feeds()?;
            if json {
                print::json(&rows)?;
            } else {
                feed_list(&rows);
            }
        }
        Some(FeedsCommand::Add { sources }) => {
            let subs = subscriptions(&sources)?;
            let added = add(&store, &subs)?;
            if json {
                print::json(&serde_json::json!({ "added": added, "named": subs.len() }))?;
            } else {
                println!(
                    "Now following {} more ({} followed already).",
                    print::plural(added, "feed"),
                    subs.len().saturating_sub(added)
                );
            }
        }
        Some(FeedsCommand::Remove { url }) => {
            if !store.remove_feed(&url)? {
                return Err(storyline::Error::NotFound {
                    what: "followed feed",
                    id: url,
                }
                .into());
            }
            if !json {
                println!("No longer following {url}; the articles it brought stay.");
            }
        }
        Some(FeedsCommand::Export) => {
            let subs: Vec<Subscription> = store
                .feeds()?
                .into_iter()
                .map(|f| Subscription {
                    url: f.url,
                    title: f.title,
                })
                .collect();
            println!("{}", write_opml("storyline feeds", &subs)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn when(t: Option<chrono::DateTime<chrono::Utc>>) -> String {
    t.map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

fn feed_list(rows: &[FeedRow]) {
    if rows.is_empty() {
        println!("No feeds followed: `storyline feeds add URL`.");
        return;
    }
    for f in rows {
        println!("{}", f.url);
        println!(
            "  {} · {} · last fetch {} · last new item {} · next check {} · {} failed in a row",
            f.title.as_deref().unwrap_or("(untitled)"),
            print::plural(f.items as usize, "item"),
            when(f.last_fetch),
            when(f.last_new_item),
            when(f.next_check),
            f.failures
        );
        if let Some(e) = &f.last_error {
            println!("  last error: {e}");
        }
    }
}

pub fn follow(db: &Path, args: &FollowArgs, json: bool) -> Result<ExitCode> {
    let subs = subscriptions(&args.sources)?;
    let store =
        Store::open(db).with_context(|| format!("cannot open the store {}", db.display()))?;
    add(&store, &subs)?;
    if store.feeds()?.is_empty() {
        return Err(Usage("no feeds to follow: name a feed address or an OPML file".into()).into());
    }
    let config = ClientConfig {
        allow_private_addresses: args.allow_private_addresses,
        ..ClientConfig::default()
    };
    let mut follower =
        Follower::open(db, PipelineConfig::default(), config, Arc::new(SystemClock))?;
    if let Some(secs) = args.every {
        follower = follower.with_fixed_interval(secs);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if args.once {
        let which = if args.take_over {
            Which::AllTakingOver
        } else {
            Which::All
        };
        let report = runtime.block_on(follower.poll(which))?;
        if json {
            print::json(&report)?;
        } else {
            poll_summary(&report);
        }
        return Ok(if report.failures.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(3)
        });
    }
    runtime.block_on(follow_until_stopped(&mut follower, json))?;
    Ok(ExitCode::SUCCESS)
}

/// Polls as feeds fall due until Ctrl-C or SIGTERM; a poll under way is finished and stored
/// first.
async fn follow_until_stopped(follower: &mut Follower, json: bool) -> Result<()> {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop.send(true);
    });
    loop {
        if *stopped.borrow() {
            break;
        }
        let report = follower.poll(Which::Due).await?;
        if !report.feeds.is_empty() {
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else {
                poll_summary(&report);
            }
        }
        let now = chrono::Utc::now();
        let wait = follower
            .next_due()?
            .map_or(3600, |t| (t - now).num_seconds())
            .clamp(1, 3600);
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(wait as u64)) => {}
            _ = stopped.changed() => break,
        }
    }
    if !json {
        eprintln!("Stopped; everything fetched is stored.");
    }
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn poll_summary(r: &PollReport) {
    let failed = r.feeds.iter().filter(|f| f.status == "failed").count();
    let unchanged = r
        .feeds
        .iter()
        .filter(|f| f.status == "not modified")
        .count();
    println!(
        "Polled {}: {} unchanged, {} failed. Items: {} new, {} updated, {} known; {} fetched.",
        print::plural(r.feeds.len(), "feed"),
        unchanged,
        failed,
        r.new_items,
        r.updated_items,
        r.known_items,
        print::plural(r.pages_fetched, "page")
    );
    println!(
        "Stored {} ({} near-duplicates), {}, {}.",
        print::plural(r.ingest.stored, "new article"),
        r.ingest.copies,
        print::plural(r.ingest.new_events, "new event"),
        print::plural(r.ingest.new_stories, "new story"),
    );
    if !r.leased_elsewhere.is_empty() {
        println!(
            "Left {} to the followers or workers polling them (--take-over polls them too):",
            print::plural(r.leased_elsewhere.len(), "feed")
        );
        for l in &r.leased_elsewhere {
            println!(
                "  {} (held by {} until {})",
                l.url,
                l.holder,
                l.until.format("%H:%M:%S")
            );
        }
    }
    for f in &r.failures {
        match &f.item {
            Some(item) => eprintln!("failed: {} item {item}: {}", f.feed, f.reason),
            None => eprintln!("failed: {}: {}", f.feed, f.reason),
        }
    }
}

/// Follows `sources` (and the feeds followed already) on a thread of its own until the
/// process ends, ingesting under `writer`, the server's writer lock. A poll cut short by
/// the end of the process repeats at the next start without storing anything twice.
pub fn spawn_follower(
    db: &Path,
    sources: &[String],
    allow_private_addresses: bool,
    every: Option<u64>,
    writer: Arc<std::sync::Mutex<()>>,
) -> Result<()> {
    let subs = subscriptions(sources)?;
    let store =
        Store::open(db).with_context(|| format!("cannot open the store {}", db.display()))?;
    add(&store, &subs)?;
    let config = ClientConfig {
        allow_private_addresses,
        ..ClientConfig::default()
    };
    let mut follower =
        Follower::open(db, PipelineConfig::default(), config, Arc::new(SystemClock))?
            .with_writer_lock(writer);
    if let Some(secs) = every {
        follower = follower.with_fixed_interval(secs);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the follower's runtime")?;
    std::thread::Builder::new()
        .name("storyline-follow".into())
        .spawn(move || {
            runtime.block_on(async move {
                loop {
                    match follower.poll(Which::Due).await {
                        Ok(r) if !r.feeds.is_empty() => eprintln!(
                            "follow: {} polled, {} new, {} updated, {} stored, {} failed",
                            print::plural(r.feeds.len(), "feed"),
                            r.new_items,
                            r.updated_items,
                            r.ingest.stored,
                            r.failures.len()
                        ),
                        Ok(_) => {}
                        Err(e) => eprintln!("follow: {e}"),
                    }
                    let now = chrono::Utc::now();
                    let wait = follower
                        .next_due()
                        .ok()
                        .flatten()
                        .map_or(3600, |t| (t - now).num_seconds())
                        .clamp(1, 3600);
                    tokio::time::sleep(std::time::Duration::from_secs(wait as u64)).await;
                }
            })
        })
        .context("cannot start the follower thread")?;
    Ok(())
}
