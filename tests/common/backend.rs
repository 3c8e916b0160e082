//! Helpers for the state backend tests: a `backend "postgres"` block on the test database (with a
//! password trust auth ignores, to prove it never shows), reading the backend's rows, and strata
//! processes running in the background.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::{server, Run, TestDb, Workdir};

/// The schema strata creates when the block names none.
pub const SCHEMA: &str = "strata_state";

/// A password that must never appear in anything strata prints.
pub fn password() -> String {
    format!("s3cr3t-{}", uuid::Uuid::new_v4().simple())
}

/// `conn_str` for the test database, with `password`.
pub fn conn_str(db: &TestDb, password: &str) -> String {
    let (host, port, user) = server();
    format!("host={host} port={port} user={user} dbname={} password={password}", db.name)
}

/// `strata { backend "postgres" { ... } }` on the test database.
pub fn backend_block(db: &TestDb, password: &str) -> String {
    backend_block_for(&conn_str(db, password))
}

/// `strata { backend "postgres" { conn_str = "CONN_STR" } }`.
pub fn backend_block_for(conn_str: &str) -> String {
    format!("strata {{\n  backend \"postgres\" {{\n    conn_str = \"{conn_str}\"\n  }}\n}}\n")
}

/// The serial and lineage of a workspace's row.
pub fn state_row(db: &TestDb, workspace: &str) -> Option<(i64, String)> {
    let sql = format!("SELECT serial, lineage FROM {SCHEMA}.states WHERE workspace = $1");
    db.client().query_opt(&sql, &[&workspace]).expect("read the state row").map(|row| (row.get(0), row.get(1)))
}

/// The state a workspace's row holds, as JSON.
pub fn state_json(db: &TestDb, workspace: &str) -> serde_json::Value {
    let sql = format!("SELECT data FROM {SCHEMA}.states WHERE workspace = $1");
    let data: Vec<u8> = db.client().query_one(&sql, &[&workspace]).expect("a state row").get(0);
    serde_json::from_slice(&data).expect("the stored state is JSON")
}

/// The id of the lock recorded for a workspace.
pub fn lock_id(db: &TestDb, workspace: &str) -> Option<String> {
    let sql = format!("SELECT id FROM {SCHEMA}.locks WHERE workspace = $1");
    db.client().query_opt(&sql, &[&workspace]).ok().flatten().map(|row| row.get(0))
}

/// Where strata keeps a local state's lock.
pub fn local_lock_path(state_path: &Path) -> std::path::PathBuf {
    state_path.with_file_name("strata.state.json.lock")
}

/// The id in a local state's lock file, when someone holds (or held) it.
pub fn local_lock_id(state_path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(local_lock_path(state_path)).ok()?;
    let info: serde_json::Value = serde_json::from_str(&text).ok()?;
    info["id"].as_str().map(str::to_owned)
}

/// Takes a local state's lock from the test process itself (the lock strata takes: an exclusive
/// `flock` on the lock file), until the file handed back is dropped.
pub fn hold_local_lock(state_path: &Path) -> std::fs::File {
    use fs2::FileExt;
    let file = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(local_lock_path(state_path)).expect("open the lock file");
    file.try_lock_exclusive().expect("nobody else holds the lock");
    file
}

/// Waits (up to 60s) until `ready` gives a value.
pub fn wait_for<T>(what: &str, mut ready: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `strata ARGS` started in the background in `work`, with the same environment as `Workdir::strata`.
pub fn spawn(work: &Workdir, args: &[&str]) -> Child {
    work.command(args, &[])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start strata")
}

/// Waits for a background strata and collects what it printed.
pub fn finish(child: Child) -> Run {
    let output = child.wait_with_output().expect("wait for strata");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Holds `ACCESS EXCLUSIVE` on a table until dropped, so an apply that alters it waits (while it
/// holds the state lock).
pub struct TableLock {
    client: postgres::Client,
}

impl TableLock {
    pub fn take(db: &TestDb, table: &str) -> TableLock {
        let mut client = db.client();
        client.batch_execute(&format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).expect("lock the table");
        TableLock { client }
    }

    pub fn release(mut self) {
        self.client.batch_execute("COMMIT").expect("release the table");
    }
}
