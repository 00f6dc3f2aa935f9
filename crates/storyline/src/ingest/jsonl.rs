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
            .map_err(|e| IngestError::new(path, n, explain(&line, &e)))?;
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

/// What is wrong with a line, in plain words: serde's own messages speak of its types
/// ("expected ident at line 1 column 2", "invalid type: integer"), and its line number is
/// the line's own, always 1. Only bad lines come here, so reading the line again is cheap.
fn explain(line: &str, e: &serde_json::Error) -> String {
    use serde_json::Value;
    const SHAPE: &str = r#"each line must be one article: {"id": …, "text": …}"#;
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) if e.is_eof() => {
            return format!(
                "the line ends in the middle of its JSON (a missing }} or \"?); {SHAPE}"
            )
        }
        Err(e) => {
            return format!(
                "not valid JSON (the problem is at character {}); {SHAPE}",
                e.column()
            )
        }
    };
    let Value::Object(fields) = value else {
        let what = match value {
            Value::Array(_) => "a list",
            Value::String(_) => "a piece of text",
            Value::Number(_) => "a number",
            Value::Bool(_) => "true or false",
            _ => "null",
        };
        return format!("this line is {what}, not an article; {SHAPE}");
    };
    for field in ["published", "source", "title", "url", "lang", "text"] {
        let kind = match fields.get(field) {
            None | Some(Value::String(_)) | Some(Value::Null) => continue,
            Some(Value::Number(_)) => "a number",
            Some(Value::Bool(_)) => "true or false",
            Some(Value::Array(_)) => "a list",
            Some(Value::Object(_)) => "an object",
        };
        return format!("field \"{field}\" must be text, not {kind}");
    }
    // A duplicate field is what is left that serde refuses and a JSON value allows.
    if e.is_data() {
        format!(
            "not a readable article ({}); {SHAPE}",
            e.to_string().split(" at line ").next().unwrap_or("")
        )
    } else {
        format!("not a readable article; {SHAPE}")
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
        assert!(
            bad.starts_with("in.jsonl:3: not valid JSON (the problem is at character 2)"),
            "{bad}"
        );
        assert!(out[2].as_ref().unwrap().article.published.is_none());
        let missing = out[3].as_ref().unwrap_err().to_string();
        assert!(
            missing.contains("in.jsonl:5") && missing.contains("text"),
            "{missing}"
        );
    }

    #[test]
    fn bad_lines_are_explained_in_plain_words() {
        let out = read(concat!(
            "{\"id\":\"a\",\"text\":\"cut\n",
            "[1, 2]\n",
            "{\"id\":\"b\",\"title\":5,\"text\":\"Body.\"}\n",
            "{\"id\":\"c\",\"text\":\"x\",\"text\":\"y\"}\n",
        ));
        let msgs: Vec<String> = out
            .iter()
            .map(|r| r.as_ref().unwrap_err().to_string())
            .collect();
        assert!(
            msgs[0].starts_with("in.jsonl:1: the line ends in the middle"),
            "{}",
            msgs[0]
        );
        assert!(
            msgs[1].starts_with("in.jsonl:2: this line is a list"),
            "{}",
            msgs[1]
        );
        assert_eq!(
            msgs[2],
            "in.jsonl:3: field \"title\" must be text, not a number"
        );
        assert!(
            msgs[3].starts_with("in.jsonl:4: not a readable article (duplicate field"),
            "{}",
            msgs[3]
        );
        for m in &msgs {
            for jargon in ["ident", "invalid type", "column", "line 1"] {
                assert!(!m.contains(jargon), "{m}");
            }
        }
    }

    #[test]
    fn bad_date_keeps_the_article_undated_with_a_warning() {
        let out = read("{\"id\":\"a\",\"published\":\"yesterday\",\"text\":\"Body.\"}");
        let rec = out[0].as_ref().unwrap();
        assert!(rec.article.published.is_none());
        assert!(rec.warnings[0].contains("yesterday"));
    }
}
