//! Standalone security group rules, as the public terraform-aws-modules/security-group module
//! writes them (a group, then one `aws_security_group_rule` or `aws_vpc_security_group_*_rule`
//! per rule), against moto: validate, plan, apply, a no-change replan, a change of one rule that
//! replaces (or modifies) only that rule, and a destroy that revokes only strata's rules, so a
//! rule added by hand to a group strata does not manage stays.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{Run, Session, Workdir};

/// Two groups strata manages (one named from a prefix, one revoking its rules on delete), rules
/// of every source kind on them, and rules on a group made outside strata (`shared_group_id`).
const CONFIG: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "vpc_id" {
  type = string
}

variable "env" {
  type = string
}

variable "shared_group_id" {
  type = string
}

resource "aws_security_group" "app" {
  name_prefix = "app-${var.env}-"
  description = "Application servers"
  vpc_id      = var.vpc_id
  tags = {
    Name = "app-${var.env}"
  }
}

resource "aws_security_group" "db" {
  name                   = "db-${var.env}"
  description            = "PostgreSQL"
  vpc_id                 = var.vpc_id
  revoke_rules_on_delete = true
  tags = {
    Name = "db-${var.env}"
  }
}

# moto drops the description of a rule that references a group (DescribeSecurityGroupRules
# answers without it), so the rules referencing groups carry none here.
resource "aws_security_group_rule" "db_from_app" {
  type                     = "ingress"
  from_port                = 5432
  to_port                  = 5432
  protocol                 = "tcp"
  security_group_id        = aws_security_group.db.id
  source_security_group_id = aws_security_group.app.id
}

resource "aws_security_group_rule" "db_from_vpcs" {
  type              = "ingress"
  from_port         = 5432
  to_port           = 5432
  protocol          = "tcp"
  cidr_blocks       = ["10.0.0.0/16", "10.1.0.0/16"]
  ipv6_cidr_blocks  = ["2001:db8::/48"]
  security_group_id = aws_security_group.db.id
  description       = "PostgreSQL from the VPCs"
}

resource "aws_security_group_rule" "db_self" {
  type              = "ingress"
  from_port         = 0
  to_port           = 65535
  protocol          = "tcp"
  self              = true
  security_group_id = aws_security_group.db.id
}

resource "aws_vpc_security_group_ingress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
  description       = "HTTPS"
  tags = {
    Name = "https-${var.env}"
  }
}

resource "aws_vpc_security_group_ingress_rule" "app_https_ipv6" {
  security_group_id = aws_security_group.app.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv6         = "::/0"
  description       = "HTTPS over IPv6"
}

resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  security_group_id            = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  referenced_security_group_id = aws_security_group.db.id
}

resource "aws_security_group_rule" "shared_from_vpc" {
  type              = "ingress"
  from_port         = 6432
  to_port           = 6432
  protocol          = "tcp"
  cidr_blocks       = ["10.0.0.0/16"]
  security_group_id = var.shared_group_id
  description       = "PgBouncer"
}

resource "aws_vpc_security_group_egress_rule" "shared_all_out" {
  security_group_id = var.shared_group_id
  ip_protocol       = "-1"
  cidr_ipv6         = "::/0"
}
"#;

struct Rules {
    work: Workdir,
    vars: Vec<(String, String)>,
    shared: String,
    env: String,
}

impl Rules {
    fn new(moto: &Moto) -> Rules {
        let env = format!("r{}", unique_suffix());
        let shared = moto.create_security_group(&format!("shared-{env}"), &moto.default_vpc(), 22, "192.168.0.0/16");
        let work = Workdir::offline();
        work.write("main.tf", CONFIG);
        let vars = vec![
            ("STRATA_VAR_vpc_id".to_owned(), moto.default_vpc()),
            ("STRATA_VAR_env".to_owned(), env.clone()),
            ("STRATA_VAR_shared_group_id".to_owned(), shared.clone()),
        ];
        Rules { work, vars, shared, env }
    }

    fn attribute(&self, address: &str, name: &str) -> String {
        let resource = self.work.state_instance(address);
        resource["attributes"][name].as_str().unwrap_or_else(|| panic!("{address}.{name} in state")).to_owned()
    }
}

impl Session for Rules {
    fn workdir(&self) -> &Workdir {
        &self.work
    }

    fn run(&self, args: &[&str]) -> Run {
        let env: Vec<(&str, &str)> = self.vars.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
        self.work.strata_env(args, &env)
    }
}

fn lines(items: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    lines.sort();
    lines
}

#[test]
fn standalone_rules_apply_converge_change_one_rule_and_destroy_only_their_own() {
    let moto = Moto::new();
    let rules = Rules::new(&moto);
    let validate = rules.run(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");

    let plan = rules.plan();
    assert!(plan.stdout.contains("Plan: 10 to add, 0 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("AuthorizeSecurityGroupIngress"), "the plan shows the calls: {plan:?}");
    rules.apply();
    let (app, db) = (rules.attribute("aws_security_group.app", "id"), rules.attribute("aws_security_group.db", "id"));
    assert!(rules.attribute("aws_security_group.app", "name").starts_with("app-r"), "named from its prefix");
    assert!(rules.attribute("aws_vpc_security_group_ingress_rule.app_https", "security_group_rule_id").starts_with("sgr-"));
    let db_rules = [
        format!("ingress tcp 5432-5432 {app}"),
        "ingress tcp 5432-5432 10.0.0.0/16".to_owned(),
        "ingress tcp 5432-5432 10.1.0.0/16".to_owned(),
        "ingress tcp 5432-5432 2001:db8::/48".to_owned(),
        format!("ingress tcp 0-65535 {db}"),
        "egress -1 -1--1 0.0.0.0/0".to_owned(),
    ];
    assert_eq!(moto.rules(&db), lines(&db_rules.iter().map(String::as_str).collect::<Vec<_>>()));
    let app_rules = [
        "ingress tcp 443-443 0.0.0.0/0".to_owned(),
        "ingress tcp 443-443 ::/0".to_owned(),
        format!("egress tcp 5432-5432 {db}"),
        "egress -1 -1--1 0.0.0.0/0".to_owned(),
    ];
    assert_eq!(moto.rules(&app), lines(&app_rules.iter().map(String::as_str).collect::<Vec<_>>()));
    // The groups leave alone the rules the rule resources manage.
    rules.assert_converged();

    // A rule added by hand to the shared group is nobody's here: nothing plans to touch it.
    moto.authorize_by_hand(&rules.shared, 2222, "172.16.0.0/12");
    rules.assert_converged();

    // One CIDR of one legacy rule changes: that rule alone is replaced.
    rules.edit("\"10.1.0.0/16\"", "\"10.2.0.0/16\"");
    let plan = rules.plan();
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 1 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("aws_security_group_rule.db_from_vpcs must be replaced"), "{plan:?}");
    rules.apply();
    let changed: Vec<String> = db_rules.iter().map(|r| r.replace("10.1.0.0/16", "10.2.0.0/16")).collect();
    assert_eq!(moto.rules(&db), lines(&changed.iter().map(String::as_str).collect::<Vec<_>>()));
    rules.assert_converged();

    // A new port on a VPC rule is modified in place, its sgr- id kept.
    let https = rules.attribute("aws_vpc_security_group_ingress_rule.app_https", "id");
    rules.edit("from_port         = 443\n  to_port           = 443\n  cidr_ipv4", "from_port         = 8443\n  to_port           = 8443\n  cidr_ipv4");
    let plan = rules.plan();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains("ModifySecurityGroupRules"), "{plan:?}");
    rules.apply();
    assert_eq!(rules.attribute("aws_vpc_security_group_ingress_rule.app_https", "id"), https);
    assert!(moto.rules(&app).contains(&"ingress tcp 8443-8443 0.0.0.0/0".to_owned()), "{:?}", moto.rules(&app));
    rules.assert_converged();

    // Destroy revokes strata's rules and deletes strata's groups (db's rules revoked first, as
    // revoke_rules_on_delete asks); the shared group keeps its own.
    let destroy = rules.run(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(destroy.stdout.contains(&format!("RevokeSecurityGroupIngress and RevokeSecurityGroupEgress {db}: every rule (revoke_rules_on_delete)")), "{destroy:?}");
    assert!(!moto.group_exists(&app) && !moto.group_exists(&db), "strata's groups are gone");
    let untouched = ["ingress tcp 22-22 192.168.0.0/16", "ingress tcp 2222-2222 172.16.0.0/12", "egress -1 -1--1 0.0.0.0/0"];
    assert_eq!(moto.rules(&rules.shared), lines(&untouched));
    moto.delete_security_group(&format!("shared-{}", rules.env));
}

#[test]
fn arguments_strata_does_not_act_on_are_refused_at_validate() {
    let work = Workdir::offline();
    work.write(
        "main.tf",
        r#"
resource "aws_db_instance" "db" {
  identifier                          = "db"
  engine                              = "postgres"
  instance_class                      = "db.t3.micro"
  allocated_storage                   = 20
  username                            = "admin"
  iam_database_authentication_enabled = false
  performance_insights_enabled        = true
}
"#,
    );
    let run = work.strata(&["validate"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("performance_insights_enabled") && run.stderr.contains("strata does not act on this argument yet"), "{run:?}");
    assert!(!run.stderr.contains("iam_database_authentication_enabled"), "AWS's default is accepted: {run:?}");
}

#[test]
fn a_parameter_group_named_from_a_prefix_keeps_its_name_and_skip_destroy_leaves_it() {
    let moto = Moto::new();
    let work = Workdir::offline();
    let prefix = format!("pg-{}-", unique_suffix());
    let config = format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_db_parameter_group" "pg" {{
  name_prefix  = "{prefix}"
  family       = "postgres16"
  skip_destroy = true
  parameter {{
    name  = "log_min_duration_statement"
    value = "500"
  }}
}}
"#
    );
    work.write("main.tf", &config);
    let apply = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let state = work.state();
    let name = state["resources"][0]["instances"][0]["attributes"]["name"].as_str().unwrap_or_default().to_owned();
    assert!(name.starts_with(&prefix) && name.len() == prefix.len() + 26, "a name generated from the prefix: {name}");
    assert!(moto.parameter_group_exists(&name));
    let replan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(replan.code, 0, "the generated name is kept: {replan:?}");

    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(destroy.stdout.contains("skip_destroy leaves it in AWS"), "{destroy:?}");
    assert!(work.state()["resources"].as_array().is_some_and(Vec::is_empty), "removed from state");
    assert!(moto.parameter_group_exists(&name), "skip_destroy leaves the group in AWS");
    moto.delete_parameter_group(&name);
}
