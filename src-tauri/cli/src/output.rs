//! How each command prints its result: human-readable text, or JSON with `--json`.

use shelfmark_core::api::{FacetsResponse, PostDetail, ProblemRow, Stats};
use shelfmark_core::scan::ScanSummary;
use shelfmark_core::search::facets::FacetCount;
use shelfmark_core::search::searcher::SearchResponse;
use std::io::{IsTerminal, Write};

/// Print a line; a closed pipe (`shelfmark search x | head`) is not an error.
macro_rules! out {
    ($($t:tt)*) => {{
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
pub(crate) use out;

/// The day of an RFC 3339 date (its first ten characters), or dashes of that width without one.
pub fn day(date: Option<&str>) -> &str {
    date.map(|d| d.get(..10).unwrap_or(d))
        .unwrap_or("----------")
}

/// Print one JSON value on a line.
pub fn json<T: serde::Serialize>(value: &T) {
    // Stdout flushes every KiB of a line: a page of hits would take fifty writes.
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    let _ = serde_json::to_writer(&mut out, value);
    let _ = writeln!(out);
    let _ = out.flush();
}

/// The progress bar of indexing.
pub const INDEXING: &str = "{spinner} indexing {pos}/{len} files [{wide_bar}] {per_sec} eta {eta}";
pub const COMPACTING: &str = "{spinner} compacting {pos}/{len} blocks [{wide_bar}] eta {eta}";

/// A progress bar on stderr in the style `template`, shown only when stderr is a terminal.
pub fn progress_bar(template: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar
}

pub fn index_summary(s: &ScanSummary, as_json: bool) {
    if as_json {
        return json(s);
    }
    out!(
        "indexed {}, unchanged {}, removed {}, renamed {}, problems {} in {:.2}s",
        s.indexed,
        s.unchanged,
        s.removed,
        s.renamed,
        s.problems,
        s.seconds
    );
    if let Some(aside) = &s.damaged_index {
        out!("the index was damaged: it was moved to {aside} and built again from the files");
    }
    if s.problems > 0 {
        out!("see them with `shelfmark problems`");
    }
}

/// What `index --compact` or `index --rebuild` did.
pub fn maintenance(m: &shelfmark_core::api::IndexMaintenance, as_json: bool) {
    if as_json {
        return json(m);
    }
    if let Some(s) = &m.scan {
        index_summary(s, false);
    }
    if let (Some(before), Some(after)) = (m.postings_before, m.postings_after) {
        out!(
            "postings {before} -> {after} ({} dropped), {} rows of no post dropped",
            before.saturating_sub(after),
            m.dead_rows
        );
    }
    out!(
        "index {} -> {} ({} -> {} segments) in {:.2}s (vacuum {:.2}s)",
        human_bytes(m.before.bytes),
        human_bytes(m.after.bytes),
        m.before.segments,
        m.after.segments,
        m.seconds,
        m.vacuum_seconds
    );
}

fn human_bytes(b: u64) -> String {
    format!("{:.1} MB", b as f64 / 1e6)
}

/// Mark highlighted ranges (character offsets) with ANSI bold on a terminal, else with [ ].
fn marked(text: &str, ranges: &[[u32; 2]], tty: bool) -> String {
    let (open, close) = if tty {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    let mut out = String::with_capacity(text.len() + ranges.len() * 8);
    for (i, c) in text.chars().enumerate() {
        let i = i as u32;
        if ranges.iter().any(|r| r[0] == i) {
            out.push_str(open);
        }
        out.push(c);
        if ranges.iter().any(|r| r[1] == i + 1) {
            out.push_str(close);
        }
    }
    out
}

pub fn search(r: &SearchResponse, as_json: bool) {
    if as_json {
        return json(r);
    }
    let tty = std::io::stdout().is_terminal();
    out!("{} posts", r.total);
    for h in &r.hits {
        let date = day(h.date.as_deref());
        out!("{date}  {}", marked(&h.title, &h.title_highlights, tty));
        out!("            {}", h.path);
        if !h.snippet.is_empty() {
            out!(
                "            {}",
                marked(&h.snippet, &h.snippet_highlights, tty)
            );
        }
    }
}

pub fn show(p: &PostDetail, as_json: bool, whole_page: bool) {
    if as_json {
        return json(p);
    }
    out!("{}", p.title);
    out!("path:       {}", p.path);
    out!("date:       {}", p.date.as_deref().unwrap_or("-"));
    out!("author:     {}", p.author.as_deref().unwrap_or("-"));
    out!("source:     {}", p.source.as_deref().unwrap_or("-"));
    out!("tags:       {}", p.tags.join(", "));
    out!("categories: {}", p.categories.join(", "));
    out!("encoding:   {}", p.encoding);
    for pr in &p.problems {
        out!("problem:    {} {}", pr.kind, pr.message);
    }
    out!("");
    let article = shelfmark_core::post::article_text(&p.text, &p.article);
    if whole_page || article.len() == p.text.len() {
        out!("{}", p.text);
    } else {
        out!("{article}");
        let hidden = p
            .text
            .chars()
            .count()
            .saturating_sub(article.chars().count());
        eprintln!("(the article only: {hidden} characters of page around it left out; --whole-page prints them)");
    }
}

pub fn problems(rows: &[ProblemRow], as_json: bool) {
    if as_json {
        return json(&rows);
    }
    if rows.is_empty() {
        out!("no problems");
    }
    for r in rows {
        let pos = match (r.line, r.column) {
            (Some(l), Some(c)) => format!(":{l}:{c}"),
            (Some(l), None) => format!(":{l}"),
            _ => String::new(),
        };
        out!("{}{pos}: {}: {}", r.path, r.kind, r.message);
    }
}

fn facet_block(name: &str, values: &[FacetCount]) {
    if values.is_empty() {
        return;
    }
    out!("{name}:");
    for v in values {
        out!("  {:>7}  {}", v.count, v.value);
    }
}

pub fn facets(f: &FacetsResponse, as_json: bool) {
    if as_json {
        return json(f);
    }
    out!("{} posts", f.total);
    facet_block("tags", &f.facets.tags);
    facet_block("categories", &f.facets.categories);
    facet_block("authors", &f.facets.authors);
    facet_block("sites", &f.facets.sites);
    facet_block("years", &f.facets.years);
}

pub fn stats(s: &Stats, as_json: bool) {
    if as_json {
        return json(s);
    }
    out!("archive:    {}", s.archive);
    out!(
        "index:      {} ({:.1} MB, schema {})",
        s.index_path,
        s.index_bytes as f64 / 1e6,
        s.schema_version
    );
    out!("posts:      {}", s.posts);
    out!(
        "problems:   {} in {} files",
        s.problems,
        s.files_with_problems
    );
    out!(
        "tags:       {}   categories: {}   authors: {}   sites: {}",
        s.tags,
        s.categories,
        s.authors,
        s.sites
    );
    out!(
        "dates:      {} … {}",
        s.earliest.as_deref().unwrap_or("-"),
        s.latest.as_deref().unwrap_or("-")
    );
}
