//! `duplicates`: groups of duplicate posts, and "not duplicates" decisions.

use crate::output::{day, json, out, progress_bar};
use clap::Args;
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::dupes::{
    DuplicateGroup, DuplicateKind, DuplicateKindFilter, DuplicatesRequest, DuplicatesSummary,
};
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
        ..Default::default()
    };
    let bar = progress_bar("{spinner} reading texts {pos}/{len} [{wide_bar}] eta {eta}");
    // Groups are written as they come (at a million posts that are all duplicates, holding
    // them all would take a gigabyte): the JSON is `{"counts":…,…,"groups":[…]}`.
    let out = std::cell::RefCell::new(std::io::BufWriter::new(std::io::stdout().lock()));
    let mut first = true;
    let json_out = args.json;
    let write_err = |e: std::io::Error| shelfmark_core::error::Error::Write {
        path: "<stdout>".into(),
        source: e,
    };
    let mut head = |s: &DuplicatesSummary| -> shelfmark_core::error::Result<()> {
        bar.finish_and_clear();
        let mut out = out.borrow_mut();
        if json_out {
            // The summary's keys, then the groups as they come.
            let text = serde_json::to_string(s).map_err(|e| write_err(std::io::Error::other(e)))?;
            let keys = text.strip_prefix('{').and_then(|t| t.strip_suffix('}'));
            match keys {
                Some(k) if !k.is_empty() => write!(out, "{{{k},\"groups\":["),
                _ => write!(out, "{{\"groups\":["),
            }
            .map_err(write_err)
        } else {
            writeln!(
                out,
                "{} groups among {} posts: exact {}, url {}, near {} (near from similarity {})",
                s.counts.exact + s.counts.url + s.counts.near,
                s.posts,
                s.counts.exact,
                s.counts.url,
                s.counts.near,
                s.min_similarity
            )
            .map_err(write_err)
        }
    };
    let mut emit = |g: DuplicateGroup| -> shelfmark_core::error::Result<()> {
        let mut emit_out = out.borrow_mut();
        let emit_out = &mut *emit_out;
        if json_out {
            if !first {
                emit_out.write_all(b",").map_err(write_err)?;
            }
            first = false;
            serde_json::to_writer(&mut *emit_out, &g)
                .map_err(|e| write_err(std::io::Error::other(e)))
        } else {
            let mut w = || -> std::io::Result<()> {
                writeln!(emit_out)?;
                match &g.key {
                    Some(key) => writeln!(
                        emit_out,
                        "{}  {} posts  {}",
                        kind_name(g.kind),
                        g.posts.len(),
                        key
                    )?,
                    None => writeln!(
                        emit_out,
                        "{}  {} posts  similarity {:.2}",
                        kind_name(g.kind),
                        g.posts.len(),
                        g.similarity
                    )?,
                }
                for p in &g.posts {
                    let date = day(p.date.as_deref());
                    writeln!(emit_out, "  {date}  {}", p.title)?;
                    writeln!(emit_out, "              {}", p.path)?;
                }
                Ok(())
            };
            w().map_err(write_err)
        }
    };
    archive.duplicates_each(
        &req,
        &|p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        },
        &AtomicBool::new(false),
        &mut head,
        &mut emit,
    )?;
    let mut out = out.borrow_mut();
    if json_out {
        writeln!(out, "]}}").map_err(write_err)?;
    }
    out.flush().map_err(write_err)?;
    Ok(())
}
