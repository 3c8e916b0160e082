//! What the reviewer sees: `strata show` of a saved plan as Terraform's plan JSON (validated
//! against `schemas/plan.schema.json`, with Terraform's field names), as a pull-request comment
//! with data loss first and a size cap, the human plan's diffs of long values, and the state; no
//! secret in any of them. Against a real PostgreSQL, and moto for the seed configuration.

use crate::common;

use std::path::Path;

use common::moto::{unique_suffix, Moto};
use common::{assert_matches_schema, Run, TestDb, Workdir};

const USERS: &str = r#"
resource "postgres_table" "users" {
  name    = "users"
  comment = "COMMENT"

  column {
    name = "id"
    type = "bigint"
    null = false
  }
  column {
    name = "email"
    type = "text"
  }

  primary_key = ["id"]
}
"#;

const LONG_COMMENT: &str = "Everyone who signs in to the platform, with the address we write to when their training jobs finish";

fn users(comment: &str, with_email: bool) -> String {
    let text = USERS.replace("COMMENT", comment);
    if with_email { text } else { text.replace("  column {\n    name = \"email\"\n    type = \"text\"\n  }\n", "") }
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

fn show_json(work: &Workdir, file: &str) -> serde_json::Value {
    let run = ok(work.strata(&["show", "-json", file]));
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("show -json is not JSON: {e}\n{run:?}"));
    assert_matches_schema("plan.schema.json", &plan);
    plan
}

fn change_of<'a>(plan: &'a serde_json::Value, address: &str) -> &'a serde_json::Value {
    plan["resource_changes"].as_array().expect("resource_changes").iter().find(|c| c["address"] == address).unwrap_or_else(|| panic!("no change for {address}: {plan:#}"))
}

/// The keys `terraform show -json` writes for a resource change, checked against Terraform 1.11.
const TERRAFORM_CHANGE_KEYS: [&str; 6] = ["address", "mode", "type", "name", "provider_name", "change"];
const TERRAFORM_CHANGE_FIELDS: [&str; 6] = ["actions", "before", "after", "after_unknown", "before_sensitive", "after_sensitive"];

fn assert_terraform_names(change: &serde_json::Value) {
    for key in TERRAFORM_CHANGE_KEYS {
        assert!(change.get(key).is_some(), "no {key} in {change:#}");
    }
    for key in TERRAFORM_CHANGE_FIELDS {
        assert!(change["change"].get(key).is_some(), "no change.{key} in {change:#}");
    }
}

#[test]
fn a_dropped_column_is_data_loss_in_the_json_and_first_in_the_markdown() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &users("Platform users", true));
    work.apply();
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@example.com')");
    work.write("main.tf", &users("Platform users", false));
    let loss = "drops column public.users.email and the data in it";

    let human = ok(work.strata(&["plan", "-out", "p.json"]));
    assert!(human.stdout.contains(&format!("! data loss: {loss}")), "{human:?}");
    assert!(human.stdout.contains("Data loss: 1 change loses data"), "{human:?}");

    let plan = show_json(&work, "p.json");
    assert_eq!(plan["format_version"], "1.2");
    let users = change_of(&plan, "postgres_table.users");
    assert_terraform_names(users);
    assert_eq!(users["change"]["actions"], serde_json::json!(["update"]));
    assert_eq!(users["mode"], "managed");
    assert_eq!(users["type"], "postgres_table");
    assert_eq!(users["provider_name"], "registry.terraform.io/strata/postgres");
    assert_eq!(users["strata"]["data_loss"], serde_json::json!([loss]));
    assert!(users["strata"]["operations"].as_array().unwrap().iter().any(|o| o == "ALTER TABLE \"public\".\"users\" DROP COLUMN \"email\""), "{users:#}");

    for markdown in [ok(work.strata(&["plan", "-format", "markdown"])).stdout, ok(work.strata(&["show", "-format", "markdown", "p.json"])).stdout] {
        assert!(markdown.starts_with("**strata plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.** :warning: **1 change loses data.**"), "{markdown}");
        let caution = markdown.find("[!CAUTION]").expect("a caution block");
        let warning = markdown.find(loss).expect("the data loss line");
        let table = markdown.find("| action | resource | what |").expect("a table");
        assert!(caution < warning && warning < table, "data loss must come before the table:\n{markdown}");
        assert!(markdown.contains("<details><summary><code>postgres_table.users</code>"), "{markdown}");
        assert!(markdown.contains("```sql\nSET LOCAL lock_timeout = '5s'\nALTER TABLE \"public\".\"users\" DROP COLUMN \"email\""), "{markdown}");
        assert!(!markdown.contains("Saved the plan"), "{markdown}");
    }
    // Nothing was applied by any of it.
    assert!(db.columns("users").iter().any(|c| c.starts_with("email ")), "{:?}", db.columns("users"));
}

#[test]
fn dropping_a_table_and_narrowing_a_column_are_data_loss() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{}{}", users("Platform users", true), USERS.replace("\"users\"", "\"audit\"").replace("COMMENT", "audit")));
    work.apply();
    work.write("main.tf", &users("Platform users", true).replace("type = \"text\"", "type = \"varchar(20)\""));
    let plan = ok(work.strata(&["plan", "-out", "p.json"]));
    assert!(plan.stdout.contains("! data loss: drops table public.audit and all its rows"), "{plan:?}");
    assert!(plan.stdout.contains("! data loss: changes column public.users.email from text to character varying(20): it is not a cast known to keep every value"), "{plan:?}");
    let json = show_json(&work, "p.json");
    let audit = change_of(&json, "postgres_table.audit");
    assert_eq!(audit["change"]["actions"], serde_json::json!(["delete"]));
    assert_eq!(audit["action_reason"], "delete_because_no_resource_config");
    assert_eq!(audit["strata"]["operations"], serde_json::json!(["SET LOCAL lock_timeout = '5s'", "DROP TABLE \"public\".\"audit\""]));
}

/// The GitHub alerts (`> [!CAUTION]`, `> [!WARNING]`) of a comment as a GFM renderer reads them:
/// each alert's kind with the text inside it.
fn gfm_alerts(markdown: &str) -> Vec<(pulldown_cmark::BlockQuoteKind, String)> {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    let mut alerts: Vec<(pulldown_cmark::BlockQuoteKind, String)> = Vec::new();
    let mut depth = 0;
    for event in Parser::new_ext(markdown, Options::ENABLE_GFM) {
        match event {
            Event::Start(Tag::BlockQuote(kind)) => {
                depth += 1;
                alerts.extend(kind.filter(|_| depth == 1).map(|kind| (kind, String::new())));
            }
            Event::End(TagEnd::BlockQuote(_)) => depth -= 1,
            Event::Text(text) | Event::Code(text) if depth > 0 => alerts.last_mut().expect("text inside an alert").1.push_str(&text),
            _ => {}
        }
    }
    alerts
}

#[test]
fn locking_and_destructive_changes_are_two_separate_alerts_on_github() {
    use pulldown_cmark::BlockQuoteKind;
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let age = |ty: &str| users("Platform users", true).replace("  primary_key", &format!("  column {{\n    name = \"age\"\n    type = \"{ty}\"\n  }}\n\n  primary_key"));
    work.write("main.tf", &format!("{}{}", age("integer"), USERS.replace("\"users\"", "\"audit\"").replace("COMMENT", "audit")));
    work.apply();
    work.write("main.tf", &age("bigint"));
    let markdown = ok(work.strata(&["plan", "-format", "markdown"])).stdout;
    let alerts = gfm_alerts(&markdown);
    let kinds: Vec<BlockQuoteKind> = alerts.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(kinds, [BlockQuoteKind::Caution, BlockQuoteKind::Warning], "{markdown}");
    let (caution, warning) = (&alerts[0].1, &alerts[1].1);
    assert!(caution.contains("postgres_table.audit") && !caution.contains("postgres_table.users"), "{caution}\n{markdown}");
    assert!(warning.contains("postgres_table.users") && warning.contains("rewrites public.users"), "{warning}\n{markdown}");
    assert!(!warning.contains("audit"), "{warning}\n{markdown}");
}

#[test]
fn the_comment_of_a_huge_plan_keeps_its_summary_under_the_cap() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let tables: String = (0..300).map(|i| USERS.replace("\"users\"", &format!("\"events_{i:03}\"")).replace("COMMENT", &format!("{LONG_COMMENT} {i}"))).collect();
    work.write("main.tf", &tables);
    let markdown = ok(work.strata(&["plan", "-format", "markdown"])).stdout;
    assert!(markdown.chars().count() <= 60_000, "{} characters", markdown.chars().count());
    assert!(markdown.starts_with("**strata plan: 300 to add, 0 to change, 0 to replace, 0 to destroy.**"), "{}", &markdown[..200]);
    assert!(markdown.contains("Cut to fit a comment"), "no note on what was cut");
    assert!(markdown.contains("| action | resource | what |"), "the table should survive in part");
}

#[test]
fn a_long_changed_comment_shows_as_a_diff() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &users(LONG_COMMENT, true));
    work.apply();
    work.write("main.tf", &users(&LONG_COMMENT.replace("training jobs", "evaluation runs"), true));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("~ comment = (word diff) "), "{plan:?}");
    assert!(plan.stdout.contains("[-training-]") && plan.stdout.contains("{+evaluation+}"), "{plan:?}");
    assert!(!plan.stdout.contains(&format!("\"{LONG_COMMENT}\" ->")), "the whole value should not be repeated: {plan:?}");
}

#[test]
fn secrets_appear_in_no_view_and_the_state_shows_as_terraform_json() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let secret = "tok-9f8e7d6c5b4a";
    let config = format!(
        "variable \"token\" {{\n  type      = string\n  sensitive = true\n}}\n{}",
        users("Platform users", true).replace("    type = \"text\"\n", "    type = \"text\"\n    default = \"'${var.token}'\"\n")
    );
    work.write("main.tf", &config);
    let var = format!("token={secret}");
    let mut printed = String::new();
    for args in [vec!["plan", "-out", "p.json", "-var", &var], vec!["plan", "-format", "markdown", "-var", &var]] {
        printed += &ok(work.strata(&args)).output();
    }
    printed += &show_json(&work, "p.json").to_string();
    printed += &ok(work.strata(&["show", "p.json"])).output();
    printed += &ok(work.strata(&["show", "-format", "markdown", "p.json"])).output();
    printed += &std::fs::read_to_string(work.path().join("p.json")).expect("plan file");
    ok(work.strata(&["apply", "-auto-approve", "-var", &var]));
    let state = ok(work.strata(&["show", "-json"]));
    printed += &state.output();
    printed += &ok(work.strata(&["show"])).output();
    assert!(!printed.contains(secret), "a secret was printed:\n{printed}");

    let state: serde_json::Value = serde_json::from_str(&state.stdout).expect("state JSON");
    let resource = &state["values"]["root_module"]["resources"][0];
    for key in ["address", "mode", "type", "name", "provider_name", "values", "sensitive_values"] {
        assert!(resource.get(key).is_some(), "no {key} in {resource:#}");
    }
    assert_eq!(resource["address"], "postgres_table.users");
    assert_eq!(resource["sensitive_values"]["column"], true, "{resource:#}");
    assert_eq!(resource["values"]["column"], "(sensitive value)", "{resource:#}");
}

#[test]
fn the_seed_plan_json_validates_and_reads_like_terraforms() {
    let moto = Moto::new();
    let work = Workdir::offline();
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-terraform");
    for file in ["main.tf", "variables.tf"] {
        work.write(file, &std::fs::read_to_string(seed.join(file)).expect("seed file"));
    }
    let password = "s3cret-Show-Passw0rd";
    let vars = [format!("vpc_id={}", moto.default_vpc()), format!("db_password={password}"), format!("environment=s{}", unique_suffix())];
    let run = |command: &[&str]| {
        let mut args: Vec<&str> = command.to_vec();
        for var in &vars {
            args.extend(["-var", var.as_str()]);
        }
        ok(work.strata(&args))
    };
    let mut printed = run(&["plan", "-out", "create.json"]).output();
    let plan = show_json(&work, "create.json");
    for address in ["aws_db_instance.ai_postgres", "aws_security_group.db_sg", "aws_db_parameter_group.ai_pg"] {
        let change = change_of(&plan, address);
        assert_terraform_names(change);
        assert_eq!(change["change"]["actions"], serde_json::json!(["create"]), "{change:#}");
        assert_eq!(change["change"]["before"], serde_json::Value::Null);
        assert_eq!(change["provider_name"], "registry.terraform.io/hashicorp/aws");
    }
    let instance = change_of(&plan, "aws_db_instance.ai_postgres");
    assert_eq!(instance["change"]["after"]["password"], serde_json::Value::Null, "{instance:#}");
    assert_eq!(instance["change"]["after_sensitive"]["password"], true, "{instance:#}");
    assert_eq!(instance["change"]["after_unknown"]["address"], true, "{instance:#}");
    assert_eq!(plan["variables"]["db_password"]["value"], "(sensitive value)");

    run(&["apply", "-auto-approve"]);
    let main = work.path().join("main.tf");
    std::fs::write(&main, std::fs::read_to_string(&main).expect("main.tf").replace("\"ai_db\"", "\"ai_db2\"")).expect("edit main.tf");
    printed += &run(&["plan", "-out", "replace.json"]).output();
    let plan = show_json(&work, "replace.json");
    let instance = change_of(&plan, "aws_db_instance.ai_postgres");
    assert_eq!(instance["change"]["actions"], serde_json::json!(["delete", "create"]), "{instance:#}");
    assert_eq!(instance["action_reason"], "replace_because_cannot_update");
    assert_eq!(instance["change"]["replace_paths"], serde_json::json!([["db_name"]]));
    let loss = instance["strata"]["data_loss"][0].as_str().unwrap_or_default();
    assert!(loss.contains("with a new, empty one: its data survives only in the snapshot"), "{instance:#}");
    let markdown = ok(work.strata(&["show", "-format", "markdown", "replace.json"])).stdout;
    assert!(markdown.find(loss).is_some_and(|at| at < markdown.find("| action |").unwrap_or(0)), "{markdown}");
    printed += &markdown;
    printed += &std::fs::read_to_string(work.path().join("replace.json")).expect("plan file");
    assert!(!printed.contains(password), "the password was printed");
    run(&["destroy", "-auto-approve"]);
}

#[test]
fn a_saved_plan_is_refused_once_the_configuration_or_the_state_moved_on() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &users("people", false));
    work.apply();
    work.write("main.tf", &users("people", true));
    ok(work.strata(&["plan", "-out", "reviewed.plan"]));

    let reviewed_config = users("people", true);
    work.write("main.tf", &format!("{reviewed_config}\noutput \"added_after_review\" {{\n  value = \"x\"\n}}\n"));
    let state_before = work.state_text();
    let changed_config = work.strata(&["apply", "reviewed.plan"]);
    assert_eq!(changed_config.code, 1, "{changed_config:?}");
    assert!(changed_config.stderr.contains("the configuration changed since this plan was made"), "{changed_config:?}");
    assert_eq!(work.state_text(), state_before, "nothing was recorded");
    assert!(db.columns("users").iter().all(|c| !c.starts_with("email ")), "nothing was applied: {:?}", db.columns("users"));

    // Another writer moved the state on (same lineage, a later serial) after the plan was made.
    work.write("main.tf", &reviewed_config);
    let mut state = work.state();
    let serial = state["serial"].as_u64().expect("a serial");
    state["serial"] = (serial + 1).into();
    std::fs::write(work.state_path(), state.to_string()).expect("write the state");
    let moved_state = work.strata(&["apply", "reviewed.plan"]);
    assert_eq!(moved_state.code, 1, "{moved_state:?}");
    assert!(moved_state.stderr.contains("the state changed since this plan was made"), "{moved_state:?}");
    assert!(moved_state.stderr.contains(&format!("serial {serial};")) && moved_state.stderr.contains(&format!("serial {}", serial + 1)), "{moved_state:?}");
    assert!(db.columns("users").iter().all(|c| !c.starts_with("email ")), "nothing was applied: {:?}", db.columns("users"));
}
