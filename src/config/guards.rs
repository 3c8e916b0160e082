//! The configuration's data-loss guards: a resource's `lifecycle { prevent_destroy, ignore_changes,
//! create_before_destroy }` block and top-level `moved { from = OLD  to = NEW }` blocks,
//! read with their locations.
//!
//! Owns their shape and the checks that need nothing but the block itself. It must not evaluate:
//! `prevent_destroy` and `create_before_destroy` may use variables and locals, so they stay
//! expressions for `plan::guards`; which addresses a move links is checked there too.

use super::{AttrExpr, BodyExpr, BlockExpr, Condition};
use super::load::check_names;
use crate::addrs::{Mode, Target};
use crate::diag::{Diagnostic, Diagnostics, Location, Result};

/// A resource's `lifecycle` block.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    pub prevent_destroy: Option<AttrExpr>,
    pub create_before_destroy: Option<AttrExpr>,
    pub ignore_changes: IgnoreChanges,
    /// Checked before the instance is planned: a false one stops the plan.
    pub preconditions: Vec<Condition>,
    /// Checked once the instance's planned (or, when only apply can tell, applied) value is known, as `self`.
    pub postconditions: Vec<Condition>,
    pub location: Location,
}

/// `ignore_changes`: the top-level attributes (or nested block kinds) whose configured values the
/// planner replaces with the live ones.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum IgnoreChanges {
    #[default]
    Nothing,
    Attributes(Vec<String>),
    /// `ignore_changes = all`: only creation uses the configuration.
    All,
}

/// A `moved` block: a module, a resource (all its instances) or one instance, to another of the same kind.
#[derive(Clone, Debug)]
pub struct Moved {
    pub from: Target,
    pub to: Target,
    pub location: Location,
}

/// Takes the `lifecycle` block out of a resource's body (so schema checks never see it).
pub(super) fn take_lifecycle(body: &mut BodyExpr) -> Result<Option<Lifecycle>> {
    let (mut found, rest): (Vec<BlockExpr>, Vec<BlockExpr>) = std::mem::take(&mut body.blocks).into_iter().partition(|b| b.kind == "lifecycle");
    body.blocks = rest;
    let Some(block) = found.pop() else { return Ok(None) };
    if let Some(first) = found.first() {
        return Err(Diagnostic::error("a resource may have only one lifecycle block")
            .at(Some(&block.location))
            .detail(format!("another one is at {}", first.location))
            .hint("merge the two lifecycle blocks into one")
            .into());
    }
    check_names(&block.body, &["prevent_destroy", "create_before_destroy", "ignore_changes"], &["precondition", "postcondition"], "a lifecycle block")?;
    let attributes = &block.body.attributes;
    let conditions = |kind: &str| block.body.blocks.iter().filter(|b| b.kind == kind).map(super::load::condition).collect::<Result<Vec<_>>>();
    Ok(Some(Lifecycle {
        preconditions: conditions("precondition")?,
        postconditions: conditions("postcondition")?,
        prevent_destroy: attributes.get("prevent_destroy").cloned(),
        create_before_destroy: attributes.get("create_before_destroy").cloned(),
        ignore_changes: attributes.get("ignore_changes").map(ignore_changes).transpose()?.unwrap_or_default(),
        location: block.location,
    }))
}

/// Reads `[attr, ...]` (bare names or strings) or `all`.
fn ignore_changes(attr: &AttrExpr) -> Result<IgnoreChanges> {
    let name = |expr: &hcl::Expression| match expr {
        hcl::Expression::Variable(ident) => Some(ident.as_str().to_owned()),
        hcl::Expression::String(text) => Some(text.clone()),
        hcl::Expression::TemplateExpr(template) => match template.as_ref() {
            hcl::TemplateExpr::QuotedString(text) if !text.contains("${") => Some(text.clone()),
            _ => None,
        },
        _ => None,
    };
    let bad = || -> Diagnostics {
        Diagnostic::error("ignore_changes must be a list of attribute names or the keyword all")
            .at(Some(&attr.location))
            .hint("write ignore_changes = [comment, column] or ignore_changes = all")
            .into()
    };
    match &attr.expr {
        hcl::Expression::Variable(ident) if ident.as_str() == "all" => Ok(IgnoreChanges::All),
        hcl::Expression::Array(items) => Ok(IgnoreChanges::Attributes(items.iter().map(|item| name(item).ok_or_else(bad)).collect::<Result<Vec<_>>>()?)),
        _ => Err(bad()),
    }
}

/// Reads a `moved` block's body.
pub(super) fn moved(body: &BodyExpr, location: Location) -> Result<Moved> {
    check_names(body, &["from", "to"], &[], "a moved block")?;
    let address = |key: &str| -> Result<Target> {
        let attr = body.attributes.get(key).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(format!("a moved block needs \"{key}\"")).at(Some(&location)).hint("write moved { from = TYPE.OLD  to = TYPE.NEW }"))
        })?;
        let bad = |why: String| -> Diagnostics {
            Diagnostic::error(format!("\"{key}\" in a moved block must be a managed resource's or a module's address"))
                .at(Some(&attr.location))
                .detail(why)
                .hint("write the address unquoted, such as postgres_table.users, postgres_table.users[0] or module.db")
                .into()
        };
        match crate::addrs::target_of(&attr.expr) {
            Ok(Target::Resource(r)) if r.resource.mode == Mode::Data => Err(bad(format!("{r} is a data source, which has nothing to move"))),
            Ok(Target::Instance(i)) if i.mode() == Mode::Data => Err(bad(format!("{i} is a data source, which has nothing to move"))),
            Ok(target) => Ok(target),
            Err(why) => Err(bad(why)),
        }
    };
    let (from, to) = (address("from")?, address("to")?);
    let type_of = |target: &Target| target.resource().map(|r| r.type_name.clone());
    match (type_of(&from), type_of(&to)) {
        (Some(old), Some(new)) if old != new => Err(Diagnostic::error(format!("moved from {from} to {to}: a move keeps the resource type"))
            .at(Some(&location))
            .hint("a resource of another type is another object: remove the old block (it will be destroyed) or import the object under the new type")
            .into()),
        (Some(_), None) | (None, Some(_)) => Err(Diagnostic::error(format!("moved from {from} to {to}: a move links two resources or two modules"))
            .at(Some(&location))
            .hint("move a module to a module, and a resource or instance to a resource or instance")
            .into()),
        _ => Ok(Moved { from, to, location }),
    }
}
