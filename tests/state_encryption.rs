//! State encryption at rest, end to end through the CLI: with `strata { encryption { ... } }` the
//! state file (and its .backup) holds no plaintext and is mode 0600; plan, apply and the `state`
//! commands work with the key; without it or with a wrong one every command fails with a clear
//! error, exit 1, and nothing changes. Against a real PostgreSQL.

use crate::common;

use std::os::unix::fs::PermissionsExt;

use base64::Engine;
use common::{assert_matches_schema, assert_valid_state, Run, TestDb, Workdir};

const ENCRYPTION: &str = r#"
strata {
  encryption {
    key_env = "STRATA_STATE_KEY"
  }
}
"#;

const PASSPHRASE: &str = r#"
strata {
  encryption {
    passphrase_env = "STRATA_STATE_PASSPHRASE"
  }
}
"#;

/// Names and text that must not be readable in the sealed file.
const PLAINTEXT: [&str; 4] = ["ledger_entries", "booked_at", "Money that moved", "postgres_table"];

fn ledger(extra_column: bool) -> String {
    let extra = if extra_column { "  column {\n    name = \"memo\"\n    type = \"text\"\n  }\n" } else { "" };
    format!(
        "resource \"postgres_table\" \"ledger\" {{\n  name    = \"ledger_entries\"\n  comment = \"Money that moved\"\n  column {{\n    name = \"booked_at\"\n    type = \"timestamptz\"\n  }}\n{extra}}}\n"
    )
}

fn fresh_key() -> String {
    let bytes: Vec<u8> = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()].iter().flat_map(|u| *u.as_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn with_key(work: &Workdir, key: &str, args: &[&str]) -> Run {
    work.strata_env(args, &[("STRATA_STATE_KEY", key)])
}

fn ok(run: Run) -> Run {
    assert_eq!(run.code, 0, "{run:?}");
    run
}

fn assert_sealed(path: &std::path::Path) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let envelope: serde_json::Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}\n{text}", path.display()));
    assert_matches_schema("sealed-state.schema.json", &envelope);
    for plain in PLAINTEXT {
        assert!(!text.contains(plain), "{} shows \"{plain}\":\n{text}", path.display());
    }
    let mode = std::fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{} has mode {mode:o}", path.display());
}

/// Runs `args` without a usable key and checks the failure changed nothing.
fn assert_refused(work: &Workdir, db: &TestDb, args: &[&str], env: &[(&str, &str)], expected: &str) {
    let (state_before, catalog_before) = (std::fs::read(work.state_path()).expect("state"), db.catalog());
    let run = work.strata_env(args, env);
    assert_eq!(run.code, 1, "{args:?} must fail: {run:?}");
    assert!(run.stderr.contains(expected), "{args:?} should say \"{expected}\": {run:?}");
    for (_, value) in env {
        assert!(!run.output().contains(value), "the key was printed: {run:?}");
    }
    assert_eq!(std::fs::read(work.state_path()).expect("state"), state_before, "{args:?} changed the state file");
    assert_eq!(db.catalog(), catalog_before, "{args:?} changed the database");
}

#[test]
fn encrypted_state_is_unreadable_without_the_key_and_transparent_with_it() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{ENCRYPTION}{}", ledger(false)));
    let key = fresh_key();

    ok(with_key(&work, &key, &["apply", "-auto-approve"]));
    assert!(db.has_table("ledger_entries"));
    assert_sealed(&work.state_path());
    let plan = with_key(&work, &key, &["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 0, "no changes with the key: {plan:?}");

    let wrong = fresh_key();
    for args in [&["plan"][..], &["apply", "-auto-approve"], &["state", "list"], &["state", "pull"], &["show"]] {
        assert_refused(&work, &db, args, &[], "is encrypted; set STRATA_STATE_KEY");
        assert_refused(&work, &db, args, &[("STRATA_STATE_KEY", wrong.as_str())], "wrong key");
    }
    assert_refused(&work, &db, &["plan"], &[("STRATA_STATE_KEY", "c2hvcnQ=")], "does not hold a usable state key");

    let pulled = ok(with_key(&work, &key, &["state", "pull"]));
    let state: serde_json::Value = serde_json::from_str(&pulled.stdout).unwrap_or_else(|e| panic!("state pull is not JSON: {e}\n{pulled:?}"));
    assert_valid_state(&state);
    assert_eq!(state["resources"][0]["address"], "postgres_table.ledger");
    assert!(ok(with_key(&work, &key, &["state", "list"])).stdout.contains("postgres_table.ledger"));
    assert!(ok(with_key(&work, &key, &["state", "show", "postgres_table.ledger"])).stdout.contains("ledger_entries"));
    assert!(ok(with_key(&work, &key, &["show"])).stdout.contains("ledger_entries"));

    work.write("main.tf", &format!("{ENCRYPTION}{}", ledger(true)));
    ok(with_key(&work, &key, &["apply", "-auto-approve"]));
    assert!(db.columns("ledger_entries").iter().any(|c| c.starts_with("memo ")), "{:?}", db.columns("ledger_entries"));
    assert_sealed(&work.state_path());
    assert_sealed(&work.path().join("strata.state.json.backup"));
    assert_eq!(with_key(&work, &key, &["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn turning_encryption_on_reads_the_plain_state_and_seals_the_next_write() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &ledger(false));
    work.apply();
    assert!(work.state_text().expect("state").contains("ledger_entries"), "plain before encryption is on");

    let key = fresh_key();
    work.write("main.tf", &format!("{ENCRYPTION}{}", ledger(true)));
    let plan = with_key(&work, &key, &["plan", "-detailed-exitcode"]);
    assert_eq!(plan.code, 2, "the plain state reads, and the new column is planned: {plan:?}");
    ok(with_key(&work, &key, &["apply", "-auto-approve"]));
    assert_sealed(&work.state_path());
    // The backup is the plain state that was there, sealed on its way: no plain copy is left behind.
    let backup = work.path().join("strata.state.json.backup");
    assert_sealed(&backup);
    let backed_up = ok(with_key(&work, &key, &["show", "-json", "-state", "strata.state.json.backup"]));
    let columns = &serde_json::from_str::<serde_json::Value>(&backed_up.stdout).expect("JSON")["values"]["root_module"]["resources"][0]["values"]["column"];
    assert_eq!(columns.as_array().map(Vec::len), Some(1), "the backup holds the state before the apply: {backed_up:?}");
    assert_eq!(with_key(&work, &key, &["plan", "-detailed-exitcode"]).code, 0);
}

#[test]
fn a_passphrase_seals_the_state_and_only_that_passphrase_opens_it() {
    let db = TestDb::new();
    let work = Workdir::new(&db);
    work.write("main.tf", &format!("{PASSPHRASE}{}", ledger(false)));
    let passphrase = [("STRATA_STATE_PASSPHRASE", "a long and memorable passphrase")];
    ok(work.strata_env(&["apply", "-auto-approve"], &passphrase));
    assert_sealed(&work.state_path());
    assert!(work.state_text().expect("state").contains("argon2id"));
    assert_eq!(work.strata_env(&["plan", "-detailed-exitcode"], &passphrase).code, 0);
    assert_refused(&work, &db, &["plan"], &[("STRATA_STATE_PASSPHRASE", "another passphrase")], "wrong key");
    assert_refused(&work, &db, &["plan"], &[], "is encrypted; set STRATA_STATE_PASSPHRASE");
}

#[test]
fn a_key_pasted_into_the_configuration_is_refused_without_being_repeated() {
    let work = Workdir::offline();
    let hex_key = "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    for pasted in [hex_key.to_owned(), fresh_key()] {
        work.write("main.tf", &ENCRYPTION.replace("STRATA_STATE_KEY", &pasted));
        let run = work.strata(&["validate"]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(run.stderr.contains("\"key_env\" must name the environment variable that holds the secret") && run.stderr.contains("main.tf:3:3"), "{run:?}");
        assert!(!run.output().contains(&pasted), "the pasted key was printed: {run:?}");
    }
}
