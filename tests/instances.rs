//! `count` and `for_each` against a real PostgreSQL: instance addresses in plans, plan JSON and
//! state as Terraform writes them, and one test for each place the issue names where instances
//! could go wrong silently: a counted resource's `prevent_destroy` recorded in state, dependencies
//! between instances, `-target` of one instance and of all, `moved` from `x` to `x[0]` (and from a
//! `count` key to a `for_each` key).

use crate::common;

use common::{TestDb, Workdir};

/// A feature store in the style of public ML platforms: one table per feature group (`for_each`
/// over a map), an index on each (`for_each` over the tables themselves), and event shards (`count`).
const FEATURE_STORE: &str = r#"
variable "feature_groups" {
  type = map(object({
    comment = string
    columns = optional(list(string), [])
  }))
  default = {
    user_features = { comment = "per-user aggregates", columns = ["sessions_7d", "spend_30d"] }
    item_features = { comment = "per-item embedding metadata" }
  }
}

variable "shards" {
  description = <<-EOT
    How many event shards to keep.
    Each is a table events_N.
  EOT
  type    = number
  default = 3
}

resource "postgres_schema" "ml" {
  name = "ml"
}

resource "postgres_table" "features" {
  for_each = var.feature_groups
  schema   = postgres_schema.ml.name
  name     = each.key
  comment  = "${each.value.comment} (${length(each.value.columns)} feature columns)"
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
  for_each = postgres_table.features
  table    = each.value.id
  name     = "${each.key}_computed_at"
  columns  = ["computed_at"]
}

resource "postgres_table" "events" {
  count = var.shards
  name  = "events_${count.index}"
  column {
    name = "id"
    type = "bigint"
  }
}

output "feature_tables" {
  value = [for t in postgres_table.features : t.id]
}

output "shard_names" {
  value = postgres_table.events[*].name
}
"#;

fn applied(config: &str) -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", config);
    work.apply();
    (db, work)
}

fn plan_json(work: &Workdir, args: &[&str]) -> serde_json::Value {
    let plan = work.strata(&[&["plan", "-out", "tf.plan"], args].concat());
    assert!(plan.code == 0, "{plan:?}");
    let shown = work.strata(&["show", "-json", "tf.plan"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    let json = serde_json::from_str(&shown.stdout).expect("plan JSON");
    common::assert_matches_schema("plan.schema.json", &json);
    json
}

#[test]
fn count_and_for_each_make_instances_addressed_as_terraform_addresses_them() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", FEATURE_STORE);
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");

    // The plan JSON's fields, as `terraform show -json` writes them for these addresses.
    let plan = plan_json(&work, &[]);
    let changes: Vec<(String, serde_json::Value, bool)> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["address"].as_str().unwrap().to_owned(), c.get("index").cloned().unwrap_or_default(), c.get("module_address").is_some()))
        .collect();
    let expected = [
        ("postgres_schema.ml", serde_json::Value::Null),
        ("postgres_table.features[\"item_features\"]", "item_features".into()),
        ("postgres_table.features[\"user_features\"]", "user_features".into()),
        ("postgres_index.computed_at[\"item_features\"]", "item_features".into()),
        ("postgres_index.computed_at[\"user_features\"]", "user_features".into()),
        ("postgres_table.events[0]", 0.into()),
        ("postgres_table.events[1]", 1.into()),
        ("postgres_table.events[2]", 2.into()),
    ];
    for (address, index) in &expected {
        let found = changes.iter().find(|(a, _, _)| a == address).unwrap_or_else(|| panic!("{address} in the plan: {changes:?}"));
        assert_eq!(&found.1, index, "{address}'s index");
        assert!(!found.2, "root-module changes carry no module_address");
    }
    assert_eq!(changes.len(), expected.len(), "{changes:?}");

    let apply = work.apply();
    assert!(apply.stdout.contains("Apply complete! Resources: 8 added"), "{apply:?}");
    for table in ["user_features", "item_features"] {
        assert!(db.client().query_opt("SELECT 1 FROM pg_tables WHERE schemaname = 'ml' AND tablename = $1", &[&table]).unwrap().is_some(), "{table}");
        let index = format!("{table}_computed_at");
        assert!(db.client().query_opt("SELECT 1 FROM pg_indexes WHERE indexname = $1", &[&index]).unwrap().is_some(), "{index}");
    }
    assert!(db.has_table("events_0") && db.has_table("events_2"));
    let state = work.state();
    let features = state["resources"].as_array().unwrap().iter().find(|r| r["address"] == "postgres_table.features").expect("one resource with its instances");
    let keys: Vec<&serde_json::Value> = features["instances"].as_array().unwrap().iter().map(|i| &i["index_key"]).collect();
    assert_eq!(keys, ["item_features", "user_features"]);
    assert_eq!(state["outputs"]["shard_names"]["value"], serde_json::json!(["events_0", "events_1", "events_2"]));
    work.assert_converged();

    let listed = work.strata(&["state", "list"]);
    assert!(listed.stdout.lines().any(|l| l == "postgres_table.features[\"user_features\"]"), "{listed:?}");

    // Fewer shards: only the dropped instances go.
    work.write("main.tf", &FEATURE_STORE.replace("default = 3", "default = 1"));
    let fewer = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(fewer.code, 0, "{fewer:?}");
    assert!(fewer.stdout.contains("0 added, 0 changed, 0 replaced, 2 destroyed"), "{fewer:?}");
    assert!(db.has_table("events_0") && !db.has_table("events_1") && !db.has_table("events_2"));

    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(work.state_addresses().is_empty(), "{:?}", work.state_addresses());
}

#[test]
fn count_zero_and_conditional_creation_are_ordinary() {
    let config = r#"
variable "create_audit" {
  type    = bool
  default = false
}

resource "postgres_table" "audit" {
  count = var.create_audit ? 1 : 0
  name  = "audit"
  column {
    name = "id"
    type = "bigint"
  }
}

output "audit_table" {
  value = one(postgres_table.audit[*].name)
}
"#;
    let (db, work) = applied(config);
    assert!(!db.has_table("audit"));
    assert!(work.state_addresses().is_empty());
    let created = work.strata(&["apply", "-auto-approve", "-var", "create_audit=true"]);
    assert_eq!(created.code, 0, "{created:?}");
    assert!(db.has_table("audit"));
    assert_eq!(work.state_addresses(), ["postgres_table.audit[0]"]);
    assert_eq!(work.state()["outputs"]["audit_table"]["value"], "audit");
}

#[test]
fn a_counted_resource_keeps_the_prevent_destroy_recorded_in_state() {
    let protected = r#"
resource "postgres_table" "ledger" {
  count = 2
  name  = "ledger_${count.index}"
  column {
    name = "id"
    type = "bigint"
  }
  lifecycle {
    prevent_destroy = true
  }
}
"#;
    let (db, work) = applied(protected);
    for instance in ["postgres_table.ledger[0]", "postgres_table.ledger[1]"] {
        assert_eq!(work.state_instance(instance)["prevent_destroy"], true, "{instance} records its protection");
    }
    // The block loses both its lifecycle and an instance at once: state still protects [1].
    work.write("main.tf", &protected.replace("count = 2", "count = 1").replace("lifecycle {\n    prevent_destroy = true\n  }", ""));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("Instance cannot be destroyed: postgres_table.ledger[1]"), "{plan:?}");
    assert!(db.has_table("ledger_1"));
}

#[test]
fn instances_wait_for_every_instance_of_what_they_depend_on() {
    let config = r#"
resource "postgres_table" "tenants" {
  count = 2
  name  = "tenants_${count.index}"
  column {
    name = "id"
    type = "bigint"
  }
  primary_key = ["id"]
}

resource "postgres_table" "runs" {
  for_each = toset(["train", "eval", "serve"])
  name     = "runs_${each.key}"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "tenant_id"
    type = "bigint"
  }
  foreign_key {
    columns     = ["tenant_id"]
    references  = postgres_table.tenants[length(each.key) % 2].id
    ref_columns = ["id"]
  }
}
"#;
    // Creates need the referenced tenants first; with -parallelism 8 nothing else orders them.
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", config);
    let apply = work.strata(&["apply", "-auto-approve", "-parallelism", "8"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert_eq!(work.state_instance("postgres_table.runs[\"eval\"]")["dependencies"], serde_json::json!(["postgres_table.tenants"]));
    // Deletes run the other way round, from what state recorded.
    work.write("main.tf", "");
    let destroy = work.strata(&["apply", "-auto-approve", "-allow-data-loss", "-parallelism", "8"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(!db.has_table("tenants_0") && !db.has_table("runs_train"));
}

#[test]
fn target_takes_one_instance_or_all_of_them() {
    let config = FEATURE_STORE;
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", config);
    let one = work.strata(&["apply", "-auto-approve", "-target", "postgres_table.events[1]"]);
    assert_eq!(one.code, 0, "{one:?}");
    assert_eq!(work.state_addresses(), ["postgres_table.events[1]"]);
    let quoted = work.strata(&["apply", "-auto-approve", "-target", "postgres_index.computed_at[\"user_features\"]"]);
    assert_eq!(quoted.code, 0, "{quoted:?}");
    assert!(db.client().query_opt("SELECT 1 FROM pg_indexes WHERE indexname = 'user_features_computed_at'", &[]).unwrap().is_some());
    assert!(db.client().query_opt("SELECT 1 FROM pg_indexes WHERE indexname = 'item_features_computed_at'", &[]).unwrap().is_none());
    assert!(
        work.state_addresses().contains(&"postgres_table.features[\"item_features\"]".to_owned()),
        "a targeted instance brings every instance of what it depends on: {:?}",
        work.state_addresses()
    );
    let all = work.strata(&["apply", "-auto-approve", "-target", "postgres_table.events"]);
    assert_eq!(all.code, 0, "{all:?}");
    assert!(all.stdout.contains("2 added"), "events[0] and events[2]: {all:?}");
    let wrong_key = work.strata(&["plan", "-target", "postgres_table.events[\"a\"]"]);
    assert_eq!(wrong_key.code, 1, "{wrong_key:?}");
    assert!(wrong_key.stderr.contains("it has count, so its instances are keyed [0], [1]"), "{wrong_key:?}");
    let typo = work.strata(&["plan", "-target", "postgres_table.event[0]"]);
    assert!(typo.code == 1 && typo.stderr.contains("postgres_table.events"), "the closest name: {typo:?}");
}

#[test]
fn moved_blocks_give_a_resource_count_and_then_for_each_without_recreating_it() {
    let single = r#"
resource "postgres_table" "runs" {
  name = "runs"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;
    let (db, work) = applied(single);
    db.execute("INSERT INTO runs VALUES (1)");
    let counted = single.replace("  name = \"runs\"", "  count = 1\n  name  = \"runs\"")
        + "\nmoved {\n  from = postgres_table.runs\n  to   = postgres_table.runs[0]\n}\n";
    work.write("main.tf", &counted);
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("postgres_table.runs has moved to postgres_table.runs[0]") && !plan.stdout.contains("1 to add"), "{plan:?}");
    work.apply();
    assert_eq!(work.state_addresses(), ["postgres_table.runs[0]"]);

    let keyed = single.replace("  name = \"runs\"", "  for_each = toset([\"main\"])\n  name     = \"runs\"")
        + "\nmoved {\n  from = postgres_table.runs[0]\n  to   = postgres_table.runs[\"main\"]\n}\n";
    work.write("main.tf", &keyed);
    work.apply();
    assert_eq!(work.state_addresses(), ["postgres_table.runs[\"main\"]"]);
    let rows: i64 = db.client().query_one("SELECT count(*) FROM runs", &[]).unwrap().get(0);
    assert_eq!(rows, 1, "the same table all along");
    work.assert_converged();

    let plan = plan_json(&work, &[]);
    assert!(plan["resource_changes"][0].get("previous_address").is_none(), "no move left to show");
}

#[test]
fn state_commands_take_instance_addresses() {
    let (_db, work) = applied(FEATURE_STORE);
    let moved = work.strata(&["state", "mv", "postgres_table.events[2]", "postgres_table.events[5]"]);
    assert_eq!(moved.code, 0, "{moved:?}");
    assert!(work.state_addresses().contains(&"postgres_table.events[5]".to_owned()));
    let removed = work.strata(&["state", "rm", "postgres_table.events"]);
    assert_eq!(removed.code, 0, "{removed:?}");
    assert!(removed.stdout.contains("Successfully removed 3 resource instance(s)"), "every instance of the resource: {removed:?}");
    let shown = work.strata(&["state", "show", "postgres_table.features[\"user_features\"]"]);
    assert_eq!(shown.code, 0, "{shown:?}");
    assert!(shown.stdout.starts_with("# postgres_table.features[\"user_features\"]:"), "{shown:?}");
    let missing = work.strata(&["state", "rm", "postgres_table.features[\"users_features\"]"]);
    assert!(missing.code == 1 && missing.stderr.contains("did you mean postgres_table.features[\"user_features\"]"), "{missing:?}");
}

#[test]
fn count_and_for_each_errors_are_terraforms() {
    let work = Workdir::offline();
    let column = "  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n";
    work.write("main.tf", &format!("resource \"postgres_table\" \"t\" {{\n  count    = 1\n  for_each = {{}}\n  name     = \"t\"\n{column}}}\n"));
    let both = work.strata(&["validate"]);
    assert!(both.code == 1 && both.stderr.contains("Invalid combination of \"count\" and \"for_each\""), "{both:?}");
    work.write("main.tf", &format!("resource \"postgres_table\" \"t\" {{\n  count = -1\n  name  = \"t\"\n{column}}}\n"));
    let negative = work.strata(&["validate"]);
    assert!(negative.code == 1 && negative.stderr.contains("must be greater than or equal to zero") && negative.stderr.contains("main.tf:2"), "{negative:?}");
    work.write("main.tf", &format!("resource \"postgres_table\" \"t\" {{\n  name = \"t_${{count.index}}\"\n{column}}}\n"));
    let stray = work.strata(&["validate"]);
    assert!(stray.code == 1 && stray.stderr.contains("Reference to \"count\" in non-counted context"), "{stray:?}");
    work.write("main.tf", &format!("resource \"postgres_table\" \"t\" {{\n  for_each = [1, 2]\n  name     = \"t\"\n{column}}}\n"));
    let numbers = work.strata(&["validate"]);
    assert!(numbers.code == 1 && numbers.stderr.contains("Invalid for_each argument"), "{numbers:?}");
}

#[test]
fn a_state_of_format_1_is_read_and_written_back_as_format_2() {
    let (_db, work) = applied("resource \"postgres_table\" \"runs\" {\n  name = \"runs\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n");
    // The same state as strata wrote it before instances: one flat entry per resource.
    let mut old = work.state();
    let instance = old["resources"][0]["instances"][0].clone();
    old["format_version"] = 1.into();
    old["resources"][0].as_object_mut().unwrap().remove("instances");
    for (field, value) in instance.as_object().unwrap() {
        old["resources"][0][field] = value.clone();
    }
    std::fs::write(work.state_path(), old.to_string()).unwrap();
    let listed = work.strata(&["state", "list"]);
    assert_eq!(listed.stdout, "postgres_table.runs\n", "{listed:?}");
    work.assert_converged();
    work.write("main.tf", "resource \"postgres_table\" \"runs\" {\n  name    = \"runs\"\n  comment = \"training runs\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n");
    work.apply();
    assert_eq!(work.state()["format_version"], 2, "the next write is in the current format");
    assert_eq!(work.state_addresses(), ["postgres_table.runs"]);
}
