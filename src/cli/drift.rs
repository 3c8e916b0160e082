//! `strata drift`, `strata drift ack`, `plan -refresh-only` and `apply -refresh-only`: running the
//! drift engine (`crate::drift`) and showing what it found as text, markdown, JSON or a
//! Slack-compatible webhook message.
//!
//! A drift run reads only: it never takes the state lock (whose file it would write) nor writes the
//! state. Only `drift ack` and `apply -refresh-only` write the state, under its lock. Deciding what
//! drifted belongs to `crate::drift`; this module must not.

use std::time::Duration;

use strata_provider_sdk::Value;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::args::{DriftArgs, DriftCommand, DriftFormat, VarArgs};
use super::commands::confirm;
use crate::context::Context;
use crate::diag::{Diagnostic, Result};
use crate::drift::{accept_live, acknowledge, detect, live_findings, Finding, Kind, Report};
use crate::plan::planner::refresh_only as refresh_live;
use crate::plan::render::literal;
use crate::providers::Providers;
use crate::secrets::redact;
use crate::state::backend::LockOptions;
use crate::state::State;
use crate::ui::Style;

/// Exit code of a drift run that found drift (and of `plan -refresh-only -detailed-exitcode` with
/// something to accept).
const EXIT_DRIFT: i32 = 2;
/// Slack refuses a message of more than 50 blocks, and a section of more than 3000 characters.
const SLACK_MAX_RESOURCE_BLOCKS: usize = 45;
const SLACK_MAX_SECTION: usize = 2900;
/// Values longer than this are cut in markdown and Slack, where a whole view body would drown the rest.
const SHORT_VALUE: usize = 120;
/// How much of what both sides share a cut value keeps before and after where they differ.
const DIFFERENCE_CONTEXT: usize = 24;
/// What a reader of a drift report can do about it; shown under every report that has drift.
const NEXT_STEPS: [&str; 3] = [
    "`strata apply` reverts what changed outside strata, back to the configuration, and does what is overdue (backups, prunes, drills)",
    "`strata apply -refresh-only` accepts what is live into the state (then change the configuration to match, or the next apply reverts it)",
    "`strata drift ack ADDR[.attribute] -until DATE -reason TEXT` accepts it until DATE",
];

/// Which run a report is from, for reports read away from the terminal (an issue, a chat channel).
struct RunInfo {
    workspace: String,
    /// RFC 3339, UTC.
    checked_at: String,
}

/// What a refresh-only run does with what it finds.
#[derive(Clone, Copy, Debug)]
pub enum RefreshOnly {
    Plan { detailed_exitcode: bool },
    Apply { auto_approve: bool },
}

/// `strata drift [...]` and `strata drift ack ...`; `load` makes the context from the variables.
pub async fn run(args: DriftArgs, load: impl FnOnce(&VarArgs) -> Result<Context>, providers: &Providers, style: &Style) -> Result<i32> {
    if let Some(DriftCommand::Ack { target, until, reason, state, lock }) = &args.command {
        return ack(providers, target, until, reason, state.as_deref(), lock.options());
    }
    let ctx = load(&args.vars)?;
    let mut store = ctx.store();
    let recorded = store.load()?.ok_or_else(|| {
        Diagnostic::error(format!("no state in {}", store.describe())).hint("a drift run compares live objects with the state; apply first, or pass -state PATH")
    })?;
    // A `moved` block not applied yet is a rename the configuration asks for, not drift.
    let state = crate::plan::guards::apply_moves(&ctx, &recorded)?.state;
    let now = OffsetDateTime::now_utc();
    let report = detect(&ctx, &state, now).await?;
    let run = RunInfo { workspace: ctx.state_setup.workspace.clone(), checked_at: now.replace_nanosecond(0).unwrap_or(now).format(&Rfc3339).unwrap_or_default() };
    let format = if args.json { DriftFormat::Json } else { args.format };
    let shown = match format {
        DriftFormat::Human => human(&report, style),
        DriftFormat::Markdown => markdown(&report, &run),
        DriftFormat::Json => serde_json::to_string_pretty(&json(&report)).unwrap_or_default() + "\n",
    };
    print!("{}", redact(&shown));
    if let Some(url) = args.webhook.as_deref().filter(|_| report.has_drift()) {
        match post_webhook(url, &slack_message(&report, &run)).await {
            Ok(()) => eprintln!("Posted the drift report to the webhook."),
            // The drift is real and printed above: a notification that failed must not turn exit 2 into 1.
            Err(warning) => super::print_diagnostics(&warning.into(), style),
        }
    }
    Ok(if report.has_drift() { EXIT_DRIFT } else { 0 })
}

/// `strata drift ack TARGET -until DATE -reason TEXT`: records the acknowledgement in state.
fn ack(providers: &Providers, target: &str, until: &str, reason: &str, state_path: Option<&std::path::Path>, lock: LockOptions) -> Result<i32> {
    let recorded =
        super::state_cmds::edit_state(state_path, lock, "drift ack", |state| acknowledge(state, providers, target, until, reason, OffsetDateTime::now_utc()))?;
    let what = recorded.attribute.as_ref().map_or(recorded.address.clone(), |a| format!("{}.{a}", recorded.address));
    println!("Acknowledged drift on {what} until {}: {}", recorded.until, redact(&recorded.reason));
    Ok(0)
}

/// `plan -refresh-only` and `apply -refresh-only`: show what accepting the live objects into state
/// changes, and for apply write it (lock, backup, serial + 1). Nothing live changes.
pub async fn refresh_only(ctx: &Context, mode: RefreshOnly, style: &Style) -> Result<i32> {
    let mut store = ctx.store();
    let _lock = store.lock(match mode {
        RefreshOnly::Plan { .. } => "plan",
        RefreshOnly::Apply { .. } => "apply",
    })?;
    let recorded = store.load()?.unwrap_or_default();
    // Moves are made here too (as Terraform does in refresh-only mode), so what is accepted lands at the configured addresses.
    let moves = crate::plan::guards::apply_moves(ctx, &recorded)?;
    let state = moves.state;
    let live = refresh_live(ctx, &state).await?;
    let accepted = accept_live(&state, &live);
    let report = Report { findings: live_findings(&state, &live), checked: state.managed().count() };
    if accepted == recorded {
        println!("\n{} The state matches what is live; there is nothing to accept.", style.bold("No changes."));
        return Ok(0);
    }
    println!("strata will accept these changes made outside strata into the state (nothing live changes):\n");
    for (to, from) in &moves.moved {
        println!("  # {from} has moved to {to}");
    }
    print!("{}", redact(&findings_text(&report, style)));
    let (updated, removed) = accepted_counts(&state, &accepted);
    println!("\n{} {updated} to update in state, {removed} to remove from state.", style.bold("Refresh-only plan:"));
    match mode {
        RefreshOnly::Plan { detailed_exitcode } => Ok(if detailed_exitcode { EXIT_DRIFT } else { 0 }),
        RefreshOnly::Apply { auto_approve } => {
            if !auto_approve && !confirm()? {
                println!("\nApply cancelled.");
                return Ok(1);
            }
            let mut accepted = accepted;
            accepted.serial = recorded.serial + 1;
            store.write(&accepted)?;
            println!("\n{}", style.added(&format!("Apply complete! State: {updated} updated, {removed} removed.")));
            Ok(0)
        }
    }
}

/// How many resources accepting live values updates in state and removes from it.
fn accepted_counts(state: &State, accepted: &State) -> (usize, usize) {
    let removed = state.managed().filter(|r| accepted.get(&r.address()).is_none()).count();
    let updated = state.managed().filter(|r| accepted.get(&r.address()).is_some_and(|a| a.state != r.state)).count();
    (updated, removed)
}

/// One line saying how the run went; the first thing every format shows.
fn summary_line(report: &Report) -> String {
    if report.findings.is_empty() {
        return format!("No drift: the {} resource(s) in state match what is live and the configuration.", report.checked);
    }
    let counts: Vec<String> = [Kind::Changed, Kind::Deleted, Kind::Unmanaged, Kind::Config, Kind::Overdue]
        .into_iter()
        .filter(|k| report.count(*k) > 0)
        .map(|k| format!("{} {}", report.count(k), k.phrase()))
        .collect();
    let acknowledged = match report.acknowledged() {
        0 => String::new(),
        n => format!("; {n} acknowledged"),
    };
    let verdict = if report.has_drift() { "Drift detected" } else { "Only acknowledged drift" };
    format!("{verdict} in {} resource(s): {}{acknowledged}.", report.by_resource().len(), counts.join(", "))
}

fn human(report: &Report, style: &Style) -> String {
    let headline = if report.has_drift() { style.error(&summary_line(report)) } else { style.bold(&summary_line(report)) };
    if report.findings.is_empty() {
        return format!("{headline}\n");
    }
    format!("{headline}\n\n{}", findings_text(report, style))
}

/// The findings per resource, one line each.
fn findings_text(report: &Report, style: &Style) -> String {
    let mut out = String::new();
    for (address, findings) in report.by_resource() {
        out.push_str(&format!("  {} {}\n", style.bold("#"), style.bold(&address.to_string())));
        for finding in findings {
            let marker = match finding.kind {
                Kind::Changed => style.changed("~"),
                Kind::Deleted => style.removed("-"),
                Kind::Unmanaged => style.added("+"),
                Kind::Config => style.changed("!"),
                Kind::Overdue => style.warning("!"),
            };
            out.push_str(&format!("    {marker} {}{}\n", finding_text(finding, usize::MAX), ack_note(finding)));
        }
    }
    out
}

/// `changed outside strata: instance_class: "db.t3.micro" -> "db.t3.small"`.
fn finding_text(finding: &Finding, max_value: usize) -> String {
    let mut text = finding.kind.phrase().to_owned();
    if let Some(attribute) = &finding.attribute {
        let (before, after) = shown_difference(finding, max_value);
        let absent = || "(absent)".to_owned();
        text.push_str(&format!(": {attribute}: {} -> {}", before.unwrap_or_else(absent), after.unwrap_or_else(absent)));
    }
    if let Some(detail) = &finding.detail {
        text.push_str(&format!(": {detail}"));
    }
    text
}

fn ack_note(finding: &Finding) -> String {
    match &finding.ack {
        None => String::new(),
        Some(ack) if ack.expired => format!(" [acknowledgement expired {}: {}]", ack.until, ack.reason),
        Some(ack) => format!(" [acknowledged until {}: {}]", ack.until, ack.reason),
    }
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// A finding's value in state and now (`None`: absent), each at most about `max` characters, so
/// that the difference shows: items both lists hold become one `…`, and a long value is cut
/// around where the two differ, not at a start they share.
fn shown_difference(finding: &Finding, max: usize) -> (Option<String>, Option<String>) {
    let (before, after) = match (&finding.before, &finding.after) {
        (Some(Value::List(old)), Some(Value::List(new))) => (Some(list_without(old, new)), Some(list_without(new, old))),
        (before, after) => (before.as_ref().map(literal), after.as_ref().map(literal)),
    };
    match (before, after) {
        (Some(before), Some(after)) => {
            let (before, after) = cut_around_difference(&before, &after, max);
            (Some(before), Some(after))
        }
        (before, after) => (before.map(|b| cut(&b, max)), after.map(|a| cut(&a, max))),
    }
}

/// `items` without those `others` holds too, as a list literal where `…` stands for those.
fn list_without(items: &[Value], others: &[Value]) -> String {
    let own: Vec<String> = items.iter().filter(|item| !others.contains(item)).map(literal).collect();
    let shared = (own.len() < items.len()).then(|| "…".to_owned());
    format!("[{}]", shared.into_iter().chain(own).collect::<Vec<_>>().join(", "))
}

/// Both texts as they are when each fits in `max` characters; otherwise each cut to the window
/// that starts a little before their first difference, `…` marking what was left out.
fn cut_around_difference(before: &str, after: &str, max: usize) -> (String, String) {
    let (old, new): (Vec<char>, Vec<char>) = (before.chars().collect(), after.chars().collect());
    if old.len() <= max && new.len() <= max {
        return (before.to_owned(), after.to_owned());
    }
    let prefix = old.iter().zip(&new).take_while(|(a, b)| a == b).count();
    let suffix = old.iter().rev().zip(new.iter().rev()).take_while(|(a, b)| a == b).count().min(old.len().min(new.len()) - prefix);
    let start = prefix.saturating_sub(DIFFERENCE_CONTEXT);
    let window = |chars: &[char]| {
        let end = (chars.len() - suffix + DIFFERENCE_CONTEXT).min(chars.len()).min(start + max);
        let (head, tail) = (if start > 0 { "…" } else { "" }, if end < chars.len() { "…" } else { "" });
        format!("{head}{}{tail}", chars[start..end].iter().collect::<String>())
    };
    (window(&old), window(&new))
}

/// The header of a report read away from the terminal: which workspace, and when.
fn run_line(run: &RunInfo) -> String {
    format!("Workspace `{}`, checked at {}.", run.workspace, run.checked_at)
}

/// An issue body: the summary, which run it is, a table of every finding, then what to do.
fn markdown(report: &Report, run: &RunInfo) -> String {
    let mut out = format!("## strata drift\n\n**{}**\n\n{}\n", summary_line(report), run_line(run));
    if report.findings.is_empty() {
        return out;
    }
    out.push_str("\n| resource | drift | attribute | in state | now | note |\n| --- | --- | --- | --- | --- | --- |\n");
    for finding in &report.findings {
        let (before, after) = shown_difference(finding, SHORT_VALUE);
        let value = |shown: Option<String>| shown.as_deref().map(code).unwrap_or_default();
        let note = [finding.detail.clone().unwrap_or_default(), ack_note(finding).trim().to_owned()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            code(&finding.address.to_string()),
            finding.kind.phrase(),
            finding.attribute.as_deref().map(code).unwrap_or_default(),
            value(before),
            value(after),
            cell(&note)
        ));
    }
    if report.has_drift() {
        out.push_str("\n**What to do:**\n\n");
        for step in NEXT_STEPS {
            out.push_str(&format!("- {step}\n"));
        }
    }
    out
}

/// Text as inline code in a table cell.
fn code(text: &str) -> String {
    format!("`{}`", cell(text).replace('`', "'"))
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The JSON form (documented in the README): a verdict, counts, and every finding.
fn json(report: &Report) -> serde_json::Value {
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "address": f.address.to_string(),
                "type": f.address.type_name(),
                "name": f.address.resource.name,
                "kind": f.kind.name(),
                "attribute": f.attribute,
                "before": f.before.as_ref().map(Value::to_json),
                "after": f.after.as_ref().map(Value::to_json),
                "detail": f.detail,
                "acknowledged": f.ack.as_ref().map(|a| serde_json::json!({ "until": a.until, "reason": a.reason, "expired": a.expired })),
            })
        })
        .collect();
    serde_json::json!({
        "format_version": "1.0",
        "drift": report.has_drift(),
        "resources_checked": report.checked,
        "summary": {
            "changed": report.count(Kind::Changed),
            "deleted": report.count(Kind::Deleted),
            "unmanaged": report.count(Kind::Unmanaged),
            "config": report.count(Kind::Config),
            "overdue": report.count(Kind::Overdue),
            "acknowledged": report.acknowledged(),
        },
        "findings": findings,
    })
}

/// A Slack-compatible message: `text` (the summary, shown in notifications) and `blocks`, one
/// section per drifted resource, within Slack's limits.
fn slack_message(report: &Report, run: &RunInfo) -> serde_json::Value {
    let summary = format!("{} (workspace {})", summary_line(report), run.workspace);
    let heading = format!("*strata drift*: {}\n{}", summary_line(report), run_line(run));
    let mut blocks = vec![serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": heading } })];
    let grouped = report.by_resource();
    for (address, findings) in grouped.iter().take(SLACK_MAX_RESOURCE_BLOCKS) {
        let lines: Vec<String> = findings.iter().map(|f| format!("• {}{}", finding_text(f, SHORT_VALUE), ack_note(f))).collect();
        let text = cut(&format!("`{address}`\n{}", lines.join("\n")), SLACK_MAX_SECTION);
        blocks.push(serde_json::json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } }));
    }
    if grouped.len() > SLACK_MAX_RESOURCE_BLOCKS {
        let more = format!("…and {} more resource(s); run strata drift for all of them.", grouped.len() - SLACK_MAX_RESOURCE_BLOCKS);
        blocks.push(serde_json::json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": more }] }));
    }
    let steps: Vec<String> = NEXT_STEPS.iter().map(|step| format!("• {step}")).collect();
    blocks.push(serde_json::json!({ "type": "context", "elements": [{ "type": "mrkdwn", "text": format!("*What to do:*\n{}", steps.join("\n")) }] }));
    serde_json::json!({ "text": summary, "blocks": blocks })
}

/// POSTs `message` as JSON to `url`; a failure is a warning to print. The URL is a secret (it lets
/// anyone post), so the warning never repeats it.
async fn post_webhook(url: &str, message: &serde_json::Value) -> std::result::Result<(), Diagnostic> {
    let body = redact(&message.to_string());
    let target = url.to_owned();
    let sent = tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(15))).build().into();
        agent.post(&target).header("Content-Type", "application/json").send(body.as_str()).map(|_| ()).map_err(|err| err.to_string().replace(&target, "(webhook URL)"))
    })
    .await
    .map_err(|err| err.to_string())
    .and_then(|result| result);
    sent.map_err(|err| {
        Diagnostic::warning(format!("posting the drift report to the webhook failed: {err}"))
            .hint("check the -webhook URL and that this machine can reach it; the report above is complete, and the exit code still says there is drift")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addrs::ConfigResource;

    fn rule(cidrs: &[&str]) -> Value {
        let cidrs = Value::List(cidrs.iter().map(|c| Value::from(*c)).collect());
        Value::object([
            ("cidr_blocks", cidrs),
            ("description", Value::from("PostgreSQL from the application subnets of the platform VPC")),
            ("from_port", Value::from(5432)),
            ("protocol", Value::from("tcp")),
            ("to_port", Value::from(5432)),
        ])
    }

    fn changed(attribute: &str, before: Value, after: Value) -> Finding {
        Finding {
            address: ConfigResource::managed("aws_security_group", "db_sg").single_instance(),
            kind: Kind::Changed,
            attribute: Some(attribute.to_owned()),
            before: Some(before),
            after: Some(after),
            detail: None,
            ack: None,
        }
    }

    #[test]
    fn a_cidr_opened_in_a_long_rule_shows_in_the_cut_cells() {
        let finding = changed("ingress", Value::List(vec![rule(&["10.0.0.0/16"])]), Value::List(vec![rule(&["10.0.0.0/16", "0.0.0.0/0"])]));
        let (before, after) = shown_difference(&finding, SHORT_VALUE);
        let (before, after) = (before.expect("a value in state"), after.expect("a live value"));
        assert_ne!(before, after);
        assert!(after.contains("\"0.0.0.0/0\""), "{after}");
        assert!(!before.contains("0.0.0.0/0"), "{before}");
    }

    #[test]
    fn a_rule_added_next_to_an_unchanged_one_shows_alone() {
        let wide: Vec<Value> = (0..4).map(|i| rule(&[&format!("10.{i}.0.0/16")])).collect();
        let opened = [wide.clone(), vec![rule(&["0.0.0.0/0"])]].concat();
        let (before, after) = shown_difference(&changed("ingress", Value::List(wide), Value::List(opened)), SHORT_VALUE);
        assert_eq!(before.as_deref(), Some("[…]"));
        let after = after.expect("a live value");
        assert!(after.starts_with("[…, { cidr_blocks = [\"0.0.0.0/0\"]"), "{after}");
    }

    #[test]
    fn long_text_is_cut_around_its_difference() {
        let shared = "x".repeat(300);
        let (before, after) = cut_around_difference(&format!("{shared}-old-{shared}"), &format!("{shared}-new-{shared}"), 60);
        assert!(before.starts_with('…') && before.ends_with('…') && before.contains("-old-"), "{before}");
        assert!(after.contains("-new-") && after.chars().count() <= 62, "{after}");
        assert_eq!(cut_around_difference("short", "shorter", 60), ("short".to_owned(), "shorter".to_owned()));
        let (grown, _) = cut_around_difference(&shared, &format!("{shared}!"), 60);
        assert!(grown.starts_with('…') && !grown.ends_with('…'), "{grown}");
    }
}
