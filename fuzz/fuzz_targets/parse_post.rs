//! `post::parse` must never panic, whatever the bytes. Run: `cargo +nightly fuzz run parse_post`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shelfmark_core::post::{parse, ParseOptions};

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions { max_bytes: 1 << 20, ..Default::default() };
    let parsed = parse("2021-01-01-fuzz.md", data, &opts);
    if let Some(post) = parsed.post {
        // Spans must lie inside the file.
        for span in &post.key_spans {
            assert!(span.start <= span.end && span.end <= data.len());
        }
        assert!(post.body_offset <= data.len());
    }
});
