//! The readers of an open archive. Each caller (a search, a `show`, a facet count…) gets a
//! `Searcher` of its own for the length of its call, so a slow search does not hold up the
//! others: idle readers are reused, a new one is opened while fewer than `MAX_READERS` are, and
//! past that a caller waits for one to come back. The readers share one snapshot per index
//! generation (`SharedSnapshot`), so a few readers cost a few SQLite connections, not a few
//! snapshots.
//!
//! A search is *superseded* by a later search that asks for another query or order: the user
//! typed on, and nobody will look at the older answer. The older one is told to stop and ends
//! with `Error::Cancelled` soon after (`exec` checks between clauses, lists and every 1,024
//! candidates). Searches for the same query and order (the pages of one result list) do not
//! cancel each other. The facets of a query are superseded the same way by a search for
//! another query (the UI asks for them once a query's rows are shown, and at a million posts
//! counting them took a core from the search of the next keystroke); they cancel nothing.

use super::exec::CollectionTerms;
use super::facets::Facets;
use super::query::Sort;
use super::searcher::{SearchRequest, SearchResponse, Searcher, SharedSnapshot};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Readers open at once at most (each is one SQLite connection; the shells run core calls on
/// blocking threads, so this also bounds how many reads run at the same time).
pub const MAX_READERS: usize = 4;

pub struct Readers {
    root: PathBuf,
    shared: Arc<SharedSnapshot>,
    pool: Mutex<Pool>,
    returned: Condvar,
    searches: Mutex<Vec<InFlight>>,
    next_search: AtomicU64,
}

#[derive(Default)]
struct Pool {
    idle: Vec<Searcher>,
    /// Readers open: idle or lent.
    open: usize,
}

/// A search (or a count of facets) that has not answered yet.
struct InFlight {
    id: u64,
    query: String,
    /// The order asked for; None for facets, which a search of the same query leaves alone
    /// whatever its order.
    sort: Option<Option<Sort>>,
    cancel: Arc<AtomicBool>,
}

/// A reader lent to one caller; it goes back to the pool when dropped.
struct Lease<'a> {
    readers: &'a Readers,
    searcher: Option<Searcher>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        let mut pool = self.readers.lock_pool();
        match self.searcher.take() {
            // A reader whose caller panicked may be inside a transaction: close it instead.
            Some(s) if !std::thread::panicking() => pool.idle.push(s),
            _ => pool.open = pool.open.saturating_sub(1),
        }
        drop(pool);
        self.readers.returned.notify_one();
    }
}

/// Removes a finished search from the list of searches in flight.
struct Registered<'a> {
    readers: &'a Readers,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.readers.lock_searches().retain(|s| s.id != self.id);
    }
}

impl Readers {
    /// Readers of the archive at `root` (opened when first needed).
    pub fn new(root: &Path) -> Readers {
        Readers {
            root: root.to_path_buf(),
            shared: Arc::default(),
            pool: Mutex::new(Pool::default()),
            returned: Condvar::new(),
            searches: Mutex::new(Vec::new()),
            next_search: AtomicU64::new(0),
        }
    }

    fn lock_pool(&self) -> std::sync::MutexGuard<'_, Pool> {
        self.pool.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock_searches(&self) -> std::sync::MutexGuard<'_, Vec<InFlight>> {
        self.searches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` with a reader of its own.
    pub fn with<T>(&self, f: impl FnOnce(&mut Searcher) -> Result<T>) -> Result<T> {
        let mut lease = self.lend()?;
        match lease.searcher.as_mut() {
            Some(s) => f(s),
            None => Err(Error::NotIndexed {
                path: self.root.clone(),
            }),
        }
    }

    fn lend(&self) -> Result<Lease<'_>> {
        let mut pool = self.lock_pool();
        loop {
            if let Some(s) = pool.idle.pop() {
                // A reader of a file that has been replaced since (a damaged index set aside and
                // built anew) is closed, and another opened on the file there now.
                if s.file_is_current() {
                    return Ok(Lease {
                        readers: self,
                        searcher: Some(s),
                    });
                }
                drop(s);
                pool.open = pool.open.saturating_sub(1);
                continue;
            }
            if pool.open < MAX_READERS {
                break;
            }
            pool = self.returned.wait(pool).unwrap_or_else(|e| e.into_inner());
        }
        pool.open += 1;
        drop(pool);
        // From here the lease owns one `open` slot: dropped without a reader, it gives it back.
        let mut lease = Lease {
            readers: self,
            searcher: None,
        };
        let index =
            crate::store::existing_index_path(&self.root).ok_or_else(|| Error::NotIndexed {
                path: self.root.clone(),
            })?;
        lease.searcher = Some(Searcher::open_shared(
            &index,
            &self.root,
            self.shared.clone(),
        )?);
        Ok(lease)
    }

    /// Search, as one caller among others: this search stops searches in flight that asked for
    /// another query or order, and is stopped in turn by a later one (see the module docs).
    pub fn search(&self, req: &SearchRequest, terms: &CollectionTerms) -> Result<SearchResponse> {
        let (cancel, _registered) = self.register(&req.query, Some(req.sort));
        self.with(|s| s.search_cancellable(req, terms, &cancel))
    }

    /// The facets of a query, stopped by a later search for another query (see the module
    /// docs).
    pub fn facets(&self, query: &str, terms: &CollectionTerms) -> Result<(u64, Facets)> {
        let (cancel, _registered) = self.register(query, None);
        self.with(|s| s.facets_cancellable(query, terms, &cancel))
    }

    /// Put a call in the list of those in flight; a search (`sort` given) first tells those
    /// it supersedes to stop.
    fn register(
        &self,
        query: &str,
        sort: Option<Option<Sort>>,
    ) -> (Arc<AtomicBool>, Registered<'_>) {
        let id = self.next_search.fetch_add(1, Ordering::Relaxed);
        let cancel = Arc::new(AtomicBool::new(false));
        let mut searches = self.lock_searches();
        if sort.is_some() {
            for s in searches.iter() {
                let same_order = s.sort.is_none() || s.sort == sort;
                if s.query != query || !same_order {
                    s.cancel.store(true, Ordering::Relaxed);
                }
            }
        }
        searches.push(InFlight {
            id,
            query: query.to_string(),
            sort,
            cancel: cancel.clone(),
        });
        (cancel, Registered { readers: self, id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for i in 0..20 {
            let body = format!("---\ntitle: post {i}\n---\nalpha beta gamma {i}\n");
            std::fs::write(dir.path().join(format!("p{i}.md")), body)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        crate::scan::scan(
            dir.path(),
            &crate::scan::ScanOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        dir
    }

    #[test]
    fn readers_are_lent_one_per_caller_and_reused() {
        let dir = archive();
        let readers = Readers::new(dir.path());
        // Nested calls each get their own reader (with one reader this would wait forever).
        let n = readers
            .with(|a| {
                readers.with(|b| {
                    readers.with(|c| {
                        assert!(!std::ptr::eq(a, b) && !std::ptr::eq(b, c));
                        // One snapshot between them.
                        assert!(std::ptr::eq(a.snapshot(), c.snapshot()));
                        Ok(a.snapshot().len())
                    })
                })
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(n, 20);
        assert_eq!(readers.lock_pool().open, 3);
        assert_eq!(readers.lock_pool().idle.len(), 3);
        // Later calls reuse them.
        readers.with(|_| Ok(())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(readers.lock_pool().open, 3);
    }

    #[test]
    fn readers_of_an_index_that_was_replaced_read_the_new_one() {
        let dir = archive();
        let readers = Readers::new(dir.path());
        let total = |r: &Readers| {
            r.with(|s| Ok(s.snapshot().len()))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(total(&readers), 20);
        assert_eq!(readers.lock_pool().idle.len(), 1);
        // The index is damaged and set aside, and a scan builds another, with fewer posts and
        // the same generation as the old one had.
        let index = crate::store::index_path(dir.path());
        std::fs::write(&index, b"not a database").unwrap_or_else(|e| panic!("{e}"));
        for i in 10..20 {
            std::fs::remove_file(dir.path().join(format!("p{i}.md")))
                .unwrap_or_else(|e| panic!("{e}"));
        }
        let summary = crate::scan::scan(
            dir.path(),
            &crate::scan::ScanOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(summary.damaged_index.is_some());
        assert_eq!(total(&readers), 10);
        assert_eq!(readers.lock_pool().open, 1);
    }

    #[test]
    fn a_search_for_another_query_cancels_the_one_in_flight_and_pages_do_not() {
        let dir = archive();
        let readers = Readers::new(dir.path());
        let req = |q: &str| SearchRequest {
            query: q.into(),
            ..Default::default()
        };
        // A search in flight (as if it were still verifying).
        let cancel = Arc::new(AtomicBool::new(false));
        readers.lock_searches().push(InFlight {
            id: u64::MAX,
            query: "alpha".into(),
            sort: Some(None),
            cancel: cancel.clone(),
        });
        // A second page of the same query leaves it alone.
        let page = readers
            .search(&req("alpha"), &CollectionTerms::new())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.total, 20);
        assert!(!cancel.load(Ordering::Relaxed));
        // Another query supersedes it.
        let other = readers
            .search(&req("beta"), &CollectionTerms::new())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(other.total, 20);
        assert!(cancel.load(Ordering::Relaxed));
        // Finished searches leave the list.
        assert_eq!(readers.lock_searches().len(), 1);
        // Facets in flight: a search of their query, in any order, leaves them alone; one of
        // another query stops them. Asking for facets stops nothing.
        let facets = Arc::new(AtomicBool::new(false));
        readers.lock_searches().push(InFlight {
            id: u64::MAX - 1,
            query: "beta".into(),
            sort: None,
            cancel: facets.clone(),
        });
        let sorted = SearchRequest {
            sort: Some(Sort::Date),
            ..req("beta")
        };
        let page = readers
            .search(&sorted, &CollectionTerms::new())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(page.total, 20);
        assert!(!facets.load(Ordering::Relaxed));
        let search = Arc::new(AtomicBool::new(false));
        readers.lock_searches().push(InFlight {
            id: u64::MAX - 2,
            query: "beta".into(),
            sort: Some(Some(Sort::Date)),
            cancel: search.clone(),
        });
        let (total, _) = readers
            .facets("gamma", &CollectionTerms::new())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(total, 20);
        assert!(!facets.load(Ordering::Relaxed) && !search.load(Ordering::Relaxed));
        readers
            .search(&req("gamma"), &CollectionTerms::new())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(facets.load(Ordering::Relaxed) && search.load(Ordering::Relaxed));
        readers.lock_searches().retain(|s| s.id < u64::MAX - 2);
        let mut s = readers.lend().unwrap_or_else(|e| panic!("{e}"));
        let r = s.searcher.as_mut().map(|s| {
            s.facets_cancellable("gamma", &CollectionTerms::new(), &AtomicBool::new(true))
        });
        assert!(matches!(r, Some(Err(Error::Cancelled))), "{r:?}");
        drop(s);
        // A cancelled search answers `Cancelled`.
        let mut s = readers.lend().unwrap_or_else(|e| panic!("{e}"));
        let r = s.searcher.as_mut().map(|s| {
            s.search_cancellable(
                &req("gamma"),
                &CollectionTerms::new(),
                &AtomicBool::new(true),
            )
        });
        assert!(matches!(r, Some(Err(Error::Cancelled))), "{r:?}");
    }
}
