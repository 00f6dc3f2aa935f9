//! Removes page debris that survives extraction ("Advertisement", share prompts, newsletter
//! nags) and normalises white space. Only whole short lines are dropped: a real sentence that
//! happens to contain "advertisement" stays.

/// Lines that are debris whatever else they say, compared after lower-casing and trimming
/// punctuation. "advertisment" is a real misspelling seen in scraped pages.
const DEBRIS_LINES: &[&str] = &[
    "advertisement",
    "advertisment",
    "advertising",
    "ad",
    "ads",
    "sponsored",
    "sponsored content",
    "story continues below advertisement",
    "article continues below advertisement",
    "continue reading",
    "continue reading below",
    "read more",
    "read next",
    "related",
    "related articles",
    "related stories",
    "related content",
    "more on this story",
    "share",
    "share this",
    "share this article",
    "share this story",
    "tweet",
    "email",
    "print",
    "comments",
    "skip to content",
    "skip to main content",
    "subscribe",
    "image",
    "photo",
    "video",
    "loading",
    "loading...",
    "back to top",
];

/// Prefixes that mark a short line as debris.
const DEBRIS_PREFIXES: &[&str] = &[
    "advertisement",
    "click here",
    "sign up for",
    "sign up to",
    "subscribe to",
    "follow us on",
    "share on",
    "share this",
    "read more:",
    "read more at",
    "related:",
    "see also:",
    "all rights reserved",
    "copyright ©",
    "©",
    "we use cookies",
    "this site uses cookies",
    "by continuing to use",
    "download our app",
    "get the latest",
];

/// Short lines only: a long line starting "Follow us on…" is probably a real sentence.
const MAX_DEBRIS_WORDS: usize = 14;

/// The text with debris lines removed, white space collapsed inside lines, and paragraphs
/// separated by a single `\n`.
pub fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        // Written in place and taken back if it is debris: most lines are kept, and a
        // string per line was a copy of every article.
        let kept = out.len();
        if !out.is_empty() {
            out.push('\n');
        }
        let start = out.len();
        let words = push_collapsed(&mut out, line);
        if words == 0 || is_debris(&out[start..], words) {
            out.truncate(kept);
        }
    }
    out
}

/// Appends `line` with its white space collapsed to single spaces and trimmed; returns its
/// number of words.
fn push_collapsed(out: &mut String, line: &str) -> usize {
    let mut words = 0;
    if line.is_ascii() {
        // Nearly every line: split on bytes instead of decoding every character. These are
        // the ASCII characters `char::is_whitespace` accepts (vertical tab included).
        let ws = |b: &u8| matches!(b, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
        let bytes = line.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if ws(&bytes[i]) {
                i += 1;
                continue;
            }
            let end = bytes[i..]
                .iter()
                .position(ws)
                .map_or(bytes.len(), |n| i + n);
            if words > 0 {
                out.push(' ');
            }
            out.push_str(&line[i..end]);
            words += 1;
            i = end;
        }
        return words;
    }
    for word in line.split_whitespace() {
        if words > 0 {
            out.push(' ');
        }
        out.push_str(word);
        words += 1;
    }
    words
}

/// Words in a part of a collapsed line, where a single space is the only white space.
fn collapsed_words(part: &str) -> usize {
    part.split(' ').filter(|w| !w.is_empty()).count()
}

/// Words of the longest entry of `DEBRIS_LINES`.
const MAX_DEBRIS_LINE_WORDS: usize = 4;

/// What a line is compared with `DEBRIS_LINES` by: without the punctuation around it.
fn debris_key(line: &str) -> &str {
    line.trim_matches(|c: char| !c.is_alphanumeric() && c != '©' && c != ':')
        .trim_end_matches(':')
}

/// Whether a collapsed line of `words` words is debris.
fn is_debris(line: &str, words: usize) -> bool {
    let long = words > MAX_DEBRIS_WORDS;
    // A long line (nearly every paragraph) can only be a whole debris line, and those are
    // a few words: decide without lower-casing it.
    if long && collapsed_words(debris_key(line)) > MAX_DEBRIS_LINE_WORDS {
        return false;
    }
    let lower = line.to_lowercase();
    if DEBRIS_LINES.contains(&debris_key(&lower)) {
        return true;
    }
    if long {
        return false;
    }
    let lower = lower.trim_start();
    if DEBRIS_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // A line of only punctuation or symbols (separators like "* * *").
    !line.chars().any(char::is_alphanumeric)
}

/// Splits a text that opens with a line holding only a web address into that address and
/// the rest, when there is a rest (ECB+'s articles open with theirs). Such a line is the
/// article's address pasted above it, not prose: kept, its words made articles from one
/// site look alike and it came out as a "sentence" of summaries and timelines. Only the
/// opening line: inside a page, a link on a line of its own can be part of the article.
pub fn split_leading_web_address(text: &str) -> Option<(String, &str)> {
    let body = text.trim_start();
    // Runs for every article: most are turned away here, before their first line is read.
    if !body
        .get(..4)
        .is_some_and(|h| h.eq_ignore_ascii_case("http"))
    {
        return None;
    }
    let start = text.len() - body.len();
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let address = web_address(&text[start..end])?;
    let rest = &text[end..];
    (!rest.trim().is_empty()).then_some((address, rest.trim_start()))
}

/// The web address a line consists of, or None when the line holds anything else. The
/// spaces a tokeniser may have put around its punctuation (ECB+ writes
/// `http : / / www . thehindu . com / news / …`) are taken out.
fn web_address(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    // Two plain words side by side are prose: a sentence that opens with an address.
    let plain = |w: &str| w.bytes().all(|b| b.is_ascii_alphanumeric());
    if words.windows(2).any(|w| plain(w[0]) && plain(w[1])) {
        return None;
    }
    let address = words.concat();
    let starts = |p: &str| {
        address
            .get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    let scheme = if starts("http://") {
        7
    } else if starts("https://") {
        8
    } else {
        return None;
    };
    let host = address[scheme..]
        .split(['/', '?', '#', ':'])
        .next()
        .unwrap_or_default();
    let label = |l: &str| !l.is_empty() && l.chars().all(|c| c.is_alphanumeric() || c == '-');
    (host.contains('.') && host.split('.').all(label)).then_some(address)
}

/// What [`clean_article`] made of an article's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleaned {
    /// Boilerplate removed; the text is what the article says.
    Clean,
    /// All of it looked like page debris ("Share this on:"): kept as it came, with its
    /// whitespace folded, since an article is never lost.
    DebrisOnly,
    /// Nothing at all is left.
    Empty,
}

/// The cleaning every article gets before analysis, in ingest and wherever articles are
/// read without the store (the `summarize` and `timeline` commands): an opening web
/// address becomes the url, then boilerplate goes.
pub fn clean_article(article: &mut crate::core::Article) -> Cleaned {
    if let Some((address, rest)) = split_leading_web_address(&article.text) {
        article.text = rest.to_string();
        article.url.get_or_insert(address);
    }
    let cleaned = clean(&article.text);
    if !cleaned.is_empty() {
        article.text = cleaned;
        return Cleaned::Clean;
    }
    article.text = article
        .text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if article.text.is_empty() {
        Cleaned::Empty
    } else {
        Cleaned::DebrisOnly
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_that_is_only_a_web_address_is_recognised_with_or_without_token_spaces() {
        assert_eq!(
            web_address("http : / / www . example . org / news / 2011 / a - b _ c . html")
                .as_deref(),
            Some("http://www.example.org/news/2011/a-b_c.html")
        );
        assert_eq!(
            web_address("  HTTPS://News.Example.co.uk:8080/x?id=3#top ").as_deref(),
            Some("HTTPS://News.Example.co.uk:8080/x?id=3#top")
        );
        // Prose after the address, prose that mentions one, no host, a word that is not
        // the scheme.
        assert_eq!(
            web_address("http://example.org says the minister resigned"),
            None
        );
        assert_eq!(web_address("See http://example.org for more"), None);
        assert_eq!(web_address("http : / / localhost / x"), None);
        assert_eq!(web_address("httpd.conf was changed"), None);
        assert_eq!(web_address("http"), None);
    }

    #[test]
    fn only_an_opening_address_line_with_text_after_it_is_split_off() {
        let rest = "Officials said on Monday that 23 people were rescued.\n\
            http://example.org/report\n\
            Details are at http://example.org/report, the agency said.";
        let text = format!("\n  http : / / www . example . org / a - b . html \r\n\n{rest}");
        assert_eq!(
            split_leading_web_address(&text),
            Some(("http://www.example.org/a-b.html".to_string(), rest))
        );
        // The address lines further down stay; so does an article that is only an address.
        assert_eq!(split_leading_web_address(rest), None);
        assert_eq!(
            split_leading_web_address("http://example.org/a \n \n"),
            None
        );
    }

    #[test]
    fn debris_lines_go_and_sentences_stay() {
        let text = "First paragraph  of   news.\r\n\r\nAdvertisment\n\n  ADVERTISEMENT  \n\
            Click here to subscribe!\n* * *\n\
            The advertisement campaign drew criticism from the council.\nRead more: other story";
        assert_eq!(
            clean(text),
            "First paragraph of news.\nThe advertisement campaign drew criticism from the council."
        );
    }

    #[test]
    fn ascii_and_unicode_white_space_collapse_alike() {
        // Vertical tab and form feed are white space to `char::is_whitespace`; a no-break
        // space takes the line off the ASCII path.
        let text = "\x0bOfficials\x0c said\t\ton  Monday.\x0b\nThe\u{a0}council \x0b met.";
        assert_eq!(clean(text), "Officials said on Monday.\nThe council met.");
        let mut out = String::new();
        assert_eq!(push_collapsed(&mut out, " a\x0bb \t c "), 3);
        assert_eq!(out, "a b c");
    }

    #[test]
    fn no_debris_line_has_more_words_than_the_shortcut_allows() {
        for line in DEBRIS_LINES {
            assert!(
                line.split_whitespace().count() <= MAX_DEBRIS_LINE_WORDS,
                "{line}"
            );
        }
        // A long line of separators around one debris word is still debris.
        let long = format!("{} Advertisement {}", "* ".repeat(10), "* ".repeat(10));
        assert_eq!(clean(&format!("News.\n{long}")), "News.");
    }
}
