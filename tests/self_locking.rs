//! strata never deadlocks or waits out a lock timeout against itself: changes that lock the same
//! relation run one after the other (concurrent index builds on one table; an index build and a
//! `CREATE TABLE` whose foreign key references that table), a deadlock with someone else is
//! retried once, and a concurrent build that failed leaves no invalid index behind.

use crate::common;

use common::backend::{finish, spawn, wait_for};
use common::{TestDb, Workdir};

/// How many fresh databases each race is run on: before the engine serialized them, two of three
/// runs deadlocked.
const FRESH_RUNS: usize = 5;

/// Rows in `users`, so that index builds take long enough to overlap.
const ROWS: u32 = 100_000;

const USERS: &str = r#"
resource "postgres_table" "users" {
  name = "users"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "email"
    type = "text"
  }
  column {
    name = "team"
    type = "text"
  }
  primary_key = ["id"]
}
"#;

fn concurrent_index(name: &str, column: &str) -> String {
    format!(
        "\nresource \"postgres_index\" \"{name}\" {{\n  table        = postgres_table.users.id\n  name         = \"{name}\"\n  columns      = [\"{column}\"]\n  concurrently = true\n}}\n"
    )
}

const ORDERS: &str = r#"
resource "postgres_table" "orders" {
  name = "orders"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "user_id"
    type = "bigint"
  }
  foreign_key {
    columns     = ["user_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
  }
}
"#;

/// A fresh database with USERS applied and filled.
fn users_with_rows() -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", USERS);
    work.apply();
    db.execute(&format!("INSERT INTO users SELECT g, 'user' || g || '@example.com', 'team' || g % 100 FROM generate_series(1, {ROWS}) g"));
    (db, work)
}

/// `(name, valid)` of every index on `users` other than its primary key.
fn user_indexes(db: &TestDb) -> Vec<(String, bool)> {
    let sql = "SELECT c.relname::text, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = 'users'::regclass AND NOT i.indisprimary ORDER BY 1";
    db.client().query(sql, &[]).expect("read pg_index").iter().map(|row| (row.get(0), row.get(1))).collect()
}

fn all_valid(names: &[&str]) -> Vec<(String, bool)> {
    names.iter().map(|name| ((*name).to_owned(), true)).collect()
}

#[test]
fn concurrent_index_builds_on_one_table_never_deadlock() {
    for run in 1..=FRESH_RUNS {
        let (db, work) = users_with_rows();
        let indexes = ["users_email", "users_id_email", "users_team"];
        let config = [concurrent_index(indexes[0], "email"), concurrent_index(indexes[1], "id"), concurrent_index(indexes[2], "team")].concat();
        work.write("main.tf", &format!("{USERS}{config}"));
        let applied = work.strata(&["apply", "-auto-approve", "-parallelism", "4"]);
        assert_eq!(applied.code, 0, "fresh run {run}: {applied:?}");
        assert!(!applied.output().contains("deadlock"), "fresh run {run}: {applied:?}");
        assert_eq!(user_indexes(&db), all_valid(&indexes), "fresh run {run}");
        work.assert_converged();
    }
}

#[test]
fn an_index_build_and_a_foreign_key_to_its_table_never_collide() {
    for run in 1..=FRESH_RUNS {
        let (db, work) = users_with_rows();
        work.write("main.tf", &format!("{USERS}{}{ORDERS}", concurrent_index("users_team", "team")));
        let applied = work.strata(&["apply", "-auto-approve"]);
        assert_eq!(applied.code, 0, "fresh run {run}: {applied:?}");
        assert_eq!(user_indexes(&db), all_valid(&["users_team"]), "fresh run {run}");
        assert!(db.catalog().iter().any(|line| line.starts_with("constraint orders_user_id_fkey FOREIGN KEY (user_id) REFERENCES users(id)")), "fresh run {run}");
        work.assert_converged();
    }
}

/// Whether a strata session of this database waits for a lock while building an index.
fn strata_build_waits(db: &TestDb) -> Option<()> {
    let sql = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE 'strata%'
                 AND query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'";
    (db.client().query_one(sql, &[]).expect("read pg_stat_activity").get::<_, i64>(0) > 0).then_some(())
}

/// Deadlocks the server broke in this database.
fn deadlocks(db: &TestDb) -> i64 {
    let sql = "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()";
    db.client().query_one(sql, &[]).expect("read pg_stat_database").get(0)
}

#[test]
fn a_deadlocked_concurrent_build_is_retried_and_leaves_no_invalid_index() {
    let (db, work) = users_with_rows();
    work.write("main.tf", &format!("{USERS}{}", concurrent_index("users_email", "email")));

    // An application's transaction writes to users: the concurrent build waits for it to end...
    let mut application = db.client();
    application.batch_execute("SET deadlock_timeout = '60s'; BEGIN; INSERT INTO users VALUES (0, 'app@example.com', 'app')").expect("open the transaction");
    let apply = spawn(&work, &["apply", "-auto-approve"]);
    wait_for("the index build to wait for the application", || strata_build_waits(&db));
    // ...which then asks for a lock the build holds. strata's session, which waits with the
    // server's deadlock_timeout (1s, shorter than this one's), finds the deadlock and is the one cancelled.
    application.batch_execute("LOCK TABLE users IN SHARE UPDATE EXCLUSIVE MODE").expect("the application's lock, granted once strata gives way");
    application.batch_execute("COMMIT").expect("commit");

    let applied = finish(apply);
    assert_eq!(applied.code, 0, "the deadlock is retried: {applied:?}");
    // The server counts the deadlock it broke: the race did happen, and strata rode it out.
    wait_for("the server to count the deadlock", || (deadlocks(&db) > 0).then_some(()));
    assert_eq!(user_indexes(&db), all_valid(&["users_email"]), "rebuilt, and no invalid index left");
    work.assert_converged();
}

#[test]
fn an_invalid_managed_index_is_planned_for_a_rebuild() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{USERS}{}", concurrent_index("users_email", "email")));
    work.apply();
    // What a concurrent build that failed after its catalog entry leaves.
    db.execute("UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'users_email'::regclass");
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("index users_email is invalid (left by a failed concurrent build); it will be rebuilt"), "{plan:?}");
    work.apply();
    assert_eq!(user_indexes(&db), all_valid(&["users_email"]));
    work.assert_converged();
}
