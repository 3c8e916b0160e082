//! Machine-readable output: `validate -json` in the shape of `terraform validate -json`, and
//! `plan -json` as JSON lines in the shape of Terraform's machine-readable UI (`diagnostic`,
//! `planned_change` and `change_summary` messages, each with `@level`, `@message` and `type`).
//!
//! Owns these shapes only; what is valid or planned is decided elsewhere.

use serde_json::{json, Value as Json};
use strata_provider_sdk::Action;

use crate::diag::{Diagnostic, Diagnostics, Location, Severity};
use crate::plan::Plan;

/// `{"format_version", "valid", "error_count", "warning_count", "diagnostics": [...]}`.
pub fn validate_report(found: &Diagnostics) -> Json {
    let count = |severity: Severity| found.0.iter().filter(|d| d.severity == severity).count();
    json!({
        "format_version": "1.0",
        "valid": !found.has_errors(),
        "error_count": count(Severity::Error),
        "warning_count": count(Severity::Warning),
        "diagnostics": found.0.iter().map(diagnostic).collect::<Vec<_>>(),
    })
}

/// One line per diagnostic, planned change, and the summary when there is a plan.
pub fn plan_lines(plan: Option<&Plan>, found: &Diagnostics) -> Vec<Json> {
    let mut lines: Vec<Json> = found.0.iter().map(diagnostic_line).collect();
    let Some(plan) = plan else { return lines };
    lines.extend(plan.changes.iter().filter(|c| c.is_change()).map(|change| {
        let address = change.address.to_string();
        let action = action_name(change.action);
        json!({
            "@level": "info",
            "@message": format!("{address}: Plan to {action}"),
            "type": "planned_change",
            "change": {
                "resource": {
                    "addr": address,
                    "module": "",
                    "resource": address,
                    "resource_type": change.address.type_name(),
                    "resource_name": change.address.resource.name,
                    "resource_key": null,
                    "implied_provider": change.address.provider(),
                },
                "action": action,
                "reason": change.replace_because.first(),
            },
        })
    }));
    let summary = plan.summary();
    let operation = if plan.destroy { "destroy" } else { "plan" };
    lines.push(json!({
        "@level": "info",
        "@message": format!(
            "Plan: {} to add, {} to change, {} to replace, {} to destroy.",
            summary.add, summary.change, summary.replace, summary.destroy
        ),
        "type": "change_summary",
        "changes": { "add": summary.add, "change": summary.change, "replace": summary.replace, "remove": summary.destroy, "forget": summary.forget, "import": summary.import, "operation": operation },
    }));
    lines
}

fn action_name(action: Action) -> &'static str {
    match action {
        Action::NoOp => "noop",
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

fn diagnostic_line(found: &Diagnostic) -> Json {
    let (level, prefix) = match found.severity {
        Severity::Error => ("error", "Error"),
        Severity::Warning => ("warn", "Warning"),
    };
    json!({ "@level": level, "@message": format!("{prefix}: {}", found.summary), "type": "diagnostic", "diagnostic": diagnostic(found) })
}

/// `{"severity", "summary", "detail", "range"}`; the hint joins the detail, as Terraform has no field for it.
fn diagnostic(found: &Diagnostic) -> Json {
    let detail = [found.detail.as_deref(), found.hint.as_deref()].into_iter().flatten().collect::<Vec<_>>().join("\n");
    let mut out = json!({
        "severity": if found.is_error() { "error" } else { "warning" },
        "summary": found.summary,
        "detail": detail,
    });
    if let Some(location) = &found.location {
        let start = position(location);
        out["range"] = json!({ "filename": location.file.display().to_string(), "start": start, "end": start });
    }
    out
}

/// `{"line", "column", "byte"}`; the byte offset is read back from the file, when it can be.
fn position(location: &Location) -> Json {
    let byte = std::fs::read_to_string(&location.file).ok().and_then(|text| byte_offset(&text, location.line, location.column));
    json!({ "line": location.line, "column": location.column, "byte": byte })
}

/// The byte offset of 1-based `line` and `column` (in characters) in `text`.
fn byte_offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let line_start: usize = text.split_inclusive('\n').take(line.checked_sub(1)?).map(str::len).sum();
    let rest = text.get(line_start..)?;
    let within: usize = rest.chars().take(column.checked_sub(1)?).map(char::len_utf8).sum();
    Some(line_start + within)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_offsets_count_lines_and_characters() {
        assert_eq!(byte_offset("a = 1\n  é = 2\n", 2, 4), Some(10));
        assert_eq!(byte_offset("a", 1, 1), Some(0));
        assert_eq!(byte_offset("a", 0, 1), None);
    }
}
