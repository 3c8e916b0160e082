//! What `removed` blocks plan (Terraform 1.7): a resource in state that the configuration no
//! longer declares, named by a `removed` block with `lifecycle { destroy = false }`, is
//! forgotten: a `Delete` marked `forget`, which apply carries out by dropping it from state,
//! never asking its provider. With `destroy = true` (the default) it is deleted as any resource
//! taken out of the configuration is; the planner says why.
//!
//! `strata destroy` destroys everything in state, forgotten or not: a removed block guards the
//! ordinary plan.

use strata_provider_sdk::Value;

use super::{ResourceChange, Summary};
use crate::context::Context;
use crate::state::Instance;

/// The forget change for `resource` (in state, not configured, about to be deleted), when a
/// removed block with `destroy = false` names it and its live object still exists.
pub fn forgotten(ctx: &Context, resource: &Instance<'_>, live: &Option<Value>, destroy: bool) -> Option<ResourceChange> {
    let address = resource.address();
    let removed = forgetting(ctx, &address)?;
    if destroy {
        return None;
    }
    let before = live.clone()?;
    let reason = format!(
        "removed from the configuration by the removed block at {}, with destroy = false: it is removed from state, and the object itself is left as it is",
        removed.location
    );
    Some(ResourceChange { reason: Some(reason), forget: true, ..ResourceChange::of_recorded(resource, strata_provider_sdk::Action::Delete, Some(before), None) })
}

/// Whether a removed block with `destroy = false` names `address` (for drift reports).
pub fn forgets(ctx: &Context, address: &crate::addrs::ResourceInstance) -> bool {
    forgetting(ctx, address).is_some()
}

/// The removed block with `destroy = false` that names `address`, if any.
fn forgetting<'c>(ctx: &'c Context, address: &crate::addrs::ResourceInstance) -> Option<&'c crate::config::Removed> {
    ctx.config.removed.iter().find(|r| r.from.contains(address)).filter(|r| !r.destroy)
}

/// ", 1 to forget" for the summary line, when there is anything to forget (as Terraform writes it).
pub fn forget_count(summary: &Summary) -> String {
    match summary.forget {
        0 => String::new(),
        n => format!(", {n} to forget"),
    }
}
