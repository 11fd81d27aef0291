//! The editing commands: `set`, `unset`, `tag`, `category` (with `--dry-run`), and how edits,
//! undo, redo and the history are printed.

use crate::output::{json, out, progress_bar};
use clap::{Args, Subcommand};
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::edit::{
    EditOp, EditOutcome, EditRequest, EditTarget, HistoryEntry, PruneOutcome,
};
use shelfmark_core::search::query::quote;
use std::io::Write;
use std::sync::atomic::AtomicBool;

#[derive(Args, Clone, Default)]
pub struct EditFlags {
    /// Print what would change (files and diffs) and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result (or the plan) as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which posts a tag or category command applies to.
#[derive(Args, Clone)]
pub struct Selection {
    /// Every post this query matches (see docs/QUERY.md).
    #[arg(long, short = 'q', conflicts_with = "paths")]
    pub query: Option<String>,
    /// Posts by path (relative to the archive, or `hex:<bytes>`).
    pub paths: Vec<String>,
}

#[derive(Subcommand, Clone)]
pub enum TermAction {
    /// Add NAME to the selected posts.
    Add {
        name: String,
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        opts: EditFlags,
    },
    /// Remove NAME from the selected posts.
    Remove {
        name: String,
        #[command(flatten)]
        sel: Selection,
        #[command(flatten)]
        opts: EditFlags,
    },
    /// Rename OLD to NEW in every post that has it.
    Rename {
        old: String,
        new: String,
        #[command(flatten)]
        opts: EditFlags,
    },
    /// Merge every OLD into NEW, in every post that has any of them.
    Merge {
        new: String,
        #[arg(required = true)]
        old: Vec<String>,
        #[command(flatten)]
        opts: EditFlags,
    },
    /// Remove NAME from every post that has it.
    Delete {
        name: String,
        #[command(flatten)]
        opts: EditFlags,
    },
}

fn usage(message: String) -> ApiError {
    ApiError {
        code: shelfmark_core::ErrorCode::Usage,
        message,
        path: None,
    }
}

pub fn paths_target(paths: Vec<String>) -> EditTarget {
    EditTarget::Paths {
        paths,
        hashes: None,
    }
}

/// `KEY=VALUE` arguments as `set` ops; VALUE is read as YAML.
pub fn assignments(args: &[String]) -> Result<Vec<EditOp>, ApiError> {
    args.iter()
        .map(|a| {
            let (key, value) = a
                .split_once('=')
                .ok_or_else(|| usage(format!("`{a}` is not KEY=VALUE")))?;
            let value: serde_json::Value = if value.trim().is_empty() {
                serde_json::Value::String(String::new())
            } else {
                shelfmark_core::edit::parse_value(value)
                    .map_err(|e| usage(format!("the value of `{key}` is not YAML: {e}")))?
            };
            Ok(EditOp::Set {
                key: key.trim().to_string(),
                value,
            })
        })
        .collect()
}

pub fn term(
    archive: &Archive,
    key: &str,
    filter: &str,
    action: TermAction,
) -> Result<(), ApiError> {
    let key = key.to_string();
    let with_any = |names: &[String]| EditTarget::Query {
        query: names
            .iter()
            .map(|n| format!("{filter}:{}", quote(n)))
            .collect::<Vec<_>>()
            .join(" OR "),
    };
    let selection = |sel: Selection| match sel.query {
        Some(query) => Ok(EditTarget::Query { query }),
        None if sel.paths.is_empty() => Err(usage(
            "name the posts: --query QUERY, or one or more PATHs".into(),
        )),
        None => Ok(paths_target(sel.paths)),
    };
    let (target, op, opts, label) = match action {
        TermAction::Add { name, sel, opts } => (
            selection(sel)?,
            EditOp::AddItems {
                key,
                items: vec![name.clone()],
            },
            opts,
            format!("{filter} add {name}"),
        ),
        TermAction::Remove { name, sel, opts } => (
            selection(sel)?,
            EditOp::RemoveItems {
                key,
                items: vec![name.clone()],
            },
            opts,
            format!("{filter} remove {name}"),
        ),
        TermAction::Rename { old, new, opts } => (
            with_any(std::slice::from_ref(&old)),
            EditOp::RenameItems {
                key,
                from: vec![old.clone()],
                to: new.clone(),
            },
            opts,
            format!("{filter} rename {old} → {new}"),
        ),
        TermAction::Merge { new, old, opts } => (
            with_any(&old),
            EditOp::RenameItems {
                key,
                from: old.clone(),
                to: new.clone(),
            },
            opts,
            format!("{filter} merge {} → {new}", old.join(", ")),
        ),
        TermAction::Delete { name, opts } => (
            with_any(std::slice::from_ref(&name)),
            EditOp::RemoveItems {
                key,
                items: vec![name.clone()],
            },
            opts,
            format!("{filter} delete {name}"),
        ),
    };
    let req = EditRequest {
        target,
        ops: vec![op],
        label: Some(label),
    };
    run_request(archive, &req, &opts)
}

pub fn run(
    archive: &Archive,
    target: EditTarget,
    ops: Vec<EditOp>,
    opts: &EditFlags,
) -> Result<(), ApiError> {
    let req = EditRequest {
        target,
        ops,
        label: None,
    };
    run_request(archive, &req, opts)
}

pub fn run_request(archive: &Archive, req: &EditRequest, opts: &EditFlags) -> Result<(), ApiError> {
    if opts.dry_run {
        let plan = archive.preview_edit(req, usize::MAX)?;
        if opts.json {
            json(&plan);
        } else {
            for d in &plan.diffs {
                out!("{}", d.diff.trim_end());
            }
            out!(
                "{}: would change {} files ({} already so, {} skipped); nothing was written",
                plan.label,
                plan.changes,
                plan.unchanged,
                plan.skipped.len()
            );
            print_skipped(&plan.skipped);
        }
        return Ok(());
    }
    let bar = progress_bar("{spinner} writing {pos}/{len} files [{wide_bar}]");
    let cancel = AtomicBool::new(false);
    let result = archive.apply_edit(
        req,
        &|p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
        },
        &cancel,
    );
    bar.finish_and_clear();
    outcome(&result?, "changed", opts.json)
}

/// Print what an edit, undo or redo did. Fails (exit 1) when nothing was written and files were
/// refused, so `shelfmark set` on a file that cannot be edited says so in its status.
pub fn outcome(o: &EditOutcome, verb: &str, as_json: bool) -> Result<(), ApiError> {
    if as_json {
        json(o);
    } else {
        let op = o
            .op_id
            .map(|id| format!(" (operation {id})"))
            .unwrap_or_default();
        out!(
            "{}: {verb} {} files{op}, {} already so, {} skipped",
            o.label,
            o.written,
            o.unchanged,
            o.skipped.len()
        );
    }
    print_skipped(&o.skipped);
    if o.written == 0 && !o.skipped.is_empty() {
        let first = &o.skipped[0];
        return Err(ApiError {
            code: shelfmark_core::ErrorCode::Edit,
            message: format!("nothing was written: {} {}", first.path, first.reason),
            path: Some(first.path.clone()),
        });
    }
    Ok(())
}

/// The files left alone, on stderr: the first few in full, then counts by reason.
fn print_skipped(skipped: &[shelfmark_core::edit::Skipped]) {
    const SHOWN: usize = 10;
    for s in skipped.iter().take(SHOWN) {
        eprintln!("skipped {}: {}", s.path, s.reason);
    }
    if skipped.len() > SHOWN {
        let mut kinds: std::collections::BTreeMap<&str, usize> = Default::default();
        for s in &skipped[SHOWN..] {
            *kinds.entry(s.kind.as_str()).or_default() += 1;
        }
        let counts: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        eprintln!(
            "… and {} more skipped ({}); --json lists them all",
            skipped.len() - SHOWN,
            counts.join(", ")
        );
    }
}

pub fn history(entries: &[HistoryEntry], as_json: bool) {
    if as_json {
        return json(&entries);
    }
    if entries.is_empty() {
        out!("no edits yet");
    }
    for e in entries {
        let state = serde_json::to_value(e.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        out!(
            "{:>4}  {}  {:<8}  {:>6} files  {}",
            e.id,
            e.created,
            state,
            e.files,
            e.label
        );
    }
}

pub fn pruned(o: &PruneOutcome, as_json: bool) {
    if as_json {
        return json(o);
    }
    out!(
        "removed {} operations ({} bytes); the journal keeps {} operations ({} bytes)",
        o.removed,
        o.freed_bytes,
        o.kept,
        o.kept_bytes
    );
}
