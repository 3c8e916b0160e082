//! Plans: what apply will do, resource by resource, and why.
//!
//! Owns the plan model ([`Plan`], [`ResourceChange`]), making one ([`planner`]: refresh, then ask
//! each provider to diff desired against live in dependency order), showing one ([`render`]) and
//! the plan file ([`file`]). It must not change anything live or in state.

pub mod adopt;
pub mod conditions;
pub mod file;
pub mod guards;
pub mod implied;
pub mod imports;
pub mod json;
pub mod markdown;
pub mod planner;
pub mod removed;
pub mod review;
pub mod render;
pub mod targeting;
pub mod textdiff;
pub mod unchanged;

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::{Action, Value};

use crate::addrs::{AbsResource, ResourceInstance};

/// What apply will do to one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceChange {
    pub address: ResourceInstance,
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
    /// The resources this one depends on (from configuration, or from state for deletes): it
    /// waits for every instance of them.
    pub dependencies: BTreeSet<AbsResource>,
    /// Why, when it is not obvious (e.g. "deleted outside strata").
    pub reason: Option<String>,
    pub warnings: Vec<String>,
    /// What applying this change loses for good, one line each (from the provider's answer).
    pub data_loss: Vec<String>,
    /// What applying this change locks or rewrites while it runs, one line each.
    pub locking: Vec<String>,
    /// Where apply copies data aside before destroying it, one line each; recorded in state once applied.
    pub backups: Vec<String>,
    /// Periodic work that is due (a backup, a prune, a drill), one line each with why.
    pub duties: Vec<String>,
    /// The address whose state moves here first (a `moved` block or `renamed_from`).
    pub moved_from: Option<ResourceInstance>,
    /// `lifecycle.prevent_destroy` as apply records it in state.
    pub prevent_destroy: bool,
    /// `lifecycle.create_before_destroy`: a replacement creates the new object before deleting the old.
    pub create_before_destroy: bool,
    /// Changes to state alone (a move, `prevent_destroy` set or lifted), shown in the plan; apply
    /// writes them even when nothing live changes.
    pub state_updates: Vec<String>,
    /// The digest of this resource's configuration, recorded in state once applied (see `unchanged`).
    pub desired_digest: Option<String>,
    /// A `Delete` that only drops the resource from state, leaving the live object alone (a
    /// `removed` block with `destroy = false`; see `removed`).
    pub forget: bool,
    /// The id of the live object an `import` block brings under management with this change
    /// (see `imports`): apply records it in state, then changes it as planned.
    pub importing: Option<String>,
}

impl ResourceChange {
    /// A change the provider does not plan, to an instance in state (left alone, deleted,
    /// forgotten): its sensitivity, dependencies and protection as `recorded` has them, nothing
    /// else yet.
    pub fn of_recorded(recorded: &crate::state::Instance<'_>, action: Action, before: Option<Value>, after: Option<Value>) -> ResourceChange {
        ResourceChange {
            address: recorded.address(),
            action,
            before,
            after,
            replace_because: vec![],
            operations: vec![],
            sensitive: recorded.sensitive_attributes.clone(),
            dependencies: recorded.dependency_addresses(),
            reason: None,
            warnings: vec![],
            data_loss: vec![],
            locking: vec![],
            backups: vec![],
            duties: vec![],
            moved_from: None,
            prevent_destroy: recorded.prevent_destroy,
            create_before_destroy: false,
            state_updates: vec![],
            desired_digest: None,
            forget: false,
            importing: None,
        }
    }
}

/// How risky a change is to run, for reviewers and for apply's refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeClass {
    Safe,
    /// Locks or rewrites a table while it runs.
    Locking,
    /// Loses data for good.
    DataLoss,
}

impl ChangeClass {
    /// The class as the JSON and the plan's markers spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeClass::Safe => "safe",
            ChangeClass::Locking => "locking",
            ChangeClass::DataLoss => "data-loss",
        }
    }
}

impl ResourceChange {
    /// A change that loses data is classed so whatever else it does.
    pub fn class(&self) -> ChangeClass {
        if !self.data_loss.is_empty() {
            ChangeClass::DataLoss
        } else if !self.locking.is_empty() {
            ChangeClass::Locking
        } else {
            ChangeClass::Safe
        }
    }

    /// Whether applying it does anything: changes the object, or writes the state (a move, an
    /// import that changes nothing live).
    pub fn is_change(&self) -> bool {
        self.action.is_change() || !self.state_updates.is_empty() || self.importing.is_some()
    }
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
    /// Made with `-allow-data-loss`: apply of the saved plan may run its data-losing changes.
    pub allow_data_loss: bool,
    /// What planning found that stops nothing (a `check` block's failed assertion). Not saved in
    /// a plan file: apply checks again.
    pub warnings: crate::diag::Diagnostics,
}

/// Counts for the summary line. A replacement counts only as a replacement: folded into one add
/// plus one destroy (as Terraform does), it is easy to miss that something goes away for a while.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    /// Dropped from state, the live object left alone (`removed` blocks).
    pub forget: usize,
    /// Brought under management by `import` blocks.
    pub import: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut summary = Summary::default();
        for change in &self.changes {
            if change.importing.is_some() {
                summary.import += 1;
            }
            match change.action {
                Action::Create => summary.add += 1,
                Action::Update => summary.change += 1,
                Action::Replace => summary.replace += 1,
                Action::Delete if change.forget => summary.forget += 1,
                Action::Delete if change.before.is_some() => summary.destroy += 1,
                _ => {}
            }
        }
        summary
    }

    /// How many changes are of `class`, for the line under the summary.
    pub fn class_count(&self, class: ChangeClass) -> usize {
        self.changes.iter().filter(|c| c.is_change() && c.class() == class).count()
    }

    /// The changes that lose data, for apply's refusal.
    pub fn data_losing(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes.iter().filter(|c| c.is_change() && c.class() == ChangeClass::DataLoss)
    }

    /// "2 changes lose data, 1 locks or restarts what it changes"; `None` when every change is safe.
    pub fn risk_summary(&self) -> Option<String> {
        let count = |class, one: &str, many: &str| match self.class_count(class) {
            0 => None,
            1 => Some(format!("1 change {one}")),
            n => Some(format!("{n} changes {many}")),
        };
        let parts: Vec<String> = [count(ChangeClass::DataLoss, "loses data", "lose data"), count(ChangeClass::Locking, "locks or restarts what it changes", "lock or restart what they change")]
            .into_iter()
            .flatten()
            .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }

    /// Whether applying would change anything live, in state or in outputs.
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(ResourceChange::is_change) || self.outputs.iter().any(|o| o.before != o.after)
    }
}
