//! What the watcher costs for an outside edit of one post: the update of just that file
//! (`scan::update_watched`) against the full incremental scan it used to run. The file is
//! changed (a comment appended), measured both ways, then restored and brought back.
//!
//! usage: cargo run --release -p shelfmark-core --example watch_bench -- ARCHIVE REL_PATH [ROUNDS]

use shelfmark_core::scan::{scan, update_watched, ScanOptions};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(archive), Some(rel)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: watch_bench ARCHIVE REL_PATH [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.get(3).and_then(|r| r.parse().ok()).unwrap_or(3);
    let root = std::path::Path::new(archive)
        .canonicalize()
        .unwrap_or_else(|e| panic!("{archive}: {e}"));
    let file = root.join(rel);
    let original = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let opts = ScanOptions::default();
    let never = AtomicBool::new(false);
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0;
    for round in 0..rounds {
        let mut changed = original.clone();
        changed.extend_from_slice(format!("\n<!-- watch_bench {round} -->\n").as_bytes());
        std::fs::write(&file, &changed).unwrap();
        let t = Instant::now();
        let one = update_watched(&root, vec![rel.as_bytes().to_vec()], &opts)
            .unwrap()
            .expect("a plain post file needs no full scan");
        let one_ms = ms(t);
        std::fs::write(&file, &original).unwrap();
        let t = Instant::now();
        let full = scan(&root, &opts, &|_| {}, &never).unwrap();
        let full_ms = ms(t);
        println!(
            "round {round}: one file {one_ms:.1} ms (indexed {}), full incremental scan {full_ms:.1} ms (indexed {}, unchanged {})",
            one.indexed, full.indexed, full.unchanged
        );
    }
}
