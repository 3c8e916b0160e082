//! The PostgreSQL state backend, workspaces and `init -migrate-state`, against a real PostgreSQL:
//! each test's database is both what strata manages and where its state lives.

use crate::common;

use std::os::unix::fs::PermissionsExt;

use common::backend::{backend_block, backend_block_for, password, state_json, state_row, SCHEMA};
use common::{assert_valid_state, Run, TestDb, Workdir, USERS_AND_ORDERS};

/// Asserts that nothing `runs` printed shows the password.
fn assert_password_hidden(runs: &[&Run], password: &str) {
    for run in runs {
        assert!(!run.output().contains(password), "the backend password leaked: {run:?}");
    }
}

fn ok(work: &Workdir, args: &[&str]) -> Run {
    let run = work.strata(args);
    assert_eq!(run.code, 0, "strata {args:?} failed: {run:?}");
    run
}

fn postgres_backed(db: &TestDb, password: &str) -> Workdir {
    let work = Workdir::new(db);
    work.write("backend.tf", &backend_block(db, password));
    work.write("main.tf", USERS_AND_ORDERS);
    work
}

#[test]
fn apply_plan_and_state_commands_go_through_the_postgres_backend() {
    let db = TestDb::new();
    let secret = password();
    let work = postgres_backed(&db, &secret);
    let init = ok(&work, &["init"]);
    assert!(init.stdout.contains("Initialized the PostgreSQL state"), "{init:?}");
    let backend_record = work.path().join(".strata/backend.json");
    assert_eq!(std::fs::metadata(&backend_record).expect("backend record").permissions().mode() & 0o777, 0o600);

    let apply = work.apply();
    let (serial, lineage) = state_row(&db, "default").expect("a state row for the default workspace");
    assert!(serial >= 2, "one write per resource: serial {serial}");
    assert_eq!(journal_rows(&db), 0, "the run's last write folds its journal into the state row");
    assert!(work.state_text().is_none(), "no local state file is written");
    assert_valid_state(&state_json(&db, "default"));
    work.assert_converged();

    let pull = ok(&work, &["state", "pull"]);
    let pulled: serde_json::Value = serde_json::from_str(&pull.stdout).expect("state pull prints JSON");
    assert_eq!(pulled["serial"].as_i64(), Some(serial));
    assert_eq!(pulled["lineage"].as_str(), Some(lineage.as_str()));
    let list = ok(&work, &["state", "list"]);
    assert_eq!(list.stdout.lines().collect::<Vec<_>>(), ["postgres_table.orders", "postgres_table.users"]);
    let show = ok(&work, &["state", "show", "postgres_table.users"]);
    assert!(show.stdout.contains("name"), "{show:?}");
    let output = ok(&work, &["output", "orders_table"]);
    assert!(output.stdout.contains("orders"), "{output:?}");

    let mv = ok(&work, &["state", "mv", "postgres_table.orders", "postgres_table.orders2"]);
    assert_eq!(state_row(&db, "default").map(|r| r.0), Some(serial + 1), "a state edit is one write");
    ok(&work, &["state", "mv", "postgres_table.orders2", "postgres_table.orders"]);
    let plan = ok(&work, &["plan"]);
    assert!(plan.stdout.contains("No changes."), "{plan:?}");
    assert_password_hidden(&[&init, &apply, &pull, &list, &show, &mv, &plan], &secret);
}

#[test]
fn workspaces_keep_separate_states() {
    let db = TestDb::new();
    let secret = password();
    let work = postgres_backed(&db, &secret);
    work.write("main.tf", &format!("{USERS_AND_ORDERS}\noutput \"workspace\" {{\n  value = terraform.workspace\n}}\n"));
    let new = ok(&work, &["workspace", "new", "staging"]);
    assert_eq!(ok(&work, &["workspace", "show"]).stdout.trim(), "staging");
    let list = ok(&work, &["workspace", "list"]);
    assert_eq!(list.stdout.lines().collect::<Vec<_>>(), ["  default", "* staging"]);

    let apply = work.apply();
    assert_eq!(state_json(&db, "staging")["outputs"]["workspace"]["value"], "staging", "terraform.workspace names the workspace");
    assert!(state_row(&db, "default").is_none(), "the default workspace has no state");
    let in_staging = ok(&work, &["state", "list"]);
    assert_eq!(in_staging.stdout.lines().count(), 2);

    ok(&work, &["workspace", "select", "default"]);
    let plan = ok(&work, &["plan"]);
    assert!(plan.stdout.contains("2 to add"), "default starts empty: {plan:?}");
    let staged = work.strata_env(&["state", "list"], &[("STRATA_WORKSPACE", "staging")]);
    assert_eq!(staged.stdout.lines().count(), 2, "STRATA_WORKSPACE overrides the selection: {staged:?}");

    let refused = work.strata(&["workspace", "delete", "staging"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("still manages 2 resource(s)") && refused.stderr.contains("-force"), "{refused:?}");
    let default = work.strata(&["workspace", "delete", "default"]);
    assert!(default.code == 1 && default.stderr.contains("cannot be deleted"), "{default:?}");
    let missing = work.strata(&["workspace", "select", "nope"]);
    assert!(missing.code == 1 && missing.stderr.contains("does not exist"), "{missing:?}");
    ok(&work, &["workspace", "delete", "-force", "staging"]);
    assert!(state_row(&db, "staging").is_none());
    assert_eq!(ok(&work, &["workspace", "list"]).stdout.trim(), "* default");
    assert_password_hidden(&[&new, &list, &apply, &in_staging, &plan, &refused], &secret);
}

#[test]
fn local_workspaces_live_under_strata_state_d() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", USERS_AND_ORDERS);
    ok(&work, &["workspace", "new", "dev"]);
    work.apply();
    let dev_state = work.path().join("strata.state.d/dev/strata.state.json");
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&dev_state).expect("dev's state file")).expect("JSON");
    assert_eq!(state["resources"].as_array().map(Vec::len), Some(2));
    assert!(work.state_text().is_none(), "the default workspace's file is untouched");
    let current = work.strata(&["workspace", "delete", "dev"]);
    assert!(current.code == 1 && current.stderr.contains("is the current workspace"), "{current:?}");
    ok(&work, &["workspace", "select", "default"]);
    ok(&work, &["workspace", "delete", "-force", "dev"]);
    assert!(!dev_state.exists());
}

/// The state's identity: serial, lineage and what it manages.
fn identity(state: &serde_json::Value) -> (i64, String, serde_json::Value) {
    (state["serial"].as_i64().unwrap_or(-1), state["lineage"].as_str().unwrap_or_default().to_owned(), state["resources"].clone())
}

#[test]
fn migrate_state_local_to_postgres_and_back_keeps_serial_and_lineage() {
    let db = TestDb::new();
    let secret = password();
    let work = Workdir::new(&db);
    work.write("main.tf", USERS_AND_ORDERS);
    work.apply();
    let local = identity(&work.state());

    work.write("backend.tf", &backend_block(&db, &secret));
    let refused = work.strata(&["plan"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("run strata init -migrate-state"), "an uninitialized backend must not start empty: {refused:?}");
    let plain_init = work.strata(&["init"]);
    assert!(plain_init.code == 1 && plain_init.stderr.contains("-migrate-state"), "{plain_init:?}");

    let migrate = ok(&work, &["init", "-migrate-state"]);
    assert_eq!(identity(&state_json(&db, "default")), local, "moved exactly: no serial lost or bumped");
    work.assert_converged();

    // A change while in postgres, so the way back carries a newer serial.
    let id_column = "name = \"id\"\n    type = \"bigint\"\n  }";
    let with_email = format!("{id_column}\n  column {{\n    name = \"email\"\n    type = \"text\"\n  }}");
    work.write("main.tf", &USERS_AND_ORDERS.replacen(id_column, &with_email, 1));
    work.apply();
    let remote = identity(&state_json(&db, "default"));
    assert!(remote.0 > local.0 && remote.1 == local.1, "{remote:?} after {local:?}");

    std::fs::remove_file(work.path().join("backend.tf")).expect("remove the backend block");
    let stale = work.strata(&["plan"]);
    assert!(stale.code == 1 && stale.stderr.contains("backend changed since strata init"), "{stale:?}");
    let back = ok(&work, &["init", "-migrate-state"]);
    assert_eq!(identity(&work.state()), remote, "moved back exactly");
    work.assert_converged();
    assert_password_hidden(&[&refused, &plain_init, &migrate, &stale, &back], &secret);
}

#[test]
fn migrate_state_refuses_to_overwrite_another_lineage_unless_forced() {
    let db = TestDb::new();
    let secret = password();
    // Another directory already keeps a "staging" state in the backend.
    let other = Workdir::new(&db);
    other.write("backend.tf", &backend_block(&db, &secret));
    other.write("main.tf", "");
    ok(&other, &["workspace", "new", "staging"]);
    let (_, their_lineage) = state_row(&db, "staging").expect("their staging row");

    let work = Workdir::new(&db);
    work.write("main.tf", USERS_AND_ORDERS);
    ok(&work, &["workspace", "new", "staging"]);
    work.apply();
    work.write("backend.tf", &backend_block(&db, &secret));
    let refused = work.strata(&["init", "-migrate-state"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("workspace \"staging\"") && refused.stderr.contains(&their_lineage), "{refused:?}");
    assert!(refused.stderr.contains("-force-copy"), "{refused:?}");
    assert_eq!(state_row(&db, "staging").map(|r| r.1), Some(their_lineage), "nothing was written");

    ok(&work, &["init", "-migrate-state", "-force-copy"]);
    let ours = std::fs::read_to_string(work.path().join("strata.state.d/staging/strata.state.json")).expect("our staging state");
    let ours: serde_json::Value = serde_json::from_str(&ours).expect("JSON");
    assert_eq!(identity(&state_json(&db, "staging")), identity(&ours));
    assert_password_hidden(&[&refused], &secret);
}

#[test]
fn a_bad_backend_block_is_reported_where_it_is() {
    let work = Workdir::offline();
    work.write("main.tf", "strata {\n  backend \"postgres\" {\n    schema_name = \"s\"\n    bogus       = 1\n  }\n}\n");
    let unknown = work.strata(&["validate"]);
    assert!(unknown.code == 1 && unknown.stderr.contains("main.tf:4:5") && unknown.stderr.contains("bogus"), "{unknown:?}");
    work.write("main.tf", "strata {\n  backend \"s3\" {\n  }\n}\n");
    let kind = work.strata(&["validate"]);
    assert!(kind.code == 1 && kind.stderr.contains("main.tf:2:3") && kind.stderr.contains("unknown state backend \"s3\""), "{kind:?}");
    work.write("main.tf", "strata {\n  backend \"postgres\" {\n  }\n}\n");
    let no_conn = work.strata_env(&["plan"], &[("PG_CONN_STR", "")]);
    assert!(no_conn.code == 1 && no_conn.stderr.contains("main.tf:2:3") && no_conn.stderr.contains("PG_CONN_STR"), "{no_conn:?}");
}

#[test]
fn an_unreachable_backend_fails_without_showing_the_password() {
    let work = Workdir::offline();
    let secret = password();
    let conn_str = format!("host=127.0.0.1 port=1 user=postgres dbname=nowhere password={secret} connect_timeout=2");
    work.write("main.tf", "strata {\n  backend \"postgres\" {}\n}\n");
    let run = work.strata_env(&["init"], &[("PG_CONN_STR", &conn_str)]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("cannot connect to the state backend") && run.stderr.contains(SCHEMA), "{run:?}");
    assert_password_hidden(&[&run], &secret);
}

#[test]
fn an_encrypted_state_is_sealed_in_the_postgres_backend_too() {
    let db = TestDb::new();
    let secret = password();
    let work = Workdir::new(&db);
    let encryption = "strata {\n  encryption {\n    key_env = \"STRATA_TEST_STATE_KEY\"\n  }\n";
    work.write("backend.tf", &backend_block(&db, &secret).replace("strata {\n", encryption));
    work.write("main.tf", USERS_AND_ORDERS);
    let key = [("STRATA_TEST_STATE_KEY", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")];
    let apply = work.strata_env(&["apply", "-auto-approve"], &key);
    assert_eq!(apply.code, 0, "{apply:?}");
    let sql = format!("SELECT data FROM {SCHEMA}.states WHERE workspace = 'default'");
    let stored: Vec<u8> = db.client().query_one(&sql, &[]).expect("a state row").get(0);
    assert!(!String::from_utf8_lossy(&stored).contains("postgres_table"), "the row holds the sealed state");
    let list = work.strata_env(&["state", "list"], &key);
    assert_eq!(list.stdout.lines().count(), 2, "state commands open it transparently: {list:?}");
    let without_key = work.strata(&["state", "list"]);
    assert_eq!(without_key.code, 1, "{without_key:?}");
    assert_password_hidden(&[&apply, &list, &without_key], &secret);
}

#[test]
fn an_error_quoting_the_conn_str_line_does_not_show_its_password() {
    let work = Workdir::offline();
    let secret = password();
    work.write("main.tf", &backend_block_for(&format!("host=127.0.0.1 user=postgres password={secret} sslmode=bogus")));
    let keyword = work.strata(&["plan"]);
    assert!(keyword.code == 1 && keyword.stderr.contains("main.tf:3:5") && keyword.stderr.contains("conn_str ="), "the error quotes the line: {keyword:?}");
    assert!(keyword.stderr.contains("connection string is not valid"), "{keyword:?}");

    // A URL with the password percent-encoded: neither spelling shows.
    work.write("main.tf", &backend_block_for(&format!("postgres://postgres:{secret}%21@127.0.0.1/x?sslmode=bogus")));
    let url = work.strata(&["plan"]);
    assert!(url.code == 1 && url.stderr.contains("main.tf:3:5"), "{url:?}");
    assert!(!url.output().contains(&format!("{secret}!")), "{url:?}");

    // From PG_CONN_STR: the same, with the block left without conn_str.
    work.write("main.tf", "strata {\n  backend \"postgres\" {}\n}\n");
    let from_env = work.strata_env(&["plan"], &[("PG_CONN_STR", &format!("host=127.0.0.1 password='{secret}' sslmode=bogus"))]);
    assert!(from_env.code == 1 && from_env.stderr.contains("connection string is not valid"), "{from_env:?}");
    assert_password_hidden(&[&keyword, &url, &from_env], &secret);
}

/// What is in the backend's schema: whether it exists, its tables, and every row with its `xmin`
/// (a row written again, even with the same values, gets a new one).
fn backend_fingerprint(db: &TestDb) -> Vec<String> {
    let mut client = db.client();
    let objects = "SELECT 'schema ' || n.nspname || coalesce(' ' || c.relname, '') FROM pg_namespace n
                     LEFT JOIN pg_class c ON c.relnamespace = n.oid WHERE n.nspname = $1 ORDER BY 1";
    let mut lines: Vec<String> = client.query(objects, &[&SCHEMA]).expect("read the backend's schema").iter().map(|r| r.get(0)).collect();
    for table in ["states", "locks"] {
        let present: bool = client.query_one("SELECT to_regclass($1) IS NOT NULL", &[&format!("{SCHEMA}.{table}")]).expect("to_regclass").get(0);
        if present {
            let rows = format!("SELECT '{table} ' || workspace || ' xmin ' || xmin::text FROM {SCHEMA}.{table} ORDER BY 1");
            lines.extend(client.query(&rows, &[]).expect("read the backend's rows").iter().map(|r| r.get::<_, String>(0)));
        }
    }
    lines
}

#[test]
fn drift_and_workspace_list_write_nothing_to_the_postgres_backend() {
    let db = TestDb::new();
    let work = postgres_backed(&db, &password());

    // Never written to: no schema, and reading must not create one.
    assert_eq!(backend_fingerprint(&db), Vec::<String>::new());
    let drift = work.strata(&["drift"]);
    assert!(drift.code == 1 && drift.stderr.contains("no state"), "{drift:?}");
    ok(&work, &["workspace", "list"]);
    assert_eq!(backend_fingerprint(&db), Vec::<String>::new(), "a read created the backend's tables");

    work.apply();
    let before = backend_fingerprint(&db);
    assert!(before.iter().any(|l| l.starts_with("states default xmin ")), "{before:?}");
    db.execute("ALTER TABLE users ADD COLUMN team text");
    let drift = work.strata(&["drift"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    ok(&work, &["workspace", "list"]);
    assert_eq!(backend_fingerprint(&db), before, "a read wrote to the backend");
}

fn journal_rows(db: &TestDb) -> i64 {
    let sql = format!("SELECT count(*) FROM {SCHEMA}.journal WHERE workspace = 'default'");
    db.client().query_one(&sql, &[]).expect("read the journal").get(0)
}

/// What a run killed after a journal write leaves: a journal row past the state row's serial.
/// Readers replay it; the next whole write folds it in and clears it.
#[test]
fn a_journal_row_left_by_a_killed_run_is_replayed_and_then_folded_in() {
    let db = TestDb::new();
    let work = postgres_backed(&db, &password());
    ok(&work, &["init"]);
    work.apply();
    let (serial, lineage) = state_row(&db, "default").expect("a state row");
    let record = serde_json::json!({"lineage": lineage, "serial": serial + 1, "removed": ["postgres_table.orders"]});
    let insert = format!("INSERT INTO {SCHEMA}.journal (workspace, serial, data) VALUES ('default', $1, $2)");
    db.client().execute(&insert, &[&(serial + 1), &serde_json::to_vec(&record).unwrap()]).expect("write a journal row");

    let list = ok(&work, &["state", "list"]);
    assert_eq!(list.stdout.lines().collect::<Vec<_>>(), ["postgres_table.users"], "the journal row is replayed");
    assert_eq!(state_row(&db, "default").map(|r| r.0), Some(serial), "a read writes nothing");

    ok(&work, &["state", "mv", "postgres_table.users", "postgres_table.people"]);
    assert_eq!(state_row(&db, "default").map(|r| r.0), Some(serial + 2), "the edit follows the replayed serial");
    assert_eq!(journal_rows(&db), 0, "a whole write clears the journal it folded in");
    let stored = state_json(&db, "default");
    let addresses: Vec<&str> = stored["resources"].as_array().unwrap().iter().filter_map(|r| r["address"].as_str()).collect();
    assert_eq!(addresses, ["postgres_table.people"]);
}
