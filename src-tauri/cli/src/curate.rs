//! `collection` and `export`: curated sets of posts, and exporting them to folders or zips.

use crate::output::{json, out, progress_bar};
use clap::{Args, Subcommand};
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::collections::CollectionSummary;
use shelfmark_core::edit::EditTarget;
use shelfmark_core::export::{ExportFormat, ExportRequest, ExportSource, ExportSummary};
use std::io::Write;
use std::sync::atomic::AtomicBool;

#[derive(Subcommand, Clone)]
pub enum CollectionAction {
    /// List the collections with their post counts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a collection: manual (fill it with --query or PATHs), or a saved search (--smart).
    Create {
        name: String,
        /// Add the posts this query matches now.
        #[arg(long, short = 'q', conflicts_with = "smart")]
        query: Option<String>,
        /// A smart collection: this saved query decides its posts, now and later.
        #[arg(long, value_name = "QUERY")]
        smart: Option<String>,
        /// Posts to add (relative paths, or `hex:<bytes>`).
        paths: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Add posts (by --query or PATHs) to the end of a manual collection.
    Add {
        name: String,
        #[arg(long, short = 'q', conflicts_with = "paths")]
        query: Option<String>,
        paths: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Remove posts from a manual collection.
    Remove {
        name: String,
        #[arg(required = true)]
        paths: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// List a collection's posts in order.
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Rename a collection.
    Rename {
        name: String,
        new_name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a collection (its posts stay where they are).
    Delete {
        name: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Clone)]
pub struct ExportArgs {
    /// Export this collection.
    #[arg(long, conflicts_with = "query", required_unless_present = "query")]
    collection: Option<String>,
    /// Export the posts this query matches ('' for all).
    #[arg(long, short = 'q')]
    query: Option<String>,
    /// The target folder (or zip file with --zip).
    #[arg(long)]
    to: String,
    /// keep, jekyll, by-tag, by-category, by-author, by-site, by-month, or template:"{year}/{month}/{slug}.md"
    #[arg(long, default_value = "keep")]
    layout: String,
    /// copy (byte-identical), rewrite (with --set/--remove), or html (a readable offline edition).
    #[arg(long, default_value = "copy")]
    format: String,
    /// KEY=VALUE (VALUE is YAML) set in every exported copy (implies --format rewrite).
    #[arg(long, value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// A key removed from every exported copy (implies --format rewrite).
    #[arg(long, value_name = "KEY")]
    remove: Vec<String>,
    /// Write one zip file instead of a folder.
    #[arg(long)]
    zip: bool,
    /// Replace files in the target that the last export did not write (or that changed since).
    #[arg(long)]
    overwrite: bool,
    /// Delete files the last export wrote for posts no longer exported (if untouched since).
    #[arg(long)]
    delete_removed: bool,
    /// Show the plan (the first paths, counts) and write nothing.
    #[arg(long)]
    dry_run: bool,
    #[arg(long)]
    json: bool,
}

fn usage(message: String) -> ApiError {
    ApiError {
        code: shelfmark_core::ErrorCode::Usage,
        message,
        path: None,
    }
}

fn target(query: Option<String>, paths: Vec<String>) -> Option<EditTarget> {
    match query {
        Some(query) => Some(EditTarget::Query { query }),
        None if paths.is_empty() => None,
        None => Some(EditTarget::Paths {
            paths,
            hashes: None,
        }),
    }
}

fn summary_line(c: &CollectionSummary) {
    let kind = match &c.query {
        Some(q) => format!("saved search: {q}"),
        None => "manual".into(),
    };
    let missing = if c.missing > 0 {
        format!(", {} missing", c.missing)
    } else {
        String::new()
    };
    out!("{}  {} posts{missing}  ({kind})", c.name, c.count);
}

pub fn collection(archive: &Archive, action: CollectionAction) -> Result<(), ApiError> {
    match action {
        CollectionAction::List { json: as_json } => {
            let list = archive.collections()?;
            if as_json {
                json(&list);
            } else if list.is_empty() {
                out!("no collections yet; create one with `shelfmark collection create NAME`");
            } else {
                list.iter().for_each(summary_line);
            }
        }
        CollectionAction::Create {
            name,
            query,
            smart,
            paths,
            json: as_json,
        } => {
            let posts = target(query, paths);
            let c = archive.collection_create(&name, smart, posts.as_ref())?;
            if as_json {
                json(&c);
            } else {
                summary_line(&c);
            }
        }
        CollectionAction::Add {
            name,
            query,
            paths,
            json: as_json,
        } => {
            let posts = target(query, paths).ok_or_else(|| {
                usage("name the posts: --query QUERY, or one or more PATHs".into())
            })?;
            let c = archive.collection_add(&name, &posts)?;
            if as_json {
                json(&c);
            } else {
                summary_line(&c);
            }
        }
        CollectionAction::Remove {
            name,
            paths,
            json: as_json,
        } => {
            let c = archive.collection_remove(&name, &paths)?;
            if as_json {
                json(&c);
            } else {
                summary_line(&c);
            }
        }
        CollectionAction::Show {
            name,
            json: as_json,
        } => {
            let posts = archive.collection_posts(&name)?;
            if as_json {
                json(&posts);
            } else {
                summary_line(&posts.collection);
                posts.paths.iter().for_each(|p| out!("{p}"));
                for m in &posts.missing {
                    eprintln!("missing: {m} (not found by path or by content)");
                }
            }
        }
        CollectionAction::Rename {
            name,
            new_name,
            json: as_json,
        } => {
            archive.collection_rename(&name, &new_name)?;
            if as_json {
                json(&archive.collection_posts(&new_name)?.collection);
            }
        }
        CollectionAction::Delete {
            name,
            json: as_json,
        } => {
            archive.collection_delete(&name)?;
            if as_json {
                json(&serde_json::json!({ "deleted": name }));
            }
        }
    }
    Ok(())
}

pub fn export(archive: &Archive, a: ExportArgs) -> Result<(), ApiError> {
    let format = match a.format.as_str() {
        _ if !a.set.is_empty() || !a.remove.is_empty() => ExportFormat::Rewrite,
        "copy" => ExportFormat::Copy,
        "rewrite" => ExportFormat::Rewrite,
        "html" => ExportFormat::Html,
        other => {
            return Err(usage(format!(
                "unknown format `{other}`: use copy, rewrite or html"
            )))
        }
    };
    let source = match (a.collection, a.query) {
        (Some(name), _) => ExportSource::Collection { name },
        (None, Some(query)) => ExportSource::Query { query },
        (None, None) => {
            return Err(usage(
                "say what to export: --collection NAME or --query QUERY".into(),
            ))
        }
    };
    let req = ExportRequest {
        source,
        to: a.to,
        layout: a.layout,
        format,
        set: a.set,
        remove: a.remove,
        zip: a.zip,
        overwrite: a.overwrite,
        delete_removed: a.delete_removed,
        dry_run: a.dry_run,
    };
    let bar = if a.dry_run {
        indicatif::ProgressBar::hidden()
    } else {
        progress_bar("{spinner} exporting {pos}/{len} [{wide_bar}] {per_sec}")
    };
    let cancel = AtomicBool::new(false);
    let s = archive.export(
        &req,
        &|p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        },
        &cancel,
    );
    bar.finish_and_clear();
    let s = s?;
    if a.json {
        json(&s);
    } else {
        print_summary(&s);
    }
    if s.written + s.updated + s.unchanged == 0
        && (!s.problems.is_empty() || !s.conflicts.is_empty())
    {
        return Err(ApiError {
            code: shelfmark_core::ErrorCode::Export,
            message: "nothing was exported".into(),
            path: None,
        });
    }
    Ok(())
}

fn print_summary(s: &ExportSummary) {
    if s.dry_run {
        for r in &s.preview {
            out!("{}  ←  {}", r.exported, r.source);
        }
        if s.posts as usize > s.preview.len() {
            out!("… {} more", s.posts as usize - s.preview.len());
        }
        out!(
            "would export {} posts to {} ({} renamed, {} of them for portability); nothing was written",
            s.posts,
            s.to,
            s.renamed,
            s.portable
        );
    } else {
        out!(
            "exported {} posts to {} in {:.2}s: {} written, {} updated, {} unchanged, {} renamed ({} for portability)",
            s.posts,
            s.to,
            s.seconds,
            s.written,
            s.updated,
            s.unchanged,
            s.renamed,
            s.portable
        );
        if !s.extras.is_empty() {
            out!("also in the folder: {}", s.extras.join(", "));
        }
        if s.cancelled {
            out!("cancelled: files written so far stay");
        }
        if !s.removed.is_empty() {
            out!(
                "{} files of the last export belong to posts no longer exported ({} deleted){}",
                s.removed.len(),
                s.deleted,
                if s.deleted == 0 {
                    "; --delete-removed deletes them"
                } else {
                    ""
                }
            );
        }
    }
    for c in s.conflicts.iter().take(10) {
        eprintln!("not replaced {}: {}", c.path, c.reason);
    }
    for p in s.problems.iter().take(10) {
        eprintln!("not exported {}: {}", p.path, p.reason);
    }
    let more = s.conflicts.len().saturating_sub(10) + s.problems.len().saturating_sub(10);
    if more > 0 {
        eprintln!("… and {more} more (--json lists them all)");
    }
}
