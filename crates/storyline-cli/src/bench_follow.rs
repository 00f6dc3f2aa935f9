//! `storyline bench follow`: a first full sync of many feeds served by local servers on
//! several loopback addresses (127.0.0.2, .3, …), so the per-host limit is real. Half the
//! items carry their full text, half only a link to a page that is fetched and extracted.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use storyline::follow::SystemClock;
use storyline::pipeline::PipelineConfig;
use storyline_follow::{ClientConfig, Follower, Which};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::bench::{cpu_seconds, load_pool, memory_mib, rewrite, splitmix};

#[derive(Args)]
pub struct FollowBenchArgs {
    #[arg(long, default_value_t = 1000)]
    feeds: usize,
    /// Items per feed; every second one needs its page fetched.
    #[arg(long, default_value_t = 20)]
    items: usize,
    /// Loopback addresses serving them (127.0.0.2 upwards).
    #[arg(long, default_value_t = 8)]
    hosts: usize,
    /// Folder of evaluation data to draw article texts from.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
}

/// What the local servers serve, generated on request.
struct Site {
    pool: Vec<String>,
    items: usize,
    /// `host:port` of each server.
    hosts: Vec<String>,
    in_flight: Vec<AtomicUsize>,
    max_in_flight: Vec<AtomicUsize>,
}

impl Site {
    fn text(&self, article: usize) -> String {
        let mut rng = article as u64;
        let pass = article / self.pool.len();
        rewrite(&self.pool[article % self.pool.len()], pass, &mut rng)
    }

    fn feed(&self, feed: usize) -> String {
        let host = &self.hosts[feed % self.hosts.len()];
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let mut x = format!(
            r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Desk {feed}</title><link>http://{host}/</link>"#
        );
        for k in 0..self.items {
            let a = feed * self.items + k;
            let mut rng = a as u64;
            let day = 1 + splitmix(&mut rng) % 28;
            let _ = write!(
                x,
                "<item><guid>a{a}</guid><title>Report {a}</title><link>http://{host}/page/{a}</link>\
                 <pubDate>{day:02} Mar 2026 10:00:00 GMT</pubDate><description>Report {a}.</description>"
            );
            if k % 2 == 0 {
                let body: String = self
                    .text(a)
                    .lines()
                    .map(|l| format!("<p>{}</p>", esc(l)))
                    .collect();
                let _ = write!(x, "<content:encoded>{}</content:encoded>", esc(&body));
            }
            x.push_str("</item>");
        }
        x + "</channel></rss>"
    }

    fn page(&self, article: usize) -> String {
        let body: String = self
            .text(article)
            .lines()
            .map(|l| format!("<p>{l}</p>\n"))
            .collect();
        format!(
            "<!DOCTYPE html><html><head><title>Report {article}</title></head><body>\
             <nav><a href=\"/\">Home</a></nav><article><h1>Report {article}</h1>{body}</article>\
             <footer>© Desk</footer></body></html>"
        )
    }

    fn answer(&self, path: &str) -> Option<(&'static str, String)> {
        let num = |p: &str, pre: &str, post: &str| {
            p.strip_prefix(pre)?
                .strip_suffix(post)?
                .parse::<usize>()
                .ok()
        };
        if let Some(f) = num(path, "/feed/", ".xml") {
            return Some(("application/rss+xml", self.feed(f)));
        }
        num(path, "/page/", "").map(|a| ("text/html", self.page(a)))
    }
}

async fn handle(mut sock: tokio::net::TcpStream, site: Arc<Site>, host: usize) {
    let now = site.in_flight[host].fetch_add(1, Ordering::SeqCst) + 1;
    site.max_in_flight[host].fetch_max(now, Ordering::SeqCst);
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
        match sock.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let response = match site.answer(&path) {
        Some((kind, body)) => format!(
            "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into(),
    };
    // Counted out before the answer leaves: the client cannot start its next request to
    // this host before it has the answer, so the count never overstates.
    site.in_flight[host].fetch_sub(1, Ordering::SeqCst);
    let _ = sock.write_all(response.as_bytes()).await;
    let _ = sock.shutdown().await;
}

pub fn run(args: FollowBenchArgs, json: bool) -> Result<std::process::ExitCode> {
    let pool = load_pool(&args.data)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let mut listeners = Vec::new();
    let mut hosts = Vec::new();
    for h in 0..args.hosts.max(1) {
        let addr = format!("127.0.0.{}:0", 2 + h);
        let l = runtime
            .block_on(tokio::net::TcpListener::bind(&addr))
            .with_context(|| format!("cannot listen on {addr}"))?;
        hosts.push(l.local_addr()?.to_string());
        listeners.push(l);
    }
    let site = Arc::new(Site {
        pool,
        items: args.items,
        in_flight: hosts.iter().map(|_| AtomicUsize::new(0)).collect(),
        max_in_flight: hosts.iter().map(|_| AtomicUsize::new(0)).collect(),
        hosts: hosts.clone(),
    });
    for (h, l) in listeners.into_iter().enumerate() {
        let site = site.clone();
        runtime.spawn(async move {
            while let Ok((sock, _)) = l.accept().await {
                tokio::spawn(handle(sock, site.clone(), h));
            }
        });
    }
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("follow.db");
    let config = ClientConfig {
        allow_private_addresses: true,
        ..ClientConfig::default()
    };
    let mut follower = Follower::open(
        &db,
        PipelineConfig::default(),
        config,
        Arc::new(SystemClock),
    )?;
    let now = chrono::Utc::now();
    for f in 0..args.feeds {
        let url = format!("http://{}/feed/{f}.xml", hosts[f % hosts.len()]);
        follower.store().add_feed(&url, None, now)?;
    }
    let cpu0 = cpu_seconds();
    let started = std::time::Instant::now();
    let report = runtime.block_on(follower.poll(Which::All))?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let (_, peak) = memory_mib();
    let max_per_host = site
        .max_in_flight
        .iter()
        .map(|m| m.load(Ordering::SeqCst))
        .max()
        .unwrap_or(0);
    let items = args.feeds * args.items;
    let out = serde_json::json!({
        "feeds": args.feeds, "items": items, "hosts": hosts.len(),
        "pages_fetched": report.pages_fetched, "stored": report.ingest.stored,
        "copies": report.ingest.copies, "failures": report.failures.len(),
        "seconds": seconds, "cpu_seconds": cpu, "cpu_ms_per_item": 1000.0 * cpu / items.max(1) as f64,
        "peak_rss_mib": peak, "max_concurrent_per_host": max_per_host,
        "ingest_seconds": report.ingest.seconds,
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "First full sync of {} feeds × {} items on {} hosts: {:.1} s wall, {} pages fetched, \
             {} stored ({} near-duplicates), {} failures.\nCPU {:.1} s ({:.2} ms an item, \
             server included), peak RSS {:.0} MiB, at most {} requests at once on any host.",
            args.feeds,
            args.items,
            hosts.len(),
            seconds,
            report.pages_fetched,
            report.ingest.stored,
            report.ingest.copies,
            report.failures.len(),
            cpu,
            1000.0 * cpu / items.max(1) as f64,
            peak,
            max_per_host
        );
        for f in report.failures.iter().take(5) {
            eprintln!("failed: {} {:?}: {}", f.feed, f.item, f.reason);
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}
