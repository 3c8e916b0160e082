//! Transient AWS faults: throttling and 500s between strata and moto (through `FaultProxy`) are
//! retried with backoff; a fault that outlasts the retries fails that resource alone, with the
//! AWS code and a hint, leaves the state intact, and a later apply converges.

mod common;

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
