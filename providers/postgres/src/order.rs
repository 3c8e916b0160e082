//! What each resource makes and names by literal name, for the engine's apply order (see
//! `ObjectNames`): roles before the grants, memberships, owners and policies that name them,
//! objects before the grants on them, and the reverse for drops (a revoke before the role's or
//! table's drop). The older kinds are answered here; each kind in `objects` declares its own
//! (`Object::NAMING`, or `Kind::object_names`), with the helpers below.
//!
//! Keys are `SERVER/DATABASE/KIND:NAME` for objects of a database and `SERVER/KIND:NAME` for
//! roles and databases (they are the server's), so two configurations of the provider against
//! different servers or databases never order each other.

use strata_provider_sdk::{ObjectNames, Value};

/// The server and database a provider configuration connects to, as keys name them.
pub struct Scope<'a> {
    pub server: &'a str,
    pub database: &'a str,
}

impl Scope<'_> {
    /// A server-wide object: a role, a database.
    pub fn cluster(&self, kind: &str, name: &str) -> String {
        format!("{}/{kind}:{name}", self.server)
    }

    /// An object of the connected database.
    pub fn local(&self, kind: &str, name: &str) -> String {
        format!("{}/{}/{kind}:{name}", self.server, self.database)
    }

    /// The role `name` (`None` for PUBLIC, which nothing makes).
    pub fn role(&self, name: &str) -> Option<String> {
        (!name.eq_ignore_ascii_case("public")).then(|| self.cluster("role", name))
    }

    /// The roles a value names under `key` (a list).
    pub fn roles(&self, value: &Value, key: &str) -> Vec<String> {
        value.get_strings(key).iter().filter_map(|role| self.role(role)).collect()
    }

    /// The schema a value names (default `public`).
    pub fn schema(&self, value: &Value) -> String {
        self.local("schema", schema_of(value))
    }
}

/// How an object of a kind in `objects` is named by others.
pub enum Naming {
    /// It names nothing, and nothing names it.
    Nothing,
    /// It is `made` (`relation`, `function`, `type`) `schema.name`, one of the schema's `kind`s
    /// (what `objects = []` of a grant covers), and uses its schema.
    InSchema { made: &'static str, kind: &'static str },
    /// It lives on the table it names (`table`), and applies to the roles it lists (`roles`).
    OnTable,
}

impl Naming {
    pub fn names(&self, scope: &Scope<'_>, value: &Value) -> ObjectNames {
        let mut names = ObjectNames::default();
        match self {
            Naming::Nothing => {}
            Naming::InSchema { made, kind } => {
                if let Some(name) = text(value, "name") {
                    names.makes.push(scope.local(made, &qualified(value, name)));
                    names.makes.push(in_schema(scope, kind, schema_of(value)));
                    names.uses.push(scope.schema(value));
                }
            }
            Naming::OnTable => {
                names.uses.extend(text(value, "table").map(|table| scope.local("relation", &qualified(value, table))));
                names.uses.extend(scope.roles(value, "roles"));
            }
        }
        names
    }
}

/// The key every object of `kind` (`table`, `sequence`, `function`, `type`) in `schema` makes.
pub fn in_schema(scope: &Scope<'_>, kind: &str, schema: &str) -> String {
    scope.local(&format!("{kind} in"), schema)
}

/// The role a value names as its `owner`, if any.
pub fn owner(scope: &Scope<'_>, value: &Value) -> Option<String> {
    text(value, "owner").and_then(|owner| scope.role(owner))
}

/// What a resource of one of the older kinds (strata's name) makes and uses; `None` for the
/// kinds in `objects`, which answer for themselves.
pub fn of_older_kind(scope: &Scope<'_>, type_name: &str, value: &Value) -> Option<ObjectNames> {
    let mut names = ObjectNames::default();
    names.uses.extend(owner(scope, value));
    match type_name {
        "postgres_schema" => {
            names.makes.extend(text(value, "name").map(|name| scope.local("schema", name)));
            names.uses.extend(value.get_list("policy").iter().filter_map(|policy| policy.get_str("role")).filter_map(|role| scope.role(role)));
        }
        "postgres_table" => names.makes.extend(Naming::InSchema { made: "relation", kind: "table" }.names(scope, value).makes),
        "postgres_enum" => names.makes.extend(Naming::InSchema { made: "type", kind: "type" }.names(scope, value).makes),
        "postgres_extension" => names.uses.push(scope.schema(value)),
        "postgres_index" => names.uses.extend(Naming::OnTable.names(scope, value).uses),
        _ => return None,
    }
    if matches!(type_name, "postgres_table" | "postgres_enum") {
        names.uses.push(scope.schema(value));
    }
    Some(names)
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get_str(key).filter(|s| !s.is_empty())
}

fn schema_of(value: &Value) -> &str {
    text(value, "schema").unwrap_or("public")
}

/// `name` in the value's schema, unless it names one itself (`schema.table`).
fn qualified(value: &Value, name: &str) -> String {
    match name.split_once('.') {
        Some(_) => name.to_owned(),
        None => format!("{}.{name}", schema_of(value)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub const SCOPE: Scope<'static> = Scope { server: "db:5432", database: "app" };

    #[test]
    fn a_table_makes_itself_one_of_its_schemas_tables_and_uses_its_owner_and_schema() {
        let table = of_older_kind(&SCOPE, "postgres_table", &Value::object([("name", Value::string("features")), ("owner", Value::string("etl"))])).unwrap();
        assert_eq!(table.makes, ["db:5432/app/relation:public.features", "db:5432/app/table in:public"]);
        assert_eq!(table.uses, ["db:5432/role:etl", "db:5432/app/schema:public"]);
        let index = of_older_kind(&SCOPE, "postgres_index", &Value::object([("schema", Value::string("serving")), ("table", Value::string("embeddings"))])).unwrap();
        assert_eq!(index.uses, ["db:5432/app/relation:serving.embeddings"]);
        assert!(of_older_kind(&SCOPE, "postgres_grant", &Value::Null).is_none());
    }

    fn of_kind(type_name: &str, fields: &[(&str, Value)]) -> ObjectNames {
        crate::objects::kind(type_name).expect("a kind").object_names(&SCOPE, &Value::object(fields.iter().cloned()))
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::string(*s)).collect())
    }

    #[test]
    fn a_grant_uses_its_role_and_what_it_names_and_the_kinds_make_it() {
        let grant = of_kind("postgres_grant", &[("role", Value::string("serving")), ("object_type", Value::string("table")), ("objects", strings(&["features"]))]);
        assert_eq!(grant.uses, ["db:5432/role:serving", "db:5432/app/schema:public", "db:5432/app/relation:public.features"]);
        let all = of_kind("postgres_grant", &[("role", Value::string("public")), ("object_type", Value::string("sequence")), ("objects", strings(&[]))]);
        assert_eq!(all.uses, ["db:5432/app/schema:public", "db:5432/app/sequence in:public"]);
        let function = of_kind("postgres_grant", &[("role", Value::string("serving")), ("object_type", Value::string("function")), ("objects", strings(&["score(int, text)"]))]);
        assert!(function.uses.contains(&"db:5432/app/function:public.score".to_owned()), "{function:?}");
        let made = of_kind("postgres_function", &[("name", Value::string("score")), ("owner", Value::string("etl"))]);
        assert_eq!(made.makes, ["db:5432/app/function:public.score", "db:5432/app/function in:public"]);
        assert!(made.uses.contains(&"db:5432/role:etl".to_owned()), "{made:?}");
        let view = of_kind("postgres_view", &[("name", Value::string("feature_serving"))]);
        assert_eq!(view.makes, ["db:5432/app/relation:public.feature_serving", "db:5432/app/table in:public"]);
    }

    #[test]
    fn roles_memberships_policies_and_databases_name_roles() {
        let role = of_kind("postgres_role", &[("name", Value::string("analyst")), ("roles", strings(&["readers", "public"]))]);
        assert_eq!((role.makes, role.uses), (vec!["db:5432/role:analyst".to_owned()], vec!["db:5432/role:readers".to_owned()]));
        let member = of_kind("postgres_grant_role", &[("role", Value::string("analyst")), ("grant_role", Value::string("readers"))]);
        assert_eq!(member.uses, ["db:5432/role:analyst", "db:5432/role:readers"]);
        let policy = of_kind("postgres_policy", &[("table", Value::string("training_data")), ("roles", strings(&["analyst"]))]);
        assert_eq!(policy.uses, ["db:5432/app/relation:public.training_data", "db:5432/role:analyst"]);
        let database = of_kind("postgres_database", &[("name", Value::string("analytics")), ("owner", Value::string("app"))]);
        assert_eq!((database.makes, database.uses), (vec!["db:5432/database:analytics".to_owned()], vec!["db:5432/role:app".to_owned()]));
    }

    #[test]
    fn public_is_no_role_anything_makes() {
        let value = Value::object([("roles", Value::List(vec![Value::string("readers"), Value::string("PUBLIC")]))]);
        assert_eq!(SCOPE.roles(&value, "roles"), ["db:5432/role:readers"]);
    }
}
