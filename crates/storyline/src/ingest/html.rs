//! Web pages: main text, title, date and site via `rs-trafilatura` (a port of trafilatura,
//! the best-scoring extractor on the article-extraction benchmark). It also sniffs the
//! charset, so pages in legacy encodings decode correctly.

use std::path::Path;

use super::{check_size, file_id, location, Record};
use crate::core::Article;
use crate::error::IngestError;

pub(super) fn parse(bytes: &[u8], path: &Path) -> Result<Record, IngestError> {
    let article = extract_page(bytes, &file_id(path))
        .map_err(|message| IngestError::new(path, None, message))?;
    check_size(&article.text, path, None)?;
    Ok(Record {
        article,
        origin: location(path, None),
        warnings: Vec::new(),
    })
}

/// Reads a page file (`.html` or `.html.gz`) into bytes, ready for [`extract_page`].
pub fn read_page_bytes(path: &Path) -> Result<Vec<u8>, IngestError> {
    let file = std::fs::File::open(path)
        .map_err(|e| IngestError::new(path, None, format!("cannot open: {e}")))?;
    super::read_all(file, path)
}

/// Extracts one article from a page's bytes; the error says why nothing usable was found.
pub fn extract_page(bytes: &[u8], id: &str) -> Result<Article, String> {
    let result = rs_trafilatura::extract_bytes(bytes)
        .map_err(|e| format!("no article text found in the page: {e}"))?;
    let text = result.content_text.trim().to_string();
    if text.is_empty() {
        return Err("no article text found in the page".into());
    }
    let meta = result.metadata;
    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    Ok(Article {
        id: id.to_string(),
        title: nonempty(meta.title),
        source: nonempty(meta.sitename).or_else(|| nonempty(meta.hostname)),
        url: nonempty(meta.url),
        published: meta.date,
        lang: nonempty(meta.language),
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_yields_text_title_date_and_site() {
        let body = "<p>The council voted on Tuesday to approve the new budget after a long debate \
            that ran late into the night and drew hundreds of residents.</p>"
            .repeat(4);
        let page = format!(
            r#"<!DOCTYPE html><html><head><title>Budget passes | Daily Bugle</title>
            <meta property="og:title" content="Budget passes">
            <meta property="og:site_name" content="Daily Bugle">
            <meta property="article:published_time" content="2024-05-02T10:00:00Z">
            </head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
            <article><h1>Budget passes</h1>{body}</article>
            <footer>Copyright Daily Bugle. All rights reserved.</footer></body></html>"#
        );
        let rec = parse(page.as_bytes(), Path::new("pages/budget.html")).unwrap();
        let a = rec.article;
        assert_eq!(a.id, "budget");
        assert_eq!(a.title.as_deref(), Some("Budget passes"));
        assert_eq!(a.source.as_deref(), Some("Daily Bugle"));
        assert_eq!(
            a.date().map(|d| d.to_string()).as_deref(),
            Some("2024-05-02")
        );
        assert!(a.text.contains("council voted on Tuesday"));
        assert!(!a.text.contains("All rights reserved"));
    }

    #[test]
    fn page_without_text_is_an_error() {
        let e = parse(b"<html><body></body></html>", Path::new("e.html")).unwrap_err();
        assert!(e.to_string().starts_with("e.html: no article text"), "{e}");
    }
}
