//! Which relations a change locks while it runs (`PlannedChange::locks`), so the engine can run
//! changes that share one one after the other: two concurrent index builds on one table deadlock
//! (each waits for the other's transaction), and a `CREATE TABLE` whose foreign key references a
//! table waits for an index build on it (SHARE ROW EXCLUSIVE against SHARE UPDATE EXCLUSIVE).
//!
//! Owns only the names, as `schema.name` (the models' ids); it runs nothing.

use crate::model::{Table, TableIndex};

/// A table change (create, alter, drop): the tables themselves, under every name they have before
/// and after, and every table a foreign key of theirs references (adding or dropping a foreign
/// key locks the referenced table too).
pub fn of_tables<'a>(tables: impl IntoIterator<Item = &'a Table>) -> Vec<String> {
    let mut relations: Vec<String> = Vec::new();
    for table in tables {
        relations.push(table.id());
        relations.extend(table.foreign_keys.iter().map(|fk| fk.references.clone()));
        // Attaching or detaching a partition updates its parent's catalog row, as a GRANT on the parent does.
        relations.extend(table.partitioning.of.clone());
    }
    sorted(relations)
}

/// An index change (build, rebuild, drop): the indexed tables.
pub fn of_indexes<'a>(indexes: impl IntoIterator<Item = &'a TableIndex>) -> Vec<String> {
    sorted(indexes.into_iter().map(|index| index.table.clone()).collect())
}

fn sorted(mut relations: Vec<String>) -> Vec<String> {
    relations.sort();
    relations.dedup();
    relations
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ForeignKey;
    use strata_provider_sdk::Value;

    #[test]
    fn a_foreign_key_locks_the_table_it_references() {
        let mut orders = Table::from_value(&Value::object([("name", Value::from("orders"))])).unwrap();
        orders.foreign_keys.push(ForeignKey {
            name: "orders_user_id_fkey".into(),
            columns: vec!["user_id".into()],
            references: "public.users".into(),
            ref_columns: vec!["id".into()],
            on_delete: "NO ACTION".into(),
            on_update: "NO ACTION".into(),
            match_type: "SIMPLE".into(),
            deferral: crate::model::Deferral::default(),
            validated: true,
        });
        let mut renamed = orders.clone();
        renamed.name = "purchases".into();
        assert_eq!(of_tables([&orders, &renamed]), ["public.orders", "public.purchases", "public.users"]);
    }
}
