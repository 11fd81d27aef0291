//! shelfmark-core: everything an archive does. No Tauri, no HTTP, no clap.
//!
//! Data flows one way: files → `post::parse` → `scan` → `store` → `search`/`api`. The modules
//! form layers, written once in `layers::LAYERS` (a test holds the code to it).

pub mod api;
pub mod background;
pub mod collection_terms;
pub mod collections;
pub mod commands;
pub mod dotdir;
pub mod dupes;
pub mod edit;
pub mod error;
pub mod export;
pub mod fetch;
pub mod files;
pub mod fold;
pub mod halves;
pub mod index;
pub mod layers;
pub mod lint;
pub mod packed;
pub mod post;
pub mod postfile;
pub mod problem;
pub mod render;
pub mod scan;
pub mod search;
pub mod settings;
pub mod store;
pub mod watch;
pub use error::{ApiError, ApiResult, Error, ErrorCode, Result};
