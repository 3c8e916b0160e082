//! The built-in functions of the configuration language, with Terraform's names and behaviour.
//! Any unknown argument makes the result unknown (except `coalesce`, which can skip it).

use std::collections::BTreeMap;
use std::path::Path;

use strata_provider_sdk::Value;

use super::types::to_number;
use super::{float_value, to_string};
use crate::diag::{suggestion, Diagnostic};

type FnResult = Result<Value, Diagnostic>;

const NAMES: [&str; 33] = [
    "abs", "coalesce", "concat", "contains", "distinct", "element", "endswith", "file", "flatten", "format", "join",
    "jsondecode", "jsonencode", "keys", "length", "lookup", "lower", "max", "merge", "min", "replace", "split",
    "startswith", "substr", "title", "tobool", "tolist", "tomap", "tonumber", "toset", "tostring", "trimspace", "upper",
];

/// Calls the function `name`; `dir` is the configuration directory that `file()` reads from.
pub fn call(name: &str, args: &[Value], dir: &Path) -> FnResult {
    if !NAMES.contains(&name) && name != "values" {
        return Err(Diagnostic::error(format!("unknown function \"{name}\"")).hint(suggestion(name, NAMES.iter().copied().chain(["values"]))));
    }
    if name != "coalesce" && args.iter().any(|a| !a.is_wholly_known()) {
        return Ok(Value::Unknown);
    }
    let result = dispatch(name, args, dir);
    result.map_err(|d| Diagnostic { summary: format!("in {name}(): {}", d.summary), ..d })
}

fn dispatch(name: &str, args: &[Value], dir: &Path) -> FnResult {
    match name {
        "format" => format(args),
        "join" => {
            let [sep, list] = exactly::<2>(args)?;
            let parts = strings(list)?;
            Ok(Value::String(parts.join(&str_arg(sep)?)))
        }
        "split" => {
            let [sep, text] = exactly::<2>(args)?;
            let sep = str_arg(sep)?;
            Ok(Value::List(str_arg(text)?.split(sep.as_str()).map(Value::from).collect()))
        }
        "lower" => map_str(args, |s| s.to_lowercase()),
        "upper" => map_str(args, |s| s.to_uppercase()),
        "title" => map_str(args, title_case),
        "trimspace" => map_str(args, |s| s.trim().to_owned()),
        "length" => {
            let [value] = exactly::<1>(args)?;
            let len = match value {
                Value::String(s) => s.chars().count(),
                Value::List(items) => items.len(),
                Value::Object(map) => map.len(),
                other => return Err(Diagnostic::error(format!("length needs a string or collection, not {}", other.kind_phrase()))),
            };
            Ok(Value::int(len as i64))
        }
        "lookup" => {
            if !(2..=3).contains(&args.len()) {
                return Err(Diagnostic::error("lookup takes a map, a key and an optional default"));
            }
            let key = str_arg(&args[1])?;
            match (args[0].get(&key), args.get(2)) {
                (Some(found), _) => Ok(found.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => Err(Diagnostic::error(format!("the map has no key \"{key}\" and no default was given"))),
            }
        }
        "merge" => {
            let mut merged = BTreeMap::new();
            for arg in args {
                match arg {
                    Value::Object(map) => merged.extend(map.clone()),
                    Value::Null => {}
                    other => return Err(Diagnostic::error(format!("merge takes maps, not {}", other.kind_phrase()))),
                }
            }
            Ok(Value::Object(merged))
        }
        "concat" => {
            let mut all = Vec::new();
            for arg in args {
                all.extend(list(arg)?.iter().cloned());
            }
            Ok(Value::List(all))
        }
        "coalesce" => {
            for arg in args {
                match arg {
                    Value::Unknown => return Ok(Value::Unknown),
                    Value::Null => {}
                    Value::String(s) if s.is_empty() => {}
                    other => return Ok(other.clone()),
                }
            }
            Err(Diagnostic::error("no non-null, non-empty argument"))
        }
        "tostring" => {
            let [value] = exactly::<1>(args)?;
            if value.is_null() { Ok(Value::Null) } else { to_string(value).map(Value::String) }
        }
        "tonumber" => {
            let [value] = exactly::<1>(args)?;
            if value.is_null() { Ok(Value::Null) } else { to_number(value).map(float_value) }
        }
        "tobool" => {
            let [value] = exactly::<1>(args)?;
            match value {
                Value::Bool(_) | Value::Null => Ok(value.clone()),
                Value::String(s) if s == "true" || s == "false" => Ok(Value::Bool(s == "true")),
                other => Err(Diagnostic::error(format!("cannot convert {} to bool", other.kind_phrase()))),
            }
        }
        "tolist" | "toset" => {
            let [value] = exactly::<1>(args)?;
            let items = list(value)?.to_vec();
            Ok(Value::List(if name == "toset" { unique(items) } else { items }))
        }
        "tomap" => {
            let [value] = exactly::<1>(args)?;
            match value {
                Value::Object(_) => Ok(value.clone()),
                other => Err(Diagnostic::error(format!("cannot convert {} to a map", other.kind_phrase()))),
            }
        }
        "jsonencode" => {
            let [value] = exactly::<1>(args)?;
            Ok(Value::String(value.to_json().to_string()))
        }
        "jsondecode" => {
            let [value] = exactly::<1>(args)?;
            let parsed: serde_json::Value = serde_json::from_str(&str_arg(value)?).map_err(|e| Diagnostic::error(format!("invalid JSON: {e}")))?;
            Ok(Value::from_json(&parsed))
        }
        "file" => {
            let [path] = exactly::<1>(args)?;
            let path = str_arg(path)?;
            std::fs::read_to_string(dir.join(&path)).map(Value::String).map_err(|err| {
                Diagnostic::error(format!("cannot read file \"{path}\": {err}")).hint("paths are relative to the configuration directory; use path.module to be explicit")
            })
        }
        "contains" => {
            let [collection, item] = exactly::<2>(args)?;
            Ok(Value::Bool(list(collection)?.contains(item)))
        }
        "distinct" => {
            let [value] = exactly::<1>(args)?;
            Ok(Value::List(unique(list(value)?.to_vec())))
        }
        "flatten" => {
            let [value] = exactly::<1>(args)?;
            Ok(Value::List(flatten(list(value)?)))
        }
        "element" => {
            let [collection, index] = exactly::<2>(args)?;
            let items = list(collection)?;
            let index = to_number(index)? as usize;
            if items.is_empty() {
                return Err(Diagnostic::error("cannot take an element of an empty list"));
            }
            Ok(items[index % items.len()].clone())
        }
        "keys" | "values" => {
            let [value] = exactly::<1>(args)?;
            let map = value.as_object().ok_or_else(|| Diagnostic::error(format!("{name} needs a map")))?;
            Ok(Value::List(if name == "keys" { map.keys().map(|k| Value::from(k.as_str())).collect() } else { map.values().cloned().collect() }))
        }
        "replace" => {
            let [text, search, replacement] = exactly::<3>(args)?;
            Ok(Value::String(str_arg(text)?.replace(&str_arg(search)?, &str_arg(replacement)?)))
        }
        "startswith" | "endswith" => {
            let [text, affix] = exactly::<2>(args)?;
            let (text, affix) = (str_arg(text)?, str_arg(affix)?);
            Ok(Value::Bool(if name == "startswith" { text.starts_with(&affix) } else { text.ends_with(&affix) }))
        }
        "substr" => {
            let [text, offset, length] = exactly::<3>(args)?;
            let chars: Vec<char> = str_arg(text)?.chars().collect();
            let offset = (to_number(offset)? as usize).min(chars.len());
            let length = to_number(length)?;
            let end = if length < 0.0 { chars.len() } else { offset.saturating_add(length as usize).min(chars.len()) };
            Ok(Value::String(chars[offset..end].iter().collect()))
        }
        "min" | "max" => {
            let numbers = args.iter().map(to_number).collect::<Result<Vec<_>, _>>()?;
            let pick = if name == "min" { f64::min } else { f64::max };
            numbers.into_iter().reduce(pick).map(float_value).ok_or_else(|| Diagnostic::error("needs at least one number"))
        }
        "abs" => {
            let [value] = exactly::<1>(args)?;
            Ok(float_value(to_number(value)?.abs()))
        }
        _ => Err(Diagnostic::error(format!("unknown function \"{name}\""))),
    }
}

fn exactly<const N: usize>(args: &[Value]) -> Result<&[Value; N], Diagnostic> {
    args.try_into().map_err(|_| Diagnostic::error(format!("expected {N} argument(s), got {}", args.len())))
}

fn str_arg(value: &Value) -> Result<String, Diagnostic> {
    to_string(value)
}

fn map_str(args: &[Value], f: impl Fn(&str) -> String) -> FnResult {
    let [value] = exactly::<1>(args)?;
    Ok(Value::String(f(&str_arg(value)?)))
}

fn list(value: &Value) -> Result<&[Value], Diagnostic> {
    value.as_list().ok_or_else(|| Diagnostic::error(format!("a list is required, not {}", value.kind_phrase())))
}

fn strings(value: &Value) -> Result<Vec<String>, Diagnostic> {
    list(value)?.iter().map(str_arg).collect()
}

fn unique(items: Vec<Value>) -> Vec<Value> {
    let mut seen: Vec<Value> = Vec::new();
    for item in items {
        if !seen.contains(&item) {
            seen.push(item);
        }
    }
    seen
}

fn flatten(items: &[Value]) -> Vec<Value> {
    items.iter().flat_map(|item| match item {
        Value::List(inner) => flatten(inner),
        other => vec![other.clone()],
    }).collect()
}

fn title_case(s: &str) -> String {
    s.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
        })
        .collect::<Vec<String>>()
        .join(" ")
}

/// `format("%s-%03d", a, b)`: the verbs %s, %d, %f (with precision), %v, %q and %%, with widths.
fn format(args: &[Value]) -> FnResult {
    let (spec, rest) = args.split_first().ok_or_else(|| Diagnostic::error("format needs a format string"))?;
    let spec = str_arg(spec)?;
    let mut out = String::new();
    let mut next = rest.iter();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '.' || d == '-' {
                flags.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let verb = chars.next().ok_or_else(|| Diagnostic::error("the format string ends with %"))?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let arg = next.next().ok_or_else(|| Diagnostic::error("not enough arguments for the format string"))?;
        out.push_str(&format_one(verb, &flags, arg)?);
    }
    if next.next().is_some() {
        return Err(Diagnostic::error("too many arguments for the format string"));
    }
    Ok(Value::String(out))
}

/// The widest padding and longest precision `format` writes: more is a typo, and would exhaust memory.
const MAX_FORMAT_WIDTH: usize = 4096;

fn format_one(verb: char, flags: &str, arg: &Value) -> Result<String, Diagnostic> {
    let (width_text, precision) = match flags.split_once('.') {
        Some((w, p)) => (w, p.parse::<usize>().ok()),
        None => (flags, None),
    };
    let left = width_text.starts_with('-');
    let zero = width_text.trim_start_matches('-').starts_with('0');
    let width = width_text.trim_start_matches('-').parse::<usize>().unwrap_or(0);
    if width > MAX_FORMAT_WIDTH || precision.is_some_and(|p| p > MAX_FORMAT_WIDTH) {
        return Err(Diagnostic::error(format!("the width or precision in %{flags}{verb} is too large")).hint(format!("use at most {MAX_FORMAT_WIDTH}")));
    }
    let body = match verb {
        's' | 'v' => match arg {
            Value::List(_) | Value::Object(_) if verb == 'v' => arg.to_json().to_string(),
            _ => str_arg(arg)?,
        },
        'q' => serde_json::Value::String(str_arg(arg)?).to_string(),
        'd' => format!("{}", to_number(arg)?.trunc() as i64),
        'f' => format!("{:.*}", precision.unwrap_or(6), to_number(arg)?),
        other => return Err(Diagnostic::error(format!("unsupported format verb %{other}"))),
    };
    let pad = width.saturating_sub(body.chars().count());
    Ok(match (left, zero) {
        (true, _) => format!("{body}{}", " ".repeat(pad)),
        (false, true) if body.starts_with('-') => format!("-{}{}", "0".repeat(pad), &body[1..]),
        (false, true) => format!("{}{body}", "0".repeat(pad)),
        (false, false) => format!("{}{body}", " ".repeat(pad)),
    })
}
