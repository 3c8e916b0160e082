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

/// The manual snapshots, or the one named, by lower-cased identifier (RDS lower-cases them).
async fn describe(clients: &Clients, identifier: Option<&str>) -> Result<BTreeMap<String, DbSnapshot>, ProviderError> {
    let request = clients.rds.describe_db_snapshots().snapshot_type("manual").set_db_snapshot_identifier(identifier.map(str::to_lowercase));
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
fn to_value(snapshot: &DbSnapshot, state: &Value) -> Value {
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
    ])
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    let snapshots = describe(clients, None).await?;
    Ok(states
        .iter()
        .map(|state| {
            let name = state.get_str("db_snapshot_identifier")?.to_lowercase();
            snapshots.get(&name).map(|snapshot| to_value(snapshot, state))
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
    let mut change = kind().plan(prior, desired, |prior, diff| {
        let name = prior.get_str("db_snapshot_identifier").unwrap_or_default();
        let operations = diff
            .get("tags")
            .map(|change| TagChange::between(&change.from, &change.to).operations("AddTagsToResource", "RemoveTagsFromResource", name))
            .unwrap_or_default();
        diff::finish(diff.planned, operations)
    });
    if let Some(prior) = prior.filter(|_| change.action == strata_provider_sdk::Action::Replace) {
        change.data_loss.extend(plan_delete(prior).data_loss);
    }
    change
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    let name = prior.get_str("db_snapshot_identifier").unwrap_or_default();
    let mut change = diff::deletion(format!("DeleteDBSnapshot {name}"));
    change.data_loss.push(format!(
        "deletes the snapshot {name} of {}: the backup it holds is lost",
        prior.get_str("db_instance_identifier").unwrap_or_default()
    ));
    change
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
            // From here the snapshot exists: a failure still records it.
            wait_available(clients, &name).await.map_err(|error| ApplyFailure { error, partial: Some(desired.clone()), in_doubt: false })?;
        }
        Some(prior) => {
            let diff = diff::attributes(&kind().block, Some(prior), &desired, same);
            if let Some(change) = diff.get("tags") {
                rds_tags::update(clients, prior.get_str("db_snapshot_arn").unwrap_or_default(), &TagChange::between(&change.from, &change.to)).await?;
            }
        }
    }
    let found = describe(clients, Some(&name)).await?;
    let snapshot = found.get(&name).ok_or_else(|| ProviderError::new(format!("the snapshot {name} is gone right after it was written")))?;
    Ok(to_value(snapshot, &desired))
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
    let name = prior.get_str("db_snapshot_identifier").unwrap_or_default().to_lowercase();
    errors::deleted("rds:DeleteDBSnapshot", clients.rds.delete_db_snapshot().db_snapshot_identifier(name).send().await, "DBSnapshotNotFound")
}
