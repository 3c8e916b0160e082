//! AWS Backup against moto: `aws_backup_vault` and `aws_backup_plan` are created, read back
//! through the SDK as configured (rules, windows, lifecycles, copy actions, tags and the authorship
//! tag), planned as no change afterwards, retagged in place and destroyed; a schedule AWS would
//! refuse fails the plan at its file and line with the form AWS expects, before any call.
//!
//! moto 5.2.1 lacks UpdateBackupPlan and every backup selection call: a rule change and an
//! `aws_backup_selection` fail with moto's error, reported as a failed apply (not a panic) that
//! leaves the state as it was; their requests are unit-tested in the provider. A vault and a plan
//! made by hand are imported (the plan by its id) and then plan as no change.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{Run, Workdir};

const PROVIDER: &str = r#"
provider "aws" {
  region           = "us-east-1"
  retry_backoff_ms = 10
}
"#;

/// A vault `vault` (with `vault_body` after its name) and a plan `plan` into it whose first rule,
/// `daily`, has `daily` after its vault; `plan_body` follows the rule.
fn vault_and_plan(vault: &str, vault_body: &str, plan: &str, daily: &str, plan_body: &str) -> String {
    format!(
        r#"{PROVIDER}
resource "aws_backup_vault" "main" {{
  name = "{vault}"
{vault_body}
}}

resource "aws_backup_plan" "nightly" {{
  name = "{plan}"

  rule {{
    rule_name         = "daily"
    target_vault_name = aws_backup_vault.main.name
{daily}
  }}
{plan_body}
}}
"#
    )
}

const WEEKLY: &str = r#"
  rule {
    rule_name         = "weekly"
    target_vault_name = aws_backup_vault.main.name
    schedule          = "cron(0 3 ? * SUN *)"
  }
"#;

const VAULT_TAGS: &str = r#"  tags = {
    team = "data"
  }"#;

/// A tagged vault and a tagged plan of two rules in it; `daily` is the daily rule's body.
fn config(suffix: &str, daily: &str, plan_tags: &str) -> String {
    let plan_body = format!("{WEEKLY}\n  tags = {{\n{plan_tags}\n  }}");
    vault_and_plan(&format!("strata-vault-{suffix}"), VAULT_TAGS, &format!("strata-plan-{suffix}"), daily, &plan_body)
}

const DAILY: &str = r#"    schedule          = "cron(0 5 ? * * *)"
    start_window      = 60
    completion_window = 240
    recovery_point_tags = {
      kind = "nightly"
    }

    lifecycle {
      cold_storage_after = 30
      delete_after       = 120
    }

    copy_action {
      destination_vault_arn = aws_backup_vault.main.arn
      lifecycle {
        delete_after = 35
      }
    }"#;

fn run(work: &Workdir, args: &[&str]) -> Run {
    work.strata(args)
}

fn no_changes(work: &Workdir) {
    let plan = run(work, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(plan.code, 0, "expected no changes: {plan:?}");
}

#[test]
fn a_vault_and_a_plan_are_created_read_back_retagged_and_destroyed() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let (vault_name, plan_name) = (format!("strata-vault-{suffix}"), format!("strata-plan-{suffix}"));
    let work = Workdir::offline();
    work.write("main.tf", &config(&suffix, DAILY, "    team = \"data\""));
    let planned = run(&work, &["plan", "-no-color"]);
    assert_eq!(planned.code, 0, "{planned:?}");
    assert!(planned.stdout.contains(&format!("CreateBackupVault {vault_name}")) && planned.stdout.contains(&format!("CreateBackupPlan {plan_name}")), "{planned:?}");
    let applied = run(&work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(applied.code, 0, "{applied:?}");

    let (vault, vault_tags) = moto.backup_vault(&vault_name).expect("the vault exists");
    assert_eq!(vault_tags.get("team").map(String::as_str), Some("data"));
    assert!(vault_tags.contains_key("strata:intent"), "the create left its mark: {vault_tags:?}");
    let (plan, plan_tags) = moto.backup_plan(&plan_name).expect("the plan exists");
    assert!(plan_tags.contains_key("strata:intent") && plan_tags.get("team").map(String::as_str) == Some("data"), "{plan_tags:?}");
    let rules = plan.backup_plan().map(|p| p.rules().to_vec()).unwrap_or_default();
    let daily = rules.iter().find(|r| r.rule_name() == "daily").expect("the daily rule");
    assert_eq!((daily.target_backup_vault_name(), daily.schedule_expression()), (vault_name.as_str(), Some("cron(0 5 ? * * *)")));
    assert_eq!((daily.start_window_minutes(), daily.completion_window_minutes()), (Some(60), Some(240)));
    let lifecycle = daily.lifecycle().map(|l| (l.move_to_cold_storage_after_days(), l.delete_after_days()));
    assert_eq!(lifecycle, Some((Some(30), Some(120))));
    let copy = daily.copy_actions().first().expect("the copy action");
    assert_eq!(copy.destination_backup_vault_arn(), vault.backup_vault_arn().unwrap_or_default());
    assert_eq!(copy.lifecycle().and_then(|l| l.delete_after_days()), Some(35));
    assert_eq!(daily.recovery_point_tags().and_then(|t| t.get("kind")).map(String::as_str), Some("nightly"));
    let weekly = rules.iter().find(|r| r.rule_name() == "weekly").expect("the weekly rule");
    assert_eq!((weekly.start_window_minutes(), weekly.completion_window_minutes()), (Some(60), Some(180)), "Terraform's default windows");
    let state = work.state();
    let in_state = |address: &str, key: &str| {
        common::instance(&state, address).map(|r| r["attributes"][key].clone()).unwrap_or_default()
    };
    assert_eq!(in_state("aws_backup_vault.main", "id"), serde_json::json!(vault_name));
    assert_eq!(in_state("aws_backup_plan.nightly", "id").as_str(), plan.backup_plan_id());
    assert_eq!(in_state("aws_backup_plan.nightly", "version").as_str(), plan.version_id());
    no_changes(&work);

    // Tags change in place (TagResource and UntagResource, which moto has).
    work.write("main.tf", &config(&suffix, DAILY, "    team = \"platform\""));
    let retag = run(&work, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(retag.code, 2, "{retag:?}");
    assert!(retag.stdout.contains("will be updated in place") && retag.stdout.contains(&format!("TagResource {plan_name}: team")), "{retag:?}");
    assert!(!retag.stdout.contains("UpdateBackupPlan"), "the rules are unchanged: {retag:?}");
    let applied = run(&work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert_eq!(moto.backup_plan(&plan_name).and_then(|(_, tags)| tags.get("team").cloned()).as_deref(), Some("platform"));
    no_changes(&work);

    // A rule change is UpdateBackupPlan, which moto 5.2.1 does not have: planned, then refused by
    // moto at apply, with the state left as it was.
    work.write("main.tf", &config(&suffix, &DAILY.replace("completion_window = 240", "completion_window = 300"), "    team = \"platform\""));
    let update = run(&work, &["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(update.code, 2, "{update:?}");
    assert!(update.stdout.contains(&format!("UpdateBackupPlan {plan_name}: rule daily (a new version)")), "{update:?}");
    let refused = run(&work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(refused.code, 1, "moto has no UpdateBackupPlan: {refused:?}");
    assert!(refused.stderr.contains("backup:UpdateBackupPlan failed: the endpoint answered HTTP 500 with no AWS error code or message"), "{refused:?}");
    assert!(!refused.output().contains("panicked"), "{refused:?}");
    assert_eq!(work.state()["resources"].as_array().map(Vec::len), Some(2));

    work.write("main.tf", &config(&suffix, DAILY, "    team = \"platform\""));
    let destroy = run(&work, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.backup_vault(&vault_name).is_none() && moto.backup_plan(&plan_name).is_none(), "both are gone");
}

#[test]
fn a_schedule_or_window_aws_would_refuse_fails_the_plan_before_any_call() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let work = Workdir::offline();
    let text = config(&suffix, &DAILY.replace("cron(0 5 ? * * *)", "cron(0 5 * * * *)"), "");
    let line = text.lines().position(|l| l.contains("cron(0 5 * * * *)")).map(|i| i + 1).expect("the schedule's line");
    work.write("main.tf", &text);
    let refused = run(&work, &["plan", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains(&format!("main.tf:{line}:")), "the schedule's line {line}: {refused:?}");
    assert!(refused.stderr.contains("cron(Minutes Hours Day-of-month Month Day-of-week Year)"), "the form AWS expects: {refused:?}");
    assert!(refused.stderr.contains("day-of-month (*) and day-of-week (*) are both set: AWS cron needs ? in one of them"), "{refused:?}");

    work.write("main.tf", &config(&suffix, &DAILY.replace("cron(0 5 ? * * *)", "cron(0 5 ? * MOON *)"), ""));
    let refused = run(&work, &["plan", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("day-of-week \"MOON\" is not 1-7 or SUN-SAT"), "{refused:?}");

    work.write("main.tf", &config(&suffix, &DAILY.replace("start_window      = 60", "start_window      = 30"), ""));
    let refused = run(&work, &["plan", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("rule \"daily\": start_window = 30 minutes is too short") && refused.stderr.contains("at least 60 minutes"), "{refused:?}");

    work.write("main.tf", &config(&suffix, &DAILY.replace("delete_after       = 120", "delete_after       = 100"), ""));
    let refused = run(&work, &["plan", "-no-color"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("rule \"daily\": lifecycle: delete_after = 100 days is less than 90 days after cold_storage_after = 30"), "{refused:?}");
    assert!(moto.backup_vault(&format!("strata-vault-{suffix}")).is_none(), "nothing was created");
}

#[test]
fn a_backup_selection_on_moto_fails_with_moto_s_error_and_the_rest_is_kept() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let work = Workdir::offline();
    let selection = r#"
resource "aws_backup_selection" "databases" {
  name         = "databases"
  plan_id      = aws_backup_plan.nightly.id
  iam_role_arn = "arn:aws:iam::123456789012:role/backup"
  resources    = ["arn:aws:rds:us-east-1:123456789012:db:main"]

  selection_tag {
    type  = "STRINGEQUALS"
    key   = "backup"
    value = "nightly"
  }
}
"#;
    work.write("main.tf", &format!("{}{selection}", config(&suffix, DAILY, "")));
    let planned = run(&work, &["plan", "-no-color"]);
    assert!(planned.code == 0 && planned.stdout.contains("CreateBackupSelection databases in plan"), "{planned:?}");
    let failed = run(&work, &["apply", "-auto-approve", "-no-color"]);
    assert_eq!(failed.code, 1, "moto has no CreateBackupSelection: {failed:?}");
    assert!(failed.stderr.contains("backup:CreateBackupSelection failed: the endpoint answered HTTP 500 with no AWS error code or message"), "{failed:?}");
    assert!(failed.stderr.contains("does not implement this call"), "{failed:?}");
    assert!(!failed.output().contains("panicked"), "{failed:?}");
    assert_eq!(work.state_addresses(), vec!["aws_backup_plan.nightly".to_owned(), "aws_backup_vault.main".to_owned()], "what was made is recorded");

    work.write("main.tf", &config(&suffix, DAILY, ""));
    let destroy = run(&work, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.backup_vault(&format!("strata-vault-{suffix}")).is_none());
}

#[test]
fn a_vault_and_a_plan_made_by_hand_are_imported_and_then_plan_as_no_change() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let (vault_name, plan_name) = (format!("hand-vault-{suffix}"), format!("hand-plan-{suffix}"));
    moto.create_backup_vault(&vault_name);
    let plan_id = moto.create_backup_plan(&plan_name, &vault_name);
    let work = Workdir::offline();
    work.write("main.tf", &vault_and_plan(&vault_name, "", &plan_name, "    schedule          = \"cron(0 5 ? * * *)\"", ""));
    let planned = run(&work, &["plan", "-no-color"]);
    assert!(planned.stdout.contains(&format!("CreateBackupVault {vault_name}")), "not in state, so to be created: {planned:?}");
    let unknown = run(&work, &["import", "aws_backup_plan.nightly", "no-such-plan"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("the plan id (or its name)"), "{unknown:?}");
    for (address, id) in [("aws_backup_vault.main", vault_name.as_str()), ("aws_backup_plan.nightly", plan_id.as_str())] {
        let imported = run(&work, &["import", address, id]);
        assert_eq!(imported.code, 0, "{imported:?}");
    }
    no_changes(&work);

    let destroy = run(&work, &["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(destroy.code, 0, "imported objects are the state's to delete: {destroy:?}");
    assert!(moto.backup_vault(&vault_name).is_none() && moto.backup_plan(&plan_name).is_none());
}
