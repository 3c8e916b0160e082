//! What `strata inspect` asks a provider for: every live object it could manage, in the shape a
//! configuration declares it, so the engine can write `.tf` files and `import` blocks for them.

use crate::value::Value;

/// Which objects an inspection covers.
#[derive(Clone, Debug, Default)]
pub struct InspectScope {
    /// The namespaces to read (PostgreSQL schemas); empty: every one that is not the system's.
    pub namespaces: Vec<String>,
}

/// One live object, as a resource of `type_name` would declare it.
#[derive(Clone, Debug, PartialEq)]
pub struct Inspected {
    pub type_name: String,
    /// The object's own name, which the resource's name is made from.
    pub name: String,
    /// The namespace it lives in (one file is written per namespace).
    pub namespace: String,
    /// The id `Provider::import` accepts for it; also what other objects' arguments name it by.
    pub import_id: String,
    /// The resource's arguments: only what the configuration sets (no computed-only attributes).
    pub value: Value,
    /// The import ids of objects it needs first that its arguments do not name (the tables a
    /// view's query reads), for `depends_on`.
    pub depends_on: Vec<String>,
}

/// Everything an inspection found.
#[derive(Clone, Debug, Default)]
pub struct Inspection {
    pub objects: Vec<Inspected>,
    /// Objects in the namespaces read that no resource type can declare, as (namespace, what it is),
    /// so they are listed rather than silently left out.
    pub unsupported: Vec<(String, String)>,
}
