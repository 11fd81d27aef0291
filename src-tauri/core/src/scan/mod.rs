//! Scanning brings the index up to date with the files: a parallel walk, a decision per file
//! (unchanged by size and mtime, then by hash), parallel parsing, and one writer.
//! Scanning only reads the archive; it never writes to a post file.

mod walk;

pub use crate::postfile::is_post_name;
pub use walk::walk;

use crate::error::{Error, Result, SqlContext};
use crate::index::analysis::doc_grams;
use crate::post::{self, ParseOptions};
use crate::problem::{Problem, ProblemKind};
use crate::store::text::{self, Encoder};
use crate::store::writer::{FileStat, PostRecord, Writer};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    pub parse: ParseOptions,
    /// Follow symlinks that lead out of the archive (off by default).
    pub follow_outside_links: bool,
}

/// What a scan did. `problems` counts every problem now recorded for the archive.
#[derive(Debug, Clone, Default, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct ScanSummary {
    pub indexed: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub renamed: u64,
    pub problems: u64,
    pub seconds: f64,
    /// Where a damaged index found at the start was moved (`store::set_aside`) before the
    /// archive was indexed anew; none when the index was sound.
    pub damaged_index: Option<String>,
}

/// Progress of a running scan, reported often and cheaply.
#[derive(Debug, Clone, Copy, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ScanProgress {
    /// Files looked at so far.
    pub done: u64,
    /// Files to look at (known once the walk is over).
    pub total: u64,
}

struct Known {
    size: u64,
    mtime_ns: i64,
    hash: [u8; 32],
    /// Set when the walk found the file (`scan_with`).
    seen: bool,
}

/// What the index knows, by path. Paths come from the archive, which may be hostile: the hasher
/// is keyed per process (foldhash), and is several times faster than the standard one, which was
/// 8% of a no-change rescan at 1M.
type KnownMap = HashMap<Vec<u8>, Known, foldhash::fast::RandomState>;

enum Outcome {
    Touch(FileStat),
    /// A new path with the content of a file that vanished.
    Rename {
        hash: [u8; 32],
        new: FileStat,
    },
    Post(Box<PostRecord>, Vec<Problem>),
    ProblemsOnly(Vec<u8>, Vec<Problem>),
}

/// How `process` stores a post's folded text.
#[derive(Clone, Copy)]
enum Packing<'a> {
    /// As it is: a sample to train the index's dictionary on, packed once that is made.
    Unpacked,
    /// Packed (`store::text`), with the index's dictionary if it has one.
    With(Option<&'a Encoder>),
}

/// A scan of at least this many changed files trains a dictionary for the stored texts, if the
/// index has none: a few hundred posts already save more than its 256 KiB.
const DICT_MIN_CHANGED: usize = 1000;
/// The files it is made from, spread over the changed ones: 1,000 real posts took 0.25 s to
/// train on, and did as well as 4,000 (docs/ARCHITECTURE.md); a fifth more are held out to
/// check it (`store::text::train`).
const DICT_SAMPLES: usize = 1250;
/// What of each sample's folded text the dictionary is trained on (a news article's is 5–6 KB).
const SAMPLE_BYTES: usize = 16 << 10;
/// The most text the samples hold unpacked before the dictionary is made (files may be large).
const SAMPLES_HELD_BYTES: usize = 64 << 20;

/// The changed files to make the dictionary from (at most `DICT_SAMPLES`), and the others.
/// Picked by a hash of their place, not every n-th: an archive's order may repeat with a period
/// (the grown bench corpus does, every 3,000 files), and a sample in step with it would see a
/// few posts only.
fn pick_samples(changed: Vec<&walk::Found>) -> (Vec<&walk::Found>, Vec<&walk::Found>) {
    let step = (changed.len() / DICT_SAMPLES).max(1) as u64;
    let mut picked = Vec::with_capacity(DICT_SAMPLES);
    let mut rest = Vec::with_capacity(changed.len());
    for (i, f) in changed.into_iter().enumerate() {
        if is_sample(i, step) && picked.len() < DICT_SAMPLES {
            picked.push(f);
        } else {
            rest.push(f);
        }
    }
    (picked, rest)
}

/// Parse the samples (`parse` leaves texts unpacked), 64 at a time, so that what they hold
/// unpacked stays bounded whatever the files hold: once `held_max` bytes is reached (or the
/// scan is cancelled), the samples left go to `rest`, to be parsed with the other files.
fn parse_samples<'a>(
    picked: &[&'a walk::Found],
    rest: &mut Vec<&'a walk::Found>,
    held_max: usize,
    cancel: &AtomicBool,
    parse: &(dyn Fn(&walk::Found) -> Outcome + Sync),
) -> Vec<Outcome> {
    let mut sampled = Vec::with_capacity(picked.len());
    let mut held = 0;
    for few in picked.chunks(64) {
        if held >= held_max || cancel.load(Ordering::Relaxed) {
            rest.extend_from_slice(few);
            continue;
        }
        let parsed: Vec<Outcome> = few.par_iter().map(|f| parse(f)).collect();
        for o in &parsed {
            if let Outcome::Post(rec, _) = o {
                held += rec.text.len();
            }
        }
        sampled.extend(parsed);
    }
    sampled
}

/// Whether the `i`th changed file is among those the dictionary is made from: one in `step`.
fn is_sample(i: usize, step: u64) -> bool {
    mix(i as u64).is_multiple_of(step)
}

/// A bijective scramble of a number (SplitMix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Bring the index of `archive` up to date. `progress` is called from worker threads.
pub fn scan(
    archive: &Path,
    opts: &ScanOptions,
    progress: &(dyn Fn(ScanProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<ScanSummary> {
    scan_with(archive, opts, progress, cancel, false)
}

/// Drop the index and index every file again (`shelfmark index --rebuild`), in one transaction
/// (`Writer::start_rebuild`): until it commits, readers and a crash or cancel keep the old index.
/// Only the index is dropped; everything else under `.shelfmark/` stays.
pub fn rebuild(
    archive: &Path,
    opts: &ScanOptions,
    progress: &(dyn Fn(ScanProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<ScanSummary> {
    scan_with(archive, opts, progress, cancel, true)
}

/// A scan (or a rebuild) that meets a damaged index (`Error::is_damaged`: not a database, or
/// pages that do not hold together, as a crash, a bad disk or a hostile archive can leave) sets
/// it aside and indexes the archive anew: the index is a cache of the files. Once only: a new
/// index that is damaged too is an error.
fn scan_with(
    archive: &Path,
    opts: &ScanOptions,
    progress: &(dyn Fn(ScanProgress) + Sync),
    cancel: &AtomicBool,
    rebuild: bool,
) -> Result<ScanSummary> {
    match scan_once(archive, opts, progress, cancel, rebuild) {
        Err(e) if e.is_damaged() => {
            let root = archive.canonicalize().map_err(|source| Error::Io {
                path: archive.to_path_buf(),
                source,
            })?;
            let index = crate::store::index_path(&root);
            if !index.is_file() {
                return Err(e);
            }
            let aside = crate::store::set_aside(&index)?;
            let mut summary = scan_once(archive, opts, progress, cancel, false)?;
            summary.damaged_index = Some(aside.display().to_string());
            Ok(summary)
        }
        done => done,
    }
}

fn scan_once(
    archive: &Path,
    opts: &ScanOptions,
    progress: &(dyn Fn(ScanProgress) + Sync),
    cancel: &AtomicBool,
    rebuild: bool,
) -> Result<ScanSummary> {
    let started = Instant::now();
    let root = archive.canonicalize().map_err(|source| Error::Io {
        path: archive.to_path_buf(),
        source,
    })?;
    if !root.is_dir() {
        return Err(Error::NotAFolder {
            path: archive.to_path_buf(),
        });
    }
    let index = crate::store::index_path(&root);
    // A first build goes into a side file, renamed into place when complete.
    let bulk_path = (!index.exists()).then(|| index.with_extension("sqlite.building"));
    let mut writer = match &bulk_path {
        Some(p) => Writer::open_bulk(p)?,
        None => Writer::open(&index)?,
    };
    if rebuild && bulk_path.is_none() {
        writer.start_rebuild()?;
    }
    // The walk (file system) and what the index knows (SQLite) are read side by side.
    let (walked, known) = std::thread::scope(|s| {
        let walking = s.spawn(|| walk::walk(&root, opts.follow_outside_links));
        let known = load_known(writer.conn(), writer.path());
        let walked = walking
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (walked, known)
    });
    let mut known = known?;
    let total = walked.files.len() as u64;
    progress(ScanProgress { done: 0, total });

    let mut summary = ScanSummary::default();
    let mut changed: Vec<&walk::Found> = Vec::new();
    for f in &walked.files {
        match known.get_mut(&f.rel) {
            Some(k) => {
                k.seen = true;
                if k.size == f.size && k.mtime_ns == f.mtime_ns {
                    summary.unchanged += 1;
                } else {
                    changed.push(f);
                }
            }
            None => changed.push(f),
        }
    }
    let known = known;
    // Content of files that vanished, to recognise them when they reappear under a new name.
    let mut vanished: HashMap<[u8; 32], Vec<Vec<u8>>> = HashMap::new();
    for (path, k) in &known {
        if !k.seen {
            vanished.entry(k.hash).or_default().push(path.clone());
        }
    }
    let vanished_hashes: HashSet<[u8; 32]> = vanished.keys().copied().collect();
    let done = AtomicU64::new(summary.unchanged);
    progress(ScanProgress {
        done: summary.unchanged,
        total,
    });

    // The dictionary stored texts are compressed with: the index's, or one trained now on a
    // sample of the changed files, parsed first (their outcomes are stored first, not parsed
    // again).
    let mut dict = writer.text_dict()?;
    let mut sampled: Vec<Outcome> = Vec::new();
    if dict.is_none() && changed.len() >= DICT_MIN_CHANGED {
        let (picked, rest) = pick_samples(changed);
        changed = rest;
        sampled = parse_samples(&picked, &mut changed, SAMPLES_HELD_BYTES, cancel, &|f| {
            let k = known.get(&f.rel);
            process(&root, f, k, &vanished_hashes, opts, Packing::Unpacked)
        });
        let n = done.fetch_add(sampled.len() as u64, Ordering::Relaxed) + sampled.len() as u64;
        progress(ScanProgress { done: n, total });
        let samples: Vec<&[u8]> = sampled
            .iter()
            .filter_map(|o| match o {
                Outcome::Post(rec, _) => Some(&rec.text[..rec.text.len().min(SAMPLE_BYTES)]),
                _ => None,
            })
            .collect();
        if let Some(bytes) = text::train(&samples) {
            dict = writer.add_text_dict(&bytes)?;
        }
        sampled.par_iter_mut().for_each(|o| {
            if let Outcome::Post(rec, _) = o {
                rec.text = text::pack(&String::from_utf8_lossy(&rec.text), dict.as_ref());
            }
        });
    }
    let packing = Packing::With(dict.as_ref());

    let (tx, rx) = crossbeam_channel::bounded::<Outcome>(256);
    let mut renamed_from: HashSet<Vec<u8>> = HashSet::new();
    let result: Result<()> = std::thread::scope(|s| {
        let known = &known;
        let vanished_hashes = &vanished_hashes;
        let done = &done;
        let root = root.as_path();
        s.spawn(move || {
            changed.par_iter().for_each_with(tx, |tx, f| {
                if cancel.load(Ordering::Relaxed) {
                    return;
                }
                let outcome = process(root, f, known.get(&f.rel), vanished_hashes, opts, packing);
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                if n.is_multiple_of(64) || n == total {
                    progress(ScanProgress { done: n, total });
                }
                let _ = tx.send(outcome);
            });
        });
        for outcome in sampled.into_iter().chain(rx) {
            if cancel.load(Ordering::Relaxed) {
                continue;
            }
            match outcome {
                Outcome::Touch(stat) => {
                    writer.touch(&stat)?;
                    summary.unchanged += 1;
                }
                Outcome::Rename { hash, new } => {
                    let old = vanished
                        .get(&hash)
                        .and_then(|paths| paths.iter().find(|p| !renamed_from.contains(*p)));
                    match old.cloned() {
                        Some(old) => {
                            writer.rename(&old, &new)?;
                            renamed_from.insert(old);
                            summary.renamed += 1;
                        }
                        None => {
                            // Two new files with the content of one vanished file: index this one afresh.
                            if let Some(f) = walked.file(&new.path) {
                                let fresh = process(root, f, None, &HashSet::new(), opts, packing);
                                store_parsed(&mut writer, &mut summary, known, fresh)?;
                            }
                        }
                    }
                }
                parsed => store_parsed(&mut writer, &mut summary, known, parsed)?,
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        writer.rollback()?;
        return Err(e);
    }
    if cancel.load(Ordering::Relaxed) {
        writer.rollback()?;
        return Err(Error::Cancelled);
    }
    for (path, _) in known.iter().filter(|(_, k)| !k.seen) {
        if !renamed_from.contains(path) {
            writer.remove(path)?;
            summary.removed += 1;
        }
    }
    let mut problem_paths: HashSet<&[u8]> = HashSet::new();
    for (path, problem) in &walked.problems {
        writer.set_problems(path, std::slice::from_ref(problem))?;
        problem_paths.insert(path);
    }
    writer.drop_problems_except(&|p| walked.file(p).is_some() || problem_paths.contains(p))?;
    if rebuild {
        crate::store::crash_point("rebuild:before-commit");
    }
    writer.commit()?;
    summary.problems = writer
        .conn()
        .query_row("SELECT count(*) FROM problems", [], |r| r.get::<_, i64>(0))
        .at(writer.path())? as u64;
    if bulk_path.is_some() {
        writer.finish_bulk(&index)?;
    }
    progress(ScanProgress { done: total, total });
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// A file an edit wrote: its path, and when only its front matter changed (same title and body
/// as before), the hash of the version the index should hold, so its text need not be indexed
/// again.
pub struct Edited {
    pub path: Vec<u8>,
    pub same_text_as: Option<[u8; 32]>,
}

/// Bring the index up to date for just these files, without walking the archive: what an edit
/// does after writing them. Files that are gone leave the index.
pub fn update_paths(archive_root: &Path, files: &[Edited], opts: &ScanOptions) -> Result<()> {
    update_files(archive_root, files, opts, false).map(|_| ())
}

/// What the watcher's batch of changed paths (relative to the archive) did to the index, found
/// without walking the archive: at 1M posts a full incremental scan took ~4 s of both cores for
/// one changed file. None when the batch needs that full scan: more than `LOOKUPS_MAX` paths, a
/// path that is no post file (hidden, under `node_modules`, not `.md`), one that is now a link, a
/// folder or anything else but a regular file (links are judged by the walk), or one that is
/// gone but was no post of the index (it may have been a folder of posts).
pub fn update_watched(
    archive_root: &Path,
    paths: Vec<Vec<u8>>,
    opts: &ScanOptions,
) -> Result<Option<ScanSummary>> {
    if paths.is_empty() || paths.len() > LOOKUPS_MAX {
        return Ok(None);
    }
    let plain = |rel: &Vec<u8>| {
        crate::postfile::check_rel(rel).is_ok()
            && !rel.split(|b| *b == b'/').any(|c| c == b"node_modules")
    };
    if !paths.iter().all(plain) {
        return Ok(None);
    }
    let files: Vec<Edited> = paths
        .into_iter()
        .map(|path| Edited {
            path,
            same_text_as: None,
        })
        .collect();
    update_files(archive_root, &files, opts, true)
}

/// `update_paths` and `update_watched`: `watched` reads only regular files (a link in the list
/// is read through only for an edit, whose paths come from the index, where the walk judged
/// them), and gives up (none) on a gone path the index does not hold.
fn update_files(
    archive_root: &Path,
    files: &[Edited],
    opts: &ScanOptions,
    watched: bool,
) -> Result<Option<ScanSummary>> {
    use std::os::unix::ffi::OsStrExt;
    let Some(index) = crate::store::existing_index_path(archive_root) else {
        return Ok(None);
    };
    let started = Instant::now();
    let mut writer = Writer::open(&index)?;
    // Each path looked up, up to a bulk edit of many files, where reading every row is cheaper.
    let known = if files.len() <= LOOKUPS_MAX {
        load_known_of(
            writer.conn(),
            writer.path(),
            files.iter().map(|e| e.path.as_slice()),
        )?
    } else {
        load_known(writer.conn(), writer.path())?
    };
    let dict = writer.text_dict()?;
    let packing = Packing::With(dict.as_ref());
    // A file as it is now: through a link only for an edit (see above).
    let found = |rel: &Vec<u8>| {
        let abs = archive_root.join(Path::new(std::ffi::OsStr::from_bytes(rel)));
        let meta = std::fs::symlink_metadata(&abs).ok()?;
        let link = meta.file_type().is_symlink();
        let meta = match link {
            true if watched => return None,
            true => std::fs::metadata(&abs).ok()?,
            false => meta,
        };
        Some(found_of(rel, &meta, link))
    };
    // Each file stat'ed once. A watched path that is no regular file now, or that is gone but
    // was no post of the index (it may have been a folder of posts), needs the walk.
    let mut now: Vec<(&Edited, Option<walk::Found>)> = Vec::with_capacity(files.len());
    for e in files {
        let f = if watched {
            let abs = archive_root.join(Path::new(std::ffi::OsStr::from_bytes(&e.path)));
            match std::fs::symlink_metadata(&abs) {
                Ok(meta) if meta.file_type().is_file() => Some(found_of(&e.path, &meta, false)),
                Err(err)
                    if err.kind() == std::io::ErrorKind::NotFound
                        && known.contains_key(&e.path) =>
                {
                    None
                }
                _ => return Ok(None),
            }
        } else {
            found(&e.path)
        };
        now.push((e, f));
    }
    // A watched file with the size and time the index knows is not read (as in a full scan):
    // Shelfmark's own edits, already in the index, come back as events.
    let same = |k: &Known, f: &walk::Found| k.size == f.size && k.mtime_ns == f.mtime_ns;
    now.retain(|(e, f)| {
        !watched
            || !known
                .get(&e.path)
                .zip(f.as_ref())
                .is_some_and(|(k, f)| same(k, f))
    });
    // A file of the list that is gone and whose content appears under another path of the list
    // was moved: the post keeps its id (as in a full scan).
    let mut vanished: HashMap<[u8; 32], Vec<Vec<u8>>> = HashMap::new();
    for (e, f) in &now {
        if let (Some(k), None) = (known.get(&e.path), f) {
            vanished.entry(k.hash).or_default().push(e.path.clone());
        }
    }
    let vanished_hashes: HashSet<[u8; 32]> = vanished.keys().copied().collect();
    let mut outcomes: Vec<(Outcome, Option<[u8; 32]>)> = now
        .into_par_iter()
        .map(|(e, f)| match f {
            Some(f) => {
                let mut opts = opts.clone();
                opts.parse.skip_body_text = e.same_text_as.is_some();
                let seen = if known.contains_key(&e.path) {
                    &HashSet::new()
                } else {
                    &vanished_hashes
                };
                let outcome = process(archive_root, &f, known.get(&e.path), seen, &opts, packing);
                (outcome, e.same_text_as)
            }
            None => (Outcome::ProblemsOnly(e.path.clone(), Vec::new()), None),
        })
        .collect();
    // Renames first, so the vanished paths they take over are not removed before.
    outcomes.sort_by_key(|(o, _)| !matches!(o, Outcome::Rename { .. }));
    let mut renamed_from: HashSet<Vec<u8>> = HashSet::new();
    let mut summary = ScanSummary::default();
    let result = (|| {
        for (outcome, same_text_as) in outcomes {
            match (outcome, same_text_as) {
                (Outcome::Rename { hash, new }, _) => {
                    let old = vanished
                        .get(&hash)
                        .and_then(|paths| paths.iter().find(|p| !renamed_from.contains(*p)));
                    match old.cloned() {
                        Some(old) => {
                            writer.rename(&old, &new)?;
                            renamed_from.insert(old);
                            summary.renamed += 1;
                        }
                        None => {
                            if let Some(f) = found(&new.path) {
                                let fresh =
                                    process(archive_root, &f, None, &HashSet::new(), opts, packing);
                                store_parsed(&mut writer, &mut summary, &known, fresh)?;
                            }
                        }
                    }
                }
                (Outcome::ProblemsOnly(path, _), _) if renamed_from.contains(&path) => {}
                (Outcome::Touch(stat), _) => {
                    // The same content as the index holds (a file saved unchanged).
                    writer.touch(&stat)?;
                    summary.unchanged += 1;
                }
                (Outcome::Post(rec, problems), Some(old)) => {
                    writer.set_problems(&rec.stat.path, &problems)?;
                    if !writer.update_front_matter(&rec, &old)? {
                        // The index held another version: index this file in full.
                        if let Some(f) = found(&rec.stat.path) {
                            let full =
                                process(archive_root, &f, None, &HashSet::new(), opts, packing);
                            store_parsed(&mut writer, &mut summary, &known, full)?;
                        }
                    }
                }
                (outcome, _) => store_parsed(&mut writer, &mut summary, &known, outcome)?,
            }
        }
        writer.commit()
    })();
    if let Err(e) = result {
        writer.rollback()?;
        return Err(e);
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(Some(summary))
}

/// A file at `rel` as `meta` describes it; `link` when reached through a symlink.
fn found_of(rel: &[u8], meta: &std::fs::Metadata, link: bool) -> walk::Found {
    walk::Found {
        rel: rel.to_vec(),
        size: meta.len(),
        mtime_ns: walk::mtime_ns(meta),
        link,
    }
}

/// Store a parsed file: a post with its problems, or only problems (a known post that can no
/// longer be read leaves the index). Other outcomes are not parse results and are ignored.
fn store_parsed(
    writer: &mut Writer,
    summary: &mut ScanSummary,
    known: &KnownMap,
    outcome: Outcome,
) -> Result<()> {
    match outcome {
        Outcome::Post(rec, problems) => {
            writer.set_problems(&rec.stat.path, &problems)?;
            writer.upsert(*rec)?;
            summary.indexed += 1;
        }
        Outcome::ProblemsOnly(path, problems) => {
            if known.contains_key(&path) {
                writer.remove(&path)?;
                summary.removed += 1;
            }
            writer.set_problems(&path, &problems)?;
        }
        Outcome::Touch(_) | Outcome::Rename { .. } => {}
    }
    Ok(())
}

/// Above this many files, an edit's update reads every post's row rather than look up each of
/// its files (a lookup costs a few rows' reading).
const LOOKUPS_MAX: usize = 20_000;

/// What the index knows of just these paths (one lookup each in `posts`' path index): an edit
/// of a few posts does not read the whole archive's rows (at 1M, 2-3 s per edit).
fn load_known_of<'a>(
    conn: &rusqlite::Connection,
    index: &Path,
    paths: impl Iterator<Item = &'a [u8]>,
) -> Result<KnownMap> {
    use rusqlite::OptionalExtension;
    let mut stmt = conn
        .prepare("SELECT size, mtime_ns, hash FROM posts WHERE path = ?1")
        .at(index)?;
    let mut known = KnownMap::default();
    for path in paths {
        let row = stmt
            .query_row([path], |r| {
                Ok(Known {
                    size: r.get::<_, i64>(0)? as u64,
                    mtime_ns: r.get(1)?,
                    hash: hash_of(r.get_ref(2)?),
                    seen: false,
                })
            })
            .optional()
            .at(index)?;
        if let Some(k) = row {
            known.insert(path.to_vec(), k);
        }
    }
    Ok(known)
}

/// A stored content hash; anything but 32 bytes (only a damaged or hostile index) reads as zeros.
fn hash_of(value: rusqlite::types::ValueRef<'_>) -> [u8; 32] {
    let mut h = [0u8; 32];
    if let Ok(hash) = value.as_blob() {
        if hash.len() == 32 {
            h.copy_from_slice(hash);
        }
    }
    h
}

fn load_known(conn: &rusqlite::Connection, index: &Path) -> Result<KnownMap> {
    let mut stmt = conn
        .prepare("SELECT path, size, mtime_ns, hash FROM posts")
        .at(index)?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                Known {
                    size: r.get::<_, i64>(1)? as u64,
                    mtime_ns: r.get(2)?,
                    hash: hash_of(r.get_ref(3)?),
                    seen: false,
                },
            ))
        })
        .at(index)?;
    let mut known = KnownMap::default();
    for row in rows {
        let (path, k) = row.at(index)?;
        known.insert(path, k);
    }
    Ok(known)
}

/// Read, hash and parse one file (runs on a worker thread).
fn process(
    root: &Path,
    f: &walk::Found,
    known: Option<&Known>,
    vanished: &HashSet<[u8; 32]>,
    opts: &ScanOptions,
    packing: Packing,
) -> Outcome {
    let stat = FileStat {
        path: f.rel.clone(),
        size: f.size,
        mtime_ns: f.mtime_ns,
    };
    if f.size > opts.parse.max_bytes {
        let msg = format!(
            "is {} bytes, over the {}-byte limit; not indexed (raise the limit to index it)",
            f.size, opts.parse.max_bytes
        );
        return Outcome::ProblemsOnly(stat.path, vec![Problem::new(ProblemKind::TooLarge, msg)]);
    }
    // The walk judged any link already (and only a link it judged is read through); a file
    // swapped for a link, a FIFO or grown past the limit since is refused here rather than
    // read, hanging or filling memory.
    let abs = f.abs(root);
    let bytes = match crate::postfile::read_regular(&abs, opts.parse.max_bytes, f.link) {
        Ok(b) => b,
        Err(err) => {
            let msg = err.to_string();
            return Outcome::ProblemsOnly(
                stat.path,
                vec![Problem::new(ProblemKind::Unreadable, msg)],
            );
        }
    };
    let hash: [u8; 32] = *blake3::hash(&bytes).as_bytes();
    if known.is_some_and(|k| k.hash == hash) {
        return Outcome::Touch(stat);
    }
    if known.is_none() && vanished.contains(&hash) {
        return Outcome::Rename { hash, new: stat };
    }
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parsed = post::parse(&name, &bytes, &opts.parse);
    match parsed.post {
        Some(post) => {
            let (grams, folded, text_chars) =
                doc_grams(&post.title, &post.article_text(), &post.rest_text());
            Outcome::Post(
                Box::new(PostRecord {
                    stat,
                    hash,
                    post,
                    grams,
                    text: match packing {
                        Packing::Unpacked => folded.into_bytes(),
                        Packing::With(dict) => text::pack(&folded, dict),
                    },
                    text_chars,
                }),
                parsed.problems,
            )
        }
        None => Outcome::ProblemsOnly(stat.path, parsed.problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::OptionalExtension;

    /// SQLite steps that `f` takes on `conn` (`store::count_steps`).
    fn steps<T>(
        conn: &mut rusqlite::Connection,
        f: impl FnOnce(&rusqlite::Connection) -> T,
    ) -> (u64, T) {
        let steps = crate::store::count_steps(conn);
        let out = f(conn);
        (steps.load(Ordering::Relaxed), out)
    }

    #[test]
    fn an_edit_looks_up_its_own_files_not_every_post() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..400 {
            let body = format!("---\ntitle: post {i}\n---\nbody {i}\n");
            std::fs::write(dir.path().join(format!("p{i}.md")), body).unwrap();
        }
        scan(
            dir.path(),
            &ScanOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let index = crate::store::existing_index_path(dir.path()).unwrap();
        let wanted: [&[u8]; 2] = [b"p7.md", b"gone.md"];
        let mut conn = crate::store::open_for_read(&index).unwrap();
        let (few, known) = steps(&mut conn, |c| {
            load_known_of(c, &index, wanted.into_iter()).unwrap()
        });
        let mut conn = crate::store::open_for_read(&index).unwrap();
        let (all, every) = steps(&mut conn, |c| load_known(c, &index).unwrap());
        assert_eq!(every.len(), 400);
        assert_eq!(known.len(), 1);
        let k = known.get(&b"p7.md"[..]).unwrap();
        let meta = std::fs::metadata(dir.path().join("p7.md")).unwrap();
        assert_eq!((k.size, k.mtime_ns), (meta.len(), walk::mtime_ns(&meta)));
        assert_eq!(k.hash, every.get(&b"p7.md"[..]).unwrap().hash);
        assert!(few * 20 < all, "{few} steps for two paths, {all} for all");
        assert!(few < 400, "{few} steps for two paths of 400 posts");
    }

    #[test]
    fn samples_for_the_dictionary_do_not_fall_in_step_with_an_archive_that_repeats() {
        // A million files whose content repeats every 3,000 (as in the grown bench corpus).
        let n = 1_000_000;
        let step = (n / DICT_SAMPLES) as u64;
        let picked: Vec<usize> = (0..n).filter(|&i| is_sample(i, step)).collect();
        let expected = n / step as usize;
        assert!(
            picked.len().abs_diff(expected) < expected / 10,
            "{}",
            picked.len()
        );
        let kinds: HashSet<usize> = picked.iter().map(|i| i % 3000).collect();
        assert!(kinds.len() > 800, "{} kinds of 3,000", kinds.len());
        // Every file when there are fewer than the samples wanted.
        assert!((0..500).all(|i| is_sample(i, 1)));
    }

    #[test]
    fn samples_stop_being_parsed_once_they_hold_enough_text_and_the_rest_wait_their_turn() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..130 {
            let post = format!(
                "---\ntitle: 第{i}篇\n---\n<p>{}</p>\n",
                "经济 文化 ".repeat(40)
            );
            std::fs::write(dir.path().join(format!("p{i}.md")), post).unwrap();
        }
        let walked = walk(dir.path(), false);
        let all: Vec<&walk::Found> = walked.files.iter().collect();
        let parse = |f: &walk::Found| {
            let none = HashSet::new();
            process(
                dir.path(),
                f,
                None,
                &none,
                &ScanOptions::default(),
                Packing::Unpacked,
            )
        };
        let never = AtomicBool::new(false);
        let text_of = |o: &Outcome| match o {
            Outcome::Post(rec, _) => rec.text.len(),
            _ => 0,
        };
        // No bound reached: every sample is parsed, its text unpacked.
        let mut rest = Vec::new();
        let sampled = parse_samples(&all, &mut rest, usize::MAX, &never, &parse);
        assert_eq!((sampled.len(), rest.len()), (130, 0));
        assert!(sampled.iter().all(|o| text_of(o) > 400));
        // Bound reached by the first 64: the other 66 are left to the rest.
        let sampled = parse_samples(&all, &mut rest, 1, &never, &parse);
        assert_eq!((sampled.len(), rest.len()), (64, 66));
        // Cancelled: none parsed.
        let mut rest = Vec::new();
        let sampled = parse_samples(&all, &mut rest, usize::MAX, &AtomicBool::new(true), &parse);
        assert_eq!((sampled.len(), rest.len()), (0, 130));
    }

    #[test]
    fn a_watched_change_updates_just_its_files_or_asks_for_a_full_scan() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().canonicalize().unwrap();
        let write = |rel: &str, title: &str| {
            let body = format!("---\ntitle: {title}\n---\nbody of {title}\n");
            std::fs::write(root.join(rel), body).unwrap();
        };
        for i in 0..8 {
            write(&format!("p{i}.md"), &format!("post {i}"));
        }
        std::fs::create_dir(root.join("dir.md")).unwrap();
        write("dir.md/inner.md", "inner");
        scan(
            &root,
            &ScanOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let index = crate::store::existing_index_path(&root).unwrap();
        let conn = crate::store::open_for_read(&index).unwrap();
        let generation = || crate::store::generation(&conn, &index).unwrap();
        let row = |rel: &str| -> Option<(i64, String)> {
            conn.query_row(
                "SELECT id, title FROM posts WHERE path = ?1",
                [rel.as_bytes()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .unwrap()
        };
        let update = |rels: &[&str]| {
            let rels = rels.iter().map(|r| r.as_bytes().to_vec()).collect();
            update_watched(&root, rels, &ScanOptions::default()).unwrap()
        };
        let counts = |s: ScanSummary| (s.indexed, s.unchanged, s.removed, s.renamed);

        // A file as the index knows it: nothing read, nothing written.
        let g = generation();
        assert_eq!(update(&["p1.md"]).map(counts), Some((0, 0, 0, 0)));
        assert_eq!(generation(), g);
        // Written again with the same bytes: its new time recorded, not indexed again.
        let id1 = row("p1.md").unwrap().0;
        std::fs::remove_file(root.join("p1.md")).unwrap();
        write("p1.md", "post 1");
        let f = std::fs::File::options()
            .write(true)
            .open(root.join("p1.md"))
            .unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(9))
            .unwrap();
        assert_eq!(update(&["p1.md"]).map(counts), Some((0, 1, 0, 0)));
        assert_eq!(row("p1.md").unwrap().0, id1);
        // Changed, new, removed and moved files, in one batch.
        write("p2.md", "changed");
        write("new.md", "new");
        std::fs::remove_file(root.join("p3.md")).unwrap();
        let id4 = row("p4.md").unwrap().0;
        std::fs::rename(root.join("p4.md"), root.join("moved.md")).unwrap();
        let batch = ["p2.md", "new.md", "p3.md", "p4.md", "moved.md"];
        assert_eq!(update(&batch).map(counts), Some((2, 0, 1, 1)));
        assert_eq!(row("p2.md").unwrap().1, "changed");
        assert_eq!(row("new.md").unwrap().1, "new");
        assert_eq!(row("p3.md"), None);
        assert_eq!(row("p4.md"), None);
        assert_eq!(row("moved.md").unwrap().0, id4);
        assert!(generation() > g);

        // What only a walk can judge: a full scan is asked for, and nothing is written.
        std::os::unix::fs::symlink(root.join("p5.md"), root.join("link.md")).unwrap();
        std::fs::create_dir(root.join("node_modules")).unwrap();
        write("node_modules/x.md", "dependency");
        write(".hidden.md", "hidden");
        let g = generation();
        for rels in [
            &["link.md"][..],
            &["dir.md"],
            &["dir.md/inner.md", "dir.md"],
            &["node_modules/x.md"],
            &[".hidden.md"],
            &["notes.txt"],
            &["never-indexed-and-gone.md"],
            &["p6.md", "link.md"],
            &[],
        ] {
            assert_eq!(update(rels).map(counts), None, "{rels:?}");
        }
        assert_eq!(generation(), g);
        // A folder named like a post that is gone: it held posts, so a walk decides.
        std::fs::remove_dir_all(root.join("dir.md")).unwrap();
        assert_eq!(update(&["dir.md"]).map(counts), None);
        assert!(row("dir.md/inner.md").is_some());
    }

    #[test]
    fn a_file_swapped_for_a_link_after_the_walk_is_not_read_through_it() {
        let t = tempfile::tempdir().unwrap();
        let (root, outside) = (t.path().join("a"), t.path().join("secret.md"));
        std::fs::create_dir(&root).unwrap();
        std::fs::write(&outside, "---\ntitle: secret\n---\nsecret\n").unwrap();
        std::fs::write(root.join("p.md"), "---\ntitle: p\n---\nplain\n").unwrap();
        let walked = walk::walk(&root.canonicalize().unwrap(), false);
        let f = walked.file(b"p.md").unwrap().clone();
        assert!(!f.link);
        let read = |f: &walk::Found| {
            let none = HashSet::new();
            let opts = ScanOptions::default();
            process(&root, f, None, &none, &opts, Packing::Unpacked)
        };
        assert!(matches!(read(&f), Outcome::Post(..)));
        std::fs::remove_file(root.join("p.md")).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("p.md")).unwrap();
        match read(&f) {
            Outcome::ProblemsOnly(path, problems) => {
                assert_eq!(path, b"p.md");
                assert_eq!(problems[0].kind, ProblemKind::Unreadable);
            }
            _ => panic!("read through a link the walk never judged"),
        }
        // A link the walk judged is read through.
        let judged = walk::Found { link: true, ..f };
        assert!(matches!(read(&judged), Outcome::Post(..)));
    }
}
