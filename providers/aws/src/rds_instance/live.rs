//! Reading `aws_db_instance`s: one filtered DescribeDBInstances for every identifier, and the
//! live instance as a state value, with changes AWS holds for the maintenance window folded in.
//!
//! Owns the mapping from the SDK's `DbInstance` to attributes; it must not change anything.

use std::collections::BTreeMap;

use aws_sdk_rds::types::{DbInstance, Filter};
use aws_smithy_types::date_time::Format;
use strata_provider_sdk::{ProviderError, Value};

use super::LOCAL_ONLY;
use crate::config::Clients;
use crate::diff;
use crate::pages::collect_by_name;
use crate::{rds_tags, tags};

/// One DescribeDBInstances (paginated) for all the states, filtered by their identifiers.
pub async fn refresh(
    clients: &Clients,
    states: &[&Value],
) -> Result<Vec<Option<Value>>, ProviderError> {
    let ids: Vec<String> = states
        .iter()
        .filter_map(|s| s.get_str("identifier"))
        .map(str::to_lowercase)
        .collect();
    let live = describe(clients, &ids).await?;
    Ok(states
        .iter()
        .map(|state| {
            state
                .get_str("identifier")
                .and_then(|id| live.get(&id.to_lowercase()))
                .map(|i| to_value(i, state))
        })
        .collect())
}

/// The live instances among `ids` (lower-cased, as RDS stores them), keyed by identifier.
async fn describe(
    clients: &Clients,
    ids: &[String],
) -> Result<BTreeMap<String, DbInstance>, ProviderError> {
    if ids.is_empty() {
        return Ok(BTreeMap::new());
    }
    // A filter, unlike DBInstanceIdentifier, answers for many ids and is not an error when one
    // is missing.
    let filter = Filter::builder()
        .name("db-instance-id")
        .set_values(Some(ids.to_vec()))
        .build();
    let request = clients.rds.describe_db_instances().filters(filter);
    Ok(collect_by_name!(
        request.into_paginator().send(),
        "rds:DescribeDBInstances",
        db_instances,
        db_instance_identifier
    ))
}

/// Every instance in the region, keyed by identifier, with its tags (DescribeDBInstances
/// includes them).
pub(crate) async fn describe_all(clients: &Clients) -> Result<BTreeMap<String, DbInstance>, ProviderError> {
    Ok(collect_by_name!(
        clients.rds.describe_db_instances().into_paginator().send(),
        "rds:DescribeDBInstances",
        db_instances,
        db_instance_identifier
    ))
}

/// One instance, when it exists.
pub async fn describe_one(
    clients: &Clients,
    id: &str,
) -> Result<Option<DbInstance>, ProviderError> {
    Ok(describe(clients, &[id.to_lowercase()])
        .await?
        .remove(&id.to_lowercase()))
}

fn int(n: Option<i32>) -> Value {
    n.map(|n| Value::int(i64::from(n))).unwrap_or_default()
}

fn text(s: Option<&str>) -> Value {
    s.map(Value::from).unwrap_or_default()
}

fn flag(b: Option<bool>) -> Value {
    b.map(Value::Bool).unwrap_or_default()
}

/// The live instance as a state value, in `state`'s spelling where AWS's differs only in case,
/// with pending maintenance-window changes folded in and write-only arguments carried over.
pub fn to_value(instance: &DbInstance, state: &Value) -> Value {
    let id = instance.db_instance_identifier().unwrap_or_default();
    let id = state
        .get_str("identifier")
        .filter(|s| s.eq_ignore_ascii_case(id))
        .unwrap_or(id);
    let port = instance
        .endpoint()
        .and_then(|e| e.port())
        .or(instance.db_instance_port());
    let address = instance.endpoint().and_then(|e| e.address());
    let mut groups: Vec<String> = instance
        .vpc_security_groups()
        .iter()
        .filter_map(|g| g.vpc_security_group_id())
        .map(str::to_owned)
        .collect();
    let order = state.get_strings("vpc_security_group_ids");
    groups.sort_by_key(|g| order.iter().position(|o| o == g).unwrap_or(usize::MAX));
    let tags = rds_tags::from_sdk(instance.tag_list());
    let mut value = Value::object([
        ("identifier", Value::from(id)),
        ("engine", text(instance.engine())),
        ("engine_version", text(instance.engine_version())),
        ("instance_class", text(instance.db_instance_class())),
        ("allocated_storage", int(instance.allocated_storage())),
        (
            "max_allocated_storage",
            int(instance.max_allocated_storage()),
        ),
        ("storage_type", text(instance.storage_type())),
        ("storage_encrypted", flag(instance.storage_encrypted())),
        ("kms_key_id", text(instance.kms_key_id())),
        ("availability_zone", text(instance.availability_zone())),
        ("username", text(instance.master_username())),
        ("db_name", text(instance.db_name())),
        ("port", int(port)),
        (
            "backup_retention_period",
            int(instance.backup_retention_period()),
        ),
        ("backup_window", text(instance.preferred_backup_window())),
        (
            "maintenance_window",
            text(instance.preferred_maintenance_window()),
        ),
        ("multi_az", flag(instance.multi_az())),
        ("publicly_accessible", flag(instance.publicly_accessible())),
        ("deletion_protection", flag(instance.deletion_protection())),
        ("copy_tags_to_snapshot", flag(instance.copy_tags_to_snapshot())),
        (
            "vpc_security_group_ids",
            Value::List(groups.into_iter().map(Value::from).collect()),
        ),
        (
            "db_subnet_group_name",
            text(
                instance
                    .db_subnet_group()
                    .and_then(|g| g.db_subnet_group_name()),
            ),
        ),
        (
            "parameter_group_name",
            text(
                instance
                    .db_parameter_groups()
                    .first()
                    .and_then(|g| g.db_parameter_group_name()),
            ),
        ),
        ("tags", tags::to_value(&tags)),
        ("id", Value::from(id)),
        ("arn", text(instance.db_instance_arn())),
        ("address", text(address)),
        (
            "endpoint",
            address
                .zip(port)
                .map(|(a, p)| Value::from(format!("{a}:{p}")))
                .unwrap_or_default(),
        ),
        ("status", text(instance.db_instance_status())),
        ("hosted_zone_id", text(instance.endpoint().and_then(|e| e.hosted_zone_id()))),
        ("engine_version_actual", text(instance.engine_version())),
        ("ca_cert_identifier", text(instance.ca_certificate_identifier())),
        ("resource_id", text(instance.dbi_resource_id())),
        (
            "create_time",
            instance
                .instance_create_time()
                .and_then(|t| t.fmt(Format::DateTime).ok())
                .map(Value::from)
                .unwrap_or_default(),
        ),
    ]);
    for key in LOCAL_ONLY {
        value.set(key, state.get(key).cloned().unwrap_or_default());
    }
    let pending = fold_pending(instance, &mut value);
    value.set(
        "pending_modifications",
        Value::List(pending.into_iter().map(Value::from).collect()),
    );
    value
}

/// Overlays the values AWS holds until the maintenance window (apply_immediately = false), so
/// they plan as done rather than as changes to make again; returns a line per pending change.
fn fold_pending(instance: &DbInstance, value: &mut Value) -> Vec<String> {
    let Some(pending) = instance.pending_modified_values() else {
        return Vec::new();
    };
    let held = [
        ("instance_class", text(pending.db_instance_class())),
        ("allocated_storage", int(pending.allocated_storage())),
        ("engine_version", text(pending.engine_version())),
        ("port", int(pending.port())),
        (
            "backup_retention_period",
            int(pending.backup_retention_period()),
        ),
        ("multi_az", flag(pending.multi_az())),
        ("storage_type", text(pending.storage_type())),
        ("db_subnet_group_name", text(pending.db_subnet_group_name())),
    ];
    let mut lines = Vec::new();
    for (key, held_value) in held.into_iter().filter(|(_, v)| !v.is_null()) {
        lines.push(format!("{key} = {}", diff::show(&held_value)));
        value.set(key, held_value);
    }
    if pending.master_user_password().is_some() {
        lines.push("password (sensitive value)".to_owned());
    }
    lines
}
