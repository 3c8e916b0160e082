//! The data-loss and locking guards against a real PostgreSQL: lock_timeout failing fast behind a
//! held lock, NOT VALID then VALIDATE, backups before drops, the NOT NULL check at plan time,
//! renames that keep the data, and what plan classes as locking.

mod support;

use std::time::{Duration, Instant};

use strata_provider_sdk::{Action, ApplyFailure, ApplyRequest, PlanRequest, PlannedChange, Provider, ProviderError, RefreshRequest, Value};
use support::Fixture;

fn strings(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::from(*s)).collect())
}

fn column(name: &str, type_name: &str) -> Value {
    Value::object([("name", Value::from(name)), ("type", Value::from(type_name))])
}

fn with(mut value: Value, key: &str, field: Value) -> Value {
    value.set(key, field);
    value
}

/// A table keyed on `id integer`, with `columns` after it.
fn table(name: &str, columns: Vec<Value>) -> Value {
    let id = with(column("id", "integer"), "null", Value::Bool(false));
    Value::object([
        ("name", Value::from(name)),
        ("primary_key", strings(&["id"])),
        ("column", Value::List(std::iter::once(id).chain(columns).collect())),
    ])
}

async fn refresh(fixture: &Fixture, state: Value) -> Option<Value> {
    fixture.provider.refresh(&[RefreshRequest { type_name: "postgres_table".into(), state }]).await.expect("refresh").remove(0)
}

async fn live(fixture: &Fixture, name: &str) -> Value {
    refresh(fixture, table(name, vec![])).await.unwrap_or_else(|| panic!("table {name} exists"))
}

async fn plan(fixture: &Fixture, type_name: &str, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError> {
    fixture.provider.plan(&PlanRequest { type_name: type_name.into(), prior: prior.cloned(), desired: desired.clone() }).await
}

async fn apply(fixture: &Fixture, action: Action, prior: &Value, planned: Value) -> Result<Value, ApplyFailure> {
    fixture.provider.apply(&ApplyRequest { type_name: "postgres_table".into(), action, prior: Some(prior.clone()), planned, authorship: None, declared: vec![], progress: Default::default() }).await
}

async fn count(fixture: &Fixture, sql: &str) -> i64 {
    fixture.sql.query_one(sql, &[]).await.unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

/// The `strata_backup.NAME` a `backups` line names.
fn backup_relation(line: &str) -> String {
    let name = line.split_whitespace().nth(1).expect("a backups line names a table");
    let (schema, table) = name.split_once('.').expect("schema.table");
    format!("\"{schema}\".\"{table}\"")
}

#[tokio::test]
async fn a_migration_blocked_by_a_long_transaction_fails_within_lock_timeout() {
    let fixture = Fixture::with_settings("locktimeout", [("lock_timeout", Value::from("1s"))]).await;
    fixture.sql.batch_execute("CREATE TABLE jobs (id int PRIMARY KEY, state text); INSERT INTO jobs VALUES (1, 'queued')").await.unwrap();
    let prior = live(&fixture, "jobs").await;
    let desired = table("jobs", vec![column("state", "text"), column("note", "text")]);
    let planned = plan(&fixture, "postgres_table", Some(&prior), &desired).await.unwrap();
    assert_eq!(planned.operations[0], "SET LOCAL lock_timeout = '1s'", "{:?}", planned.operations);

    // A long report holds ACCESS SHARE; ADD COLUMN needs ACCESS EXCLUSIVE.
    let report = support::connect(&fixture.name).await;
    let report_pid: i32 = report.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    report.batch_execute("BEGIN; LOCK TABLE jobs IN ACCESS SHARE MODE").await.unwrap();
    let started = Instant::now();
    let failure = apply(&fixture, Action::Update, &prior, planned.planned.clone()).await.expect_err("the lock is held");
    let waited = started.elapsed();
    println!("lock_timeout = 1s: apply gave up after {waited:?}");
    let held_by = format!("could not get a lock on \"public\".\"jobs\" within 1s: held by session {report_pid} (");
    assert!(failure.error.message.starts_with(&held_by), "{}", failure.error);
    assert!(failure.error.hint.as_deref().is_some_and(|h| h.contains("raise lock_timeout")), "{}", failure.error);
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(count(&fixture, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'note'").await, 0);

    report.batch_execute("ROLLBACK").await.unwrap();
    apply(&fixture, Action::Update, &prior, planned.planned).await.expect("applies once the lock is free");
    assert_eq!(count(&fixture, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'jobs' AND column_name = 'note'").await, 1);
    fixture.finish().await;
}

#[tokio::test]
async fn constraints_on_a_filled_table_are_added_not_valid_then_validated() {
    let fixture = Fixture::new("notvalid").await;
    fixture
        .sql
        .batch_execute("CREATE TABLE teams (id int PRIMARY KEY); INSERT INTO teams VALUES (1); CREATE TABLE members (id int PRIMARY KEY, team_id int, age int); INSERT INTO members VALUES (1, 1, 30)")
        .await
        .unwrap();
    let prior = live(&fixture, "members").await;
    let mut desired = table("members", vec![column("team_id", "integer"), column("age", "integer")]);
    desired.set("check", Value::List(vec![Value::object([("expression", Value::from("age >= 0"))])]));
    let fk = Value::object([("columns", strings(&["team_id"])), ("references", Value::from("teams")), ("ref_columns", strings(&["id"]))]);
    desired.set("foreign_key", Value::List(vec![fk]));
    let planned = plan(&fixture, "postgres_table", Some(&prior), &desired).await.unwrap();
    let adds = planned.operations.iter().filter(|o| o.contains(" ADD CONSTRAINT ") && o.ends_with(" NOT VALID")).count();
    let validates = planned.operations.iter().filter(|o| o.contains(" VALIDATE CONSTRAINT ") && o.contains("-- checks existing rows")).count();
    assert_eq!((adds, validates), (2, 2), "{:#?}", planned.operations);
    assert_eq!(planned.operations.iter().filter(|o| *o == "COMMIT").count(), 2, "two transactions: {:#?}", planned.operations);

    let applied = apply(&fixture, Action::Update, &prior, planned.planned).await.unwrap();
    let validated = "SELECT count(*) FROM pg_constraint WHERE conrelid = 'members'::regclass AND contype IN ('c', 'f') AND convalidated";
    assert_eq!(count(&fixture, validated).await, 2);
    let again = refresh(&fixture, applied).await;
    assert_eq!(plan(&fixture, "postgres_table", again.as_ref(), &desired).await.unwrap().action, Action::NoOp);
    fixture.finish().await;
}

#[tokio::test]
async fn backup_before_drop_keeps_the_rows_of_a_dropped_column_and_table() {
    let fixture = Fixture::with_settings("backup", [("backup_before_drop", Value::Bool(true))]).await;
    fixture.sql.batch_execute("CREATE TABLE users (id int PRIMARY KEY, email text); INSERT INTO users VALUES (1, 'a@example.com'), (2, 'b@example.com')").await.unwrap();
    let prior = live(&fixture, "users").await;
    let planned = plan(&fixture, "postgres_table", Some(&prior), &table("users", vec![])).await.unwrap();
    assert_eq!(planned.data_loss, ["drops column public.users.email and the data in it"]);
    assert_eq!(planned.backups.len(), 1, "{:?}", planned.backups);
    let column_backup = backup_relation(&planned.backups[0]);
    assert!(planned.operations.iter().any(|o| o.contains(&column_backup)), "the operations say where: {:#?}", planned.operations);

    let applied = apply(&fixture, Action::Update, &prior, planned.planned).await.unwrap();
    let kept = fixture.sql.query_one(&format!("SELECT string_agg(id || '=' || email, ',' ORDER BY id) FROM {column_backup}"), &[]).await.unwrap();
    assert_eq!(kept.get::<_, String>(0), "1=a@example.com,2=b@example.com");

    let deletion = fixture.provider.plan_delete("postgres_table", &applied).await.unwrap();
    assert_eq!(deletion.backups.len(), 1);
    let table_backup = backup_relation(&deletion.backups[0]);
    apply(&fixture, Action::Delete, &applied, Value::Null).await.unwrap();
    assert_eq!(count(&fixture, "SELECT count(*) FROM pg_class WHERE relname = 'users'").await, 0);
    assert_eq!(count(&fixture, &format!("SELECT count(*) FROM {table_backup}")).await, 2);
    fixture.finish().await;
}

#[tokio::test]
async fn a_not_null_column_without_default_on_a_filled_table_is_refused_at_plan_time() {
    let fixture = Fixture::new("notnull").await;
    fixture.sql.batch_execute("CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1); CREATE TABLE drafts (id int PRIMARY KEY)").await.unwrap();
    let required = with(column("code", "text"), "null", Value::Bool(false));

    let orders = live(&fixture, "orders").await;
    let error = plan(&fixture, "postgres_table", Some(&orders), &table("orders", vec![required.clone()])).await.expect_err("orders has rows");
    assert!(error.message.starts_with("column public.orders.code is added NOT NULL without a default, but public.orders already has rows"), "{error}");
    let hint = error.hint.unwrap_or_default();
    assert!(hint.contains("add it with null = true") && hint.contains("or give it a default"), "{hint}");

    let defaulted = with(required.clone(), "default", Value::from("'none'"));
    assert_eq!(plan(&fixture, "postgres_table", Some(&orders), &table("orders", vec![defaulted])).await.unwrap().action, Action::Update);
    let drafts = live(&fixture, "drafts").await;
    assert_eq!(plan(&fixture, "postgres_table", Some(&drafts), &table("drafts", vec![required])).await.unwrap().action, Action::Update, "an empty table takes it");
    fixture.finish().await;
}

#[tokio::test]
async fn renamed_tables_and_columns_keep_their_data_and_then_plan_nothing() {
    let fixture = Fixture::new("rename").await;
    fixture.sql.batch_execute("CREATE TABLE people (id int PRIMARY KEY, mail text); INSERT INTO people VALUES (1, 'a@example.com')").await.unwrap();
    let prior = live(&fixture, "people").await;
    let desired = table("customers", vec![with(column("email", "text"), "renamed_from", Value::from("mail"))]);
    let planned = plan(&fixture, "postgres_table", Some(&prior), &desired).await.unwrap();
    assert_eq!(planned.action, Action::Update);
    assert_eq!(
        planned.operations,
        [
            "SET LOCAL lock_timeout = '5s'",
            "ALTER TABLE \"public\".\"people\" RENAME TO \"customers\"",
            "ALTER INDEX IF EXISTS \"public\".\"people_pkey\" RENAME TO \"customers_pkey\"",
            "ALTER TABLE \"public\".\"customers\" RENAME COLUMN \"mail\" TO \"email\"",
        ]
    );
    assert!(planned.data_loss.is_empty() && planned.locking.is_empty());

    let applied = apply(&fixture, Action::Update, &prior, planned.planned).await.unwrap();
    let row = fixture.sql.query_one("SELECT email FROM customers WHERE id = 1", &[]).await.unwrap();
    assert_eq!(row.get::<_, String>(0), "a@example.com");
    let again = refresh(&fixture, applied).await;
    let replanned = plan(&fixture, "postgres_table", again.as_ref(), &desired).await.unwrap();
    assert_eq!(replanned.action, Action::NoOp, "renamed_from is configuration only: {:?}", replanned.operations);
    fixture.finish().await;
}

#[tokio::test]
async fn plan_says_which_changes_lock_a_live_table() {
    let fixture = Fixture::new("locking").await;
    fixture.sql.batch_execute("CREATE TABLE events (id int PRIMARY KEY, at timestamptz)").await.unwrap();
    let index = |table: &str, concurrently: bool| {
        Value::object([("table", Value::from(table)), ("name", Value::from("events_at")), ("columns", strings(&["at"])), ("concurrently", Value::Bool(concurrently))])
    };
    let blocking = plan(&fixture, "postgres_index", None, &index("events", false)).await.unwrap();
    assert_eq!(blocking.locking, ["builds index events_at on public.events under a SHARE lock: writes wait until it is built (concurrently = true does not block them)"]);
    assert!(plan(&fixture, "postgres_index", None, &index("events", true)).await.unwrap().locking.is_empty());
    assert!(plan(&fixture, "postgres_index", None, &index("future_events", false)).await.unwrap().locking.is_empty(), "a table made in the same apply blocks nobody");

    let prior = live(&fixture, "events").await;
    let at = column("at", "timestamp with time zone");
    let adding = |extra: Value| table("events", vec![at.clone(), extra]);
    let volatile = plan(&fixture, "postgres_table", Some(&prior), &adding(with(column("token", "uuid"), "default", Value::from("gen_random_uuid()")))).await.unwrap();
    assert_eq!(volatile.locking.len(), 1, "{:?}", volatile.locking);
    assert!(volatile.locking[0].contains("to fill new column token from a volatile default"));
    let stable = plan(&fixture, "postgres_table", Some(&prior), &adding(with(column("seen", "timestamptz"), "default", Value::from("now()")))).await.unwrap();
    assert!(stable.locking.is_empty(), "now() is stable: PostgreSQL stores one value, no rewrite: {:?}", stable.locking);
    let retyped = plan(&fixture, "postgres_table", Some(&prior), &table("events", vec![column("at", "text")])).await.unwrap();
    assert!(retyped.locking[0].starts_with("rewrites public.events under an ACCESS EXCLUSIVE lock to change column at"), "{:?}", retyped.locking);
    fixture.finish().await;
}

#[tokio::test]
async fn a_check_the_rows_break_is_dropped_again_and_the_rest_of_the_change_kept() {
    let fixture = Fixture::new("validate").await;
    fixture.sql.batch_execute("CREATE TABLE scores (id int PRIMARY KEY, points int); INSERT INTO scores VALUES (1, -5)").await.unwrap();
    let prior = live(&fixture, "scores").await;
    let mut desired = table("scores", vec![column("points", "integer"), column("note", "text")]);
    desired.set("check", Value::List(vec![Value::object([("expression", Value::from("points >= 0"))])]));
    let planned = plan(&fixture, "postgres_table", Some(&prior), &desired).await.unwrap();

    let failure = apply(&fixture, Action::Update, &prior, planned.planned).await.expect_err("a row breaks the check");
    assert!(failure.error.message.contains("violated by some row"), "{}", failure.error);
    assert!(failure.error.hint.as_deref().is_some_and(|h| h.contains("dropped again")), "{}", failure.error);
    assert_eq!(count(&fixture, "SELECT count(*) FROM pg_constraint WHERE conname = 'scores_points_check'").await, 0, "no unchecked constraint is left");
    assert_eq!(count(&fixture, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'scores' AND column_name = 'note'").await, 1);
    let partial = failure.partial.expect("the first transaction committed, so state must learn of it");

    fixture.sql.batch_execute("UPDATE scores SET points = 0").await.unwrap();
    let again = refresh(&fixture, partial).await;
    let fixed = plan(&fixture, "postgres_table", again.as_ref(), &desired).await.unwrap();
    assert!(fixed.operations.iter().all(|o| !o.contains("\"note\"")), "the column is there already: {:?}", fixed.operations);
    apply(&fixture, Action::Update, again.as_ref().unwrap(), fixed.planned).await.unwrap();
    assert_eq!(count(&fixture, "SELECT count(*) FROM pg_constraint WHERE conname = 'scores_points_check' AND convalidated").await, 1);
    fixture.finish().await;
}
