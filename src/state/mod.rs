//! The state: what strata manages, as it was after the last operation on it.
//!
//! Owns the state model (format version, serial, lineage, resources with their attributes and
//! dependencies, outputs) and its JSON form, described by `schemas/state.schema.json`. Loading,
//! writing and locking live in [`store`], over a [`backend`] (the local file or PostgreSQL). It must not plan or talk to providers.

pub mod backend;
pub mod encryption;
mod journal;
mod local;
pub mod migrate;
mod postgres;
pub mod store;
mod upgrade;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use strata_provider_sdk::Value;

use crate::addrs::{AbsResource, ConfigResource, InstanceKey, Mode, ModuleInstance, ProviderConfig, ResourceInstance};

/// 2: resources group their instances (`instances`, each with Terraform's `index_key`).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    pub strata_version: String,
    /// Rises by one with every write.
    pub serial: u64,
    /// Fixed when the state is first created; a plan made against one lineage never applies to another.
    pub lineage: String,
    /// Random, fixed when the state is first created (or first read by this strata): providers
    /// salt the fingerprints of write-only secrets with it, so equal secrets in two states differ.
    #[serde(default = "new_secret_salt")]
    pub secret_salt: String,
    pub resources: Vec<ResourceState>,
    #[serde(default)]
    pub outputs: BTreeMap<String, OutputState>,
    /// Drift that `strata drift ack` accepted for a while (see `crate::drift`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drift_acks: Vec<DriftAck>,
    /// Copies of data apply set aside before destroying it (snapshots, backup tables).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backups: Vec<BackupRecord>,
    /// Creates apply started but has not recorded yet (see `crate::plan::adopt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingCreate>,
}

/// An intent, written before a provider is asked to create an object: if strata dies between the
/// create and the state write, the next plan finds the object by `import_id` and adopts it
/// instead of creating a twin, but only when the object carries this intent's mark (`id` in an AWS
/// tag, one of `marks` as a PostgreSQL catalog row's `xmin`; see `strata_provider_sdk::authorship`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingCreate {
    pub address: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub provider: String,
    /// What the provider's import accepts for the object the create makes (its deterministic name).
    pub import_id: String,
    /// A random UUID; empty in intents written before it existed (which then prove nothing).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Marks the create recorded before it could complete (PostgreSQL: the creating transactions' ids).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<String>,
    pub recorded_at: String,
}

impl PendingCreate {
    /// What the provider checks a live object against.
    pub fn proof(&self) -> strata_provider_sdk::Proof {
        strata_provider_sdk::Proof { intent_id: self.id.clone(), marks: self.marks.clone() }
    }
}

/// Where one applied change copied data aside, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackupRecord {
    pub address: String,
    /// As the provider described it at plan time ("RDS snapshot db-pre-replace-...").
    pub location: String,
    /// RFC 3339, UTC.
    pub taken_at: String,
}

/// Known drift on one resource (or one attribute of it) that does not fail a drift run until
/// `until` passes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftAck {
    pub address: String,
    /// A dotted attribute path (`instance_class`, `column.team`); absent for the whole resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    /// RFC 3339: a full date (acknowledged until its start, UTC) or a date-time.
    pub until: String,
    pub reason: String,
    pub recorded_at: String,
}

/// One resource with all its instances (one without `count` or `for_each` has one, without a
/// key), as Terraform's state groups them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// `TYPE.NAME`, `data.TYPE.NAME` or `module.M.TYPE.NAME`; derived from the fields below, kept for readers.
    pub address: String,
    /// The module instance it lives in (`module.db["eu"]`); absent for the root module.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub module: String,
    pub mode: StateMode,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    pub provider: String,
    /// Sorted by key.
    pub instances: Vec<InstanceState>,
}

/// One object strata manages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InstanceState {
    /// `count`'s index or `for_each`'s key; absent for a resource with neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<serde_json::Value>,
    pub attributes: serde_json::Value,
    /// Top-level attribute names whose values are sensitive.
    #[serde(default)]
    pub sensitive_attributes: BTreeSet<String>,
    /// The resources this one depended on when last applied (Terraform records whole resources:
    /// an instance waits for every instance of them).
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// `lifecycle.prevent_destroy` as last applied: kept when the block leaves the configuration,
    /// so only an apply that sets it false lifts it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prevent_destroy: bool,
    /// The digest of the configuration this object was last applied from (see `plan::unchanged`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_digest: Option<String>,
}

/// One instance in state, seen with the resource it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Instance<'a> {
    pub resource: &'a ResourceState,
    pub state: &'a InstanceState,
}

impl std::ops::Deref for Instance<'_> {
    type Target = InstanceState;

    fn deref(&self) -> &InstanceState {
        self.state
    }
}

impl Instance<'_> {
    pub fn address(&self) -> ResourceInstance {
        self.resource.abs_address().instance(self.state.key())
    }

    pub fn type_name(&self) -> &str {
        &self.resource.type_name
    }

    /// The provider configuration that manages it (`aws`, `aws.west`), as recorded.
    pub fn provider(&self) -> ProviderConfig {
        self.resource.provider_config()
    }

    pub fn value(&self) -> Value {
        Value::from_json(&self.state.attributes)
    }

    /// The resources it depended on; entries that do not parse (hand-edited) are dropped.
    pub fn dependency_addresses(&self) -> BTreeSet<AbsResource> {
        self.state.dependencies.iter().filter_map(|d| d.parse().ok()).collect()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateMode {
    Managed,
    Data,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    pub value: serde_json::Value,
    #[serde(default)]
    pub sensitive: bool,
}

impl State {
    pub fn new() -> State {
        State {
            format_version: FORMAT_VERSION,
            strata_version: env!("CARGO_PKG_VERSION").to_owned(),
            serial: 0,
            lineage: uuid::Uuid::new_v4().to_string(),
            secret_salt: new_secret_salt(),
            resources: vec![],
            outputs: BTreeMap::new(),
            drift_acks: vec![],
            backups: vec![],
            pending: vec![],
        }
    }

    pub fn get(&self, address: &ResourceInstance) -> Option<Instance<'_>> {
        let resource = &self.resources[self.position(&address.resource()).ok()?];
        let state = &resource.instances[resource.instance_position(&address.key).ok()?];
        Some(Instance { resource, state })
    }

    fn get_mut(&mut self, address: &ResourceInstance) -> Option<&mut InstanceState> {
        let index = self.position(&address.resource()).ok()?;
        let resource = &mut self.resources[index];
        let at = resource.instance_position(&address.key).ok()?;
        Some(&mut resource.instances[at])
    }

    /// Where `resource` is in the resources (kept sorted by address), or where it would go.
    fn position(&self, resource: &AbsResource) -> std::result::Result<usize, usize> {
        let module = resource.module.to_string();
        let wanted = (module.as_str(), resource.resource.mode, resource.resource.type_name.as_str(), resource.resource.name.as_str());
        self.resources.binary_search_by(|r| r.key().cmp(&wanted))
    }

    /// Sorts the resources by address and their instances by key, as every other method expects
    /// (a state read from a file someone edited may not be).
    pub fn sort(&mut self) {
        self.resources.sort_by(|a, b| a.key().cmp(&b.key()));
        for resource in &mut self.resources {
            resource.instances.sort_by_key(InstanceState::key);
        }
    }

    /// Records an instance's attributes, replacing what was there (its `prevent_destroy` stays).
    pub fn put(&mut self, address: &ResourceInstance, provider: &ProviderConfig, value: &Value, sensitive: BTreeSet<String>, dependencies: &BTreeSet<AbsResource>) {
        let recorded = InstanceState {
            index_key: address.key.to_json(),
            attributes: value.to_json(),
            sensitive_attributes: sensitive,
            dependencies: dependencies.iter().map(AbsResource::to_string).collect(),
            prevent_destroy: self.get(address).is_some_and(|kept| kept.prevent_destroy),
            desired_digest: None,
        };
        let entry = self.resource_entry(&address.resource());
        entry.provider = provider.to_string();
        entry.upsert(recorded);
    }

    /// The resource's entry, made empty when it has none.
    fn resource_entry(&mut self, resource: &AbsResource) -> &mut ResourceState {
        let index = match self.position(resource) {
            Ok(index) => index,
            Err(index) => {
                self.resources.insert(index, ResourceState::empty(resource));
                index
            }
        };
        &mut self.resources[index]
    }

    /// Records `resource`'s instances whole, next to the resource's other instances (a journal's replay).
    pub fn put_instances(&mut self, resource: ResourceState) {
        let entry = self.resource_entry(&resource.abs_address());
        entry.provider = resource.provider;
        for instance in resource.instances {
            entry.upsert(instance);
        }
    }

    /// Records the digest of the configuration `address` was just applied from (`None` forgets it).
    pub fn set_desired_digest(&mut self, address: &ResourceInstance, digest: Option<String>) {
        if let Some(instance) = self.get_mut(address) {
            instance.desired_digest = digest;
        }
    }

    /// Records `lifecycle.prevent_destroy` for `address`, when it is in state.
    pub fn set_prevent_destroy(&mut self, address: &ResourceInstance, prevent_destroy: bool) {
        if let Some(instance) = self.get_mut(address) {
            instance.prevent_destroy = prevent_destroy;
        }
    }

    /// Moves the instance at `old` to `new` (same type); once the old resource has no instances
    /// left, the dependencies that name it name the new one.
    pub fn rename(&mut self, old: &ResourceInstance, new: &ResourceInstance) {
        let Some(mut instance) = self.remove(old) else { return };
        instance.index_key = new.key.to_json();
        self.resource_entry(&new.resource()).upsert(instance);
        if old.resource() == new.resource() || self.position(&old.resource()).is_ok() {
            return;
        }
        let (old_text, new_text) = (old.resource().to_string(), new.resource().to_string());
        for instance in self.resources.iter_mut().flat_map(|r| r.instances.iter_mut()) {
            for dependency in instance.dependencies.iter_mut().filter(|d| **d == old_text) {
                *dependency = new_text.clone();
            }
        }
    }

    /// Takes one instance out of state; a resource left with no instances goes too.
    pub fn remove(&mut self, address: &ResourceInstance) -> Option<InstanceState> {
        let index = self.position(&address.resource()).ok()?;
        let resource = &mut self.resources[index];
        let removed = resource.instances.remove(resource.instance_position(&address.key).ok()?);
        if resource.instances.is_empty() {
            self.resources.remove(index);
        }
        Some(removed)
    }

    /// Every instance in state, managed resources' and data sources'.
    pub fn instances(&self) -> impl Iterator<Item = Instance<'_>> {
        self.resources.iter().flat_map(|resource| resource.instances.iter().map(move |state| Instance { resource, state }))
    }

    /// Every instance of a managed resource.
    pub fn managed(&self) -> impl Iterator<Item = Instance<'_>> {
        self.instances().filter(|i| i.resource.mode == StateMode::Managed)
    }

    /// Checks what serde cannot: module paths and instance keys parse, and no key is there twice.
    pub fn check(&self) -> std::result::Result<(), String> {
        for resource in &self.resources {
            resource.module.parse::<ModuleInstance>().map_err(|err| format!("resource {}: {err}", resource.address))?;
            let mut keys = BTreeSet::new();
            for instance in &resource.instances {
                let key = InstanceKey::from_json(instance.index_key.as_ref()).map_err(|err| format!("resource {}: {err}", resource.address))?;
                if !keys.insert(key.clone()) {
                    return Err(format!("resource {} holds instance {key} twice", resource.address));
                }
            }
        }
        Ok(())
    }

    /// How many objects the state holds.
    pub fn instance_count(&self) -> usize {
        self.resources.iter().map(|r| r.instances.len()).sum()
    }
}

fn new_secret_salt() -> String {
    hex::encode(encryption::random_salt())
}

impl Default for State {
    fn default() -> State {
        State::new()
    }
}

impl ResourceState {
    fn empty(resource: &AbsResource) -> ResourceState {
        ResourceState {
            address: resource.to_string(),
            module: resource.module.to_string(),
            mode: if resource.resource.mode == Mode::Data { StateMode::Data } else { StateMode::Managed },
            type_name: resource.resource.type_name.clone(),
            name: resource.resource.name.clone(),
            provider: resource.resource.provider().to_owned(),
            instances: vec![],
        }
    }

    /// The sort key: the address's parts, without building one.
    fn key(&self) -> (&str, Mode, &str, &str) {
        let mode = if self.mode == StateMode::Data { Mode::Data } else { Mode::Managed };
        (self.module.as_str(), mode, self.type_name.as_str(), self.name.as_str())
    }

    /// The provider configuration that manages its instances (`aws`, `aws.west`), as recorded.
    pub fn provider_config(&self) -> ProviderConfig {
        self.provider.parse().unwrap_or_else(|_| ProviderConfig::default_of(crate::addrs::provider_of(&self.type_name)))
    }

    pub fn abs_address(&self) -> AbsResource {
        let resource = match self.mode {
            StateMode::Managed => ConfigResource::managed(&self.type_name, &self.name),
            StateMode::Data => ConfigResource::data(&self.type_name, &self.name),
        };
        // Loading checked the path (`State::check`).
        AbsResource { module: self.module.parse().unwrap_or_default(), resource }
    }

    /// Puts `instance` in its place by key, replacing the one of the same key.
    fn upsert(&mut self, instance: InstanceState) {
        match self.instance_position(&instance.key()) {
            Ok(index) => self.instances[index] = instance,
            Err(index) => self.instances.insert(index, instance),
        }
    }

    fn instance_position(&self, key: &InstanceKey) -> std::result::Result<usize, usize> {
        self.instances.binary_search_by(|i| i.key().cmp(key))
    }
}

impl InstanceState {
    /// Its key; an `index_key` that is neither a whole number nor a string reads as none.
    pub fn key(&self) -> InstanceKey {
        InstanceKey::from_json(self.index_key.as_ref()).unwrap_or(InstanceKey::None)
    }
}
