//! `postgres_sequence`: a sequence from `pg_sequence` (those behind identity columns left out:
//! their column owns them), changed in place by `ALTER SEQUENCE`. Defaults the configuration leaves
//! out are PostgreSQL's own, worked out here so a plan is complete before the sequence exists.

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{in_place, with_comment, opt, relation_row, replacement, required, schema_of, AuthorshipRow, Object};
use crate::ddl::{ident, qualified, qualified_ref};
use crate::normalize::type_alias;

const TYPES: &[&str] = &["smallint", "integer", "bigint", "int2", "int4", "int8", "int"];

#[derive(Clone, Debug, PartialEq)]
pub struct Sequence {
    pub schema: String,
    pub name: String,
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min_value: i64,
    pub max_value: i64,
    pub cache: i64,
    pub cycle: bool,
    /// `schema.table.column`.
    pub owned_by: Option<String>,
    pub comment: Option<String>,
}

/// The largest value of an integer type.
fn type_max(data_type: &str) -> i64 {
    match data_type {
        "smallint" => i16::MAX.into(),
        "integer" => i32::MAX.into(),
        _ => i64::MAX,
    }
}

fn type_min(data_type: &str) -> i64 {
    match data_type {
        "smallint" => i16::MIN.into(),
        "integer" => i32::MIN.into(),
        _ => i64::MIN,
    }
}

/// `table.column` or `schema.table.column` as `schema.table.column`.
fn owner(reference: &str) -> String {
    let unquoted = reference.replace('"', "");
    match unquoted.matches('.').count() {
        1 => format!("public.{unquoted}"),
        _ => unquoted,
    }
}

impl Sequence {
    fn sql_name(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    fn owned_by_sql(&self) -> String {
        match self.owned_by.as_deref().and_then(|o| o.rsplit_once('.')) {
            Some((table, column)) => format!("OWNED BY {}.{}", qualified_ref(table), ident(column)),
            None => "OWNED BY NONE".to_owned(),
        }
    }

    /// The clauses that give each setting in `differs` its value.
    fn clauses(&self, differs: [bool; 8]) -> Vec<String> {
        let cycle = if self.cycle { "CYCLE" } else { "NO CYCLE" };
        let all = [
            format!("AS {}", self.data_type),
            format!("INCREMENT BY {}", self.increment),
            format!("MINVALUE {}", self.min_value),
            format!("MAXVALUE {}", self.max_value),
            format!("START WITH {}", self.start),
            format!("CACHE {}", self.cache),
            cycle.to_owned(),
            self.owned_by_sql(),
        ];
        all.into_iter().zip(differs).filter(|(_, d)| *d).map(|(clause, _)| clause).collect()
    }

    fn settings(&self) -> (&str, i64, i64, i64, i64, i64, bool, Option<&str>) {
        (&self.data_type, self.increment, self.min_value, self.max_value, self.start, self.cache, self.cycle, self.owned_by.as_deref())
    }

}

#[async_trait]
impl Object for Sequence {
    const TYPE: &'static str = "postgres_sequence";
    const IMPORT_ID: &'static str = "schema.name, or name for one in public";
    const OWNED: bool = true;
    const NAMING: crate::order::Naming = crate::order::Naming::InSchema { made: "relation", kind: "sequence" };

    fn schema() -> ResourceSchema {
        ResourceSchema {
            periodic: false,
            description: "A sequence, changed in place by ALTER SEQUENCE.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("default public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("as", A::optional_computed(Type::String).one_of_keywords(TYPES).describe("smallint, integer or bigint, default bigint"))
                .attribute("start", A::optional_computed(Type::Number).describe("default min_value (max_value when counting down)"))
                .attribute("increment", A::optional_computed(Type::Number).describe("default 1"))
                .attribute("min_value", A::optional_computed(Type::Number))
                .attribute("max_value", A::optional_computed(Type::Number))
                .attribute("cache", A::optional_computed(Type::Number).describe("default 1"))
                .attribute("cycle", A::optional_computed(Type::Bool).describe("start again after the last value, default false"))
                .attribute("owned_by", A::optional(Type::String).describe("schema.table.column: the sequence is dropped with the column"))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        format!(
            "SELECT n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle, \
             (SELECT dn.nspname || '.' || dc.relname || '.' || a.attname FROM pg_depend d JOIN pg_class dc ON dc.oid = d.refobjid \
              JOIN pg_namespace dn ON dn.oid = dc.relnamespace JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
              WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' LIMIT 1), \
             obj_description(c.oid, 'pg_class'), pg_get_userbyid(c.relowner) \
             FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind = 'S' AND {condition} \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'i')"
        )
    }

    fn from_row(row: &Row) -> Sequence {
        Sequence {
            schema: row.get(0),
            name: row.get(1),
            data_type: row.get(2),
            start: row.get(3),
            increment: row.get(4),
            min_value: row.get(5),
            max_value: row.get(6),
            cache: row.get(7),
            cycle: row.get(8),
            owned_by: row.get(9),
            comment: row.get(10),
        }
    }

    fn from_value(value: &Value) -> Result<Sequence, ProviderError> {
        let data_type = type_alias(value.get_str("as").unwrap_or("bigint"));
        let increment = value.get_i64("increment").unwrap_or(1);
        if increment == 0 {
            return Err(ProviderError::new("postgres_sequence increment must not be 0"));
        }
        let ascending = increment > 0;
        let min_value = value.get_i64("min_value").unwrap_or(if ascending { 1 } else { type_min(&data_type) });
        let max_value = value.get_i64("max_value").unwrap_or(if ascending { type_max(&data_type) } else { -1 });
        Ok(Sequence {
            schema: schema_of(value),
            name: required(value, "name", "postgres_sequence")?,
            start: value.get_i64("start").unwrap_or(if ascending { min_value } else { max_value }),
            data_type,
            increment,
            min_value,
            max_value,
            cache: value.get_i64("cache").unwrap_or(1),
            cycle: value.get_bool("cycle").unwrap_or(false),
            owned_by: value.get_str("owned_by").map(owner),
            comment: value.get_str("comment").map(str::to_owned),
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("as", Value::from(self.data_type.as_str())),
            ("start", Value::int(self.start)),
            ("increment", Value::int(self.increment)),
            ("min_value", Value::int(self.min_value)),
            ("max_value", Value::int(self.max_value)),
            ("cache", Value::int(self.cache)),
            ("cycle", Value::Bool(self.cycle)),
            ("owned_by", opt(self.owned_by.as_deref())),
            ("comment", opt(self.comment.as_deref())),
            ("id", Value::from(self.id())),
        ])
    }

    fn id(&self) -> String {
        format!("{}.{}", self.schema, self.name)
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn commented(&self) -> String {
        format!("SEQUENCE {}", self.sql_name())
    }

    fn create(&self) -> Vec<String> {
        let mut create = vec![format!("CREATE SEQUENCE {}", self.sql_name())];
        create.extend(self.clauses([true, true, true, true, true, true, true, self.owned_by.is_some()]));
        with_comment(self, vec![create.join(" ")])
    }

    fn change(prior: &Sequence, desired: &Sequence, _normalized: Option<&Sequence>) -> PlannedChange {
        if (&prior.schema, &prior.name) != (&desired.schema, &desired.name) {
            let mut planned = replacement(prior, desired, vec![if prior.schema != desired.schema { "schema" } else { "name" }.to_owned()]);
            planned.data_loss = prior.drop_loses();
            return planned;
        }
        let (before, after) = (prior.settings(), desired.settings());
        let differs = [before.0 != after.0, before.1 != after.1, before.2 != after.2, before.3 != after.3, before.4 != after.4, before.5 != after.5, before.6 != after.6, before.7 != after.7];
        let clauses = desired.clauses(differs);
        let mut operations = Vec::new();
        if !clauses.is_empty() {
            operations.push(format!("ALTER SEQUENCE {} {}", desired.sql_name(), clauses.join(" ")));
        }
        in_place(prior, desired, desired, operations)
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP SEQUENCE {}", self.sql_name())]
    }

    fn drop_loses(&self) -> Vec<String> {
        vec![format!("drops sequence {} and its current value: numbers would start again at {}", self.id(), self.start)]
    }

    fn authorship(&self) -> AuthorshipRow {
        relation_row(&self.schema, &self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::Action;

    fn run_number(pairs: &[(&str, Value)]) -> Sequence {
        let mut value = Value::object([("name", Value::from("run_number"))]);
        for (key, v) in pairs {
            value.set(key, v.clone());
        }
        Sequence::from_value(&value).unwrap()
    }

    #[test]
    fn defaults_are_postgres_own() {
        let up = run_number(&[("as", Value::from("int4"))]);
        assert_eq!((up.data_type.as_str(), up.start, up.min_value, up.max_value), ("integer", 1, 1, i64::from(i32::MAX)));
        let down = run_number(&[("increment", Value::int(-1))]);
        assert_eq!((down.start, down.min_value, down.max_value), (-1, i64::MIN, -1));
        assert_eq!(
            run_number(&[("owned_by", Value::from("runs.run_number"))]).create(),
            ["CREATE SEQUENCE \"public\".\"run_number\" AS bigint INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1 NO CYCLE OWNED BY \"public\".\"runs\".\"run_number\""]
        );
    }

    #[test]
    fn changes_alter_only_what_differs() {
        let live = run_number(&[]);
        let changed = Sequence::change(&live, &run_number(&[("cache", Value::int(20)), ("increment", Value::int(5))]), None);
        assert_eq!(changed.operations, ["ALTER SEQUENCE \"public\".\"run_number\" INCREMENT BY 5 CACHE 20"]);
        assert_eq!(Sequence::change(&live, &run_number(&[]), None).action, Action::NoOp);
        assert_eq!(live.drop_loses(), ["drops sequence public.run_number and its current value: numbers would start again at 1"]);
    }
}
