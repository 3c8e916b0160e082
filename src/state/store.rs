//! The state as strata's commands see it: load, write, lock, whatever the backend.
//!
//! Owns encoding the state as JSON, replaying its journal on load, passing every read through
//! `encryption::open` and every write (journal records, and the backup of the previous state)
//! through `Encryption::seal`, and honouring `-lock=false` and `-lock-timeout`. Where the bytes go
//! belongs to the backend (`super::local`, `super::postgres`); it must not know about files, SQL
//! or providers.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use super::backend::{self, Backend, LockOptions, StateLock};
use super::encryption::{self, Encryption};
use super::journal::{self, Lists};
use crate::addrs::ResourceInstance;
use super::local::LocalFile;
use super::{State, FORMAT_VERSION};
use crate::diag::{Diagnostic, Result};

/// How to recover a state that cannot be read (also for a damaged sealed state).
pub(super) const RESTORE_HINT: &str = "restore it from its .backup copy (local state) or from version control";

pub struct StateStore {
    backend: Box<dyn Backend>,
    encryption: Option<Arc<Encryption>>,
    lock: LockOptions,
    /// The small lists as last stored, when the journal may take the next write: the stored state
    /// is known (read or written by this store) and its journal holds nothing from an earlier run.
    journal_base: Option<Lists>,
    /// Whether this store appended journal records since its last whole write.
    appended: bool,
}

impl StateStore {
    /// The local file at `path`, unencrypted, locked as usual.
    pub fn new(path: PathBuf) -> StateStore {
        StateStore::with_backend(Box::new(LocalFile::new(path)), None, LockOptions::default())
    }

    pub fn with_backend(backend: Box<dyn Backend>, encryption: Option<Arc<Encryption>>, lock: LockOptions) -> StateStore {
        StateStore { backend, encryption, lock, journal_base: None, appended: false }
    }

    /// Where the state is, for messages.
    pub fn describe(&self) -> String {
        self.backend.describe()
    }

    /// The state with its journal replayed, or `None` when none is stored yet.
    pub fn load(&mut self) -> Result<Option<State>> {
        let Some(stored) = self.backend.read()? else { return Ok(None) };
        let origin = self.backend.describe();
        let mut state = parse_state(&self.open(&stored, &origin)?, &origin)?;
        let records = self.backend.read_journal()?;
        let texts = records.iter().map(|record| self.open(record, &origin)).collect::<Result<Vec<_>>>()?;
        journal::replay(&mut state, &texts, &origin)?;
        self.journal_base = records.is_empty().then(|| Lists::of(&state));
        Ok(Some(state))
    }

    /// The text of a stored state or journal record, unsealed when sealed.
    fn open(&self, stored: &[u8], origin: &str) -> Result<String> {
        let plain = encryption::open(stored, self.encryption.as_deref(), origin)?;
        String::from_utf8(plain).map_err(|_| Diagnostic::error(format!("{origin} is not UTF-8 text")).hint(RESTORE_HINT).into())
    }

    /// Stores `state` whole (the caller raises the serial), sealed when encryption is on, and
    /// clears the journal.
    pub fn write(&mut self, state: &State) -> Result<()> {
        let mut text = serde_json::to_string_pretty(state).map_err(|err| Diagnostic::error(format!("cannot encode the state: {err}")))?;
        text.push('\n');
        let stored = match &self.encryption {
            Some(encryption) => encryption.seal(text.as_bytes())?,
            None => text.into_bytes(),
        };
        let encryption = self.encryption.as_deref();
        self.backend.write(&stored, state, &|previous| backup_form(encryption, previous))?;
        self.journal_base = Some(Lists::of(state));
        self.appended = false;
        Ok(())
    }

    /// Stores `state` whole if records were appended since the last whole write, so that the
    /// stored state is one document again (the end of an apply).
    pub fn fold_journal(&mut self, state: &State) -> Result<()> {
        if self.appended { self.write(state) } else { Ok(()) }
    }

    /// Stores what `state` changed since the last write: the resources at `touched` and the
    /// small lists, as one journal record, or whole when the journal cannot take it (see
    /// `journal_base`). The caller raises the serial, and ends with [`fold_journal`](Self::fold_journal).
    pub fn write_change(&mut self, state: &State, touched: &BTreeSet<ResourceInstance>) -> Result<()> {
        let Some(base) = &self.journal_base else { return self.write(state) };
        let record = journal::Record::of(state, base, touched);
        let text = serde_json::to_vec(&record).map_err(|err| Diagnostic::error(format!("cannot encode the state: {err}")))?;
        let stored = match &self.encryption {
            Some(encryption) => encryption.seal_line(&text)?,
            None => text,
        };
        self.backend.append(&stored, state)?;
        self.appended = true;
        self.journal_base = Some(Lists::of(state));
        Ok(())
    }

    /// Takes the lock for `operation` (waiting up to `-lock-timeout`), or fails naming who holds it.
    pub fn lock(&self, operation: &str) -> Result<StateLock> {
        if !self.lock.enabled {
            let state = self.describe();
            eprintln!("\nWarning: -lock=false: {operation} runs without the state lock; another operation on {state} at the same time could lose writes.");
            return Ok(StateLock::none());
        }
        backend::acquire(self.backend.as_ref(), operation, self.lock.timeout)
    }
}

/// The previous state as its backup keeps it: sealed whenever encryption is on, so turning
/// encryption on over a plain state leaves no plain copy behind.
fn backup_form(encryption: Option<&Encryption>, previous: Vec<u8>) -> Result<Vec<u8>> {
    match encryption {
        Some(encryption) if !encryption::is_sealed(&previous) => encryption.seal(&previous),
        _ => Ok(previous),
    }
}

/// Parses a state file's text; `path` is for messages. (The fuzz target's entry point.)
#[cfg(test)]
pub fn read_state(text: &str, path: &std::path::Path) -> Result<State> {
    parse_state(text, &format!("the state file {}", path.display()))
}

/// Parses a state's text; `origin` says where it came from, for messages. The format version is
/// skimmed first, so a state from another version is reported as that, not as damaged.
fn parse_state(text: &str, origin: &str) -> Result<State> {
    #[derive(serde::Deserialize)]
    struct Version {
        format_version: Option<serde_json::Value>,
    }
    let version = match serde_json::from_str::<Version>(text) {
        Ok(version) => version.format_version,
        Err(err) if err.is_data() => None,
        Err(err) => return Err(Diagnostic::error(format!("{origin} is not valid JSON: {err}")).hint(RESTORE_HINT).into()),
    };
    let upgraded;
    let text = match version.as_ref().and_then(serde_json::Value::as_u64) {
        Some(v) if v == u64::from(FORMAT_VERSION) => text,
        Some(1) => {
            upgraded = super::upgrade::from_version_1(text).map_err(|err| Diagnostic::error(format!("{origin} is damaged: {err}")).hint(RESTORE_HINT))?;
            upgraded.as_str()
        }
        _ => {
            return Err(Diagnostic::error(format!(
                "{origin} has format_version {}, this strata reads {FORMAT_VERSION}",
                version.map_or("(none)".to_owned(), |v| v.to_string())
            ))
            .hint("use the strata version that wrote it")
            .into())
        }
    };
    let damaged = |err: String| Diagnostic::error(format!("{origin} is damaged: {err}")).hint(RESTORE_HINT);
    let mut state: State = serde_json::from_str(text).map_err(|err| damaged(err.to_string()))?;
    state.check().map_err(damaged)?;
    state.sort();
    Ok(state)
}

/// The current UTC time as RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}
