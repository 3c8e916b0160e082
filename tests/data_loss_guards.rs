//! Data-loss guards end to end against a real PostgreSQL: every change classified in text, JSON
//! and markdown; apply refusing data loss without -allow-data-loss (or a plan file made with it);
//! `lifecycle { prevent_destroy, ignore_changes, create_before_destroy }`; `moved` blocks and
//! `renamed_from` turning renames into ALTER ... RENAME with the data kept; backups in state.

use crate::common;

use common::{Run, TestDb, Workdir};

/// A table `users` with an `email` column when `with_email`.
fn users(with_email: bool) -> String {
    let email = if with_email { "  column {\n    name = \"email\"\n    type = \"text\"\n  }\n" } else { "" };
    format!("resource \"postgres_table\" \"users\" {{\n  name = \"users\"\n  column {{\n    name = \"id\"\n    type = \"bigint\"\n    null = false\n  }}\n{email}  primary_key = [\"id\"]\n}}\n")
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

fn failed(run: Run) -> Run {
    assert_eq!(run.code, 1, "expected a failure: {run:?}");
    run
}

fn serial(work: &Workdir) -> u64 {
    work.state()["serial"].as_u64().expect("a serial")
}

fn has_email(db: &TestDb) -> bool {
    db.columns("users").iter().any(|c| c.starts_with("email "))
}

#[test]
fn a_dropped_column_is_refused_without_allow_data_loss_and_shown_everywhere() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &users(true));
    work.apply();
    work.write("main.tf", &users(false));

    let plan = ok(work.strata(&["plan", "-out", "plain.plan"]));
    assert!(plan.stdout.contains("postgres_table.users will be updated in place [data-loss]"), "{plan:?}");
    assert!(plan.stdout.contains("Data loss: 1 change loses data"), "{plan:?}");
    let json: serde_json::Value = serde_json::from_str(&ok(work.strata(&["show", "-json", "plain.plan"])).stdout).expect("plan JSON");
    common::assert_matches_schema("plan.schema.json", &json);
    let change = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "postgres_table.users").expect("the users change");
    assert_eq!(change["strata"]["class"], "data-loss", "{change:#}");
    let markdown = ok(work.strata(&["plan", "-format", "markdown"])).stdout;
    assert!(markdown.starts_with("**strata plan: 0 to add, 1 to change, 0 to replace, 0 to destroy.** :warning: **1 change loses data.**"), "{markdown}");

    let before = serial(&work);
    for refused in [work.strata(&["apply", "-auto-approve"]), work.strata(&["apply", "plain.plan"])] {
        let refused = failed(refused);
        assert!(refused.stderr.contains("apply refused: 1 change(s) in this plan lose data"), "{refused:?}");
        assert!(refused.stderr.contains("postgres_table.users: drops column public.users.email"), "{refused:?}");
        assert!(refused.stderr.contains("-allow-data-loss"), "{refused:?}");
        assert!(has_email(&db), "nothing may change");
        assert_eq!(serial(&work), before, "state is not written");
    }

    ok(work.strata(&["plan", "-allow-data-loss", "-out", "allowed.plan"]));
    ok(work.strata(&["apply", "allowed.plan"]));
    assert!(!has_email(&db));
    work.assert_converged();

    // And the flag on apply itself.
    work.write("main.tf", &users(true));
    work.apply();
    work.write("main.tf", &users(false));
    ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    assert!(!has_email(&db));
}

const PROTECTED: &str = r#"
variable "protect" {
  type = bool
}

locals {
  protected = var.protect
}

resource "postgres_table" "ledger" {
  name = "ledger"
  column {
    name = "id"
    type = "bigint"
  }
  lifecycle {
    prevent_destroy = local.protected
  }
}
"#;

fn recorded_protection(work: &Workdir) -> bool {
    let state = work.state();
    let ledger = common::instance(&state, "postgres_table.ledger");
    ledger.is_some_and(|r| r["prevent_destroy"] == true)
}

#[test]
fn prevent_destroy_follows_variables_survives_removing_the_block_and_lifts_only_by_apply() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", PROTECTED);
    work.write("prod.tfvars", "protect = true\n");
    work.write("dev.tfvars", "protect = false\n");
    ok(work.strata(&["apply", "-auto-approve", "-var-file", "prod.tfvars"]));
    assert!(recorded_protection(&work));

    let destroy = failed(work.strata(&["destroy", "-auto-approve", "-var-file", "prod.tfvars"]));
    assert!(destroy.stderr.contains("Instance cannot be destroyed: postgres_table.ledger"), "{destroy:?}");
    assert!(db.has_table("ledger"));

    // Deleting the block does not lift the protection: state still has it.
    work.write("main.tf", "variable \"protect\" {\n  type = bool\n}\n");
    for args in [&["plan", "-var-file", "prod.tfvars"][..], &["apply", "-auto-approve", "-allow-data-loss", "-var-file", "prod.tfvars"][..]] {
        let refused = failed(work.strata(args));
        assert!(refused.stderr.contains("put the block back with lifecycle { prevent_destroy = false }"), "{refused:?}");
    }
    assert!(db.has_table("ledger"));

    // Put back with false (dev): a state-only update that apply records.
    work.write("main.tf", PROTECTED);
    let plan = ok(work.strata(&["plan", "-var-file", "dev.tfvars", "-detailed-exitcode"]).with_code(2));
    assert!(plan.stdout.contains("lifecycle.prevent_destroy: true -> false (recorded in state)"), "{plan:?}");
    assert!(plan.stdout.contains("postgres_table.ledger will be updated in state only"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve", "-var-file", "dev.tfvars"]));
    assert!(!recorded_protection(&work));
    assert_eq!(work.strata(&["plan", "-detailed-exitcode", "-var-file", "dev.tfvars"]).code, 0);

    // Now removing the block destroys it (with consent to lose its rows).
    work.write("main.tf", "variable \"protect\" {\n  type = bool\n}\n");
    ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss", "-var-file", "dev.tfvars"]));
    assert!(!db.has_table("ledger"));
}

trait WithCode {
    fn with_code(self, code: i32) -> Run;
}

impl WithCode for Run {
    /// A run whose expected exit code (such as -detailed-exitcode's 2) counts as success.
    fn with_code(mut self, code: i32) -> Run {
        assert_eq!(self.code, code, "{self:?}");
        self.code = 0;
        self
    }
}

#[test]
fn ignore_changes_keeps_a_change_made_by_hand() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let config = |comment: &str| {
        format!(
            "resource \"postgres_table\" \"notes\" {{\n  name    = \"notes\"\n  comment = \"{comment}\"\n  column {{\n    name = \"id\"\n    type = \"bigint\"\n  }}\n  lifecycle {{\n    ignore_changes = [comment]\n  }}\n}}\n"
        )
    };
    work.write("main.tf", &config("from strata"));
    work.apply();
    db.execute("COMMENT ON TABLE notes IS 'edited by hand'");
    work.write("main.tf", &config("changed in config"));
    work.assert_converged();
    work.apply();
    let comment: String = db.client().query_one("SELECT obj_description('notes'::regclass)", &[]).unwrap().get(0);
    assert_eq!(comment, "edited by hand");

    work.write("main.tf", &config("x").replace("[comment]", "[no_such_attribute]"));
    let bad = failed(work.strata(&["plan"]));
    assert!(bad.stderr.contains("ignore_changes in postgres_table.notes names \"no_such_attribute\""), "{bad:?}");
    assert!(bad.stderr.contains("main.tf:"), "the error has a location: {bad:?}");
}

fn table(address_name: &str, name: &str, extra: &str) -> String {
    format!("resource \"postgres_table\" \"{address_name}\" {{\n  name = \"{name}\"\n{extra}  column {{\n    name = \"id\"\n    type = \"bigint\"\n  }}\n}}\n")
}

fn row_count(db: &TestDb, table: &str) -> i64 {
    db.client().query_one(&format!("SELECT count(*) FROM {table}"), &[]).unwrap().get(0)
}

#[test]
fn a_moved_block_renames_the_table_and_keeps_its_rows() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &table("users", "users", ""));
    work.apply();
    db.execute("INSERT INTO users (id) VALUES (1), (2)");

    // Only the address moves: a state-only change that apply persists.
    work.write("main.tf", &format!("{}moved {{\n  from = postgres_table.users\n  to   = postgres_table.accounts\n}}\n", table("accounts", "users", "")));
    let plan = ok(work.strata(&["plan", "-detailed-exitcode"]).with_code(2));
    assert!(plan.stdout.contains("# postgres_table.users has moved to postgres_table.accounts"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
    assert_eq!(work.state_addresses(), ["postgres_table.accounts"]);
    work.assert_converged();

    // Address and name: ALTER TABLE ... RENAME, never a drop.
    work.write("main.tf", &format!("{}moved {{\n  from = postgres_table.accounts\n  to   = postgres_table.people\n}}\n", table("people", "people", "")));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("# postgres_table.accounts has moved to postgres_table.people"), "{plan:?}");
    assert!(plan.stdout.contains("RENAME TO \"people\""), "{plan:?}");
    assert!(!plan.stdout.contains("DROP TABLE"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
    assert_eq!(row_count(&db, "people"), 2, "the rows survive the rename");
    assert_eq!(work.state_addresses(), ["postgres_table.people"]);
    work.assert_converged();

    // A move must end at a configured resource.
    work.write("main.tf", &format!("{}moved {{\n  from = postgres_table.people\n  to   = postgres_table.nowhere\n}}\n", table("people", "people", "")));
    let bad = failed(work.strata(&["plan"]));
    assert!(bad.stderr.contains("postgres_table.nowhere is not in the configuration"), "{bad:?}");
}

#[test]
fn renamed_from_moves_state_and_renames_the_table() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &table("events", "events", ""));
    work.apply();
    db.execute("INSERT INTO events (id) VALUES (7)");

    work.write("main.tf", &table("audit_events", "audit_events", "  renamed_from = \"events\"\n"));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("# postgres_table.events has moved to postgres_table.audit_events"), "{plan:?}");
    assert!(plan.stdout.contains("RENAME TO \"audit_events\""), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
    assert_eq!(row_count(&db, "audit_events"), 1);
    assert_eq!(work.state_addresses(), ["postgres_table.audit_events"]);
    work.assert_converged();
}

#[test]
fn create_before_destroy_creates_the_new_object_first() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let schema = |name: &str| format!("resource \"postgres_schema\" \"app\" {{\n  name = \"{name}\"\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n");
    work.write("main.tf", &schema("app_v1"));
    work.apply();
    // Something by hand in the old schema makes its DROP fail: the new schema exists by then.
    db.execute("CREATE TABLE app_v1.by_hand (id int)");
    work.write("main.tf", &schema("app_v2"));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("create_before_destroy"), "{plan:?}");
    let create = plan.stdout.find("CREATE SCHEMA \"app_v2\"").expect("the new schema's CREATE in the plan");
    let drop = plan.stdout.find("DROP SCHEMA \"app_v1\"").expect("the old schema's DROP in the plan");
    assert!(create < drop, "the plan lists the SQL in the order apply runs it: {plan:?}");
    let run = failed(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    assert!(run.stderr.contains("the new object was created and recorded in state, but the old one could not be deleted"), "{run:?}");
    let schemas = db.catalog();
    assert!(schemas.contains(&"schema app_v2".to_owned()) && schemas.contains(&"schema app_v1".to_owned()), "{schemas:?}");
    let state = work.state();
    assert_eq!(state["resources"][0]["instances"][0]["attributes"]["name"], "app_v2", "state records the new object");
}

#[test]
fn a_backup_taken_before_a_drop_is_printed_and_recorded_in_state() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let provider = "provider \"postgres\" {\n  backup_before_drop = true\n}\n";
    work.write("main.tf", &format!("{provider}{}", users(true)));
    work.apply();
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@example.com')");
    work.write("main.tf", &format!("{provider}{}", users(false)));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("# backup first: "), "{plan:?}");

    let apply = ok(work.strata(&["apply", "-auto-approve", "-allow-data-loss"]));
    assert!(apply.stdout.contains("Backups taken:\n  postgres_table.users: "), "{apply:?}");
    let state = work.state();
    let backups = state["backups"].as_array().expect("backups in state");
    assert_eq!(backups.len(), 1, "{state:#}");
    assert_eq!(backups[0]["address"], "postgres_table.users");
    assert!(backups[0]["taken_at"].as_str().is_some_and(|t| t.contains('T')), "{state:#}");
    assert!(db.catalog().iter().any(|l| l.starts_with("schema strata_backup")), "the copy is in the database");
}

#[test]
fn a_change_that_locks_a_table_is_classed_locking() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &users(true));
    work.apply();
    // SET NOT NULL scans the table under an ACCESS EXCLUSIVE lock.
    work.write("main.tf", &users(true).replace("    type = \"text\"\n", "    type = \"text\"\n    null = false\n"));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("postgres_table.users will be updated in place [locking]"), "{plan:?}");
    assert!(plan.stdout.contains("1 change locks or restarts what it changes"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
}

/// Loads `config` offline and returns the failed plan's stderr.
fn plan_error(config: &str) -> String {
    let work = Workdir::offline();
    work.write("main.tf", config);
    failed(work.strata(&["plan"])).stderr
}

#[test]
fn bad_lifecycle_and_moved_blocks_fail_with_their_location() {
    let table = table("a", "a", "");
    let with_lifecycle = |body: &str| table.replacen("  column {", &format!("  lifecycle {{\n    {body}\n  }}\n  column {{"), 1);
    let not_bool = plan_error(&with_lifecycle("prevent_destroy = \"yes\""));
    assert!(not_bool.contains("lifecycle.prevent_destroy must be true or false") && not_bool.contains("main.tf:4:"), "{not_bool}");
    // validate finds the same mistakes, needing no variable values: a flag that waits for one is fine there.
    let offline = Workdir::offline();
    offline.write("main.tf", &with_lifecycle("prevent_destroy = \"yes\""));
    let validate = failed(offline.strata(&["validate"]));
    assert!(validate.stderr.contains("lifecycle.prevent_destroy must be true or false") && validate.stderr.contains("main.tf:4:"), "{validate:?}");
    offline.write("main.tf", &with_lifecycle("ignore_changes = [commnet]"));
    assert!(failed(offline.strata(&["validate"])).stderr.contains("ignore_changes in postgres_table.a names \"commnet\""));
    offline.write("main.tf", &format!("variable \"protect\" {{\n  type = bool\n}}\n{}", with_lifecycle("prevent_destroy = var.protect")));
    ok(offline.strata(&["validate"]));
    let unknown = plan_error(&with_lifecycle("prevent_destroi = true"));
    assert!(unknown.contains("unknown attribute \"prevent_destroi\" in a lifecycle block") && unknown.contains("prevent_destroy"), "{unknown}");
    let moved = |from: &str, to: &str| format!("{table}moved {{\n  from = {from}\n  to   = {to}\n}}\n");
    let other_type = plan_error(&moved("postgres_schema.a", "postgres_table.a"));
    assert!(other_type.contains("a move keeps the resource type") && other_type.contains("main.tf:"), "{other_type}");
    let nowhere = Workdir::offline();
    nowhere.write("main.tf", &moved("postgres_table.gone", "postgres_table.nowhere"));
    let validate = failed(nowhere.strata(&["validate"]));
    assert!(validate.stderr.contains("postgres_table.nowhere is not in the configuration") && validate.stderr.contains("main.tf:"), "{validate:?}");
    let still_configured = plan_error(&moved("postgres_table.a", "postgres_table.a"));
    assert!(still_configured.contains("postgres_table.a is still in the configuration"), "{still_configured}");
    let chained = plan_error(&format!("{}moved {{\n  from = postgres_table.old\n  to   = postgres_table.mid\n}}\n", moved("postgres_table.mid", "postgres_table.a")));
    assert!(chained.contains("chained moves are not supported"), "{chained}");
}


/// A table `m` keyed on `id` with one column per `(name, type)`.
fn typed_table(columns: &[(&str, &str)]) -> String {
    let blocks: String = columns.iter().map(|(name, type_name)| format!("  column {{\n    name = \"{name}\"\n    type = \"{type_name}\"\n  }}\n")).collect();
    format!("resource \"postgres_table\" \"m\" {{\n  name = \"m\"\n  column {{\n    name = \"id\"\n    type = \"{}\"\n    null = false\n  }}\n{blocks}  primary_key = [\"id\"]\n}}\n", "integer")
}

fn row_text(db: &TestDb, sql: &str) -> String {
    db.client().query_one(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).get(0)
}

#[test]
fn a_type_change_not_known_to_be_lossless_needs_allow_data_loss() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let before = [("ratio", "double precision"), ("seen", "timestamptz"), ("amount", "numeric")];
    work.write("main.tf", &typed_table(&before));
    work.apply();
    db.execute("INSERT INTO m VALUES (1, 0.123456789012345, '2026-12-01 10:30:00+00', 12.75)");
    let values = "SELECT ratio::text || ' ' || (seen AT TIME ZONE 'UTC')::text || ' ' || amount::text FROM m";
    let kept = row_text(&db, values);

    for (column, narrower) in [("ratio", "real"), ("seen", "date"), ("amount", "integer")] {
        let changed: Vec<(&str, &str)> = before.iter().map(|&(name, type_name)| if name == column { (name, narrower) } else { (name, type_name) }).collect();
        work.write("main.tf", &typed_table(&changed));
        let plan = ok(work.strata(&["plan"]));
        assert!(plan.stdout.contains("postgres_table.m will be updated in place [data-loss]"), "{column} -> {narrower}: {plan:?}");
        assert!(plan.stdout.contains(&format!("changes column public.m.{column} from ")), "{plan:?}");
        let refused = failed(work.strata(&["apply", "-auto-approve"]));
        assert!(refused.stderr.contains("apply refused: 1 change(s) in this plan lose data"), "{column} -> {narrower}: {refused:?}");
        assert_eq!(row_text(&db, values), kept, "{column} -> {narrower} changed live values without consent");
    }
}

#[test]
fn a_lossless_widening_applies_without_consent_and_keeps_every_value() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &typed_table(&[("n", "smallint"), ("label", "varchar(10)"), ("price", "numeric(6,2)"), ("r", "real"), ("day", "date")]));
    work.apply();
    db.execute("INSERT INTO m VALUES (1, 32000, 'abcdefghij', 9999.99, 0.1, '2026-12-01')");
    let values = "SELECT n::text || ' ' || label || ' ' || price::numeric(6,2)::text || ' ' || r::real::text || ' ' || day::date::text FROM m";
    let kept = row_text(&db, values);
    work.write("main.tf", &typed_table(&[("n", "bigint"), ("label", "text"), ("price", "numeric(10,3)"), ("r", "double precision"), ("day", "timestamp")]));
    let plan = ok(work.strata(&["plan"]));
    assert!(!plan.stdout.contains("in place [data-loss]"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
    assert_eq!(row_text(&db, values), kept);
    work.assert_converged();
}

#[test]
fn timestamp_to_timestamptz_says_it_changes_what_values_mean() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &typed_table(&[("at", "timestamp")]));
    work.apply();
    work.write("main.tf", &typed_table(&[("at", "timestamptz")]));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("postgres_table.m will be updated in place [data-loss]"), "{plan:?}");
    assert!(plan.stdout.contains("each value is read as a local time in the server's TimeZone setting"), "{plan:?}");
}

#[test]
fn serial_to_bigserial_widens_the_column_and_its_sequence() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let table = |type_name: &str| typed_table(&[]).replacen("type = \"integer\"", &format!("type = \"{type_name}\""), 1);
    work.write("main.tf", &table("serial"));
    work.apply();
    db.execute("INSERT INTO m DEFAULT VALUES");
    work.write("main.tf", &table("bigserial"));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("TYPE bigint USING"), "{plan:?}");
    assert!(plan.stdout.contains("ALTER SEQUENCE m_id_seq AS bigint"), "{plan:?}");
    assert!(!plan.stdout.contains("in place [data-loss]"), "{plan:?}");
    ok(work.strata(&["apply", "-auto-approve"]));
    assert_eq!(row_text(&db, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'm'::regclass AND attname = 'id'"), "bigint");
    assert_eq!(row_text(&db, "SELECT data_type::text FROM information_schema.sequences WHERE sequence_name = 'm_id_seq'"), "bigint");
    db.execute("INSERT INTO m DEFAULT VALUES");
    work.assert_converged();
}

#[test]
fn dropping_an_index_without_concurrently_is_classed_locking() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let index = "  index {\n    name    = \"m_n_idx\"\n    columns = [\"n\"]\n  }\n";
    let with_index = typed_table(&[("n", "integer")]).replace("  primary_key", &format!("{index}  primary_key"));
    work.write("main.tf", &with_index);
    work.apply();
    work.write("main.tf", &typed_table(&[("n", "integer")]));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("postgres_table.m will be updated in place [locking]"), "{plan:?}");
    assert!(plan.stdout.contains("drops index m_n_idx on public.m under an ACCESS EXCLUSIVE lock"), "{plan:?}");

    let standalone = "resource \"postgres_index\" \"n\" {\n  name    = \"m_n_idx\"\n  table   = postgres_table.m.name\n  columns = [\"n\"]\n}\n";
    work.write("main.tf", &format!("{}{standalone}", typed_table(&[("n", "integer")])));
    ok(work.strata(&["apply", "-auto-approve"]));
    work.write("main.tf", &typed_table(&[("n", "integer")]));
    let plan = ok(work.strata(&["plan"]));
    assert!(plan.stdout.contains("drops index m_n_idx on public.m under an ACCESS EXCLUSIVE lock"), "{plan:?}");
    assert!(plan.stdout.contains("[locking]"), "{plan:?}");
}

