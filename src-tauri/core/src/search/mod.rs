//! Search: the query language, the n-gram text index, and query execution with facets.

pub mod bitset;
pub mod exec;
pub mod facets;
pub mod grams;
pub mod matcher;
pub mod query;
pub mod readers;
pub mod searcher;
pub mod segment;
pub mod snapshot;
