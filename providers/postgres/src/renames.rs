//! The renames a plan decided for tables, kept for the indexes on those tables that are planned
//! after them in the same run.
//!
//! PostgreSQL renames in place: an index follows its table's new name and its columns' new names.
//! So a `postgres_index` on a renamed column must compare as unchanged, not be dropped and built
//! again. An index that refers to its table (`table = postgres_table.users.name`) is planned after
//! it, because the graph orders them; its plan finds the table's renames here.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use crate::model::{Table, TableIndex};

#[derive(Default)]
pub struct PlannedRenames(Mutex<BTreeMap<String, TableRenames>>);

/// What a table's change renames: the table (from its live id) and its columns (old, new).
#[derive(Clone, Debug, PartialEq)]
pub struct TableRenames {
    pub from: String,
    pub columns: Vec<(String, String)>,
}

impl PlannedRenames {
    /// Keeps the renames of changing `prior` to `desired`, under the table's new id.
    pub fn record(&self, prior: &Table, desired: &Table, columns: Vec<(String, String)>) {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if prior.id() == desired.id() && columns.is_empty() {
            kept.remove(&desired.id());
            return;
        }
        kept.insert(desired.id(), TableRenames { from: prior.id(), columns });
    }

    /// The renames planned for the table that will be called `table` (`schema.name`).
    pub fn of(&self, table: &str) -> Option<TableRenames> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).get(table).cloned()
    }
}

impl TableRenames {
    /// `index` as the renames leave it, on the table called `table`: its key and included columns
    /// follow (expressions need the shadow, see `normalize::shadow_index_after_renames`).
    pub fn applied_to(&self, index: &TableIndex, table: &str) -> TableIndex {
        let rename = |entry: &String| crate::ddl::rename_key(entry, &self.columns);
        let mut renamed = index.clone();
        renamed.table = table.to_owned();
        renamed.index.columns = index.index.columns.iter().map(rename).collect();
        renamed.index.include = index.index.include.iter().map(rename).collect();
        renamed
    }
}
