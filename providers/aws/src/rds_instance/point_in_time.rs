//! `restore_to_point_in_time` of an `aws_db_instance` (Terraform's block): the instance is
//! created by RestoreDBInstanceToPointInTime from another instance's backups instead of by
//! CreateDBInstance. Read at create only, like `snapshot_identifier`.
//!
//! Owns the block's plan-time checks (one source, one time, an RFC 3339 time, not with
//! `snapshot_identifier`), how the plan names the restore, and the request's source and time;
//! `mod.rs` sends it and then sets what a restore does not carry.

use aws_sdk_rds::operation::restore_db_instance_to_point_in_time::builders::RestoreDBInstanceToPointInTimeFluentBuilder as Request;
use aws_smithy_types::DateTime;
use strata_provider_sdk::{ProviderError, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::diff;

pub(super) const BLOCK: &str = "restore_to_point_in_time";

/// Where the data can come from; RDS takes exactly one.
const SOURCES: [&str; 3] = ["source_db_instance_identifier", "source_dbi_resource_id", "source_db_instance_automated_backups_arn"];

/// The configured block, if any.
pub(super) fn configured(desired: &Value) -> Option<&Value> {
    desired.get(BLOCK).filter(|block| !block.is_null())
}

fn given<'a>(block: &'a Value, key: &str) -> Option<&'a Value> {
    block.get(key).filter(|value| !value.is_null())
}

/// Refuses a block RDS would refuse, or one that leaves open what is restored, before any call.
/// A value known only at apply counts as given.
pub(super) fn check(desired: &Value) -> Result<(), ProviderError> {
    let Some(block) = configured(desired) else {
        return Ok(());
    };
    if given(desired, "snapshot_identifier").is_some() {
        return Err(ProviderError::new("snapshot_identifier and restore_to_point_in_time both say where the new instance's data comes from")
            .with_hint("keep one: snapshot_identifier restores a snapshot, restore_to_point_in_time restores another instance's backups as of a time"));
    }
    let sources: Vec<&str> = SOURCES.into_iter().filter(|key| given(block, key).is_some()).collect();
    if sources.len() != 1 {
        let found = if sources.is_empty() { "none".to_owned() } else { sources.join(" and ") };
        return Err(ProviderError::new(format!("restore_to_point_in_time needs exactly one source, not {found}"))
            .with_hint("set one of source_db_instance_identifier, source_dbi_resource_id or source_db_instance_automated_backups_arn"));
    }
    let latest = given(block, "use_latest_restorable_time");
    match (given(block, "restore_time"), latest) {
        (Some(_), Some(Value::Bool(true))) => Err(ProviderError::new("restore_to_point_in_time has both restore_time and use_latest_restorable_time = true")
            .with_hint("keep one: restore_time for a given moment, use_latest_restorable_time = true for the latest one")),
        (Some(Value::String(text)), _) => parse_time(text).map(|_| ()),
        (Some(_), _) | (None, Some(Value::Bool(true) | Value::Unknown)) => Ok(()),
        (None, _) => Err(ProviderError::new("restore_to_point_in_time needs the time to restore to")
            .with_hint("set restore_time (RFC 3339, such as \"2026-11-30T23:45:00Z\") or use_latest_restorable_time = true")),
    }
}

fn parse_time(text: &str) -> Result<DateTime, ProviderError> {
    let time = OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
        ProviderError::new(format!("restore_time \"{text}\" is not an RFC 3339 time"))
            .with_hint("write it as \"2026-11-30T23:45:00Z\" (UTC) or with an offset, \"2026-12-01T00:45:00+01:00\"")
    })?;
    Ok(DateTime::from_secs_and_nanos(time.unix_timestamp(), time.nanosecond()))
}

/// The plan's words for the restore: its source and time.
pub(super) fn describe(block: &Value) -> String {
    let source = SOURCES.into_iter().find_map(|key| given(block, key).map(diff::show)).unwrap_or_else(|| "(unknown)".to_owned());
    let when = match given(block, "restore_time") {
        Some(time) => format!("as of {}", diff::show(time)),
        None => "as of its latest restorable time".to_owned(),
    };
    format!("from {source} {when}")
}

/// `request` with the block's source and time (checked at plan).
pub(super) fn with_source(request: Request, block: &Value) -> Result<Request, ProviderError> {
    let text = |key: &str| given(block, key).and_then(Value::as_str).map(str::to_owned);
    let restore_time = text("restore_time").as_deref().map(parse_time).transpose()?;
    Ok(request
        .set_source_db_instance_identifier(text("source_db_instance_identifier"))
        .set_source_dbi_resource_id(text("source_dbi_resource_id"))
        .set_source_db_instance_automated_backups_arn(text("source_db_instance_automated_backups_arn"))
        .set_restore_time(restore_time)
        .set_use_latest_restorable_time(given(block, "use_latest_restorable_time").and_then(Value::as_bool)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(block: &[(&str, Value)]) -> Value {
        Value::object([("identifier", Value::from("db2")), (BLOCK, Value::object(block.iter().cloned()))])
    }

    fn refused(block: &[(&str, Value)]) -> String {
        check(&desired(block)).err().map(|e| e.message).unwrap_or_default()
    }

    #[test]
    fn one_source_and_one_time_pass() {
        let source = ("source_db_instance_identifier", Value::from("db1"));
        assert!(check(&desired(&[source.clone(), ("use_latest_restorable_time", Value::Bool(true))])).is_ok());
        assert!(check(&desired(&[source, ("restore_time", Value::from("2026-11-30T23:45:00+01:00"))])).is_ok());
        assert!(check(&desired(&[("source_dbi_resource_id", Value::Unknown), ("restore_time", Value::Unknown)])).is_ok());
    }

    #[test]
    fn sources_and_times_must_be_exactly_one() {
        let latest = ("use_latest_restorable_time", Value::Bool(true));
        assert_eq!(refused(std::slice::from_ref(&latest)), "restore_to_point_in_time needs exactly one source, not none");
        let two = [("source_db_instance_identifier", Value::from("db1")), ("source_dbi_resource_id", Value::from("db-ABC")), latest.clone()];
        assert_eq!(refused(&two), "restore_to_point_in_time needs exactly one source, not source_db_instance_identifier and source_dbi_resource_id");
        let source = ("source_db_instance_identifier", Value::from("db1"));
        assert_eq!(refused(std::slice::from_ref(&source)), "restore_to_point_in_time needs the time to restore to");
        assert_eq!(refused(&[source.clone(), ("use_latest_restorable_time", Value::Bool(false))]), "restore_to_point_in_time needs the time to restore to");
        let both = [source.clone(), latest, ("restore_time", Value::from("2026-11-30T23:45:00Z"))];
        assert!(refused(&both).contains("both restore_time and use_latest_restorable_time"));
        assert_eq!(refused(&[source, ("restore_time", Value::from("2026-11-30 23:45"))]), "restore_time \"2026-11-30 23:45\" is not an RFC 3339 time");
    }

    #[test]
    fn not_with_a_snapshot() {
        let mut both = desired(&[("source_db_instance_identifier", Value::from("db1")), ("use_latest_restorable_time", Value::Bool(true))]);
        both.set("snapshot_identifier", Value::from("snap"));
        assert!(check(&both).is_err_and(|e| e.message.starts_with("snapshot_identifier and restore_to_point_in_time")));
    }

    #[test]
    fn the_request_carries_the_source_and_the_time_in_utc() {
        let config = aws_sdk_rds::Config::builder().behavior_version(aws_sdk_rds::config::BehaviorVersion::latest()).build();
        let client = aws_sdk_rds::Client::from_conf(config);
        let block = Value::object([("source_dbi_resource_id", Value::from("db-ABC")), ("restore_time", Value::from("2026-12-01T00:45:00+01:00"))]);
        let request = with_source(client.restore_db_instance_to_point_in_time(), &block).map_err(|e| e.message);
        let input = request.as_ref().map(Request::as_input);
        assert_eq!(input.map(|i| i.get_source_dbi_resource_id().clone()), Ok(Some("db-ABC".to_owned())));
        assert_eq!(input.map(|i| i.get_source_db_instance_identifier().clone()), Ok(None));
        let expected = OffsetDateTime::parse("2026-11-30T23:45:00Z", &Rfc3339).map(|t| t.unix_timestamp()).ok();
        assert_eq!(input.ok().and_then(|i| *i.get_restore_time()).map(|t| t.secs()), expected);
        assert_eq!(describe(&block), "from db-ABC as of 2026-12-01T00:45:00+01:00");
    }
}
