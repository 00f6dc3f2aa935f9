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
        push_collapsed(&mut out, line);
        if out.len() == start || is_debris(&out[start..]) {
            out.truncate(kept);
        }
    }
    out
}

/// `line` with its white space collapsed to single spaces and trimmed.
fn push_collapsed(out: &mut String, line: &str) {
    for (i, word) in line.split_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// Words of the longest entry of `DEBRIS_LINES`.
const MAX_DEBRIS_LINE_WORDS: usize = 4;

/// What a line is compared with `DEBRIS_LINES` by: without the punctuation around it.
fn debris_key(line: &str) -> &str {
    line.trim_matches(|c: char| !c.is_alphanumeric() && c != '©' && c != ':')
        .trim_end_matches(':')
}

fn is_debris(line: &str) -> bool {
    let long = line.split_whitespace().count() > MAX_DEBRIS_WORDS;
    // A long line (nearly every paragraph) can only be a whole debris line, and those are
    // a few words: decide without lower-casing it.
    if long && debris_key(line).split_whitespace().count() > MAX_DEBRIS_LINE_WORDS {
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

#[cfg(test)]
mod tests {
    use super::*;

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
