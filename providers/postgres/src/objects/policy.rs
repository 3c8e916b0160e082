//! `postgres_policy`: a row-level security policy on a table, read from `pg_policy` with its
//! expressions as `pg_get_expr` prints them and its roles by name (`public` for PUBLIC). Its roles
//! and expressions change in place by `ALTER POLICY`; a new command or `permissive` (which
//! `ALTER POLICY` cannot change), or an expression removed, drops and creates it again in one
//! transaction, so no query ever sees the table without it. Its id is `schema.table.name`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{differing, in_place, opt, replacement, required, shadow_object, strings, with_comment, AuthorshipRow, Object};
use crate::catalog::Catalog;
use crate::ddl::{ident, literal, qualified};

const SHADOW: &str = "strata_shadow_policy_table";
pub const COMMANDS: &[&str] = &["ALL", "SELECT", "INSERT", "UPDATE", "DELETE"];

#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// The table's schema.
    pub schema: String,
    pub table: String,
    pub name: String,
    /// One of [`COMMANDS`].
    pub command: String,
    pub permissive: bool,
    /// Sorted; `public` for PUBLIC.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    pub comment: Option<String>,
}

/// The command `polcmd` stands for.
fn command_of(code: &str) -> &'static str {
    match code {
        "r" => "SELECT",
        "a" => "INSERT",
        "w" => "UPDATE",
        "d" => "DELETE",
        _ => "ALL",
    }
}

/// A command in any case, or an error naming the closest one.
fn command(given: &str) -> Result<String, ProviderError> {
    let upper = given.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
    if COMMANDS.contains(&upper.as_str()) {
        return Ok(upper);
    }
    let closest = crate::model::closest(&upper, COMMANDS);
    Err(ProviderError::new(format!("postgres_policy command \"{given}\" is not one of ALL, SELECT, INSERT, UPDATE, DELETE")).with_hint(format!("did you mean \"{closest}\"?")))
}

/// A role as the catalog names it: PUBLIC in any case is `public`.
fn role(given: &str) -> String {
    if given.eq_ignore_ascii_case("public") {
        "public".to_owned()
    } else {
        given.to_owned()
    }
}

fn role_sql(role: &str) -> String {
    match role {
        "public" => "PUBLIC".to_owned(),
        other => ident(other),
    }
}

impl Policy {
    fn table_sql(&self) -> String {
        qualified(&self.schema, &self.table)
    }

    fn on(&self) -> String {
        format!("{} ON {}", ident(&self.name), self.table_sql())
    }

    fn roles_sql(&self) -> String {
        self.roles.iter().map(|r| role_sql(r)).collect::<Vec<_>>().join(", ")
    }

    fn definition(&self, table_sql: &str) -> String {
        let mut sql = format!(
            "CREATE POLICY {} ON {table_sql} AS {} FOR {} TO {}",
            ident(&self.name),
            if self.permissive { "PERMISSIVE" } else { "RESTRICTIVE" },
            self.command,
            self.roles_sql()
        );
        if let Some(using) = &self.using {
            sql.push_str(&format!(" USING ({using})"));
        }
        if let Some(check) = &self.with_check {
            sql.push_str(&format!(" WITH CHECK ({check})"));
        }
        sql
    }

    /// What PostgreSQL refuses of a command's expressions, said before any SQL runs.
    fn refuse_conflicts(&self) -> Result<(), ProviderError> {
        let refuse = |why: &str| Err(ProviderError::new(format!("postgres_policy {}: {why}", self.name)));
        match self.command.as_str() {
            "INSERT" if self.using.is_some() => refuse("an INSERT policy takes with_check only (there are no existing rows to filter)"),
            "SELECT" | "DELETE" if self.with_check.is_some() => refuse(&format!("a {} policy takes using only (it adds no rows to check)", self.command)),
            _ => Ok(()),
        }
    }
}

#[async_trait]
impl Object for Policy {
    const TYPE: &'static str = "postgres_policy";
    const IMPORT_ID: &'static str = "schema.table.name (or table.name for a table in public)";
    const NAMING: crate::order::Naming = crate::order::Naming::OnTable;

    fn schema() -> ResourceSchema {
        ResourceSchema {
            periodic: false,
            description: "A row-level security policy on a table: roles and expressions change in place by ALTER POLICY; a new command or permissive drops and creates it in one transaction.",
            block: Block::new()
                .attribute("name", A::required(Type::String).force_new())
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("the table's schema, default public"))
                .attribute("table", A::required(Type::String).force_new().describe("the table the policy is on"))
                .attribute("command", A::optional_computed(Type::String).one_of_keywords(COMMANDS).describe("ALL (default), SELECT, INSERT, UPDATE or DELETE"))
                .attribute("permissive", A::optional_computed(Type::Bool).describe("true (default): OR-ed with the other permissive policies; false: RESTRICTIVE, AND-ed"))
                .attribute("roles", A::optional_computed(Type::list_of(Type::String)).describe("the roles it applies to, default [\"public\"]"))
                .attribute("using", A::optional(Type::String).describe("the rows a query sees (SQL boolean expression)"))
                .attribute("with_check", A::optional(Type::String).describe("the rows an INSERT or UPDATE may write (SQL boolean expression)"))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        format!(
            "SELECT n.nspname, c.relname, p.polname, p.polcmd::text, p.polpermissive, \
             ARRAY(SELECT CASE WHEN r = 0 THEN 'public' ELSE pg_get_userbyid(r)::text END FROM unnest(p.polroles) r ORDER BY 1), \
             pg_get_expr(p.polqual, p.polrelid, true), pg_get_expr(p.polwithcheck, p.polrelid, true), obj_description(p.oid, 'pg_policy') \
             FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {condition}"
        )
    }

    fn from_row(row: &Row) -> Policy {
        let mut roles: Vec<String> = row.get(5);
        roles.sort();
        Policy {
            schema: row.get(0),
            table: row.get(1),
            name: row.get(2),
            command: command_of(&row.get::<_, String>(3)).to_owned(),
            permissive: row.get(4),
            roles,
            using: row.get(6),
            with_check: row.get(7),
            comment: row.get(8),
        }
    }

    fn from_value(value: &Value) -> Result<Policy, ProviderError> {
        let table = required(value, "table", "postgres_policy")?.replace('"', "");
        let (schema, table) = match table.split_once('.') {
            Some((schema, table)) => (schema.to_owned(), table.to_owned()),
            None => (value.get_str("schema").unwrap_or("public").to_owned(), table),
        };
        let mut roles: Vec<String> = value.get_strings("roles").iter().map(|r| role(r)).collect();
        if roles.is_empty() {
            roles.push("public".to_owned());
        }
        roles.sort();
        roles.dedup();
        let policy = Policy {
            schema,
            table,
            name: required(value, "name", "postgres_policy")?,
            command: command(value.get_str("command").unwrap_or("ALL"))?,
            permissive: value.get_bool("permissive").unwrap_or(true),
            roles,
            using: value.get_str("using").map(super::trimmed_sql),
            with_check: value.get_str("with_check").map(super::trimmed_sql),
            comment: value.get_str("comment").map(str::to_owned),
        };
        policy.refuse_conflicts()?;
        Ok(policy)
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("schema", Value::from(self.schema.as_str())),
            ("table", Value::from(self.table.as_str())),
            ("command", Value::from(self.command.as_str())),
            ("permissive", Value::Bool(self.permissive)),
            ("roles", strings(&self.roles)),
            ("using", opt(self.using.as_deref())),
            ("with_check", opt(self.with_check.as_deref())),
            ("comment", opt(self.comment.as_deref())),
            ("id", Value::from(self.id())),
        ])
    }

    fn id(&self) -> String {
        format!("{}.{}.{}", self.schema, self.table, self.name)
    }

    fn import_key(id: &str) -> String {
        match id.matches('.').count() {
            1 => format!("public.{id}"),
            _ => id.to_owned(),
        }
    }

    fn find(live: &BTreeMap<String, Value>, key: &str) -> Option<Value> {
        live.get(key).cloned()
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn commented(&self) -> String {
        format!("POLICY {}", self.on())
    }

    fn locks(&self) -> Vec<String> {
        vec![format!("{}.{}", self.schema, self.table)]
    }

    /// Made on a temporary copy of its table, read back with the catalog query and rolled back:
    /// its expressions and roles as PostgreSQL prints them.
    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<Policy>, ProviderError> {
        let statements = [format!("CREATE TEMPORARY TABLE {SHADOW} (LIKE {})", self.table_sql()), self.definition(&format!("pg_temp.{SHADOW}"))];
        let condition = format!("c.oid = to_regclass({})", literal(&format!("pg_temp.{SHADOW}")));
        let seen: Option<Policy> = shadow_object(catalog, &statements, &condition).await?;
        Ok(seen.map(|seen| Policy { schema: self.schema.clone(), table: self.table.clone(), comment: self.comment.clone(), ..seen }))
    }

    fn create(&self) -> Vec<String> {
        with_comment(self, vec![self.definition(&self.table_sql())])
    }

    fn change(prior: &Policy, desired: &Policy, normalized: Option<&Policy>) -> PlannedChange {
        let compare = normalized.unwrap_or(desired);
        let mut because = differing(&[
            ("schema", prior.schema != desired.schema),
            ("table", prior.table != desired.table),
            ("name", prior.name != desired.name),
            ("command", prior.command != compare.command),
            ("permissive", prior.permissive != compare.permissive),
        ]);
        // ALTER POLICY sets an expression but cannot take one away.
        because.extend(differing(&[("using", prior.using.is_some() && compare.using.is_none()), ("with_check", prior.with_check.is_some() && compare.with_check.is_none())]));
        if !because.is_empty() {
            return replacement(prior, desired, because);
        }
        let mut clauses = Vec::new();
        if prior.roles != compare.roles {
            clauses.push(format!("TO {}", desired.roles_sql()));
        }
        if let Some(using) = desired.using.as_ref().filter(|_| prior.using != compare.using) {
            clauses.push(format!("USING ({using})"));
        }
        if let Some(check) = desired.with_check.as_ref().filter(|_| prior.with_check != compare.with_check) {
            clauses.push(format!("WITH CHECK ({check})"));
        }
        let operations = match clauses.is_empty() {
            true => vec![],
            false => vec![format!("ALTER POLICY {} {}", prior.on(), clauses.join(" "))],
        };
        in_place(prior, desired, desired, operations)
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP POLICY {}", self.on())]
    }

    fn authorship(&self) -> AuthorshipRow {
        AuthorshipRow { query: "SELECT xmin::text FROM pg_policy WHERE polrelid = to_regclass($1) AND polname = $2", params: vec![self.table_sql(), self.name.clone()] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::Action;

    fn by_team(pairs: &[(&str, Value)]) -> Result<Policy, ProviderError> {
        let mut value = Value::object([("name", Value::from("by_team")), ("table", Value::from("training_data")), ("using", Value::from("team = current_setting('app.team');"))]);
        for (key, v) in pairs {
            value.set(key, v.clone());
        }
        Policy::from_value(&value)
    }

    #[test]
    fn defaults_and_sql() {
        let policy = by_team(&[]).unwrap();
        assert_eq!((policy.id().as_str(), policy.command.as_str(), policy.permissive, policy.roles.clone()), ("public.training_data.by_team", "ALL", true, vec!["public".to_owned()]));
        assert_eq!(policy.create(), ["CREATE POLICY \"by_team\" ON \"public\".\"training_data\" AS PERMISSIVE FOR ALL TO PUBLIC USING (team = current_setting('app.team'))"]);
        let restrictive = by_team(&[("command", Value::from("select")), ("permissive", Value::Bool(false)), ("roles", Value::List(vec![Value::from("analyst"), Value::from("PUBLIC")]))]).unwrap();
        assert_eq!(restrictive.definition("t"), "CREATE POLICY \"by_team\" ON t AS RESTRICTIVE FOR SELECT TO \"analyst\", PUBLIC USING (team = current_setting('app.team'))");
        assert_eq!(Policy::import_key("training_data.by_team"), "public.training_data.by_team");
    }

    #[test]
    fn a_misspelt_command_names_the_closest() {
        let error = by_team(&[("command", Value::from("SELEKT"))]).unwrap_err();
        assert_eq!(error.hint.as_deref(), Some("did you mean \"SELECT\"?"));
        assert!(by_team(&[("command", Value::from("INSERT"))]).unwrap_err().message.contains("with_check only"));
    }

    #[test]
    fn roles_and_expressions_alter_in_place_and_command_replaces() {
        let live = by_team(&[]).unwrap();
        let roles = by_team(&[("roles", Value::List(vec![Value::from("analyst")])), ("with_check", Value::from("team <> ''"))]).unwrap();
        assert_eq!(Policy::change(&live, &roles, None).operations, ["ALTER POLICY \"by_team\" ON \"public\".\"training_data\" TO \"analyst\" WITH CHECK (team <> '')"]);
        let select = by_team(&[("command", Value::from("SELECT"))]).unwrap();
        let replaced = Policy::change(&live, &select, None);
        assert_eq!((replaced.action, replaced.replace_because.clone()), (Action::Replace, vec!["command".to_owned()]));
        assert_eq!(replaced.operations[0], "DROP POLICY \"by_team\" ON \"public\".\"training_data\"");
        let no_using = Policy { using: None, ..live.clone() };
        assert_eq!(Policy::change(&live, &no_using, None).action, Action::Replace);
        assert_eq!(Policy::change(&live, &by_team(&[]).unwrap(), None).action, Action::NoOp);
    }
}
