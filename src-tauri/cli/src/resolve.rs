//! `resolve`: settle a group of duplicates (keep one post; tag, move or delete the others), with
//! `--dry-run`. One operation of the journal: `undo`, `redo` and `recover` work on it.

use crate::edit::outcome;
use crate::output::{json, out};
use clap::Args;
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::edit::{ResolveAction, ResolveRequest};
use std::io::Write;
use std::sync::atomic::AtomicBool;

#[derive(Args, Clone)]
pub struct ResolveArgs {
    /// The post to keep.
    #[arg(long, value_name = "PATH")]
    pub keep: String,
    /// Tag the others with T (`duplicate` when no action is given).
    #[arg(long, value_name = "T", conflicts_with_all = ["move_to", "delete"])]
    pub tag: Option<String>,
    /// Move the others into this folder of the archive (created when missing).
    #[arg(long = "move", value_name = "DIR", conflicts_with = "delete")]
    pub move_to: Option<String>,
    /// Delete the others (`undo` brings them back).
    #[arg(long)]
    pub delete: bool,
    /// Add the others' source URLs to the kept post's `also_from` list.
    #[arg(long)]
    pub also_from: bool,
    /// PATH=HASH: the version of PATH you saw (the `hash` that `show --json` prints); a file
    /// changed since is a conflict, and nothing is changed.
    #[arg(long, value_name = "PATH=HASH")]
    pub seen: Vec<String>,
    /// Print what would change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the result (or the plan) as JSON.
    #[arg(long)]
    pub json: bool,
    /// The other posts of the group.
    #[arg(required = true, value_name = "OTHER")]
    pub others: Vec<String>,
}

pub fn resolve(archive: &Archive, args: ResolveArgs) -> Result<(), ApiError> {
    let action = match (args.move_to, args.delete) {
        (Some(folder), _) => ResolveAction::Move { folder },
        (None, true) => ResolveAction::Delete,
        (None, false) => ResolveAction::Tag { tag: args.tag },
    };
    let hashes = args
        .seen
        .iter()
        .map(|s| {
            s.rsplit_once('=')
                .map(|(p, h)| (p.to_string(), h.to_string()))
                .ok_or_else(|| ApiError {
                    code: shelfmark_core::ErrorCode::Usage,
                    message: format!("`{s}` is not PATH=HASH"),
                    path: None,
                })
        })
        .collect::<Result<std::collections::BTreeMap<_, _>, _>>()?;
    let req = ResolveRequest {
        keep: args.keep,
        others: args.others,
        hashes: (!hashes.is_empty()).then_some(hashes),
        action,
        record_sources: args.also_from,
    };
    if args.dry_run {
        let plan = archive.preview_resolve(&req)?;
        if args.json {
            json(&plan);
        } else {
            for d in &plan.diffs {
                out!("{}", d.diff.trim_end());
            }
            for line in &plan.lines {
                out!("{line}");
            }
            for f in &plan.folders {
                out!("create folder {f}");
            }
            for u in &plan.unchanged {
                out!("already so: {u}");
            }
            out!("{}: nothing was written (dry run)", plan.label);
        }
        return Ok(());
    }
    let cancel = AtomicBool::new(false);
    let result = archive.resolve_duplicates(&req, &|_| {}, &cancel)?;
    outcome(&result, "changed", args.json)
}
