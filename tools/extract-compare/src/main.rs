//! `extract-compare DIR OUT`: runs several extractor crates on `DIR/html/<id>.html(.gz)` and
//! writes `OUT/<extractor>.jsonl` with `{"id","articleBody"}` (or `{"id","error"}`) per page.
//! Scoring is left to `storyline eval extract DIR --predictions OUT/<extractor>.jsonl`, so
//! every extractor is measured by the one scorer.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

type Extractor = fn(&str) -> Result<String, String>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: extract-compare DIR OUT".into());
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out)?;
    let pages = load_pages(&Path::new(dir).join("html"))?;
    let extractors: [(&str, Extractor); 6] = [
        ("rs_trafilatura", rs_trafilatura_default),
        ("rs_trafilatura_precision", rs_trafilatura_precision),
        ("rs_trafilatura_recall", rs_trafilatura_recall),
        ("dom_smoothie", dom_smoothie),
        ("readabilityrs", readabilityrs),
        ("libreadability", libreadability),
    ];
    let mut extractors = extractors.to_vec();
    extractors.push(("legible", legible));
    for (name, f) in extractors {
        let started = Instant::now();
        let mut w =
            std::io::BufWriter::new(std::fs::File::create(out.join(format!("{name}.jsonl")))?);
        let mut failed = 0;
        for (id, html) in &pages {
            // Some crates panic on odd pages; a panic counts as a failure for that page.
            let r = std::panic::catch_unwind(|| f(html))
                .unwrap_or_else(|_| Err("panicked".to_string()));
            let line = match r {
                Ok(text) => serde_json::json!({ "id": id, "articleBody": text }),
                Err(e) => {
                    failed += 1;
                    serde_json::json!({ "id": id, "error": e })
                }
            };
            writeln!(w, "{line}")?;
        }
        w.flush()?;
        eprintln!(
            "{name}: {} pages, {failed} failed, {:.2}s",
            pages.len(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

/// Every page, gunzipped and decoded by the same charset sniffing (rs-trafilatura's), so
/// the extractors differ only in extraction.
fn load_pages(dir: &Path) -> Result<Vec<(String, String)>, Box<dyn std::error::Error>> {
    let mut pages = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some(id) = name.split('.').next() else {
            continue;
        };
        let raw = std::fs::read(&path)?;
        let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out)?;
            out
        } else {
            raw
        };
        pages.push((
            id.to_string(),
            rs_trafilatura::encoding::transcode_to_utf8(&bytes),
        ));
    }
    Ok(pages)
}

fn rs_trafilatura_with(html: &str, o: rs_trafilatura::Options) -> Result<String, String> {
    rs_trafilatura::extract_with_options(html, &o)
        .map(|r| r.content_text)
        .map_err(|e| e.to_string())
}

fn rs_trafilatura_default(html: &str) -> Result<String, String> {
    rs_trafilatura_with(html, rs_trafilatura::Options::default())
}

fn rs_trafilatura_precision(html: &str) -> Result<String, String> {
    let o = rs_trafilatura::Options {
        favor_precision: true,
        ..Default::default()
    };
    rs_trafilatura_with(html, o)
}

fn rs_trafilatura_recall(html: &str) -> Result<String, String> {
    let o = rs_trafilatura::Options {
        favor_recall: true,
        ..Default::default()
    };
    rs_trafilatura_with(html, o)
}

fn dom_smoothie(html: &str) -> Result<String, String> {
    let mut r = dom_smoothie::Readability::new(html, None, None).map_err(|e| e.to_string())?;
    r.parse()
        .map(|a| a.text_content.to_string())
        .map_err(|e| e.to_string())
}

fn readabilityrs(html: &str) -> Result<String, String> {
    let r = readabilityrs::Readability::new(html, None, None).map_err(|e| e.to_string())?;
    r.parse()
        .and_then(|a| a.text_content)
        .ok_or_else(|| "no article".to_string())
}

fn libreadability(html: &str) -> Result<String, String> {
    libreadability::extract(html, None)
        .map(|a| a.text_content)
        .map_err(|e| e.to_string())
}

fn legible(html: &str) -> Result<String, String> {
    legible::parse(html, None, None)
        .map(|a| a.text_content)
        .map_err(|e| e.to_string())
}
