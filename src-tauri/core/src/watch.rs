//! Live updates: a debounced watcher on the archive folder.
//!
//! File system events are debounced (~500 ms) by `notify-debouncer-full`; a batch that touches a
//! post file (or may be a folder: renames and removals of folders matter too) wakes a worker
//! thread that brings the index up to date and reports its summary when anything changed. A
//! batch of post files only is handled by looking at those files ([`crate::scan::update_watched`]:
//! at 1M posts a full scan took ~4 s of both cores for one changed file); a folder, a link, lost
//! events or anything the walk must judge gets an incremental [`crate::scan::scan`]. Events under `.shelfmark/` (the index itself), `.git/` and `node_modules/` are ignored.
//! Dropping the [`Watcher`] stops watching and cancels a scan in progress.

use crate::error::Error;
use crate::postfile::is_post_name;
use crate::scan::{ScanOptions, ScanSummary};
use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer_opt, DebounceEventResult, Debouncer, NoCache};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long the file system must be quiet before a batch of events is handled.
const DEBOUNCE: Duration = Duration::from_millis(500);

/// Folders whose contents never matter to the index.
const IGNORED_DIRS: [&str; 3] = [".shelfmark", ".git", "node_modules"];

/// A running watcher. Dropping it stops watching.
pub struct Watcher {
    debouncer: Option<Debouncer<RecommendedWatcher, NoCache>>,
    stop: Arc<AtomicBool>,
    worker: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher").finish_non_exhaustive()
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Stops the debouncer's thread; its event handler (and so the worker's sender) goes with it.
        drop(self.debouncer.take());
        if let Some(worker) = self.worker.take() {
            // The worker wakes at least every 200 ms and a running scan sees `stop` as its cancel
            // flag, so this wait is short. Never join from the worker itself (a callback that
            // drops its own watcher).
            if worker.thread().id() != std::thread::current().id() {
                let _ = worker.join();
            }
        }
    }
}

/// Whether an event on `path` may change the index of the archive at `root`.
fn relevant(root: &Path, path: &Path) -> bool {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let ignored = rel.components().any(|c| match c {
        Component::Normal(name) => IGNORED_DIRS.iter().any(|d| name == *d),
        _ => false,
    });
    if ignored || rel.as_os_str().is_empty() {
        return false;
    }
    let Some(name) = path.file_name() else {
        return false;
    };
    if is_post_name(name) {
        return true;
    }
    // Folders: moved in, out or renamed, or removed. A path that is gone cannot be asked whether
    // it was a folder; one without an extension probably was.
    match std::fs::symlink_metadata(path) {
        Ok(meta) => meta.is_dir(),
        Err(_) => Path::new(name).extension().is_none(),
    }
}

/// What a debounced batch asks of the index.
#[derive(Debug, PartialEq)]
enum Batch {
    /// Nothing that can change it.
    Nothing,
    /// These post files changed (created, written, removed, renamed): they alone are looked at
    /// (`scan::update_watched`).
    Files(Vec<PathBuf>),
    /// A full incremental scan: events were lost, or a folder changed.
    Scan,
}

/// What a debounced batch asks of the index (see `Batch`).
fn batch_needs(root: &Path, result: &DebounceEventResult) -> Batch {
    let events = match result {
        // Lost events (queue overflow, watch errors): rescan to be safe.
        Err(_) => return Batch::Scan,
        Ok(events) => events,
    };
    let mut files = Vec::new();
    for e in events {
        if matches!(e.event.kind, EventKind::Access(_)) {
            continue;
        }
        if e.event.need_rescan() {
            return Batch::Scan;
        }
        for p in &e.event.paths {
            if !relevant(root, p) {
                continue;
            }
            if !p.file_name().is_some_and(is_post_name) {
                // A folder moved or removed: its posts are found by walking.
                return Batch::Scan;
            }
            files.push(p.clone());
        }
    }
    if files.is_empty() {
        Batch::Nothing
    } else {
        Batch::Files(files)
    }
}

/// Watches the archive at `root` and calls `on_change` (on a worker thread) with the summary of
/// each incremental scan that changed the index (`indexed + removed + renamed > 0`).
/// Nothing is scanned while the archive has no index: building it is the app's job.
///
/// Each scan holds `scan_lock`, the archive's own (see `api::Archive::watch`): an edit holds it
/// too while it writes files and updates the index, so the scan its own writes trigger runs after
/// it and finds the index already up to date. Another archive has another lock, so watchers of two
/// archives never wait for each other.
pub fn watch(
    root: &Path,
    scan_lock: Arc<Mutex<()>>,
    on_change: impl Fn(ScanSummary) + Send + 'static,
) -> Result<Watcher, Error> {
    let root = root.canonicalize().map_err(|source| Error::Io {
        path: root.to_path_buf(),
        source,
    })?;
    if !root.is_dir() {
        return Err(Error::NotAFolder { path: root });
    }
    let (tx, rx) = mpsc::channel::<Batch>();
    let handler_root = root.clone();
    // No file-id cache: it would pair renames by walking and stat-ing every file when the watch
    // starts (on macOS and Windows; Linux has none), and a batch only starts a rescan anyway.
    let mut debouncer = new_debouncer_opt::<_, RecommendedWatcher, NoCache>(
        DEBOUNCE,
        None,
        move |result: DebounceEventResult| match batch_needs(&handler_root, &result) {
            Batch::Nothing => {}
            batch => {
                let _ = tx.send(batch);
            }
        },
        NoCache::new(),
        notify_debouncer_full::notify::Config::default(),
    )
    .map_err(|e| notify_error(&root, e))?;
    debouncer
        .watch(&root, RecursiveMode::Recursive)
        .map_err(|e| notify_error(&root, e))?;

    let stop = Arc::new(AtomicBool::new(false));
    let worker_stop = stop.clone();
    let worker = std::thread::Builder::new()
        .name("shelfmark-watch".into())
        .spawn(move || worker_loop(&root, &scan_lock, &rx, &worker_stop, &on_change))
        .map_err(|source| Error::Io {
            path: PathBuf::from("watcher thread"),
            source,
        })?;
    Ok(Watcher {
        debouncer: Some(debouncer),
        stop,
        worker: Some(worker),
    })
}

fn worker_loop(
    root: &Path,
    scan_lock: &Mutex<()>,
    rx: &mpsc::Receiver<Batch>,
    stop: &AtomicBool,
    on_change: &dyn Fn(ScanSummary),
) {
    while !stop.load(Ordering::Relaxed) {
        let first = match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(batch) => batch,
            Err(mpsc::RecvTimeoutError::Timeout) => continue,
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        };
        // Batches that came in meanwhile are handled with this one.
        let mut batch = first;
        while let Ok(more) = rx.try_recv() {
            batch = match (batch, more) {
                (Batch::Files(mut a), Batch::Files(b)) => {
                    a.extend(b);
                    Batch::Files(a)
                }
                (Batch::Nothing, b) => b,
                (a, Batch::Nothing) => a,
                _ => Batch::Scan,
            };
        }
        if crate::store::existing_index_path(root).is_none() {
            continue;
        }
        let summary = {
            let _guard = scan_lock.lock().unwrap_or_else(|e| e.into_inner());
            crate::background::run(|| update(root, batch, stop))
        };
        match summary {
            Ok(s) if s.indexed + s.removed + s.renamed > 0 => on_change(s),
            Ok(_) => {}
            // A failed scan (cancelled, the index busy, a file gone mid-scan) is retried by the
            // next batch of events; nothing to report.
            Err(_) => {}
        }
    }
}

/// Bring the index up to date after `batch`: only its files when that is enough
/// (`scan::update_watched`), else a full incremental scan.
fn update(root: &Path, batch: Batch, stop: &AtomicBool) -> Result<ScanSummary, Error> {
    let opts = ScanOptions::default();
    if let Batch::Files(paths) = batch {
        let mut rels: Vec<Vec<u8>> = Vec::with_capacity(paths.len());
        for p in &paths {
            match p.strip_prefix(root) {
                Ok(rel) => rels.push(rel.as_os_str().as_encoded_bytes().to_vec()),
                Err(_) => return crate::scan::scan(root, &opts, &|_| {}, stop),
            }
        }
        rels.sort_unstable();
        rels.dedup();
        if let Some(summary) = crate::scan::update_watched(root, rels, &opts)? {
            return Ok(summary);
        }
    }
    crate::scan::scan(root, &opts, &|_| {}, stop)
}

fn notify_error(root: &Path, e: notify_debouncer_full::notify::Error) -> Error {
    use notify_debouncer_full::notify::ErrorKind;
    let source = match e.kind {
        ErrorKind::Io(io) => io,
        other => std::io::Error::other(format!("cannot watch for changes: {other:?}")),
    };
    Error::Io {
        path: root.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Archive;
    use crate::search::searcher::SearchRequest;
    use std::time::Instant;

    fn post(title: &str, body: &str) -> String {
        format!("---\ntitle: {title}\ndate: 2021-03-04\n---\n{body}\n")
    }

    fn hits(archive: &Archive, query: &str) -> u64 {
        archive
            .search(&SearchRequest {
                query: query.into(),
                sort: None,
                limit: Some(10),
                offset: None,
                facets: false,
            })
            .map(|r| r.total)
            .unwrap_or(0)
    }

    /// Polls `cond` every 50 ms for at most `secs` seconds.
    fn eventually(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < until {
            if cond() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        cond()
    }

    #[test]
    fn relevant_paths() {
        let root = Path::new("/archive");
        assert!(relevant(root, Path::new("/archive/_posts/2021-01-01-a.md")));
        assert!(!relevant(
            root,
            Path::new("/archive/.shelfmark/index.sqlite-wal")
        ));
        assert!(!relevant(root, Path::new("/archive/.git/objects/ab.md")));
        assert!(!relevant(root, Path::new("/archive/x/node_modules/a.md")));
        assert!(!relevant(root, Path::new("/archive/_posts/.a.md.swp")));
        assert!(!relevant(root, Path::new("/archive/notes.txt")));
        // A folder that is gone (renamed or removed) still matters.
        assert!(relevant(root, Path::new("/archive/archived/2021-01-01")));
        assert!(!relevant(root, Path::new("/archive")));
    }

    #[test]
    fn new_and_deleted_posts_are_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("_posts");
        std::fs::create_dir_all(&posts).unwrap();
        std::fs::write(
            posts.join("2021-01-01-first.md"),
            post("First", "两岸 old news"),
        )
        .unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap();
        assert_eq!(hits(&archive, "zebrafish"), 0);

        let summaries = Arc::new(Mutex::new(Vec::<ScanSummary>::new()));
        let seen = summaries.clone();
        let watcher = archive
            .watch(move |s| seen.lock().unwrap().push(s))
            .unwrap();

        // Noise that must not trigger a report: a file that is not a post.
        std::fs::write(dir.path().join("notes.txt"), "not a post").unwrap();

        let new_post = posts.join("2021-02-02-second.md");
        std::fs::write(&new_post, post("Second", "zebrafish swim here")).unwrap();
        assert!(
            eventually(10, || hits(&archive, "zebrafish") == 1),
            "the new post was not indexed within 10 s"
        );
        assert!(eventually(10, || summaries
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.indexed >= 1)));

        std::fs::remove_file(&new_post).unwrap();
        assert!(
            eventually(10, || hits(&archive, "zebrafish") == 0),
            "the deleted post was still found after 10 s"
        );
        assert!(eventually(10, || summaries
            .lock()
            .unwrap()
            .iter()
            .any(|s| s.removed >= 1)));

        let started = Instant::now();
        drop(watcher);
        assert!(started.elapsed() < Duration::from_secs(5));
        // Stopped: changes are no longer picked up.
        let before = summaries.lock().unwrap().len();
        std::fs::write(
            posts.join("2021-03-03-third.md"),
            post("Third", "okapi herd"),
        )
        .unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(summaries.lock().unwrap().len(), before);
        assert_eq!(hits(&archive, "okapi"), 0);
    }

    #[test]
    fn shelfmarks_own_edits_are_not_outside_changes() {
        let dir = tempfile::tempdir().unwrap();
        let posts = dir.path().join("_posts");
        std::fs::create_dir_all(&posts).unwrap();
        for i in 0..5 {
            let text = post(&format!("Post {i}"), "capybara");
            std::fs::write(posts.join(format!("2021-01-0{}-p{i}.md", i + 1)), text).unwrap();
        }
        let archive = Archive::open(dir.path()).unwrap();
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap();
        let summaries = Arc::new(Mutex::new(Vec::<ScanSummary>::new()));
        let seen = summaries.clone();
        let _watcher = archive
            .watch(move |s| seen.lock().unwrap().push(s))
            .unwrap();

        let req = crate::edit::EditRequest {
            target: crate::edit::EditTarget::Query {
                query: "capybara".into(),
            },
            ops: vec![crate::edit::EditOp::AddItems {
                key: "tags".into(),
                items: vec!["rodent".into()],
            }],
            label: None,
        };
        let out = archive
            .apply_edit(&req, &|_| {}, &AtomicBool::new(false))
            .unwrap();
        assert_eq!(out.written, 5);
        // The index knows the edit at once, without the watcher.
        assert_eq!(hits(&archive, "tag:rodent"), 5);
        archive.undo().unwrap();
        assert_eq!(hits(&archive, "tag:rodent"), 0);
        // Well past the debounce: the watcher's scans found nothing new.
        std::thread::sleep(Duration::from_millis(1500));
        assert_eq!(*summaries.lock().unwrap(), Vec::<ScanSummary>::new());

        // An edit from outside is still picked up.
        let f = posts.join("2021-01-01-p0.md");
        let text = std::fs::read_to_string(&f)
            .unwrap()
            .replace("capybara", "wombat");
        std::fs::write(&f, text).unwrap();
        assert!(eventually(10, || hits(&archive, "wombat") == 1));
        assert!(eventually(10, || !summaries.lock().unwrap().is_empty()));
    }

    #[test]
    fn an_outside_edit_of_one_post_looks_at_that_post_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (archive, _watcher, summaries) = watched_archive(dir.path());
        let posts = dir.path().join("_posts");
        for i in 0..20 {
            let text = post(&format!("Post {i}"), "quokka");
            std::fs::write(posts.join(format!("2021-02-{:02}-q.md", i + 1)), text).unwrap();
        }
        assert!(eventually(10, || hits(&archive, "quokka") == 20));
        assert!(eventually(10, || summaries
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.indexed)
            .sum::<u64>()
            == 20));
        summaries.lock().unwrap().clear();
        let f = posts.join("2021-02-07-q.md");
        std::fs::write(&f, post("Post 6", "numbat and more")).unwrap();
        assert!(eventually(10, || hits(&archive, "numbat") == 1));
        assert!(eventually(10, || !summaries.lock().unwrap().is_empty()));
        // Only that file was looked at: a full scan would count the 20 others unchanged.
        let seen = summaries.lock().unwrap().clone();
        assert_eq!(
            seen.iter()
                .map(|s| (s.indexed, s.unchanged, s.removed))
                .collect::<Vec<_>>(),
            vec![(1, 0, 0)]
        );
    }

    /// An archive with one indexed post, watched; its summaries are collected.
    fn watched_archive(dir: &Path) -> (Archive, Watcher, Arc<Mutex<Vec<ScanSummary>>>) {
        let posts = dir.join("_posts");
        std::fs::create_dir_all(&posts).unwrap();
        std::fs::write(posts.join("2021-01-01-a.md"), post("A", "first post")).unwrap();
        let archive = Archive::open(dir).unwrap();
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap();
        let summaries = Arc::new(Mutex::new(Vec::<ScanSummary>::new()));
        let seen = summaries.clone();
        let watcher = archive
            .watch(move |s| seen.lock().unwrap().push(s))
            .unwrap();
        (archive, watcher, summaries)
    }

    #[test]
    fn two_archives_in_one_process_do_not_block_each_other() {
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let (a, _watch_a, seen_a) = watched_archive(dir_a.path());
        let (b, _watch_b, seen_b) = watched_archive(dir_b.path());
        // A is busy (an edit holds its scan lock): its watcher cannot scan...
        let busy = a.hold_scan_lock();
        std::fs::write(
            dir_a.path().join("_posts/2021-02-02-b.md"),
            post("B", "aardvark"),
        )
        .unwrap();
        std::fs::write(
            dir_b.path().join("_posts/2021-02-02-b.md"),
            post("B", "axolotl"),
        )
        .unwrap();
        // ...while B's watcher goes on as usual.
        assert!(
            eventually(10, || hits(&b, "axolotl") == 1),
            "archive B waited for archive A's lock"
        );
        assert!(!seen_b.lock().unwrap().is_empty());
        // A has not scanned: the lock is still held.
        assert_eq!(hits(&a, "aardvark"), 0);
        assert!(seen_a.lock().unwrap().is_empty());
        drop(busy);
        assert!(
            eventually(10, || hits(&a, "aardvark") == 1),
            "archive A did not scan once its lock was free"
        );
    }

    #[test]
    fn renamed_folders_are_picked_up() {
        let dir = tempfile::tempdir().unwrap();
        let day = dir.path().join("archived").join("2021-01-01");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("a.md"), post("Alpha", "quokka smile")).unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap();
        let summaries = Arc::new(Mutex::new(Vec::<ScanSummary>::new()));
        let seen = summaries.clone();
        let _watcher = archive
            .watch(move |s| seen.lock().unwrap().push(s))
            .unwrap();

        std::fs::rename(&day, dir.path().join("archived").join("2021-01-02")).unwrap();
        assert!(
            eventually(10, || summaries
                .lock()
                .unwrap()
                .iter()
                .any(|s| s.renamed + s.indexed + s.removed > 0)),
            "the folder rename was not picked up within 10 s"
        );
        assert!(eventually(10, || {
            archive
                .show("archived/2021-01-02/a.md")
                .map(|d| d.title == "Alpha")
                .unwrap_or(false)
        }));
    }
}
