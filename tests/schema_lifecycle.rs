//! The spine end to end against a real PostgreSQL: apply, converge, change, destroy, and a
//! failure part-way through an apply.

use crate::common;

use common::{Run, TestDb, Workdir};

const BASE: &str = r#"
variable "environment" {
  type    = string
  default = "test"
}

locals {
  owner = "ml-${var.environment}"
}

resource "postgres_enum" "model_status" {
  name   = "model_status"
  values = ["draft", "training", "production"]
}

resource "postgres_table" "users" {
  name    = "users"
  comment = "Platform users (${local.owner})"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "email"
    type = "varchar(255)"
    null = false
  }
  column {
    name    = "created_at"
    type    = "timestamptz"
    null    = false
    default = "now()"
  }
  column {
    name    = "active"
    type    = "bool"
    default = "true"
  }

  primary_key = ["id"]

  unique {
    columns = ["email"]
  }

  check {
    name       = "users_email_not_blank"
    expression = "email <> ''"
  }
}

resource "postgres_table" "models" {
  name = "models"

  column {
    name     = "id"
    type     = "int8"
    null     = false
    identity = "by default"
  }
  column {
    name = "owner_id"
    type = "bigint"
    null = false
  }
  column {
    name    = "status"
    type    = "${postgres_enum.model_status.schema}.${postgres_enum.model_status.name}"
    null    = false
    default = "'draft'"
  }
  column {
    name = "score"
    type = "numeric(5,2)"
  }
  column {
    name    = "metadata"
    type    = "jsonb"
    default = "'{}'::jsonb"
  }

  primary_key = ["id"]

  foreign_key {
    columns     = ["owner_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
    on_delete   = "cascade"
  }

  check {
    name       = "models_score_range"
    expression = "score >= 0 AND score <= 100"
  }

  index {
    name    = "idx_models_status"
    columns = ["status"]
  }
}
"#;

#[test]
fn apply_creates_everything_and_a_second_plan_shows_no_changes() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", BASE);

    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("CREATE TABLE"), "the plan shows the SQL: {plan:?}");
    assert!(db.catalog().iter().all(|l| !l.starts_with("table public.")), "plan must not touch the database");

    work.apply();
    assert!(db.has_table("users") && db.has_table("models"));
    assert!(db.catalog().iter().any(|l| l.starts_with("index idx_models_status")));
    assert_eq!(work.state_addresses(), ["postgres_enum.model_status", "postgres_table.models", "postgres_table.users"]);
    work.assert_converged();

    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(work.state_path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the state file is private to its owner");

    // Objects added by hand next to managed ones are not strata's to drop.
    db.execute("CREATE INDEX by_hand ON models (score); ALTER TABLE users ADD CONSTRAINT by_hand_check CHECK (id > 0)");
    work.assert_converged();
}

#[test]
fn column_changes_and_new_indexes_are_planned_as_sql_and_applied() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", BASE);
    work.apply();

    // Change a column's type.
    work.write("main.tf", &BASE.replace("type = \"numeric(5,2)\"", "type = \"numeric(7,3)\""));
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("postgres_table.models will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("ALTER TABLE") && plan.stdout.contains("TYPE numeric(7,3)"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    let serial_before = work.state()["serial"].as_u64().unwrap();
    work.apply();
    assert!(db.columns("models").iter().any(|c| c == "score numeric(7,3) false"), "{:?}", db.columns("models"));
    work.assert_converged();
    let backup: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(work.path().join("strata.state.json.backup")).unwrap()).unwrap();
    common::assert_valid_state(&backup);
    assert_eq!(backup["serial"].as_u64(), Some(serial_before), "the previous state is kept as .backup");
    assert!(work.state()["serial"].as_u64().unwrap() > serial_before);

    // Add a column.
    let with_column = BASE.replace("  primary_key = [\"id\"]\n\n  foreign_key", "  column {\n    name = \"trained_at\"\n    type = \"timestamptz\"\n  }\n\n  primary_key = [\"id\"]\n\n  foreign_key");
    work.write("main.tf", &with_column);
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("ADD COLUMN") && plan.stdout.contains("trained_at"), "{plan:?}");
    // Built on BASE, it also narrows score back to numeric(5,2): data loss, consented to.
    let apply = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(db.columns("models").iter().any(|c| c.starts_with("trained_at timestamp with time zone")));
    work.assert_converged();

    // Add a standalone index.
    let with_index = format!(
        "{with_column}\nresource \"postgres_index\" \"users_created\" {{\n  table   = postgres_table.users.id\n  name    = \"idx_users_created_at\"\n  columns = [\"created_at\"]\n}}\n"
    );
    work.write("main.tf", &with_index);
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("CREATE INDEX") && plan.stdout.contains("idx_users_created_at"), "{plan:?}");
    work.apply();
    assert!(db.catalog().iter().any(|l| l.starts_with("index idx_users_created_at")));
    work.assert_converged();
}

#[test]
fn destroy_leaves_the_database_as_it_was() {
    let db = TestDb::new();
    db.execute("CREATE TABLE unmanaged (id int PRIMARY KEY)");
    let before = db.catalog();
    let work = Workdir::new(&db);
    work.write("main.tf", BASE);
    work.apply();

    let run = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(db.catalog(), before, "destroy must remove exactly what strata created");
    assert!(work.state_addresses().is_empty());
}

#[test]
fn a_failing_statement_mid_apply_leaves_state_holding_exactly_what_was_done() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let broken = BASE.replace("expression = \"score >= 0 AND score <= 100\"", "expression = \"no_such_column > 0\"");
    work.write("main.tf", &broken);

    let run = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("postgres_table.models"), "the failed resource is named: {run:?}");
    assert!(run.stderr.contains("no_such_column"), "the database's error is shown: {run:?}");
    assert!(db.has_table("users"));
    assert!(!db.has_table("models"), "the failed table's transaction rolled back");
    assert_eq!(work.state_addresses(), ["postgres_enum.model_status", "postgres_table.users"]);

    work.write("main.tf", BASE);
    work.apply();
    work.assert_converged();
}

#[test]
fn a_saved_plan_applies_and_refuses_once_the_state_moved_on() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", BASE);
    let plan = work.strata(&["plan", "-out", "first.plan.json"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let stale = work.strata(&["plan", "-out", "second.plan.json"]);
    assert_eq!(stale.code, 0, "{stale:?}");

    let run = work.strata(&["apply", "first.plan.json"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(db.has_table("models"));

    let refused = work.strata(&["apply", "second.plan.json"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("the state changed since this plan was made"), "{refused:?}");
}

#[test]
fn a_second_apply_fails_fast_naming_the_lock_holder() {
    use fs2::FileExt;
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", BASE);
    let lock_path = work.path().join("strata.state.json.lock");
    let lock = std::fs::File::create(&lock_path).unwrap();
    lock.lock_exclusive().unwrap();
    std::fs::write(&lock_path, r#"{"id":"abc","operation":"apply","who":"ci@runner-7","pid":4242,"created":"2026-11-24T08:00:00Z"}"#).unwrap();

    let run = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is locked") && run.stderr.contains("ci@runner-7"), "{run:?}");
    assert!(!db.has_table("users"));
    drop(lock);
}

#[test]
fn every_kind_of_table_change_applies_and_then_converges() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", BASE);
    work.apply();
    // Each step edits the previous configuration; after each apply the next plan must be empty.
    type Edit = Box<dyn Fn(&str) -> String>;
    let steps: Vec<(&str, Edit, &str)> = vec![
        ("change a default", Box::new(|c| c.replace("default = \"'draft'\"", "default = \"'training'\"")), "SET DEFAULT 'training'"),
        ("drop a default", Box::new(|c| c.replace("    default = \"'{}'::jsonb\"\n", "")), "DROP DEFAULT"),
        ("allow nulls", Box::new(|c| c.replace("    name = \"owner_id\"\n    type = \"bigint\"\n    null = false", "    name = \"owner_id\"\n    type = \"bigint\"")), "DROP NOT NULL"),
        ("change a check", Box::new(|c| c.replace("score >= 0 AND score <= 100", "score BETWEEN 0 AND 10")), "ADD CONSTRAINT \"models_score_range\" CHECK"),
        ("add a unique constraint", Box::new(|c| c.replace("  check {\n    name       = \"models_score_range\"", "  unique {\n    columns = [\"owner_id\", \"status\"]\n  }\n\n  check {\n    name       = \"models_score_range\"")), "ADD CONSTRAINT \"models_owner_id_status_key\" UNIQUE"),
        ("change an on_delete action", Box::new(|c| c.replace("on_delete   = \"cascade\"", "on_delete   = \"set null\"")), "ON DELETE SET NULL"),
        ("make an index partial and descending", Box::new(|c| c.replace("columns = [\"status\"]\n  }", "columns = [\"status DESC\"]\n    where   = \"status <> 'draft'\"\n  }")), "WHERE status <> 'draft'"),
        ("add an enum value", Box::new(|c| c.replace("values = [\"draft\", \"training\", \"production\"]", "values = [\"draft\", \"training\", \"staging\", \"production\"]")), "ADD VALUE 'staging' AFTER 'training'"),
        ("drop a column", Box::new(|c| c.replace("  column {\n    name = \"score\"\n    type = \"numeric(5,2)\"\n  }\n", "").replace("  check {\n    name       = \"models_score_range\"\n    expression = \"score BETWEEN 0 AND 10\"\n  }\n", "")), "DROP COLUMN \"score\""),
        ("comment a column", Box::new(|c| c.replace("    name = \"email\"\n", "    name    = \"email\"\n    comment = \"where we write\"\n")), "COMMENT ON COLUMN"),
    ];
    let mut config = BASE.to_owned();
    for (what, edit, expected_sql) in steps {
        let next = edit(&config);
        assert_ne!(next, config, "{what}: the edit did not apply to the configuration");
        config = next;
        work.write("main.tf", &config);
        let plan = work.strata(&["plan", "-detailed-exitcode"]);
        assert_eq!(plan.code, 2, "{what}: {plan:?}");
        assert!(plan.stdout.contains(expected_sql), "{what}: expected {expected_sql:?} in {plan:?}");
        // Some steps drop data (a column); this test is about convergence, not the guard.
        let apply = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
        assert_eq!(apply.code, 0, "{what}: {apply:?}");
        let again = work.strata(&["plan", "-detailed-exitcode"]);
        assert_eq!(again.code, 0, "{what}: not converged: {again:?}");
    }
}

/// `count` tables, each with an index and a foreign key to the one before it.
fn chained_tables(count: usize) -> String {
    (0..count)
        .map(|n| {
            let fk = if n == 0 { String::new() } else { format!("  foreign_key {{\n    columns     = [\"parent\"]\n    references  = postgres_table.t{}.id\n    ref_columns = [\"id\"]\n  }}\n", n - 1) };
            format!("resource \"postgres_table\" \"t{n}\" {{\n  name = \"t{n}\"\n  column {{\n    name = \"id\"\n    type = \"bigint\"\n    null = false\n  }}\n  column {{\n    name = \"parent\"\n    type = \"bigint\"\n  }}\n  primary_key = [\"id\"]\n{fk}  index {{\n    name    = \"t{n}_parent\"\n    columns = [\"parent\"]\n  }}\n}}\n\n")
        })
        .collect()
}

/// The `pg_catalog queries` figure `-verbose` prints for a run.
fn catalog_queries(run: &Run) -> u64 {
    let line = run.stderr.lines().find(|l| l.starts_with("postgres: ")).unwrap_or_else(|| panic!("no postgres call line: {run:?}"));
    let figure = line.split("pg_catalog queries ").nth(1).and_then(|rest| rest.trim_end_matches(')').parse().ok());
    figure.unwrap_or_else(|| panic!("no query figure in {line:?}"))
}

#[test]
fn refresh_and_a_no_op_plan_read_the_catalog_in_the_same_number_of_queries_for_10_or_1000_tables() {
    let snapshot = strata_provider_postgres::SNAPSHOT_QUERIES as u64;
    for count in [10, 1000] {
        let db = TestDb::new();
        let work = Workdir::new(&db);
        work.write("main.tf", &chained_tables(count));
        work.apply();
        let refreshed = work.strata(&["plan", "-refresh-only", "-verbose"]);
        assert_eq!(refreshed.code, 0, "{refreshed:?}");
        assert_eq!(catalog_queries(&refreshed), snapshot, "refresh of {count} tables must not run a query per table");
        // Nothing changed since the apply: the plan compares nothing beyond refresh.
        let plan = work.strata(&["plan", "-detailed-exitcode", "-verbose"]);
        assert_eq!(plan.code, 0, "{plan:?}");
        assert_eq!(catalog_queries(&plan), snapshot, "a no-op plan of {count} tables must not run a query per table");

        // A configuration that changes is compared (shadow queries), and a hand-made change is still found.
        work.write("main.tf", &chained_tables(count).replace("name    = \"t0_parent\"", "name    = \"t0_parent_renamed\""));
        let changed = work.strata(&["plan", "-detailed-exitcode", "-verbose"]);
        assert_eq!(changed.code, 2, "{changed:?}");
        assert!(catalog_queries(&changed) > snapshot, "{changed:?}");
        work.write("main.tf", &chained_tables(count));
        db.execute("ALTER TABLE t1 ALTER COLUMN parent SET DEFAULT 7");
        let drifted = work.strata(&["plan", "-detailed-exitcode"]);
        assert_eq!(drifted.code, 2, "a live change is planned however the configuration digests: {drifted:?}");
        assert!(drifted.stdout.contains("postgres_table.t1 will be updated in place"), "{drifted:?}");
    }
}

#[test]
fn a_configuration_rewritten_to_the_same_meaning_is_compared_once_then_skipped() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &chained_tables(3));
    work.apply();
    // int8 is bigint: no change, but the configuration no longer digests as applied.
    work.write("main.tf", &chained_tables(3).replace("\"bigint\"", "\"int8\""));
    let compared = work.strata(&["plan", "-detailed-exitcode", "-verbose"]);
    assert_eq!(compared.code, 0, "{compared:?}");
    assert!(catalog_queries(&compared) > strata_provider_postgres::SNAPSHOT_QUERIES as u64, "{compared:?}");
    // An apply with nothing to change records the new digests in one write; then the plan skips them.
    let serial = work.state()["serial"].as_u64();
    assert_eq!(work.strata(&["apply", "-auto-approve"]).code, 0);
    assert_eq!(work.state()["serial"].as_u64(), serial.map(|s| s + 1), "one state write");
    let skipped = work.strata(&["plan", "-detailed-exitcode", "-verbose"]);
    assert_eq!(skipped.code, 0, "{skipped:?}");
    assert_eq!(catalog_queries(&skipped), strata_provider_postgres::SNAPSHOT_QUERIES as u64, "{skipped:?}");
}
