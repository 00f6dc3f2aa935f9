//! Mutated inputs never panic the parsers or the per-article stages: a deterministic
//! mini-fuzzer that runs in CI (the `fuzz/` targets explore the same path for longer).

use storyline::ingest::{parse_bytes, Format};
use storyline::normalize::{self, Stemmer};

fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Byte-level mutations: flips, insertions of interesting bytes, deletions, splices.
fn mutate(seed: &[u8], state: &mut u64) -> Vec<u8> {
    const INTERESTING: &[&[u8]] = &[
        b"<",
        b">",
        b"&",
        b"&#x0;",
        b"\"",
        b"\\u0000",
        b"\xff",
        b"\xc3",
        b"\xe2\x80",
        b"\n",
        b"{",
        b"}",
        b"<![CDATA[",
        b"]]>",
        b"<!ENTITY x \"&x;\">",
        b"date 0000-00-00 ",
        b"9999999999999999999",
        b"\xf0\x9f\x98",
        b"U.S.",
        b". ",
        b"-",
        b"$",
        b"%",
    ];
    let mut out = seed.to_vec();
    for _ in 0..(1 + next(state) % 8) {
        let pos = if out.is_empty() {
            0
        } else {
            (next(state) as usize) % out.len()
        };
        match next(state) % 4 {
            0 if !out.is_empty() => out[pos] ^= 1 << (next(state) % 8),
            1 => {
                let ins = INTERESTING[(next(state) as usize) % INTERESTING.len()];
                out.splice(pos..pos, ins.iter().copied());
            }
            2 if !out.is_empty() => {
                let end = (pos + (next(state) as usize % 16)).min(out.len());
                out.drain(pos..end);
            }
            _ => {
                let from = (next(state) as usize) % seed.len().max(1);
                let len = (next(state) as usize % 32).min(seed.len().saturating_sub(from));
                out.splice(pos..pos, seed[from..from + len].iter().copied());
            }
        }
    }
    out
}

fn exercise(bytes: Vec<u8>, format: Format) {
    let stemmer = Stemmer::english();
    for record in parse_bytes(bytes, "mutant", format).into_iter().flatten() {
        let text = normalize::clean(&record.article.text);
        let sentences = normalize::split_sentences(&text);
        for s in &sentences {
            assert!(text.get(s.span.start..s.span.end).is_some());
        }
        let mentions = storyline::extract::mentions(&text, &sentences);
        for m in &mentions {
            assert!(text.get(m.span.start..m.span.end).is_some());
        }
        for f in storyline::extract::facts(&text, &sentences, &stemmer) {
            assert!(text.get(f.span.start..f.span.end).is_some());
        }
    }
}

const SEEDS: &[(Format, &str)] = &[
    (Format::Text, " date 2024-03-21 U.S. Secretary of State Antony Blinken met officials in Doha. About 40 hostages, a six-week pause.\n\nAdvertisment\nHis sixth visit — “since October 7”."),
    (Format::Jsonl, "{\"id\":\"a\",\"published\":\"2014-03-10T17:32:50Z\",\"source\":\"X\",\"title\":\"T\",\"text\":\"Mr. Smith said 1,200 homes burned.\\nMore than 2.5 million people fled.\"}\n{\"id\":2,\"text\":\"Déjà vu in São Paulo: 30 % up.\"}\n"),
    (Format::Html, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Vote</title><meta property=\"article:published_time\" content=\"2024-05-02T10:00:00Z\"></head><body><nav>Home</nav><article><h1>Vote</h1><p>The council voted 7 to 2 on Tuesday to approve the budget of $5 million after a long debate.</p><p>Residents packed the hall.</p></article></body></html>"),
    (Format::Feed, "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Wire</title><item><guid>g1</guid><title>Quake</title><pubDate>Tue, 10 Mar 2014 17:32:50 GMT</pubDate><description>&lt;p&gt;A strong quake struck; 12 people died.&lt;/p&gt;</description></item></channel></rss>"),
];

#[test]
fn mutated_inputs_never_panic() {
    let mut state = 42u64;
    for (format, seed) in SEEDS {
        exercise(seed.as_bytes().to_vec(), *format);
        for _ in 0..400 {
            let m = mutate(seed.as_bytes(), &mut state);
            exercise(m, *format);
        }
    }
}

#[test]
fn random_bytes_never_panic() {
    let mut state = 7u64;
    for format in [Format::Text, Format::Jsonl, Format::Html, Format::Feed] {
        for len in [0usize, 1, 7, 64, 1000] {
            let bytes: Vec<u8> = (0..len).map(|_| next(&mut state) as u8).collect();
            exercise(bytes, format);
        }
    }
}
