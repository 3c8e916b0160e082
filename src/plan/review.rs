//! Warnings a provider can give only with its whole plan in view: a table whose row-level
//! security is enabled with no policy is deny-all unless a policy planned beside it serves it,
//! whichever of the two is planned first. After every resource is planned, each provider
//! configuration reviews what it planned (see `Provider::review`), and what it says is added to
//! the resources' warnings.

use std::collections::BTreeMap;

use strata_provider_sdk::{Action, Declared};

use super::planner::provider_error;
use super::ResourceChange;
use crate::addrs::ProviderConfig;
use crate::context::Context;
use crate::diag::Result;
use crate::state::State;

/// Adds each provider configuration's review of its planned resources to their warnings.
pub async fn add_warnings(ctx: &Context, state: &State, changes: &mut [ResourceChange]) -> Result<()> {
    let mut by_provider: BTreeMap<ProviderConfig, Vec<usize>> = BTreeMap::new();
    for (i, change) in changes.iter().enumerate().filter(|(_, c)| c.action != Action::Delete && c.after.is_some()) {
        by_provider.entry(ctx.provider_of(&change.address, state.get(&change.address).map(|i| i.provider()))).or_default().push(i);
    }
    for (config, members) in by_provider {
        let provider = ctx.providers.get(&config)?;
        let planned: Vec<Declared> = members
            .iter()
            .map(|&i| Declared { address: changes[i].address.to_string(), type_name: changes[i].address.type_name().to_owned(), desired: changes[i].after.clone().unwrap_or_default() })
            .collect();
        let warnings = provider.review(&planned).await.map_err(|err| provider_error(&format!("provider {config}"), err, None))?;
        for (&i, found) in members.iter().zip(warnings) {
            changes[i].warnings.extend(found);
        }
    }
    Ok(())
}
