//! `strata drift` against real PostgreSQL and moto: changes made by hand (a column, an index, an
//! instance class, a deleted security group) are reported with exit 2 and the right attributes,
//! a drift run writes nothing, `apply -refresh-only` accepts what is live, acknowledgements hold
//! until they expire, and `-webhook` delivers a Slack-compatible message to a local listener.

use crate::common;

use std::net::TcpListener;
use std::path::Path;
use std::time::SystemTime;

use common::listener::listen_once;
use common::aws_faults::FaultProxy;
use common::moto::{unique_suffix, Moto};
use common::{Run, TestDb, Workdir};

const USERS: &str = r#"
resource "postgres_table" "users" {
  name = "users"

  column {
    name     = "id"
    type     = "bigint"
    null     = false
    identity = "always"
  }
  column {
    name = "email"
    type = "text"
    null = false
  }

  primary_key = ["id"]
}

resource "postgres_index" "users_email" {
  table   = postgres_table.users.id
  name    = "users_email_managed"
  columns = ["email"]
}
"#;

/// The column someone adds by hand in these tests, as the configuration would declare it.
const TEAM_COLUMN: &str = "  column {\n    name = \"team\"\n    type = \"text\"\n  }\n\n  primary_key";

/// A database with the users table applied, and no drift yet.
fn applied() -> (TestDb, Workdir) {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", USERS);
    work.apply();
    let clean = work.strata(&["drift"]);
    assert_eq!(clean.code, 0, "a fresh apply has no drift: {clean:?}");
    assert!(clean.stdout.contains("No drift"), "{clean:?}");
    (db, work)
}

fn drift(work: &Workdir, args: &[&str]) -> Run {
    let mut all = vec!["drift"];
    all.extend_from_slice(args);
    work.strata(&all)
}

/// The bytes and modification time of a file, or `None` when it does not exist.
fn fingerprint(path: &Path) -> Option<(Vec<u8>, SystemTime)> {
    let bytes = std::fs::read(path).ok()?;
    Some((bytes, std::fs::metadata(path).and_then(|m| m.modified()).expect("mtime")))
}

#[test]
fn a_column_added_by_hand_is_drift_naming_the_table_and_column_and_the_run_writes_nothing() {
    let (db, work) = applied();
    db.execute("ALTER TABLE users ADD COLUMN team text");
    let state = work.state_path();
    let lock = state.with_file_name("strata.state.json.lock");
    let before = (fingerprint(&state), fingerprint(&lock), std::fs::read_dir(work.path()).expect("dir").count());

    let run = drift(&work, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("postgres_table.users"), "{run:?}");
    assert!(run.stdout.contains("changed outside strata: column.team: (absent) ->"), "{run:?}");
    assert!(!run.stdout.contains("users_email_managed"), "a managed index is not unmanaged: {run:?}");

    let after = (fingerprint(&state), fingerprint(&lock), std::fs::read_dir(work.path()).expect("dir").count());
    assert!(before.0.is_some(), "the state exists");
    assert_eq!(before, after, "a drift run changed the state, the lock file or the directory");
    assert!(db.columns("users").iter().any(|c| c.starts_with("team ")), "drift must not touch the live table");
}

#[test]
fn an_index_added_by_hand_is_reported_as_unmanaged() {
    let (db, work) = applied();
    db.execute("CREATE INDEX users_email_by_hand ON users (lower(email)); ALTER TABLE users ADD CONSTRAINT users_email_nonblank CHECK (email <> '')");
    let run = drift(&work, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("unmanaged object next to it: index users_email_by_hand on public.users"), "{run:?}");
    assert!(run.stdout.contains("check constraint users_email_nonblank on public.users"), "{run:?}");
    assert!(!run.stdout.contains("users_email_managed"), "{run:?}");
}

#[test]
fn json_and_markdown_describe_each_finding() {
    let (db, work) = applied();
    db.execute("ALTER TABLE users ADD COLUMN team text; DROP INDEX users_email_managed");

    let run = drift(&work, &["-json"]);
    assert_eq!(run.code, 2, "{run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("drift -json prints JSON");
    assert_eq!(report["format_version"], "1.0");
    assert_eq!(report["drift"], true);
    assert_eq!(report["resources_checked"], 2);
    assert_eq!(report["summary"]["changed"], 1, "{report:#}");
    assert_eq!(report["summary"]["deleted"], 1, "{report:#}");
    let findings = report["findings"].as_array().expect("findings");
    let column = findings.iter().find(|f| f["kind"] == "changed").expect("a changed finding");
    assert_eq!(column["address"], "postgres_table.users");
    assert_eq!(column["type"], "postgres_table");
    assert_eq!(column["attribute"], "column.team");
    assert_eq!(column["before"], serde_json::Value::Null);
    assert_eq!(column["after"]["type"], "text");
    assert_eq!(column["acknowledged"], serde_json::Value::Null);
    let index = findings.iter().find(|f| f["kind"] == "deleted").expect("a deleted finding");
    assert_eq!(index["address"], "postgres_index.users_email");

    let run = drift(&work, &["-format", "markdown"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.starts_with("## strata drift\n\n**Drift detected in 2 resource(s)"), "{run:?}");
    assert!(run.stdout.contains("| `postgres_index.users_email` | deleted outside strata |"), "{run:?}");
    assert!(run.stdout.contains("| `postgres_table.users` | changed outside strata | `column.team` |"), "{run:?}");
}

/// The markdown table's row for `attribute` of `address`, as its cells.
fn markdown_row<'a>(markdown: &'a str, address: &str, attribute: &str) -> Vec<&'a str> {
    let row = markdown.lines().find(|line| line.starts_with(&format!("| `{address}` |")) && line.contains(&format!("| `{attribute}` |")));
    let row = row.unwrap_or_else(|| panic!("no row for {address} {attribute}:\n{markdown}"));
    row.trim_matches('|').split(" | ").map(str::trim).collect()
}

#[test]
fn a_long_value_changed_at_its_end_shows_the_difference_and_what_to_do() {
    let shared = "Everyone who signs in to the platform, kept for the billing, support and audit teams, who read it every day and on";
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &USERS.replacen("name = \"users\"\n", &format!("name = \"users\"\n  comment = \"{shared} weekdays\"\n"), 1));
    work.apply();
    db.execute(&format!("COMMENT ON TABLE users IS '{shared} weekends'"));

    let run = drift(&work, &["-format", "markdown"]);
    assert_eq!(run.code, 2, "{run:?}");
    let cells = markdown_row(&run.stdout, "postgres_table.users", "comment");
    let (in_state, now) = (cells[3], cells[4]);
    assert_ne!(in_state, now, "the two cells must show the difference: {run:?}");
    assert!(in_state.contains("weekdays") && now.contains("weekends"), "{run:?}");
    assert!(run.stdout.contains("\n\nWorkspace `default`, checked at 20"), "the report names its workspace and time: {run:?}");
    for step in ["`strata apply` reverts", "`strata apply -refresh-only` accepts", "`strata drift ack ADDR"] {
        assert!(run.stdout.contains(step), "no {step} in {run:?}");
    }
}

#[test]
fn refresh_only_accepts_live_into_state_and_the_next_drift_run_is_clean() {
    let (db, work) = applied();
    db.execute("ALTER TABLE users ADD COLUMN team text; DROP INDEX users_email_managed");
    let serial = work.state()["serial"].as_u64().expect("serial");

    let plan = work.strata(&["plan", "-refresh-only", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.stdout.contains("column.team") && plan.stdout.contains("1 to update in state, 1 to remove from state"), "{plan:?}");
    assert_eq!(work.state()["serial"].as_u64(), Some(serial), "plan -refresh-only wrote the state");

    // The team keeps the column and lets the index go: the configuration says so, the state accepts it.
    let config = USERS.replacen("  primary_key", TEAM_COLUMN, 1);
    work.write("main.tf", &config[..config.find("resource \"postgres_index\"").expect("index block")]);
    let apply = work.strata(&["apply", "-refresh-only", "-auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    assert!(apply.stdout.contains("Apply complete! State: 1 updated, 1 removed."), "{apply:?}");
    let state = work.state();
    assert_eq!(state["serial"].as_u64(), Some(serial + 1));
    assert_eq!(work.state_addresses(), ["postgres_table.users"]);
    assert!(state.to_string().contains("\"team\""), "the column is in state: {state:#}");
    assert!(work.state_path().with_file_name("strata.state.json.backup").exists(), "apply -refresh-only keeps a backup");

    let run = drift(&work, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    work.assert_converged();
}

#[test]
fn a_pending_moved_block_is_not_drift_and_refresh_only_records_the_move() {
    let (_db, work) = applied();
    // The table's resource is renamed in the configuration, with a moved block saying so; the table itself stays.
    let renamed = USERS.replace("\"postgres_table\" \"users\"", "\"postgres_table\" \"people\"").replace("postgres_table.users.id", "postgres_table.people.id");
    work.write("main.tf", &format!("{renamed}\nmoved {{\n  from = postgres_table.users\n  to   = postgres_table.people\n}}\n"));
    let clean = drift(&work, &[]);
    assert_eq!(clean.code, 0, "a move not yet applied is not drift: {clean:?}");

    let accepted = work.strata(&["apply", "-refresh-only", "-auto-approve"]);
    assert_eq!(accepted.code, 0, "{accepted:?}");
    assert!(accepted.stdout.contains("# postgres_table.users has moved to postgres_table.people"), "{accepted:?}");
    let addresses = work.state_addresses();
    assert!(addresses.contains(&"postgres_table.people".to_owned()) && !addresses.contains(&"postgres_table.users".to_owned()), "{addresses:?}");
    work.assert_converged();
}

#[test]
fn configuration_drift_is_reported_without_anything_changing_live() {
    let (_db, work) = applied();
    work.write("main.tf", &USERS.replacen("  primary_key", TEAM_COLUMN, 1));
    let run = drift(&work, &[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("configuration differs from state: column.team: (absent) ->"), "{run:?}");
    assert!(!run.stdout.contains("changed outside strata"), "{run:?}");
}

#[test]
fn acknowledged_drift_passes_until_it_expires() {
    let (db, work) = applied();
    db.execute("ALTER TABLE users ADD COLUMN team text");

    let unknown = work.strata(&["drift", "ack", "postgres_table.nope.column", "-until", "2099-01-01", "-reason", "x"]);
    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("postgres_table.nope is not in the state"), "{unknown:?}");
    let past = work.strata(&["drift", "ack", "postgres_table.users.column", "-until", "2020-01-01", "-reason", "x"]);
    assert_eq!(past.code, 1, "{past:?}");
    assert!(past.stderr.contains("is not in the future"), "{past:?}");
    let garbage = work.strata(&["drift", "ack", "postgres_table.users.column", "-until", "soon", "-reason", "x"]);
    assert_eq!(garbage.code, 1, "{garbage:?}");
    assert!(garbage.stderr.contains("is not a date"), "{garbage:?}");

    let ack = work.strata(&["drift", "ack", "postgres_table.users.column", "-until", "2099-01-01", "-reason", "analytics trial column"]);
    assert_eq!(ack.code, 0, "{ack:?}");
    let state = work.state();
    assert_eq!(state["drift_acks"][0]["address"], "postgres_table.users");
    assert_eq!(state["drift_acks"][0]["attribute"], "column");
    assert_eq!(state["drift_acks"][0]["until"], "2099-01-01");

    let run = drift(&work, &[]);
    assert_eq!(run.code, 0, "acknowledged drift does not fail the run: {run:?}");
    assert!(run.stdout.contains("column.team") && run.stdout.contains("[acknowledged until 2099-01-01: analytics trial column]"), "{run:?}");

    let expired = work.state_text().expect("state").replace("2099-01-01", "2021-06-30");
    std::fs::write(work.state_path(), expired).expect("write state");
    let run = drift(&work, &["-json"]);
    assert_eq!(run.code, 2, "an expired acknowledgement counts as drift again: {run:?}");
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    assert_eq!(report["findings"][0]["acknowledged"]["expired"], true, "{report:#}");
    assert_eq!(report["summary"]["acknowledged"], 0);
}

#[test]
fn webhook_receives_a_slack_compatible_message_on_drift() {
    let (db, work) = applied();
    db.execute("ALTER TABLE users ADD COLUMN team text");
    let (url, listener) = listen_once();
    let run = drift(&work, &["-webhook", &url]);
    assert_eq!(run.code, 2, "{run:?}");
    let message: serde_json::Value = serde_json::from_str(&listener.join().expect("listener")).expect("JSON message");
    assert!(message["text"].as_str().expect("text").starts_with("Drift detected in 1 resource(s)"), "{message:#}");
    let blocks = message["blocks"].as_array().expect("blocks");
    assert!(message["text"].as_str().expect("text").ends_with("(workspace default)"), "{message:#}");
    assert!(blocks[0]["text"]["text"].as_str().expect("heading").contains("Workspace `default`, checked at 20"), "{message:#}");
    let steps = blocks.last().expect("blocks")["elements"][0]["text"].as_str().expect("what to do").to_owned();
    assert!(steps.contains("strata apply -refresh-only") && steps.contains("strata drift ack"), "{message:#}");
    assert!(blocks[..blocks.len() - 1].iter().all(|b| b["type"] == "section"), "{message:#}");
    assert!(blocks[1]["text"]["text"].as_str().expect("section text").contains("postgres_table.users"), "{message:#}");
    assert!(blocks[1]["text"]["text"].as_str().expect("section text").contains("column.team"), "{message:#}");
    assert!(!run.output().contains("secret"), "the webhook URL is a secret: {run:?}");
}

#[test]
fn a_webhook_that_cannot_be_reached_is_a_warning_and_drift_still_exits_2_without_repeating_its_url() {
    let (db, work) = applied();
    db.execute("ALTER TABLE users ADD COLUMN team text");
    let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
    let run = drift(&work, &["-webhook", &format!("http://127.0.0.1:{port}/services/T000/B000/secret")]);
    assert_eq!(run.code, 2, "a failed notification must not hide the drift behind exit 1: {run:?}");
    assert!(run.stderr.contains("Warning"), "{run:?}");
    assert!(run.stdout.contains("column.team"), "the report is printed before posting: {run:?}");
    assert!(run.stderr.contains("posting the drift report to the webhook failed"), "{run:?}");
    assert!(!run.output().contains("secret"), "the webhook URL is a secret: {run:?}");
}

#[test]
fn aws_drift_names_the_instance_class_and_the_deleted_security_group() {
    const PASSWORD: &str = "s3cret-Drift-Passw0rd";
    let moto = Moto::new();
    let work = Workdir::offline();
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/seed-terraform");
    for file in ["main.tf", "variables.tf"] {
        work.write(file, &std::fs::read_to_string(seed.join(file)).expect("seed file"));
    }
    let environment = format!("d{}", unique_suffix());
    let vars = [format!("vpc_id={}", moto.default_vpc()), format!("db_password={PASSWORD}"), format!("environment={environment}")];
    let with_vars = |command: &[&str]| {
        let mut args: Vec<&str> = command.to_vec();
        for var in &vars {
            args.extend(["-var", var.as_str()]);
        }
        work.strata(&args)
    };
    let apply = with_vars(&["apply", "-auto-approve"]);
    assert_eq!(apply.code, 0, "{apply:?}");
    let clean = with_vars(&["drift"]);
    assert_eq!(clean.code, 0, "{clean:?}");

    moto.modify_instance_class(&format!("ai-postgres-{environment}"), "db.m6g.2xlarge");
    moto.delete_security_group(&format!("ai-db-sg-{environment}"));
    // Drift only reads: every call it makes to AWS (seen by a proxy in front of moto) is a Describe or a List.
    let proxy = FaultProxy::start(moto.url());
    let mut args = vec!["drift"];
    args.extend(vars.iter().flat_map(|var| ["-var", var.as_str()]));
    let run = work.strata_env(&args, &[("AWS_ENDPOINT_URL", proxy.url())]);
    let actions = proxy.actions();
    assert!(actions.iter().any(|a| a == "DescribeDBInstances"), "drift went through the proxy: {actions:?} {run:?}");
    assert!(actions.iter().all(|a| a.starts_with("Describe") || a.starts_with("List")), "drift changed something in AWS: {actions:?}");
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("changed outside strata: instance_class: \"db.m6g.xlarge\" -> \"db.m6g.2xlarge\""), "{run:?}");
    assert!(run.stdout.contains("aws_security_group.db_sg\n    - deleted outside strata"), "{run:?}");
    let json = with_vars(&["drift", "-json"]);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let class = report["findings"].as_array().expect("findings").iter().find(|f| f["attribute"] == "instance_class").expect("instance_class drift");
    assert_eq!(class["address"], "aws_db_instance.ai_postgres");
    assert_eq!(class["after"], "db.m6g.2xlarge");
    for output in [&run, &json, &apply, &clean] {
        assert!(!output.output().contains(PASSWORD), "the password leaked: {output:?}");
    }
}
