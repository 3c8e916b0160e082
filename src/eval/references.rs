//! Which names an expression refers to: the edges of the dependency graph and the input of
//! "reference to undeclared ..." checks, found without evaluating anything.

use hcl::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::template::{Directive, Element, Template};

use crate::addrs::ConfigResource;

/// Something an expression refers to.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    Variable(String),
    Local(String),
    Resource(ConfigResource),
    /// `module.NAME.OUTPUT` (after any instance key or splat), or `module.NAME` whole.
    Module { name: String, output: Option<String> },
}

/// Every reference in `expr`, in order of appearance, ignoring names bound by for-expressions.
pub fn expression_references(expr: &Expression) -> Vec<Reference> {
    let mut found = Vec::new();
    collect(expr, &mut Vec::new(), &mut found);
    found
}

/// Every reference in `expr` but those to `bound` names (the iterators of dynamic blocks around it).
pub(super) fn references_with_bound(expr: &Expression, bound: &[String]) -> Vec<Reference> {
    let mut found = Vec::new();
    collect(expr, &mut bound.to_vec(), &mut found);
    found
}

fn traversal_reference(root: &str, operators: &[TraversalOperator]) -> Option<Reference> {
    let attr = |i: usize| match operators.get(i) {
        Some(TraversalOperator::GetAttr(ident)) => Some(ident.as_str()),
        _ => None,
    };
    match root {
        "var" => attr(0).map(|name| Reference::Variable(name.to_owned())),
        "local" => attr(0).map(|name| Reference::Local(name.to_owned())),
        "path" | "terraform" | "strata" | "count" | "each" | "self" => None,
        "data" => Some(Reference::Resource(ConfigResource::data(attr(0)?, attr(1)?))),
        "module" => {
            let name = attr(0)?.to_owned();
            let output = attr(1).or_else(|| operators.get(1).and_then(|_| attr(2))).map(str::to_owned);
            Some(Reference::Module { name, output })
        }
        type_name => attr(0).map(|name| Reference::Resource(ConfigResource::managed(type_name, name))),
    }
}

fn collect(expr: &Expression, bound: &mut Vec<String>, found: &mut Vec<Reference>) {
    match expr {
        Expression::Array(items) => items.iter().for_each(|item| collect(item, bound, found)),
        Expression::Object(entries) => {
            for (key, value) in entries {
                if let ObjectKey::Expression(key) = key {
                    collect(key, bound, found);
                }
                collect(value, bound, found);
            }
        }
        Expression::TemplateExpr(template) => {
            if let Ok(parsed) = super::template_text(template).parse::<Template>() {
                collect_template(&parsed, bound, found);
            }
        }
        Expression::Variable(_) => {}
        Expression::Traversal(traversal) => {
            match &traversal.expr {
                Expression::Variable(root) if !bound.iter().any(|b| b == root.as_str()) => {
                    found.extend(traversal_reference(root.as_str(), &traversal.operators));
                }
                other => collect(other, bound, found),
            }
            for operator in &traversal.operators {
                if let TraversalOperator::Index(index) = operator {
                    collect(index, bound, found);
                }
            }
        }
        Expression::FuncCall(call) => call.args.iter().for_each(|arg| collect(arg, bound, found)),
        Expression::Parenthesis(inner) => collect(inner, bound, found),
        Expression::Conditional(cond) => {
            for part in [&cond.cond_expr, &cond.true_expr, &cond.false_expr] {
                collect(part, bound, found);
            }
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(unary) => collect(&unary.expr, bound, found),
            hcl::expr::Operation::Binary(binary) => {
                collect(&binary.lhs_expr, bound, found);
                collect(&binary.rhs_expr, bound, found);
            }
        },
        Expression::ForExpr(for_expr) => {
            collect(&for_expr.collection_expr, bound, found);
            let names: Vec<String> = for_expr.key_var.iter().chain([&for_expr.value_var]).map(|i| i.as_str().to_owned()).collect();
            let depth = bound.len();
            bound.extend(names);
            let parts = [for_expr.key_expr.as_ref(), Some(&for_expr.value_expr), for_expr.cond_expr.as_ref()];
            parts.into_iter().flatten().for_each(|part| collect(part, bound, found));
            bound.truncate(depth);
        }
        _ => {}
    }
}

fn collect_template(template: &Template, bound: &mut Vec<String>, found: &mut Vec<Reference>) {
    for element in template.elements() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(interpolation) => collect(&interpolation.expr, bound, found),
            Element::Directive(directive) => match directive.as_ref() {
                Directive::If(if_directive) => {
                    collect(&if_directive.cond_expr, bound, found);
                    collect_template(&if_directive.true_template, bound, found);
                    if let Some(false_template) = &if_directive.false_template {
                        collect_template(false_template, bound, found);
                    }
                }
                Directive::For(for_directive) => {
                    collect(&for_directive.collection_expr, bound, found);
                    let depth = bound.len();
                    bound.extend(for_directive.key_var.iter().chain([&for_directive.value_var]).map(|i| i.as_str().to_owned()));
                    collect_template(&for_directive.template, bound, found);
                    bound.truncate(depth);
                }
            },
        }
    }
}
