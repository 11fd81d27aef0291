//! `collection:NAME` in a query, resolved before the query is evaluated: the searcher never reads
//! collection files. Every name the query reaches (smart collections may name others in turn) is
//! looked up once, in the order the query names them: a manual collection becomes its posts (found
//! in the index by path, or by content when moved), a smart one its parsed query.

use crate::collections::{resolve_in_index, Collections};
use crate::error::{Error, Result};
use crate::search::exec::{CollectionTerm, CollectionTerms};
use crate::search::query::{self, Query};
use std::path::Path;

/// Distinct collections one query may look up, nested ones included. Each is looked up (and
/// evaluated) once per query, so collections that name each other many times over cannot
/// multiply the work.
pub const MAX_COLLECTION_LOOKUPS: usize = 32;

/// What the `collection:` terms of `query` (and of the saved searches they reach) stand for.
/// `conn` is a reader of the index at `index` (for the members of manual collections). A query
/// that does not parse names nothing here: the searcher reports why it does not parse.
pub fn resolve(
    root: &Path,
    query_text: &str,
    conn: &rusqlite::Connection,
    index: &Path,
) -> Result<CollectionTerms> {
    let mut terms = CollectionTerms::new();
    let Ok(q) = query::parse(query_text) else {
        return Ok(terms);
    };
    let store = Collections::new(root);
    visit(&store, &q, conn, index, &mut terms)?;
    Ok(terms)
}

/// Whether a query names any collection (so `resolve` has anything to do).
pub fn names_any(query_text: &str) -> bool {
    query::parse(query_text).is_ok_and(|q| !q.collection_names().is_empty())
}

fn visit(
    store: &Collections,
    q: &Query,
    conn: &rusqlite::Connection,
    index: &Path,
    terms: &mut CollectionTerms,
) -> Result<()> {
    for name in q.collection_names() {
        let key = name.trim().to_string();
        if terms.contains_key(&key) {
            continue;
        }
        if terms.len() >= MAX_COLLECTION_LOOKUPS {
            return Err(Error::Query(format!(
                "the query names more than {MAX_COLLECTION_LOOKUPS} collections, counting those that \
                 saved searches name in turn"
            )));
        }
        let (_, mut c) = store
            .find(&key)
            .map_err(|_| Error::NoCollection { name: key.clone() })?;
        match &c.query {
            Some(text) => {
                let inner = query::parse(text)
                    .map_err(|e| Error::Query(format!("collection \"{name}\": {e}")))?;
                terms.insert(key, CollectionTerm::Query(inner.clone()));
                visit(store, &inner, conn, index, terms)?;
            }
            None => {
                let resolved = resolve_in_index(conn, index, &mut c)?;
                terms.insert(key, CollectionTerm::Posts(resolved.paths));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::exec::COLLECTION_EVALS;
    use crate::search::searcher::Searcher;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn collections_that_name_each_other_many_times_are_evaluated_once_each() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path();
        std::fs::write(root.join("a.md"), "---\ntitle: 两岸\n---\n两岸\n")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(root.join("b.md"), "---\ntitle: other\n---\nother\n")
            .unwrap_or_else(|e| panic!("{e}"));
        crate::scan::scan(
            root,
            &crate::scan::ScanOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        // Four levels, each naming the next eight times: 1 + 8 + 64 + 512 evaluations if
        // nothing is remembered.
        let store = crate::collections::Collections::new(root);
        let make = |name: &str, query: String| {
            store
                .create(name, Some(query))
                .unwrap_or_else(|e| panic!("{e}"));
        };
        make("d", "两岸".into());
        for (name, next) in [("c", "d"), ("b", "c"), ("a", "b")] {
            make(name, vec![format!("collection:{next}"); 8].join(" "));
        }
        let index =
            crate::store::existing_index_path(root).unwrap_or_else(|| panic!("not indexed"));
        let mut s = Searcher::open(&index, root).unwrap_or_else(|e| panic!("{e}"));
        let mut matching = |q: &str| {
            let terms = resolve(root, q, s.conn(), &index)?;
            s.matching_paths(q, &terms)
        };
        COLLECTION_EVALS.with(|c| c.set(0));
        let paths = matching("collection:a").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(paths, vec![b"a.md".to_vec()]);
        assert_eq!(COLLECTION_EVALS.with(|c| c.get()), 4);

        // More distinct collections than the limit: an error that says so, not a long wait.
        for i in 0..=MAX_COLLECTION_LOOKUPS {
            make(&format!("e{i}"), "两岸".into());
        }
        let many: Vec<String> = (0..=MAX_COLLECTION_LOOKUPS)
            .map(|i| format!("collection:e{i} OR"))
            .collect();
        let err = matching(&many.join(" ")).err();
        assert!(
            matches!(&err, Some(Error::Query(m)) if m.contains(&MAX_COLLECTION_LOOKUPS.to_string())),
            "{err:?}"
        );
    }

    #[test]
    fn an_unknown_collection_is_one_error_wherever_it_is_named() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path();
        std::fs::write(root.join("a.md"), "---\ntitle: a\n---\na\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let archive = crate::api::Archive::open(root).unwrap_or_else(|e| panic!("{e}"));
        archive
            .index(&Default::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e}"));
        let from_query = archive
            .facets("collection:nope")
            .err()
            .unwrap_or_else(|| panic!("found"));
        let from_command = archive
            .collection_posts("nope")
            .err()
            .unwrap_or_else(|| panic!("found"));
        assert_eq!(from_query, from_command);
        assert_eq!(from_query.code, "not-found");
        assert_eq!(from_query.message, "there is no collection named \"nope\"");
    }
}
