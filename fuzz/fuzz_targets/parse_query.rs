//! The query parser and the matcher must never panic. Run: `cargo +nightly fuzz run parse_query`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = shelfmark_core::search::query::parse(s);
        let folded = shelfmark_core::search::matcher::fold_for_match(s);
        let _ = shelfmark_core::search::grams::plan_atom(&folded);
        let _ = shelfmark_core::search::matcher::snippet(s, &[folded], 40);
    }
});
