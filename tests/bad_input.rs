//! Every kind of bad input gets a clear error, with file:line:column where there is one, and
//! changes nothing: not the database, not the state.

use crate::common;

use common::{TestDb, Workdir};

const GOOD: &str = r#"resource "postgres_table" "users" {
  name = "users"

  column {
    name = "id"
    type = "bigint"
    null = false
  }

  primary_key = ["id"]
}
"#;

/// (name, configuration, texts the error must contain)
fn cases() -> Vec<(&'static str, String, Vec<&'static str>)> {
    vec![
        ("malformed HCL", GOOD.replace("name = \"users\"", "name = = \"users\""), vec!["main.tf:2:", "invalid HCL syntax", "name = = \"users\""]),
        ("unknown resource type", GOOD.replace("postgres_table", "postgres_tabel"), vec!["main.tf:1:1", "unknown resource type \"postgres_tabel\"", "did you mean \"postgres_table\""]),
        ("unknown attribute", GOOD.replace("  name = \"users\"", "  nmae = \"users\""), vec!["main.tf:2:3", "unknown attribute \"nmae\"", "did you mean \"name\""]),
        ("wrong value type", GOOD.replace("null = false", "null = [\"no\"]"), vec!["main.tf:7:5", "wrong type for \"null\"", "bool"]),
        ("undeclared reference", GOOD.replace("name = \"users\"", "name = var.table_name"), vec!["main.tf:2:3", "undeclared input variable \"table_name\""]),
        ("duplicate address", format!("{GOOD}\n{GOOD}"), vec!["main.tf:13:1", "duplicate resource postgres_table.users"]),
        (
            "cycle",
            format!(
                "{}\nresource \"postgres_table\" \"b\" {{\n  name = \"b_${{postgres_table.users.name}}\"\n  column {{\n    name = \"id\"\n    type = \"int\"\n  }}\n}}\n",
                GOOD.replace("name = \"users\"", "name = \"users_${postgres_table.b.name}\"")
            ),
            vec!["dependency cycle", "postgres_table.b (main.tf:13:1)", "postgres_table.users (main.tf:1:1)"],
        ),
        (
            "unreachable database",
            format!("provider \"postgres\" {{\n  host = \"127.0.0.1\"\n  port = 1\n}}\n\n{GOOD}"),
            vec!["cannot connect to PostgreSQL at 127.0.0.1:1", "main.tf:1:1", "accepts TCP connections on 127.0.0.1:1"],
        ),
        ("missing required variable", format!("variable \"region\" {{}}\n\n{}", GOOD.replace("name = \"users\"", "name = \"users_${var.region}\"")), vec!["no value for required variable \"region\"", "-var region="]),
    ]
}

#[test]
fn each_bad_input_names_the_problem_and_changes_nothing() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", GOOD);
    work.apply();
    let state_before = work.state_text();
    let catalog_before = db.catalog();

    for (name, config, expected) in cases() {
        work.write("main.tf", &config);
        for args in [&["plan"][..], &["apply", "-auto-approve"][..]] {
            let run = work.strata(args);
            assert_eq!(run.code, 1, "{name}: {args:?} must fail: {run:?}");
            for text in &expected {
                assert!(run.stderr.contains(text), "{name}: {args:?} must say {text:?}: {run:?}");
            }
            assert!(!run.stderr.contains("panicked"), "{name}: {run:?}");
            assert_eq!(work.state_text(), state_before, "{name}: the state must not change");
            assert_eq!(db.catalog(), catalog_before, "{name}: the database must not change");
        }
    }
}

#[test]
fn validate_accepts_good_config_without_touching_a_database() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("provider \"postgres\" {{\n  port = 1\n}}\n\n{GOOD}"));
    let run = work.strata(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("The configuration is valid."));
}

#[test]
fn secrets_given_as_sensitive_variables_never_reach_the_output() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let config = format!(
        "variable \"pg_password\" {{\n  type      = string\n  sensitive = true\n}}\n\nprovider \"postgres\" {{\n  password = var.pg_password\n}}\n\n{}",
        GOOD.replace("type = \"bigint\"", "type = \"bigint\"\n  }\n  column {\n    name    = \"token\"\n    type    = \"text\"\n    default = \"'${var.pg_password}'\"")
    );
    work.write("main.tf", &config);
    let secret = "hunter2-very-secret";
    let env = [("STRATA_VAR_pg_password", secret)];
    for args in [&["plan"][..], &["plan", "-out", "p.json"][..], &["apply", "-auto-approve"][..], &["state", "show", "postgres_table.users"][..]] {
        let run = work.strata_env(args, &env);
        assert!(!run.output().contains(secret), "{args:?} printed the secret: {run:?}");
    }
    let plan_file = std::fs::read_to_string(work.path().join("p.json")).unwrap();
    assert!(!plan_file.contains(secret), "the plan file holds the secret");
}
