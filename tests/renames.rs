//! Renames are renames: PostgreSQL renames a table or a column in place, and every index on it
//! follows, so a plan shows the rename alone (no index dropped and built again, no spurious lines)
//! and the indexes keep their identity (the same `pg_class` oid) through the apply.

use crate::common;

use common::{Run, TestDb, Workdir};

/// A table `table` with `id` and the text column `column` (renamed from `old_column` when given),
/// an index in the table block, and two `postgres_index` on the column: one on it, one on an
/// expression of it with a predicate.
fn config(table: &str, column: &str, old_column: Option<&str>) -> String {
    let column_from = old_column.map(|old| format!("    renamed_from = \"{old}\"\n")).unwrap_or_default();
    format!(
        r#"resource "postgres_table" "users" {{
  name = "{table}"
  column {{
    name = "id"
    type = "bigint"
    null = false
  }}
  column {{
    name = "{column}"
    type = "text"
{column_from}  }}
  primary_key = ["id"]
  index {{
    name    = "users_by_id_and_{column}"
    columns = ["id", "{column}"]
  }}
}}

resource "postgres_index" "by_mail" {{
  name    = "users_by_mail"
  table   = postgres_table.users.name
  columns = ["{column}"]
  include = ["id"]
}}

resource "postgres_index" "by_lower_mail" {{
  name         = "users_by_lower_mail"
  table        = postgres_table.users.name
  columns      = ["lower({column})"]
  where        = "{column} IS NOT NULL"
  unique       = true
  concurrently = true
}}
"#
    )
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

/// The oids of the indexes on `table`, by name.
fn index_oids(db: &TestDb, table: &str) -> Vec<(String, u32)> {
    let sql = "SELECT c.relname::text, c.oid::oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = to_regclass($1)::oid ORDER BY 1";
    db.client().query(sql, &[&table]).expect("read the indexes").iter().map(|row| (row.get(0), row.get(1))).collect()
}

/// The configuration with the table `users` and its column `mail`, applied.
fn applied() -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &config("users", "mail", None));
    work.apply();
    (db, work)
}

fn assert_rebuilds_no_index(plan: &Run) {
    for rebuilt in ["DROP INDEX", "CREATE INDEX", "CREATE UNIQUE INDEX", "must be replaced"] {
        assert!(!plan.stdout.contains(rebuilt), "a rename rebuilds nothing ({rebuilt}): {plan:?}");
    }
}

/// The lines of a plan that change something (`+`, `-`, `~` attribute lines).
fn changed_lines(plan: &Run) -> Vec<String> {
    plan.stdout.lines().map(str::trim_start).filter(|l| l.starts_with(['+', '-', '~']) && !l.starts_with("-/+")).map(str::to_owned).collect()
}

#[test]
fn a_column_renamed_under_its_indexes_keeps_them_and_plans_only_the_rename() {
    let (db, work) = applied();
    db.execute("INSERT INTO users VALUES (1, 'A@example.com'), (2, NULL)");
    let before = index_oids(&db, "users");

    work.write("main.tf", &config("users", "email", Some("mail")));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("RENAME COLUMN \"mail\" TO \"email\""), "{plan:?}");
    assert_rebuilds_no_index(&plan);
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    // The column shows as renamed, not as one column dropped and another added.
    let lines = changed_lines(&plan);
    assert!(lines.iter().any(|l| l.starts_with("~ name") && l.ends_with("= \"mail\" -> \"email\"")), "{plan:?}");
    assert!(!lines.iter().any(|l| l.contains("\"mail\" -> null") || l.contains("renamed_from")), "{plan:?}");

    ok(work.strata(&["apply", "-auto-approve"]));
    let after: Vec<u32> = index_oids(&db, "users").into_iter().map(|(_, oid)| oid).collect();
    let kept: Vec<u32> = before.iter().map(|(_, oid)| *oid).collect();
    assert_eq!(after, kept, "every index is the same object after the rename: {before:?}");
    let email: String = db.client().query_one("SELECT email FROM users WHERE lower(email) = 'a@example.com'", &[]).expect("the renamed column").get(0);
    assert_eq!(email, "A@example.com");

    // The next plan has nothing to say, not even about `renamed_from` or `concurrently`.
    let next = ok(work.strata(&["plan"]));
    assert!(changed_lines(&next).is_empty(), "{next:?}");
    work.assert_converged();
    // `renamed_from` may stay in the configuration for ever: it names no live column any more.
    work.write("main.tf", &config("users", "email", None));
    work.assert_converged();
}

#[test]
fn a_table_renamed_under_its_indexes_keeps_them() {
    let (db, work) = applied();
    let oids = |table| {
        let mut oids: Vec<u32> = index_oids(&db, table).into_iter().map(|(_, oid)| oid).collect();
        oids.sort();
        oids
    };
    let before = oids("users");

    work.write("main.tf", &config("accounts", "mail", None));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("RENAME TO \"accounts\""), "{plan:?}");
    assert_rebuilds_no_index(&plan);
    ok(work.strata(&["apply", "-auto-approve"]));
    assert_eq!(oids("accounts"), before, "every index is the same object after the rename");
    work.assert_converged();
}

#[test]
fn a_column_renamed_and_an_index_changed_in_one_plan_rebuilds_only_that_index() {
    let (db, work) = applied();
    let kept = index_oids(&db, "users").into_iter().find(|(name, _)| name == "users_by_mail").expect("the plain index").1;

    // Beside the rename, the expression index's predicate changes: that index alone is rebuilt.
    let changed = config("users", "email", Some("mail")).replace("where        = \"email IS NOT NULL\"", "where        = \"email <> ''\"");
    work.write("main.tf", &changed);
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 1 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("postgres_index.by_lower_mail must be replaced"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
    let still = index_oids(&db, "users").into_iter().find(|(name, _)| name == "users_by_mail").expect("the plain index").1;
    assert_eq!(still, kept, "the index whose only change is the rename is kept");
    work.assert_converged();
}
