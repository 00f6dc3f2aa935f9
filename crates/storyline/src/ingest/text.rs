//! Plain-text articles: the whole file is one article, named by its file name. A leading
//! `date YYYY-MM-DD` (as in the seeds) is the publication date; without it the article is
//! undated.

use std::path::Path;

use chrono::NaiveDate;

use super::{check_size, decode_text, file_id, location, Record};
use crate::core::Article;
use crate::error::IngestError;

pub(super) fn parse(bytes: &[u8], path: &Path) -> Result<Record, IngestError> {
    let raw = decode_text(bytes, path, None)?;
    let (published, text) = split_date_marker(&raw);
    check_size(text, path, None)?;
    Ok(Record {
        article: Article {
            id: file_id(path),
            title: None,
            source: None,
            url: None,
            published: published
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc()),
            lang: None,
            text: text.to_string(),
        },
        origin: location(path, None),
        warnings: Vec::new(),
    })
}

/// Splits `date 2024-03-21 Rest of text` into the date and the rest. Anything else, including
/// a `date` word followed by something that is not a real date, is left as text.
pub(crate) fn split_date_marker(raw: &str) -> (Option<NaiveDate>, &str) {
    let trimmed = raw.trim_start_matches('\u{feff}').trim_start();
    let Some(rest) = trimmed
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("date "))
        .map(|_| trimmed[5..].trim_start())
    else {
        return (None, raw);
    };
    let token_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    match NaiveDate::parse_from_str(&rest[..token_end], "%Y-%m-%d") {
        Ok(date) => (Some(date), rest[token_end..].trim_start()),
        Err(_) => (None, raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_date_marker_is_parsed_and_removed() {
        let (d, t) = split_date_marker(" date 2024-03-21 Amid talks, the envoy spoke.");
        assert_eq!(d, NaiveDate::from_ymd_opt(2024, 3, 21));
        assert_eq!(t, "Amid talks, the envoy spoke.");
    }

    #[test]
    fn text_without_marker_is_undated() {
        let (d, t) = split_date_marker("US envoy in Israel.\nMore text.");
        assert_eq!(d, None);
        assert_eq!(t, "US envoy in Israel.\nMore text.");
        let (d, t) = split_date_marker("date night ideas for 2024");
        assert_eq!(d, None);
        assert_eq!(t, "date night ideas for 2024");
        assert_eq!(split_date_marker("date 2024-02-30 x").0, None);
    }

    #[test]
    fn empty_file_is_an_error_naming_the_file() {
        let e = parse(b"date 2024-01-01   ", Path::new("dir/empty.txt")).unwrap_err();
        assert!(e.to_string().contains("dir/empty.txt"), "{e}");
    }
}
