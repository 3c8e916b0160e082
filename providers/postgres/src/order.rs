//! What each resource makes and names by literal name, for the engine's apply order (see
//! `ObjectNames`): roles before the grants, memberships, owners and policies that name them,
//! objects before the grants on them, and the reverse for drops (a revoke before the role's or
//! table's drop).
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
    fn cluster(&self, kind: &str, name: &str) -> String {
        format!("{}/{kind}:{name}", self.server)
    }

    fn local(&self, kind: &str, name: &str) -> String {
        format!("{}/{}/{kind}:{name}", self.server, self.database)
    }

    fn role(&self, name: &str) -> Option<String> {
        (!name.eq_ignore_ascii_case("public")).then(|| self.cluster("role", name))
    }
}

/// What a resource of `type_name` (strata's name) valued `value` makes and uses.
pub fn names(scope: &Scope<'_>, type_name: &str, value: &Value) -> ObjectNames {
    let text = |key: &str| value.get_str(key).filter(|s| !s.is_empty());
    let schema = text("schema").unwrap_or("public");
    let qualified = |name: &str| match name.split_once('.') {
        Some(_) => name.to_owned(),
        None => format!("{schema}.{name}"),
    };
    let mut names = ObjectNames::default();
    let owner = text("owner").and_then(|owner| scope.role(owner));
    names.uses.extend(owner);
    let in_schema = |names: &mut ObjectNames, kind: &str, made: &str, name: &str| {
        names.makes.push(scope.local(made, &qualified(name)));
        names.makes.push(scope.local(&format!("{kind} in"), schema));
        names.uses.push(scope.local("schema", schema));
    };
    match (type_name, text("name")) {
        ("postgres_schema", Some(name)) => {
            names.makes.push(scope.local("schema", name));
            names.uses.extend(value.get_list("policy").iter().filter_map(|policy| policy.get_str("role")).filter_map(|role| scope.role(role)));
        }
        ("postgres_table" | "postgres_view" | "postgres_materialized_view", Some(name)) => in_schema(&mut names, "table", "relation", name),
        ("postgres_sequence", Some(name)) => in_schema(&mut names, "sequence", "relation", name),
        ("postgres_function", Some(name)) => in_schema(&mut names, "function", "function", name),
        ("postgres_enum" | "postgres_domain" | "postgres_composite_type", Some(name)) => in_schema(&mut names, "type", "type", name),
        ("postgres_extension", _) => names.uses.push(scope.local("schema", schema)),
        ("postgres_index" | "postgres_trigger" | "postgres_policy", _) => {
            names.uses.extend(text("table").map(|table| scope.local("relation", &qualified(table))));
            names.uses.extend(value.get_strings("roles").iter().filter_map(|role| scope.role(role)));
        }
        ("postgres_role", Some(name)) => {
            names.makes.push(scope.cluster("role", name));
            names.uses.extend(value.get_strings("roles").iter().filter_map(|role| scope.role(role)));
        }
        ("postgres_database", Some(name)) => names.makes.push(scope.cluster("database", name)),
        ("postgres_grant_role", _) => names.uses.extend(["role", "grant_role"].into_iter().filter_map(|key| text(key).and_then(|role| scope.role(role)))),
        ("postgres_grant", _) => grant_uses(scope, value, schema, &mut names),
        ("postgres_default_privileges", _) => {
            names.uses.extend(text("role").and_then(|role| scope.role(role)));
            names.uses.extend(text("schema").map(|schema| scope.local("schema", schema)));
        }
        _ => {}
    }
    names
}

/// A grant waits for its role and for the objects it names, or with `objects = []` for every
/// object of its type in its schema.
fn grant_uses(scope: &Scope<'_>, value: &Value, schema: &str, names: &mut ObjectNames) {
    names.uses.extend(value.get_str("role").and_then(|role| scope.role(role)));
    let object_type = value.get_str("object_type").unwrap_or_default();
    let (made, kind) = match object_type {
        "database" => {
            names.uses.extend(value.get_str("database").map(|database| scope.cluster("database", database)));
            return;
        }
        "schema" => {
            names.uses.push(scope.local("schema", schema));
            return;
        }
        "table" | "column" => ("relation", "table"),
        "sequence" => ("relation", "sequence"),
        "function" | "procedure" | "routine" => ("function", "function"),
        _ => return,
    };
    names.uses.push(scope.local("schema", schema));
    match value.get_strings("objects") {
        objects if objects.is_empty() => names.uses.push(scope.local(&format!("{kind} in"), schema)),
        // A function may be named with its argument types, `score(int, text)`: it is made as `score`.
        objects => names.uses.extend(objects.iter().map(|object| scope.local(made, &format!("{schema}.{}", object.split('(').next().unwrap_or(object).trim())))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCOPE: Scope<'static> = Scope { server: "db:5432", database: "app" };

    fn of(type_name: &str, fields: &[(&str, Value)]) -> ObjectNames {
        names(&SCOPE, type_name, &Value::object(fields.iter().cloned()))
    }

    fn strings(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| Value::string(*s)).collect())
    }

    #[test]
    fn a_grant_uses_its_role_and_the_tables_it_names_and_a_table_makes_them() {
        let table = of("postgres_table", &[("name", Value::string("features")), ("owner", Value::string("etl"))]);
        assert_eq!(table.makes, ["db:5432/app/relation:public.features", "db:5432/app/table in:public"]);
        assert_eq!(table.uses, ["db:5432/role:etl", "db:5432/app/schema:public"]);
        let grant = of("postgres_grant", &[("role", Value::string("serving")), ("schema", Value::string("public")), ("object_type", Value::string("table")), ("objects", strings(&["features"]))]);
        assert!(grant.uses.contains(&"db:5432/role:serving".to_owned()) && grant.uses.contains(&"db:5432/app/relation:public.features".to_owned()), "{grant:?}");
        let function = of("postgres_grant", &[("role", Value::string("serving")), ("object_type", Value::string("function")), ("objects", strings(&["score(int, text)"]))]);
        assert!(function.uses.contains(&"db:5432/app/function:public.score".to_owned()), "{function:?}");
        let all = of("postgres_grant", &[("role", Value::string("public")), ("object_type", Value::string("table")), ("objects", strings(&[]))]);
        assert_eq!(all.uses, ["db:5432/app/schema:public", "db:5432/app/table in:public"]);
    }

    #[test]
    fn a_role_makes_itself_and_uses_the_roles_it_joins() {
        let role = of("postgres_role", &[("name", Value::string("analyst")), ("roles", strings(&["readers", "public"]))]);
        assert_eq!((role.makes, role.uses), (vec!["db:5432/role:analyst".to_owned()], vec!["db:5432/role:readers".to_owned()]));
    }
}
