//! The `backend "postgres" { conn_str = "...", schema_name = "..." }` block inside `strata { }`:
//! where the state lives when it is not the local file.
//!
//! Owns reading that block (Terraform's pg backend names) with the location of every mistake. It
//! must not connect anywhere or resolve the environment: `crate::state::backend` does that.

use super::load::{check_names, literal_string};
use super::{AttrExpr, BlockExpr};
use crate::diag::{Diagnostic, Location, Result};

/// The backend types strata knows.
const BACKEND_TYPES: [&str; 1] = ["postgres"];
/// What strata's backends are, for errors about one it does not have.
pub(super) const BACKENDS_NOTE: &str = "the backends strata has: local (the default) and postgres";

/// A `backend "postgres" { ... }` block as written. The connection string may hold a password,
/// so `Debug` never shows it.
#[derive(Clone)]
pub struct BackendSettings {
    /// `conn_str`; when absent the `PG_CONN_STR` environment variable is used, as Terraform does.
    pub conn_str: Option<String>,
    /// Where `conn_str` is written, for errors about its value.
    pub conn_str_location: Option<Location>,
    /// `schema_name`; `strata_state` when absent.
    pub schema_name: Option<String>,
    pub location: Location,
}

impl std::fmt::Debug for BackendSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendSettings").field("schema_name", &self.schema_name).field("location", &self.location).finish_non_exhaustive()
    }
}

/// Reads one `backend "TYPE" { ... }` block.
pub(super) fn backend_settings(block: &BlockExpr) -> Result<BackendSettings> {
    let kind = match block.labels.as_slice() {
        [kind] => kind.as_str(),
        _ => {
            return Err(Diagnostic::error(format!("a backend block takes 1 label (its type), found {}", block.labels.len()))
                .at(Some(&block.location))
                .hint("write backend \"postgres\" { conn_str = \"...\" }")
                .into())
        }
    };
    if !BACKEND_TYPES.contains(&kind) {
        return Err(Diagnostic::error(format!("unknown state backend \"{kind}\""))
            .at(Some(&block.location))
            .detail(BACKENDS_NOTE)
            .hint("strata stores state in the local file (no backend block) or in PostgreSQL: backend \"postgres\" { ... }")
            .into());
    }
    let attrs = &block.body.attributes;
    // Before anything else is checked: an error about this block may quote the line the
    // connection string is on, and its password must not show there.
    let conn_str_attr = attrs.get("conn_str");
    let conn_str = conn_str_attr.map(|attr| literal_string(attr, "conn_str")).transpose()?;
    if let Some(conn_str) = &conn_str {
        crate::secrets::remember_conn_str(conn_str);
    }
    check_names(&block.body, &["conn_str", "schema_name"], &[], "the postgres backend block")?;
    let schema_name = attrs.get("schema_name").map(schema_name).transpose()?;
    Ok(BackendSettings {
        conn_str,
        conn_str_location: conn_str_attr.map(|attr| attr.location.clone()),
        schema_name,
        location: block.location.clone(),
    })
}

/// `schema_name`: a literal PostgreSQL identifier.
fn schema_name(attr: &AttrExpr) -> Result<String> {
    let name = literal_string(attr, "schema_name")?;
    if name.is_empty() || name.len() > 63 {
        return Err(Diagnostic::error("\"schema_name\" must be a PostgreSQL identifier of 1 to 63 characters")
            .at(Some(&attr.location))
            .hint("leave it out to use strata_state")
            .into());
    }
    Ok(name)
}
