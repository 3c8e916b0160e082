//! Test harness: a throwaway PostgreSQL database per test, a working directory of `.tf` files,
//! and running the real `strata` binary against them.
#![allow(dead_code)]

pub mod aws_faults;
pub mod backend;
pub mod listener;
pub mod loopback;
pub mod moto;
pub mod pgproxy;
pub mod roles;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use loopback::assert_loopback;

/// Two tables, orders depending on users through its foreign key, and an output reading orders.
pub const USERS_AND_ORDERS: &str = r#"
resource "postgres_table" "users" {
  name = "users"
  column {
    name = "id"
    type = "bigint"
  }
  primary_key = ["id"]
}

resource "postgres_table" "orders" {
  name = "orders"
  column {
    name = "id"
    type = "bigint"
  }
  column {
    name = "user_id"
    type = "bigint"
  }
  foreign_key {
    columns     = ["user_id"]
    references  = postgres_table.users.id
    ref_columns = ["id"]
  }
}

output "orders_table" {
  value = postgres_table.orders.id
}
"#;

/// Where the test server is: PGHOST/PGPORT/PGUSER as `scripts/test.sh` exports them.
pub fn server() -> (String, String, String) {
    server_in(&|key| std::env::var(key).ok())
}

fn server_in(lookup: &dyn Fn(&str) -> Option<String>) -> (String, String, String) {
    let get = |key: &str, default: &str| lookup(key).unwrap_or_else(|| default.to_owned());
    (get("PGHOST", "127.0.0.1"), get("PGPORT", "5432"), get("PGUSER", "postgres"))
}

/// Where AWS clients started by a test point when no moto runs: nothing listens on the discard
/// port, so a stray AWS call fails at once, on this machine, instead of reaching a real account.
pub const NO_AWS: &str = "http://127.0.0.1:9";

/// Variables of the test process that no child may inherit: they could point it at a real AWS
/// account, another database or state, a proxy, or feed it variables the test did not choose.
/// The harness sets its own values for what a child needs.
const SCRUBBED_PREFIXES: [&str; 5] = ["TF_VAR_", "STRATA_", "PG", "AWS_", "DATABASE_URL"];
const SCRUBBED_PROXIES: [&str; 6] = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"];

/// The moto endpoint the tests may use (`STRATA_MOTO_URL`), if one is exported; refuses to go on
/// when it is not on this machine, since everything AWS the tests start talks to it.
pub fn moto_url() -> Option<String> {
    std::env::var("STRATA_MOTO_URL").ok().filter(|url| !url.is_empty()).map(|url| assert_loopback("STRATA_MOTO_URL", &url))
}

/// The environment of every process a test starts, made from the test's own (`parent`): without
/// anything in [`SCRUBBED_PREFIXES`] or a proxy, with AWS pointed at moto on loopback (or at
/// [`NO_AWS`]) with dummy credentials, no profile, config or metadata service, and libpq pointed at
/// the harness' [`server`] only.
pub fn child_environment(parent: &[(String, String)]) -> Vec<(String, String)> {
    let lookup = |key: &str| parent.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
    let endpoint = lookup("STRATA_MOTO_URL").map_or_else(|| NO_AWS.to_owned(), |url| assert_loopback("STRATA_MOTO_URL", &url));
    let (host, port, user) = server_in(&lookup);
    let no_proxy = ["127.0.0.1", "localhost", "::1"].join(",");
    let set = [
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("PGHOST", host.as_str()),
        ("PGPORT", port.as_str()),
        ("PGUSER", user.as_str()),
        ("NO_PROXY", no_proxy.as_str()),
        ("no_proxy", no_proxy.as_str()),
        ("NO_COLOR", "1"),
    ];
    let inherited = |key: &str| {
        !SCRUBBED_PREFIXES.iter().any(|prefix| key.starts_with(prefix)) && !SCRUBBED_PROXIES.contains(&key) && !set.iter().any(|(k, _)| *k == key)
    };
    let mut env: Vec<(String, String)> = parent.iter().filter(|(key, _)| inherited(key)).cloned().collect();
    env.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// `program` with [`child_environment`] instead of the test process' environment: every process a
/// test starts is made here.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let parent: Vec<(String, String)> = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
    let mut command = Command::new(program);
    command.env_clear().envs(child_environment(&parent));
    command
}

/// The `strata` binary under test, in the harness' environment.
pub fn strata_command() -> Command {
    command(env!("CARGO_BIN_EXE_strata"))
}

pub fn connect(database: &str) -> postgres::Client {
    try_connect(database).unwrap_or_else(|err| {
        let (host, port, user) = server();
        panic!(
            "\n\nPostgreSQL is not reachable at {host}:{port} as {user}: {err}\n\
             These tests need a real server. Run them with `scripts/test.sh`, which finds or starts one.\n\n"
        )
    })
}

pub fn try_connect(database: &str) -> Result<postgres::Client, postgres::Error> {
    let (host, port, user) = server();
    let url = format!("host={host} port={port} user={user} dbname={database} connect_timeout=5");
    postgres::Client::connect(&url, postgres::NoTls)
}

/// A database that exists for one test and is dropped after it.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn new() -> TestDb {
        let name = format!("strata_t_{}", uuid::Uuid::new_v4().simple());
        connect("postgres").batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
        TestDb { name }
    }

    pub fn client(&self) -> postgres::Client {
        connect(&self.name)
    }

    pub fn execute(&self, sql: &str) {
        self.client().batch_execute(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// One line per table, column, default, identity or generated column, comment, constraint,
    /// index, enum type (with its values) and schema in user schemas: a fingerprint of the schema to
    /// compare before and after.
    pub fn catalog(&self) -> Vec<String> {
        let sql = r#"
            SELECT 'table ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
            UNION ALL
            SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND c.relkind = 'r'
            UNION ALL
            SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace NOT IN (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog', 'information_schema'))
            UNION ALL
            SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'default ' || c.relname || '.' || a.attname || ' ' || pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d
              JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum JOIN pg_class c ON c.oid = d.adrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            UNION ALL
            SELECT 'identity ' || c.relname || '.' || a.attname || ' ' || a.attidentity::text || a.attgenerated::text FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE a.attnum > 0 AND NOT a.attisdropped AND (a.attidentity <> '' OR a.attgenerated <> '') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            UNION ALL
            SELECT 'comment ' || c.relname || coalesce('.' || a.attname, '') || ' ' || d.description FROM pg_description d
              JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid JOIN pg_namespace n ON n.oid = c.relnamespace
              LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
            UNION ALL
            SELECT 'type ' || t.typname || ' (' || coalesce((SELECT string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '') || ')'
              FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE t.typtype = 'e' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
            UNION ALL
            SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_%' AND nspname <> 'information_schema'
            ORDER BY 1"#;
        self.client().query(sql, &[]).expect("read catalog").iter().map(|row| row.get::<_, String>(0)).collect()
    }

    /// Whether `public.NAME` is a table, plain or partitioned.
    pub fn has_table(&self, name: &str) -> bool {
        self.catalog().iter().any(|line| line.starts_with(&format!("table public.{name} r")) || line.starts_with(&format!("table public.{name} p")))
    }

    pub fn columns(&self, table: &str) -> Vec<String> {
        let prefix = format!("column {table}.");
        self.catalog().into_iter().filter_map(|line| line.strip_prefix(&prefix).map(str::to_owned)).collect()
    }
}

impl Drop for TestDb {
    /// Also runs while a failed test unwinds, so it must not panic (that would abort the run):
    /// a server gone by now leaves the database behind, with a note.
    fn drop(&mut self) {
        let dropped = try_connect("postgres").and_then(|mut c| c.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)));
        if let Err(err) = dropped {
            eprintln!("could not drop the test database {}: {err}", self.name);
        }
    }
}

/// A directory of configuration files in which strata runs.
pub struct Workdir {
    dir: tempfile::TempDir,
    pub database: String,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Workdir {
    pub fn new(db: &TestDb) -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("temp dir"), database: db.name.clone() }
    }

    /// For commands that never reach a database (fmt, graph, validate).
    pub fn offline() -> Workdir {
        Workdir { dir: tempfile::tempdir().expect("temp dir"), database: "strata_no_such_database".to_owned() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` (which may be in a subdirectory, `modules/db/main.tf`) under the directory.
    pub fn write(&self, name: &str, text: &str) {
        let path = self.dir.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("make config directory");
        }
        std::fs::write(path, text).expect("write config");
    }

    pub fn state_path(&self) -> PathBuf {
        self.dir.path().join("strata.state.json")
    }

    /// The state as strata reads it: the file, or, while a journal of changes since the file was
    /// written is next to it (a run was killed before it folded them in), `strata state pull`.
    pub fn state_text(&self) -> Option<String> {
        if self.dir.path().join("strata.state.json.journal").exists() {
            let pulled = self.strata(&["state", "pull"]);
            assert_eq!(pulled.code, 0, "state pull failed: {pulled:?}");
            return Some(pulled.stdout);
        }
        std::fs::read_to_string(self.state_path()).ok()
    }

    pub fn state(&self) -> serde_json::Value {
        let text = self.state_text().expect("a state file");
        let state: serde_json::Value = serde_json::from_str(&text).expect("state is JSON");
        assert_valid_state(&state);
        state
    }

    /// The addresses of every instance in state, as `strata state list` prints them.
    pub fn state_addresses(&self) -> Vec<String> {
        instances(&self.state()).iter().map(|r| r["address"].as_str().unwrap().to_owned()).collect()
    }

    /// One instance in state by address (see [`instance`]).
    pub fn state_instance(&self, address: &str) -> serde_json::Value {
        instance(&self.state(), address).unwrap_or_else(|| panic!("{address} in state"))
    }

    /// Runs `strata ARGS` here with the test database as the libpq default.
    pub fn strata(&self, args: &[&str]) -> Run {
        self.strata_env(args, &[])
    }

    pub fn strata_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let output = self.command(args, env).output().expect("run strata");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// The command `strata_env` runs, for tests that start it themselves (and kill it).
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = strata_command();
        command.args(args).current_dir(self.dir.path()).env("PGDATABASE", &self.database);
        for (key, value) in env {
            if key.starts_with("AWS_ENDPOINT_URL") {
                assert_loopback(key, value);
            }
            command.env(key, value);
        }
        command
    }

    pub fn apply(&self) -> Run {
        let run = self.strata(&["apply", "-auto-approve"]);
        assert_eq!(run.code, 0, "apply failed: {run:?}");
        run
    }

    /// Asserts that a plan now shows no changes.
    pub fn assert_converged(&self) {
        let run = self.strata(&["plan", "-detailed-exitcode"]);
        assert_eq!(run.code, 0, "expected no changes: {run:?}");
        assert!(run.stdout.contains("No changes."), "{run:?}");
    }
}

/// The state as a kill between each create and its state write leaves it: each `(address,
/// import id, mark)` taken out of the resources and recorded as a pending intent carrying `mark`
/// (the id of the transaction that wrote the object's catalog row); then apply must adopt each one.
pub fn interrupt_creates_and_apply(work: &Workdir, forgotten: &[(&str, String, String)]) {
    let mut state = work.state();
    state["resources"].as_array_mut().expect("resources").retain(|r| forgotten.iter().all(|(address, _, _)| r["address"] != *address));
    let pending: Vec<serde_json::Value> = forgotten
        .iter()
        .enumerate()
        .map(|(n, (address, id, mark))| {
            let (type_name, _) = address.split_once('.').expect("TYPE.NAME");
            serde_json::json!({ "address": address, "type": type_name, "provider": "postgres", "import_id": id,
                                "id": format!("0b6f1f8e-5d43-4c1a-9e3f-6a7b8c9d{n:04x}"), "marks": [mark], "recorded_at": "2026-01-01T00:00:00Z" })
        })
        .collect();
    state["pending"] = serde_json::Value::Array(pending);
    assert_valid_state(&state);
    std::fs::write(work.state_path(), serde_json::to_string_pretty(&state).expect("state JSON")).expect("write the state");
    let apply = work.apply();
    for (address, _, _) in forgotten {
        assert!(apply.stderr.contains(&format!("adopting {address}: created by an earlier apply")), "{address}: {apply:?}");
    }
    assert!(!apply.stdout.contains("Creation complete"), "a twin was created: {apply:?}");
    assert!(work.state().get("pending").is_none());
    work.assert_converged();
}

/// Every instance of a state document, each as its instance's fields (`attributes`,
/// `dependencies`, ...) with its resource's `type`, `name` and `provider`, and `address` the
/// instance's address (`postgres_table.t["events"]`).
pub fn instances(state: &serde_json::Value) -> Vec<serde_json::Value> {
    let mut found = Vec::new();
    for resource in state["resources"].as_array().into_iter().flatten() {
        for instance in resource["instances"].as_array().into_iter().flatten() {
            let mut flat = instance.clone();
            let key = match &instance["index_key"] {
                serde_json::Value::Null => String::new(),
                key => format!("[{key}]"),
            };
            flat["address"] = format!("{}{key}", resource["address"].as_str().unwrap_or_default()).into();
            for field in ["type", "name", "provider", "mode", "module"] {
                if let Some(value) = resource.get(field) {
                    flat[field] = value.clone();
                }
            }
            found.push(flat);
        }
    }
    found
}

/// The instance at `address` in a state document (see [`instances`]).
pub fn instance(state: &serde_json::Value, address: &str) -> Option<serde_json::Value> {
    instances(state).into_iter().find(|i| i["address"] == address)
}

/// One test's way of running strata in its working directory (with its own variables), and the
/// checks such tests share.
pub trait Session {
    fn workdir(&self) -> &Workdir;

    fn run(&self, args: &[&str]) -> Run;

    fn plan(&self) -> Run {
        let run = self.run(&["plan", "-detailed-exitcode"]);
        assert_eq!(run.code, 2, "expected changes: {run:?}");
        run
    }

    fn apply(&self) -> Run {
        let run = self.run(&["apply", "-auto-approve"]);
        assert_eq!(run.code, 0, "apply failed: {run:?}");
        run
    }

    fn assert_converged(&self) {
        let run = self.run(&["plan", "-detailed-exitcode"]);
        assert_eq!(run.code, 0, "expected no changes: {run:?}");
    }

    /// Replaces the first `from` in main.tf with `to`.
    fn edit(&self, from: &str, to: &str) {
        let path = self.workdir().path().join("main.tf");
        let text = std::fs::read_to_string(&path).expect("main.tf");
        assert!(text.contains(from), "main.tf has no {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).expect("write main.tf");
    }
}

/// Validates a state document against `schemas/state.schema.json`.
pub fn assert_valid_state(state: &serde_json::Value) {
    assert_matches_schema("state.schema.json", state);
}

/// Validates `document` against `schemas/<schema_file>`.
pub fn assert_matches_schema(schema_file: &str, document: &serde_json::Value) {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(schema_file);
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let errors: Vec<String> = validator.iter_errors(document).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "document does not match schemas/{schema_file}: {errors:#?}\n{document:#}");
}
