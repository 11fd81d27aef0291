//! Matching folded text: what "the post contains this" means, used to verify index candidates,
//! to count term frequencies, and to place highlights. CJK text matches anywhere; a term that
//! starts or ends with a word character must start or end at a word boundary; a space in the
//! term matches any run of whitespace.

use crate::fold::{fold_char, is_word_char};

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

/// Find every non-overlapping match of `needle` in `hay` (both folded), as char ranges.
pub fn find_all(hay: &[char], needle: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let Some(&first) = needle.first() else {
        return out;
    };
    let word_start = is_word_char(first);
    let word_end = needle.last().is_some_and(|&c| is_word_char(c));
    let mut i = 0;
    while i < hay.len() {
        if hay[i] != first {
            i += 1;
            continue;
        }
        if let Some(end) = match_at(hay, i, needle) {
            let left_ok = !word_start || i == 0 || !is_word_char(hay[i - 1]);
            let right_ok = !word_end || end == hay.len() || !is_word_char(hay[end]);
            if left_ok && right_ok {
                out.push((i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Count matches of a folded needle in folded text stored as a string (both from
/// `fold_for_match`, so whitespace is already single spaces). Same rules as `find_all`.
/// `hay` is UTF-8 bytes (not validated: a bad byte only fails to match).
pub fn count_str(hay: &[u8], needle: &str) -> u32 {
    let Some(first) = needle.chars().next() else {
        return 0;
    };
    let word_start = is_word_char(first);
    let word_end = needle.chars().next_back().is_some_and(is_word_char);
    let mut n = 0;
    let mut from = 0;
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    while let Some(pos) = finder.find(&hay[from..]) {
        let start = from + pos;
        let end = start + needle.len();
        let left_ok = !word_start || !char_before(hay, start).is_some_and(is_word_char);
        let right_ok = !word_end || !char_at(hay, end).is_some_and(is_word_char);
        if left_ok && right_ok {
            n += 1;
            from = end;
        } else {
            from = start + first.len_utf8();
        }
    }
    n
}

fn char_at(s: &[u8], i: usize) -> Option<char> {
    let end = (i + 4).min(s.len());
    let chunk = s.get(i..end)?;
    match std::str::from_utf8(chunk) {
        Ok(t) => t.chars().next(),
        Err(e) => std::str::from_utf8(&chunk[..e.valid_up_to()])
            .ok()?
            .chars()
            .next(),
    }
}

fn char_before(s: &[u8], i: usize) -> Option<char> {
    let mut start = i.checked_sub(1)?;
    while start > 0 && i - start < 4 && (s[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    std::str::from_utf8(s.get(start..i)?).ok()?.chars().next()
}

/// Count matches (see `find_all`) without collecting them.
pub fn count(hay: &[char], needle: &[char]) -> u32 {
    find_all(hay, needle).len() as u32
}

fn match_at(hay: &[char], start: usize, needle: &[char]) -> Option<usize> {
    let mut h = start;
    for &n in needle {
        if n == ' ' {
            if h >= hay.len() || !hay[h].is_whitespace() {
                return None;
            }
            while h < hay.len() && hay[h].is_whitespace() {
                h += 1;
            }
        } else {
            if h >= hay.len() || hay[h] != n {
                return None;
            }
            h += 1;
        }
    }
    Some(h)
}

/// A piece of text to show, with highlighted ranges in characters (Unicode scalar values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Highlighted {
    pub text: String,
    pub highlights: Vec<[u32; 2]>,
}

/// Highlight every needle in a short text (a title), keeping the text as it is.
pub fn highlight(text: &str, needles: &[Vec<char>]) -> Highlighted {
    let (folded, offsets) = crate::fold::fold_with_offsets(text);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for n in needles {
        ranges.extend(
            find_all(&folded, n)
                .into_iter()
                .map(|(s, e)| (offsets[s], offsets[e])),
        );
    }
    let char_ranges = to_char_ranges(text, ranges);
    Highlighted {
        text: text.to_string(),
        highlights: char_ranges,
    }
}

/// A snippet of about `width` characters around the first match of any needle, whitespace
/// collapsed, with the matches highlighted. Without matches, the start of the text.
pub fn snippet(text: &str, needles: &[Vec<char>], width: usize) -> Highlighted {
    let (folded, offsets) = crate::fold::fold_with_offsets(text);
    let mut matches: Vec<(usize, usize)> = Vec::new();
    for n in needles {
        matches.extend(find_all(&folded, n));
    }
    matches.sort_unstable();
    let first = matches.first().map(|m| m.0).unwrap_or(0);
    // Start a little before the first match, on a whitespace boundary when one is near.
    let mut start = first.saturating_sub(width / 4);
    if start > 0 {
        if let Some(ws) = (start..first).find(|&i| folded[i] == ' ') {
            start = ws + 1;
        }
    }
    let end = (start + width).min(folded.len());
    let byte_start = offsets[start];
    let byte_end = offsets[end];
    let byte_ranges: Vec<(usize, usize)> = matches
        .iter()
        .filter(|(s, e)| *s >= start && *e <= end)
        .map(|&(s, e)| (offsets[s] - byte_start, offsets[e] - byte_start))
        .collect();
    let slice = &text[byte_start..byte_end];
    // Collapse whitespace while mapping the ranges through.
    let mut out = String::with_capacity(slice.len());
    let mut map = Vec::with_capacity(slice.len() + 1); // byte offset in slice → char index in out
    let mut chars_out = 0u32;
    let mut prev_space = true;
    for (i, c) in slice.char_indices() {
        for _ in map.len()..=i {
            map.push(chars_out);
        }
        if c.is_whitespace() || crate::fold::is_invisible(c) {
            if !prev_space && c.is_whitespace() {
                out.push(' ');
                chars_out += 1;
                prev_space = true;
            }
            continue;
        }
        prev_space = false;
        out.push(c);
        chars_out += 1;
    }
    for _ in map.len()..=slice.len() {
        map.push(chars_out);
    }
    let mut highlights: Vec<[u32; 2]> = byte_ranges
        .into_iter()
        .map(|(s, e)| [map[s], map[e]])
        .filter(|[s, e]| e > s)
        .collect();
    let trimmed_end = out.trim_end().chars().count() as u32;
    for h in &mut highlights {
        h[1] = h[1].min(trimmed_end);
    }
    let mut text_out = out.trim_end().to_string();
    if start > 0 {
        text_out.insert(0, '…');
        for h in &mut highlights {
            h[0] += 1;
            h[1] += 1;
        }
    }
    if end < folded.len() {
        text_out.push('…');
    }
    Highlighted {
        text: text_out,
        highlights,
    }
}

fn to_char_ranges(text: &str, mut ranges: Vec<(usize, usize)>) -> Vec<[u32; 2]> {
    ranges.sort_unstable();
    let mut out = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        let cs = text[..s].chars().count() as u32;
        let ce = cs + text[s..e].chars().count() as u32;
        out.push([cs, ce]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Vec<char> {
        fold_for_match(s)
    }

    #[test]
    fn cjk_matches_anywhere_and_traditional_matches_simplified() {
        assert_eq!(count(&f("关于兩岸关系的两岸问题"), &f("两岸")), 2);
        assert_eq!(count(&f("台湾"), &f("臺灣")), 1);
    }

    #[test]
    fn latin_terms_match_whole_words_only() {
        assert_eq!(count(&f("The art of starting"), &f("art")), 1);
        assert_eq!(count(&f("start STARTS"), &f("start")), 1);
        assert_eq!(count(&f("iPhone手机 xiPhone手机"), &f("iphone手机")), 1);
    }

    #[test]
    fn spaces_in_a_phrase_match_any_whitespace() {
        assert_eq!(count(&f("climate\n\n  change"), &f("Climate change")), 1);
    }

    #[test]
    fn snippet_highlights_the_match_in_original_text() {
        let text = "第一段。\n\n這是關於兩岸關係的報道，两岸都关注。";
        let s = snippet(text, &[f("两岸")], 40);
        let chars: Vec<char> = s.text.chars().collect();
        assert_eq!(s.highlights.len(), 2);
        for [a, b] in &s.highlights {
            let got: String = chars[*a as usize..*b as usize].iter().collect();
            assert!(got == "兩岸" || got == "两岸", "{got}");
        }
    }

    #[test]
    fn title_highlight_uses_char_offsets() {
        let h = highlight("“Vaccine” 疫苗 news", &[f("疫苗"), f("vaccine")]);
        assert_eq!(h.highlights, vec![[1, 8], [10, 12]]);
    }
}
