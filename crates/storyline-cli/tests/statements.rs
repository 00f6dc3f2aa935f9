//! What the seeds' story page says a reader can trust: a whole headline, the statements
//! several sources agree on with their quotes, and the undated report placed by evidence.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn seeds() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds");
    assert!(p.is_dir(), "../shared must sit beside the repository");
    p
}

/// The seeds' one story, as `storyline --json run` reports it.
fn seed_story() -> (Value, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .arg("--db")
        .arg(dir.path().join("s.db"))
        .args(["--quiet", "--json", "run"])
        .arg(seeds())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let story = v["stories"][0].clone();
    // Article texts by source number, from the seed files (the stored text is the file's
    // text without its `date` line, so every quote must be found in it).
    let texts = story["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let id = s["id"].as_str().unwrap();
            std::fs::read_to_string(seeds().join(format!("{id}.txt"))).unwrap()
        })
        .collect();
    (story, texts)
}

fn number_of(story: &Value, id_prefix: &str) -> u64 {
    story["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str().unwrap().starts_with(id_prefix))
        .map(|s| s["n"].as_u64().unwrap())
        .unwrap()
}

#[test]
fn seeds_headline_is_a_whole_clause() {
    let (story, texts) = seed_story();
    let h = story["headline"].as_str().unwrap();
    assert!(!h.contains('…'), "cut headline: {h}");
    assert!(h.chars().count() <= 90, "too long: {h}");
    assert!(h.split_whitespace().count() >= 5, "too short: {h}");
    // Verbatim, and ending where the article's clause ends (a comma or the sentence's end),
    // not in the middle of a phrase.
    let ends_whole = texts.iter().any(|t| {
        t.match_indices(h)
            .any(|(i, _)| t[i + h.len()..].starts_with([',', '.', ';']))
    });
    assert!(ends_whole, "not a whole clause of any seed: {h}");
}

#[test]
fn seeds_agree_on_the_ceasefire_push_with_quotes_from_each_source() {
    let (story, texts) = seed_story();
    // Statements are compared within an event: the March trip's reports corroborate each
    // other; 004 reports a later trip (see the next test), so it is no second voice on them.
    let (n1, n2) = (number_of(&story, "001_"), number_of(&story, "002_"));
    let events = story["statements"].as_array().unwrap();
    let ev = events
        .iter()
        .find(|e| e["agreed"].as_array().is_some_and(|a| !a.is_empty()))
        .unwrap_or_else(|| panic!("nothing agreed in any event: {events:#?}"));
    let agreed = ev["agreed"].as_array().unwrap();
    assert!(ev["n_agreed"].as_u64().unwrap() as usize >= agreed.len());
    let ceasefire = agreed
        .iter()
        .find(|s| s["text"].as_str().unwrap().contains("ceasefire"))
        .unwrap_or_else(|| panic!("no agreed ceasefire statement: {agreed:#?}"));
    let srcs: Vec<u64> = ceasefire["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_u64().unwrap())
        .collect();
    for n in [n1, n2] {
        assert!(srcs.contains(&n), "[{n}] missing from {ceasefire:#}");
    }
    // Every agreed statement has two or more independent sources, one quote each, and
    // every quote is verbatim at the span it gives.
    for st in agreed {
        let quotes = st["quotes"].as_array().unwrap();
        let srcs = st["sources"].as_array().unwrap();
        assert!(srcs.len() >= 2, "{st:#}");
        assert_eq!(quotes.len(), srcs.len(), "{st:#}");
        for q in quotes {
            let n = q["citations"][0].as_u64().unwrap() as usize;
            let text = q["text"].as_str().unwrap();
            assert!(texts[n - 1].contains(text), "[{n}] does not say {text}");
        }
    }
}

#[test]
fn seeds_undated_report_is_placed_after_the_sixth_visit() {
    let (story, _) = seed_story();
    let (n2, n4) = (number_of(&story, "002_"), number_of(&story, "004_"));
    let placements = story["placements"].as_array().unwrap();
    let p = placements
        .iter()
        .find(|p| p["source"].as_u64() == Some(n4))
        .unwrap_or_else(|| panic!("004 not placed: {placements:#?}"));
    assert_eq!(p["after"], "2024-03-21", "{p:#}");
    assert_eq!(p["before"], Value::Null, "{p:#}");
    let ordinal = p["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["date"] == "2024-03-21")
        .unwrap();
    assert_eq!(ordinal["relation"], "after");
    let reason = ordinal["reason"].as_str().unwrap();
    assert!(
        reason.contains("seventh") && reason.contains("sixth"),
        "{reason}"
    );
    let cited: Vec<u64> = ordinal["quotes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["citations"][0].as_u64().unwrap())
        .collect();
    assert_eq!(cited, vec![n4, n2]);
    // Nothing dates the undated report itself.
    let undated = story["timeline"]["undated"].as_array().unwrap();
    assert!(undated
        .iter()
        .any(|c| c["article"] == "004_149a33a4e948dcde"));
}

#[test]
fn seeds_later_trip_is_its_own_event_in_the_same_story() {
    // 002 reports the sixth visit; 004, undated, the seventh round: a later trip, so an
    // event of its own, though in the same story as the March trip.
    let (story, _) = seed_story();
    let (n2, n4) = (number_of(&story, "002_"), number_of(&story, "004_"));
    let event_of = |n: u64| {
        story["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["sources"].as_array().unwrap().contains(&Value::from(n)))
            .map(|e| e["id"].clone())
            .unwrap_or_else(|| panic!("source {n} in no event: {:#}", story["events"]))
    };
    assert_ne!(event_of(n2), event_of(n4), "{:#}", story["events"]);
    let others: Vec<Value> = (1..=5).filter(|&n| n != n4).map(event_of).collect();
    assert!(
        others.iter().all(|e| *e == others[0]),
        "the March reports split: {:#}",
        story["events"]
    );
}
