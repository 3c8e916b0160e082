//! Connection settings: the `provider "postgres"` block, falling back to the libpq environment
//! (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE) and `DATABASE_URL`, and opening
//! connections with them. The password never appears in any message.

use std::time::Duration;

use native_tls::TlsConnector;
use postgres_native_tls::MakeTlsConnector;
use strata_provider_sdk::{ProviderError, Value};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, Config, NoTls};

/// The values `sslmode` (and PGSSLMODE) may take, as libpq reads them.
pub const SSL_MODES: &[&str] = &["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];

/// Where and how to connect.
#[derive(Clone)]
pub struct ConnSettings {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    password: Option<String>,
    sslmode: String,
    connect_timeout: u64,
    /// The session's `lock_timeout`, so that a catalog or preflight read behind another session's
    /// lock fails after it instead of hanging (DDL sets its own, `SET LOCAL`, in `guards`).
    lock_timeout: Option<String>,
    /// A PEM file of the certificate authorities verify-ca and verify-full trust besides the
    /// system's (`sslrootcert`, PGSSLROOTCERT).
    sslrootcert: Option<String>,
    /// How many connections the provider may hold open at once (`max_connections`).
    pub max_connections: usize,
    /// `superuser = false`: the role cannot read `pg_authid` (RDS), so strata does not try.
    pub superuser: bool,
    /// The oldest server version the configuration is written for (`expected_version`).
    pub expected_version: Option<String>,
    /// Built once (verify-ca and verify-full): loading the system's root certificates costs tens of milliseconds.
    tls: std::sync::OnceLock<MakeTlsConnector>,
}

/// The community provider's default for `max_connections`.
const DEFAULT_MAX_CONNECTIONS: usize = 20;

impl ConnSettings {
    /// Reads the provider block (null when there is none) over the environment.
    pub fn from_config(config: &Value) -> Result<ConnSettings, ProviderError> {
        let env = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        let url = config.get_str("url").map(str::to_owned).or_else(|| env("DATABASE_URL"));
        let from_url: Option<Config> = match &url {
            Some(url) => Some(url.parse().map_err(|_| {
                ProviderError::new("the postgres url is not a valid connection string").with_hint("write it as postgres://USER@HOST:PORT/DATABASE")
            })?),
            None => None,
        };
        let url_host = from_url.as_ref().and_then(|c| c.get_hosts().first()).map(|h| match h {
            tokio_postgres::config::Host::Tcp(host) => host.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        });
        let port = match config.get("port").filter(|v| !v.is_null()) {
            Some(value) => Some(value.as_i64().and_then(|p| u16::try_from(p).ok()).ok_or_else(|| ProviderError::new("port must be a number from 1 to 65535"))?),
            None => env("PGPORT").map(|p| p.parse::<u16>().map_err(|_| ProviderError::new(format!("PGPORT is not a port number: {p}")))).transpose()?,
        };
        let sslmode = config.get_str("sslmode").map(str::to_owned).or_else(|| env("PGSSLMODE")).unwrap_or_else(|| "prefer".into());
        // The attribute is checked against the schema; PGSSLMODE is not.
        if !SSL_MODES.contains(&sslmode.as_str()) {
            return Err(ProviderError::new(format!("unknown sslmode \"{sslmode}\"")).with_hint("use disable, prefer, require, verify-ca or verify-full"));
        }
        check_scheme(config.get_str("scheme"))?;
        check_database_username(config.get_str("database_username"), config.get_str("username"))?;
        let max_connections = match config.get("max_connections").filter(|v| !v.is_null()) {
            Some(value) => value.as_i64().and_then(|n| usize::try_from(n).ok()).filter(|n| *n >= 1).ok_or_else(|| {
                ProviderError::new("max_connections must be a whole number of at least 1").with_hint("strata needs one connection to read the catalog and one per change applied at once")
            })?,
            None => DEFAULT_MAX_CONNECTIONS,
        };
        Ok(ConnSettings {
            host: config.get_str("host").map(str::to_owned).or_else(|| env("PGHOST")).or(url_host).unwrap_or_else(|| "localhost".into()),
            port: port.or_else(|| from_url.as_ref().and_then(|c| c.get_ports().first().copied())).unwrap_or(5432),
            database: config.get_str("database").map(str::to_owned).or_else(|| env("PGDATABASE")).or_else(|| from_url.as_ref().and_then(|c| c.get_dbname().map(str::to_owned))).unwrap_or_else(|| "postgres".into()),
            user: config.get_str("username").map(str::to_owned).or_else(|| env("PGUSER")).or_else(|| from_url.as_ref().and_then(|c| c.get_user().map(str::to_owned))).unwrap_or_else(|| "postgres".into()),
            password: config
                .get_str("password")
                .filter(|p| !p.is_empty())
                .map(str::to_owned)
                .or_else(|| env("PGPASSWORD"))
                .or_else(|| from_url.as_ref().and_then(|c| c.get_password()).map(|p| String::from_utf8_lossy(p).into_owned())),
            sslmode,
            connect_timeout: config.get_i64("connect_timeout").and_then(|t| u64::try_from(t).ok()).unwrap_or(10),
            lock_timeout: None,
            sslrootcert: config.get_str("sslrootcert").map(str::to_owned).or_else(|| env("PGSSLROOTCERT")),
            max_connections,
            superuser: config.get_bool("superuser").unwrap_or(true),
            expected_version: config.get_str("expected_version").map(str::to_owned),
            tls: std::sync::OnceLock::new(),
        })
    }

    /// These settings with every session waiting at most `timeout` (a checked duration) for a lock.
    pub fn with_lock_timeout(self, timeout: &str) -> ConnSettings {
        ConnSettings { lock_timeout: Some(timeout.to_owned()), ..self }
    }

    /// These settings connecting to `database` instead (a restore drill's scratch database).
    pub fn with_database(&self, database: &str) -> ConnSettings {
        ConnSettings { database: database.to_owned(), tls: std::sync::OnceLock::new(), ..self.clone() }
    }

    /// The libpq environment that points pg_dump and pg_restore at the same server as these
    /// settings: the password goes in the environment, never on a command line others can read.
    pub fn libpq_env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.database.clone()),
            ("PGSSLMODE", self.sslmode.clone()),
            ("PGCONNECT_TIMEOUT", self.connect_timeout.max(1).to_string()),
        ];
        env.extend(self.password.clone().map(|password| ("PGPASSWORD", password)));
        env.extend(self.sslrootcert.clone().map(|path| ("PGSSLROOTCERT", path)));
        env
    }

    fn describe(&self) -> String {
        format!("{}:{} (database \"{}\", user \"{}\")", self.host, self.port, self.database, self.user)
    }

    fn driver_config(&self) -> Config {
        let mut config = Config::new();
        config.host(&self.host).port(self.port).dbname(&self.database).user(&self.user).application_name(crate::lock_holders::application_name());
        config.connect_timeout(Duration::from_secs(self.connect_timeout.max(1)));
        if let Some(timeout) = &self.lock_timeout {
            config.options(format!("-c lock_timeout={timeout}"));
        }
        if let Some(password) = &self.password {
            config.password(password);
        }
        config.ssl_mode(match self.sslmode.as_str() {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            _ => SslMode::Require,
        });
        config
    }

    fn tls(&self) -> Result<MakeTlsConnector, ProviderError> {
        // libpq's require and prefer encrypt without checking the certificate; verify-ca checks the
        // chain but not the name; verify-full checks both.
        let verify_hostname = match self.sslmode.as_str() {
            "verify-full" => true,
            "verify-ca" => false,
            _ => return unverified_tls().clone().map_err(ProviderError::new),
        };
        if let Some(tls) = self.tls.get() {
            return Ok(tls.clone());
        }
        let mut builder = TlsConnector::builder();
        builder.danger_accept_invalid_hostnames(!verify_hostname);
        if let Some(path) = &self.sslrootcert {
            builder.add_root_certificate(root_certificate(path)?);
        }
        let tls = builder.build().map(MakeTlsConnector::new).map_err(|err| ProviderError::new(format!("cannot set up TLS: {err}")))?;
        Ok(self.tls.get_or_init(|| tls).clone())
    }

    /// Opens a connection; its driver task runs in the background until the client is dropped.
    pub async fn connect(&self) -> Result<Client, ProviderError> {
        self.connect_telling_refusals().await.map_err(|(error, _)| error)
    }

    /// `connect`, saying with a failure whether the server refused (answered: bad credentials, no
    /// such database; trying again cannot help) rather than could not be reached (which may pass).
    pub async fn connect_telling_refusals(&self) -> Result<Client, (ProviderError, bool)> {
        let config = self.driver_config();
        let failed = |err: tokio_postgres::Error| {
            let error = ProviderError::new(format!("cannot connect to PostgreSQL at {}: {}", self.describe(), describe_error(&err))).with_hint(format!(
                "check that the server is running and accepts TCP connections on {}:{}, and that the provider \"postgres\" block (or PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) names the right server and credentials",
                self.host, self.port
            ));
            (error, err.as_db_error().is_some())
        };
        if self.sslmode == "disable" {
            let (client, connection) = config.connect(NoTls).await.map_err(failed)?;
            tokio::spawn(connection);
            return Ok(client);
        }
        let (client, connection) = config.connect(self.tls().map_err(|error| (error, true))?).await.map_err(failed)?;
        tokio::spawn(connection);
        Ok(client)
    }
}

/// Fails when the server is older than `expected` (`expected_version`, \"12\" or \"9.6\"): the
/// configuration was written for features it lacks.
pub async fn check_expected_version(client: &Client, expected: &str) -> Result<(), ProviderError> {
    let wanted = version_number(expected).ok_or_else(|| ProviderError::new(format!("expected_version \"{expected}\" is not a version")).with_hint("write a PostgreSQL version such as \"15\" or \"9.6\""))?;
    let row = client.query_one("SELECT current_setting('server_version_num')::int, current_setting('server_version')", &[]).await.map_err(|err| ProviderError::new(format!("cannot read the server's version: {}", describe_error(&err))))?;
    let (found, text): (i32, String) = (row.get(0), row.get(1));
    match i64::from(found) >= wanted {
        true => Ok(()),
        false => Err(ProviderError::new(format!("the server is PostgreSQL {text}, older than expected_version {expected}")).with_hint("point the provider at the intended server, or lower expected_version")),
    }
}

/// `server_version_num` of a version written `15`, `15.4` or `9.6.24`.
fn version_number(text: &str) -> Option<i64> {
    let parts: Vec<i64> = text.trim().split('.').map(|part| part.parse().ok()).collect::<Option<_>>()?;
    match parts.as_slice() {
        [major, ..] if *major >= 10 => Some(major * 10000 + parts.get(1).copied().unwrap_or(0)),
        [major, minor, rest @ ..] => Some(major * 10000 + minor * 100 + rest.first().copied().unwrap_or(0)),
        [major] => Some(major * 10000),
        [] => None,
    }
}

/// `scheme`: the community provider's choice of driver. strata speaks PostgreSQL's own protocol.
fn check_scheme(scheme: Option<&str>) -> Result<(), ProviderError> {
    match scheme {
        None | Some("postgres") => Ok(()),
        Some(other) => Err(ProviderError::new(format!("scheme \"{other}\" is not supported: strata connects with PostgreSQL's own protocol and a password"))
            .with_hint("write scheme = \"postgres\" (or leave it out) and give username and password; for RDS IAM authentication, pass a token generated by `aws rds generate-db-auth-token` as the password")),
    }
}

/// `database_username`: the connecting role's name inside the database where it differs from the
/// login name (Azure's `user@server`). strata always names that role `current_user`, so any value
/// works; it is checked only for being a name.
fn check_database_username(database_username: Option<&str>, username: Option<&str>) -> Result<(), ProviderError> {
    match database_username {
        Some("") => Err(ProviderError::new("database_username is empty").with_hint(format!("leave it out, or write the role's name in the database (username is {})", username.unwrap_or("unset")))),
        _ => Ok(()),
    }
}

/// The first certificate of the PEM file `path` (`sslrootcert`).
fn root_certificate(path: &str) -> Result<native_tls::Certificate, ProviderError> {
    let pem = std::fs::read(path).map_err(|err| ProviderError::new(format!("cannot read sslrootcert {path}: {err}")).with_hint("give the path of a PEM file of the server's certificate authority"))?;
    native_tls::Certificate::from_pem(&pem).map_err(|err| ProviderError::new(format!("sslrootcert {path} is not a PEM certificate: {err}")))
}

/// The TLS setup of the sslmodes that check nothing (prefer, the default, and require): one per
/// process, as setting TLS up costs tens of milliseconds.
fn unverified_tls() -> &'static Result<MakeTlsConnector, String> {
    static TLS: std::sync::OnceLock<Result<MakeTlsConnector, String>> = std::sync::OnceLock::new();
    TLS.get_or_init(|| {
        TlsConnector::builder()
            .danger_accept_invalid_certs(true)
            .danger_accept_invalid_hostnames(true)
            .disable_built_in_roots(true)
            .build()
            .map(MakeTlsConnector::new)
            .map_err(|err| format!("cannot set up TLS: {err}"))
    })
}

/// Sets up [`unverified_tls`] on a thread of its own, so that it is ready by the time the
/// configuration has been read and the first connection opens.
pub fn prepare_tls_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::spawn(|| {
            let _ = unverified_tls();
        });
    });
}

/// The server's message when there is one (with its detail and hint), else the driver's.
pub fn describe_error(err: &tokio_postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => {
            let mut text = db.message().to_owned();
            if let Some(detail) = db.detail() {
                text.push_str(&format!(" ({detail})"));
            }
            text
        }
        None => {
            let mut text = err.to_string();
            let mut source = std::error::Error::source(err);
            while let Some(inner) = source {
                text.push_str(&format!(": {inner}"));
                source = inner.source();
            }
            text
        }
    }
}
