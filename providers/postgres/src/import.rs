//! `strata import` for PostgreSQL objects: finding the live object an id names in the catalog
//! snapshot, in the shape refresh gives it.
//!
//! Owns parsing import ids (`schema.name`, or `name` for an object in `public`; a schema's or an
//! extension's own name). A table comes with every index and constraint it has live, so they are
//! managed from then on; and the id of the object a create would make, for adopting it after an
//! interrupted apply. It reads only; it must not change anything.

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
        other => crate::object_kind(other)?.import(snapshot.objects.get(other).unwrap_or(&Default::default()), id),
    })
}

/// The import id of the object a create of `planned` makes: its (schema-qualified) name.
pub fn adoption_id(type_name: &str, planned: &Value) -> Option<String> {
    let name = planned.get_str("name")?;
    match type_name {
        "postgres_table" | "postgres_index" | "postgres_enum" => Some(format!("{}.{name}", planned.get_str("schema").unwrap_or("public"))),
        "postgres_schema" | "postgres_extension" => Some(name.to_owned()),
        other => crate::objects::kind(other)?.adoption_id(planned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adoption_ids_are_what_import_accepts() {
        let named = |pairs: &[(&str, &str)]| Value::object(pairs.iter().map(|(k, v)| (*k, Value::from(*v))));
        assert_eq!(adoption_id("postgres_table", &named(&[("name", "users")])).as_deref(), Some("public.users"));
        assert_eq!(adoption_id("postgres_index", &named(&[("name", "idx"), ("schema", "ops")])).as_deref(), Some("ops.idx"));
        assert_eq!(adoption_id("postgres_extension", &named(&[("name", "pgcrypto")])).as_deref(), Some("pgcrypto"));
        assert_eq!(adoption_id("postgres_table", &Value::object([("name", Value::Unknown)])), None);
    }
}
