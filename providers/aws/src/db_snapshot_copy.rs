//! `aws_db_snapshot_copy`: a copy of a snapshot, made in the provider's region (across regions
//! when the source is another region's snapshot ARN), as Terraform's resource of that name. It is
//! a snapshot like any other once made: read, waited for and deleted as `db_snapshot` does, and
//! keyed on `target_db_snapshot_identifier`. An encrypted snapshot copied across regions needs a
//! presigned URL from the source region, which the Rust SDK does not make and strata does not
//! yet either: such a copy fails with AWS's error.

use aws_sdk_rds::types::DbSnapshot;
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, Value};

use crate::config::Clients;
use crate::db_snapshot;
use crate::diff::{self, Kind};
use crate::{errors, rds_tags, schema, tags};
use crate::resource_type::{About, Cx, ResourceType};

/// Arguments AWS does not report on the copy: refresh carries them over from state.
const LOCAL_ONLY: [&str; 2] = ["copy_tags", "kms_key_id"];

/// The region of a snapshot ARN (`arn:aws:rds:REGION:ACCOUNT:snapshot:NAME`), for a copy
/// across regions; `None` for a plain identifier (a copy within the region).
pub fn source_region(source: &str) -> Option<&str> {
    source.strip_prefix("arn:").and_then(|rest| rest.split(':').nth(2)).filter(|region| !region.is_empty())
}

fn to_value(snapshot: &DbSnapshot, state: &Value) -> Value {
    let mut keyed = state.clone();
    keyed.set("db_snapshot_identifier", state.get("target_db_snapshot_identifier").cloned().unwrap_or_default());
    let mut value = db_snapshot::to_value(snapshot, &keyed);
    let target = value.get("db_snapshot_identifier").cloned().unwrap_or_default();
    if let Value::Object(map) = &mut value {
        map.remove("db_snapshot_identifier");
        map.remove("db_instance_identifier");
        // An argument of the copy (not supported yet), not a reading of it.
        map.remove("option_group_name");
    }
    value.set("target_db_snapshot_identifier", target);
    value.set("source_db_snapshot_identifier", state.get("source_db_snapshot_identifier").cloned().unwrap_or_default());
    value.set("source_region", snapshot.source_region().map(Value::from).unwrap_or_default());
    for key in LOCAL_ONLY {
        value.set(key, state.get(key).cloned().unwrap_or_default());
    }
    value
}

pub async fn refresh(clients: &Clients, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError> {
    db_snapshot::refresh_keyed(clients, states, "target_db_snapshot_identifier", to_value).await
}

fn same(name: &str, live: &Value, wanted: &Value) -> bool {
    match (name, live.as_str(), wanted.as_str()) {
        ("target_db_snapshot_identifier", Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
        ("tags", _, _) => tags::same(live, wanted),
        _ => diff::equal(live, wanted),
    }
}

fn kind() -> Kind {
    Kind {
        block: schema::db_snapshot_copy().block,
        same,
        create_operations: |desired| {
            let source = desired.get_str("source_db_snapshot_identifier").unwrap_or("(unknown)");
            let across = source_region(source).map(|region| format!(" from {region}")).unwrap_or_default();
            vec![format!("CopyDBSnapshot {source} -> {}{across}", desired.get_str("target_db_snapshot_identifier").unwrap_or("(unknown)"))]
        },
        delete_operations: |prior| plan_delete(prior).operations,
    }
}

pub fn plan(prior: Option<&Value>, desired: &Value) -> PlannedChange {
    db_snapshot::plan_with(&kind(), "target_db_snapshot_identifier", prior, desired, plan_delete)
}

pub fn plan_delete(prior: &Value) -> PlannedChange {
    let name = prior.get_str("target_db_snapshot_identifier").unwrap_or_default();
    db_snapshot::deletion(name, &format!("the snapshot copy {name} (of {})", prior.get_str("source_db_snapshot_identifier").unwrap_or_default()))
}

pub async fn apply(clients: &Clients, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure> {
    let desired = planned.unknowns_to_null();
    let name = desired.get_str("target_db_snapshot_identifier").ok_or_else(|| ProviderError::new("target_db_snapshot_identifier is required"))?.to_lowercase();
    match prior {
        None => {
            let source = desired.get_str("source_db_snapshot_identifier").ok_or_else(|| ProviderError::new("source_db_snapshot_identifier is required"))?;
            let tags = tags::for_create(&desired, authorship);
            let request = clients
                .rds
                .copy_db_snapshot()
                .source_db_snapshot_identifier(source)
                .target_db_snapshot_identifier(&name)
                .set_kms_key_id(desired.get_str("kms_key_id").map(str::to_owned))
                .set_copy_tags(desired.get_bool("copy_tags"))
                .set_tags((!tags.is_empty()).then(|| rds_tags::to_sdk(&tags)));
            request.send().await.map_err(|e| errors::create_failed("rds:CopyDBSnapshot", &name, e))?;
            db_snapshot::await_written(clients, &name, &desired).await?;
        }
        Some(prior) => db_snapshot::retag(clients, &kind(), prior, &desired).await?,
    }
    Ok(to_value(&db_snapshot::read_written(clients, &name).await?, &desired))
}

pub async fn delete(clients: &Clients, prior: &Value) -> Result<(), ProviderError> {
    db_snapshot::delete_named(clients, prior.get_str("target_db_snapshot_identifier").unwrap_or_default()).await
}

/// What `aws_db_snapshot_copy` declares about itself.
const ABOUT: About = About {
    name: "aws_db_snapshot_copy",
    schema: schema::db_snapshot_copy,
    import_id: Some("the target snapshot identifier"),
    named_by: Some("target_db_snapshot_identifier"),
    local_arguments: &[],
    name_prefix: None,
};

/// `aws_db_snapshot_copy` in the provider's table of types.
pub struct DbSnapshotCopyType;

#[async_trait::async_trait]
impl ResourceType for DbSnapshotCopyType {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_from_an_arn_is_across_regions() {
        assert_eq!(source_region("arn:aws:rds:us-east-1:123456789012:snapshot:db-nightly"), Some("us-east-1"));
        assert_eq!(source_region("db-nightly"), None);
    }
}
