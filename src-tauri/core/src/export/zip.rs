//! Writing an export as one zip file.

use super::error::{ExportError, Result};
use super::manifest::extras;
use super::output;
use super::{Batch, ExportFormat, ExportProgress, ExportSummary};
use std::io::Write;
use std::path::Path;
use std::sync::atomic::Ordering;

/// Write the zip through a temporary file beside it (created exclusively, under an unpredictable
/// name), renamed to `target` once complete and flushed: over an existing file only with
/// `overwrite`.
pub(super) fn write(batch: Batch, target: &Path, summary: &mut ExportSummary) -> Result<()> {
    let Batch {
        req,
        title,
        rows,
        files,
        progress,
        cancel,
        ..
    } = batch;
    let extra = extras(req.format == ExportFormat::Html, title, rows);
    let parent = target
        .parent()
        .ok_or_else(|| ExportError::NotAFileName(target.to_path_buf()))?;
    std::fs::create_dir_all(parent).map_err(|source| ExportError::Create {
        path: parent.to_path_buf(),
        source,
    })?;
    let cannot = |source: std::io::Error| ExportError::Write {
        path: target.to_path_buf(),
        source,
    };
    let tmp = output::temp_in(parent).map_err(cannot)?;
    // The temporary file is removed when `tmp` is dropped without being renamed.
    let complete = (|| -> std::io::Result<bool> {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(tmp.as_file()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let total = files.len() as u64;
        for (n, (row, bytes)) in rows.iter().zip(&files).enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return Ok(false);
            }
            zip.start_file(row.exported.as_str(), opts)
                .map_err(std::io::Error::other)?;
            zip.write_all(bytes)?;
            if (n + 1) % 64 == 0 || n + 1 == files.len() {
                progress(ExportProgress {
                    done: n as u64 + 1,
                    total,
                });
            }
        }
        for (name, bytes) in &extra {
            zip.start_file(name.as_str(), opts)
                .map_err(std::io::Error::other)?;
            zip.write_all(bytes)?;
        }
        let mut inner = zip.finish().map_err(std::io::Error::other)?;
        inner.flush()?;
        inner.get_ref().sync_all()?;
        Ok(true)
    })()
    .map_err(cannot)?;
    if !complete {
        summary.cancelled = true;
        return Ok(());
    }
    let mode = if req.overwrite {
        output::Mode::Replace
    } else {
        output::Mode::New
    };
    output::persist(tmp, target, mode).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ExportError::Exists(target.to_path_buf())
        } else {
            cannot(e)
        }
    })?;
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    summary.written = files.len() as u64;
    summary.extras = extra.into_iter().map(|(name, _)| name).collect();
    Ok(())
}
