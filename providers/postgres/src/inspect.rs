//! `strata inspect` for PostgreSQL: every object of the schemas asked for, in the shape a
//! configuration declares it, read from one catalog snapshot plus a fixed number of queries (the
//! sequences serial columns own, what partitions inherit, what each object needs first, and the
//! objects no resource type declares yet).
//!
//! A column whose default draws from the sequence it owns under the name `serial` gives it
//! (`orders_id_seq`, default settings) is written as `serial`/`bigserial`, which makes exactly
//! that sequence again. Objects that cannot be declared are listed, never silently left out. It
//! reads only.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{InspectScope, Inspected, Inspection, ProviderError, Value};

use crate::catalog::{query, Catalog, Snapshot};
use crate::model::Table;

/// Extensions every database has: declaring them would only fail.
const BUILT_IN_EXTENSIONS: &[&str] = &["plpgsql"];
/// Schemas every database has.
const BUILT_IN_SCHEMAS: &[&str] = &["public"];

pub async fn inspect(catalog: &Catalog<'_>, snapshot: &Snapshot, scope: &InspectScope) -> Result<Inspection, ProviderError> {
    let wanted = |namespace: &str| scope.namespaces.is_empty() || scope.namespaces.iter().any(|n| n == namespace);
    check_namespaces(snapshot, scope)?;
    let undeclarable = undeclarable(catalog).await?;
    let serials = serial_sequences(catalog).await?;
    let inherited = inherited_by_partitions(catalog).await?;
    let mut objects = Vec::new();
    for schema in snapshot.schemas.values().filter(|s| wanted(&s.name) && !BUILT_IN_SCHEMAS.contains(&s.name.as_str())) {
        objects.push(object("postgres_schema", &schema.name, &schema.name, &schema.name, schema.to_value()));
    }
    for extension in snapshot.extensions.values().filter(|e| !BUILT_IN_EXTENSIONS.contains(&e.name.as_str())) {
        let namespace = extension.schema.clone().unwrap_or_else(|| "public".into());
        if wanted(&namespace) {
            objects.push(object("postgres_extension", &namespace, &extension.name, &extension.name, extension.to_value()));
        }
    }
    for found in snapshot.enums.values().filter(|e| wanted(&e.schema)) {
        objects.push(object("postgres_enum", &found.schema, &found.name, &found.id(), found.to_value()));
    }
    for table in snapshot.tables.values().filter(|t| wanted(&t.schema)) {
        objects.push(object("postgres_table", &table.schema, &table.name, &table.id(), as_declared(table, &serials, &inherited).to_value()));
    }
    let made_by_extensions = extension_members(catalog).await?;
    // Privileges are not objects of their own: `strata inspect` does not write grants (yet).
    for (type_name, live) in snapshot.objects.iter().filter(|(type_name, _)| !crate::objects::privileges_kind(type_name)) {
        for (id, value) in live.iter().filter(|(id, _)| !made_by_extensions.contains(*id) && !owned_by_serial(id, &serials)) {
            let namespace = value.get_str("schema").map_or_else(|| id.split('.').next().unwrap_or_default().to_owned(), str::to_owned);
            if wanted(&namespace) {
                objects.push(object(type_name, &namespace, value.get_str("name").unwrap_or(id), id, declared_only(value)));
            }
        }
    }
    let needs = dependencies(catalog).await?;
    for object in &mut objects {
        object.depends_on = needs.get(&object.import_id).map(|ids| ids.iter().cloned().collect()).unwrap_or_default();
    }
    let mut unsupported: Vec<(String, String)> = undeclarable.into_iter().filter(|(namespace, _)| wanted(namespace)).collect();
    for (column, sequence) in serials.iter().filter_map(|(column, serial)| serial.as_ref().err().map(|sequence| (column, sequence))) {
        let namespace = sequence.split('.').next().unwrap_or_default().to_owned();
        if wanted(&namespace) {
            unsupported.push((namespace, format!("sequence {sequence}, owned by {column} (not serial's own settings)")));
        }
    }
    Ok(Inspection { objects, unsupported })
}

/// A `-schema` that names no schema is a typo: said before anything is written.
fn check_namespaces(snapshot: &Snapshot, scope: &InspectScope) -> Result<(), ProviderError> {
    if let Some(namespace) = scope.namespaces.iter().find(|n| !snapshot.schemas.contains_key(*n)) {
        let closest = snapshot.schemas.keys().max_by(|a, b| strsim::jaro_winkler(a, namespace).total_cmp(&strsim::jaro_winkler(b, namespace)));
        let hint = closest.map(|c| format!("did you mean {c}? ")).unwrap_or_default();
        return Err(ProviderError::new(format!("the database has no schema \"{namespace}\"")).with_hint(format!("{hint}the schemas are: {}", snapshot.schemas.keys().cloned().collect::<Vec<_>>().join(", "))));
    }
    Ok(())
}

fn object(type_name: &str, namespace: &str, name: &str, import_id: &str, value: Value) -> Inspected {
    Inspected { type_name: type_name.into(), name: name.into(), namespace: namespace.into(), import_id: import_id.into(), value, depends_on: vec![] }
}

/// The sequences serial columns own: by column (`schema.table.column`), its integer type when the
/// sequence is the one `serial` makes with its default settings, else the sequence to list.
async fn serial_sequences(catalog: &Catalog<'_>) -> Result<BTreeMap<String, Result<String, String>>, ProviderError> {
    let rows = query(
        catalog,
        "SELECT tn.nspname || '.' || t.relname || '.' || a.attname, format_type(s.seqtypid, NULL), \
         (s.seqstart = 1 AND s.seqincrement = 1 AND s.seqmin = 1 AND s.seqcache = 1 AND NOT s.seqcycle \
          AND s.seqmax = CASE format_type(s.seqtypid, NULL) WHEN 'smallint' THEN 32767 WHEN 'integer' THEN 2147483647 ELSE 9223372036854775807 END \
          AND sc.relname = t.relname || '_' || a.attname || '_seq' AND sc.relnamespace = t.relnamespace), \
         sn.nspname || '.' || sc.relname \
         FROM pg_depend d JOIN pg_class sc ON sc.oid = d.objid AND sc.relkind = 'S' JOIN pg_namespace sn ON sn.oid = sc.relnamespace \
         JOIN pg_sequence s ON s.seqrelid = sc.oid \
         JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid \
         WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'",
    )
    .await?;
    Ok(rows.iter().map(|row| (row.get(0), if row.get::<_, bool>(2) { Ok(row.get(1)) } else { Err(row.get(3)) })).collect())
}

/// A table as it is declared: a partition without what it takes from its parent (columns, key,
/// the constraints and indexes PostgreSQL copies onto it), serial columns as serials.
fn as_declared(table: &Table, serials: &BTreeMap<String, Result<String, String>>, inherited: &BTreeSet<(String, String)>) -> Table {
    let mut table = with_serials(table, serials);
    let id = table.id();
    let own = |name: &String| !inherited.contains(&(id.clone(), name.clone()));
    table.indexes.retain(|i| own(&i.name));
    table.uniques.retain(|u| own(&u.name));
    table.checks.retain(|c| own(&c.name));
    table.foreign_keys.retain(|f| own(&f.name));
    table.exclusions.retain(|e| own(&e.name));
    for column in &mut table.columns {
        // An identity counting from 1 by 1 is what `identity` alone makes.
        if (column.identity_start, column.identity_increment) == (Some(1), Some(1)) {
            (column.identity_start, column.identity_increment) = (None, None);
        }
    }
    if table.partitioning.of.is_some() {
        table.columns.clear();
        table.primary_key.clear();
    }
    table
}

/// What each object needs to exist before it, by identity (`schema.name`, a function's
/// `schema.name(argument types)`), from `pg_depend`: the types a table's columns have, the relations
/// and functions a view reads, what defaults, checks and triggers call. The dependency of a column,
/// default, rule, constraint or trigger counts as its relation's (a domain's check as its type's).
async fn dependencies(catalog: &Catalog<'_>) -> Result<BTreeMap<String, BTreeSet<String>>, ProviderError> {
    let rows = query(catalog, DEPENDENCIES).await?;
    let mut needs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in rows {
        let referenced: String = row.get(1);
        needs.entry(row.get(0)).or_default().insert(referenced.trim_end_matches("[]").to_owned());
    }
    Ok(needs)
}

const DEPENDENCIES: &str = "\
SELECT DISTINCT dep.identity, ref.identity FROM pg_depend d \
CROSS JOIN LATERAL (SELECT CASE d.classid \
    WHEN 'pg_attrdef'::regclass THEN (SELECT adrelid FROM pg_attrdef WHERE oid = d.objid) \
    WHEN 'pg_rewrite'::regclass THEN (SELECT ev_class FROM pg_rewrite WHERE oid = d.objid) \
    WHEN 'pg_constraint'::regclass THEN (SELECT CASE WHEN conrelid <> 0 THEN conrelid ELSE contypid END FROM pg_constraint WHERE oid = d.objid) \
    WHEN 'pg_trigger'::regclass THEN (SELECT tgrelid FROM pg_trigger WHERE oid = d.objid) ELSE d.objid END AS oid, \
  CASE WHEN d.classid IN ('pg_attrdef'::regclass, 'pg_rewrite'::regclass, 'pg_trigger'::regclass) THEN 'pg_class'::regclass \
    WHEN d.classid = 'pg_constraint'::regclass THEN (SELECT CASE WHEN conrelid <> 0 THEN 'pg_class'::regclass ELSE 'pg_type'::regclass END FROM pg_constraint WHERE oid = d.objid) \
    ELSE d.classid END AS class) owner \
CROSS JOIN LATERAL pg_identify_object(owner.class, owner.oid, 0) dep \
CROSS JOIN LATERAL pg_identify_object(d.refclassid, d.refobjid, 0) ref \
WHERE d.deptype = 'n' \
  AND d.classid IN ('pg_class'::regclass, 'pg_attrdef'::regclass, 'pg_rewrite'::regclass, 'pg_constraint'::regclass, 'pg_trigger'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass) \
  AND dep.schema IS NOT NULL AND dep.schema NOT IN ('pg_catalog', 'information_schema') \
  AND ref.schema IS NOT NULL AND ref.schema NOT IN ('pg_catalog', 'information_schema') AND dep.identity <> ref.identity";

/// The indexes and constraints (by table and name) that partitions have from their parents.
async fn inherited_by_partitions(catalog: &Catalog<'_>) -> Result<BTreeSet<(String, String)>, ProviderError> {
    let rows = query(
        catalog,
        "SELECT n.nspname || '.' || c.relname, ic.relname::text FROM pg_inherits i JOIN pg_class ic ON ic.oid = i.inhrelid AND ic.relkind = 'i' \
         JOIN pg_index x ON x.indexrelid = ic.oid JOIN pg_class c ON c.oid = x.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         UNION ALL SELECT n.nspname || '.' || c.relname, con.conname::text FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE con.conparentid <> 0 OR NOT con.conislocal",
    )
    .await?;
    Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
}

/// Whether the sequence `id` is one a serial column makes (the column is written as serial).
fn owned_by_serial(id: &str, serials: &BTreeMap<String, Result<String, String>>) -> bool {
    serials.iter().any(|(column, serial)| serial.is_ok() && serial_sequence_of(column) == id)
}

/// `schema.table.column` to the sequence `serial` names for it: `schema.table_column_seq`.
fn serial_sequence_of(column: &str) -> String {
    let mut parts = column.splitn(3, '.');
    let (schema, table, name) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    format!("{schema}.{table}_{name}_seq")
}

/// A live object's value without `id` (computed, never declared).
fn declared_only(value: &Value) -> Value {
    let mut value = value.clone();
    value.set("id", Value::Null);
    value
}

/// The identities of everything extensions made (their functions, types, tables): they come with
/// `CREATE EXTENSION`, never declared one by one.
async fn extension_members(catalog: &Catalog<'_>) -> Result<BTreeSet<String>, ProviderError> {
    let rows = query(catalog, "SELECT (pg_identify_object(classid, objid, 0)).identity FROM pg_depend WHERE deptype = 'e'").await?;
    Ok(rows.iter().filter_map(|row| row.get::<_, Option<String>>(0)).collect())
}

/// `table` with its serial columns spelled `serial`, `bigserial` or `smallserial` and no default.
fn with_serials(table: &Table, serials: &BTreeMap<String, Result<String, String>>) -> Table {
    let mut table = table.clone();
    let id = table.id();
    for column in &mut table.columns {
        let Some(Ok(integer)) = serials.get(&format!("{id}.{}", column.name)) else { continue };
        let serial = match integer.as_str() {
            "smallint" => "smallserial",
            "integer" => "serial",
            _ => "bigserial",
        };
        if column.type_name == *integer && column.default.as_deref().is_some_and(|d| d.starts_with("nextval(")) {
            column.type_name = serial.into();
            column.default = None;
        }
    }
    table
}

/// Every object of the user schemas that is not one of the kinds this provider declares, as
/// (schema, what it is), except what an extension made and the sequences serial and identity
/// columns own.
async fn undeclarable(catalog: &Catalog<'_>) -> Result<Vec<(String, String)>, ProviderError> {
    let rows = query(catalog, UNDECLARABLE).await?;
    Ok(rows
        .iter()
        .map(|row| {
            let (namespace, kind, name): (String, String, String) = (row.get(0), row.get(1), row.get(2));
            (namespace.clone(), format!("{kind} {namespace}.{name}"))
        })
        .collect())
}

const UNDECLARABLE: &str = "\
WITH user_ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp)'), \
extension_members AS (SELECT classid, objid FROM pg_depend WHERE deptype = 'e') \
SELECT n.nspname, 'foreign table', c.relname::text \
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace \
WHERE c.relkind = 'f' AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid) \
UNION ALL \
SELECT n.nspname, CASE p.prokind WHEN 'a' THEN 'aggregate' ELSE 'window function' END, \
  p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' \
FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace \
WHERE p.prokind IN ('a', 'w') AND NOT EXISTS (SELECT 1 FROM extension_members e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid) \
UNION ALL \
SELECT n.nspname, 'policy', p.polname || ' on ' || c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN user_ns n ON n.oid = c.relnamespace \
UNION ALL \
SELECT n.nspname, 'rule', r.rulename || ' on ' || c.relname FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN user_ns n ON n.oid = c.relnamespace \
WHERE r.rulename <> '_RETURN' \
ORDER BY 1, 2, 3";
