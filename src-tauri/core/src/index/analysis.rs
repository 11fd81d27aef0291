//! The text analysis that indexing and searching share: how text is folded for matching, and
//! which grams (with their counts) a post's title and text make.

use super::grams::{count_doc_grams, page_only};
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

/// The grams of a post's title, article and the rest of its page, the three folded for matching
/// and stored as `title \n article \n rest` (the last `\n` and `rest` only when there is a rest;
/// folded text has no other `\n`), and the article's length in characters. Grams of the title and
/// article are counted under their ids, grams of the rest under `grams::page_only` ids.
pub fn doc_grams(title: &str, article: &str, rest: &str) -> (Vec<(u64, u32)>, String, u32) {
    thread_local! {
        static COUNTS: std::cell::RefCell<FxHashMap<u64, u32>> = std::cell::RefCell::new(FxHashMap::default());
    }
    let mut chars = fold_for_match(title);
    chars.push('\n');
    let title_len = chars.len();
    chars.extend(fold_for_match(article));
    let text_chars = (chars.len() - title_len) as u32;
    let rest = fold_for_match(rest);
    let mut folded: String = chars.iter().collect();
    if !rest.is_empty() {
        folded.push('\n');
        folded.extend(rest.iter());
    }
    COUNTS.with(|c| {
        let mut counts = c.borrow_mut();
        count_doc_grams(&chars, &mut counts);
        let mut grams: Vec<(u64, u32)> = counts.iter().map(|(&g, &n)| (g, n)).collect();
        if !rest.is_empty() {
            count_doc_grams(&rest, &mut counts);
            grams.extend(counts.iter().map(|(&g, &n)| (page_only(g), n)));
        }
        (grams, folded, text_chars)
    })
}

/// The end (in bytes) of the title and article in stored folded text (see [`doc_grams`]): where
/// the rest of the page starts, or the end.
pub fn article_end(folded: &[u8]) -> usize {
    memchr::memchr(b'\n', folded)
        .and_then(|first| memchr::memchr(b'\n', folded.get(first + 1..)?).map(|p| first + 1 + p))
        .unwrap_or(folded.len())
}
