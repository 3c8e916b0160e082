//! `module` blocks against a real PostgreSQL, with a module tree in the style of the public
//! terraform-aws-modules repositories: a root calling a local `feature-store` module once per
//! team (`for_each`), which calls a nested `table` module per feature group (`for_each` over an
//! `optional()` input) and an `audit` module only when asked (`count = var.audit ? 1 : 0`).
//! Checked: validate, plan (addresses and plan JSON's `module_address`/`index`), apply, a
//! no-change replan, outputs read through modules, a change inside one module instance, errors
//! that name the module, and destroy.

use crate::common;

use common::{TestDb, Workdir};

const ROOT: &str = r#"
variable "teams" {
  type = map(object({
    feature_groups = map(object({
      comment = optional(string, "")
      columns = optional(list(string), [])
    }))
    audit = optional(bool, false)
  }))
  default = {
    ranking = {
      feature_groups = {
        user_features = { comment = "per-user aggregates", columns = ["sessions_7d"] }
        item_features = {}
      }
      audit = true
    }
    fraud = {
      feature_groups = {
        card_features = { columns = ["declines_24h", "amount_7d"] }
      }
    }
  }
}

module "feature_store" {
  source   = "./modules/feature-store"
  for_each = var.teams

  team           = each.key
  feature_groups = each.value.feature_groups
  audit          = each.value.audit
}

output "schemas" {
  value = { for team, store in module.feature_store : team => store.schema }
}

output "ranking_tables" {
  value = module.feature_store["ranking"].tables
}
"#;

const FEATURE_STORE: &str = r#"
variable "team" {
  type        = string
  description = "The team that owns this feature store."
}

variable "feature_groups" {
  type = map(object({
    comment = string
    columns = list(string)
  }))
  validation {
    condition     = length(var.feature_groups) > 0
    error_message = "A feature store needs at least one feature group."
  }
}

variable "audit" {
  type    = bool
  default = false
}

locals {
  schema = "fs_${var.team}"
}

resource "postgres_schema" "this" {
  name = local.schema
}

module "table" {
  source   = "./modules/table"
  for_each = var.feature_groups

  schema  = postgres_schema.this.name
  name    = each.key
  comment = each.value.comment
  columns = each.value.columns
}

module "audit" {
  source = "../audit"
  count  = var.audit ? 1 : 0

  schema = postgres_schema.this.name
}

output "schema" {
  value = postgres_schema.this.name
}

output "tables" {
  value = sort([for t in module.table : t.id])
}
"#;

const TABLE: &str = r#"
variable "schema" {
  type = string
}

variable "name" {
  type = string
}

variable "comment" {
  type    = string
  default = ""
}

variable "columns" {
  type    = list(string)
  default = []
}

resource "postgres_table" "this" {
  schema  = var.schema
  name    = var.name
  comment = var.comment == "" ? null : var.comment
  column {
    name = "entity_id"
    type = "bigint"
  }
  column {
    name = "computed_at"
    type = "timestamptz"
  }
  primary_key = ["entity_id"]
}

resource "postgres_index" "computed_at" {
  table   = postgres_table.this.id
  name    = "${var.name}_computed_at"
  columns = ["computed_at"]
}

output "id" {
  value = postgres_table.this.id
}
"#;

const AUDIT: &str = r#"
variable "schema" {
  type = string
}

resource "postgres_table" "log" {
  schema = var.schema
  name   = "audit_log"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "happened_at"
    type = "timestamptz"
  }
}
"#;

fn module_tree(work: &Workdir) {
    work.write("main.tf", ROOT);
    work.write("modules/feature-store/main.tf", FEATURE_STORE);
    work.write("modules/feature-store/modules/table/main.tf", TABLE);
    work.write("modules/audit/main.tf", AUDIT);
}

fn table_exists(db: &TestDb, schema: &str, table: &str) -> bool {
    db.client().query_opt("SELECT 1 FROM pg_tables WHERE schemaname = $1 AND tablename = $2", &[&schema, &table]).unwrap().is_some()
}

#[test]
fn a_nested_module_tree_plans_applies_converges_and_destroys() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    module_tree(&work);
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");

    let plan = work.strata(&["plan", "-out", "tf.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let shown = work.strata(&["show", "-json", "tf.plan"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("plan JSON");
    common::assert_matches_schema("plan.schema.json", &json);
    let mut changes: Vec<(String, String, serde_json::Value)> = json["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["address"].as_str().unwrap().to_owned(), c["module_address"].as_str().unwrap_or_default().to_owned(), c.get("index").cloned().unwrap_or_default()))
        .collect();
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    // As `terraform show -json` writes them: module_address is the module instance, index the
    // resource's own key (none here).
    let expected = [
        ("module.feature_store[\"fraud\"].module.table[\"card_features\"].postgres_index.computed_at", "module.feature_store[\"fraud\"].module.table[\"card_features\"]"),
        ("module.feature_store[\"fraud\"].module.table[\"card_features\"].postgres_table.this", "module.feature_store[\"fraud\"].module.table[\"card_features\"]"),
        ("module.feature_store[\"fraud\"].postgres_schema.this", "module.feature_store[\"fraud\"]"),
        ("module.feature_store[\"ranking\"].module.audit[0].postgres_table.log", "module.feature_store[\"ranking\"].module.audit[0]"),
        ("module.feature_store[\"ranking\"].module.table[\"item_features\"].postgres_index.computed_at", "module.feature_store[\"ranking\"].module.table[\"item_features\"]"),
        ("module.feature_store[\"ranking\"].module.table[\"item_features\"].postgres_table.this", "module.feature_store[\"ranking\"].module.table[\"item_features\"]"),
        ("module.feature_store[\"ranking\"].module.table[\"user_features\"].postgres_index.computed_at", "module.feature_store[\"ranking\"].module.table[\"user_features\"]"),
        ("module.feature_store[\"ranking\"].module.table[\"user_features\"].postgres_table.this", "module.feature_store[\"ranking\"].module.table[\"user_features\"]"),
        ("module.feature_store[\"ranking\"].postgres_schema.this", "module.feature_store[\"ranking\"]"),
    ];
    let found: Vec<(&str, &str)> = changes.iter().map(|(a, m, _)| (a.as_str(), m.as_str())).collect();
    assert_eq!(found, expected);
    assert!(changes.iter().all(|(_, _, index)| index.is_null()), "{changes:?}");

    let apply = work.strata(&["apply", "tf.plan"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stdout.contains("Apply complete! Resources: 9 added"), "{apply:?}");
    for (schema, table) in [("fs_ranking", "user_features"), ("fs_ranking", "item_features"), ("fs_fraud", "card_features"), ("fs_ranking", "audit_log")] {
        assert!(table_exists(&db, schema, table), "{schema}.{table}");
    }
    assert!(!table_exists(&db, "fs_fraud", "audit_log"), "count = 0 makes no audit module for fraud");
    let state = work.state();
    assert_eq!(state["outputs"]["schemas"]["value"], serde_json::json!({"fraud": "fs_fraud", "ranking": "fs_ranking"}));
    assert_eq!(state["outputs"]["ranking_tables"]["value"], serde_json::json!(["fs_ranking.item_features", "fs_ranking.user_features"]));
    let grouped = state["resources"].as_array().unwrap().iter().find(|r| r["module"] == "module.feature_store[\"ranking\"].module.audit[0]").expect("state groups by module instance");
    assert_eq!(grouped["type"], "postgres_table");
    work.assert_converged();

    // A change inside one module instance touches that instance alone.
    work.write("main.tf", &ROOT.replace("item_features = {}", "item_features = { comment = \"per-item metadata\" }"));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("# module.feature_store[\"ranking\"].module.table[\"item_features\"].postgres_table.this will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");

    // A team removed: its module instance's resources go, the others stay.
    work.write("main.tf", &ROOT.replace("    fraud = {\n      feature_groups = {\n        card_features = { columns = [\"declines_24h\", \"amount_7d\"] }\n      }\n    }\n", ""));
    let fewer = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(fewer.code, 0, "{fewer:?}");
    assert!(fewer.stdout.contains("3 destroyed"), "{fewer:?}");
    assert!(!table_exists(&db, "fs_fraud", "card_features") && table_exists(&db, "fs_ranking", "user_features"));

    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(work.state_addresses().is_empty(), "{:?}", work.state_addresses());
}

#[test]
fn errors_inside_a_module_name_the_module_and_its_file() {
    let work = Workdir::offline();
    module_tree(&work);
    work.write("modules/feature-store/modules/table/main.tf", &TABLE.replace("name    = var.name\n", "name    = var.nmae\n"));
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(validate.stderr.contains("modules/feature-store/modules/table/main.tf:"), "{validate:?}");
    assert!(validate.stderr.contains("undeclared input variable \"nmae\""), "{validate:?}");
    assert!(validate.stderr.contains("did you mean \"name\""), "{validate:?}");
    assert!(validate.stderr.contains("in module.feature_store.module.table"), "{validate:?}");

    // An input the module does not declare, and one it needs but is not given.
    module_tree(&work);
    work.write("main.tf", &ROOT.replace("  audit          = each.value.audit\n", "  audti          = each.value.audit\n"));
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(validate.stderr.contains("Unsupported argument \"audti\" in module \"feature_store\""), "{validate:?}");
    assert!(validate.stderr.contains("did you mean \"audit\""), "{validate:?}");
    work.write("main.tf", &ROOT.replace("  team           = each.key\n", ""));
    let validate = work.strata(&["validate"]);
    assert!(validate.stderr.contains("Missing required argument \"team\" in module \"feature_store\""), "{validate:?}");

    // A module's validation fails at plan time, naming the module instance's input.
    let db = TestDb::new();
    let work = Workdir::new(&db);
    module_tree(&work);
    work.write("main.tf", &ROOT.replace("        card_features = { columns = [\"declines_24h\", \"amount_7d\"] }\n", ""));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("A feature store needs at least one feature group."), "{plan:?}");
    assert!(work.state_text().is_none(), "a failed plan writes no state");

    // A source that is not installed says to run init; a missing local directory says which.
    let work = Workdir::offline();
    module_tree(&work);
    work.write("main.tf", &ROOT.replace("./modules/feature-store", "./modules/feature_store"));
    let validate = work.strata(&["validate"]);
    assert!(validate.stderr.contains("the directory ./modules/feature_store does not exist"), "{validate:?}");
}

#[test]
fn depends_on_a_module_and_outputs_between_sibling_modules() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write(
        "main.tf",
        r#"
module "core" {
  source = "./modules/schema"
  name   = "core"
}

module "marts" {
  source     = "./modules/schema"
  name       = "${module.core.name}_marts"
  depends_on = [module.core]
}

resource "postgres_table" "runs" {
  schema = module.marts.name
  name   = "runs"
  column {
    name = "id"
    type = "bigint"
  }
  depends_on = [module.core]
}
"#,
    );
    work.write("modules/schema/main.tf", SCHEMA_MODULE);
    let apply = work.apply();
    assert!(apply.stdout.contains("3 added"), "{apply:?}");
    assert!(table_exists(&db, "core_marts", "runs"));
    let runs = work.state_instance("postgres_table.runs");
    let dependencies: Vec<&str> = runs["dependencies"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert_eq!(dependencies, ["module.core.postgres_schema.this", "module.marts.postgres_schema.this"]);
    work.assert_converged();
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

const SCHEMA_MODULE: &str = r#"
variable "name" {
  type = string
}

resource "postgres_schema" "this" {
  name = var.name
}

output "name" {
  value = postgres_schema.this.name
}
"#;

#[test]
fn moved_blocks_take_a_resource_into_a_module_and_show_json_nests_module_instances() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", "resource \"postgres_schema\" \"core\" {\n  name = \"core\"\n}\n");
    work.apply();
    let oid = |db: &TestDb| -> u32 { db.client().query_one("SELECT oid FROM pg_namespace WHERE nspname = 'core'", &[]).unwrap().get(0) };
    let before = oid(&db);

    // The refactoring every module tree starts with: a root resource moves into a module.
    work.write(
        "main.tf",
        r#"
module "core" {
  source = "./modules/schema"
  name   = "core"
}

moved {
  from = postgres_schema.core
  to   = module.core.postgres_schema.this
}
"#,
    );
    work.write("modules/schema/main.tf", SCHEMA_MODULE);
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("postgres_schema.core has moved to module.core.postgres_schema.this"), "{plan:?}");
    assert!(plan.stdout.contains("0 to add, 0 to change, 0 to replace, 0 to destroy"), "{plan:?}");
    let apply = work.apply();
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(oid(&db), before, "the same schema, not a new one");
    assert_eq!(work.state_addresses(), ["module.core.postgres_schema.this"]);

    let shown = work.strata(&["show", "-json"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let json: serde_json::Value = serde_json::from_str(&shown.stdout).expect("state JSON");
    let root = &json["values"]["root_module"];
    // As terraform show -json writes it (checked with Terraform 1.x and terraform_data): no empty `resources`.
    assert!(root.get("resources").is_none(), "{root}");
    assert_eq!(root["child_modules"][0]["address"], "module.core");
    assert_eq!(root["child_modules"][0]["resources"][0]["address"], "module.core.postgres_schema.this");
    work.assert_converged();
}

#[test]
fn a_moved_block_inside_a_module_moves_its_resource_in_every_instance_of_the_module() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", "module \"schema\" {\n  source   = \"./modules/schema\"\n  for_each = toset([\"raw\", \"curated\"])\n  name     = each.key\n}\n");
    work.write("modules/schema/main.tf", &SCHEMA_MODULE.replace("\"this\"", "\"main\"").replace("postgres_schema.this.name", "postgres_schema.main.name"));
    work.apply();

    // The module renames its resource, as public modules do between versions, with a moved block of its own.
    work.write("modules/schema/main.tf", &format!("{SCHEMA_MODULE}\nmoved {{\n  from = postgres_schema.main\n  to   = postgres_schema.this\n}}\n"));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("module.schema[\"raw\"].postgres_schema.main has moved to module.schema[\"raw\"].postgres_schema.this"), "{plan:?}");
    assert!(plan.stdout.contains("module.schema[\"curated\"].postgres_schema.main has moved to module.schema[\"curated\"].postgres_schema.this"), "{plan:?}");
    assert!(plan.stdout.contains("0 to add, 0 to change, 0 to replace, 0 to destroy"), "{plan:?}");
    work.apply();
    let mut addresses = work.state_addresses();
    addresses.sort();
    assert_eq!(addresses, ["module.schema[\"curated\"].postgres_schema.this", "module.schema[\"raw\"].postgres_schema.this"]);
    work.assert_converged();

    // A removed block inside a module is refused, not ignored.
    work.write("modules/schema/main.tf", &format!("{SCHEMA_MODULE}\nremoved {{\n  from = postgres_schema.old\n}}\n"));
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(validate.stderr.contains("a removed block in module.schema is not supported yet"), "{validate:?}");
}
