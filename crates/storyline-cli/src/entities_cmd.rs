//! `storyline entities` (the entities of the store, with filters) and
//! `storyline eval entities` (scores against a reference annotation).

use std::collections::HashMap;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use storyline::core::{EntityKind, StoryId};
use storyline::extract::article_entities;
use storyline::ingest::{self, Format};
use storyline::normalize;
use storyline::read::{self, EntityFilter};
use storyline::store::Store;
use storyline_eval::entities::score;

#[derive(Args)]
pub struct EntitiesArgs {
    /// Only this kind.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Only names or aliases containing this text (case-insensitive).
    #[arg(long)]
    name: Option<String>,
    /// Only entities mentioned in at least this many articles.
    #[arg(long, default_value_t = 1)]
    min_articles: usize,
    /// Only the entities of this story.
    #[arg(long)]
    story: Option<StoryId>,
    #[arg(long, default_value_t = 50)]
    limit: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Person,
    Organization,
    Place,
}

impl From<KindArg> for EntityKind {
    fn from(k: KindArg) -> EntityKind {
        match k {
            KindArg::Person => EntityKind::Person,
            KindArg::Organization => EntityKind::Organization,
            KindArg::Place => EntityKind::Place,
        }
    }
}

impl From<&EntitiesArgs> for EntityFilter {
    fn from(a: &EntitiesArgs) -> EntityFilter {
        EntityFilter {
            kind: a.kind.map(Into::into),
            name: a.name.clone(),
            story: a.story,
            min_articles: a.min_articles,
            limit: a.limit,
        }
    }
}

pub fn list(store: &Store, filter: &EntityFilter, json: bool) -> Result<ExitCode> {
    let entities = read::entities(store, filter)?;
    if json {
        crate::print::json(&entities)?;
    } else if entities.is_empty() {
        println!("No entities match.");
    } else {
        for e in &entities {
            let aliases = if e.aliases.is_empty() {
                String::new()
            } else {
                format!("  (also: {})", e.aliases.join(", "))
            };
            println!(
                "{:<13} {:>14} {:>13}  {}{aliases}",
                e.kind.as_str(),
                crate::print::plural(e.mentions, "mention"),
                crate::print::plural(e.articles.len(), "article"),
                e.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

type Names = HashMap<String, Vec<(String, EntityKind)>>;

fn read_reference(path: &Path) -> Result<Names> {
    let mut out = Names::new();
    for (id, v, _) in crate::eval::read_jsonl_by_id(path)? {
        let names = v["entities"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| {
                let kind = EntityKind::parse(e["label"].as_str()?);
                (kind != EntityKind::Other)
                    .then(|| (e["text"].as_str().unwrap_or("").to_string(), kind))
            })
            .collect();
        out.insert(id, names);
    }
    Ok(out)
}

pub fn eval_entities(articles: &Path, reference: &Path, json: bool) -> Result<ExitCode> {
    let mut ours = Names::new();
    for record in ingest::read_path(articles, Some(Format::Jsonl)) {
        let record = record?;
        let text = normalize::clean(&record.article.text);
        // Score what the text names (mention surfaces, typed by their canonical entity), not
        // the canonical names or the roles listed as aliases: the reference annotates
        // mentions.
        let entities = article_entities(&record.article.id, &text);
        let sentences = normalize::split_sentences(&text);
        let names: Vec<(String, EntityKind)> = storyline::extract::mentions(&text, &sentences)
            .into_iter()
            .filter_map(|m| {
                entities
                    .iter()
                    .find(|e| e.name == m.name || e.aliases.contains(&m.name))
                    .map(|e| (m.name, e.kind))
            })
            .collect();
        ours.insert(record.article.id, names);
    }
    if let Ok(dump) = std::env::var("STORYLINE_DUMP_ENTITIES") {
        // Debugging aid: what storyline found, in the reference's format.
        let lines: Vec<String> = ours
            .iter()
            .map(|(id, names)| {
                let ents: Vec<_> = names
                    .iter()
                    .map(|(n, k)| serde_json::json!({"text": n, "label": k.as_str()}))
                    .collect();
                serde_json::json!({"id": id, "entities": ents}).to_string()
            })
            .collect();
        std::fs::write(&dump, lines.join("\n")).with_context(|| format!("cannot write {dump}"))?;
    }
    let gold = read_reference(reference)?;
    let s = score(&ours, &gold);
    if json {
        crate::print::json(&s)?;
    } else {
        println!(
            "{} articles scored against {}",
            s.articles,
            reference.display()
        );
        let line = |label: &str, p: &storyline_eval::cluster::PRF| {
            println!(
                "{label:<13} P {:.3}  R {:.3}  F1 {:.3}",
                p.precision, p.recall, p.f1
            );
        };
        line("all (typed)", &s.typed);
        line("all (names)", &s.untyped);
        for (k, p) in &s.by_kind {
            line(k, p);
        }
    }
    Ok(ExitCode::SUCCESS)
}
