//! `aws_backup_vault`: an AWS Backup vault, as Terraform's resource of that name. Refresh is one
//! paginated ListBackupVaults for all of them, and ListTags per vault; the name and the KMS key
//! force a replacement, tags change in place, and `force_destroy` lives in state alone. A create
//! carries its intent's tag, and the intent's id as CreatorRequestId so that a retried create is
//! not made twice.
//!
//! Deleting a vault that still holds recovery points (its backups) is refused at plan time
//! unless `force_destroy` is set; then the plan says they are lost, and apply deletes them before
//! the vault.

use std::collections::BTreeMap;

use aws_sdk_backup::types::BackupVaultListMember;
use strata_provider_sdk::{Action, ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::tags::{self, TagChange};
use crate::{backup_tags, errors, pages, schema};
use crate::resource_type::{About, Cx, ResourceType};

/// Every vault, by name (vault names are case-sensitive).
async fn list(clients: &Clients) -> Result<BTreeMap<String, BackupVaultListMember>, ProviderError> {
    let mut pages = clients.backup.list_backup_vaults().into_paginator().send();
    let mut found = BTreeMap::new();
    while let Some(page) = pages.next().await {
        for vault in page.map_err(|e| errors::api("backup:ListBackupVaults", e))?.backup_vault_list() {
            if let Some(name) = vault.backup_vault_name() {
                found.insert(name.to_owned(), vault.clone());
            }
        }
    }
    Ok(found)
}

async fn read(clients: &Clients, vault: &BackupVaultListMember, state: &Value) -> Result<Value, ProviderError> {
    let name = vault.backup_vault_name().unwrap_or_default();
    let arn = vault.backup_vault_arn().unwrap_or_default();
    let tags = backup_tags::list(clients, arn).await?;
    Ok(Value::object([
        ("name", Value::from(name)),
        ("kms_key_arn", vault.encryption_key_arn().map(Value::from).unwrap_or_default()),
        // AWS knows nothing of it: what the last apply recorded.
        ("force_destroy", state.get("force_destroy").cloned().unwrap_or_default()),
        ("tags", tags::to_value(&tags)),
        ("id", Value::from(name)),
        ("arn", Value::from(arn)),
        ("recovery_points", Value::int(vault.number_of_recovery_points())),
    ]))
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    let vaults = list(clients).await?;
    let by_name = |state: &Value| state.get_str("name").map(str::to_owned);
    pages::read_each_by(states, &vaults, by_name, |vault, state| async move { read(clients, &vault, &state).await }).await
}

fn kind() -> Kind {
    Kind {
        block: schema::backup_vault().block,
        same: tags::same_attribute,
        create_operations: |desired| vec![format!("CreateBackupVault {}", desired.get_str("name").unwrap_or("(unknown)"))],
        delete_operations: deletion_operations,
    }
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
    let mut change = kind().plan(prior, desired, |prior, diff| {
        let name = prior.get_str("name").unwrap_or_default();
        let mut operations = diff
            .get("tags")
            .map(|change| TagChange::between(&change.from, &change.to).operations("TagResource", "UntagResource", name))
            .unwrap_or_default();
        if let Some(change) = diff.get("force_destroy") {
            operations.push(format!("record force_destroy = {} in state (no AWS call)", diff::show(&change.to)));
        }
        diff::finish(diff.planned, operations)
    });
    if let Some(prior) = prior.filter(|_| change.action == Action::Replace) {
        change.data_loss.extend(plan_delete(prior)?.data_loss);
    }
    Ok(change)
}

fn recovery_points(prior: &Value) -> i64 {
    prior.get_i64("recovery_points").unwrap_or(0)
}

fn force_destroy(prior: &Value) -> bool {
    prior.get_bool("force_destroy") == Some(true)
}

fn deletion_operations(prior: &Value) -> Vec<String> {
    let name = prior.get_str("name").unwrap_or_default();
    let points = recovery_points(prior);
    let mut operations = Vec::new();
    if points > 0 && force_destroy(prior) {
        operations.push(format!("DeleteRecoveryPoint for each of the {points} recovery point(s) in {name}"));
    }
    operations.push(format!("DeleteBackupVault {name}"));
    operations
}

/// A vault with recovery points is deleted only with `force_destroy`, and that loses them.
pub fn plan_delete(prior: &Value) -> Result<PlannedChange, ProviderError> {
    let name = prior.get_str("name").unwrap_or_default();
    let points = recovery_points(prior);
    let mut change = PlannedChange { operations: deletion_operations(prior), ..PlannedChange::new(Action::Delete, Value::Null) };
    if points > 0 {
        if !force_destroy(prior) {
            return Err(ProviderError::new(format!("the backup vault {name} holds {points} recovery point(s): it cannot be deleted without losing them"))
                .with_hint("keep the vault, or set force_destroy = true on it and apply that first: then deleting it deletes its recovery points too"));
        }
        change.data_loss.push(format!("deletes the {points} recovery point(s) in the backup vault {name}: the backups they hold are lost"));
    }
    Ok(change)
}

pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let desired = planned.unknowns_to_null();
    let name = desired.get_str("name").ok_or_else(|| ProviderError::new("name is required"))?.to_owned();
    match prior {
        None => {
            let tags = tags::for_create(&desired, authorship);
            let request = clients
                .backup
                .create_backup_vault()
                .backup_vault_name(&name)
                .set_encryption_key_arn(desired.get_str("kms_key_arn").map(str::to_owned))
                .set_backup_vault_tags((!tags.is_empty()).then(|| backup_tags::to_sdk(&tags)))
                .set_creator_request_id(authorship.map(|a| a.intent_id.clone()));
            request.send().await.map_err(|e| errors::create_failed("backup:CreateBackupVault", &name, e))?;
        }
        Some(prior) => {
            let diff = diff::attributes(&kind().block, Some(prior), &desired, tags::same_attribute);
            if let Some(change) = diff.get("tags") {
                backup_tags::update(clients, prior.get_str("arn").unwrap_or_default(), &TagChange::between(&change.from, &change.to)).await?;
            }
        }
    }
    let vaults = list(clients).await?;
    let vault = vaults.get(&name).ok_or_else(|| ProviderError::new(format!("the backup vault {name} is gone right after it was written")))?;
    Ok(read(clients, vault, &desired).await?)
}

/// Deletes the vault, first its recovery points when `force_destroy` allowed that (the plan,
/// made on a fresh refresh, said how many). One made since is AWS's to refuse.
pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    let name = prior.get_str("name").unwrap_or_default();
    if force_destroy(prior) && recovery_points(prior) > 0 {
        delete_recovery_points(clients, name).await?;
    }
    errors::deleted("backup:DeleteBackupVault", clients.backup.delete_backup_vault().backup_vault_name(name).send().await, "ResourceNotFoundException")
}

async fn delete_recovery_points(clients: &Clients, vault: &str) -> Result<(), ProviderError> {
    let mut pages = clients.backup.list_recovery_points_by_backup_vault().backup_vault_name(vault).into_paginator().send();
    let mut arns = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| errors::api("backup:ListRecoveryPointsByBackupVault", e))?;
        arns.extend(page.recovery_points().iter().filter_map(|point| point.recovery_point_arn()).map(str::to_owned));
    }
    for arn in arns {
        let request = clients.backup.delete_recovery_point().backup_vault_name(vault).recovery_point_arn(&arn);
        errors::deleted("backup:DeleteRecoveryPoint", request.send().await, "ResourceNotFoundException")?;
    }
    Ok(())
}

/// Whether the vault `live` carries the authorship tag of the intent `intent_id`.
pub async fn marked_by(clients: &Clients, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
    backup_tags::marked_by(clients, live.get_str("arn").unwrap_or_default(), intent_id).await
}

/// What `aws_backup_vault` declares about itself.
const ABOUT: About = About {
    name: "aws_backup_vault",
    schema: schema::backup_vault,
    import_id: Some("the vault name"),
    named_by: Some("name"),
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_backup_vault` in the provider's table of types.
pub struct BackupVaultType;

#[async_trait::async_trait]
impl ResourceType for BackupVaultType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, _: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(prior, desired)
    }

    async fn plan_delete(&self, _: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        plan_delete(prior)
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        apply(cx.clients()?, prior, planned, authorship).await
    }

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        Ok(delete(cx.clients()?, prior).await?)
    }

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        marked_by(cx.clients()?, live, intent_id).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vault(points: i64, force: bool) -> Value {
        Value::object([
            ("name", Value::from("nightly")),
            ("force_destroy", Value::Bool(force)),
            ("recovery_points", Value::int(points)),
        ])
    }

    #[test]
    fn a_vault_with_recovery_points_is_deleted_only_with_force_destroy_and_that_loses_them() {
        let refused = plan_delete(&vault(3, false)).err().map(|e| e.message).unwrap_or_default();
        assert!(refused.contains("holds 3 recovery point(s)"), "{refused}");
        let forced = plan_delete(&vault(3, true)).map_err(|e| e.message);
        assert!(forced.as_ref().is_ok_and(|c| c.data_loss.len() == 1 && c.operations.len() == 2), "{forced:?}");
        let empty = plan_delete(&vault(0, false)).map_err(|e| e.message);
        assert!(empty.is_ok_and(|c| c.data_loss.is_empty() && c.operations == ["DeleteBackupVault nightly"]));
    }

    #[test]
    fn setting_force_destroy_is_an_update_of_state_alone() {
        let desired = Value::object([("name", Value::from("nightly")), ("force_destroy", Value::Bool(true))]);
        let change = plan(Some(&vault(2, false)), &desired).map_err(|e| e.message);
        let change = change.map(|c| (c.action, c.operations, c.data_loss.len()));
        assert_eq!(change, Ok((Action::Update, vec!["record force_destroy = true in state (no AWS call)".to_owned()], 0)));
    }

    #[test]
    fn a_rename_is_a_replacement_refused_while_the_vault_holds_recovery_points() {
        let desired = Value::object([("name", Value::from("nightly-2"))]);
        let refused = plan(Some(&vault(1, false)), &desired).err().map(|e| e.message).unwrap_or_default();
        assert!(refused.contains("holds 1 recovery point(s)"), "{refused}");
        let empty = plan(Some(&vault(0, false)), &desired).map_err(|e| e.message);
        assert!(empty.is_ok_and(|c| c.action == Action::Replace && c.replace_because == ["name"]));
    }
}
