//! Transient AWS faults: throttling and 500s between strata and moto (through `FaultProxy`) are
//! retried with backoff; a fault that outlasts the retries fails that resource alone, with the
//! AWS code and a hint, leaves the state intact, and a later apply converges.

use crate::common;

use common::aws_faults::{FaultKind, FaultProxy};
use common::moto::{unique_suffix, Moto};
use common::{Run, Workdir};

/// A parameter group and a security group that do not depend on each other, through `proxy`,
/// retrying each call `max_retries` times from a 20 ms backoff so the test stays fast.
fn configuration(proxy: &FaultProxy, moto: &Moto, suffix: &str, max_retries: u32) -> String {
    format!(
        r#"
provider "aws" {{
  region           = "us-east-1"
  max_retries      = {max_retries}
  retry_backoff_ms = 20
  endpoints {{
    rds = "{url}"
    ec2 = "{url}"
  }}
}}

resource "aws_db_parameter_group" "pg" {{
  name   = "faults-pg-{suffix}"
  family = "postgres14"
  parameter {{
    name  = "log_min_duration_statement"
    value = "500"
  }}
}}

resource "aws_security_group" "sg" {{
  name        = "faults-sg-{suffix}"
  description = "strata fault test"
  vpc_id      = "{vpc}"
}}
"#,
        url = proxy.url(),
        vpc = moto.default_vpc(),
    )
}

fn apply(work: &Workdir) -> Run {
    work.strata(&["apply", "-auto-approve", "-verbose"])
}

#[test]
fn throttling_and_500s_below_the_retry_budget_are_retried_and_apply_succeeds() {
    let moto = Moto::new();
    let proxy = FaultProxy::start(moto.url());
    let suffix = unique_suffix();
    let work = Workdir::offline();
    work.write("main.tf", &configuration(&proxy, &moto, &suffix, 4));
    proxy.inject(Some("CreateDBParameterGroup"), FaultKind::Throttling, 2);
    proxy.inject(Some("CreateSecurityGroup"), FaultKind::InternalFailure, 3);

    let run = apply(&work);
    assert_eq!(run.code, 0, "{run:?}");
    let pg = proxy.seen("CreateDBParameterGroup");
    assert_eq!((pg.requests, pg.faulted), (3, 2), "two throttled attempts, then the one that worked");
    let sg = proxy.seen("CreateSecurityGroup");
    assert_eq!((sg.requests, sg.faulted), (4, 3), "three failed attempts, then the one that worked");
    // -verbose counts attempts, retries included.
    assert!(run.stderr.contains("rds:CreateDBParameterGroup 3"), "{run:?}");
    assert!(run.stderr.contains("ec2:CreateSecurityGroup 4"), "{run:?}");
    assert!(moto.parameter_group_exists(&format!("faults-pg-{suffix}")));
    assert!(moto.ingress(&format!("faults-sg-{suffix}")).is_some());
    work.assert_converged();
}

#[test]
fn a_fault_that_outlasts_the_retries_fails_that_resource_only_and_a_rerun_converges() {
    let moto = Moto::new();
    let proxy = FaultProxy::start(moto.url());
    let suffix = unique_suffix();
    let work = Workdir::offline();
    work.write("main.tf", &configuration(&proxy, &moto, &suffix, 1));
    proxy.inject(Some("CreateDBParameterGroup"), FaultKind::Throttling, usize::MAX);

    let run = apply(&work);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("rds:CreateDBParameterGroup failed: Throttling"), "the error names the AWS code: {run:?}");
    assert!(run.stderr.contains("raise max_retries"), "the error says what to do: {run:?}");
    assert_eq!(proxy.seen("CreateDBParameterGroup").requests, 2, "one attempt and max_retries = 1 retry");
    assert!(!moto.parameter_group_exists(&format!("faults-pg-{suffix}")));
    assert!(moto.ingress(&format!("faults-sg-{suffix}")).is_some(), "the independent security group was created");
    // work.state() validates the file against schemas/state.schema.json.
    assert!(work.state().is_object());
    assert_eq!(work.state_addresses(), ["aws_security_group.sg"], "only what was created is recorded");

    proxy.heal();
    let rerun = apply(&work);
    assert_eq!(rerun.code, 0, "{rerun:?}");
    assert!(moto.parameter_group_exists(&format!("faults-pg-{suffix}")));
    assert_eq!(proxy.seen("CreateSecurityGroup").requests, 1, "the security group was not created twice");
    work.assert_converged();
}

/// An RDS instance through `proxy`, with `extra` arguments, retrying once so faults fail fast.
fn instance_configuration(proxy: &FaultProxy, identifier: &str, extra: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region           = "us-east-1"
  max_retries      = 1
  retry_backoff_ms = 20
  endpoints {{
    rds = "{url}"
    ec2 = "{url}"
  }}
}}

resource "aws_db_instance" "db" {{
  identifier          = "{identifier}"
  engine              = "postgres"
  engine_version      = "14.10"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = "Sup3r-s3cret-pw"
  skip_final_snapshot = true
{extra}}}
"#,
        url = proxy.url(),
    )
}

/// Heals `proxy` and applies again, which must succeed.
fn reapply_healed(proxy: &FaultProxy, work: &Workdir) {
    proxy.heal();
    let rerun = apply(work);
    assert_eq!(rerun.code, 0, "{rerun:?}");
}

/// The configuration is applied: the next plan is empty, and destroy cleans moto up.
fn converged_then_destroyed(work: &Workdir) {
    work.assert_converged();
    assert_eq!(work.strata(&["destroy", "-auto-approve"]).code, 0);
}

fn recorded_identifier(work: &Workdir) -> Option<String> {
    let state = work.state();
    let db = common::instances(&state).into_iter().find(|r| r["type"] == "aws_db_instance")?;
    db["attributes"]["identifier"].as_str().map(str::to_owned)
}

#[test]
fn a_create_whose_wait_fails_still_records_the_instance() {
    let moto = Moto::new();
    let proxy = FaultProxy::start(moto.url());
    let id = format!("faults-wait-{}", unique_suffix());
    let work = Workdir::offline();
    work.write("main.tf", &instance_configuration(&proxy, &id, ""));
    // CreateDBInstance goes through; every DescribeDBInstances of the wait after it fails.
    proxy.inject(Some("DescribeDBInstances"), FaultKind::InternalFailure, usize::MAX);

    let run = apply(&work);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(proxy.seen("CreateDBInstance").requests, 1, "{run:?}");
    assert!(moto.instance(&id).is_some(), "the instance was created");
    assert_eq!(recorded_identifier(&work).as_deref(), Some(id.as_str()), "the created instance is recorded though its wait failed: {run:?}");

    reapply_healed(&proxy, &work);
    assert_eq!(proxy.seen("CreateDBInstance").requests, 1, "the instance was not created twice");
    converged_then_destroyed(&work);
}

#[test]
fn a_rename_then_a_failed_modify_records_the_new_identifier() {
    let moto = Moto::new();
    let proxy = FaultProxy::start(moto.url());
    let (old, new) = (format!("faults-old-{}", unique_suffix()), format!("faults-new-{}", unique_suffix()));
    let work = Workdir::offline();
    work.write("main.tf", &instance_configuration(&proxy, &old, ""));
    assert_eq!(apply(&work).code, 0);

    // The rename (first ModifyDBInstance) goes through; the class change after it fails.
    work.write("main.tf", &instance_configuration(&proxy, &new, "").replace("db.t3.micro", "db.t3.small"));
    proxy.inject_after(Some("ModifyDBInstance"), FaultKind::InternalFailure, 1, usize::MAX);
    let run = apply(&work);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(moto.instance(&old).is_none() && moto.instance(&new).is_some(), "the rename happened");
    assert_eq!(recorded_identifier(&work).as_deref(), Some(new.as_str()), "state follows the rename: {run:?}");

    reapply_healed(&proxy, &work);
    assert_eq!(moto.instance(&new).and_then(|i| i.db_instance_class().map(str::to_owned)).as_deref(), Some("db.t3.small"));
    converged_then_destroyed(&work);
}

#[test]
fn a_replace_whose_delete_succeeds_and_create_fails_records_no_instance_and_a_rerun_creates_it() {
    let moto = Moto::new();
    let proxy = FaultProxy::start(moto.url());
    let id = format!("faults-replace-{}", unique_suffix());
    let work = Workdir::offline();
    work.write("main.tf", &instance_configuration(&proxy, &id, "  db_name             = \"first\"\n"));
    assert_eq!(apply(&work).code, 0);

    // db_name forces a replacement: the delete goes through, the create fails.
    work.write("main.tf", &instance_configuration(&proxy, &id, "  db_name             = \"second\"\n"));
    proxy.inject(Some("CreateDBInstance"), FaultKind::InternalFailure, usize::MAX);
    let run = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(proxy.seen("DeleteDBInstance").requests, 1, "{run:?}");
    assert!(moto.instance(&id).is_none(), "the old instance is gone");
    assert_eq!(recorded_identifier(&work), None, "state does not claim the deleted instance: {run:?}");

    reapply_healed(&proxy, &work);
    assert_eq!(moto.instance(&id).and_then(|i| i.db_name().map(str::to_owned)).as_deref(), Some("second"));
    converged_then_destroyed(&work);
}
