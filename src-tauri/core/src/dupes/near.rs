//! Near-duplicates: candidate pairs from LSH banding over the MinHash signatures, each verified
//! against the similarity threshold, then joined into groups with union-find.
//!
//! Boilerplate: different articles of one site share its navigation and footer, so their
//! signatures agree in the bins that the boilerplate's shingles win. A bin value that many posts
//! share is such boilerplate (or a large cluster of copies); `Commonness` counts, for every post
//! and bin, how many posts hold the same value there, and a pair is compared on the bins whose
//! value is rarest first (see `similarity`). Every step is linear in the number of posts, or
//! `n log n` for the sorts.

use super::minhash::{BINS, MIN_SHINGLES};
use rayon::prelude::*;

/// Rows per LSH band, and bands (`ROWS * BANDS <= BINS`). With 3 rows and 42 bands, a pair is a
/// candidate with probability 1 - (1 - J³)⁴²: 0.68 at J = 0.3, 0.996 at J = 0.5, 1 at 0.8.
const ROWS: usize = 3;
const BANDS: usize = BINS / ROWS;
/// A bucket with more posts than this gives the pairs of neighbours in size order only (so a
/// band that boilerplate fills costs linear time, not quadratic).
const BUCKET_ALL_PAIRS: usize = 12;
/// The tiers of commonness tried in turn: a pair is compared on the bins whose value at most
/// this many posts share, from the lowest tier that leaves `MIN_EVIDENCE` bins.
const TIERS: [u8; 4] = [4, 16, 64, u8::MAX];
const MIN_EVIDENCE: usize = 12;
/// Containment (a truncated copy) counts only when the shorter text is at least this share of
/// the longer one; below, the estimate is too noisy to tell a teaser from a shared paragraph.
const MIN_CONTAINED_SHARE: f64 = 0.3;
/// And only when the shorter text has this many shingles.
const MIN_CONTAINED_SHINGLES: f64 = 2.0 * MIN_SHINGLES as f64;
/// And only when the two texts begin alike (a cut copy keeps the start; an article that quotes
/// another, or lists it among related articles, does not begin with it).
const MIN_HEAD_AGREEMENT: f64 = 0.5;

/// One post as `near` sees it.
pub struct Item<'a> {
    pub mins: &'a [u32],
    pub head: &'a [u32],
    pub shingles: u32,
}

/// For each bin, how many posts hold each post's value there (capped at 255), bin-major.
pub struct Commonness {
    counts: Vec<Vec<u8>>,
}

impl Commonness {
    /// Counted over `items` (all posts with a signature, so that boilerplate is seen even when
    /// a query narrows the posts compared).
    pub fn count(items: &[Item]) -> Commonness {
        let counts = (0..BINS)
            .into_par_iter()
            .map(|bin| {
                let mut vals: Vec<(u32, u32)> = items
                    .iter()
                    .enumerate()
                    .filter(|(_, it)| it.mins.len() == BINS)
                    .map(|(i, it)| (it.mins[bin], i as u32))
                    .collect();
                vals.sort_unstable();
                let mut out = vec![0u8; items.len()];
                for run in vals.chunk_by(|a, b| a.0 == b.0) {
                    let n = u8::try_from(run.len()).unwrap_or(u8::MAX);
                    for &(_, i) in run {
                        out[i as usize] = n;
                    }
                }
                out
            })
            .collect();
        Commonness { counts }
    }
}

/// Jaccard and containment of two posts, estimated on their signatures (see the module docs):
/// `(jaccard, containment of the shorter in the longer)`.
pub fn similarity(items: &[Item], common: &Commonness, a: usize, b: usize) -> (f64, f64) {
    let (ia, ib) = (&items[a], &items[b]);
    if ia.mins.len() != BINS || ib.mins.len() != BINS {
        return (0.0, 0.0);
    }
    let mut result = (0.0, 0.0);
    for tier in TIERS {
        let (mut union, mut same, mut in_a, mut in_b) = (0usize, 0usize, 0usize, 0usize);
        for bin in 0..BINS {
            let (va, vb) = (ia.mins[bin], ib.mins[bin]);
            let (ca, cb) = (common.counts[bin][a], common.counts[bin][b]);
            in_a += usize::from(ca <= tier);
            in_b += usize::from(cb <= tier);
            // The bin belongs to the union's winner: the smaller value.
            let winner = if va <= vb { ca } else { cb };
            if winner <= tier {
                union += 1;
                same += usize::from(va == vb);
            }
        }
        if union >= MIN_EVIDENCE || tier == u8::MAX {
            if union == 0 {
                break;
            }
            let j = same as f64 / union as f64;
            // Set sizes within this tier's shingles, from the share of each post's bins in it.
            let sa = f64::from(ia.shingles) * in_a as f64 / BINS as f64;
            let sb = f64::from(ib.shingles) * in_b as f64 / BINS as f64;
            let (small, large) = if sa <= sb { (sa, sb) } else { (sb, sa) };
            let contained = if small >= MIN_CONTAINED_SHINGLES
                && large > 0.0
                && small / large >= MIN_CONTAINED_SHARE
                && super::minhash::estimate(ia.head, ib.head) >= MIN_HEAD_AGREEMENT
            {
                (j * (sa + sb) / (1.0 + j) / small).min(1.0)
            } else {
                0.0
            };
            result = (j, contained);
            break;
        }
    }
    result
}

/// Bands whose candidates are gathered at once: `find` verifies them before the next batch, so
/// the pairs in memory are those of a few bands, not all (at a million posts in clusters of
/// copies, every band gives about a million pairs).
pub const BAND_BATCH: usize = 2;

/// The batches of bands, in order (see `BAND_BATCH`).
pub fn band_batches() -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..BANDS)
        .step_by(BAND_BATCH)
        .map(|b| b..(b + BAND_BATCH).min(BANDS))
}

/// Candidate pairs `(a, b)`, `a < b`, among `members` (indexes into `items`), deduplicated.
pub fn candidates(items: &[Item], members: &[usize]) -> Vec<(u32, u32)> {
    let mut pairs: Vec<u64> = band_batches()
        .flat_map(|bands| candidates_in(items, members, bands))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(unpair).collect()
}

/// The candidate pairs of some bands, packed (`pair`; `unpair` undoes it), deduplicated.
pub fn candidates_in(items: &[Item], members: &[usize], bands: std::ops::Range<usize>) -> Vec<u64> {
    let with_sig: Vec<usize> = members
        .iter()
        .copied()
        .filter(|&i| items[i].mins.len() == BINS)
        .collect();
    let mut pairs: Vec<u64> = bands
        .into_par_iter()
        .flat_map_iter(|band| {
            let mut keyed: Vec<(u64, u32, u32)> = with_sig
                .iter()
                .map(|&i| {
                    let rows = &items[i].mins[band * ROWS..(band + 1) * ROWS];
                    let mut h = band as u64;
                    for &r in rows {
                        h = (h ^ u64::from(r)).wrapping_mul(0x100_0000_01b3) ^ (h >> 29);
                        h = h.rotate_left(23).wrapping_mul(0x9e37_79b9_7f4a_7c15);
                    }
                    (h, items[i].shingles, i as u32)
                })
                .collect();
            keyed.sort_unstable();
            let mut out = Vec::new();
            for bucket in keyed.chunk_by(|a, b| a.0 == b.0) {
                if bucket.len() <= BUCKET_ALL_PAIRS {
                    for x in 0..bucket.len() {
                        for y in x + 1..bucket.len() {
                            out.push(pair(bucket[x].2, bucket[y].2));
                        }
                    }
                } else {
                    for w in bucket.windows(2) {
                        out.push(pair(w[0].2, w[1].2));
                    }
                }
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();
    pairs.dedup();
    pairs
}

/// Rare entries per post that `rare_candidates` buckets on.
const RARE_KEYS: usize = 3;

/// More candidate pairs: banding compares whole signatures, so it misses an article that two
/// sites wrap in long boilerplate of their own (their signatures agree in few bins, and those
/// are rare). So each post's rare entries (a bin and its value, when 2 to 16 posts share it)
/// are MinHashed once more, rarest first: the `RARE_KEYS` entries of lowest (count, hash of bin
/// and value) are bucket keys, and posts that share a key are candidates. Two posts that share
/// their rarest entries agree on their keys; a key is held by 16 posts at most, so each post
/// adds at most `RARE_KEYS * 15` pairs.
pub fn rare_candidates(items: &[Item], common: &Commonness, members: &[usize]) -> Vec<(u32, u32)> {
    let rare = |c: u8| (2..=TIERS[1]).contains(&c);
    let mut keyed: Vec<(u64, u32)> = members
        .par_iter()
        .filter(|&&i| items[i].mins.len() == BINS)
        .flat_map_iter(|&i| {
            // The rarest first (a small site's boilerplate is rare too, but less so than an
            // article two posts share), then by hash.
            let mut keys: Vec<(u8, u64)> = (0..BINS)
                .filter(|&bin| rare(common.counts[bin][i]))
                .map(|bin| {
                    let x = ((bin as u64) << 32) | u64::from(items[i].mins[bin]);
                    (
                        common.counts[bin][i],
                        super::minhash::mix(x ^ 0x5851_f42d_4c95_7f2d),
                    )
                })
                .collect();
            keys.sort_unstable();
            keys.truncate(RARE_KEYS);
            keys.into_iter().map(move |(_, k)| (k, i as u32))
        })
        .collect();
    keyed.par_sort_unstable();
    let mut pairs = Vec::new();
    for bucket in keyed.chunk_by(|a, b| a.0 == b.0) {
        // At most 16 posts share a rare value; a larger bucket is a hash collision of no use.
        if bucket.len() <= usize::from(TIERS[1]) {
            for x in 0..bucket.len() {
                for y in x + 1..bucket.len() {
                    pairs.push(pair(bucket[x].1, bucket[y].1));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    pairs.into_iter().map(unpair).collect()
}

/// A pair packed in one `u64`, the lower index first.
pub fn pair(a: u32, b: u32) -> u64 {
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    (u64::from(x) << 32) | u64::from(y)
}

/// The pair `pair` packed.
pub fn unpair(p: u64) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// Union-find over `n` items, remembering for each set the lowest similarity of the edges
/// that joined it.
pub struct Groups {
    parent: Vec<u32>,
    low: Vec<f64>,
}

impl Groups {
    pub fn new(n: usize) -> Groups {
        Groups {
            parent: (0..n as u32).collect(),
            low: vec![1.0; n],
        }
    }

    pub fn find(&mut self, x: usize) -> usize {
        let mut r = x;
        while self.parent[r] as usize != r {
            r = self.parent[r] as usize;
        }
        let mut c = x;
        while self.parent[c] as usize != r {
            let next = self.parent[c] as usize;
            self.parent[c] = r as u32;
            c = next;
        }
        r
    }

    /// Join the sets of `a` and `b` by an edge of similarity `sim`.
    pub fn join(&mut self, a: usize, b: usize, sim: f64) {
        let (ra, rb) = (self.find(a), self.find(b));
        let low = self.low[ra].min(self.low[rb]).min(sim);
        if ra != rb {
            let (keep, gone) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[gone] = keep as u32;
            self.low[keep] = low;
        } else {
            self.low[ra] = low;
        }
    }

    /// The lowest similarity of the set of `x`.
    pub fn low(&mut self, x: usize) -> f64 {
        let r = self.find(x);
        self.low[r]
    }
}

#[cfg(test)]
mod tests {
    use super::super::minhash::{signature, tests::text};
    use super::*;

    #[test]
    fn lsh_finds_similar_pairs_and_few_others() {
        // 200 pairs of texts that share 90% of their shingles, and 400 unrelated texts.
        let mut texts = Vec::new();
        for i in 0..200u64 {
            let base = text(i, 1200);
            let edited = format!("{}{}", &base[..1100 * 3], text(10_000 + i, 100));
            texts.push(base);
            texts.push(edited);
        }
        for i in 0..400u64 {
            texts.push(text(50_000 + i, 1200));
        }
        let sigs: Vec<_> = texts.iter().map(|t| signature(t)).collect();
        let items: Vec<Item> = sigs
            .iter()
            .map(|s| Item {
                mins: &s.mins,
                head: &s.head,
                shingles: s.shingles,
            })
            .collect();
        let all: Vec<usize> = (0..items.len()).collect();
        let cands = candidates(&items, &all);
        let found = (0..200u32)
            .filter(|i| cands.contains(&(2 * i, 2 * i + 1)))
            .count();
        assert!(found >= 198, "recall: {found}/200");
        assert!(cands.len() < 260, "{} candidates", cands.len());
        let common = Commonness::count(&items);
        let (j, _) = similarity(&items, &common, 0, 1);
        assert!(j > 0.7, "{j}");
        let (j, c) = similarity(&items, &common, 0, 2);
        assert!(j < 0.1 && c < 0.1, "{j} {c}");
    }

    #[test]
    fn shared_boilerplate_is_discounted_and_truncation_is_contained() {
        // 30 different articles wrapped in one long header and footer.
        let header = text(900, 900);
        let footer = text(901, 900);
        let mut texts: Vec<String> = (0..30u64)
            .map(|i| format!("{header}{}{footer}", text(i, 500)))
            .collect();
        // A copy of article 0 without the boilerplate, and a copy of its first 60%.
        texts.push(text(0, 500));
        let full = text(77, 1500);
        texts.push(full.clone());
        texts.push(full[..900 * 3].to_string());
        // An article that ends with another one (a "related articles" block), and that one.
        let other = text(78, 800);
        texts.push(format!("{}{other}", text(79, 900)));
        texts.push(other);
        let sigs: Vec<_> = texts.iter().map(|t| signature(t)).collect();
        let items: Vec<Item> = sigs
            .iter()
            .map(|s| Item {
                mins: &s.mins,
                head: &s.head,
                shingles: s.shingles,
            })
            .collect();
        let common = Commonness::count(&items);
        for b in 1..30 {
            let (j, c) = similarity(&items, &common, 0, b);
            assert!(j < 0.3 && c < 0.5, "0 vs {b}: {j} {c}");
        }
        let (j, c) = similarity(&items, &common, 0, 30);
        assert!(j.max(c) > 0.8, "article 0 and its bare copy: {j} {c}");
        let (j, c) = similarity(&items, &common, 31, 32);
        assert!(j < 0.8 && c > 0.8, "truncated: {j} {c}");
        let (j, c) = similarity(&items, &common, 33, 34);
        assert!(j < 0.8 && c < 0.5, "contained at the end: {j} {c}");
    }

    #[test]
    fn an_article_in_two_sites_long_boilerplate_is_a_candidate() {
        // Two sites, ten articles each in a header and footer six times their length; one
        // article is on both sites.
        let mut texts = Vec::new();
        for site in 0..2u64 {
            let (header, footer) = (text(500 + site, 1500), text(600 + site, 1500));
            for i in 0..10u64 {
                let body = if i == 0 {
                    text(1, 500)
                } else {
                    text(10 * site + i + 100, 500)
                };
                texts.push(format!("{header}{body}{footer}"));
            }
        }
        let sigs: Vec<_> = texts.iter().map(|t| signature(t)).collect();
        let items: Vec<Item> = sigs
            .iter()
            .map(|s| Item {
                mins: &s.mins,
                head: &s.head,
                shingles: s.shingles,
            })
            .collect();
        let common = Commonness::count(&items);
        let all: Vec<usize> = (0..items.len()).collect();
        let rare = rare_candidates(&items, &common, &all);
        assert!(rare.contains(&(0, 10)), "{rare:?}");
        let (j, _) = similarity(&items, &common, 0, 10);
        assert!(j > 0.8, "{j}");
        // Each post adds a bounded number of pairs.
        assert!(rare.len() <= items.len() * RARE_KEYS * 15, "{}", rare.len());
    }

    #[test]
    fn groups_remember_their_weakest_edge() {
        let mut g = Groups::new(5);
        g.join(0, 1, 0.9);
        g.join(1, 2, 0.85);
        g.join(3, 4, 0.95);
        assert_eq!(g.find(2), g.find(0));
        assert_ne!(g.find(3), g.find(0));
        assert!((g.low(0) - 0.85).abs() < 1e-9);
        assert!((g.low(4) - 0.95).abs() < 1e-9);
    }
}
