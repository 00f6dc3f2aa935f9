//! Pages that are served with 200 but are not the article: a cookie-consent wall, a paywall
//! teaser, a "page not found". Their text must not be stored as the story's text; the
//! caller is told what the page was, so a feed's own summary can stand in.
//!
//! Only short texts are judged: a real article that ends in a subscription box or a
//! cookie notice keeps its text.

/// Longer texts are articles, whatever their last lines say.
const MAX_WORDS: usize = 250;

/// What a page turned out to be instead of an article.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotArticle {
    ConsentWall,
    Paywall,
    NotFound,
}

impl std::fmt::Display for NotArticle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ConsentWall => "a cookie-consent wall",
            Self::Paywall => "a paywall teaser",
            Self::NotFound => "a \"page not found\" page",
        })
    }
}

/// Said by an error page, in its title or its first lines.
const NOT_FOUND: &[&str] = &[
    "page not found",
    "404 not found",
    "error 404",
    "404 error",
    "page cannot be found",
    "page could not be found",
    "page can't be found",
    "page doesn't exist",
    "page does not exist",
    "page you requested",
    "page you were looking for",
    "page you are looking for",
    "page you're looking for",
    "seite nicht gefunden",
    "page introuvable",
    "página no encontrada",
];

/// A consent wall names cookies and asks for a choice; both must be there.
const COOKIE_WORDS: &[&str] = &["cookie", "tracking technologies"];
const CONSENT_ASKS: &[&str] = &[
    "accept all",
    "reject all",
    "your consent",
    "consent to",
    "manage preferences",
    "manage cookies",
    "cookie settings",
    "privacy settings",
    "your privacy choices",
    "we and our partners",
];

const PAYWALL: &[&str] = &[
    "subscribe to continue",
    "subscribe to read",
    "subscribe now to",
    "to continue reading",
    "continue reading this article",
    "subscribers only",
    "exclusive to subscribers",
    "available to subscribers",
    "already a subscriber",
    "sign in to continue",
    "log in to continue",
    "login to continue",
    "to read the full article",
    "to read the full story",
    "unlock this article",
    "this article is for subscribers",
    "this content is for subscribers",
];

/// `Some` when the page's main text is one of the known non-articles.
pub fn detect(text: &str, title: Option<&str>) -> Option<NotArticle> {
    if text.split_whitespace().count() > MAX_WORDS {
        return None;
    }
    let lower = text.to_lowercase();
    let has = |list: &[&str], s: &str| list.iter().any(|p| s.contains(p));
    // The error is said up front: in the title or the first lines, not in a link list below.
    let head: String = lower.lines().take(3).collect::<Vec<_>>().join("\n");
    let title = title.map(str::to_lowercase).unwrap_or_default();
    if has(NOT_FOUND, &title) || has(NOT_FOUND, &head) {
        return Some(NotArticle::NotFound);
    }
    if has(COOKIE_WORDS, &lower) && has(CONSENT_ASKS, &lower) {
        return Some(NotArticle::ConsentWall);
    }
    if has(PAYWALL, &lower) {
        return Some(NotArticle::Paywall);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const STORY: &str = "The harbour board met on Thursday and agreed to rebuild the old \
        pier before the winter storms, after a long debate about the cost.";

    #[test]
    fn walls_teasers_and_error_pages_are_named() {
        let wall = "We value your privacy\nWe and our partners use cookies to store and \
            access information on your device.\nAccept all\nManage preferences";
        assert_eq!(
            detect(wall, Some("Daily Bugle")),
            Some(NotArticle::ConsentWall)
        );
        let teaser =
            format!("{STORY}\nSubscribe to continue reading. Already a subscriber? Log in.");
        assert_eq!(detect(&teaser, None), Some(NotArticle::Paywall));
        assert_eq!(
            detect(
                "Sorry, we looked everywhere.",
                Some("Page not found | Daily Bugle")
            ),
            Some(NotArticle::NotFound)
        );
        assert_eq!(
            detect("Oops! The page you were looking for has moved.\nHome", None),
            Some(NotArticle::NotFound)
        );
    }

    #[test]
    fn articles_that_mention_the_same_words_stay_articles() {
        assert_eq!(detect(STORY, Some("Pier to be rebuilt")), None);
        // A long article that ends in a subscription box.
        let long = format!(
            "{}\nSubscribe to continue reading our coverage.",
            STORY.repeat(12)
        );
        assert_eq!(detect(&long, None), None);
        // Cookies without a consent prompt: a story about a bakery.
        let bakery = "The bakery sold ten thousand cookies at the fair on Sunday.";
        assert_eq!(detect(bakery, None), None);
        // "Not found" deep in a short text is not an error page.
        let short = format!(
            "{STORY}\nHe said.\nThe missing boat was not found.\nPage not found in archive"
        );
        assert_eq!(detect(&short, None), None);
    }
}
