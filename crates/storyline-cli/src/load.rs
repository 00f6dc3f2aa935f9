//! `storyline bench load`: concurrent readers of a store's biggest stories (or of searches)
//! against `serve` on loopback for a fixed time, optionally while an ingest runs into the same store; the
//! latency percentiles of the answers and every kind of failure, counted apart.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Args;
use storyline::pipeline::{Pipeline, PipelineConfig};
use storyline::store::Store;
use storyline_server::{AppState, ServerConfig};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Pages read of each story, spread evenly over its source list.
const PAGES_PER_STORY: usize = 8;

#[derive(Args)]
pub struct LoadArgs {
    /// Readers at once, each on its own kept-alive connection.
    #[arg(long, default_value_t = 50)]
    readers: usize,
    /// How long they read.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Stories read, the biggest of the store, in turn.
    #[arg(long, default_value_t = 5)]
    stories: usize,
    /// Sources (and dated timeline entries) per page read (`?limit=`).
    #[arg(long, default_value_t = 50)]
    page: usize,
    /// A file ingested into the same store while the readers read.
    #[arg(long)]
    ingest: Option<PathBuf>,
    /// Searches instead of story pages: these queries (comma-separated) in turn, as
    /// `GET /api/search?q=` (top 20 articles with snippets and top 10 stories).
    #[arg(long, value_delimiter = ',')]
    search: Vec<String>,
}

/// `text` as a query-string value: letters, digits and `-_.~` as they are, the rest escaped.
fn query_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What one reader saw.
#[derive(Default)]
struct Seen {
    /// Microseconds of each answered request, with its status.
    answers: Vec<(u64, u16)>,
    /// Requests that got no answer (connection refused, reset, malformed).
    failed: u64,
}

/// One answer's status, read whole so the connection can carry the next request.
async fn answer(conn: &mut BufReader<TcpStream>) -> Result<u16> {
    let mut line = String::new();
    conn.read_line(&mut line).await?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {line:?}"))?;
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            if k == "content-length" {
                length = v.parse().context("content-length")?;
            } else if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                chunked = true;
            }
        }
    }
    if !chunked {
        let mut body = vec![0; length];
        conn.read_exact(&mut body).await?;
        return Ok(status);
    }
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        let size = usize::from_str_radix(line.trim(), 16).context("chunk size")?;
        let mut chunk = vec![0; size + 2];
        conn.read_exact(&mut chunk).await?;
        if size == 0 {
            return Ok(status);
        }
    }
}

async fn reader(addr: std::net::SocketAddr, paths: Vec<String>, until: Instant, k: usize) -> Seen {
    let mut seen = Seen::default();
    let mut conn: Option<BufReader<TcpStream>> = None;
    let mut i = k;
    while Instant::now() < until {
        let path = &paths[i % paths.len()];
        i += 1;
        let c = match conn.take() {
            Some(c) => c,
            None => match TcpStream::connect(addr).await {
                Ok(s) => BufReader::new(s),
                Err(_) => {
                    seen.failed += 1;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        let mut c = c;
        let started = Instant::now();
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let done = async {
            c.get_mut().write_all(request.as_bytes()).await?;
            answer(&mut c).await
        }
        .await;
        match done {
            Ok(status) => {
                seen.answers
                    .push((started.elapsed().as_micros() as u64, status));
                conn = Some(c);
            }
            Err(_) => seen.failed += 1,
        }
    }
    seen
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

pub fn run(db: &Path, args: &LoadArgs, json: bool) -> Result<std::process::ExitCode> {
    if !storyline::store::Store::is_url(db) && !db.exists() {
        bail!("no store at {}", db.display());
    }
    let mut stories = Store::open(db)?.stories(usize::MAX >> 1, 0)?;
    stories.sort_by(|a, b| b.n_articles.cmp(&a.n_articles).then(a.id.cmp(&b.id)));
    stories.truncate(args.stories.max(1));
    if stories.is_empty() {
        bail!("{} holds no story to read", db.display());
    }
    // Pages from all along each story's source list, not only its first: a reader of a
    // big story pages through it.
    let page = args.page.max(1);
    let searches: Vec<String> = args
        .search
        .iter()
        .filter(|q| !q.trim().is_empty())
        .map(|q| format!("/api/search?q={}", query_value(q.trim())))
        .collect();
    let paths: Vec<String> = if !searches.is_empty() {
        searches
    } else {
        (0..PAGES_PER_STORY)
            .flat_map(|k| {
                stories.iter().map(move |s| {
                    let offset = (s.n_articles as usize * k / PAGES_PER_STORY) / page * page;
                    format!("/api/stories/{}?offset={offset}&limit={page}", s.id)
                })
            })
            .collect()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let state = AppState::open(ServerConfig::new(db))?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    runtime.spawn(storyline_server::serve(state, listener));
    let ingest = args.ingest.clone().map(|file| {
        let db = db.to_path_buf();
        std::thread::spawn(move || -> Result<(usize, f64)> {
            let mut p = Pipeline::open(&db, PipelineConfig::default())?;
            let report = p.ingest(storyline::ingest::read_path(&file, None), |_| {})?;
            Ok((report.stored, report.seconds))
        })
    });
    let until = Instant::now() + Duration::from_secs(args.seconds);
    let seen: Vec<Seen> = runtime.block_on(async {
        let tasks: Vec<_> = (0..args.readers.max(1))
            .map(|k| tokio::spawn(reader(addr, paths.clone(), until, k)))
            .collect();
        let mut all = Vec::new();
        for t in tasks {
            all.push(t.await.unwrap_or_default());
        }
        all
    });
    let ingested = match ingest {
        Some(t) => Some(
            t.join()
                .map_err(|_| anyhow::anyhow!("the ingest thread panicked"))??,
        ),
        None => None,
    };
    let mut ok: Vec<u64> = Vec::new();
    let (mut busy, mut other_5xx, mut other, mut failed) = (0u64, 0u64, 0u64, 0u64);
    for s in &seen {
        failed += s.failed;
        for &(us, status) in &s.answers {
            match status {
                200..=299 | 304 => ok.push(us),
                503 => busy += 1,
                500..=599 => other_5xx += 1,
                _ => other += 1,
            }
        }
    }
    ok.sort_unstable();
    let total = ok.len() as u64 + busy + other_5xx + other + failed;
    let out = serde_json::json!({
        "readers": args.readers, "seconds": args.seconds,
        "stories": stories.iter().map(|s| serde_json::json!({"id": s.id, "n_articles": s.n_articles})).collect::<Vec<_>>(),
        "requests": total, "ok": ok.len(),
        "ok_per_second": ok.len() as f64 / args.seconds.max(1) as f64,
        "searches": args.search,
        "p50_ms": percentile(&ok, 0.50), "p95_ms": percentile(&ok, 0.95), "p99_ms": percentile(&ok, 0.99),
        "busy_503": busy, "busy_503_share": busy as f64 / total.max(1) as f64,
        "other_5xx": other_5xx, "other_status": other, "no_answer": failed,
        "ingested": ingested.map(|(n, s)| serde_json::json!({"articles": n, "seconds": s})),
    });
    if json {
        crate::print::json(&out)?;
    } else {
        println!(
            "{} readers, {} s, stories {}: {} requests, {} ok; p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms; \
             503 {} ({:.2} %), other 5xx {}, other status {}, no answer {}",
            args.readers,
            args.seconds,
            stories
                .iter()
                .map(|s| s.id.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            total,
            ok.len(),
            percentile(&ok, 0.50),
            percentile(&ok, 0.95),
            percentile(&ok, 0.99),
            busy,
            100.0 * busy as f64 / total.max(1) as f64,
            other_5xx,
            other,
            failed
        );
        if let Some((n, s)) = ingested {
            println!("ingested meanwhile: {n} articles in {s:.1} s");
        }
    }
    Ok(std::process::ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_escaped_for_the_query_string() {
        assert_eq!(query_value("fire"), "fire");
        assert_eq!(
            query_value("\"prime minister\" -vote&x=1"),
            "%22prime%20minister%22%20-vote%26x%3D1"
        );
        assert_eq!(query_value("café"), "caf%C3%A9");
    }
}
