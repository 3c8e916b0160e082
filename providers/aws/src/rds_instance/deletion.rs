//! Deleting an `aws_db_instance`: refusing while deletion_protection is on, and the final
//! snapshot, named the same way in the plan and in apply (both see the same live prior).
//!
//! Owns DeleteDBInstance and waiting for the instance to be gone.

use strata_provider_sdk::{Action, PlannedChange, ProviderError, Value};

use super::live::describe_one;
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
                        default_snapshot_name(&identifier, prior.get_str("create_time"))
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

/// `<identifier>-final-<creation time as yyyymmddhhmmss>`: the same every time it is asked for
/// the same instance, so the plan names the snapshot apply takes.
fn default_snapshot_name(identifier: &str, create_time: Option<&str>) -> String {
    let stamp: String = create_time
        .unwrap_or_default()
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    if stamp.is_empty() {
        format!("{identifier}-final")
    } else {
        format!("{identifier}-final-{stamp}")
    }
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
        ..PlannedChange::new(Action::Delete, Value::Null)
    })
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let deletion = Deletion::of(prior)?;
    let request = clients
        .rds
        .delete_db_instance()
        .db_instance_identifier(&deletion.identifier)
        .skip_final_snapshot(deletion.final_snapshot.is_none())
        .set_final_db_snapshot_identifier(deletion.final_snapshot.clone());
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
