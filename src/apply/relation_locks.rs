//! The engine's own locks on what changes lock (`PlannedChange::locks`): a change starts its work
//! only once no other change of this apply holds any relation it names, so changes that lock the
//! same relation run one after the other (two concurrent index builds on one table would
//! deadlock; a foreign key's `CREATE TABLE` would wait for an index build on the table it
//! references) and all others still run in parallel.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// One lock per relation name a change of this apply has named, created on first use.
#[derive(Default)]
pub struct RelationLocks {
    by_name: Mutex<BTreeMap<String, Arc<AsyncMutex<()>>>>,
}

/// The relations one change holds; they are released when this drops.
pub struct Held {
    _guards: Vec<OwnedMutexGuard<()>>,
}

impl RelationLocks {
    /// Waits until no other change holds any of `provider`'s `relations`, then holds them all.
    /// They are taken in sorted order, so two changes that share several relations never each
    /// hold one the other waits for.
    pub async fn hold(&self, provider: &str, relations: &[String]) -> Held {
        let mut names: Vec<String> = relations.iter().map(|relation| format!("{provider}:{relation}")).collect();
        names.sort();
        names.dedup();
        let mut guards = Vec::with_capacity(names.len());
        for name in names {
            guards.push(self.lock_named(name).lock_owned().await);
        }
        Held { _guards: guards }
    }

    fn lock_named(&self, name: String) -> Arc<AsyncMutex<()>> {
        // The map is only read and extended; a panic elsewhere cannot leave it half-changed.
        let mut by_name = self.by_name.lock().unwrap_or_else(PoisonError::into_inner);
        by_name.entry(name).or_default().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_shared_relation_waits_and_others_do_not() {
        let locks = RelationLocks::default();
        let users = vec!["public.users".to_owned()];
        let held = locks.hold("postgres", &users).await;
        let other = tokio::time::timeout(Duration::from_millis(50), locks.hold("postgres", &["public.teams".to_owned()])).await;
        assert!(other.is_ok(), "a change on another table starts at once");
        let same = tokio::time::timeout(Duration::from_millis(50), locks.hold("postgres", &users)).await;
        assert!(same.is_err(), "a change on the same table waits");
        drop(held);
        assert!(tokio::time::timeout(Duration::from_millis(50), locks.hold("postgres", &users)).await.is_ok(), "and starts once it is released");
    }
}
