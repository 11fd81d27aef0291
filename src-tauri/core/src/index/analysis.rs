//! The text analysis that indexing and searching share: how text is folded for matching, and
//! which grams (with their counts) a post's title and text make.

use super::grams::count_doc_grams;
use crate::fold::fold_char;
use rustc_hash::FxHashMap;

/// Fold for matching: like `fold`, with runs of whitespace collapsed to one space and trimmed.
pub fn fold_for_match(s: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() / 2);
    for c in s.chars().filter_map(fold_char) {
        if c == ' ' && (out.is_empty() || out.last() == Some(&' ')) {
            continue;
        }
        out.push(c);
    }
    if out.last() == Some(&' ') {
        out.pop();
    }
    out
}

/// The grams of a post's title and text, the two folded for matching (title, newline, text),
/// and the text's length in characters.
pub fn doc_grams(title: &str, text: &str) -> (Vec<(u64, u32)>, String, u32) {
    thread_local! {
        static COUNTS: std::cell::RefCell<FxHashMap<u64, u32>> = std::cell::RefCell::new(FxHashMap::default());
    }
    let mut chars = fold_for_match(title);
    chars.push('\n');
    let title_len = chars.len();
    chars.extend(fold_for_match(text));
    let text_chars = (chars.len() - title_len) as u32;
    let folded: String = chars.iter().collect();
    COUNTS.with(|c| {
        let mut counts = c.borrow_mut();
        count_doc_grams(&chars, &mut counts);
        (
            counts.iter().map(|(&g, &n)| (g, n)).collect(),
            folded,
            text_chars,
        )
    })
}
