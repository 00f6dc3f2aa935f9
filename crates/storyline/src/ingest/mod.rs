//! Readers that turn input files and streams into [`Record`]s: one file per format.
//!
//! Readers only parse. They do not clean text (that is `normalize`), touch the store, or
//! decide whether an article was seen before. A bad record becomes an [`IngestError`] naming
//! the file and line, and reading goes on with the next record.

pub(crate) mod feed;
mod html;
mod jsonl;
pub mod language;
mod text;

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use crate::core::Article;
use crate::error::{IngestError, Location};

pub use html::{extract_page, read_page_bytes};

/// Articles larger than this are refused: no news article is 8 MiB of text, and the limit
/// keeps a stray binary or log file from swamping memory.
pub const MAX_ARTICLE_BYTES: usize = 8 << 20;

/// An article as read, with where it came from and any problems that did not stop reading.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub article: Article,
    pub origin: Location,
    pub warnings: Vec<String>,
}

/// Input formats storyline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Plain text; an optional leading `date YYYY-MM-DD`; the file name is the id.
    Text,
    /// One JSON article per line (see `../shared/data/README.md`).
    Jsonl,
    /// A web page (`.html`, `.htm`, optionally gzipped).
    Html,
    /// An RSS or Atom feed: one article per item.
    Feed,
}

/// The file endings storyline reads as articles, for messages.
pub const KNOWN_EXTENSIONS: &str =
    ".txt, .text, .jsonl, .ndjson, .json, .html, .htm, .xhtml, .rss, .atom, .xml, .feed (each also .gz)";

impl Format {
    /// The format a file's name says it holds, if it names one of [`KNOWN_EXTENSIONS`].
    pub fn from_name(path: &Path) -> Option<Format> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        let name = name.strip_suffix(".gz").unwrap_or(&name);
        let ext = name.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
        match ext {
            "jsonl" | "ndjson" | "json" => Some(Format::Jsonl),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "rss" | "atom" | "xml" | "feed" => Some(Format::Feed),
            "txt" | "text" => Some(Format::Text),
            _ => None,
        }
    }

    /// Guesses the format from the file name, then from the first bytes.
    pub fn detect(path: &Path, head: &[u8]) -> Format {
        if let Some(f) = Format::from_name(path) {
            return f;
        }
        let head = String::from_utf8_lossy(&head[..head.len().min(512)]).to_lowercase();
        let head = head.trim_start_matches('\u{feff}').trim_start();
        if head.starts_with('{') {
            Format::Jsonl
        } else if head.starts_with("<rss") || head.starts_with("<feed") || head.contains("<rss") {
            Format::Feed
        } else if head.starts_with("<?xml") {
            if head.contains("<html") {
                Format::Html
            } else {
                Format::Feed
            }
        } else if head.starts_with("<!doctype html") || head.starts_with("<html") {
            Format::Html
        } else {
            Format::Text
        }
    }
}

/// Every file under `paths` (folders recursively, in name order; hidden files skipped), or
/// standard input for `-`.
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, IngestError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            out.push(path.clone());
            continue;
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| IngestError::new(path, None, format!("cannot open: {e}")))?;
        if meta.is_dir() {
            walk(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), IngestError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| IngestError::new(dir, None, format!("cannot list folder: {e}")))?;
    let mut children: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| !n.to_string_lossy().starts_with('.'))
        })
        .collect();
    children.sort();
    for child in children {
        if child.is_dir() {
            walk(&child, out)?;
        } else {
            out.push(child);
        }
    }
    Ok(())
}

/// Reads one file (or `-` for standard input, as JSONL unless `format` says otherwise) and
/// yields its records lazily, so a large JSONL stream is never held in memory whole.
pub fn read_path(
    path: &Path,
    format: Option<Format>,
) -> Box<dyn Iterator<Item = Result<Record, IngestError>> + Send> {
    if path.as_os_str() == "-" {
        let stdin = BufReader::new(std::io::stdin());
        return read_stream(stdin, Path::new("<stdin>"), format.unwrap_or(Format::Jsonl));
    }
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => return once_err(IngestError::new(path, None, format!("cannot open: {e}"))),
    };
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let format = match format {
        Some(f) => f,
        None => match reader.fill_buf() {
            Ok(head) => Format::detect(path, head),
            Err(e) => return once_err(IngestError::new(path, None, format!("cannot read: {e}"))),
        },
    };
    read_stream(reader, path, format)
}

/// Parses bytes already in memory (an upload, a fuzz input) as `format`; `name` stands in
/// for the file name in errors and ids.
pub fn parse_bytes(bytes: Vec<u8>, name: &str, format: Format) -> Vec<Result<Record, IngestError>> {
    read_stream(std::io::Cursor::new(bytes), Path::new(name), format).collect()
}

/// Reads records from any reader in a known format; `path` names the input in errors.
/// Serves in-memory inputs such as an HTTP request body.
pub fn read_stream<R: BufRead + Send + 'static>(
    reader: R,
    path: &Path,
    format: Format,
) -> Box<dyn Iterator<Item = Result<Record, IngestError>> + Send> {
    let path = path.to_path_buf();
    match format {
        Format::Jsonl => Box::new(jsonl::JsonlReader::new(reader, path)),
        Format::Text => Box::new(std::iter::once(
            read_all(reader, &path).and_then(|bytes| text::parse(&bytes, &path)),
        )),
        Format::Html => Box::new(std::iter::once(
            read_all(reader, &path).and_then(|bytes| html::parse(&bytes, &path)),
        )),
        Format::Feed => {
            match read_all(reader, &path).and_then(|bytes| feed::parse(&bytes, &path)) {
                Ok(records) => Box::new(records.into_iter()),
                Err(e) => once_err(e),
            }
        }
    }
}

fn once_err(e: IngestError) -> Box<dyn Iterator<Item = Result<Record, IngestError>> + Send> {
    Box::new(std::iter::once(Err(e)))
}

/// Reads a whole (single-article) file, refusing anything over the size limit; gzip is
/// undone when the file is gzipped.
fn read_all<R: Read>(reader: R, path: &Path) -> Result<Vec<u8>, IngestError> {
    // Feeds hold many articles; allow them more room than one article.
    let limit = (MAX_ARTICLE_BYTES * 8) as u64;
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| IngestError::new(path, None, format!("cannot read: {e}")))?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| IngestError::new(path, None, format!("bad gzip data: {e}")))?;
        bytes = out;
    }
    if bytes.len() as u64 > limit {
        return Err(IngestError::new(
            path,
            None,
            format!("file is larger than the {} MiB limit", limit >> 20),
        ));
    }
    Ok(bytes)
}

/// Decodes text that should be UTF-8. Stray invalid bytes are replaced; a file that is mostly
/// not text (a binary) is refused.
fn decode_text(bytes: &[u8], path: &Path, line: Option<usize>) -> Result<String, IngestError> {
    if bytes.contains(&0) {
        return Err(IngestError::new(
            path,
            line,
            "binary data (NUL bytes), not text",
        ));
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(_) => {
            // Legacy text (Latin-1, Windows-1252, …) is common in old archives: guess the
            // encoding rather than lose the article. Binary junk decodes to control
            // characters and is refused.
            let mut detector =
                chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
            detector.feed(bytes, true);
            let (text, _, _) = detector
                .guess(None, chardetng::Utf8Detection::Allow)
                .decode(bytes);
            let control = text
                .chars()
                .filter(|c| {
                    (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || *c == '\u{fffd}'
                })
                .count();
            if control * 20 > text.chars().count().max(1) {
                Err(IngestError::new(path, line, "binary data, not text"))
            } else {
                Ok(text.into_owned())
            }
        }
    }
}

/// The id for a file-based article: its file name without extensions.
fn file_id(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut id = name.as_str();
    for ext in [".gz", ".html", ".htm", ".xhtml", ".txt", ".text"] {
        if let Some(stripped) = id.strip_suffix(ext) {
            id = stripped;
        }
    }
    id.to_string()
}

fn location(path: &Path, line: Option<usize>) -> Location {
    Location {
        path: path.to_path_buf(),
        line,
    }
}

fn check_size(text: &str, path: &Path, line: Option<usize>) -> Result<(), IngestError> {
    if text.len() > MAX_ARTICLE_BYTES {
        return Err(IngestError::new(
            path,
            line,
            format!(
                "article text is {} MiB, over the {} MiB limit",
                text.len() >> 20,
                MAX_ARTICLE_BYTES >> 20
            ),
        ));
    }
    if text.trim().is_empty() {
        return Err(IngestError::new(path, line, "article has no text"));
    }
    Ok(())
}

/// Parses the publication dates found in feeds and JSONL: RFC 3339, RFC 2822, a bare
/// `YYYY-MM-DD`, or a date and time without zone (taken as UTC).
pub fn parse_published(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_formats_by_name_then_content() {
        let p = |s: &str| PathBuf::from(s);
        assert_eq!(Format::detect(&p("a.jsonl"), b""), Format::Jsonl);
        assert_eq!(Format::detect(&p("a.html.gz"), b""), Format::Html);
        assert_eq!(Format::detect(&p("a.rss"), b""), Format::Feed);
        assert_eq!(Format::detect(&p("a"), b"{\"id\":1}"), Format::Jsonl);
        assert_eq!(
            Format::detect(&p("a"), b"<?xml version='1.0'?><rss>"),
            Format::Feed
        );
        assert_eq!(
            Format::detect(&p("a"), b"<!DOCTYPE html><html>"),
            Format::Html
        );
        assert_eq!(
            Format::detect(&p("a"), b" date 2024-01-01 Text"),
            Format::Text
        );
    }

    #[test]
    fn file_id_drops_extensions() {
        assert_eq!(file_id(Path::new("x/000_ab.txt")), "000_ab");
        assert_eq!(file_id(Path::new("x/page.html.gz")), "page");
    }

    #[test]
    fn binary_is_refused_and_stray_bytes_are_replaced() {
        let p = Path::new("f");
        assert!(decode_text(b"ab\0cd", p, None).is_err());
        let junk: Vec<u8> = (1..=255u8).cycle().take(600).collect();
        assert!(decode_text(&junk, p, None).is_err());
        let latin1 = b"caf\xe9 cr\xe8me br\xfbl\xe9e for the d\xe9l\xe9gation";
        assert_eq!(
            decode_text(latin1, p, None).unwrap(),
            "café crème brûlée for the délégation"
        );
    }
}
