//! `strata state pull | rm | mv | diff` and `strata import`: printing the state whole, changing
//! which addresses it manages, comparing two state files, and adopting live objects into it.
//!
//! Owns these commands only. Every edit goes through `StateStore` under the state lock (previous
//! file kept as `.backup`, serial + 1, atomic write), all or nothing. None of them changes anything
//! live: import only reads through its provider. Printed values are masked as everywhere else.

use std::collections::BTreeSet;
use std::path::Path;

use strata_provider_sdk::{ProviderSchema, Value};

use super::args::ImportArgs;
use super::backend_cmds::configured_store;
use super::commands::{no_state, read_state};
use crate::addrs::{for_shell, move_instance, Mode, ResourceInstance, Target};
use crate::context::Context;
use crate::diag::{closest, Diagnostic, Result};
use crate::plan::planner::{configure_provider, provider_error, state_as_known};
use crate::plan::render::{attribute_lines, render_outputs};
use crate::plan::OutputChange;
use crate::providers::Providers;
use crate::secrets::{redact, MASK};
use crate::state::backend::LockOptions;
use crate::state::store::StateStore;
use crate::state::{InstanceState, PendingCreate, State};
use crate::ui::Style;

/// Exit code of `state diff -detailed-exitcode` when the states differ (as `plan` uses it).
const EXIT_DIFFERENT: i32 = 2;

/// `state pull`: the state as JSON with sensitive attributes and outputs masked, so it can be
/// pasted into a PR or a log; the state file itself stays the faithful copy.
pub fn pull(path: Option<&Path>) -> Result<i32> {
    let mut state = read_state(path)?;
    for instance in state.resources.iter_mut().flat_map(|r| r.instances.iter_mut()) {
        instance.attributes = masked_attributes(instance);
    }
    for output in state.outputs.values_mut().filter(|o| o.sensitive) {
        output.value = serde_json::Value::String(MASK.to_owned());
    }
    let text = serde_json::to_string_pretty(&state).map_err(|err| Diagnostic::error(format!("cannot encode the state: {err}")))?;
    println!("{}", redact(&text));
    Ok(0)
}

/// What an interrupted apply left pending (`State::pending`), as `state list`, `state show` and
/// `show` print it: one `pending create: ADDR (import id ID), recorded at TIME` line each, then
/// what that means; `None` when nothing is pending.
pub(super) fn pending_report<'a>(pending: impl IntoIterator<Item = &'a PendingCreate>) -> Option<String> {
    let lines: String = pending
        .into_iter()
        .map(|intent| format!("pending create: {} (import id {}), recorded at {}\n", intent.address, redact(&intent.import_id), intent.recorded_at))
        .collect();
    let note = "An apply failed or was interrupted while these creates were in flight: the objects may exist live. The next plan or apply adopts each one that carries its create's mark of authorship.";
    (!lines.is_empty()).then(|| format!("{lines}{note}\n"))
}

pub(super) fn masked_attributes(resource: &InstanceState) -> serde_json::Value {
    let mut attributes = resource.attributes.clone();
    if let Some(map) = attributes.as_object_mut() {
        for (name, value) in map.iter_mut() {
            if resource.sensitive_attributes.contains(name) && !value.is_null() {
                *value = serde_json::Value::String(MASK.to_owned());
            }
        }
    }
    attributes
}

/// `state rm ADDR...`: forgets instances (a resource's address takes all of them, a module's
/// everything in it); the objects stay live and the next plan proposes creating them. Nothing is
/// written unless every address matches something in the state.
pub fn remove(addresses: &[String], path: Option<&Path>, lock: LockOptions) -> Result<i32> {
    let wanted = addresses.iter().map(|a| parse_target(a)).collect::<Result<Vec<Target>>>()?;
    let removed = edit_state(path, lock, "state rm", |state| {
        let mut removed = Vec::new();
        for target in &wanted {
            let matching: Vec<ResourceInstance> = state.instances().map(|i| i.address()).filter(|i| target.contains(i)).collect();
            if matching.is_empty() {
                return Err(not_in_state(&target.to_string(), state));
            }
            for address in matching {
                state.remove(&address);
                removed.push(address);
            }
        }
        Ok(removed)
    })?;
    for address in &removed {
        println!("Removed {address}");
    }
    println!("Successfully removed {} resource instance(s) from the state; the objects themselves were not touched.", removed.len());
    Ok(0)
}

/// `state mv OLD NEW`: the same objects under a new address of the same type: a resource's
/// instances keep their keys, an instance takes the new key, a module's instances keep their path
/// below it. Resources that depended on OLD now depend on NEW.
pub fn rename(from: &str, to: &str, path: Option<&Path>, lock: LockOptions) -> Result<i32> {
    let (old, new) = (parse_target(from)?, parse_target(to)?);
    let kind = |target: &Target| target.resource().map(|r| (r.mode, r.type_name.clone()));
    if kind(&old) != kind(&new) {
        return Err(Diagnostic::error(format!("cannot move {old} to {new}: an address keeps its type (and a module moves to a module)"))
            .hint(format!("to manage the object as another type, run strata state rm {}, then strata import {} ID", for_shell(&old), for_shell(&new)))
            .into());
    }
    let moved = edit_state(path, lock, "state mv", |state| {
        let moves: Vec<(ResourceInstance, ResourceInstance)> = state.instances().map(|i| i.address()).filter_map(|i| move_instance(&old, &new, &i).map(|to| (i, to))).collect();
        if moves.is_empty() {
            return Err(not_in_state(&old.to_string(), state));
        }
        if let Some((_, taken)) = moves.iter().find(|(_, to)| state.get(to).is_some()) {
            return Err(Diagnostic::error(format!("{taken} is already in the state"))
                .hint(format!("choose another address, or run strata state rm {} first", for_shell(taken)))
                .into());
        }
        for (from, to) in &moves {
            state.rename(from, to);
        }
        Ok(moves)
    })?;
    for (from, to) in moved {
        println!("Moved {from} to {to}");
    }
    Ok(0)
}

/// Loads the state under the lock, applies `edit`, and writes it back with the serial raised.
pub(super) fn edit_state<T>(path: Option<&Path>, lock: LockOptions, operation: &str, edit: impl FnOnce(&mut State) -> Result<T>) -> Result<T> {
    let mut store = configured_store(path, lock)?;
    let _lock = store.lock(operation)?;
    let mut state = store.load()?.ok_or_else(|| no_state(&store))?;
    let edited = edit(&mut state)?;
    state.serial += 1;
    store.write(&state)?;
    Ok(edited)
}

pub(super) fn parse(text: &str) -> Result<ResourceInstance> {
    text.parse().map_err(|err: String| Diagnostic::error(err).into())
}

fn parse_target(text: &str) -> Result<Target> {
    text.parse().map_err(|err: String| Diagnostic::error(err).into())
}

pub(super) fn not_in_state(address: &str, state: &State) -> crate::diag::Diagnostics {
    let known: Vec<String> = state.instances().map(|i| i.address().to_string()).collect();
    let hint = match closest(address, known.iter().map(String::as_str)) {
        Some(best) => format!("did you mean {best}? (strata state list shows every address)"),
        None => "strata state list shows every address".to_owned(),
    };
    Diagnostic::error(format!("{address} is not in the state")).hint(hint).into()
}

/// `state diff OLD NEW`: per resource (added, removed, changed) and attribute, in the plan's
/// notation, then the outputs; sensitive values masked. Exit 0, or 2 for a difference under
/// `-detailed-exitcode`, as `plan` does.
pub fn diff(old_path: &Path, new_path: &Path, detailed_exitcode: bool, providers: &Providers, style: &Style) -> Result<i32> {
    let (old, new) = (read_state_file(old_path)?, read_state_file(new_path)?);
    println!("Comparing {} (serial {}) with {} (serial {}).", old_path.display(), old.serial, new_path.display(), new.serial);
    if old.lineage != new.lineage {
        println!("{} the two states have different lineages: they are not versions of one state.", style.warning("Note:"));
    }
    let addresses: BTreeSet<ResourceInstance> = old.instances().chain(new.instances()).map(|i| i.address()).collect();
    let mut counts = [0usize; 3];
    let mut out = String::new();
    for address in addresses {
        let (before, after) = (old.get(&address), new.get(&address));
        let (marker, verb, count) = match (before, after) {
            (None, Some(_)) => (style.added("+"), "was added", &mut counts[0]),
            (Some(b), Some(a)) if b.attributes != a.attributes => (style.changed("~"), "changed", &mut counts[1]),
            (Some(_), None) => (style.removed("-"), "was removed", &mut counts[2]),
            _ => continue,
        };
        *count += 1;
        let sensitive: BTreeSet<String> = before.into_iter().chain(after).flat_map(|r| r.state.sensitive_attributes.iter().cloned()).collect();
        let value = |r: Option<crate::state::Instance<'_>>| r.map_or(Value::Null, |i| i.value());
        let schema = providers.resource_schema(&address.resource).ok().map(|s| &s.block);
        let lines = attribute_lines(&value(before), &value(after), &sensitive, schema, style);
        out.push_str(&format!("\n  {} {}\n", style.bold("#"), style.bold(&format!("{address} {verb}"))));
        out.push_str(&format!("  {marker} resource \"{}\" \"{}\" {{\n{lines}    }}\n", address.type_name(), address.resource.name));
    }
    let outputs = output_changes(&old, &new);
    out.push_str(&render_outputs(&outputs, style));
    let outputs_changed = outputs.iter().any(|o| o.before != o.after);
    if counts.iter().sum::<usize>() == 0 && !outputs_changed {
        println!("\n{} The two states record the same resources and outputs.", style.bold("No differences."));
        return Ok(0);
    }
    print!("{}", redact(&out));
    println!("\n{} {} added, {} changed, {} removed.", style.bold("State diff:"), counts[0], counts[1], counts[2]);
    Ok(if detailed_exitcode { EXIT_DIFFERENT } else { 0 })
}

fn read_state_file(path: &Path) -> Result<State> {
    StateStore::new(path.to_path_buf()).load()?.ok_or_else(|| {
        Diagnostic::error(format!("no state file at {}", path.display())).hint("give the paths of two state files: strata state diff OLD.json NEW.json").into()
    })
}

fn output_changes(old: &State, new: &State) -> Vec<OutputChange> {
    let names: BTreeSet<&String> = old.outputs.keys().chain(new.outputs.keys()).collect();
    names
        .into_iter()
        .map(|name| {
            let (before, after) = (old.outputs.get(name), new.outputs.get(name));
            OutputChange {
                name: name.clone(),
                before: before.map(|o| Value::from_json(&o.value)),
                after: after.map(|o| Value::from_json(&o.value)),
                sensitive: before.into_iter().chain(after).any(|o| o.sensitive),
            }
        })
        .collect()
}

/// `import ADDR ID`: reads the object `ID` names through ADDR's provider and records it in state
/// under ADDR, which the configuration must declare. Refuses when ADDR is already managed.
pub async fn import(ctx: &Context, args: &ImportArgs) -> Result<i32> {
    let address = parse(&args.address)?;
    if address.mode() == Mode::Data {
        return Err(Diagnostic::error(format!("{address} is a data source: data sources are read, not imported")).hint("import a managed resource: TYPE.NAME").into());
    }
    let mut store = ctx.store();
    let _lock = store.lock("import")?;
    let mut state = store.load()?.unwrap_or_default();
    let known = state_as_known(&state);
    check_configured(ctx, &address, &known)?;
    if state.get(&address).is_some() {
        return Err(Diagnostic::error(format!("{address} is already in the state; nothing was imported"))
            .hint(format!("to manage another object under this address, run strata state rm {} first", for_shell(&address)))
            .into());
    }
    let provider_name = ctx.provider_of(&address, None);
    if !configure_provider(ctx, &provider_name, &known).await? {
        return Err(Diagnostic::error(format!("provider \"{provider_name}\" cannot be configured yet: its configuration depends on values known only after apply"))
            .hint("apply the resources its configuration refers to first, then import")
            .into());
    }
    let provider = ctx.providers.get(&provider_name)?;
    let type_name = address.type_name();
    let live = provider.import(type_name, &args.id).await.map_err(|err| provider_error(&address.to_string(), err, None))?;
    let Some(live) = live else {
        return Err(Diagnostic::error(format!("no {type_name} with the id \"{}\" exists; nothing was imported", args.id)).hint(import_id_hint(provider.schema(), type_name)).into());
    };
    let (_, sensitive) = ctx.desired(&address, &known)?;
    state.put(&address, &provider_name, &live, sensitive, &ctx.dependencies_of(&address, &known));
    state.serial += 1;
    store.write(&state)?;
    println!("{address}: Import complete [id={}]", redact(&args.id));
    println!("\nImport successful! {address} is now in the state; strata plan compares it with the configuration.");
    Ok(0)
}

/// The configuration must declare the instance: its resource, with `count` or `for_each` giving
/// its key (when they are known now).
fn check_configured(ctx: &Context, address: &ResourceInstance, known: &crate::eval::Known) -> Result<()> {
    let Some(resource) = ctx.config.resource(&address.config()) else { return Err(not_in_config(address, ctx)) };
    match ctx.instances_of(&address.config(), known)? {
        Some(configured) if !configured.iter().any(|(instance, _)| instance == address) => {
            let instances: Vec<String> = configured.iter().map(|(instance, _)| instance.to_string()).collect();
            Err(Diagnostic::error(format!("{address} is not in the configuration; nothing was imported"))
                .detail(crate::instances::expected_keys(&resource.expansion).to_owned())
                .hint(match closest(&address.to_string(), instances.iter().map(String::as_str)) {
                    Some(best) => format!("did you mean {best}?"),
                    None => format!("the configuration declares {} instance(s) of {}", instances.len(), address.resource()),
                })
                .into())
        }
        _ => Ok(()),
    }
}

fn not_in_config(address: &ResourceInstance, ctx: &Context) -> crate::diag::Diagnostics {
    let declared: Vec<String> = ctx.config.all_resources().map(|(r, _)| r.to_string()).collect();
    let typo = closest(&address.config().to_string(), declared.iter().map(String::as_str)).map(|best| format!(" (did you mean {best}?)")).unwrap_or_default();
    Diagnostic::error(format!("{address} is not in the configuration; nothing was imported{typo}"))
        .detail(format!(
            "import records an object under an address the configuration declares. Add a block for it, with the object's arguments as they are live:\n\nresource \"{}\" \"{}\" {{\n  # ...\n}}",
            address.type_name(),
            address.resource.name
        ))
        .hint("add the block, then run strata import again")
        .into()
}

/// What an ID looks like for the type, as its provider's schema says.
fn import_id_hint(schema: &ProviderSchema, type_name: &str) -> String {
    let form = schema.import_ids.get(type_name).copied().unwrap_or("the id the provider uses");
    format!("check the id ({type_name} is imported by {form}) and that the provider points at the right account or database")
}
