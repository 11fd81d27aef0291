//! The text analysis that indexing and searching share: how text is folded for matching, and
//! which grams (with their counts) a post's title and text make.

use super::grams::{doc_grams_into, page_only, DocGrams, GramScratch};
use crate::fold::fold_char;

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
/// article are counted under their ids, grams of the rest under `grams::page_only` ids. Positions
/// (of the grams that carry them) count characters from the start of the title for the title and
/// article, and from the start of the rest for the rest.
pub fn doc_grams(title: &str, article: &str, rest: &str) -> (DocGrams, String, u32) {
    thread_local! {
        static SCRATCH: std::cell::RefCell<GramScratch> = std::cell::RefCell::new(GramScratch::default());
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
    SCRATCH.with(|c| {
        let scratch = &mut *c.borrow_mut();
        let mut grams = DocGrams::default();
        doc_grams_into(&chars, |g| g, scratch, &mut grams);
        if !rest.is_empty() {
            doc_grams_into(&rest, page_only, scratch, &mut grams);
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

/// The article's own folded text in stored folded text (see [`doc_grams`]): between the title's
/// newline and the rest of the page. Empty when the text has no title line.
pub fn article_part(folded: &str) -> &str {
    let Some(first) = folded.find('\n') else {
        return "";
    };
    folded
        .get(first + 1..article_end(folded.as_bytes()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::grams::{pair, single, word};

    #[test]
    fn stored_text_is_title_article_then_the_rest_with_page_only_grams() {
        let (grams, folded, chars) = doc_grams("Title 标题", "正文 Alpha", "相关 Beta");
        assert_eq!(folded, "title 标题\n正文 alpha\n相关 beta");
        assert_eq!(chars, "正文 alpha".chars().count() as u32);
        assert_eq!(article_part(&folded), "正文 alpha");
        assert_eq!(
            &folded[..article_end(folded.as_bytes())],
            "title 标题\n正文 alpha"
        );
        let has = |g: u64| grams.grams.iter().any(|d| d.gram == g);
        assert!(has(pair('正', '文')) && has(word("alpha")) && has(single('标')));
        assert!(!has(pair('相', '关')) && !has(word("beta")));
        assert!(has(page_only(pair('相', '关'))) && has(page_only(word("beta"))));
        // No rest: no second newline, and the article runs to the end.
        let (_, folded, _) = doc_grams("t", "a b", "");
        assert_eq!((folded.as_str(), article_part(&folded)), ("t\na b", "a b"));
        assert_eq!(article_part("no title line"), "");
    }

    #[test]
    fn page_only_ids_never_meet_index_ids_of_cjk_grams() {
        for c in ['中', '\u{20000}', '\u{10FFFF}'] {
            let g = page_only(single(c));
            assert!(g >= 1 << 62 && g & (1 << 63) == 0);
            assert_ne!(page_only(pair(c, c)), pair(c, c));
        }
        assert!(page_only(word("x")) & (1 << 63) != 0);
        assert_ne!(page_only(word("x")), word("x"));
    }
}
