//! What a failed concurrent index build leaves: PostgreSQL commits the index's catalog entry
//! before it builds it, so a build cancelled by a deadlock, a lock timeout or a duplicate key
//! leaves an index marked invalid (`pg_index.indisvalid = false`) that takes the name and slows
//! writes without serving reads. The failed change drops it at once, so a retry (or the next
//! apply) builds it anew.
//!
//! Owns only that clean-up; an invalid index already in state is rebuilt by the plan (`diff`).

use tokio_postgres::Client;

use crate::ddl::{self, literal, qualified};
use crate::model::TableIndex;

/// Whether a relation by `index`'s name exists: an index the change is about to create must not
/// be one, or whatever the build leaves behind is not strata's to drop.
pub async fn name_taken(client: &Client, index: &TableIndex) -> bool {
    let sql = format!("SELECT to_regclass({}) IS NOT NULL", literal(&qualified(&index.schema, &index.index.name)));
    // When in doubt the name counts as taken: nothing is dropped then.
    client.query_one(&sql, &[]).await.map_or(true, |row| row.get::<_, bool>(0))
}

/// Drops `index` if it exists and is invalid, best effort: the failure that left it is the error
/// the user sees.
pub async fn drop_left_behind(client: &Client, index: &TableIndex) {
    let invalid = format!(
        "SELECT EXISTS (SELECT 1 FROM pg_index WHERE indexrelid = to_regclass({}) AND NOT indisvalid)",
        literal(&qualified(&index.schema, &index.index.name))
    );
    if client.query_one(&invalid, &[]).await.is_ok_and(|row| row.get::<_, bool>(0)) {
        let _ = client.batch_execute(&ddl::drop_table_index(index, true)).await;
    }
}
