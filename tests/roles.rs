//! Roles, role memberships and databases against a real PostgreSQL: created with a password,
//! login, membership and settings; logging in as the role; no change on a second plan; a password
//! change detected without the password ever reaching a plan, a plan file or the state; the drop of
//! a role owning a table planned as data loss with REASSIGN OWNED / DROP OWNED; a grant_role; a
//! database created and dropped. Roles are cluster-wide: every name carries the test database's
//! name, and a guard drops them whatever happens.

use crate::common;

use common::roles::{connect_as, one_value, Cluster};
use common::{Run, TestDb, Workdir};

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

/// The role's live verifier checked against `password` by Python's hashlib, an implementation
/// strata does not share (the test server trusts local connections, so logging in alone does not
/// prove the password). `None` when there is no python3.
fn python_says_matches(verifier: &str, password: &str) -> Option<bool> {
    let script = r#"
import base64, hashlib, hmac, sys
verifier, password = sys.argv[1], sys.argv[2]
_, rest = verifier.split("$", 1)
params, keys = rest.split("$")
iterations, salt = params.split(":")
stored, server = keys.split(":")
salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
client_key = hmac.new(salted, b"Client Key", "sha256").digest()
ok = hashlib.sha256(client_key).digest() == base64.b64decode(stored) and hmac.new(salted, b"Server Key", "sha256").digest() == base64.b64decode(server)
print("yes" if ok else "no")
"#;
    let output = common::command("python3").args(["-c", script, verifier, password]).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim() == "yes")
}

fn verifier(db: &TestDb, role: &str) -> String {
    one_value(db, &format!("SELECT rolpassword FROM pg_authid WHERE rolname = '{role}'")).expect("a password")
}

fn roles_tf(app: &str, readers: &str, password: &str) -> String {
    format!(
        r#"
resource "postgres_role" "readers" {{
  name = "{readers}"
}}

resource "postgres_role" "app" {{
  name              = "{app}"
  login             = true
  password          = "{password}"
  connection_limit  = 5
  roles             = [postgres_role.readers.name]
  search_path       = ["$user", "app"]
  statement_timeout = 30000
}}
"#
    )
}

#[test]
fn a_role_logs_in_with_its_password_converges_and_a_password_change_never_shows_the_password() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (app, readers) = (cluster.role("app"), cluster.role("readers"));
    let work = Workdir::new(&db);
    let first = "first-Pa55word";
    work.write("main.tf", &roles_tf(&app, &readers, first));
    let applied = work.apply();
    assert!(!applied.output().contains(first), "{applied:?}");

    let mut session = connect_as(&db, &app, Some(first));
    let setting = |session: &mut postgres::Client, sql: &str| session.query_one(sql, &[]).expect(sql).get::<_, String>(0);
    assert_eq!(setting(&mut session, "SHOW statement_timeout"), "30s");
    assert_eq!(setting(&mut session, "SHOW search_path"), "\"$user\", app");
    assert_eq!(setting(&mut session, &format!("SELECT pg_has_role('{readers}', 'member')::text")), "true");
    drop(session);
    assert_eq!(one_value(&db, &format!("SELECT rolconnlimit::text FROM pg_roles WHERE rolname = '{app}'")).as_deref(), Some("5"));
    let sent = verifier(&db, &app);
    assert!(sent.starts_with("SCRAM-SHA-256$4096:"), "{sent}");
    if let Some(matches) = python_says_matches(&sent, first) {
        assert!(matches, "the verifier strata sent is not the password's");
    }
    work.assert_converged();

    // A password set by hand (the server makes the verifier) compares equal to the same one configured.
    db.execute(&format!("ALTER ROLE \"{app}\" PASSWORD 'by-hand-Pa55'"));
    work.write("main.tf", &roles_tf(&app, &readers, "by-hand-Pa55"));
    work.assert_converged();

    let second = "second-Pa55word";
    work.write("main.tf", &roles_tf(&app, &readers, second));
    let plan = work.strata(&["plan", "-detailed-exitcode", "-out", "tf.plan"]);
    assert_eq!(plan.code, 2, "expected a change: {plan:?}");
    assert!(plan.stdout.contains(&format!("ALTER ROLE \"{app}\" WITH PASSWORD '(sensitive value)'")), "{plan:?}");
    let shown = ok(work.strata(&["show", "-json", "tf.plan"]));
    let plan_file = std::fs::read(work.path().join("tf.plan")).expect("the plan file");
    for secret in [first, second, "by-hand-Pa55"] {
        assert!(!plan.output().contains(secret), "plan shows {secret}: {plan:?}");
        assert!(!shown.stdout.contains(secret), "plan JSON holds {secret}");
        assert!(!String::from_utf8_lossy(&plan_file).contains(secret), "the plan file holds {secret}");
    }
    let applied = ok(work.strata(&["apply", "tf.plan"]));
    assert!(!applied.output().contains(second), "{applied:?}");
    assert!(!applied.output().contains("SCRAM-SHA-256$"), "apply showed the verifier it sent: {applied:?}");
    let changed = verifier(&db, &app);
    assert_ne!(changed, sent);
    if let Some(matches) = python_says_matches(&changed, second) {
        assert!(matches, "the new verifier is not the new password's");
    }
    let state = work.state_text().expect("a state");
    for secret in [first, second, "by-hand-Pa55", "SCRAM-SHA-256"] {
        assert!(!state.contains(secret), "the state holds {secret}");
    }
    work.assert_converged();
}

#[test]
fn dropping_a_role_that_owns_a_table_is_data_loss_and_reassigns_what_it_owns() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let owner = cluster.role("owner");
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("resource \"postgres_role\" \"owner\" {{\n  name = \"{owner}\"\n}}\n"));
    work.apply();
    db.execute(&format!("CREATE TABLE ledger (id bigint); INSERT INTO ledger VALUES (1); ALTER TABLE ledger OWNER TO \"{owner}\""));

    work.write("main.tf", "");
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("[data-loss]"), "{plan:?}");
    assert!(plan.stdout.contains(&format!("REASSIGN OWNED BY \"{owner}\" TO CURRENT_USER")), "{plan:?}");
    assert!(plan.stdout.contains(&format!("DROP OWNED BY \"{owner}\"")), "{plan:?}");
    let refused = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.stderr.contains("lose data"), "{refused:?}");
    assert_eq!(one_value(&db, &format!("SELECT count(*)::text FROM pg_roles WHERE rolname = '{owner}'")).as_deref(), Some("1"));

    ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    assert_eq!(one_value(&db, &format!("SELECT count(*)::text FROM pg_roles WHERE rolname = '{owner}'")).as_deref(), Some("0"));
    // REASSIGN OWNED gave the table (and its row) to the connected user.
    assert_eq!(one_value(&db, "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE relname = 'ledger'").as_deref(), Some(common::server().2.as_str()));
    assert_eq!(one_value(&db, "SELECT count(*)::text FROM ledger").as_deref(), Some("1"));
}

#[test]
fn a_grant_role_and_a_database_are_created_converge_and_are_dropped() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (member, group, database) = (cluster.role("member"), cluster.role("group"), cluster.database("reports"));
    let work = Workdir::new(&db);
    let config = format!(
        r#"
resource "postgres_role" "member" {{
  name = "{member}"
}}

resource "postgres_role" "group" {{
  name = "{group}"
}}

resource "postgres_grant_role" "member_in_group" {{
  role              = postgres_role.member.name
  grant_role        = postgres_role.group.name
  with_admin_option = true
}}

resource "postgres_database" "reports" {{
  name             = "{database}"
  owner            = postgres_role.member.name
  template         = "template0"
  connection_limit = 3
}}
"#
    );
    work.write("main.tf", &config);
    work.apply();
    let membership = format!("SELECT admin_option::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid WHERE r.rolname = '{member}' AND g.rolname = '{group}'");
    assert_eq!(one_value(&db, &membership).as_deref(), Some("true"));
    let owner = format!("SELECT pg_get_userbyid(datdba)::text || ' ' || datconnlimit FROM pg_database WHERE datname = '{database}'");
    assert_eq!(one_value(&db, &owner), Some(format!("{member} 3")));
    assert_eq!(work.state_instance("postgres_grant_role.member_in_group")["attributes"]["id"], format!("{member}:{group}"));
    work.assert_converged();

    // Keep the roles, drop the membership and the database.
    let roles_only = config.split("resource \"postgres_grant_role\"").next().unwrap().to_owned();
    work.write("main.tf", &roles_only);
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains(&format!("DROP DATABASE \"{database}\"")), "{plan:?}");
    assert!(plan.stdout.contains(&format!("REVOKE \"{group}\" FROM \"{member}\"")), "{plan:?}");
    assert!(plan.stdout.contains("Data loss: 1 change loses data"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    assert_eq!(one_value(&db, &membership), None);
    assert_eq!(one_value(&db, &owner), None);
    work.assert_converged();
}

#[test]
fn roles_made_by_hand_are_imported_by_name_and_memberships_by_role_colon_grant_role() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let group = cluster.create_role("group", "");
    let legacy = cluster.create_role("legacy", "LOGIN PASSWORD 'old-Pa55' CONNECTION LIMIT 2");
    db.execute(&format!("GRANT \"{group}\" TO \"{legacy}\""));
    let work = Workdir::new(&db);
    work.write(
        "main.tf",
        &format!(
            r#"
resource "postgres_role" "legacy" {{
  name             = "{legacy}"
  login            = true
  password         = "old-Pa55"
  connection_limit = 2
}}

resource "postgres_grant_role" "legacy_in_group" {{
  role       = "{legacy}"
  grant_role = "{group}"
}}
"#
        ),
    );
    ok(work.strata(&["import", "postgres_role.legacy", &legacy]));
    ok(work.strata(&["import", "postgres_grant_role.legacy_in_group", &format!("{legacy}:{group}")]));
    // The password set by hand is the configured one: nothing to change, and it is not in state.
    work.assert_converged();
    assert!(!work.state_text().expect("a state").contains("old-Pa55"));
    let missing = work.strata(&["import", "postgres_role.legacy", &format!("nobody_{}", db.name)]);
    assert_ne!(missing.code, 0, "{missing:?}");
}

#[test]
fn without_a_superuser_the_password_cannot_be_compared_so_it_is_set_with_a_warning() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (admin, service) = (cluster.create_role("admin", "LOGIN CREATEROLE"), cluster.role("svc"));
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("resource \"postgres_role\" \"svc\" {{\n  name     = \"{service}\"\n  login    = true\n  password = \"svc-Pa55word\"\n}}\n"));
    let as_admin = [("PGUSER", admin.as_str())];
    ok(work.strata_env(&["apply", "-auto-approve"], &as_admin));
    if let Some(matches) = python_says_matches(&verifier(&db, &service), "svc-Pa55word") {
        assert!(matches);
    }
    let plan = work.strata_env(&["plan", "-detailed-exitcode"], &as_admin);
    assert_eq!(plan.code, 2, "{plan:?}");
    assert!(plan.output().contains("cannot be compared"), "{plan:?}");
    assert!(plan.stdout.contains("PASSWORD '(sensitive value)'"), "{plan:?}");
    assert!(!plan.output().contains("svc-Pa55word"), "{plan:?}");
    // A superuser compares it: no change.
    work.assert_converged();
}

#[test]
fn interrupted_creates_of_roles_memberships_and_databases_are_adopted_and_hand_made_twins_are_not() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (member, group, database) = (cluster.role("member"), cluster.role("group"), cluster.database("adopted"));
    let work = Workdir::new(&db);
    let config = format!(
        "resource \"postgres_role\" \"member\" {{\n  name = \"{member}\"\n}}\n\nresource \"postgres_role\" \"group\" {{\n  name = \"{group}\"\n}}\n\n\
         resource \"postgres_grant_role\" \"member_in_group\" {{\n  role       = postgres_role.member.name\n  grant_role = postgres_role.group.name\n}}\n\n\
         resource \"postgres_database\" \"adopted\" {{\n  name = \"{database}\"\n}}\n"
    );
    work.write("main.tf", &config);
    work.apply();
    let forgotten = [
        ("postgres_role.member", member.clone(), format!("SELECT xmin::text FROM pg_authid WHERE rolname = '{member}'")),
        (
            "postgres_grant_role.member_in_group",
            format!("{member}:{group}"),
            format!("SELECT m.xmin::text FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = '{member}'"),
        ),
        ("postgres_database.adopted", database.clone(), format!("SELECT xmin::text FROM pg_database WHERE datname = '{database}'")),
    ];
    let forgotten: Vec<(&str, String, String)> = forgotten.into_iter().map(|(address, id, mark)| (address, id, one_value(&db, &mark).expect("a catalog row"))).collect();
    common::interrupt_creates_and_apply(&work, &forgotten);

    // A hand-made role or database of the name is refused with the import hint, never touched.
    let (twin_role, twin_database) = (cluster.create_role("twin", "CONNECTION LIMIT 7"), cluster.database("twin"));
    common::connect("postgres").batch_execute(&format!("CREATE DATABASE \"{twin_database}\"")).expect("a hand-made database");
    work.write("main.tf", &format!("{config}\nresource \"postgres_role\" \"twin\" {{\n  name = \"{twin_role}\"\n}}\n\nresource \"postgres_database\" \"twin\" {{\n  name = \"{twin_database}\"\n}}\n"));
    let clash = work.strata(&["apply", "-auto-approve"]);
    assert_eq!(clash.code, 1, "{clash:?}");
    assert!(clash.stderr.contains(&format!("strata import postgres_role.twin {twin_role}")), "{clash:?}");
    assert!(clash.stderr.contains(&format!("strata import postgres_database.twin {twin_database}")), "{clash:?}");
    assert_eq!(one_value(&db, &format!("SELECT rolconnlimit::text FROM pg_roles WHERE rolname = '{twin_role}'")).as_deref(), Some("7"));
    work.write("main.tf", "");
    ok(work.strata(&["destroy", "-auto-approve"]));
    assert_eq!(one_value(&db, &format!("SELECT count(*)::text FROM pg_roles WHERE rolname IN ('{twin_role}', '{member}')")).as_deref(), Some("1"));
    assert_eq!(one_value(&db, &format!("SELECT count(*)::text FROM pg_database WHERE datname IN ('{twin_database}', '{database}')")).as_deref(), Some("1"));
}
