//! Several configurations of one provider in one graph: two PostgreSQL databases through
//! `provider "postgres" { alias = ... }`, resources choosing one with `provider = postgres.NAME`,
//! and a module handed the aliased one with `providers = { postgres = postgres.analytics }`.
//! Checked against a real PostgreSQL: each object lands in its own database, state records the
//! configuration, a no-change replan, destroy through the right connection; and the errors for
//! an undeclared alias and a module whose call does not pass what it needs.

use crate::common;

use common::{TestDb, Workdir};

fn config(analytics: &str) -> String {
    format!(
        r#"
provider "postgres" {{}}

provider "postgres" {{
  alias    = "analytics"
  database = "{analytics}"
}}

resource "postgres_table" "orders" {{
  name = "orders"
  column {{
    name = "id"
    type = "bigint"
  }}
}}

resource "postgres_table" "orders_daily" {{
  provider = postgres.analytics
  name     = "orders_daily"
  column {{
    name = "day"
    type = "date"
  }}
}}

module "marts" {{
  source    = "./modules/mart"
  providers = {{ postgres = postgres.analytics }}
  name      = "revenue"
}}
"#
    )
}

const MART: &str = r#"
variable "name" {
  type = string
}

resource "postgres_schema" "this" {
  name = var.name
}
"#;

fn has_schema(db: &TestDb, name: &str) -> bool {
    db.client().query_opt("SELECT 1 FROM pg_namespace WHERE nspname = $1", &[&name]).unwrap().is_some()
}

#[test]
fn each_resource_uses_the_provider_configuration_it_names() {
    let (main, analytics) = (TestDb::new(), TestDb::new());
    let work = Workdir::new(&main);
    work.write("main.tf", &config(&analytics.name));
    work.write("modules/mart/main.tf", MART);
    let apply = work.apply();
    assert!(apply.stdout.contains("3 added"), "{apply:?}");
    assert!(main.has_table("orders") && !main.has_table("orders_daily"));
    assert!(analytics.has_table("orders_daily") && !analytics.has_table("orders"));
    assert!(has_schema(&analytics, "revenue") && !has_schema(&main, "revenue"));
    let state = work.state();
    let provider_of = |address: &str| state["resources"].as_array().unwrap().iter().find(|r| r["address"] == address).map(|r| r["provider"].clone());
    assert_eq!(provider_of("postgres_table.orders_daily"), Some("postgres.analytics".into()));
    assert_eq!(provider_of("module.marts.postgres_schema.this"), Some("postgres.analytics".into()));
    assert_eq!(provider_of("postgres_table.orders"), Some("postgres".into()));
    work.assert_converged();

    // Gone from the configuration: deleted through the configuration state recorded.
    work.write("main.tf", &config(&analytics.name).replace("resource \"postgres_table\" \"orders_daily\"", "resource \"postgres_table\" \"unused\"").replace("name     = \"orders_daily\"", "name     = \"unused\""));
    let apply = work.strata(&["apply", "-auto-approve", "-allow-data-loss"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(!analytics.has_table("orders_daily") && analytics.has_table("unused"));
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(!analytics.has_table("unused") && !has_schema(&analytics, "revenue") && !main.has_table("orders"));
}

#[test]
fn an_undeclared_alias_and_an_unpassed_one_are_errors_before_anything_runs() {
    let work = Workdir::offline();
    work.write("main.tf", &config("analytics").replace("provider = postgres.analytics", "provider = postgres.analytic"));
    work.write("modules/mart/main.tf", MART);
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(validate.stderr.contains("Provider configuration not present: postgres_table.orders_daily uses postgres.analytic"), "{validate:?}");

    work.write("main.tf", &config("analytics"));
    work.write("modules/mart/main.tf", &MART.replace("  name = var.name\n", "  provider = postgres.reporting\n  name     = var.name\n"));
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 1, "{validate:?}");
    assert!(validate.stderr.contains("module.marts.postgres_schema.this uses the provider configuration postgres.reporting, which its module call does not pass"), "{validate:?}");

    work.write("main.tf", &config("analytics").replace("provider = postgres.analytics", "provider = aws.analytics"));
    work.write("modules/mart/main.tf", MART);
    let validate = work.strata(&["validate"]);
    assert!(validate.stderr.contains("postgres_table.orders_daily cannot use the provider aws.analytics"), "{validate:?}");
}
