//! Where an export goes: the folder (or the zip file, `.zip` added if missing), refused when it
//! is inside the archive, when a zip would replace something without `overwrite`, or when the
//! path is a symlink or not what it must be.

use super::error::{ExportError, Result};
use super::ExportRequest;
use std::path::{Path, PathBuf};

/// The absolute path `req` exports to, checked against the archive at `root`.
pub(super) fn resolve(root: &Path, req: &ExportRequest) -> Result<PathBuf> {
    let to = PathBuf::from(req.to.trim());
    if req.to.trim().is_empty() {
        return Err(ExportError::NoTarget);
    }
    let to = std::path::absolute(&to).map_err(|source| ExportError::Path {
        path: to.clone(),
        source,
    })?;
    let target = if req.zip && to.extension().is_none_or(|e| e != "zip") {
        let mut s = to.as_os_str().to_os_string();
        s.push(".zip");
        PathBuf::from(s)
    } else {
        to.clone()
    };
    // Exporting into the archive would add the copies to the archive itself.
    let folder = if req.zip {
        target.parent().unwrap_or(&target).to_path_buf()
    } else {
        target.clone()
    };
    let resolved = nearest_existing(&folder);
    if resolved.starts_with(root) {
        return Err(ExportError::InsideArchive(target));
    }
    if req.zip {
        // The zip replaces what is at its name only when asked, and never a symlink (nor what
        // it points to).
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => return Err(ExportError::ZipIsSymlink(target)),
            Ok(m) if !m.is_file() => return Err(ExportError::NotAFile(target)),
            Ok(_) if !req.overwrite => return Err(ExportError::Exists(target)),
            _ => {}
        }
    }
    if !req.zip && target.exists() && !target.is_dir() {
        return Err(ExportError::NotAFolder(target));
    }
    Ok(target)
}

/// The nearest existing ancestor of `p`, resolved (to judge where a new folder would be).
fn nearest_existing(p: &Path) -> PathBuf {
    let mut at = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = at.canonicalize() {
            let mut out = real;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (at.file_name().map(|n| n.to_os_string()), at.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                at = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}
