//! JSONL: one article per line, `{"id","published","source","title","url","lang","text"}`.
//! Lines are read one at a time, so a stream of any length runs in constant memory.

use std::io::BufRead;
use std::path::PathBuf;

use serde::Deserialize;

use super::{check_size, decode_text, location, parse_published, Record, MAX_ARTICLE_BYTES};
use crate::core::Article;
use crate::error::IngestError;

#[derive(Deserialize)]
struct JsonArticle {
    id: Option<serde_json::Value>,
    published: Option<String>,
    source: Option<String>,
    title: Option<String>,
    url: Option<String>,
    lang: Option<String>,
    text: Option<String>,
}

pub(super) struct JsonlReader<R> {
    reader: R,
    path: PathBuf,
    line_no: usize,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> JsonlReader<R> {
    pub(super) fn new(reader: R, path: PathBuf) -> Self {
        JsonlReader {
            reader,
            path,
            line_no: 0,
            buf: Vec::new(),
            done: false,
        }
    }

    fn parse_line(&self, line: &[u8]) -> Result<Record, IngestError> {
        let (path, n) = (&self.path, Some(self.line_no));
        if line.len() > MAX_ARTICLE_BYTES * 2 {
            return Err(IngestError::new(
                path,
                n,
                format!(
                    "line is {} MiB, over the article size limit",
                    line.len() >> 20
                ),
            ));
        }
        let line = decode_text(line, path, n)?;
        let raw: JsonArticle = serde_json::from_str(&line)
            .map_err(|e| IngestError::new(path, n, format!("malformed JSON: {e}")))?;
        let text = raw
            .text
            .ok_or_else(|| IngestError::new(path, n, "missing field \"text\""))?;
        check_size(&text, path, n)?;
        let mut warnings = Vec::new();
        let published = match raw.published.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => {
                let parsed = parse_published(s);
                if parsed.is_none() {
                    warnings.push(format!("unrecognised date {s:?}; article kept as undated"));
                }
                parsed
            }
        };
        let id = match raw.id {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s,
            Some(serde_json::Value::Number(n)) => n.to_string(),
            None | Some(serde_json::Value::Null) => {
                warnings.push("no id; one was derived from the text".into());
                format!("sha-{:016x}", crate::normalize::fingerprint(&text))
            }
            Some(other) => {
                return Err(IngestError::new(
                    path,
                    n,
                    format!("field \"id\" must be a string or number, not {other}"),
                ))
            }
        };
        let clean = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        Ok(Record {
            article: Article {
                id,
                title: clean(raw.title),
                source: clean(raw.source),
                url: clean(raw.url),
                published,
                lang: clean(raw.lang),
                text,
            },
            origin: location(path, n),
            warnings,
        })
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<Record, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            self.buf.clear();
            self.line_no += 1;
            match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => self.done = true,
                Ok(_) => {
                    let line = self.buf.trim_ascii();
                    if line.is_empty() {
                        continue;
                    }
                    let line = line.to_vec();
                    return Some(self.parse_line(&line));
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(IngestError::new(
                        &self.path,
                        Some(self.line_no),
                        format!("read error: {e}"),
                    )));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Vec<Result<Record, IngestError>> {
        JsonlReader::new(input.as_bytes(), PathBuf::from("in.jsonl")).collect()
    }

    #[test]
    fn reads_articles_and_names_bad_lines() {
        let out = read(concat!(
            "{\"id\":\"a\",\"published\":\"2014-03-10T17:32:50Z\",\"source\":\"X\",\"text\":\"Hello there.\"}\n",
            "\n",
            "{not json}\n",
            "{\"id\":\"c\",\"published\":null,\"text\":\"Undated.\"}\n",
            "{\"id\":\"d\"}\n",
        ));
        assert_eq!(out.len(), 4);
        let a = &out[0].as_ref().unwrap().article;
        assert_eq!(a.id, "a");
        assert_eq!(a.source.as_deref(), Some("X"));
        assert_eq!(
            a.published.unwrap().to_rfc3339(),
            "2014-03-10T17:32:50+00:00"
        );
        let bad = out[1].as_ref().unwrap_err().to_string();
        assert!(bad.starts_with("in.jsonl:3: malformed JSON"), "{bad}");
        assert!(out[2].as_ref().unwrap().article.published.is_none());
        let missing = out[3].as_ref().unwrap_err().to_string();
        assert!(
            missing.contains("in.jsonl:5") && missing.contains("text"),
            "{missing}"
        );
    }

    #[test]
    fn bad_date_keeps_the_article_undated_with_a_warning() {
        let out = read("{\"id\":\"a\",\"published\":\"yesterday\",\"text\":\"Body.\"}");
        let rec = out[0].as_ref().unwrap();
        assert!(rec.article.published.is_none());
        assert!(rec.warnings[0].contains("yesterday"));
    }
}
