//! Custom conditions: a resource's `precondition` and `postcondition` blocks, which stop a plan
//! or an apply when false, and `check` blocks' assertions, reported as warnings after plan and
//! apply and never blocking either (Terraform 1.5's semantics).
//!
//! Owns evaluating them and the messages; the planner and apply say when.

use std::rc::Rc;

use strata_provider_sdk::Value;

use crate::addrs::ResourceInstance;
use crate::config::Condition;
use crate::context::Context;
use crate::diag::{Diagnostic, Diagnostics, Result};
use crate::eval::{Known, Scope};

/// Which of a resource's conditions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum When {
    /// `precondition`: before the instance is planned.
    Before,
    /// `postcondition`: with the instance's planned or applied value as `self`.
    After,
}

/// Checks the `precondition` (`self_value` none) or `postcondition` blocks of an instance. A false
/// one is an error naming its `error_message`; `Ok(false)` when some depends on values only apply
/// can tell (a postcondition is then checked again after apply).
pub fn instance_conditions_hold(ctx: &Context, address: &ResourceInstance, when: When, self_value: Option<&Value>, known: &Known) -> Result<bool> {
    let Some(lifecycle) = ctx.config.resource(&address.config()).and_then(|r| r.lifecycle.as_ref()) else { return Ok(true) };
    let (conditions, summary) = match when {
        When::Before => (&lifecycle.preconditions, "Resource precondition failed"),
        When::After => (&lifecycle.postconditions, "Resource postcondition failed"),
    };
    if conditions.is_empty() {
        return Ok(true);
    }
    let mut scope = ctx.instance_scope(address, known)?;
    scope.self_value = self_value.cloned().map(Rc::new);
    all_hold(&scope, conditions, summary, &address.to_string())
}

/// Checks `conditions` in `scope`: the first false one is the error `summary` about `subject`;
/// `Ok(false)` when some cannot be told yet.
pub fn all_hold(scope: &Scope<'_>, conditions: &[Condition], summary: &str, subject: &str) -> Result<bool> {
    let mut all_known = true;
    for condition in conditions {
        match scope.condition_holds(condition)? {
            Some(true) => {}
            None => all_known = false,
            Some(false) => return Err(failed(scope, condition, summary, subject).into()),
        }
    }
    Ok(all_known)
}

/// The assertions of every `check` block (in every module instance) that `known` shows false, as
/// warnings. One that cannot be told yet is not reported: apply reports it once it can.
pub fn failed_checks(ctx: &Context, known: &Known) -> Diagnostics {
    let mut found = Diagnostics::default();
    for module in ctx.config.modules_in_tree() {
        if module.checks.is_empty() {
            continue;
        }
        for scope in ctx.module_scopes(&module.path, known).ok().flatten().unwrap_or_default() {
            let instance = scope.module_instance();
            for (name, check) in &module.checks {
                let subject = if instance.is_root() { format!("check.{name}") } else { format!("{instance}.check.{name}") };
                for assert in &check.asserts {
                    match scope.condition_holds(assert) {
                        Ok(Some(false)) => found.push(Diagnostic { severity: crate::diag::Severity::Warning, ..failed(&scope, assert, "Check block assertion failed", &subject) }),
                        Ok(_) => {}
                        Err(errors) => found.extend(Diagnostics(errors.0.into_iter().map(|e| Diagnostic { severity: crate::diag::Severity::Warning, ..e }).collect())),
                    }
                }
            }
        }
    }
    found
}

fn failed(scope: &Scope<'_>, condition: &Condition, summary: &str, subject: &str) -> Diagnostic {
    let message = scope.condition_message(condition).unwrap_or_else(|| "the condition is false".to_owned());
    Diagnostic::error(format!("{summary}: {subject}")).at(Some(&condition.condition.location)).detail(message)
}
