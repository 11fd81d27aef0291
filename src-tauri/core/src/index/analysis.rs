//! The text analysis that indexing and searching share: how text is folded for matching, and
//! which grams (with their counts) a post's title and text make.

use super::grams::{doc_grams_into, page_only, DocGrams, GramScratch};
use crate::fold::fold_char;

/// Fold for matching: like `fold`, with runs of whitespace collapsed to one space and trimmed.
pub fn fold_for_match(s: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() / 2);
    fold_for_match_into(s, &mut out, &mut ());
    out
}

/// Where `fold_for_match_into` writes the folded text besides its characters.
trait FoldedText {
    fn push(&mut self, c: char);
    fn pop(&mut self);
}

impl FoldedText for () {
    fn push(&mut self, _: char) {}
    fn pop(&mut self) {}
}

impl FoldedText for String {
    fn push(&mut self, c: char) {
        String::push(self, c);
    }
    fn pop(&mut self) {
        String::pop(self);
    }
}

/// Append `s` folded for matching (as `fold_for_match` folds it on its own) to `chars`, and the
/// same characters to `text`: the stored text is made in the same pass (making it afterwards
/// from `chars`, one character at a time, was 2.4% of a cold index's profile samples; the cold
/// index is under 1% faster for this and the tables of `fold`, docs/ARCHITECTURE.md).
fn fold_for_match_into(s: &str, chars: &mut Vec<char>, text: &mut impl FoldedText) {
    let start = chars.len();
    for c in s.chars().filter_map(fold_char) {
        if c == ' ' && (chars.len() == start || chars.last() == Some(&' ')) {
            continue;
        }
        chars.push(c);
        text.push(c);
    }
    if chars.len() > start && chars.last() == Some(&' ') {
        chars.pop();
        text.pop();
    }
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
    // Folded text has at most as many characters as the text has bytes (each character folds to
    // one or none), and about as many bytes.
    let mut chars = Vec::with_capacity(title.len() + article.len() + rest.len() + 2);
    let mut folded = String::with_capacity(title.len() + article.len() + rest.len() + 2);
    fold_for_match_into(title, &mut chars, &mut folded);
    chars.push('\n');
    folded.push('\n');
    let title_len = chars.len();
    fold_for_match_into(article, &mut chars, &mut folded);
    let text_chars = (chars.len() - title_len) as u32;
    let article_end = chars.len();
    chars.push('\n');
    folded.push('\n');
    fold_for_match_into(rest, &mut chars, &mut folded);
    let has_rest = chars.len() > article_end + 1;
    if !has_rest {
        chars.pop();
        folded.pop();
    }
    let (chars, rest) = chars.split_at(article_end);
    let rest = rest.get(1..).unwrap_or_default();
    SCRATCH.with(|c| {
        let scratch = &mut *c.borrow_mut();
        let mut grams = DocGrams::default();
        doc_grams_into(chars, |g| g, scratch, &mut grams);
        if !rest.is_empty() {
            doc_grams_into(rest, page_only, scratch, &mut grams);
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
    use proptest::prelude::*;

    /// `doc_grams` as it was made until stop 38: each part folded on its own, the stored text
    /// collected from the characters afterwards.
    fn doc_grams_apart(title: &str, article: &str, rest: &str) -> (DocGrams, String, u32) {
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
        let mut scratch = GramScratch::default();
        let mut grams = DocGrams::default();
        doc_grams_into(&chars, |g| g, &mut scratch, &mut grams);
        if !rest.is_empty() {
            doc_grams_into(&rest, page_only, &mut scratch, &mut grams);
        }
        (grams, folded, text_chars)
    }

    fn part() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                " ", "  ", "\t", "\n", "\u{200B}", "\u{3000}", "a", "Ȿ", "É", "中", "國", "。",
                "“", "Ⅻ", "x1", "Ａ", "\u{0}", "ß",
            ]),
            0..24,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn folding_the_parts_in_one_pass_makes_what_folding_each_apart_made(
            title in part(), article in part(), rest in part()
        ) {
            let (grams, folded, chars) = doc_grams(&title, &article, &rest);
            let (want_grams, want_folded, want_chars) = doc_grams_apart(&title, &article, &rest);
            prop_assert_eq!(folded, want_folded);
            prop_assert_eq!(chars, want_chars);
            let sorted = |mut g: DocGrams| {
                let positions = g.grams.iter().map(|d| g.positions_of(d).to_vec()).collect::<Vec<_>>();
                let mut all: Vec<_> = g.grams.drain(..).map(|d| (d.gram, d.count)).zip(positions).collect();
                all.sort();
                all
            };
            prop_assert_eq!(sorted(grams), sorted(want_grams));
        }
    }

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
