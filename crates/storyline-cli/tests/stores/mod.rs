//! What the tests that compare stores share: the binary run on a store, and an export
//! renumbered so that two stores compare by how they filed the articles, not by ids.

// Each test crate that includes this module uses part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

pub fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// `storyline --db DB --quiet ARGS…`, which must succeed; its standard output.
pub fn storyline(db: &str, args: &[&str]) -> String {
    let out: Output = Command::new(env!("CARGO_BIN_EXE_storyline"))
        .args(["--db", db, "--quiet"])
        .args(args)
        .output()
        .expect("run storyline");
    assert!(
        out.status.success(),
        "storyline --db {db} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:.300}"))
}

/// An export with events and stories renumbered in order of first appearance, so that two
/// stores that filed the same articles together, in the same order, compare equal whatever
/// their ids.
pub fn renumbered(export: &str) -> Vec<Value> {
    let mut events: HashMap<i64, usize> = HashMap::new();
    let mut stories: HashMap<i64, usize> = HashMap::new();
    export
        .lines()
        .map(|line| {
            let mut a = json(line);
            for (field, seen) in [("event", &mut events), ("story", &mut stories)] {
                let id = a[field].as_i64().expect("an id");
                let next = seen.len();
                a[field] = Value::from(*seen.entry(id).or_insert(next));
            }
            a
        })
        .collect()
}
