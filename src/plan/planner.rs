//! Making a plan: configure the providers, refresh everything in state in one batch per
//! provider, then walk the graph in dependency order asking each provider to diff the desired
//! object against the live one. Unknown values flow downstream as unknown.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{Action, PlanRequest, PlannedChange, Provider, ProviderError, RefreshRequest, Value};

use super::conditions::{self, When};
use super::guards;
use super::imports;
use super::unchanged;
use super::targeting::{self, Scope, Targeting};
use super::{OutputChange, Plan, ResourceChange};
use crate::addrs::{AbsResource, Mode, ModuleResource, ProviderConfig, ResourceInstance};
use crate::context::Context;
use crate::diag::{Diagnostic, Diagnostics, Location, Result};
use crate::eval::{Known, KnownResource, Repetition};
use crate::graph::Node;
use crate::state::{Instance, ResourceState, State};

#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Plan to delete everything in state.
    pub destroy: bool,
    /// `-target`, `-exclude` and `-replace`.
    pub targeting: Targeting,
    /// `-allow-data-loss`: recorded in the plan, so a saved plan may run its data-losing changes.
    pub allow_data_loss: bool,
    /// `-refresh=false`: plan against the state as recorded, reading nothing live.
    pub skip_refresh: bool,
}

/// The live objects behind the resources in state: `None` where one no longer exists.
pub type Refreshed = BTreeMap<ResourceInstance, Option<Value>>;

pub async fn make_plan(ctx: &Context, recorded: &State, options: PlanOptions) -> Result<Plan> {
    // Bad lifecycle arguments fail before any provider is configured.
    guards::check_lifecycles(ctx, true)?;
    // Moves first, in memory: everything below plans against state where the configuration says it now lives.
    let moves = guards::apply_moves(ctx, recorded)?;
    let state = &moves.state;
    let scope = targeting::scope(ctx, state, &options.targeting, options.destroy)?;
    let mut planning = Planning::new(ctx, state, BTreeMap::new(), scope);
    if !options.destroy {
        planning.imports = imports::resolve(ctx)?;
    }
    if options.skip_refresh {
        planning.refreshed = state.managed().map(|r| (r.address(), Some(r.value()))).collect();
    }
    let mut changes = Vec::new();
    if options.destroy {
        // Nothing is re-planned, but provider blocks may still refer to resources in state.
        planning.known = state_as_known(state);
    } else {
        changes = planning.plan_configuration().await?;
    }
    for name in providers_in(state) {
        planning.prepare_provider(&name).await?;
    }
    changes.extend(planning.plan_deletions(options.destroy).await?);
    super::implied::add_dependencies(ctx, state, &mut changes)?;
    super::review::add_warnings(ctx, state, &mut changes).await?;
    for change in &mut changes {
        if let Some(from) = moves.moved.get(&change.address) {
            change.state_updates.insert(0, format!("{from} has moved to {}", change.address));
            change.moved_from = Some(from.clone());
        }
    }
    guards::check_protection(ctx, state, &changes)?;
    let outputs = planning.scope.keep_outputs_left_out(ctx, &planning.known, plan_outputs(ctx, state, &planning.known, options.destroy)?);
    let warnings = if options.destroy { Diagnostics::default() } else { conditions::failed_checks(ctx, &planning.known) };
    Ok(Plan {
        warnings,
        changes,
        outputs,
        variables: ctx.variables.clone(),
        prior_lineage: Some(state.lineage.clone()),
        prior_serial: Some(state.serial),
        destroy: options.destroy,
        allow_data_loss: options.allow_data_loss,
    })
}

/// The live objects behind everything in state, for refresh-only plans and drift runs.
pub async fn refresh_only(ctx: &Context, state: &State) -> Result<Refreshed> {
    Ok(Planning::refreshing_state(ctx, state).await?.refreshed)
}

/// For drift runs, from one refresh: the live objects behind everything in state, and the changes
/// the configuration would make to the state as recorded rather than to live (what a plan would
/// change had nothing drifted outside strata).
pub async fn refresh_and_plan_against_state(ctx: &Context, state: &State) -> Result<AgainstState> {
    let mut planning = Planning::refreshing_state(ctx, state).await?;
    let recorded = state.managed().map(|r| (r.address(), Some(r.value()))).collect();
    let live = std::mem::replace(&mut planning.refreshed, recorded);
    planning.known.clear();
    let changes = planning.plan_configuration().await?;
    let unconfigured = state.managed().map(|r| r.address()).filter(|a| !planning.configured.contains(a)).collect();
    Ok(AgainstState { live, changes, unconfigured })
}

/// A drift run's one refresh and the plan against the recorded state.
pub struct AgainstState {
    pub live: Refreshed,
    pub changes: Vec<ResourceChange>,
    /// Instances in state the configuration no longer has: a plan would delete them.
    pub unconfigured: Vec<ResourceInstance>,
}

/// The error for a `count` or `for_each` (of a resource or a module call) only apply can tell.
fn unknown_expansion(expansion: Option<&crate::config::Expansion>, what: &str) -> Diagnostics {
    let argument = if matches!(expansion, Some(crate::config::Expansion::Count(_))) { "count" } else { "for_each" };
    Diagnostic::error(format!("Invalid {argument} argument"))
        .at(expansion.and_then(crate::config::Expansion::expression).map(|a| &a.location))
        .detail(format!(
            "The \"{argument}\" value depends on resource attributes that cannot be determined until apply, so strata cannot predict how many instances of {what} will be created."
        ))
        .hint("use -target to first apply only the resources the value depends on, or derive it from variables and locals known now")
        .into()
}

/// Every resource in state, known as it was last recorded.
pub fn state_as_known(state: &State) -> Known {
    state.managed().map(|r| (r.address(), KnownResource { value: r.value(), sensitive: r.sensitive_attributes.clone() })).collect()
}

/// The providers of the resources in state.
fn providers_in(state: &State) -> BTreeSet<ProviderConfig> {
    state.resources.iter().map(ResourceState::provider_config).collect()
}

/// Configures provider `name` unless it already is, once its configuration is wholly known from
/// `known`. Answers whether it is configured: `false` while the configuration still depends on
/// values known only after apply (a host taken from an instance not yet created).
pub async fn configure_provider(ctx: &Context, name: &ProviderConfig, known: &Known) -> Result<bool> {
    let provider = ctx.providers.get(name)?;
    let config = ctx.provider_settings(name, known)?;
    if !config.is_wholly_known() {
        return Ok(false);
    }
    let location = ctx.config.providers.get(name).map(|p| p.body.location.clone());
    ctx.providers.configure_once(name, provider, &config).await.map_err(|err| provider_error(&format!("provider \"{name}\""), err, location.as_ref()))?;
    Ok(true)
}

/// One plan in the making: what has been refreshed and planned so far.
struct Planning<'a> {
    ctx: &'a Context,
    state: &'a State,
    refreshed: Refreshed,
    /// Resource values as planned so far (unknown where only apply can tell).
    known: Known,
    /// The instances the configuration has, as far as planned: any other in state is deleted.
    configured: BTreeSet<ResourceInstance>,
    /// Providers already configured, or found to depend on values known only after apply.
    prepared: BTreeSet<ProviderConfig>,
    /// What `-target` and `-exclude` leave in the plan, and what `-replace` replaces.
    scope: Scope,
    /// What `import` blocks bring in (none for drift and refresh-only runs).
    imports: BTreeMap<ResourceInstance, imports::Requested>,
}

impl<'a> Planning<'a> {
    /// Planning against `state`; every provider seals write-only secrets with its salt.
    fn new(ctx: &'a Context, state: &'a State, known: Known, scope: Scope) -> Planning<'a> {
        ctx.providers.use_state_salt(&state.secret_salt);
        Planning { ctx, state, refreshed: Refreshed::new(), known, configured: BTreeSet::new(), prepared: BTreeSet::new(), scope, imports: BTreeMap::new() }
    }

    /// Refreshes everything in state, each provider configured from the values in state (a
    /// provider whose host is an instance's address reads it from the instance as recorded).
    async fn refreshing_state(ctx: &'a Context, state: &'a State) -> Result<Planning<'a>> {
        let mut planning = Planning::new(ctx, state, state_as_known(state), Scope::default());
        for name in providers_in(state) {
            planning.prepare_provider(&name).await?;
        }
        Ok(planning)
    }

    /// Plans every resource of the configuration in dependency order, configuring each provider
    /// when its turn comes.
    async fn plan_configuration(&mut self) -> Result<Vec<ResourceChange>> {
        let mut changes = Vec::new();
        for node in self.ctx.graph.order() {
            match node {
                Node::Provider(name) => self.prepare_provider(&name).await?,
                Node::Resource(address) => {
                    for (instance, repetition) in self.expand(&address)? {
                        if !self.scope.contains(&instance) {
                            changes.extend(self.leave_alone(&instance));
                            continue;
                        }
                        let change = self.plan_resource(&instance, repetition).await?;
                        changes.extend(self.replace_if_requested(change).await?);
                    }
                }
                _ => {}
            }
        }
        Ok(changes)
    }

    /// The instances `count` or `for_each` gives a resource now, in every instance of its module.
    /// While they are unknown (they depend on something only apply can tell) planning stops, as
    /// in Terraform, unless `-target` or `-exclude` leaves the whole resource out: then its
    /// instances in state stay.
    fn expand(&mut self, address: &ModuleResource) -> Result<Vec<(ResourceInstance, Repetition)>> {
        let resource = self.ctx.config.resource(address).ok_or_else(|| Diagnostic::error(format!("{address} is not in the configuration")))?;
        let Some(modules) = self.ctx.module_instances(&address.module, &self.known)? else {
            let in_state: Vec<ResourceInstance> = self.state.instances().map(|i| i.address()).filter(|i| i.config() == *address).collect();
            if !in_state.is_empty() && in_state.iter().all(|i| !self.scope.may_contain(&i.resource())) {
                return Ok(in_state.into_iter().map(|i| (i, Repetition::None)).collect());
            }
            let call = self.ctx.config.module_call_of(&address.module);
            return Err(unknown_expansion(call.map(|call| &call.expansion), &address.module.to_string()));
        };
        let mut instances = Vec::new();
        for module in modules {
            let whole = AbsResource { module, resource: address.resource.clone() };
            let keys = crate::instances::expand(&self.ctx.module_scope(&whole.module, &self.known)?, &resource.expansion)?;
            match keys {
                Some(keys) => instances.extend(keys.into_iter().map(|(key, repetition)| (whole.instance(key), repetition))),
                // Left alone, so never evaluated.
                None if !self.scope.may_contain(&whole) => instances.extend(self.state_instances(&whole).into_iter().map(|i| (i, Repetition::None))),
                None => return Err(unknown_expansion(Some(&resource.expansion), &whole.to_string())),
            }
        }
        self.configured.extend(instances.iter().map(|(instance, _)| instance.clone()));
        Ok(instances)
    }

    fn state_instances(&self, resource: &AbsResource) -> Vec<ResourceInstance> {
        self.state.instances().map(|i| i.address()).filter(|i| i.resource() == *resource).collect()
    }

    /// Configures a provider as soon as its configuration is known, then refreshes its resources in
    /// state in one batch.
    async fn prepare_provider(&mut self, name: &ProviderConfig) -> Result<()> {
        if !self.prepared.insert(name.clone()) {
            return Ok(());
        }
        let in_state: Vec<Instance<'_>> = self.state.managed().filter(|r| r.provider() == *name).collect();
        if !configure_provider(self.ctx, name, &self.known).await? {
            if in_state.is_empty() {
                // Planning creates needs no connection; comparing with live objects does.
                return Ok(());
            }
            return Err(Diagnostic::error(format!(
                "provider \"{name}\" cannot read its {} resource(s) in state: its configuration depends on values known only after apply",
                in_state.len()
            ))
            .at(self.ctx.config.providers.get(name).map(|p| &p.body.location))
            .hint("a change upstream (a replaced instance, say) leaves the provider's address unknown until apply; apply that change first with the provider pointed at values known now (a variable), then plan again")
            .into());
        }
        // Empty, or already filled from the state under -refresh=false.
        if in_state.is_empty() || in_state.iter().all(|r| self.refreshed.contains_key(&r.address())) {
            return Ok(());
        }
        let provider = self.ctx.providers.get(name)?;
        let requests: Vec<RefreshRequest> = in_state.iter().map(|r| RefreshRequest { type_name: r.type_name().to_owned(), state: r.value() }).collect();
        let results = provider.refresh(&requests).await.map_err(|err| provider_error(&format!("refreshing {name} resources"), err, None))?;
        if results.len() != requests.len() {
            return Err(Diagnostic::error(format!("provider \"{name}\" answered {} refresh results for {} resources", results.len(), requests.len())).into());
        }
        self.refreshed.extend(in_state.iter().map(|r| r.address()).zip(results));
        Ok(())
    }

    /// Plans one instance; `repetition` is what its expansion gave it (`count.index`, `each`).
    async fn plan_resource(&mut self, address: &ResourceInstance, repetition: Repetition) -> Result<Option<ResourceChange>> {
        let ctx = self.ctx;
        let location = ctx.config.resource(&address.config()).map(|r| r.location.clone());
        conditions::instance_conditions_hold(ctx, address, When::Before, None, &self.known)?;
        let (desired, sensitive) = ctx.desired_repeating(address, repetition, &self.known)?;
        let provider = ctx.providers.get(&ctx.provider_of(address, self.state.get(address).map(|i| i.provider())))?;
        if address.mode() == Mode::Data {
            let value = if desired.is_wholly_known() {
                provider.read_data(address.type_name(), &desired).await.map_err(|err| provider_error(&address.to_string(), err, location.as_ref()))?
            } else {
                Value::Unknown
            };
            self.known.insert(address.clone(), KnownResource { value, sensitive });
            return Ok(None);
        }
        // Taken, not copied: each resource is planned once, and only deletions (of what the
        // configuration no longer has) read the refreshed objects after this.
        let mut prior = self.refreshed.remove(address).flatten();
        let importing = match self.imports.get(address).filter(|_| self.state.get(address).is_none()) {
            Some(requested) => {
                let live = provider.import(address.type_name(), &requested.id).await.map_err(|err| provider_error(&address.to_string(), err, location.as_ref()))?;
                prior = Some(live.ok_or_else(|| imports::not_found(address, requested))?);
                Some(requested)
            }
            None => None,
        };
        let flags = guards::flags(ctx, &address.config())?;
        let desired_digest = unchanged::desired_digest(self.state, address, &desired, &sensitive);
        let periodic = ctx.providers.resource_schema(&address.resource)?.periodic;
        let planned = match prior.as_ref().filter(|live| !periodic && unchanged::is_unchanged(self.state, address, desired_digest.as_deref(), live)) {
            Some(live) => PlannedChange::new(Action::NoOp, live.clone()),
            None => {
                let desired = guards::ignoring_changes(ctx, &address.config(), desired, prior.as_ref());
                let request = PlanRequest { type_name: address.type_name().to_owned(), prior: prior.clone(), desired };
                let mut planned = provider.plan(&request).await.map_err(|err| provider_error(&address.to_string(), err, location.as_ref()))?;
                if let (Action::Replace, true, Some(old)) = (planned.action, flags.create_before_destroy, prior.as_ref()) {
                    planned.operations = create_then_delete(provider.as_ref(), old, &request).await.map_err(|err| provider_error(&address.to_string(), err, location.as_ref()))?;
                }
                planned
            }
        };
        if let Some(requested) = importing.filter(|_| planned.action == Action::Replace) {
            return Err(imports::would_replace(address, requested, &planned.replace_because));
        }
        // One that only apply can tell is checked again after apply.
        conditions::instance_conditions_hold(ctx, address, When::After, Some(&planned.planned), &self.known)?;
        let vanished = self.state.get(address).is_some() && prior.is_none();
        self.known.insert(address.clone(), KnownResource { value: planned.planned.clone(), sensitive: sensitive.clone() });
        Ok(Some(ResourceChange {
            address: address.clone(),
            action: planned.action,
            before: prior,
            after: Some(planned.planned),
            replace_because: planned.replace_because,
            operations: planned.operations,
            sensitive,
            dependencies: ctx.dependencies_of(address, &self.known),
            reason: vanished.then(|| "it was deleted outside strata".to_owned()),
            warnings: planned.warnings,
            data_loss: planned.data_loss,
            locking: planned.locking,
            backups: planned.backups,
            duties: planned.duties,
            moved_from: None,
            prevent_destroy: flags.prevent_destroy,
            create_before_destroy: flags.create_before_destroy,
            state_updates: self.protection_update(address, flags.prevent_destroy),
            desired_digest,
            forget: false,
            importing: importing.map(|requested| requested.id.clone()),
        }))
    }

    /// The state-only update when `prevent_destroy` differs from what state records.
    fn protection_update(&self, address: &ResourceInstance, wanted: bool) -> Vec<String> {
        match self.state.get(address) {
            Some(recorded) if recorded.prevent_destroy != wanted => vec![format!("lifecycle.prevent_destroy: {} -> {wanted} (recorded in state)", recorded.prevent_destroy)],
            _ => vec![],
        }
    }

    /// A resource `-target` or `-exclude` leaves out stays as recorded: known to what comes after
    /// it (outputs, say) by its value in state, and recorded again unchanged by apply.
    fn leave_alone(&mut self, address: &ResourceInstance) -> Option<ResourceChange> {
        let recorded = self.state.get(address)?;
        let value = recorded.value();
        self.known.insert(address.clone(), KnownResource { value: value.clone(), sensitive: recorded.sensitive_attributes.clone() });
        if address.mode() == Mode::Data {
            // Apply reads every data source anyway.
            return None;
        }
        Some(ResourceChange { desired_digest: recorded.desired_digest.clone(), ..ResourceChange::of_recorded(&recorded, Action::NoOp, Some(value.clone()), Some(value)) })
    }

    /// `change` made into a replacement when `-replace` names its resource; what comes after it
    /// then knows only what the new object's plan knows.
    async fn replace_if_requested(&mut self, change: Option<ResourceChange>) -> Result<Option<ResourceChange>> {
        let Some(change) = change else { return Ok(None) };
        if !self.scope.replaces(&change.address) {
            return Ok(Some(change));
        }
        let replacement = targeting::force_replacement(self.ctx, change, &self.known).await?;
        if let (Some(after), Some(known)) = (&replacement.after, self.known.get_mut(&replacement.address)) {
            known.value = after.clone();
        }
        Ok(Some(replacement))
    }

    /// Deletes for resources in state that the configuration no longer has (or all, for destroy),
    /// each described by its provider (a final snapshot, say) or refused by it.
    async fn plan_deletions(&self, destroy: bool) -> Result<Vec<ResourceChange>> {
        let mut deletions = Vec::new();
        for resource in self.state.managed().filter(|r| (destroy || !self.configured.contains(&r.address())) && self.scope.contains(&r.address())) {
            let address = resource.address();
            let before = self.refreshed.get(&address).cloned().flatten();
            // A `removed` block with destroy = false: forgotten, never handed to the provider.
            if let Some(forgotten) = super::removed::forgotten(self.ctx, &resource, &before, destroy) {
                deletions.push(forgotten);
                continue;
            }
            let reason = match (&before, destroy) {
                (None, _) => "it was already deleted outside strata; it will be removed from state",
                (Some(_), true) => "destroy was requested",
                (Some(_), false) => "it is no longer in the configuration",
            };
            let planned = match &before {
                Some(prior) => {
                    let provider = self.ctx.providers.get(&resource.provider())?;
                    provider.plan_delete(address.type_name(), prior).await.map_err(|err| provider_error(&address.to_string(), err, None))?
                }
                None => PlannedChange::new(Action::Delete, Value::Null),
            };
            // For destroy, the configuration may protect it too.
            let configured_protection = guards::flags(self.ctx, &address.config())?.prevent_destroy;
            deletions.push(ResourceChange {
                operations: planned.operations,
                reason: Some(reason.to_owned()),
                warnings: planned.warnings,
                data_loss: planned.data_loss,
                locking: planned.locking,
                backups: planned.backups,
                duties: planned.duties,
                prevent_destroy: resource.prevent_destroy || configured_protection,
                ..ResourceChange::of_recorded(&resource, Action::Delete, before, None)
            });
        }
        Ok(deletions)
    }
}

fn plan_outputs(ctx: &Context, state: &State, known: &Known, destroy: bool) -> Result<Vec<OutputChange>> {
    let scope = ctx.scope(known);
    let mut outputs = Vec::new();
    for (name, output) in &ctx.config.outputs {
        let before = state.outputs.get(name).map(|o| Value::from_json(&o.value));
        let (after, sensitive) = if destroy {
            (None, output.sensitive)
        } else {
            conditions::all_hold(&scope, &output.preconditions, "Module output value precondition failed", &format!("output.{name}"))?;
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
        diagnostic = diagnostic.hint(hint.replace(strata_provider_sdk::error::ADDRESS, subject));
    }
    diagnostic.into()
}

/// What a create_before_destroy replacement runs, in the order apply runs it: the new object's
/// create, then the old object's delete (the provider's own replace lists the delete first).
async fn create_then_delete(provider: &dyn Provider, old: &Value, request: &PlanRequest) -> std::result::Result<Vec<String>, ProviderError> {
    let creation = provider.plan(&PlanRequest { prior: None, ..request.clone() }).await?;
    let deletion = provider.plan_delete(&request.type_name, old).await?;
    Ok([creation.operations, deletion.operations].concat())
}
