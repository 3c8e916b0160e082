//! Custom conditions against a real PostgreSQL: a resource's `precondition` stops the plan before
//! anything is touched, a `postcondition` reads `self` (at plan time when the planned value tells,
//! else after apply, failing that resource with its object recorded), an output's
//! `precondition`, and `check` blocks whose failed assertions are warnings after plan and apply
//! and never stop either (Terraform 1.5's semantics).

use crate::common;

use common::{TestDb, Workdir};

const CONFIG: &str = r#"
variable "retention_days" {
  type    = number
  default = 30
}

variable "partitions" {
  type    = number
  default = 4
}

resource "postgres_schema" "ml" {
  name = "ml"
}

resource "postgres_table" "events" {
  schema = postgres_schema.ml.name
  name   = "events"
  column {
    name = "id"
    type = "bigint"
  }
  lifecycle {
    precondition {
      condition     = var.retention_days >= 7
      error_message = "Events must be kept at least a week; retention_days is ${var.retention_days}."
    }
    postcondition {
      condition     = self.schema == "ml"
      error_message = "The events table must live in the ml schema."
    }
  }
}

check "enough_partitions" {
  assert {
    condition     = var.partitions >= 8
    error_message = "Fewer than 8 partitions: expect slow scans (${var.partitions} configured)."
  }
}

output "events_table" {
  value = postgres_table.events.id
  precondition {
    condition     = var.partitions > 0
    error_message = "partitions must be positive."
  }
}
"#;

#[test]
fn preconditions_stop_the_plan_and_checks_only_warn() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", CONFIG);

    let refused = work.strata(&["plan", "-var", "retention_days=3"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("Resource precondition failed: postgres_table.events"), "{refused:?}");
    assert!(refused.stderr.contains("Events must be kept at least a week; retention_days is 3."), "{refused:?}");
    assert!(refused.stderr.contains("main.tf:"), "{refused:?}");

    let output = work.strata(&["plan", "-var", "partitions=0"]);
    assert_eq!(output.code, 1, "{output:?}");
    assert!(output.stderr.contains("Module output value precondition failed: output.events_table"), "{output:?}");
    assert!(output.stderr.contains("partitions must be positive."), "{output:?}");

    // A failed check is a warning after plan and after apply; both succeed.
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stderr.contains("Warning: Check block assertion failed: check.enough_partitions"), "{plan:?}");
    assert!(plan.stderr.contains("Fewer than 8 partitions: expect slow scans (4 configured)."), "{plan:?}");
    let apply = work.apply();
    assert!(apply.stderr.contains("Check block assertion failed"), "{apply:?}");
    assert!(has_events(&db));
    let quiet = work.strata(&["plan", "-var", "partitions=8"]);
    assert!(!quiet.stderr.contains("Check block assertion failed"), "{quiet:?}");
}

#[test]
fn a_postcondition_that_fails_stops_the_plan_or_the_apply() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    // Known at plan time: the plan stops, nothing is created.
    work.write("main.tf", &CONFIG.replace("self.schema == \"ml\"", "self.schema == \"analytics\""));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("Resource postcondition failed: postgres_table.events"), "{plan:?}");
    assert!(plan.stderr.contains("The events table must live in the ml schema."), "{plan:?}");
    assert!(!has_events(&db));

    // Known only after apply (the version an extension gets when none is asked for): the apply
    // fails on that resource, which stays recorded.
    work.write(
        "main.tf",
        r#"
resource "postgres_extension" "pgcrypto" {
  name = "pgcrypto"
  lifecycle {
    postcondition {
      condition     = self.version == "0.0"
      error_message = "pgcrypto must be version 0.0, not ${self.version}."
    }
  }
}
"#,
    );
    let apply = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 1, "{apply:?}");
    assert!(apply.stderr.contains("Resource postcondition failed: postgres_extension.pgcrypto"), "{apply:?}");
    assert!(apply.stderr.contains("pgcrypto must be version 0.0, not 1."), "{apply:?}");
    assert_eq!(work.state_addresses(), ["postgres_extension.pgcrypto"]);
}

fn has_events(db: &TestDb) -> bool {
    db.client().query_opt("SELECT 1 FROM pg_tables WHERE schemaname = 'ml' AND tablename = 'events'", &[]).unwrap().is_some()
}
