//! Line-level clean-up of the chosen text: the shared debris rules of `normalize::clean`,
//! plus what only web pages carry — photo captions with credits, "you may also like" link
//! lists, tag and source lines at the end, left-over CMS shortcodes.

use crate::normalize;

/// Headings that open a block of links to other stories, compared lower-cased without
/// trailing punctuation. The block runs while its lines look like headlines.
const RELATED_HEADINGS: &[&str] = &[
    "you may also like",
    "you might also like",
    "you may also be interested in",
    "more",
    "more stories",
    "more from",
    "more news",
    "don't miss",
    "don’t miss",
    "see also",
    "recommended",
    "recommended for you",
    "related",
    "related posts",
    "related news",
    "related stories",
    "related articles",
    "related coverage",
    "read more",
    "read also",
    "also read",
    "most popular",
    "most read",
    "trending",
    "trending now",
    "further reading",
    "関連記事",
    "相关文章",
    "artículos relacionados",
    "articles connexes",
    "ähnliche artikel",
];

/// Short lines starting like this are page furniture, not article text.
const FURNITURE_PREFIXES: &[&str] = &[
    "advert",
    "updated at",
    "updated:",
    "last updated",
    "see more:",
    "read also:",
    "also read:",
    "more:",
    "tags:",
    "source:",
    "this slideshow requires javascript",
    "tell us what you think",
    "sponsored links",
    "leave a reply",
    "leave a comment",
    "you must be logged in",
    "comments are closed",
    "タグ:",
];

/// Words that mark a bracketed or parenthesised tail as a photo credit: "[File: Reuters]",
/// "(AP Photo/Jane Doe)", "(Getty Images)".
const CREDIT_WORDS: &[&str] = &[
    "photo",
    "file",
    "image",
    "credit",
    "reuters",
    "afp",
    "getty",
    "ap",
    "epa",
    "shutterstock",
    "courtesy",
    "pictured",
];

/// A line this short can be a headline in a link list or a tag at the end of the page.
const HEADLINE_MAX_WORDS: usize = 16;
/// Lines of this many words or fewer at the very end are tags, sources and ids.
const TAIL_MAX_WORDS: usize = 3;

/// The article text with debris lines removed and paragraphs one per line.
pub fn clean(text: &str, title: Option<&str>) -> String {
    let text = normalize::clean(text);
    let mut lines: Vec<&str> = Vec::new();
    let mut in_related = false;
    for line in text.lines() {
        let key = key(line);
        if RELATED_HEADINGS.contains(&key.as_str()) {
            in_related = true;
            continue;
        }
        if in_related {
            if is_headline_like(line) {
                continue;
            }
            in_related = false;
        }
        if is_furniture(line, &key)
            || is_credited_caption(line)
            || is_shortcode(line)
            || is_shouted_promo(line)
            || is_date_only(line)
        {
            continue;
        }
        lines.push(line);
    }
    // The headline repeated as the first line is the page's title, not its text.
    if let (Some(first), Some(title)) = (lines.first(), title) {
        if same_words(first, title) {
            lines.remove(0);
        }
    }
    // Tags, "SOURCE: News agencies", story ids: short lines trailing the last paragraph.
    // A short closing sentence ("It was late.") ends in punctuation and stays.
    let is_tag = |l: &&str| {
        word_count(l) <= TAIL_MAX_WORDS && !l.trim_end().ends_with(['.', '!', '?', '"', '”'])
    };
    while lines.len() > 1 && lines.last().is_some_and(is_tag) {
        lines.pop();
    }
    lines.join("\n")
}

fn key(line: &str) -> String {
    line.to_lowercase()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_string()
}

/// Words, with scripts written without spaces (Chinese, Japanese, Thai) counted at about
/// two characters a word so their lines are not all taken for one-word lines.
fn word_count(line: &str) -> usize {
    let spaced = line.split_whitespace().count();
    let unspaced = line
        .chars()
        .filter(|c| c.is_alphabetic() && !c.is_ascii())
        .count()
        / 2;
    spaced.max(unspaced)
}

fn is_headline_like(line: &str) -> bool {
    let t = line.trim_end();
    // Question headlines are common in link lists; a full stop ends a sentence.
    word_count(t) <= HEADLINE_MAX_WORDS && !t.ends_with(['.', '!', ':', '"', '”'])
}

fn is_furniture(line: &str, key: &str) -> bool {
    if word_count(line) > HEADLINE_MAX_WORDS {
        return false;
    }
    let lower = line.trim().to_lowercase();
    FURNITURE_PREFIXES
        .iter()
        .any(|p| lower.starts_with(p) || key == p.trim_end_matches(':'))
}

/// A caption: a line ending in a bracketed photo credit.
fn is_credited_caption(line: &str) -> bool {
    let t = line.trim_end();
    let (open, close) = match t.chars().last() {
        Some(']') => ('[', ']'),
        Some(')') => ('(', ')'),
        _ => return false,
    };
    let Some(start) = t.rfind(open) else {
        return false;
    };
    let inner = t[start..].trim_matches([open, close]).to_lowercase();
    word_count(&inner) <= 8
        && inner
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| CREDIT_WORDS.contains(&w))
}

/// A short line in capitals throughout is a promo link ("READ MORE ON … BY CLICKING
/// HERE", another story's headline); four words at least, so datelines ("PARIS") stay.
fn is_shouted_promo(line: &str) -> bool {
    let words = word_count(line);
    let letters = || line.chars().filter(|c| c.is_alphabetic());
    (4..=HEADLINE_MAX_WORDS).contains(&words)
        && letters().count() >= 12
        && letters().all(|c| !c.is_lowercase())
        && letters().any(char::is_uppercase)
}

/// A line that is only a date or a piece of one ("2018-08-16", "05", "Oct"): the page's
/// date widget, not text.
fn is_date_only(line: &str) -> bool {
    let t = line.trim();
    if word_count(t) > 6 || t.chars().count() > 40 {
        return false;
    }
    let month = |w: &str| super::meta::month_number(w).is_some() && w.len() <= 9;
    if !t.contains(' ') && (t.chars().all(|c| c.is_ascii_digit()) || month(t)) {
        return true;
    }
    let rest: String = t
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .filter(|w| !(w.chars().all(|c| c.is_ascii_digit() || "-/:.".contains(c)) || month(w)))
        .collect();
    rest.is_empty() && super::meta::date_in_text(t).is_some()
}

/// WordPress-style shortcodes that a plugin failed to render: `[button …]…[/button]`.
fn is_shortcode(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('[') && t.contains("[/") && t.ends_with(']')
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

    #[test]
    fn related_lists_captions_tails_and_shortcodes_go() {
        let text = "Troops remain in the country [File: Reuters]\n\
            Two soldiers died in a crash on Wednesday, officials said.\n\
            Updated at 1:23 p.m.\n\
            You may also like...\n\
            Who will make the Rock Hall in 2020?\n\
            Fans really want The Doobie Brothers in the Rock Hall\n\
            The crash is under investigation, the statement said.\n\
            [button link=\"x\"] Send us your review[/button]\n\
            SOURCE:\nNews agencies\nAsia";
        assert_eq!(
            clean(text, None),
            "Two soldiers died in a crash on Wednesday, officials said.\n\
             The crash is under investigation, the statement said."
        );
    }

    #[test]
    fn ordinary_parentheses_and_short_sentences_stay() {
        let text =
            "The vote (the third this year) passed.\nIt passed (narrowly).\nThe end of it all.";
        assert_eq!(clean(text, None), text);
    }

    #[test]
    fn shouted_promos_dates_and_comment_prompts_go() {
        let text = "2018-08-16\nPARIS\nThe minister spoke on Monday about the plan.\n\
            READ MORE ON FOX BUSINESS BY CLICKING HERE\n05\nOct\n\
            She said the plan would start in May.\nLeave a Reply Cancel reply";
        assert_eq!(
            clean(text, None),
            "PARIS\nThe minister spoke on Monday about the plan.\n\
             She said the plan would start in May."
        );
    }
}
