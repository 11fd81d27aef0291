//! `shelfmark duplicates`: exact, url and near duplicates on archives written here, the
//! "not duplicates" decisions (kept across an index rebuild), and a malformed decisions file.
//!
//! Texts are made by a small generator from a vocabulary of words (each seed a different
//! article), so that articles are long enough to compare and provably different; Traditional
//! forms come from a table of this test's own, not from the code under test.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const WORDS: &[&str] = &[
    "国家", "经济", "发展", "会议", "时间", "问题", "关系", "银行", "价格", "学校", "电视", "报道",
    "记者", "东部", "开放", "门户", "产业", "运动", "进步", "还有", "这里", "他们", "为了", "过去",
    "地区", "长期", "边境", "华人", "网络", "书店", "城市", "农村", "医院", "医生", "疫情", "政府",
    "议员", "选举", "法院", "律师", "警察", "工厂", "工人", "工资", "市场", "股票", "投资", "贸易",
    "出口", "进口", "汽车", "电池", "能源", "石油", "天气", "台风", "地震", "救灾", "军队", "海军",
    "飞机", "机场", "铁路", "火车", "学生", "老师", "考试", "大学", "科学", "研究", "历史", "文化",
    "电影", "音乐", "体育", "足球", "比赛", "冠军", "团队", "总统", "总理", "部长", "外交", "访问",
];

/// Simplified → Traditional for the characters of `WORDS` that differ (this test's own table).
const T: &[(char, char)] = &[
    ('国', '國'),
    ('经', '經'),
    ('济', '濟'),
    ('发', '發'),
    ('展', '展'),
    ('会', '會'),
    ('议', '議'),
    ('时', '時'),
    ('间', '間'),
    ('问', '問'),
    ('题', '題'),
    ('关', '關'),
    ('系', '係'),
    ('银', '銀'),
    ('价', '價'),
    ('学', '學'),
    ('电', '電'),
    ('视', '視'),
    ('报', '報'),
    ('记', '記'),
    ('东', '東'),
    ('开', '開'),
    ('门', '門'),
    ('户', '戶'),
    ('产', '產'),
    ('业', '業'),
    ('运', '運'),
    ('动', '動'),
    ('进', '進'),
    ('还', '還'),
    ('这', '這'),
    ('们', '們'),
    ('为', '為'),
    ('过', '過'),
    ('区', '區'),
    ('长', '長'),
    ('边', '邊'),
    ('华', '華'),
    ('网', '網'),
    ('络', '絡'),
    ('书', '書'),
    ('农', '農'),
    ('医', '醫'),
    ('院', '院'),
    ('疫', '疫'),
    ('选', '選'),
    ('举', '舉'),
    ('师', '師'),
    ('厂', '廠'),
    ('资', '資'),
    ('场', '場'),
    ('贸', '貿'),
    ('汽', '汽'),
    ('车', '車'),
    ('池', '池'),
    ('能', '能'),
    ('气', '氣'),
    ('风', '風'),
    ('灾', '災'),
    ('军', '軍'),
    ('队', '隊'),
    ('飞', '飛'),
    ('机', '機'),
    ('铁', '鐵'),
    ('路', '路'),
    ('试', '試'),
    ('乐', '樂'),
    ('体', '體'),
    ('育', '育'),
    ('赛', '賽'),
    ('统', '統'),
    ('总', '總'),
    ('访', '訪'),
    ('历', '歷'),
    ('影', '影'),
    ('冠', '冠'),
];

fn traditional(s: &str) -> String {
    s.chars()
        .map(|c| T.iter().find(|(s, _)| *s == c).map_or(c, |(_, t)| *t))
        .collect()
}

/// A deterministic article of `sentences` sentences of 6–13 words, one paragraph per 4.
fn article(seed: u64, sentences: usize) -> String {
    let mut x = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let mut next = |n: u64| {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) % n
    };
    let mut out = String::new();
    for s in 0..sentences {
        let words = 6 + next(8);
        for w in 0..words {
            out.push_str(WORDS[next(WORDS.len() as u64) as usize]);
            if w + 1 < words && next(5) == 0 {
                out.push('，');
            }
        }
        out.push('。');
        if s % 4 == 3 {
            out.push_str("\n\n");
        }
    }
    out
}

fn doc(title: &str, day: u32, from: &str, body: &str) -> String {
    format!("---\ntitle: \"{title}\"\ndate: 2021-03-{day:02}\nfrom: {from}\n---\n{body}\n")
}

/// A site's long header and footer (navigation, "related articles", copyright).
fn wrapped(site: u64, body: &str) -> String {
    format!(
        "首页 | 新闻 | 评论\n\n{}\n\n{body}\n\n相关文章\n\n{}\n",
        article(1000 + site, 30),
        article(2000 + site, 30)
    )
}

struct Archive {
    f: Fixture,
}

/// The archive of this file's tests; see each group's comment for what it holds.
fn archive() -> Archive {
    let f = Fixture::new(&[]);
    let mut day = 1;
    let mut put = |rel: &str, title: &str, from: &str, body: &str| {
        f.write(rel, doc(title, day, from, body).as_bytes());
        day = day % 28 + 1;
    };
    // Two sites, eight different articles each inside a header and footer far longer than the
    // article: they must stay apart.
    for site in 1..=2u64 {
        for i in 0..8u64 {
            put(
                &format!("site{site}/a{i}.md"),
                &format!("文章 {i}"),
                &format!("https://site{site}.example.com/a/{i}"),
                &wrapped(site, &article(100 * site + i, 6)),
            );
        }
    }
    // One article on both sites: other boilerplate, Traditional on one, a headline suffix.
    let shared = article(7, 14);
    put(
        "site1/shared.md",
        "港口扩建计划公布",
        "https://site1.example.com/a/shared",
        &wrapped(1, &shared),
    );
    put(
        "site2/shared.md",
        "港口擴建計劃公布 - 第二站新聞",
        "https://site2.example.com/a/shared",
        &wrapped(2, &traditional(&shared)),
    );
    // Traditional and Simplified, with a translator's note added to one.
    let ts = article(8, 16);
    put(
        "ts/simplified.md",
        "选举结果",
        "https://a.example.net/1",
        &ts,
    );
    put(
        "ts/traditional.md",
        "選舉結果｜深度報道",
        "https://b.example.net/9",
        &format!("{}\n\n（本文由编辑部翻译整理）", traditional(&ts)),
    );
    // A truncated copy (the first 60% and an ellipsis), and a slightly edited one.
    let full = article(9, 30);
    let cut: String = full.chars().take(full.chars().count() * 6 / 10).collect();
    put(
        "feeds/full.md",
        "能源价格",
        "https://c.example.net/full",
        &full,
    );
    put(
        "feeds/cut.md",
        "能源价格（摘要）",
        "https://d.example.net/cut",
        &format!("{cut}……"),
    );
    let orig = article(10, 30);
    let mut sentences: Vec<&str> = orig.split('。').collect();
    let replacement = article(11, 1);
    sentences[5] = replacement.trim_end_matches('。');
    let edited = sentences.join("。");
    put(
        "feeds/orig.md",
        "铁路新线",
        "https://e.example.net/1",
        &orig,
    );
    put(
        "feeds/edited.md",
        "铁路新线开通",
        "https://f.example.net/2",
        &edited,
    );
    // The same text with other front matter: exact duplicates.
    let same = article(12, 10);
    put("exact/one.md", "足球比赛", "https://g.example.net/1", &same);
    put(
        "exact/two.md",
        "Another title",
        "https://h.example.net/2",
        &format!("  {}  ", same.replace('。', "。\n")),
    );
    // One URL in three spellings (tracking, mobile host, slash, fragment), one other URL.
    put(
        "url/one.md",
        "链接一",
        "https://www.news.example.org/story/5?utm_source=rss&id=3",
        &article(20, 8),
    );
    put(
        "url/two.md",
        "链接二",
        "http://m.news.example.org/story/5/?id=3#comments",
        &article(21, 8),
    );
    put(
        "url/three.md",
        "链接三",
        "https://news.example.org/story/6?id=3",
        &article(22, 8),
    );
    // Short posts: a headline and one sentence, two of them different, one a copy.
    put(
        "short/a.md",
        "快讯",
        "https://s.example.net/a",
        "快讯：今天上午机场开放。",
    );
    put(
        "short/b.md",
        "快讯",
        "https://s.example.net/b",
        "快讯：今天上午工厂开放。",
    );
    put(
        "short/c.md",
        "快讯二",
        "https://s.example.net/c",
        "快讯：今天上午机场开放。",
    );
    Archive { f }
}

fn duplicates(dir: &Path, args: &[&str]) -> Value {
    let mut full = vec!["duplicates"];
    full.extend_from_slice(args);
    json(dir, &full)
}

/// The groups of one kind, as sets of paths.
fn groups(v: &Value, kind: &str) -> BTreeSet<Vec<String>> {
    v["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .filter(|g| g["kind"] == kind)
        .map(|g| {
            let mut paths: Vec<String> = g["posts"]
                .as_array()
                .expect("posts")
                .iter()
                .map(|p| p["path"].as_str().expect("path").to_string())
                .collect();
            paths.sort();
            paths
        })
        .collect()
}

fn set(groups: &[&[&str]]) -> BTreeSet<Vec<String>> {
    groups
        .iter()
        .map(|g| {
            let mut v: Vec<String> = g.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        })
        .collect()
}

/// The shape the issue asks for, and its rules: two or more posts per group, a post in at most
/// one group of each kind.
fn check_shape(v: &Value) {
    for g in v["groups"].as_array().expect("groups") {
        let kind = g["kind"].as_str().expect("kind");
        assert!(["exact", "url", "near"].contains(&kind), "{g}");
        let s = g["similarity"].as_f64().expect("similarity");
        assert!((0.0..=1.0).contains(&s), "{g}");
        let posts = g["posts"].as_array().expect("posts");
        assert!(posts.len() >= 2, "{g}");
        for p in posts {
            for key in ["path", "title", "date", "source"] {
                assert!(p.get(key).is_some(), "{key} missing in {p}");
            }
        }
    }
    for kind in ["exact", "url", "near"] {
        let mut seen = BTreeSet::new();
        for g in groups(v, kind) {
            for p in g {
                assert!(seen.insert(p.clone()), "{p} twice in {kind}");
            }
        }
    }
}

#[test]
fn each_kind_finds_its_groups_and_nothing_else() {
    let a = archive();
    let dir = a.f.path();
    index(dir);
    let v = duplicates(dir, &[]);
    check_shape(&v);
    assert_eq!(
        groups(&v, "exact"),
        set(&[
            &["exact/one.md", "exact/two.md"],
            &["short/a.md", "short/c.md"]
        ]),
        "{v:#}"
    );
    assert_eq!(
        groups(&v, "url"),
        set(&[&["url/one.md", "url/two.md"]]),
        "{v:#}"
    );
    assert_eq!(
        groups(&v, "near"),
        set(&[
            &["site1/shared.md", "site2/shared.md"],
            &["ts/simplified.md", "ts/traditional.md"],
            &["feeds/cut.md", "feeds/full.md"],
            &["feeds/edited.md", "feeds/orig.md"],
        ]),
        "{v:#}"
    );
    for g in v["groups"].as_array().expect("groups") {
        let s = g["similarity"].as_f64().expect("similarity");
        assert!(s >= 0.8, "{g}");
    }
    assert_eq!(v["counts"]["near"], 4, "{v:#}");
    // One kind at a time.
    let near = duplicates(dir, &["--kind", "near"]);
    assert_eq!(groups(&near, "near"), groups(&v, "near"));
    assert!(groups(&near, "exact").is_empty() && groups(&near, "url").is_empty());
    let exact = duplicates(dir, &["--kind", "exact"]);
    assert_eq!(groups(&exact, "exact"), groups(&v, "exact"));
    assert!(groups(&exact, "near").is_empty());
    // A threshold of 1 keeps only what is the same in every bin; the edited copy is not.
    let strict = duplicates(dir, &["--kind", "near", "--min-similarity", "1"]);
    assert!(
        !groups(&strict, "near").contains(&vec![
            "feeds/edited.md".to_string(),
            "feeds/orig.md".to_string()
        ]),
        "{strict:#}"
    );
    // A query narrows the posts compared: the shared article has one post under site1/.
    let site1 = duplicates(dir, &["path:site1/"]);
    assert!(groups(&site1, "near").is_empty(), "{site1:#}");
    assert_eq!(site1["posts"], 9);
    // The human form names the groups and their posts.
    let human = ok(dir, &["duplicates"]);
    assert!(human.contains("near  2 posts  similarity"), "{human}");
    assert!(human.contains("ts/traditional.md"), "{human}");
    // Bad options are refused with a reason.
    let e = fails(dir, &["duplicates", "--min-similarity", "1.5"]);
    assert!(e.contains("min_similarity"), "{e}");
    assert_eq!(
        sm(dir, &["duplicates", "--kind", "fuzzy"]).status.code(),
        Some(2)
    );
}

#[test]
fn signatures_are_cached_and_only_changed_posts_recomputed() {
    let a = archive();
    let dir = a.f.path();
    index(dir);
    let first = duplicates(dir, &[]);
    let posts = first["posts"].as_u64().expect("posts");
    // Every file differs (exact copies differ in front matter): each is computed once.
    assert_eq!(first["computed"].as_u64(), Some(posts), "{first:#}");
    let again = duplicates(dir, &[]);
    assert_eq!(again["computed"], 0);
    assert_eq!(again["groups"], first["groups"]);
    a.f.write(
        "feeds/edited.md",
        doc(
            "铁路新线开通",
            3,
            "https://f.example.net/2",
            &article(99, 30),
        )
        .as_bytes(),
    );
    index(dir);
    let after = duplicates(dir, &[]);
    assert_eq!(after["computed"], 1, "{after:#}");
    assert!(!groups(&after, "near")
        .iter()
        .any(|g| g.contains(&"feeds/edited.md".to_string())));
    // The cache is in the index: a rebuilt index computes again, and finds the same groups.
    for name in ["index.sqlite", "index.sqlite-wal", "index.sqlite-shm"] {
        let _ = std::fs::remove_file(dir.join(".shelfmark").join(name));
    }
    index(dir);
    let rebuilt = duplicates(dir, &[]);
    assert_eq!(rebuilt["computed"].as_u64(), Some(posts));
    assert_eq!(rebuilt["groups"], after["groups"]);
}

#[test]
fn not_duplicates_decisions_survive_an_index_rebuild() {
    let a = archive();
    let dir = a.f.path();
    index(dir);
    let pair = ["feeds/cut.md", "feeds/full.md"];
    let before = duplicates(dir, &[]);
    assert!(groups(&before, "near").contains(pair.map(String::from).as_slice()));
    ok(dir, &["duplicates", "--not-duplicates", pair[0], pair[1]]);
    // Exact copies declared apart are apart too.
    ok(
        dir,
        &["duplicates", "--not-duplicates", "short/a.md", "short/c.md"],
    );
    let file = dir.join(".shelfmark/decisions.json");
    let saved: Value = serde_json::from_slice(&read(&file)).expect("decisions.json is JSON");
    assert_eq!(
        saved["not_duplicates"].as_array().map(Vec::len),
        Some(2),
        "{saved:#}"
    );
    let check = |v: &Value| {
        check_shape(v);
        assert!(
            !groups(v, "near")
                .iter()
                .any(|g| g.contains(&pair[0].to_string())),
            "{v:#}"
        );
        assert!(
            !groups(v, "exact")
                .iter()
                .any(|g| g.contains(&"short/a.md".to_string())),
            "{v:#}"
        );
        // Everything else is still found.
        assert_eq!(groups(v, "near").len(), 3, "{v:#}");
        assert_eq!(v["decisions"], 2);
    };
    check(&duplicates(dir, &[]));
    for e in std::fs::read_dir(dir.join(".shelfmark"))
        .expect("dot dir")
        .flatten()
    {
        if e.file_name().to_string_lossy().starts_with("index") {
            std::fs::remove_file(e.path()).expect("remove index file");
        }
    }
    index(dir);
    check(&duplicates(dir, &[]));
    // A moved post keeps its decision (found by its content hash).
    std::fs::rename(dir.join("feeds/cut.md"), dir.join("feeds/cut-moved.md")).expect("move");
    index(dir);
    let moved = duplicates(dir, &["--kind", "near"]);
    assert!(
        !groups(&moved, "near")
            .iter()
            .any(|g| g.contains(&"feeds/cut-moved.md".to_string())),
        "{moved:#}"
    );
    // Forgetting it brings the group back.
    let forgot = json(
        dir,
        &[
            "duplicates",
            "--forget",
            "feeds/cut-moved.md",
            "feeds/full.md",
        ],
    );
    assert_eq!(forgot["forgotten"], 1);
    let back = duplicates(dir, &["--kind", "near"]);
    assert!(groups(&back, "near").contains(&vec![
        "feeds/cut-moved.md".to_string(),
        "feeds/full.md".to_string()
    ]));
    // A decision needs two known posts.
    fails(
        dir,
        &["duplicates", "--not-duplicates", "feeds/full.md", "nope.md"],
    );
}

#[test]
fn a_malformed_decisions_file_is_an_error_naming_it_and_is_left_alone() {
    let a = archive();
    let dir = a.f.path();
    index(dir);
    let file = dir.join(".shelfmark/decisions.json");
    for bad in [
        &b"{\"not_duplicates\": [ {\"posts\": 7} ]}"[..],
        b"\xff\xfe not json",
        b"[]",
    ] {
        std::fs::write(&file, bad).expect("write");
        let e = fails(dir, &["duplicates"]);
        assert!(e.contains("decisions.json"), "{e}");
        let e = fails(
            dir,
            &[
                "duplicates",
                "--not-duplicates",
                "feeds/cut.md",
                "feeds/full.md",
            ],
        );
        assert!(e.contains("decisions.json"), "{e}");
        assert_eq!(read(&file), bad, "the file was changed");
    }
}
