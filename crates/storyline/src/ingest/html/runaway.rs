//! A `<title>` that is never closed. An HTML parser reads everything after `<title>` as
//! title text until `</title>`, so a page that drops or misspells the end tag (a truncated
//! template, `</titlevalue=…>`) has no body at all: every extractor then returns the page's
//! scripts and markup as text. Browsers do the same, but the article is there to be read.

use std::borrow::Cow;

/// A title this long without its end tag is the rest of the page, not a title.
const MAX_TITLE_BYTES: usize = 2_000;

/// The page with a runaway `<title>` closed at its first line break or tag, whichever
/// comes first; every other page unchanged.
pub fn close_runaway_title(html: &str) -> Cow<'_, str> {
    let bytes = html.as_bytes();
    let Some(open) = find_tag(bytes, b"<title", 0) else {
        return Cow::Borrowed(html);
    };
    let Some(gt) = bytes[open..].iter().position(|&b| b == b'>') else {
        return Cow::Borrowed(html);
    };
    let start = open + gt + 1;
    let window = (start + MAX_TITLE_BYTES).min(bytes.len());
    if find_tag(&bytes[..window], b"</title", start).is_some() {
        return Cow::Borrowed(html);
    }
    let Some(cut) = bytes[start..].iter().position(|&b| b == b'\n' || b == b'<') else {
        return Cow::Borrowed(html);
    };
    // `start + cut` sits on an ASCII byte, so on a character boundary.
    let (head, tail) = html.split_at(start + cut);
    Cow::Owned(format!("{head}</title>{tail}"))
}

/// Where `tag` (`<name` or `</name`, lower-case) starts in `bytes` from `from`, matched
/// without regard to case and only when the name ends there (`<title>`, `<title id=…>`, not
/// `<titlebar>`, not `</titlevalue`).
fn find_tag(bytes: &[u8], tag: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + tag.len() <= bytes.len() {
        let at = i + bytes[i..].iter().position(|&b| b == b'<')?;
        let end = at + tag.len();
        if end <= bytes.len()
            && bytes[at..end].eq_ignore_ascii_case(tag)
            && bytes
                .get(end)
                .is_none_or(|&b| b == b'>' || b == b'/' || b.is_ascii_whitespace())
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_title_is_left_alone() {
        let page = "<html><head><TITLE lang=en>Budget\npasses</Title ></head><body><p>x</p>";
        assert!(matches!(close_runaway_title(page), Cow::Borrowed(_)));
        assert!(matches!(
            close_runaway_title("<p>no title</p>"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_runaway_title_is_closed_at_its_first_line() {
        let body = "<p>The council voted.</p>".repeat(200);
        let page =
            format!("<html><head><title>Budget passes</titlevalue=\"x\" -->\n</head><body>{body}");
        let fixed = close_runaway_title(&page);
        assert!(
            fixed.starts_with("<html><head><title>Budget passes</title></titlevalue"),
            "{fixed}"
        );
        assert!(fixed.ends_with(&body));
        let page = format!("<title>Budget passes (The Times)x = 1;\n</script></head>{body}");
        assert!(close_runaway_title(&page)
            .starts_with("<title>Budget passes (The Times)x = 1;</title>\n</script>"));
    }
}
