//! Editing front matter without damaging files. An operation is planned (`plan`: every file
//! read, its new bytes computed and checked by `bytes::edit_bytes`, which splices only the
//! changed keys with `splice`), recorded in the undo `journal`, and written through `write`, the
//! one safe write path (`editor::Editor`). The editor hands back the files it wrote (`Wrote`);
//! the caller (`api`) updates the index and the collections from them. `types` holds the wire
//! types; `crash` a hook for the crash tests. Moves and deletes are operations of the same
//! write path (`fileops`: never through a link, never over a file; `moves`: settled by hash,
//! absence included), and `resolve` builds one from a group of duplicates.
//!
//! Only clean UTF-8 YAML front matter is edited; other encodings and TOML are refused with a
//! reason, never converted. A file without front matter gets one when a key is added.

mod bytes;
pub mod clean;
mod crash;
mod editor;
pub mod fileops;
pub mod journal;
mod moves;
mod plan;
#[cfg(test)]
mod proptests;
mod resolve;
mod splice;
mod types;
pub mod write;

pub use bytes::{edit_bytes, edit_bytes_at, parse_value, EditRefusal};
pub use editor::Editor;
pub use moves::{describe_moves, FileChange, FilePlan};
pub use plan::{describe, diff, file_diff, plan, preview, Plan, Planned, TargetFile};
pub use resolve::*;
pub use types::*;
