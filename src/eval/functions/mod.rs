//! The built-in functions of the configuration language, with Terraform's names, behaviour and
//! error messages.
//!
//! Every function is one row of [`REGISTRY`]: its name, category, parameters (Terraform's names,
//! which its argument errors quote) and implementation, so arity is checked in one place, an
//! unknown name gets the closest known one as a hint, and the README's list is tested against the
//! table. Any unknown argument makes the result unknown, except for the functions marked
//! [`Unknowns::Handled`], which look at unknowns themselves (`coalesce`, `length`). A few
//! functions need the expression, not its value (`try`, `can`, `sensitive`, `templatefile`...):
//! they are [`Impl::Expression`] rows, evaluated by [`expression`] through the [`CallSite`] the
//! evaluator implements.

mod args;
mod collection;
mod conversion;
mod crypto;
mod datetime;
mod encoding;
mod expression;
mod filesystem;
mod format;
mod ipnet;
mod numeric;
mod string;
mod template;
#[cfg(test)]
mod tests;

use std::path::Path;

use strata_provider_sdk::Value;

use crate::diag::{closest, Diagnostic};

pub(crate) use args::Args;
pub(crate) use expression::{call_expression, CallSite};
pub(crate) use template::apply_strip_markers;

type FnResult = Result<Value, Diagnostic>;

/// The documentation groups Terraform's functions fall in (and the README lists them by).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Category {
    Numeric,
    String,
    Collection,
    Encoding,
    Filesystem,
    DateTime,
    Crypto,
    IpNetwork,
    TypeConversion,
}

impl Category {
    /// The category's name in the README's list.
    #[cfg_attr(not(test), allow(dead_code, reason = "the README test checks each function is listed under its category"))]
    pub fn label(self) -> &'static str {
        match self {
            Category::Numeric => "Numeric",
            Category::String => "String",
            Category::Collection => "Collection",
            Category::Encoding => "Encoding",
            Category::Filesystem => "Filesystem",
            Category::DateTime => "Date and time",
            Category::Crypto => "Hash and crypto",
            Category::IpNetwork => "IP network",
            Category::TypeConversion => "Type conversion",
        }
    }
}

/// How a function is carried out.
#[derive(Clone, Copy)]
pub enum Impl {
    /// From the argument values.
    Values(fn(&Args) -> FnResult),
    /// From the argument expressions, by the evaluator (see [`expression`]).
    Expression,
}

/// Whether unknown arguments short-circuit the call.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unknowns {
    /// Any argument that is not wholly known makes the result unknown.
    Propagate,
    /// The implementation looks at unknown arguments itself.
    Handled,
}

/// One built-in function.
pub struct Function {
    pub name: &'static str,
    #[cfg_attr(not(test), allow(dead_code, reason = "the README test checks each function is listed under its category"))]
    pub category: Category,
    /// The fixed parameters' names, in order.
    pub params: &'static [&'static str],
    /// The name of the parameter that takes any number of further arguments, if any.
    pub variadic: Option<&'static str>,
    pub implementation: Impl,
    pub unknowns: Unknowns,
}

impl Function {
    /// A function of its argument values, with fixed parameters only.
    pub const fn new(name: &'static str, category: Category, params: &'static [&'static str], implementation: fn(&Args) -> FnResult) -> Function {
        Function { name, category, params, variadic: None, implementation: Impl::Values(implementation), unknowns: Unknowns::Propagate }
    }

    /// A function the evaluator carries out from its argument expressions.
    pub const fn expression(name: &'static str, category: Category, params: &'static [&'static str]) -> Function {
        Function { name, category, params, variadic: None, implementation: Impl::Expression, unknowns: Unknowns::Handled }
    }

    /// The same function taking any number of further arguments, bound to the parameter `name`.
    pub const fn variadic(mut self, name: &'static str) -> Function {
        self.variadic = Some(name);
        self
    }

    /// The same function, seeing unknown arguments instead of returning unknown for them.
    pub const fn handles_unknowns(mut self) -> Function {
        self.unknowns = Unknowns::Handled;
        self
    }

    /// The name of the parameter argument `index` binds to.
    pub fn param_name(&self, index: usize) -> &'static str {
        self.params.get(index).copied().or(self.variadic).unwrap_or("argument")
    }

    /// Terraform's arity errors: too few names the first missing parameter, too many says how many.
    pub fn check_arity(&self, given: usize) -> Result<(), Diagnostic> {
        let expected = self.params.len();
        if given < expected {
            return Err(Diagnostic::error("Not enough function arguments").detail(format!(
                "Function \"{}\" expects {expected} argument(s). Missing value for \"{}\".",
                self.name, self.params[given]
            )));
        }
        if given > expected && self.variadic.is_none() {
            return Err(Diagnostic::error("Too many function arguments")
                .detail(format!("Function \"{}\" expects only {expected} argument(s).", self.name)));
        }
        Ok(())
    }
}

/// Terraform functions strata does not provide, with the reason the unknown-function error gives.
pub const LEFT_OUT: &[(&str, &str)] = &[
    (
        "rsadecrypt",
        "strata does not decrypt RSA ciphertexts: the one maintained Rust RSA implementation carries an unfixed timing advisory on PKCS #1 v1.5 decryption, the operation this function is",
    ),
    ("type", "type() exists only in terraform console, not in configuration"),
    ("list", "list() was removed in Terraform 0.12; write [a, b] or use tolist()"),
    ("map", "map() was removed in Terraform 0.12; write { k = v } or use tomap()"),
];

/// Every built-in function, by category.
pub static REGISTRY: std::sync::LazyLock<Vec<&'static Function>> = std::sync::LazyLock::new(|| {
    [numeric::FUNCTIONS, string::FUNCTIONS, collection::FUNCTIONS, encoding::FUNCTIONS, filesystem::FUNCTIONS, datetime::FUNCTIONS, crypto::FUNCTIONS, ipnet::FUNCTIONS, conversion::FUNCTIONS]
        .into_iter()
        .flatten()
        .collect()
});

/// The function called `name`, or Terraform's "Call to unknown function" error with a suggestion.
pub fn lookup(name: &str) -> Result<&'static Function, Diagnostic> {
    if let Some(function) = REGISTRY.iter().find(|f| f.name == name) {
        return Ok(function);
    }
    let error = Diagnostic::error("Call to unknown function").detail(format!("There is no function named \"{name}\"."));
    if let Some((_, reason)) = LEFT_OUT.iter().find(|(left_out, _)| *left_out == name) {
        return Err(error.hint(*reason));
    }
    Err(match closest(name, REGISTRY.iter().map(|f| f.name)) {
        Some(best) => error.hint(format!("did you mean \"{best}\"?")),
        None => error.hint("the README lists the built-in functions"),
    })
}

/// Calls a function whose arity was checked.
fn call_checked(function: &'static Function, values: &[Value], dir: &Path) -> FnResult {
    let Impl::Values(implementation) = function.implementation else {
        return Err(Diagnostic::error(format!("{}() needs its argument expressions", function.name))
            .hint("it can only be called from a configuration expression"));
    };
    if function.unknowns == Unknowns::Propagate && values.iter().any(|v| !v.is_wholly_known()) {
        return Ok(Value::Unknown);
    }
    implementation(&Args { function, values, dir })
}
