#![no_main]
// The search box: whatever is typed, reading it never panics and what the store hands
// FTS5 parses. Runs the real search on a small store, so FTS5 itself judges the syntax.
use std::sync::OnceLock;

use storyline::search::Query;
use storyline::store::{ArticleFilter, Store};

fn store() -> &'static std::sync::Mutex<Store> {
    static STORE: OnceLock<std::sync::Mutex<Store>> = OnceLock::new();
    STORE.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("storyline-fuzz-search-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let db = dir.join("s.db");
        let mut p = storyline::pipeline::Pipeline::open(&db, Default::default()).expect("store");
        let records = storyline::ingest::parse_bytes(
            br#"{"id":"a","title":"U.S. envoy","text":"Blinken's visit: hostages, 40 of them, in Saudi-Arabia. A ceasefire (Gaza)."}"#.to_vec(),
            "seed.jsonl",
            storyline::ingest::Format::Jsonl,
        );
        p.ingest(records, |_| {}).expect("ingest");
        drop(p);
        std::sync::Mutex::new(Store::open(&db).expect("open"))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let typed = String::from_utf8_lossy(data);
    if let Ok(q) = Query::parse(&typed) {
        let store = store().lock().expect("store lock");
        if let Err(e) = store.search_query(&q, &ArticleFilter::default(), 5, 0, 5) {
            panic!("{typed:?} -> {q:?}: {e}");
        }
    }
});
