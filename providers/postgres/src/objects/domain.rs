//! `postgres_domain`: a base type with a default, NOT NULL and named CHECK constraints. The desired
//! domain is put into PostgreSQL's spelling by creating it in `pg_temp`; a new base type or
//! collation replaces it (PostgreSQL cannot change them), anything else is `ALTER DOMAIN`.

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, NestedBlock, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{in_place, in_temp_schema, shadow_object, type_row, opt, replacement, required, schema_of, with_comment, AuthorshipRow, Object};
use crate::catalog::{check_expression, Catalog};
use crate::ddl::{ident, qualified};
use crate::model::Check;

const SHADOW: &str = "strata_shadow_domain";

#[derive(Clone, Debug, PartialEq)]
pub struct Domain {
    pub schema: String,
    pub name: String,
    pub base_type: String,
    pub default: Option<String>,
    pub not_null: bool,
    /// By name.
    pub checks: Vec<Check>,
    pub collation: Option<String>,
    pub comment: Option<String>,
}

impl Domain {
    fn sql_name(&self) -> String {
        qualified(&self.schema, &self.name)
    }

    fn definition(&self, name_sql: &str) -> String {
        let mut sql = format!("CREATE DOMAIN {name_sql} AS {}", self.base_type);
        if let Some(collation) = &self.collation {
            sql.push_str(&format!(" COLLATE {}", ident(collation)));
        }
        if let Some(default) = &self.default {
            sql.push_str(&format!(" DEFAULT {default}"));
        }
        if self.not_null {
            sql.push_str(" NOT NULL");
        }
        for check in &self.checks {
            sql.push_str(&format!(" CONSTRAINT {} CHECK ({})", ident(&check.name), check.expression));
        }
        sql
    }
}

/// Check names as PostgreSQL gives them to unnamed domain checks: `NAME_check`, `NAME_check1`...
fn named_checks(domain: &str, blocks: &[Value]) -> Result<Vec<Check>, ProviderError> {
    let mut unnamed = 0;
    let mut checks = blocks
        .iter()
        .map(|block| {
            let name = block.get_str("name").map(str::to_owned).unwrap_or_else(|| {
                let suffix = if unnamed == 0 { String::new() } else { unnamed.to_string() };
                unnamed += 1;
                crate::model::truncate_identifier(format!("{domain}_check{suffix}"))
            });
            Ok(Check { name, expression: required(block, "expression", "a check block")?, validated: true })
        })
        .collect::<Result<Vec<_>, ProviderError>>()?;
    checks.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(checks)
}

#[async_trait]
impl Object for Domain {
    const TYPE: &'static str = "postgres_domain";
    const IMPORT_ID: &'static str = "schema.name, or name for one in public";
    const OWNED: bool = true;
    const NAMING: crate::order::Naming = crate::order::Naming::InSchema { made: "type", kind: "type" };

    fn schema() -> ResourceSchema {
        let check = Block::new().attribute("name", A::optional_computed(Type::String)).attribute("expression", A::required(Type::String).describe("a condition on VALUE"));
        ResourceSchema {
            periodic: false,
            description: "A domain: a base type with a default, NOT NULL and CHECK constraints.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("default public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("type", A::required(Type::String).syntax(crate::type_syntax::TYPE_NAME).describe("the base type; a new one replaces the domain"))
                .attribute("default", A::optional(Type::String).describe("SQL expression"))
                .attribute("not_null", A::optional_computed(Type::Bool).describe("default false"))
                .attribute("collation", A::optional(Type::String))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String))
                .block("check", NestedBlock::list(check)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        let checks = |what: &str| format!("ARRAY(SELECT {what} FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c' ORDER BY k.conname)");
        format!(
            "SELECT n.nspname, t.typname, format_type(t.typbasetype, t.typtypmod), t.typdefault, t.typnotnull, {}, {}, \
             (SELECT l.collname FROM pg_collation l WHERE l.oid = t.typcollation AND t.typcollation <> b.typcollation), obj_description(t.oid, 'pg_type'), pg_get_userbyid(t.typowner) \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_type b ON b.oid = t.typbasetype \
             WHERE t.typtype = 'd' AND {condition}",
            checks("k.conname::text"),
            checks("pg_get_constraintdef(k.oid, true)"),
        )
    }

    fn from_row(row: &Row) -> Domain {
        let names: Vec<String> = row.get(5);
        let definitions: Vec<String> = row.get(6);
        Domain {
            schema: row.get(0),
            name: row.get(1),
            base_type: row.get(2),
            default: row.get(3),
            not_null: row.get(4),
            checks: names.into_iter().zip(definitions).map(|(name, definition)| Check { name, expression: check_expression(&definition), validated: true }).collect(),
            collation: row.get(7),
            comment: row.get(8),
        }
    }

    fn from_value(value: &Value) -> Result<Domain, ProviderError> {
        let name = required(value, "name", "postgres_domain")?;
        Ok(Domain {
            schema: schema_of(value),
            checks: named_checks(&name, value.get_list("check"))?,
            name,
            base_type: required(value, "type", "postgres_domain")?,
            default: value.get_str("default").map(str::to_owned),
            not_null: value.get_bool("not_null").unwrap_or(false),
            collation: value.get_str("collation").map(str::to_owned),
            comment: value.get_str("comment").map(str::to_owned),
        })
    }

    fn to_value(&self) -> Value {
        let checks = self.checks.iter().map(|c| Value::object([("name", Value::from(c.name.as_str())), ("expression", Value::from(c.expression.as_str()))]));
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("type", Value::from(self.base_type.as_str())),
            ("default", opt(self.default.as_deref())),
            ("not_null", Value::Bool(self.not_null)),
            ("check", Value::List(checks.collect())),
            ("collation", opt(self.collation.as_deref())),
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
        format!("DOMAIN {}", self.sql_name())
    }

    /// Created in `pg_temp`, read back with the catalog query and rolled back.
    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<Domain>, ProviderError> {
        let seen: Option<Domain> = shadow_object(catalog, &[self.definition(&format!("pg_temp.{SHADOW}"))], &in_temp_schema("t.typname", SHADOW)).await?;
        Ok(seen.map(|seen| Domain { schema: self.schema.clone(), name: self.name.clone(), comment: self.comment.clone(), ..seen }))
    }

    fn create(&self) -> Vec<String> {
        with_comment(self, vec![self.definition(&self.sql_name())])
    }

    fn change(prior: &Domain, desired: &Domain, normalized: Option<&Domain>) -> PlannedChange {
        let compare = normalized.unwrap_or(desired);
        let because = super::differing(&[
            ("schema", prior.schema != desired.schema),
            ("name", prior.name != desired.name),
            ("type", prior.base_type != compare.base_type),
            ("collation", prior.collation != compare.collation),
        ]);
        let id = prior.id();
        if !because.is_empty() {
            let mut planned = replacement(prior, desired, because);
            planned.warnings.push(format!("domain {id} is dropped and created again: PostgreSQL refuses the drop while a column uses it"));
            return planned;
        }
        let alter = |what: String| format!("ALTER DOMAIN {} {what}", desired.sql_name());
        let mut operations = Vec::new();
        let mut locking = Vec::new();
        if prior.default != compare.default {
            operations.push(alter(desired.default.as_ref().map_or("DROP DEFAULT".to_owned(), |d| format!("SET DEFAULT {d}"))));
        }
        if prior.not_null != compare.not_null {
            operations.push(alter(format!("{} NOT NULL", if desired.not_null { "SET" } else { "DROP" })));
            locking.extend(desired.not_null.then(|| format!("scans every column of domain {id} to check that it holds no NULL, under a lock that makes writes wait")));
        }
        operations.extend(prior.checks.iter().filter(|c| !compare.checks.contains(c)).map(|c| alter(format!("DROP CONSTRAINT {}", ident(&c.name)))));
        for (check, normal) in desired.checks.iter().zip(&compare.checks) {
            if !prior.checks.contains(normal) {
                operations.push(alter(format!("ADD CONSTRAINT {} CHECK ({})", ident(&check.name), check.expression)));
                locking.push(format!("checks every value of domain {id} against {}, under a lock that makes writes wait", check.name));
            }
        }
        PlannedChange { locking, ..in_place(prior, desired, desired, operations) }
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP DOMAIN {}", self.sql_name())]
    }

    fn authorship(&self) -> AuthorshipRow {
        type_row(&self.schema, &self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(checks: &[&str]) -> Domain {
        let blocks = checks.iter().map(|e| Value::object([("expression", Value::from(*e))])).collect();
        Domain::from_value(&Value::object([("name", Value::from("score")), ("type", Value::from("numeric(5,2)")), ("check", Value::List(blocks))])).unwrap()
    }

    #[test]
    fn unnamed_checks_are_named_as_postgres_names_them() {
        let domain = score(&["VALUE >= 0", "VALUE <= 100"]);
        assert_eq!(domain.checks.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["score_check", "score_check1"]);
        assert_eq!(
            domain.create(),
            ["CREATE DOMAIN \"public\".\"score\" AS numeric(5,2) CONSTRAINT \"score_check\" CHECK (VALUE >= 0) CONSTRAINT \"score_check1\" CHECK (VALUE <= 100)"]
        );
    }

    #[test]
    fn checks_and_defaults_change_in_place_and_a_new_type_replaces() {
        let live = score(&["VALUE >= 0"]);
        let mut desired = score(&["VALUE > 0"]);
        desired.default = Some("0".into());
        let altered = Domain::change(&live, &desired, None);
        assert_eq!(
            altered.operations,
            [
                "ALTER DOMAIN \"public\".\"score\" SET DEFAULT 0",
                "ALTER DOMAIN \"public\".\"score\" DROP CONSTRAINT \"score_check\"",
                "ALTER DOMAIN \"public\".\"score\" ADD CONSTRAINT \"score_check\" CHECK (VALUE > 0)",
            ]
        );
        let retyped = Domain { base_type: "integer".into(), ..live.clone() };
        assert_eq!(Domain::change(&live, &retyped, None).replace_because, ["type"]);
    }
}
