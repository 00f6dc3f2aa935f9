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
        let line = collapse_ws(line);
        if line.is_empty() || is_debris(&line) {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    out
}

fn collapse_ws(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for word in line.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

fn is_debris(line: &str) -> bool {
    let lower = line.to_lowercase();
    let key = lower.trim_matches(|c: char| !c.is_alphanumeric() && c != '©' && c != ':');
    let key = key.trim_end_matches(':');
    if DEBRIS_LINES.contains(&key) {
        return true;
    }
    if line.split_whitespace().count() > MAX_DEBRIS_WORDS {
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
}
