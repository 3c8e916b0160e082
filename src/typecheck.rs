//! Checking configuration against provider schemas.
//!
//! Owns two passes over a resource or provider block: [`check_body`] before evaluation (unknown
//! attributes and blocks, with the closest valid name; computed-only attributes being set; missing
//! required attributes and blocks) and [`conform`] after it (each value converted to its declared
//! type, an enumerated string one of its allowed values, every schema attribute present, null when
//! unset). It must not evaluate or plan.

use std::collections::BTreeMap;

use strata_provider_sdk::{AllowedValues, Block, Nesting, Syntax, Type, Value};

use crate::config::BodyExpr;
use crate::diag::{closest, suggestion, Diagnostic, Diagnostics, Location, Result};
use crate::eval::types::TypeConstraint;

mod dynamic;

/// Checks the shape of `body` against `schema`; `context` names the block in messages.
pub fn check_body(schema: &Block, body: &BodyExpr, context: &str) -> Result<()> {
    let mut errors = Diagnostics::default();
    for (name, attr) in &body.attributes {
        match schema.attributes.get(name.as_str()) {
            // Written as an attribute but declared as a block: reported below, with how to write it.
            None if schema.blocks.contains_key(name.as_str()) => {}
            None => errors.push(
                Diagnostic::error(format!("unknown attribute \"{name}\" in {context}"))
                    .at(Some(&attr.location))
                    .hint(suggestion(name, schema.attributes.iter().filter(|(_, a)| a.is_settable()).map(|(n, _)| *n).chain(schema.blocks.keys().copied()))),
            ),
            Some(declared) if !declared.is_settable() => errors.push(
                Diagnostic::error(format!("\"{name}\" in {context} is set by the provider and cannot be configured"))
                    .at(Some(&attr.location))
                    .hint(format!("remove it; read it elsewhere as {context}.{name}")),
            ),
            Some(_) => {}
        }
    }
    for (name, declared) in &schema.attributes {
        if declared.required && !body.attributes.contains_key(*name) {
            errors.push(
                Diagnostic::error(format!("{context} needs the attribute \"{name}\""))
                    .at(Some(&body.location))
                    .hint(format!("add {name} = <{}>{}", declared.ty.describe(), describe(declared.description))),
            );
        }
    }
    for block in &body.blocks {
        if block.kind == "dynamic" {
            dynamic::check(schema, block, context, &mut errors);
            continue;
        }
        let Some(nested) = schema.blocks.get(block.kind.as_str()) else {
            let is_attribute = schema.attributes.contains_key(block.kind.as_str());
            errors.push(
                Diagnostic::error(format!("unknown block \"{}\" in {context}", block.kind))
                    .at(Some(&block.location))
                    .hint(if is_attribute { format!("\"{0}\" is an attribute: write {0} = ...", block.kind) } else { suggestion(&block.kind, schema.blocks.keys().copied()) }),
            );
            continue;
        };
        if !block.labels.is_empty() {
            errors.push(Diagnostic::error(format!("a \"{}\" block takes no labels", block.kind)).at(Some(&block.location)));
        }
        if let Err(nested_errors) = check_body(&nested.block, &block.body, &format!("{context} {} block", block.kind)) {
            errors.extend(nested_errors);
        }
    }
    for (name, nested) in &schema.blocks {
        let count = body.blocks.iter().filter(|b| b.kind == *name || dynamic::makes(b, name)).count();
        if count < nested.min_items {
            errors.push(Diagnostic::error(format!("{context} needs at least {} \"{name}\" block(s)", nested.min_items)).at(Some(&body.location)));
        }
        if nested.nesting == Nesting::Single && count > 1 {
            errors.push(Diagnostic::error(format!("{context} may have only one \"{name}\" block")).at(Some(&body.location)));
        }
    }
    for (name, attr) in &body.attributes {
        if schema.blocks.contains_key(name.as_str()) {
            errors.push(
                Diagnostic::error(format!("\"{name}\" is a block in {context}, not an attribute"))
                    .at(Some(&attr.location))
                    .hint(format!("write it as {name} {{ ... }}")),
            );
        }
    }
    errors.into_result().map(|_| ())
}

fn describe(description: &str) -> String {
    if description.is_empty() {
        String::new()
    } else {
        format!(" ({description})")
    }
}

/// Converts an evaluated body to the schema's types and fills what is unset with null (or an
/// empty list for list blocks). `body` gives locations for errors.
pub fn conform(schema: &Block, value: Value, body: &BodyExpr, context: &str) -> Result<Value> {
    let mut given = match value {
        Value::Object(map) => map,
        _ => BTreeMap::new(),
    };
    let mut out = BTreeMap::new();
    for (name, declared) in &schema.attributes {
        let raw = given.remove(*name).unwrap_or(Value::Null);
        let location = body.attributes.get(*name).map(|a| &a.location);
        let converted = convert(&declared.ty, raw).map_err(|why| type_error(context, name, &declared.ty, &why, location))?;
        if declared.required && converted.is_null() {
            return Err(Diagnostic::error(format!("\"{name}\" in {context} must not be null")).at(location).into());
        }
        if let (Some(allowed), Some(given)) = (&declared.allowed, converted.as_str()) {
            check_allowed(allowed, given, name, context, location)?;
        }
        if let (Some(syntax), Some(given)) = (&declared.syntax, converted.as_str()) {
            check_syntax(syntax, given, name, context, location)?;
        }
        out.insert((*name).to_owned(), converted);
    }
    for (name, nested) in &schema.blocks {
        let items = match given.remove(*name) {
            Some(Value::List(items)) => items,
            // A dynamic block whose for_each is not known yet.
            Some(Value::Unknown) => {
                out.insert((*name).to_owned(), Value::Unknown);
                continue;
            }
            _ => vec![],
        };
        let bodies = dynamic::bodies(body, name, items.len());
        let converted = items
            .into_iter()
            .zip(bodies)
            .map(|(item, block_body)| conform(&nested.block, item, block_body, &format!("{context} {name} block")))
            .collect::<Result<Vec<_>>>()?;
        let value = match nested.nesting {
            Nesting::List => Value::List(converted),
            Nesting::Single => converted.into_iter().next().unwrap_or(Value::Null),
        };
        out.insert((*name).to_owned(), value);
    }
    Ok(Value::Object(out))
}

/// An enumerated string must be one of its values: caught here, at validate, rather than as an
/// SQL or API error in the middle of an apply.
fn check_allowed(allowed: &AllowedValues, given: &str, name: &str, context: &str, location: Option<&Location>) -> Result<()> {
    if allowed.allows(given) {
        return Ok(());
    }
    let mut error = Diagnostic::error(format!("\"{given}\" is not a valid value for \"{name}\" in {context}"))
        .at(location)
        .detail(format!("allowed values: {}", allowed.values.join(", ")));
    if let Some(best) = closest(given, allowed.values.iter().copied()) {
        error = error.hint(format!("did you mean \"{best}\"?"));
    }
    Err(error.into())
}

/// A string with a grammar must follow it: a value that strata pastes into SQL (a column's type)
/// can then never carry anything else.
fn check_syntax(syntax: &Syntax, given: &str, name: &str, context: &str, location: Option<&Location>) -> Result<()> {
    let Err(why) = (syntax.check)(given) else { return Ok(()) };
    Err(Diagnostic::error(format!("\"{given}\" is not {} (\"{name}\" in {context}): {why}", syntax.what)).at(location).into())
}

/// Checks an attribute path as drift reports it (`instance_class`, `tags.team`,
/// `column.email.type`) against `schema`: each name must exist; a map takes any key and a list
/// of named blocks any block name, since what drifted may be absent from configuration and state.
pub fn check_attribute_path(schema: &Block, path: &str, address: &str) -> Result<()> {
    let mut block = schema;
    let mut segments = path.split('.');
    while let Some(segment) = segments.next() {
        if let Some(attribute) = block.attributes.get(segment) {
            return match (&attribute.ty, segments.next()) {
                (_, None) | (Type::Map(_) | Type::Any | Type::List(_), Some(_)) => Ok(()),
                (ty, Some(_)) => Err(Diagnostic::error(format!("\"{path}\" is not an attribute path of {address}"))
                    .detail(format!("\"{segment}\" is a {}: there is nothing below it", ty.describe()))
                    .hint(format!("acknowledge {address}.{segment} itself"))
                    .into()),
            };
        }
        let Some(nested) = block.blocks.get(segment) else {
            let names = block.attributes.keys().chain(block.blocks.keys()).copied();
            return Err(Diagnostic::error(format!("{address} has no attribute \"{segment}\" (in \"{path}\")")).hint(suggestion(segment, names)).into());
        };
        block = &nested.block;
        if nested.nesting == Nesting::List {
            // A list of named blocks is keyed by block name; any other list differs only as a whole.
            let keyed_by_name = block.attributes.contains_key("name");
            match segments.next() {
                None => return Ok(()),
                Some(_) if keyed_by_name => {}
                Some(_) => {
                    return Err(Diagnostic::error(format!("\"{path}\" is not an attribute path of {address}"))
                        .detail(format!("\"{segment}\" blocks are compared as a whole list"))
                        .hint(format!("acknowledge {address}.{segment}"))
                        .into())
                }
            }
        }
    }
    Ok(())
}

fn type_error(context: &str, name: &str, ty: &Type, why: &str, location: Option<&Location>) -> Diagnostics {
    Diagnostic::error(format!("wrong type for \"{name}\" in {context}: {why}"))
        .at(location)
        .hint(format!("\"{name}\" takes a {}", ty.describe()))
        .into()
}

/// Converts a value to `ty`, as Terraform's automatic conversions do.
pub fn convert(ty: &Type, value: Value) -> std::result::Result<Value, String> {
    TypeConstraint::from_schema(ty).convert(value)
}
