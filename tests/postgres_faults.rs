//! Transient PostgreSQL faults: a loopback proxy (tests/common/pgproxy.rs) between strata and the
//! server drops connections mid-apply. A drop the provider rides out leaves a converged schema
//! with nothing run twice; one that outlasts its retries fails that resource only, with the state
//! intact, and a re-run converges.

use crate::common;

use common::pgproxy::{simple_query, Cut, PgProxy};
use common::{TestDb, Workdir};

/// Five tables: a chain of foreign keys (accounts <- projects <- runs) and two on their own.
const SCHEMA: &str = r#"
resource "postgres_table" "accounts" {
  name = "accounts"
  column {
    name = "id"
    type = "bigint"
  }
  primary_key = ["id"]
}

resource "postgres_table" "projects" {
  name = "projects"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "account_id"
    type = "bigint"
  }
  primary_key = ["id"]
  foreign_key {
    columns     = ["account_id"]
    references  = postgres_table.accounts.id
    ref_columns = ["id"]
  }
}

resource "postgres_table" "runs" {
  name = "runs"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "project_id"
    type = "bigint"
  }
  foreign_key {
    columns     = ["project_id"]
    references  = postgres_table.projects.id
    ref_columns = ["id"]
  }
}

resource "postgres_table" "tags" {
  name = "tags"
  column {
    name = "label"
    type = "text"
  }
}

resource "postgres_table" "audit_events" {
  name = "audit_events"
  column {
    name = "at"
    type = "timestamptz"
  }
}
"#;

const TABLES: [&str; 5] = ["accounts", "projects", "runs", "tags", "audit_events"];

struct Setup {
    db: TestDb,
    work: Workdir,
    proxy: PgProxy,
}

impl Setup {
    fn new() -> Setup {
        let db = TestDb::new();
        let work = Workdir::new(&db);
        work.write("main.tf", SCHEMA);
        Setup { db, work, proxy: PgProxy::start() }
    }

    /// `strata ARGS` connecting through the proxy, in clear text so that it can see the queries.
    fn through_proxy(&self, args: &[&str]) -> common::Run {
        let port = self.proxy.port.to_string();
        self.work.strata_env(args, &[("PGPORT", port.as_str()), ("PGSSLMODE", "disable")])
    }

    fn apply_through_proxy(&self) -> common::Run {
        self.through_proxy(&["apply", "-auto-approve"])
    }

    /// One resource at a time, so that a cut hits exactly one transaction in flight and which
    /// branch of the recovery runs is decided by the test, not by timing.
    fn apply_one_at_a_time_through_proxy(&self) -> common::Run {
        self.through_proxy(&["apply", "-auto-approve", "-parallelism", "1"])
    }

    /// How many times each table's `CREATE TABLE` reached the server, in TABLES order.
    fn creates_run(&self) -> Vec<usize> {
        TABLES.iter().map(|table| self.proxy.forwarded(&[b"CREATE TABLE ", format!("\"{table}\" (\n").as_bytes()])).collect()
    }

    fn state_pending(&self) -> Vec<String> {
        let state = self.work.state();
        state["pending"].as_array().map(|p| p.iter().map(|i| i["address"].as_str().unwrap_or_default().to_owned()).collect()).unwrap_or_default()
    }

    /// Every table exists once, is in state, nothing is pending, and a plan shows no changes.
    fn assert_converged_once(&self) {
        for table in TABLES {
            assert!(self.db.has_table(table), "{table} missing: {:?}", self.db.catalog());
        }
        let tables = self.db.catalog().iter().filter(|l| l.starts_with("table public.") && l.ends_with(" r")).count();
        assert_eq!(tables, TABLES.len(), "{:?}", self.db.catalog());
        let mut addresses = self.work.state_addresses();
        addresses.sort();
        let mut expected: Vec<String> = TABLES.iter().map(|t| format!("postgres_table.{t}")).collect();
        expected.sort();
        assert_eq!(addresses, expected);
        assert!(self.state_pending().is_empty(), "{:?}", self.state_pending());
        self.work.assert_converged();
    }
}

#[test]
fn a_commit_cut_in_flight_is_settled_from_the_catalog_not_run_twice() {
    let setup = Setup::new();
    // The server commits the second COMMIT it gets; strata never hears so.
    setup.proxy.cut_on(&simple_query("COMMIT"), 2, Cut::AfterForwarding);
    let run = setup.apply_one_at_a_time_through_proxy();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(setup.proxy.cuts(), 1, "the fault never fired: {run:?}");
    // The cut table was found committed in the catalog: no CREATE ran twice.
    assert_eq!(setup.creates_run(), vec![1; TABLES.len()], "{run:?}");
    setup.assert_converged_once();
}

#[test]
fn a_statement_cut_on_its_way_is_rerun_after_the_server_rolls_back() {
    let setup = Setup::new();
    // The third COMMIT never reaches the server: that transaction is rolled back.
    setup.proxy.cut_on(&simple_query("COMMIT"), 3, Cut::BeforeForwarding);
    let run = setup.apply_one_at_a_time_through_proxy();
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(setup.proxy.cuts(), 1, "the fault never fired: {run:?}");
    // The cut table was rolled back, so its CREATE ran again; every other table's ran once.
    let mut creates = setup.creates_run();
    creates.sort_unstable();
    assert_eq!(creates, [1, 1, 1, 1, 2], "{:?}: {run:?}", setup.creates_run());
    setup.assert_converged_once();
}

#[test]
fn a_fault_that_outlasts_the_retries_fails_that_resource_only() {
    let setup = Setup::new();
    // Every connection that tries to create audit_events drops, however often it is retried.
    setup.proxy.poison(b"\"audit_events\"");
    let run = setup.apply_through_proxy();
    assert_eq!(run.code, 1, "{run:?}");
    assert!(setup.proxy.cuts() >= 6, "expected the first try and five retries, saw {} cuts: {run:?}", setup.proxy.cuts());
    assert!(run.stderr.contains("postgres_table.audit_events") && run.stderr.contains("kept dropping"), "{run:?}");
    // The others were applied and recorded; the state is whole and valid (`state()` validates it).
    for table in ["accounts", "projects", "runs", "tags"] {
        assert!(setup.db.has_table(table), "{table} missing: {run:?}");
    }
    assert!(!setup.db.has_table("audit_events"));
    let addresses = setup.work.state_addresses();
    assert_eq!(addresses.len(), 4, "{addresses:?}");
    assert!(!addresses.contains(&"postgres_table.audit_events".to_owned()));
    assert!(setup.state_pending().iter().all(|p| p == "postgres_table.audit_events"), "{:?}", setup.state_pending());

    setup.proxy.heal();
    let rerun = setup.apply_through_proxy();
    assert_eq!(rerun.code, 0, "{rerun:?}");
    setup.assert_converged_once();
}

#[test]
fn a_refresh_cut_mid_read_is_read_again() {
    let setup = Setup::new();
    setup.work.apply();
    // The catalog snapshot's second query never arrives; the read is retried on a new connection.
    setup.proxy.cut_on(b"FROM pg_extension e JOIN", 1, Cut::BeforeForwarding);
    let plan = setup.through_proxy(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert_eq!(setup.proxy.cuts(), 1, "the fault never fired: {plan:?}");
}
