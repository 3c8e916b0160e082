//! The postgres state backend when its connections drop mid-apply. strata's state sessions (the
//! lock's and the writes') go through the loopback proxy (tests/common/pgproxy.rs); the provider's
//! go straight to the server, so only the state's connections are cut. A write whose connection
//! drops is retried and the lock taken again on a new session: the apply records everything, once.
//! A lock someone else took meanwhile stops the run with "the state lock was lost" and nothing
//! written; a re-run converges.

use crate::common;

use common::backend::{backend_block_for, finish, lock_id, password, spawn, state_json, state_row, wait_for, TableLock};
use common::pgproxy::{simple_query, Cut, PgProxy};
use common::{assert_valid_state, server, Run, TestDb, Workdir, USERS_AND_ORDERS};

const USERS: &str = "resource \"postgres_table\" \"users\" {\n  name = \"users\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n";

struct Setup {
    db: TestDb,
    work: Workdir,
    proxy: PgProxy,
    secret: String,
}

impl Setup {
    /// A postgres backend reached through the proxy, in clear text so that the proxy sees the queries.
    fn new(config: &str) -> Setup {
        let (db, proxy, secret) = (TestDb::new(), PgProxy::start(), password());
        let work = Workdir::new(&db);
        let (_, _, user) = server();
        let conn_str = format!("host=127.0.0.1 port={} user={user} dbname={} password={secret} sslmode=disable", proxy.port, db.name);
        work.write("backend.tf", &backend_block_for(&conn_str));
        work.write("main.tf", config);
        Setup { db, work, proxy, secret }
    }

    fn serial(&self) -> i64 {
        state_row(&self.db, "default").expect("a state row").0
    }

    fn assert_password_hidden(&self, run: &Run) {
        assert!(!run.output().contains(&self.secret), "the backend password leaked: {run:?}");
    }
}

/// The serial a clean apply of USERS_AND_ORDERS ends at: one write per intent and per resource.
fn clean_serial() -> i64 {
    let clean = Setup::new(USERS_AND_ORDERS);
    clean.work.apply();
    clean.serial()
}

/// Applies USERS_AND_ORDERS with the state's connections cut at the `nth` state COMMIT, and checks
/// that everything was recorded exactly once.
fn apply_with_cut_commit(nth: usize, when: Cut) {
    let setup = Setup::new(USERS_AND_ORDERS);
    setup.proxy.cut_on(&simple_query("COMMIT"), nth, when);
    let apply = setup.work.strata(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 0, "the write is retried and the lock taken again: {apply:?}");
    assert_eq!(setup.proxy.cuts(), 1, "the fault never fired: {apply:?}");
    let state = state_json(&setup.db, "default");
    assert_valid_state(&state);
    let addresses: Vec<&str> = state["resources"].as_array().expect("resources").iter().filter_map(|r| r["address"].as_str()).collect();
    assert_eq!(addresses, ["postgres_table.orders", "postgres_table.users"]);
    assert!(state["pending"].as_array().is_none_or(Vec::is_empty), "nothing left pending: {state:#}");
    assert_eq!(setup.serial(), clean_serial(), "no write lost or made twice ({when:?})");
    setup.work.assert_converged();
    setup.assert_password_hidden(&apply);
}

#[test]
fn a_state_commit_cut_in_flight_is_recognised_as_written_not_written_again() {
    apply_with_cut_commit(2, Cut::AfterForwarding);
}

#[test]
fn a_state_commit_cut_on_its_way_is_written_again_on_a_new_session() {
    apply_with_cut_commit(3, Cut::BeforeForwarding);
}

#[test]
fn a_lock_taken_by_someone_else_while_its_session_was_gone_stops_the_apply_with_nothing_written() {
    let setup = Setup::new(USERS);
    setup.work.apply();
    let with_email = USERS.replace("  }\n}\n", "  }\n  column {\n    name = \"email\"\n    type = \"text\"\n  }\n}\n");
    setup.work.write("main.tf", &with_email);

    // The apply takes the state lock, then waits on the users table.
    let table = TableLock::take(&setup.db, "users");
    let apply = spawn(&setup.work, &["apply", "-auto-approve"]);
    wait_for("the apply to take the state lock", || lock_id(&setup.db, "default"));
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    wait_for("the apply to wait on the table", || (setup.db.client().query_one(waiting, &[]).ok()?.get::<_, i64>(0) > 0).then_some(()));
    let before = setup.serial();

    // Its lock session dies, and another session takes the lock before the apply writes again.
    let mut admin = setup.db.client();
    let holder: i32 = admin.query_one("SELECT backend_pid FROM strata_state.locks WHERE workspace = 'default'", &[]).expect("the lock row").get(0);
    let key_sql = "SELECT classid, objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $1";
    let parts = admin.query_one(key_sql, &[&holder]).expect("the advisory lock");
    let (high, low): (u32, u32) = (parts.get(0), parts.get(1));
    let key = ((u64::from(high) << 32) | u64::from(low)) as i64;
    admin.execute("SELECT pg_terminate_backend($1)", &[&holder]).expect("end the lock's session");
    let mut thief = setup.db.client();
    thief.execute("SELECT pg_advisory_lock($1)", &[&key]).expect("take the lock once it is free");
    table.release();

    let lost = finish(apply);
    assert_eq!(lost.code, 1, "{lost:?}");
    assert!(lost.stderr.contains("the state lock was lost") && lost.stderr.contains("is now held by another session"), "{lost:?}");
    assert_eq!(setup.serial(), before, "nothing was written after the lock was lost");
    setup.assert_password_hidden(&lost);

    drop(thief);
    setup.work.apply();
    setup.work.assert_converged();
}

#[test]
fn a_state_write_that_keeps_dropping_fails_the_apply_clearly_with_the_state_intact() {
    let setup = Setup::new(USERS);
    setup.work.apply();
    let before = (setup.serial(), state_json(&setup.db, "default")["resources"].clone());
    setup.work.write("main.tf", USERS_AND_ORDERS);
    // Every connection that tries to store a state is cut, however often it is retried.
    setup.proxy.poison(b"INSERT INTO \"strata_state\".states");
    let apply = setup.work.strata(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(setup.proxy.cuts() >= 5, "the first try and its retries: {} cuts: {apply:?}", setup.proxy.cuts());
    assert!(apply.stderr.contains("cannot write the state") && apply.stderr.contains("dropped on each of 5 tries"), "{apply:?}");
    assert!(apply.stderr.contains("the previous state is intact"), "{apply:?}");
    assert_eq!((setup.serial(), state_json(&setup.db, "default")["resources"].clone()), before, "the state is as it was");
    setup.assert_password_hidden(&apply);

    setup.proxy.heal();
    setup.work.apply();
    setup.work.assert_converged();
    assert!(setup.db.has_table("orders"));
}
