//! Proof that a live object is the one a create of this provider made (see
//! `strata_provider_sdk::authorship`).
//!
//! Owns the PostgreSQL mark: a create that runs in one transaction reads that transaction's id
//! right after `BEGIN` and has the engine record it in the intent before anything can commit. Every
//! catalog row a transaction writes carries its id as `xmin` (kept when the row is frozen), so the
//! object's row in `pg_class` (tables, indexes), `pg_type` (enums), `pg_namespace` (schemas) or
//! `pg_extension` was written by the recorded transaction only if that create made it; an object
//! made by hand was written by another transaction. A create that cannot run in one transaction
//! (`CONCURRENTLY`) leaves no mark and is never adopted. It must not change anything.

use strata_provider_sdk::{Authorship, ProviderError, Value};
use tokio_postgres::Client;

use crate::config::describe_error;

/// Inside the create's open transaction: records its id in the intent and waits until it is stored.
pub async fn mark_transaction(client: &Client, authorship: &Authorship) -> Result<(), ProviderError> {
    let row = client.query_one("SELECT txid_current()::text", &[]).await.map_err(|e| read_failed("the creating transaction's id", &e))?;
    authorship.record(row.get(0)).await
}

/// Whether the catalog row of `live` was written by one of the transactions in `marks`.
pub async fn written_by(client: &Client, type_name: &str, live: &Value, marks: &[String]) -> Result<bool, ProviderError> {
    let Some(writer) = row_writer(client, type_name, live).await? else { return Ok(false) };
    // `xmin` is the 32-bit transaction id; `txid_current()` adds the epoch above it.
    Ok(marks.iter().filter_map(|mark| mark.parse::<u64>().ok()).any(|txid| txid % (1 << 32) == writer))
}

/// The transaction id (`xmin`) of the catalog row behind `live`; `None` when there is no such row.
async fn row_writer(client: &Client, type_name: &str, live: &Value) -> Result<Option<u64>, ProviderError> {
    let name = live.get_str("name").ok_or_else(|| ProviderError::new(format!("a live {type_name} without a name")))?;
    let schema = live.get_str("schema").unwrap_or("public");
    let (query, params): (&str, Vec<&(dyn tokio_postgres::types::ToSql + Sync)>) = match type_name {
        "postgres_table" | "postgres_index" => (
            "SELECT c.xmin::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
            vec![&schema, &name],
        ),
        "postgres_enum" => (
            "SELECT t.xmin::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = $1 AND t.typname = $2",
            vec![&schema, &name],
        ),
        "postgres_schema" => ("SELECT xmin::text FROM pg_namespace WHERE nspname = $1", vec![&name]),
        "postgres_extension" => ("SELECT xmin::text FROM pg_extension WHERE extname = $1", vec![&name]),
        other => return Err(crate::unknown_type(other)),
    };
    let row = client.query_opt(query, &params).await.map_err(|e| read_failed("the catalog row's xmin", &e))?;
    Ok(row.and_then(|row| row.get::<_, String>(0).parse().ok()))
}

fn read_failed(what: &str, err: &tokio_postgres::Error) -> ProviderError {
    ProviderError::new(format!("reading {what} failed: {}", describe_error(err)))
}
