//! The requests and answers that carry a resource through refresh, plan and apply.

use std::sync::{Arc, Mutex};

use crate::authorship::Authorship;
use crate::error::ProviderError;
use crate::value::Value;

/// What apply will do to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Destroy and create again, because an attribute that cannot change in place changed.
    Replace,
    Delete,
}

impl Action {
    pub fn is_change(self) -> bool {
        self != Action::NoOp
    }
}

/// The objects one resource makes and the ones it names by their literal names, each as a key
/// its provider chooses (`db/role:analyst`): the engine orders a resource after whichever makes
/// what it uses although no reference says so (a grant to a role spelled as a string), and
/// deletes it first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectNames {
    pub makes: Vec<String>,
    pub uses: Vec<String>,
}

/// Read the live object behind one managed resource.
#[derive(Clone, Debug)]
pub struct RefreshRequest {
    pub type_name: String,
    /// The attributes recorded in state at the last apply.
    pub state: Value,
}

/// Plan one resource: compare the refreshed live object with the desired configuration.
#[derive(Clone, Debug)]
pub struct PlanRequest {
    pub type_name: String,
    /// The live object as refresh found it; `None` when it does not exist.
    pub prior: Option<Value>,
    /// The configuration, evaluated; may hold [`Value::Unknown`].
    pub desired: Value,
}

/// A provider's answer to a [`PlanRequest`].
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedChange {
    /// `NoOp`, `Create`, `Update` or `Replace`.
    pub action: Action,
    /// The object as it will be after apply: unknown where only apply can tell. Attributes that
    /// equal the prior ones once normalized keep the prior's spelling, so only real changes show.
    pub planned: Value,
    /// For `Replace`: the attributes (dotted paths) that force it.
    pub replace_because: Vec<String>,
    /// What apply will run, in order (for SQL providers, the statements), shown in the plan.
    pub operations: Vec<String>,
    /// Things the user should know that do not stop the plan.
    pub warnings: Vec<String>,
    /// What applying this change would lose for good, one line each ("drops column users.email
    /// and the data in it"); empty when nothing is lost. Reviewers see these first.
    pub data_loss: Vec<String>,
    /// What applying this change locks or rewrites while it runs, one line each ("rewrites
    /// public.users under an ACCESS EXCLUSIVE lock"); empty when it is safe to run under load.
    /// A change with `data_loss` is classed as losing data whatever this says.
    pub locking: Vec<String>,
    /// Where apply copies data aside before this change destroys it, one line each ("RDS snapshot
    /// db-pre-replace-20261125103000", "table strata_backup.public_users_1a2b3c4d"): decided at plan
    /// time so the reviewer sees it, recorded in state by the engine once the change is applied.
    pub backups: Vec<String>,
    /// The relations applying this change locks, as `schema.name` (an index build locks its
    /// table; a foreign key locks the table it references too). The engine never runs two
    /// changes that lock the same relation at once, so strata cannot deadlock or wait on itself;
    /// changes with no relation in common still run in parallel.
    pub locks: Vec<String>,
    /// Periodic work that is due and that apply will do (a backup, a prune, a restore drill), one
    /// line each with why ("backup due: the newest is 26h old, every = 24h"). A plan shows them as
    /// duties; `strata drift` reports a resource with duties planned against its state as overdue.
    pub duties: Vec<String>,
}

impl PlannedChange {
    pub fn new(action: Action, planned: Value) -> PlannedChange {
        PlannedChange { action, planned, replace_because: vec![], operations: vec![], warnings: vec![], data_loss: vec![], locking: vec![], backups: vec![], locks: vec![], duties: vec![] }
    }
}

/// Make one planned change real.
#[derive(Clone, Debug)]
pub struct ApplyRequest {
    pub type_name: String,
    pub action: Action,
    /// The live object before the change (`None` for a create).
    pub prior: Option<Value>,
    /// The desired object, fully known (`Value::Null` for a delete).
    pub planned: Value,
    /// For a create the engine recorded an intent for: the mark the create must leave (see
    /// [`crate::authorship`]). `None` otherwise.
    pub authorship: Option<Authorship>,
    /// For a `periodic` type only (empty otherwise): the other resources of its provider as the
    /// configuration declares them, for a duty that checks something against the configuration
    /// (a restore drill plans them against the database it restored).
    pub declared: Vec<Declared>,
    /// Where a long change says how far it is, for the engine to show while it runs.
    pub progress: Progress,
}

/// A running change's own account of how far it is (`pg_dump: 412 tables, 38.2 MB`), which the
/// engine shows beside the elapsed time while the change runs. Clones share one line.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<Mutex<Option<String>>>);

impl Progress {
    pub fn report(&self, line: impl Into<String>) {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(line.into());
    }

    pub fn latest(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// A resource as the configuration declares it, evaluated with what is known when it is handed
/// over (one with values known only after later applies is not handed over).
#[derive(Clone, Debug, PartialEq)]
pub struct Declared {
    /// Its address, as plans print it (`postgres_table.runs`).
    pub address: String,
    pub type_name: String,
    pub desired: Value,
}

/// Restore one of the backups a resource holds into a database (`strata restore`).
#[derive(Clone, Debug)]
pub struct RestoreRequest {
    pub type_name: String,
    /// The resource's attributes in state.
    pub state: Value,
    /// The backup's id; `None` for the newest good one.
    pub backup: Option<String>,
    /// The database to restore into.
    pub target: String,
    /// Drop `target` first when it exists (the user confirmed it).
    pub replace_existing: bool,
}

/// An apply that failed, perhaps after changing something.
#[derive(Debug)]
pub struct ApplyFailure {
    pub error: ProviderError,
    /// The object as it now is, when the failure left something in place that state must record
    /// (`Some(Value::Null)` when it is known to be gone).
    pub partial: Option<Value>,
    /// The create was sent and may have completed all the same (the connection dropped or the
    /// call timed out before its answer): its intent stays, so the next run can check for the
    /// object. Any other failure drops the intent.
    pub in_doubt: bool,
}

impl From<ProviderError> for ApplyFailure {
    fn from(error: ProviderError) -> ApplyFailure {
        ApplyFailure { error, partial: None, in_doubt: false }
    }
}
