//! `shelfmark lint`: the archive's data-quality findings, and a kind's fix applied (or, with
//! `--dry-run`, shown) through the edit path, undoable with `shelfmark undo`.

use crate::edit::{run_request, EditFlags};
use crate::output::{json, out};
use clap::Args;
use shelfmark_core::api::{ApiError, Archive};
use shelfmark_core::lint::{LintOptions, LintReport};
use std::io::Write;

#[derive(Args, Clone)]
pub struct LintArgs {
    /// Print `{"posts","total","kinds":[...],"findings":[{"kind","path","field","message","fix"}]}`.
    #[arg(long)]
    pub json: bool,
    /// Only findings of this kind (every kind's count is printed whatever this says).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// List at most N findings (default: all with --json or --kind, else 50).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// Skip the first N findings.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub offset: u64,
    /// Apply the fix of kind KIND to every post with that finding (one operation, one undo).
    #[arg(long, value_name = "KIND", conflicts_with = "kind")]
    pub fix: Option<String>,
    /// With --fix: which of the kind's fixes (needed where none is certain; see the list).
    #[arg(long, value_name = "FIX", requires = "fix")]
    pub choice: Option<String>,
    /// With --fix: print the diffs and write nothing.
    #[arg(long, requires = "fix")]
    pub dry_run: bool,
    /// Leave out the `duplicates` kind (finding it compares every post's text).
    #[arg(long)]
    pub no_duplicates: bool,
}

pub fn run(archive: &Archive, args: LintArgs) -> Result<(), ApiError> {
    if let Some(kind) = &args.fix {
        let fix = archive.lint_fix(kind, args.choice.as_deref())?;
        if !args.json {
            out!(
                "{}: {} ({} posts){}",
                fix.kind,
                fix.fix.label,
                fix.fix.posts,
                if fix.fix.certain {
                    ""
                } else {
                    " [not certain]"
                }
            );
            out!("  {}", fix.fix.note);
        }
        if fix.fix.posts == 0 {
            if !args.json {
                out!("nothing to fix");
            }
            return Ok(());
        }
        let flags = EditFlags {
            dry_run: args.dry_run,
            json: args.json,
        };
        return run_request(archive, &fix.request, &flags);
    }
    let listed = args.json || args.kind.is_some();
    let limit = args.limit.unwrap_or(if listed { u64::MAX } else { 50 });
    let report = archive.lint(&LintOptions {
        kind: args.kind.clone(),
        limit: Some(limit),
        offset: Some(args.offset),
        duplicates: !args.no_duplicates,
    })?;
    if args.json {
        json(&report);
    } else {
        print(&report, args.offset);
    }
    Ok(())
}

fn print(report: &LintReport, offset: u64) {
    out!("{} posts", report.posts);
    for k in &report.kinds {
        let fixes: Vec<String> = k
            .choices
            .iter()
            .map(|c| {
                let mark = if c.certain { "" } else { "?" };
                format!("{}{mark}", c.id)
            })
            .collect();
        let fixes = if fixes.is_empty() {
            String::new()
        } else {
            format!("  fix: {}", fixes.join(", "))
        };
        out!(
            "  {:>7} {:<18} in {} posts{fixes}",
            k.count,
            k.kind,
            k.posts
        );
    }
    for f in &report.findings {
        match &f.fix {
            Some(fix) => out!(
                "{}: {} {}: {} [fix: {fix}]",
                f.path,
                f.kind,
                f.field,
                f.message
            ),
            None => out!("{}: {} {}: {}", f.path, f.kind, f.field, f.message),
        }
    }
    let shown = offset + report.findings.len() as u64;
    if shown < report.total {
        out!(
            "… {} more findings (--kind KIND, --limit N, --offset N); fix a kind with --fix KIND [--choice FIX] [--dry-run] (`?`: not certain, choose it explicitly)",
            report.total - shown
        );
    }
}
