//! Human-readable output. JSON goes through [`json`]; everything else is for people.

use anyhow::Result;
use chrono::{DateTime, Utc};
use storyline::core::{Claim, EntityKind, Story};
use storyline::pipeline::IngestReport;
use storyline::read::{SearchResult, StoryReport};
use storyline::store::Counts;

pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn day(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "undated".to_string(),
        |t| t.format("%Y-%m-%d").to_string(),
    )
}

fn span(first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> String {
    match (first, last) {
        (Some(a), Some(b)) if a.date_naive() != b.date_naive() => {
            format!("{} – {}", day(first), day(last))
        }
        (Some(_), _) => day(first),
        _ => "undated".to_string(),
    }
}

pub fn ingest_summary(r: &IngestReport, counts: &Counts) {
    let rate = r.read as f64 / r.seconds.max(1e-9);
    println!(
        "Read {} in {:.2}s ({rate:.0}/s): {} stored, {} already stored, {}, {} skipped as bad.",
        plural(r.read, "record"),
        r.seconds,
        plural(r.stored, "new article"),
        r.already_stored,
        plural(r.copies, "near-duplicate"),
        r.errors.len()
    );
    println!(
        "Store: {} in {} and {}.",
        plural(counts.articles as usize, "article"),
        plural(counts.events as usize, "event"),
        plural(counts.stories as usize, "story")
    );
}

/// `1 story`, `2 stories`, `0 articles`, `3 batches`.
pub fn plural(n: usize, word: &str) -> String {
    match (n, word.strip_suffix('y')) {
        (1, _) => format!("1 {word}"),
        _ if word.ends_with("ch") || word.ends_with('s') => format!("{n} {word}es"),
        (_, Some(stem)) if !stem.ends_with(['a', 'e', 'o', 'u']) => format!("{n} {stem}ies"),
        _ => format!("{n} {word}s"),
    }
}

pub fn story_list(stories: &[Story]) {
    if stories.is_empty() {
        println!("No stories yet.");
        return;
    }
    for s in stories {
        println!(
            "{:>5}  {:<23}  {:>13}  {:>10}  {}",
            s.id,
            span(s.first_published, s.last_published),
            plural(s.n_articles, "article"),
            plural(s.n_events, "event"),
            s.headline
        );
    }
}

pub fn search(r: &SearchResult) {
    if r.total == 0 {
        println!("Nothing matches {:?}.", r.query);
        return;
    }
    let verb = if r.total == 1 { "matches" } else { "match" };
    println!(
        "{} {verb} {:?}.",
        plural(r.total as usize, "article"),
        r.query
    );
    println!("\nStories (`storyline show ID`):");
    for s in &r.stories {
        println!("{:>5}  {:>4} matching  {}", s.story, s.hits, s.headline);
    }
    println!("\nArticles:");
    for h in &r.articles {
        let a = &h.article;
        let snippet: String = h
            .snippet
            .iter()
            .map(|p| {
                if p.hit {
                    format!("*{}*", p.text)
                } else {
                    p.text.clone()
                }
            })
            .collect();
        println!(
            "  {}  story {}  {}  {}",
            a.id,
            a.story,
            day(a.published),
            a.title.as_deref().or(a.source.as_deref()).unwrap_or("")
        );
        println!("      {}", snippet.replace('\n', " "));
    }
}

fn numbers(sources: &[usize]) -> String {
    sources.iter().map(|n| format!("[{n}]")).collect()
}

fn cites(c: &Claim) -> String {
    c.citations.iter().map(|n| format!("[{n}]")).collect()
}

pub fn story(r: &StoryReport) {
    let s = &r.story;
    println!("Story {}: {}", s.id, s.headline);
    let undated = r.undated;
    println!(
        "{} · {}, {} · {} undated",
        span(s.first_published, s.last_published),
        plural(s.n_articles, "article"),
        plural(s.n_events, "event"),
        undated
    );
    println!("\nSummary");
    for c in &r.summary {
        println!("  {} {}", c.text, cites(c));
    }
    println!("\nTimeline");
    for e in &r.timeline.dated {
        for c in &e.sentences {
            println!("  {}  {} {}", e.date, c.text, cites(c));
        }
    }
    for c in &r.timeline.undated {
        // An undated entry cites its own article; dated sources that say much the same are
        // named as such, so no date is lent to it by citation.
        let dated_n = |n: &usize| {
            r.cited
                .iter()
                .chain(&r.sources)
                .find(|x| x.n == *n)
                .is_some_and(|x| x.published.is_some())
        };
        let own: Vec<usize> = c
            .citations
            .iter()
            .copied()
            .filter(|n| !dated_n(n))
            .collect();
        let dated: Vec<usize> = c.citations.iter().copied().filter(dated_n).collect();
        let placed = r.placements.iter().find(|p| p.article == c.article);
        let when = match placed.map(|p| (p.after, p.before)) {
            Some((Some(a), Some(b))) => format!("undated, between {a} and {b}"),
            Some((Some(a), None)) => format!("undated, after {a}"),
            Some((None, Some(b))) => format!("undated, before {b}"),
            _ => "undated".to_string(),
        };
        let mut line = format!("  {when}: {} {}", c.text, numbers(&own));
        if !dated.is_empty() {
            line.push_str(&format!(
                " (dated sources say much the same: {})",
                numbers(&dated)
            ));
        }
        println!("{line}");
    }
    for p in &r.placements {
        for b in &p.evidence {
            println!("      why [{}]: {}", p.source, b.reason);
            for q in &b.quotes {
                println!("        {} {}", q.text, cites(q));
            }
        }
    }
    for (kind, label) in [
        (EntityKind::Person, "People"),
        (EntityKind::Organization, "Organisations"),
        (EntityKind::Place, "Places"),
    ] {
        let names: Vec<String> = r
            .entities
            .iter()
            .filter(|e| e.kind == kind)
            .take(10)
            .map(|e| format!("{} ({})", e.name, e.mentions))
            .collect();
        if !names.is_empty() {
            println!("\n{label}: {}", names.join(", "));
        }
    }
    let multi_event = r.facts.len() > 1;
    for ev in &r.facts {
        if ev.agreed.is_empty() && ev.conflicts.is_empty() && ev.single_source.is_empty() {
            continue;
        }
        let suffix = if multi_event {
            format!(" (event {})", ev.event)
        } else {
            String::new()
        };
        if !ev.conflicts.is_empty() {
            println!("\nWhere sources differ{suffix}");
            for g in &ev.conflicts {
                let values: Vec<String> = g
                    .values
                    .iter()
                    .map(|v| format!("{} {}", v.text, numbers(&v.sources)))
                    .collect();
                println!("  {}: {}", g.subject, values.join(" vs "));
            }
        }
        if !ev.agreed.is_empty() {
            println!("\nNumbers several sources give{suffix}");
            for g in ev.agreed.iter().take(8) {
                let v = &g.values[0];
                println!("  {} {}", v.text, numbers(&v.sources));
            }
        }
        if !ev.single_source.is_empty() {
            println!("\nNumbers only one source gives{suffix}");
            for g in ev.single_source.iter().take(8) {
                let v = &g.values[0];
                println!("  {} {}", v.text, numbers(&v.sources));
            }
        }
    }
    let multi_event = r.statements.len() > 1;
    for ev in &r.statements {
        let suffix = if multi_event {
            format!(" (event {})", ev.event)
        } else {
            String::new()
        };
        if !ev.agreed.is_empty() {
            println!(
                "\nWhat the sources agree on{suffix}: {}",
                plural(ev.n_agreed, "statement")
            );
            for st in ev.agreed.iter().take(8) {
                let mut line = format!("  {} {}", st.text, numbers(&st.sources));
                if !st.copies.is_empty() {
                    line.push_str(&format!(" (copies: {})", numbers(&st.copies)));
                }
                println!("{line}");
                for q in st.quotes.iter().filter(|q| q.text != st.text) {
                    println!("      {} {}", q.text, cites(q));
                }
            }
        }
        if ev.n_differ > 0 {
            println!(
                "\nWhere sources tell it differently{suffix}: {}",
                plural(ev.n_differ, "statement")
            );
            for d in &ev.differ {
                let values: Vec<String> = d
                    .values
                    .iter()
                    .map(|v| format!("{} {}", v.value, cites(&v.quote)))
                    .collect();
                println!("  {}: {}", d.slot.as_str(), values.join(" vs "));
                for v in &d.values {
                    println!("      {} {}", v.quote.text, cites(&v.quote));
                }
            }
        }
        if ev.n_single_source > 0 {
            println!(
                "\nWhat only one source says{suffix}: {}, the first:",
                plural(ev.n_single_source, "statement")
            );
            for st in &ev.single_source {
                println!("  {} {}", st.text, numbers(&st.sources));
            }
        }
    }
    match (r.sources.first(), r.sources.last()) {
        (Some(first), Some(last)) if r.sources.len() < r.sources_total => println!(
            "\nSources {}–{} of {} (more: --sources-offset {}, or --all-sources)",
            first.n, last.n, r.sources_total, last.n
        ),
        (None, _) if r.sources_total > 0 => println!(
            "\nSources: none on this page, {} in all (--sources-offset below {})",
            r.sources_total, r.sources_total
        ),
        _ => println!("\nSources"),
    }
    for src in &r.sources {
        let mut line = format!("  [{}] {}  {}", src.n, day(src.published), src.id);
        // Without a source name, the site of its address says where it is from.
        if let Some(name) = src.source.as_deref().or(src.url.as_deref().and_then(site)) {
            line.push_str(&format!(" · {name}"));
        }
        if let Some(t) = &src.title {
            line.push_str(&format!(" · {t}"));
        }
        if let Some(o) = src.copy_of {
            line.push_str(&format!(" (copy of [{o}])"));
        }
        println!("{line}");
    }
}

/// The site of a web address: its host without `www.`.
fn site(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#', ':']).next()?;
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then_some(host)
}
