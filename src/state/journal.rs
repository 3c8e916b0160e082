//! The state journal: what an apply changed since the stored state, one record per write.
//!
//! Apply records every finished resource at once, and rewriting the whole state for each would
//! cost bytes quadratic in the estate. Instead each record holds only what changed (the resources
//! it names, and the small lists whenever they differ), so a write costs what it changed; the
//! backend keeps the records after the state (`STATE.journal`, or rows of the postgres backend's
//! `journal` table) and the next whole write folds them in and clears them. A load replays them.
//!
//! Owns the record's form and replaying records onto a state. It must not know where they are stored.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::store::RESTORE_HINT;
use super::{BackupRecord, DriftAck, OutputState, PendingCreate, ResourceState, State};
use crate::addrs::ResourceInstance;
use crate::diag::{Diagnostic, Result};

/// One write's change to the state.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    pub lineage: String,
    /// The state's serial after this record.
    pub serial: u64,
    /// Instances recorded or re-recorded, whole, each under its resource (which holds only those).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub put: Vec<ResourceState>,
    /// Instance addresses no longer in state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Vec<PendingCreate>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backups: Option<Vec<BackupRecord>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<BTreeMap<String, OutputState>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift_acks: Option<Vec<DriftAck>>,
}

/// The parts of a state that a record carries whole when they change: small, and compared at each write.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lists {
    pending: Vec<PendingCreate>,
    backups: Vec<BackupRecord>,
    outputs: BTreeMap<String, OutputState>,
    drift_acks: Vec<DriftAck>,
}

impl Lists {
    pub fn of(state: &State) -> Lists {
        Lists { pending: state.pending.clone(), backups: state.backups.clone(), outputs: state.outputs.clone(), drift_acks: state.drift_acks.clone() }
    }
}

impl Record {
    /// What `state` changed since it was stored with `stored` lists, given the resources it touched.
    pub fn of(state: &State, stored: &Lists, touched: &BTreeSet<ResourceInstance>) -> Record {
        let (mut put, mut removed): (Vec<ResourceState>, Vec<String>) = (vec![], vec![]);
        for address in touched {
            match state.get(address) {
                // Touched instances come sorted, so those of one resource arrive together.
                Some(found) => match put.last_mut() {
                    Some(last) if last.address == found.resource.address => last.instances.push(found.state.clone()),
                    _ => put.push(ResourceState { instances: vec![found.state.clone()], ..found.resource.clone() }),
                },
                None => removed.push(address.to_string()),
            }
        }
        Record {
            lineage: state.lineage.clone(),
            serial: state.serial,
            put,
            removed,
            pending: (state.pending != stored.pending).then(|| state.pending.clone()),
            backups: (state.backups != stored.backups).then(|| state.backups.clone()),
            outputs: (state.outputs != stored.outputs).then(|| state.outputs.clone()),
            drift_acks: (state.drift_acks != stored.drift_acks).then(|| state.drift_acks.clone()),
        }
    }

    /// Applies this record to `state`, whose serial must be the one just before it (the caller sorts the resources after).
    fn replay(self, state: &mut State) {
        for address in self.removed.iter().filter_map(|a| a.parse::<ResourceInstance>().ok()) {
            state.remove(&address);
        }
        for resource in self.put {
            state.put_instances(resource);
        }
        state.serial = self.serial;
        state.pending = self.pending.unwrap_or(std::mem::take(&mut state.pending));
        state.backups = self.backups.unwrap_or(std::mem::take(&mut state.backups));
        state.outputs = self.outputs.unwrap_or(std::mem::take(&mut state.outputs));
        state.drift_acks = self.drift_acks.unwrap_or(std::mem::take(&mut state.drift_acks));
    }
}

/// Replays the journal `records` (decoded texts, oldest first) onto `state`. Records the state
/// already holds (a whole write that folded them in before the journal was cleared) are skipped;
/// a torn last record (a write cut off before it was acknowledged) is ignored.
pub fn replay(state: &mut State, records: &[String], origin: &str) -> Result<()> {
    let damaged = |what: String| Diagnostic::error(format!("the journal of {origin} {what}")).hint(RESTORE_HINT);
    let mut replayed = false;
    for (index, text) in records.iter().enumerate() {
        let record: Record = match serde_json::from_str(text) {
            Ok(record) => record,
            Err(_) if index + 1 == records.len() => break,
            Err(err) => return Err(damaged(format!("has a damaged record {}: {err}", index + 1)).into()),
        };
        if record.lineage != state.lineage {
            return Err(damaged(format!("belongs to another state (lineage {}, the state's is {})", record.lineage, state.lineage)).into());
        }
        if record.serial <= state.serial {
            continue;
        }
        if record.serial != state.serial + 1 {
            return Err(damaged(format!("jumps from serial {} to {}: records are missing", state.serial, record.serial)).into());
        }
        record.replay(state);
        replayed = true;
    }
    if replayed {
        state.sort();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ConfigResource;
    use strata_provider_sdk::Value;

    fn state_with(names: &[&str]) -> State {
        let mut state = State::new();
        for name in names {
            state.put(&ConfigResource::managed("postgres_table", name).single_instance(), &crate::addrs::ProviderConfig::default_of("postgres"), &Value::from_json(&serde_json::json!({"name": name})), BTreeSet::new(), &BTreeSet::new());
        }
        state
    }

    fn record_after(state: &mut State, stored: &Lists, change: impl FnOnce(&mut State) -> BTreeSet<ResourceInstance>) -> String {
        let touched = change(state);
        state.serial += 1;
        serde_json::to_string(&Record::of(state, stored, &touched)).unwrap()
    }

    #[test]
    fn replaying_the_records_gives_the_state_that_wrote_them() {
        let base = state_with(&["a", "b"]);
        let mut live = base.clone();
        let stored = Lists::of(&base);
        let first = record_after(&mut live, &stored, |s| {
            s.put(&ConfigResource::managed("postgres_table", "c").single_instance(), &crate::addrs::ProviderConfig::default_of("postgres"), &Value::from_json(&serde_json::json!({"name": "c"})), BTreeSet::new(), &BTreeSet::new());
            s.remove(&ConfigResource::managed("postgres_table", "a").single_instance());
            [ConfigResource::managed("postgres_table", "a").single_instance(), ConfigResource::managed("postgres_table", "c").single_instance()].into()
        });
        let stored = Lists::of(&live);
        let second = record_after(&mut live, &stored, |s| {
            s.outputs.insert("x".into(), OutputState { value: serde_json::json!(1), sensitive: false });
            BTreeSet::new()
        });
        let mut replayed = base.clone();
        replay(&mut replayed, &[first.clone(), second.clone()], "the state").unwrap();
        assert_eq!(replayed, live);
        // Records a whole write already folded in are skipped.
        let mut folded = live.clone();
        replay(&mut folded, &[first, second], "the state").unwrap();
        assert_eq!(folded, live);
    }

    #[test]
    fn a_torn_last_record_is_ignored_and_a_gap_or_another_lineage_is_an_error() {
        let base = state_with(&["a"]);
        let mut live = base.clone();
        let first = record_after(&mut live, &Lists::of(&base), |s| {
            s.remove(&ConfigResource::managed("postgres_table", "a").single_instance());
            [ConfigResource::managed("postgres_table", "a").single_instance()].into()
        });
        let mut replayed = base.clone();
        replay(&mut replayed, &[first.clone(), first[..first.len() / 2].to_owned()], "the state").unwrap();
        assert_eq!(replayed, live);

        let mut gap = base.clone();
        gap.serial = 5;
        let mut ahead = gap.clone();
        let later = record_after(&mut ahead, &Lists::of(&gap), |_| BTreeSet::new());
        let mut behind = base.clone();
        let error = replay(&mut behind, &[later], "the state").unwrap_err();
        assert!(format!("{error:?}").contains("jumps from serial 0 to 6"), "{error:?}");

        let mut other = base.clone();
        other.lineage = "another".into();
        let error = replay(&mut other, &[first], "the state").unwrap_err();
        assert!(format!("{error:?}").contains("belongs to another state"), "{error:?}");
    }
}
