//! A problem is something wrong with one file that the user should see.
//! Problems are data, never panics: a scan records them and carries on.

use serde::{Deserialize, Serialize};

/// What kind of trouble a file has. Stored as its `as_str()` name in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum ProblemKind {
    /// Front matter opens with `---`/`+++` but never closes.
    UnclosedFrontMatter,
    /// Front matter is not valid YAML/TOML.
    MalformedFrontMatter,
    /// Front matter parses but is not a mapping (a list, a scalar).
    NotAMapping,
    /// YAML aliases that expand too far, or nesting too deep.
    FrontMatterTooComplex,
    /// One field has a value that cannot be used (e.g. an impossible date).
    BadField,
    /// The file is not text (NUL bytes, undecodable).
    Binary,
    /// Text in an encoding other than UTF-8 (decoded and indexed; noted so edits can refuse).
    Encoding,
    /// Bigger than the configured size limit.
    TooLarge,
    /// Could not be read (permissions, I/O error).
    Unreadable,
    /// A symlink whose target does not exist.
    BrokenSymlink,
    /// A symlink that leads back into itself.
    SymlinkLoop,
    /// A symlink that leads out of the archive (not followed).
    OutsideArchive,
}

impl ProblemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::UnclosedFrontMatter => "unclosed-front-matter",
            ProblemKind::MalformedFrontMatter => "malformed-front-matter",
            ProblemKind::NotAMapping => "not-a-mapping",
            ProblemKind::FrontMatterTooComplex => "front-matter-too-complex",
            ProblemKind::BadField => "bad-field",
            ProblemKind::Binary => "binary",
            ProblemKind::Encoding => "encoding",
            ProblemKind::TooLarge => "too-large",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::BrokenSymlink => "broken-symlink",
            ProblemKind::SymlinkLoop => "symlink-loop",
            ProblemKind::OutsideArchive => "outside-archive",
        }
    }

    pub fn parse(s: &str) -> Option<ProblemKind> {
        ALL_KINDS.iter().copied().find(|k| k.as_str() == s)
    }
}

pub const ALL_KINDS: [ProblemKind; 12] = [
    ProblemKind::UnclosedFrontMatter,
    ProblemKind::MalformedFrontMatter,
    ProblemKind::NotAMapping,
    ProblemKind::FrontMatterTooComplex,
    ProblemKind::BadField,
    ProblemKind::Binary,
    ProblemKind::Encoding,
    ProblemKind::TooLarge,
    ProblemKind::Unreadable,
    ProblemKind::BrokenSymlink,
    ProblemKind::SymlinkLoop,
    ProblemKind::OutsideArchive,
];

/// One problem found in one file. `line`/`column` are 1-based, in the file, where they apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

impl Problem {
    pub fn new(kind: ProblemKind, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            message: message.into(),
            line: None,
            column: None,
        }
    }

    pub fn at(mut self, line: Option<u32>, column: Option<u32>) -> Problem {
        self.line = line;
        self.column = column;
        self
    }

    /// The message with its position, as shown to the user.
    pub fn describe(&self) -> String {
        match (self.line, self.column) {
            (Some(l), Some(c)) => format!("{} (line {l}, column {c})", self.message),
            (Some(l), None) => format!("{} (line {l})", self.message),
            _ => self.message.clone(),
        }
    }
}
