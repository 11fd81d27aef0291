//! Why an export could not be carried out (nothing, or nothing more, was written). Problems with
//! single posts or files are not errors: they are listed in the summary.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the template is empty")]
    EmptyTemplate,

    #[error("unknown layout `{0}`: use keep, jekyll, by-tag, by-category, by-author, by-site, by-month or template:\"{{year}}/{{month}}/{{slug}}.md\"")]
    UnknownLayout(String),

    /// A `set` argument without `=`.
    #[error("`{0}` is not KEY=VALUE")]
    NotKeyValue(String),

    /// A `set` value that is not one line of YAML.
    #[error("the value of `{key}`: {reason}")]
    BadValue { key: String, reason: String },

    #[error("`set` and `remove` need the `rewrite` format")]
    RewriteOnly,

    #[error("say where to export to")]
    NoTarget,

    /// A target path that cannot be made absolute or resolved.
    #[error("{path}: {source}")]
    Path {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{0} is inside the archive; export to a folder outside it")]
    InsideArchive(PathBuf),

    #[error("{0} is a symlink; Shelfmark does not write through it (choose another name)")]
    ZipIsSymlink(PathBuf),

    #[error("{0} exists and is not a file")]
    NotAFile(PathBuf),

    #[error("{0} exists already; choose another name, or overwrite it")]
    Exists(PathBuf),

    #[error("{0} exists and is not a folder")]
    NotAFolder(PathBuf),

    #[error("{0} is not a file name")]
    NotAFileName(PathBuf),

    /// A path planned in the export that is not a plain relative path.
    #[error("{0} is not a path inside the export folder")]
    NotInside(String),

    /// A symlink on the way to a planned file.
    #[error("{0} is a symlink; Shelfmark does not write through it")]
    Symlink(PathBuf),

    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub type Result<T, E = ExportError> = std::result::Result<T, E>;

/// An export that could not be carried out (single posts that fail are in `ExportSummary`).
impl From<ExportError> for crate::error::ApiError {
    fn from(e: ExportError) -> Self {
        crate::error::ApiError::new(crate::error::ErrorCode::Export, e.to_string())
    }
}
