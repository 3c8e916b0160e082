//! `aws_db_restore_drill` against moto: it restores the newest snapshot of a snapshot policy into
//! a scratch instance with the configured parameter group and security groups, checks it, deletes
//! it and records the run; it is not due again until `every` has passed. A run that cannot
//! restore (a parameter group that does not exist) fails the apply with the failed run recorded,
//! and the drill stays due. moto covers the control plane only (see /work/notes/rds.md).

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::Workdir;

fn config(identifier: &str, security_group: &str, broken: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_db_instance" "db" {{
  identifier          = "{identifier}"
  engine              = "postgres"
  engine_version      = "16.3"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = "Drill-Passw0rd-1"
  skip_final_snapshot = true
}}

resource "aws_db_snapshot_policy" "daily" {{
  db_instance_identifier = aws_db_instance.db.identifier
  every                  = "1h"
}}

resource "aws_db_restore_drill" "weekly" {{
  snapshot_policy        = aws_db_snapshot_policy.daily.id
  every                  = "7d"
  parameter_group_name   = "default.postgres16"
  vpc_security_group_ids = ["{security_group}"]
}}
{broken}"#
    )
}

fn broken(parameter_group: &str, security_group: &str) -> String {
    format!(
        r#"
resource "aws_db_restore_drill" "broken" {{
  db_instance_identifier = aws_db_instance.db.identifier
  every                  = "7d"
  parameter_group_name   = "{parameter_group}"
  vpc_security_group_ids = ["{security_group}"]
}}
"#
    )
}

fn attributes(work: &Workdir, address: &str) -> serde_json::Value {
    work.state_instance(address)["attributes"].clone()
}

fn last_run(work: &Workdir, address: &str) -> serde_json::Value {
    attributes(work, address)["last_run"].clone()
}

#[test]
fn a_restore_drill_restores_the_policys_newest_snapshot_checks_it_and_deletes_it() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let identifier = format!("drill-db-{suffix}");
    let security_group = moto.create_security_group(&format!("drill-sg-{suffix}"), &moto.default_vpc(), 5432, "10.0.0.0/16");
    let work = Workdir::offline();
    work.write("main.tf", &config(&identifier, &security_group, ""));
    let applied = work.strata(&["apply", "-auto-approve", "-no-color"]);
    assert_eq!(applied.code, 0, "{applied:?}");

    let run = last_run(&work, "aws_db_restore_drill.weekly");
    assert_eq!(run["passed"], true, "{run}");
    let snapshot = run["snapshot"].as_str().expect("the restored snapshot");
    assert!(snapshot.starts_with(&format!("{identifier}-strata-")) && moto.snapshot_exists(snapshot), "the policy's snapshot: {run}");
    let checks: Vec<&str> = run["checks"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(checks, ["engine", "engine_version", "storage_encrypted", "parameter_group_name", "vpc_security_group_ids"]);
    let scratch = run["instance"].as_str().unwrap();
    assert!(scratch.starts_with(&format!("{identifier}-drill-")), "{run}");
    assert!(moto.instance(scratch).is_none(), "the scratch instance {scratch} is deleted");
    assert!(run["restore_seconds"].is_number(), "{run}");
    let again = work.strata(&["plan", "-detailed-exitcode", "-no-color"]);
    assert_eq!(again.code, 0, "nothing is due right after a passed run: {again:?}");

    // An instance source: the plan names the calls; a parameter group that does not exist makes
    // RDS refuse the restore, which fails the run, recorded, and the drill stays due.
    let missing = format!("no-such-pg-{suffix}");
    work.write("main.tf", &config(&identifier, &security_group, &broken(&missing, &security_group)));
    let planned = work.strata(&["plan", "-no-color"]);
    assert!(planned.stdout.contains("# due: restore drill due: there is no restore drill yet (every = 7d)"), "{planned:?}");
    assert!(planned.stdout.contains(&format!("RestoreDBInstanceFromDBSnapshot {identifier}-drill-STAMP")) && planned.stdout.contains(&format!("parameter group {missing}")), "{planned:?}");
    let failed = work.strata(&["apply", "-auto-approve", "-no-color"]);
    assert_ne!(failed.code, 0, "{failed:?}");
    assert!(failed.stderr.contains("the restore drill failed") && failed.stderr.contains(&missing), "{failed:?}");
    let run = last_run(&work, "aws_db_restore_drill.broken");
    assert_eq!(run["passed"], false, "{run}");
    assert!(run["failures"][0].as_str().unwrap().contains("RestoreDBInstanceFromDBSnapshot"), "{run}");
    assert!(moto.instance(run["instance"].as_str().unwrap()).is_none(), "no scratch instance: {run}");

    // What an interrupted run left (its tag) is deleted by the next run; an instance with a
    // scratch instance's name but without the tag is never touched.
    let token = attributes(&work, "aws_db_restore_drill.broken")["id"].as_str().unwrap().strip_prefix("drill-").unwrap().to_owned();
    let (left, lookalike) = (format!("{identifier}-drill-20000101t000000"), format!("{identifier}-drill-20000101t000001"));
    for name in [&left, &lookalike] {
        moto.create_instance(name, "Drill-Passw0rd-1", &security_group, "default.postgres14");
    }
    moto.tag_instance(&left, "strata:restore-drill", &token);
    assert_ne!(work.strata(&["apply", "-auto-approve", "-no-color"]).code, 0, "still broken");
    assert!(moto.instance(&left).is_none(), "the tagged scratch instance is swept");
    assert!(moto.instance(&lookalike).is_some(), "the untagged one is left alone");
    moto.delete_instance(&lookalike);
    let due = work.strata(&["plan", "-no-color"]);
    assert!(due.stdout.contains("# due: restore drill due: the newest restore drill, the run of") && due.stdout.contains("failed ("), "{due:?}");

    // Deleting the drills sweeps by tag (nothing is left) and keeps the snapshots.
    let destroyed = work.strata(&["destroy", "-auto-approve", "-no-color"]);
    assert_eq!(destroyed.code, 0, "{destroyed:?}");
    assert!(moto.snapshot_exists(snapshot));
}
