//! Matching folded text: what "the post contains this" means, used to verify index candidates,
//! to count term frequencies, and to place highlights. CJK text matches anywhere; a term that
//! starts or ends with a word character must start or end at a word boundary; a space in the
//! term matches any run of whitespace.

use crate::fold::is_word_char;

/// A folded needle, prepared once for linear-time matching: Knuth–Morris–Pratt over characters
/// (for folded text as chars) and memchr's `memmem` with a KMP fallback over bytes (for stored
/// folded text). Every search is O(text + needle), whatever the two contain: a long needle
/// that almost matches everywhere (`aaa…ab` in `aaa…`) costs no more than any other.
pub struct Needle {
    /// The needle, whitespace runs collapsed to one space and trimmed.
    chars: Vec<char>,
    /// KMP failure function of `chars`: `fail[i]` is the length of the longest proper prefix
    /// of `chars[..=i]` that is also its suffix.
    fail: Vec<usize>,
    /// `chars` as UTF-8.
    text: String,
    /// KMP failure function of the bytes of `text`.
    byte_fail: Vec<usize>,
    finder: memchr::memmem::Finder<'static>,
    word_start: bool,
    word_end: bool,
}

fn failure<T: PartialEq>(p: &[T]) -> Vec<usize> {
    let mut fail = vec![0; p.len()];
    let mut k = 0;
    for i in 1..p.len() {
        while k > 0 && p[i] != p[k] {
            k = fail[k - 1];
        }
        if p[i] == p[k] {
            k += 1;
        }
        fail[i] = k;
    }
    fail
}

impl Needle {
    /// None for a needle with nothing but whitespace in it (it matches nothing).
    pub fn new(needle: &[char]) -> Option<Needle> {
        let mut chars: Vec<char> = Vec::with_capacity(needle.len());
        for &c in needle {
            let c = if c.is_whitespace() { ' ' } else { c };
            if c == ' ' && (chars.is_empty() || chars.last() == Some(&' ')) {
                continue;
            }
            chars.push(c);
        }
        if chars.last() == Some(&' ') {
            chars.pop();
        }
        let (&first, &last) = (chars.first()?, chars.last()?);
        let text: String = chars.iter().collect();
        Some(Needle {
            fail: failure(&chars),
            byte_fail: failure(text.as_bytes()),
            finder: memchr::memmem::Finder::new(text.as_bytes()).into_owned(),
            word_start: is_word_char(first),
            word_end: is_word_char(last),
            chars,
            text,
        })
    }

    /// Every non-overlapping match in folded text, leftmost first, as char ranges. A space in
    /// the needle matches any run of whitespace; a needle that starts (ends) with a word
    /// character must start (end) at a word boundary. After a match the search goes on at its
    /// end. One pass over `hay`, with memory for one needle's worth of positions.
    pub fn find_all(&self, hay: &[char]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let p = &self.chars;
        let m = p.len();
        let first = p[0];
        // Original positions of the last `m` characters fed to KMP; `slot` is the oldest.
        let mut ring = vec![0usize; m];
        let mut slot = 0usize;
        let mut state = 0usize;
        let mut prev_ws = false;
        let mut i = 0usize;
        while i < hay.len() {
            if state == 0 {
                // No match in progress: none can start before the next `first` (never a space).
                let Some(off) = hay[i..].iter().position(|&c| c == first) else {
                    steps(hay.len() - i);
                    break;
                };
                steps(off);
                i += off;
                prev_ws = false;
            }
            let raw = hay[i];
            let ws = raw.is_whitespace();
            if ws && prev_ws {
                i += 1;
                continue;
            }
            prev_ws = ws;
            let c = if ws { ' ' } else { raw };
            ring[slot] = i;
            slot = if slot + 1 == m { 0 } else { slot + 1 };
            while state > 0 && p[state] != c {
                step();
                state = self.fail[state - 1];
            }
            step();
            if p[state] == c {
                state += 1;
            }
            i += 1;
            if state == m {
                // The needle starts and ends with a non-space, so its ends map to one character.
                let start = ring[slot];
                let end = i;
                let left_ok = !self.word_start || start == 0 || !is_word_char(hay[start - 1]);
                let right_ok = !self.word_end || end == hay.len() || !is_word_char(hay[end]);
                if left_ok && right_ok {
                    out.push((start, end));
                    state = 0;
                } else {
                    state = self.fail[m - 1];
                }
            }
        }
        out
    }

    /// How many matches `find_all` finds.
    pub fn count(&self, hay: &[char]) -> u32 {
        self.find_all(hay).len() as u32
    }

    /// Where the needle's bytes first occur in `hay`, whatever is around them (an occurrence
    /// that `count_bytes` counts is one of these).
    pub fn find_bytes(&self, hay: &[u8]) -> Option<usize> {
        self.finder.find(hay)
    }

    /// Whether `count_bytes` counts every occurrence of the needle's bytes, taken from the left
    /// without overlapping: no word boundary is asked at either end (a CJK needle's).
    pub fn counts_every_occurrence(&self) -> bool {
        !self.word_start && !self.word_end
    }

    /// The needle's length in bytes.
    pub fn byte_len(&self) -> usize {
        self.text.len()
    }

    /// Count matches in folded text stored as UTF-8 (from `fold_for_match`, so whitespace is
    /// already single spaces). Same rules as `find_all`. `hay` is not validated: a bad byte
    /// only fails to match.
    ///
    /// `memmem` finds the next occurrence fast; when it fails the word-boundary rule, KMP takes
    /// over from the end of that occurrence (so overlapping occurrences are still seen without
    /// searching again from just after its start) until no partial match is pending, and then
    /// `memmem` again. Each byte is looked at a bounded number of times.
    pub fn count_bytes(&self, hay: &[u8]) -> u32 {
        let p = self.text.as_bytes();
        let m = p.len();
        let mut n = 0;
        let mut pos = 0;
        'search: while pos < hay.len() {
            let Some(off) = self.finder.find(&hay[pos..]) else {
                steps(hay.len() - pos);
                break;
            };
            steps(off + m);
            // A whole match ends at `i`; KMP goes on from there.
            let mut i = pos + off + m;
            let mut state = m;
            loop {
                if state == m {
                    let start = i - m;
                    let left_ok =
                        !self.word_start || !char_before(hay, start).is_some_and(is_word_char);
                    let right_ok = !self.word_end || !char_at(hay, i).is_some_and(is_word_char);
                    if left_ok && right_ok {
                        n += 1;
                        pos = i;
                        continue 'search;
                    }
                    state = self.byte_fail[m - 1];
                }
                if state == 0 {
                    // No occurrence can start before `i`.
                    pos = i;
                    continue 'search;
                }
                let Some(&c) = hay.get(i) else {
                    break 'search;
                };
                while state > 0 && p[state] != c {
                    step();
                    state = self.byte_fail[state - 1];
                }
                step();
                if p[state] == c {
                    state += 1;
                }
                i += 1;
            }
        }
        n
    }
}

#[cfg(test)]
thread_local! {
    /// Characters and bytes examined by this thread's matching (for tests of the cost).
    static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
fn steps(n: usize) {
    STEPS.with(|s| s.set(s.get() + n as u64));
}

#[cfg(not(test))]
#[inline(always)]
fn steps(_: usize) {}

#[inline(always)]
fn step() {
    steps(1)
}

/// Find every non-overlapping match of `needle` in `hay` (both folded), as char ranges (see
/// `Needle::find_all`).
pub fn find_all(hay: &[char], needle: &[char]) -> Vec<(usize, usize)> {
    match Needle::new(needle) {
        Some(n) => n.find_all(hay),
        None => Vec::new(),
    }
}

/// Count matches of a folded needle in folded text stored as a string (see `Needle::count_bytes`).
pub fn count_str(hay: &[u8], needle: &str) -> u32 {
    let chars: Vec<char> = needle.chars().collect();
    Needle::new(&chars).map_or(0, |n| n.count_bytes(hay))
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

/// Each needle once (a query may repeat a term; each is looked for once).
fn distinct(needles: &[Vec<char>]) -> Vec<&Vec<char>> {
    let mut out: Vec<&Vec<char>> = needles.iter().collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// A piece of text to show, with highlighted ranges in characters (Unicode scalar values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Highlighted {
    pub text: String,
    pub highlights: Vec<[u32; 2]>,
}

/// Highlight every needle in a short text (a title), keeping the text as it is.
pub fn highlight(text: &str, needles: &[Vec<char>]) -> Highlighted {
    let char_ranges = to_char_ranges(text, byte_ranges(text, needles));
    Highlighted {
        text: text.to_string(),
        highlights: char_ranges,
    }
}

/// Byte ranges of every needle's matches in `text` (sorted, overlaps merged): the same folding
/// and word rules as the search itself, so the reader marks what the query matched.
pub fn match_byte_ranges(text: &str, needles: &[Vec<char>]) -> Vec<(usize, usize)> {
    let mut ranges = byte_ranges(text, needles);
    ranges.sort_unstable();
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
    for (s, e) in ranges {
        match out.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

/// Byte ranges in `text` of every match of every needle, in the order found.
fn byte_ranges(text: &str, needles: &[Vec<char>]) -> Vec<(usize, usize)> {
    let (folded, offsets) = crate::fold::fold_with_offsets(text);
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for n in distinct(needles) {
        ranges.extend(
            find_all(&folded, n)
                .into_iter()
                .map(|(s, e)| (offsets[s], offsets[e])),
        );
    }
    ranges
}

/// A snippet of about `width` characters around the first match of any needle, whitespace
/// collapsed, with the matches highlighted. Without matches, the start of the text.
pub fn snippet(text: &str, needles: &[Vec<char>], width: usize) -> Highlighted {
    let (folded, offsets) = crate::fold::fold_with_offsets(text);
    let mut matches: Vec<(usize, usize)> = Vec::new();
    for n in distinct(needles) {
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
    // Byte offset of each character (and of the end): one pass, then a binary search per range.
    let starts: Vec<usize> = text
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect();
    let char_of = |b: usize| starts.partition_point(|&s| s < b) as u32;
    ranges
        .into_iter()
        .map(|(s, e)| [char_of(s), char_of(e)])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::analysis::fold_for_match;

    fn f(s: &str) -> Vec<char> {
        fold_for_match(s)
    }

    /// The matcher as it was (O(text × needle)): the reference for what matches.
    fn naive_find_all(hay: &[char], needle: &[char]) -> Vec<(usize, usize)> {
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
        let mut out = Vec::new();
        let Some(&first) = needle.first() else {
            return out;
        };
        let word_start = is_word_char(first);
        let word_end = needle.last().is_some_and(|&c| is_word_char(c));
        let mut i = 0;
        while i < hay.len() {
            if hay[i] == first {
                if let Some(end) = match_at(hay, i, needle) {
                    let left_ok = !word_start || i == 0 || !is_word_char(hay[i - 1]);
                    let right_ok = !word_end || end == hay.len() || !is_word_char(hay[end]);
                    if left_ok && right_ok {
                        out.push((i, end));
                        i = end;
                        continue;
                    }
                }
            }
            i += 1;
        }
        out
    }

    fn steps_of(f: impl FnOnce()) -> u64 {
        STEPS.with(|s| s.set(0));
        f();
        STEPS.with(|s| s.get())
    }

    /// A needle that almost matches everywhere: the worst case of matching position by
    /// position, which looks at about text × needle characters (here 20 million).
    #[test]
    fn a_needle_that_almost_matches_everywhere_costs_linear_work() {
        let hay: Vec<char> = "a".repeat(20_000).chars().collect();
        let mut needle: Vec<char> = "a".repeat(1_000).chars().collect();
        needle.push('b');
        let budget = 4 * (hay.len() + needle.len()) as u64;
        let mut found = None;
        let steps = steps_of(|| found = Some(find_all(&hay, &needle)));
        assert_eq!(found, Some(Vec::new()));
        assert!(
            steps <= budget,
            "{steps} steps for find_all, budget {budget}"
        );

        // Every position holds an occurrence, and every occurrence fails the word boundary.
        let needle: Vec<char> = "a".repeat(1_000).chars().collect();
        let steps = steps_of(|| found = Some(find_all(&hay, &needle)));
        assert_eq!(found, Some(Vec::new()));
        assert!(
            steps <= budget,
            "{steps} steps for find_all, budget {budget}"
        );

        let hay_bytes = "a".repeat(20_000);
        let needle_str = "a".repeat(1_000);
        let mut n = None;
        let steps = steps_of(|| n = Some(count_str(hay_bytes.as_bytes(), &needle_str)));
        assert_eq!(n, Some(0));
        assert!(
            steps <= budget,
            "{steps} steps for count_str, budget {budget}"
        );
        let needle_str = format!("{}b", "a".repeat(1_000));
        let steps = steps_of(|| n = Some(count_str(hay_bytes.as_bytes(), &needle_str)));
        assert_eq!(n, Some(0));
        assert!(
            steps <= budget,
            "{steps} steps for count_str, budget {budget}"
        );
    }

    /// Strings over a few characters that make matches, near-matches, boundaries and whitespace
    /// runs common.
    fn small_text(max: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just('a'),
                Just('b'),
                Just(' '),
                Just('\n'),
                Just('-'),
                Just('两'),
                Just('岸'),
                Just('é'),
            ],
            0..max,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn linear_matching_finds_what_the_old_matcher_found(
            hay in small_text(40),
            needle in small_text(6),
        ) {
            // Hay as `fold_with_offsets` gives it (runs of spaces kept), needle as folded.
            let (hay_chars, _) = crate::fold::fold_with_offsets(&hay);
            let needle = fold_for_match(&needle);
            prop_assert_eq!(
                find_all(&hay_chars, &needle),
                naive_find_all(&hay_chars, &needle)
            );
            // Stored text is collapsed; counted over its bytes.
            let stored = fold_for_match(&hay);
            let stored_str: String = stored.iter().collect();
            let needle_str: String = needle.iter().collect();
            prop_assert_eq!(
                count_str(stored_str.as_bytes(), &needle_str),
                naive_find_all(&stored, &needle).len() as u32
            );
        }
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
