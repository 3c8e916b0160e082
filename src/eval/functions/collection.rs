//! Collection functions: lists (and sets and tuples, which strata keeps as lists) and maps.

use std::collections::BTreeMap;

use strata_provider_sdk::Value;
use unicode_segmentation::UnicodeSegmentation;

use super::args::{number_of, primitive_string};
use super::conversion::{same_value, set_of, unify};
use super::{Args, Category::Collection as Coll, FnResult, Function};
use crate::eval::float_value;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("alltrue", Coll, &["list"], |a| all_bools(a, true)),
    Function::new("anytrue", Coll, &["list"], |a| all_bools(a, false)),
    Function::new("chunklist", Coll, &["list", "size"], chunklist),
    Function::new("coalesce", Coll, &[], coalesce).variadic("vals").handles_unknowns(),
    Function::new("coalescelist", Coll, &[], coalescelist).variadic("vals"),
    Function::new("compact", Coll, &["list"], compact),
    Function::new("concat", Coll, &[], concat).variadic("seqs"),
    Function::new("contains", Coll, &["list", "value"], |a| Ok(Value::Bool(position(a.list(0)?, a.value(1)).is_some()))),
    Function::new("distinct", Coll, &["list"], distinct),
    Function::new("element", Coll, &["list", "index"], element),
    Function::new("flatten", Coll, &["list"], |a| Ok(Value::List(flatten(a.list(0)?)))),
    Function::new("index", Coll, &["list", "value"], |a| {
        position(a.list(0)?, a.value(1)).map(|i| Value::int(i as i64)).ok_or_else(|| a.fail("item not found"))
    }),
    Function::new("keys", Coll, &["inputMap"], |a| Ok(Value::List(a.object(0)?.keys().map(|k| Value::from(k.as_str())).collect()))),
    Function::new("length", Coll, &["value"], length).handles_unknowns(),
    Function::new("lookup", Coll, &["inputMap", "key"], lookup).variadic("default"),
    Function::new("matchkeys", Coll, &["values", "keys", "searchset"], matchkeys),
    Function::new("merge", Coll, &[], merge).variadic("maps"),
    Function::new("one", Coll, &["list"], one),
    Function::new("range", Coll, &[], range).variadic("params"),
    Function::new("reverse", Coll, &["list"], |a| Ok(Value::List(a.list(0)?.iter().rev().cloned().collect()))),
    Function::new("setintersection", Coll, &["first_set"], |a| set_operation(a, SetOp::Intersection)).variadic("other_sets"),
    Function::new("setproduct", Coll, &[], setproduct).variadic("sets"),
    Function::new("setsubtract", Coll, &["a", "b"], |a| set_operation(a, SetOp::Subtract)),
    Function::new("setunion", Coll, &["first_set"], |a| set_operation(a, SetOp::Union)).variadic("other_sets"),
    Function::new("slice", Coll, &["list", "start_index", "end_index"], slice),
    Function::new("sort", Coll, &["list"], sort),
    Function::new("sum", Coll, &["list"], sum),
    Function::new("transpose", Coll, &["values"], transpose),
    Function::new("values", Coll, &["mapping"], |a| Ok(Value::List(a.object(0)?.values().cloned().collect()))),
    Function::new("zipmap", Coll, &["keys", "values"], zipmap),
];

/// The most elements `range` makes, as Terraform limits it.
const MAX_RANGE: usize = 1024;

fn position(list: &[Value], value: &Value) -> Option<usize> {
    let as_text = primitive_string(value);
    list.iter().position(|item| same_value(item, value) || (item.as_str().is_some() && primitive_string(item) == as_text && as_text.is_some()))
}

/// `alltrue` (`all` true) and `anytrue`; elements may be the strings "true" and "false".
fn all_bools(args: &Args, all: bool) -> FnResult {
    let mut found_true = false;
    for (i, item) in args.list(0)?.iter().enumerate() {
        let b = match item {
            Value::Bool(b) => *b,
            Value::String(s) if s == "true" || s == "false" => s == "true",
            Value::Null => return Err(args.invalid(0, format!("element {i} is null"))),
            _ => return Err(args.invalid(0, "list of bool required")),
        };
        if all && !b {
            return Ok(Value::Bool(false));
        }
        found_true |= b;
    }
    Ok(Value::Bool(all || found_true))
}

fn chunklist(args: &Args) -> FnResult {
    let list = args.list(0)?;
    let size = args.integer(1)?;
    if size < 0 {
        return Err(args.invalid(1, "the size argument must be positive"));
    }
    if size == 0 || list.is_empty() {
        return Ok(Value::List(if list.is_empty() { vec![] } else { vec![Value::List(list.to_vec())] }));
    }
    Ok(Value::List(list.chunks(size as usize).map(|chunk| Value::List(chunk.to_vec())).collect()))
}

/// The first argument that is neither null nor an empty string; an unknown one before it makes
/// the result unknown.
fn coalesce(args: &Args) -> FnResult {
    let unified = unify(args.values.to_vec()).map_err(|_| args.invalid(0, "all arguments must have the same type"))?;
    for value in unified {
        match value {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            other if !other.is_wholly_known() => return Ok(Value::Unknown),
            other => return Ok(other),
        }
    }
    Err(args.fail("no non-null, non-empty-string arguments"))
}

fn coalescelist(args: &Args) -> FnResult {
    for (i, value) in args.values.iter().enumerate() {
        match value {
            Value::Null => {}
            Value::List(items) if items.is_empty() => {}
            Value::List(_) => return Ok(value.clone()),
            _ => return Err(args.invalid(i, "a list is required")),
        }
    }
    Err(args.fail("no non-null arguments"))
}

fn compact(args: &Args) -> FnResult {
    let kept = args.list(0)?.iter().filter(|item| !item.is_null() && item.as_str() != Some("")).cloned().collect();
    Ok(Value::List(kept))
}

fn concat(args: &Args) -> FnResult {
    let mut all = Vec::new();
    for index in 0..args.values.len() {
        match args.value(index) {
            Value::List(items) => all.extend(items.iter().cloned()),
            _ => return Err(args.invalid(index, "all arguments must be lists or tuples")),
        }
    }
    Ok(Value::List(all))
}

fn distinct(args: &Args) -> FnResult {
    let mut seen: Vec<Value> = Vec::new();
    for item in args.list(0)? {
        if !seen.iter().any(|s| same_value(s, item)) {
            seen.push(item.clone());
        }
    }
    Ok(Value::List(seen))
}

fn element(args: &Args) -> FnResult {
    let list = args.list(0)?;
    let index = args.integer(1)?;
    if list.is_empty() {
        return Err(args.fail("cannot use element function with an empty list"));
    }
    if index < 0 {
        return Err(args.fail("cannot use element function with a negative index"));
    }
    Ok(list[(index as usize) % list.len()].clone())
}

fn flatten(items: &[Value]) -> Vec<Value> {
    items.iter().flat_map(|item| match item {
        Value::List(inner) => flatten(inner),
        other => vec![other.clone()],
    }).collect()
}

/// The length of a string (in grapheme clusters), list or map; known even when elements are not.
fn length(args: &Args) -> FnResult {
    Ok(Value::int(match args.value(0) {
        Value::Unknown => return Ok(Value::Unknown),
        Value::String(s) => s.graphemes(true).count(),
        Value::List(items) => items.len(),
        Value::Object(map) => map.len(),
        Value::Null => return Err(args.invalid(0, "argument must not be null")),
        _ => return Err(args.invalid(0, "collection must be a list, a map or a tuple")),
    } as i64))
}

fn lookup(args: &Args) -> FnResult {
    let map = args.object(0)?;
    let key = args.string(1)?;
    match (map.get(&key), args.rest()) {
        (_, [_, _, ..]) => Err(args.fail("lookup() takes no more than three arguments")),
        (Some(found), _) => Ok(found.clone()),
        (None, [default]) => Ok(default.clone()),
        (None, _) => Err(args.fail(format!("lookup failed to find key {key:?}"))),
    }
}

fn matchkeys(args: &Args) -> FnResult {
    let (values, keys, searchset) = (args.list(0)?, args.list(1)?, args.list(2)?);
    if values.len() != keys.len() {
        return Err(args.fail("length of keys and values should be equal"));
    }
    let kept = values.iter().zip(keys).filter(|(_, key)| position(searchset, key).is_some()).map(|(value, _)| value.clone()).collect();
    Ok(Value::List(kept))
}

fn merge(args: &Args) -> FnResult {
    let mut merged = BTreeMap::new();
    for (i, value) in args.values.iter().enumerate() {
        match value {
            Value::Object(map) => merged.extend(map.iter().map(|(k, v)| (k.clone(), v.clone()))),
            Value::Null => {}
            other => return Err(args.invalid(i, format!("arguments must be maps or objects, got {:?}", super::conversion::type_phrase(other)))),
        }
    }
    Ok(Value::Object(merged))
}

fn one(args: &Args) -> FnResult {
    match args.list(0)? {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        _ => Err(args.invalid(0, "must be a list, set, or tuple value with either zero or one elements")),
    }
}

/// `range(limit)`, `range(start, limit)`, `range(start, limit, step)`.
fn range(args: &Args) -> FnResult {
    let numbers = (0..args.values.len()).map(|i| args.number(i)).collect::<Result<Vec<_>, _>>()?;
    let (start, limit, step) = match numbers[..] {
        [limit] => (0.0, limit, 1.0),
        [start, limit] => (start, limit, if start <= limit { 1.0 } else { -1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => return Err(args.fail("must have one, two, or three arguments")),
    };
    if step == 0.0 {
        return Err(args.invalid(2, "step must not be zero"));
    }
    let mut out = Vec::new();
    let mut i = 0.0;
    loop {
        let value = start + step * i;
        if (step > 0.0 && value >= limit) || (step < 0.0 && value <= limit) {
            break;
        }
        if out.len() == MAX_RANGE {
            return Err(args.fail(format!(
                "more than {MAX_RANGE} values were generated; either decrease the difference between start and end or use a smaller step"
            )));
        }
        out.push(float_value(value));
        i += 1.0;
    }
    Ok(Value::List(out))
}

enum SetOp {
    Intersection,
    Subtract,
    Union,
}

fn set_operation(args: &Args, op: SetOp) -> FnResult {
    let sets = (0..args.values.len()).map(|i| args.list(i)).collect::<Result<Vec<_>, _>>()?;
    let (first, others) = sets.split_first().ok_or_else(|| args.fail("at least one set is required"))?;
    let contains = |set: &[Value], item: &Value| set.iter().any(|s| same_value(s, item));
    let result: Vec<Value> = match op {
        SetOp::Union => sets.iter().flat_map(|set| set.iter().cloned()).collect(),
        SetOp::Intersection => first.iter().filter(|item| others.iter().all(|set| contains(set, item))).cloned().collect(),
        SetOp::Subtract => first.iter().filter(|item| !others.iter().any(|set| contains(set, item))).cloned().collect(),
    };
    let unified = unify(result).map_err(|_| args.fail("given sets must all have compatible element types"))?;
    Ok(Value::List(set_of(unified)))
}

/// Every combination of one element from each list, in the order of the lists.
fn setproduct(args: &Args) -> FnResult {
    let lists = (0..args.values.len()).map(|i| args.list(i)).collect::<Result<Vec<_>, _>>()?;
    if lists.is_empty() {
        return Err(args.fail("at least two arguments are required"));
    }
    let total = lists.iter().try_fold(1usize, |acc, list| acc.checked_mul(list.len())).filter(|n| *n <= 100_000);
    if total.is_none() {
        return Err(args.fail("the product has too many elements"));
    }
    let mut product: Vec<Vec<Value>> = vec![vec![]];
    for list in lists {
        product = product.into_iter().flat_map(|prefix| list.iter().map(move |item| [prefix.clone(), vec![item.clone()]].concat())).collect();
    }
    Ok(Value::List(product.into_iter().map(Value::List).collect()))
}

fn slice(args: &Args) -> FnResult {
    let list = args.list(0)?;
    let (start, end) = (args.integer(1)?, args.integer(2)?);
    if start < 0 {
        return Err(args.invalid(1, "must be greater than or equal to 0"));
    }
    if end > list.len() as i64 {
        return Err(args.invalid(2, "must be less than or equal to the length of the input collection"));
    }
    if start > end {
        return Err(args.invalid(1, "must be less than or equal to end_index"));
    }
    Ok(Value::List(list[start as usize..end as usize].to_vec()))
}

/// Sorts strings lexically (numbers become their decimal strings, as Terraform converts them).
fn sort(args: &Args) -> FnResult {
    let list = args.list(0)?;
    let mut strings = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        if item.is_null() {
            return Err(args.invalid(0, format!("given list element {i} is null; a null string cannot be sorted")));
        }
        strings.push(args.element_string(0, i, item)?);
    }
    strings.sort();
    Ok(Value::List(strings.into_iter().map(Value::String).collect()))
}

fn sum(args: &Args) -> FnResult {
    let list = args.list(0)?;
    if list.is_empty() {
        return Err(args.fail("cannot sum an empty list"));
    }
    let mut total = 0.0;
    for (i, item) in list.iter().enumerate() {
        total += number_of(item).map_err(|why| args.invalid(0, format!("element {i}: {why}")))?;
    }
    super::args::finite(args, total)
}

/// `{"a" = ["1", "2"]}` to `{"1" = ["a"], "2" = ["a"]}`.
fn transpose(args: &Args) -> FnResult {
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (key, values) in args.object(0)? {
        let Value::List(items) = values else {
            return Err(args.invalid(0, "map of list of string required"));
        };
        for (i, item) in items.iter().enumerate() {
            out.entry(args.element_string(0, i, item)?).or_default().push(Value::from(key.as_str()));
        }
    }
    Ok(Value::Object(out.into_iter().map(|(k, v)| (k, Value::List(v))).collect()))
}

fn zipmap(args: &Args) -> FnResult {
    let keys = args.strings(0)?;
    let values = args.list(1)?;
    if keys.len() != values.len() {
        return Err(args.fail(format!("number of keys ({}) does not match number of values ({})", keys.len(), values.len())));
    }
    Ok(Value::Object(keys.into_iter().zip(values.iter().cloned()).collect()))
}
