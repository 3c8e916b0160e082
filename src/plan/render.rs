//! Showing a plan to a person, in the style Terraform users read every day: one section per
//! resource with `+ ~ - -/+` markers, attribute-level changes, nested blocks matched by name, what
//! forces a replacement, the operations (SQL) that will run, and the summary line. Sensitive values
//! are masked; values known only after apply say so.

use std::collections::BTreeSet;
use std::fmt::Write;

use strata_provider_sdk::{Action, Block, Nesting, Value};

use super::textdiff::{self, Line, TextChange};
use super::{ChangeClass, OutputChange, Plan, ResourceChange};
use similar::ChangeTag;
use crate::providers::Providers;
use crate::ui::Style;

use crate::secrets::MASK as SENSITIVE;
const UNKNOWN: &str = "(known after apply)";

/// What providers said of resources that do not change (a setting AWS holds until the
/// maintenance window, a create-only argument changed): shown, or it would be lost.
fn unchanged_warnings(plan: &Plan, style: &Style) -> String {
    let mut out = String::new();
    for change in plan.changes.iter().filter(|c| !c.is_change()) {
        for warning in &change.warnings {
            out.push_str(&format!("\n{}\n", style.warning(&format!("Warning: {}: {warning}", change.address))));
        }
    }
    out
}

pub fn render_plan(plan: &Plan, providers: &Providers, style: &Style) -> String {
    let mut out = String::new();
    let mut changes: Vec<&ResourceChange> = plan.changes.iter().filter(|c| c.is_change()).collect();
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    if changes.is_empty() {
        if plan.outputs.iter().any(|o| o.before != o.after) {
            out.push_str(&render_outputs(&plan.outputs, style));
        }
        out.push_str(&unchanged_warnings(plan, style));
        out.push_str(&format!("\n{} Your infrastructure matches the configuration.\n", style.bold("No changes.")));
        return out;
    }
    out.push_str("strata will perform the following actions:\n");
    for change in changes {
        let schema = providers.resource_schema(&change.address.resource).ok().map(|s| &s.block);
        out.push('\n');
        out.push_str(&render_change(change, schema, style));
    }
    out.push_str(&render_outputs(&plan.outputs, style));
    out.push_str(&unchanged_warnings(plan, style));
    let summary = plan.summary();
    out.push_str(&format!(
        "\n{} {}{} to add, {} to change, {} to replace, {} to destroy{}.\n",
        style.bold("Plan:"),
        super::imports::import_count(&summary),
        summary.add,
        summary.change,
        summary.replace,
        summary.destroy,
        super::removed::forget_count(&summary)
    ));
    out.push_str(&risk_summary(plan, style));
    out
}

/// The line under the summary counting changes that lose data or lock tables; empty when all are safe.
fn risk_summary(plan: &Plan, style: &Style) -> String {
    let Some(counts) = plan.risk_summary() else { return String::new() };
    let label = if plan.class_count(ChangeClass::DataLoss) > 0 { style.error("Data loss:") } else { style.warning("Locking:") };
    format!("{label} {counts}: see the [data-loss] and [locking] markers above.\n")
}

/// The marker after a resource's header: what class of change it is, unless it is safe.
fn class_marker(change: &ResourceChange, style: &Style) -> String {
    match change.class() {
        ChangeClass::Safe => String::new(),
        ChangeClass::Locking => format!(" {}", style.warning("[locking]")),
        ChangeClass::DataLoss => format!(" {}", style.error("[data-loss]")),
    }
}

fn render_change(change: &ResourceChange, schema: Option<&Block>, style: &Style) -> String {
    let address = &change.address;
    let (verb, marker) = match change.action {
        Action::Create => ("will be created", style.added("+")),
        Action::Update => ("will be updated in place", style.changed("~")),
        Action::Replace => ("must be replaced", format!("{}/{}", style.removed("-"), style.added("+"))),
        Action::Delete if change.forget => ("will no longer be managed by strata", ".".to_owned()),
        Action::Delete if change.before.is_none() => ("will be removed from state", style.removed("-")),
        Action::Delete => ("will be destroyed", style.removed("-")),
        Action::NoOp if change.importing.is_some() => ("will be imported", " ".to_owned()),
        Action::NoOp if !change.state_updates.is_empty() => ("will be updated in state only", " ".to_owned()),
        Action::NoOp => ("is unchanged", " ".to_owned()),
    };
    let mut out = String::new();
    for update in &change.state_updates {
        out.push_str(&format!("  {} {update}\n", style.bold("#")));
    }
    out.push_str(&format!("  {} {} {verb}{}\n", style.bold("#"), style.bold(&address.to_string()), class_marker(change, style)));
    if let Some(reason) = &change.reason {
        out.push_str(&format!("  {}\n", style.dim(&format!("# ({reason})"))));
    }
    if let Some(id) = change.importing.as_ref().filter(|_| change.action != Action::NoOp) {
        out.push_str(&format!("  {}\n", style.dim(&format!("# (imported from \"{}\")", crate::secrets::redact(id)))));
    }
    for loss in &change.data_loss {
        out.push_str(&format!("  {}\n", style.error(&format!("! data loss: {loss}"))));
    }
    for lock in &change.locking {
        out.push_str(&format!("  {}\n", style.warning(&format!("! locks: {lock}"))));
    }
    for backup in &change.backups {
        out.push_str(&format!("  {}\n", style.dim(&format!("# backup first: {backup}"))));
    }
    for duty in &change.duties {
        out.push_str(&format!("  {}\n", style.warning(&format!("# due: {duty}"))));
    }
    if change.create_before_destroy && change.action == Action::Replace {
        out.push_str(&format!("  {}\n", style.dim("# (create_before_destroy: the new object is created before the old one is destroyed)")));
    }
    let empty = Block::new();
    let schema = schema.unwrap_or(&empty);
    let ctx = Differ { style, sensitive: &change.sensitive, forces: &change.replace_because };
    let marker = if change.action == Action::Replace { marker } else { format!("{marker} ") };
    let _ = writeln!(out, "  {marker}resource \"{}\" \"{}\" {{", address.type_name(), address.resource.name);
    let before = change.before.as_ref().unwrap_or(&Value::Null);
    // A forgotten object stays as it is.
    let after = if change.forget { before } else { change.after.as_ref().unwrap_or(&Value::Null) };
    out.push_str(&ctx.body(schema, before, after, 6, ""));
    out.push_str("    }\n");
    if !change.operations.is_empty() {
        out.push_str(&format!("\n      {}\n", style.dim("will run:")));
        for operation in &change.operations {
            for line in operation.lines() {
                out.push_str(&format!("        {line}\n"));
            }
        }
    }
    for warning in &change.warnings {
        out.push_str(&format!("\n      {} {warning}\n", style.warning("Warning:")));
    }
    out
}

/// The attribute and block lines of `before` -> `after`, as a plan shows them (sensitive values
/// masked), for views that compare two recorded objects: `strata state diff`.
pub fn attribute_lines(before: &Value, after: &Value, sensitive: &BTreeSet<String>, schema: Option<&Block>, style: &Style) -> String {
    let empty = Block::new();
    let differ = Differ { style, sensitive, forces: &[] };
    differ.body(schema.unwrap_or(&empty), before, after, 6, "")
}

struct Differ<'a> {
    style: &'a Style,
    sensitive: &'a BTreeSet<String>,
    forces: &'a [String],
}

impl Differ<'_> {
    /// The attribute and block lines of a body at `indent`, comparing `before` with `after`.
    fn body(&self, schema: &Block, before: &Value, after: &Value, indent: usize, path: &str) -> String {
        let mut lines = Vec::new();
        let mut hidden = 0;
        let names: BTreeSet<&str> = object_keys(before).chain(object_keys(after)).filter(|n| !schema.blocks.contains_key(n) && *n != RENAMED_FROM).collect();
        let printed = |n: &str| shown(before.get(n), after.get(n)) && (before.get(n) != after.get(n) || is_identifying(n));
        let width = names.iter().filter(|n| printed(n)).map(|n| n.len()).max().unwrap_or(0);
        for name in names {
            let (old, new) = (before.get(name).unwrap_or(&Value::Null), after.get(name).unwrap_or(&Value::Null));
            if !shown(Some(old), Some(new)) {
                continue;
            }
            let full = join_path(path, name);
            let sensitive = path.is_empty() && self.sensitive.contains(name);
            match self.attribute(name, width, old, new, sensitive, indent, &full) {
                Some(line) => lines.push(line),
                None => hidden += 1,
            }
        }
        if hidden > 0 && !before.is_null() && !after.is_null() {
            lines.push(format!("{}{}", " ".repeat(indent + 2), self.style.dim(&format!("# ({hidden} unchanged attribute(s) hidden)"))));
        }
        for (name, nested) in &schema.blocks {
            if path.is_empty() && self.sensitive.contains(*name) {
                let (old, new) = (before.get(name), after.get(name));
                if old != new {
                    lines.push(format!("{}{} {name} = {SENSITIVE}", " ".repeat(indent), self.style.changed("~")));
                }
                continue;
            }
            let old = block_items(before.get(name), nested.nesting);
            let new = block_items(after.get(name), nested.nesting);
            lines.extend(self.blocks(name, &nested.block, &old, &new, indent, &join_path(path, name)));
        }
        lines.into_iter().map(|l| l + "\n").collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn attribute(&self, name: &str, width: usize, old: &Value, new: &Value, sensitive: bool, indent: usize, path: &str) -> Option<String> {
        let pad = " ".repeat(indent);
        let show = |v: &Value| if sensitive && !v.is_null() { SENSITIVE.to_owned() } else { literal(v) };
        let forces = if self.forces.iter().any(|f| f == path) { self.style.removed(" # forces replacement") } else { String::new() };
        let key = format!("{name:width$}");
        if old == new {
            return if is_identifying(name) && !new.is_null() { Some(format!("{pad}  {key} = {}", show(new))) } else { None };
        }
        if let (Value::String(old), Value::String(new), false) = (old, new, sensitive) {
            if let Some(change) = textdiff::diff(old, new) {
                return Some(format!("{pad}{} {key} = {}{forces}", self.style.changed("~"), self.text_change(&change, indent)));
            }
        }
        Some(match (old.is_null(), new.is_null()) {
            (true, false) => format!("{pad}{} {key} = {}{forces}", self.style.added("+"), show(new)),
            (false, true) => format!("{pad}{} {key} = {} -> null{forces}", self.style.removed("-"), show(old)),
            _ => format!("{pad}{} {key} = {} -> {}{forces}", self.style.changed("~"), show(old), show(new)),
        })
    }

    /// A long string's change: a heredoc of changed lines with context, or one line of words
    /// with removals in `[-...-]` and additions in `{+...+}` (git's word-diff markers).
    fn text_change(&self, change: &TextChange, indent: usize) -> String {
        match change {
            TextChange::Words(words) => {
                let shown: String = words
                    .iter()
                    .map(|(tag, word)| match tag {
                        ChangeTag::Equal => word.clone(),
                        ChangeTag::Delete => self.style.removed(&format!("[-{word}-]")),
                        ChangeTag::Insert => self.style.added(&format!("{{+{word}+}}")),
                    })
                    .collect();
                format!("(word diff) {shown}")
            }
            TextChange::Lines(lines) => {
                let pad = " ".repeat(indent + 4);
                let mut out = String::from("<<-EOT\n");
                for line in lines {
                    let shown = match line {
                        Line::Same(text) => format!("{pad}  {text}"),
                        Line::Removed(text) => self.style.removed(&format!("{pad}- {text}")),
                        Line::Added(text) => self.style.added(&format!("{pad}+ {text}")),
                        Line::Gap => self.style.dim(&format!("{pad}  # (unchanged lines hidden)")),
                    };
                    out.push_str(&shown);
                    out.push('\n');
                }
                out + &" ".repeat(indent + 2) + "EOT"
            }
        }
    }

    /// Nested blocks, matched by their `name` attribute when they have one (or by the name they
    /// are renamed from, so a rename shows as one), else by position.
    fn blocks(&self, kind: &str, schema: &Block, old: &[Value], new: &[Value], indent: usize, path: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let mut unchanged = 0;
        let mut matched_old = vec![false; old.len()];
        let named = |name: &str| old.iter().position(|o| o.get_str("name") == Some(name));
        // The old block a new one is renamed from, unless a new block keeps the old name.
        let renamed = |item: &Value| {
            let from = named(item.get_str(RENAMED_FROM)?)?;
            let kept = new.iter().any(|n| n.get_str("name") == old[from].get_str("name"));
            (!kept).then_some(from)
        };
        for (position, item) in new.iter().enumerate() {
            let partner = match item.get_str("name") {
                Some(name) => named(name).or_else(|| renamed(item).filter(|from| !matched_old[*from])),
                None => (position < old.len() && old[position].get("name").is_none()).then_some(position),
            };
            let before = partner.map(|p| {
                matched_old[p] = true;
                &old[p]
            });
            match before {
                Some(before) if before == item => unchanged += 1,
                Some(before) => lines.push(self.block(kind, schema, before, item, "~", indent, path)),
                None => lines.push(self.block(kind, schema, &Value::Null, item, "+", indent, path)),
            }
        }
        for (item, matched) in old.iter().zip(matched_old) {
            if !matched {
                lines.push(self.block(kind, schema, item, &Value::Null, "-", indent, path));
            }
        }
        if unchanged > 0 && !(old.is_empty() || new.is_empty()) && !lines.is_empty() {
            lines.push(format!("{}{}", " ".repeat(indent + 2), self.style.dim(&format!("# ({unchanged} unchanged {kind} block(s) hidden)"))));
        }
        lines
    }

    #[allow(clippy::too_many_arguments)]
    fn block(&self, kind: &str, schema: &Block, before: &Value, after: &Value, marker: &str, indent: usize, path: &str) -> String {
        let pad = " ".repeat(indent);
        let painted = match marker {
            "+" => self.style.added(marker),
            "-" => self.style.removed(marker),
            _ => self.style.changed(marker),
        };
        let body = self.body(schema, before, after, indent + 4, path);
        format!("{pad}{painted} {kind} {{\n{body}{pad}  }}")
    }
}

/// The attribute that tells a provider to rename an object in place: an instruction, not a value,
/// so plans show the rename itself (`~ name = "mail" -> "email"`) instead.
const RENAMED_FROM: &str = "renamed_from";

fn object_keys(value: &Value) -> impl Iterator<Item = &str> {
    value.as_object().into_iter().flat_map(|m| m.keys().map(String::as_str))
}

fn shown(old: Option<&Value>, new: Option<&Value>) -> bool {
    !(old.is_none_or(Value::is_null) && new.is_none_or(Value::is_null))
}

fn is_identifying(name: &str) -> bool {
    matches!(name, "name" | "id" | "identifier")
}

fn join_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}

fn block_items(value: Option<&Value>, nesting: Nesting) -> Vec<Value> {
    match (value, nesting) {
        (Some(Value::List(items)), _) => items.clone(),
        (Some(Value::Object(_)), Nesting::Single) => value.into_iter().cloned().collect(),
        _ => vec![],
    }
}

/// A value as HCL would write it; unknown values say when they will be known.
pub fn literal(value: &Value) -> String {
    match value {
        Value::Unknown => UNKNOWN.to_owned(),
        Value::Null => "null".to_owned(),
        Value::String(s) => serde_json::Value::String(s.clone()).to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::List(items) => format!("[{}]", items.iter().map(literal).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => {
            let entries: Vec<String> = map.iter().map(|(k, v)| format!("{k} = {}", literal(v))).collect();
            format!("{{ {} }}", entries.join(", "))
        }
    }
}

pub fn render_outputs(outputs: &[OutputChange], style: &Style) -> String {
    let changed: Vec<&OutputChange> = outputs.iter().filter(|o| o.before != o.after).collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nChanges to outputs:\n");
    let width = changed.iter().map(|o| o.name.len()).max().unwrap_or(0);
    for output in changed {
        let show = |v: &Value| if output.sensitive { SENSITIVE.to_owned() } else { literal(v) };
        let name = format!("{:width$}", output.name);
        let line = match (&output.before, &output.after) {
            (None, Some(after)) => format!("  {} {name} = {}", style.added("+"), show(after)),
            (Some(before), None) => format!("  {} {name} = {} -> null", style.removed("-"), show(before)),
            (Some(before), Some(after)) => format!("  {} {name} = {} -> {}", style.changed("~"), show(before), show(after)),
            (None, None) => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}
