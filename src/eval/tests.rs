use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::config::{AttrExpr, Config};
use crate::diag::Location;

pub(super) fn config_with(source: &str) -> Config {
    let dir = std::env::temp_dir().join(format!("strata-eval-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.tf"), source).unwrap();
    let config = crate::config::load_dir(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    config
}

fn eval_in(config: &Config, variables: &BTreeMap<String, Value>, expr: &str) -> Evaluated {
    let nothing_known = BTreeMap::new();
    let scope = Scope::root(config, variables, &nothing_known);
    let attr = AttrExpr { expr: expr.parse().unwrap(), location: Location { file: Arc::from(Path::new("t.tf")), line: 1, column: 1 } };
    scope.eval_attr(&attr).unwrap()
}

fn eval(expr: &str) -> Value {
    let config = config_with("variable \"env\" {\n  default = \"dev\"\n}\nlocals {\n  names = [\"a\", \"b\"]\n  tags = { team = \"ml\" }\n}\n");
    let variables = BTreeMap::from([("env".to_owned(), Value::from("dev"))]);
    eval_in(&config, &variables, expr).value
}

#[test]
fn interpolation_and_references() {
    assert_eq!(eval(r#""ai-${var.env}""#), Value::from("ai-dev"));
    assert_eq!(eval("local.tags.team"), Value::from("ml"));
    assert_eq!(eval("local.names[1]"), Value::from("b"));
}

#[test]
fn operators_and_conditionals() {
    assert_eq!(eval("1 + 2 * 3"), Value::int(7));
    assert_eq!(eval(r#"var.env == "prod" ? 3 : 1"#), Value::int(1));
    assert_eq!(eval("!(1 < 2) || 5 % 2 == 1"), Value::Bool(true));
}

#[test]
fn for_expressions() {
    assert_eq!(eval("[for n in local.names : upper(n)]"), Value::List(vec![Value::from("A"), Value::from("B")]));
    assert_eq!(eval("{for i, n in local.names : n => i}"), Value::object([("a", Value::int(0)), ("b", Value::int(1))]));
    assert_eq!(eval(r#"[for n in local.names : n if n != "a"]"#), Value::List(vec![Value::from("b")]));
}

#[test]
fn functions() {
    assert_eq!(eval(r#"format("%s-%03d", "db", 7)"#), Value::from("db-007"));
    assert_eq!(eval(r#"join(",", split("-", "a-b-c"))"#), Value::from("a,b,c"));
    assert_eq!(eval("length(concat(local.names, [\"c\"]))"), Value::int(3));
    assert_eq!(eval(r#"lookup(local.tags, "missing", "none")"#), Value::from("none"));
    assert_eq!(eval(r#"merge(local.tags, { env = var.env })"#), Value::object([("env", Value::from("dev")), ("team", Value::from("ml"))]));
    assert_eq!(eval(r#"coalesce("", "x")"#), Value::from("x"));
    assert_eq!(eval(r#"tonumber("42")"#), Value::int(42));
    assert_eq!(eval("tostring(5)"), Value::from("5"));
    assert_eq!(eval("jsonencode(local.tags)"), Value::from(r#"{"team":"ml"}"#));
    assert_eq!(eval(r#"lower("AbC")"#), Value::from("abc"));
}

#[test]
fn unknown_values_propagate() {
    let config = config_with("variable \"later\" {}\n");
    let none = BTreeMap::new();
    assert_eq!(eval_in(&config, &none, r#""x-${var.later}""#).value, Value::Unknown);
    assert_eq!(eval_in(&config, &none, "upper(var.later)").value, Value::Unknown);
    assert_eq!(eval_in(&config, &none, r#"coalesce("a", var.later)"#).value, Value::from("a"));
}

#[test]
fn reading_a_sensitive_variable_marks_the_result() {
    let config = config_with("variable \"password\" {\n  sensitive = true\n}\nvariable \"user\" {}\n");
    let variables = BTreeMap::from([("password".to_owned(), Value::from("s3cret")), ("user".to_owned(), Value::from("app"))]);
    assert!(eval_in(&config, &variables, r#""${var.user}:${var.password}""#).sensitive);
    assert!(!eval_in(&config, &variables, "var.user").sensitive);
}

#[test]
fn references_are_found_without_evaluating() {
    let expr: hcl::Expression = r#"[for t in var.tables : "${t}-${local.suffix}-${postgres_table.users.id}"]"#.parse().unwrap();
    let found = expression_references(&expr);
    assert!(found.contains(&Reference::Variable("tables".into())));
    assert!(found.contains(&Reference::Local("suffix".into())));
    assert!(found.contains(&Reference::Resource(crate::addrs::ConfigResource::managed("postgres_table", "users"))));
    assert!(!found.iter().any(|r| matches!(r, Reference::Resource(a) if a.type_name == "t")));
}

#[test]
fn object_types_take_optional_attributes_with_defaults_and_legacy_types_read() {
    use super::types::TypeConstraint;
    let parse = |text: &str| TypeConstraint::parse(&text.parse::<hcl::Expression>().unwrap());
    let ty = parse("object({ name = string, port = optional(number, 5432), tags = optional(map(string)) })").unwrap();
    let given = Value::from_json(&serde_json::json!({"name": "db"}));
    assert_eq!(ty.convert(given).unwrap().to_json(), serde_json::json!({"name": "db", "port": 5432, "tags": null}));
    let missing = ty.convert(Value::from_json(&serde_json::json!({"port": 1}))).unwrap_err();
    assert!(missing.contains("attribute \"name\" is required"), "{missing}");
    assert!(parse("object({ port = optional(number, var.x) })").is_err(), "defaults are literals");
    assert!(parse("object({ port = optional(number, \"five\") })").is_err(), "a default must fit its type");
    assert_eq!(parse("list").unwrap(), TypeConstraint::List(Box::new(TypeConstraint::Any)));
    assert_eq!(parse("\"map\"").unwrap(), TypeConstraint::Map(Box::new(TypeConstraint::Any)));
}
