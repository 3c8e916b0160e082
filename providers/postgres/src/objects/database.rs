//! `postgres_database`: a database of the cluster (`pg_database`), with the community provider's
//! `postgresql_database` arguments. `CREATE DATABASE`, `DROP DATABASE` and `ALTER DATABASE ... SET
//! TABLESPACE` cannot run in a transaction: `guards` runs such changes statement by statement.
//!
//! A change of `encoding`, `lc_collate`, `lc_ctype` or `template` replaces the database, and a
//! drop loses everything in it: both are data loss. The database the provider is connected to is
//! never dropped (nor replaced or renamed). Only the databases a refresh, import or apply names are
//! read, in one query; `template` cannot be read back and is kept from state.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use strata_provider_sdk::{Action, Attribute as A, Block, ObjectNames, PlannedChange, ProviderError, ResourceSchema, Type, Value};

use super::{change, differing, opt, required, text_array, AuthorshipRow, Kind};
use crate::catalog::{query, Catalog};
use crate::order::Scope;
use crate::ddl::{ident, literal};

#[derive(Clone, Debug, PartialEq)]
pub struct Database {
    pub name: String,
    /// Unset: the connected user at create, then whatever it is.
    pub owner: Option<String>,
    /// Only known from configuration (PostgreSQL does not record it).
    pub template: Option<String>,
    pub encoding: Option<String>,
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    pub tablespace_name: Option<String>,
    pub connection_limit: i64,
    pub allow_connections: bool,
    pub is_template: bool,
    pub alter_object_ownership: bool,
}

/// A string attribute, with the community provider's `DEFAULT` (the server's choice) as unset.
fn chosen(value: &Value, key: &str) -> Option<String> {
    value.get_str(key).map(str::trim).filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("DEFAULT")).map(str::to_owned)
}

impl Database {
    pub fn from_value(value: &Value) -> Result<Database, ProviderError> {
        let name = required(value, "name", "postgres_database")?;
        let connection_limit = value.get_i64("connection_limit").unwrap_or(-1);
        if connection_limit < -1 {
            return Err(ProviderError::new(format!("postgres_database {name}: connection_limit must be at least -1, not {connection_limit}")));
        }
        Ok(Database {
            owner: chosen(value, "owner"),
            template: chosen(value, "template"),
            encoding: chosen(value, "encoding").map(|e| e.to_ascii_uppercase()),
            lc_collate: chosen(value, "lc_collate"),
            lc_ctype: chosen(value, "lc_ctype"),
            tablespace_name: chosen(value, "tablespace_name"),
            connection_limit,
            allow_connections: value.get_bool("allow_connections").unwrap_or(true),
            is_template: value.get_bool("is_template").unwrap_or(false),
            alter_object_ownership: value.get_bool("alter_object_ownership").unwrap_or(false),
            name,
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("name", Value::from(self.name.as_str())),
            ("owner", opt(self.owner.as_deref())),
            ("template", opt(self.template.as_deref())),
            ("encoding", opt(self.encoding.as_deref())),
            ("lc_collate", opt(self.lc_collate.as_deref())),
            ("lc_ctype", opt(self.lc_ctype.as_deref())),
            ("tablespace_name", opt(self.tablespace_name.as_deref())),
            ("connection_limit", Value::int(self.connection_limit)),
            ("allow_connections", Value::Bool(self.allow_connections)),
            ("is_template", Value::Bool(self.is_template)),
            ("alter_object_ownership", Value::Bool(self.alter_object_ownership)),
            ("id", Value::from(self.name.as_str())),
        ])
    }

    fn sql_name(&self) -> String {
        ident(&self.name)
    }

    /// `self` with what it leaves unset taken from the live `prior`.
    fn filled_from(mut self, prior: &Database) -> Database {
        let keep = |mine: &mut Option<String>, theirs: &Option<String>| {
            if mine.is_none() {
                mine.clone_from(theirs);
            }
        };
        keep(&mut self.owner, &prior.owner);
        keep(&mut self.template, &prior.template);
        keep(&mut self.encoding, &prior.encoding);
        keep(&mut self.lc_collate, &prior.lc_collate);
        keep(&mut self.lc_ctype, &prior.lc_ctype);
        keep(&mut self.tablespace_name, &prior.tablespace_name);
        self
    }

    pub fn create(&self) -> Vec<String> {
        let mut options = Vec::new();
        options.extend(self.owner.as_deref().map(|o| format!("OWNER {}", ident(o))));
        options.extend(self.template.as_deref().map(|t| format!("TEMPLATE {}", ident(t))));
        options.extend(self.encoding.as_deref().map(|e| format!("ENCODING {}", literal(e))));
        options.extend(self.lc_collate.as_deref().map(|c| format!("LC_COLLATE {}", literal(c))));
        options.extend(self.lc_ctype.as_deref().map(|c| format!("LC_CTYPE {}", literal(c))));
        options.extend(self.tablespace_name.as_deref().map(|t| format!("TABLESPACE {}", ident(t))));
        if !self.allow_connections {
            options.push("ALLOW_CONNECTIONS false".to_owned());
        }
        if self.connection_limit != -1 {
            options.push(format!("CONNECTION LIMIT {}", self.connection_limit));
        }
        if self.is_template {
            options.push("IS_TEMPLATE true".to_owned());
        }
        let with = if options.is_empty() { String::new() } else { format!(" WITH {}", options.join(" ")) };
        vec![format!("CREATE DATABASE {}{with}", self.sql_name())]
    }

    /// A template database must stop being one before it can be dropped.
    pub fn drop(&self) -> Vec<String> {
        let mut statements = Vec::new();
        if self.is_template {
            statements.push(format!("ALTER DATABASE {} IS_TEMPLATE false", self.sql_name()));
        }
        statements.push(format!("DROP DATABASE {}", self.sql_name()));
        statements
    }

    fn drop_loses(&self) -> String {
        format!("drops database {} and every schema, table and row in it", self.name)
    }
}

/// The error for a change that would drop (or rename) the database the provider is connected to.
fn connected_error(name: &str, what: &str) -> ProviderError {
    ProviderError::new(format!("postgres_database {name} is the database the provider is connected to: strata does not {what} it"))
        .with_hint("connect the provider to another database (such as postgres) to manage this one")
}

/// Refuses to plan the drop of the database the provider is connected to.
pub fn refuse_dropping_connected(prior: &Value, connected: Option<&str>) -> Result<(), ProviderError> {
    let database = Database::from_value(prior)?;
    match connected == Some(database.name.as_str()) {
        true => Err(connected_error(&database.name, "drop")),
        false => Ok(()),
    }
}

/// The change of a database; `connected` is the database the provider is connected to, when known.
pub fn plan(prior: Option<&Value>, desired: &Value, connected: Option<&str>) -> Result<PlannedChange, ProviderError> {
    let desired = Database::from_value(desired)?;
    let Some(prior) = prior.map(Database::from_value).transpose()? else {
        return Ok(change(Action::Create, desired.to_value(), desired.create()));
    };
    let wanted = desired.filled_from(&prior);
    let same_encoding = wanted.encoding.as_deref().map(str::to_ascii_uppercase) == prior.encoding.as_deref().map(str::to_ascii_uppercase);
    let because = differing(&[
        ("encoding", !same_encoding),
        ("lc_collate", wanted.lc_collate != prior.lc_collate),
        ("lc_ctype", wanted.lc_ctype != prior.lc_ctype),
        // An imported database's template is unknown: the configuration's is taken, not compared.
        ("template", prior.template.is_some() && wanted.template != prior.template),
    ]);
    let is_connected = connected == Some(prior.name.as_str());
    if !because.is_empty() {
        if is_connected {
            return Err(connected_error(&prior.name, "replace"));
        }
        let mut operations = prior.drop();
        operations.extend(wanted.create());
        return Ok(PlannedChange { replace_because: because, data_loss: vec![prior.drop_loses()], ..change(Action::Replace, wanted.to_value(), operations) });
    }
    let mut operations = Vec::new();
    let mut warnings = Vec::new();
    if prior.name != wanted.name {
        if is_connected {
            return Err(connected_error(&prior.name, "rename"));
        }
        operations.push(format!("ALTER DATABASE {} RENAME TO {}", prior.sql_name(), wanted.sql_name()));
    }
    if let (Some(owner), true) = (&wanted.owner, wanted.owner != prior.owner) {
        operations.push(format!("ALTER DATABASE {} OWNER TO {}", wanted.sql_name(), ident(owner)));
        match (wanted.alter_object_ownership, prior.owner.as_deref(), is_connected) {
            (true, Some(old), true) => operations.push(format!("REASSIGN OWNED BY {} TO {}", ident(old), ident(owner))),
            (true, Some(old), false) => warnings.push(format!(
                "postgres_database {}: alter_object_ownership moves the objects of {old} only in the database the provider is connected to; connect a provider to {} to move them",
                wanted.name, wanted.name
            )),
            _ => {}
        }
    }
    let mut options = Vec::new();
    if wanted.allow_connections != prior.allow_connections {
        options.push(format!("ALLOW_CONNECTIONS {}", wanted.allow_connections));
    }
    if wanted.connection_limit != prior.connection_limit {
        options.push(format!("CONNECTION LIMIT {}", wanted.connection_limit));
    }
    if wanted.is_template != prior.is_template {
        options.push(format!("IS_TEMPLATE {}", wanted.is_template));
    }
    if !options.is_empty() {
        operations.push(format!("ALTER DATABASE {} WITH {}", wanted.sql_name(), options.join(" ")));
    }
    if let (Some(tablespace), true) = (&wanted.tablespace_name, wanted.tablespace_name != prior.tablespace_name) {
        operations.push(format!("ALTER DATABASE {} SET TABLESPACE {}", wanted.sql_name(), ident(tablespace)));
    }
    let action = match (operations.is_empty(), wanted == prior) {
        (true, true) => Action::NoOp,
        // alter_object_ownership alone: the state takes it.
        _ => Action::Update,
    };
    let planned = if action == Action::NoOp { prior.to_value() } else { wanted.to_value() };
    Ok(PlannedChange { warnings, ..change(action, planned, operations) })
}

/// `postgres_database` as the dispatch points see it.
pub struct DatabaseKind;

#[async_trait]
impl Kind for DatabaseKind {
    fn type_name(&self) -> &'static str {
        "postgres_database"
    }

    /// A database makes itself and waits for its owner.
    fn object_names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        ObjectNames { makes: value.get_str("name").map(|name| scope.cluster("database", name)).into_iter().collect(), uses: crate::order::owner(scope, value).into_iter().collect() }
    }

    fn import_id(&self) -> &'static str {
        "the database's name"
    }

    fn schema(&self) -> ResourceSchema {
        let chosen = |description: &'static str| A::optional_computed(Type::String).describe(description);
        ResourceSchema {
            periodic: false,
            description: "A database of the cluster (CREATE DATABASE, run outside a transaction); the provider's own database is never dropped.",
            block: Block::new()
                .attribute("name", A::required(Type::String).describe("renamed in place"))
                .attribute("owner", chosen("default the connected user"))
                .attribute("template", chosen("the database copied at create (a change replaces it); not read back"))
                .attribute("encoding", chosen("a change replaces the database"))
                .attribute("lc_collate", chosen("a change replaces the database"))
                .attribute("lc_ctype", chosen("a change replaces the database"))
                .attribute("tablespace_name", chosen("moved by ALTER DATABASE ... SET TABLESPACE"))
                .attribute("connection_limit", A::optional_computed(Type::Number).describe("-1 (the default) for no limit"))
                .attribute("allow_connections", A::optional_computed(Type::Bool).describe("default true"))
                .attribute("is_template", A::optional_computed(Type::Bool).describe("default false"))
                .attribute("alter_object_ownership", A::optional_computed(Type::Bool).describe("an owner change also reassigns the old owner's objects (in the connected database only), default false"))
                .attribute("id", A::computed(Type::String)),
        }
    }

    /// The template and `alter_object_ownership` are not in the catalog: they come from state.
    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError> {
        let state = Database::from_value(state)?;
        let Some(found) = live.get(&state.name) else { return Ok(None) };
        let found = Database { template: state.template.clone(), alter_object_ownership: state.alter_object_ownership, ..Database::from_value(found)? };
        Ok(Some(found.to_value()))
    }

    fn adoption_id(&self, planned: &Value) -> Option<String> {
        planned.get_str("name").map(str::to_owned)
    }

    async fn plan(&self, _catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        plan(prior, desired, None)
    }

    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError> {
        let database = Database::from_value(prior)?;
        Ok(PlannedChange { data_loss: vec![database.drop_loses()], ..change(Action::Delete, Value::Null, database.drop()) })
    }

    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError> {
        Ok(Database::from_value(prior)?.drop())
    }

    fn authorship(&self, live: &Value) -> Result<AuthorshipRow, ProviderError> {
        Ok(AuthorshipRow { query: "SELECT xmin::text FROM pg_database WHERE datname = $1", params: vec![required(live, "name", "postgres_database")?] })
    }

    fn wanted_key(&self, value: &Value) -> Option<String> {
        value.get_str("name").map(str::to_owned)
    }

    async fn read_keys(&self, catalog: &Catalog<'_>, keys: &BTreeSet<String>) -> Result<BTreeMap<String, Value>, ProviderError> {
        let sql = format!(
            "SELECT d.datname::text, pg_get_userbyid(d.datdba)::text, pg_encoding_to_char(d.encoding)::text, d.datcollate::text, d.datctype::text, \
             t.spcname::text, d.datconnlimit, d.datallowconn, d.datistemplate \
             FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace WHERE d.datname::text = ANY({})",
            text_array(keys)
        );
        let rows = query(catalog, &sql).await?;
        Ok(rows
            .iter()
            .map(|row| Database {
                name: row.get(0),
                owner: row.get(1),
                template: None,
                encoding: row.get(2),
                lc_collate: row.get(3),
                lc_ctype: row.get(4),
                tablespace_name: row.get(5),
                connection_limit: row.get::<_, i32>(6).into(),
                allow_connections: row.get(7),
                is_template: row.get(8),
                alter_object_ownership: false,
            })
            .map(|database| (database.name.clone(), database.to_value()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database(pairs: &[(&str, Value)]) -> Value {
        let mut value = Value::object([("name", Value::from("analytics"))]);
        for (key, v) in pairs {
            value.set(key, v.clone());
        }
        value
    }

    fn live() -> Value {
        database(&[("owner", Value::from("postgres")), ("encoding", Value::from("UTF8")), ("lc_collate", Value::from("C.UTF-8")), ("lc_ctype", Value::from("C.UTF-8")), ("tablespace_name", Value::from("pg_default"))])
    }

    #[test]
    fn creates_with_what_is_given_and_changes_in_place_what_can_be() {
        let created = plan(None, &database(&[("owner", Value::from("app")), ("template", Value::from("template0")), ("connection_limit", Value::int(10))]), None).unwrap();
        assert_eq!(created.operations, ["CREATE DATABASE \"analytics\" WITH OWNER \"app\" TEMPLATE \"template0\" CONNECTION LIMIT 10"]);
        assert_eq!(plan(Some(&live()), &database(&[("encoding", Value::from("utf8"))]), None).unwrap().action, Action::NoOp);
        let changed = plan(Some(&live()), &database(&[("owner", Value::from("app")), ("allow_connections", Value::Bool(false))]), None).unwrap();
        assert_eq!(changed.operations, ["ALTER DATABASE \"analytics\" OWNER TO \"app\"", "ALTER DATABASE \"analytics\" WITH ALLOW_CONNECTIONS false"]);
        assert!(changed.data_loss.is_empty());
    }

    #[test]
    fn a_locale_change_replaces_it_as_data_loss_but_never_the_connected_one() {
        let replaced = plan(Some(&live()), &database(&[("lc_collate", Value::from("en_US.UTF-8"))]), None).unwrap();
        assert_eq!(replaced.action, Action::Replace);
        assert_eq!(replaced.replace_because, ["lc_collate"]);
        assert_eq!(replaced.operations[0], "DROP DATABASE \"analytics\"");
        assert_eq!(replaced.data_loss.len(), 1);
        let error = plan(Some(&live()), &database(&[("lc_collate", Value::from("en_US.UTF-8"))]), Some("analytics")).unwrap_err();
        assert!(error.message.contains("connected to"), "{error}");
        assert!(refuse_dropping_connected(&live(), Some("analytics")).is_err());
        assert!(refuse_dropping_connected(&live(), Some("postgres")).is_ok());
        let deleted = DatabaseKind.plan_delete(&live()).unwrap();
        assert_eq!((deleted.operations, deleted.data_loss.len()), (vec!["DROP DATABASE \"analytics\"".to_owned()], 1));
    }
}
