//! Plan-time questions to the server that a change's safety depends on: whether a table that gets
//! a NOT NULL column without a default has rows (then the plan fails, with the safe way spelled
//! out), whether a new column's default is volatile (then adding it rewrites the table), whether
//! a non-concurrent index is built on a table that already exists (then it blocks writes), whether
//! the server has the index methods a plan uses (`pg_am`).
//!
//! Owns these read-only queries, each run only when a change needs its answer; it must not change
//! anything, nor decide the statements (that is `diff`).

use strata_provider_sdk::ProviderError;

use crate::catalog::{query, Catalog};
use crate::ddl::{ident, literal, qualified, qualified_ref};
use crate::diff::TableFacts;
use crate::model::{Column, Index, Table, TableIndex};
use crate::normalize::is_serial;

/// What plan needs to know about the live table `prior` to classify changing it to `desired`;
/// an error when the change cannot work on the rows it has.
pub async fn table_facts(catalog: &Catalog<'_>, prior: &Table, desired: &Table) -> Result<TableFacts, ProviderError> {
    let added = added_columns(prior, desired);
    refuse_not_null_without_default(catalog, prior, &added).await?;
    Ok(TableFacts { volatile_defaults: volatile_defaults(catalog, &added).await?, detach_concurrently: detaches_concurrently(catalog, prior, desired).await? })
}

/// Whether the change only takes `prior` out of its parent, and the parent has no default
/// partition: PostgreSQL detaches CONCURRENTLY only then.
async fn detaches_concurrently(catalog: &Catalog<'_>, prior: &Table, desired: &Table) -> Result<bool, ProviderError> {
    let (Some(parent), None) = (&prior.partitioning.of, &desired.partitioning.of) else { return Ok(false) };
    let sql = format!("SELECT partdefid = 0 FROM pg_partitioned_table WHERE partrelid = to_regclass({})", literal(&qualified_ref(parent)));
    Ok(query(catalog, &sql).await?.first().is_some_and(|row| row.get::<_, bool>(0)))
}

/// The columns of `desired` that are neither live nor renamed from a live column.
fn added_columns<'a>(prior: &Table, desired: &'a Table) -> Vec<&'a Column> {
    let live = |name: &str| prior.columns.iter().any(|c| c.name == name);
    desired.columns.iter().filter(|c| !live(&c.name) && !c.renamed_from.as_deref().is_some_and(live)).collect()
}

/// Whether PostgreSQL has nothing to put in a new column's existing rows but NULL.
fn needs_values(column: &Column) -> bool {
    !column.nullable && column.default.is_none() && column.identity.is_none() && column.generated.is_none() && !is_serial(&column.type_name)
}

async fn refuse_not_null_without_default(catalog: &Catalog<'_>, prior: &Table, added: &[&Column]) -> Result<(), ProviderError> {
    let Some(column) = added.iter().find(|c| needs_values(c)) else { return Ok(()) };
    let table_sql = qualified(&prior.schema, &prior.name);
    let has_rows = query(catalog, &format!("SELECT EXISTS (SELECT 1 FROM {table_sql})")).await?.first().is_some_and(|row| row.get::<_, bool>(0));
    if !has_rows {
        return Ok(());
    }
    let (table, name) = (prior.id(), &column.name);
    Err(ProviderError::new(format!(
        "column {table}.{name} is added NOT NULL without a default, but {table} already has rows: PostgreSQL would have to put NULL in them and the change would fail"
    ))
    .with_hint(format!(
        "add it with null = true, fill it (UPDATE {table_sql} SET {} = ...), then set null = false in a later apply; or give it a default",
        ident(name)
    )))
}

/// The added columns whose default calls a volatile function, asked of `pg_proc` in one query
/// (none when no default calls a function).
async fn volatile_defaults(catalog: &Catalog<'_>, added: &[&Column]) -> Result<Vec<String>, ProviderError> {
    let calls: Vec<(&str, Vec<String>)> = added.iter().filter_map(|c| Some((c.name.as_str(), function_calls(c.default.as_deref()?)))).filter(|(_, f)| !f.is_empty()).collect();
    let mut names: Vec<String> = calls.iter().flat_map(|(_, f)| f.iter().map(|n| literal(n))).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return Ok(vec![]);
    }
    let rows = query(catalog, &format!("SELECT DISTINCT proname::text FROM pg_proc WHERE provolatile = 'v' AND proname IN ({})", names.join(", "))).await?;
    let volatile: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    Ok(calls.into_iter().filter(|(_, f)| f.iter().any(|n| volatile.contains(n))).map(|(column, _)| column.to_owned()).collect())
}

/// The names of the functions an SQL expression calls (`now() + random()` gives now, random),
/// without their schema, lower-cased as PostgreSQL folds them.
fn function_calls(expression: &str) -> Vec<String> {
    let mut calls = Vec::new();
    let mut word = String::new();
    // A word followed by spaces may still be a call (`f ()`); another word starts afresh.
    let mut ended = false;
    for c in expression.chars() {
        match c {
            c if c.is_alphanumeric() || c == '_' => {
                if ended {
                    word.clear();
                    ended = false;
                }
                word.push(c);
            }
            ' ' => ended = !word.is_empty(),
            _ => {
                if c == '(' && !word.is_empty() {
                    calls.push(word.to_lowercase());
                }
                word.clear();
                ended = false;
            }
        }
    }
    calls
}

/// The `locking` line for building `desired` without CONCURRENTLY on a table that exists now
/// (one made in the same apply has nobody to block).
pub async fn index_build_lock(catalog: &Catalog<'_>, desired: &TableIndex) -> Result<Option<String>, ProviderError> {
    if desired.concurrently {
        return Ok(None);
    }
    let exists = query(catalog, &format!("SELECT to_regclass({}) IS NOT NULL", literal(&qualified_ref(&desired.table)))).await?;
    Ok(exists.first().is_some_and(|row| row.get::<_, bool>(0)).then(|| {
        format!(
            "builds index {} on {} under a SHARE lock: writes wait until it is built (concurrently = true does not block them)",
            desired.index.name, desired.table
        )
    }))
}

/// Whether `table` (`schema.name`) is partitioned: its indexes' storage parameters cannot change
/// in place (see `model::Index::rebuilt_for`).
pub async fn is_partitioned(catalog: &Catalog<'_>, table: &str) -> Result<bool, ProviderError> {
    let sql = format!("SELECT EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass({}) AND relkind = 'p')", literal(&qualified_ref(table)));
    Ok(query(catalog, &sql).await?.first().is_some_and(|row| row.get::<_, bool>(0)))
}

/// Index methods every PostgreSQL server has: plan asks nothing about them.
const BUILT_IN_METHODS: &[&str] = &["btree", "hash", "gist", "spgist", "gin", "brin"];

/// Methods that come with a well-known extension (method, extension): a configuration that
/// creates the extension in the same apply has it by the time the index is built.
const EXTENSION_METHODS: &[(&str, &str)] = &[("hnsw", "vector"), ("ivfflat", "vector"), ("bloom", "bloom")];

/// Whether every server has `method`, so that plan need not ask.
pub fn is_built_in(method: &str) -> bool {
    BUILT_IN_METHODS.contains(&method)
}

/// Checks the methods of `indexes` (those not built in) against the server's, asking `pg_am`
/// once: an error naming the methods it has for a method it does not have; a warning for one
/// that a well-known extension brings but that is not installed yet.
pub async fn index_methods(catalog: &Catalog<'_>, indexes: &[&Index]) -> Result<Vec<String>, ProviderError> {
    let rows = query(catalog, "SELECT amname::text FROM pg_am WHERE amtype = 'i' ORDER BY 1").await?;
    let installed: Vec<String> = rows.iter().map(|row| row.get(0)).collect();
    let mut warnings = Vec::new();
    for index in indexes.iter().filter(|index| !installed.contains(&index.using)) {
        let (name, method) = (&index.name, &index.using);
        match EXTENSION_METHODS.iter().find(|(known, _)| known == method) {
            Some((_, extension)) => warnings.push(format!(
                "index {name} uses method {method}, which extension {extension} brings and this server does not have yet: the apply fails unless {extension} is created first (a postgres_extension the index depends on)"
            )),
            None => {
                return Err(ProviderError::new(format!("index {name} uses method \"{method}\", which this server does not have: it has {}", installed.join(", ")))
                    .with_hint("use one of those, or install the extension that provides the method first"))
            }
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_calls_are_found_in_defaults() {
        assert_eq!(function_calls("now() + random()"), ["now", "random"]);
        assert_eq!(function_calls("public.gen_random_uuid ()"), ["gen_random_uuid"]);
        assert_eq!(function_calls("'a(b)'::text"), ["a"], "a literal's parenthesis reads as a call: the check only errs towards caution");
        assert!(function_calls("0").is_empty());
    }
}
