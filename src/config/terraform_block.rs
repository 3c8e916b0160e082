//! The `terraform { ... }` block: `required_version` and `required_providers`, read with their
//! locations for the checks `context` makes against strata's providers. A `backend` or `cloud`
//! block (state kept elsewhere) is refused: strata has its own, in the `strata` block.

use std::collections::BTreeMap;

use super::load::{check_names, literal_string};
use super::{AttrExpr, BodyExpr};
use crate::diag::{Diagnostic, Location, Result};

/// What one module's `terraform` blocks require.
#[derive(Clone, Debug, Default)]
pub struct Requirements {
    /// `required_version` constraints, each where it is written.
    pub versions: Vec<(String, Location)>,
    /// `required_providers`, by local name.
    pub providers: BTreeMap<String, RequiredProvider>,
}

/// `aws = { source = "hashicorp/aws", version = "~> 6.0" }` (or, Terraform 0.12's form, `aws = "~> 6.0"`).
#[derive(Clone, Debug)]
pub struct RequiredProvider {
    pub source: Option<String>,
    pub version: Option<String>,
    pub location: Location,
}

/// Adds what one `terraform` block requires to `requirements`.
pub(super) fn read(body: &BodyExpr, requirements: &mut Requirements) -> Result<()> {
    check_names(body, &["required_version", "experiments"], &["required_providers", "backend", "cloud", "provider_meta"], "the terraform block")?;
    if let Some(block) = body.blocks.iter().find(|b| matches!(b.kind.as_str(), "backend" | "cloud")) {
        let kind = if block.kind == "cloud" { "cloud".to_owned() } else { format!("backend \"{}\"", block.labels.first().map(String::as_str).unwrap_or_default()) };
        return Err(Diagnostic::error(format!("strata does not support the terraform {kind}"))
            .at(Some(&block.location))
            .detail(super::backend_block::BACKENDS_NOTE)
            .hint("remove this block, and declare strata { backend \"postgres\" { conn_str = \"...\" } } to keep the state in PostgreSQL")
            .into());
    }
    if let Some(attr) = body.attributes.get("required_version") {
        requirements.versions.push((literal_string(attr, "required_version")?, attr.location.clone()));
    }
    for block in body.blocks.iter().filter(|b| b.kind == "required_providers") {
        for (name, attr) in &block.body.attributes {
            requirements.providers.insert(name.clone(), required_provider(attr)?);
        }
    }
    Ok(())
}

fn required_provider(attr: &AttrExpr) -> Result<RequiredProvider> {
    let location = attr.location.clone();
    let hcl::Expression::Object(entries) = &attr.expr else {
        // `aws = "~> 6.0"`: a version alone.
        return Ok(RequiredProvider { source: None, version: Some(literal_string(attr, "a required provider's version")?), location });
    };
    let mut required = RequiredProvider { source: None, version: None, location };
    for (key, value) in entries {
        let key = match key {
            hcl::ObjectKey::Identifier(ident) => ident.as_str().to_owned(),
            hcl::ObjectKey::Expression(hcl::Expression::String(text)) => text.clone(),
            _ => String::new(),
        };
        let value = AttrExpr { expr: value.clone(), location: attr.location.clone() };
        match key.as_str() {
            "source" => required.source = Some(literal_string(&value, "source")?),
            "version" => required.version = Some(literal_string(&value, "version")?),
            "configuration_aliases" => {}
            other => {
                return Err(Diagnostic::error(format!("unknown argument \"{other}\" in a required provider"))
                    .at(Some(&attr.location))
                    .hint(crate::diag::suggestion(other, ["source", "version", "configuration_aliases"]))
                    .into())
            }
        }
    }
    Ok(required)
}
