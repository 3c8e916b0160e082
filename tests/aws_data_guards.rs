//! The AWS side of the data-loss guards against moto: the plan says which RDS changes cause
//! downtime or need a reboot (downtime, not data loss, for a parameter group some instance uses), and a
//! replaced instance, whether its configuration forces it or `-replace` asks for it, is
//! snapshotted first, under the name the plan showed.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{Run, Workdir};

const PASSWORD: &str = "Guard-Passw0rd-1";

struct Estate {
    work: Workdir,
    identifier: String,
    parameter_group: String,
}

impl Estate {
    /// An instance using its own parameter group, which sets one static (pending-reboot) parameter.
    fn new() -> Estate {
        let suffix = unique_suffix();
        let estate = Estate { work: Workdir::offline(), identifier: format!("guard-db-{suffix}"), parameter_group: format!("guard-pg-{suffix}") };
        estate.write("db.m6g.large", "app", "256MB");
        estate
    }

    /// The parameter group and the instance using it.
    fn write(&self, class: &str, db_name: &str, shared_buffers: &str) {
        let config = format!(
            r#"{group}
resource "aws_db_instance" "db" {{
  identifier           = "{id}"
  engine               = "postgres"
  engine_version       = "14.7"
  instance_class       = "{class}"
  allocated_storage    = 20
  username             = "app"
  password             = "{PASSWORD}"
  db_name              = "{db_name}"
  apply_immediately    = true
  skip_final_snapshot  = true
  parameter_group_name = aws_db_parameter_group.pg.name
}}
"#,
            group = self.group_config(shared_buffers),
            id = self.identifier,
        );
        self.work.write("main.tf", &config);
    }

    /// The parameter group alone, used by no instance.
    fn write_group_only(&self, shared_buffers: &str) {
        self.work.write("main.tf", &self.group_config(shared_buffers));
    }

    fn group_config(&self, shared_buffers: &str) -> String {
        format!(
            r#"
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_db_parameter_group" "pg" {{
  name   = "{group}"
  family = "postgres14"
  parameter {{
    name         = "shared_buffers"
    value        = "{shared_buffers}"
    apply_method = "pending-reboot"
  }}
}}
"#,
            group = self.parameter_group,
        )
    }

    fn run(&self, args: &[&str]) -> Run {
        let run = self.work.strata(args);
        assert!(!run.output().contains(PASSWORD), "the password appeared in strata's output");
        run
    }

    fn plan(&self) -> Run {
        let run = self.run(&["plan", "-detailed-exitcode"]);
        assert_eq!(run.code, 2, "expected changes: {run:?}");
        run
    }

    fn assert_converged(&self) {
        let run = self.run(&["plan", "-detailed-exitcode"]);
        assert_eq!(run.code, 0, "expected no changes: {run:?}");
    }

    fn apply(&self, extra: &[&str]) -> Run {
        let run = self.run(&[&["apply", "-auto-approve"], extra].concat());
        assert_eq!(run.code, 0, "apply failed: {run:?}");
        run
    }
}

#[test]
fn downtime_and_reboots_are_flagged_and_a_replace_snapshots_first() {
    let moto = Moto::new();
    let estate = Estate::new();
    estate.apply(&[]);
    estate.assert_converged();

    // A bigger class restarts the instance now; a static parameter needs the reboot strata does not do.
    estate.write("db.m6g.xlarge", "app", "512MB");
    let plan = estate.plan();
    assert!(plan.stdout.contains("instance class db.m6g.large -> db.m6g.xlarge: the instance restarts now (apply_immediately = true): downtime of minutes"), "{plan:?}");
    assert!(plan.stdout.contains(&format!("shared_buffers = 512MB take effect only when each instance using it reboots, which strata does not do; instances using it: {}: ", estate.identifier)), "{plan:?}");
    estate.apply(&["-allow-data-loss"]);
    assert_eq!(moto.instance(&estate.identifier).and_then(|i| i.db_instance_class().map(str::to_owned)).as_deref(), Some("db.m6g.xlarge"));
    estate.assert_converged();

    // A new db_name replaces the instance: the plan names the snapshot, apply takes it first.
    estate.write("db.m6g.xlarge", "app2", "512MB");
    let plan = estate.plan();
    let snapshot = planned_snapshot(&plan);
    assert!(snapshot.starts_with(&format!("{}-pre-replace-", estate.identifier)), "{snapshot}");
    assert!(plan.stdout.contains(&format!("its data survives only in the snapshot {snapshot} taken just before")), "{plan:?}");
    assert!(!moto.snapshot_exists(&snapshot), "the plan took a snapshot");
    estate.apply(&["-allow-data-loss"]);
    assert!(moto.snapshot_exists(&snapshot), "no snapshot {snapshot} in moto after the replace");
    assert!(recorded_backups(&estate).contains(&format!("RDS snapshot {snapshot}")), "state does not record {snapshot}");
    assert_eq!(moto.instance(&estate.identifier).and_then(|i| i.db_name().map(str::to_owned)).as_deref(), Some("app2"));
    estate.assert_converged();

    let destroy = estate.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_replace_stops_before_deleting_when_its_snapshot_name_is_another_instances() {
    let moto = Moto::new();
    let estate = Estate::new();
    estate.apply(&[]);
    estate.write("db.m6g.large", "app2", "256MB");
    let snapshot = planned_snapshot(&estate.plan());
    let other = format!("{}-other", estate.identifier);
    moto.create_instance(&other, PASSWORD, "sg-00000000", &estate.parameter_group);
    moto.create_snapshot(&other, &snapshot);

    let refused = estate.run(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains(&format!("snapshot {snapshot} already exists, but of DB instance {other}, not of {}", estate.identifier)), "{refused:?}");
    assert_eq!(moto.instance(&estate.identifier).and_then(|i| i.db_name().map(str::to_owned)).as_deref(), Some("app"), "the instance was deleted");
    assert!(estate.work.state_addresses().contains(&"aws_db_instance.db".to_owned()), "state lost the instance");

    // A snapshot of the instance itself under that name (an interrupted earlier apply) is reused.
    moto.delete_snapshot(&snapshot);
    moto.create_snapshot(&estate.identifier, &snapshot);
    estate.apply(&["-allow-data-loss"]);
    assert!(moto.snapshot_exists(&snapshot));
    assert_eq!(moto.instance(&estate.identifier).and_then(|i| i.db_name().map(str::to_owned)).as_deref(), Some("app2"));
    estate.assert_converged();
    moto.delete_instance(&other);
    let destroy = estate.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_reboot_only_parameter_is_downtime_only_while_an_instance_uses_the_group() {
    let moto = Moto::new();
    let estate = Estate::new();
    estate.write_group_only("256MB");
    estate.apply(&[]);

    // No instance uses the group: the static parameter waits for a first boot, nothing reboots.
    // Finding that out costs one DescribeDBInstances, made only when such a change is planned.
    estate.write_group_only("512MB");
    let plan = estate.run(&["plan", "-detailed-exitcode", "-verbose"]);
    assert_eq!(plan.code, 2, "expected changes: {plan:?}");
    assert!(plan.stdout.contains("shared_buffers = 512MB take effect at the first boot of an instance that uses the group: no DB instance uses it now"), "{plan:?}");
    assert!(!plan.stdout.contains("data loss"), "{plan:?}");
    assert!(plan.stderr.contains("rds:DescribeDBInstances 1"), "{plan:?}");
    estate.apply(&[]);
    let converged = estate.run(&["plan", "-detailed-exitcode", "-verbose"]);
    assert_eq!(converged.code, 0, "expected no changes: {converged:?}");
    assert!(!converged.stderr.contains("rds:DescribeDBInstances"), "{converged:?}");

    // Once an instance uses it, the same kind of change needs that instance's reboot: downtime, named, not data loss.
    estate.write("db.m6g.large", "app", "512MB");
    estate.apply(&[]);
    assert!(moto.instance(&estate.identifier).is_some());
    estate.write("db.m6g.large", "app", "1GB");
    let plan = estate.plan();
    let line = format!("! locks: parameter group {}: shared_buffers = 1GB take effect only when each instance using it reboots, which strata does not do; instances using it: {}: each reboot drops every connection", estate.parameter_group, estate.identifier);
    assert!(plan.stdout.contains(&line), "{plan:?}");
    assert!(plan.stdout.contains("aws_db_parameter_group.pg will be updated in place [locking]"), "a reboot loses no stored data: {plan:?}");
    estate.apply(&[]);
    estate.assert_converged();
    let destroy = estate.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_reboot_that_becomes_needed_after_review_is_downtime_not_a_refusal() {
    let moto = Moto::new();
    let estate = Estate::new();
    estate.write_group_only("256MB");
    estate.apply(&[]);
    estate.write_group_only("512MB");
    let reviewed = estate.run(&["plan", "-out", "group.plan"]);
    assert_eq!(reviewed.code, 0, "{reviewed:?}");
    assert!(!reviewed.stdout.contains("data loss"), "no instance uses the group yet: {reviewed:?}");

    // Between review and apply an instance starts using the group: applying now needs its reboot,
    // which is downtime strata does not cause (it never reboots), not data loss: no refusal.
    let outsider = format!("{}-outsider", estate.identifier);
    let sg_name = format!("{outsider}-sg");
    let sg = moto.create_security_group(&sg_name, &moto.default_vpc(), 5432, "10.0.0.0/16");
    moto.create_instance(&outsider, "outsider-password", &sg, &estate.parameter_group);
    let applied = estate.run(&["apply", "group.plan"]);
    // moto, unlike RDS, lets a group in use be deleted; an instance left behind breaks later listings.
    moto.delete_instance(&outsider);
    moto.delete_security_group(&sg_name);
    assert_eq!(applied.code, 0, "{applied:?}");
    assert!(!applied.stderr.contains("loses data"), "{applied:?}");
    let destroy = estate.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn a_requested_replace_snapshots_first_like_a_forced_one() {
    let moto = Moto::new();
    let estate = Estate::new();
    estate.apply(&[]);

    // Nothing in the configuration changes; -replace alone makes the replace, snapshot first.
    let plan = estate.run(&["plan", "-replace", "aws_db_instance.db"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let snapshot = planned_snapshot(&plan);
    assert!(snapshot.starts_with(&format!("{}-pre-replace-", estate.identifier)), "{snapshot}");
    assert!(plan.stdout.contains(&format!("# backup first: RDS snapshot {snapshot}")), "{plan:?}");
    assert!(plan.stdout.contains(&format!("its data survives only in the snapshot {snapshot} taken just before")), "{plan:?}");
    let created_before = moto.instance(&estate.identifier).and_then(|i| i.instance_create_time().cloned());
    // Snapshot names carry the instance's creation time to the second, and moto creates at once:
    // the replacement must be born in a later second to have a snapshot name of its own.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    estate.apply(&["-replace", "aws_db_instance.db", "-allow-data-loss"]);
    assert!(moto.snapshot_exists(&snapshot), "no snapshot {snapshot} in moto after the replace");
    assert!(recorded_backups(&estate).contains(&format!("RDS snapshot {snapshot}")), "state does not record {snapshot}");
    let created_after = moto.instance(&estate.identifier).and_then(|i| i.instance_create_time().cloned());
    assert_ne!(created_before, created_after, "the instance was not replaced");
    estate.assert_converged();

    // A saved plan applied by another process keeps the plan's promise too.
    let saved = estate.run(&["plan", "-replace", "aws_db_instance.db", "-allow-data-loss", "-out", "replace.plan"]);
    assert_eq!(saved.code, 0, "{saved:?}");
    let second = planned_snapshot(&saved);
    assert_ne!(second, snapshot, "the new instance's snapshot is named after its own creation");
    estate.apply(&["replace.plan"]);
    assert!(moto.snapshot_exists(&second), "no snapshot {second} in moto after applying the saved plan");
    assert!(recorded_backups(&estate).contains(&format!("RDS snapshot {second}")), "state does not record {second}");
    estate.assert_converged();
    let destroy = estate.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

/// The backup locations state records.
fn recorded_backups(estate: &Estate) -> Vec<String> {
    let state = estate.work.state();
    state["backups"].as_array().into_iter().flatten().filter_map(|b| b["location"].as_str().map(str::to_owned)).collect()
}

/// The snapshot a replace plan says it takes first.
fn planned_snapshot(plan: &Run) -> String {
    plan.stdout
        .split("CreateDBSnapshot ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("the plan names no snapshot: {plan:?}"))
        .to_owned()
}
