//! Declarative partitioning: a `postgres_table` partitioned by a key (`partition_by`), and tables
//! that are its partitions (`partition_of` and `bound`).
//!
//! Owns the partition fields of a table, their SQL, how they change, and comparing them in
//! PostgreSQL's spelling. A key cannot change in place (the table is replaced, with its rows); a
//! partition moves by DETACH and ATTACH, never by drop and create, so its rows stay. A partition
//! takes its columns and inherited constraints from its parent, so they are not compared; and
//! partitions nobody declared (the application's, pg_partman's) are never touched: dropping a
//! parent that still has some fails instead of taking them with it.

use strata_provider_sdk::{ProviderError, Value};

use crate::catalog::Catalog;
use crate::ddl::{ident, qualified, qualified_ref};
use crate::model::{qualify, Table};

/// How a partitioned table is split.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Partitioning {
    /// `range`, `list` or `hash` and the key's columns or expressions, on a partitioned table.
    pub by: Option<PartitionKey>,
    /// The parent (`schema.table`) of a partition.
    pub of: Option<String>,
    /// A partition's bound as PostgreSQL prints it: `FOR VALUES FROM (...) TO (...)`, `DEFAULT`.
    pub bound: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PartitionKey {
    pub strategy: String,
    pub columns: Vec<String>,
}

pub const STRATEGIES: &[&str] = &["range", "list", "hash"];

impl Partitioning {
    pub fn from_value(value: &Value, schema: &str) -> Result<Partitioning, ProviderError> {
        let by = match value.get("partition_by") {
            Some(key @ Value::Object(_)) => Some(PartitionKey {
                strategy: key.get_str("strategy").unwrap_or("range").to_lowercase(),
                columns: key.get_strings("columns"),
            }),
            _ => None,
        };
        let of = value.get_str("partition_of").map(|parent| qualify(parent, schema));
        let bound = value.get_str("bound").map(bound_clause);
        if of.is_some() != bound.is_some() {
            return Err(ProviderError::new("a partition needs both partition_of (its parent) and bound (FOR VALUES ... or DEFAULT)"));
        }
        Ok(Partitioning { by, of, bound })
    }

    /// The fields as configuration and state hold them.
    pub fn fields(&self) -> [(&'static str, Value); 3] {
        let key = self.by.as_ref().map_or(Value::Null, |key| {
            Value::object([("strategy", Value::from(key.strategy.as_str())), ("columns", Value::List(key.columns.iter().map(|c| Value::from(c.as_str())).collect()))])
        });
        let text = |v: &Option<String>| v.as_deref().map_or(Value::Null, Value::from);
        [("partition_by", key), ("partition_of", text(&self.of)), ("bound", text(&self.bound))]
    }

    /// Read from the catalog: `pg_get_partkeydef` of a partitioned table (`RANGE (created_at)`),
    /// and a partition's parent and `pg_get_expr` of its bound.
    pub fn from_catalog(key: Option<String>, parent: Option<String>, bound: Option<String>) -> Partitioning {
        Partitioning { by: key.as_deref().and_then(parse_key), of: parent, bound }
    }
}

/// `FOR VALUES IN ('eu')`, written with or without `FOR VALUES`; `DEFAULT`.
fn bound_clause(text: &str) -> String {
    let trimmed = text.trim();
    let upper = trimmed.to_uppercase();
    if upper == "DEFAULT" || upper.starts_with("FOR VALUES") {
        trimmed.to_owned()
    } else {
        format!("FOR VALUES {trimmed}")
    }
}

/// `RANGE (created_at, region)` as its strategy and key parts.
fn parse_key(definition: &str) -> Option<PartitionKey> {
    let (strategy, rest) = definition.split_once(' ')?;
    let inside = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(PartitionKey { strategy: strategy.to_lowercase(), columns: top_level_parts(inside) })
}

/// The comma-separated parts of `text` outside parentheses and quotes.
fn top_level_parts(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None::<char>);
    for c in text.chars() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            ('(', None) => depth += 1,
            (')', None) => depth -= 1,
            (',', None) if depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current.trim().to_owned());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// `PARTITION BY RANGE ("created_at")` for a partitioned table's `CREATE TABLE`.
pub fn partition_by_clause(key: &PartitionKey) -> String {
    let parts: Vec<String> = key.columns.iter().map(|c| crate::ddl::index_element(c)).collect();
    format!(" PARTITION BY {} ({})", key.strategy.to_uppercase(), parts.join(", "))
}

/// `CREATE TABLE ... PARTITION OF parent bound`: a partition's columns are its parent's.
pub fn create_partition(name_sql: &str, parent: &str, bound: &str) -> String {
    format!("CREATE TABLE {name_sql} PARTITION OF {} {bound}", qualified_ref(parent))
}

/// What a table's partitioning change takes.
#[derive(Debug, Default)]
pub struct PartitionChange {
    /// The key changed (or appeared or went): only a new table can have it.
    pub replace: bool,
    pub statements: Vec<String>,
    pub locking: Vec<String>,
}

/// The change from `prior`'s partitioning to `desired`'s (bound already in PostgreSQL's spelling).
/// A partition that only leaves its parent is detached CONCURRENTLY when `concurrently` (the
/// parent has no default partition), so the parent's reads and writes go on.
pub fn change(prior: &Table, desired: &Table, table_sql: &str, concurrently: bool) -> PartitionChange {
    let (old, new) = (&prior.partitioning, &desired.partitioning);
    if !same_key(old.by.as_ref(), new.by.as_ref()) {
        return PartitionChange { replace: true, ..PartitionChange::default() };
    }
    let mut change = PartitionChange::default();
    if old.of == new.of && old.bound == new.bound {
        return change;
    }
    let id = desired.id();
    match &old.of {
        Some(parent) if concurrently && new.of.is_none() => {
            change.statements.push(format!("ALTER TABLE {} DETACH PARTITION {table_sql} CONCURRENTLY -- outside a transaction, as PostgreSQL requires", qualified_ref(parent)));
            change.locking.push(format!("detaches {id} from {parent} CONCURRENTLY: reads and writes of {parent} go on; {id} waits for the queries that use it"));
        }
        Some(parent) => {
            change.statements.push(format!("ALTER TABLE {} DETACH PARTITION {table_sql}", qualified_ref(parent)));
            change.locking.push(format!("detaches {id} from {parent} under an ACCESS EXCLUSIVE lock on {parent}: its reads and writes wait"));
        }
        None => {}
    }
    if let (Some(parent), Some(bound)) = (&new.of, &new.bound) {
        change.statements.push(format!("ALTER TABLE {} ATTACH PARTITION {table_sql} {bound}", qualified_ref(parent)));
        change.locking.push(format!("attaches {id} to {parent}: scans {id} under an ACCESS EXCLUSIVE lock to check its rows fit {bound}"));
    }
    change
}

/// Keys compare as PostgreSQL prints them, but a column may be written quoted or not.
fn same_key(a: Option<&PartitionKey>, b: Option<&PartitionKey>) -> bool {
    let spelled = |key: Option<&PartitionKey>| key.map(|k| (k.strategy.clone(), k.columns.iter().map(|c| c.replace('"', "").split_whitespace().collect::<String>()).collect::<Vec<_>>()));
    spelled(a) == spelled(b)
}

/// A live partition as strata compares it: its columns, primary key and the constraints and
/// indexes it inherits are its parent's, so only what `managed` declares of them counts (an
/// imported partition does not take them over either).
pub fn as_declared(live: Table, managed: &Table) -> Table {
    if managed.partitioning.of.is_none() || live.partitioning.of.is_none() {
        return live;
    }
    let mut live = crate::managed_view(live, managed);
    live.columns.clone_from(&managed.columns);
    live.primary_key.clone_from(&managed.primary_key);
    live
}

/// A partition's configuration refused before anything runs: its columns come from its parent.
pub fn check(table: &Table) -> Result<(), ProviderError> {
    if table.partitioning.of.is_some() && (!table.columns.is_empty() || !table.primary_key.is_empty()) {
        return Err(ProviderError::new(format!("{} is a partition (partition_of): it takes its columns and primary key from its parent", table.id()))
            .with_hint("remove its column blocks and primary_key; declare them on the parent"));
    }
    if table.partitioning.of.is_none() && table.columns.is_empty() {
        return Err(ProviderError::new(format!("{} has no column blocks", table.id())).with_hint("declare at least one column, or partition_of and bound for a partition"));
    }
    Ok(())
}

/// Before a partitioned table is dropped: fail, changing nothing, when partitions strata does not
/// manage are still attached (managed ones are dropped before their parent), since the drop would
/// take them and their rows with it.
pub fn refuse_dropping_undeclared(table: &Table) -> Option<String> {
    table.partitioning.by.as_ref()?;
    let relation = crate::ddl::literal(&qualified(&table.schema, &table.name));
    let message = crate::ddl::literal(&format!("table {} still has partitions strata does not manage: detach or drop them first", table.id()).replace('%', "%%"));
    Some(format!("DO $strata$ BEGIN IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = {relation}::regclass) THEN RAISE EXCEPTION {message}; END IF; END $strata$"))
}

/// A partition's bound as PostgreSQL prints it, from a temporary copy of its parent: `None` when
/// the parent is not there yet.
pub async fn normalized_bound(catalog: &Catalog<'_>, parent: &str, bound: &str) -> Result<Option<String>, ProviderError> {
    let key = crate::catalog::query(catalog, &format!("SELECT pg_get_partkeydef(c.oid) FROM pg_class c WHERE c.oid = to_regclass({})", crate::ddl::literal(&qualified_ref(parent)))).await?;
    let Some(Some(key)) = key.first().map(|row| row.get::<_, Option<String>>(0)) else { return Ok(None) };
    let statements = [
        format!("CREATE TEMPORARY TABLE {} (LIKE {}) PARTITION BY {key}", ident(SHADOW_PARENT), qualified_ref(parent)),
        format!("CREATE TEMPORARY TABLE {} PARTITION OF {} {bound}", ident(crate::normalize::SHADOW), ident(SHADOW_PARENT)),
    ];
    Ok(crate::normalize::in_rolled_back_transaction(catalog, &statements).await?.and_then(|shadow| shadow.partitioning.bound))
}

const SHADOW_PARENT: &str = "strata_shadow_parent";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_bounds_read_as_postgres_prints_them() {
        assert_eq!(parse_key("RANGE (created_at)"), Some(PartitionKey { strategy: "range".into(), columns: vec!["created_at".into()] }));
        assert_eq!(parse_key("LIST (region, date_trunc('month'::text, ts))").unwrap().columns, ["region", "date_trunc('month'::text, ts)"]);
        assert_eq!(bound_clause("FROM ('2026-01-01') TO ('2026-02-01')"), "FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')");
        assert_eq!(bound_clause("default"), "default");
        let key = PartitionKey { strategy: "range".into(), columns: vec!["created_at".into()] };
        assert_eq!(partition_by_clause(&key), " PARTITION BY RANGE (\"created_at\")");
        assert!(same_key(Some(&key), Some(&PartitionKey { columns: vec!["\"created_at\"".into()], ..key.clone() })));
    }
}
