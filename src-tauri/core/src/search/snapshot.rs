//! An in-memory picture of every post's metadata, loaded once per index generation. Filters,
//! facets and sorting run on it in microseconds instead of round trips to SQLite.

use crate::error::{Result, SqlContext};
use crate::fold::fold;
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;

/// Interned strings (tags, authors, sites) with their folded forms.
#[derive(Debug, Default)]
pub struct Interner {
    pub values: Vec<String>,
    pub folded: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(s.to_string());
        self.folded.push(fold(s.trim()));
        self.ids.insert(s.to_string(), id);
        id
    }

    /// Ids of every value whose folded form satisfies `pred`.
    pub fn matching(&self, pred: impl Fn(&str) -> bool) -> Vec<u32> {
        (0..self.values.len() as u32)
            .filter(|&i| pred(&self.folded[i as usize]))
            .collect()
    }
}

#[derive(Debug)]
pub struct DocMeta {
    pub id: i64,
    pub docid: u32,
    pub path: Vec<u8>,
    pub path_text: String,
    pub title: String,
    pub title_folded: Vec<char>,
    pub date_ms: Option<i64>,
    /// `year * 12 + month - 1` of the date, for facets.
    pub month: Option<u32>,
    pub author: Option<u32>,
    pub site: Option<u32>,
    pub source: Option<String>,
    pub tags: Box<[u32]>,
    pub categories: Box<[u32]>,
    pub has_problem: bool,
    pub text_chars: u32,
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: i64,
    pub docs: Vec<DocMeta>,
    /// docid → index in `docs` + 1 (0: not a live document).
    by_docid: Vec<u32>,
    pub terms: Interner,
    pub authors: Interner,
    pub sites: Interner,
    pub avg_title_chars: f32,
    pub avg_text_chars: f32,
}

fn month_of(ms: i64) -> Option<u32> {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp_millis(ms)?;
    u32::try_from(d.year()).ok().map(|y| y * 12 + d.month0())
}

impl Snapshot {
    pub fn load(conn: &Connection, path: &Path, generation: i64) -> Result<Snapshot> {
        let mut snap = Snapshot {
            generation,
            ..Default::default()
        };
        let mut with_problems = std::collections::HashSet::new();
        {
            let mut stmt = conn
                .prepare("SELECT DISTINCT path FROM problems")
                .at(path)?;
            let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).at(path)?;
            for r in rows {
                with_problems.insert(r.at(path)?);
            }
        }
        let mut stmt = conn
            .prepare(
                "SELECT id, docid, path, path_text, title, date_ms, author, site, source, tags, categories, text_chars
                 FROM posts ORDER BY id",
            )
            .at(path)?;
        let mut rows = stmt.query([]).at(path)?;
        let (mut title_sum, mut text_sum) = (0u64, 0u64);
        while let Some(r) = rows.next().at(path)? {
            let p: Vec<u8> = r.get(2).at(path)?;
            let title: String = r.get(4).at(path)?;
            let author: Option<String> = r.get(6).at(path)?;
            let site: Option<String> = r.get(7).at(path)?;
            let tags: String = r.get(9).at(path)?;
            let cats: String = r.get(10).at(path)?;
            let tags: Vec<String> = serde_json::from_str(&tags).unwrap_or_default();
            let cats: Vec<String> = serde_json::from_str(&cats).unwrap_or_default();
            let title_folded = crate::index::analysis::fold_for_match(&title);
            title_sum += title_folded.len() as u64;
            let text_chars: i64 = r.get(11).at(path)?;
            let date_ms: Option<i64> = r.get(5).at(path)?;
            text_sum += text_chars as u64;
            snap.docs.push(DocMeta {
                id: r.get(0).at(path)?,
                docid: r.get::<_, i64>(1).at(path)? as u32,
                has_problem: with_problems.contains(&p),
                path: p,
                path_text: r.get(3).at(path)?,
                title,
                title_folded,
                date_ms,
                month: date_ms.and_then(month_of),
                author: author
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| snap.authors.intern(&a)),
                site: site.map(|s| snap.sites.intern(&s)),
                source: r.get(8).at(path)?,
                tags: tags.iter().map(|t| snap.terms.intern(t)).collect(),
                categories: cats.iter().map(|t| snap.terms.intern(t)).collect(),
                text_chars: text_chars as u32,
            });
        }
        let n = snap.docs.len().max(1) as f32;
        snap.avg_title_chars = (title_sum as f32 / n).max(1.0);
        snap.avg_text_chars = (text_sum as f32 / n).max(1.0);
        let max_docid = snap.docs.iter().map(|d| d.docid).max().unwrap_or(0) as usize;
        snap.by_docid = vec![0; max_docid + 1];
        for (i, d) in snap.docs.iter().enumerate() {
            snap.by_docid[d.docid as usize] = i as u32 + 1;
        }
        Ok(snap)
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The position of a live document, or None for a stale document id.
    pub fn index_of_docid(&self, docid: u32) -> Option<usize> {
        match self.by_docid.get(docid as usize) {
            Some(&i) if i > 0 => Some(i as usize - 1),
            _ => None,
        }
    }
}
