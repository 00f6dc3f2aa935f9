//! Web pages: the article's main text, title, date and site.
//!
//! Two extractors read every page: `rs-trafilatura` (a port of trafilatura) and
//! `libreadability` (a port of Readability.js by way of readeck's Go port, the best single
//! extractor on the news sets we measure). Each text loses its page debris line by line
//! ([`clean`]), then [`choose`] compares the two and keeps one. Readability's text first
//! loses the forms and link columns its container holds beside the article, and is passed
//! over when the page names its container a side column or footer ([`structure`]).
//! Title, description and date come from [`meta`]. A `<title>` left open, which would swallow
//! the page, is closed first ([`runaway`]). Bytes become text in [`decode`], which does not trust charset declarations
//! blindly.

mod choose;
mod clean;
mod decode;
mod meta;
mod nesting;
mod not_article;
mod runaway;
mod structure;

use std::panic::catch_unwind;
use std::path::Path;

use super::{check_size, file_id, location, Record};
use crate::core::Article;
use crate::error::IngestError;
use clean::Galleries;

pub use decode::DecodeError;
pub use not_article::NotArticle;

/// Pages nested deeper than this are flattened before parsing: no real page comes close
/// (the dev set's deepest is a few dozen), and the DOM libraries recurse per level, so a
/// hostile 100 000-level page would otherwise overflow the stack.
pub const MAX_NESTING: usize = 512;

/// Why a page gave no article.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtractError {
    #[error("{0}")]
    Decode(#[from] DecodeError),
    #[error("no article text found in the page")]
    NoText,
    /// The page's text is a consent wall, a paywall teaser or an error page.
    #[error("the page is {0}, not the article")]
    NotArticle(NotArticle),
}

pub(super) fn parse(bytes: &[u8], path: &Path) -> Result<Record, IngestError> {
    let article = extract_page(bytes, &file_id(path))
        .map_err(|e| IngestError::new(path, None, e.to_string()))?;
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

/// Extracts one article from a page's bytes: the text the store keeps (debris lines
/// removed), with title, publication date, site, URL and language where the page states them.
pub fn extract_page(bytes: &[u8], id: &str) -> Result<Article, ExtractError> {
    // The HTML parsers log every tag-soup quirk they recover from ("foster parenting not
    // implemented") as a warning, several per news page: noise to the user, so muted here.
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), || {
        extract_quietly(bytes, id)
    })
}

fn extract_quietly(bytes: &[u8], id: &str) -> Result<Article, ExtractError> {
    let (html, _encoding) = decode::decode_page(bytes)?;
    let html = runaway::close_runaway_title(&html);
    let html = nesting::limit_nesting(&html, MAX_NESTING);
    let page = dom_query::Document::from(html.as_ref());
    let page_meta = meta::page_meta_of(&page);

    // The extractor crates are large and not ours; one of them panicking on a strange page
    // must cost that page only, never the run.
    let traf = catch_unwind(|| rs_trafilatura::extract_with_options(&html, &traf_options()))
        .ok()
        .and_then(Result::ok);
    let (readable, readable_html) = catch_unwind(|| libreadability::extract(&html, None))
        .ok()
        .and_then(Result::ok)
        .map(|a| (a.text_content, a.content))
        .unwrap_or_default();
    // Readability's container can hold a blog's link columns and comment form beside the post.
    let about = [page_meta.title.as_deref(), page_meta.description.as_deref()];
    let container = dom_query::Document::from(readable_html.as_str());
    let readable = structure::drop_off_article_blocks(&readable, &container, &about);
    let traf_text = traf.as_ref().map(|r| r.content_text.as_str()).unwrap_or("");
    // Each candidate is judged as the store would keep it, debris lines removed.
    let title = page_meta.title.as_deref();
    let (traf_clean, readable_clean) = (
        clean::clean(traf_text, title, Galleries::Drop),
        clean::clean(&readable, title, Galleries::Drop),
    );
    // Readability took a box the page names as a side column: trafilatura's text, if any.
    let chosen = if !traf_clean.is_empty() && structure::in_side_column(&page, &container) {
        traf_clean.as_str()
    } else {
        choose::choose(&traf_clean, &readable_clean, &about)
    };
    // Both empty (a page of captions only): Readability's captions, if a gallery.
    let raw = if !chosen.is_empty() && std::ptr::eq(chosen, traf_clean.as_str()) {
        traf_text
    } else {
        readable.as_str()
    };
    let text = clean::clean(raw, title, Galleries::Keep);
    if text.is_empty() {
        return Err(ExtractError::NoText);
    }
    if let Some(kind) = not_article::detect(&text, title) {
        return Err(ExtractError::NotArticle(kind));
    }

    let nonempty = |v: Option<String>| v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let tm = traf.map(|r| r.metadata).unwrap_or_default();
    Ok(Article {
        id: id.to_string(),
        title: page_meta.title.or_else(|| nonempty(tm.title)),
        source: page_meta
            .site
            .or_else(|| nonempty(tm.sitename))
            .or_else(|| nonempty(tm.hostname)),
        url: page_meta.url.or_else(|| nonempty(tm.url)),
        published: page_meta.published,
        lang: page_meta.lang.or_else(|| nonempty(tm.language)),
        text,
    })
}

fn traf_options() -> rs_trafilatura::Options {
    rs_trafilatura::Options::default()
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
    fn consent_wall_is_reported_not_stored() {
        let page = r#"<html><head><title>Daily Bugle</title></head><body>
            <div class="consent"><h2>We value your privacy</h2>
            <p>We and our partners use cookies to store and access information on your
            device, to personalise content and to measure audiences.</p>
            <button>Accept all</button> <button>Manage preferences</button></div>
            </body></html>"#;
        let e = parse(page.as_bytes(), Path::new("wall.html")).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("wall.html: the page is a cookie-consent wall"),
            "{e}"
        );
    }

    #[test]
    fn page_without_text_is_an_error() {
        let e = parse(b"<html><body></body></html>", Path::new("e.html")).unwrap_err();
        assert!(e.to_string().starts_with("e.html: no article text"), "{e}");
    }
}
