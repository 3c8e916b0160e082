//! `strata state pull | rm | mv | diff` against a real PostgreSQL: what each prints, what it
//! writes (backup, serial + 1), that nothing live is touched, and that secrets stay masked.

use crate::common;

use common::{TestDb, Workdir};

const SECRET: &str = "hunter2-table-comment-secret";

/// Two tables and an index on one of them; the second table's comment comes from a sensitive
/// variable, and a sensitive output repeats it.
fn config(table_label: &str) -> String {
    format!(
        r#"
variable "note" {{
  type      = string
  sensitive = true
  default   = "{SECRET}"
}}

resource "postgres_table" "{table_label}" {{
  name = "users"
  column {{
    name = "id"
    type = "bigint"
    null = false
  }}
  column {{
    name = "email"
    type = "text"
  }}
  primary_key = ["id"]
}}

resource "postgres_index" "users_email" {{
  name    = "users_email_idx"
  table   = postgres_table.{table_label}.name
  columns = ["email"]
}}

resource "postgres_table" "notes" {{
  name    = "notes"
  comment = var.note
  column {{
    name = "body"
    type = "text"
  }}
}}

output "note" {{
  value     = var.note
  sensitive = true
}}
"#
    )
}

fn applied(db: &TestDb) -> Workdir {
    let work = Workdir::new(db);
    work.write("main.tf", &config("users"));
    work.apply();
    work
}

#[test]
fn state_pull_prints_the_state_with_secrets_masked() {
    let db = TestDb::new();
    let work = applied(&db);
    let run = work.strata(&["state", "pull"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.output().contains(SECRET), "a secret was printed: {run:?}");
    let pulled: serde_json::Value = serde_json::from_str(&run.stdout).expect("state pull prints JSON");
    let stored = work.state();
    assert_eq!(pulled["serial"], stored["serial"]);
    assert_eq!(pulled["lineage"], stored["lineage"]);
    let notes = common::instance(&pulled, "postgres_table.notes").expect("notes in the pulled state");
    assert_eq!(notes["attributes"]["comment"], "(sensitive value)");
    assert_eq!(notes["attributes"]["name"], "notes");
    assert_eq!(pulled["outputs"]["note"]["value"], "(sensitive value)");
    assert!(work.state_text().unwrap().contains(SECRET), "the state file itself keeps the real value");
}

#[test]
fn state_rm_forgets_without_touching_the_live_object() {
    let db = TestDb::new();
    let work = applied(&db);
    let serial = work.state()["serial"].as_u64().unwrap();
    let run = work.strata(&["state", "rm", "postgres_table.notes"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Removed postgres_table.notes"), "{run:?}");
    assert!(!work.state_addresses().contains(&"postgres_table.notes".to_owned()));
    assert_eq!(work.state()["serial"].as_u64().unwrap(), serial + 1);
    assert!(work.path().join("strata.state.json.backup").exists(), "the previous state is kept as .backup");
    assert!(db.has_table("notes"), "state rm must not drop the table");
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("postgres_table.notes will be created"), "{plan:?}");
}

#[test]
fn state_rm_of_an_unknown_address_changes_nothing_and_suggests_the_close_one() {
    let db = TestDb::new();
    let work = applied(&db);
    let before = work.state_text();
    let run = work.strata(&["state", "rm", "postgres_table.users", "postgres_table.note"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("postgres_table.note is not in the state"), "{run:?}");
    assert!(run.stderr.contains("did you mean postgres_table.notes?"), "{run:?}");
    assert_eq!(work.state_text(), before, "nothing is written unless every address is in the state");
}

#[test]
fn state_mv_renames_the_address_and_its_dependants_then_plan_is_clean() {
    let db = TestDb::new();
    let work = applied(&db);
    let run = work.strata(&["state", "mv", "postgres_table.users", "postgres_table.accounts"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("Moved postgres_table.users to postgres_table.accounts"), "{run:?}");
    let state = work.state();
    let index = common::instance(&state, "postgres_index.users_email").expect("the index");
    assert_eq!(index["dependencies"], serde_json::json!(["postgres_table.accounts"]));
    work.write("main.tf", &config("accounts"));
    work.assert_converged();
}

#[test]
fn state_mv_refuses_another_type_or_a_taken_address() {
    let db = TestDb::new();
    let work = applied(&db);
    let before = work.state_text();
    let other_type = work.strata(&["state", "mv", "postgres_table.users", "postgres_enum.users"]);
    assert_eq!(other_type.code, 1, "{other_type:?}");
    assert!(other_type.stderr.contains("an address keeps its type"), "{other_type:?}");
    let taken = work.strata(&["state", "mv", "postgres_table.users", "postgres_table.notes"]);
    assert_eq!(taken.code, 1, "{taken:?}");
    assert!(taken.stderr.contains("postgres_table.notes is already in the state"), "{taken:?}");
    assert_eq!(work.state_text(), before);
}

/// A state file with `resources`, as strata writes them.
fn state_file(serial: u64, resources: serde_json::Value) -> String {
    serde_json::json!({
        "format_version": 2, "strata_version": "0.1.0", "serial": serial, "lineage": "3f1c7a52-0000-4000-8000-000000000001",
        "resources": resources, "outputs": {}
    })
    .to_string()
}

fn table(name: &str, comment: &str, columns: &[&str]) -> serde_json::Value {
    let columns: Vec<serde_json::Value> = columns.iter().map(|c| serde_json::json!({"name": c, "type": "text", "null": true})).collect();
    serde_json::json!({
        "address": format!("postgres_table.{name}"), "mode": "managed", "type": "postgres_table", "name": name, "provider": "postgres",
        "instances": [{
            "attributes": {"schema": "public", "name": name, "comment": comment, "id": format!("public.{name}"), "column": columns},
            "sensitive_attributes": ["comment"], "dependencies": []
        }]
    })
}

#[test]
fn state_diff_shows_added_removed_and_changed_attributes_with_secrets_masked() {
    let work = Workdir::offline();
    let old = state_file(4, serde_json::json!([table("kept", "old-secret-comment", &["id"]), table("dropped", "x-secret-1", &["id"])]));
    let new = state_file(5, serde_json::json!([table("added", "y-secret-2", &["id"]), table("kept", "new-secret-comment", &["id", "email"])]));
    work.write("old.json", &old);
    work.write("new.json", &new);
    let run = work.strata(&["state", "diff", "old.json", "new.json", "-detailed-exitcode"]);
    assert_eq!(run.code, 2, "{run:?}");
    let out = &run.stdout;
    assert!(out.contains("# postgres_table.added was added"), "{run:?}");
    assert!(out.contains("# postgres_table.dropped was removed"), "{run:?}");
    assert!(out.contains("# postgres_table.kept changed"), "{run:?}");
    assert!(out.contains("~ comment = (sensitive value) -> (sensitive value)"), "{run:?}");
    assert!(out.contains("+ column {") && out.contains("\"email\""), "the added column is shown: {run:?}");
    assert!(out.contains("State diff: 1 added, 1 changed, 1 removed."), "{run:?}");
    for secret in ["old-secret-comment", "new-secret-comment", "x-secret-1", "y-secret-2"] {
        assert!(!run.output().contains(secret), "{secret} was printed: {run:?}");
    }
    let same = work.strata(&["state", "diff", "old.json", "old.json", "-detailed-exitcode"]);
    assert_eq!(same.code, 0, "{same:?}");
    assert!(same.stdout.contains("No differences."), "{same:?}");
    let missing = work.strata(&["state", "diff", "old.json", "nowhere.json"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("no state file at nowhere.json"), "{missing:?}");
}

#[test]
fn pending_creates_an_interrupted_apply_left_are_shown_by_state_list_state_show_and_show() {
    let work = Workdir::offline();
    let mut state: serde_json::Value = serde_json::from_str(&state_file(7, serde_json::json!([table("kept", "a-secret-comment", &["id"])]))).expect("JSON");
    let intent = |name: &str| serde_json::json!({"address": format!("postgres_table.{name}"), "type": "postgres_table", "provider": "postgres", "import_id": format!("public.{name}"), "recorded_at": "2026-11-25T07:00:00Z"});
    // `kept` is pending too: a replacement's create, whose old record stays until apply records the new one.
    state["pending"] = serde_json::json!([intent("orders"), intent("kept")]);
    common::assert_valid_state(&state);
    work.write("pending.json", &state.to_string());
    let orders_line = "pending create: postgres_table.orders (import id public.orders), recorded at 2026-11-25T07:00:00Z";

    let list = work.strata(&["state", "list", "-state", "pending.json"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(list.stdout, "postgres_table.kept\n", "stdout stays one address per line: {list:?}");
    assert!(list.stderr.contains(orders_line) && list.stderr.contains("pending create: postgres_table.kept"), "{list:?}");
    assert!(list.stderr.contains("An apply failed or was interrupted while these creates were in flight"), "{list:?}");
    let filtered = work.strata(&["state", "list", "-state", "pending.json", "kept"]);
    assert!(!filtered.stderr.contains("postgres_table.orders"), "the filter applies to pending creates too: {filtered:?}");

    let show_kept = work.strata(&["state", "show", "-state", "pending.json", "postgres_table.kept"]);
    assert_eq!(show_kept.code, 0, "{show_kept:?}");
    assert!(show_kept.stdout.contains("resource \"postgres_table\" \"kept\"") && show_kept.stdout.contains("pending create: postgres_table.kept"), "{show_kept:?}");
    let show_orders = work.strata(&["state", "show", "-state", "pending.json", "postgres_table.orders"]);
    assert_eq!(show_orders.code, 1, "{show_orders:?}");
    assert!(show_orders.stderr.contains("postgres_table.orders is not in the state") && show_orders.stderr.contains(orders_line), "{show_orders:?}");

    let show = work.strata(&["show", "-state", "pending.json"]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(show.stdout.contains("# postgres_table.kept:") && show.stdout.contains(orders_line), "{show:?}");
    for run in [&list, &show_kept, &show_orders, &show] {
        assert!(!run.output().contains("a-secret-comment"), "{run:?}");
    }
}

/// What a run killed after a journal write leaves next to the state file: records of what it
/// changed since the file was written, the last one possibly cut off mid-write. Readers replay
/// them; the next whole write folds them into the file and removes the journal.
#[test]
fn a_journal_left_by_a_killed_run_is_replayed_then_folded_into_the_state_file() {
    let db = TestDb::new();
    let work = applied(&db);
    let state = work.state();
    let (serial, lineage) = (state["serial"].as_u64().unwrap(), state["lineage"].as_str().unwrap().to_owned());
    let file_before = std::fs::read_to_string(work.state_path()).unwrap();
    let record = serde_json::json!({"lineage": lineage, "serial": serial + 1, "removed": ["postgres_table.notes"]});
    let journal = work.path().join("strata.state.json.journal");
    std::fs::write(&journal, format!("{record}\n{{\"lineage\": \"{lineage}\", \"ser")).unwrap();

    let list = work.strata(&["state", "list"]);
    assert_eq!(list.code, 0, "{list:?}");
    assert_eq!(list.stdout.lines().collect::<Vec<_>>(), ["postgres_index.users_email", "postgres_table.users"], "the record is replayed, the torn one ignored");
    assert_eq!(std::fs::read_to_string(work.state_path()).unwrap(), file_before, "a read writes nothing");

    let rm = work.strata(&["state", "rm", "postgres_table.users"]);
    assert_eq!(rm.code, 0, "{rm:?}");
    assert!(!journal.exists(), "a whole write removes the journal it folded in");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(work.state_path()).unwrap()).unwrap();
    assert_eq!(state["serial"].as_u64(), Some(serial + 2));
    assert_eq!(state["resources"].as_array().map(Vec::len), Some(1), "only the index is left: {state:#}");
}

#[test]
fn a_journal_of_another_state_is_an_error_that_changes_nothing() {
    let db = TestDb::new();
    let work = applied(&db);
    let serial = work.state()["serial"].as_u64().unwrap();
    let record = serde_json::json!({"lineage": "not-this-one", "serial": serial + 1, "removed": ["postgres_table.orders"]});
    std::fs::write(work.path().join("strata.state.json.journal"), format!("{record}\n")).unwrap();
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("belongs to another state"), "{plan:?}");
}
