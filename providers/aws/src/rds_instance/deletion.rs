//! Deleting an `aws_db_instance`: refusing while deletion_protection is on, and the final
//! snapshot, named the same way in the plan and in apply (both see the same live prior). A
//! configured `final_snapshot_identifier` that a snapshot already has (the final snapshot of an
//! earlier instance of that name: destroy, apply, destroy) would make RDS refuse the delete; the
//! final snapshot is then that name with the instance's creation time, and the plan says so.
//!
//! Owns DeleteDBInstance and waiting for the instance to be gone; a replace's delete first has
//! `pre_replace` take its snapshot.

use strata_provider_sdk::{Action, ApplyFailure, PlannedChange, ProviderError, Value};

use super::live::describe_one;
use super::pre_replace::{self, Replacements};
use super::timeout;
use crate::config::Clients;
use crate::{errors, wait};

/// The final snapshot's name, as RDS's snapshots decide it.
pub(super) enum FinalName {
    /// As configured, or the default (which carries the instance's creation time).
    AsConfigured,
    /// The configured name is taken: this one (the name and the creation time) is free.
    Stamped { taken: String, free: String },
}

impl FinalName {
    /// Asks RDS whether the configured final snapshot name of `prior` is free; makes no call
    /// when none is configured or the delete takes no final snapshot.
    pub(super) async fn of(clients: Result<&Clients, ProviderError>, prior: Option<&Value>) -> Result<FinalName, ProviderError> {
        let Some((prior, taken)) = prior.and_then(|p| Some((p, configured_name(p)?))) else {
            return Ok(FinalName::AsConfigured);
        };
        let clients = clients?;
        if !snapshot_exists(clients, taken).await? {
            return Ok(FinalName::AsConfigured);
        }
        let free = snapshot_name(taken, "", prior.get_str("create_time"));
        let refuse = |why: &str| {
            Err(ProviderError::new(format!("final_snapshot_identifier {taken} is taken by an existing snapshot, and {why}"))
                .with_hint("set final_snapshot_identifier to a name no snapshot has, or delete the old snapshot once nothing needs it"))
        };
        if prior.get_str("create_time").is_none() {
            return refuse("the instance's creation time, which would tell this final snapshot apart, is unknown");
        }
        if snapshot_exists(clients, &free).await? {
            return refuse(&format!("so is {free}"));
        }
        Ok(FinalName::Stamped { taken: taken.to_owned(), free })
    }
}

/// The configured final snapshot name, when the delete takes a final snapshot.
fn configured_name(prior: &Value) -> Option<&str> {
    if prior.get_bool("skip_final_snapshot") == Some(true) {
        return None;
    }
    prior.get_str("final_snapshot_identifier")
}

/// Whether any snapshot, manual or automated, is called `name`.
async fn snapshot_exists(clients: &Clients, name: &str) -> Result<bool, ProviderError> {
    match clients.rds.describe_db_snapshots().db_snapshot_identifier(name).send().await {
        Ok(found) => Ok(!found.db_snapshots().is_empty()),
        Err(error) if errors::code(&error) == Some("DBSnapshotNotFound") => Ok(false),
        Err(error) => Err(errors::api("rds:DescribeDBSnapshots", error)),
    }
}

/// What deleting an instance does; plan_delete shows it and delete does exactly it.
struct Deletion {
    identifier: String,
    final_snapshot: Option<String>,
    /// The configured final snapshot name another snapshot has, when `final_snapshot` is not it.
    taken: Option<String>,
}

impl Deletion {
    fn of(prior: &Value, name: &FinalName) -> Result<Deletion, ProviderError> {
        let identifier = prior
            .get_str("identifier")
            .ok_or_else(|| ProviderError::new("the instance's state has no identifier"))?
            .to_owned();
        if prior.get_bool("deletion_protection") == Some(true) {
            return Err(ProviderError::new(format!("DB instance {identifier} has deletion_protection enabled, so it cannot be deleted"))
                .with_hint("set deletion_protection = false and apply that first, then delete or replace the instance"));
        }
        let (final_snapshot, taken) = match (prior.get_bool("skip_final_snapshot"), name) {
            (Some(true), _) => (None, None),
            (_, FinalName::Stamped { taken, free }) => (Some(free.clone()), Some(taken.clone())),
            (_, FinalName::AsConfigured) => {
                let name = prior.get_str("final_snapshot_identifier").map(str::to_owned);
                (Some(name.unwrap_or_else(|| snapshot_name(&identifier, "final", prior.get_str("create_time")))), None)
            }
        };
        Ok(Deletion { identifier, final_snapshot, taken })
    }

    /// Why the final snapshot is not named as configured, when it is not.
    fn warnings(&self) -> Vec<String> {
        match (&self.taken, &self.final_snapshot) {
            (Some(taken), Some(used)) => vec![format!(
                "final_snapshot_identifier {taken} is taken by an existing snapshot (an earlier instance's final snapshot?), so this one is {used}: the name and the instance's creation time (UTC)"
            )],
            _ => Vec::new(),
        }
    }

    /// What the deletion loses, for reviewers: whether a final snapshot keeps the data.
    fn data_loss(&self) -> String {
        match &self.final_snapshot {
            Some(snapshot) => format!(
                "deletes the RDS instance {}; its data survives only in the final snapshot {snapshot}",
                self.identifier
            ),
            None => format!(
                "deletes the RDS instance {} and skip_final_snapshot = true: its data is lost",
                self.identifier
            ),
        }
    }

    /// Where the data is kept: the final snapshot, if any.
    fn backups(&self) -> Vec<String> {
        self.final_snapshot
            .iter()
            .map(|snapshot| format!("RDS snapshot {snapshot} (final)"))
            .collect()
    }

    fn describe(&self) -> String {
        match &self.final_snapshot {
            Some(snapshot) => format!(
                "DeleteDBInstance {} (final snapshot {snapshot})",
                self.identifier
            ),
            None => format!(
                "DeleteDBInstance {} (no final snapshot: skip_final_snapshot = true)",
                self.identifier
            ),
        }
    }
}

/// `<identifier>-<purpose>-<creation time as yyyymmddhhmmss>` (no purpose: `<identifier>-<time>`):
/// the same every time it is asked for the same instance, so the plan names the snapshot apply
/// takes.
pub(super) fn snapshot_name(identifier: &str, purpose: &str, create_time: Option<&str>) -> String {
    let stamp: String = create_time
        .unwrap_or_default()
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    [identifier, purpose, &stamp].into_iter().filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-")
}

/// The final snapshot deleting `prior` takes, if any.
pub(super) fn final_snapshot(prior: &Value, name: &FinalName) -> Result<Option<String>, ProviderError> {
    Ok(Deletion::of(prior, name)?.final_snapshot)
}

/// The delete of `prior`, its final snapshot named as RDS's snapshots allow.
pub async fn plan_delete(clients: Result<&Clients, ProviderError>, prior: &Value) -> Result<PlannedChange, ProviderError> {
    planned_delete(prior, &FinalName::of(clients, Some(prior)).await?)
}

pub(super) fn planned_delete(prior: &Value, name: &FinalName) -> Result<PlannedChange, ProviderError> {
    let deletion = Deletion::of(prior, name)?;
    let operations = vec![
        deletion.describe(),
        format!("wait until {} is gone", deletion.identifier),
    ];
    Ok(PlannedChange {
        operations,
        data_loss: vec![deletion.data_loss()],
        backups: deletion.backups(),
        warnings: deletion.warnings(),
        ..PlannedChange::new(Action::Delete, Value::Null)
    })
}

/// Deletes the instance; when the delete is part of a replace this run planned, takes the
/// planned snapshot first, and if that fails the instance is left as it was.
pub async fn delete(
    clients: &Clients,
    replacements: &Replacements,
    prior: &Value,
) -> Result<(), ApplyFailure> {
    let deletion = Deletion::of(prior, &FinalName::of(Ok(clients), Some(prior)).await?)?;
    if let Some(snapshot) = replacements.take(&deletion.identifier) {
        pre_replace::snapshot(clients, prior, &snapshot, timeout(prior, "delete")?)
            .await
            .map_err(|error| ApplyFailure {
                error,
                partial: Some(prior.clone()),
                in_doubt: false,
            })?;
    }
    Ok(delete_now(clients, &deletion, prior).await?)
}

async fn delete_now(
    clients: &Clients,
    deletion: &Deletion,
    prior: &Value,
) -> Result<(), ProviderError> {
    // Terraform's default: the automated backups go with the instance unless asked to stay.
    let drop_backups = prior.get_bool("delete_automated_backups") != Some(false);
    delete_and_wait(clients, &deletion.identifier, deletion.final_snapshot.clone(), drop_backups, timeout(prior, "delete")?).await
}

/// Sends DeleteDBInstance (with a final snapshot of that name, when given; an instance already
/// gone is not an error) and waits until the instance is gone.
pub(crate) async fn delete_and_wait(
    clients: &Clients,
    identifier: &str,
    final_snapshot: Option<String>,
    delete_automated_backups: bool,
    timeout: std::time::Duration,
) -> Result<(), ProviderError> {
    let request = clients
        .rds
        .delete_db_instance()
        .db_instance_identifier(identifier)
        .skip_final_snapshot(final_snapshot.is_none())
        .set_final_db_snapshot_identifier(final_snapshot)
        .delete_automated_backups(delete_automated_backups);
    errors::deleted(
        "rds:DeleteDBInstance",
        request.send().await,
        "DBInstanceNotFound",
    )?;
    let what = format!("DB instance {identifier} to be deleted");
    wait::until(&what, timeout, || async {
        Ok(describe_one(clients, identifier)
            .await?
            .is_none()
            .then_some(()))
    })
    .await
}
