//! Guards that keep a migration from stalling the application or losing data for good: the
//! `lock_timeout` every DDL transaction starts with, how a change's statements are grouped into
//! transactions, the lock-timeout error, and `backup_before_drop` copies.
//!
//! Owns the provider block's `lock_timeout` and `backup_before_drop` arguments and the SQL that
//! wraps a change; it decides nothing about what changes (that is `diff`) and opens no connection.

use strata_provider_sdk::{PlannedChange, ProviderError, Value};
use tokio_postgres::Client;

use crate::ddl::{ident, literal, qualified};
use crate::lock_holders::Described;
use crate::model::Table;

/// Long enough for a healthy server to hand over any lock DDL needs; short enough that the
/// queries queueing behind a blocked `ALTER TABLE` wait at most this long before it gives up.
pub const DEFAULT_LOCK_TIMEOUT: &str = "5s";

/// The schema `backup_before_drop` copies data into.
pub const BACKUP_SCHEMA: &str = "strata_backup";

/// Statements that must run in a transaction of their own after the change's main one: they take
/// a weaker lock and may take long (`VALIDATE CONSTRAINT` scans the table).
const LATER_TRANSACTION: &str = " VALIDATE CONSTRAINT ";

/// The provider block's guard settings.
#[derive(Clone, Debug, PartialEq)]
pub struct Guards {
    /// A PostgreSQL duration (`5s`, `500ms`, `1min`); `0` waits for ever.
    pub lock_timeout: String,
    pub backup_before_drop: bool,
}

impl Default for Guards {
    fn default() -> Self {
        Guards { lock_timeout: DEFAULT_LOCK_TIMEOUT.into(), backup_before_drop: false }
    }
}

impl Guards {
    /// Reads `lock_timeout` and `backup_before_drop` from the provider block (null when none).
    pub fn from_config(config: &Value) -> Result<Guards, ProviderError> {
        let lock_timeout = config.get_str("lock_timeout").map_or_else(|| DEFAULT_LOCK_TIMEOUT.to_owned(), |t| t.trim().replace(' ', ""));
        if !is_duration(&lock_timeout) {
            return Err(ProviderError::new(format!("lock_timeout \"{lock_timeout}\" is not a duration"))
                .with_hint("write a number with ms, s, min or h, such as \"5s\" (\"0\" waits for ever)"));
        }
        Ok(Guards { lock_timeout, backup_before_drop: config.get_bool("backup_before_drop").unwrap_or(false) })
    }

    /// `change` with its statements as they run: see [`Guards::sequence`].
    pub fn sequence_change(&self, mut change: PlannedChange) -> PlannedChange {
        change.operations = self.sequence(std::mem::take(&mut change.operations));
        change
    }

    /// A change's statements in the transactions they run in, each opening with the lock timeout:
    /// one implicit transaction when that is all it takes; `VALIDATE CONSTRAINT` in a second,
    /// explicit one; statements that cannot run in a transaction (`CONCURRENTLY`) one by one, after
    /// a session-wide timeout. Comments (`-- ...`) pass through untouched.
    pub fn sequence(&self, statements: Vec<String>) -> Vec<String> {
        if !statements.iter().any(|s| is_sql(s)) {
            return statements;
        }
        let set_local = format!("SET LOCAL lock_timeout = '{}'", self.lock_timeout);
        if statements.iter().any(|s| outside_transaction(s)) {
            return std::iter::once(format!("SET lock_timeout = '{}'", self.lock_timeout)).chain(statements).collect();
        }
        let (later, first): (Vec<String>, Vec<String>) = statements.into_iter().partition(|s| s.contains(LATER_TRANSACTION));
        if later.is_empty() {
            return std::iter::once(set_local).chain(first).collect();
        }
        let transaction = |body: Vec<String>| std::iter::once("BEGIN".to_owned()).chain(std::iter::once(set_local.clone())).chain(body).chain(std::iter::once("COMMIT".to_owned()));
        transaction(first).chain(transaction(later)).collect()
    }

    /// What copies `table` aside before it is dropped, and where (for `backups`); nothing
    /// unless `backup_before_drop` is on.
    pub fn backup_table(&self, table: &Table) -> Backup {
        let location = backup_location(table, None);
        self.backup(format!("{} AS TABLE {}", location.sql, qualified(&table.schema, &table.name)), &location, format!("every row of {}", table.id()))
    }

    /// What copies a column aside (with the primary key to match its rows; the whole table when
    /// there is none) before it is dropped.
    pub fn backup_column(&self, table: &Table, column: &str) -> Backup {
        let location = backup_location(table, Some(column));
        let (columns, what) = if table.primary_key.is_empty() {
            ("*".to_owned(), format!("column {column} of {} (with every other column: the table has no primary key)", table.id()))
        } else {
            let mut names: Vec<String> = table.primary_key.iter().map(|c| ident(c)).collect();
            names.push(ident(column));
            (names.join(", "), format!("column {column} of {} with its primary key", table.id()))
        };
        self.backup(format!("{} AS SELECT {columns} FROM {}", location.sql, qualified(&table.schema, &table.name)), &location, what)
    }

    fn backup(&self, create_as: String, location: &Location, what: String) -> Backup {
        if !self.backup_before_drop {
            return Backup::default();
        }
        Backup {
            statements: vec![format!("CREATE SCHEMA IF NOT EXISTS {}", ident(BACKUP_SCHEMA)), format!("CREATE TABLE {create_as}")],
            location: Some(format!("table {BACKUP_SCHEMA}.{} ({what})", location.name)),
        }
    }
}

/// The statements that copy data aside and where they put it; empty when no backup is taken.
#[derive(Debug, Default)]
pub struct Backup {
    pub statements: Vec<String>,
    pub location: Option<String>,
}

struct Location {
    name: String,
    sql: String,
}

/// A backup table's name: what it copies, then a fingerprint of the live table it copies. Plan
/// and apply see the same live table, so they name the same backup without a clock; a later drop
/// of a changed table gets a new name, and an existing backup is never overwritten (`CREATE
/// TABLE` fails instead).
fn backup_location(table: &Table, column: Option<&str>) -> Location {
    let mut stem = format!("{}_{}", table.schema, table.name);
    let mut fingerprint_source = table.to_value().to_json().to_string();
    if let Some(column) = column {
        stem.push_str(&format!("_{column}"));
        fingerprint_source.push_str(column);
    }
    // 54 bytes of stem, `_` and 8 hex digits: PostgreSQL's 63-byte limit, so the name is kept whole.
    let name = format!("{}_{:08x}", truncate_to(&stem, 54), fnv1a(&fingerprint_source));
    Location { sql: qualified(BACKUP_SCHEMA, &name), name }
}

fn truncate_to(text: &str, bytes: usize) -> &str {
    let mut end = bytes.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// FNV-1a: a stable hash, the same in every build (std's hasher may change between releases).
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193))
}

/// Whether a change's statements, as [`Guards::sequence`] gives them, run in one transaction that
/// the caller opens: not when they open their own (`BEGIN`) or cannot run in one (`CONCURRENTLY`).
pub fn in_one_transaction(statements: &[String]) -> bool {
    !statements.iter().any(|s| outside_transaction(s) || s == "BEGIN")
}

/// Whether PostgreSQL refuses to run `statement` inside a transaction block: `CONCURRENTLY`,
/// `CREATE DATABASE`, `DROP DATABASE` and `ALTER DATABASE ... SET TABLESPACE`.
fn outside_transaction(statement: &str) -> bool {
    statement.contains(" CONCURRENTLY ")
        || statement.starts_with("CREATE DATABASE ")
        || statement.starts_with("DROP DATABASE ")
        || (statement.starts_with("ALTER DATABASE ") && statement.contains(" SET TABLESPACE "))
}

fn is_sql(statement: &str) -> bool {
    !statement.trim_start().starts_with("--")
}

/// Whether `text` is a duration PostgreSQL's `lock_timeout` accepts and strata allows.
fn is_duration(text: &str) -> bool {
    let digits = text.chars().take_while(char::is_ascii_digit).count();
    digits > 0 && ["", "ms", "s", "min", "h"].contains(&&text[digits..])
}

/// After a change failed: when its first transaction committed constraints `NOT VALID` that the
/// second could not validate (existing rows break them), drops them again, so that no unchecked
/// constraint is left behind and the next plan adds them anew. Returns whether the first
/// transaction had committed (so the table changed, and its state must be read back). A
/// constraint that was there before the change (declared `validated = false`, now asked to
/// validate) is the user's and is kept.
pub async fn drop_unvalidated(client: &Client, statements: &[String]) -> bool {
    let added = |constraint: &str| statements.iter().any(|s| s.contains(&format!(" ADD CONSTRAINT {} ", ident(constraint))));
    let validations: Vec<(&str, String)> = statements.iter().filter_map(|s| validated_constraint(s)).filter(|(_, constraint)| added(constraint)).collect();
    if validations.is_empty() {
        return false;
    }
    // The failed statement left its transaction aborted.
    let _ = client.batch_execute("ROLLBACK").await;
    let mut committed = false;
    for (table_sql, constraint) in validations {
        let unvalidated = format!(
            "SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = {}::regclass AND conname = {} AND NOT convalidated)",
            literal(table_sql),
            literal(&constraint)
        );
        if client.query_one(&unvalidated, &[]).await.is_ok_and(|row| row.get::<_, bool>(0)) {
            committed = true;
            let _ = client.batch_execute(&format!("ALTER TABLE {table_sql} DROP CONSTRAINT {}", ident(&constraint))).await;
        }
    }
    committed
}

/// The table (as written) and constraint (unquoted) of an `ALTER TABLE ... VALIDATE CONSTRAINT`.
fn validated_constraint(statement: &str) -> Option<(&str, String)> {
    let (table_sql, rest) = statement.strip_prefix("ALTER TABLE ")?.split_once(LATER_TRANSACTION)?;
    let quoted = rest.split(" --").next()?.trim();
    Some((table_sql, quoted.strip_prefix('"')?.strip_suffix('"')?.replace("\"\"", "\"")))
}

/// The error for a statement cancelled by `lock_timeout` (SQLSTATE 55P03), naming what it waited
/// for and, when seen, who holds it. `timeout` is the `lock_timeout` the change set.
pub fn lock_timeout_error(statement: &str, timeout: &str, holders: Option<Described>) -> ProviderError {
    let object = locked_object(statement).unwrap_or("the objects it changes");
    let (held_by, hint) = match holders {
        Some(holders) => (holders.held_by.clone(), holders.hint()),
        None => ("its holder was gone when strata looked".to_owned(), "retry later, or raise lock_timeout in the provider \"postgres\" block".to_owned()),
    };
    ProviderError::new(format!("could not get a lock on {object} within {timeout}: {held_by}\n  while running: {}", crate::objects::role::masked(statement)))
        .with_hint(format!("nothing of this change was kept; {hint}"))
}

/// The relation a DDL statement locks, as written in it.
pub fn locked_object(statement: &str) -> Option<&str> {
    let after = ["ALTER TABLE ", "DROP TABLE ", "COMMENT ON TABLE ", " ON ", "DROP INDEX ", "ALTER TYPE ", "DROP TYPE "].iter().find_map(|key| statement.split_once(key).map(|(_, rest)| rest))?;
    after.split_whitespace().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guards(backup: bool) -> Guards {
        Guards { backup_before_drop: backup, ..Guards::default() }
    }

    #[test]
    fn lock_timeout_defaults_to_5s_and_must_be_a_duration() {
        assert_eq!(Guards::from_config(&Value::Null).unwrap(), guards(false));
        let config = Value::object([("lock_timeout", Value::from("750ms")), ("backup_before_drop", Value::Bool(true))]);
        assert_eq!(Guards::from_config(&config).unwrap(), Guards { lock_timeout: "750ms".into(), backup_before_drop: true });
        let error = Guards::from_config(&Value::object([("lock_timeout", Value::from("5'; DROP TABLE x"))])).unwrap_err();
        assert!(error.message.contains("is not a duration"), "{error}");
    }

    #[test]
    fn every_transaction_starts_with_the_lock_timeout() {
        assert_eq!(guards(false).sequence(vec!["ALTER TABLE a".into()]), ["SET LOCAL lock_timeout = '5s'", "ALTER TABLE a"]);
        assert!(guards(false).sequence(vec![]).is_empty());
        let split = guards(false).sequence(vec!["ALTER TABLE a ADD CONSTRAINT c CHECK (x) NOT VALID".into(), "ALTER TABLE a VALIDATE CONSTRAINT c".into()]);
        assert_eq!(
            split,
            [
                "BEGIN",
                "SET LOCAL lock_timeout = '5s'",
                "ALTER TABLE a ADD CONSTRAINT c CHECK (x) NOT VALID",
                "COMMIT",
                "BEGIN",
                "SET LOCAL lock_timeout = '5s'",
                "ALTER TABLE a VALIDATE CONSTRAINT c",
                "COMMIT"
            ]
        );
        let concurrent = guards(false).sequence(vec!["CREATE INDEX CONCURRENTLY i ON t (a)".into()]);
        assert_eq!(concurrent, ["SET lock_timeout = '5s'", "CREATE INDEX CONCURRENTLY i ON t (a)"]);
        let database = guards(false).sequence(vec!["CREATE DATABASE \"d\"".into(), "ALTER DATABASE \"d\" CONNECTION LIMIT 3".into()]);
        assert_eq!(database, ["SET lock_timeout = '5s'", "CREATE DATABASE \"d\"", "ALTER DATABASE \"d\" CONNECTION LIMIT 3"]);
        assert!(!in_one_transaction(&database));
        assert!(in_one_transaction(&guards(false).sequence(vec!["ALTER DATABASE \"d\" CONNECTION LIMIT 3".into()])));
    }

    #[test]
    fn backups_are_named_from_the_live_table_and_only_when_asked_for() {
        let table = Table { schema: "public".into(), name: "users".into(), primary_key: vec!["id".into()], ..Table::default() };
        assert!(guards(false).backup_table(&table).statements.is_empty());
        let whole = guards(true).backup_table(&table);
        assert_eq!(whole.statements[0], "CREATE SCHEMA IF NOT EXISTS \"strata_backup\"");
        assert!(whole.statements[1].starts_with("CREATE TABLE \"strata_backup\".\"public_users_"), "{:?}", whole.statements);
        assert!(whole.statements[1].ends_with(" AS TABLE \"public\".\"users\""));
        assert_eq!(whole.statements, guards(true).backup_table(&table).statements, "plan and apply must name the same backup");
        let column = guards(true).backup_column(&table, "email");
        assert!(column.statements[1].ends_with(" AS SELECT \"id\", \"email\" FROM \"public\".\"users\""), "{:?}", column.statements);
        assert!(column.location.unwrap().starts_with("table strata_backup.public_users_email_"));
    }

    #[test]
    fn validations_name_their_table_and_constraint() {
        let statement = "ALTER TABLE \"public\".\"users\" VALIDATE CONSTRAINT \"we\"\"ird\" -- checks existing rows";
        assert_eq!(validated_constraint(statement), Some(("\"public\".\"users\"", "we\"ird".to_owned())));
        assert_eq!(validated_constraint("ALTER TABLE \"t\" ADD COLUMN x int"), None);
    }

    #[test]
    fn the_locked_object_is_read_from_the_statement() {
        assert_eq!(locked_object("ALTER TABLE \"public\".\"users\" ADD COLUMN x int"), Some("\"public\".\"users\""));
        assert_eq!(locked_object("CREATE INDEX \"i\" ON \"public\".\"users\" USING btree (a)"), Some("\"public\".\"users\""));
    }
}
