//! What a backup policy writes: each dump (a custom-format file or a directory-format
//! directory) with a manifest next to it, both named `strata-TOKEN-ID.*` where TOKEN is the
//! policy's own random token. The manifest is written last, after the dump was read back whole,
//! so a dump without one is a backup that never finished; a name without the token is not the
//! policy's and is never listed, pruned or swept. Where they are kept is a `store`'s business.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strata_provider_sdk::{ProviderError, Value};

/// The manifest's `written_by`: strata's authorship mark on what it wrote.
pub const WRITTEN_BY: &str = "strata";

/// What a backup was, written next to it once it was verified.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub written_by: String,
    /// The policy's token: only its own policy lists, prunes or restores it.
    pub policy: String,
    pub backup_id: String,
    /// The dump's file (custom format) or directory (directory format), beside the manifest.
    pub file: String,
    pub format: String,
    /// When the dump's snapshot was taken (RFC 3339, UTC).
    pub taken_at: String,
    pub duration_seconds: f64,
    /// The dump's size; for the directory format, of all its files.
    pub bytes: u64,
    /// Of the file, or for the directory format of its files' names and contents in name order.
    pub sha256: String,
    pub database: String,
    /// The schemas dumped; empty for all but PostgreSQL's own.
    #[serde(default)]
    pub schemas: Vec<String>,
    pub server_version: String,
    pub pg_dump_version: String,
    /// The exported snapshot the dump, the row counts and the fingerprint were all read in.
    pub snapshot: String,
    /// sha256 of the schema's catalog definition, read in the dump's snapshot (see `fingerprint`).
    pub schema_fingerprint: String,
    /// `exact` (count(*) in the dump's snapshot) or `estimate` (pg_class.reltuples).
    pub row_count_method: String,
    /// Rows per table (`schema.table`), tables whose data the policy leaves out excluded.
    pub row_counts: BTreeMap<String, i64>,
    #[serde(default)]
    pub data_excluded: Vec<String>,
    /// When `pg_restore` read the whole archive back without error.
    pub verified_at: String,
}

impl Manifest {
    /// The manifest `text` read from `origin` (a path or URL, for the error).
    pub fn parse(text: &str, origin: &str) -> Result<Manifest, ProviderError> {
        serde_json::from_str(text).map_err(|err| {
            ProviderError::new(format!("{origin} is not a backup manifest strata can read: {err}"))
                .with_hint("move it out of the backup destination if it is not strata's, or restore it from a copy")
        })
    }

    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and maps of them always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Sorts backups oldest first, the order every caller reasons in.
pub fn oldest_first(artefacts: &mut [Artefact]) {
    artefacts.sort_by(|a, b| a.manifest.taken_at.cmp(&b.manifest.taken_at).then_with(|| a.manifest.backup_id.cmp(&b.manifest.backup_id)));
}

/// Whether a listed backup's dump is still as its manifest says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Present,
    Missing,
    /// Its size differs from the manifest's: truncated or overwritten.
    Damaged,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::Present => "present",
            Condition::Missing => "missing",
            Condition::Damaged => "damaged",
        }
    }
}

/// One backup found at the destination.
#[derive(Clone, Debug)]
pub struct Artefact {
    pub manifest: Manifest,
    /// Where the dump is, as people read it: a path, or an `s3://` URL.
    pub location: String,
    pub condition: Condition,
}

impl Artefact {
    /// The backup as state and plans show it; row counts stay in the manifest.
    pub fn to_value(&self) -> Value {
        Value::object([
            ("id", Value::string(&self.manifest.backup_id)),
            ("taken_at", Value::string(&self.manifest.taken_at)),
            ("path", Value::string(&self.location)),
            ("bytes", Value::int(i64::try_from(self.manifest.bytes).unwrap_or(i64::MAX))),
            ("sha256", Value::string(&self.manifest.sha256)),
            ("status", Value::string(self.condition.as_str())),
        ])
    }
}

/// The prefix of every name the policy with `token` writes.
pub fn prefix(token: &str) -> String {
    format!("strata-{token}-")
}

/// The manifest's name for backup `backup_id` of the policy with `token`.
pub fn manifest_name(token: &str, backup_id: &str) -> String {
    format!("{}{backup_id}.manifest.json", prefix(token))
}

/// The size of a dump file, or of all the files of a dump directory.
pub fn size_of(path: &Path) -> std::io::Result<u64> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_dir() {
        return Ok(metadata.len());
    }
    dump_files(path)?.iter().map(|file| std::fs::metadata(file).map(|m| m.len())).sum()
}

/// The sha256 of a dump file, or of a dump directory's file names and contents in name order.
pub fn sha256_of(path: &Path) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let files = if path.is_dir() { dump_files(path)? } else { vec![path.to_path_buf()] };
    let mut buffer = vec![0u8; 1 << 20];
    for file in files {
        if path.is_dir() {
            hasher.update(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default().as_bytes());
            hasher.update([0]);
        }
        let mut reader = std::fs::File::open(&file)?;
        loop {
            let read = reader.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

pub fn dump_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    files.sort();
    Ok(files)
}

pub fn io_error(what: &str, path: &Path, err: &std::io::Error) -> ProviderError {
    ProviderError::new(format!("{what} {}: {err}", path.display())).with_hint("check that the backup destination exists and that strata may read and write it")
}
