//! What the provider's integration tests share: a fresh database per test on the real server and a
//! provider configured for it. Owns no assertions about the provider.

use std::time::{SystemTime, UNIX_EPOCH};

use strata_provider_postgres::PostgresProvider;
use strata_provider_sdk::{Provider, Value};
use tokio_postgres::{Client, NoTls};

fn server() -> (String, u16, String) {
    let host = std::env::var("PGHOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PGPORT").ok().and_then(|p| p.parse().ok()).unwrap_or(5432);
    let user = std::env::var("PGUSER").unwrap_or_else(|_| "postgres".into());
    (host, port, user)
}

/// A new connection to `database`; fails with the command that provides a server.
pub async fn connect(database: &str) -> Client {
    let (host, port, user) = server();
    let url = format!("host={host} port={port} user={user} dbname={database}");
    let (client, connection) = tokio_postgres::connect(&url, NoTls).await.unwrap_or_else(|err| {
        panic!("\n\nPostgreSQL is not reachable at {host}:{port} as {user}: {err}\nRun the tests with `scripts/test.sh`, which finds or starts a server.\n\n")
    });
    tokio::spawn(connection);
    client
}

/// A fresh database and a provider configured for it; the database is dropped by `finish`.
pub struct Fixture {
    pub name: String,
    pub sql: Client,
    pub provider: PostgresProvider,
}

impl Fixture {
    pub async fn new(tag: &str) -> Fixture {
        Fixture::with_settings(tag, []).await
    }

    /// A fixture whose provider block also sets `settings` (`lock_timeout`, say).
    pub async fn with_settings<const N: usize>(tag: &str, settings: [(&str, Value); N]) -> Fixture {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let name = format!("strata_p_{tag}_{}_{nanos}", std::process::id());
        connect("postgres").await.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create database");
        let (host, port, user) = server();
        let provider = PostgresProvider::new();
        let mut config = Value::object([
            ("host", Value::from(host)),
            ("port", Value::int(i64::from(port))),
            ("username", Value::from(user)),
            ("database", Value::from(name.as_str())),
            ("sslmode", Value::from("disable")),
        ]);
        for (key, value) in settings {
            config.set(key, value);
        }
        provider.configure(&config).await.expect("configure");
        Fixture { sql: connect(&name).await, name, provider }
    }

    /// Drops the database (as dropping the fixture does, also when a test fails before this).
    pub async fn finish(self) {
        drop(self);
    }
}

impl Drop for Fixture {
    /// On a thread and runtime of its own: the test's runtime may be the one unwinding, and a
    /// panic there (no server) must not become a panic during a panic, which aborts the run.
    fn drop(&mut self) {
        let drop_sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async { connect("postgres").await.batch_execute(&drop_sql).await })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test database {}", self.name);
        }
    }
}
