//! What each exported file holds: a byte-identical copy, a copy with front matter keys set or
//! removed through the byte-stable edit engine, or the post's page of the HTML edition.

use super::edition;
use super::error::{ExportError, Result};
use super::layout::{Meta, Planned};
use super::{ExportFormat, ExportRequest};
use crate::edit::{edit_bytes, EditOp};
use rayon::prelude::*;

/// The rewrite ops from `set` and `remove`.
pub(super) fn rewrite_ops(req: &ExportRequest) -> Result<Vec<EditOp>> {
    let mut ops = Vec::new();
    for a in &req.set {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| ExportError::NotKeyValue(a.clone()))?;
        let value = if v.trim().is_empty() {
            serde_json::Value::String(String::new())
        } else {
            crate::edit::parse_value(v).map_err(|reason| ExportError::BadValue {
                key: k.to_string(),
                reason,
            })?
        };
        ops.push(EditOp::Set {
            key: k.trim().to_string(),
            value,
        });
    }
    for k in &req.remove {
        ops.push(EditOp::Unset { key: k.clone() });
    }
    Ok(ops)
}

/// The bytes of every planned file (`contents` are the posts' files, `metas` what they offer),
/// in parallel; a post the rewrite refuses gets the reason instead.
pub(super) fn render(
    format: ExportFormat,
    ops: &[EditOp],
    planned: &[Planned],
    metas: &[Meta],
    contents: &[Vec<u8>],
) -> Vec<std::result::Result<Vec<u8>, String>> {
    planned
        .par_iter()
        .zip(contents.par_iter())
        .zip(metas.par_iter())
        .map(|((p, bytes), m)| match format {
            ExportFormat::Copy => Ok(bytes.clone()),
            ExportFormat::Rewrite => match edit_bytes(bytes, ops) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Ok(bytes.clone()),
                Err(refusal) => Err(refusal.to_string()),
            },
            ExportFormat::Html => Ok(edition::post_page(p, m, bytes)),
        })
        .collect()
}
