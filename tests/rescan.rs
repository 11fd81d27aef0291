//! Rescanning: only changed files are read again, deleted files leave the index, and a moved
//! file keeps its identity.

mod common;
use common::*;

fn id_of(dir: &std::path::Path, path: &str) -> i64 {
    json(dir, &["show", path])["id"].as_i64().expect("post id")
}

#[test]
fn a_rescan_with_no_changes_reads_nothing() {
    let f = news_archive();
    index(f.path());
    let s = index(f.path());
    assert_eq!(
        (s["indexed"].as_u64(), s["unchanged"].as_u64()),
        (Some(0), Some(6))
    );
}

#[test]
fn edited_deleted_added_and_moved_files_are_picked_up() {
    let f = news_archive();
    index(f.path());
    let moved_id = id_of(f.path(), "_posts/2021-03-05-vaccine.md");
    let edited_id = id_of(f.path(), "_posts/2020-05-05-中.md");

    f.write(
        "_posts/2020-05-05-中.md",
        post("中", "2020-05-05", "路透", "<p>全新的内容：气候变化。</p>").as_bytes(),
    );
    std::fs::remove_file(f.file("_posts/2021-02-01-兩岸.md")).unwrap();
    f.write(
        "_posts/2023-01-01-new.md",
        post("新文章", "2023-01-01", "新", "<p>新加入。</p>").as_bytes(),
    );
    std::fs::create_dir_all(f.file("moved")).unwrap();
    std::fs::rename(
        f.file("_posts/2021-03-05-vaccine.md"),
        f.file("moved/vaccine.md"),
    )
    .unwrap();

    let s = index(f.path());
    assert_eq!(s["indexed"], 2, "{s}");
    assert_eq!(s["removed"], 1, "{s}");
    assert_eq!(s["renamed"], 1, "{s}");
    assert_eq!(s["unchanged"], 3, "{s}");

    assert_eq!(
        id_of(f.path(), "moved/vaccine.md"),
        moved_id,
        "a moved file keeps its identity"
    );
    assert_eq!(
        id_of(f.path(), "_posts/2020-05-05-中.md"),
        edited_id,
        "an edited file keeps its identity"
    );
    assert_eq!(
        search_paths(f.path(), "气候变化"),
        ["_posts/2020-05-05-中.md"]
    );
    assert!(
        search_paths(f.path(), "经济").is_empty(),
        "old text of an edited file is gone"
    );
    assert!(search_paths(f.path(), "兩岸交流").is_empty());
    assert_eq!(search_paths(f.path(), "vaccine"), ["moved/vaccine.md"]);
    assert_eq!(
        search_paths(f.path(), "新加入"),
        ["_posts/2023-01-01-new.md"]
    );
    assert_eq!(json(f.path(), &["stats"])["posts"], 6);
}

#[test]
fn a_vanished_file_that_reappears_twice_is_one_move_and_one_new_post() {
    let f = news_archive();
    index(f.path());
    let id = id_of(f.path(), "_posts/2021-03-05-vaccine.md");
    let bytes = std::fs::read(f.file("_posts/2021-03-05-vaccine.md")).unwrap();
    std::fs::remove_file(f.file("_posts/2021-03-05-vaccine.md")).unwrap();
    f.write("a/vaccine.md", &bytes);
    f.write("b/vaccine.md", &bytes);

    let s = index(f.path());
    assert_eq!(
        (s["renamed"].as_u64(), s["indexed"].as_u64()),
        (Some(1), Some(1)),
        "{s}"
    );
    assert_eq!(s["removed"], 0, "{s}");
    // One copy took the post's identity; the other was indexed afresh.
    let ids = [
        id_of(f.path(), "a/vaccine.md"),
        id_of(f.path(), "b/vaccine.md"),
    ];
    assert_eq!(ids.iter().filter(|&&i| i == id).count(), 1, "{ids:?}");
    assert_eq!(
        search_paths(f.path(), "vaccine"),
        ["a/vaccine.md", "b/vaccine.md"]
    );
    assert_eq!(json(f.path(), &["stats"])["posts"], 7);
}

#[test]
fn a_file_that_becomes_unreadable_as_a_post_leaves_the_index_with_a_problem() {
    let f = news_archive();
    index(f.path());
    f.write("_posts/2020-05-05-中.md", b"\0\0\0\x01binary now\0");
    index(f.path());
    assert!(search_paths(f.path(), "经济").is_empty());
    let ps = json(f.path(), &["problems"]);
    assert_eq!(ps[0]["kind"], "binary");
    f.write(
        "_posts/2020-05-05-中.md",
        post("中", "2020-05-05", "路透", "<p>中国经济复苏。</p>").as_bytes(),
    );
    index(f.path());
    assert_eq!(
        json(f.path(), &["problems"]).as_array().unwrap().len(),
        0,
        "fixing the file clears its problem"
    );
    assert_eq!(search_paths(f.path(), "经济"), ["_posts/2020-05-05-中.md"]);
}

#[test]
fn many_small_rescans_keep_the_index_compact_and_correct() {
    let f = news_archive();
    index(f.path());
    let words = [
        "甲乙", "丙丁", "戊己", "庚辛", "壬癸", "子丑", "寅卯", "辰巳", "午未", "申酉", "戌亥",
        "东西",
    ];
    for (i, w) in words.iter().enumerate() {
        f.write(
            &format!("inc/{i}.md"),
            post(
                &format!("第{i}篇"),
                "2024-01-01",
                "增量",
                &format!("<p>{w}</p>"),
            )
            .as_bytes(),
        );
        // The same file is rewritten every time: only its latest text may be found.
        f.write(
            "inc/changing.md",
            post("变化", "2024-01-02", "增量", &format!("<p>版本{w}</p>")).as_bytes(),
        );
        index(f.path());
    }
    let stats = json(f.path(), &["stats"]);
    assert!(
        stats["segments"].as_u64().unwrap() <= 8,
        "segments are merged: {stats}"
    );
    for (i, w) in words.iter().enumerate() {
        let mut expected = vec![format!("inc/{i}.md")];
        if i == words.len() - 1 {
            expected.push("inc/changing.md".to_string());
        }
        expected.sort();
        assert_eq!(search_paths(f.path(), w), expected, "query {w}");
    }
    assert_eq!(search_paths(f.path(), "版本"), ["inc/changing.md"]);
    assert_eq!(
        json(f.path(), &["stats"])["posts"],
        6 + words.len() as u64 + 1
    );
}

#[test]
fn a_rescan_that_finds_no_change_writes_nothing() {
    let f = news_archive();
    // A walk-level problem is re-found on every scan; it must not count as a change.
    std::os::unix::fs::symlink("missing.md", f.file("dangling.md")).unwrap();
    index(f.path());
    let generation = || -> String {
        let db = rusqlite::Connection::open(f.file(".shelfmark/index.sqlite")).unwrap();
        db.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
            r.get(0)
        })
        .unwrap()
    };
    let before = generation();
    let bytes = read(&f.file(".shelfmark/index.sqlite"));
    index(f.path());
    index(f.path());
    assert_eq!(
        generation(),
        before,
        "readers keep their snapshot when nothing changed"
    );
    // Not a byte of the index either (opening it for writing used to write its header).
    assert!(
        read(&f.file(".shelfmark/index.sqlite")) == bytes,
        "the index file changed"
    );
    f.write(
        "_posts/2023-05-05-x.md",
        post("新", "2023-05-05", "x", "<p>新</p>").as_bytes(),
    );
    index(f.path());
    assert_ne!(generation(), before);
}

/// Every byte of the index past its first page overwritten, as a bad disk or a crash in the
/// middle of a copy can leave it: SQLite reads the header, then finds nothing that holds together.
fn damage_index(dir: &std::path::Path) {
    let index = dir.join(".shelfmark/index.sqlite");
    let mut bytes = std::fs::read(&index).unwrap();
    assert!(bytes.len() > 8192, "a real index");
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i * 31 % 251) as u8;
    }
    std::fs::write(&index, bytes).unwrap();
}

#[test]
fn a_damaged_index_is_set_aside_and_built_again_from_the_files() {
    let f = news_archive();
    index(f.path());
    let before = search_paths(f.path(), "两岸");
    assert!(!before.is_empty());
    let sound = std::fs::read(f.file(".shelfmark/index.sqlite")).unwrap();
    damage_index(f.path());
    // Reading it says what is wrong and what to do.
    let err = fails(f.path(), &["search", "两岸"]);
    assert!(err.contains("is damaged"), "{err}");
    assert!(err.contains("shelfmark index"), "{err}");

    let out = ok(f.path(), &["index"]);
    assert!(out.contains("the index was damaged"), "{out}");
    assert!(out.contains("index.sqlite.damaged"), "{out}");
    let aside = read(&f.file(".shelfmark/index.sqlite.damaged"));
    assert_ne!(aside, sound, "the damaged bytes are what was set aside");
    assert_eq!(aside.len(), sound.len());
    assert_eq!(search_paths(f.path(), "两岸"), before);
    let s = index(f.path());
    assert_eq!(
        (s["indexed"].as_u64(), s["unchanged"].as_u64()),
        (Some(0), Some(6))
    );
    assert!(s["damaged_index"].is_null());

    // `--rebuild` too, and the file that is not a database at all.
    std::fs::write(
        f.file(".shelfmark/index.sqlite"),
        b"not a database, not even close",
    )
    .unwrap();
    let out = ok(f.path(), &["index", "--rebuild"]);
    assert!(out.contains("the index was damaged"), "{out}");
    assert_eq!(search_paths(f.path(), "两岸"), before);
}
