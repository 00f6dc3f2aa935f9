//! Line-level clean-up of the chosen text: the shared debris rules of `normalize::clean`,
//! plus what only web pages carry.

use crate::normalize;

/// The article text with debris lines removed and paragraphs one per line.
pub fn clean(text: &str, title: Option<&str>) -> String {
    let text = normalize::clean(text);
    let mut lines: Vec<&str> = text.lines().collect();
    // The headline repeated as the first line is the page's title, not its text.
    if let (Some(first), Some(title)) = (lines.first(), title) {
        if same_words(first, title) {
            lines.remove(0);
        }
    }
    lines.join("\n")
}

fn same_words(a: &str, b: &str) -> bool {
    let words = |s: &str| -> Vec<String> {
        s.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    !a.is_empty() && a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_line_and_debris_go() {
        let text = "Budget passes!\n\nThe council voted.\nAdvertisement\nIt was late.";
        assert_eq!(
            clean(text, Some("Budget passes")),
            "The council voted.\nIt was late."
        );
        assert_eq!(
            clean("Budget passes soon.", Some("Budget")),
            "Budget passes soon."
        );
    }
}
