//! One call's arguments, converted to what each parameter takes as Terraform converts them (a
//! number where a string is taken becomes its decimal form, a numeric string where a number is
//! taken becomes the number), and the two error shapes Terraform reports: an invalid argument,
//! which names the parameter, and a call that failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use strata_provider_sdk::Value;

use super::Function;
use crate::diag::Diagnostic;
use crate::eval::float_value;

static NULL: Value = Value::Null;

/// The arguments of one call, after the arity check.
pub struct Args<'a> {
    pub function: &'static Function,
    pub values: &'a [Value],
    /// The configuration directory, which file paths are relative to.
    pub dir: &'a Path,
}

impl<'a> Args<'a> {
    /// Argument `index` as given (null past the end, which the arity check rules out for fixed parameters).
    pub fn value(&self, index: usize) -> &'a Value {
        self.values.get(index).unwrap_or(&NULL)
    }

    /// The arguments bound to the variadic parameter.
    pub fn rest(&self) -> &'a [Value] {
        self.values.get(self.function.params.len()..).unwrap_or(&[])
    }

    /// Terraform's "Invalid function argument" error about argument `index`.
    pub fn invalid(&self, index: usize, message: impl std::fmt::Display) -> Diagnostic {
        invalid_argument(self.function.param_name(index), message)
    }

    /// Terraform's "Error in function call" error.
    pub fn fail(&self, message: impl std::fmt::Display) -> Diagnostic {
        call_failed(self.function.name, message)
    }

    fn non_null(&self, index: usize) -> Result<&'a Value, Diagnostic> {
        match self.value(index) {
            Value::Null => Err(self.invalid(index, "argument must not be null")),
            value => Ok(value),
        }
    }

    pub fn string(&self, index: usize) -> Result<String, Diagnostic> {
        let value = self.non_null(index)?;
        primitive_string(value).ok_or_else(|| self.invalid(index, "string required"))
    }

    pub fn number(&self, index: usize) -> Result<f64, Diagnostic> {
        let value = self.non_null(index)?;
        number_of(value).map_err(|message| self.invalid(index, message))
    }

    /// A number that must be whole, as Terraform's integer parameters require.
    pub fn integer(&self, index: usize) -> Result<i64, Diagnostic> {
        let number = self.number(index)?;
        whole(number).ok_or_else(|| self.invalid(index, "value must be a whole number"))
    }

    /// A list, set or tuple argument.
    pub fn list(&self, index: usize) -> Result<&'a [Value], Diagnostic> {
        match self.non_null(index)? {
            Value::List(items) => Ok(items),
            _ => Err(self.invalid(index, "list of any single type required")),
        }
    }

    /// A map or object argument.
    pub fn object(&self, index: usize) -> Result<&'a BTreeMap<String, Value>, Diagnostic> {
        match self.non_null(index)? {
            Value::Object(map) => Ok(map),
            _ => Err(self.invalid(index, "map of any single type required")),
        }
    }

    /// A list of strings: each element converted, none null.
    pub fn strings(&self, index: usize) -> Result<Vec<String>, Diagnostic> {
        self.list(index)?.iter().enumerate().map(|(i, item)| self.element_string(index, i, item)).collect()
    }

    /// Element `i` of argument `index` as a string.
    pub fn element_string(&self, index: usize, i: usize, item: &Value) -> Result<String, Diagnostic> {
        match item {
            Value::Null => Err(self.invalid(index, format!("element {i} is null; null values are not allowed here"))),
            other => primitive_string(other).ok_or_else(|| self.invalid(index, format!("element {i}: string required"))),
        }
    }

    /// A path argument, relative to the configuration directory unless absolute.
    pub fn path(&self, index: usize) -> Result<(String, PathBuf), Diagnostic> {
        let given = self.string(index)?;
        let expanded = super::filesystem::expand_home(&given);
        Ok((given, self.dir.join(expanded)))
    }
}

pub fn invalid_argument(param: &str, message: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error("Invalid function argument").detail(format!("Invalid value for \"{param}\" parameter: {message}."))
}

pub fn call_failed(function: &str, message: impl std::fmt::Display) -> Diagnostic {
    Diagnostic::error("Error in function call").detail(format!("Call to function \"{function}\" failed: {message}."))
}

/// The string form of a primitive, as Terraform converts a number or bool to a string.
pub fn primitive_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number from a number or a numeric string; the error is Terraform's phrase.
pub fn number_of(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n.as_f64().ok_or_else(|| "number out of range".to_owned()),
        Value::String(s) => s.trim().parse::<f64>().ok().filter(|f| f.is_finite()).ok_or_else(|| format!("a number is required, but \"{s}\" was given")),
        _ => Err("number required".to_owned()),
    }
}

/// `number` as an i64 when it is whole and in range.
pub fn whole(number: f64) -> Option<i64> {
    (number.fract() == 0.0 && number.abs() < 9.2e18).then_some(number as i64)
}

/// A finite number as a value; infinities and NaN (which Terraform's big floats never are) are errors.
pub fn finite(args: &Args, number: f64) -> Result<Value, Diagnostic> {
    if number.is_finite() {
        Ok(float_value(number))
    } else {
        Err(args.fail("the result is not a finite number"))
    }
}
