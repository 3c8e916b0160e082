//! `postgres_grant` and `postgres_default_privileges` against a real PostgreSQL: a grant lets its
//! role read and nothing more (proved by connecting as the role), `ALL` and its expansion in any
//! order plan no change, a privilege removed plans exactly one REVOKE, an exclusive grant revokes
//! what was granted by hand while a plain one leaves it (and drift lists it), `objects = []`
//! covers every table of the schema, and default privileges converge and reach a table created
//! after them.

use crate::common;

use common::roles::{connect_as, Cluster};
use common::{TestDb, Workdir};

fn plan(work: &Workdir) -> common::Run {
    let run = work.strata(&["plan", "-detailed-exitcode"]);
    assert_eq!(run.code, 2, "expected changes: {run:?}");
    run
}

fn has_privilege(db: &TestDb, role: &str, table: &str, privilege: &str) -> bool {
    let sql = format!("SELECT has_table_privilege('{role}', '{table}', '{privilege}')");
    db.client().query_one(&sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

fn grant(name: &str, db: &TestDb, role: &str, objects: &str, privileges: &str, extra: &str) -> String {
    format!(
        "\nresource \"postgres_grant\" \"{name}\" {{\n  database    = \"{}\"\n  role        = \"{role}\"\n  schema      = \"public\"\n  object_type = \"table\"\n  objects     = {objects}\n  privileges  = {privileges}\n{extra}\n}}\n",
        db.name
    )
}

#[test]
fn a_grant_lets_its_role_read_only_converges_and_removing_a_privilege_revokes_only_it() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let serving = cluster.create_role("serving", "LOGIN");
    db.execute("CREATE TABLE features (id int, score float8); INSERT INTO features VALUES (1, 0.5)");
    let work = Workdir::new(&db);
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"select\"]", ""));
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("GRANT SELECT ON \"public\".\"features\" TO \"{serving}\"")), "{planned:?}");
    work.apply();

    let mut session = connect_as(&db, &serving, None);
    let row = session.query_one("SELECT score FROM features WHERE id = 1", &[]).expect("the role may read");
    assert_eq!(row.get::<_, f64>(0), 0.5);
    let denied = session.batch_execute("INSERT INTO features VALUES (2, 1.0)").expect_err("the role may not write");
    assert!(format!("{denied:?}").contains("permission denied"), "{denied:?}");
    work.assert_converged();

    // ALL, then its expansion in another order and spelling: no change.
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"ALL\"]", ""));
    work.apply();
    assert!(has_privilege(&db, &serving, "features", "TRUNCATE"));
    work.assert_converged();
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"trigger\", \"SELECT\", \"references\", \"insert\", \"Update\", \"delete\", \"truncate\", \"select\"]", ""));
    work.assert_converged();

    // One privilege removed: exactly one REVOKE, never REVOKE ALL and a new GRANT.
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"trigger\", \"SELECT\", \"references\", \"insert\", \"Update\", \"truncate\"]", ""));
    let narrowed = plan(&work);
    assert_eq!(narrowed.stdout.matches("REVOKE").count(), 1, "{narrowed:?}");
    assert!(narrowed.stdout.contains(&format!("REVOKE DELETE ON \"public\".\"features\" FROM \"{serving}\"")), "{narrowed:?}");
    assert!(!narrowed.stdout.contains("GRANT "), "{narrowed:?}");
    work.apply();
    assert!(!has_privilege(&db, &serving, "features", "DELETE"));
    assert!(has_privilege(&db, &serving, "features", "INSERT"));
    work.assert_converged();

    // Back to reading only: the role cannot write any more.
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"SELECT\"]", ""));
    work.apply();
    work.assert_converged();
    let mut session = connect_as(&db, &serving, None);
    assert!(session.batch_execute("INSERT INTO features VALUES (3, 1.0)").is_err());
    assert!(session.query_one("SELECT count(*) FROM features", &[]).is_ok());

    // A privilege the type does not take names the closest one; another database is refused.
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"SELEC\"]", ""));
    let typo = work.strata(&["plan"]);
    assert_ne!(typo.code, 0, "{typo:?}");
    assert!(typo.output().contains("did you mean SELECT?"), "{typo:?}");
    let elsewhere = grant("serving", &db, &serving, "[\"features\"]", "[\"SELECT\"]", "").replace(&format!("\"{}\"", db.name), "\"somewhere_else\"");
    work.write("main.tf", &elsewhere);
    let other = work.strata(&["plan"]);
    assert_ne!(other.code, 0, "{other:?}");
    assert!(other.output().contains("somewhere_else") && other.output().contains(&db.name), "{other:?}");

    // Destroy revokes what it granted.
    work.write("main.tf", &grant("serving", &db, &serving, "[\"features\"]", "[\"SELECT\"]", ""));
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    assert!(!has_privilege(&db, &serving, "features", "SELECT"));
}

#[test]
fn exclusive_revokes_grants_made_by_hand_while_a_plain_grant_leaves_them_to_drift() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (reader, writer) = (cluster.create_role("reader", "LOGIN"), cluster.create_role("writer", "LOGIN"));
    db.execute("CREATE TABLE t (id int)");
    let work = Workdir::new(&db);
    work.write("main.tf", &grant("reader", &db, &reader, "[\"t\"]", "[\"SELECT\"]", ""));
    work.apply();
    db.execute(&format!("GRANT ALL ON t TO PUBLIC; GRANT INSERT ON t TO \"{writer}\"; GRANT UPDATE ON t TO \"{reader}\""));

    // Not exclusive: what was granted by hand stays, and drift lists it.
    work.assert_converged();
    let drift = work.strata(&["drift"]);
    assert!(drift.stdout.contains("on table public.t granted to PUBLIC, which no postgres_grant declares"), "{drift:?}");
    assert!(drift.stdout.contains(&format!("privileges INSERT on table public.t granted to role {writer}")), "{drift:?}");
    assert!(has_privilege(&db, &writer, "t", "INSERT"));

    // Exclusive: every other privilege on t is revoked, one at a time.
    work.write("main.tf", &grant("reader", &db, &reader, "[\"t\"]", "[\"SELECT\"]", "  exclusive = true"));
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("REVOKE INSERT ON \"public\".\"t\" FROM \"{writer}\"")), "{planned:?}");
    assert!(planned.stdout.contains("REVOKE TRUNCATE ON \"public\".\"t\" FROM PUBLIC"), "{planned:?}");
    assert!(planned.stdout.contains(&format!("REVOKE UPDATE ON \"public\".\"t\" FROM \"{reader}\"")), "{planned:?}");
    assert!(!planned.stdout.contains("REVOKE ALL"), "{planned:?}");
    work.apply();
    assert!(!has_privilege(&db, &writer, "t", "INSERT"));
    assert!(!has_privilege(&db, &reader, "t", "UPDATE"));
    assert!(has_privilege(&db, &reader, "t", "SELECT"));
    let public: Option<String> = db.client().query_one("SELECT relacl::text FROM pg_class WHERE relname = 't'", &[]).expect("acl").get(0);
    assert!(!public.as_deref().unwrap_or_default().contains(",=") && !public.as_deref().unwrap_or_default().contains("{="), "{public:?}");
    work.assert_converged();
    let drift = work.strata(&["drift"]);
    assert!(!drift.stdout.contains("which no postgres_grant declares"), "{drift:?}");

    // Another grant of the configuration on the same table is not the exclusive one's to revoke.
    let both = format!("{}{}", grant("reader", &db, &reader, "[\"t\"]", "[\"SELECT\"]", "  exclusive = true"), grant("writer", &db, &writer, "[\"t\"]", "[\"INSERT\"]", ""));
    work.write("main.tf", &both);
    work.apply();
    assert!(has_privilege(&db, &writer, "t", "INSERT"));
    work.assert_converged();
}

#[test]
fn objects_left_empty_cover_every_table_even_ones_made_in_the_same_apply_and_later() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (analyst, auditor) = (cluster.create_role("analyst", "LOGIN"), cluster.create_role("auditor", "LOGIN"));
    db.execute("CREATE TABLE hand_made (id int)");
    let events = "\nresource \"postgres_table\" \"events\" {\n  name = \"events\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n";
    let named = grant("events", &db, &auditor, "[postgres_table.events.name]", "[\"SELECT\"]", "  with_grant_option = true");
    let every = grant("every", &db, &analyst, "[]", "[\"SELECT\", \"REFERENCES\"]", "  depends_on = [postgres_table.events]");
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{events}{named}{every}"));
    // The grants plan before their table exists.
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("GRANT SELECT ON \"public\".\"events\" TO \"{auditor}\" WITH GRANT OPTION")), "{planned:?}");
    assert!(planned.stdout.contains(&format!("GRANT SELECT ON ALL TABLES IN SCHEMA \"public\" TO \"{analyst}\"")), "{planned:?}");
    work.apply();
    let mut session = connect_as(&db, &analyst, None);
    session.query_one("SELECT count(*) FROM hand_made", &[]).expect("every table");
    session.query_one("SELECT count(*) FROM events", &[]).expect("the table made in the same apply");
    connect_as(&db, &auditor, None).query_one("SELECT count(*) FROM events", &[]).expect("the named table");
    work.assert_converged();

    // A table made later: granted on the next apply, and that alone.
    db.execute("CREATE TABLE made_later (id int)");
    let later = plan(&work);
    assert!(later.stdout.contains(&format!("GRANT SELECT ON \"public\".\"made_later\" TO \"{analyst}\"")), "{later:?}");
    assert!(later.stdout.contains(&format!("GRANT REFERENCES ON \"public\".\"made_later\" TO \"{analyst}\"")), "{later:?}");
    assert!(!later.stdout.contains("REVOKE"), "{later:?}");
    work.apply();
    connect_as(&db, &analyst, None).query_one("SELECT count(*) FROM made_later", &[]).expect("the later table");
    work.assert_converged();
}

#[test]
fn default_privileges_converge_and_reach_a_table_created_after_them() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let (owner, reader) = (cluster.create_role("owner", "LOGIN"), cluster.create_role("reader", "LOGIN"));
    db.execute(&format!("GRANT CREATE ON SCHEMA public TO \"{owner}\""));
    let name = &db.name;
    let config = format!(
        r#"
resource "postgres_default_privileges" "tables" {{
  database    = "{name}"
  role        = "{reader}"
  owner       = "{owner}"
  object_type = "table"
  privileges  = ["select"]
}}

resource "postgres_default_privileges" "sequences" {{
  database    = "{name}"
  role        = "{reader}"
  owner       = "{owner}"
  schema      = "public"
  object_type = "sequence"
  privileges  = ["ALL"]
}}

resource "postgres_default_privileges" "no_public_functions" {{
  database    = "{name}"
  role        = "public"
  owner       = "{owner}"
  object_type = "function"
  privileges  = []
}}
"#
    );
    let work = Workdir::new(&db);
    work.write("main.tf", &config);
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("ALTER DEFAULT PRIVILEGES FOR ROLE \"{owner}\" GRANT SELECT ON TABLES TO \"{reader}\"")), "{planned:?}");
    assert!(planned.stdout.contains(&format!("ALTER DEFAULT PRIVILEGES FOR ROLE \"{owner}\" REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC")), "{planned:?}");
    work.apply();
    work.assert_converged();

    db.execute(&format!("SET ROLE \"{owner}\"; CREATE TABLE made_after (id serial); CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'; RESET ROLE"));
    let mut session = connect_as(&db, &reader, None);
    session.query_one("SELECT count(*) FROM made_after", &[]).expect("the default privileges reach a later table");
    session.query_one("SELECT nextval('made_after_id_seq')", &[]).expect("and its sequence, by the schema's defaults");
    assert!(session.query_one("SELECT f()", &[]).is_err(), "PUBLIC no longer executes new functions");
    work.assert_converged();

    // Destroy puts the defaults back.
    let destroy = work.strata(&["destroy", "-auto-approve"]);
    assert_eq!(destroy.code, 0, "{destroy:?}");
    let left: i64 = db.client().query_one(&format!("SELECT count(*) FROM pg_default_acl WHERE defaclrole = '{owner}'::regrole"), &[]).expect("defaults").get(0);
    assert_eq!(left, 0);
}

#[test]
fn grants_on_functions_schemas_the_database_sequences_and_columns_converge() {
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let app = cluster.create_role("app", "LOGIN");
    db.execute("CREATE SCHEMA ml; CREATE TABLE ml.runs (id int, status text); CREATE SEQUENCE ml.run_ids; CREATE FUNCTION ml.score(int, text) RETURNS int LANGUAGE sql AS 'SELECT $1'; REVOKE EXECUTE ON FUNCTION ml.score(int, text) FROM PUBLIC");
    let name = &db.name;
    let config = format!(
        r#"
resource "postgres_grant" "usage" {{
  database    = "{name}"
  role        = "{app}"
  schema      = "ml"
  object_type = "schema"
  privileges  = ["usage"]
}}

resource "postgres_grant" "connect" {{
  database    = "{name}"
  role        = "{app}"
  object_type = "database"
  privileges  = ["CONNECT", "temp"]
}}

resource "postgres_grant" "score" {{
  database    = "{name}"
  role        = "{app}"
  schema      = "ml"
  object_type = "function"
  objects     = ["score(int4, text)"]
  privileges  = ["EXECUTE"]
}}

resource "postgres_grant" "ids" {{
  database    = "{name}"
  role        = "{app}"
  schema      = "ml"
  object_type = "sequence"
  privileges  = ["ALL"]
}}

resource "postgres_grant" "status" {{
  database    = "{name}"
  role        = "{app}"
  schema      = "ml"
  object_type = "column"
  objects     = ["runs"]
  columns     = ["status"]
  privileges  = ["select", "update"]
}}
"#
    );
    let work = Workdir::new(&db);
    work.write("main.tf", &config);
    let planned = plan(&work);
    assert!(planned.stdout.contains(&format!("GRANT UPDATE (\"status\") ON TABLE \"ml\".\"runs\" TO \"{app}\"")), "{planned:?}");
    assert!(planned.stdout.contains(&format!("GRANT EXECUTE ON FUNCTION \"ml\".\"score\"(integer, text) TO \"{app}\"")), "{planned:?}");
    work.apply();
    work.assert_converged();
    let mut session = connect_as(&db, &app, None);
    assert_eq!(session.query_one("SELECT ml.score(7, 'x')", &[]).expect("execute").get::<_, i32>(0), 7);
    session.query_one("SELECT nextval('ml.run_ids')", &[]).expect("the sequence");
    session.query("SELECT status FROM ml.runs", &[]).expect("the granted column");
    assert!(session.query("SELECT id FROM ml.runs", &[]).is_err(), "only the granted column");
    session.batch_execute("CREATE TEMP TABLE scratch (x int)").expect("TEMPORARY on the database");
}

#[test]
fn drift_lists_a_grant_made_by_hand_on_a_managed_table() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", "resource \"postgres_table\" \"t\" {\n  name = \"t\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n");
    work.apply();
    let clean = work.strata(&["drift"]);
    assert!(!clean.stdout.contains("which no postgres_grant declares"), "{clean:?}");
    db.execute("GRANT ALL ON t TO PUBLIC");
    let drift = work.strata(&["drift"]);
    assert_eq!(drift.code, 2, "{drift:?}");
    assert!(
        drift.stdout.contains("privileges INSERT, SELECT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER on table public.t granted to PUBLIC, which no postgres_grant declares"),
        "{drift:?}"
    );
    work.assert_converged();
}
