//! Word-level Traditional/Simplified variants (issue 11): `回覆` is the Taiwan spelling of `回复`,
//! but `覆` is a Simplified character of its own, so folding alone cannot unify them. Searching
//! either word finds both (and `回復`, which folds to `回复`), highlights follow, and a post
//! with only `覆盖` (cover) is not found by `回复`. The fixtures and expected sets are written
//! here by hand.

mod common;
use common::*;
use std::path::Path;

fn archive() -> Fixture {
    let f = Fixture::new(&[
        (
            "simplified.md",
            post("简体", "2021-01-01", "a", "请尽快回复我，谢谢。").as_bytes(),
        ),
        (
            "taiwan.md",
            post("正體", "2021-01-02", "a", "請盡快回覆我，謝謝。").as_bytes(),
        ),
        (
            "hongkong.md",
            post("繁體", "2021-01-03", "a", "請盡快回復我，謝謝。").as_bytes(),
        ),
        (
            "cover.md",
            post("覆盖", "2021-01-04", "a", "积雪覆盖了整座山。").as_bytes(),
        ),
        (
            "title.md",
            post("回覆：關於會議", "2021-01-05", "a", "會議改期。").as_bytes(),
        ),
        (
            "repeat.md",
            post("重覆", "2021-01-06", "a", "重覆的內容不再顯示。").as_bytes(),
        ),
    ]);
    index(f.dir.path());
    f
}

fn found(dir: &Path, q: &str) -> Vec<String> {
    search_paths(dir, q)
}

fn names(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// The highlighted pieces of a hit's snippet and title, each once.
fn marked(hit: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for (text, ranges) in [
        ("snippet", "snippet_highlights"),
        ("title", "title_highlights"),
    ] {
        let chars: Vec<char> = hit[text].as_str().unwrap_or("").chars().collect();
        for r in hit[ranges].as_array().into_iter().flatten() {
            let (s, e) = (
                r[0].as_u64().unwrap() as usize,
                r[1].as_u64().unwrap() as usize,
            );
            out.push(chars[s..e].iter().collect());
        }
    }
    out.sort();
    out.dedup();
    out
}

#[test]
fn either_spelling_of_a_dictionary_word_finds_both() {
    let f = archive();
    let dir = f.dir.path();
    let all_three = names(&["simplified.md", "taiwan.md", "hongkong.md", "title.md"]);
    for q in ["回复", "回覆", "回復", "\"尽快回复我\"", "page:回复"] {
        let want = if q.contains("尽快") {
            names(&["simplified.md", "taiwan.md", "hongkong.md"])
        } else {
            all_three.clone()
        };
        assert_eq!(found(dir, q), want, "query {q}");
    }
    // The character alone, and another word with it, are not variants: no guessing.
    assert_eq!(found(dir, "覆盖"), names(&["cover.md"]));
    assert_eq!(
        found(dir, "覆"),
        names(&["taiwan.md", "cover.md", "title.md", "repeat.md"])
    );
    assert_eq!(found(dir, "复"), names(&["simplified.md", "hongkong.md"]));
    // Excluding a word excludes its variants.
    assert_eq!(found(dir, "谢谢 -回复"), Vec::<String>::new());
    assert_eq!(found(dir, "date:2021 -回复 -重复"), names(&["cover.md"]));
    assert_eq!(found(dir, "重复"), names(&["repeat.md"]));
    assert_eq!(found(dir, "title:回复"), names(&["title.md"]));
}

#[test]
fn highlights_follow_the_variants() {
    let f = archive();
    let dir = f.dir.path();
    let v = json(dir, &["search", "--limit", "100", "回复"]);
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 4, "{v}");
    for hit in hits {
        let path = hit["path"].as_str().unwrap();
        let want: &[&str] = match path {
            "simplified.md" => &["回复"],
            "taiwan.md" => &["回覆"],
            "hongkong.md" => &["回復"],
            "title.md" => &["回覆"],
            other => panic!("unexpected hit {other}"),
        };
        assert_eq!(marked(hit), want, "{path}: {hit}");
    }
}
