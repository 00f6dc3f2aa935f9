//! Trips and rounds of a series numbered in a text ("his sixth visit", "the seventh round
//! of shuttle diplomacy"): evidence that two reports are of different occurrences
//! (clustering) and of their order (placement of undated reports).

const ORDINALS: &[(&str, u32)] = &[
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
    ("sixth", 6),
    ("seventh", 7),
    ("eighth", 8),
    ("ninth", 9),
    ("tenth", 10),
    ("eleventh", 11),
    ("twelfth", 12),
    ("thirteenth", 13),
    ("fourteenth", 14),
    ("fifteenth", 15),
];

/// Nouns of a series of trips by one actor: a visit and a round of shuttle diplomacy count
/// in the same series (news counts an envoy's trips to a region either way). "Round" only
/// as a round *of* something (talks, diplomacy, voting): a boxer's "seventh round" is a
/// part of one fight, not another occurrence.
const SERIES: &[&str] = &[
    "visit", "visits", "trip", "trips", "round", "tour", "mission", "journey", "swing",
];

fn ordinal_value(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    if let Some(&(_, k)) = ORDINALS.iter().find(|(o, _)| *o == w) {
        return Some(k);
    }
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &w[digits.len()..];
    if ["st", "nd", "rd", "th"].contains(&suffix) {
        return digits.parse().ok().filter(|&k| k > 0 && k < 100);
    }
    None
}

/// The trips of a series numbered in `body`: each ordinal's value and the index of its
/// series noun, found right after the ordinal or after one modifier ("sixth official visit").
pub(crate) fn series_in(body: &str) -> (Vec<&str>, Vec<(u32, usize, usize)>) {
    let words: Vec<&str> = body
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
        .collect();
    let mut found = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let Some(k) = ordinal_value(w) else { continue };
        let noun = (i + 1..(i + 3).min(words.len())).find(|&j| {
            let w = words[j].to_lowercase();
            SERIES.contains(&w.as_str())
                && (w != "round"
                    || words
                        .get(j + 1)
                        .is_some_and(|n| n.eq_ignore_ascii_case("of")))
        });
        if let Some(j) = noun {
            found.push((k, i, j));
        }
    }
    (words, found)
}

/// The numbers of the trips or rounds of a series that `text` reports ("his seventh round
/// of shuttle diplomacy": 7), distinct and sorted: two reports numbering different trips
/// report different occurrences.
pub fn series_numbers(text: &str) -> Vec<u32> {
    let mut out: Vec<u32> = series_in(text).1.into_iter().map(|(k, _, _)| k).collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::series_numbers;

    #[test]
    fn numbered_trips_and_rounds_of_something_count_but_a_fights_rounds_do_not() {
        assert_eq!(series_numbers("on his sixth visit to the region"), vec![6]);
        assert_eq!(
            series_numbers("his 7th round of shuttle diplomacy, after a third official trip"),
            vec![3, 7]
        );
        assert!(
            series_numbers("knocked down in the sixth round and out in the seventh round")
                .is_empty()
        );
        assert!(series_numbers("the first time he came to visit").is_empty());
    }
}
