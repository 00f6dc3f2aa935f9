//! Where sources that say the same thing differ: the clauses of one statement (matched as
//! saying the same thing) that give different values for one slot: a place, a day, a
//! person, or yes against no. Numbers are compared apart, by `corroborate`.
//!
//! A value differs only when the other source never names it anywhere in its article: a
//! report that names both Rafah and Gaza does not disagree with one that says "Gaza"; one
//! that gives both Monday and Tuesday tells of two days, not a different one. **Pure.**

use std::cell::OnceCell;

use serde::{Deserialize, Serialize};

use crate::core::{Claim, EntityKind};
use crate::extract::{date_mentions, mentions, Granularity};
use crate::normalize::{content_terms, split_sentences, Stemmer};

/// What differs between two sources' versions of one statement.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// One source says it happened, the other that it did not ("agreed" / "rejected").
    Negation,
    Place,
    Date,
    /// Different people named in the same statement.
    Person,
}

/// How many slots there are: once each differs, no later pair can add one.
const SLOTS: usize = 4;

impl Slot {
    pub fn as_str(self) -> &'static str {
        match self {
            Slot::Negation => "negation",
            Slot::Place => "place",
            Slot::Date => "date",
            Slot::Person => "person",
        }
    }
}

/// One source's version.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DifferingValue {
    /// The value as the source gives it ("Rafah", "2024-03-21", "denied").
    pub value: String,
    /// Its clause, verbatim, with the citation.
    pub quote: Claim,
}

/// Two sources' different versions of one statement.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Difference {
    pub slot: Slot,
    /// The statement both versions belong to.
    pub statement: String,
    /// Exactly two versions, from two independent sources.
    pub values: Vec<DifferingValue>,
}

/// One source's clause of a statement, with the whole article it comes from.
pub(super) struct Version<'a> {
    pub clause: &'a str,
    pub article_text: &'a str,
    pub published: Option<chrono::NaiveDate>,
    pub quote: Claim,
}

/// Words that negate the verb after them ("did not accept", "has never met").
/// Not "no": it negates a noun phrase, often a list ("no obstruction, collusion").
const NOT: &[&str] = &["not", "never", "cannot"];
/// Verbs that negate what follows them ("denied colluding").
const DENIALS: &[&str] = &["deni", "reject", "refus", "declin", "dismiss"];
/// Words before a noun: "the questions" is no verb to negate.
const DETERMINERS: &[&str] = &[
    "the", "a", "an", "his", "her", "their", "its", "our", "this", "that", "these", "those",
];
/// Words after a negation that are no verb: "not likely to harm" negates no "is likely".
const NOT_VERBS: &[&str] = &[
    "likely", "unlikely", "sure", "clear", "able", "only", "just", "enough",
];
/// Words that make a verb a possibility, not a statement of fact.
const MODALS: &[&str] = &["could", "would", "might", "may", "should", "can"];
/// Words that may stand between a negation and its verb.
const BETWEEN: &[&str] = &[
    "be",
    "been",
    "being",
    "have",
    "yet",
    "also",
    "immediately",
    "formally",
    "publicly",
    "officially",
    "fully",
    "even",
    "ever",
];
/// Verbs that are the negative of another: a source saying one, another the other, differ.
const OPPOSITES: &[(&str, &str)] = &[
    ("reject", "accept"),
    ("reject", "agre"),
    ("reject", "approv"),
    ("refus", "agre"),
    ("refus", "accept"),
    ("deni", "confirm"),
    ("deni", "admit"),
    ("declin", "accept"),
];

fn words(clause: &str) -> Vec<String> {
    let raw: Vec<String> = clause
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '’'))
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase().replace('’', "'"))
        .collect();
    // Tokenised text splits a contraction apart ("couldn ' t", "couldn 't"): join it, or
    // the negation is lost.
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let w = &raw[i];
        let rest = (
            raw.get(i + 1).map(String::as_str),
            raw.get(i + 2).map(String::as_str),
        );
        match (w.ends_with('n'), rest) {
            (true, (Some("'"), Some("t"))) => {
                out.push(format!("{w}'t"));
                i += 3;
            }
            (true, (Some("'t"), _)) => {
                out.push(format!("{w}'t"));
                i += 2;
            }
            _ => {
                out.push(w.clone());
                i += 1;
            }
        }
    }
    out
}

/// Whether `ws[i]` negates what follows: "not", "never", "hasn't", or "yet to" ("had yet
/// to regain" is "had not yet regained").
fn negates(ws: &[String], i: usize) -> bool {
    let w = ws[i].as_str();
    NOT.contains(&w)
        || w.ends_with("n't")
        || (w == "yet" && ws.get(i + 1).is_some_and(|n| n == "to"))
}

/// The stems of the verbs a clause negates: the word a negation governs ("did not
/// *identify*", "hasn't *agreed*"). Not when "until" follows: "will not be released until
/// he is charged" says when, as "will be released after he is charged" does.
fn negated_verbs(ws: &[String], stemmer: &Stemmer) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..ws.len() {
        if !negates(ws, i) || ws[i + 1..].iter().any(|w| w == "until") {
            continue;
        }
        let skip = usize::from(ws[i] == "yet");
        if let Some(v) = ws[i + 1 + skip..]
            .iter()
            .take(3)
            .find(|v| !BETWEEN.contains(&v.as_str()))
        {
            // "was not the target", "not in the firearm", "not likely to": no verb follows.
            if !content_terms(v, stemmer).is_empty() && !NOT_VERBS.contains(&v.as_str()) {
                out.push(stemmer.stem(v).into_owned());
            }
        }
    }
    out
}

/// Yes against no on the statement's own predicate: a verb one clause negates and the
/// other says plainly ("did not agree" / "agreed"), or two opposite verbs ("rejected" /
/// "accepted"). A negation elsewhere in a clause ("the child, whom police did not
/// identify, was taken to…") is about something the other clause does not say.
fn negation(a: &Prepared<'_, '_>, b: &Prepared<'_, '_>) -> Option<(String, String)> {
    let (wa, wb) = (&a.words, &b.words);
    let (sa, sb) = (&a.stems, &b.stems);
    let (na, nb) = (&a.negated, &b.negated);
    // The verb said plainly: not a noun of the same stem ("relayed the questions", "the
    // first 911 call"), not a possibility or an aim ("actions that could harm", "taking
    // time to revise" are no "did harm", "revised").
    let said_as_verb = |ws: &[String], ss: &[String], v: &str| {
        ss.iter().enumerate().any(|(i, s)| {
            let before = i.checked_sub(1).map(|p| ws[p].as_str());
            s == v
                && !before.is_some_and(|p| {
                    DETERMINERS.contains(&p)
                        || MODALS.contains(&p)
                        || p == "to"
                        || p.chars().all(|c| c.is_ascii_digit())
                })
        })
    };
    if !na.is_empty() && b.plain {
        if let Some(v) = na.iter().find(|v| said_as_verb(wb, sb, v)) {
            return Some((format!("not {v}…"), format!("{v}…")));
        }
    }
    if !nb.is_empty() && a.plain {
        if let Some(v) = nb.iter().find(|v| said_as_verb(wa, sa, v)) {
            return Some((format!("{v}…"), format!("not {v}…")));
        }
    }
    for k in 0..OPPOSITES.len() {
        // One clause says `no`; the other says `yes`, never `no`, and negates `yes` nowhere.
        let opposed = |n: &Prepared<'_, '_>, y: &Prepared<'_, '_>| {
            let ((x, _), (no_in_y, yes_in_y)) = (n.opposites[k], y.opposites[k]);
            let (x, i) = (x?, yes_in_y?);
            let yes_negated = na.contains(&y.stems[i]) || nb.contains(&y.stems[i]);
            (no_in_y.is_none() && !yes_negated).then(|| (n.words[x].clone(), y.words[i].clone()))
        };
        if let Some(pair) = opposed(a, b) {
            return Some(pair);
        }
        if let Some((said_no, said_yes)) = opposed(b, a) {
            return Some((said_yes, said_no));
        }
    }
    None
}

/// A version with what every comparison of it reads worked out once: a statement of v
/// versions makes v(v-1)/2 comparisons, and tagging or dating a clause (or a whole
/// article) costs far more than comparing the results.
struct Prepared<'v, 'a> {
    version: &'v Version<'a>,
    words: Vec<String>,
    stems: Vec<String>,
    negated: Vec<String>,
    /// No negation at all: "denied his campaign colluded" is no plain "colluded".
    plain: bool,
    /// Per pair of `OPPOSITES`: where the first stem opening with each side's stem is.
    opposites: Vec<(Option<usize>, Option<usize>)>,
    places: Vec<String>,
    persons: Vec<String>,
    days: Vec<chrono::NaiveDate>,
    /// Needed only when a clause's names or days differ: made on first use.
    article_lower: OnceCell<String>,
    article_days: OnceCell<Vec<chrono::NaiveDate>>,
}

impl<'v, 'a> Prepared<'v, 'a> {
    fn new(version: &'v Version<'a>, stemmer: &Stemmer) -> Self {
        let words = words(version.clause);
        let stems: Vec<String> = words.iter().map(|w| stemmer.stem(w).into_owned()).collect();
        let negated = negated_verbs(&words, stemmer);
        let plain = !(0..words.len()).any(|i| negates(&words, i) || words[i] == "no")
            && !stems
                .iter()
                .any(|s| DENIALS.iter().any(|d| s.starts_with(d)));
        let first = |p: &str| stems.iter().position(|s| s.starts_with(p));
        let opposites = OPPOSITES
            .iter()
            .map(|&(no, yes)| (first(no), first(yes)))
            .collect();
        Prepared {
            version,
            negated,
            plain,
            opposites,
            stems,
            words,
            places: names(version.clause, EntityKind::Place),
            persons: names(version.clause, EntityKind::Person),
            days: days(version.clause, version.published),
            article_lower: OnceCell::new(),
            article_days: OnceCell::new(),
        }
    }

    fn names(&self, kind: EntityKind) -> &[String] {
        match kind {
            EntityKind::Place => &self.places,
            _ => &self.persons,
        }
    }

    fn article_lower(&self) -> &str {
        self.article_lower
            .get_or_init(|| self.version.article_text.to_lowercase())
    }

    fn article_days(&self) -> &[chrono::NaiveDate] {
        self.article_days
            .get_or_init(|| days(self.version.article_text, self.version.published))
    }
}

/// The names of one kind a clause gives.
fn names(clause: &str, kind: EntityKind) -> Vec<String> {
    let sentences = split_sentences(clause);
    let mut out: Vec<String> = mentions(clause, &sentences)
        .into_iter()
        .filter(|m| m.kind == kind)
        .map(|m| m.name)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Whether `lower` (a text in lower case) names `name` (a word-bounded, case-blind match,
/// or its last word for a person: "Netanyahu" names "Benjamin Netanyahu").
fn names_in(lower: &str, name: &str, kind: EntityKind) -> bool {
    let name = name.to_lowercase();
    let probe = match kind {
        EntityKind::Person => name.rsplit(' ').next().unwrap_or(&name).to_string(),
        _ => name,
    };
    lower.match_indices(&probe).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + probe.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// A name as compared across sources: lower case, without possessives and full stops,
/// with the common abbreviations of street names and compass points spelt out.
fn name_key(name: &str) -> Vec<String> {
    const ABBREVIATIONS: &[(&str, &str)] = &[
        ("w", "west"),
        ("e", "east"),
        ("n", "north"),
        ("s", "south"),
        ("st", "street"),
        ("ave", "avenue"),
        ("blvd", "boulevard"),
        ("rd", "road"),
        ("mt", "mount"),
        ("ft", "fort"),
    ];
    name.split_whitespace()
        .map(|w| {
            let w = w.to_lowercase().replace('’', "'");
            let w = w
                .strip_suffix("'s")
                .unwrap_or(&w)
                .trim_matches(|c: char| !c.is_alphanumeric());
            ABBREVIATIONS
                .iter()
                .find(|(short, _)| *short == w)
                .map_or_else(|| w.to_string(), |(_, long)| long.to_string())
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// Whether two names are one written two ways: the same words once abbreviations and
/// possessives are undone, one letter apart (a spelling, not another name: "Wolfe" and
/// "Wolff", unlike "Ramsey" and "Brumsey"), or one a cut of the other ("Calif").
fn same_name(a: &str, b: &str) -> bool {
    let (ka, kb) = (name_key(a), name_key(b));
    if ka.is_empty() || kb.is_empty() {
        return false;
    }
    let (ja, jb) = (ka.join(" "), kb.join(" "));
    let cut = |short: &[String], long: &[String]| {
        short.len() == 1
            && short[0].len() >= 4
            && long
                .iter()
                .any(|w| w.len() > short[0].len() && w.starts_with(&short[0]))
    };
    ja == jb || (ja.len() >= 5 && one_edit_apart(&ja, &jb)) || cut(&ka, &kb) || cut(&kb, &ka)
}

/// Whether two strings are at most one insertion, deletion or substitution apart.
fn one_edit_apart(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short
        .iter()
        .zip(long.iter())
        .take_while(|(x, y)| x == y)
        .count();
    if short.len() == long.len() {
        short[prefix..]
            .iter()
            .skip(1)
            .eq(long[prefix..].iter().skip(1))
    } else {
        short[prefix..] == long[prefix + 1..]
    }
}

/// The days a text names outright ("March 21", "21/3/2024"), not those it names relative to
/// its publication ("Saturday", "yesterday"): a later report's "Saturday" is often a
/// different day only because it was published later.
fn days(text: &str, published: Option<chrono::NaiveDate>) -> Vec<chrono::NaiveDate> {
    let mut out: Vec<_> = date_mentions(text, published)
        .into_iter()
        .filter(|m| m.granularity == Granularity::Day)
        .filter(|m| m.span.slice(text).chars().any(|c| c.is_ascii_digit()))
        .map(|m| m.date)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The first slot in which two versions differ, with the value each gives.
fn differs(a: &Prepared<'_, '_>, b: &Prepared<'_, '_>) -> Option<(Slot, String, String)> {
    if let Some((va, vb)) = negation(a, b) {
        return Some((Slot::Negation, va, vb));
    }
    for (slot, kind) in [
        (Slot::Place, EntityKind::Place),
        (Slot::Person, EntityKind::Person),
    ] {
        let (na, nb) = (a.names(kind), b.names(kind));
        if na.is_empty() || nb.is_empty() {
            continue;
        }
        // Every name of each is unknown to the other's whole article, and none is the
        // other's name written another way ("W. American Blvd", "Ilene Wolfe/Wolff",
        // "Calif."/"California").
        let unknown = |ns: &[String], other: &Prepared<'_, '_>| {
            ns.iter().all(|n| {
                !names_in(other.article_lower(), n, kind)
                    && !other.names(kind).iter().any(|o| same_name(n, o))
            })
        };
        if unknown(na, b) && unknown(nb, a) {
            return Some((slot, na.join(", "), nb.join(", ")));
        }
    }
    let (da, db) = (&a.days, &b.days);
    if !da.is_empty() && !db.is_empty() && !da.iter().any(|d| db.contains(d)) {
        let (all_a, all_b) = (a.article_days(), b.article_days());
        if da.iter().all(|d| !all_b.contains(d)) && db.iter().all(|d| !all_a.contains(d)) {
            let show = |ds: &[chrono::NaiveDate]| {
                ds.iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            return Some((Slot::Date, show(da), show(db)));
        }
    }
    None
}

/// The differences among the versions of one statement: at most one per slot, the first
/// pair (in source order) that differs in it.
pub(super) fn differences(
    statement: &str,
    versions: &[Version<'_>],
    stemmer: &Stemmer,
) -> Vec<Difference> {
    let prepared: Vec<Prepared<'_, '_>> =
        versions.iter().map(|v| Prepared::new(v, stemmer)).collect();
    let mut out: Vec<Difference> = Vec::new();
    for (i, a) in prepared.iter().enumerate() {
        if out.len() == SLOTS {
            break;
        }
        for b in &prepared[i + 1..] {
            let Some((slot, va, vb)) = differs(a, b) else {
                continue;
            };
            if out.iter().any(|d| d.slot == slot) {
                continue;
            }
            out.push(Difference {
                slot,
                statement: statement.to_string(),
                values: vec![
                    DifferingValue {
                        value: va,
                        quote: a.version.quote.clone(),
                    },
                    DifferingValue {
                        value: vb,
                        quote: b.version.quote.clone(),
                    },
                ],
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::Span;

    fn version<'a>(clause: &'a str, article: &'a str, n: usize) -> Version<'a> {
        Version {
            clause,
            article_text: article,
            published: chrono::NaiveDate::from_ymd_opt(2024, 3, 21),
            quote: Claim {
                text: clause.to_string(),
                citations: vec![n],
                article: n.to_string(),
                span: Span { start: 0, end: 0 },
            },
        }
    }

    fn slots(a: &str, a_article: &str, b: &str, b_article: &str) -> Vec<Slot> {
        let stemmer = Stemmer::english();
        differences(
            a,
            &[version(a, a_article, 1), version(b, b_article, 2)],
            &stemmer,
        )
        .into_iter()
        .map(|d| d.slot)
        .collect()
    }

    #[test]
    fn yes_against_no_differs_and_two_denials_agree() {
        let a = "Hamas accepted the ceasefire proposal from the mediators in Doha.";
        let b = "Hamas rejected the ceasefire proposal from the mediators in Doha.";
        let c = "Hamas did not accept the ceasefire proposal from the mediators in Doha.";
        assert_eq!(slots(a, a, b, b), vec![Slot::Negation]);
        assert_eq!(slots(a, a, c, c), vec![Slot::Negation]);
        assert!(slots(b, b, c, c).is_empty());
        // A negation in a part the other clause does not say is no difference.
        let d = "The child, whom police did not name, was taken to the hospital in Chicago.";
        let e = "The child was taken to the hospital in Chicago by the police officers.";
        assert!(slots(d, d, e, e).is_empty());
        // A denial is no plain statement, and a noun is no verb.
        let f = "Trump has repeatedly denied that his campaign colluded with Russia.";
        let g = "Trump has repeatedly said that his campaign did not collude with Russia.";
        assert!(slots(f, f, g, g).is_empty());
        let h = "The president has not been questioned by the special counsel yet.";
        let i = "The special counsel relayed the questions to the president yesterday.";
        assert!(slots(h, h, i, i).is_empty());
    }

    #[test]
    fn places_differ_only_when_neither_report_knows_the_others() {
        let a = "The gunman opened fire at a bar in Chicago late on Friday night.";
        let b = "The gunman opened fire at a bar in Detroit late on Friday night.";
        assert_eq!(slots(a, a, b, b), vec![Slot::Place]);
        // The second report names both places: a detail, not a disagreement.
        let b_article = "The gunman opened fire at a bar in Detroit late on Friday night. \
                         He had driven from Chicago.";
        assert!(slots(a, a, b, b_article).is_empty());
    }

    #[test]
    fn a_name_written_two_ways_is_no_difference() {
        let a = "The shopper was struck outside the store at 200 W. American Blvd. on Wednesday.";
        let b =
            "The shopper was struck outside the store at 200 West American Boulevard on Wednesday.";
        assert!(slots(a, a, b, b).is_empty());
        let c = "Spokeswoman Ilene Wolfe said the families asked for privacy on Wednesday.";
        let d = "Spokeswoman Ilene Wolff said the families asked for privacy on Wednesday.";
        assert!(slots(c, c, d, d).is_empty());
        // Two letters apart is another name.
        let e = "Another victim, Jahad Ramsey, was in critical condition at the hospital.";
        let f = "Another victim, Jahad Brumsey, was in critical condition at the hospital.";
        assert_eq!(slots(e, e, f, f), vec![Slot::Person]);
        assert!(same_name("Calif", "California"));
        assert!(same_name(
            "Wellington's High Street",
            "Wellington High Street"
        ));
        assert!(!same_name("Chicago", "Detroit"));
    }

    #[test]
    fn split_contractions_yet_to_until_and_modals_read_right() {
        let a = "The witness told detectives she couldn ’ t see the incident clearly from there.";
        let b = "The witness told detectives she couldn't see what the boys were doing from there.";
        assert!(slots(a, a, b, b).is_empty());
        let c = "Riva had not yet regained consciousness and was on a ventilator at the hospital.";
        let d = "Riva had yet to regain consciousness and was on a ventilator at the hospital.";
        assert!(slots(c, c, d, d).is_empty());
        let e = "The name of the suspect would be released after he is formally charged by police.";
        let f = "The identity of the suspect will not be released until charges are formally laid.";
        assert!(slots(e, e, f, f).is_empty());
        let g =
            "Agencies must consult the scientists before actions that could harm listed species.";
        let h =
            "Agencies consulted the scientists to ensure the actions did not harm listed species.";
        assert!(slots(g, g, h, h).is_empty());
        // A plain yes against a no still differs.
        let j = "Ross is taking time to revise the script for the sequel before shooting starts.";
        let k =
            "Ross has a script for the sequel that he has yet to revise before shooting starts.";
        assert!(slots(j, j, k, k).is_empty());
        let i = "Riva regained consciousness and was taken off the ventilator at the hospital.";
        assert_eq!(slots(c, c, i, i), vec![Slot::Negation]);
    }

    #[test]
    fn days_differ_unless_the_other_report_names_that_day_too() {
        let a = "The talks in Cairo between the delegations began on March 18.";
        let b = "The talks in Cairo between the delegations began on March 20.";
        assert_eq!(slots(a, a, b, b), vec![Slot::Date]);
        let b_article = "The talks in Cairo between the delegations began on March 20. \
                         Envoys had arrived on March 18.";
        assert!(slots(a, a, b, b_article).is_empty());
        // Days named relative to publication are not compared.
        let c = "The talks in Cairo between the delegations began on Monday.";
        assert!(slots(a, a, c, c).is_empty());
    }
}
