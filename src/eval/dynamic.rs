//! `dynamic` blocks: a nested block written once and made once per element of its `for_each`,
//! as Terraform's (HCL's `dynblock`) are.
//!
//! ```hcl
//! dynamic "ingress" {
//!   for_each = var.rules        # a list, set, map or object
//!   iterator = rule             # default: the block's label
//!   content {
//!     from_port = rule.value.from_port   # rule.key: the index or the key
//!   }
//! }
//! ```
//!
//! Owns evaluating a body whose nested blocks may be dynamic (each element's `content` sees the
//! iterator, and nested dynamic blocks see every enclosing iterator), what a dynamic block's
//! shape is (`Dynamic::of`), and which references a body makes once iterators are bound (for the
//! graph). A `for_each` not known yet makes the whole list of those blocks unknown. The schema
//! check of a dynamic block's `content` lives in `typecheck`.

use std::collections::{BTreeMap, BTreeSet};

use strata_provider_sdk::Value;

use super::{Reference, Scope};
use crate::config::{AttrExpr, BlockExpr, BodyExpr};
use crate::diag::{Diagnostic, Result};

/// The parts of a `dynamic "LABEL" { ... }` block.
pub struct Dynamic<'b> {
    /// The type of the blocks it makes.
    pub label: &'b str,
    pub for_each: &'b AttrExpr,
    /// The iterator's name: `iterator = NAME`, or the label.
    pub iterator: String,
    pub labels: Option<&'b AttrExpr>,
    pub content: &'b BodyExpr,
}

impl<'b> Dynamic<'b> {
    /// The parts of `block` (a `dynamic` block), or the error Terraform gives for a malformed one.
    pub fn of(block: &'b BlockExpr) -> std::result::Result<Dynamic<'b>, Diagnostic> {
        let [label] = block.labels.as_slice() else {
            return Err(Diagnostic::error("Invalid dynamic block")
                .at(Some(&block.location))
                .detail(format!("a dynamic block takes one label, the type of the blocks it makes; found {}", block.labels.len()))
                .hint("write it as dynamic \"BLOCK_TYPE\" { for_each = ...  content { ... } }"));
        };
        let for_each = block.body.attributes.get("for_each").ok_or_else(|| {
            Diagnostic::error("Missing required argument")
                .at(Some(&block.location))
                .detail("The argument \"for_each\" is required, but no definition was found.")
                .hint("add for_each = <a list, set or map> to the dynamic block")
        })?;
        let iterator = match block.body.attributes.get("iterator") {
            None => label.clone(),
            Some(attr) => match &attr.expr {
                hcl::Expression::Variable(name) => name.as_str().to_owned(),
                _ => {
                    return Err(Diagnostic::error("Invalid dynamic iterator name")
                        .at(Some(&attr.location))
                        .detail("Dynamic iterator must be a single variable name.")
                        .hint(format!("write iterator = NAME without quotes, then refer to NAME.key and NAME.value; leave it out to use \"{label}\"")))
                }
            },
        };
        let mut contents = block.body.blocks.iter().filter(|b| b.kind == "content");
        let content = contents.next().ok_or_else(|| {
            Diagnostic::error("Missing content block")
                .at(Some(&block.location))
                .detail("A dynamic block needs a content block: the body of each block it makes.")
                .hint("add content { ... } inside the dynamic block")
        })?;
        if let Some(extra) = contents.next() {
            return Err(Diagnostic::error("Duplicate content block")
                .at(Some(&extra.location))
                .detail("A dynamic block has exactly one content block."));
        }
        Ok(Dynamic { label, for_each, iterator, labels: block.body.attributes.get("labels"), content: &content.body })
    }
}

/// Evaluates `body` with `bindings` (the iterators of enclosing dynamic blocks) in scope: its
/// attributes by name, its nested blocks (literal and dynamic, in source order) as lists of
/// objects under their type; also the top-level names that read something sensitive.
pub(super) fn eval_body(scope: &Scope<'_>, body: &BodyExpr, bindings: &[(String, Value)]) -> Result<(Value, BTreeSet<String>)> {
    let mut object = BTreeMap::new();
    let mut sensitive = BTreeSet::new();
    for (name, attr) in &body.attributes {
        let evaluated = scope.eval_attr_with(attr, bindings)?;
        if evaluated.sensitive {
            sensitive.insert(name.clone());
        }
        object.insert(name.clone(), evaluated.value);
    }
    for block in &body.blocks {
        if block.kind == "dynamic" {
            expand(scope, block, bindings, &mut object, &mut sensitive)?;
            continue;
        }
        let (value, block_sensitive) = eval_body(scope, &block.body, bindings)?;
        if !block_sensitive.is_empty() {
            sensitive.insert(block.kind.clone());
        }
        push(&mut object, &block.kind, value);
    }
    Ok((Value::Object(object), sensitive))
}

/// One more block of `kind`; a list already unknown stays unknown.
fn push(object: &mut BTreeMap<String, Value>, kind: &str, value: Value) {
    if let Value::List(items) = object.entry(kind.to_owned()).or_insert_with(|| Value::List(vec![])) {
        items.push(value);
    }
}

/// Adds the blocks a dynamic block makes to `object`.
fn expand(scope: &Scope<'_>, block: &BlockExpr, bindings: &[(String, Value)], object: &mut BTreeMap<String, Value>, sensitive: &mut BTreeSet<String>) -> Result<()> {
    let dynamic = Dynamic::of(block)?;
    let for_each = scope.eval_attr_with(dynamic.for_each, bindings)?;
    if for_each.sensitive {
        sensitive.insert(dynamic.label.to_owned());
    }
    let invalid = |detail: String| Diagnostic::error("Invalid dynamic for_each value").at(Some(&dynamic.for_each.location)).detail(detail);
    let elements: Vec<(Value, Value)> = match for_each.value {
        // How many blocks is not known yet: neither is the list of them.
        Value::Unknown => {
            object.insert(dynamic.label.to_owned(), Value::Unknown);
            return Ok(());
        }
        Value::Null => return Err(invalid("Cannot use a null value in for_each.".into()).hint("use [] or {} for no blocks").into()),
        Value::List(items) => items.into_iter().enumerate().map(|(i, v)| (Value::int(i as i64), v)).collect(),
        Value::Object(map) => map.into_iter().map(|(k, v)| (Value::String(k), v)).collect(),
        other => return Err(invalid(format!("Cannot use {} value in for_each. An iterable collection is required.", other.kind_phrase())).into()),
    };
    // No elements: no blocks, an empty list.
    object.entry(dynamic.label.to_owned()).or_insert_with(|| Value::List(vec![]));
    for (key, value) in elements {
        let mut inner = bindings.to_vec();
        inner.push((dynamic.iterator.clone(), Value::object([("key", key), ("value", value)])));
        if let Some(labels) = dynamic.labels {
            check_labels(&scope.eval_attr_with(labels, &inner)?.value, labels)?;
        }
        let (made, made_sensitive) = eval_body(scope, dynamic.content, &inner)?;
        if !made_sensitive.is_empty() {
            sensitive.insert(dynamic.label.to_owned());
        }
        push(object, dynamic.label, made);
    }
    Ok(())
}

/// `labels = [...]` must be a list of strings (the blocks strata's providers declare take none,
/// which `typecheck` reports; this is Terraform's check of the value).
fn check_labels(value: &Value, attr: &AttrExpr) -> Result<()> {
    let bad = |detail: &str| Diagnostic::error("Invalid dynamic block label").at(Some(&attr.location)).detail(detail.to_owned()).into();
    match value {
        Value::Unknown => Ok(()),
        Value::List(items) if items.iter().all(|i| matches!(i, Value::String(_) | Value::Unknown)) => Ok(()),
        Value::List(_) => Err(bad("Cannot use a null value or a value other than a string as a dynamic block label.")),
        _ => Err(bad("labels must be a list of strings, one for each label of the block type.")),
    }
}

/// Every attribute of `body` (nested and dynamic blocks included) with the references it makes,
/// leaving out the iterators of the dynamic blocks around it: the graph's edges.
pub fn body_references(body: &BodyExpr) -> Vec<(&AttrExpr, Vec<Reference>)> {
    let mut found = Vec::new();
    collect_body(body, &mut Vec::new(), &mut found);
    found
}

fn collect_body<'b>(body: &'b BodyExpr, bound: &mut Vec<String>, found: &mut Vec<(&'b AttrExpr, Vec<Reference>)>) {
    for attr in body.attributes.values() {
        found.push((attr, super::references::references_with_bound(&attr.expr, bound)));
    }
    for block in &body.blocks {
        match (block.kind.as_str(), Dynamic::of(block)) {
            ("dynamic", Ok(dynamic)) => {
                found.push((dynamic.for_each, super::references::references_with_bound(&dynamic.for_each.expr, bound)));
                bound.push(dynamic.iterator.clone());
                if let Some(labels) = dynamic.labels {
                    found.push((labels, super::references::references_with_bound(&labels.expr, bound)));
                }
                collect_body(dynamic.content, bound, found);
                bound.pop();
            }
            // A malformed dynamic block: typecheck reports it; its references are still edges.
            _ => collect_body(&block.body, bound, found),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use strata_provider_sdk::Value;

    use crate::addrs::ConfigResource;
    use crate::eval::tests::config_with;
    use crate::eval::{Reference, Scope};

    fn evaluate(source: &str, variables: &BTreeMap<String, Value>) -> crate::diag::Result<Value> {
        let config = config_with(source);
        let nothing_known = BTreeMap::new();
        let scope = Scope::root(&config, variables, &nothing_known);
        let resource = config.resources.values().next().unwrap();
        scope.eval_body(&resource.body).map(|(value, _)| value)
    }

    /// Every error with its location, detail and hint, as one text to search.
    fn text(errors: &crate::diag::Diagnostics) -> String {
        errors.0.iter().map(|d| format!("{} at {} {} {}\n", d.summary, d.location.as_ref().map(ToString::to_string).unwrap_or_default(), d.detail.as_deref().unwrap_or(""), d.hint.as_deref().unwrap_or(""))).collect()
    }

    fn rules() -> BTreeMap<String, Value> {
        let rule = |port: i64, cidr: &str| Value::object([("port", Value::int(port)), ("cidr", Value::from(cidr))]);
        BTreeMap::from([
            ("rules".to_owned(), Value::List(vec![rule(5432, "10.0.0.0/8"), rule(6432, "10.1.0.0/16")])),
            ("columns".to_owned(), Value::object([("id", Value::from("bigint")), ("name", Value::from("text"))])),
        ])
    }

    const VARIABLES: &str = "variable \"rules\" {}\nvariable \"columns\" {}\n";

    #[test]
    fn a_list_with_a_named_iterator_makes_one_block_per_element_after_literal_ones() {
        let source = format!(
            "{VARIABLES}resource \"aws_security_group\" \"db\" {{\n  name = \"db\"\n  ingress {{\n    from_port = 1\n  }}\n  dynamic \"ingress\" {{\n    for_each = var.rules\n    iterator = rule\n    content {{\n      from_port = rule.value.port\n      index     = rule.key\n      cidr_blocks = [rule.value.cidr]\n    }}\n  }}\n}}\n"
        );
        let value = evaluate(&source, &rules()).unwrap();
        let ingress = value.get("ingress").unwrap().as_list().unwrap();
        assert_eq!(ingress.len(), 3);
        assert_eq!(ingress[0].get("from_port"), Some(&Value::int(1)));
        assert_eq!(ingress[1].get("from_port"), Some(&Value::int(5432)));
        assert_eq!(ingress[2].get("index"), Some(&Value::int(1)));
        assert_eq!(ingress[2].get("cidr_blocks"), Some(&Value::List(vec![Value::from("10.1.0.0/16")])));
    }

    #[test]
    fn a_map_with_the_default_iterator_gives_keys_and_values() {
        let source = format!(
            "{VARIABLES}resource \"postgres_table\" \"t\" {{\n  name = \"t\"\n  dynamic \"column\" {{\n    for_each = var.columns\n    content {{\n      name = column.key\n      type = column.value\n    }}\n  }}\n}}\n"
        );
        let value = evaluate(&source, &rules()).unwrap();
        let columns = value.get("column").unwrap().as_list().unwrap();
        assert_eq!(columns.iter().map(|c| c.get_str("name").unwrap()).collect::<Vec<_>>(), ["id", "name"]);
        assert_eq!(columns[1].get("type"), Some(&Value::from("text")));
    }

    #[test]
    fn nested_dynamic_blocks_see_the_outer_iterator_and_an_empty_collection_makes_none() {
        let source = format!(
            "{VARIABLES}resource \"x_thing\" \"t\" {{\n  dynamic \"outer\" {{\n    for_each = var.columns\n    content {{\n      name = outer.key\n      dynamic \"inner\" {{\n        for_each = var.rules\n        content {{\n          label = \"${{outer.key}}-${{inner.value.port}}\"\n        }}\n      }}\n    }}\n  }}\n  dynamic \"none\" {{\n    for_each = {{}}\n    content {{\n      a = 1\n    }}\n  }}\n}}\n"
        );
        let value = evaluate(&source, &rules()).unwrap();
        let outer = value.get("outer").unwrap().as_list().unwrap();
        let inner = outer[1].get("inner").unwrap().as_list().unwrap();
        assert_eq!(inner[1].get("label"), Some(&Value::from("name-6432")));
        assert_eq!(value.get("none"), Some(&Value::List(vec![])));
    }

    #[test]
    fn an_unknown_for_each_makes_the_block_list_unknown() {
        let source = format!(
            "{VARIABLES}resource \"postgres_table\" \"t\" {{\n  column {{\n    name = \"id\"\n  }}\n  dynamic \"column\" {{\n    for_each = var.columns\n    content {{\n      name = column.key\n    }}\n  }}\n}}\n"
        );
        // A variable without a value is unknown, as in validate.
        let value = evaluate(&source, &BTreeMap::new()).unwrap();
        assert_eq!(value.get("column"), Some(&Value::Unknown));
    }

    #[test]
    fn a_for_each_that_is_not_a_collection_is_terraforms_error_at_its_line() {
        let source = "resource \"postgres_table\" \"t\" {\n  dynamic \"column\" {\n    for_each = 3\n    content {\n      name = column.key\n    }\n  }\n}\n";
        let error = evaluate(source, &BTreeMap::new()).map_err(|e| text(&e)).unwrap_err();
        assert!(error.contains("Invalid dynamic for_each value") && error.contains("Cannot use a number value in for_each"), "{error}");
        assert!(error.contains("main.tf:3:5"), "{error}");
        let null = source.replace("for_each = 3", "for_each = null");
        assert!(evaluate(&null, &BTreeMap::new()).map_err(|e| text(&e)).unwrap_err().contains("Cannot use a null value in for_each."));
        let bad_iterator = source.replace("for_each = 3", "for_each = []\n    iterator = \"c\"");
        assert!(evaluate(&bad_iterator, &BTreeMap::new()).map_err(|e| text(&e)).unwrap_err().contains("Dynamic iterator must be a single variable name."));
    }

    #[test]
    fn references_leave_out_iterators_but_keep_what_for_each_and_content_read() {
        let source = format!(
            "{VARIABLES}resource \"postgres_table\" \"t\" {{\n  dynamic \"column\" {{\n    for_each = var.columns\n    iterator = c\n    content {{\n      name = c.key\n      comment = postgres_schema.s.name\n    }}\n  }}\n}}\n"
        );
        let config = config_with(&source);
        let resource = config.resources.values().next().unwrap();
        let found: Vec<Reference> = super::body_references(&resource.body).into_iter().flat_map(|(_, refs)| refs).collect();
        assert_eq!(found, vec![Reference::Variable("columns".into()), Reference::Resource(ConfigResource::managed("postgres_schema", "s"))]);
    }
}
