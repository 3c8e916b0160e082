//! The Terraform files our users start from (`examples/seed-terraform`, byte for byte) plan,
//! apply into moto, converge, change in place, rename, replace and destroy as RDS itself would.

use crate::common;

use std::path::Path;

use common::moto::{unique_suffix, Moto};
use common::{Run, Session, Workdir};

const PASSWORD: &str = "s3cret-Seed-Passw0rd";

/// A copy of the seed files with its own environment name, so tests share one moto.
struct Seed {
    work: Workdir,
    environment: String,
    vars: Vec<String>,
    /// Everything strata printed, to prove the password never appears in it.
    printed: std::cell::RefCell<String>,
}

impl Seed {
    fn new(moto: &Moto) -> Seed {
        let work = Workdir::offline();
        let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-terraform");
        for file in ["main.tf", "variables.tf"] {
            work.write(file, &std::fs::read_to_string(seed.join(file)).expect("seed file"));
        }
        let environment = format!("t{}", unique_suffix());
        let vars = vec![format!("vpc_id={}", moto.default_vpc()), format!("db_password={PASSWORD}"), format!("environment={environment}")];
        Seed { work, environment, vars, printed: Default::default() }
    }

    fn identifier(&self) -> String {
        format!("ai-postgres-{}", self.environment)
    }
}

impl Session for Seed {
    fn workdir(&self) -> &Workdir {
        &self.work
    }

    fn run(&self, command: &[&str]) -> Run {
        let mut args: Vec<&str> = command.to_vec();
        args.push("-verbose");
        // From the environment, which a saved plan also accepts (Terraform refuses -var there).
        let names: Vec<(String, &str)> = self.vars.iter().filter_map(|var| var.split_once('=')).map(|(name, value)| (format!("STRATA_VAR_{name}"), value)).collect();
        let env: Vec<(&str, &str)> = names.iter().map(|(name, value)| (name.as_str(), *value)).collect();
        let run = self.work.strata_env(&args, &env);
        self.printed.borrow_mut().push_str(&run.output());
        run
    }
}

impl Drop for Seed {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            assert!(!self.printed.borrow().contains(PASSWORD), "the password appeared in strata's output");
        }
    }
}

#[test]
fn seed_plans_three_creates_applies_into_moto_and_converges() {
    let moto = Moto::new();
    let seed = Seed::new(&moto);
    let plan = seed.plan();
    assert!(plan.stdout.contains("Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    let apply = seed.apply();
    assert!(apply.stdout.contains("aws_db_instance.ai_postgres: Creation complete"), "{apply:?}");
    let instance = moto.instance(&seed.identifier()).expect("the instance exists in moto");
    assert_eq!(instance.db_instance_class(), Some("db.m6g.xlarge"));
    assert_eq!(instance.db_name(), Some("ai_db"));
    assert!(moto.parameter_group_exists(&format!("ai-postgres-pg-{}", seed.environment)));
    assert_eq!(moto.ingress(&format!("ai-db-sg-{}", seed.environment)), Some(vec![("tcp".to_owned(), 5432, 5432)]));
    // Terraform's own AWS provider shows a false change on the parameter group here; strata must not.
    seed.assert_converged();

    // An in-place change of class.
    seed.edit("db.m6g.xlarge", "db.m6g.2xlarge");
    let plan = seed.plan();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("will be updated in place") && plan.stdout.contains("instance_class"), "{plan:?}");
    seed.apply();
    assert_eq!(moto.instance(&seed.identifier()).and_then(|i| i.db_instance_class().map(str::to_owned)).as_deref(), Some("db.m6g.2xlarge"));
    seed.assert_converged();

    // Removing the ingress rule updates the group in place.
    seed.edit("  ingress {\n    from_port   = 5432\n    to_port     = 5432\n    protocol    = \"tcp\"\n    cidr_blocks = [\"10.0.0.0/16\"]  # Internal VPC only\n  }\n", "");
    let plan = seed.plan();
    assert!(plan.stdout.contains("aws_security_group.db_sg will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    seed.apply();
    assert_eq!(moto.ingress(&format!("ai-db-sg-{}", seed.environment)), Some(vec![]));
    seed.assert_converged();

    // destroy removes all three.
    let destroy = seed.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.instance(&seed.identifier()).is_none(), "instance still in moto");
    assert!(!moto.parameter_group_exists(&format!("ai-postgres-pg-{}", seed.environment)));
    assert_eq!(moto.ingress(&format!("ai-db-sg-{}", seed.environment)), None);
}

#[test]
fn renaming_the_identifier_renames_in_place_and_db_name_forces_a_replacement() {
    let moto = Moto::new();
    let seed = Seed::new(&moto);
    seed.apply();
    let old = seed.identifier();

    seed.edit("identifier           = \"ai-postgres-${var.environment}\"", "identifier           = \"ai-pg-${var.environment}\"");
    let plan = seed.plan();
    assert!(plan.stdout.contains("aws_db_instance.ai_postgres will be updated in place"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    seed.apply();
    let new = format!("ai-pg-{}", seed.environment);
    assert!(moto.instance(&old).is_none(), "the old identifier still exists");
    assert!(moto.instance(&new).is_some(), "the renamed instance is missing");
    seed.assert_converged();

    seed.edit("db_name            = \"ai_db\"", "db_name            = \"ai_db2\"");
    let plan = seed.plan();
    assert!(plan.stdout.contains("must be replaced"), "{plan:?}");
    assert!(plan.stdout.contains("# forces replacement"), "{plan:?}");
    assert!(plan.stdout.lines().any(|l| l.contains("db_name") && l.contains("forces replacement")), "{plan:?}");

    let destroy = seed.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.instance(&new).is_none());
}

#[test]
fn a_major_version_change_needs_allow_major_version_upgrade() {
    let moto = Moto::new();
    let seed = Seed::new(&moto);
    seed.apply();
    seed.edit("engine_version     = \"14.7\"", "engine_version     = \"15.4\"");
    let plan = seed.run(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("allow_major_version_upgrade"), "{plan:?}");

    seed.edit("engine_version     = \"15.4\"", "engine_version     = \"15.4\"\n  allow_major_version_upgrade = true");
    let plan = seed.plan();
    assert!(plan.stdout.contains("engine_version"), "{plan:?}");
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    let destroy = seed.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}

#[test]
fn deleting_an_instance_without_skip_final_snapshot_takes_one() {
    let moto = Moto::new();
    let seed = Seed::new(&moto);
    seed.edit("skip_final_snapshot = true", "skip_final_snapshot = false\n  final_snapshot_identifier = \"final-${var.environment}\"");
    seed.apply();
    let plan = seed.run(&["plan", "-destroy"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let snapshot = format!("final-{}", seed.environment);
    assert!(plan.stdout.contains(&snapshot), "the plan names the final snapshot: {plan:?}");
    let destroy = seed.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.snapshot_exists(&snapshot), "no final snapshot {snapshot} in moto");
}

#[test]
fn a_saved_plan_applies_exactly_and_is_refused_once_the_state_moved_on() {
    let moto = Moto::new();
    let seed = Seed::new(&moto);
    let plan = seed.run(&["plan", "-out", "first.plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    let stale = seed.run(&["plan", "-out", "second.plan"]);
    assert_eq!(stale.code, 0, "{stale:?}");
    let plan_file = std::fs::read_to_string(seed.work.path().join("first.plan")).expect("plan file");
    assert!(!plan_file.contains(PASSWORD), "the password is in the plan file");

    let apply = seed.run(&["apply", "first.plan"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(moto.instance(&seed.identifier()).is_some());
    seed.assert_converged();

    let refused = seed.run(&["apply", "second.plan"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("the state changed since this plan was made"), "{refused:?}");
    let destroy = seed.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
}
