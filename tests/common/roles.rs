//! Roles and databases a test makes. Both belong to the whole server, not to the test's database,
//! so each is named after that database (tests run at once on one server) and dropped when the
//! test ends, pass or fail: first what the roles own or hold in the test's database, then the
//! databases and the roles.

use super::{connect, server, try_connect, TestDb};

/// The roles of examples/ai-platform/access.tf, as it names them after `role_prefix`.
pub const AI_PLATFORM_ROLES: [&str; 5] = ["ml_readers", "training_job", "feature_serving", "analyst", "auditor"];

pub struct Cluster {
    database: String,
    roles: Vec<String>,
    databases: Vec<String>,
}

impl Cluster {
    pub fn new(db: &TestDb) -> Cluster {
        Cluster { database: db.name.clone(), roles: vec![], databases: vec![] }
    }

    /// The name of a role unique to this test, dropped at its end (strata or the test creates it).
    pub fn role(&mut self, stem: &str) -> String {
        let name = format!("{stem}_{}", self.database);
        self.roles.push(name.clone());
        name
    }

    /// `role`, created now: `CREATE ROLE name options`.
    pub fn create_role(&mut self, stem: &str, options: &str) -> String {
        let name = self.role(stem);
        connect("postgres").batch_execute(&format!("CREATE ROLE \"{name}\" {options}")).unwrap_or_else(|e| panic!("create role {name}: {e}"));
        name
    }

    /// Roles a configuration names `PREFIXstem`, for each stem, dropped at the test's end.
    pub fn prefixed_roles(&mut self, prefix: &str, stems: &[&str]) {
        self.roles.extend(stems.iter().map(|stem| format!("{prefix}{stem}")));
    }

    /// The name of a database unique to this test, dropped at its end.
    pub fn database(&mut self, stem: &str) -> String {
        let name = format!("{stem}_{}", self.database);
        self.databases.push(name.clone());
        name
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Ok(mut here) = try_connect(&self.database) {
            for role in &self.roles {
                let _ = here.batch_execute(&format!("DROP OWNED BY \"{role}\""));
            }
        }
        let Ok(mut admin) = try_connect("postgres") else { return };
        for database in &self.databases {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)"));
        }
        for role in &self.roles {
            if let Err(err) = admin.batch_execute(&format!("DROP ROLE IF EXISTS \"{role}\"")) {
                eprintln!("could not drop the test role {role}: {err}");
            }
        }
    }
}

/// A session of `role` in `db` (with `password`, where the server asks for one).
pub fn connect_as(db: &TestDb, role: &str, password: Option<&str>) -> postgres::Client {
    let (host, port, _) = server();
    let password = password.map(|p| format!(" password={p}")).unwrap_or_default();
    let url = format!("host={host} port={port} user={role}{password} dbname={} connect_timeout=5", db.name);
    postgres::Client::connect(&url, postgres::NoTls).unwrap_or_else(|e| panic!("connect as {role}: {e}"))
}

/// The first column of the one row `sql` gives in `db`, if any.
pub fn one_value(db: &TestDb, sql: &str) -> Option<String> {
    db.client().query_opt(sql, &[]).unwrap_or_else(|e| panic!("{sql}: {e}")).and_then(|row| row.get(0))
}
