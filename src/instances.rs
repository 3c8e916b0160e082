//! Expansion: the instances a block's `count` or `for_each` makes, as OpenTofu's `instances`
//! expander does, and what each instance's expressions see (`count.index`, `each.key`,
//! `each.value`).
//!
//! Owns evaluating `count` and `for_each` with Terraform's rules and messages. The planner asks
//! it which instances a resource has; expression evaluation asks it how to assemble a reference
//! to a whole counted resource (a list) or a `for_each` resource (a map). It must not plan.

use std::collections::BTreeMap;

use strata_provider_sdk::Value;

use crate::addrs::InstanceKey;
use crate::config::{AttrExpr, Expansion};
use crate::diag::{Diagnostic, Result};
use crate::eval::{Repetition, Scope};

/// The instances of one block, with what each one's expressions see; `None` while `count` or
/// `for_each` is not known yet.
pub fn expand(scope: &Scope<'_>, expansion: &Expansion) -> Result<Option<Vec<(InstanceKey, Repetition)>>> {
    match expansion {
        Expansion::Single => Ok(Some(vec![(InstanceKey::None, Repetition::None)])),
        Expansion::Count(attr) => Ok(count(scope, attr)?.map(|n| (0..n).map(|i| (InstanceKey::Int(i), Repetition::Count(Value::int(i)))).collect())),
        Expansion::ForEach(attr) => Ok(for_each(scope, attr)?.map(|entries| {
            entries.into_iter().map(|(key, value)| (InstanceKey::Str(key.clone()), Repetition::Each { key: Value::String(key), value })).collect()
        })),
    }
}

/// What an instance with `key` sees, for re-evaluating it (apply, import).
pub fn repetition(scope: &Scope<'_>, expansion: &Expansion, key: &InstanceKey) -> Result<Repetition> {
    match (expansion, key) {
        (Expansion::Single, InstanceKey::None) => Ok(Repetition::None),
        (Expansion::Count(_), InstanceKey::Int(index)) => Ok(Repetition::Count(Value::int(*index))),
        (Expansion::ForEach(attr), InstanceKey::Str(key)) => {
            let value = for_each(scope, attr)?.and_then(|mut entries| entries.remove(key)).unwrap_or(Value::Unknown);
            Ok(Repetition::Each { key: Value::String(key.clone()), value })
        }
        _ => Err(Diagnostic::error(format!("the instance key {} does not fit the block: {}", key_text(key), expected_keys(expansion))).into()),
    }
}

/// What validation evaluates a block with: one instance whose `count.index` or `each` is unknown.
pub fn unknown_repetition(expansion: &Expansion) -> Repetition {
    match expansion {
        Expansion::Single => Repetition::None,
        Expansion::Count(_) => Repetition::Count(Value::Unknown),
        Expansion::ForEach(_) => Repetition::Each { key: Value::Unknown, value: Value::Unknown },
    }
}

/// Whether `key` is the kind of key the block's instances have (`[0]` for `count`, `["k"]` for
/// `for_each`, none otherwise), whatever the keys turn out to be.
pub fn key_fits(expansion: &Expansion, key: &InstanceKey) -> bool {
    matches!((expansion, key), (Expansion::Single, InstanceKey::None) | (Expansion::Count(_), InstanceKey::Int(_)) | (Expansion::ForEach(_), InstanceKey::Str(_)))
}

/// Which keys a block's instances have, in words, for errors about a key that does not fit.
pub fn expected_keys(expansion: &Expansion) -> &'static str {
    match expansion {
        Expansion::Single => "it has neither count nor for_each, so its one instance has no key",
        Expansion::Count(_) => "it has count, so its instances are keyed [0], [1], ...",
        Expansion::ForEach(_) => "it has for_each, so its instances are keyed by strings such as [\"name\"]",
    }
}

fn key_text(key: &InstanceKey) -> String {
    match key {
        InstanceKey::None => "(none)".to_owned(),
        other => other.to_string(),
    }
}

/// `count`: a whole number, zero or more.
fn count(scope: &Scope<'_>, attr: &AttrExpr) -> Result<Option<i64>> {
    let invalid = |why: String| Diagnostic::error("Invalid count argument").at(Some(&attr.location)).detail(why);
    let evaluated = scope.eval_attr(attr)?;
    match &evaluated.value {
        Value::Unknown => Ok(None),
        Value::Number(n) => match n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)) {
            Some(count) if count >= 0 => Ok(Some(count)),
            Some(_) => Err(invalid("The given \"count\" argument value is unsuitable: must be greater than or equal to zero.".into()).into()),
            None => Err(invalid(format!("The given \"count\" argument value is unsuitable: {n} is not a whole number.")).into()),
        },
        Value::Null => Err(invalid("The given \"count\" argument value is null. An integer is required.".into()).into()),
        other => Err(invalid(format!("The given \"count\" argument value is unsuitable: a number is required, not {}.", other.kind_phrase())).into()),
    }
}

/// `for_each`: a map (each.value is the element) or a set of strings (each.value is the key).
/// Values carry no set type, so a list of distinct strings stands for a set.
pub fn for_each(scope: &Scope<'_>, attr: &AttrExpr) -> Result<Option<BTreeMap<String, Value>>> {
    let invalid = |why: String| Diagnostic::error("Invalid for_each argument").at(Some(&attr.location)).detail(why);
    let evaluated = scope.eval_attr(attr)?;
    if evaluated.sensitive {
        return Err(invalid("Sensitive values, or values derived from sensitive values, cannot be used as for_each arguments: they would be exposed as instance keys.".into())
            .hint("use nonsensitive() on a value whose keys are not secret")
            .into());
    }
    let entries = match evaluated.value {
        Value::Unknown => return Ok(None),
        Value::Object(map) => map,
        Value::List(items) => {
            let mut keys = BTreeMap::new();
            for item in items {
                match item {
                    Value::Unknown => return Ok(None),
                    Value::String(key) => {
                        keys.insert(key.clone(), Value::String(key));
                    }
                    other => {
                        return Err(invalid(format!("The given \"for_each\" argument value is unsuitable: for_each supports maps and sets of strings, but this set holds {}.", other.kind_phrase()))
                            .hint("convert it with toset([for x in ... : tostring(x)]) or build a map with a for-expression")
                            .into())
                    }
                }
            }
            keys
        }
        Value::Null => return Err(invalid("The given \"for_each\" argument value is null. A map, or set of strings, is allowed.".into()).into()),
        other => {
            return Err(invalid(format!("The given \"for_each\" argument value is unsuitable: the \"for_each\" argument must be a map, or set of strings, and you have provided {}.", other.kind_phrase())).into())
        }
    };
    Ok(Some(entries))
}
