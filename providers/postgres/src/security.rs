//! The plan's security check of tables: a table with a `sensitive` column that PUBLIC can read,
//! and a table whose row-level security is on with no policy (every role but its owner sees no
//! row: deny-all, most likely by accident). What it knows of the database it learns at refresh,
//! from the snapshot refresh reads anyway and the resources in state: no query of its own.

use std::collections::BTreeSet;

use strata_provider_sdk::{RefreshRequest, Value};

use crate::catalog::Snapshot;
use crate::model::{qualify, Table};

/// What refresh saw of who can read which table.
#[derive(Clone, Debug, Default)]
pub struct Exposure {
    /// Tables (`schema.name`) PUBLIC may SELECT from: by their live ACL, or by a grant in state
    /// (`schema.*` when it covers every table of a schema).
    pub readable_by_public: BTreeSet<String>,
    /// Tables (`schema.name`) with at least one policy, live or in state.
    pub with_policies: BTreeSet<String>,
}

impl Exposure {
    /// From the live objects and the resources in state.
    pub fn seen(snapshot: &Snapshot, requests: &[RefreshRequest]) -> Exposure {
        let mut exposure = Exposure {
            readable_by_public: snapshot.tables.values().filter(|t| t.public_select).map(Table::id).collect(),
            with_policies: snapshot.objects.get("postgres_policy").into_iter().flat_map(|policies| policies.values()).filter_map(policy_table).collect(),
        };
        for request in requests {
            if request.type_name.ends_with("_policy") && request.type_name.starts_with("postgres") {
                exposure.with_policies.extend(policy_table(&request.state));
            }
            if request.type_name.ends_with("_grant") && request.type_name.starts_with("postgres") {
                exposure.readable_by_public.extend(public_select_grant(&request.state));
            }
        }
        exposure
    }

    fn readable(&self, table: &Table) -> bool {
        self.readable_by_public.contains(&table.id()) || self.readable_by_public.contains(&format!("{}.*", table.schema))
    }
}

/// The table (`schema.name`) a policy's value is on.
fn policy_table(policy: &Value) -> Option<String> {
    let table = policy.get_str("table")?;
    Some(qualify(table, policy.get_str("schema").unwrap_or("public")))
}

/// The tables a `postgres_grant` (the community provider's `postgresql_grant` arguments) lets
/// PUBLIC read: `role = "public"`, `object_type = "table"`, privileges with SELECT or ALL.
fn public_select_grant(grant: &Value) -> Vec<String> {
    let to_public = grant.get_str("role").is_some_and(|role| role.eq_ignore_ascii_case("public"));
    let on_tables = grant.get_str("object_type").is_some_and(|kind| kind.eq_ignore_ascii_case("table"));
    let reads = grant.get_strings("privileges").iter().any(|p| p.eq_ignore_ascii_case("select") || p.eq_ignore_ascii_case("all"));
    if !(to_public && on_tables && reads) {
        return vec![];
    }
    let schema = grant.get_str("schema").unwrap_or("public");
    match grant.get_strings("objects") {
        objects if objects.is_empty() => vec![format!("{schema}.*")],
        objects => objects.iter().map(|table| qualify(table, schema)).collect(),
    }
}

/// The warnings of the plan of `desired`, whose live table is `live` (when there is one).
pub fn table_warnings(desired: &Table, live: Option<&Table>, exposure: &Exposure) -> Vec<String> {
    let id = desired.id();
    let mut warnings = Vec::new();
    let sensitive: Vec<&str> = desired.columns.iter().filter(|c| c.sensitive).map(|c| c.name.as_str()).collect();
    if !sensitive.is_empty() && exposure.readable(desired) {
        warnings.push(format!(
            "table {id} holds sensitive column{} {} and PUBLIC can read it: every role, present and future, can SELECT them (REVOKE SELECT ON {id} FROM PUBLIC, or grant to the roles that need it)",
            if sensitive.len() == 1 { "" } else { "s" },
            sensitive.join(", ")
        ));
    }
    let rls = desired.row_level_security.or_else(|| live.and_then(|l| l.row_level_security)).unwrap_or_default();
    if rls.enabled && !exposure.with_policies.contains(&id) {
        warnings.push(format!(
            "row-level security is enabled on {id} but no postgres_policy for it is live or in state: unless this plan creates one, every role but its owner (superusers and BYPASSRLS roles aside) sees no row and can write none"
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Column, RowSecurity};

    fn training_data(sensitive: bool, rls: bool) -> Table {
        let column = Column { name: "prompt".into(), type_name: "text".into(), nullable: true, sensitive, ..Column::default() };
        Table { schema: "public".into(), name: "training_data".into(), columns: vec![column], row_level_security: Some(RowSecurity { enabled: rls, force: false }), ..Table::default() }
    }

    #[test]
    fn sensitive_columns_readable_by_public_are_named() {
        let mut exposure = Exposure::default();
        assert!(table_warnings(&training_data(true, false), None, &exposure).is_empty());
        exposure.readable_by_public.insert("public.training_data".into());
        let warnings = table_warnings(&training_data(true, false), None, &exposure);
        assert!(warnings[0].contains("sensitive column prompt and PUBLIC can read it"), "{warnings:?}");
        assert!(table_warnings(&training_data(false, false), None, &exposure).is_empty());
    }

    #[test]
    fn a_grant_in_state_to_public_counts_as_readable() {
        let grant = Value::object([
            ("role", Value::from("PUBLIC")),
            ("schema", Value::from("public")),
            ("object_type", Value::from("table")),
            ("privileges", Value::List(vec![Value::from("SELECT")])),
            ("objects", Value::List(vec![])),
        ]);
        assert_eq!(public_select_grant(&grant), ["public.*"]);
        let exposure = Exposure { readable_by_public: public_select_grant(&grant).into_iter().collect(), ..Exposure::default() };
        assert_eq!(table_warnings(&training_data(true, false), None, &exposure).len(), 1);
    }

    #[test]
    fn row_security_without_a_policy_is_deny_all() {
        let mut exposure = Exposure::default();
        let warnings = table_warnings(&training_data(false, true), None, &exposure);
        assert!(warnings[0].contains("no postgres_policy for it"), "{warnings:?}");
        exposure.with_policies.insert("public.training_data".into());
        assert!(table_warnings(&training_data(false, true), None, &exposure).is_empty());
        // Unset in configuration, the live setting counts.
        let unset = Table { row_level_security: None, ..training_data(false, false) };
        assert_eq!(table_warnings(&unset, Some(&training_data(false, true)), &Exposure::default()).len(), 1);
    }
}
