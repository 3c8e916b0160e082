//! Adopting what an interrupted apply created but never recorded.
//!
//! Apply writes a pending intent (`State::pending`) before every create; the resource's own state
//! write removes it. An intent still there means strata died in between: the object may exist
//! live with nothing in state naming it. Before planning, each such intent's import id is looked
//! up through the provider. A live object is adopted (put in state as if apply had recorded it, so
//! the plan compares against it instead of creating a twin) only when the provider finds on it the
//! mark that this intent's create left (`Provider::authored`, see
//! `strata_provider_sdk::authorship`): an object of the same name that someone else made (by hand,
//! another workspace or team) is never adopted, so never replaced, renamed or deleted; its intent
//! is dropped with a warning. An intent that finds nothing is dropped.
//! Owns that resolution only; it must not plan, print or write the state file (callers decide
//! whether the result is persisted).

use std::collections::BTreeSet;

use crate::addrs::ResourceInstance;
use crate::context::Context;
use crate::diag::{Diagnostic, Result};
use crate::plan::planner::{configure_provider, provider_error, state_as_known};
use crate::state::{PendingCreate, State};

/// What resolving one intent did.
#[derive(Debug)]
pub enum Resolution {
    /// The object exists: it is now in state.
    Adopted(ResourceInstance),
    /// Nothing by that id exists: the create never happened.
    Dropped(ResourceInstance),
    /// An object by that id exists but carries no mark of the intent's create: it is not strata's.
    LeftAlone { address: ResourceInstance, import_id: String },
}

impl Resolution {
    /// The line plan and apply print about it.
    pub fn describe(&self) -> String {
        match self {
            Resolution::Adopted(address) => format!("adopting {address}: created by an earlier apply that failed or was interrupted before recording it"),
            Resolution::Dropped(address) => format!("{address}: the earlier apply that failed or was interrupted had not created it; nothing to adopt"),
            Resolution::LeftAlone { address, import_id } => format!(
                "warning: {address}: \"{import_id}\" exists but no apply of this state created it (it carries no mark of strata's create), so it was left alone and is not managed by this state; use `strata import {address} {import_id}` to manage it, or choose another name"
            ),
        }
    }
}

/// Resolves every pending intent whose address has no state, changing `state` in memory. An
/// intent whose provider cannot be configured yet (its settings depend on something not yet
/// applied) stays for a later run: the object it names cannot exist without that.
pub async fn adopt_interrupted(ctx: &Context, state: &mut State) -> Result<Vec<Resolution>> {
    let mut resolutions = Vec::new();
    for intent in state.pending.clone() {
        let address: ResourceInstance = intent.address.parse().map_err(|err: String| damaged_intent(&intent, &err))?;
        if state.get(&address).is_some() {
            // A replacement's create: the old object's record stays until apply records the new one.
            continue;
        }
        let known = state_as_known(state);
        let config = intent.provider.parse().map_err(|err: String| damaged_intent(&intent, &err))?;
        if !configure_provider(ctx, &config, &known).await? {
            continue;
        }
        let provider = ctx.providers.get(&config)?;
        let live = provider.import(&intent.type_name, &intent.import_id).await.map_err(|err| provider_error(&intent.address, err, None))?;
        state.pending.retain(|p| p != &intent);
        let Some(live) = live else {
            resolutions.push(Resolution::Dropped(address));
            continue;
        };
        if !provider.authored(&intent.type_name, &live, &intent.proof()).await.map_err(|err| provider_error(&intent.address, err, None))? {
            resolutions.push(Resolution::LeftAlone { address, import_id: intent.import_id.clone() });
            continue;
        }
        let (sensitive, dependencies) = match ctx.config.resource(&address.config()).is_some() {
            true => (ctx.desired(&address, &known)?.1, ctx.dependencies_of(&address, &known)),
            // Adopted all the same, so that the plan deletes it like anything else in state.
            false => (BTreeSet::new(), BTreeSet::new()),
        };
        state.put(&address, &config, &live, sensitive, &dependencies);
        resolutions.push(Resolution::Adopted(address));
    }
    Ok(resolutions)
}

fn damaged_intent(intent: &PendingCreate, err: &str) -> crate::diag::Diagnostics {
    Diagnostic::error(format!("the state's pending create \"{}\" has a bad address: {err}", intent.address))
        .hint("restore the state from its .backup, or remove that entry from \"pending\" by hand")
        .into()
}
