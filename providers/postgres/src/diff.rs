//! Deciding what to change: each resource's live definition against its desired one (already
//! normalised), giving the action, the planned object, what forces a replacement, and the SQL.
//!
//! Only names the live object had when strata last saw it are ever dropped: the caller hands in a
//! live table already cut down to what strata manages.

use strata_provider_sdk::{Action, PlannedChange, Value};

use crate::ddl::{self, ident, literal, qualified};
use crate::model::{Column, Enum, Extension, Schema, Table, TableIndex};
use crate::normalize::{is_serial, type_alias};

/// A table's change. `normalized` is `desired` in PostgreSQL's spelling, when a shadow could be made.
pub fn table(prior: Option<&Table>, desired: &Table, normalized: Option<&Table>) -> PlannedChange {
    let Some(prior) = prior else {
        return change(Action::Create, desired.to_value(), ddl::create_table(desired));
    };
    if prior.name != desired.name {
        let mut statements = vec![format!("DROP TABLE {}", qualified(&prior.schema, &prior.name))];
        statements.extend(ddl::create_table(desired));
        let mut planned = change(Action::Replace, desired.to_value(), statements);
        planned.replace_because = vec!["name".into()];
        planned.data_loss = vec![table_dropped(prior)];
        return planned;
    }
    let compare = normalized.cloned().unwrap_or_else(|| desired.clone());
    let local = normalized.is_none();
    let mut statements = Vec::new();
    let mut table_sql = qualified(&prior.schema, &prior.name);
    if prior.schema != desired.schema {
        statements.push(format!("ALTER TABLE {table_sql} SET SCHEMA {}", ident(&desired.schema)));
        table_sql = qualified(&desired.schema, &desired.name);
    }
    let alter = |sql: String| format!("ALTER TABLE {table_sql} {sql}");
    let mut planned = desired.clone();

    // Drop what is gone or changed first, so that re-adding under the same name works.
    let pk_changed = prior.primary_key != compare.primary_key;
    if pk_changed && !prior.primary_key.is_empty() {
        statements.push(alter(format!("DROP CONSTRAINT {}", ident(&format!("{}_pkey", prior.name)))));
    }
    for fk in &prior.foreign_keys {
        if compare.foreign_keys.iter().all(|f| f != fk) {
            statements.push(alter(format!("DROP CONSTRAINT {}", ident(&fk.name))));
        }
    }
    let changed_uniques: Vec<_> = prior.uniques.iter().filter(|u| !compare.uniques.contains(u)).collect();
    statements.extend(changed_uniques.iter().map(|u| alter(format!("DROP CONSTRAINT {}", ident(&u.name)))));
    let changed_checks: Vec<_> = prior.checks.iter().filter(|c| !compare.checks.contains(c)).collect();
    statements.extend(changed_checks.iter().map(|c| alter(format!("DROP CONSTRAINT {}", ident(&c.name)))));
    for index in prior.indexes.iter().filter(|i| !compare.indexes.contains(i)) {
        statements.push(format!("DROP INDEX {}", qualified(&desired.schema, &index.name)));
    }

    let mut data_loss = Vec::new();
    for column in prior.columns.iter().filter(|c| desired.columns.iter().all(|d| d.name != c.name)) {
        statements.push(alter(format!("DROP COLUMN {}", ident(&column.name))));
        data_loss.push(format!("drops column {}.{}.{} and the data in it", prior.schema, prior.name, column.name));
    }
    let mut columns = Vec::new();
    for (wanted, normal) in desired.columns.iter().zip(&compare.columns) {
        match prior.columns.iter().find(|c| c.name == wanted.name) {
            None => {
                statements.push(alter(format!("ADD COLUMN {}", ddl::column_definition(wanted))));
                columns.push(wanted.clone());
            }
            Some(live) => {
                let (column, sql) = column_changes(live, wanted, normal, local);
                if column.type_name != live.type_name && narrows(&live.type_name, &column.type_name) {
                    data_loss.push(format!(
                        "changes column {}.{}.{} from {} to {}: values that do not fit are cut or rounded",
                        prior.schema, prior.name, live.name, live.type_name, column.type_name
                    ));
                }
                statements.extend(sql.into_iter().map(&alter));
                statements.extend(column.comment.ne(&live.comment).then(|| ddl::column_comment(&table_sql, &column)));
                columns.push(column);
            }
        }
    }
    // Keep the live column order; new columns go at the end, as ADD COLUMN puts them.
    columns.sort_by_key(|c| prior.columns.iter().position(|p| p.name == c.name).unwrap_or(usize::MAX));
    planned.columns = columns;

    if pk_changed && !compare.primary_key.is_empty() {
        statements.push(alter(format!("ADD {}", ddl::primary_key_definition(desired))));
    }
    for (unique, normal) in desired.uniques.iter().zip(&compare.uniques) {
        if !prior.uniques.contains(normal) {
            statements.push(alter(format!("ADD {}", ddl::unique_definition(unique))));
        }
    }
    for (index, check) in desired.checks.iter().enumerate() {
        match prior.checks.iter().find(|c| *c == &compare.checks[index]) {
            Some(live) => planned.checks[index] = live.clone(),
            None => statements.push(alter(format!("ADD {}", ddl::check_definition(check)))),
        }
    }
    for fk in &compare.foreign_keys {
        if !prior.foreign_keys.contains(fk) {
            statements.push(alter(format!("ADD {}", ddl::foreign_key_definition(fk))));
        }
    }
    for (position, index) in desired.indexes.iter().enumerate() {
        match prior.indexes.iter().find(|i| *i == &compare.indexes[position]) {
            Some(live) => planned.indexes[position] = live.clone(),
            None => statements.push(ddl::create_index(index, &table_sql, false)),
        }
    }
    if prior.comment != desired.comment {
        let text = desired.comment.as_deref().map_or("NULL".to_owned(), literal);
        statements.push(format!("COMMENT ON TABLE {table_sql} IS {text}"));
    }
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    PlannedChange { data_loss, ..change(action, planned.to_value(), statements) }
}

fn table_dropped(table: &Table) -> String {
    format!("drops table {}.{} and all its rows", table.schema, table.name)
}

/// Whether changing a column from type `from` to type `to` can lose data. The rule is kept
/// simple: `to` carries a length or precision (`varchar(200)`, `numeric(10,2)`, `timestamp(0)`)
/// and `from` carries none, or a larger one in any position. Casts to such a type truncate
/// strings and round numbers rather than fail.
fn narrows(from: &str, to: &str) -> bool {
    let Some(limits) = type_modifiers(to) else { return false };
    match type_modifiers(from) {
        None => true,
        Some(old) => old.iter().zip(&limits).any(|(old, new)| old > new) || limits.len() < old.len(),
    }
}

/// The numbers in a type's modifier: `numeric(10,2)` gives `[10, 2]`; `None` without one.
fn type_modifiers(type_name: &str) -> Option<Vec<u32>> {
    let (_, rest) = type_name.split_once('(')?;
    let (inside, _) = rest.split_once(')')?;
    inside.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// One column's changes, and the column as it will be (in the live spelling where unchanged).
fn column_changes(live: &Column, wanted: &Column, normal: &Column, local: bool) -> (Column, Vec<String>) {
    let name = ident(&wanted.name);
    let mut column = wanted.clone();
    let mut sql = Vec::new();
    let same_type = if local { type_alias(&live.type_name) == type_alias(&wanted.type_name) } else { live.type_name == normal.type_name };
    if same_type {
        column.type_name = live.type_name.clone();
    } else {
        sql.push(format!("ALTER COLUMN {name} TYPE {0} USING {name}::{0}", wanted.type_name));
    }
    let serial_default = is_serial(&wanted.type_name) && wanted.default.is_none() && live.default.as_deref().is_some_and(|d| d.starts_with("nextval("));
    if live.default == normal.default || serial_default {
        column.default = live.default.clone();
    } else {
        sql.push(match &wanted.default {
            Some(default) => format!("ALTER COLUMN {name} SET DEFAULT {default}"),
            None => format!("ALTER COLUMN {name} DROP DEFAULT"),
        });
    }
    if live.identity != wanted.identity {
        sql.push(match (&live.identity, &wanted.identity) {
            (None, Some(kind)) => format!("ALTER COLUMN {name} ADD GENERATED {} AS IDENTITY", kind.to_uppercase()),
            (Some(_), Some(kind)) => format!("ALTER COLUMN {name} SET GENERATED {}", kind.to_uppercase()),
            _ => format!("ALTER COLUMN {name} DROP IDENTITY"),
        });
    }
    if live.nullable == normal.nullable {
        column.nullable = live.nullable;
    } else {
        sql.push(format!("ALTER COLUMN {name} {} NOT NULL", if normal.nullable { "DROP" } else { "SET" }));
    }
    (column, sql)
}

pub fn table_index(prior: Option<&TableIndex>, desired: &TableIndex, normalized: Option<&TableIndex>) -> PlannedChange {
    let create = ddl::create_table_index(desired);
    let Some(prior) = prior else {
        return change(Action::Create, desired.to_value(), vec![create]);
    };
    let compare = normalized.unwrap_or(desired);
    let mut because = Vec::new();
    let fields: [(&str, bool); 7] = [
        ("name", prior.index.name != compare.index.name),
        ("schema", prior.schema != compare.schema),
        ("table", prior.table != compare.table),
        ("columns", prior.index.columns != compare.index.columns),
        ("unique", prior.index.unique != compare.index.unique),
        ("using", prior.index.using != compare.index.using),
        ("where", prior.index.predicate != compare.index.predicate),
    ];
    because.extend(fields.iter().filter(|(_, differs)| *differs).map(|(name, _)| (*name).to_owned()));
    if prior.index.include != compare.index.include {
        because.push("include".into());
    }
    let mut warnings = Vec::new();
    if !prior.valid {
        because.push("valid".into());
        warnings.push(format!("index {} is invalid (left by a failed concurrent build); it will be rebuilt", prior.index.name));
    }
    if because.is_empty() {
        let kept = TableIndex { concurrently: desired.concurrently, ..prior.clone() };
        return change(Action::NoOp, kept.to_value(), vec![]);
    }
    let mut planned = change(Action::Replace, desired.to_value(), vec![ddl::drop_table_index(prior, desired.concurrently), create]);
    planned.replace_because = because;
    planned.warnings = warnings;
    planned
}

pub fn enumeration(prior: Option<&Enum>, desired: &Enum) -> PlannedChange {
    let create = ddl::create_enum(desired);
    let Some(prior) = prior else {
        return change(Action::Create, desired.to_value(), vec![create]);
    };
    let type_sql = qualified(&prior.schema, &prior.name);
    let identity_changed = prior.schema != desired.schema || prior.name != desired.name;
    let kept_in_order = desired.values.iter().filter(|v| prior.values.contains(v)).eq(prior.values.iter());
    if identity_changed || !kept_in_order {
        let mut planned = change(Action::Replace, desired.to_value(), vec![format!("DROP TYPE {type_sql}"), create]);
        planned.replace_because = if identity_changed { vec!["name".into()] } else { vec!["values".into()] };
        planned.data_loss = enum_replaced(prior, desired);
        return planned;
    }
    let statements: Vec<String> = desired
        .values
        .iter()
        .enumerate()
        .filter(|(_, v)| !prior.values.contains(v))
        .map(|(i, value)| match (i.checked_sub(1).map(|p| &desired.values[p]), prior.values.first()) {
            (Some(previous), _) => format!("ALTER TYPE {type_sql} ADD VALUE {} AFTER {}", literal(value), literal(previous)),
            (None, Some(first)) => format!("ALTER TYPE {type_sql} ADD VALUE {} BEFORE {}", literal(value), literal(first)),
            (None, None) => format!("ALTER TYPE {type_sql} ADD VALUE {}", literal(value)),
        })
        .collect();
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    change(action, desired.to_value(), statements)
}

/// What replacing an enum loses: each value it drops, or else the type itself (DROP TYPE).
fn enum_replaced(prior: &Enum, desired: &Enum) -> Vec<String> {
    let id = format!("{}.{}", prior.schema, prior.name);
    let dropped: Vec<String> = prior.values.iter().filter(|v| !desired.values.contains(v)).map(|v| format!("drops value '{v}' of enum {id}: rows holding it cannot keep it")).collect();
    if dropped.is_empty() {
        return vec![format!("drops enum {id} and creates it again: columns of that type block the drop or lose their data")];
    }
    dropped
}

pub fn schema(prior: Option<&Schema>, desired: &Schema) -> PlannedChange {
    let Some(prior) = prior else {
        return change(Action::Create, with_computed(desired.to_value(), "owner"), vec![ddl::create_schema(desired)]);
    };
    if prior.name != desired.name {
        let mut planned = change(Action::Replace, desired.to_value(), vec![format!("DROP SCHEMA {}", ident(&prior.name)), ddl::create_schema(desired)]);
        planned.replace_because = vec!["name".into()];
        return planned;
    }
    match &desired.owner {
        Some(owner) if prior.owner.as_ref() != Some(owner) => {
            change(Action::Update, desired.to_value(), vec![format!("ALTER SCHEMA {} OWNER TO {}", ident(&prior.name), ident(owner))])
        }
        _ => change(Action::NoOp, prior.to_value(), vec![]),
    }
}

pub fn extension(prior: Option<&Extension>, desired: &Extension) -> PlannedChange {
    let Some(prior) = prior else {
        let value = with_computed(with_computed(desired.to_value(), "schema"), "version");
        return change(Action::Create, value, vec![ddl::create_extension(desired)]);
    };
    let name = ident(&prior.name);
    let mut statements = Vec::new();
    let mut planned = prior.clone();
    if let Some(schema) = desired.schema.as_ref().filter(|s| prior.schema.as_ref() != Some(*s)) {
        statements.push(format!("ALTER EXTENSION {name} SET SCHEMA {}", ident(schema)));
        planned.schema = Some(schema.clone());
    }
    if let Some(version) = desired.version.as_ref().filter(|v| prior.version.as_ref() != Some(*v)) {
        statements.push(format!("ALTER EXTENSION {name} UPDATE TO {}", literal(version)));
        planned.version = Some(version.clone());
    }
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    change(action, planned.to_value(), statements)
}

/// Marks an attribute the configuration left unset as known only after apply.
fn with_computed(mut value: Value, key: &str) -> Value {
    if value.get(key).is_none_or(Value::is_null) {
        value.set(key, Value::Unknown);
    }
    value
}

fn change(action: Action, planned: Value, operations: Vec<String>) -> PlannedChange {
    PlannedChange { operations, ..PlannedChange::new(action, planned) }
}

/// What deleting an object will run and lose.
pub fn plan_delete(type_name: &str, prior: &Value) -> Result<PlannedChange, strata_provider_sdk::ProviderError> {
    let mut planned = change(Action::Delete, Value::Null, drop_statements(type_name, prior)?);
    if type_name == "postgres_table" {
        planned.data_loss = vec![table_dropped(&Table::from_value(prior)?)];
    }
    Ok(planned)
}

/// The statements that delete an object.
pub fn drop_statements(type_name: &str, prior: &Value) -> Result<Vec<String>, strata_provider_sdk::ProviderError> {
    Ok(match type_name {
        "postgres_table" => {
            let table = Table::from_value(prior)?;
            vec![format!("DROP TABLE {}", qualified(&table.schema, &table.name))]
        }
        "postgres_index" => {
            let index = TableIndex::from_value(prior)?;
            vec![ddl::drop_table_index(&index, index.concurrently)]
        }
        "postgres_enum" => {
            let e = Enum::from_value(prior)?;
            vec![format!("DROP TYPE {}", qualified(&e.schema, &e.name))]
        }
        "postgres_schema" => vec![format!("DROP SCHEMA {}", ident(&Schema::from_value(prior)?.name))],
        "postgres_extension" => vec![format!("DROP EXTENSION {}", ident(&Extension::from_value(prior)?.name))],
        other => return Err(strata_provider_sdk::ProviderError::new(format!("unknown resource type {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(values: &[&str]) -> Enum {
        Enum { schema: "public".into(), name: "status".into(), values: values.iter().map(|v| (*v).to_owned()).collect() }
    }

    #[test]
    fn enum_values_are_added_in_place_and_reordering_replaces() {
        let added = enumeration(Some(&status(&["b", "d"])), &status(&["a", "b", "c", "d", "e"]));
        assert_eq!(added.action, Action::Update);
        assert_eq!(
            added.operations,
            [
                "ALTER TYPE \"public\".\"status\" ADD VALUE 'a' BEFORE 'b'",
                "ALTER TYPE \"public\".\"status\" ADD VALUE 'c' AFTER 'b'",
                "ALTER TYPE \"public\".\"status\" ADD VALUE 'e' AFTER 'd'",
            ]
        );
        assert_eq!(enumeration(Some(&status(&[])), &status(&["a"])).operations, ["ALTER TYPE \"public\".\"status\" ADD VALUE 'a'"]);
        let reordered = enumeration(Some(&status(&["a", "b"])), &status(&["b", "a"]));
        assert_eq!((reordered.action, reordered.replace_because), (Action::Replace, vec!["values".to_owned()]));
        let removed = enumeration(Some(&status(&["a", "b"])), &status(&["b"]));
        assert_eq!(removed.data_loss, ["drops value 'a' of enum public.status: rows holding it cannot keep it"]);
    }

    #[test]
    fn narrowing_type_changes_are_data_loss() {
        assert!(narrows("text", "character varying(200)"));
        assert!(narrows("character varying(300)", "character varying(200)"));
        assert!(narrows("numeric(12,4)", "numeric(12,2)"));
        assert!(!narrows("character varying(200)", "character varying(300)"));
        assert!(!narrows("character varying(200)", "text"));
        assert!(!narrows("integer", "bigint"));
    }
}
