//! Deleting an `aws_db_instance`: refusing while deletion_protection is on, and the final
//! snapshot, named the same way in the plan and in apply (both see the same live prior).
//!
//! Owns DeleteDBInstance and waiting for the instance to be gone; a replace's delete first has
//! `pre_replace` take its snapshot.

use strata_provider_sdk::{Action, ApplyFailure, PlannedChange, ProviderError, Value};

use super::live::describe_one;
use super::pre_replace::{self, Replacements};
use super::timeout;
use crate::config::Clients;
use crate::{errors, wait};

/// What deleting an instance does; plan_delete shows it and delete does exactly it.
struct Deletion {
    identifier: String,
    final_snapshot: Option<String>,
}

impl Deletion {
    fn of(prior: &Value) -> Result<Deletion, ProviderError> {
        let identifier = prior
            .get_str("identifier")
            .ok_or_else(|| ProviderError::new("the instance's state has no identifier"))?
            .to_owned();
        if prior.get_bool("deletion_protection") == Some(true) {
            return Err(ProviderError::new(format!("DB instance {identifier} has deletion_protection enabled, so it cannot be deleted"))
                .with_hint("set deletion_protection = false and apply that first, then delete or replace the instance"));
        }
        let final_snapshot = match prior.get_bool("skip_final_snapshot") {
            Some(true) => None,
            _ => Some(
                prior
                    .get_str("final_snapshot_identifier")
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        snapshot_name(&identifier, "final", prior.get_str("create_time"))
                    }),
            ),
        };
        Ok(Deletion {
            identifier,
            final_snapshot,
        })
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

/// `<identifier>-<purpose>-<creation time as yyyymmddhhmmss>`: the same every time it is asked
/// for the same instance, so the plan names the snapshot apply takes.
pub(super) fn snapshot_name(identifier: &str, purpose: &str, create_time: Option<&str>) -> String {
    let stamp: String = create_time
        .unwrap_or_default()
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    if stamp.is_empty() {
        format!("{identifier}-{purpose}")
    } else {
        format!("{identifier}-{purpose}-{stamp}")
    }
}

/// The final snapshot deleting `prior` takes, if any.
pub(super) fn final_snapshot(prior: &Value) -> Result<Option<String>, ProviderError> {
    Ok(Deletion::of(prior)?.final_snapshot)
}

pub fn plan_delete(prior: &Value) -> Result<PlannedChange, ProviderError> {
    let deletion = Deletion::of(prior)?;
    let operations = vec![
        deletion.describe(),
        format!("wait until {} is gone", deletion.identifier),
    ];
    Ok(PlannedChange {
        operations,
        data_loss: vec![deletion.data_loss()],
        backups: deletion.backups(),
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
    let deletion = Deletion::of(prior)?;
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
    let request = clients
        .rds
        .delete_db_instance()
        .db_instance_identifier(&deletion.identifier)
        .skip_final_snapshot(deletion.final_snapshot.is_none())
        .set_final_db_snapshot_identifier(deletion.final_snapshot.clone())
        // Terraform's default: the automated backups go with the instance unless asked to stay.
        .delete_automated_backups(prior.get_bool("delete_automated_backups") != Some(false));
    errors::deleted(
        "rds:DeleteDBInstance",
        request.send().await,
        "DBInstanceNotFound",
    )?;
    let what = format!("DB instance {} to be deleted", deletion.identifier);
    wait::until(&what, timeout(prior, "delete")?, || async {
        Ok(describe_one(clients, &deletion.identifier)
            .await?
            .is_none()
            .then_some(()))
    })
    .await
}
