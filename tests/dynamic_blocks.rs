//! Terraform blocks beyond resources, end to end: `dynamic` blocks (a PostgreSQL table whose
//! columns come from a map variable, as public modules write them, and an `aws_security_group`
//! with `dynamic "ingress"` against moto: validate, plan, apply, a no-change replan), their schema
//! errors, the refusal of provisioners, `ephemeral` variables (a provider password that reaches
//! no file), and `removed` blocks (a table forgotten: it stays, the state no longer has it, a
//! later plan shows nothing; or destroyed).

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{Run, Session, TestDb, Workdir};

/// A table in the style of public modules: fixed key columns, then one column per entry of a map.
const COLUMNS: &str = r#"
variable "columns" {
  type = map(object({
    type    = string
    nullable = optional(bool, true)
    comment  = optional(string)
  }))
  default = {
    email      = { type = "text", nullable = false, comment = "login" }
    created_at = { type = "timestamptz" }
  }
}

resource "postgres_table" "users" {
  name = "users"
  column {
    name = "id"
    type = "bigint"
    null = false
  }
  dynamic "column" {
    for_each = var.columns
    iterator = col
    content {
      name    = col.key
      type    = col.value.type
      null    = col.value.nullable
      comment = col.value.comment
    }
  }
  primary_key = ["id"]
}
"#;

#[test]
fn a_dynamic_block_over_a_map_makes_a_tables_columns_and_converges() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", COLUMNS);
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("created_at") && plan.stdout.contains("email"), "{plan:?}");
    work.apply();
    // NOT NULL from the map's values (the catalog lists columns by name).
    assert_eq!(db.columns("users"), ["created_at timestamp with time zone false", "email text true", "id bigint true"]);
    work.assert_converged();

    // One more entry: one more column, in place.
    work.write("main.tf", &COLUMNS.replace("created_at = { type = \"timestamptz\" }", "created_at = { type = \"timestamptz\" }\n    plan       = { type = \"text\", comment = \"tier\" }"));
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("postgres_table.users will be updated in place") && plan.stdout.contains("ADD COLUMN"), "{plan:?}");
    work.apply();
    assert_eq!(db.columns("users"), ["created_at timestamp with time zone false", "email text true", "id bigint true", "plan text false"]);
    work.assert_converged();
}

#[test]
fn a_dynamic_blocks_content_is_checked_as_a_literal_block_is() {
    let work = Workdir::offline();
    work.write("main.tf", &COLUMNS.replace("      type    = col.value.type", "      typ     = col.value.type"));
    let validate = work.strata(&["validate"]);
    assert_ne!(validate.code, 0, "{validate:?}");
    let out = validate.output();
    assert!(out.contains("unknown attribute \"typ\" in postgres_table.users column block") && out.contains("did you mean \"type\"?"), "{out}");
    assert!(out.contains("main.tf:26:7"), "{out}");

    work.write("main.tf", &COLUMNS.replace("dynamic \"column\"", "dynamic \"colum\""));
    let out = work.strata(&["validate"]).output();
    assert!(out.contains("unknown block \"colum\" in postgres_table.users") && out.contains("did you mean \"column\"?") && out.contains("main.tf:21:3"), "{out}");

    work.write("main.tf", &COLUMNS.replace("    iterator = col\n", "    iterator = col\n    each_one = true\n"));
    let out = work.strata(&["validate"]).output();
    assert!(out.contains("unknown attribute \"each_one\" in the dynamic \"column\" block of postgres_table.users"), "{out}");

    work.write("main.tf", &COLUMNS.replace("    for_each = var.columns\n", ""));
    let out = work.strata(&["validate"]).output();
    assert!(out.contains("Missing required argument") && out.contains("\"for_each\" is required"), "{out}");
}

#[test]
fn provisioners_are_refused_saying_why() {
    let work = Workdir::offline();
    work.write("main.tf", "resource \"postgres_table\" \"t\" {\n  name = \"t\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n  provisioner \"local-exec\" {\n    command = \"psql -f seed.sql\"\n  }\n}\n");
    let validate = work.strata(&["validate"]);
    assert_ne!(validate.code, 0, "{validate:?}");
    let out = validate.output();
    assert!(out.contains("provisioner \"local-exec\" blocks are not supported") && out.contains("main.tf:7:3"), "{out}");
    assert!(out.contains("declaratively") && out.contains("run the script outside strata"), "{out}");
}

const EPHEMERAL: &str = r#"
variable "pg_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

locals {
  password = var.pg_password
}

provider "postgres" {
  password = local.password
}

resource "postgres_table" "t" {
  name = "eph"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;

/// Every file under `dir` that holds `needle`.
fn files_holding(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in walk(dir) {
        if std::fs::read(&entry).is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle)) {
            found.push(entry.display().to_string());
        }
    }
    found
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_ephemeral_provider_password_works_and_reaches_no_file() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", EPHEMERAL);
    let password = format!("eph-{}-secret", unique_suffix());
    let env = [("TF_VAR_pg_password", password.as_str())];
    let validate = work.strata_env(&["validate"], &env);
    assert_eq!(validate.code, 0, "{validate:?}");
    let plan = work.strata_env(&["plan", "-out", "tf.plan"], &env);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(!plan.output().contains(&password), "{plan:?}");
    let shown = work.strata(&["show", "-json", "tf.plan"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(!shown.stdout.contains(&password) && !shown.stdout.contains("pg_password"), "{shown:?}");
    // A saved plan holds nothing of it: apply needs it again.
    let without = work.strata(&["apply", "tf.plan"]);
    assert_ne!(without.code, 0, "{without:?}");
    assert!(without.output().contains("the plan needs the ephemeral variable \"pg_password\""), "{without:?}");
    let apply = work.strata_env(&["apply", "tf.plan"], &env);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(db.has_table("eph"));
    let converged = work.strata_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(converged.code, 0, "{converged:?}");
    assert_eq!(files_holding(work.path(), &password), Vec::<String>::new(), "the password is on disk");

    // A resource argument or an output may not use it.
    work.write("main.tf", &EPHEMERAL.replace("  name = \"eph\"\n", "  name    = \"eph\"\n  comment = local.password\n"));
    let out = work.strata_env(&["validate"], &env).output();
    assert!(out.contains("Invalid use of ephemeral value") && out.contains("local.password has an ephemeral value") && out.contains("main.tf:18:3"), "{out}");
    work.write("main.tf", &format!("{EPHEMERAL}\noutput \"password\" {{\n  value     = var.pg_password\n  sensitive = true\n}}\n"));
    let out = work.strata_env(&["validate"], &env).output();
    assert!(out.contains("Ephemeral value not allowed"), "{out}");
    assert_eq!(files_holding(work.path(), &password), Vec::<String>::new(), "the password is on disk");
}

const TWO_TABLES: &str = r#"
resource "postgres_table" "keep" {
  name = "keep_me"
  column {
    name = "id"
    type = "bigint"
  }
}

resource "postgres_table" "old" {
  name = "old_events"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;

const KEEP_ONLY: &str = r#"
resource "postgres_table" "keep" {
  name = "keep_me"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;

#[test]
fn a_removed_block_with_destroy_false_forgets_the_table_and_leaves_it() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TWO_TABLES);
    work.apply();
    db.execute("INSERT INTO old_events VALUES (1), (2)");

    // Still declared: an error.
    work.write("main.tf", &format!("{TWO_TABLES}\nremoved {{\n  from = postgres_table.old\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"));
    let out = work.strata(&["plan"]).output();
    assert!(out.contains("Removed resource block still exists") && out.contains("postgres_table.old was removed, but it is still declared"), "{out}");

    work.write("main.tf", &format!("{KEEP_ONLY}\nremoved {{\n  from = postgres_table.old\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"));
    let plan = work.strata(&["plan", "-out", "tf.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("postgres_table.old will no longer be managed by strata"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy, 1 to forget."), "{plan:?}");
    assert!(!plan.stdout.contains("DROP TABLE"), "{plan:?}");
    let shown = work.strata(&["show", "-json", "tf.plan"]);
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    common::assert_matches_schema("plan.schema.json", &json);
    let old = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "postgres_table.old").expect("the forgotten table");
    assert_eq!(old["change"]["actions"], serde_json::json!(["forget"]));

    let drift = work.strata(&["drift"]);
    assert!(drift.output().contains("a plan would forget it"), "{drift:?}");

    let apply = work.strata(&["apply", "tf.plan"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(db.has_table("old_events"), "the table stays");
    let rows: i64 = db.client().query_one("SELECT count(*) FROM old_events", &[]).unwrap().get(0);
    assert_eq!(rows, 2, "with its rows");
    assert_eq!(work.state_addresses(), ["postgres_table.keep"]);
    work.assert_converged();
}

#[test]
fn a_removed_block_without_lifecycle_destroys_as_removing_the_block_would() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TWO_TABLES);
    work.apply();
    work.write("main.tf", &format!("{KEEP_ONLY}\nremoved {{\n  from = postgres_table.old\n}}\n"));
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("postgres_table.old will be destroyed") && plan.stdout.contains("1 to destroy."), "{plan:?}");
    let apply = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(!db.has_table("old_events"));
    work.assert_converged();
}

/// An inline-rules security group with `dynamic "ingress"`, as public modules write it.
const SECURITY_GROUP: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "name" {
  type = string
}

variable "ingress_rules" {
  type = list(object({
    port        = number
    cidr_blocks = list(string)
    description = optional(string, "Ingress Rule")
  }))
  default = [
    { port = 5432, cidr_blocks = ["10.0.0.0/16"], description = "PostgreSQL" },
    { port = 6432, cidr_blocks = ["10.1.0.0/16", "10.2.0.0/16"] },
  ]
}

resource "aws_security_group" "db" {
  name        = var.name
  description = "PostgreSQL"

  dynamic "ingress" {
    for_each = var.ingress_rules
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidr_blocks
      description = ingress.value.description
    }
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"#;

struct Group {
    work: Workdir,
    vars: Vec<(String, String)>,
}

impl Session for Group {
    fn workdir(&self) -> &Workdir {
        &self.work
    }

    fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.vars.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        self.work.strata_env(args, &env)
    }
}

#[test]
fn a_security_group_with_dynamic_ingress_applies_and_converges_against_moto() {
    let moto = Moto::new();
    let name = format!("dyn-{}", unique_suffix());
    let work = Workdir::offline();
    work.write("main.tf", SECURITY_GROUP);
    let group = Group { work, vars: vec![("STRATA_VAR_name".to_owned(), name.clone())] };
    let validate = group.run(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    let plan = group.plan();
    assert!(plan.stdout.contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    group.apply();
    let mut ingress = moto.ingress(&name).expect("the group");
    ingress.sort();
    assert_eq!(ingress, [("tcp".to_owned(), 5432, 5432), ("tcp".to_owned(), 6432, 6432)]);
    group.assert_converged();
    let id = group.work.state_instance("aws_security_group.db")["attributes"]["id"].as_str().unwrap().to_owned();
    assert!(moto.rules(&id).contains(&"ingress tcp 6432-6432 10.2.0.0/16".to_owned()), "{:?}", moto.rules(&id));

    // One rule fewer: an update in place.
    group.edit("    { port = 6432, cidr_blocks = [\"10.1.0.0/16\", \"10.2.0.0/16\"] },\n", "");
    let plan = group.plan();
    assert!(plan.stdout.contains("aws_security_group.db will be updated in place"), "{plan:?}");
    group.apply();
    assert_eq!(moto.ingress(&name).expect("the group"), [("tcp".to_owned(), 5432, 5432)]);
    group.assert_converged();
    let destroy = group.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_dynamic_for_each_known_only_at_apply_plans_the_rules_as_unknown_then_converges() {
    let moto = Moto::new();
    let name = format!("dynu-{}", unique_suffix());
    let config = r#"
provider "aws" {
  region = "us-east-1"
}

variable "name" {
  type = string
}

resource "aws_security_group" "app" {
  name = "${var.name}-app"
}

resource "aws_security_group" "db" {
  name = var.name
  dynamic "ingress" {
    # The app group's id is known only once it exists.
    for_each = aws_security_group.app.id == "" ? [] : [5432]
    content {
      from_port       = ingress.value
      to_port         = ingress.value
      protocol        = "tcp"
      security_groups = [aws_security_group.app.id]
    }
  }
}
"#;
    let work = Workdir::offline();
    work.write("main.tf", config);
    let group = Group { work, vars: vec![("STRATA_VAR_name".to_owned(), name.clone())] };
    let plan = group.plan();
    assert!(plan.stdout.contains("rules decided during apply"), "{plan:?}");
    group.apply();
    assert_eq!(moto.ingress(&name).expect("the group"), [("tcp".to_owned(), 5432, 5432)]);
    group.assert_converged();
    let destroy = group.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}
