//! The PostgreSQL provider's safety arguments end to end through the CLI: `lock_timeout` failing a
//! blocked migration fast, `backup_before_drop` keeping a dropped column's rows, and the plan-time
//! refusal of a NOT NULL column without a default on a table that has rows.

use crate::common;

use std::time::{Duration, Instant};

use common::{Run, TestDb, Workdir};

/// A provider block with `settings`, and a table `users` keyed on `id` with `columns` after it.
fn config(settings: &str, columns: &str) -> String {
    format!(
        "provider \"postgres\" {{\n{settings}}}\n\nresource \"postgres_table\" \"users\" {{\n  name = \"users\"\n  column {{\n    name = \"id\"\n    type = \"bigint\"\n    null = false\n  }}\n{columns}  primary_key = [\"id\"]\n}}\n"
    )
}

fn column(name: &str, extra: &str) -> String {
    format!("  column {{\n    name = \"{name}\"\n    type = \"text\"\n{extra}  }}\n")
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

#[test]
fn a_blocked_migration_fails_within_lock_timeout_and_changes_nothing() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let settings = "  lock_timeout = \"1s\"\n";
    work.write("main.tf", &config(settings, ""));
    work.apply();
    work.write("main.tf", &config(settings, &column("email", "")));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("SET LOCAL lock_timeout = '1s'"), "{plan:?}");

    // A long-running report holds the table; ADD COLUMN needs an ACCESS EXCLUSIVE lock.
    let mut report = db.client();
    let report_pid: i32 = report.query_one("SELECT pg_backend_pid()", &[]).expect("the report's pid").get(0);
    report.batch_execute("BEGIN; LOCK TABLE users IN ACCESS SHARE MODE").expect("hold a lock");
    let started = Instant::now();
    let blocked = work.strata(&["apply", "-auto-approve"]);
    let took = started.elapsed();
    println!("strata apply behind a held lock with lock_timeout = 1s: failed after {took:?} (whole command)");
    assert_eq!(blocked.code, 1, "{blocked:?}");
    // The error names the session that holds the lock, and how to end it.
    let held_by = format!("could not get a lock on \"public\".\"users\" within 1s: held by session {report_pid} (");
    assert!(blocked.stderr.contains(&held_by), "{blocked:?}");
    assert!(blocked.stderr.contains("idle in transaction for "), "{blocked:?}");
    assert!(blocked.stderr.contains("last query: BEGIN; LOCK TABLE users IN ACCESS SHARE MODE)"), "{blocked:?}");
    assert!(blocked.stderr.contains(&format!("pg_terminate_backend({report_pid})")), "{blocked:?}");
    assert!(!blocked.stderr.contains("this same strata run"), "{blocked:?}");
    assert!(blocked.stderr.contains("raise lock_timeout"), "{blocked:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert!(db.columns("users").iter().all(|c| !c.starts_with("email ")), "nothing may change");

    report.batch_execute("ROLLBACK").expect("release the lock");
    work.apply();
    work.assert_converged();
}

#[test]
fn backup_before_drop_keeps_a_dropped_columns_rows_where_the_plan_said() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let settings = "  backup_before_drop = true\n";
    work.write("main.tf", &config(settings, &column("email", "")));
    work.apply();
    db.execute("INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com')");
    work.write("main.tf", &config(settings, ""));

    let plan = ok(work.strata(&["plan"]));
    let backup = plan.stdout.split("CREATE TABLE \"strata_backup\".\"").nth(1).and_then(|rest| rest.split('"').next()).expect("the plan names the backup table");
    assert!(backup.starts_with("public_users_email_"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    assert!(db.columns("users").iter().all(|c| !c.starts_with("email ")));
    let rows = db.client().query(&format!("SELECT id, email FROM strata_backup.\"{backup}\" ORDER BY id"), &[]).expect("the backup table exists");
    let kept: Vec<(i64, String)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(kept, [(1, "a@example.com".to_owned()), (2, "b@example.com".to_owned())]);
    work.assert_converged();
}

#[test]
fn a_not_null_column_without_default_on_a_table_with_rows_is_refused_at_plan_time() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &config("", ""));
    work.apply();
    db.execute("INSERT INTO users VALUES (1)");
    work.write("main.tf", &config("", &column("code", "    null = false\n")));

    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("main.tf:4:"), "the error points at the resource: {plan:?}");
    assert!(plan.stderr.contains("column public.users.code is added NOT NULL without a default, but public.users already has rows"), "{plan:?}");
    assert!(plan.stderr.contains("add it with null = true, fill it"), "{plan:?}");

    work.write("main.tf", &config("", &column("code", "    null    = false\n    default = \"'none'\"\n")));
    work.apply();
    work.assert_converged();
}

#[test]
fn a_saved_plan_whose_final_plan_no_longer_works_fails_that_resource_and_changes_nothing() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &config("", ""));
    work.apply();
    // Reviewed while the table is empty, a NOT NULL column without a default is fine.
    work.write("main.tf", &config("", &column("code", "    null = false\n")));
    ok(work.strata(&["plan", "-out", "reviewed.plan"]));

    // Rows arrive between review and merge: the final plan, made with what is live now, refuses.
    db.execute("INSERT INTO users VALUES (1)");
    let applied = work.strata(&["apply", "reviewed.plan"]);
    assert_eq!(applied.code, 1, "{applied:?}");
    assert!(applied.stderr.contains("column public.users.code is added NOT NULL without a default, but public.users already has rows"), "{applied:?}");
    assert!(db.columns("users").iter().all(|c| !c.starts_with("code ")), "nothing may change");
    let ids: Vec<i64> = db.client().query("SELECT id FROM users", &[]).expect("rows").iter().map(|r| r.get(0)).collect();
    assert_eq!(ids, [1]);
}

#[test]
fn a_column_renamed_from_its_old_name_keeps_its_data_and_converges() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &config("", &column("mail", "")));
    work.apply();
    db.execute("INSERT INTO users VALUES (1, 'a@example.com')");
    work.write("main.tf", &config("", &column("email", "    renamed_from = \"mail\"\n")));

    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("RENAME COLUMN \"mail\" TO \"email\""), "{plan:?}");
    assert!(!plan.stdout.contains("DROP COLUMN"), "{plan:?}");
    work.apply();
    let email: String = db.client().query_one("SELECT email FROM users WHERE id = 1", &[]).expect("the renamed column").get(0);
    assert_eq!(email, "a@example.com");
    work.assert_converged();
}

#[test]
fn a_plan_behind_another_sessions_lock_fails_within_lock_timeout_instead_of_hanging() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let settings = "  lock_timeout = \"1s\"\n";
    work.write("main.tf", &config(settings, ""));
    work.apply();
    db.execute("INSERT INTO users VALUES (1), (2)");
    // Planning a NOT NULL column without a default reads the table to see whether it has rows.
    work.write("main.tf", &config(settings, &column("email", "    null = false\n")));

    // An application's migration holds the table; the plan's read waits behind it.
    let mut migration = db.client();
    let migration_pid: i32 = migration.query_one("SELECT pg_backend_pid()", &[]).expect("the migration's pid").get(0);
    migration.batch_execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE").expect("hold the table");
    let started = Instant::now();
    let mut plan = work.command(&["plan"], &[]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("start strata plan");
    while plan.try_wait().expect("poll strata plan").is_none() && started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let finished = plan.try_wait().expect("poll strata plan").is_some();
    if !finished {
        let _ = plan.kill();
    }
    let output = plan.wait_with_output().expect("strata plan's output");
    let took = started.elapsed();
    migration.batch_execute("ROLLBACK").expect("release the table");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(finished, "plan hung behind the lock for {took:?}: {stderr}");
    println!("strata plan behind a held lock with lock_timeout = 1s: failed after {took:?}");
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("lock timeout"), "the error says it waited for a lock: {stderr}");
    assert!(stderr.contains(&format!("waiting for a lock held by session {migration_pid} (")), "the error names the blocking session: {stderr}");
    assert!(stderr.contains("last query: BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE)"), "{stderr}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
}
