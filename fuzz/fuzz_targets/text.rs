#![no_main]
mod common;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    common::run(data, "fuzz.text", storyline::ingest::Format::Text);
});
