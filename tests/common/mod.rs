//! Helpers for whole-program tests: fixture archives written by the test, and a way to run the
//! `shelfmark` binary and read its JSON. Submodules: the real corpus (`corpus`), trees on disk
//! (`tree`), and checkers of exports written here, not shared with the exporter: portable names
//! (`portable`), manifests and their CSV (`manifest`), HTML pages and their links (`html`),
//! rewritten copies (`rewrite`).
#![allow(dead_code)]

pub mod corpus;
pub mod html;
pub mod manifest;
pub mod portable;
pub mod rewrite;
pub mod tree;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn shelfmark() -> Command {
    Command::new(env!("CARGO_BIN_EXE_shelfmark"))
}

/// Run `shelfmark ARGS` and return its output, whatever the status.
pub fn run(args: &[&str]) -> Output {
    shelfmark()
        .args(args)
        .output()
        .expect("the shelfmark binary runs")
}

/// A temporary path as `&str` (they are UTF-8).
pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}

/// `shelfmark -C DIR ARGS`, whatever its status.
pub fn sm(dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["-C", dir.to_str().expect("utf-8 temp path")];
    full.extend_from_slice(args);
    run(&full)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `shelfmark -C DIR ARGS`, which must fail with status 1; its stderr.
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let out = sm(dir, args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "shelfmark {args:?} should fail: {}\n{}",
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stderr)
}

pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// `shelfmark -C DIR ARGS`, which must succeed; its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = sm(dir, args);
    assert!(
        out.status.success(),
        "shelfmark {args:?} failed ({}): {}\n{}",
        out.status,
        text(&out.stderr),
        text(&out.stdout)
    );
    text(&out.stdout)
}

/// Run `shelfmark -C DIR ARGS --json` expecting success, and parse stdout as JSON.
pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut full = vec!["-C", dir.to_str().expect("utf-8 temp path")];
    full.extend_from_slice(args);
    full.push("--json");
    let out = run(&full);
    assert!(
        out.status.success(),
        "shelfmark {full:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "shelfmark {full:?} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

pub fn index(dir: &Path) -> serde_json::Value {
    let out = run(&["index", dir.to_str().expect("utf-8 temp path"), "--json"]);
    assert!(
        out.status.success(),
        "index failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("index prints JSON")
}

/// `shelfmark history`: the operations, as listed.
pub fn history(dir: &Path) -> Vec<serde_json::Value> {
    json(dir, &["history"]).as_array().cloned().expect("a list")
}

/// The state of each operation in `history` (`done`, `undone`, …).
pub fn states(dir: &Path) -> Vec<String> {
    history(dir)
        .iter()
        .map(|h| h["state"].as_str().unwrap_or("?").to_string())
        .collect()
}

/// Paths of search hits, sorted.
pub fn search_paths(dir: &Path, query: &str) -> Vec<String> {
    let v = json(dir, &["search", "--limit", "10000", query]);
    let mut paths: Vec<String> = v["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["path"].as_str().unwrap_or("").to_string())
        .collect();
    paths.sort();
    paths
}

/// A post in the real data's style.
pub fn post(title: &str, date: &str, tag: &str, body: &str) -> String {
    format!(
        "---\nlayout: post\ntitle: \"{title}\"\ndate: {date}\nauthor: {tag}\nfrom: https://news.example.com/a/{}\ntags: [ {tag} ]\ncategories: [ {tag} ]\n---\n<!--1610366114000-->\n[{title}](https://news.example.com/a)\n------\n\n<div>{body}</div>\n",
        title.len()
    )
}

/// A temporary archive with the given files (relative path → bytes).
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new(files: &[(&str, &[u8])]) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let f = Fixture { dir };
        for (path, bytes) in files {
            f.write(path, bytes);
        }
        f
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn write(&self, rel: &str, bytes: &[u8]) {
        let p = self.file(rel);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create fixture folder");
        }
        std::fs::write(p, bytes).expect("write fixture file");
    }
}

/// The standard small archive used by several tests.
pub fn news_archive() -> Fixture {
    Fixture::new(&[
        (
            "_posts/2021-01-11-两岸关系.md",
            post(
                "两岸关系新论述",
                "2021-01-11T11:55:14.000Z",
                "联合早报",
                "<p>专家认为两岸关系将继续紧张。</p>",
            )
            .as_bytes(),
        ),
        (
            "_posts/2021-02-01-兩岸.md",
            post(
                "兩岸交流",
                "2021-02-01T08:00:00+08:00",
                "中央社",
                "<p>臺灣與大陸的兩岸交流恢復。</p>",
            )
            .as_bytes(),
        ),
        (
            "_posts/2021-03-05-vaccine.md",
            post(
                "Vaccine rollout begins",
                "2021-03-05T10:00:00Z",
                "BBC",
                "<p>The COVID-19 vaccine rollout began; vaccines are free.</p>",
            )
            .as_bytes(),
        ),
        (
            "archived/2021-06-01/2021-06-01-疫苗.md",
            post(
                "新冠疫苗接种",
                "2021-06-01",
                "联合早报",
                "<p>疫苗接种率达到七成。ＡＢＣ全角字母。</p><script>var 隐藏='两岸';</script>",
            )
            .as_bytes(),
        ),
        (
            "archived/2022-01-01/2022-01-01-iphone.md",
            post(
                "苹果发布iPhone手机",
                "2022-01-01 09:30:00 +0800",
                "科技",
                "<p>新款iPhone手机在中国销售。</p>",
            )
            .as_bytes(),
        ),
        (
            "_posts/2020-05-05-中.md",
            post(
                "中",
                "2020-05-05T00:00:00.123Z",
                "路透",
                "<p>中国经济复苏。</p>",
            )
            .as_bytes(),
        ),
    ])
}
