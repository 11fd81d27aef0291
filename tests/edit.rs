//! Whole-program tests of editing through the `shelfmark` binary: `set`, `unset`, `tag`,
//! `category`, `--dry-run`, `undo`, `redo`, `history`, `recover`.
//!
//! - Byte stability: each edit is checked against the whole expected file, byte for byte.
//! - The index follows the edit itself: search finds the change at once, and a rescan afterwards
//!   finds nothing to index.
//! - Hostile files: read-only, symlinks out of and inside the archive, GB18030 and UTF-16,
//!   unclosed front matter, no front matter, a file changed outside during a bulk edit.
//! - The real corpus (../shared/corpus/real-dev, skipped when absent): a rename and a bulk add
//!   over hundreds and thousands of posts, undone to a byte-identical tree (sha256); the same with
//!   the process killed mid-operation (SIGKILL), rolled back by `undo` or finished by `recover`.

mod common;
use common::corpus::indexed_corpus_copy;
use common::tree::*;
use common::*;
use serde_json::Value;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn read_str(path: &Path) -> String {
    text(&read(path))
}

fn total(dir: &Path, query: &str) -> u64 {
    json(dir, &["search", "--limit", "1", query])["total"]
        .as_u64()
        .expect("a total")
}

/// A rescan finds nothing to index: the edits updated the index themselves.
fn assert_index_current(dir: &Path) {
    let s = index(dir);
    assert_eq!(
        s["indexed"], 0,
        "the rescan after the edit found changes: {s}"
    );
    assert_eq!(s["removed"], 0, "{s}");
}

/// What tells a rewritten file from one left alone: bytes, inode (a rename gives a new one) and
/// modification time.
fn fingerprint(path: &Path) -> (Vec<u8>, u64, i64, i64) {
    let m = std::fs::metadata(path).expect("metadata");
    (read(path), m.ino(), m.mtime(), m.mtime_nsec())
}

fn write_post(f: &Fixture, rel: &str, body: &str) -> PathBuf {
    f.write(rel, body.as_bytes());
    f.file(rel)
}

/// A post in the real corpus's style, with a comment, a blank line and a block list.
const POST: &str = "---
layout: post
title: \"旧标题\"
# 来源：法广

date: 2021-01-11T11:55:14.000Z
author: 法广
from: http://www.rfi.fr/cn/20210111
tags: [ 法广 ]
categories:
    - 法广
    # 备注
    - 新闻
---
<!--1610366114000-->
<p>正文第一段。</p>
---
<p>正文第二段，还有一行 --- 在中间。</p>
";

// ---------------------------------------------------------------------------------------------
// Byte-stable edits of single files
// ---------------------------------------------------------------------------------------------

#[test]
fn set_and_unset_change_only_the_edited_lines() {
    let f = Fixture::new(&[]);
    let p = write_post(&f, "_posts/2021-01-11-a.md", POST);
    let dir = f.path();
    index(dir);
    let rel = "_posts/2021-01-11-a.md";

    ok(dir, &["set", rel, "title=新标题"]);
    let mut want = POST.replace("title: \"旧标题\"", "title: \"新标题\"");
    assert_eq!(read_str(&p), want);

    ok(
        dir,
        &["set", rel, "author=路透", "from=https://cn.reuters.com/x"],
    );
    want = want.replace("author: 法广", "author: 路透").replace(
        "from: http://www.rfi.fr/cn/20210111",
        "from: https://cn.reuters.com/x",
    );
    assert_eq!(read_str(&p), want);

    // The date is written as given, in the file's own way (not reformatted).
    ok(dir, &["set", rel, "date=2021-02-03 04:05:06 +0800"]);
    want = want.replace(
        "date: 2021-01-11T11:55:14.000Z",
        "date: 2021-02-03 04:05:06 +0800",
    );
    assert_eq!(read_str(&p), want);

    ok(dir, &["unset", rel, "from"]);
    want = want.replace("from: https://cn.reuters.com/x\n", "");
    assert_eq!(read_str(&p), want);

    // A new key goes at the end of the front matter.
    ok(dir, &["set", rel, "draft=true"]);
    want = want.replace("    - 新闻\n---\n", "    - 新闻\ndraft: true\n---\n");
    assert_eq!(read_str(&p), want);

    // A whole list given as YAML stays a flow list, padded as before.
    ok(dir, &["set", rel, "tags=[a, b]"]);
    want = want.replace("tags: [ 法广 ]", "tags: [ a, b ]");
    assert_eq!(read_str(&p), want);

    // Each of these was one journaled operation, and the index followed every one.
    assert_eq!(history(dir).len(), 6);
    assert_index_current(dir);
}

#[test]
fn crlf_and_bom_files_keep_both() {
    let original = "\u{feff}---\r\ntitle: 'Old'\r\ndate: 2022-01-01 09:30:00 +0800\r\ntags: [ a ]\r\n# end\r\n---\r\n<p>body</p>\r\n---\r\nmore\r\n";
    let f = Fixture::new(&[("x/2022-01-01-crlf.md", original.as_bytes())]);
    let dir = f.path();
    let p = f.file("x/2022-01-01-crlf.md");
    let rel = "x/2022-01-01-crlf.md";
    index(dir);

    ok(dir, &["tag", "add", "x", rel]);
    let mut want = original.replace("tags: [ a ]", "tags: [ a, x ]");
    assert_eq!(read_str(&p), want);

    ok(dir, &["set", rel, "title=New"]);
    want = want.replace("title: 'Old'", "title: 'New'");
    assert_eq!(read_str(&p), want);

    // A new list follows the file's lists (flow) and its line endings.
    ok(dir, &["category", "add", "c", rel]);
    want = want.replace("# end\r\n---\r\n", "# end\r\ncategories: [c]\r\n---\r\n");
    assert_eq!(read_str(&p), want);

    ok(dir, &["unset", rel, "date"]);
    want = want.replace("date: 2022-01-01 09:30:00 +0800\r\n", "");
    assert_eq!(read_str(&p), want);
    assert!(read(&p).starts_with("\u{feff}".as_bytes()));
    assert_index_current(dir);
}

#[test]
fn flow_lists_stay_flow_and_block_lists_keep_their_lines_and_comments() {
    let flow = "---\ntitle: t\ntags: [ a ]\n---\nbody\n";
    let block = "---\ntitle: t\ntags:\n  - a\n  # keep me\n  - b\ncategories:\n- x\n---\nbody\n";
    let f = Fixture::new(&[("flow.md", flow.as_bytes()), ("block.md", block.as_bytes())]);
    let dir = f.path();
    index(dir);

    ok(dir, &["tag", "add", "b", "flow.md"]);
    assert_eq!(
        read_str(&f.file("flow.md")),
        flow.replace("[ a ]", "[ a, b ]")
    );
    ok(dir, &["tag", "remove", "a", "flow.md"]);
    assert_eq!(read_str(&f.file("flow.md")), flow.replace("[ a ]", "[ b ]"));

    ok(dir, &["tag", "add", "c", "block.md"]);
    let mut want = block.replace("  - b\n", "  - b\n  - c\n");
    assert_eq!(read_str(&f.file("block.md")), want);
    ok(dir, &["tag", "remove", "a", "block.md"]);
    want = want.replace("  - a\n", "");
    assert_eq!(read_str(&f.file("block.md")), want);
    ok(dir, &["category", "add", "y", "block.md"]);
    want = want.replace("- x\n", "- x\n- y\n");
    assert_eq!(read_str(&f.file("block.md")), want);
    // Archive-wide rename, in place.
    ok(dir, &["tag", "rename", "b", "B"]);
    want = want.replace("  - b\n", "  - B\n");
    assert_eq!(read_str(&f.file("block.md")), want);
    assert_eq!(read_str(&f.file("flow.md")), flow.replace("[ a ]", "[ B ]"));
    assert_index_current(dir);
}

#[test]
fn saving_without_a_change_writes_nothing() {
    let f = Fixture::new(&[]);
    let p = write_post(&f, "_posts/2021-01-11-a.md", POST);
    let dir = f.path();
    index(dir);
    let rel = "_posts/2021-01-11-a.md";
    let before = fingerprint(&p);
    std::thread::sleep(Duration::from_millis(20));

    for args in [
        &["set", rel, "title=旧标题"][..],
        &["set", rel, "date=2021-01-11T11:55:14.000Z"],
        &["tag", "add", "法广", rel],
        &["tag", "remove", "不存在", rel],
        &["category", "add", "新闻", rel],
        &["unset", rel, "no-such-key"],
        &["tag", "rename", "不存在", "x"],
    ] {
        let out = json(dir, args);
        assert_eq!(out["written"], 0, "{args:?}: {out}");
        assert_eq!(out["op_id"], Value::Null, "{args:?}: {out}");
        assert_eq!(fingerprint(&p), before, "{args:?} rewrote the file");
    }
    assert_eq!(history(dir), Vec::<Value>::new(), "no journal entry");
    assert_index_current(dir);
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let f = Fixture::new(&[]);
    let a = write_post(&f, "_posts/2021-01-11-a.md", POST);
    let b = write_post(
        &f,
        "_posts/2021-01-12-b.md",
        &POST.replace("旧标题", "另一篇"),
    );
    let dir = f.path();
    index(dir);
    let before = (fingerprint(&a), fingerprint(&b));

    let out = ok(dir, &["tag", "add", "新", "--query", "", "--dry-run"]);
    assert!(
        out.contains("-tags: [ 法广 ]\n+tags: [ 法广, 新 ]\n"),
        "{out}"
    );
    assert!(out.contains("a/_posts/2021-01-11-a.md"), "{out}");
    assert!(out.contains("would change 2 files"), "{out}");
    let plan = json(
        dir,
        &["set", "_posts/2021-01-11-a.md", "title=x", "--dry-run"],
    );
    assert_eq!(plan["changes"], 1, "{plan}");
    assert_eq!(plan["paths"], serde_json::json!(["_posts/2021-01-11-a.md"]));
    let diff = plan["diffs"][0]["diff"].as_str().unwrap_or_default();
    assert!(
        diff.contains("-title: \"旧标题\"\n+title: \"x\"\n"),
        "{diff}"
    );

    assert_eq!((fingerprint(&a), fingerprint(&b)), before);
    assert_eq!(history(dir), Vec::<Value>::new());
    assert_eq!(total(dir, "tag:新"), 0);
    assert_index_current(dir);
}

#[test]
fn undo_redo_and_history() {
    let f = Fixture::new(&[]);
    let p = write_post(&f, "_posts/2021-01-11-a.md", POST);
    let dir = f.path();
    index(dir);
    let rel = "_posts/2021-01-11-a.md";
    let v0 = read(&p);

    ok(dir, &["set", rel, "title=第一"]);
    let v1 = read(&p);
    ok(dir, &["tag", "add", "第二", rel]);
    let v2 = read(&p);
    assert_ne!(v1, v0);
    assert_ne!(v2, v1);

    let h = history(dir);
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(h[0]["id"], 1);
    assert_eq!(h[1]["id"], 2);
    assert_eq!(h[1]["label"], "tag add 第二");
    assert_eq!(h[1]["files"], 1);
    assert!(h[1]["journal_bytes"].as_u64().unwrap_or(0) > 0, "{h:?}");
    assert_eq!(states(dir), ["applied", "applied"]);
    assert_eq!(total(dir, "tag:第二"), 1);

    let out = json(dir, &["undo"]);
    assert_eq!(out["written"], 1, "{out}");
    assert_eq!(read(&p), v1);
    assert_eq!(states(dir), ["applied", "undone"]);
    assert_eq!(total(dir, "tag:第二"), 0, "the index follows the undo");

    ok(dir, &["redo"]);
    assert_eq!(read(&p), v2);
    assert_eq!(states(dir), ["applied", "applied"]);
    assert_eq!(total(dir, "tag:第二"), 1, "the index follows the redo");

    ok(dir, &["undo"]);
    ok(dir, &["undo"]);
    assert_eq!(read(&p), v0);
    assert_eq!(states(dir), ["undone", "undone"]);
    assert!(fails(dir, &["undo"]).contains("nothing to undo"));
    assert_index_current(dir);

    // Redo takes the oldest undone first; a new edit drops what could still be redone.
    ok(dir, &["redo"]);
    assert_eq!(read(&p), v1);
    ok(dir, &["set", rel, "author=路透"]);
    let h = history(dir);
    let ids: Vec<u64> = h.iter().filter_map(|e| e["id"].as_u64()).collect();
    assert_eq!(ids, [1, 3], "{h:?}");
    assert_eq!(states(dir), ["applied", "applied"]);
    assert!(fails(dir, &["redo"]).contains("nothing to redo"));
    assert_index_current(dir);

    // The text history lists the operations too.
    let listing = ok(dir, &["history"]);
    assert!(listing.contains("set author"), "{listing}");
}

#[test]
fn the_index_is_updated_by_the_edit_itself() {
    let body = "---\nlayout: post\ntitle: \"普通标题\"\ntags: [ 法广 ]\ncategories: [ 法广 ]\n---\n<p>正文</p>\n";
    let f = Fixture::new(&[
        ("_posts/2021-01-01-a.md", body.as_bytes()),
        ("_posts/2021-01-02-b.md", body.as_bytes()),
        (
            "_posts/2021-01-03-c.md",
            body.replace("法广", "路透").as_bytes(),
        ),
    ]);
    let dir = f.path();
    index(dir);

    ok(dir, &["tag", "add", "新标签", "_posts/2021-01-01-a.md"]);
    assert_eq!(search_paths(dir, "tag:新标签"), ["_posts/2021-01-01-a.md"]);
    assert_index_current(dir);

    ok(dir, &["tag", "rename", "法广", "法国广播"]);
    assert_eq!(total(dir, "tag:法广"), 0);
    assert_eq!(total(dir, "tag:法国广播"), 2);
    assert_index_current(dir);

    // A changed title is searchable at once, and the old one is gone.
    ok(
        dir,
        &["set", "_posts/2021-01-03-c.md", "title=独一无二的题目"],
    );
    assert_eq!(search_paths(dir, "独一无二"), ["_posts/2021-01-03-c.md"]);
    assert_eq!(total(dir, "普通标题"), 2);
    assert_index_current(dir);

    ok(dir, &["category", "merge", "合并", "法广", "路透"]);
    assert_eq!(total(dir, "category:合并"), 3);
    ok(dir, &["tag", "delete", "法国广播"]);
    assert_eq!(total(dir, "tag:法国广播"), 0);
    assert_index_current(dir);

    ok(dir, &["undo"]);
    assert_eq!(total(dir, "tag:法国广播"), 2);
    assert_index_current(dir);
}

// ---------------------------------------------------------------------------------------------
// Hostile files
// ---------------------------------------------------------------------------------------------

#[test]
fn read_only_files_are_refused_and_left_alone() {
    let f = Fixture::new(&[]);
    let ro = write_post(&f, "_posts/2021-01-01-ro.md", POST);
    let rw = write_post(&f, "_posts/2021-01-02-rw.md", POST);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).expect("chmod");
    let dir = f.path();
    index(dir);
    let before = fingerprint(&ro);

    let err = fails(dir, &["set", "_posts/2021-01-01-ro.md", "title=x"]);
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(fingerprint(&ro), before);

    // In bulk, it is reported and the rest is written.
    let out = json(dir, &["tag", "add", "x", "--query", ""]);
    assert_eq!(out["written"], 1, "{out}");
    assert_eq!(
        out["skipped"][0]["path"], "_posts/2021-01-01-ro.md",
        "{out}"
    );
    assert_eq!(out["skipped"][0]["kind"], "read-only", "{out}");
    assert_eq!(fingerprint(&ro), before);
    assert_eq!(
        std::fs::metadata(&ro)
            .map(|m| m.permissions().mode() & 0o777)
            .ok(),
        Some(0o444)
    );
    assert!(read_str(&rw).contains("tags: [ 法广, x ]"));
    assert_index_current(dir);
}

#[test]
fn a_symlink_out_of_the_archive_is_refused() {
    let outside = tempfile::tempdir().expect("temp dir");
    let target = outside.path().join("secret.md");
    std::fs::write(&target, POST).expect("write");
    let f = Fixture::new(&[]);
    write_post(&f, "_posts/2021-01-01-a.md", POST);
    std::os::unix::fs::symlink(&target, f.file("_posts/2021-01-02-out.md")).expect("symlink");
    let dir = f.path();
    index(dir);
    let before = fingerprint(&target);

    let err = fails(dir, &["set", "_posts/2021-01-02-out.md", "title=x"]);
    assert!(err.contains("outside the archive"), "{err}");
    let err = fails(dir, &["tag", "add", "x", "_posts/2021-01-02-out.md"]);
    assert!(err.contains("outside the archive"), "{err}");
    ok(dir, &["tag", "add", "x", "--query", ""]);
    assert_eq!(fingerprint(&target), before, "the file outside was written");
    assert!(
        std::fs::symlink_metadata(f.file("_posts/2021-01-02-out.md"))
            .map(|m| m.file_type().is_symlink())
            .unwrap_or(false)
    );
}

#[test]
fn a_symlink_inside_the_archive_edits_its_target_and_stays_a_link() {
    let f = Fixture::new(&[]);
    let target = write_post(&f, "_posts/2021-01-01-real.md", POST);
    let link = f.file("_posts/2021-01-02-link.md");
    std::os::unix::fs::symlink("2021-01-01-real.md", &link).expect("symlink");
    let dir = f.path();
    index(dir);

    ok(dir, &["set", "_posts/2021-01-02-link.md", "title=经由链接"]);
    assert_eq!(
        read_str(&target),
        POST.replace("title: \"旧标题\"", "title: \"经由链接\"")
    );
    let meta = std::fs::symlink_metadata(&link).expect("link");
    assert!(
        meta.file_type().is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(
        std::fs::read_link(&link).ok(),
        Some(PathBuf::from("2021-01-01-real.md"))
    );
    // Both paths show the new title in the index, without a rescan.
    assert_eq!(
        total(dir, "经由链接"),
        2,
        "{:?}",
        search_paths(dir, "经由链接")
    );
    assert_index_current(dir);
}

#[test]
fn a_bulk_edit_over_a_file_and_a_link_to_it_writes_the_file_once_without_a_conflict() {
    let f = Fixture::new(&[]);
    let target = write_post(&f, "_posts/2021-01-01-real.md", POST);
    std::os::unix::fs::symlink("2021-01-01-real.md", f.file("_posts/2021-01-02-link.md"))
        .expect("symlink");
    let dir = f.path();
    index(dir);

    let out = json(dir, &["tag", "add", "同一文件", "--query", ""]);
    assert!(
        read_str(&target).contains("tags: [ 法广, 同一文件 ]"),
        "{}",
        read_str(&target)
    );
    // The second path names the same file: nothing was changed outside, so no conflict.
    assert_eq!(out["skipped"], serde_json::json!([]), "{out}");
    assert_eq!(total(dir, "tag:同一文件"), 2);
    assert_index_current(dir);
}

#[test]
fn non_utf8_files_are_refused_naming_their_encoding() {
    let gb = encoding_rs::GB18030
        .encode("---\ntitle: 中文标题测试\ntags: [ 法广 ]\n---\n正文内容很长的一段中文，用来判断编码是不是国标。\n")
        .0
        .into_owned();
    let mut u16 = vec![0xFF, 0xFE];
    for unit in "---\ntitle: 中文\ntags: [ 法广 ]\n---\n正文\n".encode_utf16() {
        u16.extend_from_slice(&unit.to_le_bytes());
    }
    let f = Fixture::new(&[
        ("_posts/2021-01-01-gb.md", &gb),
        ("_posts/2021-01-02-u16.md", &u16),
    ]);
    let dir = f.path();
    index(dir);

    let err = fails(dir, &["set", "_posts/2021-01-01-gb.md", "title=x"]);
    assert!(err.contains("gb18030"), "{err}");
    let err = fails(dir, &["tag", "add", "x", "_posts/2021-01-02-u16.md"]);
    assert!(err.contains("utf-16"), "{err}");
    // Nothing written, files refused: status 1, and the JSON says why.
    let run = sm(dir, &["tag", "rename", "法广", "法国广播", "--json"]);
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    let out: Value = serde_json::from_slice(&run.stdout).expect("JSON");
    assert_eq!(out["written"], 0, "{out}");
    let kinds: Vec<&str> = out["skipped"]
        .as_array()
        .map(|s| s.iter().filter_map(|x| x["kind"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(kinds, ["encoding", "encoding"], "{out}");
    assert_eq!(read(&f.file("_posts/2021-01-01-gb.md")), gb);
    assert_eq!(read(&f.file("_posts/2021-01-02-u16.md")), u16);
    assert_eq!(history(dir), Vec::<Value>::new());
}

#[test]
fn unclosed_front_matter_is_refused() {
    let bytes = b"---\ntitle: x\ntags: [ a ]\n<p>no closing line</p>\n";
    let f = Fixture::new(&[("a.md", bytes)]);
    let dir = f.path();
    index(dir);
    let err = fails(dir, &["tag", "add", "t", "a.md"]);
    assert!(err.contains("never closed"), "{err}");
    assert_eq!(read(&f.file("a.md")), bytes);
}

#[test]
fn a_file_without_front_matter_gets_one_and_keeps_its_body() {
    let body = "<p>没有前言</p>\n---\n<p>x</p>\n";
    let crlf = "\u{feff}<p>CRLF</p>\r\n";
    let f = Fixture::new(&[("a.md", body.as_bytes()), ("b.md", crlf.as_bytes())]);
    let dir = f.path();
    index(dir);
    ok(dir, &["tag", "add", "t", "a.md"]);
    assert_eq!(
        read_str(&f.file("a.md")),
        format!("---\ntags: [t]\n---\n{body}")
    );
    ok(dir, &["set", "b.md", "title=T"]);
    assert_eq!(
        read_str(&f.file("b.md")),
        "\u{feff}---\r\ntitle: T\r\n---\r\n<p>CRLF</p>\r\n"
    );
    assert_eq!(search_paths(dir, "tag:t"), ["a.md"]);
    assert_index_current(dir);
    ok(dir, &["undo"]);
    ok(dir, &["undo"]);
    assert_eq!(read_str(&f.file("a.md")), body);
    assert_eq!(read_str(&f.file("b.md")), crlf);
}

/// Wait for `cond`, up to `limit`.
fn wait_for(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `shelfmark -C DIR ARGS` in the background, pausing `pause_ms` after each batch of 512 files.
fn spawn_paused(dir: &Path, args: &[&str], pause_ms: u64) -> Child {
    shelfmark()
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("SHELFMARK_EDIT_BATCH_PAUSE_MS", pause_ms.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn shelfmark")
}

/// The paths an edit would write, in the order it writes them.
fn planned_paths(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut full = args.to_vec();
    full.push("--dry-run");
    let plan = json(dir, &full);
    plan["paths"]
        .as_array()
        .expect("paths")
        .iter()
        .map(|p| p.as_str().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn a_file_changed_outside_during_a_bulk_edit_is_skipped_and_the_rest_written() {
    const POSTS: usize = 1100;
    let f = Fixture::new(&[]);
    let original = |i: usize| {
        format!("---\nlayout: post\ntitle: \"第{i}篇\"\ntags: [ a ]\n---\n<p>正文 {i}</p>\n")
    };
    for i in 0..POSTS {
        f.write(
            &format!("_posts/2021-01-01-p{i:04}.md"),
            original(i).as_bytes(),
        );
    }
    let dir = f.path();
    index(dir);
    let args = ["tag", "add", "b", "--query", "tag:a", "--json"];
    let order = planned_paths(dir, &args[..5]);
    assert_eq!(order.len(), POSTS);
    let first = f.file(&order[0]);
    let victim_rel = order[600].clone(); // in the second batch of 512
    let victim = f.file(&victim_rel);
    let victim_before = read(&victim);

    let child = spawn_paused(dir, &args, 1500);
    let first_before = read(&first);
    wait_for(Duration::from_secs(60), "the first batch", || {
        read(&first) != first_before
    });
    assert_eq!(
        read(&victim),
        victim_before,
        "the second batch was written early"
    );
    let outside = "---\ntitle: changed outside\n---\nby someone else\n";
    std::fs::write(&victim, outside).expect("write outside");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(result["written"], (POSTS - 1) as u64, "{result}");
    assert_eq!(
        result["skipped"].as_array().map(Vec::len),
        Some(1),
        "{result}"
    );
    assert_eq!(
        result["skipped"][0]["path"],
        victim_rel.as_str(),
        "{result}"
    );
    assert_eq!(result["skipped"][0]["kind"], "conflict", "{result}");
    assert_eq!(read_str(&victim), outside);
    for i in 0..POSTS {
        let rel = format!("_posts/2021-01-01-p{i:04}.md");
        if rel != victim_rel {
            assert_eq!(
                read_str(&f.file(&rel)),
                original(i).replace("[ a ]", "[ a, b ]"),
                "{rel}"
            );
        }
    }
    assert_eq!(history(dir)[0]["files"], (POSTS - 1) as u64);

    // Undo restores the rest and leaves the outside change alone.
    let undone = json(dir, &["undo"]);
    assert_eq!(undone["written"], (POSTS - 1) as u64, "{undone}");
    assert_eq!(read_str(&victim), outside);
    for i in 0..POSTS {
        let rel = format!("_posts/2021-01-01-p{i:04}.md");
        if rel != victim_rel {
            assert_eq!(read_str(&f.file(&rel)), original(i), "{rel}");
        }
    }
    let s = index(dir);
    assert_eq!(
        s["indexed"], 1,
        "only the file changed outside is new to the index: {s}"
    );
}

// ---------------------------------------------------------------------------------------------
// The real corpus
// ---------------------------------------------------------------------------------------------

/// Two sorted path lists are equal; on failure, counts and a few of the differences (the lists
/// run to thousands of paths).
fn assert_paths(got: &[String], want: &[String], what: &str) {
    if got != want {
        let missing: Vec<&String> = want.iter().filter(|p| !got.contains(p)).take(3).collect();
        let extra: Vec<&String> = got.iter().filter(|p| !want.contains(p)).take(3).collect();
        panic!(
            "{what}: got {} paths, want {}; missing e.g. {missing:?}; extra e.g. {extra:?}",
            got.len(),
            want.len()
        );
    }
}

/// A writable copy of the corpus, indexed: (its temporary folder, the archive, the corpus, the
/// hashes of its files). None (after saying so) when the corpus is absent.
fn corpus_copy() -> Option<(tempfile::TempDir, PathBuf, PathBuf, Hashes)> {
    let (tmp, dir, src) = indexed_corpus_copy()?;
    let start = file_hashes(&dir);
    assert_eq!(start.len(), 3000);
    Some((tmp, dir, src, start))
}

#[test]
fn real_corpus_rename_and_bulk_add_then_undo_both_to_a_byte_identical_tree() {
    let Some((_tmp, dir, src, start)) = corpus_copy() else {
        return;
    };
    // Rename a tag 255 posts carry.
    let tagged = search_paths(&dir, "tag:法广");
    assert_eq!(tagged.len(), 255);
    let t = Instant::now();
    let out = json(&dir, &["tag", "rename", "法广", "法国广播"]);
    eprintln!("rename of 255 posts: {:?}", t.elapsed());
    assert_eq!(out["written"], 255, "{out}");
    let after_rename = file_hashes(&dir);
    assert_paths(
        &changed_files(&start, &after_rename),
        &tagged,
        "files the rename changed",
    );
    for rel in &tagged {
        let now = read_str(&dir.join(rel));
        let before = read_str(&src.join(rel));
        assert_eq!(
            now,
            before.replacen("tags: [ 法广 ]", "tags: [ 法国广播 ]", 1),
            "{rel}"
        );
    }
    assert_eq!(total(&dir, "tag:法广"), 0);
    assert_paths(&search_paths(&dir, "tag:法国广播"), &tagged, "tag:法国广播");

    // Add a tag to every post a query finds (well over 1,000).
    let found = search_paths(&dir, "中国");
    assert!(found.len() > 1000, "{}", found.len());
    let t = Instant::now();
    let out = json(&dir, &["tag", "add", "待复核", "--query", "中国"]);
    eprintln!("tag add on {} posts: {:?}", found.len(), t.elapsed());
    assert_eq!(out["written"], found.len() as u64, "{out}");
    let after_add = file_hashes(&dir);
    assert_paths(
        &changed_files(&after_rename, &after_add),
        &found,
        "files the add changed",
    );
    for rel in &found {
        let before = read_str(&src.join(rel)).replacen("tags: [ 法广 ]", "tags: [ 法国广播 ]", 1);
        let tags_line = before
            .lines()
            .find(|l| l.starts_with("tags: [ "))
            .expect("a tags line")
            .to_string();
        let want = before.replacen(&tags_line, &tags_line.replace(" ]", ", 待复核 ]"), 1);
        assert_eq!(read_str(&dir.join(rel)), want, "{rel}");
    }
    assert_paths(&search_paths(&dir, "tag:待复核"), &found, "tag:待复核");
    assert_index_current(&dir);

    // Undo both: byte-identical to the start.
    let t = Instant::now();
    ok(&dir, &["undo"]);
    ok(&dir, &["undo"]);
    eprintln!("two undos: {:?}", t.elapsed());
    assert_tree_is(&dir, &start, "after undoing both");
    assert_eq!(total(&dir, "tag:待复核"), 0);
    assert_eq!(total(&dir, "tag:法广"), 255);
    assert_index_current(&dir);
}

/// The bulk edit the crash tests kill: its files in the order it writes them.
const CRASH_EDIT: [&str; 5] = ["tag", "add", "中断", "--query", "中国"];

/// Start CRASH_EDIT with a pause after each batch, and SIGKILL it once `done` says so.
fn kill_crash_edit(dir: &Path, order: &[String], done: impl Fn(&[Vec<u8>]) -> bool) {
    let before: Vec<Vec<u8>> = order.iter().map(|rel| read(&dir.join(rel))).collect();
    let mut child = spawn_paused(dir, &CRASH_EDIT, 3000);
    wait_for(Duration::from_secs(120), "the edit to get going", || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("the edit ended before it could be killed: {status}");
        }
        done(&before)
    });
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "killed, yet {status}");
    let h = history(dir);
    let last = h.last().expect("the killed op is in the history");
    assert_eq!(last["state"], "pending", "{h:?}");
    assert_eq!(last["label"], "tag add 中断");
    // Until it is settled, other edits are refused, naming it.
    let err = fails(dir, &["tag", "add", "别的", "--query", "中国"]);
    assert!(err.contains("interrupted"), "{err}");
    let err = fails(dir, &["set", &order[0], "title=x"]);
    assert!(err.contains("interrupted"), "{err}");
    assert!(fails(dir, &["redo"]).contains("interrupted"));
}

/// Whether the file at `rel` differs from `before`.
fn changed(dir: &Path, rel: &str, before: &[u8]) -> bool {
    std::fs::read(dir.join(rel)).is_ok_and(|b| b != before)
}

#[test]
fn real_corpus_edit_killed_mid_batch_is_rolled_back_by_undo() {
    let Some((_tmp, dir, _src, start)) = corpus_copy() else {
        return;
    };
    let order = planned_paths(&dir, &CRASH_EDIT);
    assert!(order.len() > 1024, "{}", order.len());
    // Killed as soon as the first file is replaced: possibly in the middle of the first batch.
    kill_crash_edit(&dir, &order, |before| changed(&dir, &order[0], &before[0]));
    let written = changed_files(&start, &file_hashes(&dir));
    assert!(
        !written.is_empty() && written.len() < order.len(),
        "{} files differ after the kill",
        written.len()
    );
    ok(&dir, &["undo"]);
    assert_tree_is(&dir, &start, "after undoing the killed edit");
    assert_eq!(states(&dir), ["undone"]);
    assert_eq!(total(&dir, "tag:中断"), 0);
    assert_index_current(&dir);
}

#[test]
fn real_corpus_edit_killed_between_batches_is_finished_by_recover_then_undone() {
    let Some((_tmp, dir, _src, start)) = corpus_copy() else {
        return;
    };
    let order = planned_paths(&dir, &CRASH_EDIT);
    assert!(order.len() > 1024, "{}", order.len());
    // Killed in the pause after the first batch: its 512 files are written, the rest not.
    kill_crash_edit(&dir, &order, |before| {
        (0..512).all(|i| changed(&dir, &order[i], &before[i]))
    });
    let written = changed_files(&start, &file_hashes(&dir));
    assert_eq!(written.len(), 512, "files written before the kill");

    let out = json(&dir, &["recover", "--finish"]);
    assert_eq!(out["written"], order.len() as u64, "{out}");
    assert_eq!(states(&dir), ["applied"]);
    for rel in &order {
        let now = read_str(&dir.join(rel));
        assert!(
            now.lines()
                .any(|l| l.starts_with("tags: [ ") && l.ends_with(", 中断 ]")),
            "{rel} lacks the tag after recover --finish"
        );
    }
    let mut sorted = order.clone();
    sorted.sort();
    assert_paths(
        &changed_files(&start, &file_hashes(&dir)),
        &sorted,
        "files recover --finish left changed",
    );
    // The index knows every finished file, those written before the kill too.
    assert_paths(
        &search_paths(&dir, "tag:中断"),
        &sorted,
        "tag:中断 after recover --finish",
    );
    assert_index_current(&dir);

    ok(&dir, &["undo"]);
    assert_tree_is(&dir, &start, "after undoing the recovered edit");
    assert_eq!(total(&dir, "tag:中断"), 0);
    assert_index_current(&dir);
}

#[test]
fn real_corpus_edit_killed_between_batches_is_rolled_back_by_recover() {
    let Some((_tmp, dir, _src, start)) = corpus_copy() else {
        return;
    };
    let order = planned_paths(&dir, &CRASH_EDIT);
    kill_crash_edit(&dir, &order, |before| {
        (0..512).all(|i| changed(&dir, &order[i], &before[i]))
    });
    let out = json(&dir, &["recover", "--roll-back"]);
    assert_eq!(out["written"], order.len() as u64, "{out}");
    assert_tree_is(&dir, &start, "after rolling the killed edit back");
    assert_eq!(states(&dir), ["undone"]);
    assert_eq!(total(&dir, "tag:中断"), 0);
    assert_index_current(&dir);
}
