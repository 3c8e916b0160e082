//! Proof that a live object is the one a create of this provider made (see
//! `strata_provider_sdk::authorship`).
//!
//! Owns the PostgreSQL mark: a create that runs in one transaction reads that transaction's id
//! right after `BEGIN` and has the engine record it in the intent before anything can commit. Every
//! catalog row a transaction writes carries its id as `xmin` (kept when the row is frozen), so the
//! object's row in `pg_class` (tables, indexes), `pg_type` (enums), `pg_namespace` (schemas) or
//! `pg_extension` was written by the recorded transaction only if that create made it; an object
//! made by hand was written by another transaction. A create that cannot run in one transaction
//! (`CREATE INDEX CONCURRENTLY`) records instead, before it starts, the id of a transaction of its
//! own session that ends just before it (`after:ID`): the index's row must have been written by a
//! later transaction, so an index that existed before the intent (made by hand, say) never
//! matches; one made by someone else later could not share the name with strata's (its create
//! would have failed). It must not change anything.

use strata_provider_sdk::{Authorship, ProviderError, Value};
use tokio_postgres::Client;

use crate::config::describe_error;

/// Inside the create's open transaction: records its id in the intent and waits until it is stored.
pub async fn mark_transaction(client: &Client, authorship: &Authorship) -> Result<(), ProviderError> {
    let row = client.query_one("SELECT txid_current()::text", &[]).await.map_err(|e| read_failed("the creating transaction's id", &e))?;
    authorship.record(row.get(0)).await
}

/// Before statements that run outside a transaction: records `after:ID`, ID being a transaction
/// of this session that has ended, so every transaction the statements run gets a later id.
pub async fn mark_following(client: &Client, authorship: &Authorship) -> Result<(), ProviderError> {
    let row = client.query_one("SELECT txid_current()::text", &[]).await.map_err(|e| read_failed("a transaction id to follow", &e))?;
    authorship.record(format!("{AFTER}{}", row.get::<_, String>(0))).await
}

const AFTER: &str = "after:";

/// Whether the catalog row of `live` was written by one of the transactions in `marks` (or, for an
/// `after:ID` mark, by a transaction later than ID).
pub async fn written_by(client: &Client, type_name: &str, live: &Value, marks: &[String]) -> Result<bool, ProviderError> {
    let Some(writer) = row_writer(client, type_name, live).await? else { return Ok(false) };
    Ok(marks.iter().any(|mark| match mark.strip_prefix(AFTER) {
        Some(earlier) => earlier.parse().is_ok_and(|earlier| follows(writer, earlier)),
        None => mark.parse().is_ok_and(|txid: u64| xid(txid) == writer),
    }))
}

/// `xmin` is the 32-bit transaction id; `txid_current()` adds the epoch above it.
fn xid(txid: u64) -> u64 {
    txid % (1 << 32)
}

/// Whether the 32-bit id `writer` came after `earlier`, in PostgreSQL's circular order of ids.
fn follows(writer: u64, earlier: u64) -> bool {
    let distance = writer.wrapping_sub(xid(earlier)) % (1 << 32);
    distance != 0 && distance < (1 << 31)
}

/// The transaction id (`xmin`) of the catalog row behind `live`; `None` when there is no such row.
async fn row_writer(client: &Client, type_name: &str, live: &Value) -> Result<Option<u64>, ProviderError> {
    // Kinds in `objects` name their own row (a membership has no name).
    let name = match crate::objects::kind(type_name) {
        Some(_) => "",
        None => live.get_str("name").ok_or_else(|| ProviderError::new(format!("a live {type_name} without a name")))?,
    };
    let schema = live.get_str("schema").unwrap_or("public");
    let object_row;
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
        other => {
            object_row = crate::object_kind(other)?.authorship(live)?;
            (object_row.query, object_row.params.iter().map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync)).collect())
        }
    };
    let row = match client.query_opt(query, &params).await {
        Ok(row) => row,
        // A row strata may not read (pg_authid, without a superuser) proves nothing: not adopted.
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => return Ok(None),
        Err(e) => return Err(read_failed("the catalog row's xmin", &e)),
    };
    Ok(row.and_then(|row| row.get::<_, String>(0).parse().ok()))
}

fn read_failed(what: &str, err: &tokio_postgres::Error) -> ProviderError {
    ProviderError::new(format!("reading {what} failed: {}", describe_error(err)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_later_transaction_follows_an_earlier_one_across_the_wraparound() {
        assert!(follows(101, 100));
        assert!(!follows(100, 100));
        assert!(!follows(99, 100));
        // The epoch (above 32 bits) of txid_current() is ignored.
        assert!(follows(5, (3 << 32) + 4_294_967_290));
        assert_eq!(xid((2 << 32) + 7), 7);
    }
}
