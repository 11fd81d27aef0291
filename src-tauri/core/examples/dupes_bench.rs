//! Duplicates benchmark: a full `duplicates` run on an indexed archive with no cached
//! signatures (cold), the same again (warm: every signature from the cache), and after 1% of
//! the cached signatures were dropped (as after a rescan that changed 1% of the posts). Prints
//! seconds, groups per kind and the peak RSS.
//!
//! usage: cargo run --release -p shelfmark-core --example dupes_bench -- ARCHIVE

use shelfmark_core::api::Archive;
use shelfmark_core::dupes::DuplicatesRequest;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024)
}

fn sql(index: &std::path::Path, statement: &str) {
    match rusqlite::Connection::open(index).and_then(|c| c.execute_batch(statement)) {
        Ok(()) => {}
        Err(e) => eprintln!("{}: {e}", index.display()),
    }
}

fn main() {
    let Some(dir) = std::env::args().nth(1) else {
        eprintln!("usage: dupes_bench ARCHIVE");
        std::process::exit(2);
    };
    let archive = match Archive::open(std::path::Path::new(&dir)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let cancel = AtomicBool::new(false);
    if !archive.is_indexed() {
        let t = Instant::now();
        if let Err(e) = archive.index(&Default::default(), &|_| {}, &cancel) {
            eprintln!("{e}");
            std::process::exit(1);
        }
        println!("indexed in {:.2}s", t.elapsed().as_secs_f64());
    }
    let Some(index) = shelfmark_core::store::existing_index_path(archive.root()) else {
        eprintln!("no index");
        std::process::exit(1);
    };
    // Groups go out one at a time, each written as JSON to a sink, as `shelfmark duplicates
    // --json` writes them to stdout (so the peak RSS is that of the CLI, not of a response
    // holding every group). The peak is the process's: it never falls between runs.
    let run = |label: &str| {
        let t = Instant::now();
        let mut posts_in_groups = 0usize;
        let mut bytes = 0usize;
        let mut emit = |g: shelfmark_core::dupes::DuplicateGroup| {
            posts_in_groups += g.posts.len();
            bytes += serde_json::to_vec(&g).map(|v| v.len()).unwrap_or(0);
            Ok(())
        };
        match archive.duplicates_each(
            &DuplicatesRequest::default(),
            &|_| {},
            &cancel,
            &mut |_| Ok(()),
            &mut emit,
        ) {
            Ok(r) => println!(
                "{label:<12} {:>7.2}s  posts {}  computed {}  groups: exact {}  url {}  near {} ({} posts in groups, {} MB of JSON)  peak RSS {} MiB",
                t.elapsed().as_secs_f64(),
                r.posts,
                r.computed,
                r.counts.exact,
                r.counts.url,
                r.counts.near,
                posts_in_groups,
                bytes / 1_000_000,
                peak_rss_mib().unwrap_or(0)
            ),
            Err(e) => eprintln!("{label}: {e}"),
        }
    };
    sql(&index, "DROP TABLE IF EXISTS dupe_sigs");
    run("cold");
    run("warm");
    sql(
        &index,
        "DELETE FROM dupe_sigs WHERE hash IN
         (SELECT hash FROM dupe_sigs ORDER BY hash LIMIT (SELECT count(*) / 100 FROM dupe_sigs))",
    );
    run("1% changed");
}
