//! What a page says about itself: title, description, publication date, site, canonical
//! URL, language.
//! Each comes from the most explicit statement found: JSON-LD, then meta tags, then
//! `<time>` / `itemprop` markup, then a byline-like element's text, then a dated URL path.
//! Modification dates are never taken for publication dates, and nothing is guessed.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use dom_query::{Document, Selection};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct PageMeta {
    pub title: Option<String>,
    /// The page's own summary (`og:description`, `description`, JSON-LD): what the article
    /// is about, in the site's words.
    pub description: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub site: Option<String>,
    pub url: Option<String>,
    pub lang: Option<String>,
}

/// Meta tag names (`name`, `property` or `itemprop`) that state the publication time.
const PUBLISHED_META: &[&str] = &[
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "published_time",
    "article:published",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish_date",
    "publish-date",
    "publication_date",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "date",
    "article.published",
    "cxenseparse:recs:publishtime",
    "original-publish-date",
    "article_date_original",
];

/// Elements whose text may carry the date ("Published November 19, 2019").
const DATED_ELEMENTS: &str = "[class*='date'], [class*='byline'], [class*='dateline'], \
    [class*='publish'], [class*='posted'], [class*='timestamp'], [id*='date'], \
    [class*='meta'], [class*='time']";

#[cfg(test)]
pub fn page_meta(html: &str) -> PageMeta {
    page_meta_of(&Document::from(html))
}

/// `doc`: the whole page, parsed once for this and for [`super::structure`].
pub fn page_meta_of(doc: &Document) -> PageMeta {
    let ld = json_ld(doc);
    let meta = |names: &[&str]| meta_content(doc, names);

    let title = ld
        .iter()
        .find_map(|o| str_field(o, "headline"))
        .or_else(|| meta(&["og:title", "twitter:title"]))
        .or_else(|| first_text(doc, "h1"))
        .or_else(|| first_text(doc, "title"))
        .map(|t| collapse(&t));
    let description = meta(&["og:description", "twitter:description", "description"])
        .or_else(|| ld.iter().find_map(|o| str_field(o, "description")))
        .map(|d| collapse(&d));
    let url = meta(&["og:url"])
        .or_else(|| attr(doc, "link[rel='canonical']", "href"))
        .filter(|u| u.starts_with("http"));
    let site = meta(&["og:site_name", "application-name"]).or_else(|| {
        ld.iter()
            .find_map(|o| o.get("publisher").and_then(|p| str_field(p, "name")))
    });
    let lang = attr(doc, "html", "lang")
        .or_else(|| meta(&["og:locale", "content-language", "language"]))
        .map(|l| l.replace('_', "-"));

    let published = ld
        .iter()
        .filter_map(|o| str_field(o, "datePublished"))
        .find_map(|s| parse_date(&s))
        .or_else(|| {
            PUBLISHED_META
                .iter()
                .filter_map(|n| meta_content(doc, &[n]))
                .find_map(|s| parse_date(&s))
        })
        .or_else(|| marked_up_date(doc))
        .or_else(|| text_date(doc))
        .or_else(|| url.as_deref().and_then(url_date));

    PageMeta {
        title: title.filter(|t| !t.is_empty()),
        description: description.filter(|d| !d.is_empty()),
        published,
        site: site.map(|s| collapse(&s)).filter(|s| !s.is_empty()),
        url,
        lang: lang.filter(|l| !l.is_empty()),
    }
}

/// Every JSON-LD object on the page, flattened out of arrays and `@graph`s; articles first.
fn json_ld(doc: &Document) -> Vec<serde_json::Value> {
    fn flatten(v: serde_json::Value, out: &mut Vec<serde_json::Value>, depth: usize) {
        if depth > 8 {
            return;
        }
        match v {
            serde_json::Value::Array(items) => {
                for i in items {
                    flatten(i, out, depth + 1);
                }
            }
            serde_json::Value::Object(mut o) => {
                if let Some(g) = o.remove("@graph") {
                    flatten(g, out, depth + 1);
                }
                out.push(serde_json::Value::Object(o));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for node in doc.select("script[type='application/ld+json']").nodes() {
        let text = node.text();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(text.trim()) {
            flatten(v, &mut out, 0);
        }
    }
    let is_article = |o: &serde_json::Value| {
        let t = o.get("@type").map(|t| t.to_string()).unwrap_or_default();
        t.contains("Article") || t.contains("BlogPosting") || t.contains("Report")
    };
    out.sort_by_key(|o| !is_article(o));
    out
}

fn str_field(o: &serde_json::Value, key: &str) -> Option<String> {
    match o.get(key)? {
        serde_json::Value::String(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
        serde_json::Value::Array(a) => a.iter().find_map(|v| v.as_str().map(str::to_string)),
        _ => None,
    }
}

fn meta_content(doc: &Document, names: &[&str]) -> Option<String> {
    for node in doc.select("meta[content]").nodes() {
        let key = ["property", "name", "itemprop"]
            .iter()
            .find_map(|a| node.attr(a))
            .map(|k| k.trim().to_lowercase());
        if let Some(key) = key {
            if names.iter().any(|n| n.eq_ignore_ascii_case(&key)) {
                let content = node.attr("content").map(|c| c.trim().to_string());
                if let Some(c) = content.filter(|c| !c.is_empty()) {
                    return Some(c);
                }
            }
        }
    }
    None
}

fn attr(doc: &Document, selector: &str, name: &str) -> Option<String> {
    doc.select(selector)
        .nodes()
        .iter()
        .find_map(|n| n.attr(name))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

fn first_text(doc: &Document, selector: &str) -> Option<String> {
    doc.select(selector)
        .nodes()
        .iter()
        .map(|n| collapse(&n.text()))
        .find(|t| !t.is_empty())
}

/// `itemprop=datePublished`, `<time pubdate>`, then the first `<time datetime>` inside the
/// article (outside it, times usually belong to other stories).
fn marked_up_date(doc: &Document) -> Option<DateTime<Utc>> {
    for sel in [
        "[itemprop='datePublished']",
        "time[pubdate]",
        "article time[datetime]",
        "main time[datetime]",
    ] {
        for node in doc.select(sel).nodes() {
            let value = node
                .attr("datetime")
                .or_else(|| node.attr("content"))
                .map(|v| v.to_string())
                .unwrap_or_else(|| node.text().to_string());
            if let Some(d) = parse_date(&value) {
                return Some(d);
            }
        }
    }
    let times = doc.select("time[datetime]");
    // A lone <time> is the article's; several are likely a list of other stories.
    if times.length() == 1 {
        return times
            .nodes()
            .first()
            .and_then(|n| n.attr("datetime"))
            .and_then(|v| parse_date(&v));
    }
    None
}

/// Words that open a publication line: "Published Nov. 19, 2019", "publiziert am …".
const PUBLISHED_WORDS: &[&str] = &[
    "published",
    "posted",
    "publiziert",
    "veröffentlicht",
    "publié",
    "publicado",
    "pubblicato",
];

/// A date written out in a byline-like element ("Published: Nov. 19, 2019 10:00 AM"), or in
/// a short line that says it is the publication date.
fn text_date(doc: &Document) -> Option<DateTime<Utc>> {
    let sel: Selection = doc.select(DATED_ELEMENTS);
    for node in sel.nodes().iter().take(200) {
        let text = collapse(&node.text());
        // Bylines share their element with author names and the dek: look at the start.
        let head: String = text.chars().take(160).collect();
        if let Some(d) = date_in_text(&head) {
            return Some(d);
        }
    }
    for node in doc
        .select("span, small, p, em, li")
        .nodes()
        .iter()
        .take(5000)
    {
        let text = collapse(&node.text());
        if text.len() > 100 {
            continue;
        }
        let lower = text.to_lowercase();
        if PUBLISHED_WORDS.iter().any(|w| lower.starts_with(w)) {
            if let Some(d) = date_in_text(&text) {
                return Some(d);
            }
        }
    }
    None
}

/// `/2019/11/19/` in the URL path: publishers that put a day in the address mean it.
fn url_date(url: &str) -> Option<DateTime<Utc>> {
    let parts: Vec<&str> = url.split('/').collect();
    parts.windows(3).find_map(|w| {
        let (y, m, d) = (w[0], w[1], w[2]);
        if y.len() == 4 && m.len() == 2 && d.len() >= 2 {
            let d = d.get(..2)?;
            let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            return midnight(date);
        }
        None
    })
}

fn midnight(d: NaiveDate) -> Option<DateTime<Utc>> {
    d.and_hms_opt(0, 0, 0).map(|t| t.and_utc())
}

/// Machine-readable date values: RFC 3339 and its common looser forms, RFC 2822.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = crate::ingest::parse_published(s) {
        return plausible(t);
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%z",
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%dT%H:%M%z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return plausible(t.with_timezone(&Utc));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
        "%Y/%m/%d %H:%M:%S",
        "%Y%m%dT%H%M%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return plausible(t.and_utc());
        }
    }
    // A date followed by anything (a time in some other format, a zone name).
    s.get(..10)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .and_then(midnight)
        .and_then(plausible)
        .or_else(|| date_in_text(s))
}

/// A written date inside free text: "November 19, 2019", "19 Nov 2019", "2019-11-19".
pub fn date_in_text(text: &str) -> Option<DateTime<Utc>> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',' || c == '|' || c == '·')
        .map(|w| w.trim_matches(|c: char| c == '.' || c == '(' || c == ')'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        if let Some(d) = w
            .get(..10)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        {
            return midnight(d).and_then(plausible);
        }
        let Some(month) = month_number(w) else {
            continue;
        };
        // "November 19 2019"
        if let (Some(d), Some(y)) = (words.get(i + 1), words.get(i + 2)) {
            if let Some(date) = ymd(y, month, d) {
                return Some(date);
            }
        }
        // "19 November 2019"
        if let (Some(d), Some(y)) = (
            i.checked_sub(1).and_then(|j| words.get(j)),
            words.get(i + 1),
        ) {
            if let Some(date) = ymd(y, month, d) {
                return Some(date);
            }
        }
    }
    None
}

fn ymd(y: &str, m: u32, d: &str) -> Option<DateTime<Utc>> {
    let d = d.trim_end_matches(|c: char| c.is_alphabetic()); // "19th"
    if y.len() != 4 || d.is_empty() || d.len() > 2 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m, d.parse().ok()?)?;
    midnight(date).and_then(plausible)
}

/// Month names beyond English, for the languages seen most on news pages.
const OTHER_MONTHS: [[&str; 12]; 3] = [
    [
        "januar",
        "februar",
        "märz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
    ],
    [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
];

pub fn month_number(w: &str) -> Option<u32> {
    let w = w.to_lowercase();
    crate::calendar::month_number(&w).or_else(|| {
        OTHER_MONTHS
            .iter()
            .find_map(|ms| ms.iter().position(|m| *m == w))
            .map(|i| i as u32 + 1)
    })
}

/// The web has no articles from before 1990 or from the future; such values are
/// placeholders (`0000-00-00`, `1970-01-01`) or typos.
fn plausible(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::Datelike;
    let now = Utc::now() + chrono::Duration::days(2);
    (t.year() >= 1990 && t <= now).then_some(t)
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(t: Option<DateTime<Utc>>) -> Option<String> {
        t.map(|t| t.format("%Y-%m-%d").to_string())
    }

    #[test]
    fn dates_from_json_ld_meta_time_text_and_url_in_that_order() {
        let page = r#"<html><head>
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[
              {"@type":"WebSite","name":"X"},
              {"@type":"NewsArticle","headline":"Quake hits","datePublished":"2019-11-19T08:00:00-05:00",
               "dateModified":"2019-11-21T08:00:00Z","publisher":{"@type":"Organization","name":"The Post"}}]}</script>
            <meta property="article:published_time" content="2019-11-18T00:00:00Z">
            </head><body><h1>Other</h1></body></html>"#;
        let m = page_meta(page);
        assert_eq!(day(m.published).as_deref(), Some("2019-11-19"));
        assert_eq!(m.title.as_deref(), Some("Quake hits"));
        assert_eq!(m.site.as_deref(), Some("The Post"));
        assert_eq!(m.description, None);

        let page = r#"<meta name="description" content="  A quake  hit the coast. ">
            <script type="application/ld+json">{"@type":"NewsArticle","description":"LD"}</script>"#;
        assert_eq!(
            page_meta(page).description.as_deref(),
            Some("A quake hit the coast.")
        );
        let page = r#"<script type="application/ld+json">{"@type":"NewsArticle","description":"LD"}</script>"#;
        assert_eq!(page_meta(page).description.as_deref(), Some("LD"));

        let page = r#"<meta name="pubdate" content="2019-11-18T10:00:00+0000"><h1>T</h1>"#;
        assert_eq!(
            day(page_meta(page).published).as_deref(),
            Some("2019-11-18")
        );
        let page = r#"<article><time datetime="2020-02-03">Feb 3</time><p>x</p></article>"#;
        assert_eq!(
            day(page_meta(page).published).as_deref(),
            Some("2020-02-03")
        );
        let page = r#"<div class="byline">By Jo Bloggs | Published Nov. 19th, 2019 at 10:00</div>"#;
        assert_eq!(
            day(page_meta(page).published).as_deref(),
            Some("2019-11-19")
        );
        let page = r#"<link rel="canonical" href="https://x.com/news/2018/03/07/story.html">"#;
        assert_eq!(
            day(page_meta(page).published).as_deref(),
            Some("2018-03-07")
        );
        // Only a modification date, or nothing: undated, never guessed.
        let page = r#"<meta property="article:modified_time" content="2019-11-18"><p>x</p>"#;
        assert_eq!(page_meta(page).published, None);
        assert_eq!(page_meta("<p>Hello</p>").published, None);
    }

    #[test]
    fn written_dates() {
        assert_eq!(
            day(date_in_text("19 November 2019")).as_deref(),
            Some("2019-11-19")
        );
        assert_eq!(
            day(date_in_text("Posted: Sept 2, 2015")).as_deref(),
            Some("2015-09-02")
        );
        assert_eq!(date_in_text("May I come in, 2019 people?"), None);
        assert_eq!(
            day(date_in_text("publiziert am 25. September 2018")).as_deref(),
            Some("2018-09-25")
        );
        assert_eq!(
            day(date_in_text("le 3 mars 2020")).as_deref(),
            Some("2020-03-03")
        );
        assert_eq!(day(parse_date("0000-00-00")), None);
        assert_eq!(day(parse_date("1970-01-01T00:00:00Z")), None);
    }
}
