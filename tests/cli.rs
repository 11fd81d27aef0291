//! The `shelfmark` command line on small fixture archives: indexing, search (Chinese of every
//! length, Traditional/Simplified, full-width, mixed scripts), show, facets, stats, exit codes.

mod common;
use common::*;

#[test]
fn index_prints_a_json_summary_and_creates_the_index_in_the_archive() {
    let f = news_archive();
    let s = index(f.path());
    assert_eq!(s["indexed"], 6);
    assert_eq!(s["unchanged"], 0);
    assert_eq!(s["removed"], 0);
    assert_eq!(s["renamed"], 0);
    assert_eq!(s["problems"], 0);
    assert!(s["seconds"].as_f64().is_some());
    assert!(f.file(".shelfmark/index.sqlite").exists());
}

#[test]
fn chinese_queries_of_one_two_and_three_characters_find_exactly_the_posts_containing_them() {
    let f = news_archive();
    index(f.path());
    // One character: in titles and bodies, Traditional and Simplified alike.
    assert_eq!(
        search_paths(f.path(), "岸"),
        vec!["_posts/2021-01-11-两岸关系.md", "_posts/2021-02-01-兩岸.md"]
    );
    // Two characters, typed in Traditional, find Simplified too.
    assert_eq!(
        search_paths(f.path(), "兩岸"),
        search_paths(f.path(), "两岸")
    );
    assert_eq!(search_paths(f.path(), "两岸").len(), 2);
    // Three characters: must be contiguous.
    assert_eq!(
        search_paths(f.path(), "两岸关"),
        vec!["_posts/2021-01-11-两岸关系.md"]
    );
    assert!(search_paths(f.path(), "岸两").is_empty());
    // A single character that is a whole title.
    assert_eq!(
        search_paths(f.path(), "经济"),
        vec!["_posts/2020-05-05-中.md"]
    );
}

#[test]
fn key_value_queries_match_keys_without_case_and_the_own_fields_by_their_columns() {
    let f = Fixture::new(&[
        (
            "a.md",
            "---\ntitle: 甲\nSource_Name: 联合早报\ntags: [乙]\nnote: [x, 丙]\n---\n正文\n"
                .as_bytes(),
        ),
        ("b.md", b"---\ntitle: b\nsource_name: other\n---\nbody\n"),
    ]);
    index(f.path());
    assert_eq!(search_paths(f.path(), "source_name:联合早报"), ["a.md"]);
    assert_eq!(search_paths(f.path(), "SOURCE_NAME:聯合早報"), ["a.md"]);
    assert_eq!(search_paths(f.path(), "source_name:other"), ["b.md"]);
    // Each item of a list is a value.
    assert_eq!(search_paths(f.path(), "note:丙"), ["a.md"]);
    assert_eq!(search_paths(f.path(), "note:x"), ["a.md"]);
    // Keys with a query field of their own are read from their columns.
    assert_eq!(search_paths(f.path(), "tag:乙"), ["a.md"]);
    assert_eq!(search_paths(f.path(), "title:甲"), ["a.md"]);
}

#[test]
fn script_contents_are_not_searchable() {
    let f = news_archive();
    index(f.path());
    assert!(!search_paths(f.path(), "隐藏")
        .contains(&"archived/2021-06-01/2021-06-01-疫苗.md".to_string()));
}

#[test]
fn full_width_and_case_fold_and_latin_matches_whole_words() {
    let f = news_archive();
    index(f.path());
    assert_eq!(
        search_paths(f.path(), "abc"),
        vec!["archived/2021-06-01/2021-06-01-疫苗.md"]
    );
    assert_eq!(
        search_paths(f.path(), "VACCINE"),
        vec!["_posts/2021-03-05-vaccine.md"]
    );
    assert_eq!(search_paths(f.path(), "vacc"), Vec::<String>::new());
    assert_eq!(
        search_paths(f.path(), "iphone手机"),
        vec!["archived/2022-01-01/2022-01-01-iphone.md"]
    );
    assert_eq!(
        search_paths(f.path(), "\"rollout begins\""),
        vec!["_posts/2021-03-05-vaccine.md"]
    );
}

#[test]
fn field_filters_exclusion_and_or() {
    let f = news_archive();
    index(f.path());
    assert_eq!(search_paths(f.path(), "tag:联合早报").len(), 2);
    assert_eq!(
        search_paths(f.path(), "tag:联合早报 -疫苗"),
        vec!["_posts/2021-01-11-两岸关系.md"]
    );
    assert_eq!(search_paths(f.path(), "疫苗 OR vaccine").len(), 2);
    assert_eq!(search_paths(f.path(), "date:2021-01..2021-02").len(), 2);
    assert_eq!(
        search_paths(f.path(), "date:>2021-06-01"),
        vec!["archived/2022-01-01/2022-01-01-iphone.md"]
    );
    assert_eq!(search_paths(f.path(), "site:example.com").len(), 6);
    assert_eq!(
        search_paths(f.path(), "author:bbc"),
        vec!["_posts/2021-03-05-vaccine.md"]
    );
    assert_eq!(search_paths(f.path(), "layout:post").len(), 6);
    assert_eq!(search_paths(f.path(), "LAYOUT:post").len(), 6);
    assert_eq!(
        search_paths(f.path(), "title:疫苗"),
        vec!["archived/2021-06-01/2021-06-01-疫苗.md"]
    );
    assert_eq!(search_paths(f.path(), "path:archived").len(), 2);
    assert!(search_paths(f.path(), "has:problem").is_empty());
}

#[test]
fn empty_query_lists_every_post_and_sorting_works() {
    let f = news_archive();
    index(f.path());
    let v = json(f.path(), &["search", "--sort", "-date", ""]);
    assert_eq!(v["total"], 6);
    let dates: Vec<&str> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["date"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);
    assert_eq!(
        dates[0], "2022-01-01T01:30:00Z",
        "Jekyll dates with +0800 are stored in UTC"
    );
    let page = json(
        f.path(),
        &[
            "search", "--sort", "date", "--limit", "2", "--offset", "1", "",
        ],
    );
    assert_eq!(page["hits"].as_array().unwrap().len(), 2);
    assert_eq!(page["hits"][0]["date"], "2021-01-11T11:55:14Z");
}

#[test]
fn search_hits_carry_the_documented_fields_and_a_highlighted_snippet() {
    let f = news_archive();
    index(f.path());
    let v = json(f.path(), &["search", "两岸关系"]);
    let hit = &v["hits"][0];
    for key in [
        "path",
        "title",
        "date",
        "author",
        "source",
        "tags",
        "categories",
        "snippet",
    ] {
        assert!(hit.get(key).is_some(), "hit lacks {key}: {hit}");
    }
    assert_eq!(hit["tags"], serde_json::json!(["联合早报"]));
    let snippet: Vec<char> = hit["snippet"].as_str().unwrap().chars().collect();
    let [a, b] = [
        hit["snippet_highlights"][0][0].as_u64().unwrap(),
        hit["snippet_highlights"][0][1].as_u64().unwrap(),
    ];
    assert_eq!(
        snippet[a as usize..b as usize].iter().collect::<String>(),
        "两岸关系"
    );
}

#[test]
fn relevance_ranks_title_matches_above_body_matches() {
    let f = Fixture::new(&[
        (
            "a.md",
            post("经济新闻", "2021-01-01", "x", "<p>今天没有别的。</p>").as_bytes(),
        ),
        (
            "b.md",
            post("别的新闻", "2021-01-02", "x", "<p>这篇文章谈到经济。</p>").as_bytes(),
        ),
    ]);
    index(f.path());
    let v = json(f.path(), &["search", "经济"]);
    assert_eq!(v["hits"][0]["path"], "a.md");
}

#[test]
fn show_returns_fields_text_and_encoding() {
    let f = news_archive();
    index(f.path());
    let v = json(f.path(), &["show", "_posts/2021-01-11-两岸关系.md"]);
    assert_eq!(v["title"], "两岸关系新论述");
    assert_eq!(v["date"], "2021-01-11T11:55:14Z");
    assert_eq!(v["author"], "联合早报");
    assert_eq!(v["source"], "https://news.example.com/a/21");
    assert_eq!(v["fields"]["layout"], "post");
    assert_eq!(v["encoding"], "utf-8");
    assert!(v["text"]
        .as_str()
        .unwrap()
        .contains("专家认为两岸关系将继续紧张"));
    assert!(v["problems"].as_array().unwrap().is_empty());
}

#[test]
fn facets_and_stats_count_the_archive() {
    let f = news_archive();
    index(f.path());
    let v = json(f.path(), &["facets", ""]);
    assert_eq!(v["total"], 6);
    let tags = v["facets"]["tags"].as_array().unwrap();
    assert_eq!(
        tags[0],
        serde_json::json!({"value": "联合早报", "count": 2})
    );
    assert!(v["facets"]["years"]
        .as_array()
        .unwrap()
        .iter()
        .any(|y| y["value"] == "2021" && y["count"] == 4));
    let q = json(f.path(), &["facets", "疫苗"]);
    assert_eq!(q["total"], 1);
    let s = json(f.path(), &["stats"]);
    assert_eq!(s["posts"], 6);
    assert_eq!(s["problems"], 0);
}

#[test]
fn errors_exit_1_with_one_line_and_bad_usage_exits_2() {
    let missing = run(&["-C", "/nonexistent/shelfmark-archive", "search", "x"]);
    assert_eq!(missing.status.code(), Some(1));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/shelfmark-archive"), "{err}");

    let f = news_archive();
    let not_indexed = run(&["-C", f.path().to_str().unwrap(), "search", "x"]);
    assert_eq!(not_indexed.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&not_indexed.stderr).contains("shelfmark index"));

    assert_eq!(run(&["search"]).status.code(), Some(2));
    assert_eq!(run(&["frobnicate"]).status.code(), Some(2));
    index(f.path());
    let bad = run(&["-C", f.path().to_str().unwrap(), "search", "date:2021-13"]);
    assert_eq!(bad.status.code(), Some(1));
}

#[test]
fn an_index_from_a_newer_shelfmark_is_refused_with_a_clear_message() {
    let f = news_archive();
    index(f.path());
    let db = rusqlite::Connection::open(f.file(".shelfmark/index.sqlite")).unwrap();
    db.pragma_update(None, "user_version", 999).unwrap();
    drop(db);
    let out = run(&["-C", f.path().to_str().unwrap(), "search", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("newer Shelfmark"));
    let out = run(&["index", f.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn an_index_of_an_older_schema_is_rebuilt_into_a_file_without_its_old_pages() {
    let f = news_archive();
    index(f.path());
    let file = f.file(".shelfmark/index.sqlite");
    let fresh = std::fs::metadata(&file).unwrap().len();
    let db = rusqlite::Connection::open(&file).unwrap();
    // 8 MB of an older index's tables, then the version of an older Shelfmark.
    db.execute_batch(
        "CREATE TABLE old_stuff(b BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
         INSERT INTO old_stuff SELECT randomblob(4096) FROM n;
         PRAGMA wal_checkpoint(TRUNCATE);",
    )
    .unwrap();
    let version = shelfmark_core::store::SCHEMA_KEPT_FROM - 1;
    db.pragma_update(None, "user_version", version).unwrap();
    drop(db);
    assert!(std::fs::metadata(&file).unwrap().len() > fresh + 8_000_000);
    assert_eq!(index(f.path())["indexed"], 6);
    assert_eq!(search_paths(f.path(), "两岸").len(), 2);
    let db = rusqlite::Connection::open(&file).unwrap();
    db.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
        .unwrap();
    let free: i64 = db
        .query_row("PRAGMA freelist_count", [], |r| r.get(0))
        .unwrap();
    assert_eq!(free, 0);
    let after = std::fs::metadata(&file).unwrap().len();
    assert!(after < fresh + 1_000_000, "{after} bytes, {fresh} fresh");
}

#[test]
fn an_index_of_a_schema_upgraded_in_place_is_read_as_it_is_and_not_indexed_again() {
    let f = news_archive();
    index(f.path());
    let file = f.file(".shelfmark/index.sqlite");
    let db = rusqlite::Connection::open(&file).unwrap();
    // What version 12 lacked, and how it kept its texts: one to a row of `post_text`.
    let texts = stored_texts(&db);
    assert_eq!(texts.len(), 6);
    db.execute_batch(
        "DROP TABLE text_dicts; DROP TABLE post_texts;
         CREATE TABLE post_text(docid INTEGER PRIMARY KEY, folded TEXT NOT NULL);",
    )
    .unwrap();
    for (docid, text) in &texts {
        db.execute(
            "INSERT INTO post_text(docid, folded) VALUES (?1, ?2)",
            rusqlite::params![docid, text],
        )
        .unwrap();
    }
    let kept = shelfmark_core::store::SCHEMA_KEPT_FROM;
    assert!(kept < shelfmark_core::store::SCHEMA_VERSION);
    db.pragma_update(None, "user_version", kept).unwrap();
    drop(db);
    // A reader takes it as it is, stored texts included (a phrase of three words is verified
    // in them); the writer upgrades it without reading a file again.
    const PHRASE: &str = "\"vaccine rollout began\"";
    assert_eq!(search_paths(f.path(), "两岸").len(), 2);
    assert_eq!(search_paths(f.path(), PHRASE).len(), 1);
    let summary = index(f.path());
    assert_eq!(
        (summary["indexed"].as_u64(), summary["unchanged"].as_u64()),
        (Some(0), Some(6))
    );
    assert_eq!(search_paths(f.path(), "两岸").len(), 2);
    assert_eq!(search_paths(f.path(), PHRASE).len(), 1);
    let db = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, shelfmark_core::store::SCHEMA_VERSION);
    db.query_row("SELECT count(*) FROM text_dicts", [], |r| {
        r.get::<_, i64>(0)
    })
    .unwrap();
    assert_eq!(stored_texts(&db), texts);
    let old: i64 = db
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'post_text'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(old, 0);
}

#[test]
fn render_body_serves_only_indexed_posts() {
    let f = news_archive();
    index(f.path());
    let archive = shelfmark_core::api::Archive::open(f.path()).unwrap();
    let r = archive
        .render_body("archived/2021-06-01/2021-06-01-疫苗.md", None, false)
        .unwrap();
    assert!(r.html.contains("疫苗接种率达到七成"));
    assert!(!r.html.contains("<script"));
    for bad in [
        "../etc/passwd",
        "/etc/passwd",
        ".shelfmark/index.sqlite",
        "nope.md",
    ] {
        assert_eq!(
            archive.render_body(bad, None, false).unwrap_err().code,
            "not-found",
            "{bad}"
        );
    }
}

/// Every file under `.shelfmark/` but the index, with its bytes.
fn dotdir_except_index(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join(".shelfmark")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else if !e.file_name().to_string_lossy().starts_with("index.sqlite") {
                out.push((p.display().to_string(), read(&p)));
            }
        }
    }
    out.sort();
    out
}

const MAINTENANCE_QUERIES: [&str; 6] = ["岸", "两岸", "兩岸关", "疫苗", "vaccine", "修改后的段落"];

fn answers(dir: &std::path::Path) -> Vec<Vec<String>> {
    MAINTENANCE_QUERIES
        .iter()
        .map(|q| search_paths(dir, q))
        .collect()
}

/// An indexed news archive with a collection, a "not duplicates" decision, settings and a
/// journal, and a post edited (its old postings are stale): two segments.
fn archive_with_history() -> Fixture {
    let f = news_archive();
    let dir = f.path();
    index(dir);
    ok(dir, &["collection", "create", "Cross", "--query", "两岸"]);
    let both = search_paths(dir, "岸");
    ok(dir, &["duplicates", "--not-duplicates", &both[0], &both[1]]);
    ok(dir, &["history", "--keep", "7"]);
    // Signatures cached for duplicates: the edits below leave rows of old file versions.
    ok(dir, &["duplicates"]);
    ok(dir, &["tag", "add", "edited", "--query", "疫苗"]);
    let post = f.file("_posts/2021-03-05-vaccine.md");
    let mut text = read(&post);
    text.extend_from_slice("\n修改后的段落\n".as_bytes());
    std::fs::write(&post, text).unwrap();
    index(dir);
    f
}

#[test]
fn index_compact_merges_the_segments_drops_stale_postings_and_keeps_the_answers() {
    let f = archive_with_history();
    let dir = f.path();
    let stats = json(dir, &["stats"]);
    assert!(stats["segments"].as_u64().unwrap() > 1, "{stats}");
    let before = answers(dir);
    assert_eq!(before[5], vec!["_posts/2021-03-05-vaccine.md"]);
    let kept = dotdir_except_index(dir);

    let c = json(dir, &["index", "--compact"]);
    assert_eq!(c["after"]["segments"], 1, "{c}");
    assert_eq!(c["before"]["segments"], stats["segments"], "{c}");
    assert!(
        c["postings_after"].as_u64() < c["postings_before"].as_u64(),
        "{c}"
    );
    assert!(c["after"]["bytes"].as_u64().unwrap() > 0, "{c}");
    assert!(c["scan"].is_null(), "{c}");
    assert!(
        c["dead_rows"].as_u64().unwrap() > 0,
        "signatures of old versions: {c}"
    );
    assert_eq!(answers(dir), before);
    assert_eq!(dotdir_except_index(dir), kept);
    // Human output names the sizes.
    let human = ok(dir, &["index", "--compact"]);
    assert!(human.contains("1 -> 1 segments"), "{human}");
}

#[test]
fn index_rebuild_indexes_every_file_again_and_leaves_the_rest_of_the_dotdir_byte_identical() {
    let f = archive_with_history();
    let dir = f.path();
    let before = answers(dir);
    let kept = dotdir_except_index(dir);
    assert!(
        kept.iter().any(|(p, _)| p.contains("collections"))
            && kept.iter().any(|(p, _)| p.ends_with("decisions.json"))
            && kept.iter().any(|(p, _)| p.ends_with("settings.json"))
            && kept.iter().any(|(p, _)| p.contains("journal")),
        "{:?}",
        kept.iter().map(|k| &k.0).collect::<Vec<_>>()
    );
    let r = json(dir, &["index", "--rebuild"]);
    assert_eq!(r["scan"]["indexed"], 6, "{r}");
    assert_eq!(r["after"]["segments"], 1, "{r}");
    assert_eq!(answers(dir), before);
    assert_eq!(dotdir_except_index(dir), kept);
    // The collection still finds its posts.
    let c = json(dir, &["collection", "show", "Cross"]);
    assert_eq!(c["paths"].as_array().map(|p| p.len()), Some(2), "{c}");
}

#[test]
fn index_compact_and_rebuild_are_exclusive_and_compact_needs_an_index() {
    let f = news_archive();
    let out = sm(f.path(), &["index", "--compact", "--rebuild"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let e = fails(f.path(), &["index", "--compact"]);
    assert!(e.contains("index"), "{e}");
    // A rebuild without an index is a first build.
    let r = json(f.path(), &["index", "--rebuild"]);
    assert_eq!(r["scan"]["indexed"], 6, "{r}");
}

/// Run `shelfmark -C DIR ARGS` until it reaches crash point `at`, then SIGKILL it.
fn kill_index_at(dir: &std::path::Path, args: &[&str], at: &str) {
    use std::io::BufRead;
    let mut child = shelfmark()
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("SHELFMARK_INDEX_CRASH_AT", at)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn shelfmark");
    let stderr = child.stderr.take().expect("stderr");
    let want = format!("shelfmark: crash point {at}");
    let reached = std::io::BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .any(|line| line == want);
    assert!(reached, "{args:?} ended without reaching {at}");
    child.kill().expect("SIGKILL");
    assert!(!child.wait().expect("wait").success());
}

#[test]
fn a_compaction_or_rebuild_killed_before_it_commits_leaves_the_old_index_working() {
    let f = archive_with_history();
    let dir = f.path();
    let before = answers(dir);
    let segments = json(dir, &["stats"])["segments"].clone();
    for (args, at) in [
        (&["index", "--compact"][..], "compact:before-commit"),
        (&["index", "--rebuild"][..], "rebuild:before-commit"),
    ] {
        kill_index_at(dir, args, at);
        assert_eq!(answers(dir), before, "after a kill at {at}");
        assert_eq!(
            json(dir, &["stats"])["segments"],
            segments,
            "after a kill at {at}"
        );
    }
    // And a compaction afterwards completes.
    let c = json(dir, &["index", "--compact"]);
    assert_eq!(c["after"]["segments"], 1, "{c}");
    assert_eq!(answers(dir), before);
}

/// A body of `words` words drawn from a vocabulary by `seed` (each seed its own article).
fn drawn_body(seed: u64, words: usize) -> String {
    const VOCAB: &[&str] = &[
        "国家", "经济", "发展", "会议", "时间", "问题", "关系", "银行", "价格", "学校", "报道",
        "记者", "开放", "产业", "城市", "农村", "医院", "政府", "选举", "法院", "市场", "投资",
        "贸易", "能源", "天气", "地震", "铁路", "大学", "历史", "文化", "体育", "外交", "council",
        "budget", "river", "harbour", "school", "minister", "report", "weather",
    ];
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..words)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            VOCAB[(x >> 33) as usize % VOCAB.len()]
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The stored texts by document id, read from the rows that hold them many to a row
/// (`store::texts`: the first id; a count, then an id less the first and a length per text, then
/// the texts).
fn stored_texts(db: &rusqlite::Connection) -> Vec<(u32, Vec<u8>)> {
    let mut stmt = db.prepare("SELECT first, data FROM post_texts").unwrap();
    let rows: Vec<(u32, Vec<u8>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    let u32_at = |d: &[u8], at: usize| u32::from_le_bytes(d[at..at + 4].try_into().unwrap());
    let mut texts = Vec::new();
    for (first, d) in rows {
        let n = u32_at(&d, 0) as usize;
        let mut at = 4 + n * 8;
        for k in 0..n {
            let len = u32_at(&d, 8 + k * 8) as usize;
            texts.push((first + u32_at(&d, 4 + k * 8), d[at..at + len].to_vec()));
            at += len;
        }
        assert_eq!(at, d.len());
    }
    texts.sort();
    texts
}

/// The first byte of each stored text (`store::text`: 2 is compressed with the dictionary).
fn stored_text_tags(file: &std::path::Path) -> Vec<u8> {
    let db = rusqlite::Connection::open(file).unwrap();
    stored_texts(&db)
        .into_iter()
        .map(|(_, t)| t.first().copied().unwrap_or(255))
        .collect()
}

#[test]
fn a_large_first_index_compresses_texts_with_a_dictionary_and_reads_them_back() {
    const POSTS: u64 = 1200;
    const PHRASE: &str = "quick brown fox";
    let f = Fixture::new(&[]);
    for i in 0..POSTS {
        let mut body = drawn_body(i, 160);
        if i % 97 == 3 {
            body = format!(
                "{} {PHRASE} {}",
                drawn_body(i, 80),
                drawn_body(i + POSTS, 80)
            );
        }
        f.write(
            &format!("_posts/2021-01-01-p{i}.md"),
            post(&format!("第{i}篇"), "2021-01-01", "新闻", &body).as_bytes(),
        );
    }
    // A near duplicate: post 5 with one word more.
    let near = post(
        "第5篇",
        "2021-01-01",
        "新闻",
        &format!("{} 地震", drawn_body(5, 160)),
    );
    f.write("_posts/2021-01-01-p5-again.md", near.as_bytes());
    // What holds the phrase, read from the files.
    let with_phrase = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(f.file("_posts"))
            .unwrap()
            .flatten()
            .filter(|e| std::fs::read_to_string(e.path()).unwrap().contains(PHRASE))
            .map(|e| format!("_posts/{}", e.file_name().to_string_lossy()))
            .collect();
        v.sort();
        v
    };
    let query = format!("\"{PHRASE}\"");
    index(f.path());
    let file = f.file(".shelfmark/index.sqlite");
    let db = rusqlite::Connection::open(&file).unwrap();
    let dicts: i64 = db
        .query_row("SELECT count(*) FROM text_dicts", [], |r| r.get(0))
        .unwrap();
    assert_eq!(dicts, 1);
    let tags = stored_text_tags(&file);
    let with_dict = tags.iter().filter(|&&t| t == 2).count();
    assert!(
        with_dict * 10 >= tags.len() * 9,
        "{with_dict} of {}",
        tags.len()
    );
    // A phrase of three words is verified by reading the stored texts.
    assert!(with_phrase().len() >= 12);
    assert_eq!(search_paths(f.path(), &query), with_phrase());
    // Near duplicates are judged on the stored texts.
    let dupes = json(f.path(), &["duplicates", "--kind", "near"]);
    let pair = ["_posts/2021-01-01-p5-again.md", "_posts/2021-01-01-p5.md"];
    assert!(
        dupes["groups"].as_array().unwrap().iter().any(|g| {
            let paths: Vec<&str> = g["posts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["path"].as_str().unwrap())
                .collect();
            pair.iter().all(|p| paths.contains(p))
        }),
        "{dupes:#}"
    );
    // A file changed later is stored with the same dictionary.
    let changed = post(
        "第7篇",
        "2021-01-01",
        "新闻",
        &format!("{} {PHRASE}", drawn_body(7, 160)),
    );
    f.write("_posts/2021-01-01-p7.md", changed.as_bytes());
    assert_eq!(index(f.path())["indexed"], 1);
    assert_eq!(search_paths(f.path(), &query), with_phrase());
    let tags = stored_text_tags(&file);
    assert_eq!(tags.iter().filter(|&&t| t == 2).count(), with_dict);
    // An index that lost its dictionary (damaged, or from elsewhere) reads those texts as
    // empty, without failing; a rebuild trains one again.
    db.execute("DELETE FROM text_dicts", []).unwrap();
    drop(db);
    assert!(search_paths(f.path(), &query).len() < with_phrase().len());
    ok(f.path(), &["index", "--rebuild"]);
    assert_eq!(search_paths(f.path(), &query), with_phrase());
}
