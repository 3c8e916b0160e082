//! Where the state lives: the local file or PostgreSQL, one state per workspace, and the lock that
//! keeps two operations off one state.
//!
//! Owns the [`Backend`] contract every store implements, choosing the backend from the `strata`
//! block (and `PG_CONN_STR`), the selected workspace (`.strata/environment`, `STRATA_WORKSPACE`),
//! the initialized backend recorded by `strata init` (`.strata/backend.json`), and waiting for a
//! lock under `-lock-timeout`. The bytes it moves are opaque here: encoding and encryption belong
//! to [`super::store`]. It must not plan or talk to providers.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::encryption::Encryption;
use super::local::{self, LocalFile};
use super::postgres::{self, PgConfig, PgState};
use super::store::StateStore;
use crate::config::Settings;
use crate::diag::{Diagnostic, Result};

pub const DEFAULT_WORKSPACE: &str = "default";
pub const DEFAULT_STATE_FILE: &str = "strata.state.json";
/// Where `strata workspace select` keeps the selected workspace (Terraform's `.terraform/environment`).
const ENVIRONMENT_FILE: &str = ".strata/environment";
/// Where `strata init` records the backend it initialized.
const BACKEND_RECORD: &str = ".strata/backend.json";
/// The environment variable that overrides the selected workspace.
pub const WORKSPACE_ENV: &str = "STRATA_WORKSPACE";
/// Where the postgres backend's connection string comes from when the block has no `conn_str`.
pub const CONN_STR_ENV: &str = "PG_CONN_STR";
const DEFAULT_SCHEMA_NAME: &str = "strata_state";
/// How often a blocked operation asks for the lock again under `-lock-timeout`.
const LOCK_RETRY_EVERY: Duration = Duration::from_millis(500);

/// One workspace's stored state. The bytes are the state as stored (possibly sealed).
pub trait Backend: Send + Sync {
    /// Where the state is, for messages; never holds a password.
    fn describe(&self) -> String;
    /// The stored bytes, or `None` when this workspace has no state yet.
    fn read(&self) -> Result<Option<Vec<u8>>>;
    /// Stores `stored` as the new state; `state` is its plain form (serial and lineage). A backend
    /// that keeps the previous state as a backup stores `backup_form(previous)`, never the
    /// previous bytes as they are (they may be plain while the state is now encrypted).
    /// Clears the journal once the state is stored (a reader skips the records the state holds,
    /// so a crash in between loses nothing).
    fn write(&mut self, stored: &[u8], state: &super::State, backup_form: &BackupForm) -> Result<()>;
    /// The journal records stored after the state (see `super::journal`), oldest first, as stored.
    fn read_journal(&self) -> Result<Vec<Vec<u8>>>;
    /// Stores one more journal record, durably, as `state.serial`; `stored` holds no newline.
    fn append(&mut self, stored: &[u8], state: &super::State) -> Result<()>;
    /// Takes the lock for `info`, or says who holds it.
    fn try_lock(&self, info: &LockInfo) -> Result<LockAttempt>;
}

/// Turns the previous stored bytes into what its backup holds.
pub type BackupForm<'a> = dyn Fn(Vec<u8>) -> Result<Vec<u8>> + 'a;

/// Who holds a lock: written where other processes can read it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub who: String,
    pub pid: u32,
    pub created: String,
}

impl LockInfo {
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_owned(),
            who: format!("{}@{}", std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_else(|_| "unknown".into()), hostname()),
            pid: std::process::id(),
            created: super::store::now_rfc3339(),
        }
    }

    pub fn describe(&self) -> String {
        format!("held by {} (pid {}) for \"{}\" since {}, lock id {}", self.who, self.pid, self.operation, self.created, self.id)
    }
}

pub enum LockAttempt {
    Acquired(StateLock),
    /// Someone else holds it; their lock info when it could be read.
    Held(Option<LockInfo>),
}

/// Holds a state lock until dropped; what releases it belongs to the backend that took it.
pub struct StateLock {
    _held: Option<Box<dyn Send>>,
}

impl StateLock {
    pub fn holding(held: impl Send + 'static) -> StateLock {
        StateLock { _held: Some(Box::new(held)) }
    }

    /// No lock at all (`-lock=false`).
    pub fn none() -> StateLock {
        StateLock { _held: None }
    }
}

/// `-lock` and `-lock-timeout`.
#[derive(Clone, Copy, Debug)]
pub struct LockOptions {
    pub enabled: bool,
    pub timeout: Duration,
}

impl Default for LockOptions {
    fn default() -> LockOptions {
        LockOptions { enabled: true, timeout: Duration::ZERO }
    }
}

/// Which backend, as configured or as recorded by `strata init`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum BackendConfig {
    /// The local file of the `default` workspace; the others sit under `strata.state.d/`.
    Local { path: PathBuf },
    Postgres(PgConfig),
}

impl BackendConfig {
    /// The backend the settings ask for; `local_path` is the default workspace's file.
    pub fn from_settings(settings: &Settings, local_path: &Path) -> Result<BackendConfig> {
        let Some(block) = &settings.backend else { return Ok(BackendConfig::Local { path: local_path.to_path_buf() }) };
        let conn_str = match block.conn_str.clone().or_else(|| std::env::var(CONN_STR_ENV).ok().filter(|s| !s.is_empty())) {
            Some(conn_str) => conn_str,
            None => {
                return Err(Diagnostic::error("the postgres backend has no connection string")
                    .at(Some(&block.location))
                    .hint(format!("set conn_str in the backend block, or the {CONN_STR_ENV} environment variable"))
                    .into())
            }
        };
        let schema_name = block.schema_name.clone().unwrap_or_else(|| DEFAULT_SCHEMA_NAME.to_owned());
        let written_at = block.conn_str_location.as_ref().unwrap_or(&block.location);
        let config = PgConfig::new(conn_str, schema_name).map_err(|found| found.at(Some(written_at)))?;
        Ok(BackendConfig::Postgres(config))
    }

    /// Whether both name the same stored states; credentials may differ (a rotated password, a
    /// `PG_CONN_STR` per person) without it being another backend.
    pub fn same_place(&self, other: &BackendConfig) -> bool {
        match (self, other) {
            (BackendConfig::Local { path: a }, BackendConfig::Local { path: b }) => a == b,
            (BackendConfig::Postgres(a), BackendConfig::Postgres(b)) => a.same_place(b),
            _ => false,
        }
    }

    pub fn open(&self, workspace: &str) -> Box<dyn Backend> {
        match self {
            BackendConfig::Local { path } => Box::new(LocalFile::new(local::workspace_path(path, workspace))),
            BackendConfig::Postgres(config) => Box::new(PgState::new(config.clone(), workspace)),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            BackendConfig::Local { path } => format!("the local state file {}", path.display()),
            BackendConfig::Postgres(config) => config.describe(),
        }
    }

    /// Connects and creates what the backend needs (`strata init`).
    pub fn check(&self) -> Result<()> {
        match self {
            BackendConfig::Local { .. } => Ok(()),
            BackendConfig::Postgres(config) => postgres::check(config),
        }
    }

    /// Every workspace with a state, `default` always first.
    pub fn workspaces(&self) -> Result<Vec<String>> {
        let mut names = match self {
            BackendConfig::Local { path } => local::workspaces(path)?,
            BackendConfig::Postgres(config) => postgres::workspaces(config)?,
        };
        names.retain(|name| name != DEFAULT_WORKSPACE);
        names.sort();
        names.insert(0, DEFAULT_WORKSPACE.to_owned());
        Ok(names)
    }

    pub fn delete_workspace(&self, name: &str) -> Result<()> {
        match self {
            BackendConfig::Local { path } => local::delete_workspace(path, name),
            BackendConfig::Postgres(config) => postgres::delete_workspace(config, name),
        }
    }

    /// Clears the lock `id` on `workspace` when it is safe to; says what it did.
    pub fn force_unlock(&self, workspace: &str, id: &str) -> Result<String> {
        match self {
            BackendConfig::Local { path } => local::force_unlock(&local::workspace_path(path, workspace), id),
            BackendConfig::Postgres(config) => postgres::force_unlock(config, workspace, id),
        }
    }
}

/// Everything needed to open the state of one workspace: backend, workspace, encryption.
#[derive(Clone)]
pub struct StateSetup {
    pub backend: BackendConfig,
    pub workspace: String,
    pub encryption: Option<Arc<Encryption>>,
}

impl StateSetup {
    /// The state the configuration in `dir` uses. The local file comes from `-state`
    /// (`state_override`), `state_path` or the default; `-state` always means that file, no backend.
    /// The selected workspace must exist: a typo in `STRATA_WORKSPACE` would otherwise start from
    /// an empty state and create everything again.
    pub fn resolve(settings: &Settings, dir: &Path, state_override: Option<&Path>) -> Result<StateSetup> {
        let setup = StateSetup::resolve_any_workspace(settings, dir, state_override)?;
        setup.refuse_missing_workspace()?;
        Ok(setup)
    }

    /// `resolve` for the workspace commands, which work whether or not the selected one exists.
    pub fn resolve_any_workspace(settings: &Settings, dir: &Path, state_override: Option<&Path>) -> Result<StateSetup> {
        let local_path = local_state_path(settings, dir, state_override);
        if state_override.is_some() {
            let encryption = Encryption::from_settings(settings)?.map(Arc::new);
            let backend = BackendConfig::Local { path: local_path };
            return Ok(StateSetup { backend, workspace: DEFAULT_WORKSPACE.to_owned(), encryption });
        }
        let setup = StateSetup::configured(settings, dir, &local_path)?;
        setup.refuse_uninitialized(dir, &local_path)?;
        Ok(setup)
    }

    /// The configured backend, whether or not `strata init` has seen it (for `strata init` itself).
    pub fn configured(settings: &Settings, dir: &Path, local_path: &Path) -> Result<StateSetup> {
        let encryption = Encryption::from_settings(settings)?.map(Arc::new);
        Ok(StateSetup { backend: BackendConfig::from_settings(settings, local_path)?, workspace: selected_workspace(dir)?, encryption })
    }

    /// The same workspace and encryption over another backend.
    pub fn over(&self, backend: BackendConfig) -> StateSetup {
        StateSetup { backend, ..self.clone() }
    }

    pub fn store(&self, lock: LockOptions) -> StateStore {
        self.store_for(&self.workspace, lock)
    }

    pub fn store_for(&self, workspace: &str, lock: LockOptions) -> StateStore {
        StateStore::with_backend(self.backend.open(workspace), self.encryption.clone(), lock)
    }

    fn refuse_missing_workspace(&self) -> Result<()> {
        if self.workspace == DEFAULT_WORKSPACE {
            return Ok(());
        }
        let existing = self.backend.workspaces()?;
        if existing.contains(&self.workspace) {
            return Ok(());
        }
        let chosen_by = match std::env::var(WORKSPACE_ENV) {
            Ok(name) if !name.is_empty() => format!("{WORKSPACE_ENV}={name}"),
            _ => ENVIRONMENT_FILE.to_owned(),
        };
        Err(Diagnostic::error(format!("the selected workspace \"{}\" does not exist ({chosen_by})", self.workspace))
            .detail(format!("the workspaces in {}: {}", self.backend.describe(), existing.join(", ")))
            .hint(format!("create it with strata workspace new {}, or select one of the above with strata workspace select NAME", self.workspace))
            .into())
    }

    /// Refuses a backend other than the one `strata init` recorded (the state would seem empty),
    /// and a remote backend nobody initialized next to a local state that manages something:
    /// either way going on would create everything again.
    fn refuse_uninitialized(&self, dir: &Path, local_path: &Path) -> Result<()> {
        match recorded_backend(dir)? {
            Some(recorded) if recorded.same_place(&self.backend) => return Ok(()),
            Some(recorded) => {
                return Err(Diagnostic::error("the state backend changed since strata init")
                    .detail(format!("initialized: {}; configured now: {}", recorded.describe(), self.backend.describe()))
                    .hint("run strata init -migrate-state to move the state to the configured backend")
                    .into())
            }
            None if matches!(self.backend, BackendConfig::Local { .. }) => return Ok(()),
            None => {}
        }
        let mut local = StateStore::with_backend(Box::new(LocalFile::new(local_path.to_path_buf())), self.encryption.clone(), LockOptions::default());
        match local.load()? {
            Some(state) if !state.resources.is_empty() => Err(Diagnostic::error(format!(
                "{} is configured but not initialized, and the local state {} manages {} resource(s)",
                self.backend.describe(),
                local_path.display(),
                state.resources.len()
            ))
            .detail("going on would start from an empty remote state and create everything again")
            .hint("run strata init -migrate-state to move the local state into the backend")
            .into()),
            _ => Ok(()),
        }
    }
}

/// The local state file: `-state`, else the `strata` block's `state_path`, else the default.
pub fn local_state_path(settings: &Settings, dir: &Path, state_override: Option<&Path>) -> PathBuf {
    match (state_override, &settings.state_path) {
        (Some(path), _) => path.to_path_buf(),
        (None, Some(path)) => dir.join(path),
        (None, None) => dir.join(DEFAULT_STATE_FILE),
    }
}

/// The workspace in use: `STRATA_WORKSPACE`, else the one `strata workspace select` recorded.
pub fn selected_workspace(dir: &Path) -> Result<String> {
    if let Some(name) = std::env::var(WORKSPACE_ENV).ok().filter(|n| !n.is_empty()) {
        check_workspace_name(&name)?;
        return Ok(name);
    }
    match std::fs::read_to_string(dir.join(ENVIRONMENT_FILE)) {
        Ok(text) if !text.trim().is_empty() => {
            let name = text.trim().to_owned();
            check_workspace_name(&name)?;
            Ok(name)
        }
        Ok(_) => Ok(DEFAULT_WORKSPACE.to_owned()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT_WORKSPACE.to_owned()),
        Err(err) => Err(Diagnostic::error(format!("cannot read {ENVIRONMENT_FILE}: {err}")).into()),
    }
}

/// Records `name` as the selected workspace.
pub fn select_workspace(dir: &Path, name: &str) -> Result<()> {
    write_private(&dir.join(ENVIRONMENT_FILE), name.as_bytes())
}

/// Workspace names become file names and rows: letters, digits, `-` and `_` only.
pub fn check_workspace_name(name: &str) -> Result<()> {
    let valid = !name.is_empty() && name.len() <= 90 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        return Ok(());
    }
    Err(Diagnostic::error(format!("\"{name}\" is not a valid workspace name"))
        .hint("use letters, digits, - and _ (at most 90 characters)")
        .into())
}

/// The backend `strata init` last initialized here.
pub fn recorded_backend(dir: &Path) -> Result<Option<BackendConfig>> {
    let path = dir.join(BACKEND_RECORD);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Diagnostic::error(format!("cannot read {}: {err}", path.display())).into()),
    };
    let recorded: BackendConfig = serde_json::from_str(&text).map_err(|err| {
        Diagnostic::error(format!("{} is damaged: {err}", path.display())).hint("delete it and run strata init again")
    })?;
    if let BackendConfig::Postgres(config) = &recorded {
        config.remember_password();
    }
    Ok(Some(recorded))
}

/// Records `backend` as initialized; the file may hold a connection string, so it is 0600.
pub fn record_backend(dir: &Path, backend: &BackendConfig) -> Result<()> {
    let text = serde_json::to_string_pretty(backend).map_err(|err| Diagnostic::error(format!("cannot encode the backend record: {err}")))?;
    write_private(&dir.join(BACKEND_RECORD), text.as_bytes())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let fail = |err: std::io::Error| {
        Diagnostic::error(format!("cannot write {}: {err}", path.display())).hint("check that the directory is writable")
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(fail)?;
    }
    local::write_atomically(path, bytes).map_err(fail)?;
    Ok(())
}

/// Takes the lock, asking again until `timeout` has passed; then fails naming the holder.
pub fn acquire(backend: &dyn Backend, operation: &str, timeout: Duration) -> Result<StateLock> {
    let info = LockInfo::new(operation);
    let started = Instant::now();
    run_blocking(|| loop {
        let holder = match backend.try_lock(&info)? {
            LockAttempt::Acquired(lock) => return Ok(lock),
            LockAttempt::Held(holder) => holder,
        };
        let waited = started.elapsed();
        if waited >= timeout {
            return Err(locked_error(backend, holder.as_ref(), timeout));
        }
        std::thread::sleep(LOCK_RETRY_EVERY.min(timeout - waited));
    })
}

fn locked_error(backend: &dyn Backend, holder: Option<&LockInfo>, timeout: Duration) -> crate::diag::Diagnostics {
    let waited = if timeout.is_zero() { String::new() } else { format!(" (waited {}s)", timeout.as_secs_f32()) };
    let (detail, unlock) = match holder {
        Some(info) => (info.describe(), format!("; if its process is gone, strata force-unlock {}", info.id)),
        None => ("held by another strata process".to_owned(), String::new()),
    };
    Diagnostic::error(format!("{} is locked{waited}", backend.describe()))
        .detail(detail)
        .hint(format!("wait for the other operation to finish, or pass -lock-timeout 2m to wait for it{unlock}"))
        .into()
}

/// Runs blocking work from anywhere: inside the multi-threaded runtime without stalling it.
fn run_blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Runs `future` to completion from synchronous code: on the current multi-threaded runtime, or
/// outside any runtime on one kept for the backend (connections spawned there outlive the call).
pub(crate) fn block_on<F: Future>(future: F) -> Result<F::Output> {
    static BACKEND_RUNTIME: OnceLock<std::result::Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            Ok(tokio::task::block_in_place(|| handle.block_on(future)))
        }
        Ok(_) => Err(Diagnostic::error("the postgres state backend needs tokio's multi-threaded runtime").into()),
        Err(_) => {
            let runtime = BACKEND_RUNTIME.get_or_init(|| {
                tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().map_err(|err| err.to_string())
            });
            match runtime {
                Ok(runtime) => Ok(runtime.block_on(future)),
                Err(err) => Err(Diagnostic::error(format!("cannot start the runtime for the state backend: {err}")).into()),
            }
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "localhost".into())
}
