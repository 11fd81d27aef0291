//! Collections: curated sets of posts, kept as plain, diffable JSON files under
//! `<archive>/.shelfmark/collections/` (one file a collection), so they survive an index rebuild
//! and can be kept under version control.
//!
//! A manual collection lists its posts in the user's order, each by path *and* content hash: when
//! a post is moved or renamed the path no longer resolves, and the hash finds it again (the file
//! is then updated with the new path). A smart collection is a saved query.

use crate::files::{from_hex, to_hex};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum CollectionKind {
    Manual,
    Smart,
}

/// One member of a manual collection, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// Relative path (lossy for names that are not UTF-8; `path_hex` then holds the bytes).
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_hex: Option<String>,
    /// BLAKE3 of the file when it was added or last seen (hex).
    pub hash: String,
}

impl Member {
    pub fn rel(&self) -> Vec<u8> {
        match &self.path_hex {
            Some(h) => from_hex(h).unwrap_or_default(),
            None => self.path.as_bytes().to_vec(),
        }
    }
}

/// A collection file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionFile {
    pub name: String,
    pub kind: CollectionKind,
    /// Position in the sidebar (smaller first).
    #[serde(default)]
    pub position: i64,
    pub created: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    #[serde(default)]
    pub posts: Vec<Member>,
}

/// A collection as listed to the user.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionSummary {
    /// The file's stem: stable across renames.
    pub id: String,
    pub name: String,
    pub kind: CollectionKind,
    pub query: Option<String>,
    /// Posts it holds now (for a smart collection, what its query matches).
    pub count: u64,
    /// Members whose file can no longer be found (manual collections).
    pub missing: u64,
}

pub struct Collections {
    root: PathBuf,
    dir: PathBuf,
}

/// Why a collection could not be found, made or changed (nothing was written).
#[derive(Debug, thiserror::Error)]
pub enum CollectionError {
    #[error("there is no collection named \"{0}\"")]
    NotFound(String),

    #[error("a collection needs a name")]
    NoName,

    #[error("a collection named \"{0}\" exists already")]
    NameTaken(String),

    /// Posts are added to manual collections only.
    #[error("\"{0}\" is a saved search; change its query instead")]
    SavedSearch(String),

    #[error("{path} is not in \"{collection}\"")]
    NotAMember { path: String, collection: String },

    /// A collection that was there a moment ago is gone.
    #[error("vanished")]
    Vanished,

    #[error("{0}")]
    Encode(#[from] serde_json::Error),

    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{source}")]
    Delete {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A collection request that cannot be carried out: the code `edit`, with the message; an unknown
/// collection is `not-found`, the same code as when a query names it (`Error::NoCollection`).
impl From<CollectionError> for crate::error::ApiError {
    fn from(e: CollectionError) -> Self {
        use crate::error::ErrorCode;
        let code = match e {
            CollectionError::NotFound(_) => ErrorCode::NotFound,
            _ => ErrorCode::Edit,
        };
        crate::error::ApiError::new(code, e.to_string())
    }
}

pub type Result<T, E = CollectionError> = std::result::Result<T, E>;

/// A file-name-safe, readable id for a new collection.
fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    let s: String = s.chars().take(40).collect();
    if s.is_empty() {
        "collection".into()
    } else {
        s
    }
}

impl Collections {
    pub fn new(archive_root: &Path) -> Collections {
        Collections {
            root: archive_root.to_path_buf(),
            dir: archive_root
                .join(crate::dotdir::DOT_DIR)
                .join("collections"),
        }
    }

    fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Every collection file, in sidebar order; unreadable files are reported, not fatal.
    pub fn load_all(&self) -> (Vec<(String, CollectionFile)>, Vec<String>) {
        let (mut out, bad) = crate::dotdir::read_json_dir::<CollectionFile>(&self.dir);
        out.sort_by(|a, b| (a.1.position, &a.1.name).cmp(&(b.1.position, &b.1.name)));
        (out, bad)
    }

    /// The collection with this name (exactly, else ignoring case), else with this id. Names come
    /// first: an id is the slug of a name given once, so after a rename (or for a name like
    /// `a-b` beside `A B`) another collection can be named what an id spells.
    pub fn find(&self, name_or_id: &str) -> Result<(String, CollectionFile)> {
        let (all, _) = self.load_all();
        let wanted = name_or_id.trim();
        all.iter()
            .find(|(_, c)| c.name == wanted)
            .or_else(|| {
                all.iter()
                    .find(|(_, c)| c.name.to_lowercase() == wanted.to_lowercase())
            })
            .or_else(|| all.iter().find(|(id, _)| id == wanted))
            .cloned()
            .ok_or_else(|| CollectionError::NotFound(wanted.to_string()))
    }

    pub fn save(&self, id: &str, c: &CollectionFile) -> Result<()> {
        let mut json = serde_json::to_vec_pretty(c)?;
        json.push(b'\n');
        crate::dotdir::dir(&self.root, &["collections"])
            .and_then(|_| crate::dotdir::replace(&self.path_of(id), &json, true))
            .map_err(|source| CollectionError::Write {
                path: self.path_of(id),
                source,
            })
    }

    pub fn create(&self, name: &str, query: Option<String>) -> Result<(String, CollectionFile)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CollectionError::NoName);
        }
        let (all, _) = self.load_all();
        if all
            .iter()
            .any(|(_, c)| c.name.to_lowercase() == name.to_lowercase())
        {
            return Err(CollectionError::NameTaken(name.to_string()));
        }
        let base = slug(name);
        let mut id = base.clone();
        let mut n = 2;
        while all.iter().any(|(i, _)| *i == id) || self.path_of(&id).exists() {
            id = format!("{base}-{n}");
            n += 1;
        }
        let c = CollectionFile {
            name: name.to_string(),
            kind: if query.is_some() {
                CollectionKind::Smart
            } else {
                CollectionKind::Manual
            },
            position: all.iter().map(|(_, c)| c.position + 1).max().unwrap_or(0),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            query,
            posts: Vec::new(),
        };
        self.save(&id, &c)?;
        Ok((id, c))
    }

    pub fn delete(&self, name_or_id: &str) -> Result<()> {
        let (id, _) = self.find(name_or_id)?;
        let path = self.path_of(&id);
        std::fs::remove_file(&path).map_err(|source| CollectionError::Delete { path, source })
    }

    pub fn rename(&self, name_or_id: &str, new_name: &str) -> Result<()> {
        let (id, mut c) = self.find(name_or_id)?;
        let new_name = new_name.trim();
        if new_name.is_empty() {
            return Err(CollectionError::NoName);
        }
        let (all, _) = self.load_all();
        if all
            .iter()
            .any(|(i, o)| *i != id && o.name.to_lowercase() == new_name.to_lowercase())
        {
            return Err(CollectionError::NameTaken(new_name.to_string()));
        }
        c.name = new_name.to_string();
        self.save(&id, &c)
    }

    /// Move a collection to `position` in the sidebar order (0 = first).
    pub fn reorder(&self, name_or_id: &str, position: usize) -> Result<()> {
        let (id, _) = self.find(name_or_id)?;
        let (mut all, _) = self.load_all();
        let from = all
            .iter()
            .position(|(i, _)| *i == id)
            .ok_or(CollectionError::Vanished)?;
        let item = all.remove(from);
        all.insert(position.min(all.len()), item);
        for (n, (id, c)) in all.iter_mut().enumerate() {
            if c.position != n as i64 {
                c.position = n as i64;
                self.save(id, c)?;
            }
        }
        Ok(())
    }
}

/// After Shelfmark wrote `paths`, record their new content hashes in every collection that holds
/// them, so a post edited and later moved is still found by its content.
pub fn follow_writes(root: &Path, paths: &[Vec<u8>]) {
    let wanted: std::collections::HashSet<&[u8]> = paths.iter().map(Vec::as_slice).collect();
    let store = Collections::new(root);
    let (all, _) = store.load_all();
    for (id, mut c) in all {
        let mut changed = false;
        for m in &mut c.posts {
            let rel = m.rel();
            if wanted.contains(rel.as_slice()) {
                if let Ok(now) = member_for(root, &rel) {
                    if now.hash != m.hash {
                        m.hash = now.hash;
                        changed = true;
                    }
                }
            }
        }
        if changed {
            let _ = store.save(&id, &c);
        }
    }
}

/// A member for a post file: its path and current hash (why not, when it cannot be read).
pub fn member_for(
    root: &Path,
    rel: &[u8],
) -> std::result::Result<Member, crate::postfile::Refusal> {
    let (_, bytes) = crate::postfile::read(root, rel, crate::postfile::max_bytes())?;
    let path = String::from_utf8_lossy(rel).into_owned();
    let path_hex = (path.as_bytes() != rel).then(|| to_hex(rel));
    Ok(Member {
        path,
        path_hex,
        hash: to_hex(&crate::files::hash(&bytes)),
    })
}

/// Where the members of a manual collection are now. `hash_at` gives the indexed hash of a path,
/// `path_with` the path of a post with a hash. Members found under a new path, or with new
/// content at their path, are updated in `c` (the caller saves it when `changed`).
pub struct Resolved {
    pub paths: Vec<Vec<u8>>,
    pub missing: Vec<Member>,
    pub changed: bool,
}

pub fn resolve<E>(
    c: &mut CollectionFile,
    mut hash_at: impl FnMut(&[u8]) -> std::result::Result<Option<String>, E>,
    mut path_with: impl FnMut(&str) -> std::result::Result<Option<Vec<u8>>, E>,
) -> std::result::Result<Resolved, E> {
    let mut out = Resolved {
        paths: Vec::new(),
        missing: Vec::new(),
        changed: false,
    };
    let mut seen = std::collections::HashSet::new();
    for m in &mut c.posts {
        let rel = m.rel();
        if let Some(hash) = hash_at(&rel)? {
            if hash != m.hash {
                m.hash = hash;
                out.changed = true;
            }
            if seen.insert(rel.clone()) {
                out.paths.push(rel);
            }
            continue;
        }
        match path_with(&m.hash)? {
            Some(new_rel) => {
                let path = String::from_utf8_lossy(&new_rel).into_owned();
                m.path_hex = (path.as_bytes() != new_rel.as_slice()).then(|| to_hex(&new_rel));
                m.path = path;
                out.changed = true;
                if seen.insert(new_rel.clone()) {
                    out.paths.push(new_rel);
                }
            }
            None => out.missing.push(m.clone()),
        }
    }
    Ok(out)
}

/// `resolve` against the index behind `conn` (at `index`): the one lookup of a manual
/// collection's posts, for the api and for `collection:` queries.
pub fn resolve_in_index(
    conn: &rusqlite::Connection,
    index: &Path,
    c: &mut CollectionFile,
) -> crate::error::Result<Resolved> {
    use crate::error::SqlContext;
    use rusqlite::OptionalExtension;
    let mut by_path = conn
        .prepare_cached("SELECT hash FROM posts WHERE path = ?1")
        .at(index)?;
    let mut by_hash = conn
        .prepare_cached("SELECT path FROM posts WHERE hash = ?1 ORDER BY path LIMIT 1")
        .at(index)?;
    resolve(
        c,
        |rel| {
            let hash = by_path
                .query_row([rel], |r| r.get::<_, Vec<u8>>(0))
                .optional()
                .at(index)?;
            Ok(hash.map(|h| to_hex(&h)))
        },
        |hash| match from_hex(hash) {
            Some(bytes) => by_hash
                .query_row([bytes], |r| r.get::<_, Vec<u8>>(0))
                .optional()
                .at(index),
            None => Ok(None),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_rename_reorder_delete() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cs = Collections::new(dir.path());
        let (a, _) = cs
            .create("Hong Kong 2020", None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a, "hong-kong-2020");
        let (b, c) = cs
            .create("两岸", Some("tag:两岸".into()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((b.as_str(), c.kind), ("两岸", CollectionKind::Smart));
        assert!(cs.create("hong kong 2020", None).is_err());
        cs.rename("hong-kong-2020", "HK")
            .unwrap_or_else(|e| panic!("{e}"));
        cs.reorder("两岸", 0).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = cs.load_all().0.into_iter().map(|(_, c)| c.name).collect();
        assert_eq!(names, ["两岸", "HK"]);
        cs.delete("HK").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(cs.load_all().0.len(), 1);
        assert!(cs.find("nope").is_err());
    }

    #[test]
    fn names_are_found_before_ids() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let cs = Collections::new(dir.path());
        let (old, _) = cs.create("News", None).unwrap_or_else(|e| panic!("{e}"));
        cs.rename("News", "Old").unwrap_or_else(|e| panic!("{e}"));
        // The new one's name is the old one's id.
        let (new, _) = cs.create("news", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((old.as_str(), new.as_str()), ("news", "news-2"));
        let found = |q: &str| cs.find(q).unwrap_or_else(|e| panic!("{e}")).1.name;
        assert_eq!(found("news"), "news");
        assert_eq!(found("NEWS"), "news");
        assert_eq!(found("Old"), "Old");
        assert_eq!(found("news-2"), "news");
        // Ids still work where no name is the same.
        let (ab, _) = cs.create("A B", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ab, "a-b");
        assert_eq!(found("a-b"), "A B");
        cs.create("a-b", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(found("a-b"), "a-b");
        assert_eq!(found("A B"), "A B");
    }

    #[test]
    fn members_are_found_again_by_content_after_a_move() {
        let m = |p: &str, h: &str| Member {
            path: p.into(),
            path_hex: None,
            hash: h.into(),
        };
        let mut c = CollectionFile {
            name: "c".into(),
            kind: CollectionKind::Manual,
            position: 0,
            created: String::new(),
            query: None,
            posts: vec![m("a.md", "h1"), m("old/b.md", "h2"), m("gone.md", "h3")],
        };
        let index = [("a.md", "h1x"), ("new/b.md", "h2")];
        let r = resolve::<()>(
            &mut c,
            |p| {
                Ok(index
                    .iter()
                    .find(|(ip, _)| ip.as_bytes() == p)
                    .map(|(_, h)| h.to_string()))
            },
            |h| {
                Ok(index
                    .iter()
                    .find(|(_, ih)| *ih == h)
                    .map(|(p, _)| p.as_bytes().to_vec()))
            },
        )
        .unwrap_or_else(|()| panic!("the lookups cannot fail"));
        assert_eq!(r.paths, [b"a.md".to_vec(), b"new/b.md".to_vec()]);
        assert_eq!(r.missing, [m("gone.md", "h3")]);
        assert!(r.changed);
        assert_eq!(c.posts[0].hash, "h1x");
        assert_eq!(c.posts[1].path, "new/b.md");
    }

    #[test]
    fn refusals_say_what_they_said_as_strings() {
        let cases = [
            (
                CollectionError::NotFound("x".into()),
                "there is no collection named \"x\"",
            ),
            (CollectionError::NoName, "a collection needs a name"),
            (
                CollectionError::NameTaken("x".into()),
                "a collection named \"x\" exists already",
            ),
            (
                CollectionError::SavedSearch("x".into()),
                "\"x\" is a saved search; change its query instead",
            ),
            (
                CollectionError::NotAMember {
                    path: "a.md".into(),
                    collection: "x".into(),
                },
                "a.md is not in \"x\"",
            ),
            (CollectionError::Vanished, "vanished"),
        ];
        for (e, want) in cases {
            assert_eq!(e.to_string(), want);
        }
        let e = CollectionError::Delete {
            path: "/c/x.json".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        assert_eq!(
            e.to_string(),
            std::io::Error::from(std::io::ErrorKind::NotFound).to_string()
        );
        let api = crate::api::ApiError::from(CollectionError::NoName);
        assert_eq!(
            (api.code.as_str(), api.message.as_str()),
            ("edit", "a collection needs a name")
        );
        // An unknown collection is `not-found`, as when a query names it.
        let api = crate::api::ApiError::from(CollectionError::NotFound("x".into()));
        assert_eq!(
            (api.code.as_str(), api.message.as_str()),
            ("not-found", "there is no collection named \"x\"")
        );
    }
}
