//! Calendar words that several stages read (page dates in `ingest`, sentence ends in
//! `normalize`, date mentions and facts in `extract`): one table, so they cannot disagree.

/// English month names, January first.
pub const MONTH_NAMES: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// The month (1–12) an English month name or abbreviation names: "March", "mar", "Sept".
/// Ignores ASCII case; the callers decide whether a lower-case "may" or "march" (also verbs)
/// counts.
pub fn month_number(word: &str) -> Option<u32> {
    let word = if word.eq_ignore_ascii_case("sept") {
        "sep"
    } else {
        word
    };
    if word.len() < 3 {
        return None;
    }
    MONTH_NAMES
        .iter()
        .position(|m| {
            m.eq_ignore_ascii_case(word) || (word.len() == 3 && m[..3].eq_ignore_ascii_case(word))
        })
        .map(|i| i as u32 + 1)
}

/// A month abbreviation that a full stop may follow without ending a sentence ("Jan.",
/// "Sept."); "May" is a whole name.
pub fn is_month_abbreviation(word: &str) -> bool {
    (word.len() == 3 || word.eq_ignore_ascii_case("sept"))
        && !word.eq_ignore_ascii_case("may")
        && month_number(word).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_abbreviations_read_as_their_month() {
        assert_eq!(month_number("January"), Some(1));
        assert_eq!(month_number("sept"), Some(9));
        assert_eq!(month_number("SEP"), Some(9));
        assert_eq!(month_number("dec"), Some(12));
        assert_eq!(month_number("decem"), None);
        assert_eq!(month_number("ma"), None);
        assert_eq!(month_number("mayo"), None);
        assert!(is_month_abbreviation("Jan"));
        assert!(is_month_abbreviation("sept"));
        assert!(!is_month_abbreviation("may"));
        assert!(!is_month_abbreviation("march"));
    }
}
