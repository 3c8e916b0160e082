//! SQL text for every change this provider makes. Identifiers are always quoted; types, defaults
//! and expressions are the user's SQL and go in as written.

use crate::model::{Check, Column, Enum, Extension, ForeignKey, Index, Schema, Table, TableIndex, Unique};
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
    if let Some(identity) = &column.identity {
        sql.push_str(&format!(" GENERATED {} AS IDENTITY", identity.to_uppercase()));
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

pub fn unique_definition(unique: &Unique) -> String {
    format!("CONSTRAINT {} UNIQUE ({})", ident(&unique.name), ident_list(&unique.columns))
}

pub fn check_definition(check: &Check) -> String {
    format!("CONSTRAINT {} CHECK ({})", ident(&check.name), check.expression)
}

pub fn foreign_key_definition(fk: &ForeignKey) -> String {
    format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {} ON UPDATE {}",
        ident(&fk.name),
        ident_list(&fk.columns),
        qualified_ref(&fk.references),
        ident_list(&fk.ref_columns),
        fk.on_delete,
        fk.on_update
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
    statements.extend(table.indexes.iter().map(|index| create_index(index, &name, false)));
    statements.extend(table_comments(table, &name));
    statements
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
    fn identifiers_and_literals_escape_quotes() {
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(qualified_ref("public.users"), "\"public\".\"users\"");
    }
}
