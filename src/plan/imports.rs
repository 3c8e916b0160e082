//! `import` blocks (Terraform 1.5): the instances the configuration asks to bring under
//! management, each with the id its resource type's import takes. The planner reads the live
//! object through the provider's `import` and plans against it as if it had been in state; apply
//! records it, then makes any change planned. An import is the user's explicit word that the
//! object is now strata's, so it needs no authorship mark; a plan that would replace it is refused
//! all the same (an import must not destroy what it brings in).

use std::collections::BTreeMap;

use hcl::expr::{Expression, TraversalOperator};
use strata_provider_sdk::Value;

use super::Summary;
use crate::addrs::ResourceInstance;
use crate::config::{AttrExpr, Import};
use crate::context::Context;
use crate::diag::{Diagnostic, Diagnostics, Location, Result};
use crate::eval::{Known, Repetition, Scope};

/// One instance an import block asks for.
#[derive(Clone, Debug)]
pub struct Requested {
    pub id: String,
    pub location: Location,
}

/// Every import block's instances and ids, `for_each` expanded. An id or key not known now, a
/// target the configuration does not declare, and two imports into one address are errors.
pub fn resolve(ctx: &Context) -> Result<BTreeMap<ResourceInstance, Requested>> {
    let nothing_known = Known::new();
    let scope = ctx.scope(&nothing_known);
    let mut requested = BTreeMap::new();
    for import in &ctx.config.imports {
        for repetition in repetitions(&scope, import)? {
            let scope = scope.repeating(repetition);
            let address = target(&scope, &import.to)?;
            if ctx.config.resource(&address.config()).is_none() {
                return Err(Diagnostic::error("Configuration for import target does not exist")
                    .at(Some(&import.to.location))
                    .detail(format!("the configuration declares no {}", address.config()))
                    .hint("add the resource block the object is to be managed by, with its arguments as they are live")
                    .into());
            }
            let id = match scope.eval_attr(&import.id)?.value {
                Value::String(id) => id,
                Value::Unknown => return Err(Diagnostic::error("The import ID cannot be unknown").at(Some(&import.id.location)).hint("derive it from variables and literals known at plan time").into()),
                other => return Err(Diagnostic::error(format!("the import id must be a string, not {}", other.kind_phrase())).at(Some(&import.id.location)).into()),
            };
            if let Some(previous) = requested.insert(address.clone(), Requested { id, location: import.location.clone() }) {
                return Err(Diagnostic::error(format!("Duplicate import configuration for {address}"))
                    .at(Some(&import.location))
                    .detail(format!("another import block names it at {}", previous.location))
                    .into());
            }
        }
    }
    Ok(requested)
}

/// `N to import, ` for the plan's summary line, when there are any.
pub fn import_count(summary: &Summary) -> String {
    if summary.import == 0 { String::new() } else { format!("{} to import, ", summary.import) }
}

/// The error when the object an import block names does not exist.
pub fn not_found(address: &ResourceInstance, requested: &Requested) -> Diagnostics {
    Diagnostic::error("Cannot import non-existent remote object")
        .at(Some(&requested.location))
        .detail(format!("no {} with the id \"{}\" exists, so nothing can be imported into {address}", address.type_name(), crate::secrets::redact(&requested.id)))
        .hint("check the id: it is what `strata import` takes for this resource type")
        .into()
}

/// The error when importing would be followed by a replacement.
pub fn would_replace(address: &ResourceInstance, requested: &Requested, because: &[String]) -> Diagnostics {
    Diagnostic::error(format!("importing {address} would replace the object it imports"))
        .at(Some(&requested.location))
        .detail(format!("the configuration differs from the live object in what forces a replacement: {}", because.join(", ")))
        .hint("make the resource block match the live object, import, then change it in a later plan")
        .into()
}

fn repetitions(scope: &Scope<'_>, import: &Import) -> Result<Vec<Repetition>> {
    let Some(attr) = &import.for_each else { return Ok(vec![Repetition::None]) };
    match crate::instances::for_each(scope, attr)? {
        Some(entries) => Ok(entries.into_iter().map(|(key, value)| Repetition::Each { key: Value::String(key), value }).collect()),
        None => Err(Diagnostic::error("Invalid for_each argument").at(Some(&attr.location)).detail("an import block's for_each must be known at plan time").into()),
    }
}

/// The instance `to` names, its keys evaluated (`postgres_table.t[each.key]`).
fn target(scope: &Scope<'_>, to: &AttrExpr) -> Result<ResourceInstance> {
    let bad = |why: &str| -> Diagnostics {
        Diagnostic::error(format!("Invalid import address: {why}")).at(Some(&to.location)).hint("write to = TYPE.NAME, TYPE.NAME[KEY] or module.NAME.TYPE.NAME, without quotes").into()
    };
    let Expression::Traversal(traversal) = &to.expr else { return Err(bad("not a resource address")) };
    let Expression::Variable(root) = &traversal.expr else { return Err(bad("not a resource address")) };
    let mut text = root.as_str().to_owned();
    for operator in &traversal.operators {
        match operator {
            TraversalOperator::GetAttr(name) => text.push_str(&format!(".{}", name.as_str())),
            TraversalOperator::LegacyIndex(index) => text.push_str(&format!("[{index}]")),
            TraversalOperator::Index(expr) => match scope.eval_attr(&AttrExpr { expr: expr.clone(), location: to.location.clone() })?.value {
                Value::String(key) => text.push_str(&format!("[{}]", serde_json::Value::from(key))),
                Value::Number(n) => text.push_str(&format!("[{n}]")),
                Value::Unknown => return Err(bad("a key is not known at plan time")),
                other => return Err(bad(&format!("a key must be a string or a number, not {}", other.kind_phrase()))),
            },
            _ => return Err(bad("splats name no single instance")),
        }
    }
    text.parse().map_err(|why: String| bad(&why))
}
