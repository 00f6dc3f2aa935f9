// Shared by every target: parse, then run the pure per-article stages on whatever came out,
// so a hostile input is followed all the way to what would be stored.
use storyline::ingest::{parse_bytes, Format};
use storyline::normalize::{self, Stemmer};

pub fn run(data: &[u8], name: &str, format: Format) {
    let stemmer = Stemmer::english();
    for record in parse_bytes(data.to_vec(), name, format).into_iter().flatten() {
        let text = normalize::clean(&record.article.text);
        let sentences = normalize::split_sentences(&text);
        for s in &sentences {
            assert!(text.get(s.span.start..s.span.end).is_some(), "sentence span off a char boundary");
        }
        let mentions = storyline::extract::mentions(&text, &sentences);
        for m in &mentions {
            assert!(text.get(m.span.start..m.span.end).is_some(), "mention span off a char boundary");
        }
        let _ = storyline::extract::facts(&text, &sentences, &stemmer);
        let _ = normalize::content_terms(&text, &stemmer);
    }
}
