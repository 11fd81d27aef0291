//! The n-grams of the text index. CJK text is indexed as single characters, adjacent pairs and
//! adjacent triples, so a query of any length can be answered: one, two or three characters
//! exactly from one posting list, longer runs by intersecting triples and verifying candidates
//! against the text. Other scripts are indexed as whole words. Everything here works on *folded*
//! text (see `crate::fold`).
//!
//! A gram is a 64-bit id: CJK grams pack their characters exactly; words are hashed (FNV-1a) with
//! the top bit set, so the two kinds never meet. The ids are part of the on-disk format.

use crate::fold::{is_cjk, is_word_char};
use rustc_hash::FxHashMap;

pub type GramId = u64;

/// Words longer than this many bytes are indexed by their first bytes and always verified.
pub const MAX_WORD_BYTES: usize = 64;

const PAIR_TAG: u64 = 1 << 42;
/// Marks a CJK triple: three characters of 18 bits each in bits 0..=53 (every CJK character is
/// below U+40000; a triple with a character above has no id and is looked up by its pairs).
const TRIPLE_TAG: u64 = 1 << 61;
const WORD_TAG: u64 = 1 << 63;

/// Marks the page-only twin of a CJK gram (CJK ids use bits 0..=42).
const PAGE_TAG: u64 = 1 << 62;

/// The id under which a gram is indexed when it occurs only outside the article (in the page
/// around it): CJK grams get a bit no CJK gram has; words are hashed again (still with the top
/// bit, so they never meet a CJK gram). A post's postings of `g` count the gram in its title and
/// article, those of `page_only(g)` in the rest of its page.
pub fn page_only(g: GramId) -> GramId {
    if g & WORD_TAG == 0 {
        g | PAGE_TAG
    } else {
        WORD_TAG | ((g ^ 0x5bd1_e995_9e37_79b9).wrapping_mul(0x0100_0000_01b3) >> 1)
    }
}

pub fn single(c: char) -> GramId {
    c as u64
}

pub fn pair(a: char, b: char) -> GramId {
    PAIR_TAG | ((a as u64) << 21) | b as u64
}

/// Three adjacent CJK characters, when each is below U+40000. A pair never has bit 61 and a
/// single is below 2^21, so the three kinds (and their page-only twins, bit 62) never meet.
pub fn triple(a: char, b: char, c: char) -> Option<GramId> {
    let (a, b, c) = (a as u64, b as u64, c as u64);
    ((a | b | c) < 1 << 18).then_some(TRIPLE_TAG | (a << 36) | (b << 18) | c)
}

pub fn word(w: &str) -> GramId {
    let bytes = truncate_word(w).as_bytes();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    WORD_TAG | (h >> 1)
}

fn truncate_word(w: &str) -> &str {
    if w.len() <= MAX_WORD_BYTES {
        return w;
    }
    let mut end = MAX_WORD_BYTES;
    while !w.is_char_boundary(end) {
        end -= 1;
    }
    &w[..end]
}

/// One token of folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token<'a> {
    /// A run of CJK characters.
    Cjk(&'a [char]),
    /// A run of word characters.
    Word(String),
}

/// Split folded characters into CJK runs and words; everything else separates tokens.
pub fn tokens(chars: &[char]) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_cjk(c) {
            let start = i;
            while i < chars.len() && is_cjk(chars[i]) {
                i += 1;
            }
            out.push(Token::Cjk(&chars[start..i]));
        } else if is_word_char(c) {
            let start = i;
            while i < chars.len() && is_word_char(chars[i]) {
                i += 1;
            }
            out.push(Token::Word(chars[start..i].iter().collect()));
        } else {
            i += 1;
        }
    }
    out
}

/// Count every gram of a document's folded text into `counts` (cleared first).
pub fn count_doc_grams(chars: &[char], counts: &mut FxHashMap<GramId, u32>) {
    counts.clear();
    let mut i = 0;
    let mut word_buf = String::new();
    while i < chars.len() {
        let c = chars[i];
        if is_cjk(c) {
            *counts.entry(single(c)).or_insert(0) += 1;
            if let Some(&next) = chars.get(i + 1).filter(|&&n| is_cjk(n)) {
                *counts.entry(pair(c, next)).or_insert(0) += 1;
                if let Some(&third) = chars.get(i + 2).filter(|&&t| is_cjk(t)) {
                    if let Some(t) = triple(c, next, third) {
                        *counts.entry(t).or_insert(0) += 1;
                    }
                }
            }
            i += 1;
        } else if is_word_char(c) {
            word_buf.clear();
            while i < chars.len() && is_word_char(chars[i]) {
                word_buf.push(chars[i]);
                i += 1;
            }
            *counts.entry(word(&word_buf)).or_insert(0) += 1;
        } else {
            i += 1;
        }
    }
}

/// How a query atom is looked up in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomPlan {
    /// Grams every matching document must contain.
    pub grams: Vec<GramId>,
    /// True when the posting list of the single gram is exactly the answer (no verification).
    pub exact: bool,
}

/// Plan the lookup of a folded query atom.
pub fn plan_atom(chars: &[char]) -> AtomPlan {
    let toks = tokens(chars);
    let mut grams = Vec::new();
    for t in &toks {
        match t {
            Token::Cjk(run) if run.len() == 1 => grams.push(single(run[0])),
            Token::Cjk(run) if run.len() == 2 => grams.push(pair(run[0], run[1])),
            Token::Cjk(run) => {
                let triples: Option<Vec<GramId>> =
                    run.windows(3).map(|w| triple(w[0], w[1], w[2])).collect();
                match triples {
                    Some(t) => grams.extend(t),
                    None => grams.extend(run.windows(2).map(|w| pair(w[0], w[1]))),
                }
            }
            Token::Word(w) => grams.push(word(w)),
        }
    }
    grams.sort_unstable();
    grams.dedup();
    let whole_atom_is_one_token = match toks.as_slice() {
        [Token::Cjk(run)] => run.len() <= 3 && run.len() == chars.len(),
        [Token::Word(w)] => w.len() <= MAX_WORD_BYTES && w.chars().count() == chars.len(),
        _ => false,
    };
    AtomPlan {
        exact: whole_atom_is_one_token && grams.len() == 1,
        grams,
    }
}

/// Append one posting (document id, term frequency) to an encoded posting list.
/// Format: varint((delta << 1) | (tf != 1)), then varint(tf) when the flag is set.
pub fn encode_posting(buf: &mut impl Extend<u8>, last_doc: &mut Option<u32>, doc: u32, tf: u32) {
    let delta = match *last_doc {
        Some(prev) => doc.wrapping_sub(prev) as u64,
        None => doc as u64,
    };
    *last_doc = Some(doc);
    put_varint(buf, (delta << 1) | u64::from(tf != 1));
    if tf != 1 {
        put_varint(buf, tf as u64);
    }
}

/// Decode a posting list, appending `(doc, tf)` pairs. Stops quietly at a truncated list.
pub fn decode_postings(mut bytes: &[u8], out: &mut Vec<(u32, u32)>) {
    let mut doc: Option<u32> = None;
    while !bytes.is_empty() {
        let Some(v) = get_varint(&mut bytes) else {
            return;
        };
        let delta = (v >> 1) as u32;
        let d = match doc {
            Some(prev) => prev.wrapping_add(delta),
            None => delta,
        };
        doc = Some(d);
        let tf = if v & 1 == 1 {
            match get_varint(&mut bytes) {
                Some(tf) => tf as u32,
                None => return,
            }
        } else {
            1
        };
        out.push((d, tf));
    }
}

fn put_varint(buf: &mut impl Extend<u8>, mut v: u64) {
    let mut bytes = [0u8; 10];
    let mut n = 0;
    while v >= 0x80 {
        bytes[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    bytes[n] = v as u8;
    buf.extend(bytes[..=n].iter().copied());
}

fn get_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        if shift >= 64 {
            return None;
        }
        v |= ((b & 0x7F) as u64) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fold::fold;

    fn chars(s: &str) -> Vec<char> {
        fold(s).chars().collect()
    }

    #[test]
    fn one_two_and_three_cjk_characters_are_exact_lookups() {
        assert!(plan_atom(&chars("岸")).exact);
        assert!(plan_atom(&chars("两岸")).exact);
        let three = plan_atom(&chars("两岸关"));
        assert!(three.exact);
        assert_eq!(three.grams, vec![triple('两', '岸', '关').unwrap()]);
        let four = plan_atom(&chars("两岸关系"));
        assert!(!four.exact);
        assert_eq!(four.grams.len(), 2);
        // Only characters below U+40000 pack into a triple (every CJK character is).
        assert!(triple('两', '岸', '\u{40000}').is_none());
        assert!(crate::fold::is_cjk('\u{3134F}') && !crate::fold::is_cjk('\u{40000}'));
    }

    #[test]
    fn a_single_word_is_exact_and_mixed_text_is_verified() {
        assert!(plan_atom(&chars("Vaccine")).exact);
        let mixed = plan_atom(&chars("iPhone手机"));
        assert!(!mixed.exact);
        assert_eq!(mixed.grams.len(), 2);
        assert!(!plan_atom(&chars("u.s.")).exact);
    }

    #[test]
    fn cjk_and_word_grams_never_collide() {
        assert_ne!(single('a') & WORD_TAG, WORD_TAG);
        assert_eq!(word("a") & WORD_TAG, WORD_TAG);
        assert_ne!(pair('中', '国') & WORD_TAG, WORD_TAG);
        let t = triple('\u{3FFFF}', '\u{3FFFF}', '\u{3FFFF}').unwrap();
        assert_eq!(t & (WORD_TAG | PAGE_TAG), 0);
        assert_ne!(t, pair('\u{3FFFF}', '\u{3FFFF}'));
        assert_eq!(pair('\u{10FFFF}', '\u{10FFFF}') & TRIPLE_TAG, 0);
    }

    #[test]
    fn document_grams_count_singles_pairs_and_words() {
        let mut counts = FxHashMap::default();
        count_doc_grams(&chars("中国 中国人 hello Hello"), &mut counts);
        assert_eq!(counts[&single('中')], 2);
        assert_eq!(counts[&pair('中', '国')], 2);
        assert_eq!(counts[&pair('国', '人')], 1);
        assert_eq!(counts[&triple('中', '国', '人').unwrap()], 1);
        assert_eq!(counts.len(), 3 + 2 + 1 + 1);
        assert_eq!(counts[&word("hello")], 2);
        assert!(!counts.contains_key(&pair('国', '中')));
    }

    #[test]
    fn postings_round_trip() {
        let list = [(0u32, 1u32), (3, 1), (4, 7), (1000, 0), (70_000, 300)];
        let mut buf = Vec::new();
        let mut last = None;
        for &(d, tf) in &list {
            encode_posting(&mut buf, &mut last, d, tf);
        }
        let mut out = Vec::new();
        decode_postings(&buf, &mut out);
        assert_eq!(out, list);
    }

    #[test]
    fn truncated_postings_do_not_panic() {
        let mut out = Vec::new();
        decode_postings(&[0x81], &mut out);
        decode_postings(&[0xFF; 20], &mut out);
    }
}
