//! The n-grams of the text index. CJK text is indexed as single characters and adjacent pairs,
//! and a pair's postings carry the positions where it occurs, so a query of any length is
//! answered without reading text: one or two characters exactly from one posting list, longer
//! runs from the positions of the pairs that cover them. Other scripts are indexed as whole
//! words. Everything here works on *folded* text (see `crate::fold`).
//!
//! A gram is a 64-bit id: CJK grams pack their characters exactly; words are hashed (FNV-1a) with
//! the top bit set, so the two kinds never meet. The ids are part of the on-disk format.

use crate::fold::{is_cjk, is_word_char};
use rustc_hash::FxHashMap;

pub type GramId = u64;

/// Words longer than this many bytes are indexed by their first bytes and always verified.
pub const MAX_WORD_BYTES: usize = 64;

const PAIR_TAG: u64 = 1 << 42;
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

pub fn word(w: &str) -> GramId {
    hash_parts(&[truncate_word(w).as_bytes()])
}

/// FNV-1a over byte strings, with the top bit set (the id space of words).
fn hash_parts(parts: &[&[u8]]) -> GramId {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    WORD_TAG | (h >> 1)
}

/// Where a word meets CJK text with nothing between: the word and the one or two CJK characters
/// right after it (`after`), or right before it. `iphone手机` is the word `iphone` joined to
/// 手机, so a query of a word and one or two CJK characters is one posting list. Hashed in the
/// word id space; the 0xFF bytes (never in UTF-8) keep them apart from words and each other.
pub fn junction(w: &str, cjk: &[char], after: bool) -> GramId {
    let mut buf = [0u8; 8];
    let mut n = 0;
    for c in cjk.iter().take(2) {
        n += c.encode_utf8(&mut buf[n..]).len();
    }
    let kind: &[u8] = if after { b"\xFFw" } else { b"\xFFc" };
    hash_parts(&[kind, truncate_word(w).as_bytes(), b"\xFF", &buf[..n]])
}

/// Two words with exactly one character between them (a space, a hyphen, a full stop...):
/// `covid-19` is `covid`, `-`, `19`, so such a phrase is one posting list.
pub fn word_pair(a: &str, sep: char, b: &str) -> GramId {
    let mut buf = [0u8; 4];
    let sep = sep.encode_utf8(&mut buf).as_bytes();
    hash_parts(&[
        b"\xFFp",
        truncate_word(a).as_bytes(),
        b"\xFF",
        sep,
        b"\xFF",
        truncate_word(b).as_bytes(),
    ])
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

/// Whether a gram's postings carry the positions where it starts (CJK pairs, and their
/// page-only twins): a run of three or more CJK characters is then found from the positions of
/// the pairs that cover it, without reading any text.
pub fn has_positions(g: GramId) -> bool {
    g & (WORD_TAG | PAIR_TAG) == PAIR_TAG
}

/// One gram of a document: how often it occurs and, for a gram that [`has_positions`], where
/// its positions start in [`DocGrams::positions`] (`count` of them, ascending).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocGram {
    pub gram: GramId,
    pub count: u32,
    pub pos: u32,
}

/// The grams of a document's folded text, and the positions (in characters) of those that
/// carry them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocGrams {
    pub grams: Vec<DocGram>,
    pub positions: Vec<u32>,
}

impl DocGrams {
    /// The positions of one of this document's grams (empty for grams without positions).
    pub fn positions_of(&self, g: &DocGram) -> &[u32] {
        if !has_positions(g.gram) {
            return &[];
        }
        let start = g.pos as usize;
        self.positions
            .get(start..start.saturating_add(g.count as usize))
            .unwrap_or_default()
    }

    /// The total number of postings (one per gram).
    pub fn len(&self) -> usize {
        self.grams.len()
    }

    pub fn is_empty(&self) -> bool {
        self.grams.is_empty()
    }
}

/// Reused buffers of [`doc_grams_into`].
#[derive(Default)]
pub struct GramScratch {
    counts: FxHashMap<GramId, u32>,
    /// The text's pairs and their positions, in the order they come.
    pairs: Vec<(GramId, u32)>,
    /// Each of `pairs` grouped by pair (`group_pairs`).
    groups: PairGroups,
    word_buf: String,
    prev_word: String,
    /// Counts of the commonest CJK characters (`SINGLES`), by code point: counting each in
    /// `counts` was a hash lookup per character of Chinese text.
    singles: Vec<u32>,
    /// The characters `singles` counted in this text (offsets from `SINGLES.start`).
    singles_seen: Vec<u16>,
}

/// Kana, CJK Extension A and the CJK Unified Ideographs: the singles counted in an array.
const SINGLES: std::ops::Range<u32> = 0x3000..0xA000;

/// The buffers that group a text's pairs (`group_pairs`).
#[derive(Default)]
struct PairGroups {
    /// An open-addressing table of the pairs seen: 0 is empty, else a group's index plus one.
    slots: Vec<u32>,
    /// Each distinct pair, in the order it first comes, and how many of its positions are placed.
    pairs: Vec<(GramId, u32)>,
    /// The group of each occurrence.
    of: Vec<u32>,
}

/// Append each distinct pair of `pairs` (pair and position, positions ascending) to `out` with
/// its positions: grouped as they come by a hash table sized to the text, then the positions
/// placed at each group's offset (a counting sort). Linear in the pairs, and with few branches
/// to mispredict: sorting them (one integer each) made `doc_grams` 11% slower for about as many
/// instructions (docs/ARCHITECTURE.md).
fn group_pairs(
    pairs: &[(GramId, u32)],
    g: &mut PairGroups,
    id: impl Fn(GramId) -> GramId,
    out: &mut DocGrams,
) {
    if pairs.is_empty() {
        return;
    }
    // At most half full: a probe ends after a slot or two.
    let bits = (pairs.len() * 2)
        .next_power_of_two()
        .trailing_zeros()
        .max(4);
    let mask = (1usize << bits) - 1;
    g.slots.clear();
    g.slots.resize(1 << bits, 0);
    g.pairs.clear();
    g.of.clear();
    for &(pair, _) in pairs {
        let mut at = (pair.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - bits)) as usize;
        let group = loop {
            match g.slots[at] {
                0 => {
                    g.pairs.push((pair, 0));
                    g.slots[at] = g.pairs.len() as u32;
                    break g.pairs.len() - 1;
                }
                n if g.pairs[n as usize - 1].0 == pair => break n as usize - 1,
                _ => at = (at + 1) & mask,
            }
        };
        g.pairs[group].1 += 1;
        g.of.push(group as u32);
    }
    // Each group's positions start where the groups before it end; its count becomes where its
    // next position goes.
    let base = out.positions.len();
    let mut start = base as u32;
    for (pair, n) in &mut g.pairs {
        out.grams.push(DocGram {
            gram: id(*pair),
            count: *n,
            pos: start,
        });
        (start, *n) = (start + *n, start);
    }
    out.positions.resize(base + pairs.len(), 0);
    for (&(_, position), &group) in pairs.iter().zip(&g.of) {
        let next = &mut g.pairs[group as usize].1;
        out.positions[*next as usize] = position;
        *next += 1;
    }
}

/// Append every gram of a document's folded text to `out`, each id passed through `id` (the
/// page-only twin for the rest of a page). Pairs are collected with their positions (the index
/// of their first character in `chars`); the other grams are counted.
pub fn doc_grams_into(
    chars: &[char],
    id: impl Fn(GramId) -> GramId,
    scratch: &mut GramScratch,
    out: &mut DocGrams,
) {
    let GramScratch {
        counts,
        pairs,
        groups,
        word_buf,
        prev_word,
        singles,
        singles_seen,
    } = scratch;
    singles.resize(SINGLES.len(), 0);
    counts.clear();
    pairs.clear();
    // The previous word and the index just past it.
    let mut prev_end: Option<usize> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_cjk(c) {
            let at = (c as u32).wrapping_sub(SINGLES.start);
            match singles.get_mut(at as usize) {
                Some(n) => {
                    if *n == 0 {
                        singles_seen.push(at as u16);
                    }
                    *n += 1;
                }
                None => *counts.entry(single(c)).or_insert(0) += 1,
            }
            if let Some(&next) = chars.get(i + 1).filter(|&&n| is_cjk(n)) {
                pairs.push((pair(c, next), i as u32));
            }
            i += 1;
        } else if is_word_char(c) {
            let start = i;
            word_buf.clear();
            while i < chars.len() && is_word_char(chars[i]) {
                word_buf.push(chars[i]);
                i += 1;
            }
            let mut count = |g: GramId| *counts.entry(g).or_insert(0) += 1;
            count(word(word_buf));
            // Joined to CJK text before or after it: one and two characters.
            let before = &chars[start.saturating_sub(2)..start];
            for k in 1..=before.len() {
                let cjk = &before[before.len() - k..];
                if !cjk.iter().all(|&c| is_cjk(c)) {
                    break;
                }
                count(junction(word_buf, cjk, false));
            }
            let after = &chars[i..(i + 2).min(chars.len())];
            for k in 1..=after.len() {
                let cjk = &after[..k];
                if !cjk.iter().all(|&c| is_cjk(c)) {
                    break;
                }
                count(junction(word_buf, cjk, true));
            }
            // One character (not CJK) after the previous word.
            if prev_end.is_some_and(|e| e + 1 == start) && !is_cjk(chars[start - 1]) {
                count(word_pair(prev_word, chars[start - 1], word_buf));
            }
            prev_end = Some(i);
            std::mem::swap(prev_word, word_buf);
        } else {
            i += 1;
        }
    }
    out.grams.extend(counts.iter().map(|(&g, &n)| DocGram {
        gram: id(g),
        count: n,
        pos: 0,
    }));
    for at in singles_seen.drain(..) {
        let c = char::from_u32(SINGLES.start + u32::from(at));
        if let (Some(c), Some(n)) = (c, singles.get_mut(at as usize)) {
            out.grams.push(DocGram {
                gram: id(single(c)),
                count: std::mem::take(n),
                pos: 0,
            });
        }
    }
    // Grouped by pair, each pair's positions ascending.
    group_pairs(pairs, groups, id, out);
}

/// Count every gram of a document's folded text into `counts` (cleared first).
#[cfg(test)]
pub fn count_doc_grams(chars: &[char], counts: &mut FxHashMap<GramId, u32>) {
    let mut out = DocGrams::default();
    doc_grams_into(chars, |g| g, &mut GramScratch::default(), &mut out);
    counts.clear();
    counts.extend(out.grams.iter().map(|g| (g.gram, g.count)));
}

/// How a query atom is looked up in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomPlan {
    /// Grams every matching document must contain.
    pub grams: Vec<GramId>,
    /// True when the posting list of the single gram is exactly the answer (no verification).
    pub exact: bool,
    /// For a run of three or more CJK characters (and nothing else): pairs that cover it, each
    /// with its offset in the run. A document holds the run at `p` exactly when each pair
    /// starts at `p + offset`, so the positions of these answer it without verification.
    pub cover: Option<Vec<(u32, GramId)>>,
}

/// The one gram that answers a word joined to one or two CJK characters (`iphone手机`, `中文bbc`)
/// or two different words with one character between them (`covid-19`), when that is the whole
/// atom (`len` characters). Two equal words are left out: `a-a` occurs once in `a-a-a` for the
/// text matcher, which counts occurrences that do not overlap, but twice as a pair.
fn joined(toks: &[Token], chars: &[char]) -> Option<GramId> {
    let fits = |w: &str| w.len() <= MAX_WORD_BYTES;
    let len = |w: &str| w.chars().count();
    match toks {
        [Token::Word(w), Token::Cjk(r)] | [Token::Cjk(r), Token::Word(w)]
            if r.len() <= 2 && fits(w) && len(w) + r.len() == chars.len() =>
        {
            Some(junction(w, r, matches!(toks[0], Token::Word(_))))
        }
        [Token::Word(a), Token::Word(b)]
            if a != b && fits(a) && fits(b) && len(a) + 1 + len(b) == chars.len() =>
        {
            Some(word_pair(a, *chars.get(len(a))?, b))
        }
        _ => None,
    }
}

/// The pairs that cover a run of CJK characters: at offsets 0, 2, 4, … and the last two.
/// None when the run is shorter than three characters.
fn cover(run: &[char]) -> Option<Vec<(u32, GramId)>> {
    if run.len() < 3 {
        return None;
    }
    let last = run.len() - 2;
    let mut offsets: Vec<usize> = (0..last).step_by(2).collect();
    offsets.push(last);
    Some(
        offsets
            .into_iter()
            .map(|o| (o as u32, pair(run[o], run[o + 1])))
            .collect(),
    )
}

/// The pairs of every CJK run of a folded atom, each with its offset (in characters) from the
/// atom's start: those that cover each run (as `cover` does; a run of two is its one pair), at
/// most `max`, spread over the atom when there are more. A post holds the atom at `p` only if
/// each pair starts at `p + offset`: where an atom of several runs must be verified (a phrase of
/// CJK words apart, `"中国 美国"`), the posts where they align are the only candidates. Empty
/// when they are fewer than two (one pair's list says nothing of alignment).
pub fn aligned_pairs(chars: &[char], max: usize) -> Vec<(u32, GramId)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !is_cjk(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && is_cjk(chars[i]) {
            i += 1;
        }
        let run = &chars[start..i];
        match run.len() {
            0 | 1 => {}
            2 => out.push((start as u32, pair(run[0], run[1]))),
            _ => out.extend(
                cover(run)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(o, g)| (start as u32 + o, g)),
            ),
        }
    }
    if out.len() > max {
        let step = out.len().div_ceil(max.max(1));
        out = out.into_iter().step_by(step).collect();
    }
    if out.len() < 2 {
        out.clear();
    }
    out
}

/// Plan the lookup of a folded query atom: one exact posting list where one gram is the whole
/// atom (a word, one or two CJK characters, a word joined to CJK text, two words and what lies
/// between), positions for a longer run of CJK characters, else candidates to verify.
pub fn plan_atom(chars: &[char]) -> AtomPlan {
    let toks = tokens(chars);
    if let Some(g) = joined(&toks, chars) {
        return AtomPlan {
            grams: vec![g],
            exact: true,
            cover: None,
        };
    }
    let mut plan = plan_tokens(chars);
    plan.cover = match toks.as_slice() {
        [Token::Cjk(run)] if run.len() == chars.len() => cover(run),
        _ => None,
    };
    plan
}

/// The plan from the grams of the atom's tokens alone (no positions, no joined grams): exact
/// only when the atom is one word or one or two CJK characters.
pub fn plan_tokens(chars: &[char]) -> AtomPlan {
    let toks = tokens(chars);
    let mut grams = Vec::new();
    for t in &toks {
        match t {
            Token::Cjk(run) if run.len() == 1 => grams.push(single(run[0])),
            Token::Cjk(run) if run.len() == 2 => grams.push(pair(run[0], run[1])),
            Token::Cjk(run) => {
                grams.extend(run.windows(2).map(|w| pair(w[0], w[1])));
            }
            Token::Word(w) => grams.push(word(w)),
        }
    }
    grams.sort_unstable();
    grams.dedup();
    let whole_atom_is_one_token = match toks.as_slice() {
        [Token::Cjk(run)] => run.len() <= 2 && run.len() == chars.len(),
        [Token::Word(w)] => w.len() <= MAX_WORD_BYTES && w.chars().count() == chars.len(),
        _ => false,
    };
    AtomPlan {
        exact: whole_atom_is_one_token && grams.len() == 1,
        grams,
        cover: None,
    }
}

/// Where encoded postings are appended: a `Vec`, or the inline buffer of a posting list being
/// built (a gram's first postings take a few bytes, `segment::SegmentBuilder`).
pub trait ByteSink {
    fn push_byte(&mut self, b: u8);
    fn push_bytes(&mut self, b: &[u8]);
}

impl ByteSink for Vec<u8> {
    fn push_byte(&mut self, b: u8) {
        self.push(b);
    }
    fn push_bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

impl<const N: usize> ByteSink for smallvec::SmallVec<[u8; N]> {
    fn push_byte(&mut self, b: u8) {
        self.push(b);
    }
    /// A few bytes (most are a varint of two or three: a position, a document's difference)
    /// are pushed one by one: `SmallVec::extend_from_slice` is `insert_from_slice`, two calls
    /// into libc (a memmove of the nothing after the end, then the copy).
    fn push_bytes(&mut self, b: &[u8]) {
        if b.len() <= 16 {
            self.reserve(b.len());
            for &x in b {
                self.push(x);
            }
        } else {
            self.extend_from_slice(b);
        }
    }
}

/// Append one posting (document id, term frequency) to an encoded posting list.
/// Format: varint((delta << 1) | (tf != 1)), then varint(tf) when the flag is set.
pub fn encode_posting(buf: &mut impl ByteSink, last_doc: &mut Option<u32>, doc: u32, tf: u32) {
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

/// Append a posting's positions (ascending) after it, for a gram that [`has_positions`]:
/// the first as it is, then the differences. Encoded into a buffer on the stack and appended a
/// chunk at a time: appending each varint by itself cost more than encoding them.
pub fn encode_positions(buf: &mut impl ByteSink, positions: &[u32]) {
    // Most pairs occur once in a document.
    if let [p] = positions {
        put_varint(buf, u64::from(*p));
        return;
    }
    const CHUNK: usize = 128;
    // Room past `CHUNK` for one more varint (at most 5 bytes for a u32).
    let mut chunk = [0u8; CHUNK + 5];
    let mut n = 0;
    let mut prev = 0u32;
    for &p in positions {
        n = varint_into(&mut chunk, n, u64::from(p.wrapping_sub(prev)));
        prev = p;
        if n >= CHUNK {
            buf.push_bytes(&chunk[..n]);
            n = 0;
        }
    }
    buf.push_bytes(&chunk[..n]);
}

/// What a merge needs to know of a list's documents part (`split_list`) to move it whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ListSpan {
    pub first: u32,
    pub last: u32,
    /// The length of the first posting's document varint, and its flag (a count follows).
    pub head_len: usize,
    pub flag: u64,
    pub postings: u64,
    /// The sum of the postings' counts (the positions a positional gram's list holds).
    pub tfs: u64,
}

/// A non-empty documents part read for [`ListSpan`]; None unless it is well formed: documents
/// ascending, every flagged posting followed by its count, counts and differences within
/// `u32`. Reads every varint once, and which varint is a count is carried as a mask rather than
/// a branch (the flags of a list's postings are as good as random: branching on them was most of
/// the time a merge spent reading lists).
pub(crate) fn list_span(docs: &[u8]) -> Option<ListSpan> {
    let mut rest = docs;
    let v = get_varint(&mut rest)?;
    let head_len = docs.len() - rest.len();
    let first = u32::try_from(v >> 1).ok()?;
    let mut count_next = v & 1;
    let (mut tfs, mut sum, mut postings, mut bad) = (count_next ^ 1, 0u64, 1u64, 0u64);
    while !rest.is_empty() {
        let v = get_varint(&mut rest)?;
        // All ones when `v` is a count, zero when it starts a posting.
        let count = count_next.wrapping_neg();
        let delta = (v >> 1) & !count;
        // (Wrapping: a difference or count past `u32` makes it `bad` anyway.)
        tfs = tfs.wrapping_add((v & count) | (((v & 1) ^ 1) & !count));
        sum = sum.wrapping_add(delta);
        postings += 1 & !count;
        bad |= ((u64::from(delta == 0) | (delta >> 32)) & !count) | ((v & count) >> 32);
        count_next = v & 1 & !count;
    }
    let last = u32::try_from(u64::from(first) + sum).ok()?;
    (count_next == 0 && bad == 0).then_some(ListSpan {
        first,
        last,
        head_len,
        flag: v & 1,
        postings,
        tfs,
    })
}

/// The bytes of the posting that starts `bytes` without its positions (its document varint, and
/// its count's when flagged), and its count. None when it runs past them.
fn posting_head(bytes: &[u8]) -> Option<(usize, u64)> {
    let n = bytes.iter().position(|&b| b < 0x80)? + 1;
    if bytes[0] & 1 == 0 {
        return Some((n, 1));
    }
    let mut rest = &bytes[n..];
    let tf = get_varint(&mut rest)?;
    Some((bytes.len() - rest.len(), tf))
}

/// The length of the first `count` varints of `bytes` (each ends in a byte below 0x80); None
/// when there are fewer.
fn varints_len(bytes: &[u8], count: u64) -> Option<usize> {
    if count == 0 {
        return Some(0);
    }
    let mut left = count;
    for (i, &b) in bytes.iter().enumerate() {
        if b < 0x80 {
            left -= 1;
            if left == 0 {
                return Some(i + 1);
            }
        }
    }
    None
}

/// Split an encoded posting list of `gram` in two: the document and count varints go to `docs`,
/// the positions to `positions`, each copied as it is (a block of the index stores the two apart:
/// `segment::to_columns`). False, with part of it appended, when the list is truncated.
pub fn split_list(gram: GramId, list: &[u8], docs: &mut Vec<u8>, positions: &mut Vec<u8>) -> bool {
    if !has_positions(gram) {
        docs.extend_from_slice(list);
        return true;
    }
    let mut rest = list;
    while !rest.is_empty() {
        let Some((head, tf)) = posting_head(rest) else {
            return false;
        };
        docs.extend_from_slice(&rest[..head]);
        rest = &rest[head..];
        let Some(n) = varints_len(rest, tf) else {
            return false;
        };
        positions.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    }
    true
}

/// Put back together a list that [`split_list`] split: appends `docs.len() + positions.len()`
/// bytes to `out`. False when the two parts do not fit together (a damaged block).
pub fn join_list(gram: GramId, docs: &[u8], positions: &[u8], out: &mut Vec<u8>) -> bool {
    if !has_positions(gram) {
        out.extend_from_slice(docs);
        return positions.is_empty();
    }
    let (mut d, mut p) = (docs, positions);
    while !d.is_empty() {
        let Some((head, tf)) = posting_head(d) else {
            return false;
        };
        out.extend_from_slice(&d[..head]);
        d = &d[head..];
        let Some(n) = varints_len(p, tf) else {
            return false;
        };
        out.extend_from_slice(&p[..n]);
        p = &p[n..];
    }
    p.is_empty()
}

/// Decode the posting list of `gram`, appending `(doc, tf)` pairs (positions, if the gram has
/// them, are skipped). Stops quietly at a truncated list.
pub fn decode_postings(gram: GramId, bytes: &[u8], out: &mut Vec<(u32, u32)>) {
    decode_postings_apart(gram, bytes, None, out);
}

/// [`decode_postings`] of a list whose positions may be `apart` (a block in columns,
/// `split_list`): then `bytes` holds only its documents and counts, and the positions are not
/// even looked at.
pub fn decode_postings_apart(
    gram: GramId,
    bytes: &[u8],
    apart: Option<&[u8]>,
    out: &mut Vec<(u32, u32)>,
) {
    decode(
        has_positions(gram) && apart.is_none(),
        bytes,
        None,
        None,
        |_| true,
        |doc, tf, _| out.push((doc, tf)),
    );
}

/// Decode the posting list of `gram`, appending `(doc, tf, start)` with the posting's positions
/// at `positions[start..start + tf]` (none for a gram without positions). Stops quietly at a
/// truncated list; a posting whose positions are cut short is dropped.
pub fn decode_with_positions(
    gram: GramId,
    bytes: &[u8],
    out: &mut Vec<(u32, u32, u32)>,
    positions: &mut Vec<u32>,
) {
    decode_with_positions_of(gram, bytes, None, |_| true, out, positions);
}

/// [`decode_with_positions`] for the documents `wanted` says yes to: the others' postings are
/// skipped, and their positions are neither decoded nor kept. A list whose positions are `apart`
/// (a block in columns, `split_list`) is read from its two parts as they are stored.
pub fn decode_with_positions_of(
    gram: GramId,
    bytes: &[u8],
    apart: Option<&[u8]>,
    wanted: impl Fn(u32) -> bool,
    out: &mut Vec<(u32, u32, u32)>,
    positions: &mut Vec<u32>,
) {
    decode(
        has_positions(gram),
        bytes,
        apart,
        Some(positions),
        wanted,
        |doc, tf, start| out.push((doc, tf, start)),
    );
}

fn decode<'a>(
    positional: bool,
    mut bytes: &'a [u8],
    mut apart: Option<&'a [u8]>,
    mut keep: Option<&mut Vec<u32>>,
    wanted: impl Fn(u32) -> bool,
    mut push: impl FnMut(u32, u32, u32),
) {
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
        let want = wanted(d);
        // Where this posting's positions are: after it, or in the list's other part.
        let from: &mut &'a [u8] = match apart.as_mut() {
            Some(p) => p,
            None => &mut bytes,
        };
        if positional && (keep.is_none() || !want) {
            // Skip the positions: `tf` varints.
            let Some(used) = varints_len(from, u64::from(tf)) else {
                return;
            };
            *from = &from[used..];
            if want {
                push(d, tf, 0);
            }
            continue;
        }
        if !want {
            continue;
        }
        let start = keep.as_ref().map_or(0, |p| p.len());
        if positional {
            // Every position takes at least one byte: a count beyond the bytes left is a lie
            // (and is not trusted to size anything).
            let mut prev = 0u32;
            for _ in 0..tf {
                let Some(dp) = get_varint(from) else {
                    if let Some(p) = keep.as_mut() {
                        p.truncate(start);
                    }
                    return;
                };
                prev = prev.wrapping_add(dp as u32);
                if let Some(p) = keep.as_mut() {
                    p.push(prev);
                }
            }
        }
        push(d, tf, start as u32);
    }
}

pub(crate) fn put_varint(buf: &mut impl ByteSink, v: u64) {
    if v < 0x80 {
        // Most deltas, counts and position differences.
        buf.push_byte(v as u8);
        return;
    }
    let mut bytes = [0u8; 10];
    let n = varint_into(&mut bytes, 0, v);
    buf.push_bytes(&bytes[..n]);
}

/// Write `v` as a varint into `out` from `at` (which must leave room for it: 10 bytes for any
/// u64, 5 for a u32); returns the index past it.
#[inline]
fn varint_into(out: &mut [u8], mut at: usize, mut v: u64) -> usize {
    while v >= 0x80 {
        out[at] = (v as u8) | 0x80;
        v >>= 7;
        at += 1;
    }
    out[at] = v as u8;
    at + 1
}

/// Inlined, with one byte (most varints of a list: small differences, counts, positions) taken
/// before the loop: a merge reads every document id of the lists it moves this way.
#[inline(always)]
pub(crate) fn get_varint(bytes: &mut &[u8]) -> Option<u64> {
    let (&b, rest) = bytes.split_first()?;
    if b < 0x80 {
        *bytes = rest;
        return Some(u64::from(b));
    }
    get_long_varint(bytes)
}

#[inline(never)]
fn get_long_varint(bytes: &mut &[u8]) -> Option<u64> {
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

    #[test]
    fn a_list_span_is_what_decoding_the_documents_gives_and_none_when_they_do_not_read() {
        let encode = |postings: &[(u32, u32)]| {
            let (mut docs, mut last) = (Vec::new(), None);
            for &(d, tf) in postings {
                encode_posting(&mut docs, &mut last, d, tf);
            }
            docs
        };
        // Counts of one (no count stored) and others, large gaps, ids past one byte.
        let mut seed = 7u64;
        for n in [1usize, 2, 3, 17, 400] {
            let (mut postings, mut doc) = (Vec::new(), 0u32);
            for i in 0..n {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                doc += if i == 0 {
                    (seed >> 40) as u32 % 300
                } else {
                    1 + (seed >> 33) as u32 % 5000
                };
                let tf = if seed >> 62 == 0 {
                    1 + (seed >> 20) as u32 % 300
                } else {
                    1
                };
                postings.push((doc, tf));
            }
            let docs = encode(&postings);
            let mut rest = &docs[..];
            let head = get_varint(&mut rest).unwrap();
            let want = ListSpan {
                first: postings[0].0,
                last: postings[n - 1].0,
                head_len: docs.len() - rest.len(),
                flag: head & 1,
                postings: n as u64,
                tfs: postings.iter().map(|p| u64::from(p.1)).sum(),
            };
            assert_eq!(list_span(&docs), Some(want), "{postings:?}");
        }
        assert_eq!(
            list_span(&encode(&[(u32::MAX, 1)])).map(|s| s.last),
            Some(u32::MAX)
        );
        // A flag with no count after it, a varint cut short, a document twice, a difference or
        // a count past u32, ids past u32 in all.
        let mut flagged = Vec::new();
        put_varint(&mut flagged, (5 << 1) | 1);
        assert_eq!(list_span(&flagged), None);
        let long = encode(&[(3, 1), (200_000, 1)]);
        assert_eq!(list_span(&long[..long.len() - 1]), None);
        assert_eq!(list_span(&[6, 0]), None);
        let mut wide = encode(&[(3, 1)]);
        put_varint(&mut wide, 1 << 33);
        assert_eq!(list_span(&wide), None);
        let mut counted = vec![7];
        put_varint(&mut counted, 1 << 32);
        assert_eq!(list_span(&counted), None);
        assert_eq!(
            list_span(&encode(&[(u32::MAX - 1, 1), (u32::MAX, 1)])).map(|s| s.postings),
            Some(2)
        );
        let mut past = encode(&[(u32::MAX - 1, 1)]);
        put_varint(&mut past, 4);
        assert_eq!(list_span(&past), None);
        assert_eq!(list_span(&[]), None);
    }

    #[test]
    fn aligned_pairs_are_those_of_each_run_at_its_offset_in_the_atom() {
        let chars = |s: &str| -> Vec<char> { s.chars().collect() };
        let p = |a: char, b: char| pair(a, b);
        assert_eq!(
            aligned_pairs(&chars("中国 美国"), 16),
            vec![(0, p('中', '国')), (3, p('美', '国'))]
        );
        // A run of three or more by its cover; one character and words add nothing.
        assert_eq!(
            aligned_pairs(&chars("x 两岸关系 中 bbc 新冠疫苗接种"), 16),
            vec![
                (2, p('两', '岸')),
                (4, p('关', '系')),
                (13, p('新', '冠')),
                (15, p('疫', '苗')),
                (17, p('接', '种'))
            ]
        );
        // One pair says nothing of alignment.
        assert!(aligned_pairs(&chars("中国 x"), 16).is_empty());
        assert!(aligned_pairs(&chars("中 国"), 16).is_empty());
        // At most `max`, spread over the atom.
        let long = chars(&"两岸 ".repeat(40));
        let some = aligned_pairs(&long, 16);
        assert!(some.len() <= 16 && some.len() >= 2);
        assert_eq!(some[0].0, 0);
        assert!(some.last().unwrap().0 > 60);
    }
    use crate::fold::fold;

    fn chars(s: &str) -> Vec<char> {
        fold(s).chars().collect()
    }

    #[test]
    fn one_and_two_cjk_characters_are_exact_lookups() {
        assert!(plan_atom(&chars("岸")).exact);
        assert!(plan_atom(&chars("两岸")).exact);
        assert_eq!(plan_atom(&chars("两岸")).grams, vec![pair('两', '岸')]);
        let three = plan_atom(&chars("两岸关"));
        assert!(!three.exact);
        assert_eq!(three.grams.len(), 2);
        // A run whose pairs are all one pair is still not one list: 哈哈 occurs where 哈哈哈
        // does not.
        assert!(!plan_atom(&chars("哈哈哈")).exact);
        let four = plan_atom(&chars("两岸关系"));
        assert!(!four.exact);
        assert_eq!(four.grams.len(), 3);
        // Every character has a pair id, even above U+40000.
        assert_ne!(pair('两', '\u{3134F}'), pair('两', '\u{3134E}'));
    }

    #[test]
    fn a_single_word_is_exact_and_mixed_text_is_verified() {
        assert!(plan_atom(&chars("Vaccine")).exact);
        let mixed = plan_tokens(&chars("iPhone手机"));
        assert!(!mixed.exact);
        assert_eq!(mixed.grams.len(), 2);
        assert!(!plan_atom(&chars("u.s.")).exact);
        assert!(!plan_atom(&chars("iPhone手机壳")).exact);
        assert!(!plan_atom(&chars("bbc 中文")).exact);
        assert!(!plan_atom(&chars("one country two")).exact);
    }

    #[test]
    fn a_word_joined_to_cjk_text_and_two_words_with_one_character_between_are_one_gram() {
        let one = |q: &str, g: GramId| {
            let plan = plan_atom(&chars(q));
            assert!(plan.exact && plan.grams == [g], "{q}");
        };
        one("iPhone手机", junction("iphone", &['手', '机'], true));
        one("BBC中", junction("bbc", &['中'], true));
        one("中文BBC", junction("bbc", &['中', '文'], false));
        one("COVID-19", word_pair("covid", '-', "19"));
        one("new york", word_pair("new", ' ', "york"));
        // The same word twice is not one gram (a-a occurs once in a-a-a, but is two pairs).
        assert!(!plan_atom(&chars("a-a")).exact);
        let mut counts = FxHashMap::default();
        count_doc_grams(
            &chars("买iPhone手机壳 大中文BBC covid-19-vaccine covid 19 a中b a-a-a"),
            &mut counts,
        );
        let n = |g: GramId| counts.get(&g).copied().unwrap_or(0);
        assert_eq!(n(junction("iphone", &['手', '机'], true)), 1);
        assert_eq!(n(junction("iphone", &['手'], true)), 1);
        assert_eq!(n(junction("iphone", &['买'], false)), 1);
        assert_eq!(n(junction("bbc", &['中', '文'], false)), 1);
        assert_eq!(n(junction("bbc", &['文'], false)), 1);
        assert_eq!(n(junction("bbc", &['大', '中'], false)), 0);
        assert_eq!(n(word_pair("covid", '-', "19")), 1);
        assert_eq!(n(word_pair("19", '-', "vaccine")), 1);
        assert_eq!(n(word_pair("covid", ' ', "19")), 1);
        assert_eq!(n(word_pair("a", '-', "a")), 2);
        // Not across CJK text, nor across two characters.
        assert_eq!(n(word_pair("a", '中', "b")), 0);
        assert_eq!(n(word_pair("vaccine", ' ', "covid")), 1);
        assert_ne!(
            junction("ab", &['中'], true),
            junction("ab", &['中'], false)
        );
        assert_ne!(word("x"), junction("x", &[], true));
    }

    #[test]
    fn cjk_and_word_grams_never_collide() {
        assert_ne!(single('a') & WORD_TAG, WORD_TAG);
        assert_eq!(word("a") & WORD_TAG, WORD_TAG);
        assert_ne!(pair('中', '国') & WORD_TAG, WORD_TAG);
        let p = pair('\u{10FFFF}', '\u{10FFFF}');
        assert_eq!(p & (WORD_TAG | PAGE_TAG), 0);
        assert_ne!(p, single('\u{10FFFF}'));
        assert_ne!(page_only(p), p);
        assert_eq!(page_only(p) & WORD_TAG, 0);
    }

    #[test]
    fn document_grams_count_singles_pairs_and_words() {
        let mut counts = FxHashMap::default();
        count_doc_grams(&chars("中国 中国人 hello Hello"), &mut counts);
        assert_eq!(counts[&single('中')], 2);
        assert_eq!(counts[&pair('中', '国')], 2);
        assert_eq!(counts[&pair('国', '人')], 1);
        // Singles, pairs, the word, and the word after the word.
        assert_eq!(counts.len(), 3 + 2 + 1 + 1);
        assert_eq!(counts[&word("hello")], 2);
        assert_eq!(counts[&word_pair("hello", ' ', "hello")], 1);
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
        decode_postings(single('中'), &buf, &mut out);
        assert_eq!(out, list);
    }

    /// The pairs of a text and their positions, the plain way: what `doc_grams_into` must give.
    fn naive_pairs(text: &[char]) -> Vec<(GramId, Vec<u32>)> {
        let mut by: std::collections::BTreeMap<GramId, Vec<u32>> = Default::default();
        for (i, w) in text.windows(2).enumerate() {
            if is_cjk(w[0]) && is_cjk(w[1]) {
                by.entry(pair(w[0], w[1])).or_default().push(i as u32);
            }
        }
        by.into_iter().collect()
    }

    fn pairs_of(out: &DocGrams) -> Vec<(GramId, Vec<u32>)> {
        let mut got: Vec<(GramId, Vec<u32>)> = out
            .grams
            .iter()
            .filter(|g| has_positions(g.gram))
            .map(|g| (g.gram, out.positions_of(g).to_vec()))
            .collect();
        got.sort();
        got
    }

    proptest::proptest! {
        /// Two texts into one `out` (as an article and the rest of its page are) with one
        /// scratch: each pair once, with every position where it starts, ascending.
        #[test]
        fn pairs_are_grouped_as_the_plain_way_groups_them(
            a in proptest::collection::vec(proptest::sample::select(vec!['中', '国', '人', '𠀀', 'a', ' ', '，']), 0..400),
            b in proptest::collection::vec(proptest::sample::select(vec!['中', '国', '鿿', 'x', '。']), 0..60),
        ) {
            let mut out = DocGrams::default();
            let mut scratch = GramScratch::default();
            doc_grams_into(&a, |g| g, &mut scratch, &mut out);
            doc_grams_into(&b, page_only, &mut scratch, &mut out);
            let want: Vec<_> = naive_pairs(&a)
                .into_iter()
                .chain(naive_pairs(&b).into_iter().map(|(g, p)| (page_only(g), p)))
                .collect();
            let mut want = want;
            want.sort();
            proptest::prop_assert_eq!(pairs_of(&out), want);
            let placed: usize = out.grams.iter().map(|g| out.positions_of(g).len()).sum();
            proptest::prop_assert_eq!(placed, out.positions.len());
        }
    }

    #[test]
    fn pairs_come_grouped_with_their_positions_ascending_in_short_and_very_long_texts() {
        // Characters far apart in the code space, words, and a text past 4 Mi characters (a
        // pair's key had room for that many until stop 39, when pairs were sorted).
        let short = chars("𠀀𠀁 两岸关系两岸 x 鿿𪛖𠀀𠀁两岸");
        let mut out = DocGrams::default();
        doc_grams_into(&short, |g| g, &mut GramScratch::default(), &mut out);
        assert_eq!(pairs_of(&out), naive_pairs(&short));
        let unit = chars("两岸关系，中文 ab 𠀀𠀁");
        let long: Vec<char> = unit
            .iter()
            .copied()
            .cycle()
            .take((1 << 22) + 3 * unit.len() + 2)
            .collect();
        let mut out = DocGrams::default();
        let mut scratch = GramScratch::default();
        doc_grams_into(&long, |g| g, &mut scratch, &mut out);
        let (got, want) = (pairs_of(&out), naive_pairs(&long));
        assert!(got.iter().any(|(_, p)| p.last() > Some(&(1 << 22))));
        assert_eq!(got, want);
        // The scratch kept from the long text does not leak into a short one.
        let mut out = DocGrams::default();
        doc_grams_into(&short, |g| g, &mut scratch, &mut out);
        assert_eq!(pairs_of(&out), naive_pairs(&short));
    }

    #[test]
    fn long_position_lists_round_trip_into_a_vec_and_into_an_inline_buffer() {
        // Differences of one to five bytes, over many of `encode_positions`' chunks.
        let t = pair('两', '岸');
        let mut pos = Vec::new();
        let mut p = 0u32;
        for i in 0..1_000u32 {
            p = p.saturating_add([1, 200, 20_000, 3_000_000, 300_000_000][i as usize % 5]);
            pos.push(p);
        }
        let last = *pos.last().unwrap();
        pos.push(last.saturating_add(u32::MAX / 2));
        let docs = [
            (7u32, &pos[..]),
            (8, &pos[..1]),
            (4_000_000_000, &pos[..130]),
        ];
        let mut vec = Vec::new();
        let mut inline: smallvec::SmallVec<[u8; 16]> = smallvec::SmallVec::new();
        let (mut last_v, mut last_i) = (None, None);
        for (doc, p) in docs {
            encode_posting(&mut vec, &mut last_v, doc, p.len() as u32);
            encode_positions(&mut vec, p);
            encode_posting(&mut inline, &mut last_i, doc, p.len() as u32);
            encode_positions(&mut inline, p);
        }
        assert_eq!(&vec[..], &inline[..]);
        let (mut list, mut positions) = (Vec::new(), Vec::new());
        decode_with_positions(t, &vec, &mut list, &mut positions);
        let want: Vec<u32> = docs.iter().flat_map(|(_, p)| p.iter().copied()).collect();
        assert_eq!(positions, want);
        let n = pos.len() as u32;
        assert_eq!(list, [(7, n, 0), (8, 1, n), (4_000_000_000, 130, n + 1)]);
    }

    #[test]
    fn a_list_split_in_two_decodes_as_the_list_does_and_joins_back() {
        let t = pair('两', '岸');
        let mut list = Vec::new();
        let mut last = None;
        // Counts of one and more, positions of one and several bytes, far apart documents.
        // A count of two bytes, too (130 positions).
        let many: Vec<u32> = (0..130).map(|i| i * 3).collect();
        for (doc, ps) in [
            (3u32, vec![5u32]),
            (4, vec![1, 200, 90_000]),
            (1_000_000, vec![7, 8]),
            (1_000_001, many),
        ] {
            encode_posting(&mut list, &mut last, doc, ps.len() as u32);
            encode_positions(&mut list, &ps);
        }
        let (mut docs, mut positions) = (Vec::new(), Vec::new());
        assert!(split_list(t, &list, &mut docs, &mut positions));
        assert_eq!(docs.len() + positions.len(), list.len());
        let mut joined = Vec::new();
        assert!(join_list(t, &docs, &positions, &mut joined));
        assert_eq!(joined, list);
        for wanted in [|_: u32| true, |d: u32| d != 4, |d: u32| d == 4] {
            let (mut a, mut pa, mut b, mut pb) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            decode_with_positions_of(t, &list, None, wanted, &mut a, &mut pa);
            decode_with_positions_of(t, &docs, Some(&positions), wanted, &mut b, &mut pb);
            assert_eq!((a, pa), (b, pb));
        }
        let (mut a, mut b) = (Vec::new(), Vec::new());
        decode_postings(t, &list, &mut a);
        decode_postings_apart(t, &docs, Some(&positions), &mut b);
        assert_eq!(a, [(3, 1), (4, 3), (1_000_000, 2), (1_000_001, 130)]);
        assert_eq!(a, b);
        // A list cut inside a posting does not split; cut after one, it does (the first
        // posting is two bytes: document 3, position 5).
        for (end, whole) in [(1, false), (2, true), (4, false), (list.len() - 1, false)] {
            let (mut d, mut p) = (Vec::new(), Vec::new());
            assert_eq!(split_list(t, &list[..end], &mut d, &mut p), whole, "{end}");
        }
        // Parts that do not fit together: joined, refused; decoded, cut short quietly.
        assert!(!join_list(t, &docs, &positions[1..], &mut Vec::new()));
        assert!(!join_list(
            t,
            &docs,
            &[&positions[..], &[1]].concat(),
            &mut Vec::new()
        ));
        let (mut c, mut pc) = (Vec::new(), Vec::new());
        decode_with_positions_of(t, &docs, Some(&positions[..2]), |_| true, &mut c, &mut pc);
        assert_eq!(c.len(), 1);
        // A list without positions is its documents alone.
        let w = word("x");
        let (mut d2, mut p2) = (Vec::new(), Vec::new());
        assert!(split_list(w, &docs, &mut d2, &mut p2));
        assert!(p2.is_empty() && d2 == docs);
    }

    #[test]
    fn pairs_carry_their_positions_and_other_grams_do_not() {
        let t = pair('岸', '关');
        assert!(has_positions(t) && has_positions(crate::index::grams::page_only(t)));
        assert!(!has_positions(single('两')) && !has_positions(page_only(single('两'))));
        assert!(
            !has_positions(word("x")) && !has_positions(crate::index::grams::page_only(word("x")))
        );
        let mut out = DocGrams::default();
        doc_grams_into(
            &chars("两岸关系 两岸关 x 两岸关"),
            |g| g,
            &mut GramScratch::default(),
            &mut out,
        );
        let g = out.grams.iter().find(|g| g.gram == t).unwrap();
        assert_eq!((g.count, out.positions_of(g)), (3, &[1u32, 6, 12][..]));
        let s = out.grams.iter().find(|g| g.gram == single('两')).unwrap();
        assert_eq!((s.count, out.positions_of(s)), (3, &[][..]));
        // A posting list with positions round-trips, and skipping them gives the same postings.
        let (mut buf, mut last) = (Vec::new(), None);
        for (doc, pos) in [
            (3u32, vec![0u32, 5, 11]),
            (9, vec![7]),
            (300, vec![1, 2, 70_000]),
        ] {
            encode_posting(&mut buf, &mut last, doc, pos.len() as u32);
            encode_positions(&mut buf, &pos);
        }
        let (mut list, mut positions) = (Vec::new(), Vec::new());
        decode_with_positions(t, &buf, &mut list, &mut positions);
        assert_eq!(list, [(3, 3, 0), (9, 1, 3), (300, 3, 4)]);
        assert_eq!(positions, [0, 5, 11, 7, 1, 2, 70_000]);
        let mut plain = Vec::new();
        decode_postings(t, &buf, &mut plain);
        assert_eq!(plain, [(3, 3), (9, 1), (300, 3)]);
        // Only the documents wanted, with only their positions.
        let (mut some, mut theirs) = (Vec::new(), Vec::new());
        decode_with_positions_of(t, &buf, None, |d| d != 9, &mut some, &mut theirs);
        assert_eq!(some, [(3, 3, 0), (300, 3, 3)]);
        assert_eq!(theirs, [0, 5, 11, 1, 2, 70_000]);
        // Cut short inside a posting's positions: that posting is dropped, no panic.
        let (mut list, mut positions) = (Vec::new(), Vec::new());
        decode_with_positions(t, &buf[..buf.len() - 1], &mut list, &mut positions);
        assert_eq!((list.len(), positions.len()), (2, 4));
        // A count that lies (2^32 - 1 positions in a few bytes) costs only the bytes there are.
        let (mut lie, mut last) = (Vec::new(), None);
        encode_posting(&mut lie, &mut last, 1, u32::MAX);
        lie.extend([1, 1, 1]);
        decode_with_positions(t, &lie, &mut list, &mut positions);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn a_run_of_three_or_more_is_covered_by_pairs_at_every_second_character_and_the_last() {
        let plan = plan_atom(&chars("两岸关系"));
        let cover = plan.cover.unwrap();
        assert_eq!(cover, vec![(0, pair('两', '岸')), (2, pair('关', '系'))]);
        assert_eq!(
            plan_atom(&chars("两岸关")).cover.unwrap(),
            vec![(0, pair('两', '岸')), (1, pair('岸', '关'))]
        );
        let offsets = |q: &str| -> Vec<u32> {
            let cover = plan_atom(&chars(q)).cover.unwrap();
            cover.iter().map(|c| c.0).collect()
        };
        assert_eq!(offsets("新冠疫苗接种率"), [0, 2, 4, 5]);
        assert_eq!(offsets("新冠疫苗接种"), [0, 2, 4]);
        // Two characters are one exact list; mixed text is verified.
        assert!(plan_atom(&chars("两岸")).cover.is_none());
        assert!(plan_atom(&chars("iPhone手机很好")).cover.is_none());
        assert!(plan_atom(&chars("两岸 关系")).cover.is_none());
        assert!(plan_atom(&chars("两岸关\u{3134F}")).cover.is_some());
    }

    #[test]
    fn truncated_postings_do_not_panic() {
        let mut out = Vec::new();
        decode_postings(0, &[0x81], &mut out);
        decode_postings(0, &[0xFF; 20], &mut out);
    }
}
