//! Where variable values come from, and in which order they win. These configurations have no
//! resources, so no provider (and no database) is involved: the values show in the plan's outputs.

use crate::common;

use common::Workdir;

const CONFIG: &str = r#"
variable "environment" {
  type    = string
  default = "default"
}

variable "replicas" {
  type    = number
  default = 1

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 5
    error_message = "replicas must be between 1 and 5."
  }
}

variable "zones" {
  type    = list(string)
  default = []
}

output "summary" {
  value = format("%s/%d/%s", var.environment, var.replicas, join(",", var.zones))
}
"#;

fn summary(work: &Workdir, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["plan"];
    all.extend_from_slice(args);
    let run = work.strata_env(&all, env);
    assert_eq!(run.code, 0, "{run:?}");
    let line = run.stdout.lines().find(|l| l.contains("summary")).unwrap_or_else(|| panic!("no output line: {run:?}"));
    line.split(" = ").nth(1).unwrap().trim_matches('"').to_owned()
}

#[test]
fn sources_win_in_terraforms_order() {
    let work = Workdir::offline();
    work.write("main.tf", CONFIG);
    assert_eq!(summary(&work, &[], &[]), "default/1/");
    assert_eq!(summary(&work, &[], &[("TF_VAR_environment", "tf")]), "tf/1/");
    assert_eq!(summary(&work, &[], &[("TF_VAR_environment", "tf"), ("STRATA_VAR_environment", "strata")]), "strata/1/");

    work.write("terraform.tfvars", "environment = \"tfvars\"\nreplicas = 2\n");
    assert_eq!(summary(&work, &[], &[("STRATA_VAR_environment", "strata")]), "tfvars/2/");
    work.write("b.auto.tfvars", "environment = \"auto-b\"\n");
    work.write("a.auto.tfvars", "environment = \"auto-a\"\nzones = [\"x\", \"y\"]\n");
    assert_eq!(summary(&work, &[], &[]), "auto-b/2/x,y");

    work.write("extra.tfvars", "environment = \"file\"\n");
    assert_eq!(summary(&work, &["-var", "environment=cli", "-var-file", "extra.tfvars"], &[]), "file/2/x,y");
    assert_eq!(summary(&work, &["-var-file=extra.tfvars", "-var=environment=cli"], &[]), "cli/2/x,y");
    assert_eq!(summary(&work, &["-var", "replicas=3", "-var", r#"zones=["q"]"#], &[]), "auto-b/3/q");
}

#[test]
fn bad_values_are_named_with_what_to_do() {
    let work = Workdir::offline();
    work.write("main.tf", CONFIG);
    let run = work.strata(&["plan", "-var", "replicas=9"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("invalid value for variable \"replicas\"") && run.stderr.contains("between 1 and 5"), "{run:?}");

    let run = work.strata(&["plan", "-var", "replicas=many"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("replicas"), "{run:?}");

    let run = work.strata(&["plan", "-var", "colour=blue"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("undeclared variable \"colour\""), "{run:?}");
}

#[test]
fn sensitive_values_need_a_sensitive_output() {
    let work = Workdir::offline();
    work.write("main.tf", "variable \"token\" {\n  sensitive = true\n  default   = \"abcd-1234\"\n}\n\noutput \"token\" {\n  value = var.token\n}\n");
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("sensitive = true"), "{run:?}");
    assert!(!run.output().contains("abcd-1234"), "{run:?}");

    work.write("main.tf", "variable \"token\" {\n  sensitive = true\n  default   = \"abcd-1234\"\n}\n\noutput \"token\" {\n  value     = var.token\n  sensitive = true\n}\n");
    let run = work.strata(&["plan"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("token = (sensitive value)") && !run.output().contains("abcd-1234"), "{run:?}");
}
