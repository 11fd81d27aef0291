//! Folding makes equivalent text compare equal for search: Traditional → Simplified Chinese,
//! full-width → half-width, case, and invisible characters dropped. It works one character at a
//! time and never changes a character into more than one, so positions in folded text map back to
//! the original (which snippets and highlights need).

use std::sync::OnceLock;

mod t2s;

/// The range of the table of Traditional → Simplified mappings (all of the BMP's CJK blocks).
const T2S_FIRST: u32 = 0x3400;
const T2S_LAST: u32 = 0xFAFF;

/// Every character of the range as it folds: itself, or its pair in `t2s::PAIRS`. One character
/// at a time, with no neighbours, so the mapping is context-free: the same character folds the
/// same way in a post and in a query.
fn t2s_table() -> &'static [char] {
    static TABLE: OnceLock<Vec<char>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: Vec<char> = (T2S_FIRST..=T2S_LAST)
            .map(|cp| char::from_u32(cp).unwrap_or(' '))
            .collect();
        for &(from, to) in t2s::PAIRS {
            if let Some(slot) = (from as u32)
                .checked_sub(T2S_FIRST)
                .and_then(|i| table.get_mut(i as usize))
            {
                *slot = to;
            }
        }
        table
    })
}

/// Characters that carry no text: zero-width, bidi controls, soft hyphen, BOM, and controls.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{180E}')
        || (c.is_control() && !c.is_whitespace())
}

/// Fold one character; `None` means the character is dropped.
#[inline]
pub fn fold_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return Some(if c.is_ascii_whitespace() {
            ' '
        } else if c.is_ascii_control() {
            return None;
        } else {
            c.to_ascii_lowercase()
        });
    }
    let cp = c as u32;
    if (T2S_FIRST..=T2S_LAST).contains(&cp) {
        return Some(t2s_table()[(cp - T2S_FIRST) as usize]);
    }
    if let Some(&f) = cp
        .checked_sub(PUNCTUATION.start)
        .and_then(|i| punctuation_table().get(i as usize))
    {
        return f;
    }
    fold_other(c)
}

/// General Punctuation to CJK Symbols and Punctuation (`、。“”…`): the punctuation of Chinese
/// text, whose folding (`fold_other`, through the whitespace, control and lower-case tables)
/// was 2% of a cold index's profile samples, looked up instead in a table made from it.
const PUNCTUATION: std::ops::Range<u32> = 0x2000..0x3040;

/// The characters of `PUNCTUATION` as `fold_other` folds them.
fn punctuation_table() -> &'static [Option<char>] {
    static TABLE: OnceLock<Vec<Option<char>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        PUNCTUATION
            .map(|cp| char::from_u32(cp).and_then(fold_other))
            .collect()
    })
}

/// `fold_char` of a character that is neither ASCII nor in the tables.
fn fold_other(c: char) -> Option<char> {
    let cp = c as u32;
    if (0xFF01..=0xFF5E).contains(&cp) {
        // Full-width ASCII forms.
        let half = char::from_u32(cp - 0xFEE0).unwrap_or(c);
        return Some(half.to_ascii_lowercase());
    }
    if is_invisible(c) {
        return None;
    }
    if c.is_whitespace() {
        return Some(' ');
    }
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(l), None) => Some(l),
        _ => Some(c),
    }
}

/// Fold a whole string (see the module docs).
pub fn fold(s: &str) -> String {
    s.chars().filter_map(fold_char).collect()
}

/// Fold a string and remember, for every folded character, the byte offset of the original
/// character it came from. The last entry is `s.len()`, so spans can be mapped back.
pub fn fold_with_offsets(s: &str) -> (Vec<char>, Vec<usize>) {
    let mut chars = Vec::with_capacity(s.len() / 2);
    let mut offsets = Vec::with_capacity(s.len() / 2 + 1);
    for (i, c) in s.char_indices() {
        if let Some(f) = fold_char(c) {
            chars.push(f);
            offsets.push(i);
        }
    }
    offsets.push(s.len());
    (chars, offsets)
}

/// Scripts written without spaces between words, indexed character by character.
#[inline]
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3400..=0x4DBF   // CJK Extension A
        | 0x4E00..=0x9FFF   // CJK Unified Ideographs
        | 0xAC00..=0xD7AF   // Hangul syllables
        | 0xF900..=0xFAFF   // CJK Compatibility Ideographs
        | 0x20000..=0x3134F // CJK Extensions B–G
        | 0x3005 | 0x3007)
}

/// Characters that make up Latin-style words (letters and digits of scripts that use spaces).
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    let Some(i) = (c as u32).checked_sub(0x80) else {
        return false;
    };
    match word_table().get(i as usize / 64) {
        Some(bits) => bits >> (i % 64) & 1 == 1,
        None => is_word_char_slow(c),
    }
}

/// Below CJK Extension A (U+3400): Chinese punctuation (`、。“”`), which `is_alphanumeric`
/// looked up in its tables one by one (1.2% of a cold index's profile samples), is in this
/// range with the letters and digits of the alphabets that use spaces.
const WORD_TABLE_END: u32 = 0x3400;

/// One bit per character from U+0080 to `WORD_TABLE_END`, set where `is_word_char_slow` holds.
fn word_table() -> &'static [u64] {
    static TABLE: OnceLock<Vec<u64>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut bits = vec![0u64; (WORD_TABLE_END - 0x80).div_ceil(64) as usize];
        for cp in 0x80..WORD_TABLE_END {
            if char::from_u32(cp).is_some_and(is_word_char_slow) {
                let i = (cp - 0x80) as usize;
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        bits
    })
}

fn is_word_char_slow(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_of_punctuation_and_word_characters_answer_as_the_functions_they_come_from() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            assert_eq!(is_word_char(c), is_word_char_slow(c), "{:?}", c);
            let cp = c as u32;
            if !c.is_ascii() && !(T2S_FIRST..=T2S_LAST).contains(&cp) {
                assert_eq!(fold_char(c), fold_other(c), "{:?}", c);
            }
        }
        // The tables are not all of one answer.
        assert!(is_word_char('é') && is_word_char('Ⅻ') && !is_word_char('。'));
        assert_eq!(fold_char('\u{2003}'), Some(' '));
        assert_eq!(fold_char('\u{200B}'), None);
        assert_eq!(fold_char('Ⅻ'), Some('ⅻ'));
        assert_eq!(fold_char('“'), Some('“'));
    }

    #[test]
    fn the_table_is_fast2s_character_by_character() {
        let mut buf = [0u8; 4];
        let mut differ = 0;
        for cp in T2S_FIRST..=T2S_LAST {
            let Some(c) = char::from_u32(cp) else {
                continue;
            };
            let want = fast2s::convert(c.encode_utf8(&mut buf))
                .chars()
                .next()
                .unwrap_or(c);
            assert_eq!(fold_char(c), Some(want), "U+{cp:04X} {c}");
            differ += usize::from(want != c);
        }
        assert_eq!(differ, t2s::PAIRS.len());
        assert!(t2s::PAIRS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn traditional_folds_to_simplified() {
        assert_eq!(fold("兩岸關係"), fold("两岸关系"));
        assert_eq!(fold("臺灣"), "台湾");
        assert_eq!(fold("乾"), fold("干"));
    }

    #[test]
    fn full_width_folds_to_half_width_and_case_folds() {
        assert_eq!(fold("ＡＢＣ１２３！"), "abc123!");
        assert_eq!(fold("iPhone"), "iphone");
        assert_eq!(fold("ÉCOLE"), "école");
    }

    #[test]
    fn invisible_characters_are_dropped_and_spaces_unified() {
        assert_eq!(fold("a\u{200B}b\u{FEFF}c"), "abc");
        assert_eq!(fold("a\u{3000}b\u{00A0}c\nd"), "a b c d");
    }

    #[test]
    fn offsets_map_folded_characters_back() {
        let s = "x\u{200B}兩岸";
        let (chars, offsets) = fold_with_offsets(s);
        assert_eq!(chars, vec!['x', '两', '岸']);
        assert_eq!(offsets, vec![0, 4, 7, 10]);
    }

    #[test]
    fn folding_is_idempotent_on_cjk_blocks() {
        for cp in (0x4E00u32..0x9FFF).step_by(7) {
            let c = char::from_u32(cp).unwrap();
            let once = fold_char(c).unwrap();
            assert_eq!(fold_char(once), Some(once), "{c} → {once}");
        }
    }
}
