//! Whole-program tests of `shelfmark lint`: the data-quality findings and their fixes.
//!
//! - A fixture archive written here holds each kind of finding (and posts with none); the posts
//!   of each kind are listed by hand below, from how the fixture was written.
//! - Each kind's fix, applied through the edit path, changes only posts of its own findings, and
//!   `undo` gives back a byte-identical tree; `--dry-run` writes nothing.
//! - Fixes that are not certain (which date is right) must be chosen by name.
//! - The real corpus (skipped when absent): every kind counted, every certain fix applied and
//!   undone to a byte-identical tree; the time `lint` takes is printed.

mod common;
use common::corpus::indexed_corpus_copy;
use common::tree::*;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A post with the given front matter lines and body.
fn doc(front: &str, body: &str) -> String {
    format!("---\nlayout: post\n{front}---\n{body}")
}

const BODY: &str = "<!--1610366114000-->\n<p>Some text of the article.</p>\n";

/// The fixture: (path, content). Every finding in it is named in `expected()`.
fn files() -> Vec<(&'static str, String)> {
    vec![
        // No finding at all.
        (
            "_posts/2021-01-11-clean.md",
            doc(
                "title: Clean post\ndate: 2021-01-11T11:55:14.000Z\nauthor: Ann Li\nfrom: https://news.example.com/a/1\ntags: [ 台湾, Apple, 新闻 ]\ncategories: [ News ]\n",
                BODY,
            ),
        ),
        // The day in the date's own zone (-05:00) is the file name's, though in UTC it is the
        // next: no finding.
        (
            "_posts/2021-01-11-evening.md",
            doc(
                "title: Evening\ndate: 2021-01-11T23:30:00-05:00\nfrom: https://news.example.com/a/2\ntags: [ 台湾 ]\ncategories: [ News ]\n",
                "<p>Evening text.</p>\n",
            ),
        ),
        (
            "_posts/2021-03-01-no-date.md",
            doc("title: No date here\ncategories: [ News ]\n", "<p>Text.</p>\n"),
        ),
        (
            "notes/undated.md",
            doc("title: Nothing gives a date\n", "<p>Text.</p>\n"),
        ),
        (
            "_posts/2021-03-02-bad-date.md",
            doc("title: Bad date\ndate: someday soon\n", "<p>Text.</p>\n"),
        ),
        // Written on the 5th in its own zone (+08:00), though in UTC it is the 4th, as the file
        // name says: a finding.
        (
            "_posts/2021-03-04-wrong-day.md",
            doc(
                "title: Wrong day\ndate: 2021-03-05T01:00:00+08:00\n",
                "<p>Text.</p>\n",
            ),
        ),
        // The epoch comment is a day after the date.
        (
            "_posts/2021-01-11-epoch-off.md",
            doc(
                "title: Epoch off\ndate: 2021-01-11 19:55:14 +0800\n",
                "<!--1610452514000-->\n<p>Text.</p>\n",
            ),
        ),
        (
            "_posts/2021-01-11-nan.md",
            doc(
                "title: NaN epoch\ndate: 2021-01-11T11:55:14.000Z\n",
                "<!--NaN-->\n<p>Text.</p>\n",
            ),
        ),
        (
            "_posts/2021-01-11-entities.md",
            doc(
                "title: Entities\ndate: 2021-01-11T11:55:14.000Z\nauthor: Ann Li &#38; Bo Wu\nfrom: https://news.example.com/a?x=1&amp;y=2\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-markup.md",
            doc(
                "title: \"<b>Bold</b> news\"\ndate: 2021-01-11T11:55:14.000Z\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-link-markup.md",
            doc(
                "title: \"See <a href='https://x.example'>this</a>\"\ndate: 2021-01-11T11:55:14.000Z\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-mojibake.md",
            doc(
                "title: \"CafÃ© news\"\ndate: 2021-01-11T11:55:14.000Z\nauthor: \"å¤§å®¶\"\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-spaces.md",
            doc(
                "title: Spaces\ndate: 2021-01-11T11:55:14.000Z\nauthor: \"  Ann  Li \"\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-variants.md",
            doc(
                "title: Variants\ndate: 2021-01-11T11:55:14.000Z\ntags: [ 臺灣, apple ]\ncategories: [ news ]\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-more-tags.md",
            doc(
                "title: More tags\ndate: 2021-01-11T11:55:14.000Z\ntags:\n  - 台湾\n  - Apple\n",
                BODY,
            ),
        ),
        (
            "_posts/2021-01-11-no-title.md",
            doc("date: 2021-01-11T11:55:14.000Z\n", BODY),
        ),
        (
            "_posts/2021-01-11-empty.md",
            doc("title: Empty body\ndate: 2021-01-11T11:55:14.000Z\n", ""),
        ),
        (
            "_posts/2021-01-11-source.md",
            doc(
                "title: Source\ndate: 2021-01-11T11:55:14.000Z\nfrom: 新华社\n",
                BODY,
            ),
        ),
    ]
}

/// The posts of each kind, as the fixture was written.
fn expected() -> BTreeMap<&'static str, BTreeSet<&'static str>> {
    let p = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<_>>();
    BTreeMap::from([
        (
            "date-missing",
            p(&["_posts/2021-03-01-no-date.md", "notes/undated.md"]),
        ),
        ("date-unreadable", p(&["_posts/2021-03-02-bad-date.md"])),
        ("date-vs-file-name", p(&["_posts/2021-03-04-wrong-day.md"])),
        ("date-vs-epoch", p(&["_posts/2021-01-11-epoch-off.md"])),
        ("epoch-unreadable", p(&["_posts/2021-01-11-nan.md"])),
        ("entities", p(&["_posts/2021-01-11-entities.md"])),
        (
            "markup",
            p(&[
                "_posts/2021-01-11-markup.md",
                "_posts/2021-01-11-link-markup.md",
            ]),
        ),
        ("mojibake", p(&["_posts/2021-01-11-mojibake.md"])),
        ("whitespace", p(&["_posts/2021-01-11-spaces.md"])),
        ("tag-variants", p(&["_posts/2021-01-11-variants.md"])),
        ("category-variants", p(&["_posts/2021-01-11-variants.md"])),
        ("title-missing", p(&["_posts/2021-01-11-no-title.md"])),
        ("body-empty", p(&["_posts/2021-01-11-empty.md"])),
        ("source-not-url", p(&["_posts/2021-01-11-source.md"])),
    ])
}

fn fixture() -> Fixture {
    let files = files();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_bytes())).collect();
    let f = Fixture::new(&refs);
    index(f.path());
    f
}

fn lint(dir: &Path, args: &[&str]) -> Value {
    let mut full = vec!["lint"];
    full.extend_from_slice(args);
    json(dir, &full)
}

/// The posts of each kind's findings, as `lint --json` lists them.
fn found(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    // Every fixture has the same short body, so they are all exact duplicates: that kind has
    // its own test below.
    let report = lint(dir, &["--no-duplicates"]);
    let findings = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings list: {report}"));
    for f in findings {
        for key in ["kind", "path", "field", "message", "fix"] {
            assert!(f.get(key).is_some(), "a finding without `{key}`: {f}");
        }
        let (Some(kind), Some(path)) = (f["kind"].as_str(), f["path"].as_str()) else {
            panic!("a finding without its kind or path: {f}");
        };
        out.entry(kind.to_string())
            .or_default()
            .insert(path.to_string());
    }
    out
}

fn show(dir: &Path, path: &str) -> Value {
    json(dir, &["show", path])
}

#[test]
fn every_kind_finds_exactly_the_posts_written_with_it() {
    let f = fixture();
    let found = found(f.path());
    let expected = expected();
    for (kind, posts) in &expected {
        let got: BTreeSet<&str> = found
            .get(*kind)
            .map(|s| s.iter().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(&got, posts, "kind {kind}");
    }
    for kind in found.keys() {
        assert!(
            expected.contains_key(kind.as_str()),
            "an unexpected kind {kind}: {:?}",
            found[kind]
        );
    }
    // Counts agree with the list, and every kind is listed.
    let report = lint(f.path(), &[]);
    let kinds = report["kinds"].as_array().expect("kinds");
    for (kind, posts) in &expected {
        let k = kinds
            .iter()
            .find(|k| k["kind"] == *kind)
            .unwrap_or_else(|| panic!("{kind} not listed"));
        assert_eq!(k["posts"], posts.len() as u64, "{k}");
    }
    // One kind at a time.
    let only = lint(f.path(), &["--kind", "entities"]);
    let findings = only["findings"].as_array().expect("findings");
    assert!(!findings.is_empty() && findings.iter().all(|f| f["kind"] == "entities"));
    // An unknown kind says which there are.
    let err = fails(f.path(), &["lint", "--kind", "nope"]);
    assert!(err.contains("date-vs-epoch"), "{err}");
}

#[test]
fn findings_say_what_the_fix_would_make_of_them() {
    let f = fixture();
    let report = lint(f.path(), &[]);
    let findings = report["findings"].as_array().expect("findings");
    let fix_of = |path: &str, kind: &str| -> Option<String> {
        findings
            .iter()
            .find(|f| f["path"] == path && f["kind"] == kind)
            .and_then(|f| f["fix"].as_str().map(str::to_string))
    };
    assert_eq!(
        fix_of("_posts/2021-01-11-entities.md", "entities").as_deref(),
        Some("author: Ann Li & Bo Wu")
    );
    assert_eq!(
        fix_of("_posts/2021-01-11-mojibake.md", "mojibake").as_deref(),
        Some("title: Café news")
    );
    assert_eq!(
        fix_of("_posts/2021-01-11-markup.md", "markup").as_deref(),
        Some("title: Bold news")
    );
    // A link would be lost: no automatic fix.
    assert_eq!(fix_of("_posts/2021-01-11-link-markup.md", "markup"), None);
    assert_eq!(
        fix_of("_posts/2021-03-04-wrong-day.md", "date-vs-file-name").as_deref(),
        Some("date: 2021-03-04T01:00:00+08:00")
    );
    assert_eq!(
        fix_of("_posts/2021-01-11-epoch-off.md", "date-vs-epoch").as_deref(),
        Some("date: 2021-01-12 19:55:14 +0800")
    );
    // The address's `&amp;` is not reported: which form the address needs is not certain.
    assert!(!findings
        .iter()
        .any(|f| f["path"] == "_posts/2021-01-11-entities.md" && f["field"] == "from"));
}

/// Apply a kind's fix; the files it changed must all be posts of that kind, and undo must give
/// back the tree byte for byte.
fn fix_and_undo(dir: &Path, kind: &str, choice: Option<&str>) -> Vec<String> {
    let start = file_hashes(dir);
    let mut args = vec!["lint", "--fix", kind];
    if let Some(c) = choice {
        args.extend(["--choice", c]);
    }
    // A dry run prints the diffs and writes nothing.
    let mut dry = args.clone();
    dry.push("--dry-run");
    let printed = ok(dir, &dry);
    assert!(printed.contains("+++ b/"), "{kind}: no diff in {printed}");
    assert_tree_is(dir, &start, &format!("{kind} --dry-run"));
    ok(dir, &args);
    let changed = changed_files(&start, &file_hashes(dir));
    let allowed = &expected()[kind];
    assert!(!changed.is_empty(), "{kind}: the fix changed nothing");
    for c in &changed {
        assert!(
            allowed.contains(c.as_str()),
            "{kind}: the fix changed {c}, which has no such finding"
        );
    }
    // The index follows: the fixed findings are gone (those without a fix stay).
    let after = lint(dir, &["--kind", kind]);
    let findings = after["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings list: {after}"));
    for f in findings {
        assert!(
            f["fix"].is_null() || choice.is_some(),
            "{kind}: still found after the fix: {f}"
        );
    }
    let undone = json(dir, &["undo"]);
    assert_eq!(undone["written"], changed.len() as u64, "{undone}");
    assert_tree_is(dir, &start, &format!("{kind} fixed then undone"));
    changed
}

#[test]
fn each_fix_changes_only_its_posts_and_undoes_to_the_same_bytes() {
    let f = fixture();
    let dir = f.path();
    for kind in [
        "entities",
        "markup",
        "mojibake",
        "whitespace",
        "tag-variants",
        "category-variants",
        "date-missing",
    ] {
        fix_and_undo(dir, kind, None);
    }
    for (kind, choice) in [
        ("date-unreadable", "date-from-file-name"),
        ("date-vs-file-name", "date-from-file-name"),
        ("date-vs-epoch", "date-from-epoch"),
    ] {
        fix_and_undo(dir, kind, Some(choice));
    }
    // Each fix was one operation (`undo` took each back whole, above); none is left applied.
    let states = states(dir);
    assert!(!states.is_empty(), "{states:?}");
    assert!(states.iter().all(|s| s == "undone"), "{states:?}");
}

#[test]
fn fixes_write_what_their_findings_said() {
    let f = fixture();
    let dir = f.path();
    ok(dir, &["lint", "--fix", "entities"]);
    assert_eq!(
        show(dir, "_posts/2021-01-11-entities.md")["author"],
        "Ann Li & Bo Wu"
    );
    ok(dir, &["lint", "--fix", "mojibake"]);
    let m = show(dir, "_posts/2021-01-11-mojibake.md");
    assert_eq!(m["title"], "Café news");
    assert_eq!(m["author"], "大家");
    ok(dir, &["lint", "--fix", "whitespace"]);
    assert_eq!(show(dir, "_posts/2021-01-11-spaces.md")["author"], "Ann Li");
    ok(dir, &["lint", "--fix", "tag-variants"]);
    let tags = show(dir, "_posts/2021-01-11-variants.md")["tags"].clone();
    assert_eq!(tags, serde_json::json!(["台湾", "Apple"]), "{tags}");
    ok(dir, &["lint", "--fix", "date-missing"]);
    let text = String::from_utf8_lossy(&read(&f.file("_posts/2021-03-01-no-date.md"))).into_owned();
    assert!(text.contains("\ndate: 2021-03-01\n"), "{text}");
    // The post no date comes from is left (its finding has no fix).
    let undated = found(dir);
    assert_eq!(
        undated.get("date-missing").map(|s| s.len()),
        Some(1),
        "{undated:?}"
    );
}

#[test]
fn a_fix_that_is_not_certain_must_be_chosen() {
    let f = fixture();
    let dir = f.path();
    let start = file_hashes(dir);
    let err = fails(dir, &["lint", "--fix", "date-vs-epoch"]);
    assert!(err.contains("date-from-epoch"), "{err}");
    let err = fails(dir, &["lint", "--fix", "body-empty"]);
    assert!(err.contains("no automatic fix"), "{err}");
    let err = fails(
        dir,
        &[
            "lint",
            "--fix",
            "date-vs-epoch",
            "--choice",
            "date-from-file-name",
        ],
    );
    assert!(err.contains("date-from-epoch"), "{err}");
    assert_tree_is(dir, &start, "refused fixes");
    // The kind lists its choice as not certain.
    let report = lint(dir, &[]);
    let k = report["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .find(|k| k["kind"] == "date-vs-epoch")
        .cloned()
        .expect("listed");
    assert!(k["fix"].is_null(), "{k}");
    assert_eq!(k["choices"][0]["certain"], false, "{k}");
}

#[test]
fn a_file_changed_after_the_lint_is_a_conflict_not_overwritten() {
    let f = fixture();
    let dir = f.path();
    // Changed on disk after indexing, before the fix (the watcher is not running).
    let rel = "_posts/2021-01-11-entities.md";
    let changed = doc(
        "title: Entities\ndate: 2021-01-11T11:55:14.000Z\nauthor: Ann Li &#38; Bo Wu and more\n",
        BODY,
    );
    f.write(rel, changed.as_bytes());
    let out = sm(dir, &["lint", "--fix", "entities", "--json"]);
    let printed = text(&out.stdout) + &text(&out.stderr);
    assert!(
        printed.contains("conflict") || printed.contains("changed"),
        "{printed}"
    );
    assert_eq!(read(&f.file(rel)), changed.as_bytes());
}

#[test]
fn the_real_corpus_lints_and_its_certain_fixes_undo_to_the_same_bytes() {
    let Some((_tmp, dir, _src)) = indexed_corpus_copy() else {
        return;
    };
    let t = std::time::Instant::now();
    let report = lint(&dir, &[]);
    eprintln!("lint over the corpus: {:.1?}", t.elapsed());
    assert_eq!(report["posts"], 3000);
    let start = file_hashes(&dir);
    let mut fixed = 0;
    for k in report["kinds"].as_array().expect("kinds") {
        eprintln!("{:>6} {} in {} posts", k["count"], k["kind"], k["posts"]);
        if k["fix"].is_null() {
            continue;
        }
        let kind = k["kind"].as_str().expect("kind");
        let posts: BTreeSet<String> = lint(&dir, &["--kind", kind])["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| !f["fix"].is_null())
            .map(|f| f["path"].as_str().unwrap_or_default().to_string())
            .collect();
        let before = file_hashes(&dir);
        ok(&dir, &["lint", "--fix", kind]);
        let changed = changed_files(&before, &file_hashes(&dir));
        assert_eq!(changed.len(), posts.len(), "{kind}");
        for c in &changed {
            assert!(
                posts.contains(c),
                "{kind} changed {c}, which has no such finding"
            );
        }
        fixed += 1;
    }
    for _ in 0..fixed {
        ok(&dir, &["undo"]);
    }
    assert_tree_is(&dir, &start, "every certain fix undone");
}

#[test]
fn duplicates_are_a_kind_naming_the_post_each_one_repeats() {
    let long: String = "这是一篇关于档案整理的长文章，讨论了重复文件的发现与处理。".repeat(20);
    let other: String = "另一篇完全不同的报道，写的是天气、交通和城市里的新公园。".repeat(20);
    let a = format!("---\ntitle: A\n---\n<p>{long}</p>\n");
    let b = format!("---\ntitle: B - 某网站\ntags: [x]\n---\n<p>{long}</p>\n");
    let c = format!("---\ntitle: C\n---\n<p>{other}</p>\n");
    let f = Fixture::new(&[
        ("_posts/a.md", a.as_bytes()),
        ("_posts/b.md", b.as_bytes()),
        ("_posts/c.md", c.as_bytes()),
    ]);
    index(f.path());
    let report = lint(f.path(), &["--kind", "duplicates"]);
    let findings = report["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings list: {report}"));
    let paths: Vec<&str> = findings.iter().filter_map(|x| x["path"].as_str()).collect();
    assert_eq!(paths, ["_posts/b.md"], "{report}");
    let message = findings[0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("_posts/a.md"), "{message}");
    let kind = report["kinds"]
        .as_array()
        .and_then(|k| k.iter().find(|k| k["kind"] == "duplicates"))
        .unwrap_or_else(|| panic!("no duplicates kind: {report}"));
    assert_eq!(kind["count"], 1, "{report}");
    // Left out when asked.
    let without = lint(f.path(), &["--no-duplicates"]);
    assert!(
        without["kinds"]
            .as_array()
            .is_some_and(|k| k.iter().all(|k| k["kind"] != "duplicates")),
        "{without}"
    );
}
