//! The machine-readable plan that `strata show -json FILE` prints: Terraform's plan JSON for
//! what policy checks and PR bots read (`format_version`, `variables`, `resource_changes[]` with
//! `change.actions`, `before`/`after`, `*_sensitive`, `replace_paths`, `action_reason`;
//! `output_changes`), with strata's extras (the SQL and API calls, the change's class: `safe`,
//! `locking` or `data-loss`, what it loses or locks, backups, moves, why a replacement) in a
//! `strata` object per resource change. `schemas/plan.schema.json` describes it.
//!
//! Owns that document's shape; the per-change parts come from `file`, so the plan file and this
//! view never drift apart. Sensitive values never enter it: the plan file holds none.

use std::collections::BTreeMap;

use serde::Serialize;

use super::file::{change_file, output_file, ChangeFile, ResourceChangeFile, SavedPlan, FORMAT_VERSION};
use crate::secrets::MASK;

#[derive(Serialize)]
struct PlanDocument {
    format_version: &'static str,
    strata_version: &'static str,
    /// Terraform's flags: whether applying would change anything, and that planning finished.
    applyable: bool,
    complete: bool,
    errored: bool,
    variables: BTreeMap<String, VariableValue>,
    resource_changes: Vec<ResourceChangeFile>,
    output_changes: BTreeMap<String, ChangeFile>,
}

#[derive(Serialize)]
struct VariableValue {
    value: serde_json::Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    sensitive: bool,
}

/// The plan as Terraform-shaped JSON, sensitive variables masked.
pub fn plan_json(saved: &SavedPlan) -> serde_json::Value {
    let plan = &saved.plan;
    let plain = plan.variables.iter().map(|(name, value)| (name.clone(), VariableValue { value: value.to_json(), sensitive: false }));
    let masked = saved.sensitive_digests.keys().map(|name| (name.clone(), VariableValue { value: MASK.into(), sensitive: true }));
    let document = PlanDocument {
        format_version: FORMAT_VERSION,
        strata_version: env!("CARGO_PKG_VERSION"),
        applyable: plan.has_changes(),
        complete: true,
        errored: false,
        variables: plain.chain(masked).collect(),
        resource_changes: plan.changes.iter().map(|c| change_file(c, plan.destroy)).collect(),
        output_changes: plan.outputs.iter().map(|o| (o.name.clone(), output_file(o))).collect(),
    };
    serde_json::to_value(document).unwrap_or_default()
}
