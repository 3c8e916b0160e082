//! No secret in anything strata prints or writes (the state aside, which holds real values): a
//! full validate / plan / show / apply / output / state / drift / refresh-only / destroy cycle,
//! plus error paths that put a secret into a message, with secrets from -var, a tfvars file and
//! TF_VAR_, through an aws_db_instance password (moto), a postgres provider password (trust auth
//! ignores it), a role's password (write-only: not in the state either, and compared without
//! being read back), a table comment computed from a secret and a sensitive output. Every stdout, stderr,
//! webhook payload and written file (under `.strata/` too) is searched for each secret as itself,
//! in base64 and in hex.

use crate::common;

use base64::Engine;
use common::listener::listen_once;
use common::moto::{unique_suffix, Moto};
use common::roles::Cluster;
use common::{Run, TestDb, Workdir};

const CONFIG: &str = r#"
variable "db_password" {
  type      = string
  sensitive = true
}
variable "pg_password" {
  type      = string
  sensitive = true
}
variable "api_token" {
  type      = string
  sensitive = true
}
variable "vpc_id" {
  type = string
}
variable "suffix" {
  type = string
}
variable "role_name" {
  type = string
}
variable "role_password" {
  type      = string
  sensitive = true
}

provider "aws" {
  region = "us-east-1"
}

provider "postgres" {
  password = var.pg_password
}

resource "aws_db_instance" "db" {
  identifier          = "secrets-${var.suffix}"
  engine              = "postgres"
  engine_version      = "14.7"
  instance_class      = "db.t3.micro"
  allocated_storage   = 20
  username            = "app"
  password            = var.db_password
  skip_final_snapshot = true
}

resource "postgres_table" "audit" {
  name    = "audit"
  comment = "reader token ${var.api_token}"
  column {
    name = "id"
    type = "bigint"
  }
}

resource "postgres_role" "app" {
  name     = var.role_name
  login    = true
  password = var.role_password
}

output "connection" {
  value     = "postgres://app:${var.db_password}@${aws_db_instance.db.address}/app"
  sensitive = true
}

output "table" {
  value = postgres_table.audit.name
}
"#;

/// A variable whose type rejects the secret it is given: the error is about the value.
const BAD_NUMBER: &str = r#"
variable "pin" {
  type      = number
  sensitive = true
}
"#;

/// A column type PostgreSQL rejects, naming the type in its error.
const BAD_TYPE: &str = r#"
resource "postgres_table" "broken" {
  name = "broken"
  column {
    name = "id"
    type = var.api_token
  }
}
"#;

const DB_PASSWORD: &str = "Sup3r-Secret-Db-Passw0rd";
const PG_PASSWORD: &str = "tfvars-Only-Pg-Passw0rd";
const API_TOKEN: &str = "envtoken9f8e7d6c5b4a";
const PIN: &str = "pin-Secret-Not-A-Number";
const ROLE_PASSWORD: &str = "role-Secret-Scram-Passw0rd";

/// Every spelling of every secret that must not appear.
fn forbidden() -> Vec<(String, String)> {
    [DB_PASSWORD, PG_PASSWORD, API_TOKEN, PIN, ROLE_PASSWORD]
        .iter()
        .flat_map(|secret| {
            [
                (secret.to_string(), secret.to_string()),
                (format!("{secret} as base64"), base64::engine::general_purpose::STANDARD.encode(secret)),
                (format!("{secret} as base64 (no padding)"), base64::engine::general_purpose::STANDARD_NO_PAD.encode(secret)),
                (format!("{secret} as hex"), hex::encode(secret)),
            ]
        })
        .collect()
}

struct Cycle {
    work: Workdir,
    vars: Vec<String>,
    /// What each step printed, with the command that printed it.
    printed: Vec<(String, String)>,
}

impl Cycle {
    fn run(&mut self, args: &[&str], with_vars: bool) -> Run {
        let mut full: Vec<&str> = args.to_vec();
        if with_vars {
            for var in &self.vars {
                full.extend(["-var", var.as_str()]);
            }
            full.extend(["-var-file", "secrets.tfvars"]);
        }
        full.push("-verbose");
        let run = self.work.strata_env(&full, &[("TF_VAR_api_token", API_TOKEN), ("TF_VAR_role_password", ROLE_PASSWORD)]);
        self.printed.push((full.join(" "), run.output()));
        run
    }

    fn ok(&mut self, args: &[&str], with_vars: bool) -> Run {
        let run = self.run(args, with_vars);
        assert_eq!(run.code, 0, "strata {args:?}: {run:?}");
        run
    }

    /// Every file strata wrote in the working directory and below it (`.strata/` included), except
    /// the inputs and the state itself.
    fn written_files(&mut self) {
        let mut directories = vec![self.work.path().to_path_buf()];
        while let Some(directory) = directories.pop() {
            let entries = std::fs::read_dir(&directory).expect("list a directory strata wrote in");
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.is_dir() {
                    directories.push(path);
                    continue;
                }
                let name = path.strip_prefix(self.work.path()).expect("under the working directory").display().to_string();
                let is_input = name.ends_with(".tf") || name.ends_with(".tfvars");
                let is_state = name.starts_with("strata.state.json") && !name.ends_with(".lock");
                if !is_input && !is_state {
                    let bytes = std::fs::read(&path).expect("read a written file");
                    self.printed.push((format!("file {name}"), String::from_utf8_lossy(&bytes).into_owned()));
                }
            }
        }
    }

    fn assert_nothing_leaked(&self) {
        let leaks: Vec<String> = self
            .printed
            .iter()
            .flat_map(|(source, text)| forbidden().into_iter().filter(|(_, form)| text.contains(form.as_str())).map(move |(what, _)| format!("{what} in `{source}`")))
            .collect();
        assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    }
}

#[test]
fn no_secret_appears_in_any_output_of_a_full_cycle() {
    let moto = Moto::new();
    let db = TestDb::new();
    let mut cluster = Cluster::new(&db);
    let work = Workdir::new(&db);
    work.write("main.tf", CONFIG);
    work.write("secrets.tfvars", &format!("pg_password = \"{PG_PASSWORD}\"\n"));
    let role = format!("role_name={}", cluster.role("app"));
    let vars = vec![format!("db_password={DB_PASSWORD}"), format!("vpc_id={}", moto.default_vpc()), format!("suffix=s{}", unique_suffix()), role];
    let mut cycle = Cycle { work, vars, printed: vec![] };

    cycle.ok(&["validate"], false);
    let plan = cycle.ok(&["plan"], true);
    assert!(plan.stdout.contains("aws_db_instance.db") && plan.stdout.contains("postgres_table.audit"), "{plan:?}");
    cycle.ok(&["plan", "-out", "create.plan"], true);
    cycle.ok(&["show", "create.plan"], false);
    cycle.ok(&["show", "-json", "create.plan"], false);
    cycle.ok(&["show", "-format", "markdown", "create.plan"], false);
    cycle.ok(&["apply", "-auto-approve"], true);
    assert!(db.has_table("audit"), "apply made the table");

    let outputs = cycle.ok(&["output"], false);
    assert!(outputs.stdout.contains("connection") && outputs.stdout.contains("audit"), "{outputs:?}");
    cycle.ok(&["output", "-json"], false);
    cycle.ok(&["output", "table"], false);
    cycle.ok(&["state", "list"], false);
    for address in ["aws_db_instance.db", "postgres_table.audit", "postgres_role.app"] {
        cycle.ok(&["state", "show", address], false);
    }
    cycle.ok(&["show"], false);
    cycle.ok(&["show", "-json"], false);

    db.execute("COMMENT ON TABLE audit IS 'changed by hand'");
    for format in [&["drift"][..], &["drift", "-json"], &["drift", "-format", "markdown"]] {
        let run = cycle.run(format, true);
        assert_eq!(run.code, 2, "drift finds the changed comment, and only that: {run:?}");
    }
    let (url, webhook) = listen_once();
    let posted = cycle.run(&["drift", "-webhook", &url], true);
    assert_eq!(posted.code, 2, "drift posts the changed comment: {posted:?}");
    let payload = webhook.join().expect("the webhook got the report");
    assert!(payload.contains("postgres_table.audit"), "{payload}");
    cycle.printed.push(("the webhook payload".to_owned(), payload));
    cycle.ok(&["drift", "ack", "postgres_table.audit", "-until", "2099-01-01", "-reason", "reviewed"], false);
    cycle.ok(&["plan", "-refresh-only"], true);
    cycle.ok(&["apply", "-refresh-only", "-auto-approve"], true);
    let comment_back = cycle.run(&["plan", "-detailed-exitcode"], true);
    assert_eq!(comment_back.code, 2, "the plan puts the comment back: {comment_back:?}");

    cycle.work.write("bad_number.tf", BAD_NUMBER);
    let bad_number = cycle.run(&["plan", "-var", &format!("pin={PIN}")], true);
    assert_eq!(bad_number.code, 1, "a string is not a number: {bad_number:?}");
    std::fs::remove_file(cycle.work.path().join("bad_number.tf")).expect("remove bad_number.tf");

    cycle.work.write("bad_type.tf", BAD_TYPE);
    let bad_type = cycle.run(&["apply", "-auto-approve"], true);
    assert_eq!(bad_type.code, 1, "PostgreSQL has no such type: {bad_type:?}");
    std::fs::remove_file(cycle.work.path().join("bad_type.tf")).expect("remove bad_type.tf");

    // The role's password is write-only: the state never holds it, in any spelling.
    let state = cycle.work.state_text().unwrap_or_default();
    assert!(forbidden().iter().filter(|(what, _)| what.starts_with(ROLE_PASSWORD)).all(|(_, form)| !state.contains(form.as_str())), "the role password is in the state");
    cycle.ok(&["destroy", "-auto-approve"], true);
    assert!(!db.has_table("audit"), "destroy dropped the table");
    cycle.written_files();
    cycle.assert_nothing_leaked();
}

/// The plan file's entry for variable `name`.
fn plan_variable(work: &Workdir, file: &str, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(work.path().join(file)).expect("read the plan file");
    let plan: serde_json::Value = serde_json::from_str(&text).expect("the plan file is JSON");
    plan["variables"][name].clone()
}

#[test]
fn a_sensitive_variable_in_a_plan_file_is_salted_and_slow_to_guess() {
    use sha2::{Digest, Sha256};
    let db = TestDb::new();
    let work = Workdir::new(&db);
    let table = "resource \"postgres_table\" \"notes\" {\n  name = \"notes\"\n  column {\n    name = \"id\"\n    type = \"bigint\"\n  }\n}\n";
    work.write("main.tf", &format!("variable \"token\" {{\n  type      = string\n  sensitive = true\n}}\n{table}"));
    // Through the environment, as CI gives a saved plan's sensitive variables back to apply.
    let given = |value: &'static str| [("STRATA_VAR_token", value)];
    for file in ["a.plan", "b.plan"] {
        assert_eq!(work.strata_env(&["plan", "-out", file], &given(API_TOKEN)).code, 0);
    }
    let (a, b) = (plan_variable(&work, "a.plan", "token"), plan_variable(&work, "b.plan", "token"));
    assert!(a.get("value").is_none() && a.get("sha256").is_none(), "{a:#}");
    assert_ne!(a, b, "the same value planned twice must give two different digests");
    let unsalted = hex::encode(Sha256::digest(serde_json::Value::String(API_TOKEN.into()).to_string().as_bytes()));
    assert!(!a.to_string().contains(&unsalted), "{a:#}");

    let other = work.strata_env(&["apply", "a.plan"], &given("another-token-value"));
    assert_eq!(other.code, 1, "{other:?}");
    assert!(other.stderr.contains("the sensitive variable \"token\" differs"), "{other:?}");
    assert!(!db.has_table("notes"), "nothing applied with the wrong value");
    let same = work.strata_env(&["apply", "b.plan"], &given(API_TOKEN));
    assert_eq!(same.code, 0, "the same value matches its salted digest: {same:?}");
    assert!(db.has_table("notes"));
}

/// One RDS instance whose password is `var.db_password`, named by `suffix`.
fn instance_config(suffix: &str) -> String {
    let start = CONFIG.find("provider \"aws\"").expect("the aws provider block");
    let end = CONFIG.find("resource \"postgres_table\"").expect("the table after the instance");
    let instance = CONFIG[start..end].replace("provider \"postgres\" {\n  password = var.pg_password\n}\n", "").replace("${var.suffix}", suffix);
    format!("variable \"db_password\" {{\n  type      = string\n  sensitive = true\n}}\n{instance}")
}

#[test]
fn the_same_password_in_two_states_is_two_salted_fingerprints_and_still_compares() {
    let _moto = Moto::new();
    let var = format!("db_password={DB_PASSWORD}");
    let stored: Vec<String> = (0..2)
        .map(|_| {
            let work = Workdir::offline();
            work.write("main.tf", &instance_config(&format!("salt{}", unique_suffix())));
            assert_eq!(work.strata(&["apply", "-auto-approve", "-var", &var]).code, 0);
            let state = work.state();
            assert!(state["secret_salt"].as_str().is_some_and(|s| s.len() == 32), "{state:#}");
            let unchanged = work.strata(&["plan", "-detailed-exitcode", "-var", &var]);
            assert_eq!(unchanged.code, 0, "the same password plans no change: {unchanged:?}");
            let changed = work.strata(&["plan", "-detailed-exitcode", "-var", "db_password=An0ther-Passw0rd-Value"]);
            assert_eq!(changed.code, 2, "a new password plans an update: {changed:?}");
            assert!(changed.stdout.contains("aws_db_instance.db will be updated in place"), "{changed:?}");
            let destroy = work.strata(&["destroy", "-auto-approve", "-var", &var]);
            assert_eq!(destroy.code, 0, "{destroy:?}");
            state["resources"][0]["instances"][0]["attributes"]["password"].as_str().expect("a stored password").to_owned()
        })
        .collect();
    assert!(stored.iter().all(|p| p.starts_with("sealed:argon2id:")), "{stored:?}");
    assert_ne!(stored[0], stored[1], "the same password in two states must be stored differently");
}
