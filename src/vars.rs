//! Input variable values: where they come from and whether they are acceptable.
//!
//! Owns the precedence of sources (lowest first: defaults, `TF_VAR_name`, `STRATA_VAR_name`,
//! `terraform.tfvars`, `*.auto.tfvars` in name order, then `-var` and `-var-file` in command-line
//! order), conversion to each variable's declared type, `validation` blocks, and the error for a
//! required variable with no value (never a prompt). It must not evaluate anything but variables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata_provider_sdk::Value;

use crate::config::{AttrExpr, Config, Variable};
use crate::diag::{Diagnostic, Diagnostics, Location, Result};
use crate::eval::types::TypeConstraint;
use crate::eval::Scope;

/// A value given on the command line, in order.
#[derive(Clone, Debug)]
pub enum CliVariable {
    /// `-var name=value`
    Assignment(String),
    /// `-var-file path`
    File(PathBuf),
}

/// Resolves every declared variable. With `require_all` false (for `validate`), variables with no
/// value are left out, and evaluate as unknown.
pub fn resolve(config: &Config, cli: &[CliVariable], require_all: bool) -> Result<BTreeMap<String, Value>> {
    let mut raw: BTreeMap<String, RawValue> = BTreeMap::new();
    for prefix in ["TF_VAR_", "STRATA_VAR_"] {
        for (key, value) in std::env::vars() {
            if let Some(name) = key.strip_prefix(prefix) {
                raw.insert(name.to_owned(), RawValue::Text(value, format!("environment variable {key}")));
            }
        }
    }
    for file in auto_var_files(&config.dir) {
        read_var_file(&file, &mut raw)?;
    }
    for item in cli {
        match item {
            CliVariable::Assignment(text) => {
                let (name, value) = text.split_once('=').ok_or_else(|| {
                    Diagnostic::error(format!("invalid -var \"{text}\""))
                        .hint("write -var NAME=VALUE, for example -var environment=staging")
                })?;
                raw.insert(name.trim().to_owned(), RawValue::Text(value.to_owned(), "-var".into()));
            }
            CliVariable::File(path) => {
                let path = if path.is_absolute() { path.clone() } else { config.dir.join(path) };
                read_var_file(&path, &mut raw)?;
            }
        }
    }
    for (name, value) in &raw {
        if !config.variables.contains_key(name) && value.is_explicit() {
            return Err(Diagnostic::error(format!("a value was given for undeclared variable \"{name}\" ({})", value.source()))
                .hint(crate::diag::suggestion(name, config.variables.keys().map(String::as_str)))
                .into());
        }
    }
    // A sensitive value that fails to convert would show in the error: mask it from here on.
    crate::secrets::remember(config.variables.values().filter(|v| v.sensitive).filter_map(|v| raw.get(&v.name)).flat_map(RawValue::strings));
    // Every variable's problem in one run: fixing them one per run wastes the user's time.
    let mut values = BTreeMap::new();
    let mut errors = Diagnostics::default();
    for variable in config.variables.values() {
        match variable_value(variable, raw.remove(&variable.name), require_all) {
            Ok(Some(value)) => _ = values.insert(variable.name.clone(), value),
            Ok(None) => {}
            Err(found) => errors.extend(found),
        }
    }
    errors.into_result()?;
    check_validations(config, &values)?;
    Ok(values)
}

/// A value before conversion to its variable's type.
enum RawValue {
    /// From the environment or `-var`: a string, parsed as HCL unless the type is a string.
    Text(String, String),
    /// From a `.tfvars` file: already a value.
    Parsed(Value, Location),
}

impl RawValue {
    fn source(&self) -> String {
        match self {
            RawValue::Text(_, source) => source.clone(),
            RawValue::Parsed(_, location) => location.to_string(),
        }
    }

    /// The strings in the value as given, for `secrets::remember`.
    fn strings(&self) -> Vec<String> {
        match self {
            RawValue::Text(text, _) => vec![text.clone()],
            RawValue::Parsed(value, _) => crate::secrets::strings_in(value),
        }
    }

    /// Environment variables for undeclared names are ignored, as Terraform does.
    fn is_explicit(&self) -> bool {
        !matches!(self, RawValue::Text(_, source) if source.starts_with("environment"))
    }
}

fn auto_var_files(dir: &Path) -> Vec<PathBuf> {
    let mut auto: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".auto.tfvars")))
        .collect();
    auto.sort();
    let default = dir.join("terraform.tfvars");
    default.is_file().then_some(default).into_iter().chain(auto).collect()
}

fn read_var_file(path: &Path, raw: &mut BTreeMap<String, RawValue>) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|err| {
        Diagnostic::error(format!("cannot read variable file {}: {err}", path.display())).hint("check the path given to -var-file")
    })?;
    let file: Arc<Path> = Arc::from(path);
    let body = hcl::edit::parser::parse_body(&text).map_err(|err| {
        let location = Location { file: Arc::clone(&file), line: err.location().line(), column: err.location().column() };
        Diagnostic::error(format!("invalid HCL syntax in variable file: {}", err.message())).at(Some(&location))
    })?;
    for structure in body.iter() {
        let offset = hcl::edit::Span::span(structure).map_or(0, |s| s.start);
        let location = Location::from_offset(&file, &text, offset);
        let attr = structure.as_attribute().ok_or_else(|| {
            Diagnostic::error("variable files may only hold NAME = VALUE lines").at(Some(&location))
        })?;
        let expr = hcl::Expression::from(attr.value.clone());
        let value = constant_value(&expr).map_err(|d| d.at(Some(&location)))?;
        raw.insert(attr.key.as_str().to_owned(), RawValue::Parsed(value, location));
    }
    Ok(())
}

/// Evaluates an expression that may not refer to anything (a `.tfvars` value or a `-var`).
fn constant_value(expr: &hcl::Expression) -> std::result::Result<Value, Diagnostic> {
    let config = Config::default();
    let (no_variables, nothing_known) = (BTreeMap::new(), BTreeMap::new());
    let scope = Scope::root(&config, &no_variables, &nothing_known);
    let attr = AttrExpr { expr: expr.clone(), location: Location { file: Arc::from(Path::new("")), line: 0, column: 0 } };
    scope
        .eval_attr(&attr)
        .map(|e| e.value)
        .map_err(|d| d.0.into_iter().next().unwrap_or_else(|| Diagnostic::error("invalid value")))
        .map_err(|d| Diagnostic { location: None, ..d })
}

fn variable_value(variable: &Variable, raw: Option<RawValue>, require_all: bool) -> Result<Option<Value>> {
    let constraint = match &variable.type_expr {
        Some(attr) => TypeConstraint::parse(&attr.expr).map_err(|d| d.at(Some(&attr.location)))?,
        None => TypeConstraint::Any,
    };
    let (value, source) = match raw {
        Some(RawValue::Text(text, source)) if constraint.takes_raw_string() => (Value::String(text), source),
        Some(RawValue::Text(text, source)) => {
            let invalid = |why: String| {
                // A parse error quotes pieces of the text, which redaction of the whole value misses.
                let why = if variable.sensitive { "the value (not shown: the variable is sensitive) does not parse as that type".to_owned() } else { why };
                Diagnostic::error(format!("invalid value for variable \"{}\" from {source}: {why}", variable.name))
                    .hint(format!("the variable has type {}; write the value in HCL syntax, e.g. 3, true or [\"a\"]", constraint.describe()))
            };
            let expr: hcl::Expression = text.parse().map_err(|err| invalid(format!("{err}")))?;
            (constant_value(&expr).map_err(|d| invalid(d.summary))?, source)
        }
        Some(RawValue::Parsed(value, location)) => (value, location.to_string()),
        None => match &variable.default {
            Some(default) => (constant_value(&default.expr).map_err(|d| d.at(Some(&default.location)))?, "its default".into()),
            None if require_all => {
                let mut missing = Diagnostic::error(format!("no value for required variable \"{}\"", variable.name)).at(Some(&variable.location));
                if let Some(description) = &variable.description {
                    missing = missing.detail(format!("description: {description}"));
                }
                return Err(missing
                    .hint(format!(
                        "set it with -var {0}=VALUE, a -var-file, terraform.tfvars, or the environment variable STRATA_VAR_{0} (or TF_VAR_{0})",
                        variable.name
                    ))
                    .into())
            }
            None => return Ok(None),
        },
    };
    if value.is_null() && !variable.nullable {
        return Err(Diagnostic::error(format!("variable \"{}\" may not be null", variable.name)).at(Some(&variable.location)).into());
    }
    let converted = constraint.convert(value).map_err(|why| {
        Diagnostic::error(format!("invalid value for variable \"{}\": {why}", variable.name))
            .at(Some(&variable.location))
            .detail(format!("the value came from {source}"))
            .hint(format!("give a value of type {}", constraint.describe()))
    })?;
    Ok(Some(converted))
}

fn check_validations(config: &Config, values: &BTreeMap<String, Value>) -> Result<()> {
    let nothing_known = BTreeMap::new();
    let scope = Scope::root(config, values, &nothing_known);
    for variable in config.variables.values() {
        if !values.contains_key(&variable.name) {
            continue;
        }
        for validation in &variable.validations {
            if scope.condition_holds(validation)? == Some(false) {
                return Err(Diagnostic::error(format!("invalid value for variable \"{}\"", variable.name))
                    .at(Some(&validation.condition.location))
                    .detail(scope.condition_message(validation).unwrap_or_else(|| "the value is not valid".to_owned()))
                    .into());
            }
        }
    }
    Ok(())
}
