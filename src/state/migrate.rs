//! Moving every workspace's state from one backend to another (`strata init -migrate-state`).
//!
//! Owns the rule that a move is a copy of the state exactly as it is: same lineage, same serial,
//! same resources; and the refusal to overwrite a destination that holds another lineage or a
//! newer serial unless forced. Both sides are locked while it runs. The source is left as it was.
//! It must not print or choose the backends: the CLI does.

use super::backend::{LockOptions, StateLock, StateSetup};
use super::State;
use crate::diag::{Diagnostic, Result};

/// One workspace's move, for the report.
pub struct Moved {
    pub workspace: String,
    pub serial: u64,
    pub resources: usize,
    /// The destination already held exactly this state.
    pub already_there: bool,
}

/// Copies every workspace's state from `source` to `destination`: all checks first, then the
/// writes, so a refusal leaves the destination untouched.
pub fn migrate(source: &StateSetup, destination: &StateSetup, force_copy: bool) -> Result<Vec<Moved>> {
    let mut locks: Vec<StateLock> = Vec::new();
    let mut pending = Vec::new();
    for workspace in source.backend.workspaces()? {
        let mut from = source.store_for(&workspace, LockOptions::default());
        let mut to = destination.store_for(&workspace, LockOptions::default());
        locks.push(from.lock("migrate-state")?);
        locks.push(to.lock("migrate-state")?);
        let Some(state) = from.load()? else { continue };
        let existing = to.load()?;
        if !force_copy {
            refuse_overwrite(&workspace, &state, existing.as_ref(), &to.describe())?;
        }
        let already_there = existing.as_ref().is_some_and(|e| e.lineage == state.lineage && e.serial == state.serial);
        pending.push((workspace, state, to, already_there));
    }
    let mut moved = Vec::new();
    for (workspace, state, mut to, already_there) in pending {
        if !already_there {
            to.write(&state)?;
        }
        moved.push(Moved { workspace, serial: state.serial, resources: state.instance_count(), already_there });
    }
    Ok(moved)
}

/// A destination state that is not an older version of the one moved in must not be lost.
fn refuse_overwrite(workspace: &str, state: &State, existing: Option<&State>, destination: &str) -> Result<()> {
    let Some(existing) = existing else { return Ok(()) };
    let problem = if existing.lineage != state.lineage {
        format!("it holds another state (lineage {}, serial {}) than the one moved (lineage {})", existing.lineage, existing.serial, state.lineage)
    } else if existing.serial > state.serial {
        format!("it holds a newer version of this state (serial {} against {})", existing.serial, state.serial)
    } else {
        return Ok(());
    };
    Err(Diagnostic::error(format!("workspace \"{workspace}\": not migrating into {destination}: {problem}"))
        .detail("nothing was written to the destination")
        .hint("check which state is the right one; strata init -migrate-state -force-copy overwrites the destination")
        .into())
}
