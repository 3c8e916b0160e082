//! strata adopts only what it made: a create that fails because its object already exists leaves
//! no intent, and no later apply, rename or destroy touches that object. The cases issue 10 found:
//! a parameter group made with the AWS SDK, an RDS instance made outside strata, a hand-made table
//! with rows, and two workspaces whose names collide. Also: the authorship tag a create sets is
//! never shown or planned away, and an intent whose object has no mark is dropped with a warning.

use crate::common;

use common::moto::{unique_suffix, Moto};
use common::{TestDb, Workdir};

const AWS_PROVIDER: &str = "provider \"aws\" {\n  region = \"us-east-1\"\n}\n";

fn parameter_group(name: &str) -> String {
    format!(
        "{AWS_PROVIDER}\nresource \"aws_db_parameter_group\" \"params\" {{\n  name   = \"{name}\"\n  family = \"postgres14\"\n  parameter {{\n    name         = \"work_mem\"\n    value        = \"32MB\"\n    apply_method = \"pending-reboot\"\n  }}\n}}\n"
    )
}

/// A failed create must say whose the object is and how to take it over, never to delete it; and
/// it leaves no intent behind.
fn assert_refused_as_foreign(work: &Workdir, run: &common::Run, address: &str, id: &str) {
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("not managed by this state (possibly another workspace or team)"), "{run:?}");
    assert!(run.stderr.contains(&format!("strata import {address} {id}")), "{run:?}");
    assert!(!run.stderr.to_lowercase().contains("delete"), "the hint must never suggest deleting it: {run:?}");
    if work.state_text().is_some() {
        assert!(work.state().get("pending").is_none(), "a failed create left an intent: {:#}", work.state());
    }
}

#[test]
fn a_parameter_group_made_with_the_sdk_survives_a_failed_create_and_a_rename_in_config() {
    let moto = Moto::new();
    let foreign = format!("team-b-params-{}", unique_suffix());
    moto.create_parameter_group(&foreign, "postgres14", &[("work_mem", "64MB")]);
    let work = Workdir::offline();
    work.write("main.tf", &parameter_group(&foreign));

    let clash = work.strata(&["apply", "-auto-approve"]);
    assert_refused_as_foreign(&work, &clash, "aws_db_parameter_group.params", &foreign);

    // The user picks another name, as the hint says.
    let renamed = format!("{foreign}-mine");
    work.write("main.tf", &parameter_group(&renamed));
    let apply = work.apply();
    assert!(!apply.output().contains("adopting"), "{apply:?}");
    assert!(moto.parameter_group_exists(&foreign), "the foreign group was deleted: {apply:?}");
    assert_eq!(moto.parameter_value(&foreign, "work_mem").as_deref(), Some("64MB"), "the foreign group was changed");
    assert!(moto.parameter_group_exists(&renamed));
    work.assert_converged();

    // The create's authorship tag is on the group, but never in state nor planned away.
    assert!(moto.parameter_group_intent(&renamed).is_some(), "the create set no strata:intent tag");
    assert!(moto.parameter_group_intent(&foreign).is_none());
    assert!(!work.state_text().unwrap_or_default().contains("strata:intent"), "the authorship tag reached the state");

    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.parameter_group_exists(&foreign), "destroy deleted the foreign group");
    assert!(!moto.parameter_group_exists(&renamed));
    moto.delete_parameter_group(&foreign);
}

#[test]
fn an_rds_instance_made_outside_strata_survives_destroy() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let (group, params, identifier) = (format!("auth-sg-{suffix}"), format!("auth-pg-{suffix}"), format!("auth-db-{suffix}"));
    let group_id = moto.create_security_group(&group, &moto.default_vpc(), 5432, "10.0.0.0/16");
    moto.create_parameter_group(&params, "postgres14", &[]);
    moto.create_instance(&identifier, "Foreign-Passw0rd", &group_id, &params);
    let work = Workdir::offline();
    work.write(
        "main.tf",
        &format!(
            "{AWS_PROVIDER}\nresource \"aws_db_instance\" \"db\" {{\n  identifier          = \"{identifier}\"\n  engine              = \"postgres\"\n  engine_version      = \"14.7\"\n  instance_class      = \"db.t3.micro\"\n  allocated_storage   = 20\n  username            = \"app\"\n  password            = \"Mine-Passw0rd\"\n  skip_final_snapshot = true\n}}\n"
        ),
    );

    let clash = work.strata(&["apply", "-auto-approve"]);
    assert_refused_as_foreign(&work, &clash, "aws_db_instance.db", &identifier);
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(moto.instance(&identifier).is_some(), "destroy deleted the foreign instance: {destroy:?}");

    moto.delete_instance(&identifier);
    moto.delete_parameter_group(&params);
    moto.delete_security_group(&group);
}

#[test]
fn a_hand_made_table_with_rows_survives_a_failed_create_and_destroy() {
    let db = TestDb::new();
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY); INSERT INTO users SELECT generate_series(1, 1000);");
    let work = Workdir::new(&db);
    work.write("main.tf", "resource \"postgres_table\" \"users\" {\n  name = \"users\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n  primary_key = [\"id\"]\n}\n");

    let clash = work.strata(&["apply", "-auto-approve"]);
    assert_refused_as_foreign(&work, &clash, "postgres_table.users", "public.users");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    let rows: i64 = db.client().query_one("SELECT count(*) FROM users", &[]).expect("the table is still there").get(0);
    assert_eq!(rows, 1000, "the hand-made table lost rows");
}

#[test]
fn an_intent_for_an_object_without_the_creates_mark_is_dropped_with_a_warning_and_the_object_left_alone() {
    let db = TestDb::new();
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY); INSERT INTO users VALUES (1), (2);");
    let work = Workdir::new(&db);
    work.write("main.tf", "resource \"postgres_table\" \"users\" {\n  name = \"users\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n");
    // As an apply killed right after recording its intent leaves it; the table was made by hand.
    let mut state = serde_json::json!({
        "format_version": 2, "strata_version": "0.1.0", "serial": 1, "lineage": "8a1d7d4e-1f0c-4b7e-9c53-2b3f1a0e9d11", "resources": [],
        "pending": [{ "address": "postgres_table.users", "type": "postgres_table", "provider": "postgres", "import_id": "public.users",
                      "id": "5a0c8f3e-0d1e-4c55-a7a9-1e2d3c4b5a69", "marks": ["1"], "recorded_at": "2026-01-01T00:00:00Z" }]
    });
    common::assert_valid_state(&state);
    std::fs::write(work.state_path(), serde_json::to_string(&state).expect("state JSON")).expect("write the state");

    let plan = work.strata(&["plan"]);
    assert!(
        plan.stderr.contains("warning: postgres_table.users: \"public.users\" exists but no apply of this state created it")
            && plan.stderr.contains("left alone")
            && plan.stderr.contains("strata import postgres_table.users public.users"),
        "{plan:?}"
    );
    assert!(!plan.stderr.contains("adopting"), "{plan:?}");
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(db.has_table("users"), "destroy dropped a table strata never made: {destroy:?}");
    state = work.state();
    assert!(state.get("pending").is_none() && state["resources"].as_array().is_some_and(Vec::is_empty), "{state:#}");
}

#[test]
fn a_workspace_applied_with_another_workspaces_names_leaves_that_workspaces_objects_alone() {
    let moto = Moto::new();
    let suffix = unique_suffix();
    let work = Workdir::offline();
    work.write(
        "main.tf",
        &format!(
            "{AWS_PROVIDER}\nvariable \"environment\" {{\n  type = string\n}}\n\n\
             resource \"aws_security_group\" \"db\" {{\n  name        = \"app-db-${{var.environment}}-{suffix}\"\n  description = \"database access\"\n}}\n\n\
             resource \"aws_db_parameter_group\" \"db\" {{\n  name   = \"app-pg-${{var.environment}}-{suffix}\"\n  family = \"postgres14\"\n}}\n"
        ),
    );
    let run = |args: &[&str]| work.strata(args);
    let ok = |args: &[&str]| {
        let done = run(args);
        assert_eq!(done.code, 0, "strata {args:?}: {done:?}");
        done
    };
    ok(&["workspace", "new", "dev"]);
    ok(&["apply", "-auto-approve", "-var", "environment=dev"]);
    ok(&["workspace", "new", "prod"]);
    // The mistake: prod applied once with dev's names.
    let clash = run(&["apply", "-auto-approve", "-var", "environment=dev"]);
    assert_eq!(clash.code, 1, "{clash:?}");
    assert!(clash.stderr.contains("not managed by this state (possibly another workspace or team)"), "{clash:?}");
    let prod = ok(&["apply", "-auto-approve", "-var", "environment=prod"]);
    assert!(!prod.output().contains("adopting"), "{prod:?}");

    let (dev_group, dev_params) = (format!("app-db-dev-{suffix}"), format!("app-pg-dev-{suffix}"));
    assert_eq!(moto.security_group_count(&dev_group), 1, "prod deleted dev's security group: {prod:?}");
    assert!(moto.parameter_group_exists(&dev_params), "prod deleted dev's parameter group: {prod:?}");
    assert_eq!(moto.security_group_count(&format!("app-db-prod-{suffix}")), 1);
    ok(&["workspace", "select", "dev"]);
    let dev_plan = run(&["plan", "-detailed-exitcode", "-var", "environment=dev"]);
    assert_eq!(dev_plan.code, 0, "dev's objects were changed: {dev_plan:?}");

    ok(&["destroy", "-auto-approve", "-var", "environment=dev"]);
    ok(&["workspace", "select", "prod"]);
    ok(&["destroy", "-auto-approve", "-var", "environment=prod"]);
    assert_eq!(moto.security_group_count(&dev_group), 0);
}

#[test]
fn what_depends_on_a_failed_create_is_skipped_and_nothing_of_it_is_recorded() {
    let db = TestDb::new();
    db.execute("CREATE TABLE users (id bigint PRIMARY KEY)");
    let work = Workdir::new(&db);
    // orders' foreign key points at users, whose create fails on the hand-made table.
    work.write("main.tf", common::USERS_AND_ORDERS);

    let failed = work.strata(&["apply", "-auto-approve"]);
    assert_refused_as_foreign(&work, &failed, "postgres_table.users", "public.users");
    assert!(failed.stderr.contains("postgres_table.orders: skipped, because postgres_table.users failed"), "{failed:?}");
    assert!(!db.has_table("orders"), "a dependant of the failed create was created");
    assert!(work.state_text().is_none() || work.state_addresses().is_empty(), "{:?}", work.state_addresses());
}
