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

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use strata_provider_sdk::Value;

use crate::addr::{Address, Mode};

pub const FORMAT_VERSION: u32 = 1;

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

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// `TYPE.NAME` or `data.TYPE.NAME`; derived from the fields below, kept for readers.
    pub address: String,
    pub mode: StateMode,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    pub provider: String,
    pub attributes: serde_json::Value,
    /// Top-level attribute names whose values are sensitive.
    #[serde(default)]
    pub sensitive_attributes: BTreeSet<String>,
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

    pub fn get(&self, address: &Address) -> Option<&ResourceState> {
        self.position(address).ok().map(|index| &self.resources[index])
    }

    /// Where `address` is in the resources (kept sorted by address), or where it would go.
    fn position(&self, address: &Address) -> std::result::Result<usize, usize> {
        self.resources.binary_search_by(|r| r.key().cmp(&(address.mode, address.type_name.as_str(), address.name.as_str())))
    }

    /// Sorts the resources by address, as every other method expects (a state read from a file
    /// someone edited may not be).
    pub fn sort(&mut self) {
        self.resources.sort_by(|a, b| a.key().cmp(&b.key()));
    }

    /// Records a resource's attributes, replacing what was there (its `prevent_destroy` stays).
    pub fn put(&mut self, address: &Address, value: &Value, sensitive: BTreeSet<String>, dependencies: &BTreeSet<Address>) {
        let recorded = ResourceState {
            address: address.to_string(),
            mode: if address.mode == Mode::Data { StateMode::Data } else { StateMode::Managed },
            type_name: address.type_name.clone(),
            name: address.name.clone(),
            provider: address.provider().to_owned(),
            attributes: value.to_json(),
            sensitive_attributes: sensitive,
            dependencies: dependencies.iter().map(Address::to_string).collect(),
            prevent_destroy: false,
            desired_digest: None,
        };
        match self.position(address) {
            Ok(index) => {
                let prevent_destroy = self.resources[index].prevent_destroy;
                self.resources[index] = ResourceState { prevent_destroy, ..recorded };
            }
            Err(index) => self.resources.insert(index, recorded),
        }
    }

    /// Records the digest of the configuration `address` was just applied from (`None` forgets it).
    pub fn set_desired_digest(&mut self, address: &Address, digest: Option<String>) {
        if let Ok(index) = self.position(address) {
            self.resources[index].desired_digest = digest;
        }
    }

    /// Records `lifecycle.prevent_destroy` for `address`, when it is in state.
    pub fn set_prevent_destroy(&mut self, address: &Address, prevent_destroy: bool) {
        if let Ok(index) = self.position(address) {
            self.resources[index].prevent_destroy = prevent_destroy;
        }
    }

    /// Moves the resource at `old` to `new` (same type), and the dependencies that name it.
    pub fn rename(&mut self, old: &Address, new: &Address) {
        let (old_text, new_text) = (old.to_string(), new.to_string());
        for resource in &mut self.resources {
            if resource.key() == (old.mode, old.type_name.as_str(), old.name.as_str()) {
                resource.name = new.name.clone();
                resource.address = new_text.clone();
            }
            for dependency in resource.dependencies.iter_mut().filter(|d| **d == old_text) {
                *dependency = new_text.clone();
            }
        }
        self.sort();
    }

    pub fn remove(&mut self, address: &Address) -> Option<ResourceState> {
        let index = self.position(address).ok()?;
        Some(self.resources.remove(index))
    }

    pub fn managed(&self) -> impl Iterator<Item = &ResourceState> {
        self.resources.iter().filter(|r| r.mode == StateMode::Managed)
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
    /// The address's parts in `Address`'s order, without building one.
    fn key(&self) -> (Mode, &str, &str) {
        let mode = if self.mode == StateMode::Data { Mode::Data } else { Mode::Managed };
        (mode, self.type_name.as_str(), self.name.as_str())
    }

    pub fn address(&self) -> Address {
        match self.mode {
            StateMode::Managed => Address::managed(&self.type_name, &self.name),
            StateMode::Data => Address::data(&self.type_name, &self.name),
        }
    }

    pub fn value(&self) -> Value {
        Value::from_json(&self.attributes)
    }

    pub fn dependency_addresses(&self) -> BTreeSet<Address> {
        self.dependencies.iter().filter_map(|d| d.parse().ok()).collect()
    }
}
