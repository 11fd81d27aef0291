//! Whole-program tests of `shelfmark resolve`: a group of duplicates resolved by tagging, moving
//! or deleting the posts not kept, as one operation of the journal.
//!
//! - Each action, then `undo`, gives back the tree byte for byte (every file's sha256 and mode,
//!   every folder, so folders a move created go too); `redo` gives the resolved tree again.
//! - The index follows: search finds a moved post at its new path (same post id), a deleted one
//!   nowhere, and a rescan afterwards finds nothing to do.
//! - Refusals (a file changed since it was seen, a move onto an existing file, a folder that is a
//!   link out of the archive, a folder in `.shelfmark`, a link among the posts) name the reason
//!   and change nothing.
//! - SIGKILL at every crash point of the new operations (`SHELFMARK_EDIT_CRASH_AT`), then `undo`
//!   or `recover`, gives a consistent tree, byte for byte the one before or the one after.

mod common;
use common::tree::sha256_hex;
use common::*;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;

// ---------------------------------------------------------------------------------------------
// Fixtures and helpers
// ---------------------------------------------------------------------------------------------

const KEEP: &str = "_posts/2021-01-11-keep.md";
const COPY1: &str = "_posts/2021-01-11-copy1.md";
const COPY2: &str = "_posts/2021/copy2.md";
const COPY3: &str = "news/copy3.md";
const OTHERS: [&str; 3] = [COPY1, COPY2, COPY3];

/// Four copies of one article from three sources, in several styles (block list, flow list,
/// CRLF, a private file), and one unrelated post.
fn group() -> Fixture {
    let f = Fixture::new(&[
        (
            KEEP,
            "---\nlayout: post\ntitle: \"两岸关系新论述\"\nfrom: http://a.example/1\ntags:\n  - 联合早报\n---\n<p>正文 keepword</p>\n"
                .as_bytes(),
        ),
        (
            COPY1,
            "---\ntitle: 两岸关系新论述 - 来源乙\nfrom: http://b.example/2?utm_source=x\ntags: [ 乙 ]\n---\n<p>正文 copyone</p>\n"
                .as_bytes(),
        ),
        (
            COPY2,
            "---\r\ntitle: 兩岸關係新論述\r\nfrom: http://c.example/3\r\n---\r\n<p>正文 copytwo</p>\r\n"
                .as_bytes(),
        ),
        (
            COPY3,
            "---\ntitle: 两岸关系新论述\nfrom: http://a.example/1\n---\n<p>正文 copythree</p>\n".as_bytes(),
        ),
        (
            "other.md",
            "---\ntitle: 无关\n---\n<p>无关 unrelated</p>\n".as_bytes(),
        ),
    ]);
    std::fs::set_permissions(f.file(COPY3), std::fs::Permissions::from_mode(0o600)).expect("chmod");
    index(f.path());
    f
}

/// Every entry under `dir` but `.shelfmark/`: folders, files (sha256 and mode) and links.
type Tree = BTreeMap<String, String>;

fn tree(dir: &Path) -> Tree {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".shelfmark") {
                continue;
            }
            let rel = p
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .into_owned();
            let t = e.file_type().expect("file type");
            let what = if t.is_symlink() {
                format!("link {}", std::fs::read_link(&p).expect("link").display())
            } else if t.is_dir() {
                stack.push(p);
                "folder".to_string()
            } else {
                let mode = std::fs::metadata(&p).expect("meta").permissions().mode() & 0o7777;
                format!("file {} {mode:o}", sha256_hex(&read(&p)))
            };
            out.insert(rel, what);
        }
    }
    out
}

fn assert_tree(dir: &Path, want: &Tree, when: &str) {
    let now = tree(dir);
    let differ: Vec<String> = now
        .keys()
        .chain(want.keys())
        .filter(|k| now.get(*k) != want.get(*k))
        .map(|k| format!("{k}: {:?} ≠ {:?}", now.get(k), want.get(k)))
        .collect();
    assert!(differ.is_empty(), "{when}: the tree differs: {differ:#?}");
}

/// A rescan finds nothing to index: the operation updated the index itself.
fn assert_index_current(dir: &Path) {
    let s = index(dir);
    assert_eq!(s["indexed"], 0, "the rescan found changes: {s}");
    assert_eq!(s["removed"], 0, "{s}");
    assert_eq!(s["renamed"], 0, "{s}");
}

fn id_of(dir: &Path, rel: &str) -> u64 {
    json(dir, &["show", rel])["id"].as_u64().expect("an id")
}

#[derive(Clone, Copy, Debug)]
enum Act {
    Tag,
    Move,
    Delete,
}

const FOLDER: &str = "attic/2021";

fn resolve_args(act: Act) -> Vec<&'static str> {
    let mut args = vec!["resolve", "--keep", KEEP, "--also-from"];
    match act {
        Act::Tag => {}
        Act::Move => args.extend(["--move", FOLDER]),
        Act::Delete => args.push("--delete"),
    }
    args.extend(OTHERS);
    args
}

fn moved(rel: &str) -> String {
    format!("{FOLDER}/{}", rel.rsplit('/').next().unwrap_or(rel))
}

/// The paths search finds for each of the group's own words.
fn found(dir: &Path) -> Vec<Vec<String>> {
    ["keepword", "copyone", "copytwo", "copythree", "unrelated"]
        .iter()
        .map(|w| search_paths(dir, w))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Each action, undo, redo
// ---------------------------------------------------------------------------------------------

#[test]
fn each_action_then_undo_gives_the_tree_back_byte_for_byte_and_redo_again() {
    for act in [Act::Tag, Act::Move, Act::Delete] {
        let f = group();
        let dir = f.path();
        let start = tree(dir);
        let start_found = found(dir);
        let ids: Vec<u64> = OTHERS.iter().map(|r| id_of(dir, r)).collect();

        let plan = json(dir, &[resolve_args(act), vec!["--dry-run"]].concat());
        assert_tree(dir, &start, &format!("{act:?}: after --dry-run"));
        let out = json(dir, &resolve_args(act));
        assert!(out["op_id"].as_u64().is_some(), "{out}");
        assert_eq!(out["skipped"], serde_json::json!([]), "{out}");
        let after = tree(dir);

        // The kept post records the sources it lacks: its own (also copy3's) once, none twice.
        let sources = serde_json::json!(["http://b.example/2?utm_source=x", "http://c.example/3"]);
        assert_eq!(
            json(dir, &["show", KEEP])["fields"]["also_from"],
            sources,
            "{act:?}"
        );
        assert_eq!(plan["sources_added"], sources);
        match act {
            Act::Tag => {
                assert_eq!(search_paths(dir, "tag:duplicate").len(), 3);
                assert_eq!(
                    json(dir, &["show", COPY2])["tags"],
                    serde_json::json!(["duplicate"])
                );
                let c2 = read(&f.file(COPY2));
                let bare = c2
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| **b == b'\n' && (*i == 0 || c2[i - 1] != b'\r'))
                    .count();
                assert_eq!(bare, 0, "the CRLF file keeps CRLF: {:?}", text(&c2));
            }
            Act::Move => {
                for (i, rel) in OTHERS.iter().enumerate() {
                    assert!(!f.file(rel).exists(), "{rel} is still there");
                    assert_eq!(
                        after.get(&moved(rel)).map(|s| s.split(' ').nth(1)),
                        start.get(*rel).map(|s| s.split(' ').nth(1)),
                        "{rel} moved with its bytes"
                    );
                    assert_eq!(id_of(dir, &moved(rel)), ids[i], "{rel} keeps its id");
                }
                assert_eq!(plan["folders"], serde_json::json!(["attic", "attic/2021"]));
                assert_eq!(search_paths(dir, "copyone"), [moved(COPY1)]);
                assert_eq!(
                    after.get(&moved(COPY3)).map(|s| s.ends_with(" 600")),
                    Some(true)
                );
            }
            Act::Delete => {
                for rel in OTHERS {
                    assert!(!f.file(rel).exists(), "{rel} is still there");
                }
                assert!(search_paths(dir, "copyone").is_empty());
                assert!(search_paths(dir, "copythree").is_empty());
            }
        }
        assert_eq!(search_paths(dir, "unrelated"), ["other.md"]);
        assert_index_current(dir);
        let h = history(dir);
        let label = h
            .last()
            .and_then(|e| e["label"].as_str())
            .unwrap_or_default();
        assert!(
            label.starts_with(&format!("resolve duplicates: keep {KEEP}, ")),
            "{label}"
        );

        ok(dir, &["undo"]);
        assert_tree(dir, &start, &format!("{act:?}: after undo"));
        assert_eq!(found(dir), start_found, "{act:?}: search after undo");
        if !matches!(act, Act::Delete) {
            for (i, rel) in OTHERS.iter().enumerate() {
                assert_eq!(id_of(dir, rel), ids[i], "{rel} keeps its id after undo");
            }
        }
        assert_index_current(dir);

        ok(dir, &["redo"]);
        assert_tree(dir, &after, &format!("{act:?}: after redo"));
        assert_index_current(dir);
        assert_eq!(states(dir), ["applied"]);
    }
}

#[test]
fn a_manual_collection_follows_its_posts_when_they_move() {
    let f = group();
    let dir = f.path();
    ok(dir, &["collection", "create", "读", COPY1, COPY2]);
    ok(dir, &resolve_args(Act::Move));
    let c = json(dir, &["collection", "show", "读"]);
    assert_eq!(
        c["paths"],
        serde_json::json!([moved(COPY1), moved(COPY2)]),
        "{c}"
    );
    ok(dir, &["undo"]);
    let c = json(dir, &["collection", "show", "读"]);
    assert_eq!(c["paths"], serde_json::json!([COPY1, COPY2]), "{c}");
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

/// `resolve ARGS` fails saying `why`, and nothing changes (files, folders, history).
fn refused(dir: &Path, args: &[&str], why: &str) {
    let before = tree(dir);
    let ops = history(dir).len();
    let err = fails(dir, args);
    assert!(err.contains(why), "{args:?}: {err}");
    assert_tree(dir, &before, &format!("after the refused {args:?}"));
    assert_eq!(history(dir).len(), ops, "{args:?} left an operation");
}

#[test]
fn conflicts_are_refused_with_a_reason_and_nothing_changes() {
    let f = group();
    let dir = f.path();
    let seen = json(dir, &["show", COPY1])["hash"]
        .as_str()
        .expect("hash")
        .to_string();
    // A file changed since the user saw it.
    f.write(COPY1, b"---\ntitle: changed\n---\n<p>copyone</p>\n");
    let stale = format!("{COPY1}={seen}");
    refused(
        dir,
        &[
            "resolve", "--keep", KEEP, "--delete", "--seen", &stale, COPY1,
        ],
        "changed on disk",
    );
    // The current version, once indexed and seen, passes.
    index(dir);
    let now = json(dir, &["show", COPY1])["hash"]
        .as_str()
        .map(str::to_string);
    assert_ne!(now.as_deref(), Some(seen.as_str()));
    let fresh = format!("{COPY1}={}", now.unwrap_or_default());
    let plan = json(
        dir,
        &[
            "resolve",
            "--keep",
            KEEP,
            "--delete",
            "--seen",
            &fresh,
            COPY1,
            "--dry-run",
        ],
    );
    assert_eq!(plan["deletes"], serde_json::json!([COPY1]));

    // A move onto an existing file.
    f.write("attic/copy2.md", b"theirs");
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--move", "attic", COPY1, COPY2],
        "attic/copy2.md already exists",
    );
    // Two posts of the same name into one folder.
    f.write("_posts/x/copy3.md", b"---\ntitle: y\n---\nz\n");
    index(dir);
    refused(
        dir,
        &[
            "resolve",
            "--keep",
            KEEP,
            "--move",
            "dups",
            COPY3,
            "_posts/x/copy3.md",
        ],
        "would receive two posts",
    );
    // A folder that is a link out of the archive, or through one.
    let outside = tempfile::tempdir().expect("temp");
    std::os::unix::fs::symlink(outside.path(), f.file("out")).expect("symlink");
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--move", "out", COPY1],
        "goes through a link",
    );
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--move", "out/deeper", COPY1],
        "goes through a link",
    );
    assert_eq!(std::fs::read_dir(outside.path()).expect("dir").count(), 0);
    // Folders in .shelfmark, hidden, or out of the archive.
    for bad in [
        ".shelfmark",
        ".shelfmark/journal",
        "a/.git",
        "../elsewhere",
        "/tmp",
    ] {
        refused(
            dir,
            &["resolve", "--keep", KEEP, "--move", bad, COPY1],
            "nothing was changed",
        );
    }
    // A folder that is a file.
    f.write("plain.txt", b"x");
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--move", "plain.txt", COPY1],
        "not a folder",
    );
    // A link among the posts is not moved or deleted (its target would be left, or lost).
    std::os::unix::fs::symlink("2021-01-11-copy1.md", f.file("_posts/alias.md")).expect("link");
    index(dir);
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--delete", "_posts/alias.md"],
        "goes through a link",
    );
    // The kept post among the others, a post named twice, a post the index does not know.
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--delete", KEEP],
        "named twice",
    );
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--delete", COPY2, COPY2],
        "named twice",
    );
    refused(
        dir,
        &["resolve", "--keep", KEEP, "--delete", "nope.md"],
        "nope.md",
    );
    refused(
        dir,
        &[
            "resolve",
            "--keep",
            KEEP,
            "--delete",
            ".shelfmark/journal/lock",
        ],
        "shelfmark",
    );
}

// ---------------------------------------------------------------------------------------------
// SIGKILL at each crash point
// ---------------------------------------------------------------------------------------------

/// Run `shelfmark -C DIR ARGS`, stopping at crash point `at`; SIGKILL it once it says it is
/// there.
fn kill_at(dir: &Path, args: &[&str], at: &str) {
    let mut child = shelfmark()
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("SHELFMARK_EDIT_CRASH_AT", at)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shelfmark");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let want = format!("shelfmark: crash point {at}");
    loop {
        match lines.next() {
            Some(Ok(line)) if line == want => break,
            Some(Ok(_)) => continue,
            _ => {
                let status = child.wait().expect("wait");
                panic!("{args:?} ended ({status}) without reaching {at}");
            }
        }
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "killed, yet {status}");
}

/// The crash points an action passes when applied.
fn points(act: Act) -> &'static [&'static str] {
    match act {
        Act::Tag => &["journaled", "edited", "moved", "removed"],
        Act::Move => &["journaled", "edited", "moved-one", "moved", "removed"],
        Act::Delete => &["journaled", "edited", "removed-one", "removed"],
    }
}

/// The tree after an uninterrupted run of `act`.
fn resolved_tree(act: Act) -> Tree {
    let f = group();
    ok(f.path(), &resolve_args(act));
    tree(f.path())
}

#[test]
fn killed_while_applying_then_undone_or_recovered_gives_a_consistent_tree() {
    for act in [Act::Tag, Act::Move, Act::Delete] {
        let done = resolved_tree(act);
        for point in points(act) {
            let at = format!("apply:{point}");
            let what = format!("{act:?} killed at {at}");

            // Rolled back by `undo`.
            let f = group();
            let dir = f.path();
            let start = tree(dir);
            let start_found = found(dir);
            kill_at(dir, &resolve_args(act), &at);
            assert_eq!(states(dir), ["pending"], "{what}");
            // Killed where it says: before any change, or half-way.
            let mid = tree(dir);
            match *point {
                "journaled" => assert_tree(dir, &start, &what),
                "moved-one" | "removed-one" => assert!(mid != start && mid != done, "{what}"),
                _ => {}
            }
            let err = fails(dir, &resolve_args(act));
            assert!(err.contains("interrupted"), "{what}: {err}");
            ok(dir, &["undo"]);
            assert_tree(dir, &start, &format!("{what}, then undo"));
            assert_eq!(states(dir), ["undone"], "{what}");
            assert_eq!(found(dir), start_found, "{what}, then undo: search");
            assert_index_current(dir);

            // Finished by `recover --finish`, then undone.
            let f = group();
            let dir = f.path();
            let start = tree(dir);
            kill_at(dir, &resolve_args(act), &at);
            ok(dir, &["recover", "--finish"]);
            assert_tree(dir, &done, &format!("{what}, then recover --finish"));
            assert_eq!(states(dir), ["applied"], "{what}");
            assert_index_current(dir);
            if matches!(act, Act::Move) {
                assert_eq!(search_paths(dir, "copytwo"), [moved(COPY2)], "{what}");
            }
            ok(dir, &["undo"]);
            assert_tree(dir, &start, &format!("{what}, recovered, then undo"));
            assert_index_current(dir);

            // Rolled back by `recover --roll-back`.
            let f = group();
            let dir = f.path();
            let start = tree(dir);
            kill_at(dir, &resolve_args(act), &at);
            ok(dir, &["recover", "--roll-back"]);
            assert_tree(dir, &start, &format!("{what}, then recover --roll-back"));
            assert_index_current(dir);
        }
    }
}

#[test]
fn killed_while_undoing_or_redoing_then_settled_gives_a_consistent_tree() {
    // (undo's point, redo's point): an undo of a delete creates files, its redo removes them.
    let cases = [
        (Act::Move, "edited", "edited"),
        (Act::Move, "moved-one", "moved-one"),
        (Act::Move, "moved", "removed"),
        (Act::Delete, "moved-one", "removed-one"),
        (Act::Delete, "moved", "removed"),
    ];
    for (act, point, redo_point) in cases {
        {
            let what = format!("{act:?}: undo killed at {point}, redo at {redo_point}");
            let f = group();
            let dir = f.path();
            let start = tree(dir);
            ok(dir, &resolve_args(act));
            let done = tree(dir);

            // An interrupted undo: `undo` again rolls it back completely.
            kill_at(dir, &["undo"], &format!("undo:{point}"));
            assert_eq!(states(dir), ["undoing"], "{what}");
            ok(dir, &["undo"]);
            assert_tree(dir, &start, &format!("{what}, then undo"));
            assert_index_current(dir);

            // An interrupted redo: `recover --finish` finishes it.
            kill_at(dir, &["redo"], &format!("redo:{redo_point}"));
            assert_eq!(states(dir), ["redoing"], "{what}");
            ok(dir, &["recover", "--finish"]);
            assert_tree(
                dir,
                &done,
                &format!("{what}, redo killed, then recover --finish"),
            );
            assert_index_current(dir);

            // An interrupted undo rolled back: the operation stays applied.
            kill_at(dir, &["undo"], &format!("undo:{point}"));
            ok(dir, &["recover", "--roll-back"]);
            assert_tree(dir, &done, &format!("{what}, then recover --roll-back"));
            assert_eq!(states(dir), ["applied"], "{what}");
            assert_index_current(dir);
        }
    }
}

#[test]
fn history_names_the_moves_and_deletes() {
    let f = group();
    let dir = f.path();
    ok(dir, &resolve_args(Act::Move));
    ok(dir, &["resolve", "--keep", KEEP, "--delete", &moved(COPY1)]);
    let h = history(dir);
    let labels: Vec<&str> = h.iter().filter_map(|e| e["label"].as_str()).collect();
    assert_eq!(
        labels,
        [
            format!("resolve duplicates: keep {KEEP}, move 3 to {FOLDER}, record 2 sources"),
            format!("resolve duplicates: keep {KEEP}, delete 1"),
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// The real corpus
// ---------------------------------------------------------------------------------------------

#[test]
fn real_corpus_identical_posts_resolved_then_undone_give_the_tree_back() {
    let Some((_tmp, dir, _src)) = common::corpus::indexed_corpus_copy() else {
        return;
    };
    let start = tree(&dir);
    // Groups of byte-identical posts, by content.
    let mut by_content: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (path, what) in &start {
        if let Some(hash) = what.strip_prefix("file ") {
            if path.ends_with(".md") {
                let hash = hash.split(' ').next().unwrap_or_default().to_string();
                by_content.entry(hash).or_default().push(path.clone());
            }
        }
    }
    let groups: Vec<Vec<String>> = by_content.into_values().filter(|g| g.len() > 1).collect();
    eprintln!("{} groups of byte-identical posts", groups.len());
    if groups.is_empty() {
        return;
    }
    let t = std::time::Instant::now();
    for (i, g) in groups.iter().enumerate() {
        let folder = format!("duplicates/g{i}");
        let mut args = vec!["resolve", "--keep", g[0].as_str(), "--also-from"];
        if i % 2 == 0 {
            args.extend(["--move", folder.as_str()]);
        } else {
            args.push("--delete");
        }
        args.extend(g[1..].iter().map(String::as_str));
        ok(&dir, &args);
        for other in &g[1..] {
            assert!(!dir.join(other).exists(), "{other} is still there");
        }
    }
    eprintln!(
        "resolved {} groups in {:.1?} (one process each)",
        groups.len(),
        t.elapsed()
    );
    assert_index_current(&dir);
    for _ in &groups {
        ok(&dir, &["undo"]);
    }
    assert_tree(&dir, &start, "after undoing every resolve");
    assert_index_current(&dir);
}

#[test]
fn undo_leaves_a_file_someone_else_recreated_or_changed_and_says_so() {
    // A move: someone puts a new file where COPY1 was, and edits the moved COPY2.
    let f = group();
    let dir = f.path();
    let start = tree(dir);
    ok(dir, &resolve_args(Act::Move));
    f.write(COPY1, b"---\ntitle: theirs\n---\nmine now\n");
    f.write(&moved(COPY2), b"---\ntitle: edited after the move\n---\n");
    let out = json(dir, &["undo"]);
    let skipped: Vec<&str> = out["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter_map(|s| s["path"].as_str())
        .collect();
    for rel in [
        COPY1.to_string(),
        moved(COPY1),
        COPY2.to_string(),
        moved(COPY2),
    ] {
        assert!(skipped.contains(&rel.as_str()), "{rel} not reported: {out}");
    }
    assert_eq!(read(&f.file(COPY1)), b"---\ntitle: theirs\n---\nmine now\n");
    assert!(f.file(&moved(COPY1)).exists(), "the moved copy stays");
    // The rest went back: the kept post and COPY3.
    let now = tree(dir);
    for rel in [KEEP, COPY3] {
        assert_eq!(now.get(rel), start.get(rel), "{rel}");
    }
    assert!(!f.file(&moved(COPY3)).exists());
    assert_eq!(states(dir), ["undone"]);
    // The index follows the files the undo wrote (those changed by someone else wait for a scan).
    assert_eq!(search_paths(dir, "copythree"), [COPY3]);
    assert_eq!(search_paths(dir, "copyone"), [moved(COPY1)]);

    // A delete: someone re-creates a deleted file with other content.
    let f = group();
    let dir = f.path();
    ok(dir, &["resolve", "--keep", KEEP, "--delete", COPY1, COPY2]);
    f.write(COPY1, b"new");
    let out = json(dir, &["undo"]);
    assert_eq!(out["skipped"][0]["path"], COPY1, "{out}");
    assert_eq!(out["skipped"][0]["kind"], "conflict", "{out}");
    assert_eq!(read(&f.file(COPY1)), b"new");
    assert!(f.file(COPY2).exists(), "the other deleted file is back");
}
