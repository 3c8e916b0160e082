//! A plan as a pull-request comment (`strata plan -format markdown`, `strata show -format markdown
//! FILE`): a one-line summary; destructive and data-losing changes next, in a caution block no
//! reviewer can miss; a table of changes; per-resource details (attribute changes, the SQL or API
//! calls) in collapsible sections. It fits a GitHub comment: past the cap, details go first, then
//! table rows, with a note saying what was cut; the summary and the caution block always stay.
//!
//! Owns that layout. It must not decide what changes; sensitive values are masked by attribute
//! and every line passes through `secrets::redact`.

use std::collections::BTreeMap;
use std::fmt::Write;

use similar::ChangeTag;
use strata_provider_sdk::{Action, Value};

use super::render::literal;
use super::textdiff::{self, Line, TextChange};
use super::{ChangeClass, Plan, ResourceChange};
use crate::secrets::{redact, MASK};

/// GitHub rejects comments over 65536 characters; this leaves room for a bot's own header.
pub const MAX_COMMENT: usize = 60_000;
/// Table cells longer than this are cut (the details hold the whole value).
const MAX_CELL: usize = 120;

pub fn render_markdown(plan: &Plan) -> String {
    render_markdown_capped(plan, MAX_COMMENT)
}

/// The comment, at most `cap` characters unless the summary and caution block alone exceed it.
pub fn render_markdown_capped(plan: &Plan, cap: usize) -> String {
    let mut changes: Vec<&ResourceChange> = plan.changes.iter().filter(|c| c.is_change()).collect();
    // Data loss first, then what locks tables, then the rest: the reviewer reads the risk before anything else.
    changes.sort_by(|a, b| b.class().cmp(&a.class()).then_with(|| a.address.cmp(&b.address)));
    let head = format!("{}\n{}{}", summary_line(plan), caution_block(&changes), locking_block(&changes));
    let mut rows: Vec<String> = changes.iter().map(|c| table_row(c)).collect();
    rows.extend(output_rows(plan));
    let mut details: Vec<String> = changes.iter().map(|c| details_section(c)).collect();
    let (all_rows, all_details) = (rows.len(), details.len());
    // Measured with the longest cut note there could be, so the real one always fits.
    let fits = |rows: &[String], details: &[String]| assemble(&head, rows, details, Some((all_details, all_rows))).chars().count() <= cap;
    if assemble(&head, &rows, &details, None).chars().count() > cap {
        while !details.is_empty() && !fits(&rows, &details) {
            details.pop();
        }
        while !rows.is_empty() && !fits(&rows, &details) {
            rows.pop();
        }
    }
    let cut = (all_details - details.len(), all_rows - rows.len());
    redact(&assemble(&head, &rows, &details, (cut != (0, 0)).then_some(cut)))
}

fn assemble(head: &str, rows: &[String], details: &[String], cut: Option<(usize, usize)>) -> String {
    let mut out = head.to_owned();
    if !rows.is_empty() {
        out.push_str("\n| action | resource | what |\n| --- | --- | --- |\n");
        for row in rows {
            out.push_str(row);
            out.push('\n');
        }
    }
    for section in details {
        out.push('\n');
        out.push_str(section);
    }
    if let Some((details, rows)) = cut {
        let _ = write!(
            out,
            "\n> [!NOTE]\n> Cut to fit a comment: {details} details section(s) and {rows} table row(s) left out. \
             `strata show FILE` prints the whole plan.\n"
        );
    }
    out
}

fn summary_line(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "**strata plan: no changes.** The infrastructure matches the configuration.\n".to_owned();
    }
    let s = plan.summary();
    let mut line = format!("**strata plan: {} to add, {} to change, {} to replace, {} to destroy.**", s.add, s.change, s.replace, s.destroy);
    if let Some(risk) = plan.risk_summary() {
        let _ = write!(line, " :warning: **{risk}.**");
    }
    line + "\n"
}

/// Every change that locks or rewrites a table without losing data; empty when there is none.
fn locking_block(changes: &[&ResourceChange]) -> String {
    let locking: Vec<&&ResourceChange> = changes.iter().filter(|c| c.class() == ChangeClass::Locking).collect();
    if locking.is_empty() {
        return String::new();
    }
    let mut out = String::from("> [!WARNING]\n> **Changes that lock or rewrite tables**\n>\n");
    for change in locking {
        let _ = writeln!(out, "> - **{}** `{}`", verb(change), change.address);
        for lock in &change.locking {
            let _ = writeln!(out, ">   - **locks:** {}", one_line(lock));
        }
    }
    out + "\n"
}

fn is_destructive(change: &ResourceChange) -> bool {
    (matches!(change.action, Action::Delete | Action::Replace) && !change.forget) || !change.data_loss.is_empty()
}

/// Every destructive or data-losing change, with what it loses; empty when there is none.
fn caution_block(changes: &[&ResourceChange]) -> String {
    let destructive: Vec<&&ResourceChange> = changes.iter().filter(|c| is_destructive(c)).collect();
    if destructive.is_empty() {
        return String::new();
    }
    let mut out = String::from("> [!CAUTION]\n> **Destructive changes and data loss**\n>\n");
    for change in destructive {
        let _ = writeln!(out, "> - **{}** `{}`", verb(change), change.address);
        for loss in &change.data_loss {
            let _ = writeln!(out, ">   - **data loss:** {}", one_line(loss));
        }
        // A destructive change that also restarts or locks (an instance restarting now) says so here too.
        for lock in &change.locking {
            let _ = writeln!(out, ">   - **locks:** {}", one_line(lock));
        }
        for backup in &change.backups {
            let _ = writeln!(out, ">   - backup first: {}", one_line(backup));
        }
    }
    // A blank line ends the blockquote: without it the warning block below would join this alert.
    out + "\n"
}

fn verb(change: &ResourceChange) -> &'static str {
    match change.action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete if change.before.is_none() || change.forget => "forget",
        Action::Delete => "destroy",
        Action::NoOp => "no-op",
    }
}

fn marker(change: &ResourceChange) -> &'static str {
    match change.action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
        Action::NoOp => " ",
    }
}

fn table_row(change: &ResourceChange) -> String {
    let mut what: Vec<String> = Vec::new();
    if change.class() != ChangeClass::Safe {
        what.push(format!(":warning: {}", change.class().as_str()));
    }
    what.extend(change.state_updates.iter().cloned());
    what.extend(change.duties.iter().map(|duty| format!(":alarm_clock: {duty}")));
    if !change.replace_because.is_empty() {
        what.push(format!("forced by {}", change.replace_because.join(", ")));
    }
    let changed = attribute_changes(change);
    if change.action == Action::Update && !changed.is_empty() {
        let mut names: Vec<&str> = changed.keys().map(|p| p.split(['.', '[']).next().unwrap_or(p)).collect();
        names.dedup();
        what.push(names.join(", "));
    }
    if let Some(reason) = &change.reason {
        what.push(reason.clone());
    }
    format!("| `{}` {} | `{}` | {} |", marker(change), verb(change), change.address, escape_cell(&what.join("; ")))
}

fn output_rows(plan: &Plan) -> Vec<String> {
    plan.outputs
        .iter()
        .filter(|o| o.before != o.after)
        .map(|o| {
            let action = match (&o.before, &o.after) {
                (None, _) => "`+` create",
                (_, None) => "`-` destroy",
                _ => "`~` update",
            };
            let value = if o.sensitive { MASK.to_owned() } else { o.after.as_ref().map_or("null".to_owned(), literal) };
            format!("| {action} | `output.{}` | {} |", o.name, code_cell(&value))
        })
        .collect()
}

fn details_section(change: &ResourceChange) -> String {
    let mut out = format!("<details><summary><code>{}</code> {} {}</summary>\n\n", change.address, marker(change), verb(change));
    for loss in &change.data_loss {
        let _ = writeln!(out, "- :warning: **data loss:** {}", one_line(loss));
    }
    for lock in &change.locking {
        let _ = writeln!(out, "- :warning: **locks:** {}", one_line(lock));
    }
    for duty in &change.duties {
        let _ = writeln!(out, "- :alarm_clock: **due:** {}", one_line(duty));
    }
    if !change.data_loss.is_empty() || !change.locking.is_empty() || !change.duties.is_empty() {
        out.push('\n');
    }
    let changed = attribute_changes(change);
    let mut diffs = Vec::new();
    if !changed.is_empty() {
        out.push_str("| attribute | before | after |\n| --- | --- | --- |\n");
        for (path, (before, after)) in &changed {
            let forces = if change.replace_because.iter().any(|f| f == path) { " (forces replacement)" } else { "" };
            let _ = writeln!(out, "| `{path}`{forces} | {} | {} |", code_cell(before), code_cell(after));
            if let Some(diff) = textdiff::diff(before, after) {
                diffs.push((path, diff));
            }
        }
        out.push('\n');
    }
    for (path, diff) in diffs {
        let _ = write!(out, "`{path}`:\n\n```diff\n{}```\n\n", diff_text(&diff));
    }
    if !change.operations.is_empty() {
        let language = if change.address.provider() == "postgres" { "sql" } else { "text" };
        let _ = write!(out, "```{language}\n{}\n```\n\n", change.operations.join("\n"));
    }
    out + "</details>\n"
}

fn diff_text(diff: &TextChange) -> String {
    match diff {
        TextChange::Lines(lines) => lines
            .iter()
            .map(|line| match line {
                Line::Same(text) => format!("  {text}\n"),
                Line::Removed(text) => format!("- {text}\n"),
                Line::Added(text) => format!("+ {text}\n"),
                Line::Gap => "  ...\n".to_owned(),
            })
            .collect(),
        TextChange::Words(words) => {
            let removed: String = words.iter().filter(|(t, _)| *t != ChangeTag::Insert).map(|(_, w)| w.as_str()).collect();
            let added: String = words.iter().filter(|(t, _)| *t != ChangeTag::Delete).map(|(_, w)| w.as_str()).collect();
            format!("- {removed}\n+ {added}\n")
        }
    }
}

/// Changed leaf attributes by path (`column["email"].type`), as shown text; sensitive top-level
/// attributes masked. Nested blocks with a `name` are matched by it, so a dropped column reads as
/// that column going away rather than every later one shifting.
fn attribute_changes(change: &ResourceChange) -> BTreeMap<String, (String, String)> {
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    flatten(change.before.as_ref().unwrap_or(&Value::Null), "", change, &mut before);
    flatten(change.after.as_ref().unwrap_or(&Value::Null), "", change, &mut after);
    let paths: Vec<String> = before.keys().chain(after.keys()).cloned().collect();
    let absent = || "null".to_owned();
    paths
        .into_iter()
        .filter_map(|path| {
            let (old, new) = (before.get(&path).cloned().unwrap_or_else(absent), after.get(&path).cloned().unwrap_or_else(absent));
            (old != new).then_some((path, (old, new)))
        })
        .collect()
}

fn flatten(value: &Value, path: &str, change: &ResourceChange, out: &mut BTreeMap<String, String>) {
    let named_blocks = value.as_list().is_some_and(|items| !items.is_empty() && items.iter().all(|i| i.get_str("name").is_some()));
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let nested = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                if path.is_empty() && change.sensitive.contains(key) {
                    out.insert(nested, if item.is_null() { "null".to_owned() } else { MASK.to_owned() });
                } else {
                    flatten(item, &nested, change, out);
                }
            }
        }
        Value::List(items) if named_blocks => {
            for item in items {
                flatten(item, &format!("{path}[{}]", literal(&Value::from(item.get_str("name").unwrap_or_default()))), change, out);
            }
        }
        Value::Null => {}
        Value::String(text) => {
            out.insert(path.to_owned(), text.clone());
        }
        _ => {
            out.insert(path.to_owned(), literal(value));
        }
    }
}

fn one_line(text: &str) -> String {
    text.replace('\n', " ")
}

fn escape_cell(text: &str) -> String {
    one_line(text).replace('|', "\\|")
}

/// A value in a table cell: in code, cut to a readable length.
fn code_cell(text: &str) -> String {
    let mut shown: String = text.chars().take(MAX_CELL).collect();
    if shown.len() < text.len() {
        shown.push_str("...");
    }
    format!("`{}`", escape_cell(&shown).replace('`', "'"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ConfigResource;

    fn table(name: &str, action: Action, data_loss: Vec<String>) -> ResourceChange {
        let value = Value::object([("name", Value::from(name)), ("comment", Value::from("x".repeat(200)))]);
        ResourceChange {
            address: ConfigResource::managed("postgres_table", name).single_instance(),
            action,
            before: (action != Action::Create).then(|| value.clone()),
            after: (action != Action::Delete).then_some(value),
            replace_because: vec![],
            operations: vec![format!("CREATE TABLE \"public\".\"{name}\" (\"id\" bigint, \"payload\" text, \"created_at\" timestamptz)")],
            sensitive: Default::default(),
            dependencies: Default::default(),
            reason: None,
            warnings: vec![],
            data_loss,
            locking: vec![],
            backups: vec![],
            duties: vec![],
            moved_from: None,
            prevent_destroy: false,
            create_before_destroy: false,
            state_updates: vec![],
            desired_digest: None,
            forget: false,
            importing: None,
        }
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan { changes, outputs: vec![], variables: Default::default(), prior_lineage: None, prior_serial: None, destroy: false, allow_data_loss: false, warnings: Default::default() }
    }

    #[test]
    fn a_huge_plan_keeps_its_summary_and_warnings_within_the_cap() {
        let mut changes: Vec<ResourceChange> = (0..300).map(|i| table(&format!("t{i:03}"), Action::Create, vec![])).collect();
        changes.push(table("users", Action::Delete, vec!["drops table public.users and all its rows".into()]));
        let text = render_markdown_capped(&plan(changes), 6_000);
        assert!(text.chars().count() <= 6_000, "{} chars", text.chars().count());
        assert!(text.starts_with("**strata plan: 300 to add, 0 to change, 0 to replace, 1 to destroy.**"), "{text}");
        assert!(text.contains("drops table public.users and all its rows"));
        assert!(text.contains("Cut to fit a comment"));
    }

    #[test]
    fn data_loss_comes_before_everything_else() {
        let mut locking = table("b_locked", Action::Update, vec![]);
        locking.locking = vec!["scans public.b_locked under an ACCESS EXCLUSIVE lock".into()];
        let changes = vec![table("a_safe", Action::Create, vec![]), locking, table("c_lost", Action::Update, vec!["drops column public.c_lost.x".into()])];
        let text = render_markdown(&plan(changes));
        assert!(text.contains(":warning: **1 change loses data, 1 change locks or restarts what it changes.**"), "{text}");
        let at = |needle: &str| text.find(needle).unwrap_or_else(|| panic!("no {needle} in {text}"));
        assert!(at("[!CAUTION]") < at("[!WARNING]"), "{text}");
        assert!(text.contains("\n\n> [!WARNING]"), "the warning must open its own blockquote: {text}");
        assert!(at("| `~` update | `postgres_table.c_lost`") < at("| `~` update | `postgres_table.b_locked`"), "{text}");
        assert!(at("| `~` update | `postgres_table.b_locked`") < at("| `+` create | `postgres_table.a_safe`"), "{text}");
    }

    #[test]
    fn a_restart_of_a_data_losing_change_is_in_the_caution_block() {
        let mut instance = table("db", Action::Update, vec!["drops column public.db.x".into()]);
        instance.locking = vec!["db1: instance class db.t3.micro -> db.t3.small: the instance restarts now (apply_immediately = true)".into()];
        let text = render_markdown(&plan(vec![instance]));
        let caution = &text[text.find("[!CAUTION]").expect("a caution block")..text.find("| action |").expect("a table")];
        assert!(caution.contains("**locks:** db1: instance class db.t3.micro -> db.t3.small: the instance restarts now"), "{text}");
    }

    #[test]
    fn a_small_plan_is_whole() {
        let text = render_markdown(&plan(vec![table("users", Action::Create, vec![])]));
        assert!(text.contains("<details><summary><code>postgres_table.users</code>"), "{text}");
        assert!(text.contains("```sql\nCREATE TABLE"), "{text}");
        assert!(!text.contains("Cut to fit"), "{text}");
        assert!(!text.contains("[!CAUTION]"), "{text}");
    }
}
