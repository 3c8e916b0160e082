//! The plan's security check of tables: a table with a `sensitive` column that PUBLIC can read,
//! and a table whose row-level security is on with no policy (every role but its owner sees no
//! row: deny-all, most likely by accident). What it knows of the database it learns at refresh,
//! from the snapshot refresh reads anyway and the resources in state: no query of its own; what
//! the configuration adds, from the whole plan the engine hands `Provider::review`, so a policy or
//! grant planned beside its table counts whichever is planned first.

use std::collections::BTreeSet;

use strata_provider_sdk::{Declared, RefreshRequest, Value};

use crate::catalog::Snapshot;
use crate::model::{qualify, Table};
use crate::objects::grant::Grant;

/// What refresh saw of who can read which table.
#[derive(Clone, Debug, Default)]
pub struct Exposure {
    /// Tables (`schema.name`) PUBLIC may SELECT from: by their live ACL, or by a grant in state
    /// (`schema.*` when it covers every table of a schema).
    pub readable_by_public: BTreeSet<String>,
    /// Tables (`schema.name`) with at least one policy, live or in state.
    pub with_policies: BTreeSet<String>,
    /// Tables (`schema.name`) whose row-level security is enabled live.
    pub row_security_live: BTreeSet<String>,
}

impl Exposure {
    /// From the live objects and the resources in state.
    pub fn seen(snapshot: &Snapshot, requests: &[RefreshRequest]) -> Exposure {
        let mut exposure = Exposure {
            readable_by_public: snapshot.tables.values().filter(|t| t.public_select).map(Table::id).collect(),
            with_policies: snapshot.objects.get("postgres_policy").into_iter().flat_map(|policies| policies.values()).filter_map(policy_table).collect(),
            row_security_live: snapshot.tables.values().filter(|t| t.row_level_security.is_some_and(|rls| rls.enabled)).map(Table::id).collect(),
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

/// The tables a `postgres_grant` lets PUBLIC read: `role = "public"`, `object_type = "table"`,
/// SELECT among its privileges as the grant normalizes them (`ALL` is its expansion).
fn public_select_grant(grant: &Value) -> Vec<String> {
    let Ok(grant) = Grant::from_value(grant) else { return vec![] };
    let reads = grant.privileges.iter().any(|p| p == "SELECT");
    if !(grant.role.eq_ignore_ascii_case("public") && grant.object_type == "table" && reads) {
        return vec![];
    }
    let schema = grant.schema.as_deref().unwrap_or("public");
    match grant.objects.as_slice() {
        [] => vec![format!("{schema}.*")],
        objects => objects.iter().map(|table| qualify(table, schema)).collect(),
    }
}

/// The security warnings of each planned resource (strata's type names), in order: `exposure` as
/// refresh saw it, with the policies and grants to PUBLIC the plan adds.
pub fn review(planned: &[Declared], exposure: &Exposure) -> Vec<Vec<String>> {
    let mut exposure = exposure.clone();
    for resource in planned {
        match resource.type_name.as_str() {
            "postgres_policy" => exposure.with_policies.extend(policy_table(&resource.desired)),
            "postgres_grant" => exposure.readable_by_public.extend(public_select_grant(&resource.desired)),
            _ => {}
        }
    }
    let warnings = |resource: &Declared| match resource.type_name.as_str() {
        "postgres_table" => Table::from_value(&resource.desired).map(|table| table_warnings(&table, &exposure)).unwrap_or_default(),
        _ => vec![],
    };
    planned.iter().map(warnings).collect()
}

/// The warnings of the planned table `desired`.
fn table_warnings(desired: &Table, exposure: &Exposure) -> Vec<String> {
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
    let enabled = desired.row_level_security.map_or_else(|| exposure.row_security_live.contains(&id), |rls| rls.enabled);
    if enabled && !exposure.with_policies.contains(&id) {
        warnings.push(format!(
            "row-level security is enabled on {id} but no postgres_policy for it is live, in state or in this plan: every role but its owner (superusers and BYPASSRLS roles aside) sees no row and can write none"
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
        assert!(table_warnings(&training_data(true, false), &exposure).is_empty());
        exposure.readable_by_public.insert("public.training_data".into());
        let warnings = table_warnings(&training_data(true, false), &exposure);
        assert!(warnings[0].contains("sensitive column prompt and PUBLIC can read it"), "{warnings:?}");
        assert!(table_warnings(&training_data(false, false), &exposure).is_empty());
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
        assert_eq!(table_warnings(&training_data(true, false), &exposure).len(), 1);
    }

    #[test]
    fn row_security_without_a_policy_is_deny_all() {
        let mut exposure = Exposure::default();
        let warnings = table_warnings(&training_data(false, true), &exposure);
        assert!(warnings[0].contains("no postgres_policy for it"), "{warnings:?}");
        exposure.with_policies.insert("public.training_data".into());
        assert!(table_warnings(&training_data(false, true), &exposure).is_empty());
        // Unset in configuration, the live setting counts.
        let unset = Table { row_level_security: None, ..training_data(false, false) };
        let live = Exposure { row_security_live: ["public.training_data".to_owned()].into(), ..Exposure::default() };
        assert_eq!(table_warnings(&unset, &live).len(), 1);
    }

    #[test]
    fn a_policy_planned_beside_its_table_serves_it_whichever_comes_first() {
        let table = Declared { address: "postgres_table.t".into(), type_name: "postgres_table".into(), desired: training_data(false, true).to_value() };
        let policy = Declared {
            address: "postgres_policy.p".into(),
            type_name: "postgres_policy".into(),
            desired: Value::object([("table", Value::from("training_data")), ("name", Value::from("by_team"))]),
        };
        assert_eq!(review(std::slice::from_ref(&table), &Exposure::default())[0].len(), 1);
        assert_eq!(review(&[table, policy], &Exposure::default()), vec![Vec::<String>::new(), vec![]]);
    }
}
