//! String functions. Lengths, offsets and reversal count grapheme clusters (what a reader sees as
//! one character), as Terraform's do.

use std::collections::BTreeMap;

use regex::Regex;
use strata_provider_sdk::Value;
use unicode_segmentation::UnicodeSegmentation;

use super::{Args, Category::String as Str, FnResult, Function};

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("chomp", Str, &["str"], |a| Ok(Value::String(a.string(0)?.trim_end_matches(['\n', '\r']).to_owned()))),
    Function::new("endswith", Str, &["str", "suffix"], |a| Ok(Value::Bool(a.string(0)?.ends_with(&a.string(1)?)))),
    Function::new("format", Str, &["format"], super::format::format).variadic("args"),
    Function::new("formatlist", Str, &["format"], super::format::formatlist).variadic("args"),
    Function::new("indent", Str, &["spaces", "str"], indent),
    Function::new("join", Str, &["separator"], join).variadic("lists"),
    Function::new("lower", Str, &["str"], |a| Ok(Value::String(a.string(0)?.to_lowercase()))),
    Function::new("regex", Str, &["pattern", "string"], regex_first),
    Function::new("regexall", Str, &["pattern", "string"], regex_all),
    Function::new("replace", Str, &["str", "substr", "replace"], replace),
    Function::new("split", Str, &["separator", "str"], split),
    Function::new("startswith", Str, &["str", "prefix"], |a| Ok(Value::Bool(a.string(0)?.starts_with(&a.string(1)?)))),
    Function::new("strcontains", Str, &["str", "substr"], |a| Ok(Value::Bool(a.string(0)?.contains(&a.string(1)?)))),
    Function::new("strrev", Str, &["str"], |a| Ok(Value::String(a.string(0)?.graphemes(true).rev().collect()))),
    Function::new("substr", Str, &["str", "offset", "length"], substr),
    Function::expression("templatestring", Str, &["template", "vars"]),
    Function::new("title", Str, &["str"], |a| Ok(Value::String(title(&a.string(0)?)))),
    Function::new("trim", Str, &["str", "cutset"], trim),
    Function::new("trimprefix", Str, &["str", "prefix"], |a| {
        let (text, prefix) = (a.string(0)?, a.string(1)?);
        Ok(Value::String(text.strip_prefix(prefix.as_str()).unwrap_or(&text).to_owned()))
    }),
    Function::new("trimsuffix", Str, &["str", "suffix"], |a| {
        let (text, suffix) = (a.string(0)?, a.string(1)?);
        Ok(Value::String(text.strip_suffix(suffix.as_str()).unwrap_or(&text).to_owned()))
    }),
    Function::new("trimspace", Str, &["str"], |a| Ok(Value::String(a.string(0)?.trim().to_owned()))),
    Function::new("upper", Str, &["str"], |a| Ok(Value::String(a.string(0)?.to_uppercase()))),
];

/// The widest `indent` Terraform users write is a few dozen spaces; more is a mistake that would
/// exhaust memory on a long text.
const MAX_INDENT: i64 = 4096;

/// Indents every line but the first, as Terraform does for heredocs inside heredocs.
fn indent(args: &Args) -> FnResult {
    let spaces = args.integer(0)?;
    if !(0..=MAX_INDENT).contains(&spaces) {
        return Err(args.invalid(0, format!("the number of spaces must be between 0 and {MAX_INDENT}")));
    }
    let pad = " ".repeat(spaces as usize);
    Ok(Value::String(args.string(1)?.replace('\n', &format!("\n{pad}"))))
}

fn join(args: &Args) -> FnResult {
    let separator = args.string(0)?;
    if args.rest().is_empty() {
        return Err(args.invalid(1, "at least one list is required"));
    }
    let mut parts = Vec::new();
    for index in 1..args.values.len() {
        parts.extend(args.strings(index)?);
    }
    Ok(Value::String(parts.join(&separator)))
}

fn split(args: &Args) -> FnResult {
    let (separator, text) = (args.string(0)?, args.string(1)?);
    // Go's strings.Split with an empty separator splits after each character.
    let parts: Vec<Value> = if separator.is_empty() {
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        text.split(separator.as_str()).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

/// `replace`: a substring wrapped in slashes is a regular expression, with `$1` in the replacement.
fn replace(args: &Args) -> FnResult {
    let (text, search, replacement) = (args.string(0)?, args.string(1)?, args.string(2)?);
    if let Some(pattern) = search.strip_prefix('/').and_then(|s| s.strip_suffix('/')).filter(|_| search.len() > 1) {
        let re = compile(args, 1, pattern)?;
        return Ok(Value::String(re.replace_all(&text, replacement.as_str()).into_owned()));
    }
    Ok(Value::String(text.replace(&search, &replacement)))
}

/// Offsets and lengths in grapheme clusters; a negative offset counts from the end, a length of -1
/// runs to the end.
fn substr(args: &Args) -> FnResult {
    let text = args.string(0)?;
    // A length beyond any string's (1e20) takes the rest, as Terraform's big numbers do.
    let length = args.integer(2).or_else(|error| match args.number(2) {
        Ok(huge) if huge.fract() == 0.0 && huge > 0.0 => Ok(i64::MAX),
        _ => Err(error),
    });
    let (offset, length) = (args.integer(1)?, length?);
    let graphemes: Vec<&str> = text.graphemes(true).collect();
    let total = graphemes.len() as i64;
    let start = if offset < 0 { (total + offset).max(0) } else { offset.min(total) };
    let end = if length < 0 { total } else { start.saturating_add(length).min(total) };
    Ok(Value::String(graphemes[start as usize..end.max(start) as usize].concat()))
}

/// Go's strings.Title: the first letter of each word upper-cased, words split at anything that is
/// not a letter, digit or underscore.
fn title(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut after_separator = true;
    for c in text.chars() {
        if after_separator {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        after_separator = !(c.is_alphanumeric() || c == '_');
    }
    out
}

fn trim(args: &Args) -> FnResult {
    let (text, cutset) = (args.string(0)?, args.string(1)?);
    Ok(Value::String(text.trim_matches(|c| cutset.contains(c)).to_owned()))
}

fn compile(args: &Args, index: usize, pattern: &str) -> Result<Regex, crate::diag::Diagnostic> {
    Regex::new(pattern).map_err(|err| args.invalid(index, format!("invalid regexp pattern: {err}")))
}

/// A match's result as Terraform shapes it: the matched text when the pattern has no capture
/// groups, a list of captures when they are unnamed, an object when they are named.
fn match_value(re: &Regex, captures: &regex::Captures) -> Result<Value, String> {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let group = |i: usize| captures.get(i).map_or(Value::Null, |m| Value::from(m.as_str()));
    if names.is_empty() {
        return Ok(group(0));
    }
    match (names.iter().all(Option::is_some), names.iter().all(Option::is_none)) {
        (_, true) => Ok(Value::List((1..=names.len()).map(group).collect())),
        (true, _) => Ok(Value::Object(names.iter().enumerate().map(|(i, name)| (name.unwrap_or_default().to_owned(), group(i + 1))).collect::<BTreeMap<_, _>>())),
        _ => Err("invalid regexp pattern: cannot mix both named and unnamed capture groups".to_owned()),
    }
}

fn regex_first(args: &Args) -> FnResult {
    let (pattern, text) = (args.string(0)?, args.string(1)?);
    let re = compile(args, 0, &pattern)?;
    let captures = re.captures(&text).ok_or_else(|| args.fail("pattern did not match any part of the given string"))?;
    match_value(&re, &captures).map_err(|message| args.invalid(0, message))
}

fn regex_all(args: &Args) -> FnResult {
    let (pattern, text) = (args.string(0)?, args.string(1)?);
    let re = compile(args, 0, &pattern)?;
    let matches = re.captures_iter(&text).map(|captures| match_value(&re, &captures)).collect::<Result<Vec<_>, _>>();
    matches.map(Value::List).map_err(|message| args.invalid(0, message))
}
