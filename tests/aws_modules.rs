//! A module tree in the style of terraform-aws-modules/rds and /security-group, against moto: a
//! root calls a local `db` module once per environment (`for_each`) in two regions (provider
//! aliases), which calls a nested `security-group` module whose rules come from `dynamic
//! "ingress"` over an `optional()`-typed input, and a parameter group only when asked (`count`).
//! Validate, plan, apply, a no-change replan, destroy.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::Workdir;

fn root(suffix: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

provider "aws" {{
  alias  = "west"
  region = "us-west-2"
}}

variable "environments" {{
  type = map(object({{
    ingress = optional(list(object({{
      port        = number
      cidr_blocks = optional(list(string), ["10.0.0.0/8"])
    }})), [])
    parameter_group = optional(bool, false)
  }}))
  default = {{
    staging = {{ ingress = [{{ port = 5432 }}] }}
    prod    = {{ ingress = [{{ port = 5432 }}, {{ port = 6432, cidr_blocks = ["10.1.0.0/16"] }}], parameter_group = true }}
  }}
}}

module "db" {{
  source   = "./modules/db"
  for_each = var.environments

  name            = "{suffix}-${{each.key}}"
  ingress         = each.value.ingress
  parameter_group = each.value.parameter_group
}}

module "db_west" {{
  source    = "./modules/db"
  providers = {{ aws = aws.west }}

  name    = "{suffix}-west"
  ingress = [{{ port = 5432, cidr_blocks = ["10.2.0.0/16"] }}]
}}

output "security_group_ids" {{
  value = {{ for env, db in module.db : env => db.security_group_id }}
}}
"#
    )
}

const DB: &str = r#"
variable "name" {
  type = string
}

variable "ingress" {
  type = list(object({
    port        = number
    cidr_blocks = list(string)
  }))
}

variable "parameter_group" {
  type    = bool
  default = false
}

module "security_group" {
  source = "../security-group"

  name    = "${var.name}-db"
  ingress = var.ingress
}

resource "aws_db_parameter_group" "this" {
  count  = var.parameter_group ? 1 : 0
  name   = "${var.name}-pg16"
  family = "postgres16"
  parameter {
    name  = "log_min_duration_statement"
    value = "500"
  }
}

output "security_group_id" {
  value = module.security_group.id
}
"#;

const SECURITY_GROUP: &str = r#"
variable "name" {
  type = string
}

variable "ingress" {
  type = list(object({
    port        = number
    cidr_blocks = list(string)
  }))
}

resource "aws_security_group" "this" {
  name        = var.name
  description = "PostgreSQL access for ${var.name}"

  dynamic "ingress" {
    for_each = var.ingress
    iterator = rule
    content {
      from_port   = rule.value.port
      to_port     = rule.value.port
      protocol    = "tcp"
      cidr_blocks = rule.value.cidr_blocks
    }
  }
}

output "id" {
  value = aws_security_group.this.id
}
"#;

#[test]
fn an_rds_style_module_tree_applies_in_two_regions_and_converges() {
    let moto = Moto::new();
    let suffix = format!("mods{}", unique_suffix());
    let work = Workdir::offline();
    work.write("main.tf", &root(&suffix));
    work.write("modules/db/main.tf", DB);
    work.write("modules/security-group/main.tf", SECURITY_GROUP);
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");

    let apply = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stdout.contains("Apply complete! Resources: 4 added"), "{apply:?}");
    let mut addresses = work.state_addresses();
    addresses.sort();
    assert_eq!(
        addresses,
        [
            "module.db[\"prod\"].aws_db_parameter_group.this[0]",
            "module.db[\"prod\"].module.security_group.aws_security_group.this",
            "module.db[\"staging\"].module.security_group.aws_security_group.this",
            "module.db_west.module.security_group.aws_security_group.this",
        ]
    );
    let mut ports: Vec<i32> = moto.ingress(&format!("{suffix}-prod-db")).expect("the prod group in us-east-1").iter().map(|(_, from, _)| *from).collect();
    ports.sort();
    assert_eq!(ports, [5432, 6432], "one rule per dynamic ingress element");
    assert_eq!(moto.security_group_count_in(&format!("{suffix}-west-db"), "us-west-2"), 1, "the west group is in us-west-2");
    assert_eq!(moto.security_group_count_in(&format!("{suffix}-west-db"), "us-east-1"), 0, "and not in us-east-1");
    let ids = work.state()["outputs"]["security_group_ids"]["value"].clone();
    assert!(ids["prod"].as_str().is_some_and(|id| id.starts_with("sg-")), "{ids}");
    work.assert_converged();

    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert_eq!(moto.security_group_count_in(&format!("{suffix}-west-db"), "us-west-2"), 0);
    assert!(!moto.parameter_group_exists(&format!("{suffix}-prod-pg16")));
}
