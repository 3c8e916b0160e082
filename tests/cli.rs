//! Commands that read configuration or state without changing anything: graph, fmt, state.

use crate::common;

use common::{TestDb, Workdir, USERS_AND_ORDERS as TWO_TABLES};

#[test]
fn graph_prints_dot_with_dependency_edges() {
    let work = Workdir::offline();
    work.write("main.tf", TWO_TABLES);
    let run = work.strata(&["graph"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.starts_with("digraph strata {"), "{run:?}");
    assert!(run.stdout.contains("\"postgres_table.orders\" -> \"postgres_table.users\""), "{run:?}");
    assert!(run.stdout.contains("\"postgres_table.users\" -> \"provider[\\\"postgres\\\"]\""), "{run:?}");
}

#[test]
fn fmt_check_reports_and_fmt_rewrites() {
    let work = Workdir::offline();
    work.write("main.tf", "resource \"postgres_schema\" \"a\" {\nname=\"a\" # the schema\n}\n");
    let check = work.strata(&["fmt", "-check"]);
    assert_eq!(check.code, 3, "{check:?}");
    assert!(check.stdout.contains("main.tf"));
    let unchanged = std::fs::read_to_string(work.path().join("main.tf")).unwrap();
    assert!(unchanged.contains("name=\"a\""), "-check must not write");

    let run = work.strata(&["fmt"]);
    assert_eq!(run.code, 0, "{run:?}");
    let formatted = std::fs::read_to_string(work.path().join("main.tf")).unwrap();
    assert_eq!(formatted, "resource \"postgres_schema\" \"a\" {\n  name = \"a\" # the schema\n}\n");
    assert_eq!(work.strata(&["fmt", "-check"]).code, 0);
}

#[test]
fn state_list_and_show_read_what_apply_wrote() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", TWO_TABLES);
    let apply = work.apply();
    assert!(apply.stdout.contains("Apply complete! Resources: 2 added, 0 changed, 0 replaced, 0 destroyed."), "{apply:?}");

    let list = work.strata(&["state", "list"]);
    assert_eq!(list.stdout, "postgres_table.orders\npostgres_table.users\n", "{list:?}");
    let filtered = work.strata(&["state", "list", "users"]);
    assert_eq!(filtered.stdout, "postgres_table.users\n");

    let show = work.strata(&["state", "show", "postgres_table.orders"]);
    assert_eq!(show.code, 0, "{show:?}");
    assert!(show.stdout.contains("resource \"postgres_table\" \"orders\" {"), "{show:?}");
    assert!(show.stdout.contains("foreign_key {"), "{show:?}");
    let state = work.state();
    assert_eq!(state["outputs"]["orders_table"]["value"], "public.orders");
    let orders = common::instance(&state, "postgres_table.orders").unwrap();
    assert_eq!(orders["dependencies"], serde_json::json!(["postgres_table.users"]));

    let missing = work.strata(&["state", "show", "postgres_table.nope"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("not in the state"));
}

#[test]
fn output_prints_recorded_values_and_masks_sensitive_ones() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let secret = "s3cret-output-value";
    work.write(
        "main.tf",
        &format!(
            "{TWO_TABLES}\nvariable \"token\" {{\n  type      = string\n  sensitive = true\n  default   = \"{secret}\"\n}}\n\
             output \"token\" {{\n  value     = var.token\n  sensitive = true\n}}\n"
        ),
    );
    work.apply();

    let all = work.strata(&["output"]);
    assert_eq!(all.code, 0, "{all:?}");
    assert!(all.stdout.contains("orders_table = \"public.orders\""), "{all:?}");
    assert!(all.stdout.contains("token = (sensitive value)"), "{all:?}");

    let one = work.strata(&["output", "orders_table"]);
    assert_eq!(one.stdout.trim(), "\"public.orders\"", "{one:?}");

    let json = work.strata(&["output", "-json"]);
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    assert_eq!(parsed["orders_table"]["value"], "public.orders");
    assert_eq!(parsed["token"]["sensitive"], true);
    for run in [&all, &one, &json, &work.strata(&["output", "token", "-json"])] {
        assert!(!run.output().contains(secret), "the secret was printed: {run:?}");
    }

    let missing = work.strata(&["output", "order_table"]);
    assert_eq!(missing.code, 1, "{missing:?}");
    assert!(missing.stderr.contains("orders_table"), "suggests the closest name: {missing:?}");
}

#[test]
fn only_commands_that_take_the_state_lock_accept_lock_and_lock_timeout() {
    let work = Workdir::offline();
    let help = |args: &[&str]| {
        let run = work.strata(args);
        assert_eq!(run.code, 0, "{args:?}: {run:?}");
        run.stdout
    };
    for locking in [&["plan", "-h"][..], &["apply", "-h"], &["destroy", "-h"], &["import", "-h"], &["state", "rm", "-h"], &["state", "mv", "-h"], &["drift", "ack", "-h"]] {
        let text = help(locking);
        assert!(text.contains("--lock [<BOOL>]") && text.contains("--lock-timeout <DURATION>"), "{locking:?} lacks -lock: {text}");
    }
    for reading in [&["graph", "-h"][..], &["drift", "-h"], &["show", "-h"], &["state", "list", "-h"]] {
        let text = help(reading);
        assert!(!text.contains("--lock"), "{reading:?} offers -lock, which it would ignore: {text}");
    }
    let refused = work.strata(&["graph", "-lock-timeout", "5s"]);
    assert!(refused.code == 1 && refused.stderr.contains("'-lock-timeout'"), "the flag as typed: {refused:?}");
}
