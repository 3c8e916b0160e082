//! `strata import` for AWS objects: the live object an id names, read through the same batched
//! refresh each resource type uses, so an imported object has exactly refresh's shape.
//!
//! Owns which attribute an import id fills for each type (an instance's identifier, a security
//! group's id or name, a parameter or subnet group's name), and the id of the object a create
//! would make, for adopting it after an interrupted apply. It reads only; it must not change
//! anything.

use strata_provider_sdk::{ProviderError, Value};

use crate::config::Clients;
use crate::{backup_plan, backup_selection, backup_vault, rds_tags, security_group};

/// The live object `id` names, or `None` when there is none.
pub async fn find(
    clients: &Clients,
    type_name: &str,
    id: &str,
) -> Result<Option<Value>, ProviderError> {
    let key = match type_name {
        "aws_db_instance" => "identifier",
        "aws_db_parameter_group" | "aws_db_subnet_group" => "name",
        "aws_db_snapshot" => "db_snapshot_identifier",
        "aws_db_snapshot_copy" => "target_db_snapshot_identifier",
        "aws_backup_vault" => "name",
        "aws_security_group" => return security_group::import(clients, id).await,
        "aws_backup_plan" => return backup_plan::import(clients, id).await,
        "aws_backup_selection" => return backup_selection::import(clients, id).await,
        other => return Err(crate::unknown_type(other)),
    };
    // Refresh finds an object by the attribute its state keys it on; this state has only that.
    let keyed = Value::object([(key, Value::from(id))]);
    Ok(crate::refresh_type(clients, type_name, &[&keyed])
        .await?
        .pop()
        .flatten())
}

/// Whether the live object `live` (as `find` gave it) carries the authorship tag of the intent
/// `intent_id`, read raw (refresh hides it).
pub async fn authored(
    clients: &Clients,
    type_name: &str,
    live: &Value,
    intent_id: &str,
) -> Result<bool, ProviderError> {
    match type_name {
        "aws_security_group" => security_group::marked_by(clients, live, intent_id).await,
        "aws_db_instance" | "aws_db_parameter_group" | "aws_db_subnet_group" => {
            rds_tags::marked_by(clients, live.get_str("arn").unwrap_or_default(), intent_id).await
        }
        "aws_db_snapshot" | "aws_db_snapshot_copy" => rds_tags::marked_by(clients, live.get_str("db_snapshot_arn").unwrap_or_default(), intent_id).await,
        "aws_backup_vault" => backup_vault::marked_by(clients, live, intent_id).await,
        "aws_backup_plan" => backup_plan::marked_by(clients, live, intent_id).await,
        "aws_backup_selection" => backup_selection::marked_by(clients, live, intent_id).await,
        other => Err(crate::unknown_type(other)),
    }
}

/// The import id of the object a create of `planned` makes: its identifier or name.
pub fn adoption_id(type_name: &str, planned: &Value) -> Option<String> {
    let key = match type_name {
        "aws_db_instance" => "identifier",
        "aws_db_parameter_group" | "aws_db_subnet_group" => "name",
        "aws_db_snapshot" => "db_snapshot_identifier",
        "aws_db_snapshot_copy" => "target_db_snapshot_identifier",
        "aws_backup_vault" | "aws_backup_plan" => "name",
        "aws_security_group" => return security_group::adoption_id(planned),
        "aws_backup_selection" => return backup_selection::adoption_id(planned),
        _ => return None,
    };
    planned.get_str(key).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adoption_ids_name_the_object_a_create_makes() {
        let group = Value::object([
            ("name", Value::from("db")),
            ("vpc_id", Value::from("vpc-1")),
        ]);
        assert_eq!(
            adoption_id("aws_security_group", &group).as_deref(),
            Some("vpc-1/db")
        );
        let instance = Value::object([("identifier", Value::from("main"))]);
        assert_eq!(
            adoption_id("aws_db_instance", &instance).as_deref(),
            Some("main")
        );
        assert_eq!(adoption_id("aws_db_subnet_group", &Value::Null), None);
    }
}
