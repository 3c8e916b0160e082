//! SQL text for every change this provider makes. Identifiers are always quoted; types, defaults
//! and expressions are the user's SQL and go in as written.

use crate::model::{split_exclusion_element, Check, Column, Deferral, Enum, Exclusion, Extension, ForeignKey, Index, Schema, Table, TableIndex, Unique};
use crate::normalize::is_serial;

/// `name` as a quoted identifier.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `schema.name` with both parts quoted; a name that is already `schema.name` is split.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// A `schema.table` reference as quoted SQL.
pub fn qualified_ref(reference: &str) -> String {
    match reference.split_once('.') {
        Some((schema, name)) => qualified(schema, name),
        None => ident(reference),
    }
}

/// A string literal.
pub fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn ident_list(names: &[String]) -> String {
    names.iter().map(|n| ident(n)).collect::<Vec<_>>().join(", ")
}

fn is_plain_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase() || c == '_') && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
}

/// One element of an index's column list: a column (quoted), an already quoted column, or an
/// expression (parenthesised), with any `DESC`/`NULLS` ordering kept after it.
pub fn index_element(entry: &str) -> String {
    let mut core = entry.trim();
    let mut suffix = Vec::new();
    for word in ["NULLS FIRST", "NULLS LAST", "DESC", "ASC"] {
        let upper = core.to_uppercase();
        if upper.ends_with(&format!(" {word}")) {
            suffix.insert(0, word);
            core = core[..core.len() - word.len()].trim_end();
        }
    }
    let core_sql = if is_plain_identifier(core) {
        ident(core)
    } else if core.starts_with('"') && core.ends_with('"') && core.len() > 1 {
        core.to_owned()
    } else {
        format!("({core})")
    };
    std::iter::once(core_sql).chain(suffix.into_iter().map(str::to_owned)).collect::<Vec<_>>().join(" ")
}

pub fn column_definition(column: &Column) -> String {
    let mut sql = format!("{} {}", ident(&column.name), column.type_name);
    if let Some(compression) = &column.compression {
        sql.push_str(&format!(" COMPRESSION {compression}"));
    }
    sql.push_str(&collate_clause(column));
    if let Some(identity) = &column.identity {
        sql.push_str(&format!(" GENERATED {} AS IDENTITY{}", identity.to_uppercase(), identity_options(column)));
    }
    if let Some(expression) = &column.generated {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
    }
    // A serial pseudo-type makes its own default (its sequence's nextval): PostgreSQL refuses a second.
    if let Some(default) = column.default.as_ref().filter(|_| !is_serial(&column.type_name)) {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if !column.nullable {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// ` COLLATE "C"`, or nothing for the type's default collation.
pub fn collate_clause(column: &Column) -> String {
    column.collation.as_ref().map(|c| format!(" COLLATE {}", ident(c))).unwrap_or_default()
}

/// ` (START WITH 1000 INCREMENT BY 10)` for an identity column that sets either.
pub fn identity_options(column: &Column) -> String {
    let options: Vec<String> =
        [column.identity_start.map(|n| format!("START WITH {n}")), column.identity_increment.map(|n| format!("INCREMENT BY {n}"))].into_iter().flatten().collect();
    if options.is_empty() {
        String::new()
    } else {
        format!(" ({})", options.join(" "))
    }
}

/// `ALTER COLUMN ... SET STORAGE` (for an `ALTER TABLE`): PostgreSQL 15's CREATE TABLE cannot say it.
pub fn set_storage(column: &Column) -> Option<String> {
    column.storage.as_ref().map(|storage| format!("ALTER COLUMN {} SET STORAGE {storage}", ident(&column.name)))
}

/// What follows a constraint's definition for its timing: nothing for the default.
fn deferral_clause(deferral: Deferral) -> &'static str {
    match (deferral.deferrable, deferral.initially_deferred) {
        (false, _) => "",
        (true, false) => " DEFERRABLE",
        (true, true) => " DEFERRABLE INITIALLY DEFERRED",
    }
}

/// The timing as `ALTER CONSTRAINT` sets it, every part spelled out.
pub fn alter_deferral(name: &str, deferral: Deferral) -> String {
    let timing = match (deferral.deferrable, deferral.initially_deferred) {
        (false, _) => "NOT DEFERRABLE",
        (true, false) => "DEFERRABLE INITIALLY IMMEDIATE",
        (true, true) => "DEFERRABLE INITIALLY DEFERRED",
    };
    format!("ALTER CONSTRAINT {} {timing}", ident(name))
}

pub fn unique_definition(unique: &Unique) -> String {
    format!("CONSTRAINT {} UNIQUE ({}){}", ident(&unique.name), ident_list(&unique.columns), deferral_clause(unique.deferral))
}

pub fn exclusion_definition(exclusion: &Exclusion) -> String {
    let elements: Vec<String> = exclusion
        .elements
        .iter()
        .map(|element| match split_exclusion_element(element) {
            Some((core, operator)) => format!("{} WITH {operator}", index_element(core)),
            None => element.clone(),
        })
        .collect();
    let predicate = exclusion.predicate.as_ref().map(|p| format!(" WHERE ({p})")).unwrap_or_default();
    format!("CONSTRAINT {} EXCLUDE USING {} ({}){predicate}{}", ident(&exclusion.name), exclusion.using, elements.join(", "), deferral_clause(exclusion.deferral))
}

pub fn check_definition(check: &Check) -> String {
    format!("CONSTRAINT {} CHECK ({})", ident(&check.name), check.expression)
}

pub fn foreign_key_definition(fk: &ForeignKey) -> String {
    let full = if fk.match_type == "FULL" { " MATCH FULL" } else { "" };
    format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}){full} ON DELETE {} ON UPDATE {}{}",
        ident(&fk.name),
        ident_list(&fk.columns),
        qualified_ref(&fk.references),
        ident_list(&fk.ref_columns),
        fk.on_delete,
        fk.on_update,
        deferral_clause(fk.deferral)
    )
}

pub fn primary_key_definition(table: &Table) -> String {
    format!("CONSTRAINT {} PRIMARY KEY ({})", ident(&crate::model::truncate_identifier(format!("{}_pkey", table.name))), ident_list(&table.primary_key))
}

/// `CREATE TABLE` with every column and constraint; `name_sql` is the (qualified) table name.
pub fn create_table_named(table: &Table, name_sql: &str, temporary: bool) -> String {
    let mut parts: Vec<String> = table.columns.iter().map(column_definition).collect();
    if !table.primary_key.is_empty() {
        parts.push(primary_key_definition(table));
    }
    parts.extend(table.uniques.iter().map(unique_definition));
    parts.extend(table.checks.iter().map(check_definition));
    parts.extend(table.exclusions.iter().map(exclusion_definition));
    if !temporary {
        parts.extend(table.foreign_keys.iter().map(foreign_key_definition));
    }
    let body = parts.iter().map(|p| format!("  {p}")).collect::<Vec<_>>().join(",\n");
    let kind = if temporary { "TEMPORARY TABLE" } else { "TABLE" };
    let partitioned = table.partitioning.by.as_ref().map(crate::partitions::partition_by_clause).unwrap_or_default();
    format!("CREATE {kind} {name_sql} (\n{body}\n){partitioned}")
}

/// Everything that creates `table`: the table, then its indexes and comments.
pub fn create_table(table: &Table) -> Vec<String> {
    let name = qualified(&table.schema, &table.name);
    let create = match (&table.partitioning.of, &table.partitioning.bound) {
        (Some(parent), Some(bound)) => crate::partitions::create_partition(&name, parent, bound),
        _ => create_table_named(table, &name, false),
    };
    let mut statements = vec![create];
    statements.extend(column_storage(table, &name));
    statements.extend(table.indexes.iter().map(|index| create_index(index, &name, false)));
    statements.extend(table_comments(table, &name));
    statements
}

/// The `SET STORAGE` statements of `table`'s columns, once it is created as `name_sql`.
pub fn column_storage(table: &Table, name_sql: &str) -> Vec<String> {
    table.columns.iter().filter_map(set_storage).map(|sql| format!("ALTER TABLE {name_sql} {sql}")).collect()
}

pub fn table_comments(table: &Table, name_sql: &str) -> Vec<String> {
    let mut statements: Vec<String> = table.comment.iter().map(|c| format!("COMMENT ON TABLE {name_sql} IS {}", literal(c))).collect();
    for column in table.columns.iter().filter(|c| c.comment.is_some()) {
        statements.push(column_comment(name_sql, column));
    }
    statements
}

pub fn column_comment(table_sql: &str, column: &Column) -> String {
    let text = column.comment.as_deref().map_or("NULL".to_owned(), literal);
    format!("COMMENT ON COLUMN {table_sql}.{} IS {text}", ident(&column.name))
}

/// `CREATE INDEX` on `table_sql`; PostgreSQL puts the index in the table's schema.
pub fn create_index(index: &Index, table_sql: &str, concurrently: bool) -> String {
    let mut sql = format!(
        "CREATE {}INDEX {}{} ON {table_sql} USING {} ({})",
        if index.unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        ident(&index.name),
        index.using,
        index.columns.iter().map(|c| index_element(c)).collect::<Vec<_>>().join(", ")
    );
    if !index.include.is_empty() {
        sql.push_str(&format!(" INCLUDE ({})", index.include.iter().map(|c| index_element(c)).collect::<Vec<_>>().join(", ")));
    }
    if let Some(predicate) = &index.predicate {
        sql.push_str(&format!(" WHERE {predicate}"));
    }
    sql
}

pub fn create_table_index(index: &TableIndex) -> String {
    create_index(&index.index, &qualified_ref(&index.table), index.concurrently)
}

pub fn drop_table_index(index: &TableIndex, concurrently: bool) -> String {
    format!("DROP INDEX {}{}", if concurrently { "CONCURRENTLY IF EXISTS " } else { "" }, qualified(&index.schema, &index.index.name))
}

pub fn create_enum(e: &Enum) -> String {
    format!("CREATE TYPE {} AS ENUM ({})", qualified(&e.schema, &e.name), e.values.iter().map(|v| literal(v)).collect::<Vec<_>>().join(", "))
}

pub fn create_schema(schema: &Schema) -> String {
    let owner = schema.owner.as_ref().map(|o| format!(" AUTHORIZATION {}", ident(o))).unwrap_or_default();
    format!("CREATE SCHEMA {}{owner}", ident(&schema.name))
}

pub fn create_extension(extension: &Extension) -> String {
    let mut sql = format!("CREATE EXTENSION {}", ident(&extension.name));
    if let Some(schema) = &extension.schema {
        sql.push_str(&format!(" SCHEMA {}", ident(schema)));
    }
    if let Some(version) = &extension.version {
        sql.push_str(&format!(" VERSION {}", literal(version)));
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_elements_quote_columns_and_wrap_expressions() {
        assert_eq!(index_element("user_id"), "\"user_id\"");
        assert_eq!(index_element("timestamp DESC"), "\"timestamp\" DESC");
        assert_eq!(index_element("\"timestamp\" DESC NULLS LAST"), "\"timestamp\" DESC NULLS LAST");
        assert_eq!(index_element("lower(email)"), "(lower(email))");
    }

    #[test]
    fn column_and_constraint_attributes_are_spelled_as_postgres_15_reads_them() {
        let code = Column { name: "code".into(), type_name: "text".into(), nullable: true, collation: Some("C".into()), compression: Some("lz4".into()), ..Column::default() };
        assert_eq!(column_definition(&code), "\"code\" text COMPRESSION lz4 COLLATE \"C\"");
        let id = Column { name: "id".into(), type_name: "bigint".into(), nullable: true, identity: Some("always".into()), identity_start: Some(1000), ..Column::default() };
        assert_eq!(column_definition(&id), "\"id\" bigint GENERATED ALWAYS AS IDENTITY (START WITH 1000)");
        let total = Column { name: "total".into(), type_name: "numeric".into(), nullable: true, generated: Some("price * quantity".into()), ..Column::default() };
        assert_eq!(column_definition(&total), "\"total\" numeric GENERATED ALWAYS AS (price * quantity) STORED");
        let exclusion = Exclusion {
            name: "no_overlap".into(),
            using: "gist".into(),
            elements: vec!["room_id WITH =".into(), "tstzrange(starts, ends) WITH &&".into()],
            predicate: Some("NOT cancelled".into()),
            deferral: Deferral { deferrable: true, initially_deferred: true },
        };
        assert_eq!(
            exclusion_definition(&exclusion),
            "CONSTRAINT \"no_overlap\" EXCLUDE USING gist (\"room_id\" WITH =, (tstzrange(starts, ends)) WITH &&) WHERE (NOT cancelled) DEFERRABLE INITIALLY DEFERRED"
        );
        assert_eq!(alter_deferral("fk", Deferral::default()), "ALTER CONSTRAINT \"fk\" NOT DEFERRABLE");
    }

    #[test]
    fn identifiers_and_literals_escape_quotes() {
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(qualified_ref("public.users"), "\"public\".\"users\"");
    }
}
