//! Restoring a backup into a database and checking it against the backup's manifest: what a
//! restore drill does in its scratch database, and what `strata restore` does in the database
//! the user names. A database that exists is replaced only when the request says so.

use strata_provider_sdk::{Progress, ProviderError, RestoreRequest};
use tokio_postgres::Client;

use std::path::Path;

use super::artefacts::{self, Artefact, Condition, Manifest};
use super::store::{Destination, Store};
use super::watch::Watch;
use super::{dump, POLICY};
use crate::config::{describe_error, ConnSettings};
use crate::ddl::{ident, qualified_ref};

/// The checks a restore passed and failed, in order.
#[derive(Debug, Default)]
pub struct Checks {
    pub entries: Vec<(String, bool)>,
}

impl Checks {
    pub fn pass(&mut self, what: impl Into<String>) {
        self.entries.push((what.into(), true));
    }

    pub fn fail(&mut self, what: impl Into<String>) {
        self.entries.push((what.into(), false));
    }

    pub fn failures(&self) -> Vec<String> {
        self.entries.iter().filter(|(_, passed)| !passed).map(|(what, _)| what.clone()).collect()
    }

    pub fn passed(&self) -> bool {
        self.entries.iter().all(|(_, passed)| *passed)
    }
}

/// Whether the dump's bytes (at `dump`, fetched) are still those its manifest hashed; records
/// the check.
pub fn sha256_matches(backup: &Artefact, dump: &Path, checks: &mut Checks) -> bool {
    let id = &backup.manifest.backup_id;
    match artefacts::sha256_of(dump) {
        Ok(sha) if sha == backup.manifest.sha256 => {
            checks.pass(format!("sha256 of {id} matches its manifest"));
            true
        }
        Ok(_) => {
            checks.fail(format!("backup {id} is corrupted: its sha256 differs from its manifest's"));
            false
        }
        Err(err) => {
            checks.fail(format!("cannot read backup {id}: {err}"));
            false
        }
    }
}

/// Creates `database` (with `comment` on it, when given) and restores `backup`'s dump, fetched
/// to `dump`, into it, stopping at the first error; the restore's seconds.
pub async fn into_new_database(settings: &ConnSettings, client: &Client, backup: &Artefact, dump: &Path, database: &str, comment: Option<&str>, progress: &Progress) -> Result<f64, ProviderError> {
    let sql = |err: tokio_postgres::Error| ProviderError::new(format!("cannot create the database {database}: {}", describe_error(&err)));
    client.batch_execute(&format!("CREATE DATABASE {}", ident(database))).await.map_err(sql)?;
    if let Some(comment) = comment {
        client.batch_execute(&format!("COMMENT ON DATABASE {} IS '{}'", ident(database), comment.replace('\'', "''"))).await.map_err(sql)?;
    }
    let (server_major, _) = dump::server_version(client).await?;
    let pg_restore = dump::find_tool("pg_restore", server_major).await?;
    let started = std::time::Instant::now();
    dump::restore(settings, &pg_restore.path, dump, database, Watch::restore(progress, backup.manifest.row_counts.len())).await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Checks the restored database against `manifest`: the schema's fingerprint and every
/// table's rows; how many tables were counted. A manifest that counts no table fails.
pub async fn against_manifest(restored: &Client, manifest: &Manifest, schema: bool, rows: bool, checks: &mut Checks) -> Result<usize, ProviderError> {
    if schema {
        if dump::schema_fingerprint(restored, &manifest.schemas).await? == manifest.schema_fingerprint {
            checks.pass("the restored schema's fingerprint matches the manifest's");
        } else {
            checks.fail("the restored schema differs from the one the backup's manifest describes");
        }
    }
    if !rows {
        return Ok(0);
    }
    let tables: Vec<(String, String)> = manifest.row_counts.keys().map(|name| (name.clone(), qualified_ref(name))).collect();
    if tables.is_empty() {
        checks.fail("zero tables checked: the backup's manifest counts none");
        return Ok(0);
    }
    let counts = dump::exact_counts(restored, &tables).await?;
    let exact = manifest.row_count_method == "exact";
    let differing: Vec<String> = manifest
        .row_counts
        .iter()
        .filter(|(table, expected)| exact && counts.get(*table) != Some(expected))
        .map(|(table, expected)| format!("{table}: {} rows, the manifest says {expected}", counts.get(table).copied().unwrap_or(0)))
        .collect();
    if differing.is_empty() {
        checks.pass(format!("row counts of {} table(s) match the manifest", tables.len()));
    } else {
        checks.fail(format!("row counts differ from the manifest: {}", differing.join(", ")));
    }
    Ok(tables.len())
}

/// The backup `id` names among `backups`, or the newest present one; an unknown id is an
/// error listing the ones there are.
pub fn choose<'a>(backups: &'a [Artefact], id: Option<&str>) -> Result<&'a Artefact, ProviderError> {
    let newest: Vec<&str> = backups.iter().rev().take(5).map(|b| b.manifest.backup_id.as_str()).collect();
    match id {
        Some(id) => backups.iter().find(|b| b.manifest.backup_id == id).ok_or_else(|| {
            ProviderError::new(format!("the policy has no backup \"{id}\"")).with_hint(format!("the newest are: {}; strata state show lists them all", newest.join(", ")))
        }),
        None => backups.iter().rev().find(|b| b.condition == Condition::Present).ok_or_else(|| ProviderError::new("the policy has no backup to restore").with_hint("take one first: strata apply -target=ADDR")),
    }
}

/// `strata restore`: the chosen backup of a policy into `target`, then checked; one line per
/// step and check. A check that fails is an error, the restored database left for inspection.
pub async fn run(settings: &ConnSettings, request: &RestoreRequest) -> Result<Vec<String>, ProviderError> {
    if request.type_name != POLICY {
        return Err(ProviderError::new(format!("{} holds no backups to restore", request.type_name)).with_hint("restore a backup policy's backup: strata restore postgres_backup_policy.NAME -target-database NAME"));
    }
    if request.target == settings.database {
        return Err(ProviderError::new(format!("\"{}\" is the database the provider connects to: strata does not restore over it", request.target))
            .with_hint("restore into a new database, check it, then point the application at it"));
    }
    let (destination, token) = Destination::parse_id(request.state.get_str("id").unwrap_or_default())?;
    let store = Store::open(&destination).await?;
    let backups = store.list(&token).await?;
    let backup = choose(&backups, request.backup.as_deref())?;
    let fetched = store.fetch(backup).await?;
    let mut checks = Checks::default();
    if !sha256_matches(backup, &fetched.path, &mut checks) {
        return Err(ProviderError::new(checks.failures().join("; ")).with_hint("choose another backup with -backup ID"));
    }
    let client = settings.connect().await?;
    let exists = client.query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&request.target]).await.map_err(|err| ProviderError::new(describe_error(&err)))?.is_some();
    let mut lines = Vec::new();
    if exists && !request.replace_existing {
        return Err(ProviderError::new(format!("the database \"{}\" exists: nothing was restored", request.target))
            .with_hint("choose a new name with -target-database, or pass -replace-existing to drop it and everything in it first"));
    }
    if exists {
        client
            .batch_execute(&format!("DROP DATABASE {} WITH (FORCE)", ident(&request.target)))
            .await
            .map_err(|err| ProviderError::new(format!("cannot drop {}: {}", request.target, describe_error(&err))))?;
        lines.push(format!("dropped the existing database {}", request.target));
    }
    let seconds = into_new_database(settings, &client, backup, &fetched.path, &request.target, None, &Progress::default()).await?;
    lines.push(format!("restored backup {} ({} bytes, taken {}) into {} in {seconds:.1}s", backup.manifest.backup_id, backup.manifest.bytes, backup.manifest.taken_at, request.target));
    let restored = settings.with_database(&request.target).connect().await?;
    against_manifest(&restored, &backup.manifest, true, true, &mut checks).await?;
    lines.extend(checks.entries.iter().map(|(what, passed)| format!("{} {what}", if *passed { "ok:" } else { "FAILED:" })));
    if !checks.passed() {
        return Err(ProviderError::new(format!("the restored database {} does not match its backup's manifest: {}", request.target, checks.failures().join("; "))).with_hint("the database is left as restored, for inspection"));
    }
    Ok(lines)
}
