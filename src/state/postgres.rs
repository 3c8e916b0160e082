//! The PostgreSQL state backend: one row per workspace, written in a transaction, locked with an
//! advisory lock held on a dedicated connection for the whole operation.
//!
//! Owns the engine's only SQL: the backend's schema and tables (created on first use), reading and
//! writing a workspace's row (each write one transaction that also checks the serial did not move
//! underneath), the advisory lock and the lock row others read, and `force-unlock`. The connection
//! string may hold a password: it is never printed, and errors are masked. It must not know what
//! the state bytes mean.

use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio_postgres::Client;

use super::backend::{block_on, Backend, LockAttempt, LockInfo, StateLock};
use super::State;
use crate::diag::{Diagnostic, Result};
use crate::secrets::MASK;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

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
        config.parsed().map(|_| config)
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
        self.schema_name == other.schema_name && place(self).is_some() && place(self) == place(other)
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

    /// A new session with the backend's tables in place.
    async fn connect(&self) -> Result<Client> {
        let mut parsed = self.parsed()?;
        if parsed.get_connect_timeout().is_none() {
            parsed.connect_timeout(CONNECT_TIMEOUT);
        }
        parsed.application_name("strata state");
        // The sslmodes a connection string can name here (prefer, require) encrypt without checking
        // the certificate, as libpq does.
        let tls = native_tls::TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true)
            .build()
            .map_err(|err| Diagnostic::error(format!("cannot set up TLS for the state backend: {err}")))?;
        let (client, connection) = parsed.connect(postgres_native_tls::MakeTlsConnector::new(tls)).await.map_err(|err| {
            self.error("cannot connect to the state backend", &err).hint("check conn_str (or PG_CONN_STR) and that the server is running")
        })?;
        tokio::spawn(connection);
        self.create_tables(&client).await?;
        Ok(client)
    }

    /// Creates the schema and tables unless they exist; concurrent first uses take turns.
    async fn create_tables(&self, client: &Client) -> Result<()> {
        let exists_sql = "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL";
        let (states, locks) = (self.table("states"), self.table("locks"));
        let present = |row: tokio_postgres::Row| row.get::<_, bool>(0);
        let exists = client.query_one(exists_sql, &[&states, &locks]).await.map(present).map_err(|e| self.error("cannot read the catalog", &e))?;
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
}

impl PgState {
    pub fn new(config: PgConfig, workspace: &str) -> PgState {
        PgState { config, workspace: workspace.to_owned(), client: Mutex::new(None), seen: Mutex::new(None) }
    }

    /// Runs `work` with this workspace's cached session, reconnecting when it was lost.
    fn with_client<T>(&self, work: impl AsyncFnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let mut cached = self.client.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        block_on(async {
            let client = match cached.take().filter(|c| !c.is_closed()) {
                Some(client) => cached.insert(client),
                None => cached.insert(self.config.connect().await?),
            };
            work(client).await
        })?
    }

    fn remember(&self, serial: Option<i64>) {
        *self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(serial);
    }

    fn seen(&self) -> Option<Option<i64>> {
        *self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Backend for PgState {
    fn describe(&self) -> String {
        format!("{}, workspace \"{}\"", self.config.describe(), self.workspace)
    }

    fn read(&self) -> Result<Option<Vec<u8>>> {
        let sql = format!("SELECT serial, data FROM {} WHERE workspace = $1", self.config.table("states"));
        let failed = |e: tokio_postgres::Error| -> crate::diag::Diagnostics { self.config.error("cannot read the state", &e).into() };
        let row = self.with_client(async |client| client.query_opt(&sql, &[&self.workspace]).await.map_err(failed))?;
        self.remember(row.as_ref().map(|r| r.get(0)));
        Ok(row.map(|r| r.get(1)))
    }

    fn write(&mut self, stored: &[u8], state: &State) -> Result<()> {
        let serial = i64::try_from(state.serial).map_err(|_| Diagnostic::error(format!("the serial {} is too large to store", state.serial)))?;
        let seen = self.seen();
        let table = self.config.table("states");
        let failed = |e: tokio_postgres::Error| -> crate::diag::Diagnostics {
            self.config.error("cannot write the state", &e).hint("nothing after this point was recorded; the previous state is intact").into()
        };
        self.with_client(async |client| {
            let tx = client.transaction().await.map_err(failed)?;
            let select = format!("SELECT serial FROM {table} WHERE workspace = $1 FOR UPDATE");
            let current: Option<i64> = tx.query_opt(&select, &[&self.workspace]).await.map_err(failed)?.map(|r| r.get(0));
            moved_underneath(seen, current, serial).map_or(Ok(()), |problem| Err(self.moved_error(&problem)))?;
            let upsert = format!(
                "INSERT INTO {table} (workspace, serial, lineage, data, updated_at) VALUES ($1, $2, $3, $4, now())
                 ON CONFLICT (workspace) DO UPDATE SET serial = excluded.serial, lineage = excluded.lineage, data = excluded.data, updated_at = now()"
            );
            tx.execute(&upsert, &[&self.workspace, &serial, &state.lineage, &stored]).await.map_err(failed)?;
            tx.commit().await.map_err(failed)
        })?;
        self.remember(Some(serial));
        Ok(())
    }

    fn try_lock(&self, info: &LockInfo) -> Result<LockAttempt> {
        block_on(async {
            let client = self.config.connect().await?;
            let lock_key = key(&["lock", &self.config.schema_name, &self.workspace]);
            let attempt = client.query_one("SELECT pg_try_advisory_lock($1)", &[&lock_key]).await;
            let acquired: bool = attempt.map_err(|e| self.config.error("cannot take the state lock", &e))?.get(0);
            if !acquired {
                return Ok(LockAttempt::Held(lock_row(&self.config, &client, &self.workspace).await?));
            }
            let upsert = format!(
                "INSERT INTO {} (workspace, id, who, operation, pid, created, backend_pid) VALUES ($1, $2, $3, $4, $5, $6, pg_backend_pid())
                 ON CONFLICT (workspace) DO UPDATE SET id = excluded.id, who = excluded.who, operation = excluded.operation, pid = excluded.pid,
                   created = excluded.created, backend_pid = excluded.backend_pid",
                self.config.table("locks")
            );
            let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] =
                [&self.workspace, &info.id, &info.who, &info.operation, &i64::from(info.pid), &info.created];
            client.execute(&upsert, &params).await.map_err(|e| self.config.error("cannot record the state lock", &e))?;
            let held = PgLock { client: Some(client), table: self.config.table("locks"), workspace: self.workspace.clone(), id: info.id.clone() };
            Ok(LockAttempt::Acquired(StateLock::holding(held)))
        })?
    }
}

impl PgState {
    fn moved_error(&self, problem: &str) -> crate::diag::Diagnostics {
        Diagnostic::error(format!("{} changed underneath this run: {problem}", self.describe()))
            .detail("another strata wrote the state while this one held what it thought was the lock (was it run with -lock=false?)")
            .hint("nothing was written; run strata plan again to see the state as it is now")
            .into()
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

/// The advisory lock's session, and the row naming its holder; dropping it clears both.
struct PgLock {
    client: Option<Client>,
    table: String,
    workspace: String,
    id: String,
}

impl Drop for PgLock {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        let sql = format!("DELETE FROM {} WHERE workspace = $1 AND id = $2", self.table);
        // Closing the session releases the advisory lock whatever happens to the row.
        let _ = block_on(async move {
            let _ = client.execute(&sql, &[&self.workspace, &self.id]).await;
        });
    }
}

async fn lock_row(config: &PgConfig, client: &Client, workspace: &str) -> Result<Option<LockInfo>> {
    let sql = format!("SELECT id, who, operation, pid, created FROM {} WHERE workspace = $1", config.table("locks"));
    let row = client.query_opt(&sql, &[&workspace]).await.map_err(|e| config.error("cannot read the state lock", &e))?;
    Ok(row.map(|r| {
        let pid = u32::try_from(r.get::<_, i64>(3)).unwrap_or_default();
        LockInfo { id: r.get(0), who: r.get(1), operation: r.get(2), pid, created: r.get(4) }
    }))
}

/// `strata init`: connects and creates the tables.
pub fn check(config: &PgConfig) -> Result<()> {
    block_on(async { config.connect().await.map(drop) })?
}

pub fn workspaces(config: &PgConfig) -> Result<Vec<String>> {
    block_on(async {
        let client = config.connect().await?;
        let sql = format!("SELECT workspace FROM {}", config.table("states"));
        let rows = client.query(&sql, &[]).await.map_err(|e| config.error("cannot list workspaces", &e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    })?
}

pub fn delete_workspace(config: &PgConfig, name: &str) -> Result<()> {
    block_on(async {
        let mut client = config.connect().await?;
        let failed = |e: tokio_postgres::Error| config.error("cannot delete the workspace", &e);
        let tx = client.transaction().await.map_err(failed)?;
        for table in ["states", "locks"] {
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
        let lock_key = key(&["lock", &config.schema_name, workspace]) as u64;
        let holders_sql = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
                             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                             AND classid::int8 = $1 AND objid::int8 = $2";
        let (high, low) = ((lock_key >> 32) as i64, (lock_key & 0xffff_ffff) as i64);
        let holders = client.query(holders_sql, &[&high, &low]).await.map_err(|e| config.error("cannot find the lock's session", &e))?;
        for holder in &holders {
            let pid: i32 = holder.get(0);
            client.execute("SELECT pg_terminate_backend($1)", &[&pid]).await.map_err(|e| config.error("cannot end the lock's session", &e))?;
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
