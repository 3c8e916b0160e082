//! `aws_db_snapshot`: one manual snapshot of an instance, as Terraform's resource of that name.
//! Refresh is one paginated DescribeDBSnapshots of the manual snapshots for all of them (its
//! answer carries the tags); the instance and the identifier force a replacement, tags change in
//! place; a create is tagged with its intent, so an apply killed before its state write adopts
//! the snapshot. Deleting one loses the backup it holds: the plan says so.

use std::collections::BTreeMap;

use aws_sdk_rds::types::DbSnapshot;
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::diff::{self, Kind};
use crate::tags::{self, TagChange};
use crate::{errors, rds_tags, schema, wait};
use crate::resource_type::{About, Cx, ResourceType};

/// The manual snapshots, or the one named, by lower-cased identifier (RDS lower-cases them).
pub(crate) async fn describe(clients: &Clients, identifier: Option<&str>) -> Result<BTreeMap<String, DbSnapshot>, ProviderError> {
    describe_manual(clients, identifier, None).await
}

/// The manual snapshots, or the one named, or those of one instance, by lower-cased identifier.
pub(crate) async fn describe_manual(clients: &Clients, identifier: Option<&str>, instance: Option<&str>) -> Result<BTreeMap<String, DbSnapshot>, ProviderError> {
    describe_of_type(clients, Some("manual"), identifier, instance).await
}

/// The snapshots of `snapshot_type` (every type RDS lists by default, when `None`), or the one
/// named, or those of one instance, by lower-cased identifier.
pub(crate) async fn describe_of_type(clients: &Clients, snapshot_type: Option<&str>, identifier: Option<&str>, instance: Option<&str>) -> Result<BTreeMap<String, DbSnapshot>, ProviderError> {
    let request = clients
        .rds
        .describe_db_snapshots()
        .set_snapshot_type(snapshot_type.map(str::to_owned))
        .set_db_snapshot_identifier(identifier.map(str::to_lowercase))
        .set_db_instance_identifier(instance.map(str::to_owned));
    let mut pages = request.into_paginator().send();
    let mut found = BTreeMap::new();
    while let Some(page) = pages.next().await {
        for snapshot in page.map_err(|e| errors::api("rds:DescribeDBSnapshots", e))?.db_snapshots() {
            found.insert(snapshot.db_snapshot_identifier().unwrap_or_default().to_lowercase(), snapshot.clone());
        }
    }
    Ok(found)
}

/// A snapshot in state's shape, spelled as state spells its names.
pub(crate) fn to_value(snapshot: &DbSnapshot, state: &Value) -> Value {
    let text = |v: Option<&str>| v.map(Value::from).unwrap_or_default();
    let spelled = |key: &str, live: Option<&str>| match (state.get_str(key), live) {
        (Some(given), Some(live)) if given.eq_ignore_ascii_case(live) => Value::from(given),
        (_, live) => text(live),
    };
    let created = snapshot.snapshot_create_time().and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
    Value::object([
        ("db_instance_identifier", spelled("db_instance_identifier", snapshot.db_instance_identifier())),
        ("db_snapshot_identifier", spelled("db_snapshot_identifier", snapshot.db_snapshot_identifier())),
        ("tags", tags::to_value(&rds_tags::from_sdk(snapshot.tag_list()))),
        ("id", spelled("db_snapshot_identifier", snapshot.db_snapshot_identifier())),
        ("db_snapshot_arn", text(snapshot.db_snapshot_arn())),
        ("allocated_storage", snapshot.allocated_storage().map(|n| Value::int(i64::from(n))).unwrap_or_default()),
        ("engine", text(snapshot.engine())),
        ("engine_version", text(snapshot.engine_version())),
        ("snapshot_type", text(snapshot.snapshot_type())),
        ("status", text(snapshot.status())),
        ("snapshot_create_time", text(created.as_deref())),
        ("encrypted", snapshot.encrypted().map(Value::Bool).unwrap_or_default()),
        ("availability_zone", text(snapshot.availability_zone())),
        ("iops", snapshot.iops().map(|n| Value::int(i64::from(n))).unwrap_or_default()),
        ("kms_key_id", text(snapshot.kms_key_id())),
        ("license_model", text(snapshot.license_model())),
        ("option_group_name", text(snapshot.option_group_name())),
        ("port", snapshot.port().map(|n| Value::int(i64::from(n))).unwrap_or_default()),
        ("source_db_snapshot_identifier", text(snapshot.source_db_snapshot_identifier())),
        ("source_region", text(snapshot.source_region())),
        ("storage_type", text(snapshot.storage_type())),
        ("vpc_id", text(snapshot.vpc_id())),
    ])
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    refresh_keyed(clients, states, "db_snapshot_identifier", to_value).await
}

/// The snapshots (or copies) whose states name them by `key`, in one paginated call, each
/// read by `read`.
pub(crate) async fn refresh_keyed(clients: &Clients, states: &[&Value], key: &str, read: fn(&DbSnapshot, &Value) -> Value) -> Result<Vec<Option<Value>>, ProviderError> {
    let snapshots = describe(clients, None).await?;
    Ok(states
        .iter()
        .map(|state| {
            let name = state.get_str(key)?.to_lowercase();
            snapshots.get(&name).map(|snapshot| read(snapshot, state))
        })
        .collect())
}

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match (name, live.as_str(), wanted.as_str()) {
        ("db_instance_identifier" | "db_snapshot_identifier", Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        ("tags", _, _) => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

fn kind() -> Kind {
    Kind {
        block: schema::db_snapshot().block,
        same,
        create_operations: |desired| {
            vec![format!(
                "CreateDBSnapshot {} of {}",
                desired.get_str("db_snapshot_identifier").unwrap_or("(unknown)"),
                desired.get_str("db_instance_identifier").unwrap_or("(unknown)")
            )]
        },
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    plan_with(&kind(), "db_snapshot_identifier", prior, desired, plan_delete)
}

/// The plan of a snapshot (or a copy) named by `key`: only its tags change in place; a
/// replacement loses what `deletion` says.
pub(crate) fn plan_with(kind: &Kind, key: &str, prior: Option<&Value>, desired: &Value, deletion: fn(&Value) -> PlannedChange) -> PlannedChange {
    let mut change = kind.plan(prior, desired, |prior, diff| {
        let name = prior.get_str(key).unwrap_or_default();
        let operations = diff
            .get("tags")
            .map(|change| TagChange::between(&change.from, &change.to).operations("AddTagsToResource", "RemoveTagsFromResource", name))
            .unwrap_or_default();
        diff::finish(diff.planned, operations)
    });
    if let Some(prior) = prior.filter(|_| change.action == strata_provider_sdk::Action::Replace) {
        change.data_loss.extend(deletion(prior).data_loss);
    }
    change
}

/// Applies an in-place change of a snapshot (or a copy): its tags.
pub(crate) async fn retag(clients: &Clients, kind: &Kind, prior: &Value, desired: &Value) -> Result<(), ProviderError> {
    let diff = diff::attributes(&kind.block, Some(prior), desired, kind.same);
    if let Some(change) = diff.get("tags") {
        rds_tags::update(clients, prior.get_str("db_snapshot_arn").unwrap_or_default(), &TagChange::between(&change.from, &change.to)).await?;
    }
    Ok(())
}

/// The snapshot `name` just written, read back.
pub(crate) async fn read_written(clients: &Clients, name: &str) -> Result<DbSnapshot, ProviderError> {
    describe(clients, Some(name)).await?.remove(name).ok_or_else(|| ProviderError::new(format!("the snapshot {name} is gone right after it was written")))
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    let name = prior.get_str("db_snapshot_identifier").unwrap_or_default();
    deletion(name, &format!("the snapshot {name} of {}", prior.get_str("db_instance_identifier").unwrap_or_default()))
}

/// Deleting the snapshot `name` (`what` says what it is): data loss, its backup is gone.
pub(crate) fn deletion(name: &str, what: &str) -> PlannedChange {
    let mut change = diff::deletion(format!("DeleteDBSnapshot {name}"));
    change.data_loss.push(format!("deletes {what}: the backup it holds is lost"));
    change
}

/// Waits for a snapshot whose create or copy was sent: from then on it exists, so a failure
/// still records `desired` in state.
pub(crate) async fn await_written(clients: &Clients, name: &str, desired: &Value) -> Result<(), ApplyFailure> {
    wait_available(clients, name).await.map_err(|error| ApplyFailure { error, partial: Some(desired.clone()), in_doubt: false })
}

pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let desired = planned.unknowns_to_null();
    let name = desired.get_str("db_snapshot_identifier").ok_or_else(|| ProviderError::new("db_snapshot_identifier is required"))?.to_lowercase();
    match prior {
        None => {
            let instance = desired.get_str("db_instance_identifier").ok_or_else(|| ProviderError::new("db_instance_identifier is required"))?;
            let tags = tags::for_create(&desired, authorship);
            let request = clients
                .rds
                .create_db_snapshot()
                .db_instance_identifier(instance)
                .db_snapshot_identifier(&name)
                .set_tags((!tags.is_empty()).then(|| rds_tags::to_sdk(&tags)));
            request.send().await.map_err(|e| errors::create_failed("rds:CreateDBSnapshot", &name, e))?;
            await_written(clients, &name, &desired).await?;
        }
        Some(prior) => retag(clients, &kind(), prior, &desired).await?,
    }
    Ok(to_value(&read_written(clients, &name).await?, &desired))
}

/// Waits until the snapshot is available (moto makes it so at once; RDS takes minutes).
pub async fn wait_available(clients: &Clients, name: &str) -> Result<(), ProviderError> {
    wait::until(&format!("the snapshot {name} to be available"), std::time::Duration::from_secs(3600), || async {
        let answer = clients.rds.describe_db_snapshots().db_snapshot_identifier(name).send().await.map_err(|e| errors::api("rds:DescribeDBSnapshots", e))?;
        match answer.db_snapshots().first().and_then(DbSnapshot::status) {
            Some("available") => Ok(Some(())),
            Some("failed") => Err(ProviderError::new(format!("the snapshot {name} failed")).with_hint("see the RDS events of the instance")),
            _ => Ok(None),
        }
    })
    .await
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    delete_named(clients, prior.get_str("db_snapshot_identifier").unwrap_or_default()).await
}

pub(crate) async fn delete_named(clients: &Clients, name: &str) -> Result<(), ProviderError> {
    errors::deleted("rds:DeleteDBSnapshot", clients.rds.delete_db_snapshot().db_snapshot_identifier(name.to_lowercase()).send().await, "DBSnapshotNotFound")
}

/// What `aws_db_snapshot` declares about itself.
const ABOUT: About = About {
    name: "aws_db_snapshot",
    schema: schema::db_snapshot,
    import_id: Some("the snapshot identifier"),
    named_by: Some("db_snapshot_identifier"),
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_db_snapshot` in the provider's table of types.
pub struct DbSnapshotType;

#[async_trait::async_trait]
impl ResourceType for DbSnapshotType {
    fn about(&self) -> &'static About {
        &ABOUT
    }

    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
        refresh(cx.clients()?, states).await
    }

    async fn plan(&self, _: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(plan(prior, desired))
    }

    async fn plan_delete(&self, _: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError> {
        Ok(plan_delete(prior))
    }

    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
        apply(cx.clients()?, prior, planned, authorship).await
    }

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure> {
        Ok(delete(cx.clients()?, prior).await?)
    }

    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError> {
        rds_tags::marked_by(cx.clients()?, live.get_str("db_snapshot_arn").unwrap_or_default(), intent_id).await
    }
}
