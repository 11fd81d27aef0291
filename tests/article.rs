//! The article's own text against labels written by hand (`tests/fixtures/article-labels.jsonl`):
//! character-level precision and recall of `Post::article` on real-dev posts, per site and
//! overall. Skips, saying so, when the corpus is absent.
//!
//! A label names one post (`path`, relative to real-dev) and which lines of its page text
//! (`Post::text`) are the article, by short quotes read off the page: the article runs from the
//! line holding the first occurrence of `start` to the line holding the first occurrence of `end`
//! after it, minus each `exclude` pair `[from, to]` (the lines from the line holding `from`, found
//! after the previous exclude, to the line holding `to`). A quote that starts with `\n` names the
//! line after that line break. Characters are counted without whitespace. The corpus is
//! `../shared/corpus/real-dev` or the folder in `SHELFMARK_CORPUS`.

mod common;
use common::corpus::corpus;
use common::{index, json, post, search_paths};
use std::collections::{BTreeMap, BTreeSet};

/// The labels the extraction was tuned on (75 posts, 25 sites).
const LABELS: &str = include_str!("fixtures/article-labels.jsonl");
/// Labels written after tuning, on posts the tuning never looked at (12 posts, 12 sites).
const HELD_OUT: &str = include_str!("fixtures/article-labels-heldout.jsonl");

/// The line of `text` (by index) holding byte `at`.
fn line_of(starts: &[usize], at: usize) -> usize {
    starts.partition_point(|&s| s <= at).saturating_sub(1)
}

/// The line holding the first occurrence of `quote` at or after byte `from`.
fn find_line(text: &str, starts: &[usize], quote: &str, from: usize, path: &str) -> usize {
    let at = text
        .get(from..)
        .and_then(|rest| rest.find(quote))
        .unwrap_or_else(|| panic!("{path}: quote {quote:?} not found in the page text"));
    line_of(starts, from + at + usize::from(quote.starts_with('\n')))
}

/// The labelled article lines of one post's page text.
fn labelled_lines(text: &str, starts: &[usize], label: &serde_json::Value) -> BTreeSet<usize> {
    let path = label["path"].as_str().unwrap_or_default();
    let quote = |v: &serde_json::Value| v.as_str().expect("a quote").to_owned();
    let line_end = |i: usize| starts.get(i + 1).map_or(text.len(), |s| s - 1);
    let first = find_line(text, starts, &quote(&label["start"]), 0, path);
    let last = find_line(text, starts, &quote(&label["end"]), starts[first], path);
    let mut lines: BTreeSet<usize> = (first..=last).collect();
    let mut from = starts[first];
    for pair in label["exclude"].as_array().expect("exclude list") {
        let a = find_line(text, starts, &quote(&pair[0]), from, path);
        let b = find_line(text, starts, &quote(&pair[1]), starts[a], path);
        for i in a..=b {
            lines.remove(&i);
        }
        from = line_end(b);
    }
    lines
}

/// (true positives, false positives, false negatives) in characters.
#[derive(Default, Clone, Copy)]
struct Counts(usize, usize, usize);

impl Counts {
    fn add(&mut self, o: Counts) {
        self.0 += o.0;
        self.1 += o.1;
        self.2 += o.2;
    }
    fn precision(self) -> f64 {
        self.0 as f64 / (self.0 + self.1).max(1) as f64
    }
    fn recall(self) -> f64 {
        self.0 as f64 / (self.0 + self.2).max(1) as f64
    }
}

/// Precision and recall of the extraction against one label file: per site, and the number of
/// posts.
fn evaluate(
    root: &std::path::Path,
    labels: &str,
    site_of: &BTreeMap<String, String>,
) -> (usize, BTreeMap<String, Counts>) {
    let mut per_site: BTreeMap<String, Counts> = BTreeMap::new();
    let mut posts = 0;
    for line in labels.lines().filter(|l| !l.trim().is_empty()) {
        let label: serde_json::Value = serde_json::from_str(line).expect("label line");
        let path = label["path"].as_str().expect("path");
        let bytes = std::fs::read(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"));
        let name = path.rsplit('/').next().unwrap_or(path);
        let post = shelfmark_core::post::parse(name, &bytes, &Default::default())
            .post
            .expect("a post");
        let text = &post.text;
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        let truth = labelled_lines(text, &starts, &label);
        let predicted: BTreeSet<usize> = (0..starts.len())
            .filter(|&i| {
                let at = starts[i] as u64;
                post.article
                    .iter()
                    .any(|&(s, e)| u64::from(s) <= at && at < u64::from(e).max(u64::from(s) + 1))
            })
            .collect();
        let chars = |i: usize| {
            let end = starts.get(i + 1).map_or(text.len(), |s| s - 1);
            text[starts[i]..end]
                .chars()
                .filter(|c| !c.is_whitespace())
                .count()
        };
        let counts = Counts(
            truth.intersection(&predicted).map(|&i| chars(i)).sum(),
            predicted.difference(&truth).map(|&i| chars(i)).sum(),
            truth.difference(&predicted).map(|&i| chars(i)).sum(),
        );
        let site = site_of.get(path).cloned().unwrap_or_else(|| "?".into());
        per_site.entry(site).or_default().add(counts);
        posts += 1;
    }
    (posts, per_site)
}

/// Prints the figures of one label set and returns the overall counts.
fn report(name: &str, posts: usize, per_site: &BTreeMap<String, Counts>) -> Counts {
    let mut all = Counts::default();
    eprintln!("article extraction on {posts} {name} posts:");
    for (site, counts) in per_site {
        eprintln!(
            "  {site:<20} precision {:.3} recall {:.3}",
            counts.precision(),
            counts.recall()
        );
        all.add(*counts);
    }
    eprintln!(
        "  overall ({} sites)    precision {:.4} recall {:.4}",
        per_site.len(),
        all.precision(),
        all.recall()
    );
    all
}

#[test]
fn article_extraction_meets_the_labels() {
    let Some(root) = corpus() else {
        eprintln!("SKIPPED: corpus not found at ../shared/corpus/real-dev");
        return;
    };
    let manifest =
        std::fs::read_to_string(root.with_file_name("real-dev.manifest.jsonl")).unwrap_or_default();
    let mut site_of = BTreeMap::new();
    for line in manifest.lines() {
        let v: serde_json::Value = serde_json::from_str(line).expect("manifest line");
        let path = format!(
            "{}/{}",
            v["repo"].as_str().unwrap_or_default(),
            v["path"].as_str().unwrap_or_default()
        );
        site_of.insert(path, v["source"].as_str().unwrap_or("?").to_owned());
    }
    let (posts, per_site) = evaluate(&root, LABELS, &site_of);
    let all = report("labelled (tuned on)", posts, &per_site);
    assert!(
        posts >= 60 && per_site.len() >= 10,
        "{posts} posts, {} sites",
        per_site.len()
    );
    assert!(all.precision() >= 0.95, "precision {:.4}", all.precision());
    assert!(all.recall() >= 0.95, "recall {:.4}", all.recall());
    let (posts, per_site) = evaluate(&root, HELD_OUT, &site_of);
    let held = report("held-out", posts, &per_site);
    assert!(
        held.precision() >= 0.95,
        "held-out precision {:.4}",
        held.precision()
    );
    assert!(
        held.recall() >= 0.95,
        "held-out recall {:.4}",
        held.recall()
    );
}

/// A post in a news site's style: an article, then a related-articles list and a feed footer.
fn news_post(title: &str, article_words: &str, related: &str) -> String {
    let paragraphs: String = (0..4)
        .map(|i| format!("<p>第{i}段：{article_words}，记者在现场看到了很多人，他们都说这件事情非常重要。</p>"))
        .collect();
    post(
        title,
        "2021-01-02T03:04:05.000Z",
        "新闻",
        &format!(
            "{paragraphs}<h3>您可能感兴趣的文章</h3><ul><li><a href=\"/x\">{related}</a></li></ul>\
             <div>获取更多RSS：<br><a href=\"https://feedx.net\">https://feedx.net</a></div>"
        ),
    )
}

#[test]
fn words_only_in_the_page_around_the_article_are_found_only_with_page() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path();
    std::fs::write(
        dir.join("a.md"),
        news_post("甲", "蓝鲸在港口出现", "旁边的熊猫馆 Zebra 开放"),
    )
    .expect("write");
    std::fs::write(
        dir.join("b.md"),
        news_post("乙", "熊猫馆今天开放 Zebra", "蓝鲸的旧闻"),
    )
    .expect("write");
    index(dir);
    // One character, two characters, a longer phrase, a Latin word: default scope is the article.
    for (query, article, page) in [
        ("鲸", vec!["a.md"], vec!["a.md", "b.md"]),
        ("熊猫", vec!["b.md"], vec!["a.md", "b.md"]),
        ("熊猫馆", vec!["b.md"], vec!["a.md", "b.md"]),
        ("zebra", vec!["b.md"], vec!["a.md", "b.md"]),
        ("\"港口出现\"", vec!["a.md"], vec!["a.md"]),
        ("获取更多", vec![], vec!["a.md", "b.md"]),
    ] {
        assert_eq!(search_paths(dir, query), article, "{query}");
        let page_query = format!("page:{query}");
        assert_eq!(search_paths(dir, &page_query), page, "{page_query}");
    }
    // `page:` combines with the rest of the language.
    assert_eq!(search_paths(dir, "page:熊猫 -熊猫"), vec!["a.md"]);
    // A snippet comes from the article, or from the page when only the page matched.
    let hits = json(dir, &["search", "page:\"熊猫馆\""]);
    for hit in hits["hits"].as_array().expect("hits") {
        let snippet = hit["snippet"].as_str().unwrap_or_default();
        assert!(snippet.contains("熊猫馆"), "{hit}");
    }
}
