//! A post's text as a small signature: one-permutation MinHash with densification over folded
//! character shingles. The cost is linear in the text (one hash per shingle, whatever the
//! number of bins), and two signatures agree in a bin with probability equal to the Jaccard
//! similarity of the two shingle sets (Shrivastava 2017, "Optimal Densification for Fast and
//! Accurate Minwise Hashing").

/// Bins per signature.
pub const BINS: usize = 128;
const BIN_SHIFT: u32 = 64 - 7; // log2(BINS)
/// Characters per shingle (after whitespace and punctuation are dropped).
pub const SHINGLE: usize = 5;
/// The head signature: `HEAD_BINS` bins over the first `HEAD_SHINGLES` distinct shingles. A
/// truncated copy shares its head with the full text; an article that merely quotes another
/// (or lists it under "related articles") does not.
pub const HEAD_BINS: usize = 16;
const HEAD_SHIFT: u32 = 64 - 4; // log2(HEAD_BINS)
pub const HEAD_SHINGLES: usize = 256;
/// Fewer distinct shingles than this: too short to tell a near-duplicate from a different post
/// on the same subject (a headline and a sentence); such posts are only ever `exact`.
pub const MIN_SHINGLES: u32 = 80;

/// What `dupes` keeps of one text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextSig {
    /// BLAKE3 (first 16 bytes) of the normalised text: `exact` duplicates share it. All zeros
    /// for an empty text (never a duplicate).
    pub text_hash: [u8; 16],
    /// Distinct shingles (an estimate of the set's size is enough: counted exactly here).
    pub shingles: u32,
    /// `BINS` minimum values; empty when `shingles < MIN_SHINGLES` (no `near` for that post).
    pub mins: Vec<u32>,
    /// `HEAD_BINS` minimum values of the text's head (empty with `mins`).
    pub head: Vec<u32>,
}

/// The characters that carry the text: letters and digits of the folded text (whitespace,
/// punctuation and symbols dropped, so layout and quoting styles do not matter).
pub fn normalised(folded: &str) -> impl Iterator<Item = char> + '_ {
    folded.chars().filter(|c| c.is_alphanumeric())
}

#[inline]
pub(crate) fn mix(mut x: u64) -> u64 {
    // splitmix64's finaliser: a bijection with good avalanche.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The 64-bit hash of a shingle of `SHINGLE` characters (each at most 21 bits).
#[inline]
fn shingle_hash(w: &[u32; SHINGLE]) -> u64 {
    let lo = (w[0] as u64) | ((w[1] as u64) << 21) | ((w[2] as u64) << 42);
    let hi = (w[3] as u64) | ((w[4] as u64) << 21);
    mix(mix(lo ^ 0x9e37_79b9_7f4a_7c15) ^ hi)
}

/// The signature of a folded text (see `dupe_texts` for which text).
pub fn signature(folded: &str) -> TextSig {
    let mut norm = String::with_capacity(folded.len());
    let mut window = [0u32; SHINGLE];
    let mut seen = 0usize;
    let mut mins = [u32::MAX; BINS];
    let mut filled = [false; BINS];
    let mut head = [u32::MAX; HEAD_BINS];
    let mut head_filled = [false; HEAD_BINS];
    // Distinct shingles: counted with a small hash set of their hashes (linear).
    let mut distinct: rustc_hash::FxHashSet<u64> = rustc_hash::FxHashSet::default();
    for c in normalised(folded) {
        norm.push(c);
        window.rotate_left(1);
        window[SHINGLE - 1] = c as u32;
        seen += 1;
        if seen < SHINGLE {
            continue;
        }
        let h = shingle_hash(&window);
        if !distinct.insert(h) {
            continue;
        }
        let bin = (h >> BIN_SHIFT) as usize;
        let v = h as u32;
        if distinct.len() <= HEAD_SHINGLES {
            // Other bits of the hash than the main bins use, so the two are independent.
            let hb = ((h << 7) >> HEAD_SHIFT) as usize;
            let hv = (h >> 32) as u32;
            head_filled[hb] = true;
            head[hb] = head[hb].min(hv);
        }
        filled[bin] = true;
        if v < mins[bin] {
            mins[bin] = v;
        }
    }
    let text_hash = text_hash_of(&norm);
    let shingles = u32::try_from(distinct.len()).unwrap_or(u32::MAX);
    if shingles < MIN_SHINGLES {
        return TextSig {
            text_hash,
            shingles,
            mins: Vec::new(),
            head: Vec::new(),
        };
    }
    densify(&mut mins, &filled);
    densify(&mut head, &head_filled);
    TextSig {
        text_hash,
        shingles,
        mins: mins.to_vec(),
        head: head.to_vec(),
    }
}

/// Fill every empty bin from a non-empty one chosen by a probe sequence that depends only on
/// the bin (the same for every text), so that two signatures still agree in a bin with
/// probability equal to their Jaccard similarity.
fn densify<const N: usize>(mins: &mut [u32; N], filled: &[bool; N]) {
    if !filled.iter().any(|f| *f) {
        return;
    }
    let original = *mins;
    for i in 0..N {
        if filled[i] {
            continue;
        }
        let mut attempt = 1u64;
        loop {
            let j = (mix(((i as u64) << 32) | attempt) % N as u64) as usize;
            if filled[j] {
                mins[i] = original[j];
                break;
            }
            attempt += 1;
            if attempt > 4096 {
                // Unreachable in practice (some bin is filled); stay total anyway.
                if let Some(j) = filled.iter().position(|f| *f) {
                    mins[i] = original[j];
                }
                break;
            }
        }
    }
}

/// The share of bins in which two signatures agree: an estimate of their Jaccard similarity.
pub fn estimate(a: &[u32], b: &[u32]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f64 / a.len() as f64
}

/// The `exact` key of a folded text: BLAKE3 (first 16 bytes) of its normalised characters; all
/// zeros for a text with none (never a duplicate).
pub fn text_hash(folded: &str) -> [u8; 16] {
    text_hash_of(&normalised(folded).collect::<String>())
}

fn text_hash_of(norm: &str) -> [u8; 16] {
    if norm.is_empty() {
        return [0u8; 16];
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&blake3::hash(norm.as_bytes()).as_bytes()[..16]);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deterministic pseudo-random text of `n` CJK characters.
    pub(crate) fn text(seed: u64, n: usize) -> String {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = mix(x.wrapping_add(0x9e37_79b9_7f4a_7c15));
                char::from_u32(0x4E00 + (x % 3000) as u32).unwrap_or('x')
            })
            .collect()
    }

    fn shingle_set(s: &str) -> std::collections::HashSet<Vec<char>> {
        let chars: Vec<char> = normalised(s).collect();
        chars.windows(SHINGLE).map(<[char]>::to_vec).collect()
    }

    fn jaccard(a: &str, b: &str) -> f64 {
        let (x, y) = (shingle_set(a), shingle_set(b));
        x.intersection(&y).count() as f64 / x.union(&y).count() as f64
    }

    #[test]
    fn the_estimate_follows_the_jaccard_similarity() {
        let base = text(1, 3000);
        for (i, keep) in [3000usize, 2400, 1500, 600].into_iter().enumerate() {
            // The same text with its tail replaced by other text.
            let other = format!("{}{}", &base[..keep * 3], text(100 + i as u64, 3000 - keep));
            let exact = jaccard(&base, &other);
            let est = estimate(&signature(&base).mins, &signature(&other).mins);
            assert!(
                (exact - est).abs() < 0.12,
                "keep {keep}: exact {exact:.3}, estimate {est:.3}"
            );
        }
        let unrelated = estimate(
            &signature(&text(7, 2000)).mins,
            &signature(&text(8, 2000)).mins,
        );
        assert!(unrelated < 0.05, "{unrelated}");
    }

    #[test]
    fn layout_punctuation_and_short_texts() {
        let fold = crate::fold::fold;
        let a = signature(&fold(
            "Hello, world! 你好，世界。 This is one sentence of some length here.",
        ));
        let b = signature(&fold(
            "hello world   你好世界 this is ONE sentence — of some length here",
        ));
        assert_eq!(a.text_hash, b.text_hash);
        assert!(a.mins.is_empty(), "too short for near: {}", a.shingles);
        assert_eq!(signature("  ，。 ").text_hash, [0u8; 16]);
        let long = signature(&text(3, 500));
        assert_eq!(long.mins.len(), BINS);
        assert!(long.shingles >= 490);
    }

    #[test]
    fn densified_signatures_of_small_texts_still_estimate() {
        // About 100 shingles in 128 bins: many bins are empty and filled from others.
        let a = text(11, 104);
        let sa = signature(&a);
        assert_eq!(sa.mins.len(), BINS);
        assert!((estimate(&sa.mins, &signature(&a).mins) - 1.0).abs() < 1e-9);
        let b = text(12, 104);
        assert!(estimate(&sa.mins, &signature(&b).mins) < 0.1);
    }
}
