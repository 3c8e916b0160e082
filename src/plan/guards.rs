//! The planner's data-loss guards: a resource's evaluated `lifecycle` flags, `ignore_changes`
//! (the live value stands in for an ignored attribute), `prevent_destroy` (a plan that would
//! delete or replace a protected resource is an error, whether the protection comes from the
//! configuration or from state), and moves (`moved` blocks and `renamed_from`: state at the old
//! address is moved to the new one before planning, so a rename is never a drop and a create).
//!
//! Owns those rules. It must not change anything live or on disk: moves happen to an in-memory
//! copy of the state, and apply persists them.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{Action, Value};

use super::{Plan, ResourceChange};
use crate::addrs::{move_instance, ConfigResource, ModuleInstance, ModulePath, ModuleResource, ResourceInstance, Target};
use crate::config::Config;
use crate::config::{Expansion, Moved};
use crate::config::{AttrExpr, IgnoreChanges, Lifecycle};
use crate::context::Context;
use crate::diag::{suggestion, Diagnostic, Diagnostics, Result};
use crate::secrets::redact;
use crate::state::State;

/// A configured resource's `lifecycle` flags, evaluated.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Flags {
    pub prevent_destroy: bool,
    pub create_before_destroy: bool,
}

/// The `lifecycle` flags of `address` (all false when it has no lifecycle block), and checks that
/// `ignore_changes` names only attributes its type has.
pub fn flags(ctx: &Context, address: &ModuleResource) -> Result<Flags> {
    let Some(lifecycle) = ctx.config.resource(address).and_then(|r| r.lifecycle.as_ref()) else { return Ok(Flags::default()) };
    check_ignored_names(ctx, &address.resource, lifecycle)?;
    Ok(Flags {
        prevent_destroy: known_flag(ctx, lifecycle.prevent_destroy.as_ref(), "prevent_destroy")?,
        create_before_destroy: known_flag(ctx, lifecycle.create_before_destroy.as_ref(), "create_before_destroy")?,
    })
}

/// Evaluates every resource's lifecycle block, reporting all that are wrong at once. `validate`
/// runs without variable values, so there (`require_known` false) a flag not known yet is no error.
pub fn check_lifecycles(ctx: &Context, require_known: bool) -> Result<()> {
    let mut errors = Diagnostics::default();
    for (address, resource) in ctx.config.all_resources() {
        let Some(lifecycle) = resource.lifecycle.as_ref() else { continue };
        let checks = [
            check_ignored_names(ctx, &address.resource, lifecycle),
            checked_flag(ctx, lifecycle.prevent_destroy.as_ref(), "prevent_destroy", require_known),
            checked_flag(ctx, lifecycle.create_before_destroy.as_ref(), "create_before_destroy", require_known),
        ];
        for found in checks.into_iter().filter_map(Result::err) {
            errors.extend(found);
        }
    }
    errors.into_result().map(|_| ())
}

fn checked_flag(ctx: &Context, attr: Option<&AttrExpr>, name: &str, require_known: bool) -> Result<()> {
    if require_known {
        known_flag(ctx, attr, name).map(|_| ())
    } else {
        flag(ctx, attr, name).map(|_| ())
    }
}

/// One boolean lifecycle argument that planning needs: variables and locals are known then, resources are not.
fn known_flag(ctx: &Context, attr: Option<&AttrExpr>, name: &str) -> Result<bool> {
    match (flag(ctx, attr, name)?, attr) {
        (Some(value), _) => Ok(value),
        (None, Some(attr)) => Err(Diagnostic::error(format!("lifecycle.{name} must be known when planning"))
            .at(Some(&attr.location))
            .hint("it may use variables and locals, but not attributes of resources")
            .into()),
        (None, None) => Ok(false),
    }
}

/// One boolean lifecycle argument: `Some(false)` when absent or null, `None` when not known yet.
fn flag(ctx: &Context, attr: Option<&AttrExpr>, name: &str) -> Result<Option<bool>> {
    let Some(attr) = attr else { return Ok(Some(false)) };
    let nothing_known = BTreeMap::new();
    match ctx.scope(&nothing_known).eval_attr(attr)?.value {
        Value::Bool(value) => Ok(Some(value)),
        Value::Null => Ok(Some(false)),
        Value::Unknown => Ok(None),
        other => Err(Diagnostic::error(format!("lifecycle.{name} must be true or false, not {}", other.to_json()))
            .at(Some(&attr.location))
            .hint(format!("write {name} = true, or a variable of type bool"))
            .into()),
    }
}

fn check_ignored_names(ctx: &Context, address: &ConfigResource, lifecycle: &Lifecycle) -> Result<()> {
    let IgnoreChanges::Attributes(names) = &lifecycle.ignore_changes else { return Ok(()) };
    let schema = &ctx.providers.resource_schema(address)?.block;
    let known: Vec<&str> = schema.attributes.keys().chain(schema.blocks.keys()).copied().collect();
    match names.iter().find(|name| !known.contains(&name.as_str())) {
        Some(name) => Err(Diagnostic::error(format!("ignore_changes in {address} names \"{name}\", which {} does not have", address.type_name))
            .at(Some(&lifecycle.location))
            .hint(suggestion(name, known.iter().copied()))
            .into()),
        None => Ok(()),
    }
}

/// `desired` with the attributes `ignore_changes` names set to their live values, so the provider
/// plans no change to them. A create (no live object) uses the configuration as it is.
pub fn ignoring_changes(ctx: &Context, address: &ModuleResource, desired: Value, prior: Option<&Value>) -> Value {
    let lifecycle = ctx.config.resource(address).and_then(|r| r.lifecycle.as_ref());
    let (Some(lifecycle), Some(live)) = (lifecycle, prior.and_then(Value::as_object)) else { return desired };
    let Value::Object(mut wanted) = desired else { return desired };
    let ignored = |name: &str| match &lifecycle.ignore_changes {
        IgnoreChanges::Nothing => false,
        IgnoreChanges::All => true,
        IgnoreChanges::Attributes(names) => names.iter().any(|n| n == name),
    };
    for (name, value) in wanted.iter_mut().filter(|(name, _)| ignored(name)) {
        if let Some(live_value) = live.get(name) {
            *value = live_value.clone();
        }
    }
    Value::Object(wanted)
}

/// Refuses every change in `changes` that would delete or replace a resource protected by
/// `prevent_destroy`, in the configuration or (when its block is gone, or not yet applied with
/// false) in state. Removing from state something already gone is allowed.
pub fn check_protection(ctx: &Context, state: &State, changes: &[ResourceChange]) -> Result<()> {
    let mut errors = Diagnostics::default();
    for change in changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Replace) && c.before.is_some() && !c.forget) {
        let recorded = state.get(&change.address).is_some_and(|r| r.prevent_destroy);
        let configured = ctx.config.resource(&change.address.config());
        let in_config = configured.is_some() && change.prevent_destroy;
        if !in_config && !recorded {
            continue;
        }
        let fate = if change.action == Action::Delete { "destroyed" } else { "replaced" };
        let mut error = Diagnostic::error(format!("Instance cannot be destroyed: {}", change.address))
            .at(configured.map(|r| &r.location))
            .detail(format!("{} has lifecycle.prevent_destroy set, but the plan calls for it to be {fate}.", change.address));
        error = match (configured.is_some(), in_config) {
            (true, true) => error.hint(
                "to go ahead, set lifecycle { prevent_destroy = false } and apply that first (the protection is recorded in state), \
                 or leave this resource out of the plan with -exclude",
            ),
            (true, false) => error.hint(
                "the configuration now says prevent_destroy = false, but state still records true: apply the new setting first \
                 without the change that destroys it, then make that change",
            ),
            (false, _) => error.hint(format!(
                "its resource block is gone, but state still records the protection: put the block back with \
                 lifecycle {{ prevent_destroy = false }}, apply, then remove the block (or run strata state rm {} to stop managing it \
                 without deleting anything)",
                crate::addrs::for_shell(&change.address)
            )),
        };
        errors.push(error);
    }
    errors.into_result().map(|_| ())
}

/// The state with every move done, and for each new address the old one.
pub struct Moves<'s> {
    /// The state as the moves leave it (borrowed when nothing moves: the common case, and a copy
    /// of a large state is not free).
    pub state: std::borrow::Cow<'s, State>,
    pub moved: BTreeMap<ResourceInstance, ResourceInstance>,
}

/// Moves state to where the configuration's `moved` blocks and `renamed_from` arguments say it
/// now lives: a resource's instances keep their keys, `x` to `x[0]` gives a resource `count`, an
/// instance moves to another key. A move whose old address is no longer in state has been applied
/// already and is kept as history, as in Terraform.
pub fn apply_moves<'s>(ctx: &Context, state: &'s State) -> Result<Moves<'s>> {
    let explicit = explicit_moves(ctx)?;
    let mut moves: Vec<(ResourceInstance, ResourceInstance)> = Vec::new();
    // Most plans have no moved blocks: then no instance's address is worth building.
    for instance in state.managed().filter(|_| !explicit.is_empty()).map(|i| i.address()) {
        if let Some(to) = explicit.iter().find_map(|(module, m)| move_within(module, m, &instance)) {
            moves.push((instance, to));
        }
    }
    let moving: BTreeSet<ResourceInstance> = moves.iter().map(|(from, _)| from.clone()).collect();
    moves.extend(implicit_moves(ctx, state, &moving)?);
    let mut moved_state = std::borrow::Cow::Borrowed(state);
    let mut moved = BTreeMap::new();
    let mut errors = Diagnostics::default();
    let leaving: BTreeSet<ResourceInstance> = moves.iter().map(|(from, _)| from.clone()).collect();
    for (from, to) in moves {
        if state.get(&to).is_some() && !leaving.contains(&to) {
            errors.push(
                Diagnostic::error(format!("cannot move {from} to {to}: both are in the state"))
                    .hint(format!("remove the move, or run strata state rm {} if that entry is stale", crate::addrs::for_shell(&to))),
            );
            continue;
        }
        moved_state.to_mut().rename(&from, &to);
        moved.insert(to, from);
    }
    errors.into_result()?;
    Ok(Moves { state: moved_state, moved })
}

/// Where `moved`, a block of the module at `module`, takes `instance`: its addresses are relative
/// to each instance of that module (a module's own refactoring moves its resources in every
/// instance the module has).
fn move_within(module: &ModulePath, moved: &Moved, instance: &ResourceInstance) -> Option<ResourceInstance> {
    let depth = module.0.len();
    if !instance.module.path().0.starts_with(&module.0) {
        return None;
    }
    let inside = ResourceInstance { module: ModuleInstance(instance.module.0[depth..].to_vec()), ..instance.clone() };
    let moved_to = move_instance(&moved.from, &moved.to, &inside)?;
    let mut steps = instance.module.ancestor(depth).0;
    steps.extend(moved_to.module.0.iter().cloned());
    Some(ResourceInstance { module: ModuleInstance(steps), ..moved_to })
}

/// Checks the `moved` blocks against the configuration alone (for `validate`).
pub fn check_moves(ctx: &Context) -> Result<()> {
    explicit_moves(ctx).map(|_| ())
}

/// The `moved` blocks, checked: the new address is configured (with a key that fits its `count`
/// or `for_each`), the old resource is not unless the move stays inside it, each address is moved
/// from and to at most once, and no move starts where another ends.
fn explicit_moves(ctx: &Context) -> Result<Vec<(&ModulePath, &Moved)>> {
    let mut errors = Diagnostics::default();
    let mut all = Vec::new();
    for module in ctx.config.modules_in_tree().into_iter().filter(|m| !m.moves.is_empty()) {
        match module_moves(module) {
            Ok(()) => all.extend(module.moves.iter().map(|moved| (&module.path, moved))),
            Err(found) => errors.extend(found),
        }
    }
    errors.into_result().map(|_| all)
}

/// One module's `moved` blocks, checked against that module's configuration.
fn module_moves(module: &Config) -> Result<()> {
    let mut errors = Diagnostics::default();
    let targets: BTreeSet<&Target> = module.moves.iter().map(|m| &m.to).collect();
    let (mut sources, mut destinations) = (BTreeSet::new(), BTreeSet::new());
    for moved in &module.moves {
        let (from, to) = (&moved.from, &moved.to);
        let problem = if from == to {
            Some(format!("{from} is still in the configuration, and a move to the same address does nothing; remove the moved block"))
        } else if let Some(problem) = endpoint_problem(module, to) {
            Some(problem)
        } else if configured(module, from).is_some() && from.resource() != to.resource() {
            Some(format!("{from} is still in the configuration; remove its block, since its state moves to {to}"))
        } else if targets.contains(from) {
            Some(format!("{from} is itself the destination of another move; chained moves are not supported: move straight to {to}"))
        } else if !sources.insert(from.clone()) || !destinations.insert(to.clone()) {
            Some("each address may be moved from, and moved to, only once".to_owned())
        } else {
            None
        };
        if let Some(problem) = problem {
            errors.push(Diagnostic::error(format!("moved from {from} to {to}: {problem}")).at(Some(&moved.location)));
        }
    }
    errors.into_result().map(|_| ())
}

/// The configured block of a move endpoint, in the module the move is declared in.
fn configured<'c>(module: &'c Config, target: &Target) -> Option<&'c crate::config::Resource> {
    match target {
        Target::Module(_) => None,
        Target::Resource(r) => module.resource(&r.config()),
        Target::Instance(i) => module.resource(&i.config()),
    }
}

/// Why a move cannot end at `to`, if it cannot.
fn endpoint_problem(config: &Config, to: &Target) -> Option<String> {
    if let Target::Module(module) = to {
        return config.module(&module.path()).is_none().then(|| format!("{module} is not in the configuration; a move must end at a declared module"));
    }
    let Some(resource) = configured(config, to) else {
        return Some(format!("{to} is not in the configuration; a move must end at a declared resource"));
    };
    let key = match to {
        Target::Instance(instance) => &instance.key,
        _ => return None,
    };
    (!crate::instances::key_fits(&resource.expansion, key)).then(|| format!("the key of {to} does not fit the resource: {}", crate::instances::expected_keys(&resource.expansion)))
}

/// `renamed_from` as implicit moves: a configured resource without `count` or `for_each` and with
/// no state of its own whose `renamed_from` equals the `name` (and, when the type has one, the
/// `schema`) of a state resource of the same type that is no longer configured.
fn implicit_moves(ctx: &Context, state: &State, moving: &BTreeSet<ResourceInstance>) -> Result<Vec<(ResourceInstance, ResourceInstance)>> {
    let nothing_known = BTreeMap::new();
    let scope = ctx.scope(&nothing_known);
    let mut moves = Vec::new();
    let single = ctx.config.resources.iter().filter(|(_, r)| matches!(r.expansion, Expansion::Single));
    for (address, resource) in single.filter(|(a, _)| state.get(&a.single_instance()).is_none()) {
        let Some(attr) = resource.body.attributes.get("renamed_from") else { continue };
        let Value::String(old_name) = scope.eval_attr(attr)?.value else { continue };
        let schema = match resource.body.attributes.get("schema") {
            Some(attr) => scope.eval_attr(attr)?.value.as_str().map(str::to_owned),
            None => None,
        };
        let unconfigured = |i: &ResourceInstance| ctx.config.resource(&i.config()).is_none();
        let candidates: Vec<ResourceInstance> = state
            .managed()
            .filter(|r| r.type_name() == address.type_name && unconfigured(&r.address()) && !moving.contains(&r.address()))
            .filter(|r| {
                let value = r.value();
                value.get_str("name") == Some(old_name.as_str()) && schema.as_deref().is_none_or(|s| value.get_str("schema").is_none_or(|recorded| recorded == s))
            })
            .map(|r| r.address())
            .collect();
        match candidates.as_slice() {
            [] => {}
            [from] => moves.push((from.clone(), address.single_instance())),
            several => {
                let names: Vec<String> = several.iter().map(ResourceInstance::to_string).collect();
                return Err(Diagnostic::error(format!("renamed_from = \"{old_name}\" in {address} matches several resources in state: {}", names.join(", ")))
                    .at(Some(&attr.location))
                    .hint("set schema, or say which one with a moved block")
                    .into());
            }
        }
    }
    Ok(moves)
}

/// Refuses, before anything changes, a plan whose changes lose data unless it allows that
/// (`-allow-data-loss`, a plan file made with it, or a destroy plan).
pub fn refuse_data_loss(plan: &Plan) -> Result<()> {
    if plan.allow_data_loss || plan.destroy {
        return Ok(());
    }
    let losing: Vec<&ResourceChange> = plan.data_losing().collect();
    if losing.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = losing.iter().flat_map(|c| c.data_loss.iter().map(move |loss| format!("  - {}: {}", c.address, redact(loss)))).collect();
    Err(Diagnostic::error(format!("apply refused: {} change(s) in this plan lose data, and nothing was changed", losing.len()))
        .detail(lines.join("\n"))
        .hint(
            "review these changes; to go ahead run strata apply -allow-data-loss, or save the plan with \
             strata plan -allow-data-loss -out FILE and apply that file",
        )
        .into())
}
