//! The real corpus (../shared/corpus/real-dev), when present: every post indexes without
//! problems, tag counts agree with the manifest, and search agrees with a brute-force scan.
//! Skips, saying so, when the corpus is absent. The corpus is copied to a temporary folder so
//! that nothing is ever written next to it.
//!
//! "Search agrees with brute force" includes the word-level variants of
//! `src-tauri/core/src/search/variants.tsv` (a dictionary, read here as data): a query also
//! matches the texts that spell one of its dictionary words the other way.

mod common;
use common::corpus::{copy_tree, corpus};
use common::*;
use shelfmark_core::fold::fold;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Whitespace-collapsed folded text, as a plain string, for an independent `contains` check.
fn folded(s: &str) -> String {
    fold(s).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The variant pairs of the table, folded here (pairs that fold alike add nothing).
fn variant_pairs() -> Vec<(String, String)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/src/search/variants.tsv");
    let table =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    table
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(t, s)| (folded(t), folded(s)))
        .filter(|(t, s)| t != s)
        .collect()
}

/// Every spelling of a folded needle: itself, and whatever replacing one dictionary word by its
/// pair at a time gives (each word either way), as a closure (small for short needles).
fn spellings(needle: &str, pairs: &[(String, String)]) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = BTreeSet::from([needle.to_string()]);
    let mut todo = vec![needle.to_string()];
    while let Some(s) = todo.pop() {
        for (a, b) in pairs.iter().flat_map(|(t, s)| [(t, s), (s, t)]) {
            for (i, _) in s.match_indices(a.as_str()) {
                let new = format!("{}{b}{}", &s[..i], &s[i + a.len()..]);
                if out.insert(new.clone()) {
                    todo.push(new);
                }
            }
        }
        assert!(
            out.len() <= 8,
            "{needle}: too many spellings for this check"
        );
    }
    out
}

#[test]
fn the_real_corpus_indexes_cleanly_and_search_matches_brute_force() {
    let Some(src) = corpus() else {
        eprintln!("skipping: corpus not found at ../shared/corpus/real-dev");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("real-dev");
    copy_tree(&src, &dir);

    let s = index(&dir);
    assert_eq!(s["indexed"], 3000, "{s}");
    assert_eq!(s["problems"], 0, "{}", json(&dir, &["problems"]));

    // Tag counts agree with the manifest's `source` tag.
    let manifest = std::fs::read_to_string(src.join("../real-dev.manifest.jsonl")).unwrap();
    let mut expected: HashMap<String, u64> = HashMap::new();
    for line in manifest.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        *expected
            .entry(v["source"].as_str().unwrap().trim().to_string())
            .or_default() += 1;
    }
    let facets = json(&dir, &["facets", ""]);
    let got: HashMap<String, u64> = facets["facets"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["value"].as_str().unwrap().trim().to_string(),
                t["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, expected);

    // Brute force over every post file, parsed here, independently of the index.
    let docs = brute_force_docs(&dir);
    assert_eq!(docs.len(), 3000);

    // Queries: CJK runs of 1–6 characters taken from the texts, plus fixed mixed and Traditional ones.
    let mut queries = cjk_queries(&docs, 0x5eed, 120);
    for q in [
        "两岸",
        "兩岸",
        "臺灣",
        "疫苗",
        "中",
        "的",
        "新冠疫苗",
        "美國",
        "习近平",
        "G7峰会",
        "iPhone",
        "BBC中文",
        // Words with dictionary variants (`回覆` is the Taiwan spelling of `回复`).
        "回复",
        "回覆",
        "重复",
        "反复",
        "想象",
        "凭借",
    ] {
        queries.insert(q.to_string());
    }
    let cjk_count = queries
        .iter()
        .filter(|q| q.chars().all(shelfmark_core::fold::is_cjk))
        .count();
    assert!(
        cjk_count > 60,
        "enough CJK queries were drawn ({cjk_count})"
    );
    let pairs = variant_pairs();
    let mut expanded = 0;
    for (q, page) in queries.iter().flat_map(|q| [(q, false), (q, true)]) {
        expanded += usize::from(spellings(&folded(q), &pairs).len() > 1);
        check_against_brute_force(&dir, &docs, q, page);
    }
    assert!(
        expanded >= 12,
        "the variant queries were expanded ({expanded})"
    );
    eprintln!(
        "checked {} queries ({cjk_count} CJK, {} with variant spellings), in the article and in the whole page, against brute force over 3000 posts",
        queries.len(),
        expanded / 2
    );
}

/// Every post under `dir` (not `.shelfmark/`), parsed here, independently of the index:
/// (path, title and article, title and whole page), folded as the index stores them.
fn brute_force_docs(dir: &Path) -> Vec<(String, String, String)> {
    let mut docs: Vec<(String, String, String)> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                if p.file_name().is_some_and(|n| n != ".shelfmark") {
                    stack.push(p);
                }
                continue;
            }
            let bytes = std::fs::read(&p).unwrap();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            let post = shelfmark_core::post::parse(&name, &bytes, &Default::default())
                .post
                .expect("a post");
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            let article = format!("{}\n{}", folded(&post.title), folded(&post.article_text()));
            let page = format!("{article}\n{}", folded(&post.rest_text()));
            docs.push((rel, article, page));
        }
    }
    docs
}

/// CJK runs of 1–6 characters drawn from the posts' whole pages (every 97th post; `seed` makes
/// the draw deterministic), until more than `limit`.
fn cjk_queries(docs: &[(String, String, String)], seed: u64, limit: usize) -> BTreeSet<String> {
    let mut queries: BTreeSet<String> = BTreeSet::new();
    let mut seed = seed;
    for (_, _, text) in docs.iter().step_by(97) {
        let chars: Vec<char> = text.chars().collect();
        for len in 1..=6usize {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let start = (seed >> 33) as usize % chars.len().max(1);
            let q: String = chars.iter().skip(start).take(len).collect();
            if q.chars().count() == len && q.chars().all(shelfmark_core::fold::is_cjk) {
                queries.insert(q);
            }
        }
        if queries.len() > limit {
            break;
        }
    }
    queries
}

/// `shelfmark search` finds exactly the posts whose text (the article, or with `page` the whole
/// page) contains `q`, as the brute force over `docs` says.
fn check_against_brute_force(dir: &Path, docs: &[(String, String, String)], q: &str, page: bool) {
    let expected = brute_force(docs, q, page);
    let query = if page {
        format!("page:\"{q}\"")
    } else {
        format!("\"{q}\"")
    };
    let got = search_paths(dir, &query);
    assert_eq!(got, expected, "query {query:?}");
}

/// The paths of the posts whose text (the article, or with `page` the whole page) contains `q`
/// (Latin edges on word boundaries), sorted.
fn brute_force(docs: &[(String, String, String)], q: &str, page: bool) -> Vec<String> {
    static PAIRS: std::sync::OnceLock<Vec<(String, String)>> = std::sync::OnceLock::new();
    let needle = folded(q);
    let is_cjk = needle.chars().all(shelfmark_core::fold::is_cjk);
    // The query's spellings: itself and its dictionary variants (docs/QUERY.md).
    let needles = spellings(&needle, PAIRS.get_or_init(variant_pairs));
    let expected: Vec<String> = docs
        .iter()
        .map(|(p, article, whole)| (p, if page { whole } else { article }))
        .filter(|(_, text)| {
            needles.iter().any(|needle| {
                if is_cjk {
                    text.contains(needle.as_str())
                } else {
                    // Latin edges match whole words (docs/QUERY.md).
                    text.match_indices(needle.as_str()).any(|(i, m)| {
                        let before = text[..i].chars().next_back();
                        let after = text[i + m.len()..].chars().next();
                        let word =
                            |c: Option<char>| c.is_some_and(shelfmark_core::fold::is_word_char);
                        let fused_left =
                            needle.starts_with(|c: char| c.is_alphanumeric()) && word(before);
                        let fused_right =
                            needle.ends_with(|c: char| c.is_alphanumeric()) && word(after);
                        !fused_left && !fused_right
                    })
                }
            })
        })
        .map(|(p, _)| p.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    expected
}

/// Search stays exact, against the brute force, for CJK queries of 1–6 characters on the real
/// corpus: after indexing, after edits of titles and bodies and deletions (rescanned in three
/// rounds, so stale postings pile up in several segments), after `index --compact`, and after
/// `index --rebuild`.
#[test]
fn search_stays_exact_after_edits_compaction_and_rebuild() {
    let Some((_tmp, dir, _src)) = common::corpus::indexed_corpus_copy() else {
        return;
    };
    let mut docs = brute_force_docs(&dir);
    docs.sort();
    let mut queries = cjk_queries(&docs, 0xc0ffee, 60);
    // Every hit of a search costs a snippet read from its file: a query that finds many posts is
    // checked by its total and its first and last pages in path order (the whole set otherwise).
    let check = |stage: &str, docs: &[(String, String, String)], queries: &BTreeSet<String>| {
        for q in queries {
            let expected = brute_force(docs, q, false);
            let query = format!("\"{q}\"");
            if expected.len() <= 60 {
                assert_eq!(search_paths(&dir, &query), expected, "{stage}: {query}");
                continue;
            }
            let page = |offset: usize| -> (u64, Vec<String>) {
                let offset = offset.to_string();
                let v = json(
                    &dir,
                    &[
                        "search", &query, "--sort", "path", "--limit", "30", "--offset", &offset,
                    ],
                );
                let paths = v["hits"].as_array().unwrap().iter();
                let paths = paths.map(|h| h["path"].as_str().unwrap().to_string());
                (v["total"].as_u64().unwrap(), paths.collect())
            };
            let (total, first) = page(0);
            assert_eq!(total, expected.len() as u64, "{stage}: {query}");
            assert_eq!(first, expected[..30], "{stage}: {query}");
            let (_, last) = page(expected.len() - 30);
            assert_eq!(last, expected[expected.len() - 30..], "{stage}: {query}");
        }
        eprintln!("{stage}: {} CJK queries exact", queries.len());
    };
    check("indexed", &docs, &queries);

    // Edits in three rounds: a title changed, a third of the body cut (its text becomes
    // queries: stale postings would find it), a run of another post's article added; some posts
    // deleted. Deterministic: every post picked by its place in path order.
    let mut cut_text = Vec::new();
    for round in 0..3usize {
        for (i, (rel, _, _)) in docs.iter().enumerate() {
            let path = dir.join(rel);
            if !path.exists() {
                continue;
            }
            if i % 97 == 13 + round {
                std::fs::remove_file(&path).unwrap();
                continue;
            }
            if i % 17 != round * 5 {
                continue;
            }
            let text = String::from_utf8(read(&path)).unwrap();
            let Some(body_at) = text.get(4..).and_then(|t| t.find("\n---\n")).map(|p| p + 9) else {
                continue;
            };
            let (head, body) = text.split_at(body_at);
            let chars: Vec<char> = body.chars().collect();
            let (from, to) = (chars.len() / 3, chars.len() / 2);
            cut_text.push(chars[from..to].iter().collect::<String>());
            let donor = &docs[(i * 7 + round) % docs.len()].1;
            let added: String = donor.chars().skip(20).take(60).collect();
            let new_body: String = chars[..from]
                .iter()
                .chain(added.chars().collect::<Vec<_>>().iter())
                .chain(&chars[to..])
                .collect();
            let head = head.replacen("title: \"", &format!("title: \"修订{round}版"), 1);
            std::fs::write(&path, format!("{head}{new_body}")).unwrap();
        }
        let s = index(&dir);
        assert!(s["indexed"].as_u64().unwrap() > 100, "{s}");
        assert!(s["removed"].as_u64().unwrap() > 10, "{s}");
    }
    let stats = json(&dir, &["stats"]);
    assert!(stats["segments"].as_u64().unwrap() > 1, "{stats}");
    let mut docs = brute_force_docs(&dir);
    docs.sort();
    // Queries from the edited texts and from the text cut out of them, besides the first ones.
    let cut_docs: Vec<(String, String, String)> = cut_text
        .iter()
        .map(|t| (String::new(), String::new(), folded(t)))
        .collect();
    queries.extend(cjk_queries(&cut_docs, 0xdead, 20));
    let edited: Vec<(String, String, String)> = docs
        .iter()
        .filter(|d| d.1.starts_with("修订"))
        .cloned()
        .collect();
    queries.extend(cjk_queries(&edited, 0xbeef, 20));
    check("edited", &docs, &queries);

    let compacted = json(&dir, &["index", "--compact"]);
    assert_eq!(compacted["after"]["segments"], 1, "{compacted}");
    assert!(
        compacted["postings_after"].as_u64() < compacted["postings_before"].as_u64(),
        "{compacted}"
    );
    eprintln!("compact: {compacted}");
    check("compacted", &docs, &queries);

    let rebuilt = json(&dir, &["index", "--rebuild"]);
    assert_eq!(
        rebuilt["scan"]["indexed"].as_u64(),
        Some(docs.len() as u64),
        "{rebuilt}"
    );
    eprintln!("rebuild: {rebuilt}");
    check("rebuilt", &docs, &queries);
}
