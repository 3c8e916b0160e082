//! Targeting: which resources a plan may touch under `-target` and `-exclude`, and which ones
//! `-replace` asks to replace although nothing forces it.
//!
//! Owns checking those addresses (exact resource addresses only, each one in the configuration or
//! the state) and working out the scope: a target comes with everything it depends on, an
//! exclusion takes everything that depends on it along (as OpenTofu 1.9 does). For destroy the
//! directions swap, since a dependant cannot outlive what it depends on. It must not plan or change
//! anything: the planner asks it what is in scope.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::Action;

use super::planner::provider_error;
use super::{OutputChange, ResourceChange};
use crate::addr::{Address, Mode};
use crate::context::Context;
use crate::diag::{suggestion, Diagnostic, Diagnostics, Result};
use crate::eval::KnownResource;
use crate::graph::Node;
use crate::state::State;

/// The addresses given to `-target`, `-exclude` and `-replace`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targeting {
    pub targets: Vec<Address>,
    pub excludes: Vec<Address>,
    pub replace: Vec<Address>,
}

impl Targeting {
    /// Parses the flags' values; each must be a whole resource address.
    pub fn parse(targets: &[String], excludes: &[String], replace: &[String]) -> Result<Targeting> {
        Ok(Targeting { targets: addresses("-target", targets)?, excludes: addresses("-exclude", excludes)?, replace: addresses("-replace", replace)? })
    }

    /// Whether `-target` or `-exclude` narrows the plan (so it may be incomplete).
    pub fn narrows(&self) -> bool {
        !self.targets.is_empty() || !self.excludes.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        !self.narrows() && self.replace.is_empty()
    }
}

fn addresses(flag: &str, given: &[String]) -> Result<Vec<Address>> {
    given
        .iter()
        .map(|text| {
            text.parse::<Address>().map_err(|err| {
                Diagnostic::error(format!("{flag}: {err}"))
                    .hint(format!("{flag} takes one resource's exact address, such as postgres_table.users (repeat the flag for several)"))
                    .into()
            })
        })
        .collect()
}

/// The Terraform-style warning shown whenever `-target` or `-exclude` is in effect.
pub fn narrowing_warning() -> Diagnostic {
    Diagnostic::warning("Resource targeting is in effect").detail(
        "This plan covers only the resources chosen with -target or -exclude (with what they need or what needs them), so it may not \
         show every change the configuration asks for. Use it to recover from errors or mistakes, not routinely; a plan without \
         these options shows everything.",
    )
}

/// The resources a plan may touch (all of them unless `-target` or `-exclude` says otherwise), and
/// those to replace although nothing forces it.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    only: Option<BTreeSet<Address>>,
    replace: BTreeSet<Address>,
}

impl Scope {
    pub fn contains(&self, address: &Address) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(address))
    }

    pub fn replaces(&self, address: &Address) -> bool {
        self.replace.contains(address)
    }

    /// `outputs` with those that read a resource left out of the plan kept as they are.
    pub fn keep_outputs_left_out(&self, ctx: &Context, outputs: Vec<OutputChange>) -> Vec<OutputChange> {
        let reads_left_out = |name: &str| ctx.graph.resource_dependencies(&Node::Output(name.to_owned())).iter().any(|a| !self.contains(a));
        outputs
            .into_iter()
            .map(|output| if reads_left_out(&output.name) { OutputChange { after: output.before.clone(), ..output } } else { output })
            .collect()
    }
}

/// Checks every address in `targeting` against the configuration and the state, and works out the
/// scope.
pub fn scope(ctx: &Context, state: &State, targeting: &Targeting, destroy: bool) -> Result<Scope> {
    let links = Links::new(ctx, state);
    let mut errors = Diagnostics::default();
    for (flag, addresses) in [("-target", &targeting.targets), ("-exclude", &targeting.excludes), ("-replace", &targeting.replace)] {
        for address in addresses.iter().filter(|a| !links.dependencies.contains_key(*a)) {
            let known: Vec<String> = links.dependencies.keys().map(Address::to_string).collect();
            errors.push(Diagnostic::error(format!("{flag} {address}: no such resource in the configuration or the state")).hint(suggestion(&address.to_string(), known.iter().map(String::as_str))));
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    let scope = Scope { only: targeting.narrows().then(|| narrowed(&links, targeting, destroy)), replace: targeting.replace.iter().cloned().collect() };
    check_replace(ctx, state, targeting, destroy, &scope)?;
    Ok(scope)
}

/// The targets with what they need (or, for destroy, what needs them), less the exclusions with
/// what needs them (or, for destroy, what they need).
fn narrowed(links: &Links, targeting: &Targeting, destroy: bool) -> BTreeSet<Address> {
    let (with_target, with_exclusion) = if destroy { (&links.dependants, &links.dependencies) } else { (&links.dependencies, &links.dependants) };
    let mut only: BTreeSet<Address> = if targeting.targets.is_empty() { links.dependencies.keys().cloned().collect() } else { closure(&targeting.targets, with_target) };
    for excluded in closure(&targeting.excludes, with_exclusion) {
        only.remove(&excluded);
    }
    only
}

/// `-replace` applies to objects that exist and stay: in state, in the configuration, in scope.
fn check_replace(ctx: &Context, state: &State, targeting: &Targeting, destroy: bool, scope: &Scope) -> Result<()> {
    let mut errors = Diagnostics::default();
    for address in &targeting.replace {
        let problem = if destroy {
            Some("a destroy plan replaces nothing")
        } else if address.mode == Mode::Data {
            Some("data sources are read, never replaced")
        } else if state.get(address).is_none() {
            Some("it is not in the state yet; there is nothing to replace")
        } else if !ctx.config.resources.contains_key(address) {
            Some("it is no longer in the configuration, so it will be destroyed, not replaced")
        } else if !scope.contains(address) {
            Some("-target or -exclude leaves it out of this plan")
        } else {
            None
        };
        if let Some(problem) = problem {
            errors.push(Diagnostic::error(format!("-replace {address}: {problem}")).hint("-replace takes a resource that is both in the configuration and in the state (see strata state list)"));
        }
    }
    if errors.has_errors() { Err(errors) } else { Ok(()) }
}

/// Who depends on whom among every resource in the configuration or the state.
struct Links {
    dependencies: BTreeMap<Address, BTreeSet<Address>>,
    dependants: BTreeMap<Address, BTreeSet<Address>>,
}

impl Links {
    /// The configuration's dependencies joined with those recorded in state: a resource no longer
    /// configured still has the dependencies it was created with.
    fn new(ctx: &Context, state: &State) -> Links {
        let mut dependencies: BTreeMap<Address, BTreeSet<Address>> = BTreeMap::new();
        for address in ctx.config.resources.keys() {
            dependencies.entry(address.clone()).or_default().extend(ctx.graph.resource_dependencies(&Node::Resource(address.clone())));
        }
        for resource in state.managed() {
            dependencies.entry(resource.address()).or_default().extend(resource.dependency_addresses());
        }
        let mut dependants: BTreeMap<Address, BTreeSet<Address>> = dependencies.keys().map(|a| (a.clone(), BTreeSet::new())).collect();
        for (dependant, needs) in &dependencies {
            for dependency in needs {
                dependants.entry(dependency.clone()).or_default().insert(dependant.clone());
            }
        }
        Links { dependencies, dependants }
    }
}

/// `start` and everything reachable from it along `edges`.
fn closure(start: &[Address], edges: &BTreeMap<Address, BTreeSet<Address>>) -> BTreeSet<Address> {
    let mut reached: BTreeSet<Address> = BTreeSet::new();
    let mut stack: Vec<Address> = start.to_vec();
    while let Some(address) = stack.pop() {
        if reached.insert(address.clone()) {
            stack.extend(edges.get(&address).into_iter().flatten().cloned());
        }
    }
    reached
}

/// `change` (a no-op or an update) made into the replacement `-replace` asked for, as the provider
/// plans it (`Provider::plan_replace`: by default the old object deleted as destroy would delete it,
/// which the provider may refuse, and the new one planned from nothing; a provider may do more
/// first, such as a snapshot). Changes that create or replace anyway are left as they are.
pub async fn force_replacement(ctx: &Context, change: ResourceChange, known: &BTreeMap<Address, KnownResource>) -> Result<ResourceChange> {
    let Some(prior) = change.before.as_ref().filter(|_| matches!(change.action, Action::NoOp | Action::Update)) else { return Ok(change) };
    let address = &change.address;
    let provider = ctx.providers.get(address.provider())?;
    let (desired, _) = ctx.desired(address, known)?;
    let failed = |err| provider_error(&format!("{address} cannot be replaced"), err, None);
    let replacement = provider.plan_replace(&address.type_name, prior, &desired).await.map_err(failed)?;
    Ok(ResourceChange {
        action: Action::Replace,
        after: Some(replacement.planned),
        replace_because: vec![],
        operations: replacement.operations,
        reason: Some("replacement requested with -replace".to_owned()),
        warnings: replacement.warnings,
        data_loss: replacement.data_loss,
        locking: replacement.locking,
        backups: replacement.backups,
        duties: replacement.duties,
        ..change
    })
}

/// Whether `change` is a replacement that nothing in the configuration forces, which only
/// `-replace` makes: apply then asks the provider's `plan_replace` again, as the planner did.
pub fn replace_was_requested(change: &ResourceChange) -> bool {
    change.action == Action::Replace && change.replace_because.is_empty()
}
