//! Where the state lives on disk, and keeping it safe there.
//!
//! Owns reading the state file, writing it atomically (temp file, fsync, rename, directory fsync)
//! with mode 0600, keeping the previous version as `.backup`, and the lock that stops two
//! operations on one state at once. The lock is an OS file lock, so a killed process never leaves
//! it held; the lock file records who holds it so a blocked user can be told.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use fs2::FileExt;
use serde::{Deserialize, Serialize};

use super::{State, FORMAT_VERSION};
use crate::diag::{Diagnostic, Result};

pub struct StateStore {
    path: PathBuf,
    backed_up: bool,
}

/// Who holds a lock, written into the lock file.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub who: String,
    pub pid: u32,
    pub created: String,
}

/// Holds the lock until dropped.
pub struct StateLock {
    file: File,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = FileExt::unlock(&self.file);
    }
}

impl StateStore {
    pub fn new(path: PathBuf) -> StateStore {
        StateStore { path, backed_up: false }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(suffix);
        self.path.with_file_name(name)
    }

    /// The state, or `None` when no state file exists yet.
    pub fn load(&self) -> Result<Option<State>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(Diagnostic::error(format!("cannot read the state file {}: {err}", self.path.display())).into()),
        };
        read_state(&text, &self.path).map(Some)
    }

    /// Writes `state` atomically; the first write of a run keeps the previous file as `.backup`.
    pub fn write(&mut self, state: &State) -> Result<()> {
        let text = serde_json::to_string_pretty(state).map_err(|err| Diagnostic::error(format!("cannot encode the state: {err}")))?;
        if !self.backed_up {
            if self.path.exists() {
                std::fs::copy(&self.path, self.sibling(".backup")).map_err(|err| self.write_error(err))?;
            }
            self.backed_up = true;
        }
        let temp = self.sibling(".tmp");
        let mut file = private_file(&temp).map_err(|err| self.write_error(err))?;
        file.write_all(text.as_bytes()).and_then(|_| file.write_all(b"\n")).and_then(|_| file.sync_all()).map_err(|err| self.write_error(err))?;
        std::fs::rename(&temp, &self.path).map_err(|err| self.write_error(err))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(|err| self.write_error(err))?;
        }
        Ok(())
    }

    fn write_error(&self, err: std::io::Error) -> Diagnostic {
        Diagnostic::error(format!("cannot write the state file {}: {err}", self.path.display()))
            .hint("check that the directory exists and is writable; nothing after this point was recorded")
    }

    /// Takes the lock for `operation`, or fails naming who holds it.
    pub fn lock(&self, operation: &str) -> Result<StateLock> {
        let lock_path = self.sibling(".lock");
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).map_err(|err| {
            Diagnostic::error(format!("cannot open the lock file {}: {err}", lock_path.display()))
        })?;
        if file.try_lock_exclusive().is_err() {
            let mut held = String::new();
            let _ = file.read_to_string(&mut held);
            let holder = serde_json::from_str::<LockInfo>(&held)
                .map(|info| format!("held by {} (pid {}) for \"{}\" since {}, lock id {}", info.who, info.pid, info.operation, info.created, info.id))
                .unwrap_or_else(|_| "held by another strata process".to_owned());
            return Err(Diagnostic::error(format!("the state {} is locked", self.path.display()))
                .detail(holder)
                .hint("wait for the other operation to finish; the lock is released when its process exits")
                .into());
        }
        let info = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_owned(),
            who: format!("{}@{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()), hostname()),
            pid: std::process::id(),
            created: now_rfc3339(),
        };
        let text = serde_json::to_string(&info).unwrap_or_default();
        let _ = file.set_len(0).and_then(|_| file.seek(SeekFrom::Start(0))).and_then(|_| file.write_all(text.as_bytes())).and_then(|_| file.sync_all());
        Ok(StateLock { file })
    }
}

fn private_file(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Parses a state file's text; `path` is for messages.
pub fn read_state(text: &str, path: &Path) -> Result<State> {
    let version: serde_json::Value = serde_json::from_str(text).map_err(|err| {
        Diagnostic::error(format!("the state file {} is not valid JSON: {err}", path.display()))
            .hint(format!("restore it from {}.backup or from version control", path.display()))
    })?;
    match version.get("format_version").and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => {}
        other => {
            return Err(Diagnostic::error(format!(
                "the state file {} has format_version {}, this strata reads {FORMAT_VERSION}",
                path.display(),
                other.map_or("(none)".to_owned(), |v| v.to_string())
            ))
            .hint("use the strata version that wrote it")
            .into())
        }
    }
    serde_json::from_value(version).map_err(|err| {
        Diagnostic::error(format!("the state file {} is damaged: {err}", path.display()))
            .hint(format!("restore it from {}.backup or from version control", path.display()))
            .into()
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "localhost".into())
}

/// The current UTC time as RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
