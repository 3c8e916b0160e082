//! What a plan need not compare: a resource whose configuration digests the same as when it was
//! last applied, and whose live object is exactly what that apply recorded.
//!
//! The provider's plan of such a resource was an empty one then, and nothing it reads has changed
//! since, so it is planned as no change without asking the provider (for PostgreSQL, without the
//! shadow tables that put a definition into PostgreSQL's spelling: four queries per table). The
//! digest covers strata's version, so a new version compares everything once. A resource with a
//! sensitive value is always compared: its digest would be a fast hash of a secret.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};
use strata_provider_sdk::{Action, Value};

use super::Plan;
use crate::addrs::ResourceInstance;
use crate::state::State;

/// The salted digest of `desired`, the configuration of `address`; `None` when it cannot stand
/// for the configuration (a value still unknown, or a sensitive one).
pub fn desired_digest(state: &State, address: &ResourceInstance, desired: &Value, sensitive: &BTreeSet<String>) -> Option<String> {
    if !sensitive.is_empty() || !desired.is_wholly_known() {
        return None;
    }
    let mut hasher = Sha256::new();
    for part in [state.secret_salt.as_bytes(), env!("CARGO_PKG_VERSION").as_bytes(), address.to_string().as_bytes()] {
        hasher.update(part);
        hasher.update([0]);
    }
    hasher.update(desired.to_json().to_string().as_bytes());
    Some(format!("{:x}", hasher.finalize()))
}

/// Whether `address`, configured as `digest` says and found `live`, is as its last apply left it.
pub fn is_unchanged(state: &State, address: &ResourceInstance, digest: Option<&str>, live: &Value) -> bool {
    let (Some(digest), Some(recorded)) = (digest, state.get(address)) else { return false };
    recorded.desired_digest.as_deref() == Some(digest) && recorded.value() == *live
}

/// Records in `state` the digests a plan without changes found for resources whose live object is
/// what state holds (a state from before digests, or a configuration rewritten to the same
/// meaning), so the next plan skips them; whether anything changed.
pub fn record_digests(state: &mut State, plan: &Plan) -> bool {
    let mut recorded = false;
    for change in plan.changes.iter().filter(|c| c.action == Action::NoOp) {
        let Some(resource) = state.get(&change.address) else { continue };
        let live_is_recorded = change.before.as_ref() == Some(&resource.value());
        if live_is_recorded && change.desired_digest.is_some() && resource.desired_digest != change.desired_digest {
            state.set_desired_digest(&change.address, change.desired_digest.clone());
            recorded = true;
        }
    }
    recorded
}
