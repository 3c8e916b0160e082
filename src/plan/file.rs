//! The plan file written by `plan -out FILE` and read by `apply FILE`.
//!
//! Its layout follows Terraform's machine-readable plan (`resource_changes[].change.actions`,
//! `before`, `after`, `after_unknown`, `*_sensitive`), with strata's extras under `strata`.
//! Sensitive values never enter it: sensitive attributes are written as null and marked, and a
//! sensitive variable is recorded only as a salted Argon2id digest (a fresh salt for each, so the
//! digest can neither be guessed at speed nor compared across plans), so apply asks for it again and
//! checks it is the same. It also records the configuration's digest and the state's lineage and serial, so a
//! plan never applies to anything but what it was made from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strata_provider_sdk::{Action, Value};

use super::{OutputChange, Plan, ResourceChange};
use crate::addrs::{AbsResource, ResourceInstance};
use crate::config::Config;
use crate::diag::{Diagnostic, Result};
use crate::state::encryption;

pub(super) const FORMAT_VERSION: &str = "1.2";

#[derive(Serialize, Deserialize)]
struct PlanFile {
    format_version: String,
    strata_version: String,
    config_digest: String,
    prior_lineage: Option<String>,
    prior_serial: Option<u64>,
    destroy: bool,
    /// Made with `plan -allow-data-loss`: its data-losing changes may be applied.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    allow_data_loss: bool,
    variables: BTreeMap<String, VariableFile>,
    resource_changes: Vec<ResourceChangeFile>,
    output_changes: BTreeMap<String, ChangeFile>,
}

#[derive(Serialize, Deserialize)]
struct VariableFile {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    value: Option<serde_json::Value>,
    /// An older strata's unsalted digest of a sensitive variable: read only to refuse the file.
    #[serde(skip_serializing, default)]
    sha256: Option<String>,
    /// A sensitive variable's `SALT:DIGEST` (both hex), see [`sealed_digest`].
    #[serde(skip_serializing_if = "Option::is_none", default)]
    argon2id: Option<String>,
    /// An ephemeral variable: the plan holds no value or digest of it; apply needs it again.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    ephemeral: bool,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ResourceChangeFile {
    address: String,
    /// `module.a["k"]`, absent in the root module (as `terraform show -json` writes it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    module_address: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    type_name: String,
    name: String,
    /// `count`'s index or `for_each`'s key, absent for a resource with neither.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    index: Option<serde_json::Value>,
    /// Where a `moved` block or `renamed_from` moved it from (Terraform's `previous_address`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    previous_address: Option<String>,
    provider_name: String,
    change: ChangeFile,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    action_reason: Option<String>,
    strata: Extras,
}

#[derive(Serialize, Deserialize)]
pub(super) struct ChangeFile {
    actions: Vec<String>,
    before: serde_json::Value,
    after: serde_json::Value,
    after_unknown: serde_json::Value,
    before_sensitive: serde_json::Value,
    after_sensitive: serde_json::Value,
    /// Terraform's paths (lists of steps) of the attributes that force a replacement.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    replace_paths: Vec<Vec<String>>,
    /// The object an `import` block brings in, as Terraform writes it: `{"id": "..."}`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    importing: Option<Importing>,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Importing {
    id: String,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Extras {
    operations: Vec<String>,
    replace_because: Vec<String>,
    dependencies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    reason: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    data_loss: Vec<String>,
    /// `safe`, `locking` or `data-loss`: derived, written for readers of the JSON.
    #[serde(default)]
    class: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    locking: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    backups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    duties: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    moved_from: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    prevent_destroy: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    create_before_destroy: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    state_updates: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    desired_digest: Option<String>,
}

/// The digest of every configuration file's name and text.
pub fn config_digest(config: &Config) -> String {
    let mut hasher = Sha256::new();
    for (path, text) in config.sources.texts() {
        hasher.update(path.to_string_lossy().as_bytes());
        hasher.update([0]);
        hasher.update(text.as_bytes());
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// `SALT:DIGEST` of a sensitive variable's value, under a fresh salt.
fn sealed_digest(value: &Value) -> Result<String> {
    let salt = encryption::random_salt();
    Ok(format!("{}:{}", hex::encode(salt), encryption::salted_digest(&value.to_json().to_string(), &salt)?))
}

/// Whether `value` is the one `sealed` (a [`sealed_digest`]) was made from.
fn matches_sealed(value: &Value, sealed: &str) -> Result<bool> {
    let Some((salt, digest)) = sealed.split_once(':').and_then(|(salt, digest)| Some((hex::decode(salt).ok()?, digest))) else {
        return Err(Diagnostic::error("the plan file is damaged: a sensitive variable's digest is malformed").hint("make a new plan").into());
    };
    Ok(encryption::salted_digest(&value.to_json().to_string(), &salt)? == digest)
}

pub fn write(path: &Path, plan: &Plan, config: &Config) -> Result<()> {
    let file = PlanFile {
        format_version: FORMAT_VERSION.to_owned(),
        strata_version: env!("CARGO_PKG_VERSION").to_owned(),
        config_digest: config_digest(config),
        prior_lineage: plan.prior_lineage.clone(),
        prior_serial: plan.prior_serial,
        destroy: plan.destroy,
        allow_data_loss: plan.allow_data_loss,
        variables: plan
            .variables
            .iter()
            .map(|(name, value)| {
                let declared = config.variables.get(name);
                let entry = if declared.is_some_and(|v| v.ephemeral) {
                    VariableFile { value: None, sha256: None, argon2id: None, ephemeral: true }
                } else if declared.is_some_and(|v| v.sensitive) {
                    VariableFile { value: None, sha256: None, argon2id: Some(sealed_digest(value)?), ephemeral: false }
                } else {
                    VariableFile { value: Some(value.to_json()), sha256: None, argon2id: None, ephemeral: false }
                };
                Ok((name.clone(), entry))
            })
            .collect::<Result<_>>()?,
        resource_changes: plan.changes.iter().map(|c| change_file(c, plan.destroy)).collect(),
        output_changes: plan.outputs.iter().map(|o| (o.name.clone(), output_file(o))).collect(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|err| Diagnostic::error(format!("cannot encode the plan: {err}")))?;
    std::fs::write(path, text + "\n").map_err(|err| Diagnostic::error(format!("cannot write the plan file {}: {err}", path.display())).into())
}

fn actions(action: Action) -> Vec<String> {
    let names: &[&str] = match action {
        Action::NoOp => &["no-op"],
        Action::Create => &["create"],
        Action::Update => &["update"],
        Action::Replace => &["delete", "create"],
        Action::Delete => &["delete"],
    };
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn action_of(names: &[String]) -> Option<Action> {
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    Some(match names.as_slice() {
        ["no-op"] => Action::NoOp,
        ["create"] => Action::Create,
        ["update"] => Action::Update,
        ["delete", "create"] | ["create", "delete"] => Action::Replace,
        ["delete"] | ["forget"] => Action::Delete,
        _ => return None,
    })
}

/// `value` with sensitive top-level attributes nulled, and the matching `*_sensitive` mask.
fn masked(value: Option<&Value>, sensitive: &BTreeSet<String>) -> (serde_json::Value, serde_json::Value) {
    let Some(value) = value else { return (serde_json::Value::Null, serde_json::Value::Bool(false)) };
    let mut json = value.to_json();
    let mut mask = serde_json::Map::new();
    if let serde_json::Value::Object(map) = &mut json {
        for name in sensitive {
            if let Some(slot) = map.get_mut(name) {
                *slot = serde_json::Value::Null;
                mask.insert(name.clone(), serde_json::Value::Bool(true));
            }
        }
    }
    (json, serde_json::Value::Object(mask))
}

/// Terraform's `action_reason` for a change, where Terraform gives one.
fn action_reason(change: &ResourceChange, destroy: bool) -> Option<String> {
    let reason = match change.action {
        Action::Replace if super::targeting::replace_was_requested(change) => "replace_by_request",
        Action::Replace => "replace_because_cannot_update",
        Action::Delete if change.forget => return None,
        Action::Delete if !destroy && change.before.is_some() => "delete_because_no_resource_config",
        _ => return None,
    };
    Some(reason.to_owned())
}

pub(super) fn change_file(change: &ResourceChange, destroy: bool) -> ResourceChangeFile {
    let (before, before_sensitive) = masked(change.before.as_ref(), &change.sensitive);
    let (after, after_sensitive) = masked(change.after.as_ref(), &change.sensitive);
    ResourceChangeFile {
        address: change.address.to_string(),
        module_address: change.address.module_address(),
        mode: if change.address.mode() == crate::addrs::Mode::Data { "data" } else { "managed" }.to_owned(),
        type_name: change.address.type_name().to_owned(),
        name: change.address.resource.name.clone(),
        index: change.address.key.to_json(),
        previous_address: change.moved_from.as_ref().map(ResourceInstance::to_string),
        provider_name: crate::addrs::registry_address(change.address.provider()),
        change: ChangeFile {
            actions: if change.forget { vec!["forget".to_owned()] } else { actions(change.action) },
            before,
            after,
            after_unknown: change.after.as_ref().map_or(serde_json::Value::Bool(false), Value::unknown_mask),
            before_sensitive,
            after_sensitive,
            replace_paths: change.replace_because.iter().map(|path| path.split('.').map(str::to_owned).collect()).collect(),
            importing: change.importing.as_ref().map(|id| Importing { id: id.clone() }),
        },
        action_reason: action_reason(change, destroy),
        strata: Extras {
            operations: change.operations.iter().map(|o| crate::secrets::redact(o)).collect(),
            replace_because: change.replace_because.clone(),
            dependencies: change.dependencies.iter().map(AbsResource::to_string).collect(),
            reason: change.reason.clone(),
            warnings: change.warnings.clone(),
            data_loss: change.data_loss.iter().map(|line| crate::secrets::redact(line)).collect(),
            class: change.class().as_str().to_owned(),
            locking: change.locking.iter().map(|line| crate::secrets::redact(line)).collect(),
            backups: change.backups.iter().map(|line| crate::secrets::redact(line)).collect(),
            duties: change.duties.iter().map(|line| crate::secrets::redact(line)).collect(),
            moved_from: change.moved_from.as_ref().map(ResourceInstance::to_string),
            prevent_destroy: change.prevent_destroy,
            create_before_destroy: change.create_before_destroy,
            state_updates: change.state_updates.clone(),
            desired_digest: change.desired_digest.clone(),
        },
    }
}

pub(super) fn output_file(output: &OutputChange) -> ChangeFile {
    let hide = |v: Option<&Value>| if output.sensitive { serde_json::Value::Null } else { v.map_or(serde_json::Value::Null, Value::to_json) };
    let action = match (&output.before, &output.after) {
        (None, Some(_)) => Action::Create,
        (Some(_), None) => Action::Delete,
        (b, a) if b == a => Action::NoOp,
        _ => Action::Update,
    };
    ChangeFile {
        actions: actions(action),
        before: hide(output.before.as_ref()),
        after: hide(output.after.as_ref()),
        after_unknown: output.after.as_ref().map_or(serde_json::Value::Bool(false), Value::unknown_mask),
        before_sensitive: serde_json::Value::Bool(output.sensitive),
        after_sensitive: serde_json::Value::Bool(output.sensitive),
        replace_paths: vec![],
        importing: None,
    }
}

/// A plan read back, with what is needed to check it still applies.
pub struct SavedPlan {
    pub plan: Plan,
    pub config_digest: String,
    /// Digests of sensitive variables, whose values the plan does not hold.
    pub sensitive_digests: BTreeMap<String, String>,
    /// Ephemeral variables, of which the plan holds nothing: apply is given them again.
    pub ephemeral: BTreeSet<String>,
}

impl SavedPlan {
    /// Checks that `variables` (resolved afresh for apply) match the plan's sensitive digests, and
    /// puts the plan's other values in place.
    pub fn merge_variables(&self, variables: &mut BTreeMap<String, Value>) -> Result<()> {
        if let Some(name) = self.ephemeral.iter().find(|name| !variables.contains_key(*name)) {
            return Err(Diagnostic::error(format!("the plan needs the ephemeral variable \"{name}\", which plan files never hold"))
                .hint(format!("give it again for apply: STRATA_VAR_{name} or TF_VAR_{name} in the environment"))
                .into());
        }
        for (name, digest) in &self.sensitive_digests {
            let given = variables.get(name).ok_or_else(|| {
                Diagnostic::error(format!("the plan needs the sensitive variable \"{name}\", which plan files never hold"))
                    .hint(format!("give it again as when planning: -var {name}=..., a -var-file, or STRATA_VAR_{name}"))
            })?;
            if !matches_sealed(given, digest)? {
                return Err(Diagnostic::error(format!("the sensitive variable \"{name}\" differs from the one the plan was made with"))
                    .hint("give the same value as when planning, or make a new plan")
                    .into());
            }
        }
        variables.extend(self.plan.variables.clone());
        Ok(())
    }
}

pub fn read(path: &Path) -> Result<SavedPlan> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Diagnostic::error(format!("cannot read the plan file {}: {err}", path.display())).hint("make one with strata plan -out FILE")
    })?;
    let file: PlanFile = serde_json::from_str(&text).map_err(|err| {
        Diagnostic::error(format!("{} is not a strata plan file: {err}", path.display())).hint("make one with strata plan -out FILE")
    })?;
    let bad = |what: &str| Diagnostic::error(format!("the plan file {} is damaged: {what}", path.display()));
    let changes = file
        .resource_changes
        .iter()
        .map(|c| {
            let address: ResourceInstance = c.address.parse().map_err(|e: String| bad(&e))?;
            let action = action_of(&c.change.actions).ok_or_else(|| bad("unknown actions"))?;
            let sensitive: BTreeSet<String> = c.change.after_sensitive.as_object().into_iter().chain(c.change.before_sensitive.as_object()).flat_map(|m| m.keys().cloned()).collect();
            Ok(ResourceChange {
                address,
                action,
                before: (!c.change.before.is_null()).then(|| Value::from_json(&c.change.before)),
                after: (!c.change.after.is_null()).then(|| Value::from_json_with_mask(&c.change.after, Some(&c.change.after_unknown))),
                replace_because: c.strata.replace_because.clone(),
                operations: c.strata.operations.clone(),
                sensitive,
                dependencies: c.strata.dependencies.iter().filter_map(|d| d.parse().ok()).collect(),
                reason: c.strata.reason.clone(),
                warnings: c.strata.warnings.clone(),
                data_loss: c.strata.data_loss.clone(),
                locking: c.strata.locking.clone(),
                backups: c.strata.backups.clone(),
                duties: c.strata.duties.clone(),
                moved_from: c.strata.moved_from.as_deref().map(str::parse).transpose().map_err(|e: String| bad(&e))?,
                prevent_destroy: c.strata.prevent_destroy,
                create_before_destroy: c.strata.create_before_destroy,
                state_updates: c.strata.state_updates.clone(),
                desired_digest: c.strata.desired_digest.clone(),
                forget: c.change.actions == ["forget"],
                importing: c.change.importing.as_ref().map(|i| i.id.clone()),
            })
        })
        .collect::<std::result::Result<Vec<_>, Diagnostic>>()?;
    let outputs = file
        .output_changes
        .iter()
        .map(|(name, c)| OutputChange {
            name: name.clone(),
            before: (!c.before.is_null()).then(|| Value::from_json(&c.before)),
            after: (!c.after.is_null()).then(|| Value::from_json_with_mask(&c.after, Some(&c.after_unknown))),
            sensitive: c.after_sensitive.as_bool().unwrap_or(false),
        })
        .collect();
    let variables = file.variables.iter().filter_map(|(name, v)| v.value.as_ref().map(|json| (name.clone(), Value::from_json(json)))).collect();
    if let Some(name) = file.variables.iter().find(|(_, v)| v.sha256.is_some()).map(|(name, _)| name) {
        return Err(Diagnostic::error(format!("the plan file {} holds the sensitive variable \"{name}\" the way an older strata did", path.display()))
            .hint("make the plan again with this strata")
            .into());
    }
    let sensitive_digests = file.variables.iter().filter_map(|(name, v)| v.argon2id.clone().map(|d| (name.clone(), d))).collect();
    Ok(SavedPlan {
        plan: Plan { changes, outputs, variables, prior_lineage: file.prior_lineage, prior_serial: file.prior_serial, destroy: file.destroy, allow_data_loss: file.allow_data_loss, warnings: Default::default() },
        config_digest: file.config_digest,
        sensitive_digests,
        ephemeral: file.variables.iter().filter(|(_, v)| v.ephemeral).map(|(name, _)| name.clone()).collect(),
    })
}
