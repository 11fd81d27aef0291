//! Errors of the core. Each message names the file or thing involved and what went wrong.
//!
//! `Error` is what the core's modules return; `ApiError` is what every shell shows the user: a
//! stable `ErrorCode` (the UI translates it), the English message as detail, and the file if any.

use serde::{Deserialize, Serialize};
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

    /// The index file is not a database, or its pages do not hold together (`Error::is_damaged`).
    #[error(
        "the index at {path} is damaged ({source}); indexing the archive (`shelfmark index`, or opening it in Shelfmark) sets it aside and builds it again from the files"
    )]
    DamagedIndex {
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

    /// An archive folder that does not exist (moved, renamed, a typo, a disk not mounted).
    #[error("there is no folder at {path}: it may have been moved or renamed, or its disk is not connected")]
    NoSuchFolder { path: PathBuf },

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
        self.map_err(|source| {
            let path = path.to_path_buf();
            match source.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                    Error::DamagedIndex { path, source }
                }
                _ => Error::Sqlite { path, source },
            }
        })
    }
}

impl Error {
    /// Whether this says that the index file is damaged: not a database, or one whose pages do
    /// not hold together. The index is a cache, so a scan that meets this builds it anew.
    pub fn is_damaged(&self) -> bool {
        matches!(self, Error::DamagedIndex { .. })
    }
}

/// What went wrong, as a stable name that the UI translates and `serve` maps to an HTTP status.
/// On the wire: kebab-case strings (`not-found`, `bad-query`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum ErrorCode {
    /// A file or folder could not be read or written.
    Io,
    /// The index (SQLite) failed.
    Index,
    /// The index was written by a newer Shelfmark.
    SchemaTooNew,
    /// The archive path is not a folder.
    NotAFolder,
    /// No such post (or image) in the archive.
    NotFound,
    /// The archive has no index yet.
    NotIndexed,
    /// The query text is not valid.
    BadQuery,
    /// The user (or a newer request) cancelled the work.
    Cancelled,
    /// An edit or collection request that cannot be carried out as asked.
    Edit,
    /// An earlier operation stopped half-way and must be finished or rolled back first.
    Interrupted,
    /// An undo, redo or recovery could not restore every file.
    Incomplete,
    /// A path names no post Shelfmark may read or write.
    Refused,
    /// A request that is not valid (arguments, options).
    BadRequest,
    /// A command-line usage error.
    Usage,
    /// An export that failed.
    Export,
    /// `serve`: the session token is missing or wrong.
    Unauthorized,
    /// `serve`: no api command of that name.
    UnknownCommand,
    /// `serve`: api requests use POST.
    MethodNotAllowed,
    /// `serve`: a `Host` header it does not answer to (DNS rebinding).
    BadHost,
    /// A remote image could not be fetched.
    FetchFailed,
    /// A fetched file is not an image.
    NotAnImage,
    /// Something is larger than Shelfmark accepts.
    TooLarge,
    /// Desktop: no archive is open.
    NoArchive,
    /// The command exists only in the desktop app.
    Unsupported,
    /// UI: the request did not reach Shelfmark.
    Network,
    /// UI: the system dialog failed.
    Dialog,
    /// UI: what the request named is gone.
    Gone,
    /// A failure inside Shelfmark itself.
    Internal,
}

impl ErrorCode {
    /// The name on the wire (`not-found`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Io => "io",
            ErrorCode::Index => "index",
            ErrorCode::SchemaTooNew => "schema-too-new",
            ErrorCode::NotAFolder => "not-a-folder",
            ErrorCode::NotFound => "not-found",
            ErrorCode::NotIndexed => "not-indexed",
            ErrorCode::BadQuery => "bad-query",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::Edit => "edit",
            ErrorCode::Interrupted => "interrupted",
            ErrorCode::Incomplete => "incomplete",
            ErrorCode::Refused => "refused",
            ErrorCode::BadRequest => "bad-request",
            ErrorCode::Usage => "usage",
            ErrorCode::Export => "export",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::UnknownCommand => "unknown-command",
            ErrorCode::MethodNotAllowed => "method-not-allowed",
            ErrorCode::BadHost => "bad-host",
            ErrorCode::FetchFailed => "fetch-failed",
            ErrorCode::NotAnImage => "not-an-image",
            ErrorCode::TooLarge => "too-large",
            ErrorCode::NoArchive => "no-archive",
            ErrorCode::Unsupported => "unsupported",
            ErrorCode::Network => "network",
            ErrorCode::Dialog => "dialog",
            ErrorCode::Gone => "gone",
            ErrorCode::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// So that `assert_eq!(e.code, "not-found")` reads as the wire does.
impl PartialEq<&str> for ErrorCode {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<str> for ErrorCode {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

/// An error as the user sees it: a stable `code`, a readable `message`, and the file if any.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, thiserror::Error, ts_rs::TS)]
#[error("{message}")]
#[ts(export)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            path: None,
        }
    }
}

pub type ApiResult<T> = std::result::Result<T, ApiError>;

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        let (code, path) = match &e {
            Error::Io { path, .. } | Error::Write { path, .. } => {
                (ErrorCode::Io, Some(path.display().to_string()))
            }
            Error::Sqlite { path, .. } | Error::DamagedIndex { path, .. } => {
                (ErrorCode::Index, Some(path.display().to_string()))
            }
            Error::SchemaTooNew { path, .. } => {
                (ErrorCode::SchemaTooNew, Some(path.display().to_string()))
            }
            Error::NotAFolder { path } | Error::NoSuchFolder { path } => {
                (ErrorCode::NotAFolder, Some(path.display().to_string()))
            }
            Error::PostNotFound { path } => (ErrorCode::NotFound, Some(path.clone())),
            Error::NotIndexed { path } => (ErrorCode::NotIndexed, Some(path.display().to_string())),
            Error::Query(_) => (ErrorCode::BadQuery, None),
            Error::NoCollection { .. } => (ErrorCode::NotFound, None),
            Error::Cancelled => (ErrorCode::Cancelled, None),
            Error::Edit(_) => (ErrorCode::Edit, None),
            Error::Interrupted { .. } => (ErrorCode::Interrupted, None),
            Error::Incomplete { .. } => (ErrorCode::Incomplete, None),
            Error::Refused { path, .. } => (ErrorCode::Refused, Some(path.clone())),
        };
        ApiError {
            code,
            message: e.to_string(),
            path,
        }
    }
}

/// A failed image fetch keeps its code and message.
impl From<crate::fetch::FetchError> for ApiError {
    fn from(e: crate::fetch::FetchError) -> ApiError {
        let code = match e.code {
            crate::fetch::FetchCode::BadRequest => ErrorCode::BadRequest,
            crate::fetch::FetchCode::FetchFailed => ErrorCode::FetchFailed,
            crate::fetch::FetchCode::NotAnImage => ErrorCode::NotAnImage,
            crate::fetch::FetchCode::TooLarge => ErrorCode::TooLarge,
        };
        ApiError::new(code, e.message)
    }
}
