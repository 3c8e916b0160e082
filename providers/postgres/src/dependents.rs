//! Views and materialized views that read a column a table change drops or retypes: PostgreSQL
//! refuses `ALTER COLUMN ... TYPE` and `DROP COLUMN` under them, so the change drops them first
//! and creates them again from their live definition after it, in the same transaction, and the
//! plan says so.
//!
//! Only views strata manages (named by this run's refresh) are dropped and re-created; one it
//! does not manage fails the plan, naming it, before anything runs. It reads the catalog only.

use std::collections::BTreeSet;

use strata_provider_sdk::{PlannedChange, ProviderError, Value};

use crate::catalog::{query, Catalog};
use crate::ddl::{literal, qualified};
use crate::model::Table;

/// The kinds whose objects can read a table's columns.
pub const VIEW_KINDS: [&str; 2] = ["postgres_view", "postgres_materialized_view"];

/// `planned` (the change of `live` to `desired`) with the dependent views of the columns it
/// drops or retypes dropped before it and created again after it.
pub async fn around(catalog: &Catalog<'_>, live: &Table, desired: &Table, planned: PlannedChange, managed: &BTreeSet<String>) -> Result<PlannedChange, ProviderError> {
    let changed = changed_columns(live, &Table::from_value(&planned.planned)?);
    if changed.is_empty() || desired.partitioning.of.is_some() {
        return Ok(planned);
    }
    let dependents = reading(catalog, live, &changed).await?;
    if dependents.is_empty() {
        return Ok(planned);
    }
    if let Some((view, column)) = dependents.iter().find(|(view, _)| !managed.contains(view)) {
        return Err(ProviderError::new(format!("column {}.{column} is read by view {view}, which strata does not manage: PostgreSQL cannot change the column under it", live.id()))
            .with_hint(format!("drop or change {view} first, or manage it (strata import) so strata re-creates it around the change")));
    }
    let views: BTreeSet<&String> = dependents.iter().map(|(view, _)| view).collect();
    let mut drops = Vec::new();
    let mut creates = Vec::new();
    let mut planned = planned;
    for kind in VIEW_KINDS.iter().filter_map(|name| crate::objects::kind(name)) {
        let live_views = kind.read(catalog).await?;
        for (id, view) in live_views.iter().filter(|(id, _)| views.contains(id)) {
            drops.extend(kind.drop_statements(view)?);
            creates.extend(kind.plan(None, None, view).await?.operations);
            let columns: Vec<&str> = dependents.iter().filter(|(v, _)| v == id).map(|(_, c)| c.as_str()).collect();
            planned.warnings.push(format!("drops and re-creates {id} around the change, in the same transaction: it reads {} of {}; privileges granted on it must be granted again", columns.join(", "), live.id()));
            planned.locking.push(format!("{id} is dropped and re-created: queries of it wait for the change"));
        }
    }
    let operations = std::mem::take(&mut planned.operations);
    planned.operations = drops.into_iter().chain(operations).chain(creates).collect();
    Ok(planned)
}

/// The live columns the change drops or gives another type or collation.
fn changed_columns(live: &Table, planned: &Table) -> Vec<String> {
    live.columns
        .iter()
        .filter(|column| match planned.columns.iter().find(|c| c.name == column.name) {
            None => true,
            Some(after) => after.type_name != column.type_name || after.collation != column.collation || after.generated != column.generated,
        })
        .map(|column| column.name.clone())
        .collect()
}

/// (view `schema.name`, column) for every view or materialized view reading one of `columns`.
async fn reading(catalog: &Catalog<'_>, table: &Table, columns: &[String]) -> Result<Vec<(String, String)>, ProviderError> {
    let names = columns.iter().map(|c| literal(c)).collect::<Vec<_>>().join(", ");
    let relation = literal(&qualified(&table.schema, &table.name));
    let rows = query(
        catalog,
        &format!(
            "SELECT DISTINCT vn.nspname || '.' || v.relname, a.attname::text FROM pg_depend d \
             JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid \
             JOIN pg_class v ON v.oid = r.ev_class JOIN pg_namespace vn ON vn.oid = v.relnamespace \
             JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
             WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass({relation}) AND v.oid <> d.refobjid \
             AND v.relkind IN ('v', 'm') AND a.attname = ANY (ARRAY[{names}]::text[]) ORDER BY 1, 2"
        ),
    )
    .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// The ids of the views among `requests`' states, the ones a change may drop and re-create.
pub fn managed_views<'a>(requests: impl Iterator<Item = (&'a str, &'a Value)>) -> BTreeSet<String> {
    requests.filter(|(type_name, _)| VIEW_KINDS.contains(type_name)).filter_map(|(_, state)| state.get_str("id").map(str::to_owned)).collect()
}
