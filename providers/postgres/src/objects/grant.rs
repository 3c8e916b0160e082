//! `postgres_grant`: privileges of one role on objects of one type (the community provider's
//! `postgresql_grant`), read from the objects' ACLs (`aclexplode` over `relacl`, `nspacl`,
//! `datacl`, `proacl`, `fdwacl`, `srvacl`, `attacl`; `acldefault` where one is NULL) in one query
//! for the whole database, and changed one privilege at a time: a plan shows a `GRANT` per missing
//! privilege and a `REVOKE` per extra one, never `REVOKE ALL` and a new `GRANT` (which is what makes
//! the community provider's grants flap).
//!
//! Without `exclusive`, refresh sees of the role's privileges only those the state declares, so a
//! privilege granted by hand is never revoked, and one removed from the configuration is (state
//! remembers what was granted). With `exclusive`, every privilege on the objects is this
//! resource's: the role's undeclared ones, and every other grantee's (`others`) but the owner's and
//! those another `postgres_grant` of the same run declares (`Declared`, recorded at refresh and
//! plan), are revoked.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use strata_provider_sdk::{Action, Attribute as A, Block, ObjectNames, PlannedChange, ProviderError, ResourceSchema, Type, Value};

use super::{Catalog, Kind};
use crate::catalog::{query, USER_SCHEMAS};
use crate::order::Scope;
use crate::ddl::{ident, qualified};

pub const TYPE: &str = "postgres_grant";

pub const OBJECT_TYPES: &[&str] = &["database", "schema", "table", "sequence", "function", "procedure", "routine", "foreign_data_wrapper", "foreign_server", "column"];

/// The privileges an object type takes, in PostgreSQL's order; `ALL` is all of them.
pub fn privileges_of(object_type: &str) -> &'static [&'static str] {
    match object_type {
        "table" => &["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"],
        "sequence" => &["USAGE", "SELECT", "UPDATE"],
        "database" => &["CREATE", "CONNECT", "TEMPORARY"],
        "schema" => &["CREATE", "USAGE"],
        "function" | "procedure" | "routine" => &["EXECUTE"],
        "foreign_data_wrapper" | "foreign_server" | "type" => &["USAGE"],
        "column" => &["SELECT", "INSERT", "UPDATE", "REFERENCES"],
        _ => &[],
    }
}

/// `given` as PostgreSQL names them: upper-case, sorted, each once, `ALL` (or `ALL PRIVILEGES`)
/// as every privilege of `object_type`, `TEMP` as `TEMPORARY`. A privilege the type does not take
/// is an error naming the closest one it does.
pub fn normalize_privileges(what: &str, object_type: &str, given: &[String]) -> Result<Vec<String>, ProviderError> {
    let valid = privileges_of(object_type);
    let mut out = BTreeSet::new();
    for privilege in given {
        let spelled = privilege.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase();
        match spelled.as_str() {
            "ALL" | "ALL PRIVILEGES" => out.extend(valid.iter().map(|p| (*p).to_owned())),
            "TEMP" if valid.contains(&"TEMPORARY") => {
                out.insert("TEMPORARY".to_owned());
            }
            p if valid.contains(&p) => {
                out.insert(p.to_owned());
            }
            _ => {
                let closest = valid.iter().chain(&["ALL"]).max_by(|a, b| strsim::jaro_winkler(a, &spelled).total_cmp(&strsim::jaro_winkler(b, &spelled)));
                let hint = closest.map(|c| format!("did you mean {c}? ")).unwrap_or_default();
                return Err(ProviderError::new(format!("{what}: {privilege:?} is not a privilege of a {}", object_type.replace('_', " ")))
                    .with_hint(format!("{hint}a {}'s privileges are {} (or ALL)", object_type.replace('_', " "), valid.join(", "))));
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// `value` as one of `allowed`, or an error naming the closest.
pub fn one_of(what: &str, key: &str, value: &str, allowed: &[&str]) -> Result<String, ProviderError> {
    let lower = value.trim().to_lowercase();
    if allowed.contains(&lower.as_str()) {
        return Ok(lower);
    }
    let closest = allowed.iter().max_by(|a, b| strsim::jaro_winkler(a, &lower).total_cmp(&strsim::jaro_winkler(b, &lower)));
    let hint = closest.map(|c| format!("did you mean {c:?}? ")).unwrap_or_default();
    Err(ProviderError::new(format!("{what}: {key} {value:?} is not one of {}", allowed.join(", "))).with_hint(hint))
}

/// A role as GRANT and REVOKE name it: `public` is PUBLIC.
pub fn grantee_sql(role: &str) -> String {
    match role {
        "public" | "PUBLIC" => "PUBLIC".to_owned(),
        _ => ident(role),
    }
}

/// The grantee as the catalog query names it (`public` for PUBLIC).
pub fn grantee_key(role: &str) -> String {
    match role {
        "PUBLIC" => "public".to_owned(),
        _ => role.to_owned(),
    }
}

/// One entry of an exploded ACL: grantee (`public` for PUBLIC), privilege, grant option.
#[derive(Clone, Debug, PartialEq)]
pub struct AclEntry {
    pub grantee: String,
    pub privilege: String,
    pub grantable: bool,
}

/// The ACL entries stored in a snapshot value (`acl`: lists of grantee, privilege, grantable).
pub fn entries(value: &Value) -> Vec<AclEntry> {
    value
        .get_list("acl")
        .iter()
        .filter_map(|entry| {
            let parts = entry.as_list()?;
            Some(AclEntry { grantee: parts.first()?.as_str()?.to_owned(), privilege: parts.get(1)?.as_str()?.to_owned(), grantable: parts.get(2)?.as_bool()? })
        })
        .collect()
}

/// An ACL entry as a snapshot value.
pub fn entry_value(grantee: &str, privilege: &str, grantable: bool) -> Value {
    Value::List(vec![Value::from(grantee), Value::from(privilege), Value::Bool(grantable)])
}

/// A privilege as `granted` lists it: `SELECT`, or `SELECT WITH GRANT OPTION`.
fn held(privilege: &str, grantable: bool) -> String {
    match grantable {
        true => format!("{privilege} WITH GRANT OPTION"),
        false => privilege.to_owned(),
    }
}

fn parse_held(text: &str) -> (String, bool) {
    match text.strip_suffix(" WITH GRANT OPTION") {
        Some(privilege) => (privilege.to_owned(), true),
        None => (text.to_owned(), false),
    }
}

/// The typed resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub database: Option<String>,
    pub role: String,
    pub schema: Option<String>,
    pub object_type: String,
    pub objects: Vec<String>,
    pub columns: Vec<String>,
    pub privileges: Vec<String>,
    pub with_grant_option: bool,
    pub exclusive: bool,
    /// Live: per object (its name in the schema; a column's name; a function's `name(args)`), the
    /// privileges the role holds that this resource manages.
    pub granted: BTreeMap<String, Vec<String>>,
    /// Live, with `exclusive`: (object, grantee, privilege) held by others, to revoke.
    pub others: Vec<(String, String, String)>,
}

/// The catalog kind of each object of an object type (`routine` is both).
fn catalog_kinds(object_type: &str) -> &'static [&'static str] {
    match object_type {
        "routine" => &["function", "procedure"],
        "table" => &["table"],
        "sequence" => &["sequence"],
        "function" => &["function"],
        "procedure" => &["procedure"],
        "database" => &["database"],
        "schema" => &["schema"],
        "foreign_data_wrapper" => &["foreign_data_wrapper"],
        "foreign_server" => &["foreign_server"],
        "column" => &["column"],
        _ => &[],
    }
}

/// Whether the object type lives in a schema.
fn in_schema(object_type: &str) -> bool {
    matches!(object_type, "table" | "sequence" | "function" | "procedure" | "routine" | "column")
}

impl Grant {
    pub fn from_value(value: &Value) -> Result<Grant, ProviderError> {
        let what = TYPE;
        let role = value.get_str("role").map(str::to_owned).ok_or_else(|| ProviderError::new(format!("{what} needs \"role\"")))?;
        let object_type = one_of(what, "object_type", value.get_str("object_type").unwrap_or_default(), OBJECT_TYPES)?;
        let schema = value.get_str("schema").map(str::to_owned);
        let objects = value.get_strings("objects");
        let columns = value.get_strings("columns");
        if object_type != "database" && schema.is_none() {
            return Err(ProviderError::new(format!("{what} on a {} needs \"schema\"", object_type.replace('_', " "))));
        }
        if matches!(object_type.as_str(), "database" | "schema") && !objects.is_empty() {
            return Err(ProviderError::new(format!("{what}: \"objects\" cannot be set for object_type {object_type:?}")));
        }
        if object_type == "column" && (objects.len() != 1 || columns.is_empty()) {
            return Err(ProviderError::new(format!("{what} on columns needs exactly one table in \"objects\" and the columns in \"columns\"")));
        }
        if object_type != "column" && !columns.is_empty() {
            return Err(ProviderError::new(format!("{what}: \"columns\" is only for object_type \"column\"")));
        }
        let privileges = normalize_privileges(what, &object_type, &value.get_strings("privileges"))?;
        let granted = match value.get("granted").and_then(Value::as_object) {
            Some(map) => map.iter().map(|(object, list)| (object.clone(), list.as_list().unwrap_or_default().iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())).collect(),
            None => BTreeMap::new(),
        };
        let others = value
            .get_list("others")
            .iter()
            .filter_map(|entry| {
                let parts = entry.as_list()?;
                Some((parts.first()?.as_str()?.to_owned(), parts.get(1)?.as_str()?.to_owned(), parts.get(2)?.as_str()?.to_owned()))
            })
            .collect();
        Ok(Grant {
            database: value.get_str("database").map(str::to_owned),
            role: grantee_key(&role),
            schema,
            object_type,
            objects,
            columns,
            privileges,
            with_grant_option: value.get_bool("with_grant_option").unwrap_or(false),
            exclusive: value.get_bool("exclusive").unwrap_or(false),
            granted,
            others,
        })
    }

    pub fn to_value(&self) -> Value {
        let strings = |items: &[String]| Value::List(items.iter().map(|s| Value::from(s.as_str())).collect());
        Value::object([
            ("database", super::opt(self.database.as_deref())),
            ("role", Value::from(self.role.as_str())),
            ("schema", super::opt(self.schema.as_deref())),
            ("object_type", Value::from(self.object_type.as_str())),
            ("objects", strings(&self.objects)),
            ("columns", strings(&self.columns)),
            ("privileges", strings(&self.privileges)),
            ("with_grant_option", Value::Bool(self.with_grant_option)),
            ("exclusive", Value::Bool(self.exclusive)),
            ("granted", Value::object(self.granted.iter().map(|(object, list)| (object.clone(), strings(list))))),
            ("others", Value::List(self.others.iter().map(|(o, g, p)| Value::List(vec![Value::from(o.as_str()), Value::from(g.as_str()), Value::from(p.as_str())])).collect())),
            ("id", Value::from(self.id())),
        ])
    }

    /// The community provider's id: `role_database_schema_objecttype[_objects]`.
    pub fn id(&self) -> String {
        let mut id = format!("{}_{}_{}_{}", self.role, self.database.as_deref().unwrap_or(""), self.schema.as_deref().unwrap_or(""), self.object_type);
        if !self.objects.is_empty() {
            id = format!("{id}_{}", self.objects.join(","));
        }
        if !self.columns.is_empty() {
            id = format!("{id}_{}", self.columns.join(","));
        }
        id
    }

    fn schema_name(&self) -> &str {
        self.schema.as_deref().unwrap_or("public")
    }

    /// The catalog key (`kind:id`) of the object `local` names.
    fn catalog_key(&self, kind: &str, local: &str) -> String {
        match self.object_type.as_str() {
            "database" | "schema" | "foreign_data_wrapper" | "foreign_server" => format!("{kind}:{local}"),
            "column" => format!("column:{}.{}.{local}", self.schema_name(), self.objects.first().map_or("", String::as_str)),
            _ => format!("{kind}:{}.{local}", self.schema_name()),
        }
    }

    /// Whether the object `given` names is the live `local`: the same name, or for a function
    /// (`name(args)` live) its name alone (every overload) or its name and arguments; arguments
    /// spelled otherwise than PostgreSQL does (`int` for `integer`) match an overload of that name
    /// with as many arguments.
    fn names(given: &str, local: &str) -> bool {
        let squeeze = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase();
        let shape = |s: &str| s.split_once('(').map(|(name, args)| (name.trim().to_owned(), args.trim_end_matches(')').split(',').filter(|a| !a.trim().is_empty()).count()));
        given == local
            || local.strip_prefix(given).is_some_and(|rest| rest.starts_with('('))
            || squeeze(given) == squeeze(local)
            || shape(given).is_some_and(|g| shape(local) == Some(g))
    }

    /// The objects it covers among the live ones (`all`: catalog key to snapshot value), by
    /// local name with their snapshot value (`None` for one that does not exist yet).
    fn targets<'a>(&self, all: &'a BTreeMap<String, Value>) -> Vec<(String, Option<&'a Value>)> {
        let schema = self.schema_name();
        let mut found = Vec::new();
        match self.object_type.as_str() {
            "database" => {
                let live = all.iter().find(|(key, _)| key.starts_with("database:"));
                let name = self.database.clone().or_else(|| live.map(|(key, _)| key["database:".len()..].to_owned())).unwrap_or_default();
                found.push((name, live.map(|(_, v)| v)));
            }
            "schema" => found.push((schema.to_owned(), all.get(&format!("schema:{schema}")))),
            "column" => {
                for column in &self.columns {
                    found.push((column.clone(), all.get(&self.catalog_key("column", column))));
                }
            }
            _ => {
                for kind in catalog_kinds(&self.object_type) {
                    let prefix = match in_schema(&self.object_type) {
                        true => format!("{kind}:{schema}."),
                        false => format!("{kind}:"),
                    };
                    for (key, value) in all.range(prefix.clone()..).take_while(|(key, _)| key.starts_with(&prefix)) {
                        let local = &key[prefix.len()..];
                        let wanted = match self.objects.is_empty() {
                            true => true,
                            false => self.objects.iter().any(|o| Grant::names(o, local)),
                        };
                        if wanted {
                            found.push((local.to_owned(), Some(value)));
                        }
                    }
                }
                for object in &self.objects {
                    if !found.iter().any(|(local, _)| Grant::names(object, local)) {
                        found.push((object.clone(), None));
                    }
                }
            }
        }
        found
    }

    /// The live form of the resource whose state is `self`, from every object's ACL: what the role
    /// holds of what it manages, and with `exclusive` what others hold (but the owners).
    pub fn live(&self, all: &BTreeMap<String, Value>) -> Grant {
        let mut granted = BTreeMap::new();
        let mut others = Vec::new();
        for (local, value) in self.targets(all) {
            let acl = value.map(entries).unwrap_or_default();
            let owner = value.and_then(|v| v.get_str("owner")).unwrap_or_default();
            let mut mine: Vec<String> = acl
                .iter()
                .filter(|e| e.grantee == self.role && (self.exclusive || self.privileges.contains(&e.privilege)))
                .map(|e| held(&e.privilege, e.grantable))
                .collect();
            mine.sort();
            mine.dedup();
            if self.exclusive {
                others.extend(acl.iter().filter(|e| e.grantee != self.role && e.grantee != owner).map(|e| (local.clone(), e.grantee.clone(), e.privilege.clone())));
            }
            granted.insert(local, mine);
        }
        others.sort();
        others.dedup();
        // The privileges every object holds; the declared ones when there is no object.
        let privileges = common_privileges(&granted).unwrap_or_else(|| self.privileges.clone());
        let flags: Vec<bool> = granted.values().flatten().map(|h| parse_held(h).1).collect();
        let with_grant_option = match (flags.is_empty(), self.with_grant_option) {
            (true, wanted) => wanted,
            (false, true) => flags.iter().all(|g| *g),
            (false, false) => flags.iter().any(|g| *g),
        };
        Grant { privileges, with_grant_option, granted, others, ..self.clone() }
    }

    /// The SQL keyword of the object type, as in `GRANT ... ON TABLE`.
    fn keyword(&self) -> &'static str {
        match self.object_type.as_str() {
            "database" => "DATABASE",
            "schema" => "SCHEMA",
            "table" | "column" => "TABLE",
            "sequence" => "SEQUENCE",
            "function" => "FUNCTION",
            "procedure" => "PROCEDURE",
            "routine" => "ROUTINE",
            "foreign_data_wrapper" => "FOREIGN DATA WRAPPER",
            _ => "FOREIGN SERVER",
        }
    }

    /// The object `local` names, as SQL: `"public"."features"`, `"public"."f"(integer)`.
    fn object_sql(&self, local: &str) -> String {
        match self.object_type.as_str() {
            "database" | "schema" | "foreign_data_wrapper" | "foreign_server" => ident(local),
            "column" => qualified(self.schema_name(), self.objects.first().map_or("", String::as_str)),
            "function" | "procedure" | "routine" => match local.split_once('(') {
                Some((name, args)) => format!("{}({args}", qualified(self.schema_name(), name)),
                None => qualified(self.schema_name(), local),
            },
            _ => qualified(self.schema_name(), local),
        }
    }

    /// `SELECT ON "public"."t"` or, for a column, `SELECT ("c") ON TABLE "public"."t"`.
    fn privilege_on(&self, privilege: &str, local: &str) -> String {
        match self.object_type.as_str() {
            "column" => format!("{privilege} ({}) ON TABLE {}", ident(local), self.object_sql(local)),
            "table" => format!("{privilege} ON {}", self.object_sql(local)),
            _ => format!("{privilege} ON {} {}", self.keyword(), self.object_sql(local)),
        }
    }

    fn grant_sql(&self, privilege: &str, local: &str) -> String {
        let option = if self.with_grant_option { " WITH GRANT OPTION" } else { "" };
        format!("GRANT {} TO {}{option}", self.privilege_on(privilege, local), grantee_sql(&self.role))
    }

    fn revoke_sql(&self, privilege: &str, local: &str, grantee: &str) -> String {
        format!("REVOKE {} FROM {}", self.privilege_on(privilege, local), grantee_sql(grantee))
    }

    fn revoke_option_sql(&self, privilege: &str, local: &str) -> String {
        format!("REVOKE GRANT OPTION FOR {} FROM {}", self.privilege_on(privilege, local), grantee_sql(&self.role))
    }

    /// `GRANT ... ON ALL TABLES IN SCHEMA`: for every object of the type, when which ones is not
    /// known at plan time (a create covering all objects, planned before they are read).
    fn grant_all_in_schema(&self) -> Result<Vec<String>, ProviderError> {
        let plural = match self.object_type.as_str() {
            "table" => "TABLES",
            "sequence" => "SEQUENCES",
            "function" => "FUNCTIONS",
            "procedure" => "PROCEDURES",
            "routine" => "ROUTINES",
            other => return Err(ProviderError::new(format!("{TYPE} on a {} needs \"objects\": PostgreSQL has no GRANT on all of them", other.replace('_', " ")))),
        };
        let option = if self.with_grant_option { " WITH GRANT OPTION" } else { "" };
        Ok(self.privileges.iter().map(|p| format!("GRANT {p} ON ALL {plural} IN SCHEMA {} TO {}{option}", ident(self.schema_name()), grantee_sql(&self.role))).collect())
    }

    /// The objects the desired grant covers, by local name, judged from the live one `prior`;
    /// `None` when that takes a read (all objects of a schema, where `prior` listed some).
    fn desired_targets(&self, prior: Option<&Grant>, creating: bool) -> Option<Vec<String>> {
        match self.object_type.as_str() {
            "database" => return Some(vec![self.database.clone().or_else(|| prior.and_then(|p| p.granted.keys().next().cloned()))?]),
            "schema" => return Some(vec![self.schema_name().to_owned()]),
            "column" => return Some(self.columns.clone()),
            _ => {}
        }
        let known: Vec<&String> = prior.map(|p| p.granted.keys().collect()).unwrap_or_default();
        if self.objects.is_empty() {
            return prior.filter(|p| p.objects.is_empty() && !creating).map(|p| p.granted.keys().cloned().collect());
        }
        let mut out = Vec::new();
        for object in &self.objects {
            let matching: Vec<String> = known.iter().filter(|local| Grant::names(object, local)).map(|l| (*l).clone()).collect();
            match matching.is_empty() {
                true => out.push(object.clone()),
                false => out.extend(matching),
            }
        }
        Some(out)
    }

    /// The statements that take `prior` (live) to `self`, one privilege at a time, and what the
    /// grant will be live afterwards.
    pub fn changes(&self, prior: Option<&Grant>) -> Result<(Vec<String>, Value), ProviderError> {
        self.changes_from(prior, false)
    }

    /// [`Grant::changes`]; `creating`: `prior` is what is live before the resource exists, and
    /// a grant on every object of the schema is `GRANT ... ON ALL ... IN SCHEMA`, which also
    /// reaches the objects this apply creates before it.
    fn changes_from(&self, prior: Option<&Grant>, creating: bool) -> Result<(Vec<String>, Value), ProviderError> {
        let mut statements = Vec::new();
        let mut planned = self.clone();
        planned.others = vec![];
        let targets = self.desired_targets(prior, creating);
        let empty = BTreeMap::new();
        let before = prior.map_or(&empty, |p| &p.granted);
        match &targets {
            Some(targets) => {
                for local in targets {
                    let held: BTreeMap<String, bool> = before.get(local).into_iter().flatten().map(|h| parse_held(h)).collect();
                    for privilege in &self.privileges {
                        match held.get(privilege) {
                            None => statements.push(self.grant_sql(privilege, local)),
                            Some(false) if self.with_grant_option => statements.push(self.grant_sql(privilege, local)),
                            Some(true) if !self.with_grant_option => statements.push(self.revoke_option_sql(privilege, local)),
                            Some(_) => {}
                        }
                    }
                    for privilege in held.keys().filter(|p| !self.privileges.contains(p)) {
                        statements.push(self.revoke_sql(privilege, local, &self.role));
                    }
                }
                planned.granted = targets.iter().map(|t| (t.clone(), self.privileges.iter().map(|p| held(p, self.with_grant_option)).collect())).collect();
            }
            None => statements.extend(self.grant_all_in_schema()?),
        }
        // Objects it no longer covers: what it held there is revoked.
        for (local, list) in before {
            let still = targets.as_ref().is_none_or(|t| t.contains(local));
            if !still || targets.is_none() {
                for (privilege, _) in list.iter().map(|h| parse_held(h)) {
                    match (still, &targets) {
                        // All objects of the schema, granted by GRANT ON ALL: keep what it grants.
                        (true, None) if self.privileges.contains(&privilege) => {}
                        _ => statements.push(self.revoke_sql(&privilege, local, &self.role)),
                    }
                }
            }
        }
        if self.exclusive {
            for (local, grantee, privilege) in prior.map_or(&[][..], |p| &p.others[..]) {
                statements.push(self.revoke_sql(privilege, local, grantee));
            }
        }
        let mut value = planned.to_value();
        if targets.is_none() {
            value.set("granted", Value::Unknown);
        }
        Ok((statements, value))
    }

    /// The names two changes of one run must not change at once (`PlannedChange::locks`): each
    /// object's ACL is one catalog row, and two GRANTs updating it together fail ("tuple
    /// concurrently updated"). Relations by `schema.name` (a column's by its table), as table
    /// changes name them; other objects by type and name; every relation of the schema when
    /// which ones is not known yet.
    fn locks(&self, planned: &Value, prior: Option<&Grant>) -> Vec<String> {
        let schema = self.schema_name();
        let mut locals: BTreeSet<String> = prior.map(|p| p.granted.keys().cloned().collect()).unwrap_or_default();
        locals.extend(planned.get("granted").and_then(Value::as_object).into_iter().flat_map(|map| map.keys().cloned()));
        let name = |local: &str| match self.object_type.as_str() {
            "table" | "sequence" => format!("{schema}.{local}"),
            "column" => format!("{schema}.{}", self.objects.first().map_or("", String::as_str)),
            "function" | "procedure" | "routine" => format!("routine {schema}.{local}"),
            other => format!("{other} {local}"),
        };
        let mut locks: BTreeSet<String> = locals.iter().map(|local| name(local)).collect();
        if planned.get("granted").is_some_and(Value::is_unknown) {
            locks.insert(format!("{} in schema {schema}", self.object_type));
        }
        locks.into_iter().collect()
    }

    /// What deleting it runs: every privilege it holds revoked (others' are left alone).
    pub fn revoke_all_held(&self) -> Vec<String> {
        let mut statements = Vec::new();
        for (local, list) in &self.granted {
            for (privilege, _) in list.iter().map(|h| parse_held(h)) {
                statements.push(self.revoke_sql(&privilege, local, &self.role));
            }
        }
        statements
    }

    /// The (object, role) pairs it declares, as declared keys: objects it names, or `*`; and
    /// each with each privilege (so an exclusive grant of the same role leaves those alone).
    pub fn declared_keys(&self) -> Vec<String> {
        let kind = self.declared_kind();
        let schema = self.schema_name();
        let locals: Vec<&str> = match self.object_type.as_str() {
            "database" | "schema" => vec!["*"],
            "column" => self.columns.iter().map(String::as_str).collect(),
            _ if self.objects.is_empty() => vec!["*"],
            _ => self.objects.iter().map(String::as_str).collect(),
        };
        let mut keys = Vec::new();
        for local in locals {
            let pair = declared_key(&kind, schema, local, &self.role);
            keys.extend(self.privileges.iter().map(|p| privilege_key(&pair, p)));
            keys.push(pair);
        }
        keys
    }

    fn declared_kind(&self) -> String {
        match self.object_type.as_str() {
            "function" | "procedure" | "routine" => "routine".to_owned(),
            "column" => format!("column:{}", self.objects.first().map_or("", String::as_str)),
            other => other.to_owned(),
        }
    }

    /// Whether another resource declares `grantee`'s privileges on `local` (`privilege` of them
    /// only, when given).
    fn declared_elsewhere(&self, declared: &BTreeSet<String>, local: &str, grantee: &str, privilege: Option<&str>) -> bool {
        let kind = self.declared_kind();
        let schema = self.schema_name();
        let bare = local.split_once('(').map_or(local, |(name, _)| name);
        [local, bare, "*"].iter().any(|l| {
            let key = declared_key(&kind, schema, l, grantee);
            declared.contains(&privilege.map_or(key.clone(), |p| privilege_key(&key, p)))
        })
    }
}

/// The privileges every object of `granted` holds; `None` when there is no object.
fn common_privileges(granted: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    let mut common: Option<BTreeSet<String>> = None;
    for list in granted.values() {
        let names: BTreeSet<String> = list.iter().map(|h| parse_held(h).0).collect();
        common = Some(match common {
            None => names,
            Some(c) => c.intersection(&names).cloned().collect(),
        });
    }
    common.map(|c| c.into_iter().collect())
}

fn declared_key(kind: &str, schema: &str, local: &str, role: &str) -> String {
    format!("{kind}\u{1f}{schema}\u{1f}{local}\u{1f}{role}")
}

fn privilege_key(declared: &str, privilege: &str) -> String {
    format!("{declared}\u{1f}{privilege}")
}

/// The create of `desired` where `live` is what the objects hold before it (read at plan time,
/// the state being `desired`): privileges already held are not granted again, and an exclusive
/// grant revokes the others' from the start.
pub fn plan_create(desired: &Value, live: &Value) -> Result<PlannedChange, ProviderError> {
    let desired = Grant::from_value(desired)?;
    let live = Grant::from_value(live)?;
    let (operations, planned) = desired.changes_from(Some(&live), true)?;
    let locks = desired.locks(&planned, Some(&live));
    Ok(PlannedChange { locks, ..super::change(Action::Create, planned, operations) })
}

/// The (object, role) pairs the `postgres_grant` resources among `values` declare.
pub fn declared<'a>(values: impl Iterator<Item = (&'a str, &'a Value)>) -> BTreeSet<String> {
    values.filter(|(type_name, _)| *type_name == TYPE).filter_map(|(_, value)| Grant::from_value(value).ok()).flat_map(|g| g.declared_keys()).collect()
}

/// A live grant without the privileges of others that another resource declares: those are not
/// this one's to revoke, even when exclusive.
pub fn without_declared(live: Value, state: &Value, declared: &BTreeSet<String>) -> Value {
    let (Ok(mut grant), Ok(state)) = (Grant::from_value(&live), Grant::from_value(state)) else { return live };
    if !grant.exclusive {
        return live;
    }
    let others = std::mem::take(&mut grant.others);
    grant.others = others.into_iter().filter(|(local, grantee, _)| !grant.declared_elsewhere(declared, local, grantee, None)).collect();
    // The role's own privileges another grant of it declares.
    let mut granted = std::mem::take(&mut grant.granted);
    for (local, list) in &mut granted {
        list.retain(|h| {
            let privilege = parse_held(h).0;
            state.privileges.contains(&privilege) || !grant.declared_elsewhere(declared, local, &grant.role, Some(&privilege))
        });
    }
    grant.privileges = common_privileges(&granted).unwrap_or(grant.privileges);
    grant.granted = granted;
    grant.to_value()
}

/// The catalog query: every object's ACL entries, one row per entry (one row with NULL entry for
/// an object with none), PUBLIC as `public`.
pub fn catalog_query() -> String {
    catalog_query_in(USER_SCHEMAS, "true", "true")
}

/// [`catalog_query`] narrowed to what one grant names: its schema, and its objects when it names
/// them (a plan or read back of one grant costs its objects' ACLs, not the database's).
fn catalog_query_for(grant: &Grant) -> String {
    let Some(schema) = &grant.schema else { return catalog_query() };
    let names: BTreeSet<String> = grant.objects.iter().map(|object| object.split('(').next().unwrap_or(object).trim().to_owned()).collect();
    let named = |column: &str| match names.is_empty() {
        true => "true".to_owned(),
        false => format!("{column} = ANY({})", super::text_array(&names)),
    };
    let in_schema = format!("{USER_SCHEMAS} AND n.nspname = {}", crate::ddl::literal(schema));
    catalog_query_in(&in_schema, &named("c.relname"), &named("p.proname"))
}

/// Every ACL of the relations (and their columns), routines and schemas whose namespace `n`
/// meets `schemas`, the relations and routines also `relations` and `routines`; the database,
/// foreign data wrappers and servers always.
fn catalog_query_in(schemas: &str, relations: &str, routines: &str) -> String {
    format!(
        "SELECT o.kind, o.id, pg_get_userbyid(o.owner)::text, CASE WHEN a.grantee = 0 THEN 'public' ELSE pg_get_userbyid(a.grantee)::text END, a.privilege_type, a.is_grantable \
         FROM ( \
           SELECT CASE c.relkind WHEN 'S' THEN 'sequence' ELSE 'table' END AS kind, n.nspname || '.' || c.relname AS id, c.relowner AS owner, \
                  coalesce(c.relacl, acldefault((CASE c.relkind WHEN 'S' THEN 's' ELSE 'r' END)::\"char\", c.relowner)) AS acl \
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') AND {schemas} AND {relations} \
           UNION ALL \
           SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, n.nspname || '.' || p.proname || '(' || oidvectortypes(p.proargtypes) || ')', \
                  p.proowner, coalesce(p.proacl, acldefault('f'::\"char\", p.proowner)) \
           FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {schemas} AND {routines} \
           UNION ALL \
           SELECT 'schema', n.nspname::text, n.nspowner, coalesce(n.nspacl, acldefault('n'::\"char\", n.nspowner)) FROM pg_namespace n WHERE {schemas} \
           UNION ALL \
           SELECT 'database', d.datname::text, d.datdba, coalesce(d.datacl, acldefault('d'::\"char\", d.datdba)) FROM pg_database d WHERE d.datname = current_database() \
           UNION ALL \
           SELECT 'foreign_data_wrapper', w.fdwname::text, w.fdwowner, coalesce(w.fdwacl, acldefault('F'::\"char\", w.fdwowner)) FROM pg_foreign_data_wrapper w \
           UNION ALL \
           SELECT 'foreign_server', s.srvname::text, s.srvowner, coalesce(s.srvacl, acldefault('S'::\"char\", s.srvowner)) FROM pg_foreign_server s \
           UNION ALL \
           SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname, c.relowner, a.attacl \
           FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
           WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND {schemas} AND {relations} \
         ) o LEFT JOIN LATERAL aclexplode(o.acl) a ON true"
    )
}

/// The rows of [`catalog_query`] as snapshot values by `kind:id`: `owner` and `acl`.
pub fn acls(rows: &[tokio_postgres::Row]) -> BTreeMap<String, Value> {
    let mut all: BTreeMap<String, (String, Vec<Value>)> = BTreeMap::new();
    for row in rows {
        let key = format!("{}:{}", row.get::<_, String>(0), row.get::<_, String>(1));
        let entry = all.entry(key).or_insert_with(|| (row.get::<_, Option<String>>(2).unwrap_or_default(), Vec::new()));
        if let (Some(grantee), Some(privilege), Some(grantable)) = (row.get::<_, Option<String>>(3), row.get::<_, Option<String>>(4), row.get::<_, Option<bool>>(5)) {
            entry.1.push(entry_value(&grantee, &privilege, grantable));
        }
    }
    all.into_iter().map(|(key, (owner, acl))| (key, Value::object([("owner", Value::from(owner.as_str())), ("acl", Value::List(acl))]))).collect()
}

/// The privileges on the relation `kind:schema.name` held by grantees other than its owner, by
/// grantee: for `strata drift`'s unmanaged objects.
pub fn held_by_others(all: &BTreeMap<String, Value>, key: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(value) = all.get(key) else { return out };
    let owner = value.get_str("owner").unwrap_or_default();
    for entry in entries(value).into_iter().filter(|e| e.grantee != owner) {
        out.entry(entry.grantee).or_default().push(entry.privilege);
    }
    out
}

/// The relations (`table` or `sequence` kind, schema, name) a grant's state covers among the live
/// ones: managed objects, for `strata drift`'s unmanaged privileges.
pub fn relations_covered(all: &BTreeMap<String, Value>, state: &Value) -> Vec<(&'static str, String, String)> {
    let Ok(grant) = Grant::from_value(state) else { return vec![] };
    let kind = match grant.object_type.as_str() {
        "table" => "table",
        "sequence" => "sequence",
        _ => return vec![],
    };
    grant.targets(all).into_iter().filter(|(_, live)| live.is_some()).map(|(local, _)| (kind, grant.schema_name().to_owned(), local)).collect()
}

/// Whether a `postgres_grant` among `declared` declares `grantee`'s privileges on the relation
/// `schema.name` of `object_type` (`table` or `sequence`).
pub fn declares(declared: &BTreeSet<String>, object_type: &str, schema: &str, name: &str, grantee: &str) -> bool {
    [name, "*"].iter().any(|l| declared.contains(&declared_key(object_type, schema, l, grantee)))
}

pub fn schema() -> ResourceSchema {
    ResourceSchema {
        periodic: false,
        description: "Privileges of one role on objects of one type, granted and revoked one privilege at a time.",
        block: Block::new()
            .attribute("database", A::required(Type::String).force_new().describe("must be the provider's database"))
            .attribute("role", A::required(Type::String).force_new().describe("the grantee; \"public\" is PUBLIC"))
            .attribute("schema", A::optional(Type::String).force_new().describe("required but for object_type database"))
            .attribute("object_type", A::required(Type::String).force_new().one_of(OBJECT_TYPES))
            .attribute("objects", A::optional(Type::list_of(Type::String)).describe("unset or [] is every object of the type in the schema"))
            .attribute("columns", A::optional(Type::list_of(Type::String)).describe("for object_type column"))
            .attribute("privileges", A::required(Type::list_of(Type::String)).describe("ALL is every privilege of the type"))
            .attribute("with_grant_option", A::optional(Type::Bool))
            .attribute("exclusive", A::optional(Type::Bool).describe("revoke every privilege on the objects this configuration does not declare (but the owner's)"))
            .attribute("granted", A::computed(Type::map_of(Type::list_of(Type::String))))
            .attribute("others", A::computed(Type::list_of(Type::list_of(Type::String))))
            .attribute("id", A::computed(Type::String)),
    }
}

pub struct GrantKind;

#[async_trait]
impl Kind for GrantKind {
    fn type_name(&self) -> &'static str {
        TYPE
    }

    /// A grant waits for its role and the objects it names, or with `objects = []` for every
    /// object of its type in its schema.
    fn object_names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        let mut uses: Vec<String> = value.get_str("role").and_then(|role| scope.role(role)).into_iter().collect();
        match value.get_str("object_type").unwrap_or_default() {
            "database" => uses.extend(value.get_str("database").map(|database| scope.cluster("database", database))),
            "schema" => uses.push(scope.schema(value)),
            "table" | "column" => uses.extend(objects_used(scope, value, "relation", "table")),
            "sequence" => uses.extend(objects_used(scope, value, "relation", "sequence")),
            "function" | "procedure" | "routine" => uses.extend(objects_used(scope, value, "function", "function")),
            _ => {}
        }
        ObjectNames { makes: vec![], uses }
    }

    fn import_id(&self) -> &'static str {
        "not importable: declare the grant and apply (privileges already held plan no change)"
    }

    fn schema(&self) -> ResourceSchema {
        schema()
    }

    async fn read(&self, catalog: &Catalog<'_>) -> Result<BTreeMap<String, Value>, ProviderError> {
        Ok(acls(&query(catalog, &catalog_query()).await?))
    }

    async fn read_for(&self, catalog: &Catalog<'_>, value: &Value) -> Result<BTreeMap<String, Value>, ProviderError> {
        Ok(acls(&query(catalog, &catalog_query_for(&Grant::from_value(value)?)).await?))
    }

    fn find_live(&self, live: &BTreeMap<String, Value>, state: &Value) -> Result<Option<Value>, ProviderError> {
        Ok(Some(Grant::from_value(state)?.live(live).to_value()))
    }

    super::names_no_object!();

    async fn plan(&self, _catalog: Option<&Catalog<'_>>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
        let desired = Grant::from_value(desired)?;
        let prior = prior.map(Grant::from_value).transpose()?;
        if let Some(live) = &prior {
            let because = super::differing(&[
                ("database", live.database != desired.database),
                ("role", live.role != desired.role),
                ("schema", live.schema != desired.schema),
                ("object_type", live.object_type != desired.object_type),
            ]);
            if !because.is_empty() {
                let (grants, planned) = desired.changes(None)?;
                let operations = live.revoke_all_held().into_iter().chain(grants).collect();
                let mut locks = live.locks(&live.to_value(), None);
                locks.extend(desired.locks(&planned, None));
                return Ok(PlannedChange { replace_because: because, locks, ..super::change(Action::Replace, planned, operations) });
            }
        }
        let (operations, planned) = desired.changes(prior.as_ref())?;
        let action = match (&prior, operations.is_empty()) {
            (None, _) => Action::Create,
            (Some(_), true) if prior.as_ref().is_some_and(|p| p.to_value() == planned) => Action::NoOp,
            (Some(_), _) => Action::Update,
        };
        let locks = desired.locks(&planned, prior.as_ref());
        let planned = match action {
            Action::NoOp => prior.map_or(planned, |p| p.to_value()),
            _ => planned,
        };
        Ok(PlannedChange { locks, ..super::change(action, planned, operations) })
    }

    fn plan_delete(&self, prior: &Value) -> Result<PlannedChange, ProviderError> {
        let grant = Grant::from_value(prior)?;
        Ok(PlannedChange { locks: grant.locks(prior, None), ..super::change(Action::Delete, Value::Null, grant.revoke_all_held()) })
    }

    fn drop_statements(&self, prior: &Value) -> Result<Vec<String>, ProviderError> {
        Ok(Grant::from_value(prior)?.revoke_all_held())
    }
}

/// The schema of a grant and the objects it names (`made`, as `order` keys them), or every `kind`
/// of the schema for `objects = []`.
fn objects_used(scope: &Scope<'_>, value: &Value, made: &str, kind: &str) -> Vec<String> {
    let schema = value.get_str("schema").unwrap_or("public");
    let mut uses = vec![scope.schema(value)];
    match value.get_strings("objects") {
        objects if objects.is_empty() => uses.push(crate::order::in_schema(scope, kind, schema)),
        // A function may be named with its argument types, `score(int, text)`: it is made as `score`.
        objects => uses.extend(objects.iter().map(|object| scope.local(made, &format!("{schema}.{}", object.split('(').next().unwrap_or(object).trim())))),
    }
    uses
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn grant(pairs: &[(&str, Value)]) -> Grant {
        let mut value = Value::object([
            ("database", Value::from("app")),
            ("role", Value::from("feature_serving")),
            ("schema", Value::from("public")),
            ("object_type", Value::from("table")),
            ("objects", Value::List(vec![Value::from("features")])),
            ("privileges", Value::List(vec![Value::from("select")])),
        ]);
        for (key, v) in pairs {
            value.set(key, v.clone());
        }
        Grant::from_value(&value).unwrap()
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::from(*s)).collect())
    }

    #[test]
    fn privileges_are_upper_case_sorted_once_and_all_is_its_expansion() {
        assert_eq!(normalize_privileges("t", "table", &strings(&["select", "INSERT", "Select"])).unwrap(), ["INSERT", "SELECT"]);
        let all = normalize_privileges("t", "table", &strings(&["ALL"])).unwrap();
        assert_eq!(all, normalize_privileges("t", "table", &strings(&["trigger", "select", "insert", "update", "delete", "truncate", "references"])).unwrap());
        assert_eq!(normalize_privileges("t", "database", &strings(&["temp", "connect"])).unwrap(), ["CONNECT", "TEMPORARY"]);
        assert_eq!(normalize_privileges("t", "sequence", &strings(&["all privileges"])).unwrap(), ["SELECT", "UPDATE", "USAGE"]);
        let wrong = normalize_privileges("postgres_grant", "table", &strings(&["SELEC"])).unwrap_err();
        assert!(wrong.message.contains("\"SELEC\" is not a privilege of a table"), "{wrong:?}");
        assert!(wrong.hint.as_deref().is_some_and(|h| h.contains("did you mean SELECT?")), "{wrong:?}");
        let misplaced = normalize_privileges("postgres_grant", "schema", &strings(&["SELECT"])).unwrap_err();
        assert!(misplaced.hint.as_deref().is_some_and(|h| h.contains("CREATE, USAGE")), "{misplaced:?}");
    }

    #[test]
    fn a_typo_in_object_type_names_the_closest() {
        let mut value = grant(&[]).to_value();
        value.set("object_type", Value::from("tabel"));
        let error = Grant::from_value(&value).unwrap_err();
        assert!(error.hint.as_deref().is_some_and(|h| h.contains("did you mean \"table\"")), "{error:?}");
    }

    #[test]
    fn a_plan_grants_and_revokes_one_privilege_at_a_time() {
        let desired = grant(&[("privileges", list(&["SELECT", "INSERT"]))]);
        let (create, planned) = desired.changes(None).unwrap();
        assert_eq!(create, ["GRANT INSERT ON \"public\".\"features\" TO \"feature_serving\"", "GRANT SELECT ON \"public\".\"features\" TO \"feature_serving\""]);
        assert_eq!(planned.get("granted").and_then(|g| g.get("features")), Some(&list(&["INSERT", "SELECT"])));
        let mut live = desired.clone();
        live.granted = BTreeMap::from([("features".to_owned(), strings(&["INSERT", "SELECT", "UPDATE"]))]);
        let narrowed = grant(&[("privileges", list(&["SELECT"]))]);
        let (update, _) = narrowed.changes(Some(&live)).unwrap();
        assert_eq!(update, ["REVOKE INSERT ON \"public\".\"features\" FROM \"feature_serving\"", "REVOKE UPDATE ON \"public\".\"features\" FROM \"feature_serving\""]);
        live.granted = BTreeMap::from([("features".to_owned(), strings(&["INSERT", "SELECT"]))]);
        assert_eq!(desired.changes(Some(&live)).unwrap().0, Vec::<String>::new());
    }

    #[test]
    fn public_columns_functions_and_grant_options() {
        let public = grant(&[("role", Value::from("public"))]);
        assert_eq!(public.changes(None).unwrap().0, ["GRANT SELECT ON \"public\".\"features\" TO PUBLIC"]);
        let column = grant(&[("object_type", Value::from("column")), ("columns", list(&["score"])), ("privileges", list(&["update"]))]);
        assert_eq!(column.changes(None).unwrap().0, ["GRANT UPDATE (\"score\") ON TABLE \"public\".\"features\" TO \"feature_serving\""]);
        let function = grant(&[("object_type", Value::from("function")), ("objects", list(&["score(integer)"])), ("privileges", list(&["execute"])), ("with_grant_option", Value::Bool(true))]);
        assert_eq!(function.changes(None).unwrap().0, ["GRANT EXECUTE ON FUNCTION \"public\".\"score\"(integer) TO \"feature_serving\" WITH GRANT OPTION"]);
        let mut live = grant(&[]);
        live.granted = BTreeMap::from([("features".to_owned(), strings(&["SELECT WITH GRANT OPTION"]))]);
        assert_eq!(grant(&[]).changes(Some(&live)).unwrap().0, ["REVOKE GRANT OPTION FOR SELECT ON \"public\".\"features\" FROM \"feature_serving\""]);
        let all = grant(&[("objects", Value::List(vec![])), ("privileges", list(&["select"]))]);
        assert_eq!(all.changes(None).unwrap().0, ["GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"feature_serving\""]);
        let database = grant(&[("object_type", Value::from("database")), ("objects", Value::Null), ("privileges", list(&["connect"]))]);
        assert_eq!(database.changes(None).unwrap().0, ["GRANT CONNECT ON DATABASE \"app\" TO \"feature_serving\""]);
    }

    fn acl(owner: &str, entries: &[(&str, &str, bool)]) -> Value {
        Value::object([("owner", Value::from(owner)), ("acl", Value::List(entries.iter().map(|(g, p, o)| entry_value(g, p, *o)).collect()))])
    }

    #[test]
    fn live_shows_only_what_it_manages_unless_exclusive() {
        let all = BTreeMap::from([
            ("table:public.features".to_owned(), acl("app", &[("app", "SELECT", false), ("feature_serving", "SELECT", false), ("feature_serving", "DELETE", false), ("public", "SELECT", false)])),
            ("table:public.labels".to_owned(), acl("app", &[])),
            ("sequence:public.ids".to_owned(), acl("app", &[("feature_serving", "USAGE", false)])),
        ]);
        let plain = grant(&[]).live(&all);
        assert_eq!(plain.granted, BTreeMap::from([("features".to_owned(), strings(&["SELECT"]))]));
        assert_eq!(plain.privileges, ["SELECT"]);
        assert!(plain.others.is_empty());
        let exclusive = grant(&[("exclusive", Value::Bool(true))]).live(&all);
        assert_eq!(exclusive.granted, BTreeMap::from([("features".to_owned(), strings(&["DELETE", "SELECT"]))]));
        assert_eq!(exclusive.others, [("features".to_owned(), "public".to_owned(), "SELECT".to_owned())]);
        let (statements, _) = grant(&[("exclusive", Value::Bool(true))]).changes(Some(&exclusive)).unwrap();
        assert_eq!(statements, ["REVOKE DELETE ON \"public\".\"features\" FROM \"feature_serving\"", "REVOKE SELECT ON \"public\".\"features\" FROM PUBLIC"]);
        // Declared by another resource: not revoked.
        let others = declared([(TYPE, &grant(&[("role", Value::from("public"))]).to_value())].into_iter());
        let state = grant(&[("exclusive", Value::Bool(true))]).to_value();
        let kept = Grant::from_value(&without_declared(exclusive.to_value(), &state, &others)).unwrap();
        assert!(kept.others.is_empty(), "{kept:?}");
        // The role's own DELETE, declared by another grant of it: not revoked either.
        let deleting = declared([(TYPE, &grant(&[("privileges", list(&["delete"]))]).to_value())].into_iter());
        let kept = Grant::from_value(&without_declared(exclusive.to_value(), &state, &deleting)).unwrap();
        assert_eq!(kept.granted, BTreeMap::from([("features".to_owned(), strings(&["SELECT"]))]));
        assert_eq!(kept.privileges, ["SELECT"]);
        // Every table of the schema.
        let every = grant(&[("objects", Value::List(vec![]))]).live(&all);
        assert_eq!(every.granted.keys().collect::<Vec<_>>(), ["features", "labels"]);
        assert_eq!(every.privileges, Vec::<String>::new());
        let (statements, _) = grant(&[("objects", Value::List(vec![]))]).changes(Some(&every)).unwrap();
        assert_eq!(statements, ["GRANT SELECT ON \"public\".\"labels\" TO \"feature_serving\""]);
    }

    #[test]
    fn functions_are_named_alone_or_with_their_arguments() {
        assert!(Grant::names("score", "score(integer, text)"));
        assert!(Grant::names("score(integer,text)", "score(integer, text)"));
        assert!(Grant::names("score(int4, text)", "score(integer, text)"));
        assert!(!Grant::names("score(integer)", "score(integer, text)"));
        assert!(!Grant::names("scores", "score(integer)"));
    }

    #[test]
    fn changes_lock_the_objects_whose_acl_they_write() {
        let desired = grant(&[("objects", list(&["features", "labels"]))]);
        let (_, planned) = desired.changes(None).unwrap();
        assert_eq!(desired.locks(&planned, None), ["public.features", "public.labels"]);
        let every = grant(&[("objects", Value::List(vec![]))]);
        let (_, planned) = every.changes(None).unwrap();
        assert_eq!(every.locks(&planned, None), ["table in schema public"]);
    }

    #[test]
    fn a_delete_revokes_what_it_holds() {
        let mut live = grant(&[]);
        live.granted = BTreeMap::from([("features".to_owned(), strings(&["SELECT WITH GRANT OPTION"]))]);
        assert_eq!(live.revoke_all_held(), ["REVOKE SELECT ON \"public\".\"features\" FROM \"feature_serving\""]);
    }
}
