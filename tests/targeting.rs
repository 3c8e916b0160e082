//! -target, -exclude and -replace on plan, apply and destroy; the summary lines counting
//! replacements on their own; apply's plain progress lines when stdout is not a terminal.

use crate::common;

use common::{TestDb, Workdir, USERS_AND_ORDERS};

/// orders depends on users (its foreign key), the output orders_table on orders; audit stands alone.
fn three_tables() -> String {
    format!("{USERS_AND_ORDERS}{AUDIT}")
}

const AUDIT: &str = r#"
resource "postgres_table" "audit" {
  name = "audit"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;

fn applied_three_tables() -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &three_tables());
    work.apply();
    (db, work)
}

fn count_rows(db: &TestDb, table: &str) -> i64 {
    db.client().query_one(&format!("SELECT count(*) FROM {table}"), &[]).unwrap().get(0)
}

#[test]
fn target_applies_only_the_target_and_what_it_depends_on() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &three_tables());
    let apply = work.strata(&["apply", "-auto-approve", "-target", "postgres_table.orders"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stderr.contains("Resource targeting is in effect"), "{apply:?}");
    assert!(apply.stdout.contains("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."), "{apply:?}");
    assert!(apply.stdout.contains("Apply complete! Resources: 2 added, 0 changed, 0 replaced, 0 destroyed."), "{apply:?}");
    assert!(db.has_table("users") && db.has_table("orders"));
    assert!(!db.has_table("audit"), "audit was not targeted");
    assert_eq!(work.state_addresses(), ["postgres_table.orders", "postgres_table.users"]);

    let rest = work.strata(&["plan"]);
    assert!(rest.stdout.contains("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy."), "{rest:?}");
    assert!(!rest.stderr.contains("targeting"), "no warning without -target: {rest:?}");
}

#[test]
fn exclude_skips_the_resource_and_what_depends_on_it() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &three_tables());
    let apply = work.strata(&["apply", "-auto-approve", "-exclude=postgres_table.users"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stderr.contains("Resource targeting is in effect"), "{apply:?}");
    assert!(db.has_table("audit"));
    assert!(!db.has_table("users") && !db.has_table("orders"), "users and its dependant orders were excluded");
    assert_eq!(work.state_addresses(), ["postgres_table.audit"]);
    assert!(work.state()["outputs"].get("orders_table").is_none(), "the output reads the excluded orders: left as it was");

    let rest = work.apply();
    assert!(rest.stdout.contains("Apply complete! Resources: 2 added, 0 changed, 0 replaced, 0 destroyed."), "{rest:?}");
    assert_eq!(work.state()["outputs"]["orders_table"]["value"], "public.orders");
}

#[test]
fn exclude_keeps_a_resource_the_configuration_dropped() {
    let (db, work) = applied_three_tables();
    work.write("main.tf", &three_tables().replace("resource \"postgres_table\" \"audit\"", "resource \"postgres_table\" \"gone\"").replace("name = \"audit\"", "name = \"audit2\""));
    let plan = work.strata(&["plan", "-exclude", "postgres_table.audit", "-exclude", "postgres_table.gone"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("No changes."), "the deletion of audit is excluded: {plan:?}");
    let full = work.strata(&["plan"]);
    assert!(full.stdout.contains("Plan: 1 to add, 0 to change, 0 to replace, 1 to destroy."), "{full:?}");
    assert!(db.has_table("audit"));
}

#[test]
fn replace_plans_and_applies_a_replacement_of_an_unchanged_resource() {
    let (db, work) = applied_three_tables();
    db.execute("INSERT INTO audit VALUES (1)");
    let plan = work.strata(&["plan", "-replace", "postgres_table.audit", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("postgres_table.audit must be replaced"), "{plan:?}");
    assert!(plan.stdout.contains("replacement requested with -replace"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy."), "{plan:?}");

    let apply = work.strata(&["apply", "-auto-approve", "-allow-data-loss", "-replace=postgres_table.audit"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stdout.contains("postgres_table.audit: Replacement complete after"), "{apply:?}");
    assert!(apply.stdout.contains("Apply complete! Resources: 0 added, 0 changed, 1 replaced, 0 destroyed."), "{apply:?}");
    assert_eq!(count_rows(&db, "audit"), 0, "the table was dropped and created again");
    work.assert_converged();
}

#[test]
fn replace_from_a_saved_plan_applies_the_replacement() {
    let (db, work) = applied_three_tables();
    db.execute("INSERT INTO audit VALUES (1)");
    let plan = work.strata(&["plan", "-replace", "postgres_table.audit", "-allow-data-loss", "-out", "replace.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let apply = work.strata(&["apply", "replace.plan"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stdout.contains("Apply complete! Resources: 0 added, 0 changed, 1 replaced, 0 destroyed."), "{apply:?}");
    assert_eq!(count_rows(&db, "audit"), 0, "the table was dropped and created again");

    let again = work.strata(&["apply", "replace.plan", "-target", "postgres_table.audit"]);
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.stderr.contains("cannot be used with a saved plan"), "{again:?}");
}

#[test]
fn destroy_target_takes_the_dependants_along() {
    let (db, work) = applied_three_tables();
    let destroy = work.strata(&["destroy", "-auto-approve", "-target", "postgres_table.users"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(destroy.stdout.contains("Destroy complete! Resources: 2 destroyed."), "{destroy:?}");
    assert!(!db.has_table("users") && !db.has_table("orders"));
    assert!(db.has_table("audit"));
    assert_eq!(work.state_addresses(), ["postgres_table.audit"]);
}

#[test]
fn bad_addresses_are_errors_that_say_what_to_use() {
    let (_db, work) = applied_three_tables();
    let typo = work.strata(&["plan", "-target", "postgres_table.user"]);
    assert_eq!(typo.code, 1, "{typo:?}");
    assert!(typo.stderr.contains("no such resource"), "{typo:?}");
    assert!(typo.stderr.contains("did you mean \"postgres_table.users\"?"), "{typo:?}");

    let whole_type = work.strata(&["plan", "-exclude", "postgres_table"]);
    assert_eq!(whole_type.code, 1, "{whole_type:?}");
    assert!(whole_type.stderr.contains("is not a valid address") && whole_type.stderr.contains("TYPE.NAME[KEY]"), "{whole_type:?}");

    work.write("more.tf", "resource \"postgres_table\" \"later\" {\n  name = \"later\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n");
    let not_in_state = work.strata(&["apply", "-auto-approve", "-replace", "postgres_table.later"]);
    assert_eq!(not_in_state.code, 1, "{not_in_state:?}");
    assert!(not_in_state.stderr.contains("-replace postgres_table.later: it is not in the state yet"), "{not_in_state:?}");

    let left_out = work.strata(&["plan", "-replace", "postgres_table.audit", "-target", "postgres_table.orders"]);
    assert_eq!(left_out.code, 1, "{left_out:?}");
    assert!(left_out.stderr.contains("leaves it out of this plan"), "{left_out:?}");
}

#[test]
fn plain_progress_lines_without_a_terminal() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &three_tables());
    let apply = work.apply();
    let progress: Vec<&str> = apply.stdout.lines().filter(|l| l.starts_with("postgres_table.users: ")).collect();
    assert_eq!(progress.len(), 2, "{apply:?}");
    assert_eq!(progress[0], "postgres_table.users: Creating...");
    let done = progress[1].strip_prefix("postgres_table.users: Creation complete after ").unwrap_or_else(|| panic!("{apply:?}"));
    let (seconds, id) = done.split_once("s [id=").unwrap_or_else(|| panic!("{apply:?}"));
    assert!(seconds.parse::<f64>().is_ok() && seconds.contains('.'), "{apply:?}");
    assert!(id.ends_with(']'), "{apply:?}");
    assert!(!apply.stdout.contains('\u{1b}'), "no escape codes in plain output: {apply:?}");
    assert!(apply.stdout.contains("Apply complete! Resources: 3 added, 0 changed, 0 replaced, 0 destroyed.\n\nOutputs:\n\norders_table = "), "{apply:?}");
}
