//! Making a plan: configure the providers, refresh everything in state in one batch per
//! provider, then walk the graph in dependency order asking each provider to diff the desired
//! object against the live one. Unknown values flow downstream as unknown.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{Action, PlanRequest, ProviderError, RefreshRequest, Value};

use super::{OutputChange, Plan, ResourceChange};
use crate::addr::{Address, Mode};
use crate::context::Context;
use crate::diag::{Diagnostic, Location, Result};
use crate::eval::KnownResource;
use crate::graph::Node;
use crate::providers::Providers;
use crate::state::State;

#[derive(Clone, Copy, Debug, Default)]
pub struct PlanOptions {
    /// Plan to delete everything in state.
    pub destroy: bool,
}

/// The live objects behind the resources in state: `None` where one no longer exists.
pub type Refreshed = BTreeMap<Address, Option<Value>>;

pub async fn make_plan(ctx: &Context, state: &State, options: PlanOptions) -> Result<Plan> {
    let in_state = state.managed().map(|r| r.address());
    let used: BTreeSet<String> = Providers::names_for(ctx.config.resources.keys().chain(in_state.collect::<Vec<_>>().iter()));
    configure_providers(ctx, &used).await?;
    let refreshed = refresh(ctx, state).await?;
    let mut changes = Vec::new();
    let mut known = BTreeMap::new();
    if !options.destroy {
        for node in ctx.graph.order() {
            if let Node::Resource(address) = node {
                if let Some(change) = plan_resource(ctx, state, &refreshed, &mut known, &address).await? {
                    changes.push(change);
                }
            }
        }
    }
    changes.extend(plan_deletions(ctx, state, &refreshed, options.destroy));
    let outputs = plan_outputs(ctx, state, &known, options.destroy)?;
    Ok(Plan {
        changes,
        outputs,
        variables: ctx.variables.clone(),
        prior_lineage: Some(state.lineage.clone()),
        prior_serial: Some(state.serial),
        destroy: options.destroy,
    })
}

/// Configures each provider once with its evaluated `provider` block.
pub async fn configure_providers(ctx: &Context, names: &BTreeSet<String>) -> Result<()> {
    for name in names {
        let provider = ctx.providers.get(name)?;
        let config = ctx.provider_config(name, &BTreeMap::new())?;
        let location = ctx.config.providers.get(name).map(|p| p.body.location.clone());
        if !config.is_wholly_known() {
            return Err(Diagnostic::error(format!("the configuration of provider \"{name}\" depends on values known only after apply"))
                .at(location.as_ref())
                .hint("configure the provider from variables or values that exist before apply")
                .into());
        }
        provider.configure(&config).await.map_err(|err| provider_error(&format!("provider \"{name}\""), err, location.as_ref()))?;
    }
    Ok(())
}

/// Reads the live object of every managed resource in state, one batch per provider.
pub async fn refresh(ctx: &Context, state: &State) -> Result<Refreshed> {
    let mut by_provider: BTreeMap<&str, Vec<Address>> = BTreeMap::new();
    for resource in state.managed() {
        by_provider.entry(resource.provider.as_str()).or_default().push(resource.address());
    }
    let mut refreshed = Refreshed::new();
    for (name, addresses) in by_provider {
        let provider = ctx.providers.get(name)?;
        let requests: Vec<RefreshRequest> = addresses
            .iter()
            .filter_map(|a| state.get(a))
            .map(|r| RefreshRequest { type_name: r.type_name.clone(), state: r.value() })
            .collect();
        let results = provider.refresh(&requests).await.map_err(|err| provider_error(&format!("refreshing {name} resources"), err, None))?;
        if results.len() != requests.len() {
            return Err(Diagnostic::error(format!("provider \"{name}\" answered {} refresh results for {} resources", results.len(), requests.len())).into());
        }
        refreshed.extend(addresses.into_iter().zip(results));
    }
    Ok(refreshed)
}

async fn plan_resource(
    ctx: &Context,
    state: &State,
    refreshed: &Refreshed,
    known: &mut BTreeMap<Address, KnownResource>,
    address: &Address,
) -> Result<Option<ResourceChange>> {
    let location = ctx.config.resources.get(address).map(|r| r.location.clone());
    let (desired, sensitive) = ctx.desired(address, known)?;
    let provider = ctx.providers.get(address.provider())?;
    if address.mode == Mode::Data {
        let value = if desired.is_wholly_known() {
            provider.read_data(&address.type_name, &desired).await.map_err(|err| provider_error(&address.to_string(), err, location.as_ref()))?
        } else {
            Value::Unknown
        };
        known.insert(address.clone(), KnownResource { value, sensitive });
        return Ok(None);
    }
    let prior = refreshed.get(address).cloned().flatten();
    let request = PlanRequest { type_name: address.type_name.clone(), prior: prior.clone(), desired };
    let planned = provider.plan(&request).await.map_err(|err| provider_error(&address.to_string(), err, location.as_ref()))?;
    let vanished = state.get(address).is_some() && prior.is_none();
    known.insert(address.clone(), KnownResource { value: planned.planned.clone(), sensitive: sensitive.clone() });
    Ok(Some(ResourceChange {
        address: address.clone(),
        action: planned.action,
        before: prior,
        after: Some(planned.planned),
        replace_because: planned.replace_because,
        operations: planned.operations,
        sensitive,
        dependencies: ctx.graph.resource_dependencies(&Node::Resource(address.clone())),
        reason: vanished.then(|| "it was deleted outside strata".to_owned()),
        warnings: planned.warnings,
    }))
}

/// Deletes for resources in state that the configuration no longer has (or all, for destroy).
fn plan_deletions(ctx: &Context, state: &State, refreshed: &Refreshed, destroy: bool) -> Vec<ResourceChange> {
    state
        .managed()
        .filter(|r| destroy || !ctx.config.resources.contains_key(&r.address()))
        .map(|resource| {
            let address = resource.address();
            let before = refreshed.get(&address).cloned().flatten();
            let reason = match (&before, destroy) {
                (None, _) => "it was already deleted outside strata; it will be removed from state",
                (Some(_), true) => "destroy was requested",
                (Some(_), false) => "it is no longer in the configuration",
            };
            ResourceChange {
                address,
                action: Action::Delete,
                before,
                after: None,
                replace_because: vec![],
                operations: vec![],
                sensitive: resource.sensitive_attributes.clone(),
                dependencies: resource.dependency_addresses(),
                reason: Some(reason.to_owned()),
                warnings: vec![],
            }
        })
        .collect()
}

fn plan_outputs(ctx: &Context, state: &State, known: &BTreeMap<Address, KnownResource>, destroy: bool) -> Result<Vec<OutputChange>> {
    let scope = ctx.scope(known);
    let mut outputs = Vec::new();
    for (name, output) in &ctx.config.outputs {
        let before = state.outputs.get(name).map(|o| Value::from_json(&o.value));
        let (after, sensitive) = if destroy {
            (None, output.sensitive)
        } else {
            let evaluated = scope.eval_attr(&output.value)?;
            if evaluated.sensitive && !output.sensitive {
                return Err(Diagnostic::error(format!("output \"{name}\" refers to sensitive values"))
                    .at(Some(&output.location))
                    .hint("add sensitive = true to the output to show that you mean to expose it")
                    .into());
            }
            (Some(evaluated.value), output.sensitive)
        };
        outputs.push(OutputChange { name: name.clone(), before, after, sensitive });
    }
    for name in state.outputs.keys().filter(|n| !ctx.config.outputs.contains_key(*n)) {
        let old = &state.outputs[name];
        outputs.push(OutputChange { name: name.clone(), before: Some(Value::from_json(&old.value)), after: None, sensitive: old.sensitive });
    }
    Ok(outputs)
}

/// A provider's error as a diagnostic about `subject`.
pub fn provider_error(subject: &str, err: ProviderError, location: Option<&Location>) -> crate::diag::Diagnostics {
    let mut diagnostic = Diagnostic::error(format!("{subject}: {}", err.message)).at(location);
    if let Some(hint) = err.hint {
        diagnostic = diagnostic.hint(hint);
    }
    diagnostic.into()
}
