//! The manual snapshot strata takes before it replaces an `aws_db_instance`: its name (decided
//! by plan, the same in every process that plans the same instance), which instances this run
//! replaces, and CreateDBSnapshot with the wait until the snapshot is available.
//!
//! A replace reaches the provider as a delete, then a create; the engine always re-plans a
//! change just before applying it (through `plan` when the configuration forces the replace,
//! through `plan_replace` when `-replace` asks for it), so the plan of the replace tells the
//! delete that follows it (in `Replacements`) to snapshot first. Owns nothing else: the deletion itself, with its own
//! final snapshot, is `deletion`'s. Must never touch a snapshot of another instance.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_rds::types::DbSnapshot;
use aws_smithy_types::date_time::Format;
use strata_provider_sdk::{ProviderError, Value};

use super::deletion::snapshot_name;
use crate::config::Clients;
use crate::{errors, wait};

const STATUS_READY: &str = "available";

/// `<identifier>-pre-replace-<creation time as yyyymmddhhmmss>`: stamped with the instance's
/// creation rather than the clock, so a saved plan and its apply name the same snapshot, and an
/// apply that failed after taking it finds it again instead of taking another.
pub fn name(prior: &Value) -> Option<String> {
    let identifier = prior.get_str("identifier")?;
    Some(snapshot_name(
        identifier,
        "pre-replace",
        prior.get_str("create_time"),
    ))
}

/// The instances this run plans to replace, by identifier, with their snapshot's name.
#[derive(Debug, Default)]
pub struct Replacements(Mutex<BTreeMap<String, String>>);

impl Replacements {
    pub fn expect(&self, identifier: &str, snapshot: &str) {
        self.lock()
            .insert(identifier.to_owned(), snapshot.to_owned());
    }

    /// The snapshot to take before deleting `identifier`, when that delete is part of a replace.
    pub fn take(&self, identifier: &str) -> Option<String> {
        self.lock().remove(identifier)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Takes the snapshot `snapshot` of the instance `prior` and waits until it is available. A
/// snapshot of that name already taken of the same instance (by an earlier, interrupted apply) is
/// used as is.
pub async fn snapshot(
    clients: &Clients,
    prior: &Value,
    snapshot: &str,
    timeout: Duration,
) -> Result<(), ProviderError> {
    let instance = prior.get_str("identifier").unwrap_or_default();
    let instance_created = prior.get_str("create_time");
    let created = clients
        .rds
        .create_db_snapshot()
        .db_instance_identifier(instance)
        .db_snapshot_identifier(snapshot)
        .send()
        .await;
    match created {
        Ok(_) => {}
        Err(err) if errors::code(&err) == Some("DBSnapshotAlreadyExists") => {}
        Err(err) => return Err(errors::api("rds:CreateDBSnapshot", err)),
    }
    let what = format!("snapshot {snapshot} of DB instance {instance} to become available");
    wait::until(&what, timeout, || async {
        let found = clients
            .rds
            .describe_db_snapshots()
            .db_snapshot_identifier(snapshot)
            .send()
            .await
            .map_err(|e| errors::api("rds:DescribeDBSnapshots", e))?;
        let Some(taken) = found.db_snapshots().first() else {
            return Ok(None);
        };
        if let Some(other) = other_instance(taken, instance, instance_created) {
            return Err(ProviderError::new(format!(
                "snapshot {snapshot} already exists, but of {other}, not of {instance} as it is now"
            ))
            .with_hint("rename or delete that snapshot, then apply again: strata will not replace the instance without its own snapshot"));
        }
        Ok((taken.status() == Some(STATUS_READY)).then_some(()))
    })
    .await
}

/// What `taken` is a snapshot of, when that is not `instance` created at `created`: another
/// identifier, or an earlier instance of the same name (a replace keeps the identifier).
fn other_instance(taken: &DbSnapshot, instance: &str, created: Option<&str>) -> Option<String> {
    let identifier = taken.db_instance_identifier().unwrap_or(instance);
    if !identifier.eq_ignore_ascii_case(instance) {
        return Some(format!("DB instance {identifier}"));
    }
    let taken_created = taken
        .instance_create_time()
        .and_then(|t| t.fmt(Format::DateTime).ok())?;
    let whole_seconds = |time: &str| time.chars().take(19).collect::<String>();
    let created = created?;
    (whole_seconds(&taken_created) != whole_seconds(created))
        .then(|| format!("an earlier DB instance {identifier} (created {taken_created})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_after_the_instance_and_its_creation() {
        let prior = Value::object([
            ("identifier", Value::from("db1")),
            ("create_time", Value::from("2026-11-25T10:30:00.123Z")),
        ]);
        assert_eq!(
            name(&prior).as_deref(),
            Some("db1-pre-replace-20261125103000")
        );
    }

    #[test]
    fn only_a_snapshot_of_this_very_instance_is_reused() {
        let created = aws_smithy_types::DateTime::from_secs(1_795_602_600);
        let snapshot = |id: &str| {
            DbSnapshot::builder()
                .db_instance_identifier(id)
                .instance_create_time(created)
                .build()
        };
        let created_text = created.fmt(Format::DateTime).ok();
        let this = created_text.as_deref();
        assert_eq!(other_instance(&snapshot("db1"), "db1", this), None);
        assert_eq!(
            other_instance(&snapshot("db2"), "db1", this).as_deref(),
            Some("DB instance db2")
        );
        let earlier = other_instance(&snapshot("db1"), "db1", Some("2027-01-01T00:00:00Z"));
        assert!(
            earlier.is_some_and(|e| e.starts_with("an earlier DB instance db1")),
            "a replaced instance's snapshot is not this one's"
        );
    }

    #[test]
    fn a_replacement_is_taken_once() {
        let replacements = Replacements::default();
        replacements.expect("db1", "db1-pre-replace-1");
        assert_eq!(
            replacements.take("db1").as_deref(),
            Some("db1-pre-replace-1")
        );
        assert_eq!(replacements.take("db1"), None);
    }
}
