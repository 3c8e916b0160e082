//! The PostgreSQL state backend: one row per workspace, written in a transaction, locked with an
//! advisory lock held on a dedicated connection for the whole operation.
//!
//! Owns the engine's only SQL: the backend's schema and tables (created on first use), reading and
//! writing a workspace's row and its journal rows (each write one transaction that also checks the serial did not move
//! underneath, retried with backoff on a new session when its connection drops), the advisory lock
//! and the lock row others read (checked before every write, and re-taken when its session
//! dropped and nobody else took it meanwhile), and `force-unlock`. The connection
//! string may hold a password: it is never printed, and errors are masked. It must not know what
//! the state bytes mean.

use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_postgres::{Client, GenericClient};

use super::backend::{block_on, Backend, BackupForm, LockAttempt, LockInfo, StateLock};
use super::State;
use crate::diag::{Diagnostic, Result};
use crate::secrets::MASK;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A state write whose connection drops is tried this many times in all, waiting twice as long
/// before each retry as before the last.
const WRITE_ATTEMPTS: u32 = 5;
const FIRST_RETRY_AFTER: Duration = Duration::from_millis(200);
/// How long asking the lock's session whether it is still there may take before it counts as gone.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long re-taking a lost lock waits for the server to release it from the session that dropped.
const RETAKE_WAIT: Duration = Duration::from_secs(15);
const RETAKE_POLL: Duration = Duration::from_millis(200);

/// The `backend "postgres"` settings, resolved. `Debug` never shows the connection string.
#[derive(Clone, Serialize, Deserialize)]
pub struct PgConfig {
    conn_str: String,
    schema_name: String,
}

impl std::fmt::Debug for PgConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgConfig({})", self.describe())
    }
}

impl PgConfig {
    pub fn new(conn_str: String, schema_name: String) -> std::result::Result<PgConfig, Diagnostic> {
        let config = PgConfig { conn_str, schema_name };
        config.remember_password();
        config.parsed().map(|_| config)
    }

    /// Registers the connection string's password with `secrets::redact`, so that no text strata
    /// prints shows it (`PG_CONN_STR` and `.strata/backend.json` are read without any `.tf` line).
    pub fn remember_password(&self) {
        crate::secrets::remember_conn_str(&self.conn_str);
    }

    fn parsed(&self) -> std::result::Result<tokio_postgres::Config, Diagnostic> {
        tokio_postgres::Config::from_str(&self.conn_str).map_err(|err| {
            Diagnostic::error(format!("the postgres backend's connection string is not valid: {}", self.mask(&err.to_string())))
                .hint("write it as \"host=... dbname=... user=...\" or postgres://user@host/dbname")
        })
    }

    /// Same server, database and schema.
    pub fn same_place(&self, other: &PgConfig) -> bool {
        let place = |config: &PgConfig| {
            let parsed = config.parsed().ok()?;
            let database = parsed.get_dbname().or(parsed.get_user()).map(str::to_owned);
            Some((format!("{:?}", parsed.get_hosts()), parsed.get_ports().to_vec(), database))
        };
        self.schema_name == other.schema_name && place(self).is_some_and(|ours| Some(ours) == place(other))
    }

    /// Where the state lives, without the user's password.
    pub fn describe(&self) -> String {
        let Ok(parsed) = self.parsed() else { return format!("PostgreSQL schema \"{}\"", self.schema_name) };
        let host = parsed
            .get_hosts()
            .first()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
            })
            .unwrap_or_else(|| "localhost".into());
        let database = parsed.get_dbname().or(parsed.get_user()).unwrap_or("postgres");
        format!("the PostgreSQL state (schema \"{}\", database \"{database}\" on {host})", self.schema_name)
    }

    /// `text` with the connection string and its password masked.
    fn mask(&self, text: &str) -> String {
        let mut out = text.replace(&self.conn_str, MASK);
        if let Some(password) = tokio_postgres::Config::from_str(&self.conn_str).ok().and_then(|c| c.get_password().map(<[u8]>::to_vec)) {
            let password = String::from_utf8_lossy(&password).into_owned();
            if !password.is_empty() {
                out = out.replace(&password, MASK);
            }
        }
        out
    }

    fn error(&self, doing: &str, err: &tokio_postgres::Error) -> Diagnostic {
        Diagnostic::error(format!("{doing} in {}: {}", self.describe(), self.mask(&full_error(err))))
    }

    fn table(&self, name: &str) -> String {
        format!("{}.{name}", quote(&self.schema_name))
    }

    /// A new session with the backend's tables in place, for what writes (a lock, a state).
    async fn connect(&self) -> Result<Client> {
        let client = self.open().await?;
        self.create_tables(&client).await?;
        Ok(client)
    }

    /// A new session, nothing created: what only reads (`plan`, `drift`, `workspace list`) must
    /// leave a backend exactly as it found it, tables or none.
    async fn open(&self) -> Result<Client> {
        let mut parsed = self.parsed()?;
        if parsed.get_connect_timeout().is_none() {
            parsed.connect_timeout(CONNECT_TIMEOUT);
        }
        parsed.application_name("strata state");
        // The sslmodes a connection string can name here (prefer, require) encrypt without checking
        // the certificate, as libpq does.
        let tls = native_tls::TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .disable_built_in_roots(true)
            .danger_accept_invalid_hostnames(true)
            .build()
            .map_err(|err| Diagnostic::error(format!("cannot set up TLS for the state backend: {err}")))?;
        let (client, connection) = parsed.connect(postgres_native_tls::MakeTlsConnector::new(tls)).await.map_err(|err| {
            self.error("cannot connect to the state backend", &err).hint("check conn_str (or PG_CONN_STR) and that the server is running")
        })?;
        tokio::spawn(connection);
        Ok(client)
    }

    /// Creates the schema and tables unless they exist; concurrent first uses take turns.
    async fn create_tables(&self, client: &Client) -> Result<()> {
        let exists_sql = "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL";
        let (states, locks, journal) = (self.table("states"), self.table("locks"), self.table("journal"));
        let present = |row: tokio_postgres::Row| row.get::<_, bool>(0);
        let exists =
            client.query_one(exists_sql, &[&states, &locks, &journal]).await.map(present).map_err(|e| self.error("cannot read the catalog", &e))?;
        if exists {
            return Ok(());
        }
        let ddl = format!(
            "BEGIN;
             SELECT pg_advisory_xact_lock({setup_key});
             CREATE SCHEMA IF NOT EXISTS {schema};
             CREATE TABLE IF NOT EXISTS {states} (
               workspace text PRIMARY KEY, serial bigint NOT NULL, lineage text NOT NULL, data bytea NOT NULL,
               updated_at timestamptz NOT NULL DEFAULT now());
             CREATE TABLE IF NOT EXISTS {locks} (
               workspace text PRIMARY KEY, id text NOT NULL, who text NOT NULL, operation text NOT NULL, pid bigint NOT NULL,
               created text NOT NULL, backend_pid integer NOT NULL);
             CREATE TABLE IF NOT EXISTS {journal} (
               workspace text NOT NULL, serial bigint NOT NULL, data bytea NOT NULL, PRIMARY KEY (workspace, serial));
             COMMIT;",
            setup_key = key(&["setup", &self.schema_name]),
            schema = quote(&self.schema_name),
        );
        client.batch_execute(&ddl).await.map_err(|e| {
            self.error("cannot create the state tables", &e).hint("the backend's user needs CREATE on the database, or create the schema for it")
        })?;
        Ok(())
    }
}

/// One workspace's row. Remembers the serial it last saw, so a write can tell whether someone else
/// wrote in between (a second line of defence behind the lock).
pub struct PgState {
    config: PgConfig,
    workspace: String,
    client: Mutex<Option<Client>>,
    /// `None`: not read yet; `Some(None)`: read, no row; `Some(Some(serial))`.
    seen: Mutex<Option<Option<i64>>>,
    /// The lock `try_lock` took, shared with the [`StateLock`] that releases it, so that every write
    /// can first check that its session is still there.
    held: Arc<Mutex<Option<HeldLock>>>,
}

/// The advisory lock's session, what it was recorded as, and the server process holding it.
struct HeldLock {
    client: Client,
    info: LockInfo,
    backend_pid: i32,
}

/// Where the stored row stands, against what this run last saw and is about to write.
enum RowCheck {
    Unmoved,
    /// It already holds exactly this write: the commit of an earlier try landed unacknowledged.
    AlreadyWritten,
    Moved(String),
}

/// What a write stores: the whole state, or a journal record after it.
#[derive(Clone, Copy)]
enum Write {
    State,
    Record,
}

/// Why one try at a write failed: a dropped connection is worth another try, anything else is not.
enum WriteFailure {
    Dropped(crate::diag::Diagnostics),
    Refused(crate::diag::Diagnostics),
}

impl PgState {
    pub fn new(config: PgConfig, workspace: &str) -> PgState {
        let held = Arc::new(Mutex::new(None));
        PgState { config, workspace: workspace.to_owned(), client: Mutex::new(None), seen: Mutex::new(None), held }
    }

    /// Runs `work` with this workspace's cached session, reconnecting when it was lost.
    fn with_client<T>(&self, work: impl AsyncFnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let mut cached = guard(&self.client);
        block_on(async { work(self.session(&mut cached).await?).await })?
    }

    /// The cached session, or a new one when there is none or it was lost.
    async fn session<'a>(&self, cached: &'a mut Option<Client>) -> Result<&'a mut Client> {
        let alive = cached.take().filter(|c| !c.is_closed());
        Ok(cached.insert(match alive {
            Some(client) => client,
            None => self.config.open().await?,
        }))
    }

    fn remember(&self, serial: Option<i64>) {
        *guard(&self.seen) = Some(serial);
    }

    fn seen(&self) -> Option<Option<i64>> {
        *guard(&self.seen)
    }

    /// Writes `stored` as `serial`. Each try first makes sure the lock is still ours; a try whose
    /// connection drops is retried with backoff, and the serial check inside the transaction keeps
    /// a retry from writing over anyone (or writing twice).
    async fn write_with_retries(&self, write: Write, stored: &[u8], state: &State, serial: i64) -> Result<()> {
        let (mut attempt, mut delay) = (1, FIRST_RETRY_AFTER);
        loop {
            self.keep_lock(stored, serial).await?;
            match self.write_once(write, stored, state, serial).await {
                Ok(()) => return Ok(()),
                Err(WriteFailure::Dropped(_)) if attempt < WRITE_ATTEMPTS => {
                    tokio::time::sleep(delay).await;
                    (attempt, delay) = (attempt + 1, delay * 2);
                }
                Err(WriteFailure::Dropped(mut problem)) => {
                    if let Some(last) = problem.0.last_mut() {
                        last.detail = Some(format!("the connection to the state backend dropped on each of {WRITE_ATTEMPTS} tries"));
                    }
                    return Err(problem);
                }
                Err(WriteFailure::Refused(problem)) => return Err(problem),
            }
        }
    }

    /// One transaction: check the row did not move underneath, then store the new state (and
    /// clear the journal it folds in) or the journal record.
    // The backend's calls run one at a time on its own `block_on`, so holding the client's guard
    // across awaits blocks nobody; it keeps the cached session from being swapped mid-write.
    #[allow(clippy::await_holding_lock)]
    async fn write_once(&self, write: Write, stored: &[u8], state: &State, serial: i64) -> std::result::Result<(), WriteFailure> {
        let failed = |e: tokio_postgres::Error| {
            let problem = self.config.error("cannot write the state", &e).hint("nothing after this point was recorded; the previous state is intact");
            if e.as_db_error().is_none() { WriteFailure::Dropped(problem.into()) } else { WriteFailure::Refused(problem.into()) }
        };
        let mut cached = guard(&self.client);
        let client = self.session(&mut cached).await.map_err(WriteFailure::Dropped)?;
        self.config.create_tables(client).await.map_err(WriteFailure::Dropped)?;
        let tx = client.transaction().await.map_err(failed)?;
        let check = match write {
            Write::State => self.check_row(&tx, stored, serial, true).await,
            Write::Record => self.check_journal(&tx, stored, serial).await,
        };
        match check.map_err(failed)? {
            RowCheck::AlreadyWritten => return Ok(()),
            RowCheck::Moved(problem) => return Err(WriteFailure::Refused(self.moved_error(&problem))),
            RowCheck::Unmoved => {}
        }
        match write {
            Write::State => {
                let upsert = format!(
                    "INSERT INTO {} (workspace, serial, lineage, data, updated_at) VALUES ($1, $2, $3, $4, now())
                     ON CONFLICT (workspace) DO UPDATE SET serial = excluded.serial, lineage = excluded.lineage, data = excluded.data, updated_at = now()",
                    self.config.table("states")
                );
                tx.execute(&upsert, &[&self.workspace, &serial, &state.lineage, &stored]).await.map_err(failed)?;
                let folded = format!("DELETE FROM {} WHERE workspace = $1", self.config.table("journal"));
                tx.execute(&folded, &[&self.workspace]).await.map_err(failed)?;
            }
            Write::Record => {
                let append = format!("INSERT INTO {} (workspace, serial, data) VALUES ($1, $2, $3)", self.config.table("journal"));
                tx.execute(&append, &[&self.workspace, &serial, &stored]).await.map_err(failed)?;
            }
        }
        tx.commit().await.map_err(failed)
    }

    /// Before a journal record: the state row is as read (nobody folded the journal meanwhile),
    /// and the journal does not hold `serial` yet, unless it holds exactly this record.
    async fn check_journal(&self, client: &impl GenericClient, stored: &[u8], serial: i64) -> std::result::Result<RowCheck, tokio_postgres::Error> {
        let select = format!("SELECT serial FROM {} WHERE workspace = $1 FOR UPDATE", self.config.table("states"));
        let current: Option<i64> = client.query_opt(&select, &[&self.workspace]).await?.map(|r| r.get(0));
        if let Some(problem) = moved_underneath(self.seen(), current, serial) {
            return Ok(RowCheck::Moved(problem));
        }
        let select = format!("SELECT sha256(data) FROM {} WHERE workspace = $1 AND serial = $2", self.config.table("journal"));
        let recorded: Option<Vec<u8>> = client.query_opt(&select, &[&self.workspace, &serial]).await?.map(|r| r.get(0));
        Ok(match recorded {
            None => RowCheck::Unmoved,
            Some(digest) if digest == Sha256::digest(stored).as_slice() => RowCheck::AlreadyWritten,
            Some(_) => RowCheck::Moved(format!("its journal already holds serial {serial}")),
        })
    }

    /// Compares the row with what this run saw last, and with the write it is about to make;
    /// `for_update` locks the row until the transaction ends.
    async fn check_row(&self, client: &impl GenericClient, stored: &[u8], serial: i64, for_update: bool) -> std::result::Result<RowCheck, tokio_postgres::Error> {
        let locking = if for_update { "FOR UPDATE" } else { "" };
        let select = format!("SELECT serial, sha256(data) FROM {} WHERE workspace = $1 {locking}", self.config.table("states"));
        let row = client.query_opt(&select, &[&self.workspace]).await?;
        let current: Option<i64> = row.as_ref().map(|r| r.get(0));
        let digest: Option<Vec<u8>> = row.as_ref().map(|r| r.get(1));
        if current == Some(serial) && digest.as_deref() == Some(Sha256::digest(stored).as_slice()) {
            return Ok(RowCheck::AlreadyWritten);
        }
        Ok(moved_underneath(self.seen(), current, serial).map_or(RowCheck::Unmoved, RowCheck::Moved))
    }

    /// Before a write: the lock's session must still be there. One that dropped has released the
    /// advisory lock with it, so the lock is taken again on a new session, but only while nobody
    /// else holds it and the state is as this run left it.
    #[allow(clippy::await_holding_lock)] // as in `write_once`: the backend's calls run one at a time
    async fn keep_lock(&self, stored: &[u8], serial: i64) -> Result<()> {
        let mut held = guard(&self.held);
        let Some(lock) = held.as_mut() else { return Ok(()) };
        let alive = tokio::time::timeout(PROBE_TIMEOUT, lock.client.simple_query("SELECT 1")).await;
        if matches!(alive, Ok(Ok(_))) {
            return Ok(());
        }
        let (client, backend_pid) = self.retake(lock, stored, serial).await?;
        (lock.client, lock.backend_pid) = (client, backend_pid);
        Ok(())
    }

    /// Takes the lock again for `lock.info` on a new session. The server may not have noticed yet
    /// that the old session is gone (it still holds the lock): that is waited out, for a while.
    async fn retake(&self, lock: &HeldLock, stored: &[u8], serial: i64) -> Result<(Client, i32)> {
        let started = Instant::now();
        loop {
            let client = match self.config.connect().await {
                Ok(client) => client,
                Err(problem) if started.elapsed() >= RETAKE_WAIT => return Err(problem),
                Err(_) => {
                    tokio::time::sleep(RETAKE_POLL).await;
                    continue;
                }
            };
            if try_advisory_lock(&self.config, &client, &self.workspace).await? {
                let check = self.check_row(&client, stored, serial, false).await.map_err(|e| self.config.error("cannot read the state", &e))?;
                if let RowCheck::Moved(problem) = check {
                    return Err(self.lock_lost(&format!("someone wrote the state meanwhile ({problem})")));
                }
                let backend_pid = record_lock(&self.config, &client, &self.workspace, &lock.info).await?;
                return Ok((client, backend_pid));
            }
            let others: Vec<i32> = lock_holders(&self.config, &client, &self.workspace).await?.into_iter().filter(|pid| *pid != lock.backend_pid).collect();
            if let Some(pid) = others.first() {
                let holder = lock_row(&self.config, &client, &self.workspace).await?.filter(|info| info.id != lock.info.id);
                let who = holder.map_or(format!("another session (server process {pid})"), |info| info.describe());
                return Err(self.lock_lost(&format!("it is now held by {who}")));
            }
            if started.elapsed() >= RETAKE_WAIT {
                return Err(self.lock_lost(&format!("the server still holds it for the session that dropped (process {})", lock.backend_pid)));
            }
            tokio::time::sleep(RETAKE_POLL).await;
        }
    }

    fn moved_error(&self, problem: &str) -> crate::diag::Diagnostics {
        Diagnostic::error(format!("{} changed underneath this run: {problem}", self.describe()))
            .detail("another strata wrote the state while this one held what it thought was the lock (was it run with -lock=false?)")
            .hint("nothing was written; run strata plan again to see the state as it is now")
            .into()
    }

    fn lock_lost(&self, why: &str) -> crate::diag::Diagnostics {
        Diagnostic::error(format!("the state lock was lost: the session holding the lock on {} dropped, and {why}", self.describe()))
            .detail("nothing more was written to the state; what this run recorded before is intact")
            .hint("run strata plan to see where things stand (after the other operation, if one is running), then run this again")
            .into()
    }
}

impl Backend for PgState {
    fn describe(&self) -> String {
        format!("{}, workspace \"{}\"", self.config.describe(), self.workspace)
    }

    fn read(&self) -> Result<Option<Vec<u8>>> {
        let sql = format!("SELECT serial, data FROM {} WHERE workspace = $1", self.config.table("states"));
        let failed = |e: tokio_postgres::Error| -> crate::diag::Diagnostics { self.config.error("cannot read the state", &e).into() };
        let row = self.with_client(async |client| match client.query_opt(&sql, &[&self.workspace]).await {
            Err(e) if never_written(&e) => Ok(None),
            read => read.map_err(failed),
        })?;
        self.remember(row.as_ref().map(|r| r.get(0)));
        Ok(row.map(|r| r.get(1)))
    }

    /// No backup row: each write replaces the row in one transaction, so none is half written.
    fn write(&mut self, stored: &[u8], state: &State, _backup_form: &BackupForm) -> Result<()> {
        let serial = i64::try_from(state.serial).map_err(|_| Diagnostic::error(format!("the serial {} is too large to store", state.serial)))?;
        block_on(self.write_with_retries(Write::State, stored, state, serial))??;
        self.remember(Some(serial));
        Ok(())
    }

    /// The records after the state row's serial (older ones are folded in already).
    fn read_journal(&self) -> Result<Vec<Vec<u8>>> {
        let sql = format!(
            "SELECT j.data FROM {} j JOIN {} s USING (workspace) WHERE j.workspace = $1 AND j.serial > s.serial ORDER BY j.serial",
            self.config.table("journal"),
            self.config.table("states")
        );
        let failed = |e: tokio_postgres::Error| -> crate::diag::Diagnostics { self.config.error("cannot read the state journal", &e).into() };
        let rows = self.with_client(async |client| match client.query(&sql, &[&self.workspace]).await {
            Err(e) if never_written(&e) => Ok(vec![]),
            read => read.map_err(failed),
        })?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// One row; the state row's serial stays until the next whole write folds the journal in.
    fn append(&mut self, stored: &[u8], state: &State) -> Result<()> {
        let serial = i64::try_from(state.serial).map_err(|_| Diagnostic::error(format!("the serial {} is too large to store", state.serial)))?;
        block_on(self.write_with_retries(Write::Record, stored, state, serial))?
    }

    fn try_lock(&self, info: &LockInfo) -> Result<LockAttempt> {
        block_on(async {
            let client = self.config.connect().await?;
            if !try_advisory_lock(&self.config, &client, &self.workspace).await? {
                return Ok(LockAttempt::Held(lock_row(&self.config, &client, &self.workspace).await?));
            }
            let backend_pid = record_lock(&self.config, &client, &self.workspace, info).await?;
            *guard(&self.held) = Some(HeldLock { client, info: info.clone(), backend_pid });
            let releases = PgLock { held: self.held.clone(), table: self.config.table("locks"), workspace: self.workspace.clone() };
            Ok(LockAttempt::Acquired(StateLock::holding(releases)))
        })?
    }
}

/// Why a write of `serial` must not go ahead, given the serial read before (`seen`) and now.
fn moved_underneath(seen: Option<Option<i64>>, current: Option<i64>, serial: i64) -> Option<String> {
    match seen {
        Some(expected) if expected != current => Some(format!(
            "its serial was {} when read and is {} now",
            expected.map_or("(none)".to_owned(), |s| s.to_string()),
            current.map_or("(none)".to_owned(), |s| s.to_string())
        )),
        None if current.is_some_and(|c| c >= serial) => Some(format!("it already holds serial {}", current.unwrap_or_default())),
        _ => None,
    }
}

/// Releases the lock when dropped: clears the row naming the holder and closes the session,
/// which releases the advisory lock whatever happens to the row.
struct PgLock {
    held: Arc<Mutex<Option<HeldLock>>>,
    table: String,
    workspace: String,
}

impl Drop for PgLock {
    fn drop(&mut self) {
        let Some(lock) = guard(&self.held).take() else { return };
        let sql = format!("DELETE FROM {} WHERE workspace = $1 AND id = $2", self.table);
        let _ = block_on(async move {
            let _ = lock.client.execute(&sql, &[&self.workspace, &lock.info.id]).await;
        });
    }
}

fn guard<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The advisory lock key of `workspace`'s state.
fn lock_key(config: &PgConfig, workspace: &str) -> i64 {
    key(&["lock", &config.schema_name, workspace])
}

async fn try_advisory_lock(config: &PgConfig, client: &Client, workspace: &str) -> Result<bool> {
    let attempt = client.query_one("SELECT pg_try_advisory_lock($1)", &[&lock_key(config, workspace)]).await;
    Ok(attempt.map_err(|e| config.error("cannot take the state lock", &e))?.get(0))
}

/// Records `info` as the lock's holder, on the session holding it; returns that session's server process.
async fn record_lock(config: &PgConfig, client: &Client, workspace: &str, info: &LockInfo) -> Result<i32> {
    let upsert = format!(
        "INSERT INTO {} (workspace, id, who, operation, pid, created, backend_pid) VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())
         ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, who = excluded.who, operation = excluded.operation, pid = excluded.pid,
           created = excluded.created, backend_pid = excluded.backend_pid
         RETURNING backend_pid",
        config.table("locks")
    );
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [&workspace, &info.id, &info.who, &info.operation, &i64::from(info.pid), &info.created];
    let row = client.query_one(&upsert, &params).await.map_err(|e| config.error("cannot record the state lock", &e))?;
    Ok(row.get(0))
}

/// The server processes holding the advisory lock of `workspace`.
async fn lock_holders(config: &PgConfig, client: &Client, workspace: &str) -> Result<Vec<i32>> {
    let lock_key = lock_key(config, workspace) as u64;
    let holders_sql = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                         AND classid::int8 = $1 AND objid::int8 = $2";
    let (high, low) = ((lock_key >> 32) as i64, (lock_key & 0xffff_ffff) as i64);
    let holders = client.query(holders_sql, &[&high, &low]).await.map_err(|e| config.error("cannot find the lock's session", &e))?;
    Ok(holders.iter().map(|row| row.get(0)).collect())
}

async fn lock_row(config: &PgConfig, client: &Client, workspace: &str) -> Result<Option<LockInfo>> {
    let sql = format!("SELECT id, who, operation, pid, created FROM {} WHERE workspace = $1", config.table("locks"));
    let row = client.query_opt(&sql, &[&workspace]).await.map_err(|e| config.error("cannot read the state lock", &e))?;
    Ok(row.map(|r| {
        let pid = u32::try_from(r.get::<_, i64>(3)).unwrap_or_default();
        LockInfo { id: r.get(0), who: r.get(1), operation: r.get(2), pid, created: r.get(4) }
    }))
}

/// The backend's tables do not exist: nothing was ever written there, so there is no state yet.
fn never_written(err: &tokio_postgres::Error) -> bool {
    err.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE)
}

/// `strata init`: connects and creates the tables.
pub fn check(config: &PgConfig) -> Result<()> {
    block_on(async { config.connect().await.map(drop) })?
}

pub fn workspaces(config: &PgConfig) -> Result<Vec<String>> {
    block_on(async {
        let client = config.open().await?;
        let sql = format!("SELECT workspace FROM {}", config.table("states"));
        match client.query(&sql, &[]).await {
            Err(e) if never_written(&e) => Ok(vec![]),
            rows => Ok(rows.map_err(|e| config.error("cannot list workspaces", &e))?.iter().map(|r| r.get(0)).collect()),
        }
    })?
}

pub fn delete_workspace(config: &PgConfig, name: &str) -> Result<()> {
    block_on(async {
        let mut client = config.connect().await?;
        let failed = |e: tokio_postgres::Error| config.error("cannot delete the workspace", &e);
        let tx = client.transaction().await.map_err(failed)?;
        for table in ["states", "locks", "journal"] {
            tx.execute(&format!("DELETE FROM {} WHERE workspace = $1", config.table(table)), &[&name]).await.map_err(failed)?;
        }
        tx.commit().await.map_err(failed)?;
        Ok(())
    })?
}

/// Ends the session holding lock `id` on `workspace` (only when the recorded id matches) and
/// clears the row.
pub fn force_unlock(config: &PgConfig, workspace: &str, id: &str) -> Result<String> {
    block_on(async {
        let client = config.connect().await?;
        let recorded = lock_row(config, &client, workspace).await?;
        let Some(info) = recorded.filter(|info| info.id == id) else {
            return Err(Diagnostic::error(format!("{} has no lock with id {id} on workspace \"{workspace}\"", config.describe()))
                .hint("copy the lock id from the error that reported the lock")
                .into());
        };
        let holders = lock_holders(config, &client, workspace).await?;
        for pid in &holders {
            client.execute("SELECT pg_terminate_backend($1)", &[pid]).await.map_err(|e| config.error("cannot end the lock's session", &e))?;
        }
        let sql = format!("DELETE FROM {} WHERE workspace = $1 AND id = $2", config.table("locks"));
        client.execute(&sql, &[&workspace, &id]).await.map_err(|e| config.error("cannot clear the lock", &e))?;
        let what = format!("{} for \"{}\" since {}", info.who, info.operation, info.created);
        Ok(if holders.is_empty() {
            format!("Cleared the stale lock {id} ({what}); no session held it.")
        } else {
            format!("Ended the session holding lock {id} ({what}) and cleared the lock.")
        })
    })?
}

/// An advisory lock key for these parts (a hash, so any schema and workspace name fits).
fn key(parts: &[&str]) -> i64 {
    let digest = Sha256::digest(format!("strata:{}", parts.join("\u{0}")).as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// The error with its server-side message, which `Display` alone leaves out.
fn full_error(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => std::iter::successors(Some(err as &dyn std::error::Error), |e| e.source()).map(ToString::to_string).collect::<Vec<_>>().join(": "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_refuses_a_serial_that_moved() {
        assert_eq!(moved_underneath(Some(Some(3)), Some(3), 4), None);
        assert_eq!(moved_underneath(Some(None), None, 1), None);
        assert!(moved_underneath(Some(Some(3)), Some(5), 4).is_some());
        assert!(moved_underneath(Some(None), Some(1), 1).is_some());
        assert!(moved_underneath(None, Some(7), 7).is_some());
        assert_eq!(moved_underneath(None, Some(2), 7), None);
    }

    #[test]
    fn another_password_is_the_same_place_another_schema_is_not() {
        let config = |conn_str: &str, schema: &str| PgConfig::new(conn_str.into(), schema.into()).expect("valid");
        let ours = config("host=db user=app password=one dbname=x", "strata_state");
        assert!(ours.same_place(&config("host=db user=other password=two dbname=x", "strata_state")));
        assert!(!ours.same_place(&config("host=db user=app password=one dbname=x", "elsewhere")));
        assert!(!ours.same_place(&config("host=db2 user=app password=one dbname=x", "strata_state")));
    }

    #[test]
    fn the_password_is_masked_everywhere() {
        let config = PgConfig::new("host=db user=app password=s3cr3t-pw dbname=x".into(), "strata_state".into()).expect("valid");
        assert!(!config.describe().contains("s3cr3t"));
        assert!(!format!("{config:?}").contains("s3cr3t"));
        assert_eq!(config.mask("auth failed for s3cr3t-pw"), format!("auth failed for {MASK}"));
    }
}
