//! Search: the query language, and query execution with facets.

pub mod bitset;
pub mod exec;
pub mod facets;
pub mod matcher;
pub mod query;
pub mod readers;
pub mod searcher;
pub mod snapshot;
pub mod variants;
