//! Reading live objects from `pg_catalog`.
//!
//! A [`Snapshot`] of a whole database takes a fixed number of queries (one per kind of object),
//! however many tables there are. The same readers read a single relation (the shadow table used to
//! normalise a desired definition, see `normalize`), so live and desired objects are always
//! compared in the form PostgreSQL itself prints.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Row};

use crate::config::describe_error;
use crate::lock_holders;
use crate::model::{Check, Column, Deferral, Enum, Exclusion, Extension, ForeignKey, Index, RowSecurity, Schema, SchemaPrivileges, Table, TableIndex, Unique};
use strata_provider_sdk::{ProviderError, Value};

/// Which relations a read covers.
#[derive(Clone, Copy)]
pub enum Scope<'a> {
    /// Every table in every user schema.
    Database,
    /// One relation, by name as `regclass` reads it (e.g. `pg_temp.strata_shadow`).
    Relation(&'a str),
}

impl Scope<'_> {
    /// A condition on the relation alias `c` and its namespace `n`.
    fn condition(&self) -> String {
        match self {
            Scope::Database => USER_SCHEMAS.to_owned(),
            Scope::Relation(name) => format!("c.oid = '{}'::regclass", name.replace('\'', "''")),
        }
    }
}

pub(crate) const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'";

/// The live objects of one database.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub schemas: BTreeMap<String, Schema>,
    pub extensions: BTreeMap<String, Extension>,
    pub enums: BTreeMap<String, Enum>,
    /// Tables by `schema.name`, with every index that does not back a constraint.
    pub tables: BTreeMap<String, Table>,
    /// Every index that does not back a constraint, by `schema.name`.
    pub indexes: BTreeMap<String, TableIndex>,
    /// The objects of each kind in `objects` (views, functions, ...), by type name and then id.
    pub objects: BTreeMap<&'static str, BTreeMap<String, Value>>,
}

/// How many queries [`Snapshot::read_wanted`] runs, whatever the size of the database, when no
/// cluster-wide object (role, database) is wanted.
pub const SNAPSHOT_QUERIES: usize = 7 + crate::objects::KINDS.len();

/// A connection to read the catalog through, counting the queries it runs.
pub struct Catalog<'a> {
    pub client: &'a Client,
    pub queries: &'a AtomicUsize,
    /// Where a read of roles leaves their live password verifiers (process memory only).
    pub passwords: &'a crate::objects::role::Passwords,
    /// Whether to read `pg_authid`'s verifiers at all: the provider block's `superuser = false`
    /// says the role cannot, so strata does not try.
    pub superuser: bool,
}

pub(crate) async fn query(catalog: &Catalog<'_>, sql: &str) -> Result<Vec<Row>, ProviderError> {
    catalog.queries.fetch_add(1, Ordering::Relaxed);
    // Unprepared: one round trip, where preparing a statement used once would take two.
    match catalog.client.query_typed(sql, &[]).await {
        Ok(rows) => Ok(rows),
        Err(err) if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => Err(read_behind_a_lock(catalog.client, &err).await),
        Err(err) => Err(ProviderError::new(format!("reading the catalog failed: {}", describe_error(&err)))),
    }
}

/// A read that gave up waiting (every session waits at most `lock_timeout`): what held it up.
pub(crate) async fn read_behind_a_lock(client: &Client, err: &tokio_postgres::Error) -> ProviderError {
    let message = format!("reading the catalog failed: {}", describe_error(err));
    match lock_holders::describe(client, None).await {
        Some(holders) => ProviderError::new(format!("{message}: waiting for a lock {}", holders.held_by)).with_hint(holders.hint()),
        None => ProviderError::new(message).with_hint("another session held a lock on a table strata reads; run strata again, or raise lock_timeout in the provider \"postgres\" block"),
    }
}

impl Snapshot {
    /// The database's objects and the cluster-wide ones `wanted` names (one more query per
    /// cluster-wide kind with something wanted).
    pub async fn read_wanted(client: &Catalog<'_>, wanted: &crate::objects::Wanted) -> Result<Snapshot, ProviderError> {
        let acl = "ARRAY(SELECT CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee)::text END FROM aclexplode(n.nspacl) a ORDER BY a.grantee, a.privilege_type), \
                   ARRAY(SELECT a.privilege_type || CASE WHEN a.is_grantable THEN '+' ELSE '' END FROM aclexplode(n.nspacl) a ORDER BY a.grantee, a.privilege_type)";
        let schemas = query(client, &format!("SELECT n.nspname, pg_get_userbyid(n.nspowner), obj_description(n.oid, 'pg_namespace'), {acl} FROM pg_namespace n WHERE {USER_SCHEMAS}"))
            .await?
            .iter()
            .map(|row| (row.get::<_, String>(0), schema_of(row)))
            .collect();
        let extensions = query(client, "SELECT e.extname, n.nspname, e.extversion FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace")
            .await?
            .iter()
            .map(|row| (row.get::<_, String>(0), Extension { name: row.get(0), schema: Some(row.get(1)), version: Some(row.get(2)) }))
            .collect();
        let enums = query(
            client,
            &format!(
                "SELECT n.nspname, t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder), obj_description(t.oid, 'pg_type'), pg_get_userbyid(t.typowner) FROM pg_type t \
                 JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {USER_SCHEMAS} GROUP BY n.nspname, t.typname, t.oid, t.typowner"
            ),
        )
        .await?
        .iter()
        .map(|row| {
            let found = Enum { schema: row.get(0), name: row.get(1), values: row.get(2), comment: row.get(3), owner: Some(row.get(4)) };
            (found.id(), found)
        })
        .collect();
        let (tables, indexes) = read_tables(client, Scope::Database).await?;
        let mut objects = crate::objects::read_all(client).await?;
        objects.extend(crate::objects::read_cluster(client, wanted).await?);
        Ok(Snapshot { schemas, extensions, enums, tables, indexes, objects })
    }
}

/// A schema from its row: name, owner, comment, and its ACL as grantees and privileges.
fn schema_of(row: &Row) -> Schema {
    let grantees: Vec<String> = row.get(3);
    let privileges: Vec<String> = row.get(4);
    let mut by_role: BTreeMap<String, Vec<(&str, bool)>> = BTreeMap::new();
    for (grantee, privilege) in grantees.into_iter().zip(&privileges) {
        let grantable = privilege.ends_with('+');
        by_role.entry(grantee).or_default().push((privilege.trim_end_matches('+'), grantable));
    }
    Schema {
        name: row.get(0),
        owner: Some(row.get(1)),
        comment: row.get(2),
        policies: by_role.into_iter().map(|(role, entries)| (role, SchemaPrivileges::from_acl(entries))).collect(),
        ..Schema::default()
    }
}

/// Tables (with columns, keys, checks and indexes) and standalone-style index records for `scope`:
/// four queries.
pub async fn read_tables(client: &Catalog<'_>, scope: Scope<'_>) -> Result<(BTreeMap<String, Table>, BTreeMap<String, TableIndex>), ProviderError> {
    let condition = scope.condition();
    let mut tables: BTreeMap<u32, Table> = BTreeMap::new();
    let table_rows = query(
        client,
        &format!(
            "SELECT c.oid, n.nspname, c.relname, obj_description(c.oid, 'pg_class'), \
             CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END, \
             (SELECT pn.nspname || '.' || p.relname FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace WHERE c.relispartition AND i.inhrelid = c.oid), \
             CASE WHEN c.relispartition THEN pg_get_expr(c.relpartbound, c.oid) END, \
             pg_get_userbyid(c.relowner), c.relrowsecurity, c.relforcerowsecurity, \
             EXISTS (SELECT 1 FROM aclexplode(c.relacl) acl WHERE acl.grantee = 0 AND acl.privilege_type = 'SELECT') \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p') AND {condition}"
        ),
    )
    .await?;
    for row in &table_rows {
        tables.insert(
            row.get(0),
            Table {
                schema: row.get(1),
                name: row.get(2),
                comment: row.get(3),
                partitioning: crate::partitions::Partitioning::from_catalog(row.get(4), row.get(5), row.get(6)),
                owner: Some(row.get(7)),
                row_level_security: Some(RowSecurity { enabled: row.get(8), force: row.get(9) }),
                public_select: row.get(10),
                ..Table::default()
            },
        );
    }
    read_columns(client, &condition, &mut tables).await?;
    read_constraints(client, &condition, &mut tables).await?;
    let indexes = read_indexes(client, &condition, &mut tables).await?;
    Ok((tables.into_values().map(|t| (t.id(), t)).collect(), indexes))
}

/// Columns, with what `pg_attrdef` holds read as a default or, for a generated column, as its
/// expression; collation and storage only where they are not the type's; and the identity
/// sequence's start and increment, all in one query.
async fn read_columns(client: &Catalog<'_>, condition: &str, tables: &mut BTreeMap<u32, Table>) -> Result<(), ProviderError> {
    let rows = query(
        client,
        &format!(
            "SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid), \
             a.attidentity::text, col_description(a.attrelid, a.attnum), a.attgenerated::text, \
             CASE WHEN a.attcollation <> t.typcollation THEN co.collname::text END, a.attcompression::text, \
             CASE WHEN a.attstorage <> t.typstorage THEN a.attstorage::text END, s.seqstart, s.seqincrement FROM pg_attribute a \
             JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_collation co ON co.oid = a.attcollation \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             LEFT JOIN pg_depend dep ON a.attidentity <> '' AND dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass \
             AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' \
             LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid \
             WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND {condition} ORDER BY a.attrelid, a.attnum"
        ),
    )
    .await?;
    for row in rows {
        let Some(table) = tables.get_mut(&row.get::<_, u32>(0)) else { continue };
        let identity = match row.get::<_, String>(5).as_str() {
            "a" => Some("always".to_owned()),
            "d" => Some("by default".to_owned()),
            _ => None,
        };
        let expression: Option<String> = row.get(4);
        let generated = row.get::<_, String>(7) == "s";
        table.columns.push(Column {
            name: row.get(1),
            type_name: row.get(2),
            nullable: !row.get::<_, bool>(3),
            default: expression.clone().filter(|_| !generated),
            identity,
            identity_start: row.get(11),
            identity_increment: row.get(12),
            generated: expression.filter(|_| generated),
            collation: row.get(8),
            compression: compression_word(&row.get::<_, String>(9)),
            storage: row.get::<_, Option<String>>(10).as_deref().and_then(storage_word),
            comment: row.get(6),
            renamed_from: None,
            sensitive: false,
        });
    }
    Ok(())
}

fn compression_word(code: &str) -> Option<String> {
    match code {
        "p" => Some("pglz".into()),
        "l" => Some("lz4".into()),
        _ => None,
    }
}

fn storage_word(code: &str) -> Option<String> {
    let word = match code {
        "p" => "plain",
        "e" => "external",
        "x" => "extended",
        "m" => "main",
        _ => return None,
    };
    Some(word.to_owned())
}

/// Keys, checks, foreign keys and exclusion constraints (an exclusion's elements from its index's
/// columns and `conexclop`, its method and predicate from its index), in one query.
async fn read_constraints(client: &Catalog<'_>, condition: &str, tables: &mut BTreeMap<u32, Table>) -> Result<(), ProviderError> {
    let names = |keys: &str, rel: &str| {
        format!("ARRAY(SELECT a.attname::text FROM unnest({keys}) WITH ORDINALITY k(num, ord) JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.num ORDER BY k.ord)")
    };
    let rows = query(
        client,
        &format!(
            "SELECT con.conrelid, con.conname, con.contype::text, pg_get_constraintdef(con.oid, true), {}, \
             rn.nspname || '.' || rc.relname, {}, con.confdeltype::text, con.confupdtype::text, \
             con.condeferrable, con.condeferred, con.convalidated, con.confmatchtype::text, \
             ARRAY(SELECT pg_get_indexdef(con.conindid, e.k::int, true) || ' WITH ' || o.oprname::text \
                   FROM unnest(con.conexclop) WITH ORDINALITY e(op, k) JOIN pg_operator o ON o.oid = e.op ORDER BY e.k), \
             (SELECT am.amname::text FROM pg_class ic JOIN pg_am am ON am.oid = ic.relam WHERE ic.oid = con.conindid AND con.contype = 'x'), \
             (SELECT pg_get_expr(i.indpred, i.indrelid, true) FROM pg_index i WHERE i.indexrelid = con.conindid AND con.contype = 'x') \
             FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             LEFT JOIN pg_class rc ON rc.oid = con.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace \
             WHERE con.contype IN ('p', 'u', 'c', 'f', 'x') AND {condition} ORDER BY con.conrelid, con.conname",
            names("con.conkey", "con.conrelid"),
            names("con.confkey", "con.confrelid"),
        ),
    )
    .await?;
    for row in rows {
        let Some(table) = tables.get_mut(&row.get::<_, u32>(0)) else { continue };
        let name: String = row.get(1);
        let columns: Vec<String> = row.get(4);
        let deferral = Deferral { deferrable: row.get(9), initially_deferred: row.get(10) };
        let validated: bool = row.get(11);
        match row.get::<_, String>(2).as_str() {
            "p" => table.primary_key = columns,
            "u" => table.uniques.push(Unique { name, columns, deferral }),
            "c" => table.checks.push(Check { name, expression: check_expression(&row.get::<_, String>(3)), validated }),
            "x" => table.exclusions.push(Exclusion { name, using: row.get::<_, Option<String>>(14).unwrap_or_default(), elements: row.get(13), predicate: row.get(15), deferral }),
            _ => table.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: row.get(5),
                ref_columns: row.get(6),
                on_delete: action_word(&row.get::<_, String>(7)),
                on_update: action_word(&row.get::<_, String>(8)),
                match_type: if row.get::<_, String>(12) == "f" { "FULL".into() } else { "SIMPLE".into() },
                deferral,
                validated,
            }),
        }
    }
    Ok(())
}

/// `CHECK ((price > 0))` as the expression inside.
pub(crate) fn check_expression(definition: &str) -> String {
    let body = definition.trim_end_matches(" NOT VALID").trim();
    body.strip_prefix("CHECK (").and_then(|rest| rest.strip_suffix(')')).unwrap_or(body).to_owned()
}

fn action_word(code: &str) -> String {
    match code {
        "r" => "RESTRICT",
        "c" => "CASCADE",
        "n" => "SET NULL",
        "d" => "SET DEFAULT",
        _ => "NO ACTION",
    }
    .to_owned()
}

/// Per key column, what `pg_get_indexdef(oid, k, true)` leaves out: ` COLLATE x` when the index's
/// collation is not the column's (the database default for an expression), and the operator class
/// when it is not the default one for its type and method. PostgreSQL's own spelling: quoted
/// where needed, qualified when not on the search path.
const KEY_DECORATIONS: &str = "ARRAY(SELECT concat(\
     CASE WHEN i.indcollation[k - 1] <> 0 AND i.indcollation[k - 1] <> coalesce(a.attcollation, 100) THEN ' COLLATE ' || i.indcollation[k - 1]::regcollation::text END, \
     CASE WHEN NOT oc.opcdefault THEN ' ' || CASE WHEN pg_opclass_is_visible(oc.oid) THEN '' ELSE quote_ident(ocn.nspname) || '.' END || quote_ident(oc.opcname) END) \
     FROM generate_series(1, i.indnkeyatts) k LEFT JOIN pg_opclass oc ON oc.oid = i.indclass[k - 1] LEFT JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace \
     LEFT JOIN pg_attribute a ON i.indkey[k - 1] <> 0 AND a.attrelid = i.indrelid AND a.attnum = i.indkey[k - 1] ORDER BY k)";

async fn read_indexes(client: &Catalog<'_>, condition: &str, tables: &mut BTreeMap<u32, Table>) -> Result<BTreeMap<String, TableIndex>, ProviderError> {
    // The constraint lookup names `conrelid`, which pg_constraint has an index on (none on
    // `conindid`): without it, reading one table's indexes scans every constraint in the database.
    // `indnullsnotdistinct` is read through to_jsonb: servers before PostgreSQL 15 have no such
    // column, and read it as false.
    let rows = query(
        client,
        &format!(
            "SELECT i.indrelid, n.nspname, ic.relname, am.amname, i.indisunique, i.indisvalid, i.indnkeyatts::int, \
             pg_get_expr(i.indpred, i.indrelid, true), \
             ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true) FROM generate_series(1, i.indnatts) k ORDER BY k), \
             ARRAY(SELECT o::int FROM unnest(i.indoption) o), n.nspname || '.' || c.relname, {KEY_DECORATIONS}, \
             coalesce(ic.reloptions, '{{}}'), obj_description(ic.oid, 'pg_class'), coalesce((to_jsonb(i) ->> 'indnullsnotdistinct')::boolean, false) \
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_am am ON am.oid = ic.relam \
             WHERE {condition} AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conrelid = i.indrelid AND con.conindid = i.indexrelid AND con.contype IN ('p', 'u', 'x')) \
             ORDER BY i.indrelid, ic.relname"
        ),
    )
    .await?;
    let mut standalone = BTreeMap::new();
    for row in rows {
        let key_count = usize::try_from(row.get::<_, i32>(6)).unwrap_or(0);
        let definitions: Vec<String> = row.get(8);
        let options: Vec<i32> = row.get(9);
        let decorations: Vec<String> = row.get(11);
        let columns = definitions
            .iter()
            .take(key_count)
            .enumerate()
            .map(|(k, column)| with_ordering(&format!("{column}{}", decorations.get(k).map_or("", String::as_str)), options.get(k).copied().unwrap_or(0)))
            .collect();
        let index = Index {
            name: row.get(2),
            columns,
            unique: row.get(4),
            using: row.get(3),
            predicate: row.get(7),
            include: definitions.iter().skip(key_count).cloned().collect(),
            with: storage_parameters(&row.get::<_, Vec<String>>(12)),
            nulls_not_distinct: row.get(14),
            comment: row.get(13),
        };
        let schema: String = row.get(1);
        let record = TableIndex { schema: schema.clone(), table: row.get(10), index: index.clone(), concurrently: false, valid: row.get(5) };
        standalone.insert(record.id(), record);
        if let Some(table) = tables.get_mut(&row.get::<_, u32>(0)) {
            table.indexes.push(index);
        }
    }
    Ok(standalone)
}

/// `reloptions` (`{fillfactor=70}`) as a map of parameter to value.
fn storage_parameters(reloptions: &[String]) -> BTreeMap<String, String> {
    reloptions.iter().filter_map(|option| option.split_once('=')).map(|(name, value)| (name.to_owned(), value.to_owned())).collect()
}

/// A key column with `DESC` / `NULLS FIRST|LAST` when they differ from the default.
fn with_ordering(column: &str, option: i32) -> String {
    let descending = option & 1 != 0;
    let nulls_first = option & 2 != 0;
    let mut text = column.to_owned();
    if descending {
        text.push_str(" DESC");
    }
    match (descending, nulls_first) {
        (false, true) => text.push_str(" NULLS FIRST"),
        (true, false) => text.push_str(" NULLS LAST"),
        _ => {}
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_definitions_lose_their_wrapper() {
        assert_eq!(check_expression("CHECK ((price > (0)::numeric))"), "(price > (0)::numeric)");
        assert_eq!(check_expression("CHECK (a > 1) NOT VALID"), "a > 1");
    }

    #[test]
    fn storage_parameters_are_read_as_a_map_of_text() {
        let read = storage_parameters(&["fillfactor=70".to_owned(), "fastupdate=false".to_owned()]);
        assert_eq!(read, BTreeMap::from([("fastupdate".to_owned(), "false".to_owned()), ("fillfactor".to_owned(), "70".to_owned())]));
    }

    #[test]
    fn index_ordering_is_spelled_only_when_not_default() {
        assert_eq!(with_ordering("ts", 0), "ts");
        assert_eq!(with_ordering("ts", 3), "ts DESC");
        assert_eq!(with_ordering("ts", 1), "ts DESC NULLS LAST");
    }
}
