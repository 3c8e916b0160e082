//! `strata import` for PostgreSQL objects: finding the live object an id names in the catalog
//! snapshot, in the shape refresh gives it.
//!
//! Owns parsing import ids (`schema.name`, or `name` for an object in `public`; a schema's or an
//! extension's own name). A table comes with every index and constraint it has live, so they are
//! managed from then on. It reads only; it must not change anything.

use strata_provider_sdk::{ProviderError, Value};

use crate::catalog::Snapshot;

/// The live object `id` names, or `None` when there is none.
pub fn find(snapshot: &Snapshot, type_name: &str, id: &str) -> Result<Option<Value>, ProviderError> {
    let qualified = if id.contains('.') { id.to_owned() } else { format!("public.{id}") };
    Ok(match type_name {
        "postgres_table" => snapshot.tables.get(&qualified).map(|t| t.to_value()),
        "postgres_index" => snapshot.indexes.get(&qualified).map(|i| i.to_value()),
        "postgres_enum" => snapshot.enums.get(&qualified).map(|e| e.to_value()),
        "postgres_schema" => snapshot.schemas.get(id).map(|s| s.to_value()),
        "postgres_extension" => snapshot.extensions.get(id).map(|e| e.to_value()),
        other => return Err(crate::unknown_type(other)),
    })
}
