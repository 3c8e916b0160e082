//! Putting a desired definition into the form PostgreSQL prints, so that it compares equal to the
//! live object when it means the same thing (`int8` and `bigint`, `'draft'` and
//! `'draft'::model_status`, `price > 0` and `(price > (0)::numeric)`).
//!
//! The reliable way is to ask PostgreSQL: create the desired table (or index) as a temporary
//! "shadow" inside a transaction that is always rolled back, and read it back with the same catalog
//! reader as live objects. Where that is impossible because the definition refers to something
//! this plan creates or changes (a type that does not exist yet), a local table of type aliases
//! does what it can. Any other failure fails the plan: a syntax error in an expression, or a
//! server that cannot answer (a lock timeout, a lost connection), whose silent fallback would
//! plan changes that are only differences of spelling.

use strata_provider_sdk::ProviderError;
use tokio_postgres::error::SqlState;

use crate::catalog::{read_behind_a_lock, read_tables, Catalog, Scope};
use crate::config::describe_error;
use crate::ddl;
use crate::model::{Index, Table, TableIndex};
use crate::renames::TableRenames;

pub(crate) const SHADOW: &str = "strata_shadow";
const SHADOW_REGCLASS: &str = "pg_temp.strata_shadow";

/// Columns that PostgreSQL makes NOT NULL whatever the definition says.
pub fn implied_not_null(table: &mut Table) {
    for column in &mut table.columns {
        if column.identity.is_some() || table.primary_key.contains(&column.name) {
            column.nullable = false;
        }
    }
}

/// A partition's bound in `desired` as PostgreSQL prints it, when it is not already the live
/// one's text (see `partitions::normalized_bound`).
pub async fn partition_bound(client: &Catalog<'_>, live: &Table, desired: &mut Table) -> Result<(), ProviderError> {
    let partitioning = &desired.partitioning;
    let (Some(parent), Some(bound)) = (&partitioning.of, &partitioning.bound) else { return Ok(()) };
    if live.partitioning.bound.as_ref() == Some(bound) {
        return Ok(());
    }
    if let Some(normalized) = crate::partitions::normalized_bound(client, parent, bound).await? {
        desired.partitioning.bound = Some(normalized);
    }
    Ok(())
}

/// `desired` as PostgreSQL would store it, or `None` when it refers to something not there yet
/// (or is a partition, whose columns are its parent's).
pub async fn shadow_table(client: &Catalog<'_>, desired: &Table) -> Result<Option<Table>, ProviderError> {
    if desired.partitioning.of.is_some() {
        return Ok(None);
    }
    let mut statements = vec![ddl::create_table_named(desired, SHADOW, true)];
    statements.extend(ddl::column_storage(desired, SHADOW));
    statements.extend(desired.indexes.iter().map(|index| ddl::create_index(index, SHADOW, false)));
    let Some(shadow) = in_rolled_back_transaction(client, &statements).await? else { return Ok(None) };
    let mut normalized = desired.clone();
    for column in &mut normalized.columns {
        if let Some(seen) = shadow.columns.iter().find(|c| c.name == column.name) {
            column.type_name = seen.type_name.clone();
            column.default = seen.default.clone();
            column.nullable = seen.nullable;
            column.generated = seen.generated.clone();
            column.collation = seen.collation.clone();
            column.compression = seen.compression.clone();
            column.storage = seen.storage.clone();
        }
    }
    for exclusion in &mut normalized.exclusions {
        if let Some(seen) = shadow.exclusions.iter().find(|e| e.name == exclusion.name) {
            *exclusion = seen.clone();
        }
    }
    for check in &mut normalized.checks {
        if let Some(seen) = shadow.checks.iter().find(|c| c.name == check.name) {
            check.expression = seen.expression.clone();
        }
    }
    for index in &mut normalized.indexes {
        if let Some(seen) = shadow.indexes.iter().find(|i| i.name == index.name) {
            *index = commented_as(seen.clone(), index);
        }
    }
    Ok(Some(normalized))
}

/// A standalone index as PostgreSQL would store it, built on a copy of its table's columns.
pub async fn shadow_index(client: &Catalog<'_>, desired: &TableIndex) -> Result<Option<TableIndex>, ProviderError> {
    let statements = vec![
        format!("CREATE TEMPORARY TABLE {SHADOW} (LIKE {})", ddl::qualified_ref(&desired.table)),
        ddl::create_index(&desired.index, SHADOW, false),
    ];
    let Some(shadow) = in_rolled_back_transaction(client, &statements).await? else { return Ok(None) };
    let seen = shadow.indexes.into_iter().find(|i| i.name == desired.index.name);
    Ok(seen.map(|index| TableIndex { index: commented_as(index, &desired.index), ..desired.clone() }))
}

/// The live index `prior` and the desired one as PostgreSQL stores them once the renames planned
/// for their table ran: the live index is built on a copy of its table before the copy's columns
/// are renamed, so that its expressions follow the rename as they will on the real table.
pub async fn shadow_index_after_renames(client: &Catalog<'_>, prior: &TableIndex, desired: &TableIndex, renames: &TableRenames) -> Result<Option<(TableIndex, TableIndex)>, ProviderError> {
    const PRIOR: &str = "strata_shadow_prior";
    let copy = Index { name: PRIOR.into(), ..prior.index.clone() };
    let mut statements = vec![format!("CREATE TEMPORARY TABLE {SHADOW} (LIKE {})", ddl::qualified_ref(&renames.from)), ddl::create_index(&copy, SHADOW, false)];
    statements.extend(renames.columns.iter().map(|(old, new)| format!("ALTER TABLE {SHADOW} RENAME COLUMN {} TO {}", ddl::ident(old), ddl::ident(new))));
    statements.push(ddl::create_index(&desired.index, SHADOW, false));
    let Some(shadow) = in_rolled_back_transaction(client, &statements).await? else { return Ok(None) };
    let seen = |name: &str| shadow.indexes.iter().find(|i| i.name == name).cloned();
    let (Some(prior_seen), Some(desired_seen)) = (seen(PRIOR), seen(&desired.index.name)) else { return Ok(None) };
    let prior_renamed = TableIndex { index: Index { name: prior.index.name.clone(), ..commented_as(prior_seen, &prior.index) }, table: desired.table.clone(), ..prior.clone() };
    Ok(Some((prior_renamed, TableIndex { index: commented_as(desired_seen, &desired.index), ..desired.clone() })))
}

/// A shadow index with the comment of the index it stands for: the shadow is never commented.
fn commented_as(seen: Index, original: &Index) -> Index {
    Index { comment: original.comment.clone(), ..seen }
}

/// Runs `statements`, reads the shadow table back, and rolls everything back. `None` when the
/// statements refer to something that is not there yet; an error when they cannot work or the
/// server cannot answer (see the module's comment).
pub(crate) async fn in_rolled_back_transaction(catalog: &Catalog<'_>, statements: &[String]) -> Result<Option<Table>, ProviderError> {
    let read = shadow(catalog, statements, |catalog| read_tables(catalog, Scope::Relation(SHADOW_REGCLASS))).await?;
    Ok(read.and_then(|(tables, _)| tables.into_values().next()))
}

/// Runs `statements` (which make shadow objects), then `read`, inside a transaction that is always
/// rolled back, so no shadow outlives the comparison. `None` when the statements refer to
/// something that is not there yet; an error when they cannot work or the server cannot answer.
pub(crate) async fn shadow<'a, T, F, Fut>(catalog: &'a Catalog<'a>, statements: &[String], read: F) -> Result<Option<T>, ProviderError>
where
    F: FnOnce(&'a Catalog<'a>) -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    catalog.client.batch_execute("BEGIN").await.map_err(|e| unanswered(&e))?;
    let made = catalog.client.batch_execute(&statements.join(";\n")).await;
    let read = match made {
        Ok(()) => Ok(read(catalog).await),
        Err(err) => Err(err),
    };
    // The shadow must never outlive the comparison, whatever happened above.
    catalog.client.batch_execute("ROLLBACK").await.map_err(|e| unanswered(&e))?;
    match read {
        Ok(read) => read.map(Some),
        Err(err) => shadow_failed(catalog, &err).await,
    }
}

/// The server could not answer a comparison: the plan fails, and can simply be run again.
fn unanswered(err: &tokio_postgres::Error) -> ProviderError {
    ProviderError::new(format!("comparing with PostgreSQL's own spelling failed: {}", describe_error(err))).with_hint("run the plan again; nothing was changed")
}

/// What a failed shadow means: `None` when the definition refers to something this plan has yet
/// to create or change (an undefined type, table, column, function or schema, or a value the
/// changed type does not accept yet); an error for a syntax error, and for a server that could
/// not answer (a lock timeout names the session holding the lock).
async fn shadow_failed<T>(catalog: &Catalog<'_>, err: &tokio_postgres::Error) -> Result<Option<T>, ProviderError> {
    let code = err.code().map(SqlState::code).unwrap_or_default();
    // A syntax error, or a feature this server lacks (lz4 compression on a server built without it).
    if code == SqlState::SYNTAX_ERROR.code() || code == SqlState::FEATURE_NOT_SUPPORTED.code() {
        return Err(ProviderError::new(format!("PostgreSQL cannot read the definition: {}", describe_error(err)))
            .with_hint("fix the expression (a default, generated, check, where or index expression) or the setting in the configuration"));
    }
    if ["42", "22", "3F"].iter().any(|class| code.starts_with(class)) {
        return Ok(None);
    }
    if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) {
        return Err(read_behind_a_lock(catalog.client, err).await);
    }
    Err(unanswered(err))
}

/// A type name in canonical form, for when no shadow could be made.
pub fn type_alias(type_name: &str) -> String {
    let lowered = type_name.trim().to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
    let (base, array) = match lowered.strip_suffix("[]") {
        Some(base) => (base.trim().to_owned(), "[]"),
        None => (lowered.clone(), ""),
    };
    let (name, modifier) = match base.split_once('(') {
        Some((name, rest)) => (name.trim().to_owned(), format!("({}", rest.replace(' ', ""))),
        None => (base.clone(), String::new()),
    };
    let canonical = match name.as_str() {
        "int" | "int4" | "integer" | "serial" | "serial4" => "integer",
        "int8" | "bigint" | "bigserial" | "serial8" => "bigint",
        "int2" | "smallint" | "smallserial" | "serial2" => "smallint",
        "bool" | "boolean" => "boolean",
        "float8" | "double precision" => "double precision",
        "float4" | "real" => "real",
        "varchar" | "character varying" => "character varying",
        "char" | "character" | "bpchar" => "character",
        "decimal" | "numeric" => "numeric",
        "timestamptz" | "timestamp with time zone" => "timestamp with time zone",
        "timestamp" | "timestamp without time zone" => "timestamp without time zone",
        "timetz" | "time with time zone" => "time with time zone",
        "time" | "time without time zone" => "time without time zone",
        other => other,
    };
    format!("{canonical}{modifier}{array}")
}

/// Whether a type name is one of the serial pseudo-types, whose default is a sequence.
pub fn is_serial(type_name: &str) -> bool {
    matches!(type_name.trim().to_lowercase().as_str(), "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_name_the_same_type() {
        assert_eq!(type_alias("int8"), type_alias("bigint"));
        assert_eq!(type_alias("VARCHAR(255)"), "character varying(255)");
        assert_eq!(type_alias("timestamptz"), "timestamp with time zone");
        assert_eq!(type_alias("numeric(7, 3)"), "numeric(7,3)");
        assert_eq!(type_alias("int[]"), "integer[]");
    }
}
