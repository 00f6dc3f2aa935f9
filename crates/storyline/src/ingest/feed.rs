//! RSS 2.0 / Atom / RSS 1.0 feeds via `feed-rs`: one article per item. Item bodies are HTML
//! fragments; their block elements become paragraphs.

use std::path::Path;

use super::{check_size, location, Record};
use crate::core::Article;
use crate::error::IngestError;

pub(super) fn parse(
    bytes: &[u8],
    path: &Path,
) -> Result<Vec<Result<Record, IngestError>>, IngestError> {
    if let Some(at) = misplaced_xml_declaration(bytes) {
        return Err(IngestError::new(
            path,
            None,
            format!("not a valid RSS/Atom feed: an XML declaration at byte {at}, not at the start"),
        ));
    }
    // feed-rs and quick-xml have panicked on malformed input (a fuzzer found one); a bad
    // feed must be an error for that file, never the end of the run.
    let parsed = std::panic::catch_unwind(|| feed_rs::parser::parse(bytes)).map_err(|_| {
        IngestError::new(
            path,
            None,
            "not a valid RSS/Atom feed: the feed parser gave up",
        )
    })?;
    let feed = parsed
        .map_err(|e| IngestError::new(path, None, format!("not a valid RSS/Atom feed: {e}")))?;
    let source = feed
        .title
        .as_ref()
        .map(|t| html_to_text(&t.content))
        .filter(|s| !s.is_empty());
    let records = feed
        .entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let body = entry
                .content
                .as_ref()
                .and_then(|c| c.body.clone())
                .or_else(|| entry.summary.as_ref().map(|s| s.content.clone()))
                .unwrap_or_default();
            let text = html_to_text(&body);
            let title = entry.title.as_ref().map(|t| html_to_text(&t.content));
            // A headline-only item is still news: keep its title as the text.
            let text = if text.is_empty() {
                title.clone().unwrap_or_default()
            } else {
                text
            };
            let item_loc = format!("item {}", i + 1);
            check_size(&text, path, None).map_err(|e| IngestError {
                message: format!("{item_loc}: {}", e.message),
                ..e
            })?;
            let url = entry.links.first().map(|l| l.href.clone());
            let id = if entry.id.trim().is_empty() {
                url.clone()
                    .unwrap_or_else(|| format!("{}#{}", path.display(), i + 1))
            } else {
                entry.id.clone()
            };
            Ok(Record {
                article: Article {
                    id,
                    title: title.filter(|t| !t.is_empty()),
                    source: source.clone(),
                    url,
                    published: entry.published.or(entry.updated),
                    lang: entry.language.clone(),
                    text,
                },
                origin: location(path, None),
                warnings: Vec::new(),
            })
        })
        .collect();
    Ok(records)
}

/// Text of an HTML fragment, one paragraph per block element.
pub(crate) fn html_to_text(fragment: &str) -> String {
    if !fragment.contains('<') && !fragment.contains('&') {
        return fragment.trim().to_string();
    }
    let doc = dom_query::Document::fragment(fragment);
    let blocks = doc.select("p, li, h1, h2, h3, h4, blockquote, pre");
    let texts: Vec<String> = if blocks.length() > 0 {
        blocks.iter().map(|b| b.text().trim().to_string()).collect()
    } else {
        vec![doc.root().text().trim().to_string()]
    };
    texts
        .into_iter()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where an XML declaration (`<?xml ...?>`) sits anywhere but first in the document, if it
/// does. XML allows one, only at the very start; quick-xml panics on a second one that
/// changes the encoding (found by `cargo fuzz run feed`).
fn misplaced_xml_declaration(bytes: &[u8]) -> Option<usize> {
    let start = bytes.strip_prefix(b"\xEF\xBB\xBF").map_or(0, |_| 3);
    let first = bytes[start..]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(bytes.len(), |i| start + i);
    bytes
        .windows(6)
        .enumerate()
        .filter(|(_, w)| w[..5].eq_ignore_ascii_case(b"<?xml") && w[5].is_ascii_whitespace())
        .map(|(i, _)| i)
        .find(|&i| i != first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzz_found_second_xml_declaration_is_an_error_not_a_panic() {
        // `cargo fuzz run feed` input that made quick-xml panic (set_encoding after the
        // prefix was drained).
        let bytes = include_bytes!("../../tests/fuzz-regressions/feed-crash-573a7695");
        let err = parse(bytes, Path::new("fuzz.xml")).unwrap_err();
        assert!(err.message.contains("XML declaration"), "{}", err.message);
        // A stylesheet instruction is not a declaration: such feeds still parse.
        let styled = r#"<?xml version="1.0"?>
<?xml-stylesheet type="text/xsl" href="rss.xsl"?>
<rss version="2.0"><channel><title>W</title><item><title>Quake hits coast</title></item></channel></rss>"#;
        assert_eq!(
            parse(styled.as_bytes(), Path::new("s.rss")).unwrap().len(),
            1
        );
        // A byte-order mark and blank lines may come before the declaration.
        let bom = format!("\u{feff}\n  {styled}");
        assert_eq!(parse(bom.as_bytes(), Path::new("b.rss")).unwrap().len(), 1);
    }

    #[test]
    fn rss_items_become_articles() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>
          <item><guid>g1</guid><title>Quake hits coast</title><link>http://x/1</link>
            <pubDate>Tue, 10 Mar 2014 17:32:50 GMT</pubDate>
            <description>&lt;p&gt;A strong quake struck.&lt;/p&gt;&lt;p&gt;Dozens hurt.&lt;/p&gt;</description></item>
          <item><title>Headline only</title></item>
        </channel></rss>"#;
        let recs = parse(rss.as_bytes(), Path::new("f.rss")).unwrap();
        assert_eq!(recs.len(), 2);
        let a = &recs[0].as_ref().unwrap().article;
        assert_eq!(a.id, "g1");
        assert_eq!(a.source.as_deref(), Some("Wire"));
        assert_eq!(a.text, "A strong quake struck.\nDozens hurt.");
        assert_eq!(a.date().unwrap().to_string(), "2014-03-10");
        let b = &recs[1].as_ref().unwrap().article;
        assert_eq!(b.text, "Headline only");
        assert!(b.published.is_none());
    }

    #[test]
    fn atom_entries_become_articles() {
        let atom = r#"<?xml version="1.0" encoding="utf-8"?>
        <feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title><id>urn:d</id>
          <updated>2024-01-02T00:00:00Z</updated>
          <entry><id>urn:e1</id><title>Vote held</title><updated>2024-01-02T09:00:00Z</updated>
            <content type="html">&lt;p&gt;Parliament voted.&lt;/p&gt;</content></entry></feed>"#;
        let recs = parse(atom.as_bytes(), Path::new("f.atom")).unwrap();
        let a = &recs[0].as_ref().unwrap().article;
        assert_eq!(
            (a.id.as_str(), a.text.as_str()),
            ("urn:e1", "Parliament voted.")
        );
        assert_eq!(a.date().unwrap().to_string(), "2024-01-02");
    }

    #[test]
    fn broken_feed_is_an_error_naming_the_file() {
        let e = parse(b"<rss><channel><item>", Path::new("bad.xml")).unwrap_err();
        assert!(e.to_string().starts_with("bad.xml: not a valid"), "{e}");
    }
}
