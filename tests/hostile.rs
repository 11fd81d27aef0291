//! Hostile archives: every bad file becomes a problem the user can see, the scan carries on,
//! and nothing in the archive is written to.

mod common;
use common::tree::tree_bytes;
use common::*;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn problems(dir: &Path) -> Vec<serde_json::Value> {
    json(dir, &["problems"])
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn kind_of(problems: &[serde_json::Value], path: &str) -> Vec<String> {
    problems
        .iter()
        .filter(|p| p["path"] == path)
        .map(|p| p["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

fn alias_bomb() -> String {
    let mut s = String::from(
        "---\na0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(",");
        s.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    s.push_str("title: bomb\n---\nbody\n");
    s
}

#[test]
fn hostile_files_become_problems_and_good_files_are_still_indexed() {
    let deep = format!(
        "---\ntitle: deep\nx: {}{}\n---\nbody\n",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    let huge_line = format!("---\ntitle: huge\n---\n<p>{}</p>\n", "长".repeat(3_000_000));
    let mut binary = b"\x7fELF\x02\x01\x01\0\0\0\0".to_vec();
    binary.extend((0..4096u32).map(|i| (i * 7 % 256) as u8));
    let gb = encoding_rs::GB18030
        .encode(&post(
            "国标编码",
            "2021-01-01",
            "编码",
            "<p>简体中文内容</p>",
        ))
        .0
        .into_owned();
    let big5 = encoding_rs::BIG5
        .encode(&post(
            "繁體編碼",
            "2021-01-01",
            "編碼",
            "<p>繁體中文內容，兩岸</p>",
        ))
        .0
        .into_owned();
    let mut utf16 = vec![0xFF, 0xFE];
    for u in post("十六位", "2021-01-01", "编码", "<p>UTF-16 内容</p>").encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let mut bom_crlf = b"\xEF\xBB\xBF".to_vec();
    bom_crlf.extend(
        post("带BOM", "2021-01-01", "编码", "<p>BOM CRLF 内容</p>")
            .replace('\n', "\r\n")
            .as_bytes(),
    );

    let f = Fixture::new(&[
        (
            "good.md",
            post("好文章", "2021-01-01T00:00:00Z", "好", "<p>正常内容</p>").as_bytes(),
        ),
        (
            "unclosed.md",
            b"---\ntitle: never closed\ndate: 2021-01-01\n\nbody text here\n",
        ),
        ("broken.md", b"---\ntitle: [unclosed\ntags: {\n---\nbody\n"),
        ("list.md", b"---\n- a\n- b\n---\nbody\n"),
        ("bomb.md", alias_bomb().as_bytes()),
        ("deep.md", deep.as_bytes()),
        ("binary.md", &binary),
        ("huge-line.md", huge_line.as_bytes()),
        (
            "baddate.md",
            post("坏日期", "2021-13-45", "好", "<p>内容</p>").as_bytes(),
        ),
        ("gb18030.md", &gb),
        ("big5.md", &big5),
        ("utf16.md", &utf16),
        ("bom-crlf.md", &bom_crlf),
        ("no-front-matter.md", b"# A heading title\n\nJust text.\n"),
        ("empty.md", b""),
    ]);
    // File names that are not UTF-8, or contain a newline.
    let raw_name = std::ffi::OsStr::from_bytes(b"bad-\xff\xfe-name.md");
    std::fs::write(
        f.path().join(raw_name),
        post("非UTF8文件名", "2021-01-01", "名", "<p>名字</p>"),
    )
    .unwrap();
    std::fs::write(
        f.path().join("new\nline.md"),
        post("换行文件名", "2021-01-01", "名", "<p>名字</p>"),
    )
    .unwrap();
    // Symlinks: a loop, a broken one, one out of the archive, one inside it.
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("secret.md"),
        post("外部", "2021-01-01", "外", "<p>外部秘密</p>"),
    )
    .unwrap();
    std::os::unix::fs::symlink("loop-b.md", f.path().join("loop-a.md")).unwrap();
    std::os::unix::fs::symlink("loop-a.md", f.path().join("loop-b.md")).unwrap();
    std::os::unix::fs::symlink("missing.md", f.path().join("dangling.md")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.md"), f.path().join("escape.md"))
        .unwrap();
    std::os::unix::fs::symlink(outside.path(), f.path().join("escape-dir")).unwrap();
    std::os::unix::fs::symlink(f.path(), f.path().join("self-dir")).unwrap();

    let before = tree_bytes(f.path(), true);
    let started = std::time::Instant::now();
    let summary = index(f.path());
    assert!(
        started.elapsed().as_secs() < 60,
        "hostile files must not hang the scan"
    );
    assert_eq!(
        tree_bytes(f.path(), true),
        before,
        "scanning must never write to the archive"
    );

    let ps = problems(f.path());
    assert_eq!(kind_of(&ps, "unclosed.md"), ["unclosed-front-matter"]);
    assert_eq!(kind_of(&ps, "broken.md"), ["malformed-front-matter"]);
    assert_eq!(kind_of(&ps, "list.md"), ["not-a-mapping"]);
    assert_eq!(kind_of(&ps, "bomb.md"), ["front-matter-too-complex"]);
    assert_eq!(kind_of(&ps, "deep.md"), ["front-matter-too-complex"]);
    assert_eq!(kind_of(&ps, "binary.md"), ["binary"]);
    assert_eq!(kind_of(&ps, "baddate.md"), ["bad-field"]);
    assert_eq!(kind_of(&ps, "gb18030.md"), ["encoding"]);
    assert_eq!(kind_of(&ps, "big5.md"), ["encoding"]);
    assert_eq!(kind_of(&ps, "utf16.md"), ["encoding"]);
    assert_eq!(kind_of(&ps, "loop-a.md"), ["symlink-loop"]);
    assert_eq!(kind_of(&ps, "dangling.md"), ["broken-symlink"]);
    assert_eq!(kind_of(&ps, "escape.md"), ["outside-archive"]);
    assert_eq!(kind_of(&ps, "escape-dir"), ["outside-archive"]);
    assert!(kind_of(&ps, "bom-crlf.md").is_empty());
    assert!(kind_of(&ps, "good.md").is_empty());
    for p in &ps {
        assert!(
            !p["message"].as_str().unwrap_or("").is_empty(),
            "every problem says why: {p}"
        );
    }
    assert_eq!(summary["problems"].as_u64().unwrap() as usize, ps.len());

    // Files with problems that are still posts are indexed and searchable.
    assert_eq!(search_paths(f.path(), "正常内容"), ["good.md"]);
    assert_eq!(search_paths(f.path(), "简体中文内容"), ["gb18030.md"]);
    assert_eq!(
        search_paths(f.path(), "两岸"),
        ["big5.md"],
        "Big5 text is decoded and folded"
    );
    assert_eq!(search_paths(f.path(), "内容").len(), 6);
    assert_eq!(
        json(f.path(), &["show", "gb18030.md"])["encoding"],
        "gb18030"
    );
    assert_eq!(json(f.path(), &["show", "big5.md"])["encoding"], "big5");
    assert_eq!(
        json(f.path(), &["show", "utf16.md"])["encoding"],
        "utf-16le"
    );
    assert_eq!(json(f.path(), &["show", "bom-crlf.md"])["title"], "带BOM");
    assert_eq!(
        json(f.path(), &["show", "no-front-matter.md"])["title"],
        "A heading title"
    );
    assert_eq!(
        json(f.path(), &["show", "baddate.md"])["date"],
        serde_json::Value::Null
    );
    assert_eq!(json(f.path(), &["show", "huge-line.md"])["title"], "huge");
    assert!(
        search_paths(f.path(), "外部秘密").is_empty(),
        "links out of the archive are not followed"
    );

    // The non-UTF-8 name is indexed, reported losslessly, and can be opened by its bytes.
    let hit = json(f.path(), &["search", "非UTF8文件名"]);
    let hex = hit["hits"][0]["path_bytes_hex"]
        .as_str()
        .expect("path_bytes_hex for a non-UTF-8 name");
    assert_eq!(hex, "6261642dfffe2d6e616d652e6d64");
    assert_eq!(hit["hits"][0]["path"], "bad-\u{FFFD}\u{FFFD}-name.md");
    assert_eq!(
        json(f.path(), &["show", &format!("hex:{hex}")])["title"],
        "非UTF8文件名"
    );
    assert_eq!(search_paths(f.path(), "换行文件名"), ["new\nline.md"]);
}

#[test]
fn the_size_limit_is_configurable_and_reported() {
    let f = Fixture::new(&[(
        "big.md",
        post("大", "2021-01-01", "x", &"字".repeat(10_000)).as_bytes(),
    )]);
    let out = run(&[
        "index",
        f.path().to_str().unwrap(),
        "--max-bytes",
        "1000",
        "--json",
    ]);
    assert!(out.status.success());
    let ps = problems(f.path());
    assert_eq!(kind_of(&ps, "big.md"), ["too-large"]);
    assert!(ps[0]["message"].as_str().unwrap().contains("1000"));
    let out = run(&["index", f.path().to_str().unwrap(), "--json"]);
    assert!(out.status.success());
    assert!(
        problems(f.path()).is_empty(),
        "raising the limit indexes the file and clears the problem"
    );
    assert_eq!(search_paths(f.path(), "大"), ["big.md"]);
}
