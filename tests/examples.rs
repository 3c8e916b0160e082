//! The shipped example applies into an empty database and converges.

mod common;

use std::path::Path;

use common::{TestDb, Workdir};

#[test]
fn ai_platform_applies_and_a_second_plan_shows_no_changes() {
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
    let env = [
        ("STRATA_VAR_pg_database", work.database.as_str()),
        ("STRATA_VAR_pg_host", host.as_str()),
        ("STRATA_VAR_pg_port", port.as_str()),
        ("STRATA_VAR_pg_username", user.as_str()),
    ];
    let run = work.strata_env(&["apply", "-auto-approve"], &env);
    assert_eq!(run.code, 0, "{run:?}");
    for table in ["users", "features", "models", "training_data", "audit_logs", "metadata_assets"] {
        assert!(db.has_table(table), "{table} missing");
    }
    let catalog = db.catalog();
    for index in ["idx_features_user_id_timestamp", "idx_models_status", "idx_audit_logs_timestamp"] {
        assert!(catalog.iter().any(|l| l.starts_with(&format!("index {index} "))), "{index} missing");
    }
    let plan = work.strata_env(&["plan", "-detailed-exitcode"], &env);
    assert_eq!(plan.code, 0, "{plan:?}");
}
