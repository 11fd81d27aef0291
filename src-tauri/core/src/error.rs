//! Errors of the core. Each message names the file or thing involved and what went wrong.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("the index at {path} failed: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },

    #[error(
        "the index at {path} was written by a newer Shelfmark (schema {found}, this version knows up to {supported}); upgrade Shelfmark or delete the index to rebuild it"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("{path} is not a folder")]
    NotAFolder { path: PathBuf },

    #[error("no post at {path} in the index; run `shelfmark index` if it was added recently")]
    PostNotFound { path: String },

    #[error("the archive has not been indexed yet; run `shelfmark index {path}` first")]
    NotIndexed { path: PathBuf },

    #[error("invalid query: {0}")]
    Query(String),

    /// A collection named in a query or a command that does not exist: the same failure, and the
    /// same code, wherever it is named.
    #[error("there is no collection named \"{name}\"")]
    NoCollection { name: String },

    #[error("cancelled")]
    Cancelled,

    /// An edit request that cannot be carried out as asked (nothing was written).
    #[error("{0}")]
    Edit(String),

    /// A path that names no post Shelfmark may read or write (see `postfile`).
    #[error("{path} {reason}")]
    Refused {
        path: String,
        reason: crate::postfile::Refusal,
    },

    /// An undo, redo or recovery that could not bring every file back: the operation stays open.
    #[error("the {action} is not complete: {done} files were restored, but {} could not be: {}. Nothing is lost: the journal keeps every copy, and the operation stays open; once the cause is fixed, `shelfmark recover --finish` completes the {action} and `shelfmark undo` rolls every file back", files.len(), files.join("; "))]
    Incomplete {
        action: &'static str,
        done: u64,
        files: Vec<String>,
    },

    /// An earlier operation stopped half-way; it must be finished or rolled back first.
    #[error("operation {id} (\"{label}\") was interrupted before it finished; finish it or roll it back first (`shelfmark undo` rolls it back)")]
    Interrupted { id: u64, label: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Attach the index path to rusqlite errors.
pub trait SqlContext<T> {
    fn at(self, path: &std::path::Path) -> Result<T>;
}

impl<T> SqlContext<T> for rusqlite::Result<T> {
    fn at(self, path: &std::path::Path) -> Result<T> {
        self.map_err(|source| Error::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    }
}
