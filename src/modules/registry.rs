//! The module registry protocol
//! (https://developer.hashicorp.com/terraform/internals/module-registry-protocol) and archive
//! downloads, over HTTP with `ureq`.
//!
//! Service discovery is `https://HOST/.well-known/terraform.json`, except for loopback hosts
//! (`localhost`, `127.0.0.1`, `[::1]`, any port), which use plain `http://`: a registry on this
//! machine (a test's, a mirror's) needs no certificate, and no traffic leaves the machine.
//!
//! A token for a private registry comes from `TF_TOKEN_<host>` as Terraform reads it (dots as
//! `_`, dashes as `__`: `TF_TOKEN_app_terraform_io`), and is sent to that registry's own URLs only,
//! never to where a download location points.

use std::path::Path;
use std::time::Duration;

use semver::Version;
use sha2::{Digest, Sha256};
use url::Url;

use super::source::archive_kind;
use super::version::parse_version;
use crate::diag::Diagnostic;

/// The largest archive strata downloads.
const ARCHIVE_LIMIT: u64 = 512 * 1024 * 1024;
const JSON_LIMIT: u64 = 16 * 1024 * 1024;

pub(super) struct Http {
    agent: ureq::Agent,
}

/// One registry's modules service.
pub(super) struct Registry {
    host: String,
    base: Url,
    token: Option<String>,
}

impl Http {
    pub(super) fn new() -> Http {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(15)))
            .timeout_global(Some(Duration::from_secs(300)))
            .http_status_as_error(false)
            .build();
        Http { agent: config.into() }
    }

    fn get(&self, url: &Url, token: Option<&str>, what: &str) -> Result<ureq::http::Response<ureq::Body>, Diagnostic> {
        let mut request = self.agent.get(url.as_str()).header("Accept", "application/json");
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        request.call().map_err(|err| {
            Diagnostic::error(format!("cannot reach {} for {what}: {err}", url.host_str().unwrap_or("the host")))
                .detail(format!("GET {url}"))
                .hint("check the host name, your network and that the server is up; only strata init needs it, plans read what init installed")
        })
    }

    fn get_json(&self, url: &Url, token: Option<&str>, what: &str) -> Result<(u16, serde_json::Value), Diagnostic> {
        let mut response = self.get(url, token, what)?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Ok((status, serde_json::Value::Null));
        }
        let text = response.body_mut().with_config().limit(JSON_LIMIT).read_to_string().map_err(|err| Diagnostic::error(format!("cannot read {what} from {url}: {err}")))?;
        let value = serde_json::from_str(&text).map_err(|err| Diagnostic::error(format!("{what} from {url} is not JSON: {err}")))?;
        Ok((status, value))
    }

    /// Service discovery: the registry's `modules.v1` base URL.
    pub(super) fn discover(&self, host: &str) -> Result<Registry, Diagnostic> {
        let scheme = if is_loopback(host) { "http" } else { "https" };
        let url = Url::parse(&format!("{scheme}://{host}/.well-known/terraform.json"))
            .map_err(|err| Diagnostic::error(format!("\"{host}\" is not a registry host name: {err}")))?;
        let token = token_for(host);
        let (status, document) = self.get_json(&url, token.as_deref(), "the registry's service discovery")?;
        let not_registry = |why: String| {
            Diagnostic::error(format!("{host} is not a module registry: {why}"))
                .detail(format!("GET {url}"))
                .hint("check the host in the module's source; a registry answers /.well-known/terraform.json with {\"modules.v1\": \"/v1/modules/\"}")
        };
        if status != 200 {
            return Err(not_registry(format!("service discovery answered HTTP {status}")));
        }
        let Some(modules) = document.get("modules.v1").and_then(|v| v.as_str()) else {
            return Err(not_registry("its service discovery document has no \"modules.v1\"".to_owned()));
        };
        let mut base = url.join(modules).map_err(|err| not_registry(format!("its \"modules.v1\" ({modules}) is not a URL: {err}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        Ok(Registry { host: host.to_owned(), base, token })
    }

    /// Every version the registry has of `package` (`NAMESPACE/NAME/PROVIDER`).
    pub(super) fn versions(&self, registry: &Registry, package: &str) -> Result<Vec<Version>, Diagnostic> {
        let url = registry.url(&format!("{package}/versions"))?;
        let (status, document) = self.get_json(&url, registry.token.as_deref(), "the module's versions")?;
        if status == 401 || status == 403 {
            return Err(Diagnostic::error(format!("{} refused to list the versions of {package}: HTTP {status}", registry.host))
                .hint(format!("a private registry needs a token: set {}", token_variable(&registry.host))));
        }
        if status == 404 {
            return Err(Diagnostic::error(format!("module {package} not found on {}", registry.host))
                .detail(format!("GET {url} answered HTTP 404"))
                .hint("check the namespace, name and provider in the module's source"));
        }
        if status != 200 {
            return Err(Diagnostic::error(format!("{} answered HTTP {status} for the versions of {package}", registry.host)).detail(format!("GET {url}")));
        }
        let listed = document.pointer("/modules/0/versions").and_then(|v| v.as_array()).ok_or_else(|| {
            Diagnostic::error(format!("{} answered the versions of {package} without a \"modules\"[0].\"versions\" list", registry.host)).detail(format!("GET {url}"))
        })?;
        let versions: Vec<Version> = listed.iter().filter_map(|v| v.get("version").and_then(|v| v.as_str())).filter_map(|v| parse_version(v).ok()).collect();
        if versions.is_empty() {
            return Err(Diagnostic::error(format!("module {package} has no versions on {}", registry.host)).detail(format!("GET {url}")));
        }
        Ok(versions)
    }

    /// Where version `version` of `package` is: the download endpoint's `X-Terraform-Get`, a
    /// source address; one that starts with `/`, `./` or `../` is resolved against the download
    /// URL, as Terraform does.
    pub(super) fn location(&self, registry: &Registry, package: &str, version: &Version) -> Result<String, Diagnostic> {
        let url = registry.url(&format!("{package}/{version}/download"))?;
        let mut response = self.get(&url, registry.token.as_deref(), "the module's download location")?;
        let status = response.status().as_u16();
        if status == 404 {
            return Err(Diagnostic::error(format!("version {version} of module {package} not found on {}", registry.host))
                .detail(format!("GET {url} answered HTTP 404"))
                .hint(format!("run strata init -upgrade to choose among the versions {} has now", registry.host)));
        }
        if !(200..300).contains(&status) {
            return Err(Diagnostic::error(format!("{} answered HTTP {status} for the download of {package} {version}", registry.host)).detail(format!("GET {url}")));
        }
        let header = response.headers().get("X-Terraform-Get").and_then(|v| v.to_str().ok()).map(str::to_owned);
        let location = match header {
            Some(location) => location,
            None => {
                let text = response.body_mut().with_config().limit(JSON_LIMIT).read_to_string().unwrap_or_default();
                serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v.get("location").and_then(|l| l.as_str()).map(str::to_owned)).ok_or_else(|| {
                    Diagnostic::error(format!("{} gave no download location for {package} {version}", registry.host))
                        .detail(format!("GET {url} answered HTTP {status} without an X-Terraform-Get header"))
                })?
            }
        };
        if location.starts_with('/') || location.starts_with("./") || location.starts_with("../") {
            return url.join(&location).map(String::from).map_err(|err| Diagnostic::error(format!("{} gave a bad download location \"{location}\": {err}", registry.host)));
        }
        Ok(location)
    }

    /// Downloads the archive at `url` and unpacks it into `into`; answers the archive's sha256.
    /// With `expected`, an archive of another sha256 is refused.
    pub(super) fn fetch_archive(&self, url: &str, expected: Option<&str>, into: &Path) -> Result<String, Diagnostic> {
        let kind = archive_kind(url).unwrap_or_default();
        if !matches!(kind.as_str(), "tar.gz" | "tgz" | "tar") {
            return Err(Diagnostic::error(format!("{url}: {kind} archives are not supported yet")).hint("publish the module as a .tar.gz archive, or as a git repository"));
        }
        let mut parsed = Url::parse(url).map_err(|err| Diagnostic::error(format!("\"{url}\" is not a URL: {err}")))?;
        let kept: Vec<(String, String)> = parsed.query_pairs().filter(|(k, _)| k != "archive").map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        parsed.set_query(None);
        if !kept.is_empty() {
            parsed.query_pairs_mut().extend_pairs(kept);
        }
        let mut response = self.get(&parsed, None, "the module archive")?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Diagnostic::error(format!("cannot download {url}: HTTP {status}")).hint("check the archive's URL"));
        }
        let bytes = response.body_mut().with_config().limit(ARCHIVE_LIMIT).read_to_vec().map_err(|err| Diagnostic::error(format!("cannot download {url}: {err}")))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        if let Some(expected) = expected.filter(|e| *e != sha256) {
            return Err(Diagnostic::error(format!("the archive at {url} changed since it was locked"))
                .detail(format!("{} locks sha256 {expected}; the download has {sha256}", super::manifest::LOCK_FILE))
                .hint("if the change is expected, run strata init -upgrade to accept it"));
        }
        std::fs::create_dir_all(into).map_err(|err| Diagnostic::error(format!("cannot create {}: {err}", into.display())))?;
        let unpacked = if kind == "tar" {
            tar::Archive::new(bytes.as_slice()).unpack(into)
        } else {
            tar::Archive::new(flate2::read::GzDecoder::new(bytes.as_slice())).unpack(into)
        };
        unpacked.map_err(|err| Diagnostic::error(format!("cannot unpack {url}: {err}")).hint("the archive must be a valid .tar.gz"))?;
        Ok(sha256)
    }
}

impl Registry {
    fn url(&self, path: &str) -> Result<Url, Diagnostic> {
        self.base.join(path).map_err(|err| Diagnostic::error(format!("cannot make a registry URL from {} and {path}: {err}", self.base)))
    }
}

/// The environment variable Terraform reads a registry's token from.
fn token_variable(host: &str) -> String {
    format!("TF_TOKEN_{}", host.replace('-', "__").replace(['.', ':'], "_"))
}

fn token_for(host: &str) -> Option<String> {
    std::env::var(token_variable(host)).ok().filter(|token| !token.is_empty())
}

/// `localhost`, `127.0.0.1` (any 127/8), `[::1]`, with or without a port.
pub(super) fn is_loopback(host: &str) -> bool {
    let bare = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    bare.eq_ignore_ascii_case("localhost") || bare.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_variables_are_terraforms() {
        assert_eq!(token_variable("app.terraform.io"), "TF_TOKEN_app_terraform_io");
        assert_eq!(token_variable("my-registry.example.com"), "TF_TOKEN_my__registry_example_com");
    }

    #[test]
    fn loopback_hosts() {
        for host in ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:5000", "[::1]:9000", "[::1]"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["registry.terraform.io", "app.terraform.io:443", "10.0.0.1:80", "localhost.example.com"] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
