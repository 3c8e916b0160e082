//! Typos and unknowns fail closed: a misspelt workspace, enum value, backend, flag or drift target
//! is an error naming what is valid, and nothing is created. Also the Terraform habits strata
//! accepts (`-input=false`, `-refresh=false`, `apply -destroy`, `-json`, `version`).

use crate::common;

use common::{TestDb, Workdir};

const TABLE: &str = r#"resource "postgres_table" "users" {
  name = "users"

  column {
    name = "id"
    type = "bigint"
    null = false
  }

  primary_key = ["id"]
}

output "table" {
  value = postgres_table.users.name
}
"#;

fn files_in(work: &Workdir) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(work.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_workspace_that_does_not_exist_is_an_error_listing_the_workspaces() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TABLE);
    assert_eq!(work.strata(&["workspace", "new", "staging"]).code, 0);
    assert_eq!(work.strata(&["workspace", "select", "default"]).code, 0);

    let run = work.strata_env(&["apply", "-auto-approve"], &[("STRATA_WORKSPACE", "stagign")]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("the selected workspace \"stagign\" does not exist (STRATA_WORKSPACE=stagign)"), "{run:?}");
    assert!(run.stderr.contains("default, staging"), "the workspaces are listed: {run:?}");
    assert!(!db.has_table("users"), "nothing may be created");
    assert!(!work.path().join("strata.state.d/stagign").exists(), "no state for the typo");

    std::fs::write(work.path().join(".strata/environment"), "prdo").unwrap();
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("\"prdo\" does not exist (.strata/environment)"), "{run:?}");
}

#[test]
fn an_enumerated_attribute_is_checked_at_validate_with_the_allowed_values() {
    let work = Workdir::offline();
    let config = TABLE.replace("    null = false\n", "    null = false\n    identity = \"by_default\"\n");
    work.write("main.tf", &config);
    let run = work.strata(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("main.tf:8:5"), "{run:?}");
    assert!(run.stderr.contains("\"by_default\" is not a valid value for \"identity\""), "{run:?}");
    assert!(run.stderr.contains("allowed values: always, by default"), "{run:?}");
    assert!(run.stderr.contains("did you mean \"by default\"?"), "{run:?}");

    work.write("main.tf", &TABLE.replace("    null = false\n", "    null = false\n    identity = \"BY  DEFAULT\"\n"));
    assert_eq!(work.strata(&["validate"]).code, 0, "SQL keywords take any case and spacing");

    let fk = "resource \"postgres_table\" \"orders\" {\n  name = \"orders\"\n  column {\n    name = \"user_id\"\n    type = \"bigint\"\n  }\n  foreign_key {\n    columns     = [\"user_id\"]\n    references  = \"users\"\n    ref_columns = [\"id\"]\n    on_delete   = \"cascade; DROP TABLE users\"\n  }\n}\n";
    work.write("main.tf", &format!("{TABLE}\n{fk}"));
    let run = work.strata(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is not a valid value for \"on_delete\"") && run.stderr.contains("no action, restrict, cascade, set null, set default"), "{run:?}");
}

#[test]
fn a_column_type_that_is_not_a_type_name_is_refused_at_validate_and_nothing_runs() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    db.execute("CREATE TABLE keep_me (id int)");
    for (typed, why) in [
        ("bigint; DROP TABLE keep_me", "';' cannot appear in a type name"),
        ("text DEFAULT now", "\"default\" is not part of a type's name"),
        ("numeric(10,", "modifiers are numbers or names separated by commas"),
    ] {
        work.write("main.tf", &TABLE.replace("    type = \"bigint\"\n", &format!("    type = \"{typed}\"\n")));
        for command in [&["validate"][..], &["apply", "-auto-approve"]] {
            let run = work.strata(command);
            assert_eq!(run.code, 1, "{run:?}");
            assert!(run.stderr.contains("main.tf:6:5"), "the error points at the type: {run:?}");
            assert!(run.stderr.contains(&format!("\"{typed}\" is not a PostgreSQL type name (\"type\" in ")), "{run:?}");
            assert!(run.stderr.contains(why), "{run:?}");
        }
    }
    assert!(db.has_table("keep_me") && !db.has_table("users"), "nothing ran");
    work.write("main.tf", &TABLE.replace("    type = \"bigint\"\n", "    type = \"timestamp(3) with time zone\"\n"));
    assert_eq!(work.strata(&["validate"]).code, 0, "a multi-word type with modifiers is a type name");
}

#[test]
fn an_expression_postgresql_cannot_read_fails_the_plan_instead_of_being_compared_as_written() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TABLE);
    work.apply();
    work.write("main.tf", &TABLE.replace("    null = false\n", "    null = false\n    default = \"(1 +\"\n"));
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("postgres_table.users: PostgreSQL cannot read the definition: syntax error"), "{run:?}");
    assert!(run.stderr.contains("main.tf:1:1"), "{run:?}");
    assert!(run.stderr.contains("fix the expression"), "{run:?}");
}

#[test]
fn validate_json_has_terraforms_shape() {
    let work = Workdir::offline();
    let config = TABLE.replace("  name = \"users\"", "  nmae = \"users\"");
    work.write("main.tf", &config);
    let run = work.strata(&["validate", "-json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(report["valid"], false);
    assert_eq!(report["error_count"], 2, "the typo and the name it leaves missing: {report}");
    assert_eq!(report["warning_count"], 0);
    let diagnostic = &report["diagnostics"][0];
    assert_eq!(diagnostic["severity"], "error");
    assert!(diagnostic["summary"].as_str().unwrap().contains("unknown attribute \"nmae\""), "{diagnostic}");
    assert!(diagnostic["detail"].as_str().unwrap().contains("did you mean \"name\""), "{diagnostic}");
    assert_eq!(diagnostic["range"]["start"], serde_json::json!({"line": 2, "column": 3, "byte": config.find("nmae").unwrap()}), "{diagnostic}");
    assert!(diagnostic["range"]["filename"].as_str().unwrap().ends_with("main.tf"));

    work.write("main.tf", TABLE);
    let run = work.strata(&["validate", "-json"]);
    assert_eq!(run.code, 0, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!((report["valid"].clone(), report["error_count"].clone()), (serde_json::json!(true), serde_json::json!(0)));
}

#[test]
fn a_terraform_backend_block_is_an_error_naming_stratas_backends() {
    let work = Workdir::offline();
    work.write("main.tf", &format!("terraform {{\n  backend \"s3\" {{\n    bucket = \"state\"\n  }}\n}}\n\n{TABLE}"));
    let run = work.strata(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("main.tf:2:3"), "{run:?}");
    assert!(run.stderr.contains("strata does not support the terraform backend \"s3\""), "{run:?}");
    assert!(run.stderr.contains("local (the default) and postgres"), "{run:?}");
}

#[test]
fn every_missing_required_variable_is_reported_in_one_run() {
    let work = Workdir::offline();
    let config = TABLE.replace("name = \"users\"", "name = \"${var.prefix}_${var.suffix}\"");
    work.write("main.tf", &format!("variable \"prefix\" {{}}\nvariable \"suffix\" {{}}\n\n{config}"));
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("no value for required variable \"prefix\""), "{run:?}");
    assert!(run.stderr.contains("no value for required variable \"suffix\""), "{run:?}");
}

#[test]
fn a_var_with_a_saved_plan_is_refused() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("variable \"suffix\" {{\n  default = \"a\"\n}}\n\n{}", TABLE.replace("name = \"users\"", "name = \"users_${var.suffix}\"")));
    let plan = work.strata(&["plan", "-out", "saved.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let run = work.strata(&["apply", "-var", "suffix=b", "saved.plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("-var cannot be used with a saved plan"), "{run:?}");
    assert!(!db.has_table("users_a") && !db.has_table("users_b"), "nothing may be created");
}

#[test]
fn drift_ack_refuses_an_address_or_attribute_that_does_not_exist() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TABLE);
    work.apply();
    let ack = |target: &str| work.strata(&["drift", "ack", target, "-until", "2099-01-01", "-reason", "testing"]);

    let run = ack("postgres_table.user");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("did you mean postgres_table.users?"), "{run:?}");
    let run = ack("postgres_table.users.colum.id");
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("has no attribute \"colum\"") && run.stderr.contains("did you mean \"column\""), "{run:?}");
    let run = ack("postgres_table.users.name.first");
    assert_eq!(run.code, 1, "a string has nothing below it: {run:?}");
    assert!(work.state()["drift_acks"].as_array().is_none_or(|acks| acks.is_empty()), "nothing recorded");

    // A column added by hand is not in state, but its path is valid.
    let run = ack("postgres_table.users.column.team.type");
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn apply_ends_with_outputs_destroy_with_destroy_complete_and_no_lock_file_stays() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TABLE);
    let apply = work.apply();
    assert!(apply.stdout.trim_end().ends_with("Outputs:\n\ntable = \"users\""), "{apply:?}");
    assert!(!files_in(&work).iter().any(|f| f.ends_with(".lock")), "the lock file exists only while held: {:?}", files_in(&work));

    let destroy = work.strata(&["apply", "-destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(destroy.stdout.trim_end().ends_with("Destroy complete! Resources: 1 destroyed."), "{destroy:?}");
    assert!(!db.has_table("users"));
}

#[test]
fn a_failed_plan_leaves_no_file_behind() {
    let work = Workdir::offline();
    work.write("main.tf", &format!("provider \"postgres\" {{\n  host = \"127.0.0.1\"\n  port = 1\n}}\n\n{TABLE}"));
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(files_in(&work), ["main.tf"], "{run:?}");
    let run = work.strata(&["plan", "-json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let first: serde_json::Value = serde_json::from_str(run.stdout.lines().next().expect("a line")).expect("JSON lines");
    assert_eq!((first["type"].as_str(), first["@level"].as_str()), (Some("diagnostic"), Some("error")), "{run:?}");
    assert!(first["diagnostic"]["summary"].as_str().unwrap().contains("cannot connect"), "{run:?}");
    assert_eq!(files_in(&work), ["main.tf"]);
}

#[test]
fn plan_json_refresh_false_input_false_and_version() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TABLE);
    let run = work.strata(&["plan", "-json", "-input=false"]);
    assert_eq!(run.code, 0, "{run:?}");
    let lines: Vec<serde_json::Value> = run.stdout.lines().map(|l| serde_json::from_str(l).expect("JSON lines")).collect();
    let change = lines.iter().find(|l| l["type"] == "planned_change").expect("a planned change");
    assert_eq!(change["change"]["resource"]["addr"], "postgres_table.users");
    assert_eq!(change["change"]["action"], "create");
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "change_summary");
    assert_eq!(summary["changes"]["add"], 1);

    let refused = work.strata(&["apply", "-input=false"]);
    assert_eq!(refused.code, 1, "-input=false never asks: {refused:?}");
    work.apply();
    db.execute("DROP TABLE users");
    let unrefreshed = work.strata(&["plan", "-refresh=false", "-detailed-exitcode"]);
    assert_eq!(unrefreshed.code, 0, "-refresh=false plans against the state: {unrefreshed:?}");
    assert_eq!(work.strata(&["plan", "-detailed-exitcode"]).code, 2, "a refreshed plan sees the drop");

    let version = work.strata(&["version", "-json"]);
    assert_eq!(version.code, 0, "{version:?}");
    let version: serde_json::Value = serde_json::from_str(&version.stdout).unwrap();
    assert_eq!(version["strata_version"], env!("CARGO_PKG_VERSION"));
    assert!(work.strata(&["version"]).stdout.starts_with(&format!("strata v{}", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn a_mistyped_flag_is_named_as_typed() {
    let work = Workdir::offline();
    work.write("main.tf", TABLE);
    let run = work.strata(&["plan", "-lock-timout=5s"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("'-lock-timout'") && !run.stderr.contains("--lock-timout"), "{run:?}");
}

#[test]
fn terraform_block_requirements_are_checked_against_what_strata_has() {
    let work = Workdir::offline();
    let with = |terraform: &str| {
        work.write("main.tf", &format!("terraform {{\n{terraform}\n}}\n\nresource \"postgres_schema\" \"ml\" {{\n  name = \"ml\"\n}}\n"));
        work.strata(&["validate"])
    };
    let fine = with("  required_version = \">= 1.5, < 2.0\"\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 6.0\"\n    }\n    postgres = {\n      source = \"registry.terraform.io/strata/postgres\"\n    }\n  }");
    assert_eq!(fine.code, 0, "{fine:?}");
    assert!(!fine.stderr.contains("Warning"), "{fine:?}");

    let old = with("  required_version = \"~> 0.12\"");
    assert_eq!(old.code, 1, "{old:?}");
    assert!(old.stderr.contains("Unsupported Terraform Core version") && old.stderr.contains("requires Terraform ~> 0.12"), "{old:?}");

    let missing = with("  required_providers {\n    random = {\n      source = \"hashicorp/random\"\n    }\n  }");
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("strata has no provider \"random\" (hashicorp/random)"), "{missing:?}");

    let other = with("  required_providers {\n    aws = {\n      source = \"hashicorp/awscc\"\n    }\n  }");
    assert_eq!(other.code, 1, "{other:?}");
    assert!(other.stderr.contains("\"aws\" is hashicorp/awscc, but strata's aws provider is hashicorp/aws"), "{other:?}");

    let older = with("  required_providers {\n    aws = \"~> 5.0\"\n  }");
    assert_eq!(older.code, 0, "a version strata does not implement warns: {older:?}");
    assert!(older.stderr.contains("strata's aws provider implements hashicorp/aws 6.0.0, which version = \"~> 5.0\" does not allow"), "{older:?}");

    let typo = with("  required_provider {\n  }");
    assert_eq!(typo.code, 1, "{typo:?}");
    assert!(typo.stderr.contains("did you mean \"required_providers\""), "{typo:?}");
}
