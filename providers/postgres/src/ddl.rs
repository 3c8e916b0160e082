//! SQL text for every change this provider makes. Identifiers are always quoted; types, defaults
//! and expressions are the user's SQL and go in as written.

use crate::model::{split_exclusion_element, Check, Column, Deferral, Enum, Exclusion, Extension, ForeignKey, Grant, Index, Schema, SchemaPrivileges, Table, TableIndex, Unique};
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

/// A quoted identifier and nothing else: `"Created At"` but not `"a" + "b"`.
fn is_quoted_identifier(text: &str) -> bool {
    let inner = text.strip_prefix('"').and_then(|rest| rest.strip_suffix('"'));
    inner.is_some_and(|inner| !inner.replace("\"\"", "").contains('"'))
}

/// An unquoted name, optionally schema-qualified (`public.vector_cosine_ops`): the only form an
/// operator class takes in an element, so that it is never mistaken for part of an expression.
fn is_qualified_name(text: &str) -> bool {
    let word = |part: &str| {
        let mut chars = part.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
    };
    let mut parts = text.split('.');
    parts.next().is_some_and(word) && parts.next().is_none_or(word) && parts.next().is_none()
}

/// A collation's name as `COLLATE` takes it: quoted or not, optionally schema-qualified.
fn is_collation_name(text: &str) -> bool {
    is_qualified_name(text) || is_quoted_identifier(text) || text.split_once('.').is_some_and(|(schema, name)| is_qualified_name(schema) && is_quoted_identifier(name))
}

/// `text` without a last word `keyword` (any case), when it ends with one.
fn strip_keyword<'a>(text: &'a str, keyword: &str) -> Option<&'a str> {
    let (before, last) = text.rsplit_once(char::is_whitespace)?;
    last.eq_ignore_ascii_case(keyword).then(|| before.trim_end())
}

/// One element of an index's column list, in its parts: `lower(email) COLLATE "C"
/// text_pattern_ops DESC NULLS LAST` is the key `lower(email)`, the collation `"C"`, the operator
/// class `text_pattern_ops` and the ordering `DESC NULLS LAST`. The catalog reads an index back in
/// the same form (see `catalog::read_indexes`).
#[derive(Debug, PartialEq)]
pub struct IndexElement<'a> {
    /// A column, a quoted column or an expression.
    pub key: &'a str,
    pub collation: Option<&'a str>,
    pub opclass: Option<&'a str>,
    pub ordering: Vec<&'static str>,
}

impl<'a> IndexElement<'a> {
    /// Splits `entry` from its end: ordering words, then an operator class (a name after a
    /// complete key: a column, a quoted column, a call or parenthesis, or a collation), then
    /// `COLLATE name`. Whatever is left is the key.
    pub fn parse(entry: &'a str) -> IndexElement<'a> {
        let mut rest = entry.trim();
        let mut ordering = Vec::new();
        for word in ["NULLS FIRST", "NULLS LAST", "DESC", "ASC"] {
            if rest.len() > word.len() && rest.to_uppercase().ends_with(&format!(" {word}")) {
                ordering.insert(0, word);
                rest = rest[..rest.len() - word.len()].trim_end();
            }
        }
        let mut opclass = None;
        if let Some((before, last)) = rest.rsplit_once(char::is_whitespace) {
            let before = before.trim_end();
            if is_qualified_name(last) && strip_keyword(before, "COLLATE").is_none() && Self::is_complete(before) {
                opclass = Some(last);
                rest = before;
            }
        }
        let mut collation = None;
        if let Some((before, last)) = rest.rsplit_once(char::is_whitespace) {
            if let Some(key) = strip_keyword(before.trim_end(), "COLLATE").filter(|_| is_collation_name(last)) {
                collation = Some(last);
                rest = key;
            }
        }
        IndexElement { key: rest, collation, opclass, ordering }
    }

    /// Whether `text` can end an element before its operator class.
    fn is_complete(text: &str) -> bool {
        let collated = text.rsplit_once(char::is_whitespace).is_some_and(|(before, last)| is_collation_name(last) && strip_keyword(before.trim_end(), "COLLATE").is_some());
        text.ends_with(')') || is_quoted_identifier(text) || is_qualified_name(text) || collated
    }

    /// The element as SQL: a plain column quoted, an expression parenthesised.
    pub fn to_sql(&self) -> String {
        let key = if is_plain_identifier(self.key) {
            ident(self.key)
        } else if is_quoted_identifier(self.key) {
            self.key.to_owned()
        } else {
            format!("({})", self.key)
        };
        let collation = self.collation.map(|c| format!("COLLATE {c}"));
        let parts = std::iter::once(key).chain(collation).chain(self.opclass.map(str::to_owned)).chain(self.ordering.iter().map(|w| (*w).to_owned()));
        parts.collect::<Vec<_>>().join(" ")
    }
}

/// `entry` once the column renames (old, new) ran: its key renamed when it is a renamed column,
/// its collation, operator class and ordering kept. An expression is left as it is: only the
/// shadow renames inside one (see `normalize::shadow_index_after_renames`).
pub fn rename_key(entry: &str, renames: &[(String, String)]) -> String {
    let trimmed = entry.trim();
    let key = IndexElement::parse(trimmed).key;
    let renamed = renames.iter().find(|(old, _)| key == old || key == ident(old));
    match renamed {
        Some((_, new)) => {
            let new_key = if is_plain_identifier(new) { new.clone() } else { ident(new) };
            format!("{new_key}{}", &trimmed[key.len()..])
        }
        None => entry.to_owned(),
    }
}

/// One element of an index's column list as SQL (see [`IndexElement`]).
pub fn index_element(entry: &str) -> String {
    IndexElement::parse(entry).to_sql()
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
    statements.extend(table.indexes.iter().flat_map(|index| build_index(index, &name, &table.schema, false)));
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
    if index.nulls_not_distinct {
        sql.push_str(" NULLS NOT DISTINCT");
    }
    if !index.with.is_empty() {
        sql.push_str(&format!(" WITH ({})", storage_settings(index.with.iter())));
    }
    if let Some(predicate) = &index.predicate {
        sql.push_str(&format!(" WHERE {predicate}"));
    }
    sql
}

/// Storage parameters that PostgreSQL and pgvector document, in the order they document them: a
/// `WITH` list reads as the documentation does (`m = 16, ef_construction = 64`). Others follow,
/// by name.
const DOCUMENTED_PARAMETERS: &[&str] = &[
    "fillfactor", "deduplicate_items", "buffering", "fastupdate", "gin_pending_list_limit", "pages_per_range", "autosummarize", "lists", "m", "ef_construction",
];

/// `name = value, ...` for `WITH (...)` and `ALTER INDEX ... SET (...)`: a number as it is, any
/// other value as a string literal (PostgreSQL keeps both as text).
fn storage_settings<'a>(settings: impl Iterator<Item = (&'a String, &'a String)>) -> String {
    let mut settings: Vec<_> = settings.collect();
    settings.sort_by_key(|(name, _)| (DOCUMENTED_PARAMETERS.iter().position(|p| p == name).unwrap_or(usize::MAX), name.as_str()));
    let value = |text: &str| if is_number(text) { text.to_owned() } else { literal(text) };
    settings.iter().map(|(name, setting)| format!("{name} = {}", value(setting))).collect::<Vec<_>>().join(", ")
}

/// A decimal number: `16`, `-1`, `0.5`.
fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    [whole, fraction].iter().all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()))
}

/// `COMMENT ON INDEX`; `None` removes the comment.
pub fn index_comment(index_sql: &str, comment: Option<&str>) -> String {
    format!("COMMENT ON INDEX {index_sql} IS {}", comment.map_or("NULL".to_owned(), literal))
}

/// The statements that change `live`'s storage parameters and comment to `wanted`'s in place:
/// `SET` for parameters added or changed, `RESET` for those removed (back to the default).
pub fn alter_index_in_place(index_sql: &str, live: &Index, wanted: &Index) -> Vec<String> {
    let mut statements = Vec::new();
    let mut changed = wanted.with.iter().filter(|(name, setting)| live.with.get(*name) != Some(*setting)).peekable();
    if changed.peek().is_some() {
        statements.push(format!("ALTER INDEX {index_sql} SET ({})", storage_settings(changed)));
    }
    let removed: Vec<&str> = live.with.keys().filter(|name| !wanted.with.contains_key(*name)).map(String::as_str).collect();
    if !removed.is_empty() {
        statements.push(format!("ALTER INDEX {index_sql} RESET ({})", removed.join(", ")));
    }
    if live.comment != wanted.comment {
        statements.push(index_comment(index_sql, wanted.comment.as_deref()));
    }
    statements
}

/// `CREATE INDEX` on `table_sql` (a table in `schema`), then the index's comment.
pub fn build_index(index: &Index, table_sql: &str, schema: &str, concurrently: bool) -> Vec<String> {
    let mut statements = vec![create_index(index, table_sql, concurrently)];
    statements.extend(index.comment.as_deref().map(|comment| index_comment(&qualified(schema, &index.name), Some(comment))));
    statements
}

pub fn create_table_index(index: &TableIndex) -> Vec<String> {
    build_index(&index.index, &qualified_ref(&index.table), &index.schema, index.concurrently)
}

pub fn drop_table_index(index: &TableIndex, concurrently: bool) -> String {
    format!("DROP INDEX {}{}", if concurrently { "CONCURRENTLY IF EXISTS " } else { "" }, qualified(&index.schema, &index.index.name))
}

pub fn create_enum(e: &Enum) -> String {
    format!("CREATE TYPE {} AS ENUM ({})", qualified(&e.schema, &e.name), e.values.iter().map(|v| literal(v)).collect::<Vec<_>>().join(", "))
}

/// Never `IF NOT EXISTS`, whatever `if_not_exists` says: that would take a schema strata did not
/// create into state, and a later destroy would drop it. An existing schema fails the create,
/// with the import command in its hint.
pub fn create_schema(schema: &Schema) -> String {
    let owner = schema.owner.as_ref().map(|o| format!(" AUTHORIZATION {}", ident(o))).unwrap_or_default();
    format!("CREATE SCHEMA {}{owner}", ident(&schema.name))
}

/// The GRANT and REVOKE statements that take `role`'s privileges on `schema` from `live` to
/// `wanted`, one privilege at a time.
pub fn schema_privileges(schema: &str, role: &str, live: SchemaPrivileges, wanted: SchemaPrivileges) -> Vec<String> {
    let grantee = if role == "public" { "PUBLIC".to_owned() } else { ident(role) };
    let on = format!("ON SCHEMA {}", ident(schema));
    let mut statements = Vec::new();
    for (privilege, from, to) in [("USAGE", live.usage, wanted.usage), ("CREATE", live.create, wanted.create)] {
        statements.extend(match (from, to) {
            (from, to) if from == to => None,
            (_, Grant::None) => Some(format!("REVOKE {privilege} {on} FROM {grantee}")),
            (Grant::WithGrantOption, Grant::Held) => Some(format!("REVOKE GRANT OPTION FOR {privilege} {on} FROM {grantee}")),
            (_, Grant::Held) => Some(format!("GRANT {privilege} {on} TO {grantee}")),
            (_, Grant::WithGrantOption) => Some(format!("GRANT {privilege} {on} TO {grantee} WITH GRANT OPTION")),
        });
    }
    statements
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
    use strata_provider_sdk::Value;

    #[test]
    fn index_elements_quote_columns_and_wrap_expressions() {
        assert_eq!(index_element("user_id"), "\"user_id\"");
        assert_eq!(index_element("timestamp DESC"), "\"timestamp\" DESC");
        assert_eq!(index_element("\"timestamp\" DESC NULLS LAST"), "\"timestamp\" DESC NULLS LAST");
        assert_eq!(index_element("lower(email)"), "(lower(email))");
    }

    #[test]
    fn index_elements_keep_collations_operator_classes_and_ordering() {
        assert_eq!(index_element("embedding vector_cosine_ops"), "\"embedding\" vector_cosine_ops");
        assert_eq!(index_element("lower(email) text_pattern_ops DESC"), "(lower(email)) text_pattern_ops DESC");
        assert_eq!(index_element("title COLLATE \"C\" text_pattern_ops DESC NULLS LAST"), "\"title\" COLLATE \"C\" text_pattern_ops DESC NULLS LAST");
        assert_eq!(index_element("\"Title\" collate C public.text_pattern_ops"), "\"Title\" COLLATE C public.text_pattern_ops");
        assert_eq!(index_element("slug COLLATE pg_catalog.\"C\""), "\"slug\" COLLATE pg_catalog.\"C\"");
        // Words of an expression are not an operator class.
        assert_eq!(index_element("a + b"), "(a + b)");
        assert_eq!(index_element("CASE WHEN a THEN 1 ELSE 0 END"), "(CASE WHEN a THEN 1 ELSE 0 END)");
        assert_eq!(index_element("\"a\" || \"b\""), "(\"a\" || \"b\")");
        let parts = IndexElement::parse("lower(email) COLLATE \"C\" text_pattern_ops DESC");
        assert_eq!(parts, IndexElement { key: "lower(email)", collation: Some("\"C\""), opclass: Some("text_pattern_ops"), ordering: vec!["DESC"] });
    }

    #[test]
    fn renamed_key_columns_keep_their_decorations() {
        let renames = [("mail".to_owned(), "email".to_owned()), ("Name".to_owned(), "full name".to_owned())];
        assert_eq!(rename_key("mail text_pattern_ops DESC", &renames), "email text_pattern_ops DESC");
        assert_eq!(rename_key("\"Name\" COLLATE \"C\"", &renames), "\"full name\" COLLATE \"C\"");
        assert_eq!(rename_key("lower(mail)", &renames), "lower(mail)");
        assert_eq!(rename_key("mailbox", &renames), "mailbox");
    }

    fn items_index(pairs: &[(&str, Value)]) -> Index {
        let mut fields = vec![("name", Value::from("items_embedding_idx")), ("columns", Value::List(vec![Value::from("embedding vector_cosine_ops")]))];
        fields.extend(pairs.iter().cloned());
        Index::from_value(&Value::object(fields)).unwrap()
    }

    #[test]
    fn an_hnsw_index_on_pgvector_is_built_with_its_operator_class_and_parameters() {
        let with = Value::object([("m", Value::int(16)), ("ef_construction", Value::int(64))]);
        let index = items_index(&[("using", Value::from("hnsw")), ("with", with)]);
        assert_eq!(
            create_index(&index, &qualified("public", "items"), false),
            "CREATE INDEX \"items_embedding_idx\" ON \"public\".\"items\" USING hnsw (\"embedding\" vector_cosine_ops) WITH (m = 16, ef_construction = 64)"
        );
    }

    #[test]
    fn unique_indexes_may_hold_one_null_and_parameters_that_are_not_numbers_are_quoted() {
        let with = Value::object([("fastupdate", Value::Bool(false)), ("fillfactor", Value::from("70"))]);
        let index = items_index(&[("unique", Value::Bool(true)), ("nulls_not_distinct", Value::Bool(true)), ("with", with), ("where", Value::from("id > 0"))]);
        assert_eq!(
            create_index(&index, "t", false),
            "CREATE UNIQUE INDEX \"items_embedding_idx\" ON t USING btree (\"embedding\" vector_cosine_ops) NULLS NOT DISTINCT WITH (fillfactor = 70, fastupdate = 'false') WHERE id > 0"
        );
        let not_unique = Value::object([("name", Value::from("i")), ("nulls_not_distinct", Value::Bool(true))]);
        assert!(Index::from_value(&not_unique).is_err(), "only a unique index");
        let bad = Value::object([("name", Value::from("i")), ("with", Value::object([("fill factor", Value::from("1"))]))]);
        assert!(Index::from_value(&bad).is_err());
    }

    #[test]
    fn storage_parameters_and_comments_change_in_place() {
        let live = items_index(&[("with", Value::object([("m", Value::from("16")), ("ef_construction", Value::from("64"))]))]);
        let wanted = items_index(&[("with", Value::object([("m", Value::from("32"))])), ("comment", Value::from("nearest neighbours"))]);
        let name = qualified("public", "items_embedding_idx");
        assert_eq!(
            alter_index_in_place(&name, &live, &wanted),
            [
                "ALTER INDEX \"public\".\"items_embedding_idx\" SET (m = 32)",
                "ALTER INDEX \"public\".\"items_embedding_idx\" RESET (ef_construction)",
                "COMMENT ON INDEX \"public\".\"items_embedding_idx\" IS 'nearest neighbours'",
            ]
        );
        assert!(alter_index_in_place(&name, &wanted, &wanted).is_empty());
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
