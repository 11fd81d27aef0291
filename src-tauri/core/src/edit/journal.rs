//! The undo journal: `<archive>/.shelfmark/journal/`. Every operation that writes post files is
//! recorded *before* the first file changes: `NNNNNN.pack` holds the before- and after-image of
//! every file it will write, and `NNNNNN.json` its description and state. The state moves
//! `pending → applied → undoing → undone → redoing → applied`; a state other than `applied` or
//! `undone` found at start means Shelfmark stopped in the middle, and the journal holds what is
//! needed to finish or roll back. Each file is judged by its hash: equal to the after-image means
//! written, equal to the before-image means not, anything else was changed by someone else.

use super::write::write_own_file;
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
    pub before: (u64, u64),
    pub after: (u64, u64),
}

impl FileImages {
    pub fn rel(&self) -> Vec<u8> {
        from_hex(&self.path_hex).unwrap_or_default()
    }
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
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

pub struct Journal {
    dir: PathBuf,
}

type IoResult<T> = std::io::Result<T>;

impl Journal {
    pub fn new(archive_root: &Path) -> Journal {
        Journal {
            dir: archive_root.join(".shelfmark").join("journal"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
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
        let (read, bad) = super::write::read_own_json::<OpRecord>(&self.dir);
        let mut ops: Vec<OpRecord> = read.into_iter().map(|(_, op)| op).collect();
        ops.sort_by_key(|op| op.id);
        (ops, bad)
    }

    /// Record a new operation (state `pending`) with the images of its files, durably, before
    /// any of them is written. Operations that were undone can no longer be redone and go.
    /// `images` are (relative path, before, after) of each file.
    pub fn begin(&self, label: &str, images: &[(&[u8], &[u8], &[u8])]) -> IoResult<OpRecord> {
        std::fs::create_dir_all(&self.dir)?;
        let (ops, _) = self.list();
        for op in ops.iter().filter(|op| op.state == OpState::Undone) {
            self.remove(op.id);
        }
        let id = ops.last().map_or(1, |op| op.id + 1);
        let mut pack = std::fs::File::create(self.pack_path(id))?;
        let mut files = Vec::with_capacity(images.len());
        let mut offset = 0u64;
        let mut buf = std::io::BufWriter::with_capacity(1 << 20, &mut pack);
        for (rel, before, after) in images {
            buf.write_all(before)?;
            buf.write_all(after)?;
            let (b, a) = (before.len() as u64, after.len() as u64);
            files.push(FileImages {
                path_hex: to_hex(rel),
                path: String::from_utf8_lossy(rel).into_owned(),
                before_hash: to_hex(&super::write::hash(before)),
                after_hash: to_hex(&super::write::hash(after)),
                before: (offset, b),
                after: (offset + b, a),
            });
            offset += a + b;
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
        };
        self.save(&op)?;
        Ok(op)
    }

    pub fn save(&self, op: &OpRecord) -> IoResult<()> {
        let json = serde_json::to_vec_pretty(op).map_err(std::io::Error::other)?;
        write_own_file(&self.json_path(op.id), &json)
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
        let _ = std::fs::remove_file(self.json_path(id));
        let _ = std::fs::remove_file(self.pack_path(id));
    }

    /// Read the before- or after-images of `files` from the pack of `op`.
    pub fn images(&self, op: &OpRecord, after: bool) -> IoResult<Vec<Vec<u8>>> {
        let mut pack = std::fs::File::open(self.pack_path(op.id))?;
        op.files
            .iter()
            .map(|f| {
                let (off, len) = if after { f.after } else { f.before };
                pack.seek(SeekFrom::Start(off))?;
                let mut buf = vec![0u8; usize::try_from(len).map_err(std::io::Error::other)?];
                pack.read_exact(&mut buf)?;
                Ok(buf)
            })
            .collect()
    }

    /// Bytes the journal takes on disk.
    pub fn size_of(&self, id: u64) -> u64 {
        [self.json_path(id), self.pack_path(id)]
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum()
    }

    /// Hold the archive's edit lock (one editing process at a time) while the guard lives.
    pub fn lock(&self) -> IoResult<std::fs::File> {
        std::fs::create_dir_all(&self.dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.dir.join("lock"))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::LockExclusive)?;
        Ok(f)
    }
}
