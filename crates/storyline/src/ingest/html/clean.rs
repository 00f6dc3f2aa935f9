//! Line-level clean-up of the chosen text: the shared debris rules of `normalize::clean`,
//! plus what only web pages carry — photo captions with credits (unless the page is a photo
//! gallery, where the captions are the story), "you may also like" link lists, the buttons
//! and labels of comment threads, tag and source lines at the end, left-over CMS shortcodes.

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

/// Whole lines (their words, lower-cased) that are the controls and labels of a comment
/// thread or a photo viewer, never article text.
const THREAD_FURNITURE: &[&str] = &[
    "reply",
    "reply to this comment",
    "log in to reply",
    "permalink",
    "post a comment",
    "add a comment",
    "no comments yet",
    "report abuse",
    "name required",
    "mail will not be published required",
    "email will not be published required",
    "website",
    "like this",
    "share this post",
    "hide caption",
    "show caption",
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

/// Words that mark a line standing wholly in brackets as a photo credit, beside
/// `CREDIT_WORDS`: "(Joe Doe/Associated Press)", "(Copyright: Thinkstock)". At the end of a
/// sentence they could be the text's own ("... a copyright (the band's own copyright)").
const CREDIT_LINE_WORDS: &[&str] = &[
    "associated",
    "copyright",
    "thinkstock",
    "istock",
    "istockphoto",
];

/// A line this short can be a headline in a link list or a tag at the end of the page.
const HEADLINE_MAX_WORDS: usize = 16;
/// Lines of this many words or fewer at the very end are tags, sources and ids.
const TAIL_MAX_WORDS: usize = 3;
/// Credited captions making up this share of a text's words or more are a photo gallery's
/// story, and stay.
const GALLERY_CAPTION_SHARE: f64 = 0.5;

/// Whether credited captions stay when they are most of the text (a photo gallery).
/// Candidates are compared without them, so that an extractor that kept only a gallery's
/// captions does not outweigh one that found the story; the text kept then has them back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Galleries {
    Keep,
    Drop,
}

/// The article text with debris lines removed and paragraphs one per line.
pub fn clean(text: &str, title: Option<&str>, galleries: Galleries) -> String {
    let text = normalize::clean(text);
    let gallery = galleries == Galleries::Keep && {
        let (caption_words, all_words) = text.lines().fold((0, 0), |(c, a), l| {
            let n = word_count(l);
            (c + if is_credited_caption(l) { n } else { 0 }, a + n)
        });
        caption_words as f64 >= GALLERY_CAPTION_SHARE * all_words.max(1) as f64
    };
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
            || is_thread_furniture(line)
            || (is_credited_caption(line) && !gallery)
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

/// A comment thread's button or label: "Reply", "Name (required)", "12 comments",
/// "October 3, 2012 Permalink".
fn is_thread_furniture(line: &str) -> bool {
    let words: Vec<String> = normalize::words(line).take(8).collect();
    if words.is_empty() || words.len() > 7 {
        return false;
    }
    let joined = words.join(" ");
    if THREAD_FURNITURE.contains(&joined.as_str()) {
        return true;
    }
    let count = |w: &str| w.chars().all(|c| c.is_ascii_digit());
    let comments = |w: &str| w == "comment" || w == "comments";
    match words.as_slice() {
        [a, b] if (count(a) && comments(b)) || (comments(a) && count(b)) => true,
        [date @ .., last] if last == "permalink" => is_date_only(&date.join(" ")),
        _ => false,
    }
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
    // A credit standing alone on its line, under the photo it names.
    let whole_line = t[..start].trim().is_empty();
    word_count(&inner) <= 8
        && inner
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| CREDIT_WORDS.contains(&w) || (whole_line && CREDIT_LINE_WORDS.contains(&w)))
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
            clean(text, Some("Budget passes"), Galleries::Keep),
            "The council voted.\nIt was late."
        );
        assert_eq!(
            clean("Budget passes soon.", Some("Budget"), Galleries::Keep),
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
            clean(text, None, Galleries::Keep),
            "Two soldiers died in a crash on Wednesday, officials said.\n\
             The crash is under investigation, the statement said."
        );
    }

    #[test]
    fn comment_thread_controls_go() {
        let text = "The minister spoke on Monday about the plan.\n\
            12 Comments\nOctober 3, 2012 Permalink\nReply\nName (required)\n\
            Mail (will not be published) (required)\nHide caption\n\
            She said the plan would start in May.\nReply to her, the mayor said, was easy.";
        assert_eq!(
            clean(text, None, Galleries::Keep),
            "The minister spoke on Monday about the plan.\n\
             She said the plan would start in May.\nReply to her, the mayor said, was easy."
        );
    }

    #[test]
    fn a_gallery_keeps_its_captions() {
        let text = "Scenes from the parade on Sunday.\n\
            Hong Kongers attend a charity parade downtown. (Jane Doe/AFP/Getty Images)\n\
            A mother carries her baby dressed up for the parade. (John Roe/AP Photo)\n\
            A man waits in a shopping mall during the festival. (Kin Lee/Reuters)";
        assert_eq!(clean(text, None, Galleries::Keep), text);
        assert_eq!(
            clean(text, None, Galleries::Drop),
            "Scenes from the parade on Sunday."
        );
        // One credited photo in a story: its caption goes.
        let story = format!(
            "{}\nHong Kongers attend a charity parade downtown. (Jane Doe/AFP/Getty Images)",
            "The parade drew thousands of people to the harbour on Sunday afternoon.\n".repeat(4)
        );
        assert!(!clean(&story, None, Galleries::Keep).contains("Getty"));
    }

    #[test]
    fn a_credit_on_a_line_of_its_own_goes() {
        let text = "The quarterback was hurt in the second quarter.\n\
            (Joe Doe/Associated Press)\n(Copyright: Thinkstock)\n\
            He left the game, the Associated Press reported (copyright aside).";
        assert_eq!(
            clean(text, None, Galleries::Keep),
            "The quarterback was hurt in the second quarter.\n\
             He left the game, the Associated Press reported (copyright aside)."
        );
    }

    #[test]
    fn ordinary_parentheses_and_short_sentences_stay() {
        let text =
            "The vote (the third this year) passed.\nIt passed (narrowly).\nThe end of it all.";
        assert_eq!(clean(text, None, Galleries::Keep), text);
    }

    #[test]
    fn shouted_promos_dates_and_comment_prompts_go() {
        let text = "2018-08-16\nPARIS\nThe minister spoke on Monday about the plan.\n\
            READ MORE ON FOX BUSINESS BY CLICKING HERE\n05\nOct\n\
            She said the plan would start in May.\nLeave a Reply Cancel reply";
        assert_eq!(
            clean(text, None, Galleries::Keep),
            "PARIS\nThe minister spoke on Monday about the plan.\n\
             She said the plan would start in May."
        );
    }
}
