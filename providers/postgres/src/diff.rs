//! Deciding what to change: each resource's live definition against its desired one (already
//! normalised), giving the action, the planned object, what forces a replacement, and the SQL.
//!
//! Only names the live object had when strata last saw it are ever dropped: the caller hands in a
//! live table already cut down to what strata manages.

use strata_provider_sdk::{Action, PlannedChange, Value};

use crate::casts;
use crate::ddl::{self, ident, literal, qualified};
use crate::guards::{Backup, Guards};
use crate::model::{mentions, split_exclusion_element, truncate_identifier, Check, Column, Deferral, Enum, Extension, ForeignKey, Index, Schema, SchemaPrivileges, Table, TableIndex};
use crate::normalize::{is_serial, type_alias};

/// What plan learnt from the server about a table change, beyond the definitions (see `preflight`).
#[derive(Debug, Default)]
pub struct TableFacts {
    /// Columns being added whose default calls a volatile function (`random()`, `clock_timestamp()`):
    /// PostgreSQL must rewrite the table to fill them.
    pub volatile_defaults: Vec<String>,
    /// The table leaves its parent's partitions, which has no default partition: it can be
    /// detached CONCURRENTLY (see `partitions`).
    pub detach_concurrently: bool,
}

/// A table's change. `normalized` is `desired` in PostgreSQL's spelling, when a shadow could be made.
pub fn table(prior: Option<&Table>, desired: &Table, normalized: Option<&Table>, guards: &Guards, facts: &TableFacts) -> PlannedChange {
    let Some(original) = prior else {
        return created_table(desired);
    };
    let compare = normalized.cloned().unwrap_or_else(|| desired.clone());
    let local = normalized.is_none();
    // Messages name the table as it is called once the change is made.
    let id = desired.id();
    let mut statements = Vec::new();
    let mut table_sql = qualified(&original.schema, &original.name);
    if original.name != desired.name {
        statements.push(format!("ALTER TABLE {table_sql} RENAME TO {}", ident(&desired.name)));
        if !original.primary_key.is_empty() {
            // PostgreSQL keeps the key's name; strata names it after the table (and drops it by that name).
            let (old, new) = (pkey_name(&original.name), pkey_name(&desired.name));
            statements.push(format!("ALTER INDEX IF EXISTS {} RENAME TO {}", qualified(&original.schema, &old), ident(&new)));
        }
        table_sql = qualified(&original.schema, &desired.name);
    }
    if original.schema != desired.schema {
        statements.push(format!("ALTER TABLE {table_sql} SET SCHEMA {}", ident(&desired.schema)));
        table_sql = qualified(&desired.schema, &desired.name);
    }
    let partitioning = crate::partitions::change(original, desired, &table_sql, facts.detach_concurrently);
    if partitioning.replace {
        return replaced_for_its_key(original, desired, guards);
    }
    statements.extend(partitioning.statements);
    let mut locking = partitioning.locking;
    let alter = |sql: String| format!("ALTER TABLE {table_sql} {sql}");
    let renames = renamed_columns(original, desired);
    statements.extend(renames.iter().map(|(old, new)| alter(format!("RENAME COLUMN {} TO {}", ident(old), ident(new)))));
    // From here on the live table is compared as it is once its columns and constraints are renamed.
    let mut renamed = with_columns_renamed(original, &renames);
    statements.extend(rename_constraints(&mut renamed, &compare, &table_sql));
    // A column whose generation PostgreSQL 15 cannot change in place is dropped and added again,
    // taking the constraints and indexes on it along: compared without them, they are built again.
    let regenerated = regenerated_columns(&renamed, &compare, local);
    let prior = &without_dependents(&renamed, &regenerated);
    let mut planned = desired.clone();

    // Drop what is gone or changed first, so that re-adding under the same name works.
    let pk_changed = prior.primary_key != compare.primary_key;
    if pk_changed && !prior.primary_key.is_empty() {
        statements.push(alter(format!("DROP CONSTRAINT {}", ident(&pkey_name(&desired.name)))));
    }
    let drop_constraint = |name: &str| alter(format!("DROP CONSTRAINT {}", ident(name)));
    statements.extend(prior.foreign_keys.iter().filter(|fk| !compare.foreign_keys.iter().any(|f| f.same_key(fk))).map(|fk| drop_constraint(&fk.name)));
    statements.extend(prior.uniques.iter().filter(|u| !compare.uniques.contains(u)).map(|u| drop_constraint(&u.name)));
    // A check written as the catalog prints it is that check, even when printing it again after
    // a parse gives other text (`IN (...)` on varchar): inspect writes what the catalog prints.
    let kept_check = |c: &Check| compare.checks.iter().chain(&desired.checks).any(|d| d.same_check(c));
    statements.extend(prior.checks.iter().filter(|c| !kept_check(c)).map(|c| drop_constraint(&c.name)));
    statements.extend(prior.exclusions.iter().filter(|e| !compare.exclusions.contains(e)).map(|e| drop_constraint(&e.name)));
    let mut warnings = Vec::new();
    let partitioned = desired.partitioning.by.is_some();
    for index in prior.indexes.iter().filter(|i| compare.indexes.iter().all(|c| !i.rebuilt_for(c, partitioned).is_empty())) {
        statements.push(format!("DROP INDEX {}", qualified(&desired.schema, &index.name)));
        locking.push(index_dropped_under_lock(&index.name, &id));
        warnings.extend(compare.indexes.iter().find(|c| c.name == index.name).map(|c| format!("index {} on {id} is dropped and built again: {} changed", index.name, index.rebuilt_for(c, partitioned).join(", "))));
    }

    let mut data_loss = Vec::new();
    let mut backups = Backups::default();
    for column in prior.columns.iter().filter(|c| desired.columns.iter().all(|d| d.name != c.name)) {
        backups.add(guards.backup_column(original, &column.name));
        statements.push(alter(format!("DROP COLUMN {}", ident(&column.name))));
        data_loss.push(format!("drops column {id}.{} and the data in it", column.name));
    }
    let mut columns = Vec::new();
    for (wanted, normal) in desired.columns.iter().zip(&compare.columns) {
        let add = |statements: &mut Vec<String>| {
            statements.push(alter(format!("ADD COLUMN {}", ddl::column_definition(wanted))));
            statements.extend(ddl::set_storage(wanted).map(&alter));
            statements.extend(wanted.comment.is_some().then(|| ddl::column_comment(&table_sql, wanted)));
        };
        match prior.columns.iter().find(|c| c.name == wanted.name) {
            None => {
                add(&mut statements);
                if wanted.generated.is_some() {
                    locking.push(format!("rewrites {id} under an ACCESS EXCLUSIVE lock to compute new generated column {}: reads and writes wait", wanted.name));
                } else if wanted.identity.is_some() || is_serial(&wanted.type_name) || facts.volatile_defaults.contains(&wanted.name) {
                    locking.push(format!("rewrites {id} under an ACCESS EXCLUSIVE lock to fill new column {} from a volatile default: reads and writes wait", wanted.name));
                }
                columns.push(wanted.clone());
            }
            Some(live) if regenerated.contains(&live.name) => {
                let name = &live.name;
                if live.generated.is_some() {
                    warnings.push(format!("column {id}.{name} is dropped and added again: PostgreSQL 15 cannot change a generation expression in place"));
                    locking.push(format!(
                        "rewrites {id} under an ACCESS EXCLUSIVE lock to drop generated column {name} and add it again, computing its values from the new expression: reads and writes wait"
                    ));
                } else {
                    warnings.push(format!("column {id}.{name} is dropped and added again: PostgreSQL cannot make an existing column generated"));
                    backups.add(guards.backup_column(original, name));
                    data_loss.push(format!("drops column {id}.{name} and the data in it, to add it again generated from its expression"));
                }
                statements.push(alter(format!("DROP COLUMN {}", ident(name))));
                add(&mut statements);
                columns.push(wanted.clone());
            }
            Some(live) => {
                let (column, sql) = column_changes(live, wanted, normal, local);
                let type_changed = column.type_name != live.type_name;
                if type_changed {
                    data_loss.extend(type_change_loss(&id, live, &normal.type_name));
                }
                if column.type_name != live.type_name && rewrites(&live.type_name, &normal.type_name) {
                    locking.push(format!(
                        "rewrites {id} under an ACCESS EXCLUSIVE lock to change column {} from {} to {}: reads and writes wait",
                        live.name, live.type_name, normal.type_name
                    ));
                }
                if column.collation != live.collation {
                    let collation = |c: &Option<String>| c.clone().unwrap_or_else(|| "the type's default".into());
                    locking.push(format!(
                        "rewrites {id} under an ACCESS EXCLUSIVE lock to change the collation of column {} from {} to {}, rebuilding the indexes on it: reads and writes wait",
                        live.name,
                        collation(&live.collation),
                        collation(&column.collation)
                    ));
                }
                if live.nullable && !column.nullable {
                    locking.push(format!("scans {id} under an ACCESS EXCLUSIVE lock to check that column {} holds no NULL: reads and writes wait", live.name));
                }
                statements.extend(sql.into_iter().map(&alter));
                if type_changed {
                    statements.extend(sequence_follows_column(live, &storage_type(&wanted.type_name)));
                }
                statements.extend(column.comment.ne(&live.comment).then(|| ddl::column_comment(&table_sql, &column)));
                columns.push(column);
            }
        }
    }
    // Keep the live column order; new columns go at the end, as ADD COLUMN puts them.
    columns.sort_by_key(|c| prior.columns.iter().position(|p| p.name == c.name).unwrap_or(usize::MAX));
    planned.columns = columns;

    let builds_under_lock = |what: String| format!("builds {what} on {id} under an ACCESS EXCLUSIVE lock: reads and writes wait");
    if pk_changed && !compare.primary_key.is_empty() {
        statements.push(alter(format!("ADD {}", ddl::primary_key_definition(desired))));
        locking.push(builds_under_lock("the primary key's index".into()));
    }
    for (unique, normal) in desired.uniques.iter().zip(&compare.uniques) {
        if !prior.uniques.contains(normal) {
            statements.push(alter(format!("ADD {}", ddl::unique_definition(unique))));
            locking.push(builds_under_lock(format!("unique constraint {}'s index", unique.name)));
        }
    }
    for (position, exclusion) in desired.exclusions.iter().enumerate() {
        match prior.exclusions.iter().find(|e| *e == &compare.exclusions[position]) {
            Some(live) => planned.exclusions[position] = live.clone(),
            None => {
                statements.push(alter(format!("ADD {}", ddl::exclusion_definition(exclusion))));
                locking.push(builds_under_lock(format!("exclusion constraint {}'s index", exclusion.name)));
            }
        }
    }
    // A constraint is added NOT VALID and validated apart; `validated = false` leaves it unvalidated.
    let mut validations = Vec::new();
    for (index, check) in desired.checks.iter().enumerate() {
        match prior.checks.iter().find(|c| c.same_check(&compare.checks[index]) || c.same_check(check)) {
            Some(live) => {
                validations.extend((!live.validated && check.validated).then(|| alter(validate(&check.name))));
                planned.checks[index] = Check { validated: live.validated || check.validated, ..live.clone() };
            }
            None => {
                statements.push(alter(format!("ADD {} NOT VALID", ddl::check_definition(check))));
                validations.extend(check.validated.then(|| alter(validate(&check.name))));
            }
        }
    }
    for (index, fk) in compare.foreign_keys.iter().enumerate() {
        match prior.foreign_keys.iter().find(|f| f.same_key(fk)) {
            Some(live) => {
                statements.extend((live.deferral != fk.deferral).then(|| alter(ddl::alter_deferral(&fk.name, fk.deferral))));
                validations.extend((!live.validated && fk.validated).then(|| alter(validate(&fk.name))));
                planned.foreign_keys[index].validated = live.validated || fk.validated;
            }
            None => {
                statements.push(alter(format!("ADD {} NOT VALID", ddl::foreign_key_definition(fk))));
                validations.extend(fk.validated.then(|| alter(validate(&fk.name))));
            }
        }
    }
    statements.extend(validations);
    for (position, index) in desired.indexes.iter().enumerate() {
        let normal = &compare.indexes[position];
        match prior.indexes.iter().find(|i| i.rebuilt_for(normal, partitioned).is_empty()) {
            Some(live) => {
                statements.extend(ddl::alter_index_in_place(&qualified(&desired.schema, &live.name), live, normal));
                planned.indexes[position] = changed_in_place(live, normal);
            }
            None => {
                statements.extend(ddl::build_index(index, &table_sql, &desired.schema, false));
                locking.push(format!(
                    "builds index {} on {id} under a SHARE lock: writes wait until it is built (a postgres_index with concurrently = true does not block them)",
                    index.name
                ));
            }
        }
    }
    if prior.comment != desired.comment {
        let text = desired.comment.as_deref().map_or("NULL".to_owned(), literal);
        statements.push(format!("COMMENT ON TABLE {table_sql} IS {text}"));
    }
    let security = table_security(prior, desired, &table_sql);
    statements.extend(security.statements);
    locking.extend(security.locking);
    warnings.extend(security.warnings);
    planned.owner = desired.owner.clone().or_else(|| prior.owner.clone());
    planned.row_level_security = desired.row_level_security.or(prior.row_level_security);
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    backups.statements.extend(statements);
    PlannedChange { data_loss, locking, warnings, backups: backups.locations, ..change(action, planned.to_value(), backups.statements) }
}

/// A new table: its DDL, then its owner and row-level security when the configuration sets them
/// (unset, they are what PostgreSQL gives it, known once it exists).
fn created_table(desired: &Table) -> PlannedChange {
    let mut statements = ddl::create_table(desired);
    let security = table_security(&Table { owner: None, row_level_security: None, ..desired.clone() }, desired, &qualified(&desired.schema, &desired.name));
    statements.extend(security.statements);
    let mut value = desired.to_value();
    for computed in ["owner", "row_level_security"] {
        value = with_computed(value, computed);
    }
    PlannedChange { warnings: security.warnings, ..change(Action::Create, value, statements) }
}

/// The owner and row-level security statements of a table change, with their lines.
#[derive(Default)]
struct Security {
    statements: Vec<String>,
    locking: Vec<String>,
    warnings: Vec<String>,
}

/// `ALTER TABLE ... OWNER TO` and `ENABLE/DISABLE/FORCE/NO FORCE ROW LEVEL SECURITY` for what the
/// configuration sets and `live` lacks (unset keeps the live value). Enabling RLS loses no data
/// (disabling it again shows every row), so it needs no consent; it does change what every role
/// but the owner sees, which the plan says as a warning, and takes an ACCESS EXCLUSIVE lock for
/// a catalog change.
fn table_security(live: &Table, desired: &Table, table_sql: &str) -> Security {
    let id = desired.id();
    let mut security = Security::default();
    if let Some(owner) = desired.owner.as_ref().filter(|owner| live.owner.as_ref() != Some(*owner)) {
        security.statements.push(format!("ALTER TABLE {table_sql} OWNER TO {}", ident(owner)));
    }
    let Some(wanted) = desired.row_level_security else { return security };
    let before = live.row_level_security.unwrap_or_default();
    if wanted.enabled != before.enabled {
        security.statements.push(format!("ALTER TABLE {table_sql} {} ROW LEVEL SECURITY", if wanted.enabled { "ENABLE" } else { "DISABLE" }));
        security.warnings.push(match wanted.enabled {
            true => format!("enables row-level security on {id}: roles other than its owner (superusers and BYPASSRLS roles aside) see and change only the rows a policy allows"),
            false => format!("disables row-level security on {id}: its policies stop applying and every role with a privilege on it sees every row"),
        });
    }
    if wanted.force != before.force {
        security.statements.push(format!("ALTER TABLE {table_sql} {} ROW LEVEL SECURITY", if wanted.force { "FORCE" } else { "NO FORCE" }));
        if wanted.force && wanted.enabled {
            security.warnings.push(format!("forces row-level security on {id}: its owner too sees only the rows a policy allows"));
        }
    }
    if wanted != before && live.row_level_security.is_some() {
        security.locking.push(format!("takes an ACCESS EXCLUSIVE lock on {id} to change its row-level security (a catalog change only): reads and writes wait for it"));
    }
    security
}

/// The copies a table change takes before it drops columns, each statement once.
#[derive(Default)]
struct Backups {
    statements: Vec<String>,
    locations: Vec<String>,
}

impl Backups {
    fn add(&mut self, backup: Backup) {
        let new: Vec<String> = backup.statements.into_iter().filter(|s| !self.statements.contains(s)).collect();
        self.statements.extend(new);
        self.locations.extend(backup.location);
    }
}

/// The live columns to drop and add again because their generation changes as PostgreSQL 15
/// cannot change it in place: an expression changed, or a column made generated (a generated
/// column made normal keeps its values with DROP EXPRESSION). Without a shadow the expressions
/// are not in the same spelling, so only a column made generated is known to change.
fn regenerated_columns(live: &Table, compare: &Table, local: bool) -> Vec<String> {
    let changes = |column: &Column| {
        compare.columns.iter().find(|c| c.name == column.name).is_some_and(|wanted| match (&column.generated, &wanted.generated) {
            (None, Some(_)) => true,
            (Some(now), Some(then)) => !local && now != then,
            _ => false,
        })
    };
    live.columns.iter().filter(|c| changes(c)).map(|c| c.name.clone()).collect()
}

/// `table` without the constraints and indexes on any of `columns` (which DROP COLUMN drops).
fn without_dependents(table: &Table, columns: &[String]) -> Table {
    let named = |names: &[String]| names.iter().any(|n| columns.contains(n));
    let mentioned = |texts: &[String]| texts.iter().any(|text| columns.iter().any(|c| mentions(text, c)));
    let mut kept = table.clone();
    kept.uniques.retain(|u| !named(&u.columns));
    kept.foreign_keys.retain(|f| !named(&f.columns));
    kept.checks.retain(|c| !mentioned(std::slice::from_ref(&c.expression)));
    kept.exclusions.retain(|e| !mentioned(&e.elements) && !e.predicate.as_ref().is_some_and(|p| mentioned(std::slice::from_ref(p))));
    kept.indexes.retain(|i| !mentioned(&i.columns) && !mentioned(&i.include) && !i.predicate.as_ref().is_some_and(|p| mentioned(std::slice::from_ref(p))));
    kept
}

/// `live` once its storage parameters and comment are `wanted`'s (the changes made in place).
fn changed_in_place(live: &Index, wanted: &Index) -> Index {
    Index { with: wanted.with.clone(), comment: wanted.comment.clone(), ..live.clone() }
}

/// A table whose partition key changes: PostgreSQL cannot change a key, so it is dropped (with
/// its rows, and its backup first when `backup_before_drop` is on) and created again.
fn replaced_for_its_key(prior: &Table, desired: &Table, guards: &Guards) -> PlannedChange {
    let backup = guards.backup_table(prior);
    let mut statements = backup.statements;
    statements.extend(crate::partitions::refuse_dropping_undeclared(prior));
    statements.push(format!("DROP TABLE {}", qualified(&prior.schema, &prior.name)));
    statements.extend(ddl::create_table(desired));
    let mut planned = change(Action::Replace, desired.to_value(), statements);
    planned.replace_because = vec!["partition_by".into()];
    planned.data_loss = vec![format!("{}: PostgreSQL cannot change a table's partitioning in place", table_dropped(prior))];
    planned.backups = backup.location.into_iter().collect();
    planned
}

/// `VALIDATE CONSTRAINT`, which the guards run in a transaction of its own after the `NOT VALID`
/// add: it checks the existing rows under a SHARE UPDATE EXCLUSIVE lock only.
fn validate(constraint: &str) -> String {
    format!("VALIDATE CONSTRAINT {} -- checks existing rows in its own transaction, under a lock that lets reads and writes go on", ident(constraint))
}

/// The columns to rename, old name to new: those whose `renamed_from` names a live column, when
/// no live column has the new name yet (after the rename, `renamed_from` is a no-op).
pub fn renamed_columns(prior: &Table, desired: &Table) -> Vec<(String, String)> {
    let live = |name: &str| prior.columns.iter().any(|c| c.name == name);
    desired
        .columns
        .iter()
        .filter_map(|c| c.renamed_from.as_ref().filter(|old| live(old) && !live(&c.name)).map(|old| (old.clone(), c.name.clone())))
        .collect()
}

/// The primary key's name as strata creates it.
fn pkey_name(table: &str) -> String {
    truncate_identifier(format!("{table}_pkey"))
}

/// Renames the constraints and indexes of `live` that `wanted` has under another name but
/// otherwise the same (a default name that follows the table's, a name changed in the
/// configuration), so they are kept instead of dropped and built again; gives the statements.
fn rename_constraints(live: &mut Table, wanted: &Table, table_sql: &str) -> Vec<String> {
    let constraint = |(old, new): (String, String)| format!("ALTER TABLE {table_sql} RENAME CONSTRAINT {} TO {}", ident(&old), ident(&new));
    let schema = wanted.schema.clone();
    let index = |(old, new): (String, String)| format!("ALTER INDEX {} RENAME TO {}", qualified(&schema, &old), ident(&new));
    let mut statements: Vec<String> = renamed(&mut live.uniques, &wanted.uniques, |u| &u.name, |u, n| u.name = n).into_iter().map(constraint).collect();
    // Checks and foreign keys are the same constraint whatever VALIDATE and ALTER CONSTRAINT change.
    let check = |c: &Check| Check { validated: true, ..c.clone() };
    statements.extend(renamed_as(&mut live.checks, &wanted.checks, check, |c| &c.name, |c, n| c.name = n).into_iter().map(constraint));
    let key = |f: &ForeignKey| ForeignKey { validated: true, deferral: Deferral::default(), ..f.clone() };
    statements.extend(renamed_as(&mut live.foreign_keys, &wanted.foreign_keys, key, |f| &f.name, |f, n| f.name = n).into_iter().map(constraint));
    statements.extend(renamed(&mut live.exclusions, &wanted.exclusions, |e| &e.name, |e, n| e.name = n).into_iter().map(constraint));
    statements.extend(renamed(&mut live.indexes, &wanted.indexes, |i| &i.name, |i, n| i.name = n).into_iter().map(index));
    statements
}

/// [`renamed`], comparing the items as `definition` gives them.
fn renamed_as<T: Clone + PartialEq>(live: &mut [T], wanted: &[T], definition: fn(&T) -> T, name: fn(&T) -> &str, set_name: fn(&mut T, String)) -> Vec<(String, String)> {
    let mut live_definitions: Vec<T> = live.iter().map(definition).collect();
    let wanted_definitions: Vec<T> = wanted.iter().map(definition).collect();
    let renames = renamed(&mut live_definitions, &wanted_definitions, name, set_name);
    for (item, renamed_definition) in live.iter_mut().zip(&live_definitions) {
        set_name(item, name(renamed_definition).to_owned());
    }
    renames
}

/// Gives each item of `live` that `wanted` has only under another (unused) name that name, and
/// says which (old, new) names changed.
fn renamed<T: Clone + PartialEq>(live: &mut [T], wanted: &[T], name: fn(&T) -> &str, set_name: fn(&mut T, String)) -> Vec<(String, String)> {
    let mut renames = Vec::new();
    for position in 0..live.len() {
        if wanted.contains(&live[position]) {
            continue;
        }
        let twin = wanted.iter().find(|w| {
            let mut candidate = live[position].clone();
            set_name(&mut candidate, name(w).to_owned());
            candidate == **w && live.iter().all(|l| name(l) != name(w))
        });
        if let Some(new) = twin.map(|w| name(w).to_owned()) {
            renames.push((name(&live[position]).to_owned(), new.clone()));
            set_name(&mut live[position], new);
        }
    }
    renames
}

/// `table` as it is once `renames` ran: columns, keys, index columns and the columns of exclusion
/// elements under their new names.
fn with_columns_renamed(table: &Table, renames: &[(String, String)]) -> Table {
    let rename = |name: &mut String| {
        if let Some((_, new)) = renames.iter().find(|(old, _)| old == name) {
            *name = new.clone();
        }
    };
    let mut renamed = table.clone();
    renamed.columns.iter_mut().for_each(|c| rename(&mut c.name));
    renamed.primary_key.iter_mut().for_each(rename);
    renamed.uniques.iter_mut().flat_map(|u| u.columns.iter_mut()).for_each(rename);
    renamed.foreign_keys.iter_mut().flat_map(|f| f.columns.iter_mut()).for_each(rename);
    for entry in renamed.indexes.iter_mut().flat_map(|i| i.columns.iter_mut().chain(i.include.iter_mut())) {
        *entry = ddl::rename_key(entry, renames);
    }
    for element in renamed.exclusions.iter_mut().flat_map(|e| e.elements.iter_mut()) {
        let followed = split_exclusion_element(element).map(|(core, operator)| {
            let mut column = core.to_owned();
            rename(&mut column);
            format!("{column} WITH {operator}")
        });
        *element = followed.unwrap_or_else(|| element.clone());
    }
    renamed
}

fn table_dropped(table: &Table) -> String {
    format!("drops table {}.{} and all its rows", table.schema, table.name)
}

/// What changing `live`'s type to `to` loses; `None` when the change is in the table of
/// lossless casts (see `casts`).
fn type_change_loss(id: &str, live: &Column, to: &str) -> Option<String> {
    if casts::is_lossless(&live.type_name, to) {
        return None;
    }
    let what = casts::reinterprets(&live.type_name, to).unwrap_or("it is not a cast known to keep every value: values may be rounded, cut or refused");
    Some(format!("changes column {id}.{} from {} to {to}: {what}", live.name, live.type_name))
}

/// The type a column is stored as: a serial pseudo-type is its integer type.
fn storage_type(type_name: &str) -> String {
    if is_serial(type_name) {
        type_alias(type_name)
    } else {
        type_name.to_owned()
    }
}

/// `ALTER SEQUENCE ... AS` for the sequence behind a serial column whose type changes to
/// `storage` (an integer type), so that it can count as far as the column holds.
fn sequence_follows_column(live: &Column, storage: &str) -> Option<String> {
    let integer = ["smallint", "integer", "bigint"].contains(&type_alias(storage).as_str());
    let sequence = live.default.as_deref().and_then(owned_sequence)?;
    integer.then(|| format!("ALTER SEQUENCE {sequence} AS {}", type_alias(storage)))
}

/// The sequence a serial default draws from: `nextval('users_id_seq'::regclass)` gives
/// `users_id_seq`, as PostgreSQL prints a regclass (quoted and qualified where needed).
fn owned_sequence(default: &str) -> Option<String> {
    let quoted = default.strip_prefix("nextval('")?.strip_suffix("'::regclass)")?;
    Some(quoted.replace("''", "'"))
}

/// The `locking` line for a `DROP INDEX` without CONCURRENTLY.
fn index_dropped_under_lock(index: &str, table: &str) -> String {
    format!("drops index {index} on {table} under an ACCESS EXCLUSIVE lock: reads and writes wait (a postgres_index with concurrently = true does not block them)")
}

/// Whether changing a column from type `from` to type `to` rewrites the table. Only a change
/// PostgreSQL can make by editing the catalog does not: the same type with a larger or no length
/// or precision limit, or between `text` and `varchar` without one getting shorter.
fn rewrites(from: &str, to: &str) -> bool {
    let base = |type_name: &str| type_alias(type_name).split('(').next().unwrap_or_default().trim().to_owned();
    let (from_base, to_base) = (base(from), base(to));
    let texts = ["text", "character varying"];
    let compatible = from_base == to_base || (texts.contains(&from_base.as_str()) && texts.contains(&to_base.as_str()));
    if !compatible || !casts::is_lossless(from, to) {
        return true;
    }
    // numeric's scale cannot change without rewriting the values.
    from_base == "numeric" && matches!((type_modifiers(from), type_modifiers(to)), (Some(old), Some(new)) if old.get(1) != new.get(1))
}

/// The numbers in a type's modifier: `numeric(10,2)` gives `[10, 2]`; `None` without one.
fn type_modifiers(type_name: &str) -> Option<Vec<u32>> {
    let (_, rest) = type_name.split_once('(')?;
    let (inside, _) = rest.split_once(')')?;
    inside.split(',').map(|n| n.trim().parse().ok()).collect()
}

/// `ALTER COLUMN ... TYPE` for a new type or collation (`same_type`: only the collation changes;
/// without COLLATE the column takes the type's default).
fn retype(live: &Column, column: &Column, same_type: bool) -> String {
    let name = ident(&live.name);
    let collate = ddl::collate_clause(column);
    if same_type {
        return format!("ALTER COLUMN {name} TYPE {}{collate}", live.type_name);
    }
    let storage = storage_type(&column.type_name);
    format!("ALTER COLUMN {name} TYPE {storage}{collate} USING {name}::{storage}")
}

/// `SET STORAGE` when the configuration names a storage the column lacks (unset keeps the live
/// one), `SET COMPRESSION` when it differs; both change the catalog only.
fn storage_and_compression(live: &Column, wanted: &Column, normal: &Column, column: &mut Column) -> Vec<String> {
    let mut sql = Vec::new();
    if wanted.storage.is_some() && live.storage != normal.storage {
        sql.extend(ddl::set_storage(wanted));
    } else {
        column.storage = live.storage.clone();
    }
    if live.compression != wanted.compression {
        sql.push(format!("ALTER COLUMN {} SET COMPRESSION {}", ident(&wanted.name), wanted.compression.as_deref().unwrap_or("default")));
    }
    sql
}

/// `SET START WITH` / `SET INCREMENT BY` of an identity the configuration sets them for (unset
/// keeps the live ones). The counter is never restarted.
fn identity_sequence_changes(live: &Column, wanted: &Column, column: &mut Column) -> Vec<String> {
    let name = ident(&wanted.name);
    let mut sql = Vec::new();
    match wanted.identity_start.filter(|start| live.identity_start != Some(*start)) {
        Some(start) => sql.push(format!("ALTER COLUMN {name} SET START WITH {start}")),
        None => column.identity_start = live.identity_start,
    }
    match wanted.identity_increment.filter(|step| live.identity_increment != Some(*step)) {
        Some(step) => sql.push(format!("ALTER COLUMN {name} SET INCREMENT BY {step}")),
        None => column.identity_increment = live.identity_increment,
    }
    sql
}

/// One column's changes, and the column as it will be (in the live spelling where unchanged).
fn column_changes(live: &Column, wanted: &Column, normal: &Column, local: bool) -> (Column, Vec<String>) {
    let name = ident(&wanted.name);
    let mut column = wanted.clone();
    let mut sql = Vec::new();
    let same_type = if local { type_alias(&live.type_name) == type_alias(&wanted.type_name) } else { live.type_name == normal.type_name };
    if same_type {
        column.type_name = live.type_name.clone();
    }
    let wanted_collation = if local { &wanted.collation } else { &normal.collation };
    if &live.collation == wanted_collation {
        column.collation = live.collation.clone();
    }
    if let (Some(_), None) = (&live.generated, &normal.generated) {
        sql.push(format!("ALTER COLUMN {name} DROP EXPRESSION"));
    } else {
        column.generated = live.generated.clone();
    }
    if !same_type || column.collation != live.collation {
        sql.push(retype(live, &column, same_type));
        // ALTER COLUMN TYPE gives the column its new type's storage and compression.
        sql.extend(ddl::set_storage(wanted));
        sql.extend(wanted.compression.as_ref().map(|c| format!("ALTER COLUMN {name} SET COMPRESSION {c}")));
    } else {
        sql.extend(storage_and_compression(live, wanted, normal, &mut column));
    }
    let serial_default = is_serial(&wanted.type_name) && wanted.default.is_none() && live.default.as_deref().is_some_and(|d| d.starts_with("nextval("));
    if live.default == normal.default || serial_default {
        column.default = live.default.clone();
    } else {
        sql.push(match &wanted.default {
            Some(default) => format!("ALTER COLUMN {name} SET DEFAULT {default}"),
            None => format!("ALTER COLUMN {name} DROP DEFAULT"),
        });
    }
    if live.identity != wanted.identity {
        sql.push(match (&live.identity, &wanted.identity) {
            (None, Some(kind)) => format!("ALTER COLUMN {name} ADD GENERATED {} AS IDENTITY{}", kind.to_uppercase(), ddl::identity_options(wanted)),
            (Some(_), Some(kind)) => format!("ALTER COLUMN {name} SET GENERATED {}", kind.to_uppercase()),
            _ => format!("ALTER COLUMN {name} DROP IDENTITY"),
        });
    }
    if live.identity.is_some() && wanted.identity.is_some() {
        sql.extend(identity_sequence_changes(live, wanted, &mut column));
    }
    if live.nullable == normal.nullable {
        column.nullable = live.nullable;
    } else {
        sql.push(format!("ALTER COLUMN {name} {} NOT NULL", if normal.nullable { "DROP" } else { "SET" }));
    }
    (column, sql)
}

/// A `postgres_index`'s change; `partitioned` when its table is (see [`Index::rebuilt_for`]).
pub fn table_index(prior: Option<&TableIndex>, desired: &TableIndex, normalized: Option<&TableIndex>, partitioned: bool) -> PlannedChange {
    let create = ddl::create_table_index(desired);
    let Some(prior) = prior else {
        return change(Action::Create, desired.to_value(), create);
    };
    let compare = normalized.unwrap_or(desired);
    let moved = [("schema", prior.schema != compare.schema), ("table", prior.table != compare.table)];
    let mut because: Vec<String> = moved.iter().filter(|(_, differs)| *differs).map(|(field, _)| (*field).to_owned()).collect();
    because.extend(prior.index.rebuilt_for(&compare.index, partitioned).into_iter().map(str::to_owned));
    let mut warnings = Vec::new();
    if !prior.valid {
        because.push("valid".into());
        warnings.push(format!("index {} is invalid (left by a failed concurrent build); it will be rebuilt", prior.index.name));
    }
    if because.is_empty() {
        let statements = ddl::alter_index_in_place(&qualified(&prior.schema, &prior.index.name), &prior.index, &compare.index);
        let kept = TableIndex { concurrently: desired.concurrently, index: changed_in_place(&prior.index, &compare.index), ..prior.clone() };
        let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
        return change(action, kept.to_value(), statements);
    }
    let mut operations = vec![ddl::drop_table_index(prior, desired.concurrently)];
    operations.extend(create);
    let mut planned = change(Action::Replace, desired.to_value(), operations);
    if !desired.concurrently {
        planned.locking.push(index_dropped_under_lock(&prior.index.name, &prior.table));
    }
    planned.replace_because = because;
    planned.warnings = warnings;
    planned
}

pub fn enumeration(prior: Option<&Enum>, desired: &Enum) -> PlannedChange {
    let type_comment = |e: &Enum| e.comment.as_ref().map(|c| format!("COMMENT ON TYPE {} IS {}", qualified(&e.schema, &e.name), literal(c)));
    let type_owner = |e: &Enum, owner: &Option<String>| owner.as_ref().map(|o| format!("ALTER TYPE {} OWNER TO {}", qualified(&e.schema, &e.name), ident(o)));
    let create: Vec<String> = std::iter::once(ddl::create_enum(desired)).chain(type_comment(desired)).collect();
    let Some(prior) = prior else {
        return change(Action::Create, with_computed(desired.to_value(), "owner"), create.into_iter().chain(type_owner(desired, &desired.owner)).collect());
    };
    let owner = desired.owner.clone().or_else(|| prior.owner.clone());
    let type_sql = qualified(&prior.schema, &prior.name);
    let identity_changed = prior.schema != desired.schema || prior.name != desired.name;
    let kept_in_order = desired.values.iter().filter(|v| prior.values.contains(v)).eq(prior.values.iter());
    if identity_changed || !kept_in_order {
        let planned_value = Enum { owner: owner.clone(), ..desired.clone() }.to_value();
        let mut planned = change(Action::Replace, planned_value, std::iter::once(format!("DROP TYPE {type_sql}")).chain(create).chain(type_owner(desired, &owner)).collect());
        planned.replace_because = if identity_changed { vec!["name".into()] } else { vec!["values".into()] };
        planned.data_loss = enum_replaced(prior, desired);
        return planned;
    }
    let statements: Vec<String> = desired
        .values
        .iter()
        .enumerate()
        .filter(|(_, v)| !prior.values.contains(v))
        .map(|(i, value)| match (i.checked_sub(1).map(|p| &desired.values[p]), prior.values.first()) {
            (Some(previous), _) => format!("ALTER TYPE {type_sql} ADD VALUE {} AFTER {}", literal(value), literal(previous)),
            (None, Some(first)) => format!("ALTER TYPE {type_sql} ADD VALUE {} BEFORE {}", literal(value), literal(first)),
            (None, None) => format!("ALTER TYPE {type_sql} ADD VALUE {}", literal(value)),
        })
        .collect();
    let mut statements = statements;
    let mut planned = desired.clone();
    match &desired.comment {
        Some(_) if desired.comment != prior.comment => statements.extend(type_comment(desired)),
        Some(_) => {}
        None => planned.comment.clone_from(&prior.comment),
    }
    if desired.owner.is_some() && desired.owner != prior.owner {
        statements.extend(type_owner(desired, &desired.owner));
    }
    planned.owner = owner;
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    change(action, planned.to_value(), statements)
}

/// What replacing an enum loses: each value it drops, or else the type itself (DROP TYPE).
fn enum_replaced(prior: &Enum, desired: &Enum) -> Vec<String> {
    let id = format!("{}.{}", prior.schema, prior.name);
    let dropped: Vec<String> = prior.values.iter().filter(|v| !desired.values.contains(v)).map(|v| format!("drops value '{v}' of enum {id}: rows holding it cannot keep it")).collect();
    if dropped.is_empty() {
        return vec![format!("drops enum {id} and creates it again: columns of that type block the drop or lose their data")];
    }
    dropped
}

pub fn schema(prior: Option<&Schema>, desired: &Schema) -> PlannedChange {
    let schema_comment = |s: &Schema| s.comment.as_ref().map(|c| format!("COMMENT ON SCHEMA {} IS {}", ident(&s.name), literal(c)));
    // The owner holds every privilege whatever its ACL says: a policy block naming it changes nothing.
    let owner = desired.owner.as_ref().or(prior.and_then(|p| p.owner.as_ref()));
    let grants = |live: &Schema| -> Vec<String> {
        desired
            .policies
            .iter()
            .map(|(role, wanted)| (role, live.policies.get(role).copied().unwrap_or_default(), *wanted))
            .chain(live.policies.iter().filter(|(role, _)| !desired.policies.contains_key(*role)).map(|(role, held)| (role, *held, SchemaPrivileges::default())))
            .filter(|(role, _, _)| Some(*role) != owner)
            .flat_map(|(role, held, wanted)| ddl::schema_privileges(&desired.name, role, held, wanted))
            .collect()
    };
    let Some(prior) = prior else {
        let create = std::iter::once(ddl::create_schema(desired)).chain(schema_comment(desired)).chain(grants(&Schema::default())).collect();
        return change(Action::Create, with_computed(with_computed(desired.to_value(), "owner"), "comment"), create);
    };
    if prior.name != desired.name {
        let mut planned = change(Action::Replace, desired.to_value(), std::iter::once(format!("DROP SCHEMA {}", ident(&prior.name))).chain(std::iter::once(ddl::create_schema(desired))).chain(grants(&Schema::default())).collect());
        planned.replace_because = vec!["name".into()];
        return planned;
    }
    let mut statements = Vec::new();
    let mut planned = Schema { database: desired.database.clone(), if_not_exists: desired.if_not_exists, drop_cascade: desired.drop_cascade, policies: desired.policies.clone(), ..prior.clone() };
    statements.extend(grants(prior));
    if let Some(owner) = desired.owner.as_ref().filter(|o| prior.owner.as_ref() != Some(*o)) {
        statements.push(format!("ALTER SCHEMA {} OWNER TO {}", ident(&prior.name), ident(owner)));
        planned.owner = Some(owner.clone());
    }
    if desired.comment.is_some() && desired.comment != prior.comment {
        statements.extend(schema_comment(desired));
        planned.comment.clone_from(&desired.comment);
    }
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    change(action, planned.to_value(), statements)
}

pub fn extension(prior: Option<&Extension>, desired: &Extension) -> PlannedChange {
    let Some(prior) = prior else {
        let value = with_computed(with_computed(desired.to_value(), "schema"), "version");
        return change(Action::Create, value, vec![ddl::create_extension(desired)]);
    };
    let name = ident(&prior.name);
    let mut statements = Vec::new();
    let mut planned = prior.clone();
    if let Some(schema) = desired.schema.as_ref().filter(|s| prior.schema.as_ref() != Some(*s)) {
        statements.push(format!("ALTER EXTENSION {name} SET SCHEMA {}", ident(schema)));
        planned.schema = Some(schema.clone());
    }
    if let Some(version) = desired.version.as_ref().filter(|v| prior.version.as_ref() != Some(*v)) {
        statements.push(format!("ALTER EXTENSION {name} UPDATE TO {}", literal(version)));
        planned.version = Some(version.clone());
    }
    let action = if statements.is_empty() { Action::NoOp } else { Action::Update };
    change(action, planned.to_value(), statements)
}

/// Marks an attribute the configuration left unset as known only after apply.
fn with_computed(mut value: Value, key: &str) -> Value {
    if value.get(key).is_none_or(Value::is_null) {
        value.set(key, Value::Unknown);
    }
    value
}

fn change(action: Action, planned: Value, operations: Vec<String>) -> PlannedChange {
    PlannedChange { operations, ..PlannedChange::new(action, planned) }
}

/// What deleting an object will run, lose and copy aside.
pub fn plan_delete(type_name: &str, prior: &Value, guards: &Guards) -> Result<PlannedChange, strata_provider_sdk::ProviderError> {
    if let Some(kind) = crate::objects::kind(type_name) {
        return Ok(guards.sequence_change(kind.plan_delete(prior)?));
    }
    let mut planned = change(Action::Delete, Value::Null, drop_statements(type_name, prior, guards)?);
    if type_name == "postgres_table" {
        let table = Table::from_value(prior)?;
        planned.data_loss = vec![table_dropped(&table)];
        planned.backups = guards.backup_table(&table).location.into_iter().collect();
    }
    if type_name == "postgres_schema" {
        let schema = Schema::from_value(prior)?;
        planned.data_loss.extend(schema.drop_cascade.then(|| format!("drops schema {} and, drop_cascade being set, every object in it and their data", schema.name)));
    }
    if type_name == "postgres_index" {
        let index = TableIndex::from_value(prior)?;
        planned.locking.extend((!index.concurrently).then(|| index_dropped_under_lock(&index.index.name, &index.table)));
    }
    Ok(planned)
}

/// The statements that delete an object, as they run (see [`Guards::sequence`]); a table is
/// copied aside first when `backup_before_drop` is on.
pub fn drop_statements(type_name: &str, prior: &Value, guards: &Guards) -> Result<Vec<String>, strata_provider_sdk::ProviderError> {
    let statements = match type_name {
        "postgres_table" => {
            let table = Table::from_value(prior)?;
            let mut statements = guards.backup_table(&table).statements;
            statements.extend(crate::partitions::refuse_dropping_undeclared(&table));
            statements.push(format!("DROP TABLE {}", qualified(&table.schema, &table.name)));
            statements
        }
        "postgres_index" => {
            let index = TableIndex::from_value(prior)?;
            vec![ddl::drop_table_index(&index, index.concurrently)]
        }
        "postgres_enum" => {
            let e = Enum::from_value(prior)?;
            vec![format!("DROP TYPE {}", qualified(&e.schema, &e.name))]
        }
        "postgres_schema" => {
            let schema = Schema::from_value(prior)?;
            vec![format!("DROP SCHEMA {}{}", ident(&schema.name), if schema.drop_cascade { " CASCADE" } else { "" })]
        }
        "postgres_extension" => vec![format!("DROP EXTENSION {}", ident(&Extension::from_value(prior)?.name))],
        other => crate::object_kind(other)?.drop_statements(prior)?,
    };
    Ok(guards.sequence(statements))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Unique;

    fn status(values: &[&str]) -> Enum {
        Enum { schema: "public".into(), name: "status".into(), values: values.iter().map(|v| (*v).to_owned()).collect(), comment: None, owner: None }
    }

    #[test]
    fn enum_values_are_added_in_place_and_reordering_replaces() {
        let added = enumeration(Some(&status(&["b", "d"])), &status(&["a", "b", "c", "d", "e"]));
        assert_eq!(added.action, Action::Update);
        assert_eq!(
            added.operations,
            [
                "ALTER TYPE \"public\".\"status\" ADD VALUE 'a' BEFORE 'b'",
                "ALTER TYPE \"public\".\"status\" ADD VALUE 'c' AFTER 'b'",
                "ALTER TYPE \"public\".\"status\" ADD VALUE 'e' AFTER 'd'",
            ]
        );
        assert_eq!(enumeration(Some(&status(&[])), &status(&["a"])).operations, ["ALTER TYPE \"public\".\"status\" ADD VALUE 'a'"]);
        let reordered = enumeration(Some(&status(&["a", "b"])), &status(&["b", "a"]));
        assert_eq!((reordered.action, reordered.replace_because), (Action::Replace, vec!["values".to_owned()]));
        let removed = enumeration(Some(&status(&["a", "b"])), &status(&["b"]));
        assert_eq!(removed.data_loss, ["drops value 'a' of enum public.status: rows holding it cannot keep it"]);
    }

    fn column(name: &str, type_name: &str) -> Column {
        Column { name: name.into(), type_name: type_name.into(), nullable: true, ..Column::default() }
    }

    fn users(columns: Vec<Column>) -> Table {
        let mut id = column("id", "integer");
        id.nullable = false;
        Table { schema: "public".into(), name: "users".into(), primary_key: vec!["id".into()], columns: std::iter::once(id).chain(columns).collect(), ..Table::default() }
    }

    fn team_key() -> ForeignKey {
        ForeignKey {
            name: "users_team_id_fkey".into(),
            columns: vec!["team_id".into()],
            references: "public.teams".into(),
            ref_columns: vec!["id".into()],
            on_delete: "NO ACTION".into(),
            on_update: "NO ACTION".into(),
            match_type: "SIMPLE".into(),
            deferral: Deferral::default(),
            validated: true,
        }
    }

    fn age_index() -> Index {
        Index::from_value(&Value::object([("name", Value::from("users_age")), ("columns", Value::List(vec![Value::from("age")]))])).unwrap()
    }

    fn plan(prior: &Table, desired: &Table) -> PlannedChange {
        table(Some(prior), desired, None, &Guards::default(), &TableFacts::default())
    }

    #[test]
    fn type_changes_that_rewrite_the_table_are_told_apart() {
        assert!(rewrites("integer", "bigint"));
        assert!(rewrites("text", "integer"));
        assert!(rewrites("text", "character varying(10)"));
        assert!(rewrites("numeric(10,2)", "numeric(10,3)"));
        assert!(!rewrites("character varying(10)", "character varying(20)"));
        assert!(!rewrites("varchar(10)", "text"));
        assert!(!rewrites("text", "varchar"));
        assert!(!rewrites("numeric(10,2)", "numeric(12,2)"));
    }

    #[test]
    fn locking_changes_say_what_they_lock() {
        let prior = users(vec![column("age", "integer"), column("name", "varchar(10)")]);
        let widened = plan(&prior, &users(vec![column("age", "bigint"), column("name", "varchar(20)")]));
        assert_eq!(widened.locking.len(), 1, "{:?}", widened.locking);
        assert!(widened.locking[0].starts_with("rewrites public.users under an ACCESS EXCLUSIVE lock to change column age from integer to bigint"));
        assert!(widened.data_loss.is_empty());

        let mut required = column("name", "varchar(10)");
        required.nullable = false;
        let not_null = plan(&prior, &users(vec![column("age", "integer"), required]));
        assert_eq!(not_null.operations, ["ALTER TABLE \"public\".\"users\" ALTER COLUMN \"name\" SET NOT NULL"]);
        assert!(not_null.locking[0].starts_with("scans public.users"), "{:?}", not_null.locking);

        let mut indexed = prior.clone();
        indexed.indexes.push(age_index());
        assert!(plan(&prior, &indexed).locking[0].starts_with("builds index users_age on public.users under a SHARE lock"));

        let mut stamped = prior.clone();
        let mut token = column("token", "uuid");
        token.default = Some("gen_random_uuid()".into());
        stamped.columns.push(token);
        assert!(plan(&prior, &stamped).locking.is_empty(), "a default is volatile only when preflight says so");
        let facts = TableFacts { volatile_defaults: vec!["token".into()], ..TableFacts::default() };
        let volatile = table(Some(&prior), &stamped, None, &Guards::default(), &facts);
        assert!(volatile.locking[0].contains("to fill new column token from a volatile default"), "{:?}", volatile.locking);

        let mut added = prior.clone();
        added.columns.push(column("nickname", "text"));
        assert!(plan(&prior, &added).locking.is_empty(), "a nullable column without a default is only a catalog change");
    }

    #[test]
    fn serial_to_bigserial_alters_the_column_and_its_sequence_to_bigint() {
        let mut prior = users(vec![]);
        prior.columns[0].default = Some("nextval('users_id_seq'::regclass)".into());
        let mut desired = users(vec![]);
        desired.columns[0].type_name = "bigserial".into();
        let widened = plan(&prior, &desired);
        assert_eq!(
            widened.operations,
            [
                "ALTER TABLE \"public\".\"users\" ALTER COLUMN \"id\" TYPE bigint USING \"id\"::bigint",
                "ALTER SEQUENCE users_id_seq AS bigint",
            ]
        );
        assert!(widened.data_loss.is_empty(), "{:?}", widened.data_loss);
        assert_eq!(owned_sequence("nextval('\"Odd\"''s_seq'::regclass)").as_deref(), Some("\"Odd\"'s_seq"));
    }

    #[test]
    fn dropping_an_index_without_concurrently_is_locking() {
        let mut prior = users(vec![column("age", "integer")]);
        prior.indexes.push(age_index());
        let dropped = plan(&prior, &users(vec![column("age", "integer")]));
        assert!(dropped.locking[0].starts_with("drops index users_age on public.users under an ACCESS EXCLUSIVE lock"), "{:?}", dropped.locking);
    }

    #[test]
    fn index_parameters_and_comments_change_in_place_and_other_changes_rebuild() {
        let mut prior = users(vec![column("age", "integer")]);
        prior.indexes.push(age_index());
        let mut commented = prior.clone();
        commented.indexes[0].comment = Some("by age".into());
        commented.indexes[0].with.insert("fillfactor".into(), "80".into());
        let in_place = plan(&prior, &commented);
        assert_eq!(in_place.action, Action::Update);
        assert_eq!(
            in_place.operations,
            ["ALTER INDEX \"public\".\"users_age\" SET (fillfactor = 80)", "COMMENT ON INDEX \"public\".\"users_age\" IS 'by age'"]
        );
        assert!(in_place.locking.is_empty(), "{:?}", in_place.locking);

        let mut reclassed = prior.clone();
        reclassed.indexes[0].columns = vec!["age int4_ops DESC".into()];
        let rebuilt = plan(&prior, &reclassed);
        assert_eq!(rebuilt.operations[0], "DROP INDEX \"public\".\"users_age\"");
        assert!(rebuilt.operations[1].starts_with("CREATE INDEX \"users_age\""), "{:?}", rebuilt.operations);
        assert_eq!(rebuilt.warnings, ["index users_age on public.users is dropped and built again: columns changed"]);
    }

    #[test]
    fn a_standalone_index_changes_in_place_or_is_replaced_naming_the_field() {
        let on_users = |index: Index| TableIndex { schema: "public".into(), table: "public.users".into(), index, concurrently: true, valid: true };
        let prior = on_users(age_index());
        let mut commented = prior.clone();
        commented.index.comment = Some("by age".into());
        let updated = table_index(Some(&prior), &commented, None, false);
        assert_eq!((updated.action, updated.operations), (Action::Update, vec!["COMMENT ON INDEX \"public\".\"users_age\" IS 'by age'".to_owned()]));
        let mut unique = commented.clone();
        unique.index.unique = true;
        unique.index.nulls_not_distinct = true;
        let replaced = table_index(Some(&prior), &unique, None, false);
        assert_eq!((replaced.action, replaced.replace_because), (Action::Replace, vec!["unique".to_owned(), "nulls_not_distinct".to_owned()]));
        assert_eq!(replaced.operations[2], "COMMENT ON INDEX \"public\".\"users_age\" IS 'by age'");
        let mut filled = prior.clone();
        filled.index.with.insert("fillfactor".into(), "80".into());
        assert_eq!(table_index(Some(&prior), &filled, None, false).operations, ["ALTER INDEX \"public\".\"users_age\" SET (fillfactor = 80)"]);
        assert_eq!(table_index(Some(&prior), &filled, None, true).replace_because, ["with"], "a partitioned index cannot SET");
    }

    #[test]
    fn constraints_on_an_existing_table_are_added_not_valid_then_validated() {
        let prior = users(vec![column("age", "integer"), column("team_id", "integer")]);
        let mut desired = prior.clone();
        desired.checks.push(Check { name: "users_age_check".into(), expression: "age >= 0".into(), validated: true });
        desired.foreign_keys.push(team_key());
        let operations = Guards::default().sequence(plan(&prior, &desired).operations);
        let users = "ALTER TABLE \"public\".\"users\"";
        assert_eq!(operations[..3], ["BEGIN", "SET LOCAL lock_timeout = '5s'", &format!("{users} ADD CONSTRAINT \"users_age_check\" CHECK (age >= 0) NOT VALID")]);
        assert!(operations[3].ends_with("ON DELETE NO ACTION ON UPDATE NO ACTION NOT VALID"), "{operations:?}");
        assert_eq!(operations[4..7], ["COMMIT", "BEGIN", "SET LOCAL lock_timeout = '5s'"]);
        assert!(operations[7].starts_with(&format!("{users} VALIDATE CONSTRAINT \"users_age_check\" -- checks existing rows in its own transaction")));
        assert!(operations[8].starts_with(&format!("{users} VALIDATE CONSTRAINT \"users_team_id_fkey\"")));
        assert_eq!(operations[9], "COMMIT");
        let created = table(None, &desired, None, &Guards::default(), &TableFacts::default());
        assert!(created.operations.iter().all(|o| !o.contains("NOT VALID")), "a new table has no rows to check");
    }

    #[test]
    fn column_settings_change_in_place_and_unset_ones_keep_the_live_value() {
        let mut live = column("ticket", "bigint");
        (live.identity, live.identity_start, live.identity_increment, live.storage) = (Some("always".into()), Some(1), Some(1), Some("main".into()));
        let prior = users(vec![live.clone(), column("code", "text")]);
        let unset = Column { identity_start: None, identity_increment: None, storage: None, ..live.clone() };
        assert_eq!(plan(&prior, &users(vec![unset, column("code", "text")])).action, Action::NoOp);

        let wanted = Column { identity_increment: Some(5), storage: Some("external".into()), compression: Some("pglz".into()), ..live };
        let code = Column { collation: Some("C".into()), ..column("code", "text") };
        let changed = plan(&prior, &users(vec![wanted, code]));
        let users = "ALTER TABLE \"public\".\"users\" ALTER COLUMN";
        assert_eq!(
            changed.operations,
            [
                format!("{users} \"ticket\" SET STORAGE external"),
                format!("{users} \"ticket\" SET COMPRESSION pglz"),
                format!("{users} \"ticket\" SET INCREMENT BY 5"),
                format!("{users} \"code\" TYPE text COLLATE \"C\""),
            ]
        );
        assert!(changed.locking[0].contains("to change the collation of column code from the type's default to C"), "{:?}", changed.locking);
    }

    #[test]
    fn a_generation_change_drops_and_adds_the_column_and_what_is_on_it() {
        let generated = |expression: &str| Column { generated: Some(expression.into()), ..column("total", "numeric") };
        let mut prior = users(vec![column("price", "numeric"), generated("(price * 2)")]);
        prior.indexes.push(Index { name: "users_total".into(), columns: vec!["total".into()], unique: false, using: "btree".into(), predicate: None, include: vec![], nulls_not_distinct: false, with: Default::default(), comment: None });
        let mut desired = prior.clone();
        desired.columns[2] = generated("(price * 3)");
        let regenerated = table(Some(&prior), &desired, Some(&desired), &Guards::default(), &TableFacts::default());
        assert_eq!(regenerated.operations[0], "ALTER TABLE \"public\".\"users\" DROP COLUMN \"total\"");
        assert!(regenerated.operations[1].ends_with("ADD COLUMN \"total\" numeric GENERATED ALWAYS AS ((price * 3)) STORED"), "{:?}", regenerated.operations);
        assert!(regenerated.operations[2].starts_with("CREATE INDEX \"users_total\""), "the index goes with the column: {:?}", regenerated.operations);
        assert!(regenerated.data_loss.is_empty() && regenerated.locking[0].contains("to drop generated column total and add it again"));
        assert!(regenerated.warnings[0].contains("cannot change a generation expression in place"));
        assert!(plan(&prior, &desired).operations.is_empty(), "without a shadow the spellings cannot be compared: {:?}", plan(&prior, &desired).operations);

        desired.columns[2] = column("total", "numeric");
        assert_eq!(plan(&prior, &desired).operations, ["ALTER TABLE \"public\".\"users\" ALTER COLUMN \"total\" DROP EXPRESSION"]);
        let made_generated = plan(&desired, &prior);
        assert_eq!(made_generated.data_loss, ["drops column public.users.total and the data in it, to add it again generated from its expression"]);
    }

    #[test]
    fn validation_is_declared_one_way_and_a_foreign_keys_timing_changes_in_place() {
        let check = |validated| Check { name: "users_age_check".into(), expression: "age >= 0".into(), validated };
        let fk = |validated, deferrable| ForeignKey { match_type: "FULL".into(), deferral: Deferral { deferrable, initially_deferred: false }, validated, ..team_key() };
        let with = |validated, deferrable| Table { checks: vec![check(validated)], foreign_keys: vec![fk(validated, deferrable)], ..users(vec![column("age", "integer"), column("team_id", "integer")]) };
        let added = plan(&users(vec![column("age", "integer"), column("team_id", "integer")]), &with(false, false));
        assert!(added.operations.iter().all(|o| !o.contains("VALIDATE")) && added.operations[1].contains("MATCH FULL"), "{:?}", added.operations);
        assert_eq!(plan(&with(true, false), &with(false, false)).action, Action::NoOp, "a validated constraint is never unvalidated");
        let validated = plan(&with(false, false), &with(true, false));
        assert!(validated.operations.iter().all(|o| o.contains("VALIDATE CONSTRAINT")) && validated.operations.len() == 2, "{:?}", validated.operations);
        assert_eq!(plan(&with(true, false), &with(true, true)).operations, ["ALTER TABLE \"public\".\"users\" ALTER CONSTRAINT \"users_team_id_fkey\" DEFERRABLE INITIALLY IMMEDIATE"]);
    }

    #[test]
    fn renames_are_done_in_place() {
        let prior = users(vec![column("mail", "text")]);
        let mut desired = users(vec![column("email", "character varying(320)")]);
        desired.name = "accounts".into();
        desired.columns[1].renamed_from = Some("mail".into());
        let renamed = plan(&prior, &desired);
        assert_eq!(renamed.action, Action::Update);
        assert_eq!(
            renamed.operations,
            [
                "ALTER TABLE \"public\".\"users\" RENAME TO \"accounts\"",
                "ALTER INDEX IF EXISTS \"public\".\"users_pkey\" RENAME TO \"accounts_pkey\"",
                "ALTER TABLE \"public\".\"accounts\" RENAME COLUMN \"mail\" TO \"email\"",
                "ALTER TABLE \"public\".\"accounts\" ALTER COLUMN \"email\" TYPE character varying(320) USING \"email\"::character varying(320)",
            ]
        );
        assert_eq!(
            renamed.data_loss,
            ["changes column public.accounts.email from text to character varying(320): it is not a cast known to keep every value: values may be rounded, cut or refused"]
        );
        // Once renamed, renamed_from names no live column and changes nothing.
        let mut live = desired.clone();
        live.columns[1].renamed_from = None;
        assert_eq!(plan(&live, &desired).action, Action::NoOp);
    }

    #[test]
    fn an_exclusion_follows_its_renamed_column() {
        let exclusion = |column: &str| crate::model::Exclusion {
            name: "users_no_overlap".into(),
            using: "gist".into(),
            elements: vec![format!("{column} WITH &&")],
            predicate: None,
            deferral: Deferral::default(),
        };
        let prior = Table { exclusions: vec![exclusion("period")], ..users(vec![column("period", "tstzrange")]) };
        let mut desired = Table { exclusions: vec![exclusion("during")], ..users(vec![column("during", "tstzrange")]) };
        desired.columns[1].renamed_from = Some("period".into());
        assert_eq!(plan(&prior, &desired).operations, ["ALTER TABLE \"public\".\"users\" RENAME COLUMN \"period\" TO \"during\""]);
    }

    #[test]
    fn constraints_named_after_a_renamed_table_are_renamed_with_it() {
        let mut prior = users(vec![column("email", "text")]);
        prior.uniques.push(Unique { name: "users_email_key".into(), columns: vec!["email".into()], deferral: Deferral::default() });
        let mut desired = prior.clone();
        desired.name = "accounts".into();
        desired.uniques[0].name = "accounts_email_key".into();
        let renamed = plan(&prior, &desired);
        assert_eq!(renamed.operations[2], "ALTER TABLE \"public\".\"accounts\" RENAME CONSTRAINT \"users_email_key\" TO \"accounts_email_key\"");
        assert_eq!(renamed.operations.len(), 3, "{:?}", renamed.operations);
        assert!(renamed.locking.is_empty(), "nothing is built again: {:?}", renamed.locking);
    }

    #[test]
    fn a_key_validated_while_its_table_is_renamed_is_renamed_then_validated() {
        let prior = Table { foreign_keys: vec![ForeignKey { validated: false, ..team_key() }], ..users(vec![column("team_id", "integer")]) };
        let desired = Table { name: "accounts".into(), foreign_keys: vec![ForeignKey { name: "accounts_team_id_fkey".into(), ..team_key() }], ..prior.clone() };
        let renamed = plan(&prior, &desired);
        assert_eq!(renamed.operations[2], "ALTER TABLE \"public\".\"accounts\" RENAME CONSTRAINT \"users_team_id_fkey\" TO \"accounts_team_id_fkey\"");
        assert!(renamed.operations[3].starts_with("ALTER TABLE \"public\".\"accounts\" VALIDATE CONSTRAINT \"accounts_team_id_fkey\""), "{:?}", renamed.operations);
        assert_eq!(renamed.operations.len(), 4, "{:?}", renamed.operations);
    }

    #[test]
    fn drops_copy_the_data_aside_when_asked() {
        let prior = users(vec![column("email", "text")]);
        let guards = Guards { backup_before_drop: true, ..Guards::default() };
        let dropped = table(Some(&prior), &users(vec![]), None, &guards, &TableFacts::default());
        assert_eq!(dropped.operations[0], "CREATE SCHEMA IF NOT EXISTS \"strata_backup\"");
        assert!(dropped.operations[1].contains(" AS SELECT \"id\", \"email\" FROM \"public\".\"users\""), "{:?}", dropped.operations);
        assert_eq!(dropped.operations[2], "ALTER TABLE \"public\".\"users\" DROP COLUMN \"email\"");
        assert_eq!(dropped.backups.len(), 1);
        assert!(dropped.operations[1].contains(dropped.backups[0].split_whitespace().nth(1).unwrap().trim_start_matches("strata_backup.")));

        let deleted = plan_delete("postgres_table", &prior.to_value(), &guards).unwrap();
        assert_eq!(deleted.operations[0], "SET LOCAL lock_timeout = '5s'");
        assert!(deleted.operations[2].ends_with(" AS TABLE \"public\".\"users\""), "{:?}", deleted.operations);
        assert_eq!(deleted.operations[3], "DROP TABLE \"public\".\"users\"");
        assert_eq!(deleted.backups.len(), 1);
        assert!(plan_delete("postgres_table", &prior.to_value(), &Guards::default()).unwrap().backups.is_empty());
    }

    #[test]
    fn row_level_security_and_owner_change_in_place_and_unset_keeps_the_live_ones() {
        use crate::model::RowSecurity;
        let live = Table { owner: Some("app".into()), row_level_security: Some(RowSecurity::default()), ..users(vec![]) };
        let unset = plan(&live, &users(vec![]));
        assert_eq!(unset.action, Action::NoOp);
        assert_eq!(Table::from_value(&unset.planned).unwrap().owner.as_deref(), Some("app"));
        let secured = Table { owner: Some("ml_owner".into()), row_level_security: Some(RowSecurity { enabled: true, force: true }), ..users(vec![]) };
        let planned = plan(&live, &secured);
        assert_eq!(
            planned.operations,
            [
                "ALTER TABLE \"public\".\"users\" OWNER TO \"ml_owner\"",
                "ALTER TABLE \"public\".\"users\" ENABLE ROW LEVEL SECURITY",
                "ALTER TABLE \"public\".\"users\" FORCE ROW LEVEL SECURITY"
            ]
        );
        assert!(planned.data_loss.is_empty(), "enabling RLS hides rows but loses none");
        assert!(planned.locking[0].contains("ACCESS EXCLUSIVE"), "{:?}", planned.locking);
        assert!(planned.warnings.iter().any(|w| w.contains("only the rows a policy allows")), "{:?}", planned.warnings);
        let off = Table { row_level_security: Some(RowSecurity::default()), ..users(vec![]) };
        assert_eq!(
            plan(&secured, &off).operations,
            ["ALTER TABLE \"public\".\"users\" DISABLE ROW LEVEL SECURITY", "ALTER TABLE \"public\".\"users\" NO FORCE ROW LEVEL SECURITY"]
        );
        let created = table(None, &secured, None, &Guards::default(), &TableFacts::default());
        assert_eq!(created.operations[1..], planned.operations[..]);
        let unset_create = table(None, &users(vec![]), None, &Guards::default(), &TableFacts::default());
        assert_eq!((unset_create.planned.get("owner"), unset_create.planned.get("row_level_security")), (Some(&Value::Unknown), Some(&Value::Unknown)));
    }

    #[test]
    fn row_level_security_keys_are_checked() {
        let with = |rls: Value| Table::from_value(&Value::object([("name", Value::from("t")), ("row_level_security", rls)]));
        let parsed = with(Value::object([("enabled", Value::Bool(true))])).unwrap();
        assert_eq!(parsed.row_level_security, Some(crate::model::RowSecurity { enabled: true, force: false }));
        let typo = with(Value::object([("enabeld", Value::Bool(true))])).unwrap_err();
        assert!(typo.message.contains("enabeld") && typo.hint.as_deref().is_some_and(|h| h.contains("\"enabled\"")), "{typo:?}");
        assert_eq!(Table::from_value(&parsed.to_value()).unwrap(), parsed);
    }

    #[test]
    fn schema_policies_grant_and_revoke_one_privilege_at_a_time() {
        use crate::model::Grant;
        let with = |policies: &[(&str, SchemaPrivileges)]| Schema { name: "ml".into(), policies: policies.iter().map(|(r, p)| ((*r).to_owned(), *p)).collect(), ..Schema::default() };
        let usage = SchemaPrivileges { usage: Grant::Held, create: Grant::None };
        let all = SchemaPrivileges { usage: Grant::WithGrantOption, create: Grant::Held };
        let created = schema(None, &with(&[("analyst", usage)]));
        assert_eq!(created.operations, ["CREATE SCHEMA \"ml\"", "GRANT USAGE ON SCHEMA \"ml\" TO \"analyst\""]);
        let changed = schema(Some(&with(&[("analyst", all), ("public", usage)])), &with(&[("analyst", usage)]));
        assert_eq!(
            changed.operations,
            ["REVOKE GRANT OPTION FOR USAGE ON SCHEMA \"ml\" FROM \"analyst\"", "REVOKE CREATE ON SCHEMA \"ml\" FROM \"analyst\"", "REVOKE USAGE ON SCHEMA \"ml\" FROM PUBLIC"]
        );
        assert_eq!(schema(Some(&with(&[("analyst", usage)])), &with(&[("analyst", usage)])).action, Action::NoOp);
        let value = Value::object([
            ("name", Value::from("ml")),
            ("drop_cascade", Value::Bool(true)),
            ("policy", Value::List(vec![Value::object([("role", Value::from("PUBLIC")), ("create_with_grant", Value::Bool(true))])])),
        ]);
        let parsed = Schema::from_value(&value).unwrap();
        assert_eq!(parsed.policies["public"], SchemaPrivileges { usage: Grant::None, create: Grant::WithGrantOption });
        assert_eq!(Schema::from_value(&parsed.to_value()).unwrap(), parsed);
        let deleted = plan_delete("postgres_schema", &parsed.to_value(), &Guards::default()).unwrap();
        assert_eq!(deleted.operations.last().map(String::as_str), Some("DROP SCHEMA \"ml\" CASCADE"));
        assert_eq!(deleted.data_loss.len(), 1);
        let live = Schema { policies: [("public".to_owned(), usage), ("someone".to_owned(), all)].into(), ..Schema::default() };
        assert_eq!(live.managed_view(&parsed).policies.keys().collect::<Vec<_>>(), ["public"], "a role strata was not told of keeps its grants");
    }

    #[test]
    fn enum_owner_is_set_only_when_configured() {
        let live = Enum { owner: Some("app".into()), ..status(&["a"]) };
        assert_eq!(enumeration(Some(&live), &status(&["a"])).action, Action::NoOp);
        let owned = Enum { owner: Some("ml".into()), ..status(&["a"]) };
        assert_eq!(enumeration(Some(&live), &owned).operations, ["ALTER TYPE \"public\".\"status\" OWNER TO \"ml\""]);
    }
}
