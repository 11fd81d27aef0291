//! `duplicates`: groups of duplicate posts, and "not duplicates" decisions.

use crate::output::{json, out, progress_bar};
use clap::Args;
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::dupes::{DuplicateKind, DuplicateKindFilter, DuplicatesRequest};
use std::io::Write;
use std::sync::atomic::AtomicBool;

#[derive(Args, Clone)]
pub struct DuplicatesArgs {
    /// Only posts this query matches (see docs/QUERY.md); every post when absent.
    pub query: Option<String>,
    /// Print `{"groups":[{"kind","similarity","posts":[{"path","title","date","source",...}]}],...}`.
    #[arg(long)]
    pub json: bool,
    /// exact (same text), url (same source URL), near (the same article, edited or re-wrapped) or all.
    #[arg(long, default_value = "all", value_parser = parse_kind)]
    pub kind: DuplicateKindFilter,
    /// How similar two posts must be to be near-duplicates, above 0 and at most 1.
    #[arg(long, value_name = "X", default_value_t = shelfmark_core::dupes::DEFAULT_MIN_SIMILARITY)]
    pub min_similarity: f64,
    /// Record that these posts (two or more) are not duplicates of each other, instead of
    /// listing (kept in .shelfmark/decisions.json).
    #[arg(long, value_name = "PATH", num_args = 2.., conflicts_with = "forget")]
    pub not_duplicates: Option<Vec<String>>,
    /// Forget the "not duplicates" decisions that name all of these posts.
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub forget: Option<Vec<String>>,
}

fn parse_kind(s: &str) -> Result<DuplicateKindFilter, String> {
    serde_json::from_value(serde_json::Value::String(s.to_ascii_lowercase()))
        .map_err(|_| format!("{s:?} is not a kind: exact, url, near or all"))
}

fn kind_name(k: DuplicateKind) -> &'static str {
    match k {
        DuplicateKind::Exact => "exact",
        DuplicateKind::Url => "url",
        DuplicateKind::Near => "near",
    }
}

pub fn run(archive: &Archive, args: DuplicatesArgs) -> Result<(), ApiError> {
    if let Some(paths) = &args.not_duplicates {
        let d = archive.not_duplicates(paths)?;
        if args.json {
            json(&d);
            return Ok(());
        }
        out!("recorded: {} posts are not duplicates", d.posts.len());
        return Ok(());
    }
    if let Some(paths) = &args.forget {
        let n = archive.forget_decision(paths)?;
        if args.json {
            json(&serde_json::json!({ "forgotten": n }));
            return Ok(());
        }
        out!("forgot {n} decision{}", if n == 1 { "" } else { "s" });
        return Ok(());
    }
    let req = DuplicatesRequest {
        kind: Some(args.kind),
        min_similarity: Some(args.min_similarity),
        query: args.query.clone(),
    };
    let bar = progress_bar("{spinner} reading texts {pos}/{len} [{wide_bar}] eta {eta}");
    let r = archive.duplicates(
        &req,
        &|p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        },
        &AtomicBool::new(false),
    )?;
    bar.finish_and_clear();
    if args.json {
        json(&r);
        return Ok(());
    }
    out!(
        "{} groups among {} posts: exact {}, url {}, near {} (near from similarity {})",
        r.groups.len(),
        r.posts,
        r.counts.exact,
        r.counts.url,
        r.counts.near,
        r.min_similarity
    );
    for g in &r.groups {
        out!("");
        match &g.key {
            Some(key) => out!("{}  {} posts  {}", kind_name(g.kind), g.posts.len(), key),
            None => out!(
                "{}  {} posts  similarity {:.2}",
                kind_name(g.kind),
                g.posts.len(),
                g.similarity
            ),
        }
        for p in &g.posts {
            let date = p
                .date
                .as_deref()
                .map(|d| &d[..d.len().min(10)])
                .unwrap_or("----------");
            out!("  {date}  {}", p.title);
            out!("              {}", p.path);
        }
    }
    Ok(())
}
