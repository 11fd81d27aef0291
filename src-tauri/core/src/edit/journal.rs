//! The undo journal: `<archive>/.shelfmark/journal/`. Every operation that writes post files is
//! recorded *before* the first file changes: `NNNNNN.pack` holds the before- and after-image of
//! every file it will write, and `NNNNNN.json` its description and state. The state moves
//! `pending → applied → undoing → undone → redoing → applied`; a state other than `applied` or
//! `undone` found at start means Shelfmark stopped in the middle, and the journal holds what is
//! needed to finish or roll back. Each file is judged by its hash: equal to the after-image means
//! written, equal to the before-image means not, anything else was changed by someone else.
//!
//! The journal may have come with the archive (a clone, a zip): its files are read without
//! following links, every image is checked against its recorded hash before it is written back,
//! and new files are created exclusively. Each file's two images are compressed together as one
//! zstd frame (the after-image is mostly a copy of the before-image, so it costs little), and old
//! operations are pruned by a retention rule (`Retention`).

use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum OpState {
    Pending,
    Applied,
    Undoing,
    Undone,
    Redoing,
}

impl OpState {
    /// Stopped in the middle of writing files.
    pub fn interrupted(self) -> bool {
        matches!(self, OpState::Pending | OpState::Undoing | OpState::Redoing)
    }
}

/// One file an operation writes, with where its images are in the pack.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileImages {
    /// Relative path, hex of its bytes (names need not be UTF-8).
    pub path_hex: String,
    /// The same, for people reading the file.
    pub path: String,
    pub before_hash: String,
    pub after_hash: String,
    /// (offset, length) of each image: in the pack, or, when `frame` is set, in that frame once
    /// decompressed.
    pub before: (u64, u64),
    pub after: (u64, u64),
    /// (offset, length) in the pack of the zstd frame holding both images (absent in journals
    /// written before compression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<(u64, u64)>,
    /// The arriving end of a move: the path (hex) the file moves from (the leaving end is another
    /// entry of the same operation, whose after-image is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved_from_hex: Option<String>,
    /// The file's permissions, for a file an operation removes or creates (so an undo restores
    /// them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
}

/// The hash recorded for an image that is no file at all (before a file is created, after it is
/// moved away or deleted). Shelfmark versions before moves and deletes compare it with the hash
/// of an empty image, fail, and refuse the journal rather than write anything from it.
pub const ABSENT: &str = "absent";

/// The journal format: 1 (or missing) for edits in place, 2 once images can be absent. A record
/// of a newer format is refused, never acted on.
pub const FORMAT: u32 = 2;

impl FileImages {
    pub fn rel(&self) -> Vec<u8> {
        from_hex(&self.path_hex).unwrap_or_default()
    }

    pub fn before_absent(&self) -> bool {
        self.before_hash == ABSENT
    }

    pub fn after_absent(&self) -> bool {
        self.after_hash == ABSENT
    }

    /// Whether either image is absent (the file is created, moved or deleted).
    pub fn moves(&self) -> bool {
        self.before_absent() || self.after_absent()
    }

    pub fn moved_from(&self) -> Option<Vec<u8>> {
        self.moved_from_hex.as_deref().and_then(from_hex)
    }
}

/// One file of a new operation: its before- and after-image (None: no file there).
pub struct Image<'a> {
    pub rel: &'a [u8],
    pub before: Option<&'a [u8]>,
    pub after: Option<&'a [u8]>,
    /// The arriving end of a move: where the file comes from.
    pub moved_from: Option<&'a [u8]>,
    pub mode: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpRecord {
    pub id: u64,
    /// What the user did, in words (`tag add 秘密 (1,000 files)`).
    pub label: String,
    /// RFC 3339.
    pub created: String,
    pub state: OpState,
    pub files: Vec<FileImages>,
    /// What it did, as the edit's ops (for a UI to say in its language; absent in journals
    /// written before them, and for a raw edit without its YAML).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<super::types::EditOp>,
    /// The journal format of this record (`FORMAT`); 0 in records written before it was kept.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub format: u32,
    /// Folders (relative paths, hex) the operation creates for the files it moves: an undo
    /// removes those left empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub created_folders: Vec<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl OpRecord {
    /// Whether the operation moves, creates or deletes files (not only rewrites them).
    pub fn moves_files(&self) -> bool {
        self.files.iter().any(FileImages::moves)
    }
}

pub use crate::files::{from_hex, to_hex};

pub struct Journal {
    root: PathBuf,
    dir: PathBuf,
}

type IoResult<T> = std::io::Result<T>;

/// The largest image the journal reads back (the scanner's limit for a post, with room for an
/// edit that made it larger).
const MAX_IMAGE: u64 = 64 * 1024 * 1024;

pub use crate::settings::Retention;

fn invalid(path: &Path, why: String) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("{}: {why}", path.display()),
    )
}

impl Journal {
    pub fn new(archive_root: &Path) -> Journal {
        Journal {
            root: archive_root.to_path_buf(),
            dir: archive_root.join(crate::dotdir::DOT_DIR).join("journal"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Create (or check) the journal folder: real folders only, never a link.
    fn ensure(&self) -> IoResult<()> {
        crate::dotdir::dir(&self.root, &["journal"]).map(|_| ())
    }

    fn json_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:06}.json"))
    }

    fn pack_path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:06}.pack"))
    }

    /// Every recorded operation, oldest first. Unreadable records are skipped (and named in the
    /// second list) rather than stopping the rest.
    pub fn list(&self) -> (Vec<OpRecord>, Vec<String>) {
        let (read, bad) = crate::dotdir::read_json_dir::<OpRecord>(&self.dir);
        let mut ops: Vec<OpRecord> = read
            .into_iter()
            .filter(|(stem, op)| *stem == format!("{:06}", op.id))
            .map(|(_, op)| op)
            .collect();
        ops.sort_by_key(|op| op.id);
        (ops, bad)
    }

    /// The highest id any journal file uses (records and packs, readable or not), so a new
    /// operation never lands on a file that is already there.
    fn last_id(&self) -> u64 {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return 0;
        };
        entries
            .flatten()
            .filter_map(|e| {
                let name = e.file_name();
                let stem = name.to_str()?.split('.').next()?.to_string();
                stem.parse::<u64>().ok()
            })
            .max()
            .unwrap_or(0)
    }

    /// Record a new operation (state `pending`) with the images of its files, durably, before
    /// any of them is written. Operations that were undone can no longer be redone and go.
    /// `images` are (relative path, before, after) of each file.
    pub fn begin(
        &self,
        label: &str,
        edit_ops: &[super::types::EditOp],
        images: &[(&[u8], &[u8], &[u8])],
    ) -> IoResult<OpRecord> {
        let images: Vec<Image> = images
            .iter()
            .map(|(rel, before, after)| Image {
                rel,
                before: Some(before),
                after: Some(after),
                moved_from: None,
                mode: None,
            })
            .collect();
        self.begin_images(label, edit_ops, &images, &[])
    }

    /// `begin` for an operation whose files may be absent before or after (moves, deletes);
    /// `folders` are the folders it will create.
    pub fn begin_images(
        &self,
        label: &str,
        edit_ops: &[super::types::EditOp],
        images: &[Image],
        folders: &[Vec<u8>],
    ) -> IoResult<OpRecord> {
        use rayon::prelude::*;
        self.ensure()?;
        let (ops, _) = self.list();
        for op in ops.iter().filter(|op| op.state == OpState::Undone) {
            self.remove(op.id);
        }
        let id = self.last_id().max(ops.last().map_or(0, |op| op.id)) + 1;
        // Created exclusively: a file or link planted under this name is refused, never written.
        let pack_path = self.pack_path(id);
        let mut pack = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&pack_path)
            .map_err(|e| {
                invalid(
                    &pack_path,
                    format!("cannot be created ({e}); remove it if it is not Shelfmark's"),
                )
            })?;
        let frames: Vec<(Vec<u8>, FileImages)> = images
            .par_iter()
            .map(|img| {
                let (rel, before, after) = (
                    img.rel,
                    img.before.unwrap_or_default(),
                    img.after.unwrap_or_default(),
                );
                let hash_of = |image: Option<&[u8]>| match image {
                    Some(bytes) => to_hex(&crate::files::hash(bytes)),
                    None => ABSENT.to_string(),
                };
                let (b, a) = (before.len() as u64, after.len() as u64);
                let mut both = Vec::with_capacity(before.len() + after.len());
                both.extend_from_slice(before);
                both.extend_from_slice(after);
                let frame = zstd::bulk::compress(&both, 3)?;
                Ok((
                    frame,
                    FileImages {
                        path_hex: to_hex(rel),
                        path: String::from_utf8_lossy(rel).into_owned(),
                        before_hash: hash_of(img.before),
                        after_hash: hash_of(img.after),
                        before: (0, b),
                        after: (b, a),
                        frame: None,
                        moved_from_hex: img.moved_from.map(to_hex),
                        mode: img.mode,
                    },
                ))
            })
            .collect::<IoResult<_>>()?;
        let mut files = Vec::with_capacity(frames.len());
        let mut offset = 0u64;
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, &mut pack);
        for (frame, mut f) in frames {
            buf.write_all(&frame)?;
            f.frame = Some((offset, frame.len() as u64));
            offset += frame.len() as u64;
            files.push(f);
        }
        buf.flush()?;
        drop(buf);
        pack.sync_all()?;
        let op = OpRecord {
            id,
            label: label.to_string(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            state: OpState::Pending,
            files,
            ops: edit_ops
                .iter()
                .map(super::types::EditOp::described)
                .collect(),
            format: if images
                .iter()
                .any(|i| i.before.is_none() || i.after.is_none())
            {
                FORMAT
            } else {
                0
            },
            created_folders: folders.iter().map(|f| to_hex(f)).collect(),
        };
        self.save(&op)?;
        Ok(op)
    }

    pub fn save(&self, op: &OpRecord) -> IoResult<()> {
        self.ensure()?;
        let json = serde_json::to_vec_pretty(op).map_err(std::io::Error::other)?;
        crate::dotdir::replace(&self.json_path(op.id), &json, true)
    }

    pub fn set_state(&self, op: &mut OpRecord, state: OpState) -> IoResult<()> {
        op.state = state;
        self.save(op)
    }

    /// Drop files that turned out not to be written (refused), so the record lists what changed.
    pub fn keep_files(
        &self,
        op: &mut OpRecord,
        keep: impl Fn(&FileImages) -> bool,
    ) -> IoResult<()> {
        op.files.retain(|f| keep(f));
        self.save(op)
    }

    pub fn remove(&self, id: u64) {
        // `remove_file` removes a link itself, never what it points to.
        let _ = std::fs::remove_file(self.json_path(id));
        let _ = std::fs::remove_file(self.pack_path(id));
    }

    /// Read the before- or after-images of `op`'s files from its pack. Each image must hash to
    /// what the record says: a journal changed outside Shelfmark is refused, never written back.
    pub fn images(&self, op: &OpRecord, after: bool) -> IoResult<Vec<Vec<u8>>> {
        Ok(self
            .image_states(op, after)?
            .into_iter()
            .map(Option::unwrap_or_default)
            .collect())
    }

    /// `images`, with None for an absent image (no file there).
    pub fn image_states(&self, op: &OpRecord, after: bool) -> IoResult<Vec<Option<Vec<u8>>>> {
        let path = self.pack_path(op.id);
        if op.format > FORMAT {
            return Err(invalid(
                &path,
                format!(
                    "was written by a newer Shelfmark (journal format {}); use that version to undo or finish it",
                    op.format
                ),
            ));
        }
        let mut pack = crate::dotdir::open_read(&path)?;
        let pack_len = pack.metadata()?.len();
        op.files
            .iter()
            .map(|f| {
                let (off, len) = if after { f.after } else { f.before };
                let image = match f.frame {
                    Some((frame_off, frame_len)) => {
                        let frame = read_at(&mut pack, pack_len, frame_off, frame_len, &path)?;
                        let total = f.before.1.saturating_add(f.after.1);
                        if total > 2 * MAX_IMAGE {
                            return Err(invalid(&path, format!("images of {} are too large", f.path)));
                        }
                        let both = zstd::bulk::decompress(&frame, total as usize)
                            .map_err(|e| invalid(&path, format!("images of {}: {e}", f.path)))?;
                        let end = off.saturating_add(len);
                        both.get(off as usize..end as usize)
                            .map(<[u8]>::to_vec)
                            .ok_or_else(|| invalid(&path, format!("images of {} are cut short", f.path)))?
                    }
                    None => read_at(&mut pack, pack_len, off, len, &path)?,
                };
                let want = if after { &f.after_hash } else { &f.before_hash };
                if want == ABSENT && image.is_empty() {
                    return Ok(None);
                }
                if to_hex(&crate::files::hash(&image)) != *want {
                    return Err(invalid(
                        &path,
                        format!(
                            "the saved copy of {} does not match its record; the journal was changed outside Shelfmark, so nothing is written from it",
                            f.path
                        ),
                    ));
                }
                Ok(Some(image))
            })
            .collect()
    }

    /// Bytes the journal takes on disk.
    pub fn size_of(&self, id: u64) -> u64 {
        [self.json_path(id), self.pack_path(id)]
            .iter()
            .filter_map(|p| std::fs::symlink_metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Hold the archive's edit lock (one editing process at a time) while the guard lives.
    pub fn lock(&self) -> IoResult<std::fs::File> {
        self.ensure()?;
        let f = crate::dotdir::open_write(&self.dir.join("lock"))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(f)
    }

    /// Remove the oldest operations beyond `rule` (never the newest, never an interrupted one).
    /// Returns (operations removed, bytes freed).
    pub fn prune(&self, rule: Retention) -> (u64, u64) {
        let (ops, _) = self.list();
        let sizes: Vec<u64> = ops.iter().map(|op| self.size_of(op.id)).collect();
        let mut count = ops.len() as u64;
        let mut total: u64 = sizes.iter().sum();
        let (mut removed, mut freed) = (0, 0);
        for (i, op) in ops.iter().enumerate() {
            if i + 1 == ops.len() || (count <= rule.keep_operations && total <= rule.max_bytes) {
                break;
            }
            if op.state.interrupted() {
                continue;
            }
            self.remove(op.id);
            count -= 1;
            total = total.saturating_sub(sizes[i]);
            removed += 1;
            freed += sizes[i];
        }
        (removed, freed)
    }
}

fn read_at(
    pack: &mut std::fs::File,
    pack_len: u64,
    off: u64,
    len: u64,
    path: &Path,
) -> IoResult<Vec<u8>> {
    if len > 2 * MAX_IMAGE || off.saturating_add(len) > pack_len {
        return Err(invalid(path, "an image lies outside the pack".into()));
    }
    pack.seek(SeekFrom::Start(off))?;
    let mut buf = vec![0u8; len as usize];
    pack.read_exact(&mut buf)?;
    Ok(buf)
}
