//! Archives made by someone else (issue 10): planted links under `.shelfmark/`, non-post paths
//! given to commands that name a post, a tampered index or journal, and the file names of real
//! scraped archives (up to 255 bytes). Every test here is an attack or a failure that once got
//! through; each says what must hold.

mod common;
use common::tree::tree_bytes;
use common::*;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::Path;

/// `shelfmark -C DIR ARGS`: (success, stdout, stderr).
fn try_run(dir: &Path, args: &[&str]) -> (bool, String, String) {
    let out = sm(dir, args);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let (success, out, err) = try_run(dir, args);
    assert!(!success, "shelfmark {args:?} should have failed:\n{out}");
    err
}

fn small_archive(n: usize) -> Fixture {
    let f = Fixture::new(&[]);
    for i in 0..n {
        f.write(
            &format!("_posts/2021-01-0{}-p{i}.md", i % 9 + 1),
            post(&format!("Post {i}"), "2021-01-01", "BBC", "<p>text</p>").as_bytes(),
        );
    }
    index(f.path());
    f
}

// ---------------------------------------------------------------------------------------------
// Finding 0: long file names, and undo that cannot restore a file

/// A name of `bytes` bytes (a multiple of 3, plus `.md`) in UTF-8 Chinese.
fn long_name(chars: usize) -> String {
    format!("{}.md", "中".repeat(chars))
}

#[test]
fn posts_with_names_of_240_to_255_bytes_are_edited_bulk_edited_undone_and_redone() {
    let f = Fixture::new(&[]);
    let mut names = Vec::new();
    for chars in [79, 80, 81, 82, 83, 84] {
        let name = long_name(chars);
        assert!((240..=255).contains(&name.len()), "{}", name.len());
        f.write(
            &format!("_posts/{name}"),
            post("长名", "2021-01-01", "BBC", "<p>正文</p>").as_bytes(),
        );
        names.push(name);
    }
    index(f.path());
    let start = tree_bytes(f.path(), false);
    let dir = f.path();

    // Many edits in one process run would grow any counter in a temporary name; do several.
    for round in 0..3 {
        let tag = format!("t{round}");
        let out = json(dir, &["tag", "add", &tag, "--query", ""]);
        assert_eq!(out["written"], 6, "{out}");
        assert_eq!(out["skipped"].as_array().map(Vec::len), Some(0), "{out}");
    }
    let one = format!("_posts/{}", names[5]);
    ok(dir, &["set", &one, "title=改名"]);
    let text = std::fs::read_to_string(f.file(&one)).expect("read");
    assert!(
        text.contains("title: \"改名\"") || text.contains("title: 改名"),
        "{text}"
    );
    for _ in 0..4 {
        ok(dir, &["undo"]);
    }
    assert_eq!(
        tree_bytes(dir, false),
        start,
        "four undos give back the archive byte for byte"
    );
    ok(dir, &["redo"]);
    assert_eq!(search_paths(dir, "tag:t0").len(), 6);
    // No temporary file is left anywhere.
    let leftovers: Vec<_> = std::fs::read_dir(f.file("_posts"))
        .expect("read")
        .flatten()
        .filter(|e| e.file_name().as_encoded_bytes().ends_with(b".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_undo_that_cannot_restore_a_file_says_which_and_never_reports_success() {
    let f = small_archive(5);
    let dir = f.path();
    let start = tree_bytes(dir, false);
    json(dir, &["tag", "add", "x", "--query", ""]);
    // One file cannot be written back (read-only: Shelfmark leaves such files alone).
    let stuck = f.file("_posts/2021-01-03-p2.md");
    std::fs::set_permissions(&stuck, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let err = fails(dir, &["undo"]);
    assert!(err.contains("2021-01-03-p2.md"), "the file is named: {err}");
    assert!(err.contains("read-only"), "and why: {err}");
    // The operation stays open (not "undone"), and new edits wait for it.
    assert_eq!(states(dir), ["undoing"]);
    assert!(json(dir, &["history"])[0]["files"] == 5);
    let blocked = fails(dir, &["tag", "add", "y", "--query", ""]);
    assert!(blocked.contains("interrupted"), "{blocked}");
    // The others were restored; once the file is writable again, undo completes.
    assert_eq!(search_paths(dir, "tag:x"), ["_posts/2021-01-03-p2.md"]);
    std::fs::set_permissions(&stuck, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    ok(dir, &["undo"]);
    assert_eq!(states(dir), ["undone"]);
    assert_eq!(tree_bytes(dir, false), start);
}

// ---------------------------------------------------------------------------------------------
// Finding 1: nothing under .shelfmark/ is written through a link

/// A file outside the archive that a planted link points at, and its content.
struct Victim {
    _dir: tempfile::TempDir,
    file: std::path::PathBuf,
}

impl Victim {
    fn new() -> Victim {
        let d = tempfile::tempdir().expect("temp dir");
        let file = d.path().join("bashrc");
        std::fs::write(&file, "precious\n").expect("write");
        Victim { _dir: d, file }
    }
    fn unchanged(&self) -> bool {
        std::fs::read(&self.file).ok().as_deref() == Some(b"precious\n".as_slice())
    }
    fn dir(&self) -> &Path {
        self.file.parent().expect("parent")
    }
    fn dir_is_only_the_victim(&self) -> bool {
        std::fs::read_dir(self.dir()).map(|d| d.count()).ok() == Some(1)
    }
}

#[test]
fn a_planted_journal_pack_json_or_lock_link_is_never_written_through() {
    for planted in ["journal/000001.pack", "journal/000001.json", "journal/lock"] {
        let f = small_archive(3);
        let v = Victim::new();
        let dot = f.file(".shelfmark");
        std::fs::create_dir_all(dot.join("journal")).expect("mkdir");
        symlink(&v.file, dot.join(planted)).expect("symlink");
        let (_, out, err) = try_run(f.path(), &["tag", "add", "x", "--query", ""]);
        assert!(
            v.unchanged(),
            "{planted}: the victim was written\n{out}\n{err}"
        );
        // The link itself is still a link to the victim (not replaced by a journal file either).
        assert!(
            std::fs::symlink_metadata(dot.join(planted)).is_ok_and(|m| m.file_type().is_symlink())
        );
        // And a lock link to a file that does not exist does not create it.
        let f2 = small_archive(2);
        let nowhere = v.dir().join("created-by-shelfmark");
        std::fs::create_dir_all(f2.file(".shelfmark/journal")).expect("mkdir");
        symlink(&nowhere, f2.file(".shelfmark/journal/lock")).expect("symlink");
        let err = fails(f2.path(), &["tag", "add", "x", "--query", ""]);
        assert!(err.contains("symbolic link"), "{err}");
        assert!(!nowhere.exists());
    }
}

#[test]
fn a_linked_shelfmark_folder_or_subfolder_is_refused_with_a_clear_error() {
    for (linked, args) in [
        (".shelfmark/journal", vec!["tag", "add", "x", "--query", ""]),
        (
            ".shelfmark/collections",
            vec!["collection", "create", "mine"],
        ),
    ] {
        let f = small_archive(2);
        let v = Victim::new();
        symlink(v.dir(), f.file(linked)).expect("symlink");
        let err = fails(f.path(), &args);
        assert!(err.contains("symbolic link"), "{linked}: {err}");
        assert!(
            v.dir_is_only_the_victim(),
            "{linked}: something was written there"
        );
    }
    // The whole .shelfmark folder a link: indexing refuses instead of writing the index there.
    let f = Fixture::new(&[(
        "a.md",
        post("A", "2021-01-01", "BBC", "<p>x</p>").as_bytes(),
    )]);
    let v = Victim::new();
    symlink(v.dir(), f.file(".shelfmark")).expect("symlink");
    let out = run(&["index", path_str(f.path()), "--json"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("symbolic link"));
    assert!(v.dir_is_only_the_victim());
}

#[test]
fn planted_links_beside_the_index_are_refused_not_written_through() {
    for planted in [
        "index.sqlite-wal",
        "index.sqlite-shm",
        "index.sqlite",
        "index.sqlite.building",
        "collections/mine.json",
    ] {
        let f = Fixture::new(&[(
            "a.md",
            post("A", "2021-01-01", "BBC", "<p>x</p>").as_bytes(),
        )]);
        let v = Victim::new();
        let target = f.file(&format!(".shelfmark/{planted}"));
        std::fs::create_dir_all(target.parent().expect("parent")).expect("mkdir");
        symlink(&v.file, &target).expect("symlink");
        let _ = run(&["index", path_str(f.path()), "--json"]);
        let _ = try_run(f.path(), &["collection", "create", "mine"]);
        let _ = try_run(f.path(), &["tag", "add", "x", "a.md"]);
        assert!(v.unchanged(), "{planted}: the victim was written");
        assert!(v.dir_is_only_the_victim(), "{planted}");
    }
}

#[test]
fn a_journal_changed_outside_shelfmark_is_never_written_back() {
    let f = small_archive(3);
    let dir = f.path();
    json(dir, &["tag", "add", "x", "--query", ""]);
    let after = tree_bytes(dir, false);
    let pack = f.file(".shelfmark/journal/000001.pack");
    let len = std::fs::metadata(&pack).expect("pack").len() as usize;
    std::fs::write(&pack, vec![b'!'; len]).expect("tamper");
    let err = fails(dir, &["undo"]);
    assert!(err.contains("000001.pack"), "{err}");
    assert_eq!(
        tree_bytes(dir, false),
        after,
        "nothing was written from the tampered journal"
    );
}

// ---------------------------------------------------------------------------------------------
// Findings 2 and 3: only posts the index knows, checked on disk at use

#[test]
fn commands_that_name_a_post_refuse_anything_else() {
    let f = small_archive(2);
    let dir = f.path();
    f.write(".env", b"SECRET=hunter2\n");
    f.write("notes/build.sh", b"echo build\n");
    f.write(
        "fresh.md",
        post("Not indexed yet", "2021-01-01", "BBC", "x").as_bytes(),
    );
    let before = tree_bytes(dir, false);
    for path in [
        ".env",
        "notes/build.sh",
        "/etc/passwd",
        "../../../etc/hostname",
        "fresh.md",
    ] {
        for args in [
            vec!["set", path, "title=x"],
            vec!["set", "--dry-run", path, "title=x"],
            vec!["tag", "add", "t", path],
            vec!["show", path],
            vec!["collection", "add", "c", path],
        ] {
            if args[0] == "collection" {
                let _ = try_run(dir, &["collection", "create", "c"]);
            }
            let (success, out, err) = try_run(dir, &args);
            assert!(!success, "{args:?} succeeded:\n{out}");
            assert!(
                !out.contains("hunter2") && !err.contains("hunter2"),
                "{args:?}"
            );
            assert!(!out.contains("root:") && !err.contains("root:"), "{args:?}");
        }
    }
    let c = json(dir, &["collection", "show", "c"]);
    assert_eq!(c["paths"].as_array().map(Vec::len), Some(0), "{c}");
    assert_eq!(tree_bytes(dir, false), before);
}

#[test]
fn a_fifo_or_device_in_place_of_a_post_is_refused_without_hanging() {
    let f = small_archive(2);
    let dir = f.path();
    let rel = "_posts/2021-01-01-p0.md";
    let p = f.file(rel);
    std::fs::remove_file(&p).expect("rm");
    let status = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    // Whoever opens the FIFO for reading gets a few bytes: a reader that blocks on it still
    // finishes, so the test checks the refusal itself, never a time.
    let fifo = p.clone();
    std::thread::spawn(move || {
        if let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(&fifo) {
            use std::io::Write;
            let _ = w.write_all(b"x");
        }
    });
    let _ = try_run(dir, &["collection", "create", "c"]);
    let err = fails(dir, &["collection", "add", "c", rel]);
    assert!(err.contains("not a regular file"), "{err}");
    // Nothing could be written: the command fails, and says why for the file.
    let (success, out, _) = try_run(dir, &["tag", "add", "t", rel, "--json"]);
    assert!(!success);
    let out: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(out["written"], 0, "{out}");
    assert_eq!(out["skipped"][0]["kind"], "not-a-post", "{out}");
    // A link to a device outside the archive.
    std::fs::remove_file(&p).expect("rm");
    symlink("/dev/zero", &p).expect("symlink");
    let err = fails(dir, &["collection", "add", "c", rel]);
    assert!(err.contains("outside the archive"), "{err}");
}

#[test]
fn paths_in_a_tampered_index_are_checked_like_any_other() {
    let f = small_archive(2);
    let dir = f.path();
    f.write(".env", b"SECRET=hunter2\n");
    let conn = rusqlite::Connection::open(f.file(".shelfmark/index.sqlite")).expect("open index");
    conn.execute(
        "UPDATE posts SET path = CAST('../../../../../../etc/passwd' AS BLOB) WHERE path = CAST('_posts/2021-01-01-p0.md' AS BLOB)",
        [],
    )
    .expect("tamper");
    conn.execute(
        "UPDATE posts SET path = CAST('.env' AS BLOB) WHERE path = CAST('_posts/2021-01-02-p1.md' AS BLOB)",
        [],
    )
    .expect("tamper");
    drop(conn);
    for path in ["../../../../../../etc/passwd", ".env"] {
        let (success, out, err) = try_run(dir, &["show", "--json", path]);
        assert!(!success, "show {path} succeeded: {out}");
        assert!(!out.contains("root:") && !out.contains("hunter2"), "{out}");
        assert!(
            err.contains("not a path inside the archive") || err.contains("not a post"),
            "{err}"
        );
    }
}

#[test]
fn a_post_swapped_for_a_link_out_is_not_read_through_it() {
    let f = small_archive(2);
    let dir = f.path();
    let outside = tempfile::tempdir().expect("temp");
    let secret = outside.path().join("secret.md");
    std::fs::write(&secret, post("Secret", "2021-01-01", "x", "<p>hunter2</p>")).expect("write");
    let rel = "_posts/2021-01-01-p0.md";
    std::fs::remove_file(f.file(rel)).expect("rm");
    symlink(&secret, f.file(rel)).expect("symlink");
    let (success, out, err) = try_run(dir, &["show", "--json", rel]);
    assert!(!success, "{out}");
    assert!(!out.contains("hunter2"), "{out}");
    assert!(err.contains("outside the archive"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Finding 8: .shelfmark/ keeps the index and the journal out of git

#[test]
fn the_index_and_the_journal_are_ignored_by_git_and_collections_are_not() {
    let f = small_archive(2);
    let dir = f.path();
    json(dir, &["tag", "add", "x", "--query", ""]);
    ok(dir, &["collection", "create", "mine"]);
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
    };
    let Ok(init) = git(&["init", "-q"]) else {
        eprintln!("skipped: git is not installed");
        return;
    };
    assert!(init.status.success());
    let ignored = |p: &str| {
        git(&["check-ignore", "-q", p])
            .map(|o| o.status.success())
            .unwrap_or(false)
    };
    assert!(ignored(".shelfmark/index.sqlite"));
    assert!(ignored(".shelfmark/journal/000001.pack"));
    assert!(ignored(".shelfmark/journal/lock"));
    assert!(!ignored(".shelfmark/collections/mine.json"));
    assert!(!ignored("_posts/2021-01-01-p0.md"));
}

// ---------------------------------------------------------------------------------------------
// Finding 9: the journal stays bounded

fn journal_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir.join(".shelfmark/journal"))
        .map(|d| {
            d.flatten()
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn the_journal_is_compressed_pruned_by_a_rule_and_undo_still_works() {
    let f = Fixture::new(&[]);
    let body = "<p>这是一段很长的正文，用来检验日志的压缩。</p>\n".repeat(200);
    for i in 0..40 {
        f.write(
            &format!("_posts/2021-01-01-p{i}.md"),
            post(&format!("P{i}"), "2021-01-01", "BBC", &format!("{i}{body}")).as_bytes(),
        );
    }
    index(f.path());
    let dir = f.path();
    let posts_bytes: u64 = tree_bytes(dir, false)
        .values()
        .map(|b| b.len() as u64)
        .sum();
    json(dir, &["tag", "add", "a", "--query", ""]);
    // Before- and after-images of every file: twice the posts uncompressed.
    let one_op = journal_bytes(dir);
    assert!(
        one_op * 10 < posts_bytes * 2,
        "journal {one_op} bytes for {posts_bytes} bytes of posts"
    );
    for tag in ["b", "c", "d"] {
        json(dir, &["tag", "add", tag, "--query", ""]);
    }
    assert_eq!(states(dir).len(), 4);
    // The rule is saved and applied: two operations are kept, the newest.
    let pruned = json(dir, &["history", "--keep", "2"]);
    assert_eq!(pruned["removed"], 2, "{pruned}");
    assert_eq!(states(dir), ["applied", "applied"]);
    let settings = std::fs::read_to_string(f.file(".shelfmark/settings.json")).expect("settings");
    assert!(settings.contains("\"keep_operations\": 2"), "{settings}");
    // New edits follow the saved rule.
    json(dir, &["tag", "add", "e", "--query", ""]);
    assert_eq!(states(dir).len(), 2);
    // What is kept can be undone; what was pruned cannot.
    ok(dir, &["undo"]);
    ok(dir, &["undo"]);
    assert!(fails(dir, &["undo"]).contains("nothing to undo"));
    assert_eq!(search_paths(dir, "tag:c").len(), 40);
    assert_eq!(search_paths(dir, "tag:d").len(), 0);
}
