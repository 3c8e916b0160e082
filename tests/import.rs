//! `strata import ADDR ID`: objects made by hand (SQL in PostgreSQL, the AWS SDK in moto) are
//! adopted into state, after which a plan for a configuration that matches them has no changes;
//! and the refusals, each saying that nothing was imported.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{TestDb, Workdir};

const USERS: &str = r#"
resource "postgres_table" "users" {
  name = "users"
  column {
    name = "id"
    type = "bigint"
    null = false
  }
  column {
    name = "email"
    type = "text"
    null = false
  }
  primary_key = ["id"]
  unique {
    name    = "users_email_key"
    columns = ["email"]
  }
  index {
    name    = "users_lower_email_idx"
    columns = ["lower(email)"]
  }
}
"#;

#[test]
fn import_table_made_with_sql_then_plan_shows_no_changes() {
    let db = TestDb::new();
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE); CREATE INDEX users_lower_email_idx ON users (lower(email));");
    let work = Workdir::new(&db);
    work.write("main.tf", USERS);
    let run = work.strata(&["import", "postgres_table.users", "users"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Import successful!"), "{run:?}");
    let state = work.state();
    let users = &state["resources"][0];
    assert_eq!(users["address"], "postgres_table.users");
    let indexes: Vec<&str> = users["instances"][0]["attributes"]["index"].as_array().unwrap().iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(indexes, ["users_lower_email_idx"], "the live index is named in state, so it is managed");
    work.assert_converged();
}

#[test]
fn import_index_and_enum_made_with_sql_then_plan_shows_no_changes() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let table = "resource \"postgres_table\" \"events\" {\n  name = \"events\"\n  column {\n    name = \"kind\"\n    type = \"text\"\n  }\n}\n";
    work.write("main.tf", table);
    work.apply();
    db.execute("CREATE INDEX events_kind_idx ON events (kind); CREATE TYPE mood AS ENUM ('ok', 'meh');");
    let adopted = "resource \"postgres_index\" \"events_kind\" {\n  name    = \"events_kind_idx\"\n  table   = postgres_table.events.name\n  columns = [\"kind\"]\n}\n\n\
                   resource \"postgres_enum\" \"mood\" {\n  name   = \"mood\"\n  values = [\"ok\", \"meh\"]\n}\n";
    work.write("main.tf", &format!("{table}\n{adopted}"));
    for (address, id) in [("postgres_index.events_kind", "public.events_kind_idx"), ("postgres_enum.mood", "mood")] {
        let run = work.strata(&["import", address, id]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    work.assert_converged();
}

#[test]
fn import_refusals_say_nothing_was_imported() {
    let db = TestDb::new();
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL UNIQUE); CREATE INDEX users_lower_email_idx ON users (lower(email));");
    let work = Workdir::new(&db);
    work.write("main.tf", USERS);

    let unknown = work.strata(&["import", "postgres_table.users", "public.nobody"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("no postgres_table with the id \"public.nobody\" exists; nothing was imported"), "{unknown:?}");
    assert!(work.state_text().is_none(), "no state is written");

    let not_configured = work.strata(&["import", "postgres_table.accounts", "users"]);
    assert_eq!(not_configured.code, 1, "{not_configured:?}");
    assert!(not_configured.stderr.contains("postgres_table.accounts is not in the configuration; nothing was imported"), "{not_configured:?}");
    assert!(not_configured.stderr.contains("resource \"postgres_table\" \"accounts\" {"), "the block to add is shown: {not_configured:?}");

    assert_eq!(work.strata(&["import", "postgres_table.users", "users"]).code, 0);
    let again = work.strata(&["import", "postgres_table.users", "users"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("postgres_table.users is already in the state"), "{again:?}");
    assert!(again.stderr.contains("strata state rm postgres_table.users"), "{again:?}");
}

const PASSWORD: &str = "Imp0rted-by-hand-pw";

#[test]
fn import_rds_instance_security_group_and_parameter_group_then_plan_shows_no_changes() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let vpc = moto.default_vpc();
    let (sg_name, pg_name, db_id) = (format!("imp-sg-{suffix}"), format!("imp-pg-{suffix}"), format!("imp-db-{suffix}"));
    let sg_id = moto.create_security_group(&sg_name, &vpc, 5432, "10.0.0.0/16");
    moto.create_parameter_group(&pg_name, "postgres14", &[("work_mem", "64MB")]);
    moto.create_instance(&db_id, PASSWORD, &sg_id, &pg_name);

    let work = Workdir::offline();
    work.write(
        "main.tf",
        &format!(
            r#"
variable "db_password" {{
  type      = string
  sensitive = true
}}

provider "aws" {{
  region = "us-east-1"
}}

resource "aws_security_group" "db" {{
  name        = "{sg_name}"
  description = "made by hand"
  vpc_id      = "{vpc}"
  ingress {{
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }}
}}

resource "aws_db_parameter_group" "db" {{
  name        = "{pg_name}"
  family      = "postgres14"
  description = "made by hand"
  parameter {{
    name         = "work_mem"
    value        = "64MB"
    apply_method = "pending-reboot"
  }}
}}

resource "aws_db_instance" "db" {{
  identifier             = "{db_id}"
  engine                 = "postgres"
  engine_version         = "14.7"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  username               = "app"
  password               = var.db_password
  skip_final_snapshot    = true
  vpc_security_group_ids = [aws_security_group.db.id]
  parameter_group_name   = aws_db_parameter_group.db.name
}}
"#
        ),
    );
    let var = format!("db_password={PASSWORD}");
    let mut printed = String::new();
    for (address, id) in [("aws_security_group.db", sg_id.as_str()), ("aws_db_parameter_group.db", pg_name.as_str()), ("aws_db_instance.db", db_id.as_str())] {
        let run = work.strata(&["import", "-var", &var, address, id]);
        printed.push_str(&run.output());
        assert_eq!(run.code, 0, "{run:?}");
    }
    let plan = work.strata(&["plan", "-detailed-exitcode", "-var", &var]);
    printed.push_str(&plan.output());
    assert_eq!(plan.code, 0, "an imported instance without a recorded password plans no change: {plan:?}");
    assert!(plan.stdout.contains("No changes."), "{plan:?}");
    assert!(!printed.contains(PASSWORD), "the password was printed");
    assert!(!work.state_text().unwrap().contains(PASSWORD), "the password reached the state");

    // The next apply that touches the instance records the password's fingerprint, not the password.
    let main = std::fs::read_to_string(work.path().join("main.tf")).unwrap();
    work.write("main.tf", &main.replace("  skip_final_snapshot    = true\n", "  skip_final_snapshot    = true\n  tags = {\n    Team = \"data\"\n  }\n"));
    let apply = work.strata(&["apply", "-auto-approve", "-var", &var]);
    printed.push_str(&apply.output());
    assert_eq!(apply.code, 0, "{apply:?}");
    let state = work.state();
    let instance = common::instance(&state, "aws_db_instance.db").expect("the instance");
    assert!(instance["attributes"]["password"].as_str().is_some_and(|p| p.starts_with("sealed:argon2id:")), "{instance:#}");
    assert_eq!(work.strata(&["plan", "-detailed-exitcode", "-var", &var]).code, 0);
    assert!(!printed.contains(PASSWORD), "the password was printed");

    let missing = work.strata(&["state", "rm", "aws_db_instance.db"]);
    assert_eq!(missing.code, 0, "{missing:?}");
    let unknown = work.strata(&["import", "-var", &var, "aws_db_instance.db", &format!("imp-nobody-{suffix}")]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("nothing was imported"), "{unknown:?}");
}

#[test]
fn an_imported_table_does_not_own_an_index_imported_as_postgres_index() {
    let db = TestDb::new();
    db.execute("CREATE TABLE events (id bigint PRIMARY KEY, kind text); CREATE INDEX events_kind_idx ON events (kind);");
    let work = Workdir::new(&db);
    let config = "resource \"postgres_table\" \"events\" {\n  name = \"events\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n    null = false\n  }\n  column {\n    name = \"kind\"\n    type = \"text\"\n  }\n  primary_key = [\"id\"]\n}\n\n\
                  resource \"postgres_index\" \"events_kind\" {\n  name    = \"events_kind_idx\"\n  table   = postgres_table.events.name\n  columns = [\"kind\"]\n}\n";
    work.write("main.tf", config);
    for (address, id) in [("postgres_table.events", "events"), ("postgres_index.events_kind", "public.events_kind_idx")] {
        let run = work.strata(&["import", address, id]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let plan = work.strata(&["plan"]);
    assert!(!plan.stdout.contains("DROP INDEX"), "the table dropped an index postgres_index owns: {plan:?}");
    work.assert_converged();
    work.apply();
    assert!(db.catalog().iter().any(|line| line.starts_with("index events_kind_idx ")), "the index is gone");
    work.assert_converged();
}

/// Feature tables made by hand, one per feature group, as a team adopting strata has them.
const FEATURE_TABLES: &str = r#"
variable "groups" {
  type    = set(string)
  default = ["user_features", "item_features"]
}

resource "postgres_table" "features" {
  for_each = var.groups
  name     = each.key
  comment  = "managed by strata"
  column {
    name = "entity_id"
    type = "bigint"
  }
}

import {
  for_each = var.groups
  to       = postgres_table.features[each.key]
  id       = "public.${each.key}"
}
"#;

#[test]
fn import_blocks_bring_objects_in_through_the_plan_then_change_them() {
    let db = TestDb::new();
    db.execute("CREATE TABLE user_features (entity_id bigint); CREATE TABLE item_features (entity_id bigint); INSERT INTO user_features VALUES (1);");
    let work = Workdir::new(&db);
    work.write("main.tf", FEATURE_TABLES);
    let plan = work.strata(&["plan", "-out", "tf.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("# postgres_table.features[\"user_features\"] will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("# (imported from \"public.user_features\")"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 2 to import, 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    let shown = work.strata(&["show", "-json", "tf.plan"]);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    common::assert_matches_schema("plan.schema.json", &json);
    let change = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "postgres_table.features[\"item_features\"]").unwrap().clone();
    assert_eq!(change["change"]["importing"], serde_json::json!({"id": "public.item_features"}));

    let apply = work.strata(&["apply", "tf.plan"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(db.client().query_one("SELECT count(*) FROM user_features", &[]).unwrap().get::<_, i64>(0), 1, "the rows stay");
    let comment: Option<String> = db.client().query_one("SELECT obj_description('public.item_features'::regclass)", &[]).unwrap().get(0);
    assert_eq!(comment.as_deref(), Some("managed by strata"));
    assert_eq!(work.state_addresses(), ["postgres_table.features[\"item_features\"]", "postgres_table.features[\"user_features\"]"]);
    // In state now: the import blocks are no-ops, as in Terraform.
    work.assert_converged();
}

#[test]
fn import_blocks_that_cannot_be_carried_out_are_errors_before_anything_changes() {
    let db = TestDb::new();
    db.execute("CREATE TABLE user_features (entity_id bigint)");
    let work = Workdir::new(&db);
    // item_features does not exist.
    work.write("main.tf", FEATURE_TABLES);
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("Cannot import non-existent remote object") && plan.stderr.contains("\"public.item_features\""), "{plan:?}");

    // A target the configuration does not declare.
    work.write("main.tf", &FEATURE_TABLES.replace("to       = postgres_table.features[each.key]", "to       = postgres_table.feature[each.key]"));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("Configuration for import target does not exist"), "{plan:?}");

    // A configuration that would replace what it imports: an enum that loses a value.
    db.execute("CREATE TYPE run_status AS ENUM ('queued', 'running', 'failed')");
    work.write("main.tf", "resource \"postgres_enum\" \"run_status\" {\n  name   = \"run_status\"\n  values = [\"queued\", \"running\"]\n}\n\nimport {\n  to = postgres_enum.run_status\n  id = \"public.run_status\"\n}\n");
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("importing postgres_enum.run_status would replace the object it imports"), "{plan:?}");
    assert!(work.state_text().is_none(), "nothing was written");
}
