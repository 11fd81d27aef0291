//! Facet counts over a result set: tags, categories, authors, sites, years and months.

use super::bitset::BitSet;
use super::snapshot::Snapshot;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct Facets {
    pub tags: Vec<FacetCount>,
    pub categories: Vec<FacetCount>,
    pub authors: Vec<FacetCount>,
    pub sites: Vec<FacetCount>,
    /// Chronological.
    pub years: Vec<FacetCount>,
    /// Chronological, `YYYY-MM`.
    pub months: Vec<FacetCount>,
}

/// Posts by month (`year * 12 + month - 1`). The months of the years 0–9999 are counted in a
/// table: a hash map entry per post was a tenth of a 1-character search at 1M (874,658 posts).
/// Any other month (only a hostile index holds one) goes to a map.
struct MonthCounts {
    table: Vec<u64>,
    other: rustc_hash::FxHashMap<u32, u64>,
}

impl MonthCounts {
    const IN_TABLE: usize = 10_000 * 12;

    fn new() -> MonthCounts {
        MonthCounts {
            table: vec![0; Self::IN_TABLE],
            other: Default::default(),
        }
    }

    fn add(&mut self, month: u32) {
        match self.table.get_mut(month as usize) {
            Some(c) => *c += 1,
            None => *self.other.entry(month).or_default() += 1,
        }
    }

    /// The months counted, with their counts (in no order).
    fn counted(self) -> impl Iterator<Item = (u32, u64)> {
        let table = self.table.into_iter().enumerate();
        table
            .filter(|&(_, c)| c > 0)
            .map(|(m, c)| (m as u32, c))
            .chain(self.other)
    }
}

/// Count facets over `set`, keeping the `limit` most frequent values of each named facet.
pub fn count(snap: &Snapshot, set: &BitSet, limit: usize) -> Facets {
    let mut tags = vec![0u64; snap.terms.values.len()];
    let mut cats = vec![0u64; snap.terms.values.len()];
    let mut authors = vec![0u64; snap.authors.values.len()];
    let mut sites = vec![0u64; snap.sites.values.len()];
    let mut month_counts = MonthCounts::new();
    for i in set.iter() {
        for &t in snap.tags(i) {
            if let Some(c) = tags.get_mut(t as usize) {
                *c += 1;
            }
        }
        for &t in snap.categories(i) {
            if let Some(c) = cats.get_mut(t as usize) {
                *c += 1;
            }
        }
        if let Some(c) = snap.author(i).and_then(|a| authors.get_mut(a as usize)) {
            *c += 1;
        }
        if let Some(c) = snap.site(i).and_then(|s| sites.get_mut(s as usize)) {
            *c += 1;
        }
        if let Some(m) = snap.month(i) {
            month_counts.add(m);
        }
    }
    let months: std::collections::BTreeMap<(u32, u32), u64> = month_counts
        .counted()
        .map(|(m, c)| ((m / 12, m % 12 + 1), c))
        .collect();
    let mut years: std::collections::BTreeMap<u32, u64> = Default::default();
    for (&(y, _), &c) in &months {
        *years.entry(y).or_default() += c;
    }
    Facets {
        tags: top(&snap.terms.values, &tags, limit),
        categories: top(&snap.terms.values, &cats, limit),
        authors: top(&snap.authors.values, &authors, limit),
        sites: top(&snap.sites.values, &sites, limit),
        years: years
            .into_iter()
            .map(|(y, count)| FacetCount {
                value: format!("{y:04}"),
                count,
            })
            .collect(),
        months: months
            .into_iter()
            .map(|((y, m), count)| FacetCount {
                value: format!("{y:04}-{m:02}"),
                count,
            })
            .collect(),
    }
}

fn top(values: &[String], counts: &[u64], limit: usize) -> Vec<FacetCount> {
    let mut v: Vec<(usize, u64)> = counts
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| *c > 0)
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| values[a.0].cmp(&values[b.0])));
    v.truncate(limit);
    v.into_iter()
        .map(|(i, count)| FacetCount {
            value: values[i].clone(),
            count,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_counted_in_the_table_and_beyond_it() {
        let mut m = MonthCounts::new();
        let months = [0, 5, 5, 24_252, 119_999, 120_000, 120_000, u32::MAX - 1];
        for &month in &months {
            m.add(month);
        }
        let mut counted: Vec<(u32, u64)> = m.counted().collect();
        counted.sort_unstable();
        assert_eq!(
            counted,
            vec![
                (0, 1),
                (5, 2),
                (24_252, 1),
                (119_999, 1),
                (120_000, 2),
                (u32::MAX - 1, 1)
            ]
        );
    }
}
