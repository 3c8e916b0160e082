//! Ephemeral input variables (`variable "x" { ephemeral = true }`, Terraform 1.10): values that
//! live for one run only. Provider blocks and locals may use them (a local that does is
//! ephemeral too); a resource or data source argument, `count`/`for_each`, `lifecycle` or an
//! output may not, with Terraform's errors, since all of those are written to state or plans.
//!
//! Owns that check, made on the configuration before anything is evaluated, by following
//! references (so a value passed through `ephemeralasnull()` is refused too; see the README).
//! The values themselves are kept out of plan files by `plan::file` and redacted like
//! sensitive ones by `secrets`.

use std::collections::BTreeSet;

use crate::config::{AttrExpr, Config};
use crate::diag::{Diagnostic, Diagnostics, Result};
use crate::eval::{body_references, expression_references, Reference};

/// Refuses every use of an ephemeral value where it would be persisted, in every module.
pub fn check(config: &Config) -> Result<()> {
    let mut errors = Diagnostics::default();
    for module in config.modules_in_tree() {
        if let Err(found) = check_module(module) {
            errors.extend(found);
        }
    }
    errors.into_result().map(|_| ())
}

/// The check within one module: its own ephemeral variables, and what its module calls pass on.
fn check_module(config: &Config) -> Result<()> {
    let variables: BTreeSet<&str> = config.variables.values().filter(|v| v.ephemeral).map(|v| v.name.as_str()).collect();
    if variables.is_empty() {
        return Ok(());
    }
    let locals = ephemeral_locals(config, &variables);
    let culprit = |references: &[Reference]| {
        references.iter().find_map(|reference| match reference {
            Reference::Variable(name) if variables.contains(name.as_str()) => Some(format!("var.{name}")),
            Reference::Local(name) if locals.contains(name.as_str()) => Some(format!("local.{name}")),
            _ => None,
        })
    };
    let mut errors = Diagnostics::default();
    for (address, resource) in &config.resources {
        let mut arguments: Vec<(&AttrExpr, Vec<Reference>)> = body_references(&resource.body);
        if let Some(lifecycle) = &resource.lifecycle {
            arguments.extend([&lifecycle.prevent_destroy, &lifecycle.create_before_destroy].into_iter().flatten().map(|attr| (attr, expression_references(&attr.expr))));
        }
        for (attr, references) in arguments {
            if let Some(name) = culprit(&references) {
                errors.push(
                    Diagnostic::error("Invalid use of ephemeral value")
                        .at(Some(&attr.location))
                        .detail(format!("{name} has an ephemeral value. Ephemeral values are not valid in resource arguments, because resource instances must persist between Terraform phases."))
                        .hint(format!("only provider blocks and locals may use {name}; pass a value that may be stored, or declare the variable without ephemeral = true")),
                );
            }
        }
        if let Some(attr) = resource.expansion.expression() {
            if let Some(name) = culprit(&expression_references(&attr.expr)) {
                let argument = if matches!(resource.expansion, crate::config::Expansion::Count(_)) { "count" } else { "for_each" };
                errors.push(
                    Diagnostic::error(format!("Invalid {argument} argument"))
                        .at(Some(&attr.location))
                        .detail(format!("{name} has an ephemeral value. The given \"{argument}\" value is derived from an ephemeral value, which means that strata cannot persist it between plan/apply rounds. Use only non-ephemeral values to specify the instances of {address}.")),
                );
            }
        }
    }
    for call in config.modules.values() {
        for (name, attr) in &call.inputs {
            let accepts = call.config.variables.get(name).is_some_and(|v| v.ephemeral);
            if let Some(culprit) = culprit(&expression_references(&attr.expr)).filter(|_| !accepts) {
                errors.push(
                    Diagnostic::error("Ephemeral value not allowed")
                        .at(Some(&attr.location))
                        .detail(format!("{culprit} has an ephemeral value. The input variable \"{name}\" of module \"{}\" is not declared as accepting ephemeral values, so it cannot be set to a result derived from an ephemeral value.", call.name))
                        .hint(format!("declare variable \"{name}\" with ephemeral = true in the module, if it only reaches provider blocks and locals")),
                );
            }
        }
    }
    for (name, output) in &config.outputs {
        if let Some(culprit) = culprit(&expression_references(&output.value.expr)) {
            errors.push(
                Diagnostic::error("Ephemeral value not allowed")
                    .at(Some(&output.value.location))
                    .detail(format!("{culprit} has an ephemeral value. This output value \"{name}\" is not declared as returning an ephemeral value, so it cannot be set to a result derived from an ephemeral value."))
                    .hint("outputs of the root module are stored in state, so they cannot be ephemeral; remove the reference"),
            );
        }
    }
    errors.into_result().map(|_| ())
}

/// The locals whose value derives, directly or through other locals, from an ephemeral variable.
fn ephemeral_locals<'c>(config: &'c Config, variables: &BTreeSet<&str>) -> BTreeSet<&'c str> {
    let references: Vec<(&str, Vec<Reference>)> = config.locals.iter().map(|(name, local)| (name.as_str(), expression_references(&local.value.expr))).collect();
    let mut found = BTreeSet::new();
    loop {
        let before = found.len();
        for (name, references) in &references {
            let ephemeral = references.iter().any(|r| match r {
                Reference::Variable(v) => variables.contains(v.as_str()),
                Reference::Local(l) => found.contains(l.as_str()),
                Reference::Resource(_) | Reference::Module { .. } => false,
            });
            if ephemeral {
                found.insert(*name);
            }
        }
        if found.len() == before {
            return found;
        }
    }
}

#[cfg(test)]
mod tests {
    fn check(source: &str) -> Result<(), String> {
        let dir = std::env::temp_dir().join(format!("strata-ephemeral-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("main.tf"), source).unwrap();
        let config = crate::config::load_dir(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        super::check(&config).map_err(|errors| text(&errors))
    }

    /// Every error with its location, detail and hint, as one text to search.
    fn text(errors: &crate::diag::Diagnostics) -> String {
        errors.0.iter().map(|d| format!("{} at {} {} {}\n", d.summary, d.location.as_ref().map(ToString::to_string).unwrap_or_default(), d.detail.as_deref().unwrap_or(""), d.hint.as_deref().unwrap_or(""))).collect()
    }

    const VARIABLE: &str = "variable \"password\" {\n  type      = string\n  ephemeral = true\n}\nlocals {\n  dsn  = \"password=${var.password}\"\n  also = local.dsn\n}\n";

    #[test]
    fn providers_and_locals_may_use_an_ephemeral_variable() {
        let source = format!("{VARIABLE}provider \"postgres\" {{\n  password = var.password\n  host     = local.also\n}}\nresource \"postgres_table\" \"t\" {{\n  name = \"t\"\n}}\n");
        assert_eq!(check(&source), Ok(()));
    }

    #[test]
    fn a_resource_argument_even_through_locals_or_a_dynamic_block_is_terraforms_error() {
        let source = format!(
            "{VARIABLE}resource \"postgres_table\" \"t\" {{\n  name    = \"t\"\n  comment = local.also\n  dynamic \"column\" {{\n    for_each = {{ a = 1 }}\n    content {{\n      name = var.password\n    }}\n  }}\n}}\n"
        );
        let error = check(&source).unwrap_err();
        assert!(error.contains("Invalid use of ephemeral value") && error.contains("local.also has an ephemeral value"), "{error}");
        assert!(error.contains("main.tf:11:3") && error.contains("main.tf:15:7"), "{error}");
    }

    #[test]
    fn a_module_input_takes_an_ephemeral_value_only_into_an_ephemeral_variable() {
        let dir = std::env::temp_dir().join(format!("strata-ephemeral-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("child")).unwrap();
        std::fs::write(dir.join("main.tf"), format!("{VARIABLE}module \"child\" {{\n  source   = \"./child\"\n  password = var.password\n}}\n")).unwrap();
        let child = |ephemeral: bool| format!("variable \"password\" {{\n  ephemeral = {ephemeral}\n}}\nlocals {{\n  p = var.password\n}}\n");
        std::fs::write(dir.join("child/main.tf"), child(false)).unwrap();
        let refused = super::check(&crate::config::load_dir(&dir).unwrap()).map_err(|e| text(&e)).unwrap_err();
        assert!(refused.contains("Ephemeral value not allowed") && refused.contains("not declared as accepting ephemeral values"), "{refused}");
        std::fs::write(dir.join("child/main.tf"), child(true)).unwrap();
        assert!(super::check(&crate::config::load_dir(&dir).unwrap()).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_output_or_a_for_each_is_terraforms_error() {
        let source = format!("{VARIABLE}output \"dsn\" {{\n  value = local.dsn\n}}\nresource \"postgres_table\" \"t\" {{\n  for_each = toset([var.password])\n  name     = each.key\n}}\n");
        let error = check(&source).unwrap_err();
        assert!(error.contains("Ephemeral value not allowed") && error.contains("not declared as returning an ephemeral value"), "{error}");
        assert!(error.contains("Invalid for_each argument"), "{error}");
    }
}
