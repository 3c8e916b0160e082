//! `postgres_backup_policy`: logical backups of the provider's database on a freshness rule.
//!
//! Its live state is the set of backups it wrote (see `artefacts`); its desired state is `every`
//! plus retention. A plan says what is due (a backup when the newest is older than `every`, or
//! damaged or missing; prunes of what retention no longer keeps); apply takes the backup, reads
//! it back whole, and only then prunes. The newest good backup is never pruned, and nothing the
//! policy did not write (another token, no manifest of strata's) is ever listed or removed.
//! Deleting the policy keeps its backups.

use std::time::Duration;

use strata_provider_sdk::duty::{self, Held, Retention};
use strata_provider_sdk::{Action, ApplyFailure, PlannedChange, Progress, ProviderError, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::artefacts::{self, Artefact};
use super::dump;
use super::store::{Destination, Store, POLICY_TAG};
use crate::config::ConnSettings;

/// The policy's settings, from its configuration.
#[derive(Clone, Debug)]
pub struct Policy {
    pub every: Duration,
    pub every_text: String,
    pub format: String,
    pub jobs: Option<i64>,
    pub compress: Option<i64>,
    pub schemas: Vec<String>,
    pub exclude_table_data: Vec<String>,
    pub row_counts: String,
    pub destination: Destination,
    pub retention: Retention,
}

impl Policy {
    pub fn from_value(value: &Value) -> Result<Policy, ProviderError> {
        let every_text = value.get_str("every").unwrap_or_default().to_owned();
        let every = duty::parse(&every_text).map_err(ProviderError::new)?;
        let format = value.get_str("format").unwrap_or("custom").to_owned();
        let jobs = duty::whole_number(value, "jobs")?;
        if jobs.is_some() && format != "directory" {
            return Err(ProviderError::new("jobs needs format = \"directory\": pg_dump dumps in parallel only into a directory").with_hint("set format = \"directory\", or remove jobs"));
        }
        let compress = duty::whole_number(value, "compress")?;
        if compress.is_some_and(|level| level > 9) {
            return Err(ProviderError::new("compress must be a level from 0 (none) to 9"));
        }
        let destination = Destination::from_block(value.get("destination").unwrap_or(&Value::Null))?;
        let retention = Retention::from_block(value.get("retention").unwrap_or(&Value::Null))?;
        Ok(Policy {
            every,
            every_text,
            format,
            jobs,
            compress,
            schemas: value.get_strings("schemas"),
            exclude_table_data: value.get_strings("exclude_table_data"),
            row_counts: value.get_str("row_counts").unwrap_or("exact").to_owned(),
            destination,
            retention,
        })
    }
}

/// The token in a policy's id.
fn token_in(id: &str) -> Result<String, ProviderError> {
    Destination::parse_id(id).map(|(_, token)| token)
}

/// The live policy: its state with `backups` as the destination holds them now.
pub async fn refresh(state: &Value) -> Result<Option<Value>, ProviderError> {
    let Some(id) = state.get_str("id") else { return Ok(None) };
    let (destination, token) = Destination::parse_id(id)?;
    let store = Store::open(&destination).await?;
    Ok(Some(with_backups(state, &store.list(&token).await?)))
}

/// The backups recorded in `backups`, newest first.
fn held(backups: &[Value]) -> Vec<Held> {
    let mut held: Vec<Held> = backups
        .iter()
        .filter_map(|b| {
            let taken_at = OffsetDateTime::parse(b.get_str("taken_at")?, &Rfc3339).ok()?;
            let status = b.get_str("status").unwrap_or("present").to_owned();
            Some(Held { id: b.get_str("id")?.to_owned(), taken_at, good: status == "present", status })
        })
        .collect();
    held.sort_by_key(|h| std::cmp::Reverse(h.taken_at));
    held
}

fn backup_due(policy: &Policy, held: &[Held], now: OffsetDateTime) -> Option<String> {
    duty::due("backup", policy.every, &policy.every_text, held, now)
}

/// What the settings (everything but `id` and `backups`) are, to tell a settings change.
fn settings_of(value: &Value) -> Value {
    let mut settings = value.clone();
    for computed in ["id", "backups"] {
        settings.set(computed, Value::Null);
    }
    settings
}

/// The plan: a backup when due, prunes retention asks for, or only new settings recorded.
pub fn plan(prior: Option<&Value>, desired: &Value, now: OffsetDateTime) -> Result<PlannedChange, ProviderError> {
    let policy = Policy::from_value(desired)?;
    let mut planned = desired.clone();
    let Some(prior) = prior else {
        planned.set("id", Value::Unknown);
        planned.set("backups", Value::Unknown);
        let mut change = PlannedChange::new(Action::Create, planned);
        change.operations = backup_operations(&policy, "TOKEN");
        change.duties = backup_due(&policy, &[], now).into_iter().collect();
        return Ok(change);
    };
    let token = prior.get_str("id").map(token_in).transpose()?.unwrap_or_default();
    planned.set("id", prior.get("id").cloned().unwrap_or(Value::Null));
    let mut candidates = held(prior.get_list("backups"));
    let due = backup_due(&policy, &candidates, now);
    if due.is_some() {
        candidates.insert(0, Held { id: "(the new backup)".into(), taken_at: now, good: true, status: "present".into() });
    }
    let prunes = policy.retention.to_prune(&candidates, now);
    let mut operations = Vec::new();
    let mut duties = Vec::new();
    if let Some(due) = due {
        operations.extend(backup_operations(&policy, &token));
        duties.push(due);
        planned.set("backups", Value::Unknown);
    } else {
        let kept: Vec<Value> = prior.get_list("backups").iter().filter(|b| !prunes.iter().any(|(id, _)| Some(id.as_str()) == b.get_str("id"))).cloned().collect();
        planned.set("backups", Value::List(kept));
    }
    // After a due backup, prunes follow from it: they are what it makes possible, not overdue.
    let then = if duties.is_empty() { "" } else { "then " };
    for (id, why) in &prunes {
        operations.push(format!("remove backup {id} and its manifest from {}", policy.destination.url()));
        duties.push(format!("{then}prune {id} ({why})"));
    }
    let action = if duties.is_empty() && settings_of(prior) == settings_of(desired) { Action::NoOp } else { Action::Update };
    if action == Action::NoOp {
        return Ok(PlannedChange::new(Action::NoOp, prior.clone()));
    }
    let mut change = PlannedChange::new(action, planned);
    change.operations = operations;
    change.duties = duties;
    Ok(change)
}

/// The plan while the configuration still holds values only apply knows: apply decides.
pub fn plan_with_unknowns(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    let mut planned = desired.clone();
    planned.set("id", prior.and_then(|p| p.get("id")).cloned().unwrap_or(Value::Unknown));
    planned.set("backups", Value::Unknown);
    let mut change = PlannedChange::new(if prior.is_some() { Action::Update } else { Action::Create }, planned);
    change.duties.push("backup: whether one is due is decided during apply, once every value is known".into());
    change
}

/// The commands a backup runs, as the plan shows them.
fn backup_operations(policy: &Policy, token: &str) -> Vec<String> {
    let staging = policy.destination.staging_label();
    let name = format!("{}ID.{}", artefacts::prefix(token), if policy.format == "directory" { "dir" } else { "dump" });
    let file = staging.join(&name);
    let args = dump::dump_arguments(policy, "SNAPSHOT", &file);
    let manifest = artefacts::manifest_name(token, "ID");
    let mut operations = vec![
        "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT pg_export_snapshot() -- row counts and the schema fingerprint are read in this snapshot".into(),
        format!("pg_dump {}", args.join(" ")),
        format!("pg_restore --file=/dev/null {} -- reads the whole archive back", file.display()),
    ];
    match &policy.destination {
        Destination::Local(_) => operations.push(format!("write {} (sha256, bytes, versions, row counts, schema fingerprint)", staging.join(manifest).display())),
        Destination::S3(_) => operations.push(format!("upload {name}, then {manifest} (sha256, bytes, versions, row counts, schema fingerprint), to {}, tagged {POLICY_TAG}={token}", policy.destination.url())),
    }
    operations
}

/// Applies the plan: takes the backup when due, then prunes what retention no longer keeps.
/// A failed backup prunes nothing.
pub async fn apply(settings: &ConnSettings, action: Action, prior: Option<&Value>, planned: &Value, progress: &Progress) -> Result<Value, ApplyFailure> {
    if action == Action::Delete {
        return Ok(Value::Null);
    }
    let policy = Policy::from_value(planned)?;
    let token = match prior.and_then(|p| p.get_str("id")) {
        Some(id) => token_in(id)?,
        None => uuid::Uuid::new_v4().simple().to_string()[..12].to_owned(),
    };
    let store = Store::open(&policy.destination).await?;
    let before = store.list(&token).await?;
    store.sweep_leftovers(&token, &before).await?;
    let now = OffsetDateTime::now_utc();
    let mut value = planned.clone();
    value.set("id", Value::string(policy.destination.id(&token)));
    let after = match backup_due(&policy, &held_of(&before), now) {
        None => before,
        Some(_) => {
            let backup_id = now.format(&time::macros::format_description!("[year][month][day]T[hour][minute][second][subsecond digits:3]Z")).unwrap_or_default();
            if let Err(error) = take_and_keep(settings, &policy, &store, &token, &backup_id, progress).await {
                let _ = store.sweep_leftovers(&token, &before).await;
                let partial = (action == Action::Create).then(|| with_backups(&value, &before));
                return Err(ApplyFailure { error, partial, in_doubt: false });
            }
            store.list(&token).await?
        }
    };
    let prunes = policy.retention.to_prune(&held_of(&after), now);
    let (pruned, kept): (Vec<Artefact>, Vec<Artefact>) = after.into_iter().partition(|a| prunes.iter().any(|(id, _)| *id == a.manifest.backup_id));
    for artefact in &pruned {
        store.remove(artefact).await?;
    }
    Ok(with_backups(&value, &kept))
}

/// Dumps and verifies a backup in the store's staging directory, then keeps it there.
async fn take_and_keep(settings: &ConnSettings, policy: &Policy, store: &Store, token: &str, backup_id: &str, progress: &Progress) -> Result<(), ProviderError> {
    let staging = store.staging()?;
    let manifest = dump::take(settings, policy, &staging.dir, token, backup_id, progress).await?;
    if let Destination::S3(_) = policy.destination {
        progress.report(format!("(uploading {:.1} MB to {})", manifest.bytes as f64 / 1_000_000.0, policy.destination.url()));
    }
    store.publish(&staging.dir, &manifest).await
}

/// `value` with `backups` listing `artefacts`.
fn with_backups(value: &Value, artefacts: &[Artefact]) -> Value {
    let mut value = value.clone();
    value.set("backups", Value::List(artefacts.iter().map(Artefact::to_value).collect()));
    value
}

/// What the destination holds, as due and retention reason about it.
fn held_of(artefacts: &[Artefact]) -> Vec<Held> {
    held(&artefacts.iter().map(Artefact::to_value).collect::<Vec<_>>())
}

/// Deleting a policy keeps what it wrote: backups outlive the rule that made them.
pub fn plan_delete(prior: &Value) -> PlannedChange {
    let mut change = PlannedChange::new(Action::Delete, Value::Null);
    let place = prior.get_str("id").and_then(|id| Destination::parse_id(id).ok()).map(|(destination, _)| destination.url()).unwrap_or_default();
    change.warnings.push(format!("the policy's {} backup(s) in {place} are kept: remove them by hand once nothing needs them", prior.get_list("backups").len()));
    change
}
