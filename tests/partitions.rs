//! Declarative partitioning against real PostgreSQL: a parent partitioned by month, partitions
//! as resources that move by DETACH/ATTACH with their rows, partitions made by hand (as
//! pg_partman makes them) left alone, and a parent that still has those never dropped.

use crate::common;

use common::{TestDb, Workdir};

const AUDIT_LOGS: &str = r#"
resource "postgres_table" "audit_logs" {
  name        = "audit_logs"
  primary_key = ["id", "created_at"]

  column {
    name = "id"
    type = "bigint"
    null = false
  }
  column {
    name = "created_at"
    type = "timestamptz"
    null = false
  }
  column {
    name = "action"
    type = "text"
  }

  partition_by {
    strategy = "range"
    columns  = ["created_at"]
  }

  index {
    name    = "audit_logs_action_idx"
    columns = ["action"]
  }
}

resource "postgres_table" "audit_logs_2026_01" {
  name         = "audit_logs_2026_01"
  partition_of = postgres_table.audit_logs.id
  bound        = "FROM ('2026-01-01') TO ('2026-02-01')"
}

resource "postgres_table" "audit_logs_default" {
  name         = "audit_logs_default"
  partition_of = postgres_table.audit_logs.id
  bound        = "DEFAULT"
}
"#;

#[test]
fn partitions_are_created_moved_with_their_rows_and_hand_made_ones_left_alone() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", AUDIT_LOGS);
    work.apply();
    work.assert_converged();
    let key: String = db.client().query_one("SELECT pg_get_partkeydef('audit_logs'::regclass)", &[]).unwrap().get(0);
    assert_eq!(key, "RANGE (created_at)");
    let bound: String = db.client().query_one("SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'audit_logs_2026_01'", &[]).unwrap().get(0);
    assert!(bound.starts_with("FOR VALUES FROM ('2026-01-01 00:00:00"), "{bound}");

    // A month nobody declared, made by hand the way pg_partman makes them, with rows in it.
    db.execute("CREATE TABLE audit_logs_2026_03 PARTITION OF audit_logs FOR VALUES FROM ('2026-03-01') TO ('2026-04-01'); INSERT INTO audit_logs VALUES (1, '2026-01-15', 'login'), (2, '2026-03-02', 'export');");
    work.assert_converged();

    // The January partition widened to two months: detached and attached again, rows kept.
    work.write("main.tf", &AUDIT_LOGS.replace("TO ('2026-02-01')", "TO ('2026-03-01')"));
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("DETACH PARTITION") && plan.stdout.contains("ATTACH PARTITION"), "{plan:?}");
    assert!(plan.stdout.contains("will be updated in place"), "{plan:?}");
    work.apply();
    work.assert_converged();
    let rows: i64 = db.client().query_one("SELECT count(*) FROM audit_logs_2026_01", &[]).unwrap().get(0);
    assert_eq!(rows, 1, "the partition kept its row");

    // Changing the key replaces the table, with its rows: data loss, refused without consent.
    work.write("main.tf", &AUDIT_LOGS.replace("strategy = \"range\"", "strategy = \"hash\""));
    let refused = work.strata(&["apply", "-auto-approve"]);
    assert_ne!(refused.code, 0, "{refused:?}");
    assert!(refused.output().contains("partition"), "{refused:?}");

    // Destroy drops the declared partitions, then refuses to drop a parent that still holds one
    // strata did not make.
    work.write("main.tf", AUDIT_LOGS);
    let destroyed = work.strata(&["destroy", "-auto-approve"]);
    assert_ne!(destroyed.code, 0, "{destroyed:?}");
    assert!(destroyed.output().contains("still has partitions strata does not manage"), "{destroyed:?}");
    let kept: i64 = db.client().query_one("SELECT count(*) FROM audit_logs_2026_03", &[]).unwrap().get(0);
    assert_eq!(kept, 1, "the hand-made partition and its row are untouched");
    assert!(!db.has_table("audit_logs_2026_01"));
}

#[test]
fn a_partition_declared_with_columns_is_refused_before_anything_runs() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{AUDIT_LOGS}\nresource \"postgres_table\" \"bad\" {{\n  name         = \"bad\"\n  partition_of = postgres_table.audit_logs.id\n  bound        = \"FROM ('2027-01-01') TO ('2027-02-01')\"\n\n  column {{\n    name = \"id\"\n    type = \"bigint\"\n  }}\n}}\n"));
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 1, "{plan:?}");
    assert!(plan.stderr.contains("takes its columns and primary key from its parent"), "{plan:?}");
    assert!(!db.has_table("audit_logs"));
}

#[test]
fn a_partition_leaving_a_parent_without_a_default_is_detached_concurrently_with_its_rows() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let without_default = AUDIT_LOGS.split("resource \"postgres_table\" \"audit_logs_default\"").next().unwrap().to_owned();
    work.write("main.tf", &without_default);
    work.apply();
    db.execute("INSERT INTO audit_logs VALUES (1, '2026-01-15', 'login')");
    let standalone = r#"
resource "postgres_table" "audit_logs_2026_01" {
  name        = "audit_logs_2026_01"
  primary_key = ["id", "created_at"]

  column {
    name = "id"
    type = "bigint"
    null = false
  }
  column {
    name = "created_at"
    type = "timestamptz"
    null = false
  }
  column {
    name = "action"
    type = "text"
  }
}
"#;
    let parent_only = without_default.split("resource \"postgres_table\" \"audit_logs_2026_01\"").next().unwrap().to_owned();
    work.write("main.tf", &format!("{parent_only}{standalone}"));
    let plan = work.strata(&["plan"]);
    assert!(plan.stdout.contains("DETACH PARTITION \"public\".\"audit_logs_2026_01\" CONCURRENTLY"), "{plan:?}");
    work.apply();
    work.assert_converged();
    let rows: i64 = db.client().query_one("SELECT count(*) FROM audit_logs_2026_01", &[]).unwrap().get(0);
    assert_eq!(rows, 1, "the detached table kept its row");
    let partitions: i64 = db.client().query_one("SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_logs'::regclass", &[]).unwrap().get(0);
    assert_eq!(partitions, 0);
}
