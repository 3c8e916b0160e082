//! The local state backend: one file per workspace, written atomically, locked with an OS lock.
//!
//! Owns the file layout (`default` at the configured path, the other workspaces under
//! `strata.state.d/NAME/` next to it, as Terraform's `terraform.tfstate.d`), atomic writes (temp
//! file, fsync, rename, directory fsync, mode 0600), the `.backup` of the previous file (in the form
//! the store asks for: sealed when encryption is on), the journal `STATE.journal` (one record per
//! line, each synced; removed by the next whole write), and the OS file lock on `STATE.lock` whose
//! contents name the holder; the file exists only while the lock is held (a killed process may
//! leave it behind, never held). It must not know what the bytes mean.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs2::FileExt;

use super::backend::{Backend, BackupForm, LockAttempt, LockInfo, StateLock, DEFAULT_STATE_FILE, DEFAULT_WORKSPACE};
use super::State;
use crate::diag::{Diagnostic, Result};

/// The directory of non-default workspaces, next to the default state file.
const WORKSPACES_DIR: &str = "strata.state.d";

pub struct LocalFile {
    path: PathBuf,
    backed_up: bool,
}

impl LocalFile {
    pub fn new(path: PathBuf) -> LocalFile {
        LocalFile { path, backed_up: false }
    }

    /// The journal of changes since the state file was last written (see `super::journal`).
    fn journal_path(&self) -> PathBuf {
        sibling(&self.path, ".journal")
    }

    fn write_error(&self, err: std::io::Error) -> Diagnostic {
        Diagnostic::error(format!("cannot write the state file {}: {err}", self.path.display()))
            .hint("check that the directory exists and is writable; nothing after this point was recorded")
    }
}

impl Backend for LocalFile {
    fn describe(&self) -> String {
        format!("the state file {}", self.path.display())
    }

    fn read(&self) -> Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Diagnostic::error(format!("cannot read the state file {}: {err}", self.path.display())).into()),
        }
    }

    /// The first write of a run keeps the previous file as `.backup` (0600, in `backup_form`).
    fn write(&mut self, stored: &[u8], _state: &State, backup_form: &BackupForm) -> Result<()> {
        if !self.backed_up {
            if let Some(previous) = self.read()? {
                write_atomically(&sibling(&self.path, ".backup"), &backup_form(previous)?).map_err(|err| self.write_error(err))?;
            }
            self.backed_up = true;
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|err| self.write_error(err))?;
        }
        write_atomically(&self.path, stored).map_err(|err| self.write_error(err))?;
        match std::fs::remove_file(self.journal_path()) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(self.write_error(err).into()),
            _ => Ok(()),
        }
    }

    fn read_journal(&self) -> Result<Vec<Vec<u8>>> {
        let path = self.journal_path();
        match std::fs::read(&path) {
            Ok(bytes) => Ok(bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()).map(<[u8]>::to_vec).collect()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(vec![]),
            Err(err) => Err(Diagnostic::error(format!("cannot read the state journal {}: {err}", path.display())).into()),
        }
    }

    /// Appends one line and syncs it; the journal's first line also syncs the directory.
    fn append(&mut self, stored: &[u8], _state: &State) -> Result<()> {
        let path = self.journal_path();
        let new = !path.exists();
        let mut line = Vec::with_capacity(stored.len() + 1);
        line.extend_from_slice(stored);
        line.push(b'\n');
        let appended = private_options(false)
            .append(true)
            .open(&path)
            .and_then(|mut file| file.write_all(&line).and_then(|()| file.sync_data()))
            .and_then(|()| if new { sync_parent(&path) } else { Ok(()) });
        appended.map_err(|err| self.write_error(err).into())
    }

    fn try_lock(&self, info: &LockInfo) -> Result<LockAttempt> {
        let lock_path = sibling(&self.path, ".lock");
        loop {
            let mut file = open_lock_file(&lock_path, true)?;
            if file.try_lock_exclusive().is_err() {
                return Ok(LockAttempt::Held(holder(&mut file)));
            }
            // A holder releasing removes the file before unlocking it: locked after that, this
            // file is no longer the one others open. Open the path again.
            if !is_file_at(&file, &lock_path) {
                continue;
            }
            let text = serde_json::to_string(info).unwrap_or_default();
            // The holder's details are for messages only: failing to write them must not fail the lock.
            let _ = file.set_len(0).and_then(|_| file.seek(SeekFrom::Start(0))).and_then(|_| file.write_all(text.as_bytes()));
            let _ = file.sync_all();
            return Ok(LockAttempt::Acquired(StateLock::holding(FileLock { file, path: lock_path })));
        }
    }
}

/// The OS lock and its file; the file exists only while held: dropping removes it, then unlocks.
struct FileLock {
    file: File,
    path: PathBuf,
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = FileExt::unlock(&self.file);
    }
}

/// Opens the lock file; `create` makes it (and its directory) when missing.
fn open_lock_file(lock_path: &Path, create: bool) -> Result<File> {
    if let Some(dir) = lock_path.parent().filter(|d| create && !d.as_os_str().is_empty()) {
        let _ = std::fs::create_dir_all(dir);
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(create)
        .truncate(false)
        .open(lock_path)
        .map_err(|err| Diagnostic::error(format!("cannot open the lock file {}: {err}", lock_path.display())).into())
}

/// Whether `file` is still the file at `path` (not removed or replaced since it was opened).
fn is_file_at(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(opened), Ok(now)) => opened.dev() == now.dev() && opened.ino() == now.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

fn holder(file: &mut File) -> Option<LockInfo> {
    let mut held = String::new();
    file.read_to_string(&mut held).ok()?;
    serde_json::from_str(&held).ok()
}

/// `strata force-unlock ID` on a local state: clears a lock whose holder is gone; a live holder
/// keeps it (the OS releases it when that process exits).
pub fn force_unlock(state_path: &Path, id: &str) -> Result<String> {
    let lock_path = sibling(state_path, ".lock");
    let no_such_lock = || -> crate::diag::Diagnostics {
        Diagnostic::error(format!("the state file {} has no lock with id {id}", state_path.display()))
            .hint("copy the lock id from the error that reported the lock")
            .into()
    };
    if !lock_path.exists() {
        return Err(no_such_lock());
    }
    let mut file = open_lock_file(&lock_path, false)?;
    let Some(info) = holder(&mut file).filter(|info| info.id == id) else { return Err(no_such_lock()) };
    if file.try_lock_exclusive().is_err() {
        return Err(Diagnostic::error(format!("lock {id} is held by a live process: {}", info.describe()))
            .detail("a local lock is an OS lock: it is released the moment that process exits, so there is nothing stale to clear")
            .hint(format!("wait for it to finish, or stop process {} if it is stuck", info.pid))
            .into());
    }
    let _ = std::fs::remove_file(&lock_path);
    let _ = FileExt::unlock(&file);
    Ok(format!("Cleared the stale lock {id} ({} for \"{}\" since {}); no process held it.", info.who, info.operation, info.created))
}

/// The state file of `workspace`, given the default workspace's file.
pub fn workspace_path(default: &Path, workspace: &str) -> PathBuf {
    if workspace == DEFAULT_WORKSPACE {
        return default.to_path_buf();
    }
    let file_name = default.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| DEFAULT_STATE_FILE.into());
    workspaces_dir(default).join(workspace).join(file_name)
}

fn workspaces_dir(default: &Path) -> PathBuf {
    default.with_file_name(WORKSPACES_DIR)
}

/// The non-default workspaces that have a directory.
pub fn workspaces(default: &Path) -> Result<Vec<String>> {
    let dir = workspaces_dir(default);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(err) => return Err(Diagnostic::error(format!("cannot read {}: {err}", dir.display())).into()),
    };
    Ok(entries.filter_map(|e| e.ok()).filter(|e| e.path().is_dir()).filter_map(|e| e.file_name().into_string().ok()).collect())
}

pub fn delete_workspace(default: &Path, name: &str) -> Result<()> {
    let dir = workspaces_dir(default).join(name);
    std::fs::remove_dir_all(&dir).map_err(|err| Diagnostic::error(format!("cannot delete {}: {err}", dir.display())).into())
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

/// Temp file (0600), fsync, rename over `path`, directory fsync: a reader sees the old bytes or
/// the new, never half.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = sibling(path, ".tmp");
    let mut file = private_file(&temp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&temp, path)?;
    sync_parent(path)
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

fn private_file(path: &Path) -> std::io::Result<File> {
    private_options(true).open(path)
}

/// Write, create with mode 0600, and truncate if `truncate`.
fn private_options(truncate: bool) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(truncate);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}
