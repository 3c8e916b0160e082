//! Plans: what apply will do, resource by resource, and why.
//!
//! Owns the plan model ([`Plan`], [`ResourceChange`]), making one ([`planner`]: refresh, then ask
//! each provider to diff desired against live in dependency order), showing one ([`render`]) and
//! the plan file ([`file`]). It must not change anything live or in state.

pub mod file;
pub mod json;
pub mod markdown;
pub mod planner;
pub mod render;
pub mod targeting;
pub mod textdiff;

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{Action, Value};

use crate::addr::Address;

/// What apply will do to one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    pub address: Address,
    pub action: Action,
    /// The live object as refresh found it.
    pub before: Option<Value>,
    /// The object as it will be; may hold unknowns.
    pub after: Option<Value>,
    pub replace_because: Vec<String>,
    /// What the provider will run (SQL statements, API calls), in order.
    pub operations: Vec<String>,
    /// Top-level attributes whose values are masked.
    pub sensitive: BTreeSet<String>,
    /// The resources this one depends on (from configuration, or from state for deletes).
    pub dependencies: BTreeSet<Address>,
    /// Why, when it is not obvious (e.g. "deleted outside strata").
    pub reason: Option<String>,
    pub warnings: Vec<String>,
    /// What applying this change loses for good, one line each (from the provider's answer).
    pub data_loss: Vec<String>,
}

/// An output value's change.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputChange {
    pub name: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub sensitive: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    pub changes: Vec<ResourceChange>,
    pub outputs: Vec<OutputChange>,
    /// The variable values the plan was made with.
    pub variables: BTreeMap<String, Value>,
    /// The state the plan was made against (`None` when there was none).
    pub prior_lineage: Option<String>,
    pub prior_serial: Option<u64>,
    pub destroy: bool,
}

/// Counts for the summary line. A replacement counts only as a replacement: folded into one add
/// plus one destroy (as Terraform does), it is easy to miss that something goes away for a while.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            match change.action {
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete if change.before.is_some() => summary.destroy += 1,
                _ => {}
            }
        }
        summary
    }

    /// How many data-loss lines the plan's changes carry, for the line under the summary.
    pub fn data_loss_count(&self) -> usize {
        self.changes.iter().map(|c| c.data_loss.len()).sum()
    }

    /// Whether applying would change anything live, in state or in outputs.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action.is_change()) || self.outputs.iter().any(|o| o.before != o.after)
    }
}
