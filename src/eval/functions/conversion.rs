//! Type conversion functions, and the conversions other functions share: unifying a collection's
//! elements to one type, and Terraform's set order.
//!
//! strata's values have no separate set, tuple or map: a set is a list in cty's set order (strings
//! by byte order, numbers by value, false before true, nulls last, anything else in a fixed order
//! of its JSON form), a map is an object whose values have one type.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use strata_provider_sdk::Value;

use super::args::{number_of, primitive_string};
use super::{Args, Category::TypeConversion as Conv, FnResult, Function};
use crate::eval::float_value;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::expression("can", Conv, &["expression"]),
    Function::expression("ephemeralasnull", Conv, &["value"]),
    Function::expression("issensitive", Conv, &["value"]),
    Function::expression("nonsensitive", Conv, &["value"]),
    Function::expression("sensitive", Conv, &["value"]),
    Function::new("tobool", Conv, &["v"], tobool),
    Function::new("tolist", Conv, &["v"], |a| to_collection(a, false)),
    Function::new("tomap", Conv, &["v"], tomap),
    Function::new("tonumber", Conv, &["v"], tonumber),
    Function::new("toset", Conv, &["v"], |a| to_collection(a, true)),
    Function::new("tostring", Conv, &["v"], tostring),
    Function::expression("try", Conv, &[]).variadic("expressions"),
];

fn tostring(args: &Args) -> FnResult {
    match args.value(0) {
        Value::Null => Ok(Value::Null),
        value => primitive_string(value).map(Value::String).ok_or_else(|| args.invalid(0, format!("cannot convert {} to string", type_phrase(value)))),
    }
}

fn tonumber(args: &Args) -> FnResult {
    match args.value(0) {
        Value::Null => Ok(Value::Null),
        Value::Number(_) => Ok(args.value(0).clone()),
        Value::String(s) => number_of(&Value::String(s.clone())).map(float_value).map_err(|_| {
            args.invalid(0, format!("cannot convert {s:?} to number; given string must be a decimal representation of a number"))
        }),
        value => Err(args.invalid(0, format!("cannot convert {} to number", type_phrase(value)))),
    }
}

fn tobool(args: &Args) -> FnResult {
    match args.value(0) {
        Value::Null | Value::Bool(_) => Ok(args.value(0).clone()),
        Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
        Value::String(s) => Err(args.invalid(0, format!("cannot convert {s:?} to bool; only the strings \"true\" or \"false\" are allowed"))),
        value => Err(args.invalid(0, format!("cannot convert {} to bool", type_phrase(value)))),
    }
}

fn to_collection(args: &Args, set: bool) -> FnResult {
    let target = if set { "set" } else { "list" };
    let items = match args.value(0) {
        Value::Null => return Ok(Value::Null),
        Value::List(items) => items.clone(),
        value => return Err(args.invalid(0, format!("cannot convert {} to {target} of any single type", type_phrase(value)))),
    };
    let unified = unify(items).map_err(|_| args.invalid(0, format!("cannot convert tuple to {target} of any single type")))?;
    Ok(Value::List(if set { set_of(unified) } else { unified }))
}

fn tomap(args: &Args) -> FnResult {
    let map = match args.value(0) {
        Value::Null => return Ok(Value::Null),
        Value::Object(map) => map.clone(),
        value => return Err(args.invalid(0, format!("cannot convert {} to map of any single type", type_phrase(value)))),
    };
    let (keys, values): (Vec<String>, Vec<Value>) = map.into_iter().unzip();
    let unified = unify(values).map_err(|_| args.invalid(0, "cannot convert object to map of any single type"))?;
    Ok(Value::Object(keys.into_iter().zip(unified).collect::<BTreeMap<_, _>>()))
}

/// Terraform's name for a value's type in conversion errors.
pub(super) fn type_phrase(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "tuple",
        Value::Object(_) => "object",
        other => other.type_name(),
    }
}

/// The elements converted to one type as Terraform unifies them: strings absorb numbers and
/// bools; a number and a bool, or a primitive and a collection, have no common type.
pub(super) fn unify(items: Vec<Value>) -> Result<Vec<Value>, ()> {
    let kinds: std::collections::BTreeSet<&str> =
        items.iter().filter(|v| !v.is_null() && !v.is_unknown()).map(Value::type_name).collect();
    if kinds.len() <= 1 {
        return Ok(items);
    }
    if kinds.contains("string") && kinds.iter().all(|k| matches!(*k, "string" | "number" | "bool")) {
        return Ok(items.into_iter().map(|v| primitive_string(&v).map_or(v, Value::String)).collect());
    }
    Err(())
}

/// Deduplicated, in cty's set order.
pub(super) fn set_of(items: Vec<Value>) -> Vec<Value> {
    let mut set: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if !set.iter().any(|seen| same_value(seen, &item)) {
            set.push(item);
        }
    }
    set.sort_by(set_order);
    set
}

/// cty's order of set elements.
pub(super) fn set_order(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Greater,
        (_, Value::Null) => Ordering::Less,
        (Value::String(x), Value::String(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_json().to_string().cmp(&b.to_json().to_string()),
    }
}

/// Equality that treats `1` and `1.0` as the same number, at any depth.
pub(super) fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same_value(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().zip(y).all(|((k1, v1), (k2, v2))| k1 == k2 && same_value(v1, v2)),
        _ => a == b,
    }
}
