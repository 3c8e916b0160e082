//! `strata show [-json] [-format human|markdown] [FILE]`: a saved plan for people (as `plan`
//! prints it), as Terraform's machine-readable plan JSON, or as a pull-request comment; without
//! FILE, the state (each resource as `state show` prints it, then any create an interrupted apply
//! left pending; or Terraform's state JSON).
//!
//! Owns choosing and printing those views, and the plan's format for `plan -format`. It reads
//! files only: no provider is configured, nothing live or in state changes. Sensitive values are
//! masked in every view.

use std::path::Path;

use super::args::{PlanFormat, ShowArgs};
use super::commands::{read_state, resource_hcl};
use super::state_cmds::{masked_attributes, pending_report};
use crate::addrs::ModuleInstance;
use crate::diag::{Diagnostic, Result};
use crate::plan::json::plan_json;
use crate::plan::markdown::render_markdown;
use crate::plan::render::render_plan;
use crate::plan::{file, Plan};
use crate::providers::Providers;
use crate::secrets::{redact, MASK};
use crate::state::{State, StateMode};
use crate::ui::Style;

/// The version of Terraform's state JSON (`terraform show -json` without a plan) that `show
/// -json` follows.
const STATE_JSON_VERSION: &str = "1.0";

pub fn run(args: &ShowArgs, providers: &Providers, style: &Style) -> Result<i32> {
    match &args.plan_file {
        Some(path) => show_plan(path, args, providers, style),
        None => show_state(args),
    }
}

/// A plan in the format asked for, secrets redacted.
pub fn render_plan_as(plan: &Plan, format: PlanFormat, providers: &Providers, style: &Style) -> String {
    match format {
        PlanFormat::Human => redact(&render_plan(plan, providers, style)),
        PlanFormat::Markdown => render_markdown(plan),
    }
}

fn show_plan(path: &Path, args: &ShowArgs, providers: &Providers, style: &Style) -> Result<i32> {
    let saved = file::read(path)?;
    if args.json {
        println!("{}", redact(&pretty(&plan_json(&saved))?));
    } else {
        print!("{}", render_plan_as(&saved.plan, args.format, providers, style));
    }
    Ok(0)
}

fn show_state(args: &ShowArgs) -> Result<i32> {
    if args.format == PlanFormat::Markdown {
        return Err(Diagnostic::error("show -format markdown needs a plan file")
            .hint("save one with strata plan -out FILE, then strata show -format markdown FILE")
            .into());
    }
    let state = read_state(args.state.as_deref())?;
    if args.json {
        println!("{}", redact(&pretty(&state_json(&state))?));
        return Ok(0);
    }
    if state.resources.is_empty() && state.pending.is_empty() {
        println!("The state is empty.");
    }
    for instance in state.instances() {
        println!("{}", resource_hcl(instance));
    }
    if let Some(pending) = pending_report(&state.pending) {
        print!("{pending}");
    }
    Ok(0)
}

/// The state in Terraform's `show -json` shape, sensitive values masked.
fn state_json(state: &State) -> serde_json::Value {
    let resources: Vec<(ModuleInstance, serde_json::Value)> = state
        .instances()
        .map(|instance| {
            let resource = instance.resource;
            let sensitive: serde_json::Map<String, serde_json::Value> = instance.sensitive_attributes.iter().map(|name| (name.clone(), true.into())).collect();
            let mut json = serde_json::json!({
                "address": instance.address().to_string(),
                "mode": if resource.mode == StateMode::Data { "data" } else { "managed" },
                "type": resource.type_name,
                "name": resource.name,
                "provider_name": crate::addrs::registry_address(&resource.provider),
                "values": masked_attributes(instance.state),
                "sensitive_values": sensitive,
                "depends_on": instance.dependencies,
            });
            if let Some(index) = &instance.index_key {
                json["index"] = index.clone();
            }
            (instance.address().module, json)
        })
        .collect();
    let outputs: serde_json::Map<String, serde_json::Value> = state
        .outputs
        .iter()
        .map(|(name, output)| {
            let value = if output.sensitive { MASK.into() } else { output.value.clone() };
            (name.clone(), serde_json::json!({ "sensitive": output.sensitive, "value": value }))
        })
        .collect();
    serde_json::json!({
        "format_version": STATE_JSON_VERSION,
        "strata_version": state.strata_version,
        "values": { "outputs": outputs, "root_module": module_json(&ModuleInstance::root(), &resources) },
    })
}

/// One module instance of `show -json`'s `values`: its resources, and its child module
/// instances (`child_modules`, each with its `address`), nested as Terraform nests them.
fn module_json(module: &ModuleInstance, resources: &[(ModuleInstance, serde_json::Value)]) -> serde_json::Value {
    let own: Vec<&serde_json::Value> = resources.iter().filter(|(m, _)| m == module).map(|(_, json)| json).collect();
    let depth = module.0.len() + 1;
    let children: std::collections::BTreeSet<ModuleInstance> = resources.iter().filter(|(m, _)| m.0.len() >= depth && m.0.starts_with(&module.0)).map(|(m, _)| m.ancestor(depth)).collect();
    // Terraform leaves out what is empty.
    let mut json = serde_json::json!({});
    if !own.is_empty() {
        json["resources"] = own.into_iter().cloned().collect();
    }
    if !module.is_root() {
        json["address"] = module.to_string().into();
    }
    if !children.is_empty() {
        json["child_modules"] = children.iter().map(|child| module_json(child, resources)).collect();
    }
    json
}

fn pretty(json: &serde_json::Value) -> Result<String> {
    serde_json::to_string_pretty(json).map_err(|err| Diagnostic::error(format!("cannot encode JSON: {err}")).into())
}
