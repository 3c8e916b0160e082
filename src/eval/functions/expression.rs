//! Calling a function from an expression: evaluating its arguments (with `...` expansion), and
//! the functions that need the argument expressions or the evaluator rather than values: `try`
//! and `can` catch an argument's error, `sensitive`, `nonsensitive` and `issensitive` read or set
//! the evaluator's sensitivity, `templatefile` and `templatestring` render a template that sees
//! only the variables passed in.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::Path;

use hcl::expr::{Expression, FuncCall};
use strata_provider_sdk::Value;

use super::args::{call_failed, invalid_argument};
use super::{call_checked, lookup, FnResult, Function, Impl};
use crate::diag::Diagnostic;

/// What a function call needs from the evaluator it is part of.
pub(crate) trait CallSite {
    fn eval_expr(&self, expr: &Expression) -> FnResult;
    /// Whether anything sensitive went into the expression so far.
    fn sensitive(&self) -> &Cell<bool>;
    /// Where relative paths start: the root module's directory, as Terraform's working directory.
    fn base_dir(&self) -> &Path;
    /// Renders template text with only `vars` in scope; returns the text and whether the
    /// rendering read anything sensitive.
    fn render_template(&self, text: &str, vars: BTreeMap<String, Value>) -> Result<(Value, bool), Diagnostic>;
}

thread_local! {
    /// How many templatefile/templatestring renderings are in progress, to refuse recursion as
    /// Terraform does (a template that renders itself would never end).
    static RENDERING: Cell<usize> = const { Cell::new(0) };
}

pub(crate) fn call_expression(site: &dyn CallSite, call: &FuncCall) -> FnResult {
    let function = lookup(call.name.name.as_str())?;
    if matches!(function.implementation, Impl::Expression) {
        if call.expand_final {
            return Err(Diagnostic::error(format!("{}() cannot take its arguments from a list expanded with ...", function.name)));
        }
        function.check_arity(call.args.len())?;
        return special(site, function, &call.args);
    }
    let mut values = call.args.iter().map(|arg| site.eval_expr(arg)).collect::<Result<Vec<_>, _>>()?;
    if call.expand_final {
        match values.pop() {
            Some(Value::List(items)) => values.extend(items),
            Some(Value::Unknown) => return Ok(Value::Unknown),
            _ => return Err(Diagnostic::error("Invalid expanding argument value").detail("The expanding argument (indicated by ...) must be of a tuple, list, or set type.")),
        }
    }
    function.check_arity(values.len())?;
    call_checked(function, &values, site.base_dir())
}

fn special(site: &dyn CallSite, function: &'static Function, args: &[Expression]) -> FnResult {
    match function.name {
        "try" => try_each(site, args),
        "can" => can(site, &args[0]),
        "sensitive" => {
            let value = site.eval_expr(&args[0])?;
            site.sensitive().set(true);
            Ok(value)
        }
        "nonsensitive" => {
            let before = site.sensitive().get();
            let value = site.eval_expr(&args[0]);
            site.sensitive().set(before);
            value
        }
        "issensitive" => {
            let before = site.sensitive().replace(false);
            let value = site.eval_expr(&args[0]);
            let sensitive = site.sensitive().replace(before);
            value.map(|v| if v.is_unknown() && !sensitive { Value::Unknown } else { Value::Bool(sensitive) })
        }
        // strata has no ephemeral values yet, so every value is kept as it is.
        "ephemeralasnull" => site.eval_expr(&args[0]),
        "templatefile" => templatefile(site, args),
        "templatestring" => {
            let text = site.eval_expr(&args[0])?;
            let vars = site.eval_expr(&args[1])?;
            render(site, function.name, text, vars)
        }
        other => Err(Diagnostic::error(format!("{other}() has no expression implementation"))),
    }
}

/// Errors `try` and `can` let through: a reference to something never declared is a mistake in
/// the configuration, which Terraform reports before evaluating, not a dynamic failure.
fn is_static_error(diagnostic: &Diagnostic) -> bool {
    diagnostic.summary.starts_with("reference to undeclared")
}

/// The value of the first argument that evaluates without an error.
fn try_each(site: &dyn CallSite, args: &[Expression]) -> FnResult {
    if args.is_empty() {
        return Err(invalid_argument("expressions", "at least one argument is required"));
    }
    let mut failures = Vec::new();
    for arg in args {
        let before = site.sensitive().get();
        match site.eval_expr(arg) {
            // An unknown result might still fail once known, so the choice waits until then.
            Ok(value) if !value.is_wholly_known() => return Ok(Value::Unknown),
            Ok(value) => return Ok(value),
            Err(error) if is_static_error(&error) => return Err(error),
            Err(error) => {
                site.sensitive().set(before);
                failures.push(describe(&error));
            }
        }
    }
    Err(call_failed("try", format!("no expression succeeded:\n{}\n\nAt least one expression must produce a successful result", failures.join("\n"))))
}

fn describe(error: &Diagnostic) -> String {
    let mut line = format!("- {}", error.summary);
    if let Some(location) = &error.location {
        line.push_str(&format!(" (at {location})"));
    }
    if let Some(detail) = &error.detail {
        line.push_str(&format!("\n  {detail}"));
    }
    line
}

/// Whether the argument evaluates without an error.
fn can(site: &dyn CallSite, arg: &Expression) -> FnResult {
    let before = site.sensitive().get();
    let result = site.eval_expr(arg);
    site.sensitive().set(before);
    match result {
        Ok(value) if !value.is_wholly_known() => Ok(Value::Unknown),
        Ok(_) => Ok(Value::Bool(true)),
        Err(error) if is_static_error(&error) => Err(error),
        Err(_) => Ok(Value::Bool(false)),
    }
}

fn templatefile(site: &dyn CallSite, args: &[Expression]) -> FnResult {
    let path = site.eval_expr(&args[0])?;
    let vars = site.eval_expr(&args[1])?;
    if !path.is_wholly_known() {
        return Ok(Value::Unknown);
    }
    let Value::String(path) = path else {
        return Err(invalid_argument("path", "string required"));
    };
    let full = site.base_dir().join(super::filesystem::expand_home(&path));
    let text = std::fs::read_to_string(&full).map_err(|err| invalid_argument("path", format!("failed to read file {path:?}: {err}")))?;
    render(site, "templatefile", Value::String(text), vars)
}

fn render(site: &dyn CallSite, name: &str, text: Value, vars: Value) -> FnResult {
    if !text.is_wholly_known() || !vars.is_wholly_known() {
        return Ok(Value::Unknown);
    }
    let Value::String(text) = text else {
        return Err(invalid_argument("template", "string required"));
    };
    let vars = match vars {
        Value::Object(map) => map,
        Value::Null => BTreeMap::new(),
        _ => return Err(invalid_argument("vars", "map of any single type required")),
    };
    if let Some(bad) = vars.keys().find(|key| !is_identifier(key)) {
        return Err(invalid_argument("vars", format!("invalid template variable name {bad:?}: must start with a letter, followed by zero or more letters, digits, and underscores")));
    }
    if RENDERING.get() > 0 {
        return Err(call_failed(name, format!("cannot recursively call {name} from inside another template function")));
    }
    RENDERING.set(RENDERING.get() + 1);
    let rendered = site.render_template(&text, vars);
    RENDERING.set(RENDERING.get() - 1);
    let (value, sensitive) = rendered.map_err(|error| call_failed(name, describe(&error).trim_start_matches("- ")))?;
    if sensitive {
        site.sensitive().set(true);
    }
    Ok(value)
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(char::is_alphabetic) && chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}
