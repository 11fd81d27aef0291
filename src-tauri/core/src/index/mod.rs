//! The index format, which `store` writes and `search` reads: the n-grams of folded text
//! (`grams`), posting lists in sorted, block-packed segments (`segment`), and the text analysis
//! both sides share (`analysis`: folding for matching, the grams of a post).

pub mod analysis;
pub mod grams;
pub mod segment;
