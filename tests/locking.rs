//! One operation at a time per state, on both backends, with real strata processes racing: the
//! second fails fast naming the holder, or waits under `-lock-timeout`; the serial rises by the
//! winner's writes alone; `force-unlock` clears what a killed process left and nothing else.
//!
//! The first apply is made slow by holding a lock on the table it alters, from the test.

use crate::common;

use std::time::{Duration, Instant};

use common::backend::{backend_block, finish, hold_local_lock, local_lock_id, lock_id, password, spawn, state_row, wait_for, TableLock};
use common::{Run, TestDb, Workdir};

const USERS: &str = r#"
resource "postgres_table" "users" {
  name = "users"
  column {
    name = "id"
    type = "bigint"
  }
}
"#;

/// USERS with one more column (an update that waits for the table lock) and a new table.
const USERS_AND_AUDIT: &str = r#"
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
}

resource "postgres_table" "audit" {
  name = "audit"
  column {
    name = "at"
    type = "timestamptz"
  }
}
"#;

/// Which backend a test runs against.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Local,
    Postgres,
}

struct Setup {
    db: TestDb,
    work: Workdir,
    kind: Kind,
}

impl Setup {
    /// USERS applied, USERS_AND_AUDIT written for the next apply.
    fn new(kind: Kind) -> Setup {
        let db = TestDb::new();
        let work = Workdir::new(&db);
        if let Kind::Postgres = kind {
            work.write("backend.tf", &backend_block(&db, &password()));
        }
        work.write("main.tf", USERS);
        work.apply();
        work.write("main.tf", USERS_AND_AUDIT);
        Setup { db, work, kind }
    }

    fn serial(&self) -> i64 {
        match self.kind {
            Kind::Local => self.work.state()["serial"].as_i64().expect("a serial"),
            Kind::Postgres => state_row(&self.db, "default").expect("a state row").0,
        }
    }

    /// The id of the lock someone holds (or held) on the default workspace.
    fn lock_id(&self) -> Option<String> {
        match self.kind {
            Kind::Local => local_lock_id(&self.work.state_path()),
            Kind::Postgres => lock_id(&self.db, "default"),
        }
    }

    /// Starts an apply that takes the state lock and then waits on the users table; returns it
    /// with its lock id once it holds the lock.
    fn slow_apply(&self) -> (std::process::Child, TableLock, String) {
        let table = TableLock::take(&self.db, "users");
        let apply = spawn(&self.work, &["apply", "-auto-approve"]);
        let id = wait_for("the first apply to take the state lock", || self.lock_id());
        (apply, table, id)
    }

    /// Whether any session of this database holds an advisory lock.
    fn advisory_locks_held(&self) -> bool {
        let sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
                     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
        self.db.client().query_one(sql, &[]).expect("read pg_locks").get::<_, i64>(0) > 0
    }
}

fn two_applies_race(kind: Kind) {
    let setup = Setup::new(kind);
    let before = setup.serial();
    let (first, table, id) = setup.slow_apply();

    let started = Instant::now();
    let second = setup.work.strata(&["apply", "-auto-approve"]);
    assert!(started.elapsed() < Duration::from_secs(10), "the second apply fails fast: {:?}", started.elapsed());
    assert_eq!(second.code, 1, "{second:?}");
    for expected in ["is locked", "held by", "\"apply\"", &format!("lock id {id}"), "-lock-timeout"] {
        assert!(second.stderr.contains(expected), "{expected:?} missing: {second:?}");
    }

    let timed_out = setup.work.strata(&["apply", "-auto-approve", "-lock-timeout", "1s"]);
    assert!(timed_out.code == 1 && timed_out.stderr.contains("is locked (waited 1s)") && timed_out.stderr.contains(&id), "{timed_out:?}");

    let mut waiting = spawn(&setup.work, &["apply", "-auto-approve", "-lock-timeout", "60s"]);
    assert_still_waiting(&mut waiting, &setup, &id);
    table.release();
    let first = finish(first);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(first.stdout.contains("1 added, 1 changed"), "{first:?}");
    let waited = finish(waiting);
    assert_eq!(waited.code, 0, "the waiting apply gets the lock once the first is done: {waited:?}");
    assert!(waited.stdout.contains("No changes."), "and finds nothing to do: {waited:?}");
    let winners_writes = uncontended_writes(kind);
    assert!(winners_writes >= 2, "at least one write per resource applied: {winners_writes}");
    assert_eq!(setup.serial() - before, winners_writes, "the serial rose by the winner's writes alone ({kind:?})");
}

/// Asserts that `waiting`, started with `-lock-timeout 60s` while the lock `id` is held, is still
/// waiting some seconds later: without the timeout it would have failed at once (the runs above
/// show it), so it is waiting for the lock, and the lock is still the holder's.
fn assert_still_waiting(waiting: &mut std::process::Child, setup: &Setup, id: &str) {
    std::thread::sleep(Duration::from_secs(3));
    let exited = waiting.try_wait().expect("poll the waiting strata");
    assert!(exited.is_none(), "it did not wait for the lock: exited with {exited:?}");
    assert_eq!(setup.lock_id().as_deref(), Some(id), "the first apply still holds the lock");
}

/// How many writes the same apply makes with nobody else around: one per resource applied, and
/// one per intent recorded before a create.
fn uncontended_writes(kind: Kind) -> i64 {
    let alone = Setup::new(kind);
    let before = alone.serial();
    alone.work.apply();
    alone.serial() - before
}

#[test]
fn two_applies_on_the_local_backend_one_waits_or_fails_naming_the_holder() {
    two_applies_race(Kind::Local);
}

#[test]
fn two_applies_on_the_postgres_backend_one_waits_or_fails_naming_the_holder() {
    two_applies_race(Kind::Postgres);
}

fn force_unlock(work: &Workdir, id: &str) -> Run {
    work.strata(&["force-unlock", "-force", id])
}

#[test]
fn force_unlock_on_postgres_ends_the_holding_session_and_clears_a_stale_lock() {
    let setup = Setup::new(Kind::Postgres);
    let (first, table, id) = setup.slow_apply();
    let unconfirmed = setup.work.strata(&["force-unlock", &id]);
    assert!(unconfirmed.code == 1 && unconfirmed.stderr.contains("-force"), "non-interactive force-unlock needs -force: {unconfirmed:?}");
    let wrong = force_unlock(&setup.work, "not-the-id");
    assert!(wrong.code == 1 && wrong.stderr.contains("no lock with id not-the-id"), "{wrong:?}");
    assert!(setup.advisory_locks_held(), "the lock is still held");

    let ended = force_unlock(&setup.work, &id);
    assert_eq!(ended.code, 0, "{ended:?}");
    assert!(ended.stdout.contains("Ended the session holding lock"), "{ended:?}");
    assert_eq!(setup.lock_id(), None, "the lock row is cleared");
    wait_for("the advisory lock to be released", || (!setup.advisory_locks_held()).then_some(()));
    table.release();
    finish(first);

    // A killed holder leaves its row behind but not the advisory lock: a stale lock.
    let email = "name = \"email\"\n    type = \"text\"\n  }";
    setup.work.write("main.tf", &USERS_AND_AUDIT.replace(email, &format!("{email}\n  column {{\n    name = \"email2\"\n    type = \"text\"\n  }}")));
    let (mut killed, table, stale_id) = setup.slow_apply();
    killed.kill().expect("kill the apply");
    let _ = killed.wait();
    wait_for("the killed session to end", || (!setup.advisory_locks_held()).then_some(()));
    table.release();
    let cleared = force_unlock(&setup.work, &stale_id);
    assert_eq!(cleared.code, 0, "{cleared:?}");
    assert!(cleared.stdout.contains("Cleared the stale lock"), "{cleared:?}");
    setup.work.apply();
}

#[test]
fn force_unlock_on_a_local_state_refuses_a_live_holder_and_clears_a_dead_ones() {
    let setup = Setup::new(Kind::Local);
    let (mut first, table, id) = setup.slow_apply();
    let live = force_unlock(&setup.work, &id);
    assert_eq!(live.code, 1);
    assert!(live.stderr.contains("held by a live process") && live.stderr.contains(&format!("pid {}", first.id())), "{live:?}");

    first.kill().expect("kill the apply");
    let _ = first.wait();
    table.release();
    assert_eq!(setup.lock_id(), Some(id.clone()), "a killed process leaves its lock file behind");
    let cleared = force_unlock(&setup.work, &id);
    assert_eq!(cleared.code, 0, "{cleared:?}");
    assert!(cleared.stdout.contains("Cleared the stale lock"), "{cleared:?}");
    assert_eq!(setup.lock_id(), None);
    setup.work.apply();
    setup.work.assert_converged();
}

#[test]
fn lock_false_runs_without_the_lock_and_says_so() {
    let setup = Setup::new(Kind::Local);
    // Held by someone else for the whole test: a plan that took the lock could not run at all.
    let held = hold_local_lock(&setup.work.state_path());
    let locked = setup.work.strata(&["plan"]);
    assert!(locked.code == 1 && locked.stderr.contains("is locked"), "the test holds the lock: {locked:?}");
    let plan = setup.work.strata(&["plan", "-lock=false"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stderr.contains("Warning: -lock=false") && plan.stderr.contains("without the state lock"), "{plan:?}");
    assert!(plan.stdout.contains("1 to add, 1 to change"), "it planned all the same: {plan:?}");
    drop(held);
}

#[test]
fn a_postgres_write_refuses_a_state_that_moved_underneath() {
    let setup = Setup::new(Kind::Postgres);
    // Only the update that waits on the table, so the apply's one write comes after the bump.
    setup.work.write("main.tf", &USERS_AND_AUDIT[..USERS_AND_AUDIT.find("resource \"postgres_table\" \"audit\"").expect("audit block")]);
    let (apply, table, _) = setup.slow_apply();
    // Once it waits on the table it has read the state: another writer now moves the serial.
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    wait_for("the apply to wait on the table", || (setup.db.client().query_one(waiting, &[]).ok()?.get::<_, i64>(0) > 0).then_some(()));
    let bumped = setup.serial() + 10;
    setup.db.execute(&format!("UPDATE strata_state.states SET serial = {bumped} WHERE workspace = 'default'"));
    table.release();
    let apply = finish(apply);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("changed underneath this run") && apply.stderr.contains(&format!("is {bumped} now")), "{apply:?}");
    assert_eq!(setup.serial(), bumped, "nothing was written over it");
}

#[test]
fn drift_ack_takes_the_lock_and_honours_lock_timeout() {
    let setup = Setup::new(Kind::Local);
    let (first, table, id) = setup.slow_apply();
    let ack = ["drift", "ack", "postgres_table.users", "-until", "2030-01-31", "-reason", "known"];
    let timed_out = setup.work.strata(&[&ack[..], &["-lock-timeout", "1s"]].concat());
    assert!(timed_out.code == 1 && timed_out.stderr.contains("is locked (waited 1s)") && timed_out.stderr.contains(&id), "{timed_out:?}");

    let mut waiting = spawn(&setup.work, &[&ack[..], &["-lock-timeout", "60s"]].concat());
    assert_still_waiting(&mut waiting, &setup, &id);
    table.release();
    assert_eq!(finish(first).code, 0);
    let waited = finish(waiting);
    assert_eq!(waited.code, 0, "the ack gets the lock once the apply is done: {waited:?}");
    assert_eq!(setup.work.state()["drift_acks"][0]["address"], "postgres_table.users", "and records the acknowledgement");

    let held = hold_local_lock(&setup.work.state_path());
    let locked = setup.work.strata(&ack);
    assert!(locked.code == 1 && locked.stderr.contains("is locked"), "the test holds the lock: {locked:?}");
    let unlocked = setup.work.strata(&[&ack[..], &["-lock=false"]].concat());
    assert!(unlocked.code == 0 && unlocked.stderr.contains("Warning: -lock=false"), "{unlocked:?}");
    drop(held);
}
