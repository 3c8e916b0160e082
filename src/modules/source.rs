//! Module source addresses: the `source` argument of a `module` block, read with Terraform's
//! rules (https://developer.hashicorp.com/terraform/language/modules/sources).
//!
//! In the order Terraform tries them: a local path (`./x`, `../x`), a registry address
//! (`NAMESPACE/NAME/PROVIDER`, `HOST/NAMESPACE/NAME/PROVIDER`), then the remote forms: `git::URL`,
//! `git@HOST:PATH`, the `github.com/ORG/REPO` and `bitbucket.org/ORG/REPO` shorthands, and archive
//! URLs (`https://.../x.tar.gz`, `.zip`, or `?archive=tar.gz`). Any form but a local path may end in
//! `//SUBDIR` (a directory inside the package); git sources take `?ref=` (a tag, branch or commit).

use std::fmt;
use std::str::FromStr;

/// The registry a three-part address (`NAMESPACE/NAME/PROVIDER`) means.
pub const DEFAULT_REGISTRY: &str = "registry.terraform.io";

/// What the error of a source that is none of these says.
pub const ACCEPTED_FORMS: &str = "a module source is a local path (\"./DIR\" or \"../DIR\"), a registry address \
(\"NAMESPACE/NAME/PROVIDER\" or \"HOST/NAMESPACE/NAME/PROVIDER\"), a git repository (\"git::https://...\", \
\"git::ssh://...\", \"git::file:///...\", \"git@HOST:PATH\", \"github.com/ORG/REPO\"), or an archive URL \
(\"https://.../NAME.tar.gz\", \".zip\", or \"...?archive=tar.gz\"); any but a local path may end in \"//SUBDIR\", \
and git sources take \"?ref=TAG, BRANCH or COMMIT\"";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSource {
    /// A directory relative to the calling module's: starts with `./` or `../`.
    Local(String),
    /// A git repository: `url` is what `git clone` is given; `reference` a tag, branch or commit.
    Git { url: String, reference: Option<String>, subdir: Option<String> },
    /// A module registry address.
    Registry { host: String, namespace: String, name: String, provider: String, subdir: Option<String> },
    /// An archive over HTTP(S): `url` as written, with any `archive=` query argument.
    Archive { url: String, subdir: Option<String> },
}

impl ModuleSource {
    /// Whether a module block with this source may have a `version` argument: only registry
    /// modules have versions (Terraform's rule).
    pub fn check_version_allowed(&self, module: &str) -> Result<(), String> {
        match self {
            ModuleSource::Registry { .. } => Ok(()),
            _ => Err(format!(
                "module \"{module}\" has a version argument, but its source {self} does not come from a module registry: \
                 only registry modules have versions"
            )),
        }
    }

    /// The error for a module block `module` at `location` whose `version` (as written) this
    /// source cannot have, if it cannot.
    pub fn refuse_version(&self, module: &str, version: Option<&str>, location: &crate::diag::Location) -> Result<(), crate::diag::Diagnostics> {
        let (Some(text), Err(why)) = (version, self.check_version_allowed(module)) else { return Ok(()) };
        Err(crate::diag::Diagnostic::error(why)
            .at(Some(location))
            .detail(format!("version = \"{text}\""))
            .hint("remove the version argument, or pin a git source with ?ref=TAG")
            .into())
    }
}

impl fmt::Display for ModuleSource {
    /// The canonical spelling: `git::URL//SUBDIR?ref=REF`, `HOST/NS/NAME/PROVIDER//SUBDIR`,
    /// `URL//SUBDIR` (query kept on the URL, as go-getter writes them).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subdir = |subdir: &Option<String>| subdir.as_ref().map_or_else(String::new, |s| format!("//{s}"));
        match self {
            ModuleSource::Local(path) => write!(f, "{path}"),
            ModuleSource::Git { url, reference, subdir: sub } => {
                write!(f, "git::{url}{}", subdir(sub))?;
                if let Some(reference) = reference {
                    write!(f, "?ref={reference}")?;
                }
                Ok(())
            }
            ModuleSource::Registry { host, namespace, name, provider, subdir: sub } => write!(f, "{host}/{namespace}/{name}/{provider}{}", subdir(sub)),
            ModuleSource::Archive { url, subdir: sub } => {
                let (base, query) = split_query(url);
                write!(f, "{base}{}", subdir(sub))?;
                if let Some(query) = query {
                    write!(f, "?{query}")?;
                }
                Ok(())
            }
        }
    }
}

impl FromStr for ModuleSource {
    type Err = String;

    /// Parses a source address; the error says why this one is none of the accepted forms (see
    /// [`ACCEPTED_FORMS`] for the hint to show with it).
    fn from_str(raw: &str) -> Result<ModuleSource, String> {
        if raw.trim() != raw || raw.is_empty() {
            return Err(format!("module source \"{raw}\" is empty or has surrounding spaces"));
        }
        if raw.starts_with("./") || raw.starts_with("../") || raw == "." || raw == ".." {
            return local(raw);
        }
        if let Some(registry) = registry(raw)? {
            return Ok(registry);
        }
        remote(raw)
    }
}

fn local(raw: &str) -> Result<ModuleSource, String> {
    if raw.contains("//") || raw.contains('?') {
        return Err(format!("local module source \"{raw}\" cannot have a //subdir or a ?query: a local path names the module's directory itself"));
    }
    Ok(ModuleSource::Local(raw.to_owned()))
}

/// A registry address, when `raw` is one: `None` when it is not shaped like one (then it may be a
/// remote source), an error when it is shaped like one but a part is invalid.
fn registry(raw: &str) -> Result<Option<ModuleSource>, String> {
    if raw.contains("::") || raw.contains("://") || raw.contains('?') || raw.starts_with('/') || raw.contains('@') {
        return Ok(None);
    }
    let (package, subdir) = split_subdir(raw);
    let parts: Vec<&str> = package.split('/').collect();
    let (host, rest) = match parts.as_slice() {
        [namespace, name, provider] => (DEFAULT_REGISTRY.to_owned(), [*namespace, *name, *provider]),
        [host, namespace, name, provider] if looks_like_host(host) => {
            // Terraform reads these hosts' addresses as git shorthands, never as registries.
            if host.eq_ignore_ascii_case("github.com") || host.eq_ignore_ascii_case("bitbucket.org") {
                return Ok(None);
            }
            (host.to_ascii_lowercase(), [*namespace, *name, *provider])
        }
        _ => return Ok(None),
    };
    let [namespace, name, provider] = rest;
    if namespace.contains('.') {
        // `github.com/org/repo`, `example.com/x/y`: not a registry address.
        return Ok(None);
    }
    for (what, part) in [("namespace", namespace), ("name", name)] {
        if !valid_registry_name(part) {
            return Err(format!(
                "registry module source \"{raw}\": the {what} \"{part}\" must be 1 to 64 letters, digits, \"-\" and \"_\", starting and ending with a letter or digit"
            ));
        }
    }
    if provider.is_empty() || provider.len() > 64 || !provider.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return Err(format!("registry module source \"{raw}\": the provider \"{provider}\" must be 1 to 64 lowercase letters and digits, such as \"aws\""));
    }
    let subdir = subdir.map(|s| clean_subdir(raw, &s)).transpose()?.flatten();
    Ok(Some(ModuleSource::Registry { host, namespace: namespace.to_owned(), name: name.to_owned(), provider: provider.to_owned(), subdir }))
}

fn looks_like_host(part: &str) -> bool {
    let host = part.rsplit_once(':').filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty()).map_or(part, |(host, _)| host);
    !host.is_empty() && (host.contains('.') || host.eq_ignore_ascii_case("localhost")) && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

fn valid_registry_name(part: &str) -> bool {
    let bytes = part.as_bytes();
    let edge = |b: &u8| b.is_ascii_alphanumeric();
    !part.is_empty() && part.len() <= 64 && bytes.first().is_some_and(edge) && bytes.last().is_some_and(edge) && bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn remote(raw: &str) -> Result<ModuleSource, String> {
    if let Some((getter, rest)) = forced_getter(raw) {
        return match getter.to_ascii_lowercase().as_str() {
            "git" => git(raw, rest),
            "hg" | "s3" | "gcs" => Err(format!("module source \"{raw}\": {getter}:: sources are not supported; strata fetches git repositories, registry modules and http(s) archives")),
            "http" | "https" => archive(raw, rest),
            _ => Err(format!("module source \"{raw}\": unknown source type \"{getter}::\"")),
        };
    }
    if raw.starts_with("git@") {
        return git(raw, raw);
    }
    for host in ["github.com/", "bitbucket.org/"] {
        if raw.len() > host.len() && raw[..host.len()].eq_ignore_ascii_case(host) {
            return shorthand(raw);
        }
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return archive(raw, raw);
    }
    if lower.starts_with("file://") {
        return Err(format!("module source \"{raw}\": a file:// URL is not a module source; for a git repository on disk write \"git::{raw}\", for a directory a relative path starting with ./ or ../"));
    }
    if raw.starts_with('/') {
        return Err(format!("module source \"{raw}\" is an absolute path: write the path relative to the calling module, starting with ./ or ../"));
    }
    if raw.split('/').count() == 3 || raw.split('/').count() == 4 {
        return Err(format!("module source \"{raw}\" is not a valid registry address (HOST/NAMESPACE/NAME/PROVIDER), and is no other accepted form; a local path must start with ./ or ../"));
    }
    Err(format!("module source \"{raw}\" is not a local path, registry address, git repository or archive URL; a local path must start with ./ or ../"))
}

/// `X::rest`, go-getter's forced getter, when `X` is a word.
fn forced_getter(raw: &str) -> Option<(&str, &str)> {
    let (getter, rest) = raw.split_once("::")?;
    (!getter.is_empty() && getter.chars().all(|c| c.is_ascii_alphanumeric()) && !rest.is_empty()).then_some((getter, rest))
}

/// `github.com/ORG/REPO[/SUBDIR...]` -> `git::https://github.com/ORG/REPO.git[//SUBDIR]`, as
/// go-getter's GitHub detector does (and alike for Bitbucket, which serves git only).
fn shorthand(raw: &str) -> Result<ModuleSource, String> {
    let (address, query) = split_query(raw);
    let (address, explicit_subdir) = split_subdir(address);
    let parts: Vec<&str> = address.split('/').collect();
    if parts.len() < 3 || parts[1].is_empty() || parts[2].is_empty() {
        return Err(format!("module source \"{raw}\": a {} shorthand names a repository as {}/ORG/REPO", parts[0], parts[0]));
    }
    let mut url = format!("https://{}/{}/{}", parts[0].to_ascii_lowercase(), parts[1], parts[2]);
    if !url.ends_with(".git") {
        url.push_str(".git");
    }
    let mut subdir: Vec<&str> = parts[3..].to_vec();
    if let Some(explicit) = explicit_subdir.as_deref() {
        subdir.push(explicit);
    }
    let mut rebuilt = url;
    if !subdir.is_empty() {
        rebuilt = format!("{rebuilt}//{}", subdir.join("/"));
    }
    if let Some(query) = query {
        rebuilt = format!("{rebuilt}?{query}");
    }
    git(raw, &rebuilt)
}

/// `rest` is what follows `git::` (or the whole of an scp-like `git@host:path`).
fn git(raw: &str, rest: &str) -> Result<ModuleSource, String> {
    let (address, subdir) = split_subdir(rest);
    let (address, query) = split_query(&address);
    let mut reference = None;
    for (key, value) in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))) {
        match key {
            "ref" if value.is_empty() => return Err(format!("module source \"{raw}\": ?ref= needs a tag, branch or commit")),
            "ref" => reference = Some(percent_decode(value)),
            // A shallow clone is an optimisation: strata always clones whole, which any ref can use.
            "depth" => {}
            _ => return Err(format!("module source \"{raw}\": unknown git argument \"{key}\" (strata understands ?ref=)")),
        }
    }
    let url = if let Some(scp) = address.strip_prefix("git@") {
        // scp-like `git@HOST:PATH` is `ssh://git@HOST/PATH`, as go-getter rewrites it.
        let Some((host, path)) = scp.split_once(':').filter(|(host, path)| !host.is_empty() && !path.is_empty() && !path.starts_with("//")) else {
            return Err(format!("module source \"{raw}\": an scp-like git address is git@HOST:PATH"));
        };
        format!("ssh://git@{host}/{}", path.trim_start_matches('/'))
    } else {
        let lower = address.to_ascii_lowercase();
        let scheme_ok = ["https://", "http://", "ssh://", "file://", "git://"].iter().any(|s| lower.starts_with(s));
        if !scheme_ok {
            if lower.starts_with("github.com/") || lower.starts_with("bitbucket.org/") {
                return shorthand(rest).map_err(|_| format!("module source \"{raw}\" is not a git URL"));
            }
            return Err(format!("module source \"{raw}\": after git:: comes a URL with https://, http://, ssh://, git:// or file://, or git@HOST:PATH"));
        }
        let after_scheme = &address[address.find("://").map_or(0, |i| i + 3)..];
        if after_scheme.is_empty() || (lower.starts_with("file://") && !after_scheme.starts_with('/')) {
            return Err(format!("module source \"{raw}\": the git URL names no repository (a file URL is file:///ABSOLUTE/PATH)"));
        }
        address.to_owned()
    };
    let subdir = subdir.map(|s| clean_subdir(raw, &s)).transpose()?.flatten();
    Ok(ModuleSource::Git { url, reference, subdir })
}

fn archive(raw: &str, rest: &str) -> Result<ModuleSource, String> {
    let (url, subdir) = split_subdir(rest);
    if archive_kind(&url).is_none() {
        return Err(format!(
            "module source \"{raw}\": an http(s) source must be an archive (a path ending in .tar.gz, .tgz, .tar or .zip, or ?archive=tar.gz); \
             for a git repository over https write \"git::{url}\""
        ));
    }
    let subdir = subdir.map(|s| clean_subdir(raw, &s)).transpose()?.flatten();
    Ok(ModuleSource::Archive { url, subdir })
}

/// The kind of archive an archive URL names: its `archive=` query argument, else its path's
/// extension.
pub fn archive_kind(url: &str) -> Option<String> {
    let (base, query) = split_query(url);
    if let Some(kind) = query.into_iter().flat_map(|q| q.split('&')).find_map(|p| p.strip_prefix("archive=")) {
        return Some(kind.to_ascii_lowercase());
    }
    let path = base.to_ascii_lowercase();
    ["tar.gz", "tgz", "tar.bz2", "tbz2", "tar.xz", "txz", "tar", "zip"].iter().find(|ext| path.ends_with(&format!(".{ext}"))).map(|ext| ext.to_string())
}

/// go-getter's `SourceDirSubdir`: `X//SUBDIR?Q` is `X?Q` and `SUBDIR`; the `//` of a scheme does
/// not count.
fn split_subdir(raw: &str) -> (String, Option<String>) {
    let offset = raw.find("://").map_or(0, |i| i + 3);
    let Some(at) = raw[offset..].find("//").map(|i| i + offset) else {
        return (raw.to_owned(), None);
    };
    let (mut address, mut subdir) = (raw[..at].to_owned(), raw[at + 2..].to_owned());
    if let Some(q) = subdir.find('?') {
        address.push_str(&subdir[q..]);
        subdir.truncate(q);
    }
    (address, Some(subdir))
}

fn split_query(raw: &str) -> (&str, Option<&str>) {
    match raw.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (raw, None),
    }
}

/// A subdirectory in a package: relative, no `..` out of it; empty means the package's root.
fn clean_subdir(raw: &str, subdir: &str) -> Result<Option<String>, String> {
    let parts: Vec<&str> = subdir.split('/').filter(|p| !p.is_empty() && *p != ".").collect();
    if parts.contains(&"..") {
        return Err(format!("module source \"{raw}\": the subdirectory \"{subdir}\" must stay inside the package (no \"..\")"));
    }
    Ok((!parts.is_empty()).then(|| parts.join("/")))
}

fn percent_decode(value: &str) -> String {
    percent_encoding::percent_decode_str(value).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(url: &str, reference: Option<&str>, subdir: Option<&str>) -> ModuleSource {
        ModuleSource::Git { url: url.to_owned(), reference: reference.map(str::to_owned), subdir: subdir.map(str::to_owned) }
    }

    fn registry(host: &str, namespace: &str, name: &str, provider: &str, subdir: Option<&str>) -> ModuleSource {
        ModuleSource::Registry {
            host: host.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            provider: provider.to_owned(),
            subdir: subdir.map(str::to_owned),
        }
    }

    fn archive(url: &str, subdir: Option<&str>) -> ModuleSource {
        ModuleSource::Archive { url: url.to_owned(), subdir: subdir.map(str::to_owned) }
    }

    /// Source strings as they appear in public configurations and Terraform's documentation.
    #[test]
    fn accepted_sources() {
        let table: Vec<(&str, ModuleSource)> = vec![
            ("./consul", ModuleSource::Local("./consul".into())),
            ("../modules/db_subnet_group", ModuleSource::Local("../modules/db_subnet_group".into())),
            ("./modules/db_option_group", ModuleSource::Local("./modules/db_option_group".into())),
            ("terraform-aws-modules/rds/aws", registry(DEFAULT_REGISTRY, "terraform-aws-modules", "rds", "aws", None)),
            ("hashicorp/consul/aws", registry(DEFAULT_REGISTRY, "hashicorp", "consul", "aws", None)),
            ("terraform-aws-modules/rds/aws//modules/db_subnet_group", registry(DEFAULT_REGISTRY, "terraform-aws-modules", "rds", "aws", Some("modules/db_subnet_group"))),
            ("app.terraform.io/example-corp/k8s-cluster/azurerm", registry("app.terraform.io", "example-corp", "k8s-cluster", "azurerm", None)),
            ("registry.terraform.io/terraform-aws-modules/vpc/aws", registry(DEFAULT_REGISTRY, "terraform-aws-modules", "vpc", "aws", None)),
            ("localhost:8080/team/db/aws", registry("localhost:8080", "team", "db", "aws", None)),
            ("127.0.0.1:5000/team/db/aws", registry("127.0.0.1:5000", "team", "db", "aws", None)),
            ("github.com/hashicorp/example", git("https://github.com/hashicorp/example.git", None, None)),
            ("github.com/hashicorp/example?ref=v1.2.0", git("https://github.com/hashicorp/example.git", Some("v1.2.0"), None)),
            ("github.com/terraform-aws-modules/terraform-aws-rds//modules/db_instance", git("https://github.com/terraform-aws-modules/terraform-aws-rds.git", None, Some("modules/db_instance"))),
            ("github.com/org/repo/modules/x", git("https://github.com/org/repo.git", None, Some("modules/x"))),
            ("bitbucket.org/hashicorp/terraform-consul-aws", git("https://bitbucket.org/hashicorp/terraform-consul-aws.git", None, None)),
            ("git@github.com:hashicorp/example.git", git("ssh://git@github.com/hashicorp/example.git", None, None)),
            ("git::git@github.com:terraform-aws-modules/terraform-aws-rds.git?ref=v6.1.0", git("ssh://git@github.com/terraform-aws-modules/terraform-aws-rds.git", Some("v6.1.0"), None)),
            ("git::https://example.com/vpc.git", git("https://example.com/vpc.git", None, None)),
            ("git::ssh://username@example.com/storage.git", git("ssh://username@example.com/storage.git", None, None)),
            ("git::https://example.com/vpc.git?ref=v1.2.0", git("https://example.com/vpc.git", Some("v1.2.0"), None)),
            ("git::https://example.com/storage.git?ref=51d462976d84fdea54b47d80dcabbf680badcdb8", git("https://example.com/storage.git", Some("51d462976d84fdea54b47d80dcabbf680badcdb8"), None)),
            ("git::https://example.com/network.git//modules/vpc?ref=v1.2.0", git("https://example.com/network.git", Some("v1.2.0"), Some("modules/vpc"))),
            ("git::https://github.com/terraform-aws-modules/terraform-aws-rds.git?ref=v6.1.0", git("https://github.com/terraform-aws-modules/terraform-aws-rds.git", Some("v6.1.0"), None)),
            ("git::file:///tmp/modules/rds?ref=v1.0.0", git("file:///tmp/modules/rds", Some("v1.0.0"), None)),
            ("git::file:///tmp/modules/rds//modules/db_subnet_group?ref=main", git("file:///tmp/modules/rds", Some("main"), Some("modules/db_subnet_group"))),
            ("git::https://example.com/vpc.git?depth=1&ref=v1.2.0", git("https://example.com/vpc.git", Some("v1.2.0"), None)),
            ("git::https://example.com/vpc.git?ref=feature%2Fx", git("https://example.com/vpc.git", Some("feature/x"), None)),
            ("https://example.com/vpc-module.zip", archive("https://example.com/vpc-module.zip", None)),
            ("https://example.com/vpc-module?archive=zip", archive("https://example.com/vpc-module?archive=zip", None)),
            ("https://example.com/modules/rds-1.0.0.tar.gz", archive("https://example.com/modules/rds-1.0.0.tar.gz", None)),
            ("https://example.com/modules/rds.tgz//modules/db", archive("https://example.com/modules/rds.tgz", Some("modules/db"))),
            ("http://127.0.0.1:8000/pkg?archive=tar.gz", archive("http://127.0.0.1:8000/pkg?archive=tar.gz", None)),
        ];
        for (raw, expected) in table {
            assert_eq!(raw.parse::<ModuleSource>().as_ref(), Ok(&expected), "{raw}");
            // The canonical form reads back as the same source.
            assert_eq!(expected.to_string().parse::<ModuleSource>().as_ref(), Ok(&expected), "{raw} -> {expected}");
        }
    }

    #[test]
    fn rejected_sources() {
        let table = [
            ("", "empty"),
            ("modules/rds", "must start with ./ or ../"),
            ("/opt/modules/rds", "absolute path"),
            ("hashicorp/consul/AWS", "lowercase letters and digits"),
            ("hashicorp/-consul/aws", "the name \"-consul\""),
            ("hg::http://example.com/vpc.hg", "not supported"),
            ("s3::https://s3-eu-west-1.amazonaws.com/examplecorp-terraform-modules/vpc.zip", "not supported"),
            ("https://example.com/vpc.git", "write \"git::https://example.com/vpc.git\""),
            ("file:///tmp/repo", "git::file:///tmp/repo"),
            ("git::example.com/vpc.git", "after git:: comes a URL"),
            ("git::https://example.com/vpc.git?ref=", "needs a tag"),
            ("git::https://example.com/vpc.git?sshkey=abc", "unknown git argument \"sshkey\""),
            ("git::https://example.com/vpc.git//../x", "must stay inside the package"),
            ("./modules/x//y", "cannot have a //subdir"),
            ("git@github.com", "git@HOST:PATH"),
            ("github.com/hashicorp", "github.com/ORG/REPO"),
            ("foo::bar", "unknown source type"),
            (" ./x", "surrounding spaces"),
        ];
        for (raw, needle) in table {
            let err = raw.parse::<ModuleSource>().expect_err(raw);
            assert!(err.contains(needle), "{raw}: {err}");
        }
    }

    #[test]
    fn versions_only_with_registry_sources() {
        assert!("hashicorp/consul/aws".parse::<ModuleSource>().unwrap().check_version_allowed("consul").is_ok());
        for raw in ["./consul", "git::https://example.com/vpc.git?ref=v1.2.0", "https://example.com/vpc.tar.gz"] {
            let err = raw.parse::<ModuleSource>().unwrap().check_version_allowed("consul").unwrap_err();
            assert!(err.contains("only registry modules have versions"), "{err}");
        }
    }

    #[test]
    fn archive_kinds() {
        assert_eq!(archive_kind("https://x/y.tar.gz").as_deref(), Some("tar.gz"));
        assert_eq!(archive_kind("https://x/y?archive=TGZ").as_deref(), Some("tgz"));
        assert_eq!(archive_kind("https://x/y.ZIP?token=1").as_deref(), Some("zip"));
        assert_eq!(archive_kind("https://x/y"), None);
    }
}
