//! A fetched feed (RSS 2.0, RSS 1.0, Atom, JSON Feed) read into items: what each item says
//! about itself, before anyone decides whether it is new.

use chrono::{DateTime, Utc};

use super::FollowError;
use crate::ingest::feed::html_to_text;

/// Words an item's own content must have to count as the full article: below this it is a
/// teaser ("Read more…") and the linked page is fetched instead.
pub const FULL_TEXT_MIN_WORDS: usize = 80;

/// A parsed feed.
#[derive(Debug, Clone)]
pub struct FeedDoc {
    pub title: Option<String>,
    /// The site the feed belongs to (its `link`), if it names one.
    pub site: Option<String>,
    pub items: Vec<FeedItem>,
}

/// One item of a feed, as the feed tells it.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// The item's own id (`guid`, Atom `id`, JSON `id`), when it has one.
    pub guid: Option<String>,
    /// The article's address (absolute: relative links are resolved against the feed).
    pub link: Option<String>,
    pub title: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub lang: Option<String>,
    /// The article's text when the item carries it whole (`content:encoded`, Atom
    /// `content`, JSON `content_html`/`content_text`) and it is long enough to be the article.
    pub full_text: Option<String>,
    /// The item's summary or short content, as text: the fallback when no page is fetched.
    pub summary: Option<String>,
    /// A hash of what the item says (title and text): when it changes, the report was
    /// corrected or updated.
    pub content_hash: String,
}

impl FeedItem {
    /// The key an item is known by: its guid, else its link. `None` when it has neither
    /// (such an item cannot be told apart from the next one and is skipped).
    pub fn key(&self) -> Option<&str> {
        self.guid.as_deref().or(self.link.as_deref())
    }
}

/// Reads a feed's bytes. `url` is where it was fetched from (for relative links and errors).
pub fn parse_feed(bytes: &[u8], url: &str) -> Result<FeedDoc, FollowError> {
    let bad = |reason: String| FollowError::BadFeed {
        url: url.to_string(),
        reason,
    };
    // feed-rs invents an id for an item without one; an empty one tells us it had none.
    let parser = feed_rs::parser::Builder::new()
        .base_uri(Some(url))
        .id_generator(|_, _, _| String::new())
        .build();
    // quick-xml has panicked on malformed input (see ingest/feed.rs): a bad feed is an
    // error for that feed only.
    let parsed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parser.parse(bytes)))
        .map_err(|_| bad("the feed parser gave up".into()))?;
    let feed = parsed.map_err(|e| bad(e.to_string()))?;
    let title = feed
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .filter(|t| !t.is_empty());
    let site = feed
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .map(|l| l.href.clone());
    let items = feed.entries.into_iter().map(|e| item(e, url)).collect();
    Ok(FeedDoc { title, site, items })
}

fn item(entry: feed_rs::model::Entry, feed_url: &str) -> FeedItem {
    let guid = Some(entry.id.trim().to_string()).filter(|g| !g.is_empty());
    let link = entry
        .links
        .iter()
        .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
        .or(entry.links.first())
        .map(|l| absolute(&l.href, feed_url));
    let title = entry
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .filter(|t| !t.is_empty());
    let content = entry
        .content
        .as_ref()
        .and_then(|c| c.body.as_deref())
        .map(html_to_text)
        .filter(|t| !t.is_empty());
    let summary = entry
        .summary
        .as_ref()
        .map(|s| html_to_text(&s.content))
        .filter(|t| !t.is_empty());
    let full_text = content
        .clone()
        .filter(|t| t.split_whitespace().count() >= FULL_TEXT_MIN_WORDS);
    let summary = summary.or(content);
    let content_hash = hash_hex(&[
        title.as_deref().unwrap_or(""),
        full_text.as_deref().unwrap_or(""),
        summary.as_deref().unwrap_or(""),
    ]);
    FeedItem {
        guid,
        link,
        title,
        published: entry.published.or(entry.updated),
        lang: entry.language.clone(),
        full_text,
        summary,
        content_hash,
    }
}

/// `href` made absolute against `base` (feed-rs resolves XML feeds' links itself, not
/// JSON ones).
fn absolute(href: &str, base: &str) -> String {
    let href = href.trim();
    if href.contains("://") {
        return href.to_string();
    }
    let Some(scheme_end) = base.find("://") else {
        return href.to_string();
    };
    let host_end = base[scheme_end + 3..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + 3 + i);
    if let Some(path) = href.strip_prefix('/') {
        format!("{}/{path}", &base[..host_end])
    } else {
        let dir = base[..]
            .rfind('/')
            .filter(|&i| i >= host_end)
            .unwrap_or(host_end);
        format!("{}/{href}", &base[..dir])
    }
}

/// A stable hash (FNV-1a, 64 bits) of the parts, as hex: stored, so it must not change
/// between builds the way `std`'s hasher may.
pub fn hash_hex(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(n: usize) -> String {
        (0..n).map(|i| format!("word{i} ")).collect()
    }

    #[test]
    fn rss_content_encoded_is_full_text_and_description_only_is_not() {
        let rss = format!(
            r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
            <channel><title>Wire</title><link>https://wire.example/</link>
            <item><guid>g1</guid><title>Full</title><link>/a/1</link>
              <description>Teaser.</description>
              <content:encoded><![CDATA[<p>{}</p>]]></content:encoded></item>
            <item><title>Teaser only</title><link>https://wire.example/a/2</link>
              <description>Short teaser.</description></item>
            </channel></rss>"#,
            words(100)
        );
        let doc = parse_feed(rss.as_bytes(), "https://wire.example/feed.xml").unwrap();
        assert_eq!(doc.title.as_deref(), Some("Wire"));
        let [a, b] = &doc.items[..] else {
            panic!("{:?}", doc.items)
        };
        assert_eq!(a.guid.as_deref(), Some("g1"));
        assert_eq!(a.link.as_deref(), Some("https://wire.example/a/1"));
        assert!(a.full_text.as_deref().unwrap().starts_with("word0 word1"));
        assert_eq!(b.guid, None, "no guid must not become an invented one");
        assert_eq!(b.key(), Some("https://wire.example/a/2"));
        assert_eq!(b.full_text, None);
        assert_eq!(b.summary.as_deref(), Some("Short teaser."));
        assert_ne!(a.content_hash, b.content_hash);
    }

    #[test]
    fn json_feed_and_atom_and_rss1_parse() {
        let json = format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"J","items":[
              {{"id":"j1","url":"x/1","title":"T","content_text":"{}","date_published":"2024-05-01T10:00:00Z"}}]}}"#,
            words(90)
        );
        let doc = parse_feed(json.as_bytes(), "https://j.example/feeds/f.json").unwrap();
        let it = &doc.items[0];
        assert_eq!(it.link.as_deref(), Some("https://j.example/feeds/x/1"));
        assert!(it.full_text.is_some());
        assert_eq!(
            it.published.unwrap().to_rfc3339(),
            "2024-05-01T10:00:00+00:00"
        );
        let rdf = r#"<?xml version="1.0"?>
        <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
          <channel rdf:about="https://r.example/"><title>R</title><link>https://r.example/</link></channel>
          <item rdf:about="https://r.example/1"><title>One</title><link>https://r.example/1</link>
            <description>Short.</description></item></rdf:RDF>"#;
        let doc = parse_feed(rdf.as_bytes(), "https://r.example/rss").unwrap();
        assert_eq!(doc.items[0].link.as_deref(), Some("https://r.example/1"));
    }

    #[test]
    fn malformed_feed_names_the_feed_and_the_problem() {
        let e = parse_feed(
            b"<rss><channel><item><title>x</item>",
            "https://m.example/f",
        )
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.starts_with("https://m.example/f: not a valid"), "{msg}");
    }

    #[test]
    fn changed_text_changes_the_hash() {
        let one = |text: &str| {
            let rss = format!(
                r#"<rss version="2.0"><channel><title>W</title><item><guid>g</guid><title>T</title>
                <description>{text}</description></item></channel></rss>"#
            );
            parse_feed(rss.as_bytes(), "https://w.example/f")
                .unwrap()
                .items[0]
                .content_hash
                .clone()
        };
        assert_eq!(one("Five dead."), one("Five dead."));
        assert_ne!(one("Five dead."), one("Seven dead."));
    }
}
