//! Targeting: which resource instances a plan may touch under `-target` and `-exclude`, and which
//! ones `-replace` asks to replace although nothing forces it.
//!
//! Owns checking those addresses (a module, a resource with all its instances, or one instance,
//! as Terraform takes them: `-target='aws_db_instance.x["a"]'`; each one in the configuration or
//! the state) and working out the scope: a target comes with every resource it depends on, an
//! exclusion takes every resource that depends on it along (as OpenTofu 1.9 does). For destroy the
//! directions swap, since a dependant cannot outlive what it depends on. It must not plan or change
//! anything: the planner asks it what is in scope.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::Action;

use super::planner::provider_error;
use super::{OutputChange, ResourceChange};
use crate::addrs::{AbsResource, InstanceKey, Mode, ModuleInstance, ModulePath, ResourceInstance, Target};
use crate::context::Context;
use crate::diag::{suggestion, Diagnostic, Diagnostics, Result};
use crate::eval::Known;
use crate::graph::Node;
use crate::state::State;

/// The addresses given to `-target`, `-exclude` and `-replace`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Targeting {
    pub targets: Vec<Target>,
    pub excludes: Vec<Target>,
    /// Instances: a resource's address stands for its one instance when it has no `count` or `for_each`.
    pub replace: Vec<ResourceInstance>,
}

impl Targeting {
    /// Parses the flags' values.
    pub fn parse(targets: &[String], excludes: &[String], replace: &[String]) -> Result<Targeting> {
        let replace = addresses("-replace", replace)?
            .into_iter()
            .map(|target| {
                target.as_instance().ok_or_else(|| Diagnostic::error(format!("-replace {target}: a module cannot be replaced")).hint("-replace takes one resource instance, such as aws_db_instance.main or 'postgres_table.t[\"events\"]'").into())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Targeting { targets: addresses("-target", targets)?, excludes: addresses("-exclude", excludes)?, replace })
    }

    /// Whether `-target` or `-exclude` narrows the plan (so it may be incomplete).
    pub fn narrows(&self) -> bool {
        !self.targets.is_empty() || !self.excludes.is_empty()
    }

    pub fn is_empty(&self) -> bool {
        !self.narrows() && self.replace.is_empty()
    }
}

fn addresses(flag: &str, given: &[String]) -> Result<Vec<Target>> {
    given
        .iter()
        .map(|text| {
            text.parse::<Target>().map_err(|err| {
                Diagnostic::error(format!("{flag}: {err}"))
                    .hint(format!("{flag} takes a resource (postgres_table.users), one instance ('postgres_table.t[\"events\"]', quoted for the shell) or a module (module.db); repeat the flag for several"))
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

/// The instances a plan may touch (all of them unless `-target` or `-exclude` says otherwise), and
/// those to replace although nothing forces it.
#[derive(Clone, Debug, Default)]
pub struct Scope {
    narrowed: Option<Narrowed>,
    replace: BTreeSet<ResourceInstance>,
}

/// What `-target` and `-exclude` leave: the targets themselves, whole resources brought along
/// (what a target needs), and what is taken out (the exclusions, and whole resources that need them).
#[derive(Clone, Debug, Default)]
struct Narrowed {
    targets: Vec<Target>,
    along: BTreeSet<AbsResource>,
    excludes: Vec<Target>,
    excluded_along: BTreeSet<AbsResource>,
}

impl Scope {
    pub fn contains(&self, address: &ResourceInstance) -> bool {
        let Some(narrowed) = &self.narrowed else { return true };
        let resource = address.resource();
        let kept = narrowed.targets.is_empty() || narrowed.along.contains(&resource) || narrowed.targets.iter().any(|t| t.contains(address));
        kept && !narrowed.excluded_along.contains(&resource) && !narrowed.excludes.iter().any(|t| t.contains(address))
    }

    /// Whether some instance of `resource` may be in scope (before its instances are known).
    pub fn may_contain(&self, resource: &AbsResource) -> bool {
        let Some(narrowed) = &self.narrowed else { return true };
        let kept = narrowed.targets.is_empty() || narrowed.along.contains(resource) || narrowed.targets.iter().any(|t| touches(t, resource));
        // An excluded instance leaves its resource's other instances in.
        let wholly_excluded = narrowed.excluded_along.contains(resource) || narrowed.excludes.iter().any(|t| !matches!(t, Target::Instance(_)) && touches(t, resource));
        kept && !wholly_excluded
    }

    pub fn replaces(&self, address: &ResourceInstance) -> bool {
        self.replace.contains(address)
    }

    /// `outputs` with those that read a resource left out of the plan kept as they are.
    pub fn keep_outputs_left_out(&self, ctx: &Context, known: &Known, outputs: Vec<OutputChange>) -> Vec<OutputChange> {
        let reads_left_out = |name: &str| {
            let blocks = ctx.graph.resource_dependencies(&Node::Output(ModulePath::root(), name.to_owned()));
            ctx.resources_seen_from(&ModuleInstance::root(), &blocks, known.keys()).iter().any(|a| !self.may_contain(a))
        };
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
    let replace: Vec<Target> = targeting.replace.iter().cloned().map(Target::Instance).collect();
    for (flag, targets) in [("-target", &targeting.targets), ("-exclude", &targeting.excludes), ("-replace", &replace)] {
        for target in targets {
            if let Some(problem) = unknown_target(ctx, state, &links, target) {
                errors.push(Diagnostic { summary: format!("{flag} {}", problem.summary), ..problem });
            }
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    let narrowed = targeting.narrows().then(|| narrowed(&links, targeting, destroy));
    let scope = Scope { narrowed, replace: targeting.replace.iter().cloned().collect() };
    check_replace(ctx, state, targeting, destroy, &scope)?;
    Ok(scope)
}

/// Why `target` names nothing in the configuration or the state, if it does not.
fn unknown_target(ctx: &Context, state: &State, links: &Links, target: &Target) -> Option<Diagnostic> {
    let resource = match target {
        Target::Module(module) => {
            let found = links.dependencies.keys().any(|r| target.contains(&r.instance(InstanceKey::None))) || state.instances().any(|i| target.contains(&i.address()));
            return (!found).then(|| Diagnostic::error(format!("{module}: no such module in the configuration or the state")));
        }
        Target::Resource(resource) => resource.clone(),
        Target::Instance(instance) => instance.resource(),
    };
    if !links.dependencies.contains_key(&resource) {
        let known: Vec<String> = links.dependencies.keys().map(AbsResource::to_string).collect();
        return Some(Diagnostic::error(format!("{target}: no such resource in the configuration or the state")).hint(suggestion(&resource.to_string(), known.iter().map(String::as_str))));
    }
    let Target::Instance(instance) = target else { return None };
    let configured = ctx.config.resource(&instance.config());
    let fits = configured.is_none_or(|r| crate::instances::key_fits(&r.expansion, &instance.key));
    match configured {
        Some(resource) if !fits => Some(Diagnostic::error(format!("{target}: the key does not fit the resource")).hint(crate::instances::expected_keys(&resource.expansion))),
        None if state.get(instance).is_none() => {
            let known: Vec<String> = state.instances().map(|i| i.address()).filter(|i| i.resource() == instance.resource()).map(|i| i.to_string()).collect();
            Some(Diagnostic::error(format!("{target}: no such instance in the state")).hint(suggestion(&target.to_string(), known.iter().map(String::as_str))))
        }
        _ => None,
    }
}

/// The targets with what they need (or, for destroy, what needs them), less the exclusions with
/// what needs them (or, for destroy, what they need).
fn narrowed(links: &Links, targeting: &Targeting, destroy: bool) -> Narrowed {
    let (with_target, with_exclusion) = if destroy { (&links.dependants, &links.dependencies) } else { (&links.dependencies, &links.dependants) };
    let resources_of = |targets: &[Target]| -> Vec<AbsResource> {
        links.dependencies.keys().filter(|r| targets.iter().any(|t| touches(t, r))).cloned().collect()
    };
    Narrowed {
        targets: targeting.targets.clone(),
        along: beyond(&resources_of(&targeting.targets), with_target),
        excludes: targeting.excludes.clone(),
        excluded_along: beyond(&resources_of(&targeting.excludes), with_exclusion),
    }
}

/// Whether `target` names `resource` or some instance of it.
fn touches(target: &Target, resource: &AbsResource) -> bool {
    match target {
        Target::Instance(instance) => instance.resource() == *resource,
        other => other.contains(&resource.instance(InstanceKey::None)),
    }
}

/// `-replace` applies to objects that exist and stay: in state, in the configuration, in scope.
fn check_replace(ctx: &Context, state: &State, targeting: &Targeting, destroy: bool, scope: &Scope) -> Result<()> {
    let mut errors = Diagnostics::default();
    for address in &targeting.replace {
        let problem = if destroy {
            Some("a destroy plan replaces nothing")
        } else if address.mode() == Mode::Data {
            Some("data sources are read, never replaced")
        } else if state.get(address).is_none() {
            Some("it is not in the state yet; there is nothing to replace")
        } else if ctx.config.resource(&address.config()).is_none() {
            Some("it is no longer in the configuration, so it will be destroyed, not replaced")
        } else if !scope.contains(address) {
            Some("-target or -exclude leaves it out of this plan")
        } else {
            None
        };
        if let Some(problem) = problem {
            errors.push(Diagnostic::error(format!("-replace {address}: {problem}")).hint("-replace takes a resource instance that is both in the configuration and in the state (see strata state list)"));
        }
    }
    if errors.has_errors() { Err(errors) } else { Ok(()) }
}

/// Who depends on whom among every resource in the configuration or the state.
struct Links {
    dependencies: BTreeMap<AbsResource, BTreeSet<AbsResource>>,
    dependants: BTreeMap<AbsResource, BTreeSet<AbsResource>>,
}

impl Links {
    /// The configuration's dependencies joined with those recorded in state: a resource no longer
    /// configured still has the dependencies it was created with.
    fn new(ctx: &Context, state: &State) -> Links {
        let mut dependencies: BTreeMap<AbsResource, BTreeSet<AbsResource>> = BTreeMap::new();
        let known = crate::plan::planner::state_as_known(state);
        for (block, _) in ctx.config.all_resources() {
            // A module whose instances cannot be told yet has only those in state.
            let modules = ctx.module_instances(&block.module, &known).ok().flatten().unwrap_or_default();
            for module in modules {
                let instance = AbsResource { module, resource: block.resource.clone() }.instance(InstanceKey::None);
                dependencies.entry(instance.resource()).or_default().extend(ctx.dependencies_of(&instance, &known));
            }
        }
        for instance in state.managed() {
            dependencies.entry(instance.address().resource()).or_default().extend(instance.dependency_addresses());
        }
        let mut dependants: BTreeMap<AbsResource, BTreeSet<AbsResource>> = dependencies.keys().map(|a| (a.clone(), BTreeSet::new())).collect();
        for (dependant, needs) in &dependencies {
            for dependency in needs {
                dependants.entry(dependency.clone()).or_default().insert(dependant.clone());
            }
        }
        Links { dependencies, dependants }
    }
}

/// Everything reachable from `start` along `edges`, without `start` itself (unless reached again).
fn beyond(start: &[AbsResource], edges: &BTreeMap<AbsResource, BTreeSet<AbsResource>>) -> BTreeSet<AbsResource> {
    let mut reached: BTreeSet<AbsResource> = BTreeSet::new();
    let mut stack: Vec<AbsResource> = start.iter().flat_map(|s| edges.get(s).into_iter().flatten().cloned()).collect();
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
pub async fn force_replacement(ctx: &Context, change: ResourceChange, known: &Known) -> Result<ResourceChange> {
    let Some(prior) = change.before.as_ref().filter(|_| matches!(change.action, Action::NoOp | Action::Update)) else { return Ok(change) };
    let address = &change.address;
    let provider = ctx.providers.get(&ctx.provider_of(address, None))?;
    let (desired, _) = ctx.desired(address, known)?;
    let failed = |err| provider_error(&format!("{address} cannot be replaced"), err, None);
    let replacement = provider.plan_replace(address.type_name(), prior, &desired).await.map_err(failed)?;
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
