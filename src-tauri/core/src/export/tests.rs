use super::edition::index_page;
use super::layout::case_keys;
use super::manifest::{
    manifest_csv, manifest_jsonl, old_manifest, sha256_hex, Previous, INDEX_HTML, MANIFEST_CSV,
    MANIFEST_JSONL,
};
use super::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap_or(root)).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
}

fn req(to: &Path, layout: &str, format: ExportFormat) -> ExportRequest {
    ExportRequest {
        source: ExportSource::Query {
            query: String::new(),
        },
        to: to.display().to_string(),
        layout: layout.into(),
        format,
        set: vec![],
        remove: vec![],
        zip: false,
        overwrite: false,
        delete_removed: false,
        dry_run: false,
    }
}

fn run(root: &Path, sources: &[&str], r: &ExportRequest) -> ExportSummary {
    let sources: Vec<Vec<u8>> = sources.iter().map(|s| s.as_bytes().to_vec()).collect();
    export(root, &sources, r, &|_| {}, &AtomicBool::new(false)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn hostile_titles_stay_inside_and_do_not_collide() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    let titles = [
        "../../etc/passwd",
        "/abs/path",
        "C:\\win",
        "CON",
        "Same",
        "same",
        "a\nb",
        &"长".repeat(120),
    ];
    let mut sources = Vec::new();
    for (i, t) in titles.iter().enumerate() {
        let rel = format!("p{i}.md");
        write(
            &root,
            &rel,
            &format!(
                "---\ntitle: {}\ndate: 2021-01-0{}\n---\nbody {i}\n",
                serde_json::to_string(t).unwrap_or_default(),
                i % 9 + 1
            ),
        );
        sources.push(rel);
    }
    let dest = out.path().join("x");
    let srcs: Vec<&str> = sources.iter().map(String::as_str).collect();
    let s = run(
        &root,
        &srcs,
        &req(&dest, "template:{title}.md", ExportFormat::Copy),
    );
    assert_eq!(s.written, titles.len() as u64, "{s:?}");
    let rows = old_manifest(&dest);
    let mut lower = HashSet::new();
    for r in rows.values() {
        assert!(names::is_portable(&r.exported), "{}", r.exported);
        assert!(
            lower.insert(r.exported.to_lowercase()),
            "collision {}",
            r.exported
        );
        let p = dest.join(&r.exported);
        let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert_eq!(sha256_hex(&bytes), r.sha256);
        assert_eq!(
            bytes,
            std::fs::read(root.join(&r.source)).unwrap_or_default()
        );
    }
    // Again: nothing to do. Then one source edited: exactly that file is rewritten.
    let s = run(
        &root,
        &srcs,
        &req(&dest, "template:{title}.md", ExportFormat::Copy),
    );
    assert_eq!(
        (s.written, s.updated, s.unchanged),
        (0, 0, titles.len() as u64)
    );
    write(
        &root,
        "p4.md",
        "---\ntitle: Same\ndate: 2021-01-05\n---\nnew body\n",
    );
    let s = run(
        &root,
        &srcs,
        &req(&dest, "template:{title}.md", ExportFormat::Copy),
    );
    assert_eq!(
        (s.written, s.updated, s.unchanged),
        (0, 1, titles.len() as u64 - 1)
    );
}

#[test]
fn a_file_the_user_put_there_is_not_overwritten() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "2021-01-01-x.md", "---\ntitle: X\n---\nx\n");
    write(out.path(), "2021-01-01-x.md", "mine");
    let s = run(
        &root,
        &["2021-01-01-x.md"],
        &req(out.path(), "keep", ExportFormat::Copy),
    );
    assert_eq!(s.conflicts.len(), 1);
    assert_eq!(
        std::fs::read_to_string(out.path().join("2021-01-01-x.md"))
            .ok()
            .as_deref(),
        Some("mine")
    );
    let mut r = req(out.path(), "keep", ExportFormat::Copy);
    r.overwrite = true;
    assert_eq!(run(&root, &["2021-01-01-x.md"], &r).updated, 1);
}

#[test]
fn html_pages_load_nothing_and_run_nothing() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "h.md", "---\ntitle: <script>alert(1)</script>\n---\n<p onclick=\"x()\">hi</p><script>evil()</script><img src=\"https://t.example/p.gif\"><iframe src=\"https://e.example\"></iframe><a href=\"https://example.com/\">link</a>\n");
    let s = run(
        &root,
        &["h.md"],
        &req(out.path(), "keep", ExportFormat::Html),
    );
    assert_eq!(s.written, 1);
    let page = std::fs::read_to_string(out.path().join("h.html")).unwrap_or_default();
    let lower = page.to_lowercase();
    assert!(
        !lower.contains("<script") && !lower.contains("onclick") && !lower.contains("iframe"),
        "{page}"
    );
    assert!(
        !lower.contains("t.example") && !lower.contains("e.example"),
        "{page}"
    );
    assert!(out.path().join("index.html").exists());
}

#[test]
fn rewrite_sets_a_key_in_the_copy_only() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    let src = "---\ntitle: T\ndraft: true\n---\nbody\n";
    write(&root, "r.md", src);
    let mut r = req(out.path(), "keep", ExportFormat::Rewrite);
    r.set = vec!["collection=Picks".into()];
    r.remove = vec!["draft".into()];
    run(&root, &["r.md"], &r);
    assert_eq!(
        std::fs::read_to_string(out.path().join("r.md"))
            .ok()
            .as_deref(),
        Some("---\ntitle: T\ncollection: Picks\n---\nbody\n")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("r.md")).ok().as_deref(),
        Some(src)
    );
}

#[test]
fn exporting_into_the_archive_is_refused() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "x.md", "x");
    let r = req(&root.join("out"), "keep", ExportFormat::Copy);
    assert!(export(
        &root,
        &[b"x.md".to_vec()],
        &r,
        &|_| {},
        &AtomicBool::new(false)
    )
    .is_err());
}

#[test]
fn names_equal_ignoring_case_in_any_script_or_as_folders_get_suffixes() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    // σ/ς and ſ/s are one name upper-cased (Windows), K (Kelvin)/k lower-cased; `A/b.md` is a
    // file where `a/B.md/` would be a folder.
    let sources = [
        "s.md",
        "ſ.md",
        "σ.md",
        "ς.md",
        "k.md",
        "\u{212a}.md",
        "A/b.md",
        "a/B.md/c.md",
    ];
    for (i, s) in sources.iter().enumerate() {
        write(&root, s, &format!("---\ntitle: t{i}\n---\nbody {i}\n"));
    }
    let dest = out.path().join("x");
    let s = run(&root, &sources, &req(&dest, "keep", ExportFormat::Copy));
    assert_eq!((s.written, s.problems.len()), (8, 0), "{s:?}");
    let rows = old_manifest(&dest);
    let mut keys = HashSet::new();
    let mut folders = HashSet::new();
    for r in rows.values() {
        for k in case_keys(&r.exported) {
            assert!(keys.insert(k), "{} collides", r.exported);
        }
        let parts: Vec<&str> = r.exported.split('/').collect();
        for n in 1..parts.len() {
            folders.extend(case_keys(&parts[..n].join("/")));
        }
    }
    for r in rows.values() {
        for k in case_keys(&r.exported) {
            assert!(!folders.contains(&k), "{} is also a folder", r.exported);
        }
    }
    // The first of each pair (in source byte order) keeps its name.
    for kept in ["A/b.md", "k.md", "s.md", "ς.md"] {
        assert!(rows.contains_key(kept), "{kept}: {:?}", rows.keys());
    }
}

#[test]
fn a_title_cannot_move_the_link_up_to_the_list() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "x/y.md", "---\ntitle: \"{UP}\"\n---\nbody {UP}\n");
    run(
        &root,
        &["x/y.md"],
        &req(out.path(), "keep", ExportFormat::Html),
    );
    let page = std::fs::read_to_string(out.path().join("x/y.html")).unwrap_or_default();
    assert!(page.contains("<a href=\"../index.html\">"), "{page}");
    assert!(
        page.contains("<title>{UP}</title>") && page.contains("<h1>{UP}</h1>"),
        "{page}"
    );
}

#[test]
fn the_manifest_lists_only_the_files_the_export_holds() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "a.md", "---\ntitle: A\n---\na\n");
    write(&root, "b.md", "---\ntitle: B\n---\nb\n");
    write(out.path(), "b.md", "mine");
    let s = run(
        &root,
        &["a.md", "b.md"],
        &req(out.path(), "keep", ExportFormat::Copy),
    );
    assert_eq!((s.written, s.conflicts.len()), (1, 1), "{s:?}");
    let rows = old_manifest(out.path());
    assert_eq!(rows.keys().collect::<Vec<_>>(), ["a.md"]);
    for r in rows.values() {
        let bytes = std::fs::read(out.path().join(&r.exported)).unwrap_or_default();
        assert_eq!(sha256_hex(&bytes), r.sha256);
    }
}

#[test]
fn a_folder_that_holds_the_archive_gets_nothing_inside_the_archive() {
    let top = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let top = top.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    let root = top.join("arch");
    let src = "---\ntitle: X\n---\nx\n";
    write(&root, "_posts/x.md", src);
    for layout in [
        "template:arch/_posts/{filename}",
        "template:arch/new/{filename}",
    ] {
        let mut r = req(&top, layout, ExportFormat::Rewrite);
        r.set = vec!["k=v".into()];
        r.overwrite = true;
        let s = run(&root, &["_posts/x.md"], &r);
        assert_eq!((s.written, s.updated, s.problems.len()), (0, 0, 1), "{s:?}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("_posts/x.md"))
            .ok()
            .as_deref(),
        Some(src)
    );
    assert!(!root.join("new").exists());
    // Nor does an old manifest (as an export writes it) that names an archive file get it
    // deleted.
    let row = ManifestRow {
        source: "_posts/x.md".into(),
        exported: "arch/_posts/x.md".into(),
        title: "X".into(),
        date: None,
        sha256: sha256_hex(src.as_bytes()),
    };
    std::fs::write(
        top.join(MANIFEST_JSONL),
        format!("{}\n", serde_json::to_string(&row).unwrap_or_default()),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r = req(&top, "template:elsewhere/{filename}", ExportFormat::Copy);
    r.delete_removed = true;
    let s = run(&root, &["_posts/x.md"], &r);
    assert_eq!((s.removed.len(), s.deleted), (1, 0), "{s:?}");
    assert!(root.join("_posts/x.md").exists());
}

#[test]
fn the_last_exports_manifests_are_recognised_only_as_written() {
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let rows = vec![ManifestRow {
        source: "-a.md".into(),
        exported: "-a.md".into(),
        title: "=1+1".into(),
        date: None,
        sha256: sha256_hex(b"a"),
    }];
    let jsonl = manifest_jsonl(&rows);
    std::fs::write(out.path().join(MANIFEST_JSONL), &jsonl).unwrap_or_else(|e| panic!("{e}"));
    let prev = Previous::read(out.path());
    assert_eq!(prev.rows, rows);
    let csv = manifest_csv(&rows, true);
    assert!(String::from_utf8_lossy(&csv).contains("'-a.md,'-a.md,'=1+1,,"));
    // Its CSV as this version writes it, and as versions before neutralising wrote it.
    assert!(prev.wrote(MANIFEST_CSV, &csv));
    assert!(prev.wrote(MANIFEST_CSV, &manifest_csv(&rows, false)));
    assert!(prev.wrote(INDEX_HTML, index_page("", &rows).as_bytes()));
    assert!(!prev.wrote(MANIFEST_CSV, b"mine"));
    // A JSONL that is not byte for byte Shelfmark's (here: one more key) is not trusted.
    let edited = String::from_utf8_lossy(&jsonl).replace('}', ",\"x\":1}");
    std::fs::write(out.path().join(MANIFEST_JSONL), &edited).unwrap_or_else(|e| panic!("{e}"));
    assert!(Previous::read(out.path()).rows.is_empty());
}

#[test]
fn a_symlink_planted_at_a_guessable_temporary_name_is_not_written_through() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "a.md", "---\ntitle: A\n---\na\n");
    let victim = out.path().join("victim");
    write(out.path(), "victim", "victim");
    // Every name the old rule (`.NAME.shelfmark-PID-N.tmp`) could give, for the first N.
    let pid = std::process::id();
    for name in ["a.md", "manifest.csv", "manifest.jsonl"] {
        for n in 0..2000 {
            let tmp = out.path().join(format!(".{name}.shelfmark-{pid}-{n}.tmp"));
            std::os::unix::fs::symlink(&victim, tmp).unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let s = run(
        &root,
        &["a.md"],
        &req(out.path(), "keep", ExportFormat::Copy),
    );
    assert_eq!((s.written, s.problems.len()), (1, 0), "{s:?}");
    assert_eq!(
        std::fs::read_to_string(&victim).ok().as_deref(),
        Some("victim")
    );
    for name in ["a.md", "manifest.csv", "manifest.jsonl"] {
        let meta = std::fs::symlink_metadata(out.path().join(name));
        assert!(meta.is_ok_and(|m| m.file_type().is_file()), "{name}");
    }
    assert_eq!(
        std::fs::read(out.path().join("a.md")).ok(),
        Some(b"---\ntitle: A\n---\na\n".to_vec())
    );
}

#[test]
fn refusals_say_what_they_said_as_strings() {
    let p = PathBuf::from("/x/out.zip");
    let io = || std::io::Error::from(std::io::ErrorKind::NotFound);
    let cases: Vec<(ExportError, String)> = vec![
        (ExportError::EmptyTemplate, "the template is empty".into()),
        (
            ExportError::UnknownLayout("nope".into()),
            "unknown layout `nope`: use keep, jekyll, by-tag, by-category, by-author, by-site, by-month or template:\"{year}/{month}/{slug}.md\"".into(),
        ),
        (ExportError::NotKeyValue("k".into()), "`k` is not KEY=VALUE".into()),
        (
            ExportError::BadValue {
                key: "k".into(),
                reason: "why".into(),
            },
            "the value of `k`: why".into(),
        ),
        (
            ExportError::RewriteOnly,
            "`set` and `remove` need the `rewrite` format".into(),
        ),
        (ExportError::NoTarget, "say where to export to".into()),
        (
            ExportError::InsideArchive(p.clone()),
            "/x/out.zip is inside the archive; export to a folder outside it".into(),
        ),
        (
            ExportError::ZipIsSymlink(p.clone()),
            "/x/out.zip is a symlink; Shelfmark does not write through it (choose another name)"
                .into(),
        ),
        (
            ExportError::NotAFile(p.clone()),
            "/x/out.zip exists and is not a file".into(),
        ),
        (
            ExportError::Exists(p.clone()),
            "/x/out.zip exists already; choose another name, or overwrite it".into(),
        ),
        (
            ExportError::NotAFolder(p.clone()),
            "/x/out.zip exists and is not a folder".into(),
        ),
        (
            ExportError::NotInside("../a".into()),
            "../a is not a path inside the export folder".into(),
        ),
        (
            ExportError::Symlink(p.clone()),
            "/x/out.zip is a symlink; Shelfmark does not write through it".into(),
        ),
        (
            ExportError::Create {
                path: p.clone(),
                source: io(),
            },
            format!("cannot create /x/out.zip: {}", io()),
        ),
        (
            ExportError::Write {
                path: p.clone(),
                source: io(),
            },
            format!("cannot write /x/out.zip: {}", io()),
        ),
        (
            ExportError::Path {
                path: p.clone(),
                source: io(),
            },
            format!("/x/out.zip: {}", io()),
        ),
    ];
    for (e, want) in cases {
        assert_eq!(e.to_string(), want);
    }
    // And through the api, under the code `export`.
    let api = crate::api::ApiError::from(ExportError::NoTarget);
    assert_eq!(
        (api.code.as_str(), api.message.as_str()),
        ("export", "say where to export to")
    );
}

#[test]
fn posts_a_layout_renames_count_as_renamed_and_portability_apart() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(
        &root,
        "_posts/a.md",
        "---\ntitle: Hello\ndate: 2021-03-04\n---\na\n",
    );
    write(
        &root,
        "notes/CON.md",
        "---\ntitle: Con\ndate: 2021-03-05\n---\nc\n",
    );
    write(
        &root,
        "notes/b.md",
        "---\ntitle: B\ndate: 2021-03-06\n---\nb\n",
    );
    let all = ["_posts/a.md", "notes/CON.md", "notes/b.md"];
    // Keep: only the name Windows reserves changes.
    let s = run(
        &root,
        &all,
        &req(&out.path().join("k"), "keep", ExportFormat::Copy),
    );
    assert_eq!((s.renamed, s.portable), (1, 1), "{s:?}");
    // The HTML edition keeps the paths too: a new extension is not a new name.
    let s = run(
        &root,
        &all,
        &req(&out.path().join("h"), "keep", ExportFormat::Html),
    );
    assert_eq!((s.renamed, s.portable), (1, 1), "{s:?}");
    // Jekyll names every post after its date and title: all three renamed, none for portability.
    let s = run(
        &root,
        &all,
        &req(&out.path().join("j"), "jekyll", ExportFormat::Copy),
    );
    assert_eq!((s.renamed, s.portable), (3, 0), "{s:?}");
    // A dry run counts the same.
    let mut dry = req(&out.path().join("d"), "by-month", ExportFormat::Copy);
    dry.dry_run = true;
    let s = run(&root, &all, &dry);
    assert_eq!((s.renamed, s.portable), (3, 1), "{s:?}");
}

#[test]
fn the_html_index_is_titled_with_the_collection_and_listed() {
    let a = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = a.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
    write(&root, "a.md", "---\ntitle: A\n---\na\n");
    let dest = out.path().join("x");
    let mut r = req(&dest, "keep", ExportFormat::Html);
    r.source = ExportSource::Collection {
        name: "Picks <\"2021\"> & more".into(),
    };
    let s = run(&root, &["a.md"], &r);
    assert_eq!(
        s.extras,
        [INDEX_HTML, MANIFEST_CSV, MANIFEST_JSONL],
        "{s:?}"
    );
    let index = std::fs::read_to_string(dest.join(INDEX_HTML)).unwrap_or_else(|e| panic!("{e}"));
    let t = "Picks &lt;&quot;2021&quot;&gt; &amp; more";
    assert!(index.contains(&format!("<title>{t}</title>")), "{index}");
    assert!(index.contains(&format!("<h1>{t} (1)</h1>")), "{index}");
    // Again: nothing to write, the files still listed as the export's.
    let s = run(&root, &["a.md"], &r);
    assert_eq!((s.written, s.conflicts.len()), (0, 0), "{s:?}");
    assert_eq!(
        s.extras,
        [INDEX_HTML, MANIFEST_CSV, MANIFEST_JSONL],
        "{s:?}"
    );
    // The collection renamed: its index is recognised as the last export's and replaced.
    r.source = ExportSource::Collection {
        name: "Renamed".into(),
    };
    let s = run(&root, &["a.md"], &r);
    assert!(s.conflicts.is_empty(), "{s:?}");
    let index = std::fs::read_to_string(dest.join(INDEX_HTML)).unwrap_or_else(|e| panic!("{e}"));
    assert!(index.contains("<title>Renamed</title>"), "{index}");
    // Not a collection: "Posts"; copies list only the manifests; a zip lists what it holds.
    let s = run(
        &root,
        &["a.md"],
        &req(&out.path().join("q"), "keep", ExportFormat::Html),
    );
    let index = std::fs::read_to_string(out.path().join("q").join(INDEX_HTML))
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(index.contains("<title>Posts</title>"), "{index}");
    assert_eq!(s.extras.len(), 3, "{s:?}");
    let s = run(
        &root,
        &["a.md"],
        &req(&out.path().join("c"), "keep", ExportFormat::Copy),
    );
    assert_eq!(s.extras, [MANIFEST_CSV, MANIFEST_JSONL], "{s:?}");
    let mut z = req(&out.path().join("z.zip"), "keep", ExportFormat::Html);
    z.zip = true;
    let s = run(&root, &["a.md"], &z);
    assert_eq!(
        s.extras,
        [INDEX_HTML, MANIFEST_CSV, MANIFEST_JSONL],
        "{s:?}"
    );
}
