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

/// Count facets over `set`, keeping the `limit` most frequent values of each named facet.
pub fn count(snap: &Snapshot, set: &BitSet, limit: usize) -> Facets {
    let mut tags = vec![0u64; snap.terms.values.len()];
    let mut cats = vec![0u64; snap.terms.values.len()];
    let mut authors = vec![0u64; snap.authors.values.len()];
    let mut sites = vec![0u64; snap.sites.values.len()];
    let mut month_counts: rustc_hash::FxHashMap<u32, u64> = Default::default();
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
            *month_counts.entry(m).or_default() += 1;
        }
    }
    let months: std::collections::BTreeMap<(u32, u32), u64> = month_counts
        .into_iter()
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
