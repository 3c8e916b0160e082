//! What a backup policy wrote to its destination: each dump (a custom-format file or a
//! directory-format directory) with a manifest next to it, both named `strata-TOKEN-ID.*` where
//! TOKEN is the policy's own random token. The manifest is written last, after the dump was read
//! back whole, so a dump without one is a backup that never finished; a file without the token
//! is not the policy's and is never listed, pruned or swept.

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
    pub dump: PathBuf,
    pub manifest_path: PathBuf,
    pub condition: Condition,
}

impl Artefact {
    /// The backup as state and plans show it; row counts stay in the manifest.
    pub fn to_value(&self) -> Value {
        Value::object([
            ("id", Value::string(&self.manifest.backup_id)),
            ("taken_at", Value::string(&self.manifest.taken_at)),
            ("path", Value::string(self.dump.display().to_string())),
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

/// The policy's backups in `dir`, oldest first; none when `dir` does not exist.
pub fn list(dir: &Path, token: &str) -> Result<Vec<Artefact>, ProviderError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(err) => return Err(io_error("cannot list", dir, &err)),
    };
    let prefix = prefix(token);
    let mut found = Vec::new();
    for entry in entries {
        let name = entry.map_err(|err| io_error("cannot list", dir, &err))?.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(&prefix) && name.ends_with(".manifest.json")) {
            continue;
        }
        let manifest_path = dir.join(&name);
        let manifest = read_manifest(&manifest_path)?;
        if manifest.written_by != WRITTEN_BY || manifest.policy != token {
            continue;
        }
        let dump = dir.join(&manifest.file);
        let condition = match size_of(&dump) {
            Ok(bytes) if bytes == manifest.bytes => Condition::Present,
            Ok(_) => Condition::Damaged,
            Err(_) => Condition::Missing,
        };
        found.push(Artefact { manifest, dump, manifest_path, condition });
    }
    found.sort_by(|a, b| a.manifest.taken_at.cmp(&b.manifest.taken_at).then_with(|| a.manifest.backup_id.cmp(&b.manifest.backup_id)));
    Ok(found)
}

fn read_manifest(path: &Path) -> Result<Manifest, ProviderError> {
    let text = std::fs::read_to_string(path).map_err(|err| io_error("cannot read", path, &err))?;
    serde_json::from_str(&text).map_err(|err| {
        ProviderError::new(format!("{} is not a backup manifest strata can read: {err}", path.display()))
            .with_hint("move the file out of the backup directory if it is not strata's, or restore it from a copy")
    })
}

/// Writes the manifest beside its dump: to a temporary name, synced, then renamed, so a
/// manifest is either whole or absent.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<PathBuf, ProviderError> {
    let path = dir.join(format!("{}{}.manifest.json", prefix(&manifest.policy), manifest.backup_id));
    let temporary = dir.join(format!("{}{}.manifest.partial", prefix(&manifest.policy), manifest.backup_id));
    let text = serde_json::to_string_pretty(manifest).map_err(|err| ProviderError::new(format!("cannot write a manifest: {err}")))?;
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    };
    write().map_err(|err| io_error("cannot write", &path, &err))?;
    Ok(path)
}

/// Removes a backup: the manifest first, so an interrupted prune leaves an unlisted dump (swept
/// as a leftover) rather than a manifest whose dump is gone.
pub fn remove(artefact: &Artefact) -> Result<(), ProviderError> {
    std::fs::remove_file(&artefact.manifest_path).map_err(|err| io_error("cannot remove", &artefact.manifest_path, &err))?;
    remove_dump(&artefact.dump)
}

fn remove_dump(path: &Path) -> Result<(), ProviderError> {
    let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match removed {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(io_error("cannot remove", path, &err)),
        _ => Ok(()),
    }
}

/// Removes what an interrupted backup or prune of this policy left: dumps and partial files
/// with its token that no manifest names. Nothing without the token is touched.
/// `listed` is what `list` found there.
pub fn sweep_leftovers(dir: &Path, token: &str, listed: &[Artefact]) -> Result<Vec<PathBuf>, ProviderError> {
    let listed: Vec<&PathBuf> = listed.iter().map(|a| &a.dump).collect();
    let prefix = prefix(token);
    let mut swept = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(swept) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = dir.join(&name);
        if name.starts_with(&prefix) && !name.ends_with(".manifest.json") && !listed.contains(&&path) {
            remove_dump(&path)?;
            swept.push(path);
        }
    }
    Ok(swept)
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

fn dump_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<std::io::Result<_>>()?;
    files.sort();
    Ok(files)
}

pub fn io_error(what: &str, path: &Path, err: &std::io::Error) -> ProviderError {
    ProviderError::new(format!("{what} {}: {err}", path.display())).with_hint("check that the backup destination exists and that strata may read and write it")
}
