//! The schema check of `dynamic` blocks: the label must name a nested block type of the schema,
//! the block holds `for_each`, `iterator`, `labels` and one `content`, and `content` is checked as
//! a literal block of that type would be (same errors, same locations). Also which bodies give
//! the locations of the blocks a body's evaluation made, for `conform`'s errors.

use strata_provider_sdk::Block;

use crate::config::{BlockExpr, BodyExpr};
use crate::diag::{suggestion, Diagnostic, Diagnostics};
use crate::eval::Dynamic;

const ARGUMENTS: [&str; 3] = ["for_each", "iterator", "labels"];

/// Checks one `dynamic` block of a body whose schema is `schema`.
pub(super) fn check(schema: &Block, block: &BlockExpr, context: &str, errors: &mut Diagnostics) {
    let dynamic = match Dynamic::of(block) {
        Ok(dynamic) => dynamic,
        Err(error) => return errors.push(error),
    };
    let Some(nested) = schema.blocks.get(dynamic.label) else {
        let is_attribute = schema.attributes.contains_key(dynamic.label);
        let hint = if is_attribute {
            format!("\"{0}\" is an attribute, which a dynamic block cannot make: write {0} = [for ... : ...]", dynamic.label)
        } else {
            suggestion(dynamic.label, schema.blocks.keys().copied())
        };
        return errors.push(Diagnostic::error(format!("unknown block \"{}\" in {context}", dynamic.label)).at(Some(&block.location)).hint(hint));
    };
    let inside = format!("the dynamic \"{}\" block of {context}", dynamic.label);
    for (name, attr) in block.body.attributes.iter().filter(|(name, _)| !ARGUMENTS.contains(&name.as_str())) {
        errors.push(Diagnostic::error(format!("unknown attribute \"{name}\" in {inside}")).at(Some(&attr.location)).hint(format!(
            "{}; the block's own arguments go inside content {{ ... }}",
            suggestion(name, ARGUMENTS)
        )));
    }
    for other in block.body.blocks.iter().filter(|b| b.kind != "content") {
        errors.push(Diagnostic::error(format!("unknown block \"{}\" in {inside}", other.kind)).at(Some(&other.location)).hint("a dynamic block holds one content { ... } block"));
    }
    if let Some(labels) = dynamic.labels {
        errors.push(Diagnostic::error(format!("a \"{}\" block takes no labels", dynamic.label)).at(Some(&labels.location)).hint("remove labels"));
    }
    if let Err(found) = super::check_body(&nested.block, dynamic.content, &format!("{context} {} block", dynamic.label)) {
        errors.extend(found);
    }
}

/// Whether `block` is a dynamic block making `kind` blocks.
pub(super) fn makes(block: &BlockExpr, kind: &str) -> bool {
    block.kind == "dynamic" && block.labels.first().is_some_and(|label| label == kind)
}

/// The bodies the `count` evaluated `kind` blocks of `body` came from, for their locations: the
/// literal blocks' own up to the first dynamic block, then that block's content (its element
/// count is known only to evaluation, so blocks after it point at it).
pub(super) fn bodies<'b>(body: &'b BodyExpr, kind: &str, count: usize) -> Vec<&'b BodyExpr> {
    let mut out = Vec::new();
    for block in &body.blocks {
        if block.kind == kind {
            out.push(&block.body);
        } else if makes(block, kind) {
            if let Ok(dynamic) = Dynamic::of(block) {
                out.resize(count.max(out.len()), dynamic.content);
                break;
            }
        }
    }
    out
}
