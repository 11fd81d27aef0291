//! Tags and categories that differ only in case, width, spacing or Traditional/Simplified form
//! (`crate::fold`): grouped, and each group merged into its most used form.

use super::detect::{shown, Fix, Hit, Kind};
use crate::edit::EditOp;
use std::collections::HashMap;

/// The form two names share when they differ only as above: folded, spaces collapsed.
pub fn variant_key(name: &str) -> String {
    crate::fold::fold(name)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// How often each tag and category is used (one count per post).
#[derive(Default)]
pub struct Terms {
    tags: HashMap<String, u64>,
    categories: HashMap<String, u64>,
}

impl Terms {
    pub fn count(&mut self, tags: &[String], categories: &[String]) {
        for t in tags {
            *self.tags.entry(t.clone()).or_default() += 1;
        }
        for c in categories {
            *self.categories.entry(c.clone()).or_default() += 1;
        }
    }

    pub fn merges(self) -> Merges {
        Merges {
            tags: groups(self.tags),
            categories: groups(self.categories),
        }
    }
}

/// One group of variants: the form they merge into, its count, and the others with theirs.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub main: String,
    pub main_count: u64,
    pub others: Vec<(String, u64)>,
}

/// The groups of each list, and for each variant (not the main form) its group.
#[derive(Default)]
pub struct Merges {
    tags: Groups,
    categories: Groups,
}

#[derive(Default)]
struct Groups {
    groups: Vec<Group>,
    /// Variant → index of its group.
    of: HashMap<String, usize>,
}

/// Names grouped by `variant_key`; groups of one name are dropped. The main form is the most
/// used (ties: the first in code point order, so the choice is stable).
fn groups(counts: HashMap<String, u64>) -> Groups {
    let mut by_key: HashMap<String, Vec<(String, u64)>> = HashMap::new();
    for (name, n) in counts {
        by_key
            .entry(variant_key(&name))
            .or_default()
            .push((name, n));
    }
    let mut groups: Vec<Group> = by_key
        .into_values()
        .filter(|g| g.len() > 1)
        .map(|mut g| {
            g.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            let mut it = g.into_iter();
            let (main, main_count) = it.next().unwrap_or_default();
            Group {
                main,
                main_count,
                others: it.collect(),
            }
        })
        .collect();
    groups.sort_by(|a, b| a.main.cmp(&b.main));
    let mut of = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        for (name, _) in &g.others {
            of.insert(name.clone(), i);
        }
    }
    Groups { groups, of }
}

impl Merges {
    pub fn is_empty(&self) -> bool {
        self.tags.groups.is_empty() && self.categories.groups.is_empty()
    }

    fn of(&self, kind: Kind) -> (&Groups, &'static str) {
        match kind {
            Kind::CategoryVariants => (&self.categories, "categories"),
            _ => (&self.tags, "tags"),
        }
    }

    /// The groups of a kind.
    #[cfg(test)]
    pub fn groups(&self, kind: Kind) -> &[Group] {
        &self.of(kind).0.groups
    }

    /// The findings of one post's list: one per variant it holds.
    pub fn hits(&self, kind: Kind, key: &str, names: &[String], f: &mut dyn FnMut(Hit)) {
        let (groups, _) = self.of(kind);
        for name in names {
            let Some(g) = groups.of.get(name).and_then(|&i| groups.groups.get(i)) else {
                continue;
            };
            let used = g
                .others
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, n)| *n);
            f(Hit {
                kind,
                field: key.to_string(),
                message: format!(
                    "`{}` ({used} posts) differs only in case, width, spacing or Chinese form from `{}` ({} posts)",
                    shown(name),
                    shown(&g.main),
                    g.main_count
                ),
                fix: Some(format!("{key}: {} → {}", shown(name), shown(&g.main))),
                fixes: vec![Fix::Merge],
                op: None,
            });
        }
    }

    /// The merge as ops: one rename per group.
    pub fn ops_for(&self, kind: Kind) -> Vec<EditOp> {
        let (groups, key) = self.of(kind);
        groups
            .groups
            .iter()
            .map(|g| EditOp::RenameItems {
                key: key.to_string(),
                from: g.others.iter().map(|(n, _)| n.clone()).collect(),
                to: g.main.clone(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_differ_only_in_form_share_a_key() {
        let k = variant_key;
        assert_eq!(k("Apple"), k("apple"));
        assert_eq!(k("ＡＩ"), k("ai"));
        assert_eq!(k("machine  learning"), k("Machine Learning"));
        assert_eq!(k("臺灣"), k("台湾"));
        assert_eq!(k("國際"), k("国际"));
        assert_ne!(k("machinelearning"), k("machine learning"));
        assert_ne!(k("香港"), k("澳门"));
    }

    #[test]
    fn each_group_merges_into_its_most_used_form() {
        let mut t = Terms::default();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        t.count(&s(&["臺灣", "Apple"]), &[]);
        t.count(&s(&["台湾"]), &[]);
        t.count(&s(&["台湾", "apple"]), &[]);
        t.count(&s(&["香港"]), &[]);
        let m = t.merges();
        let g = m.groups(Kind::TagVariants);
        assert_eq!(g.len(), 2);
        let tw = g.iter().find(|g| g.main == "台湾").unwrap();
        assert_eq!(tw.others, vec![("臺灣".to_string(), 1)]);
        // A tie goes to the first in code point order.
        let apple = g.iter().find(|g| g.main == "Apple").unwrap();
        assert_eq!(apple.others, vec![("apple".to_string(), 1)]);
        let mut hits = Vec::new();
        m.hits(
            Kind::TagVariants,
            "tags",
            &s(&["臺灣", "香港", "台湾"]),
            &mut |h| hits.push(h.message),
        );
        assert_eq!(hits.len(), 1);
        assert!(hits[0].contains("臺灣") && hits[0].contains("台湾"));
        assert!(m.groups(Kind::CategoryVariants).is_empty());
    }
}
