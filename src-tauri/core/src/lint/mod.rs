//! The data-quality workbench: findings about the archive's posts (dates, text fields, tag
//! variants, missing titles, empty bodies, sources that are not URLs), each kind with a count and,
//! where one is sensible, a bulk fix expressed as one `EditRequest` over the posts concerned, so
//! it goes through the one edit path (preview, journal, undo, conflict checks by hash).
//!
//! Findings come from the index alone (the `posts` table: front matter as JSON, the parsed date,
//! the epoch comment, the body's text length, tags and categories), one pass over its rows (a
//! second over tags and categories when some differ only in form), so no post file is read.
//! The output is bounded: every kind's count, and one page of findings (`limit`, `offset`,
//! optionally of one kind). A fix's request is asked for separately (`fix_request`), since it
//! names every post of the kind.
//!
//! A fix never loses information silently: fixes that are certain (entities decoded, formatting
//! tags stripped, whitespace trimmed, mojibake repaired when its round trip is clean, variants
//! merged into their most used form) are the kind's `fix`; where which value is right is not
//! known (a date against the file name or the epoch comment) the fixes are only `choices`, each
//! saying so; kinds with no sensible fix (empty body, missing title, a source that is not a URL,
//! an unreadable epoch comment) have none.

mod detect;
mod variants;

use crate::edit::{EditOp, EditRequest, EditTarget};
use crate::error::{ApiError, ApiResult, ErrorCode, Result, SqlContext};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

pub use detect::Kind;

/// One finding: a post, the field concerned, what is wrong, and what the kind's fix would make
/// of it (None when the fix does not apply to this post).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Finding {
    pub kind: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path_bytes_hex: Option<String>,
    /// The front matter key (`author`, `tags`, `date`), or `body`.
    pub field: String,
    pub message: String,
    pub fix: Option<String>,
}

/// A fix offered for a kind: its id (for `fix_request`), words for it, whether it is certain,
/// a note on what it does, and how many posts it would edit.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LintFixInfo {
    pub id: String,
    pub label: String,
    /// False when which value is right is not known: the user chooses.
    pub certain: bool,
    pub note: String,
    pub posts: u64,
}

/// One kind of finding: how many findings and posts, and its fixes.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LintKind {
    pub kind: String,
    /// Findings of this kind (a post may have several: one per field).
    pub count: u64,
    /// Posts with at least one.
    pub posts: u64,
    /// The certain fix, when the kind has one.
    pub fix: Option<LintFixInfo>,
    /// Every fix offered, certain or not (the `fix` among them); empty when there is none.
    pub choices: Vec<LintFixInfo>,
}

/// The findings of an archive: every kind with its count (kinds with none are listed too), and
/// one page of findings.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LintReport {
    /// Posts looked at.
    pub posts: u64,
    pub kinds: Vec<LintKind>,
    /// Findings of the page asked for: by path, the tag and category variants after the rest.
    pub findings: Vec<Finding>,
    /// Findings there are of the kind asked for (of every kind when none was).
    pub total: u64,
}

/// A kind's fix as an edit request, to preview and apply through the edit path.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LintFix {
    pub kind: String,
    pub fix: LintFixInfo,
    pub request: EditRequest,
}

/// What to list.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LintOptions {
    /// Only findings of this kind.
    pub kind: Option<String>,
    /// Findings listed at most (default `DEFAULT_LIMIT`).
    pub limit: Option<u64>,
    pub offset: Option<u64>,
    /// Also list duplicates (the `duplicates` kind): this compares every post's text, so it is
    /// asked for (a kind of `duplicates` asks for it too).
    #[serde(default)]
    pub duplicates: bool,
}

/// The kind of the findings that come from `crate::dupes` rather than from the index's rows.
pub const DUPLICATES: &str = "duplicates";

/// Findings listed when no limit is given.
pub const DEFAULT_LIMIT: u64 = 200;

fn bad_request(message: String) -> ApiError {
    ApiError::new(ErrorCode::BadRequest, message)
}

/// The kind named by `name`, or a bad-request error listing the kinds.
fn kind_named(name: &str) -> ApiResult<Kind> {
    Kind::ALL
        .iter()
        .copied()
        .find(|k| k.as_str() == name)
        .ok_or_else(|| {
            let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
            bad_request(format!(
                "`{name}` is not a kind of finding; the kinds are {}",
                all.join(", ")
            ))
        })
}

/// Every kind's count and one page of findings.
pub fn report(conn: &Connection, opts: &LintOptions) -> ApiResult<LintReport> {
    let only = match opts.kind.as_deref() {
        // Counted here like every kind, listed by `add_duplicates`.
        Some(DUPLICATES) => {
            return report(
                conn,
                &LintOptions {
                    kind: None,
                    limit: Some(0),
                    offset: Some(0),
                    duplicates: false,
                },
            )
            .map(|r| LintReport {
                findings: Vec::new(),
                total: 0,
                ..r
            })
        }
        k => k.map(kind_named).transpose()?,
    };
    let limit = opts.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = opts.offset.unwrap_or(0);
    let mut tally = detect::Tally::default();
    let mut findings = Vec::new();
    let mut total = 0u64;
    let scanned = detect::scan(conn, &mut |post, hit| {
        tally.add(post, &hit);
        if only.is_none_or(|k| k == hit.kind) {
            if total >= offset && total < offset.saturating_add(limit) {
                findings.push(Finding {
                    kind: hit.kind.as_str().to_string(),
                    path: post.path_text.clone(),
                    path_bytes_hex: crate::search::searcher::path_bytes_hex(&post.path),
                    field: hit.field,
                    message: hit.message,
                    fix: hit.fix,
                });
            }
            total += 1;
        }
    })?;
    Ok(LintReport {
        posts: scanned.posts,
        kinds: tally.kinds(),
        findings,
        total,
    })
}

/// Adds the `duplicates` kind to a report made by `report` with the same options: each post of a
/// group but its first is a finding that names the first. Its findings come after the index's in
/// the order findings are paged (path order, then groups by kind). No fix: a group is resolved
/// by choosing which post to keep (`duplicates --resolve`, or the Duplicates view).
pub fn add_duplicates(
    report: &mut LintReport,
    groups: &[crate::dupes::DuplicateGroup],
    opts: &LintOptions,
) {
    let listed = matches!(opts.kind.as_deref(), None | Some(DUPLICATES));
    let limit = opts.limit.unwrap_or(DEFAULT_LIMIT);
    let offset = opts.offset.unwrap_or(0);
    let mut count = 0u64;
    let mut posts = BTreeSet::new();
    for g in groups {
        let Some((first, rest)) = g.posts.split_first() else {
            continue;
        };
        let (field, what) = match g.kind {
            crate::dupes::DuplicateKind::Exact => ("body", "the same body as".to_string()),
            crate::dupes::DuplicateKind::Url => ("from", "the same source as".to_string()),
            crate::dupes::DuplicateKind::Near => (
                "body",
                format!(
                    "a near duplicate ({:.0}% similar) of",
                    (g.similarity * 100.0).floor()
                ),
            ),
        };
        for p in rest {
            posts.insert(p.path.clone());
            if listed {
                let at = report.total;
                if at >= offset && at < offset.saturating_add(limit) {
                    report.findings.push(Finding {
                        kind: DUPLICATES.to_string(),
                        path: p.path.clone(),
                        path_bytes_hex: p.path_bytes_hex.clone(),
                        field: field.to_string(),
                        message: format!("{what} `{}`", first.path),
                        fix: None,
                    });
                }
                report.total += 1;
            }
            count += 1;
        }
    }
    report.kinds.push(LintKind {
        kind: DUPLICATES.to_string(),
        count,
        posts: posts.len() as u64,
        fix: None,
        choices: Vec::new(),
    });
}

/// A kind's fix as one edit request over the posts it concerns (each with the hash the index
/// holds, so a file changed since is a conflict, not overwritten). `choice` picks one of the
/// kind's `choices` by id; without it the kind's certain fix is taken, and a kind with only
/// uncertain fixes is an error that names them.
pub fn fix_request(conn: &Connection, kind: &str, choice: Option<&str>) -> ApiResult<LintFix> {
    let kind = kind_named(kind)?;
    let fixes = detect::fixes_of(kind);
    let fix = match choice {
        Some(id) => fixes
            .iter()
            .find(|f| f.id() == id)
            .copied()
            .ok_or_else(|| {
                let ids: Vec<&str> = fixes.iter().map(|f| f.id()).collect();
                bad_request(if ids.is_empty() {
                    format!("`{}` has no fix", kind.as_str())
                } else {
                    format!(
                        "`{id}` is not a fix of `{}`; its fixes are {}",
                        kind.as_str(),
                        ids.join(", ")
                    )
                })
            })?,
        None => match fixes.iter().find(|f| detect::is_certain(kind, **f)) {
            Some(f) => *f,
            None if fixes.is_empty() => {
                return Err(bad_request(format!(
                    "`{}` has no automatic fix",
                    kind.as_str()
                )))
            }
            None => {
                let ids: Vec<&str> = fixes.iter().map(|f| f.id()).collect();
                return Err(bad_request(format!(
                    "which value is right is not certain for `{}`: choose a fix ({})",
                    kind.as_str(),
                    ids.join(", ")
                )));
            }
        },
    };
    let mut paths: Vec<String> = Vec::new();
    let mut hashes: Vec<String> = Vec::new();
    let mut ops: BTreeSet<detect::OpKey> = BTreeSet::new();
    let mut last: Option<Vec<u8>> = None;
    let scanned = detect::scan(conn, &mut |post, hit| {
        if hit.kind != kind || !hit.fixes.contains(&fix) {
            return;
        }
        if let Some(op) = hit.op.clone() {
            ops.insert(op);
        }
        if last.as_deref() != Some(post.path.as_slice()) {
            paths.push(match crate::search::searcher::path_bytes_hex(&post.path) {
                Some(hex) => format!("hex:{hex}"),
                None => post.path_text.clone(),
            });
            hashes.push(crate::files::to_hex(&post.hash));
            last = Some(post.path.clone());
        }
    })?;
    let mut ops: Vec<EditOp> = ops.into_iter().map(detect::OpKey::into_op).collect();
    if let detect::Fix::Merge = fix {
        ops = scanned.merges.ops_for(kind);
    }
    if let Some(op) = fix.single_op() {
        ops = vec![op];
    }
    let info = detect::info(kind, fix, paths.len() as u64);
    Ok(LintFix {
        kind: kind.as_str().to_string(),
        request: EditRequest {
            target: EditTarget::Paths {
                paths,
                hashes: Some(hashes),
            },
            ops,
            label: Some(format!("lint {}: {}", kind.as_str(), info.label)),
        },
        fix: info,
    })
}

/// Where errors reading the index are reported.
fn index_path() -> &'static Path {
    Path::new("index")
}

/// A `SqlContext` shorthand for this module.
fn sql<T>(r: rusqlite::Result<T>) -> Result<T> {
    r.at(index_path())
}
