//! The shipped example applies in one run (AWS resources into moto, then the schema into a local
//! PostgreSQL database with its roles, grants and row-level security, then its backup, restore
//! drill and RDS snapshot) and converges; each role reads what it is granted and nothing else, and
//! a grant made by hand shows in drift.

use crate::common;

use std::path::Path;

use common::moto::{unique_suffix, Moto};
use common::roles::{connect_as, Cluster, AI_PLATFORM_ROLES};
use common::{TestDb, Workdir};

/// Whether `role` may run `sql` in `db`: a refusal must be PostgreSQL's permission denied.
fn may(db: &TestDb, role: &str, sql: &str) -> bool {
    match connect_as(db, role, None).batch_execute(sql) {
        Ok(()) => true,
        Err(err) if err.code() == Some(&postgres::error::SqlState::INSUFFICIENT_PRIVILEGE) => false,
        Err(err) => panic!("{role}: {sql}: {err}"),
    }
}

/// The teams of the training data rows `role` sees with `app.team` set to `team`.
fn teams_seen(db: &TestDb, role: &str, team: &str) -> Vec<String> {
    let mut session = connect_as(db, role, None);
    session.batch_execute(&format!("SET app.team = '{team}'")).expect("set app.team");
    session.query("SELECT DISTINCT team FROM training_data ORDER BY 1", &[]).expect("read training_data").iter().map(|row| row.get(0)).collect()
}

/// What each role of the example may read, proved by connecting as it: each reads what its
/// grants give and nothing else, and row-level security shows a team its own rows only.
fn assert_least_privilege(db: &TestDb, prefix: &str) {
    let role = |stem: &str| format!("{prefix}{stem}");
    assert!(may(db, &role("auditor"), "SELECT count(*) FROM audit_logs"));
    assert!(!may(db, &role("auditor"), "SELECT count(*) FROM users"));
    assert!(!may(db, &role("auditor"), "DELETE FROM audit_logs"));
    assert!(may(db, &role("feature_serving"), "SELECT count(*) FROM feature_serving"));
    assert!(!may(db, &role("feature_serving"), "SELECT count(*) FROM models"));
    assert!(may(db, &role("analyst"), "SELECT count(*) FROM models"), "analyst reads the model catalog through ml_readers");
    assert!(!may(db, &role("analyst"), "SELECT email FROM users"));
    assert!(!may(db, &role("analyst"), "SELECT count(*) FROM audit_logs"));
    assert!(may(db, &role("training_job"), "SELECT count(*) FROM features"));
    assert!(!may(db, &role("training_job"), "DELETE FROM models"));

    db.execute(
        "INSERT INTO users (email) VALUES ('ada@example.com');
         INSERT INTO models (name, version, owner_id) SELECT 'ranker', 1, id FROM users;
         INSERT INTO metadata_assets (kind, uri) VALUES ('dataset', 's3://data/a'), ('dataset', 's3://data/b');
         INSERT INTO training_data (model_id, asset_id, team)
           SELECT m.id, a.id, CASE a.uri WHEN 's3://data/a' THEN 'vision' ELSE 'search' END FROM models m, metadata_assets a",
    );
    assert_eq!(teams_seen(db, &role("analyst"), "vision"), ["vision"]);
    assert_eq!(teams_seen(db, &role("training_job"), "search"), ["search"]);
    assert!(teams_seen(db, &role("analyst"), "nobody").is_empty());
}

#[test]
fn ai_platform_applies_and_a_second_plan_shows_no_changes() {
    let moto = Moto::new();
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let work = Workdir::new(&db);
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/ai-platform");
    for entry in std::fs::read_dir(&example).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "tf") {
            work.write(path.file_name().unwrap().to_str().unwrap(), &std::fs::read_to_string(&path).unwrap());
        }
    }
    let (host, port, user) = common::server();
    let environment = format!("t{}", unique_suffix());
    let prefix = format!("{environment}_");
    cluster.prefixed_roles(&prefix, &AI_PLATFORM_ROLES);
    let env = [
        ("STRATA_VAR_role_prefix", prefix.as_str()),
        ("STRATA_VAR_feature_serving_password", "serving-Secr3t"),
        ("STRATA_VAR_environment", environment.as_str()),
        ("STRATA_VAR_db_password", "example-Passw0rd"),
        ("STRATA_VAR_pg_database", work.database.as_str()),
        ("STRATA_VAR_pg_host", host.as_str()),
        ("STRATA_VAR_pg_port", port.as_str()),
        ("STRATA_VAR_pg_username", user.as_str()),
    ];
    let run = work.strata_env(&["apply", "-auto-approve"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    let instance = moto.instance(&format!("ai-platform-{environment}")).expect("the RDS instance exists in moto");
    assert_eq!(instance.engine(), Some("postgres"));
    assert!(moto.parameter_group_exists(&format!("ai-platform-pg16-{environment}")));
    assert!(moto.ingress(&format!("ai-platform-db-{environment}")).is_some_and(|rules| rules.len() == 1));
    // The schema waited for the instance it lives in.
    let created = |address: &str| run.stdout.find(&format!("{address}: Creation complete")).unwrap_or_else(|| panic!("{address} not created: {run:?}"));
    assert!(created("aws_db_instance.platform") < created("postgres_table.users"), "{run:?}");
    for table in ["users", "features", "models", "training_data", "audit_logs", "metadata_assets"] {
        assert!(db.has_table(table), "{table} missing");
    }
    let catalog = db.catalog();
    for index in ["idx_features_user_id_timestamp", "idx_models_status", "idx_audit_logs_timestamp"] {
        assert!(catalog.iter().any(|l| l.starts_with(&format!("index {index} "))), "{index} missing");
    }
    // The nightly backup, the weekly drill and the weekly RDS snapshot ran with the apply.
    let state = work.state();
    let attributes = |address: &str| common::instance(&state, address).unwrap_or_else(|| panic!("{address} in state"))["attributes"].clone();
    assert_eq!(attributes("postgres_backup_policy.nightly")["backups"].as_array().map(Vec::len), Some(1));
    assert_eq!(attributes("postgres_restore_drill.weekly")["last_run"]["passed"], true, "{}", attributes("postgres_restore_drill.weekly"));
    let snapshots: Vec<String> = attributes("aws_db_snapshot_policy.weekly")["snapshots"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
    assert!(snapshots.len() == 1 && moto.snapshot_exists(&snapshots[0]), "{snapshots:?}");
    let plan = work.strata_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(!run.output().contains("example-Passw0rd") && !plan.output().contains("example-Passw0rd"));
    assert!(!run.output().contains("serving-Secr3t") && !work.state_text().unwrap_or_default().contains("serving-Secr3t"));
    assert!(!run.output().contains("no postgres_policy for it"), "the policy planned beside training_data serves it: {run:?}");
    assert_least_privilege(&db, &prefix);

    // A grant made by hand is what the scheduled drift run must catch.
    db.execute("GRANT ALL ON features TO PUBLIC");
    let drift = work.strata_env(&["drift", "-no-color"], &env);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(drift.stdout.contains("on table public.features granted to PUBLIC, which no postgres_grant declares"), "{drift:?}");
    db.execute("REVOKE ALL ON features FROM PUBLIC");

    let destroy = work.strata_env(&["destroy", "-auto-approve"], &env);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.instance(&format!("ai-platform-{environment}")).is_none());
    assert!(moto.snapshot_exists(&format!("ai-platform-{environment}-final")), "destroy took no final snapshot");
    assert!(!db.has_table("users"));
    let left: i64 = db.client().query_one("SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", &[&prefix]).unwrap().get(0);
    assert_eq!(left, 0, "destroy drops the example's roles");
    assert!(moto.snapshot_exists(&snapshots[0]), "deleting the snapshot policy keeps its snapshots");
    moto.delete_snapshot(&snapshots[0]);
}
