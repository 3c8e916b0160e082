//! Crash safety: `strata apply` of the ai-platform example (AWS into moto, the schema into a local
//! PostgreSQL database) killed with SIGKILL at many moments. After every kill the state parses and
//! validates, every object strata created live is in state or in a pending intent (so the next
//! plan adopts it), a re-run of apply succeeds and converges, and nothing exists twice: every
//! object that was live after the kill is still the same object after the re-run (the same
//! `strata:intent` tag in moto; the same catalog oid in PostgreSQL, where the authorship mark,
//! `xmin`, legitimately moves on when a later table's foreign key updates the referenced table's
//! row). Every
//! moment must land while apply runs, some inside a create's pending window, and some re-runs must
//! adopt.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::moto::{unique_suffix, Moto};
use common::roles::{Cluster, AI_PLATFORM_ROLES};
use common::{TestDb, Workdir};

/// Progress lines a whole apply of the example prints: "Creating..." and "Creation complete" for
/// each of its 31 resources.
const PROGRESS_LINES: usize = 62;

const TABLES: [&str; 8] = ["users", "features", "models", "training_data", "audit_logs", "audit_logs_2026_12", "audit_logs_default", "metadata_assets"];

/// When to kill an apply.
#[derive(Clone, Copy, Debug)]
enum Moment {
    /// Right after it printed its k-th progress line.
    AfterProgressLine(usize),
    /// This long after it started (mostly while it plans).
    After(Duration),
    /// This long after the instance's create began (while the create call and its wait run).
    IntoInstanceCreate(Duration),
}

/// One throwaway deployment of the example: its own environment name in moto and its own database.
struct Deployment<'m> {
    moto: &'m Moto,
    /// Drops the example's roles (named after the environment) before the database.
    _roles: Cluster,
    db: TestDb,
    work: Workdir,
    environment: String,
    env: Vec<(&'static str, String)>,
}

/// The prefix of a deployment's drill scratch databases: tests run at once on one server.
fn scratch_prefix(db: &TestDb) -> String {
    format!("drill_{}_", &db.name[9..21])
}

impl Drop for Deployment<'_> {
    /// A kill between a drill's CREATE DATABASE and its COMMENT leaves a scratch database no run
    /// may drop (it carries no proof it is strata's); the test made it, so the test drops it.
    fn drop(&mut self) {
        let Ok(mut client) = common::try_connect("postgres") else { return };
        let prefix = scratch_prefix(&self.db);
        let names: Vec<String> = client.query("SELECT datname FROM pg_database WHERE starts_with(datname, $1)", &[&prefix]).map(|rows| rows.iter().map(|r| r.get(0)).collect()).unwrap_or_default();
        for name in names {
            let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
    }
}

impl<'m> Deployment<'m> {
    fn new(moto: &'m Moto) -> Deployment<'m> {
        let db = TestDb::new();
        let work = Workdir::new(&db);
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ai-platform");
        for entry in std::fs::read_dir(&example).expect("the example") {
            let path = entry.expect("an example file").path();
            if path.extension().is_some_and(|e| e == "tf") {
                let name = path.file_name().and_then(|n| n.to_str()).expect("a file name").to_owned();
                // The drill's scratch databases get this deployment's prefix, so that what a kill
                // leaves of them is dropped with it (see Drop).
                let text = std::fs::read_to_string(&path).expect("read the example").replace("  every  = \"7d\"\n", &format!("  every  = \"7d\"\n  database_prefix = \"{}\"\n", scratch_prefix(&db)));
                work.write(&name, &text);
            }
        }
        let (host, port, user) = common::server();
        let environment = format!("k{}", unique_suffix());
        let mut cluster = Cluster::new(&db);
        cluster.prefixed_roles(&format!("{environment}_"), &AI_PLATFORM_ROLES);
        let env = vec![
            ("STRATA_VAR_role_prefix", format!("{environment}_")),
            ("STRATA_VAR_environment", environment.clone()),
            ("STRATA_VAR_db_password", "example-Passw0rd".to_owned()),
            ("STRATA_VAR_pg_database", work.database.clone()),
            ("STRATA_VAR_pg_host", host),
            ("STRATA_VAR_pg_port", port),
            ("STRATA_VAR_pg_username", user),
        ];
        Deployment { moto, _roles: cluster, db, work, environment, env }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    fn strata(&self, args: &[&str]) -> common::Run {
        self.work.strata_env(args, &self.env())
    }

    /// Starts an apply and kills it with SIGKILL at `moment`; answers whether it was still running
    /// then (a moment after it finished is not a kill).
    fn apply_killed_at(&self, moment: Moment) -> bool {
        let mut command = self.work.command(&["apply", "-auto-approve"], &self.env());
        command.stdin(Stdio::null()).stderr(Stdio::null());
        match moment {
            Moment::After(delay) => {
                let mut child = command.stdout(Stdio::null()).spawn().expect("start strata apply");
                std::thread::sleep(delay);
                kill(&mut child)
            }
            Moment::AfterProgressLine(_) | Moment::IntoInstanceCreate(_) => {
                let mut child = command.stdout(Stdio::piped()).spawn().expect("start strata apply");
                let stdout = child.stdout.take().expect("apply's stdout");
                let mut seen = 0;
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    seen += usize::from(line.contains(": Creating...") || line.contains(": Creation complete"));
                    match moment {
                        Moment::AfterProgressLine(k) if seen == k => return kill(&mut child),
                        Moment::IntoInstanceCreate(delay) if line.contains("aws_db_instance.platform: Creating...") => {
                            std::thread::sleep(delay);
                            return kill(&mut child);
                        }
                        _ => {}
                    }
                }
                let _ = child.wait();
                false
            }
        }
    }

    /// How long an apply of the whole deployment takes, uninterrupted (it is destroyed after).
    fn apply_time(&self) -> Duration {
        let begun = Instant::now();
        let apply = self.strata(&["apply", "-auto-approve"]);
        let took = begun.elapsed();
        assert_eq!(apply.code, 0, "the uninterrupted apply failed: {apply:?}");
        self.destroy(Moment::After(took));
        took
    }

    /// How many of each managed object exist live, by the address that manages it.
    fn live(&self) -> Vec<(String, usize)> {
        let env = &self.environment;
        let catalog = self.db.catalog();
        let lines = |prefix: &str| catalog.iter().filter(|l| l.starts_with(prefix)).count();
        let extensions = self.db.client().query("SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto'", &[]).expect("read extensions").len();
        let mut live = vec![
            ("aws_db_subnet_group.platform".to_owned(), usize::from(self.moto.subnet_group_exists(&format!("ai-platform-{env}")))),
            ("aws_security_group.database".to_owned(), self.moto.security_group_count(&format!("ai-platform-db-{env}"))),
            ("aws_db_parameter_group.platform".to_owned(), usize::from(self.moto.parameter_group_exists(&format!("ai-platform-pg16-{env}")))),
            ("aws_db_instance.platform".to_owned(), usize::from(self.moto.instance(&format!("ai-platform-{env}")).is_some())),
            ("postgres_extension.pgcrypto".to_owned(), extensions),
            ("postgres_enum.model_status".to_owned(), lines("type model_status")),
            ("postgres_index.audit_logs_timestamp".to_owned(), lines("index idx_audit_logs_timestamp ")),
        ];
        // `audit_logs` is partitioned (relkind p), its partitions plain tables.
        live.extend(TABLES.iter().map(|t| (format!("postgres_table.{t}"), lines(&format!("table public.{t} ")))));
        let mut client = self.db.client();
        let mut roles = |name: &str| client.query("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&format!("{env}_{name}")]).expect("read roles").len();
        live.extend(AI_PLATFORM_ROLES.iter().map(|name| (format!("postgres_role.{name}"), roles(name))));
        live.push(("postgres_policy.training_data_by_team".to_owned(), client.query("SELECT 1 FROM pg_policy WHERE polname = 'training_data_by_team'", &[]).expect("read policies").len()));
        live
    }

    /// Each managed object's identity as it is live now (`None` when it does not exist): its
    /// `strata:intent` tag in moto (the mark of the create that made it), its catalog oid in
    /// PostgreSQL. An object made again would have another.
    fn marks(&self) -> Vec<(String, Option<String>)> {
        let env = &self.environment;
        let mut marks = vec![
            ("aws_db_subnet_group.platform".to_owned(), self.moto.subnet_group_intent(&format!("ai-platform-{env}"))),
            ("aws_security_group.database".to_owned(), self.moto.security_group_intents(&format!("ai-platform-db-{env}")).into_iter().flatten().next()),
            ("aws_db_parameter_group.platform".to_owned(), self.moto.parameter_group_intent(&format!("ai-platform-pg16-{env}"))),
            ("aws_db_instance.platform".to_owned(), self.moto.instance_intent(&format!("ai-platform-{env}"))),
        ];
        let client = &mut self.db.client();
        let mut oid = |sql: &str, name: &str| -> Option<String> { client.query_opt(sql, &[&name]).expect("read oid").map(|row| row.get(0)) };
        let relation = "SELECT oid::text FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname = $1";
        marks.push(("postgres_extension.pgcrypto".to_owned(), oid("SELECT oid::text FROM pg_extension WHERE extname = $1", "pgcrypto")));
        marks.push(("postgres_enum.model_status".to_owned(), oid("SELECT oid::text FROM pg_type WHERE typnamespace = 'public'::regnamespace AND typname = $1", "model_status")));
        marks.push(("postgres_index.audit_logs_timestamp".to_owned(), oid(relation, "idx_audit_logs_timestamp")));
        marks.extend(TABLES.iter().map(|t| (format!("postgres_table.{t}"), oid(relation, t))));
        marks.extend(AI_PLATFORM_ROLES.iter().map(|name| (format!("postgres_role.{name}"), oid("SELECT oid::text FROM pg_roles WHERE rolname = $1", &format!("{env}_{name}")))));
        marks.push(("postgres_policy.training_data_by_team".to_owned(), oid("SELECT oid::text FROM pg_policy WHERE polname = $1", "training_data_by_team")));
        marks
    }

    /// Every object live after the kill (`before`) is the same object now; every AWS object
    /// carries the mark of strata's create.
    fn check_made_once(&self, moment: Moment, before: &[(String, Option<String>)]) {
        let after = self.marks();
        for ((address, then), (_, now)) in before.iter().zip(&after) {
            assert!(now.is_some(), "{moment:?}: {address} carries no mark of strata's create after the re-run");
            if then.is_some() {
                assert_eq!(then, now, "{moment:?}: {address} was made again by the re-run (its mark changed)");
            }
        }
    }

    /// After a kill: the state (when there is one) is valid, and everything live is in it or
    /// pending. Answers what the state held, as (resources, pending intents).
    fn check_nothing_orphaned(&self, moment: Moment) -> (usize, usize) {
        let (recorded, pending) = match self.work.state_text() {
            Some(_) => {
                let state = self.work.state();
                let addresses = |key: &str| -> Vec<String> {
                    state[key].as_array().map(|a| a.iter().filter_map(|r| r["address"].as_str().map(str::to_owned)).collect()).unwrap_or_default()
                };
                (addresses("resources"), addresses("pending"))
            }
            None => (vec![], vec![]),
        };
        for (address, count) in self.live() {
            assert!(count <= 1, "{moment:?}: {count} live objects for {address}");
            if count == 1 {
                assert!(
                    recorded.contains(&address) || pending.contains(&address),
                    "{moment:?}: {address} exists live but is neither in state nor pending: resources {recorded:?}, pending {pending:?}"
                );
            }
        }
        (recorded.iter().filter(|a| !a.starts_with("data.")).count(), pending.len())
    }

    /// A re-run converges, and every object exists exactly once. Answers what the re-run adopted.
    fn check_rerun_converges(&self, moment: Moment) -> Vec<String> {
        let rerun = self.strata(&["apply", "-auto-approve"]);
        assert_eq!(rerun.code, 0, "{moment:?}: the re-run failed: {rerun:?}");
        let plan = self.strata(&["plan", "-detailed-exitcode"]);
        assert_eq!(plan.code, 0, "{moment:?}: the re-run did not converge: {plan:?}");
        let journal = self.work.path().join("strata.state.json.journal");
        assert!(!journal.exists(), "{moment:?}: the re-run left its journal: the state file is not whole");
        for (address, count) in self.live() {
            assert_eq!(count, 1, "{moment:?}: {address} exists {count} times");
        }
        let state = self.work.state();
        assert!(state.get("pending").is_none(), "{moment:?}: intents left after a converged apply: {state:#}");
        rerun.stderr.lines().filter_map(|l| l.strip_prefix("adopting ")?.split(':').next().map(str::to_owned)).collect()
    }

    fn destroy(&self, moment: Moment) {
        let destroy = self.strata(&["destroy", "-auto-approve"]);
        assert_eq!(destroy.code, 0, "{moment:?}: destroy failed: {destroy:?}");
        assert!(self.live().iter().all(|(_, count)| *count == 0), "{moment:?}: left after destroy: {:?}", self.live());
    }
}

/// SIGKILL (std's `kill` on Unix); answers whether the process was still running.
fn kill(child: &mut Child) -> bool {
    let running = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    running
}

#[test]
fn apply_killed_at_any_moment_leaves_nothing_orphaned_and_a_rerun_converges() {
    let begun = Instant::now();
    let moto = Moto::new();
    let millis = |ms: &[u64]| ms.iter().map(|&ms| Duration::from_millis(ms)).collect::<Vec<_>>();
    // Spread over the time a whole apply takes on this machine (the faster of two, the first
    // being cold), so each lands while it runs.
    let whole = Deployment::new(&moto).apply_time().min(Deployment::new(&moto).apply_time());
    let mut moments: Vec<Moment> = (1..=4).map(|sixth| Moment::After(whole * sixth / 6)).collect();
    // After the last progress line apply only writes outputs and exits: too late to kill reliably.
    moments.extend((1..PROGRESS_LINES).map(Moment::AfterProgressLine));
    moments.extend(millis(&[5, 20, 50]).into_iter().map(Moment::IntoInstanceCreate));
    let (mut in_pending_window, mut adoptions) = (Vec::new(), 0);
    let count = moments.len();
    for moment in moments {
        let deployment = Deployment::new(&moto);
        let killed = deployment.apply_killed_at(moment);
        assert!(killed, "{moment:?}: apply finished before its kill; the schedule must kill it while it runs");
        let (recorded, pending) = deployment.check_nothing_orphaned(moment);
        let before = deployment.marks();
        let adopted = deployment.check_rerun_converges(moment);
        deployment.check_made_once(moment, &before);
        println!("{moment:?}: killed; state then held {recorded} resource(s) and {pending} pending create(s); the re-run adopted {adopted:?}");
        if pending > 0 {
            in_pending_window.push(moment);
        }
        adoptions += adopted.len();
        deployment.destroy(moment);
    }
    println!("SIGKILL at {count} moments, {} inside a pending window, {adoptions} adoption(s); {:.1}s in all", in_pending_window.len(), begun.elapsed().as_secs_f64());
    assert!(count >= 20, "only {count} moments");
    assert!(in_pending_window.len() >= 5, "only {} kills landed inside a create's pending window: {in_pending_window:?}", in_pending_window.len());
    assert!(adoptions >= 5, "only {adoptions} adoption(s): the adoption path went mostly untested");
}

/// What a kill between a create and its state write leaves: the object live, only an intent in
/// state, holding the creating transaction's id as its mark (read here from the table's catalog
/// row). Made by hand here so that the moment is exact.
fn forget_into_intent(db: &TestDb, work: &Workdir, address: &str, import_id: &str) {
    let (schema, table) = import_id.split_once('.').expect("SCHEMA.NAME");
    let sql = "SELECT c.xmin::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2";
    let mark: Option<String> = db.client().query_opt(sql, &[&schema, &table]).expect("read xmin").map(|row| row.get(0));
    let mut state = work.state();
    let resources = state["resources"].as_array_mut().expect("resources");
    resources.retain(|r| r["address"] != address);
    let (type_name, _) = address.split_once('.').expect("TYPE.NAME");
    state["pending"] = serde_json::json!([
        { "address": address, "type": type_name, "provider": "postgres", "import_id": import_id,
          "id": "0b6f1f8e-5d43-4c1a-9e3f-6a7b8c9d0e1f", "marks": mark.into_iter().collect::<Vec<_>>(), "recorded_at": "2026-01-01T00:00:00Z" }
    ]);
    std::fs::write(work.state_path(), serde_json::to_string_pretty(&state).expect("state JSON")).expect("write the state");
    common::assert_valid_state(&state);
}

#[test]
fn plan_adopts_in_memory_and_applying_its_saved_plan_records_the_adoption() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", common::USERS_AND_ORDERS);
    work.apply();
    forget_into_intent(&db, &work, "postgres_table.orders", "public.orders");
    let before = work.state();

    let plan = work.strata(&["plan", "-out", "adopted.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stderr.contains("adopting postgres_table.orders: created by an earlier apply that failed or was interrupted before recording it"), "{plan:?}");
    assert!(!plan.stdout.contains("will be created"), "plan would create a twin: {plan:?}");
    assert_eq!(work.state(), before, "plan wrote the state");

    let apply = work.strata(&["apply", "adopted.plan"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let after = work.state();
    assert!(after.get("pending").is_none(), "{after:#}");
    assert!(work.state_addresses().contains(&"postgres_table.orders".to_owned()));
    work.assert_converged();
}

#[test]
fn an_intent_whose_create_never_happened_is_dropped_and_the_create_runs() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", common::USERS_AND_ORDERS);
    work.apply();
    forget_into_intent(&db, &work, "postgres_table.orders", "public.orders");
    db.execute("DROP TABLE orders");

    let apply = work.apply();
    assert!(apply.stderr.contains("postgres_table.orders: the earlier apply that failed or was interrupted had not created it"), "{apply:?}");
    assert!(apply.stdout.contains("postgres_table.orders: Creation complete"), "{apply:?}");
    assert!(work.state().get("pending").is_none());
    assert!(db.has_table("orders"));
    work.assert_converged();
}
