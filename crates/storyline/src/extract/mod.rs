//! Pure extraction from one article's text: named entities (with spans) and, across a set of
//! articles, their canonical names. No I/O and no state between calls.

mod dates;
mod entities;
mod facts;
mod gazetteer;
mod series;

pub use dates::{date_mentions, mentioned_days, DateMention, Granularity};
pub use entities::{canonical_entities, mentions, Mention};
pub use facts::{facts, Fact, FactKind, Precision};
pub(crate) use series::series_in;
pub use series::series_numbers;

use crate::core::{Entity, EntityKind};

/// The people, organisations and places of one cleaned text, under canonical names.
pub fn article_entities(id: &str, text: &str) -> Vec<Entity> {
    let sentences = crate::normalize::split_sentences(text);
    let found = mentions(text, &sentences);
    canonical_entities(found.iter().map(|m| (id, m)))
        .into_iter()
        .filter(|e| e.kind != EntityKind::Other)
        .collect()
}

/// The words of an entity's name that can make it an article's protagonist (the main
/// participant the clusterer compares, see `ClusterConfig::protagonist_min_tf`): those of a
/// person's name, without words that head organisation or place names or are titles.
/// Organisations and places name the setting more than who acts: ECB+ reports of one event
/// split off on "Center" (Betty Ford Center), "Winter" (Winter Meetings), "Gate", "Ave" and
/// "Kings" (the team), each said five times. And a name taken for a person's may still hold
/// such a word ("Betty Ford Center").
pub fn protagonist_words(entity: &Entity) -> impl Iterator<Item = &str> {
    let name = match entity.kind {
        EntityKind::Person => entity.name.as_str(),
        _ => "",
    };
    name.split_whitespace()
        .filter(|w| !entities::is_generic_name_word(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entity(name: &str, kind: EntityKind) -> Entity {
        Entity {
            name: name.to_string(),
            kind,
            aliases: Vec::new(),
            mentions: 1,
            articles: Vec::new(),
        }
    }

    #[test]
    fn protagonist_words_are_a_persons_name_without_generic_words() {
        let words = |name, kind| -> Vec<String> {
            protagonist_words(&entity(name, kind))
                .map(str::to_string)
                .collect()
        };
        assert_eq!(
            words("Wladimir Klitschko", EntityKind::Person),
            ["Wladimir", "Klitschko"]
        );
        // A place name's head word, in a name taken for a person's.
        assert_eq!(
            words("Betty Ford Center", EntityKind::Person),
            ["Betty", "Ford"]
        );
        assert_eq!(words("King Abdullah", EntityKind::Person), ["Abdullah"]);
        assert!(words("Sacramento Kings", EntityKind::Organization).is_empty());
        assert!(words("Gulf of Aden", EntityKind::Place).is_empty());
    }
}
