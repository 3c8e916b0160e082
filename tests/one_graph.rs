//! One graph from instance to schema: a `postgres` provider whose configuration comes from an
//! `aws_db_instance` is configured only once the instance exists, and the schema waits for it.
//! moto runs no database, so the host resolves to the local test server once the instance's
//! address is known; before that it is unknown, as a real endpoint would be.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{TestDb, Workdir};

fn config(identifier: &str, database: &str) -> String {
    let (host, port, user) = common::server();
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_db_instance" "db" {{
  identifier          = "{identifier}"
  engine              = "postgres"
  engine_version      = "16.3"
  instance_class      = "db.t4g.micro"
  allocated_storage   = 20
  username            = "{user}"
  password            = "not-used-by-the-test-1"
  skip_final_snapshot = true
}}

# Known only once the instance exists: its address decides where the schema goes.
provider "postgres" {{
  host     = aws_db_instance.db.address != "" ? "{host}" : "no-instance.invalid"
  port     = {port}
  database = "{database}"
  username = aws_db_instance.db.username
}}

resource "postgres_table" "events" {{
  name = "events"
  column {{
    name = "id"
    type = "bigint"
    null = false
  }}
  primary_key = ["id"]
}}
"#
    )
}

#[test]
fn the_schema_waits_for_the_instance_its_provider_needs() {
    let moto = Moto::new();
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let identifier = format!("graph-{}", unique_suffix());
    work.write("main.tf", &config(&identifier, &db.name));

    // Before the instance exists, the table's create is planned without a connection.
    let plan = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."), "{plan:?}");
    assert!(plan.stdout.contains(r#"CREATE TABLE "public"."events""#), "{plan:?}");

    let apply = work.apply();
    let done = |address: &str| apply.stdout.find(&format!("{address}: Creation complete")).unwrap_or_else(|| panic!("{address}: {apply:?}"));
    assert!(done("aws_db_instance.db") < done("postgres_table.events"), "{apply:?}");
    assert!(moto.instance(&identifier).is_some());
    assert!(db.has_table("events"));
    let state = work.state();
    let table = common::instance(&state, "postgres_table.events").unwrap();
    assert!(table["dependencies"].to_string().contains("aws_db_instance.db"), "the table records the instance it lives in: {table}");

    // Now the provider's configuration is known at plan time, and nothing is left to do.
    work.assert_converged();

    // Destroy drops the table before the instance it lives in.
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    let gone = |address: &str| destroy.stdout.find(&format!("{address}: Destruction complete")).unwrap_or_else(|| panic!("{address}: {destroy:?}"));
    assert!(gone("postgres_table.events") < gone("aws_db_instance.db"), "{destroy:?}");
    assert!(!db.has_table("events"));
    assert!(moto.instance(&identifier).is_none());
}
