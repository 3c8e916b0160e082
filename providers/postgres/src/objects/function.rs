//! `postgres_function`: a function or (with `kind = "procedure"`) a procedure, in the shape of
//! the community provider's `postgresql_function` (`arg` blocks, `returns`, `language`, `body`,
//! `volatility`, `security_definer`, `strict`, `parallel`). Its identity is `schema.name(input
//! argument types)`; the desired definition is put into PostgreSQL's spelling by creating it in
//! `pg_temp` (bodies unchecked) and reading it back with the catalog query.

use std::collections::BTreeMap;

use async_trait::async_trait;
use strata_provider_sdk::{Attribute as A, Block, NestedBlock, PlannedChange, ProviderError, ResourceSchema, Type, Value};
use tokio_postgres::Row;

use super::{in_place, in_temp_schema, shadow_object, with_comment, differing, opt, replacement, required, schema_of, AuthorshipRow, Object};
use crate::catalog::Catalog;
use crate::ddl::{ident, qualified};
use crate::normalize::type_alias;

const SHADOW: &str = "strata_shadow_function";
const KINDS: &[&str] = &["function", "procedure"];
const MODES: &[&str] = &["IN", "OUT", "INOUT", "VARIADIC"];
const VOLATILITIES: &[&str] = &["VOLATILE", "STABLE", "IMMUTABLE"];
const PARALLEL: &[&str] = &["UNSAFE", "RESTRICTED", "SAFE"];

#[derive(Clone, Debug, PartialEq)]
pub struct Argument {
    pub name: Option<String>,
    pub type_name: String,
    /// `IN`, `OUT`, `INOUT` or `VARIADIC`.
    pub mode: String,
    pub default: Option<String>,
}

impl Argument {
    fn is_input(&self) -> bool {
        self.mode != "OUT"
    }

    fn sql(&self) -> String {
        let mut parts = Vec::new();
        if self.mode != "IN" {
            parts.push(self.mode.clone());
        }
        parts.extend(self.name.as_deref().map(ident));
        parts.push(self.type_name.clone());
        if let Some(default) = &self.default {
            parts.push(format!("DEFAULT {default}"));
        }
        parts.join(" ")
    }

    fn from_value(value: &Value) -> Result<Argument, ProviderError> {
        Ok(Argument {
            name: value.get_str("name").filter(|n| !n.is_empty()).map(str::to_owned),
            type_name: required(value, "type", "an arg block")?,
            mode: value.get_str("mode").map_or("IN".to_owned(), str::to_uppercase),
            default: value.get_str("default").map(str::to_owned),
        })
    }

    fn to_value(&self) -> Value {
        Value::object([("name", opt(self.name.as_deref())), ("type", Value::from(self.type_name.as_str())), ("mode", Value::from(self.mode.as_str())), ("default", opt(self.default.as_deref()))])
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub schema: String,
    pub name: String,
    /// `function` or `procedure`.
    pub kind: String,
    pub arguments: Vec<Argument>,
    /// The result type; `None` for a procedure (or a function whose OUT arguments say it).
    pub returns: Option<String>,
    pub language: String,
    pub body: String,
    pub volatility: String,
    pub security_definer: bool,
    pub strict: bool,
    pub parallel: String,
    pub search_path: Option<String>,
    pub comment: Option<String>,
}

impl Function {
    fn is_procedure(&self) -> bool {
        self.kind == "procedure"
    }

    /// The input argument types, as the identity of the function.
    fn signature(&self) -> String {
        let types: Vec<String> = self.arguments.iter().filter(|a| a.is_input()).map(|a| identity_type(&a.type_name)).collect();
        format!("({})", types.join(", "))
    }

    /// `"schema"."name"(types)`, as DROP and COMMENT name it.
    fn sql_signature(&self) -> String {
        format!("{}{}", qualified(&self.schema, &self.name), self.signature())
    }

    fn keyword(&self) -> &'static str {
        if self.is_procedure() {
            "PROCEDURE"
        } else {
            "FUNCTION"
        }
    }

    /// `CREATE [OR REPLACE] FUNCTION` with every attribute spelled out: a replace resets those it
    /// leaves out.
    fn definition(&self, verb: &str, name_sql: &str) -> String {
        let arguments = self.arguments.iter().map(Argument::sql).collect::<Vec<_>>().join(", ");
        let mut sql = format!("{verb} {} {name_sql}({arguments})", self.keyword());
        if let Some(returns) = self.returns.as_ref().filter(|_| !self.is_procedure()) {
            sql.push_str(&format!(" RETURNS {returns}"));
        }
        sql.push_str(&format!(" LANGUAGE {}", self.language));
        if !self.is_procedure() {
            let strict = if self.strict { "STRICT" } else { "CALLED ON NULL INPUT" };
            sql.push_str(&format!(" {} {strict} PARALLEL {}", self.volatility, self.parallel));
        }
        sql.push_str(if self.security_definer { " SECURITY DEFINER" } else { " SECURITY INVOKER" });
        if let Some(path) = &self.search_path {
            sql.push_str(&format!(" SET search_path = {path}"));
        }
        sql.push_str(&format!(" AS {}", dollar_quoted(&self.body)));
        sql
    }

}

/// A type as a function's identity spells it: canonical, without a length or precision.
fn identity_type(type_name: &str) -> String {
    let canonical = type_alias(type_name);
    match canonical.split_once('(') {
        Some((base, rest)) => format!("{}{}", base.trim_end(), rest.split_once(')').map_or("", |(_, after)| after)),
        None => canonical,
    }
}

/// `body` between dollar quotes whose tag it does not contain.
fn dollar_quoted(body: &str) -> String {
    let tag = std::iter::once("$strata$".to_owned()).chain((1..).map(|n| format!("$strata_{n}$"))).find(|tag| !body.contains(tag.as_str())).unwrap_or_default();
    format!("{tag}{body}{tag}")
}

/// `text` split at the commas outside parentheses, brackets and quotes (a list of default
/// expressions as `pg_get_expr` prints it).
fn split_top_level(text: &str) -> Vec<String> {
    let (mut parts, mut current, mut depth, mut quote) = (Vec::new(), String::new(), 0i32, None);
    for c in text.chars() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[') => depth += 1,
            (None, ')' | ']') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(current.trim().to_owned());
                current.clear();
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        parts.push(current.trim().to_owned());
    }
    parts
}

fn mode_word(code: &str) -> &'static str {
    match code {
        "o" => "OUT",
        "b" => "INOUT",
        "v" => "VARIADIC",
        "t" => "TABLE",
        _ => "IN",
    }
}

fn code_word(code: &str, words: &[(&str, &'static str)]) -> String {
    words.iter().find(|(c, _)| *c == code).map_or("", |(_, word)| word).to_owned()
}

/// The arguments of a catalog row: names, modes and types, with the defaults of the last inputs.
fn arguments(names: Vec<String>, modes: Vec<String>, types: Vec<String>, defaults: Option<String>) -> Vec<Argument> {
    let mut arguments: Vec<Argument> = types
        .into_iter()
        .enumerate()
        .map(|(i, type_name)| Argument {
            name: names.get(i).filter(|n| !n.is_empty()).cloned(),
            type_name,
            mode: mode_word(modes.get(i).map_or("i", String::as_str)).to_owned(),
            default: None,
        })
        .filter(|a| a.mode != "TABLE")
        .collect();
    let defaults = defaults.map(|d| split_top_level(&d)).unwrap_or_default();
    let inputs: Vec<usize> = arguments.iter().enumerate().filter(|(_, a)| a.is_input()).map(|(i, _)| i).collect();
    for (position, default) in inputs.iter().skip(inputs.len().saturating_sub(defaults.len())).zip(defaults) {
        arguments[*position].default = Some(default);
    }
    arguments
}

#[async_trait]
impl Object for Function {
    const TYPE: &'static str = "postgres_function";
    const IMPORT_ID: &'static str = "schema.name(argument types), or name(argument types) for one in public";
    const OWNED: bool = true;
    const NAMING: crate::order::Naming = crate::order::Naming::InSchema { made: "function", kind: "function" };

    fn schema() -> ResourceSchema {
        let arg = Block::new()
            .attribute("name", A::optional(Type::String))
            .attribute("type", A::required(Type::String))
            .attribute("mode", A::optional_computed(Type::String).one_of_keywords(MODES).describe("IN, OUT, INOUT or VARIADIC, default IN"))
            .attribute("default", A::optional(Type::String).describe("SQL expression"));
        ResourceSchema {
            periodic: false,
            description: "A function or procedure. A change of its argument or result types replaces it; anything else is CREATE OR REPLACE.",
            block: Block::new()
                .attribute("schema", A::optional_computed(Type::String).force_new().describe("default public"))
                .attribute("name", A::required(Type::String).force_new())
                .attribute("kind", A::optional_computed(Type::String).one_of(KINDS).force_new().describe("function or procedure, default function"))
                .attribute("returns", A::optional_computed(Type::String).describe("the result type, such as trigger, integer or SETOF text"))
                .attribute("language", A::optional_computed(Type::String).describe("default plpgsql"))
                .attribute("body", A::required(Type::String).describe("the source, created as written and compared as PostgreSQL stores it, surrounding whitespace aside"))
                .attribute("volatility", A::optional_computed(Type::String).one_of_keywords(VOLATILITIES).describe("VOLATILE, STABLE or IMMUTABLE, default VOLATILE"))
                .attribute("security_definer", A::optional_computed(Type::Bool))
                .attribute("strict", A::optional_computed(Type::Bool).describe("return NULL on a NULL argument without running"))
                .attribute("parallel", A::optional_computed(Type::String).one_of_keywords(PARALLEL).describe("UNSAFE, RESTRICTED or SAFE, default UNSAFE"))
                .attribute("search_path", A::optional(Type::String).describe("SET search_path for its calls, such as \"public, pg_temp\""))
                .attribute("comment", A::optional(Type::String))
                .attribute("id", A::computed(Type::String))
                .block("arg", NestedBlock::list(arg)),
        }
    }

    fn catalog_query(condition: &str) -> String {
        format!(
            "SELECT n.nspname, p.proname, p.prokind::text, l.lanname, coalesce(p.proargnames, '{{}}'), coalesce(p.proargmodes::text[], '{{}}'), \
             ARRAY(SELECT format_type(t, NULL) FROM unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) WITH ORDINALITY u(t, i) ORDER BY i), \
             pg_get_expr(p.proargdefaults, 0), CASE WHEN p.prokind = 'p' THEN NULL ELSE pg_get_function_result(p.oid) END, p.prosrc, \
             p.provolatile::text, p.prosecdef, p.proisstrict, p.proparallel::text, coalesce(p.proconfig, '{{}}'), obj_description(p.oid, 'pg_proc'), pg_get_userbyid(p.proowner) \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang \
             WHERE p.prokind IN ('f', 'p') AND {condition} \
             AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')"
        )
    }

    fn from_row(row: &Row) -> Function {
        let config: Vec<String> = row.get(14);
        Function {
            schema: row.get(0),
            name: row.get(1),
            kind: if row.get::<_, String>(2) == "p" { "procedure" } else { "function" }.to_owned(),
            arguments: arguments(row.get(4), row.get(5), row.get(6), row.get(7)),
            returns: row.get(8),
            language: row.get(3),
            body: row.get(9),
            volatility: code_word(&row.get::<_, String>(10), &[("v", "VOLATILE"), ("s", "STABLE"), ("i", "IMMUTABLE")]),
            security_definer: row.get(11),
            strict: row.get(12),
            parallel: code_word(&row.get::<_, String>(13), &[("u", "UNSAFE"), ("r", "RESTRICTED"), ("s", "SAFE")]),
            search_path: config.iter().find_map(|c| c.strip_prefix("search_path=")).map(str::to_owned),
            comment: row.get(15),
        }
    }

    fn from_value(value: &Value) -> Result<Function, ProviderError> {
        let upper = |key: &str, default: &str| value.get_str(key).map_or(default.to_owned(), |v| v.split_whitespace().collect::<Vec<_>>().join(" ").to_uppercase());
        Ok(Function {
            schema: schema_of(value),
            name: required(value, "name", "postgres_function")?,
            kind: value.get_str("kind").unwrap_or("function").to_owned(),
            arguments: value.get_list("arg").iter().map(Argument::from_value).collect::<Result<_, _>>()?,
            returns: value.get_str("returns").map(str::to_owned),
            language: value.get_str("language").unwrap_or("plpgsql").to_lowercase(),
            // Kept as written, so a re-created function stores the very text it had.
            body: required(value, "body", "postgres_function")?,
            volatility: upper("volatility", "VOLATILE"),
            security_definer: value.get_bool("security_definer").unwrap_or(false),
            strict: value.get_bool("strict").unwrap_or(false),
            parallel: upper("parallel", "UNSAFE"),
            search_path: value.get_str("search_path").map(str::to_owned),
            comment: value.get_str("comment").map(str::to_owned),
        })
    }

    fn to_value(&self) -> Value {
        Value::object([
            ("schema", Value::from(self.schema.as_str())),
            ("name", Value::from(self.name.as_str())),
            ("kind", Value::from(self.kind.as_str())),
            ("arg", Value::List(self.arguments.iter().map(Argument::to_value).collect())),
            ("returns", self.returns.as_deref().map_or(if self.is_procedure() { Value::Null } else { Value::Unknown }, Value::from)),
            ("language", Value::from(self.language.as_str())),
            ("body", Value::from(self.body.as_str())),
            ("volatility", Value::from(self.volatility.as_str())),
            ("security_definer", Value::Bool(self.security_definer)),
            ("strict", Value::Bool(self.strict)),
            ("parallel", Value::from(self.parallel.as_str())),
            ("search_path", opt(self.search_path.as_deref())),
            ("comment", opt(self.comment.as_deref())),
            ("id", Value::from(self.id())),
        ])
    }

    fn id(&self) -> String {
        format!("{}.{}{}", self.schema, self.name, self.signature())
    }

    fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }

    fn commented(&self) -> String {
        format!("{} {}", self.keyword(), self.sql_signature())
    }

    fn import_key(id: &str) -> String {
        let (name, arguments) = id.split_once('(').map_or((id, String::new()), |(name, rest)| (name, format!("({rest}")));
        format!("{}{arguments}", crate::model::qualify(name, "public"))
    }

    /// By id; else by the same name and argument types in any spelling (`int` for `integer`); else,
    /// for an id without arguments, the one function of that name.
    fn find(live: &BTreeMap<String, Value>, key: &str) -> Option<Value> {
        if let Some(found) = live.get(key) {
            return Some(found.clone());
        }
        let (name, arguments) = key.split_once('(').map_or((key, None), |(name, rest)| (name, Some(rest.trim_end_matches(')'))));
        let canonical = |list: &str| split_top_level(list).iter().map(|t| identity_type(t)).collect::<Vec<_>>();
        let same_name: Vec<(&String, &Value)> = live.iter().filter(|(id, _)| id.split_once('(').is_some_and(|(n, _)| n == name)).collect();
        match arguments {
            Some(wanted) => same_name.iter().find(|(id, _)| id.split_once('(').is_some_and(|(_, rest)| canonical(rest.trim_end_matches(')')) == canonical(wanted))).map(|(_, v)| (*v).clone()),
            None if same_name.len() == 1 => Some(same_name[0].1.clone()),
            None => None,
        }
    }

    /// Created in `pg_temp` without checking its body (it may use tables this plan creates), read
    /// back with the catalog query and rolled back.
    async fn normalized(&self, catalog: &Catalog<'_>) -> Result<Option<Function>, ProviderError> {
        let statements = ["SET LOCAL check_function_bodies = off".to_owned(), self.definition("CREATE", &format!("pg_temp.{SHADOW}"))];
        let seen: Option<Function> = shadow_object(catalog, &statements, &in_temp_schema("p.proname", SHADOW)).await?;
        Ok(seen.map(|seen| Function { schema: self.schema.clone(), name: self.name.clone(), comment: self.comment.clone(), ..seen }))
    }

    fn create(&self) -> Vec<String> {
        with_comment(self, vec![self.definition("CREATE", &qualified(&self.schema, &self.name))])
    }

    fn change(prior: &Function, desired: &Function, normalized: Option<&Function>) -> PlannedChange {
        let compare = normalized.unwrap_or(desired);
        let kept_returns = compare.returns.is_none() && !compare.is_procedure();
        let because = differing(&[
            ("schema", prior.schema != desired.schema),
            ("name", prior.name != desired.name),
            ("kind", prior.kind != desired.kind),
            // PostgreSQL cannot change argument names, modes or defaults in place either.
            ("arg", prior.signature() != compare.signature() || prior.arguments != compare.arguments),
            ("returns", !kept_returns && prior.returns != compare.returns),
        ]);
        if !because.is_empty() {
            let id = prior.id();
            let mut planned = replacement(prior, desired, because);
            planned.locking.push(format!("drops {} {id} and creates it again: calls of it fail until it is back (a trigger or view using it makes the drop fail)", prior.kind));
            planned.warnings.push(format!("privileges granted on {} {id} are dropped with it and must be granted again", prior.kind));
            return planned;
        }
        let definition_differs = (&prior.language, prior.body.trim(), &prior.volatility, prior.security_definer, prior.strict, &prior.parallel, &prior.search_path)
            != (&compare.language, compare.body.trim(), &compare.volatility, compare.security_definer, compare.strict, &compare.parallel, &compare.search_path);
        // The same body but for surrounding whitespace stays as it is live.
        let body = if prior.body.trim() == desired.body.trim() { prior.body.clone() } else { desired.body.clone() };
        let mut operations = Vec::new();
        if definition_differs {
            operations.push(desired.definition("CREATE OR REPLACE", &qualified(&desired.schema, &desired.name)));
        }
        let planned = Function { arguments: prior.arguments.clone(), returns: prior.returns.clone(), body, ..desired.clone() };
        in_place(prior, desired, &planned, operations)
    }

    fn drop(&self) -> Vec<String> {
        vec![format!("DROP {} {}", self.keyword(), self.sql_signature())]
    }

    fn authorship(&self) -> AuthorshipRow {
        AuthorshipRow { query: "SELECT xmin::text FROM pg_proc WHERE oid = to_regprocedure($1)", params: vec![self.sql_signature()] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_provider_sdk::Action;

    fn touch() -> Function {
        Function::from_value(&Value::object([("name", Value::from("touch_updated_at")), ("returns", Value::from("trigger")), ("body", Value::from("\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n"))])).unwrap()
    }

    #[test]
    fn a_function_is_created_with_every_attribute_spelled_out() {
        assert_eq!(
            touch().create(),
            ["CREATE FUNCTION \"public\".\"touch_updated_at\"() RETURNS trigger LANGUAGE plpgsql VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE SECURITY INVOKER AS $strata$\nBEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$strata$"]
        );
        assert_eq!(touch().id(), "public.touch_updated_at()");
        assert_eq!(dollar_quoted("a $strata$ b"), "$strata_1$a $strata$ b$strata_1$");
    }

    #[test]
    fn defaults_go_to_the_last_inputs_and_split_outside_parentheses_and_quotes() {
        let read = arguments(vec!["a".into(), "b".into(), "c".into()], vec!["i".into(), "i".into(), "o".into()], vec!["integer".into(), "text".into(), "integer".into()], Some("'x, y'::text".into()));
        assert_eq!(read[1].default.as_deref(), Some("'x, y'::text"));
        assert_eq!((read[0].default.as_ref(), read[2].mode.as_str()), (None, "OUT"));
        assert_eq!(split_top_level("ARRAY[1, 2], f(3, 4), 'a,b'"), ["ARRAY[1, 2]", "f(3, 4)", "'a,b'"]);
    }

    #[test]
    fn a_body_change_is_in_place_and_a_new_argument_type_replaces() {
        let live = touch();
        let mut body = touch();
        body.body = "BEGIN RETURN NEW; END".into();
        let in_place = Function::change(&live, &body, None);
        assert_eq!(in_place.action, Action::Update);
        assert!(in_place.operations[0].starts_with("CREATE OR REPLACE FUNCTION \"public\".\"touch_updated_at\"()"), "{:?}", in_place.operations);
        let mut typed = touch();
        typed.arguments.push(Argument { name: Some("n".into()), type_name: "int".into(), mode: "IN".into(), default: None });
        let replaced = Function::change(&live, &typed, None);
        assert_eq!((replaced.action, replaced.replace_because), (Action::Replace, vec!["arg".to_owned()]));
        assert_eq!(replaced.operations[0], "DROP FUNCTION \"public\".\"touch_updated_at\"()");
        assert_eq!(typed.id(), "public.touch_updated_at(integer)");
    }

    #[test]
    fn functions_are_found_by_any_spelling_of_their_argument_types() {
        let live = BTreeMap::from([("public.score(integer, character varying)".to_owned(), Value::from("found"))]);
        assert_eq!(Function::find(&live, "public.score(int4, varchar(10))"), Some(Value::from("found")));
        assert_eq!(Function::find(&live, "public.score"), Some(Value::from("found")));
        assert_eq!(Function::import_key("score(int)"), "public.score(int)");
    }
}
