//! What lives next to managed objects without being managed: indexes and unique, check,
//! foreign-key and exclusion constraints on a managed table that neither the table's state nor a `postgres_index`
//! in the same requests names (someone added them by hand); and privileges on a managed table,
//! view, materialized view or sequence held by a role (PUBLIC included) that no `postgres_grant`
//! among the requests declares on it (the owner's own are never listed). Only reads a snapshot; it must never
//! change anything, nor plan these objects for deletion.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{ProviderError, RefreshRequest, Value};

use crate::catalog::Snapshot;
use crate::objects::grant;
use crate::model::{Table, TableIndex};

/// For each request, one description per unmanaged object next to it.
pub fn describe(snapshot: &Snapshot, requests: &[RefreshRequest]) -> Result<Vec<Vec<String>>, ProviderError> {
    let managed_indexes = standalone_indexes(requests)?;
    let declared = grant::declared(requests.iter().map(|r| (r.type_name.as_str(), &r.state)));
    let acls = snapshot.objects.get(grant::TYPE).cloned().unwrap_or_default();
    // Each relation's privileges are listed once: next to the first request that manages it.
    let mut listed = BTreeSet::new();
    let mut undeclared = |kind: &'static str, schema: &str, name: &str| match listed.insert(format!("{kind}:{schema}.{name}")) {
        true => undeclared_grants(&acls, &declared, kind, schema, name),
        false => Vec::new(),
    };
    requests
        .iter()
        .map(|request| match request.type_name.as_str() {
            "postgres_table" => {
                let table = Table::from_value(&request.state)?;
                let mut found = next_to_table(snapshot, &table, &managed_indexes);
                found.extend(undeclared("table", &table.schema, &table.name));
                Ok(found)
            }
            "postgres_view" | "postgres_materialized_view" | "postgres_sequence" => {
                let kind = if request.type_name == "postgres_sequence" { "sequence" } else { "table" };
                let schema = request.state.get_str("schema").unwrap_or("public");
                Ok(request.state.get_str("name").map(|name| undeclared(kind, schema, name)).unwrap_or_default())
            }
            grant::TYPE => Ok(grant::relations_covered(&acls, &request.state).into_iter().flat_map(|(kind, schema, name)| undeclared(kind, &schema, &name)).collect()),
            _ => Ok(Vec::new()),
        })
        .collect()
}

/// The privileges on the relation `schema.name` (of the grant kind `kind`: `table` or
/// `sequence`) held by roles no `postgres_grant` in `declared` declares, one line per role.
fn undeclared_grants(acls: &BTreeMap<String, Value>, declared: &BTreeSet<String>, kind: &str, schema: &str, name: &str) -> Vec<String> {
    grant::held_by_others(acls, &format!("{kind}:{schema}.{name}"))
        .into_iter()
        .filter(|(grantee, _)| !grant::declares(declared, kind, schema, name, grantee))
        .map(|(grantee, privileges)| {
            let who = if grantee == "public" { "PUBLIC".to_owned() } else { format!("role {grantee}") };
            format!("privileges {} on {kind} {schema}.{name} granted to {who}, which no postgres_grant declares", privileges.join(", "))
        })
        .collect()
}

/// The ids (`schema.name`) of the indexes managed as `postgres_index` among `requests`: each is
/// owned by that resource alone, never by its table.
pub fn standalone_indexes(requests: &[RefreshRequest]) -> Result<BTreeSet<String>, ProviderError> {
    requests.iter().filter(|r| r.type_name == "postgres_index").map(|r| TableIndex::from_value(&r.state).map(|i| i.id())).collect()
}

fn next_to_table(snapshot: &Snapshot, managed: &Table, managed_indexes: &BTreeSet<String>) -> Vec<String> {
    let Some(live) = snapshot.tables.get(&managed.id()) else { return Vec::new() };
    // A partition's indexes and constraints are the ones PostgreSQL copies from its parent.
    if managed.partitioning.of.is_some() {
        return Vec::new();
    }
    let table = managed.id();
    let is_managed_index = |name: &str| managed.indexes.iter().any(|m| m.name == name) || managed_indexes.contains(&format!("{}.{name}", managed.schema));
    let indexes = live.indexes.iter().filter(|i| !is_managed_index(&i.name)).map(|i| format!("index {} on {table} ({})", i.name, i.columns.join(", ")));
    let uniques = live
        .uniques
        .iter()
        .filter(|u| !managed.uniques.iter().any(|m| m.name == u.name))
        .map(|u| format!("unique constraint {} on {table} ({})", u.name, u.columns.join(", ")));
    let checks = live.checks.iter().filter(|c| !managed.checks.iter().any(|m| m.name == c.name)).map(|c| format!("check constraint {} on {table}: {}", c.name, c.expression));
    let foreign_keys = live
        .foreign_keys
        .iter()
        .filter(|f| !managed.foreign_keys.iter().any(|m| m.name == f.name))
        .map(|f| format!("foreign key {} on {table} ({}) references {} ({})", f.name, f.columns.join(", "), f.references, f.ref_columns.join(", ")));
    let exclusions = live
        .exclusions
        .iter()
        .filter(|e| !managed.exclusions.iter().any(|m| m.name == e.name))
        .map(|e| format!("exclusion constraint {} on {table} ({})", e.name, e.elements.join(", ")));
    indexes.chain(uniques).chain(checks).chain(foreign_keys).chain(exclusions).collect()
}
