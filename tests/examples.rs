//! The shipped example applies in one run (AWS resources into moto, then the schema into a local
//! PostgreSQL database, then its backup, restore drill and RDS snapshot) and converges.

use crate::common;

use std::path::Path;

use common::moto::{unique_suffix, Moto};
use common::{TestDb, Workdir};

#[test]
fn ai_platform_applies_and_a_second_plan_shows_no_changes() {
    let moto = Moto::new();
    let db = TestDb::new();
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
    let env = [
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

    let destroy = work.strata_env(&["destroy", "-auto-approve"], &env);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.instance(&format!("ai-platform-{environment}")).is_none());
    assert!(moto.snapshot_exists(&format!("ai-platform-{environment}-final")), "destroy took no final snapshot");
    assert!(!db.has_table("users"));
    assert!(moto.snapshot_exists(&snapshots[0]), "deleting the snapshot policy keeps its snapshots");
    moto.delete_snapshot(&snapshots[0]);
}
