//! `postgres_default_privileges`: the privileges a role gets on objects another role (`owner`)
//! creates later (the community provider's `postgresql_default_privileges`), from
//! `pg_default_acl` in one query, changed by `ALTER DEFAULT PRIVILEGES` one privilege at a time.
//!
//! A global entry (no `schema`) holds the whole default ACL, PostgreSQL's built-in defaults
//! included (the owner's privileges; EXECUTE on functions and USAGE on types for PUBLIC), and
//! no entry means exactly those defaults; a per-schema entry holds only what is added to the
//! global one. The live privileges of the role are compared accordingly, so a second plan is empty.

use std::collections::BTreeMap;

use async_trait::async_trait;
use strata_provider_sdk::{Action, Attribute as A, Block, ObjectNames, PlannedChange, ProviderError, ResourceSchema, Type, Value};

use super::grant::{entries, entry_value, grantee_key, grantee_sql, normalize_privileges, one_of};
use super::{Catalog, Kind};
use crate::catalog::query;
use crate::order::Scope;
use crate::ddl::ident;

pub const TYPE: &str = "postgres_default_privileges";

pub const OBJECT_TYPES: &[&str] = &["table", "sequence", "function", "type", "schema"];

#[derive(Clone, Debug, PartialEq)]
pub struct DefaultPrivileges {
    pub database: Option<String>,
    pub role: String,
    pub owner: String,
    pub schema: Option<String>,
    pub object_type: String,
    pub privileges: Vec<String>,
    pub with_grant_option: bool,
}

/// `pg_default_acl.defaclobjtype` of an object type.
fn catalog_char(object_type: &str) -> &'static str {
    match object_type {
        "table" => "r",
        "sequence" => "S",
        "function" => "f",
        "type" => "T",
        _ => "n",
    }
}

fn plural(object_type: &str) -> &'static str {
    match object_type {
        "table" => "TABLES",
        "sequence" => "SEQUENCES",
        "function" => "FUNCTIONS",
        "type" => "TYPES",
        _ => "SCHEMAS",
    }
}

/// PostgreSQL's built-in default privileges of `grantee` on objects of `object_type` that
/// `owner` creates: what a global entry holds when there is none.
fn built_in(object_type: &str, owner: &str, grantee: &str) -> Vec<String> {
    if grantee == owner {
        return super::grant::privileges_of(if object_type == "type" { "type" } else { object_type }).iter().map(|p| (*p).to_owned()).collect();
    }
    match (object_type, grantee) {
        ("function", "public") => vec!["EXECUTE".to_owned()],
        ("type", "public") => vec!["USAGE".to_owned()],
        _ => vec![],
    }
}

impl DefaultPrivileges {
    pub fn from_value(value: &Value) -> Result<DefaultPrivileges, ProviderError> {
        let required = |key: &str| value.get_str(key).map(str::to_owned).ok_or_else(|| ProviderError::new(format!("{TYPE} needs \"{key}\"")));
        let object_type = one_of(TYPE, "object_type", value.get_str("object_type").unwrap_or_default(), OBJECT_TYPES)?;
        let schema = value.get_str("schema").filter(|s| !s.is_empty()).map(str::to_owned);
        if object_type == "schema" && schema.is_some() {
            return Err(ProviderError::new(format!("{TYPE}: default privileges on schemas are global only; leave \"schema\" unset")));
        }
        Ok(DefaultPrivileges {
            database: value.get_str("database").map(str::to_owned),
            role: grantee_key(&required("role")?),
            owner: required("owner")?,
            privileges: normalize_privileges(TYPE, &object_type, &value.get_strings("privileges"))?,
            schema,
            object_type,
            with_grant_option: value.get_bool("with_grant_option").unwrap_or(false),
        })
    }

    pub fn to_value(&self) -> Value {
        Value::object([
            ("database", super::opt(self.database.as_deref())),
            ("role", Value::from(self.role.as_str())),
            ("owner", Value::from(self.owner.as_str())),
            ("schema", super::opt(self.schema.as_deref())),
            ("object_type", Value::from(self.object_type.as_str())),
            ("privileges", super::strings(&self.privileges)),
            ("with_grant_option", Value::Bool(self.with_grant_option)),
            ("id", Value::from(self.id())),
        ])
    }

    /// The community provider's id: `role_database_schema_owner_objecttype`.
    pub fn id(&self) -> String {
        format!("{}_{}_{}_{}_{}", self.role, self.database.as_deref().unwrap_or(""), self.schema.as_deref().unwrap_or(""), self.owner, self.object_type)
    }

    /// Its `pg_default_acl` row, one for every resource of the same owner, schema and type: two
    /// changes of it must not run at once (see `PlannedChange::locks`).
    fn locks(&self) -> Vec<String> {
        vec![format!("default privileges of {} in {} on {}", self.owner, self.schema.as_deref().unwrap_or("every schema"), plural(&self.object_type))]
    }

    fn key(&self) -> String {
        default_key(&self.owner, self.schema.as_deref().unwrap_or(""), catalog_char(&self.object_type))
    }

    /// The live form of the resource whose state is `self`, among every default ACL entry.
    pub fn live(&self, all: &BTreeMap<String, Value>) -> DefaultPrivileges {
        let held: Vec<(String, bool)> = match all.get(&self.key()) {
            Some(value) => entries(value).into_iter().filter(|e| e.grantee == self.role).map(|e| (e.privilege, e.grantable)).collect(),
            // No entry: the global default is PostgreSQL's own; a schema adds nothing.
            None if self.schema.is_none() => built_in(&self.object_type, &self.owner, &self.role).into_iter().map(|p| (p, false)).collect(),
            None => vec![],
        };
        let mut privileges: Vec<String> = held.iter().map(|(p, _)| p.clone()).collect();
        privileges.sort();
        privileges.dedup();
        let with_grant_option = match (held.is_empty(), self.with_grant_option) {
            (true, wanted) => wanted,
            (false, true) => held.iter().all(|(_, g)| *g),
            (false, false) => held.iter().any(|(_, g)| *g),
        };
        DefaultPrivileges { privileges, with_grant_option, ..self.clone() }
    }

    fn alter(&self) -> String {
        let schema = self.schema.as_deref().map(|s| format!(" IN SCHEMA {}", ident(s))).unwrap_or_default();
        format!("ALTER DEFAULT PRIVILEGES FOR ROLE {}{schema}", ident(&self.owner))
    }

    fn grant_sql(&self, privilege: &str) -> String {
        let option = if self.with_grant_option { " WITH GRANT OPTION" } else { "" };
        format!("{} GRANT {privilege} ON {} TO {}{option}", self.alter(), plural(&self.object_type), grantee_sql(&self.role))
    }

    fn revoke_sql(&self, privilege: &str) -> String {
        format!("{} REVOKE {privilege} ON {} FROM {}", self.alter(), plural(&self.object_type), grantee_sql(&self.role))
    }

    /// The statements that take `prior` (live) to `self`, one privilege at a time.
    pub fn changes(&self, prior: Option<&DefaultPrivileges>) -> Vec<String> {
        let (held, option): (&[String], bool) = prior.map_or((&[], false), |p| (&p.privileges, p.with_grant_option));
        let mut statements = Vec::new();
        for privilege in &self.privileges {
            match (held.contains(privilege), option, self.with_grant_option) {
                (false, _, _) | (true, false, true) => statements.push(self.grant_sql(privilege)),
                (true, true, false) => statements.push(format!("{} REVOKE GRANT OPTION FOR {privilege} ON {} FROM {}", self.alter(), plural(&self.object_type), grantee_sql(&self.role))),
                _ => {}
            }
        }
        statements.extend(held.iter().filter(|p| !self.privileges.contains(p)).map(|p| self.revoke_sql(p)));
        statements
    }

    /// The role's defaults when nothing was altered: PostgreSQL's own (a global entry) or
    /// nothing added (a schema's).
    fn built_in_defaults(&self) -> DefaultPrivileges {
        let mut privileges = match self.schema {
            None => built_in(&self.object_type, &self.owner, &self.role),
            Some(_) => vec![],
        };
        privileges.sort();
        DefaultPrivileges { privileges, with_grant_option: false, ..self.clone() }
    }

    /// What deleting it runs: the defaults back to PostgreSQL's own for the role (a global
    /// entry) or to nothing added (a schema's).
    pub fn reset(&self) -> Vec<String> {
        self.built_in_defaults().changes(Some(self))
    }
}

fn default_key(owner: &str, schema: &str, objtype: &str) -> String {
    format!("{owner}\u{1f}{schema}\u{1f}{objtype}")
}

/// The create of `desired` where `live` is the role's defaults before it (read at plan time).
pub fn plan_create(desired: &Value, live: &Value) -> Result<PlannedChange, ProviderError> {
    let desired = DefaultPrivileges::from_value(desired)?;
    Ok(PlannedChange { locks: desired.locks(), ..super::change(Action::Create, desired.to_value(), desired.changes(Some(&DefaultPrivileges::from_value(live)?))) })
}

pub fn catalog_query() -> &'static str {
    "SELECT pg_get_userbyid(d.defaclrole)::text, coalesce(n.nspname::text, ''), d.defaclobjtype::text, \
     CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee)::text END, a.privilege_type, a.is_grantable \
     FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace LEFT JOIN LATERAL aclexplode(d.defaclacl) a ON true"
}

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "The privileges a role gets on objects another role creates later (ALTER DEFAULT PRIVILEGES).",
        block: Block::new()
            .attribute("database", A::required(Type::String).force_new().describe("must be the provider's database"))
            .attribute("role", A::required(Type::String).force_new().describe("the grantee; \"public\" is PUBLIC"))
            .attribute("owner", A::required(Type::String).force_new().describe("the role whose new objects get the privileges"))
            .attribute("schema", A::optional(Type::String).force_new().describe("unset: in every schema"))
            .attribute("object_type", A::required(Type::String).force_new().one_of(OBJECT_TYPES))
            .attribute("privileges", A::required(Type::list_of(Type::String)).describe("ALL is every privilege of the type"))
            .attribute("with_grant_option", A::optional(Type::Bool))
            .attribute("id", A::computed(Type::String)),
    }
}

pub struct DefaultPrivilegesKind;

#[async_trait]
impl Kind for DefaultPrivilegesKind {
    fn type_name(&self) -> &'static str {
        TYPE
    }

    /// Default privileges wait for their grantee, their owner and their schema.
    fn object_names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        let mut uses: Vec<String> = ["role", "owner"].into_iter().filter_map(|key| value.get_str(key).and_then(|role| scope.role(role))).collect();
        uses.extend(value.get_str("schema").map(|schema| scope.local("schema", schema)));
        ObjectNames { makes: vec![], uses }
    }

    fn import_id(&self) -> &'static str {
        "not importable: declare the default privileges and apply (those already set plan no change)"
    }

    fn schema(&self) -> ResourceSchema {
        schema()
    }

    async fn read(&self, catalog: &Catalog<'_>) -> Result<BTreeMap<String, Value>, ProviderError> {
        let rows = query(catalog, catalog_query()).await?;
        let mut all: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for row in &rows {
            let entry = all.entry(default_key(row.get(0), row.get(1), row.get(2))).or_default();
            if let (Some(grantee), Some(privilege), Some(grantable)) = (row.get::<_, Option<String>>(3), row.get::<_, Option<String>>(4), row.get::<_, Option<bool>>(5)) {
                entry.push(entry_value(&grantee, &privilege, grantable));
            }
        }
        Ok(all.into_iter().map(|(key, acl)| (key, Value::object([("acl", Value::List(acl))]))).collect())
    }

    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(DefaultPrivileges::from_value(state)?.live(live).to_value()))
    }

    super::names_no_object!();

    async fn plan(&self, _catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        let desired = DefaultPrivileges::from_value(desired)?;
        let prior = prior.map(DefaultPrivileges::from_value).transpose()?;
        if let Some(live) = &prior {
            let because = super::differing(&[
                ("database", live.database != desired.database),
                ("role", live.role != desired.role),
                ("owner", live.owner != desired.owner),
                ("schema", live.schema != desired.schema),
                ("object_type", live.object_type != desired.object_type),
            ]);
            if !because.is_empty() {
                let operations = live.reset().into_iter().chain(desired.changes(None)).collect();
                let locks = live.locks().into_iter().chain(desired.locks()).collect();
                return Ok(PlannedChange { replace_because: because, locks, ..super::change(Action::Replace, desired.to_value(), operations) });
            }
        }
        // Before the resource, the defaults are PostgreSQL's own (a global entry) or nothing added.
        let before = prior.clone().unwrap_or_else(|| desired.built_in_defaults());
        let operations = desired.changes(Some(&before));
        let action = match &prior {
            None => Action::Create,
            Some(live) if operations.is_empty() && *live == desired => Action::NoOp,
            Some(_) => Action::Update,
        };
        Ok(PlannedChange { locks: desired.locks(), ..super::change(action, desired.to_value(), operations) })
    }

    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError> {
        let defaults = DefaultPrivileges::from_value(prior)?;
        Ok(PlannedChange { locks: defaults.locks(), ..super::change(Action::Delete, Value::Null, defaults.reset()) })
    }

    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError> {
        Ok(DefaultPrivileges::from_value(prior)?.reset())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(pairs: &[(&str, Value)]) -> DefaultPrivileges {
        let mut value = Value::object([
            ("database", Value::from("app")),
            ("role", Value::from("reader")),
            ("owner", Value::from("app_owner")),
            ("object_type", Value::from("table")),
            ("privileges", Value::List(vec![Value::from("select")])),
        ]);
        for (key, v) in pairs {
            value.set(key, v.clone());
        }
        DefaultPrivileges::from_value(&value).unwrap()
    }

    #[test]
    fn statements_are_one_privilege_at_a_time() {
        let global = defaults(&[]);
        assert_eq!(global.changes(None), ["ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" GRANT SELECT ON TABLES TO \"reader\""]);
        let in_schema = defaults(&[("schema", Value::from("features")), ("privileges", Value::List(vec![Value::from("insert")]))]);
        let live = defaults(&[("schema", Value::from("features"))]);
        assert_eq!(
            in_schema.changes(Some(&live)),
            [
                "ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA \"features\" GRANT INSERT ON TABLES TO \"reader\"",
                "ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" IN SCHEMA \"features\" REVOKE SELECT ON TABLES FROM \"reader\""
            ]
        );
        assert!(DefaultPrivileges::from_value(&Value::object([("role", Value::from("r")), ("owner", Value::from("o")), ("object_type", Value::from("schema")), ("schema", Value::from("s"))])).is_err());
    }

    #[test]
    fn a_global_entry_holds_the_built_in_defaults_and_a_schema_entry_only_additions() {
        let public_functions = defaults(&[("role", Value::from("public")), ("object_type", Value::from("function")), ("privileges", Value::List(vec![Value::from("execute")]))]);
        // No entry at all: PUBLIC may execute new functions.
        assert_eq!(public_functions.live(&BTreeMap::new()), public_functions);
        // A global entry that revoked it.
        let key = default_key("app_owner", "", "f");
        let revoked = BTreeMap::from([(key, Value::object([("acl", Value::List(vec![entry_value("app_owner", "EXECUTE", false)]))]))]);
        assert!(public_functions.live(&revoked).privileges.is_empty());
        // A schema with no entry adds nothing.
        let in_schema = defaults(&[("schema", Value::from("features"))]);
        assert!(in_schema.live(&BTreeMap::new()).privileges.is_empty());
        let key = default_key("app_owner", "features", "r");
        let added = BTreeMap::from([(key, Value::object([("acl", Value::List(vec![entry_value("reader", "SELECT", false)]))]))]);
        assert_eq!(in_schema.live(&added), in_schema);
        // Deleting the global PUBLIC one gives EXECUTE back.
        let none = DefaultPrivileges { privileges: vec![], ..public_functions.clone() };
        assert_eq!(none.reset(), ["ALTER DEFAULT PRIVILEGES FOR ROLE \"app_owner\" GRANT EXECUTE ON FUNCTIONS TO PUBLIC"]);
    }
}
