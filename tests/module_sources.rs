//! `strata init` installing modules: real git repositories in temp dirs, a module registry served
//! on loopback by the test, and the files init writes (`.strata/modules/modules.json`, the lock).
//! Plans are not exercised here: module blocks load in the configuration loader's own work.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::common;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = common::command("git")
        .args(["-c", "user.name=Strata Tests", "-c", "user.email=tests@example.com", "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// A module repository in the style of terraform-aws-modules/terraform-aws-rds: a root module with
/// variables and outputs calling a local `modules/db_subnet_group`; tagged v1.0.0, then v1.1.0
/// (which adds `versions.tf`), on branch main.
struct ModuleRepo {
    dir: tempfile::TempDir,
    v1_0: String,
    v1_1: String,
}

impl ModuleRepo {
    fn new() -> ModuleRepo {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path();
        git(path, &["init", "--quiet", "-b", "main"]);
        write(path, "main.tf", "module \"db_subnet_group\" {\n  source = \"./modules/db_subnet_group\"\n\n  name       = var.identifier\n  subnet_ids = var.subnet_ids\n}\n\nresource \"aws_db_instance\" \"this\" {\n  identifier           = var.identifier\n  engine               = \"postgres\"\n  instance_class       = var.instance_class\n  allocated_storage    = 20\n  username             = \"app\"\n  password             = \"fixture-password-123\"\n  db_subnet_group_name = module.db_subnet_group.name\n}\n");
        write(path, "variables.tf", "variable \"identifier\" {\n  type = string\n}\n\nvariable \"instance_class\" {\n  type    = string\n  default = \"db.t3.micro\"\n}\n\nvariable \"subnet_ids\" {\n  type    = list(string)\n  default = []\n}\n");
        write(path, "outputs.tf", "output \"db_instance_address\" {\n  value = aws_db_instance.this.address\n}\n");
        write(path, "modules/db_subnet_group/main.tf", "variable \"name\" {\n  type = string\n}\n\nvariable \"subnet_ids\" {\n  type = list(string)\n}\n\nresource \"aws_db_subnet_group\" \"this\" {\n  name       = var.name\n  subnet_ids = var.subnet_ids\n}\n\noutput \"name\" {\n  value = aws_db_subnet_group.this.name\n}\n");
        git(path, &["add", "."]);
        git(path, &["commit", "--quiet", "-m", "v1.0.0"]);
        git(path, &["tag", "v1.0.0"]);
        let v1_0 = git(path, &["rev-parse", "HEAD"]);
        write(path, "versions.tf", "terraform {\n  required_version = \">= 1.3\"\n}\n");
        git(path, &["add", "."]);
        git(path, &["commit", "--quiet", "-m", "v1.1.0"]);
        git(path, &["tag", "v1.1.0"]);
        let v1_1 = git(path, &["rev-parse", "HEAD"]);
        ModuleRepo { dir, v1_0, v1_1 }
    }

    fn url(&self) -> String {
        format!("file://{}", self.dir.path().display())
    }

    /// A new commit on main (not tagged); answers its id.
    fn commit_on_main(&self, file: &str) -> String {
        write(self.dir.path(), file, "# added on main\n");
        git(self.dir.path(), &["add", "."]);
        git(self.dir.path(), &["commit", "--quiet", "-m", file]);
        git(self.dir.path(), &["rev-parse", "HEAD"])
    }
}

fn init(work: &common::Workdir, args: &[&str]) -> common::Run {
    let mut all = vec!["init"];
    all.extend_from_slice(args);
    work.strata(&all)
}

fn init_ok(work: &common::Workdir, args: &[&str]) -> String {
    let run = init(work, args);
    assert_eq!(run.code, 0, "strata init {args:?}: {run:?}");
    run.stdout
}

fn json(path: PathBuf) -> serde_json::Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn manifest(work: &common::Workdir) -> serde_json::Value {
    json(work.path().join(".strata/modules/modules.json"))
}

fn lock(work: &common::Workdir) -> serde_json::Value {
    json(work.path().join(".strata.modules.lock.json"))
}

/// The manifest's record of `key`.
fn record(work: &common::Workdir, key: &str) -> serde_json::Value {
    let manifest = manifest(work);
    manifest["Modules"].as_array().unwrap().iter().find(|m| m["Key"] == key).cloned().unwrap_or_else(|| panic!("{key} in {manifest:#}"))
}

fn files_written(work: &common::Workdir) -> (Option<String>, Option<String>) {
    let read = |p: &str| std::fs::read_to_string(work.path().join(p)).ok();
    (read(".strata/modules/modules.json"), read(".strata.modules.lock.json"))
}

#[test]
fn git_modules_install_record_and_lock() {
    let repo = ModuleRepo::new();
    let work = common::Workdir::offline();
    let rds = format!("git::{}?ref=v1.0.0", repo.url());
    let subnets = format!("git::{}//modules/db_subnet_group?ref=v1.0.0", repo.url());
    let config = |rds: &str, subnets: Option<&str>| {
        let mut text = format!("module \"rds\" {{\n  source     = \"{rds}\"\n  identifier = \"orders\"\n}}\n");
        if let Some(subnets) = subnets {
            text.push_str(&format!("\nmodule \"subnets\" {{\n  source     = \"{subnets}\"\n  name       = \"orders\"\n  subnet_ids = []\n}}\n"));
        }
        text
    };
    work.write("main.tf", &config(&rds, Some(&subnets)));

    let out = init_ok(&work, &[]);
    assert!(out.contains(&format!("Downloading {rds} for rds...")), "{out}");
    assert!(out.contains("- rds in .strata/modules/rds\n"), "{out}");
    assert!(out.contains("- rds.db_subnet_group in .strata/modules/rds/modules/db_subnet_group\n"), "{out}");
    assert!(out.contains("- subnets in .strata/modules/subnets/modules/db_subnet_group\n"), "{out}");
    assert!(work.path().join(".strata/modules/rds/main.tf").is_file());
    assert!(!work.path().join(".strata/modules/rds/versions.tf").exists(), "v1.0.0 has no versions.tf");
    assert!(!work.path().join(".strata/modules/rds/.git").exists(), "the clone's .git is not kept");
    assert!(work.path().join(".strata/modules/subnets/modules/db_subnet_group/main.tf").is_file());

    let root = record(&work, "");
    assert_eq!((root["Source"].as_str(), root["Dir"].as_str()), (Some(""), Some(".")));
    let installed = record(&work, "rds");
    assert_eq!(installed["Source"], rds.as_str());
    assert_eq!(installed["Dir"], ".strata/modules/rds");
    assert_eq!(installed["Commit"], repo.v1_0.as_str());
    let nested = record(&work, "rds.db_subnet_group");
    assert_eq!(nested["Source"], "./modules/db_subnet_group");
    assert_eq!(nested["Dir"], ".strata/modules/rds/modules/db_subnet_group");
    assert_eq!(record(&work, "subnets")["Dir"], ".strata/modules/subnets/modules/db_subnet_group");
    let locked = lock(&work);
    assert_eq!(locked["format"], 1);
    assert_eq!(locked["modules"]["rds"]["source"], rds.as_str());
    assert_eq!(locked["modules"]["rds"]["commit"], repo.v1_0.as_str());
    assert!(locked["modules"].get("rds.db_subnet_group").is_none(), "local modules are not locked: {locked:#}");

    // A second init changes nothing and fetches nothing.
    let before = files_written(&work);
    let again = init_ok(&work, &[]);
    assert!(!again.contains("Downloading"), "{again}");
    assert!(again.contains("- rds in .strata/modules/rds\n"), "{again}");
    assert_eq!(files_written(&work), before);

    // A bad ref fails and leaves what was installed as it was.
    work.write("main.tf", &config(&format!("git::{}?ref=v9.9.9", repo.url()), Some(&subnets)));
    let failed = init(&work, &[]);
    assert_ne!(failed.code, 0, "{failed:?}");
    assert!(failed.stderr.contains("git ref \"v9.9.9\" not found"), "{failed:?}");
    assert_eq!(files_written(&work), before);
    assert!(work.path().join(".strata/modules/rds/main.tf").is_file());

    // A changed ref fetches that module again, and only it.
    let rds_next = format!("git::{}?ref=v1.1.0", repo.url());
    work.write("main.tf", &config(&rds_next, Some(&subnets)));
    let out = init_ok(&work, &[]);
    assert!(out.contains(&format!("Downloading {rds_next} for rds...")), "{out}");
    assert!(!out.contains("for subnets..."), "{out}");
    assert!(work.path().join(".strata/modules/rds/versions.tf").is_file(), "v1.1.0 has versions.tf");
    assert_eq!(record(&work, "rds")["Commit"], repo.v1_1.as_str());
    assert_eq!(lock(&work)["modules"]["rds"]["commit"], repo.v1_1.as_str());

    // A module no longer called is removed, from the disk, the manifest and the lock.
    work.write("main.tf", &config(&rds_next, None));
    init_ok(&work, &[]);
    assert!(!work.path().join(".strata/modules/subnets").exists());
    assert!(manifest(&work)["Modules"].as_array().unwrap().iter().all(|m| m["Key"] != "subnets"));
    assert!(lock(&work)["modules"].get("subnets").is_none());
}

#[test]
fn the_lock_pins_a_branch_until_upgrade() {
    let repo = ModuleRepo::new();
    let work = common::Workdir::offline();
    work.write("main.tf", &format!("module \"rds\" {{\n  source     = \"git::{}?ref=main\"\n  identifier = \"orders\"\n}}\n", repo.url()));
    init_ok(&work, &[]);
    assert_eq!(record(&work, "rds")["Commit"], repo.v1_1.as_str());

    let newer = repo.commit_on_main("CHANGELOG.md");
    init_ok(&work, &[]);
    assert_eq!(record(&work, "rds")["Commit"], repo.v1_1.as_str(), "installed and locked: kept");

    // A fresh checkout of the configuration (the lock committed, nothing installed) gets the
    // locked commit, not the branch's newest.
    std::fs::remove_dir_all(work.path().join(".strata")).unwrap();
    let out = init_ok(&work, &[]);
    assert!(out.contains("Downloading"), "{out}");
    assert_eq!(record(&work, "rds")["Commit"], repo.v1_1.as_str());
    assert!(!work.path().join(".strata/modules/rds/CHANGELOG.md").exists());

    let out = init_ok(&work, &["-upgrade"]);
    assert!(out.contains("Downloading"), "{out}");
    assert_eq!(record(&work, "rds")["Commit"], newer.as_str());
    assert_eq!(lock(&work)["modules"]["rds"]["commit"], newer.as_str());
    assert!(work.path().join(".strata/modules/rds/CHANGELOG.md").is_file());
}

/// A module registry on loopback: service discovery, versions and downloads of `acme/rds/aws`
/// (from the git repository, at the tag of each version) and `acme/subnets/aws` (a tar.gz it
/// serves itself). Counts the requests it answers.
struct TestRegistry {
    host: String,
    rds_versions: Arc<Mutex<Vec<String>>>,
    requests: Arc<AtomicUsize>,
    /// Paths of the requests that carried `Authorization: Bearer s3cret`.
    authorized: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl TestRegistry {
    fn start(repo: &ModuleRepo, archive: Vec<u8>) -> TestRegistry {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let rds_versions = Arc::new(Mutex::new(vec!["1.0.0".to_owned()]));
        let (requests, stop) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicBool::new(false)));
        let authorized = Arc::new(Mutex::new(Vec::new()));
        let (versions, count, stopping, repo_url, seen) = (Arc::clone(&rds_versions), Arc::clone(&requests), Arc::clone(&stop), repo.url(), Arc::clone(&authorized));
        let thread = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            while !stopping.load(Ordering::SeqCst) && started.elapsed() < Duration::from_secs(300) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        count.fetch_add(1, Ordering::SeqCst);
                        answer(stream, &versions, &repo_url, &archive, &seen);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        TestRegistry { host, rds_versions, requests, authorized, stop, thread: Some(thread) }
    }

    fn publish(&self, version: &str) {
        self.rds_versions.lock().unwrap().push(version.to_owned());
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn answer(stream: TcpStream, versions: &Mutex<Vec<String>>, repo_url: &str, archive: &[u8], authorized: &Mutex<Vec<String>>) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_or(true, |n| n == 0) || line.trim().is_empty() {
            break;
        }
        if line.trim().eq_ignore_ascii_case("authorization: bearer s3cret") {
            authorized.lock().unwrap().push(path.clone());
        }
    }
    let listed = versions.lock().unwrap().clone();
    let json = |body: String| (200, vec![("Content-Type".to_owned(), "application/json".to_owned())], body.into_bytes());
    let (status, headers, body): (u16, Vec<(String, String)>, Vec<u8>) = match path.as_str() {
        "/.well-known/terraform.json" => json(r#"{"modules.v1":"/v1/modules/"}"#.to_owned()),
        "/v1/modules/acme/rds/aws/versions" => {
            let list: Vec<String> = listed.iter().chain(std::iter::once(&"2.0.0-beta.1".to_owned())).map(|v| format!("{{\"version\":\"{v}\"}}")).collect();
            json(format!("{{\"modules\":[{{\"versions\":[{}]}}]}}", list.join(",")))
        }
        "/v1/modules/acme/subnets/aws/versions" => json(r#"{"modules":[{"versions":[{"version":"0.1.0"}]}]}"#.to_owned()),
        "/v1/modules/acme/subnets/aws/0.1.0/download" => (204, vec![("X-Terraform-Get".to_owned(), "/archives/subnets-0.1.0.tar.gz".to_owned())], Vec::new()),
        "/archives/subnets-0.1.0.tar.gz" => (200, vec![("Content-Type".to_owned(), "application/gzip".to_owned())], archive.to_vec()),
        other => match other.strip_prefix("/v1/modules/acme/rds/aws/").and_then(|rest| rest.strip_suffix("/download")) {
            Some(version) if listed.iter().any(|v| v == version) => (204, vec![("X-Terraform-Get".to_owned(), format!("git::{repo_url}?ref=v{version}"))], Vec::new()),
            _ => (404, Vec::new(), b"not found".to_vec()),
        },
    };
    let mut stream = stream;
    let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n", body.len());
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(&body));
}

/// `modules/db_subnet_group` of the repository as a .tar.gz, made with the tar command.
fn subnet_archive(repo: &ModuleRepo) -> Vec<u8> {
    let out = tempfile::tempdir().unwrap();
    let file = out.path().join("subnets.tar.gz");
    let status = common::command("tar")
        .args(["-czf", file.to_str().unwrap(), "-C", repo.dir.path().join("modules/db_subnet_group").to_str().unwrap(), "."])
        .status()
        .expect("run tar");
    assert!(status.success());
    std::fs::read(file).unwrap()
}

#[test]
fn registry_modules_from_git_and_archives() {
    let repo = ModuleRepo::new();
    let registry = TestRegistry::start(&repo, subnet_archive(&repo));
    let work = common::Workdir::offline();
    let host = registry.host.clone();
    work.write(
        "main.tf",
        &format!(
            "module \"rds\" {{\n  source     = \"{host}/acme/rds/aws\"\n  version    = \"~> 1.0\"\n  identifier = \"orders\"\n}}\n\n\
             module \"subnets\" {{\n  source     = \"{host}/acme/subnets/aws\"\n  version    = \"0.1.0\"\n  name       = \"orders\"\n  subnet_ids = []\n}}\n"
        ),
    );

    // With a token (Terraform's TF_TOKEN_<host>), sent to the registry's own URLs only.
    let token_variable = format!("TF_TOKEN_{}", host.replace(['.', ':'], "_"));
    let run = work.strata_env(&["init"], &[(&token_variable, "s3cret")]);
    assert_eq!(run.code, 0, "{run:?}");
    let out = run.stdout;
    let authorized = registry.authorized.lock().unwrap().clone();
    assert!(authorized.contains(&"/v1/modules/acme/rds/aws/versions".to_owned()), "{authorized:?}");
    assert!(authorized.iter().all(|path| !path.starts_with("/archives/")), "the token went to a download: {authorized:?}");
    assert!(out.contains(&format!("Downloading {host}/acme/rds/aws 1.0.0 for rds...")), "{out}");
    assert!(out.contains("- rds.db_subnet_group in .strata/modules/rds/modules/db_subnet_group\n"), "{out}");
    assert!(work.path().join(".strata/modules/subnets/main.tf").is_file(), "the archive is unpacked");
    let rds = record(&work, "rds");
    assert_eq!((rds["Version"].as_str(), rds["Commit"].as_str()), (Some("1.0.0"), Some(repo.v1_0.as_str())));
    assert_eq!(record(&work, "subnets")["Version"], "0.1.0");
    let locked = lock(&work);
    assert_eq!(locked["modules"]["rds"]["version"], "1.0.0");
    assert_eq!(locked["modules"]["rds"]["constraint"], "~> 1.0");
    assert_eq!(locked["modules"]["rds"]["package"], format!("git::{}?ref=v1.0.0", repo.url()).as_str());
    assert_eq!(locked["modules"]["subnets"]["package"], format!("http://{host}/archives/subnets-0.1.0.tar.gz").as_str());
    assert_eq!(locked["modules"]["subnets"]["sha256"].as_str().map(str::len), Some(64));

    // Newer versions are published: init keeps what is installed and asks the registry nothing.
    registry.publish("1.1.0");
    registry.publish("2.0.0");
    let before = (registry.requests(), files_written(&work));
    let again = init_ok(&work, &[]);
    assert!(!again.contains("Downloading"), "{again}");
    assert_eq!((registry.requests(), files_written(&work)), before);

    // -upgrade moves to the newest version "~> 1.0" allows (not 2.0.0, not the prerelease).
    let out = init_ok(&work, &["-upgrade"]);
    assert!(out.contains(&format!("Downloading {host}/acme/rds/aws 1.1.0 for rds...")), "{out}");
    assert_eq!(record(&work, "rds")["Version"], "1.1.0");
    assert_eq!(record(&work, "rds")["Commit"], repo.v1_1.as_str());
    assert_eq!(lock(&work)["modules"]["rds"]["version"], "1.1.0");
    assert!(work.path().join(".strata/modules/rds/versions.tf").is_file());

    // A changed constraint the installed version no longer meets resolves again, without -upgrade.
    let text = std::fs::read_to_string(work.path().join("main.tf")).unwrap().replace("\"~> 1.0\"", "\"1.0.0\"");
    work.write("main.tf", &text);
    let out = init_ok(&work, &[]);
    assert!(out.contains(&format!("Downloading {host}/acme/rds/aws 1.0.0 for rds...")), "{out}");
    assert!(!out.contains("for subnets..."), "{out}");
    assert_eq!(lock(&work)["modules"]["rds"]["version"], "1.0.0");
    assert_eq!(lock(&work)["modules"]["rds"]["constraint"], "1.0.0");
}

#[test]
fn an_archive_source_is_unpacked_and_its_checksum_locked() {
    let repo = ModuleRepo::new();
    let registry = TestRegistry::start(&repo, subnet_archive(&repo));
    let work = common::Workdir::offline();
    let source = format!("http://{}/archives/subnets-0.1.0.tar.gz", registry.host);
    work.write("main.tf", &format!("module \"subnets\" {{\n  source = \"{source}\"\n}}\n"));
    let out = init_ok(&work, &[]);
    assert!(out.contains(&format!("Downloading {source} for subnets...")), "{out}");
    assert!(work.path().join(".strata/modules/subnets/main.tf").is_file());
    assert_eq!(lock(&work)["modules"]["subnets"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(record(&work, "subnets")["Dir"], ".strata/modules/subnets");
}

#[test]
fn no_matching_version_lists_the_available_ones_and_writes_nothing() {
    let repo = ModuleRepo::new();
    let registry = TestRegistry::start(&repo, Vec::new());
    registry.publish("1.1.0");
    let work = common::Workdir::offline();
    work.write("main.tf", &format!("module \"rds\" {{\n  source  = \"{}/acme/rds/aws\"\n  version = \">= 3.0\"\n}}\n", registry.host));
    let run = init(&work, &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("no version of") && run.stderr.contains("matches \">= 3.0\""), "{run:?}");
    assert!(run.stderr.contains("1.0.0, 1.1.0"), "{run:?}");
    assert!(run.stderr.contains("main.tf:1:1"), "{run:?}");
    assert_nothing_written(&work);
}

#[test]
fn an_unknown_git_ref_names_the_refs_there_are_and_writes_nothing() {
    let repo = ModuleRepo::new();
    let work = common::Workdir::offline();
    work.write("main.tf", &format!("module \"rds\" {{\n  source = \"git::{}?ref=v9.9.9\"\n}}\n", repo.url()));
    let run = init(&work, &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("git ref \"v9.9.9\" not found"), "{run:?}");
    assert!(run.stderr.contains("tags: v1.0.0, v1.1.0; branches: main\n"), "{run:?}");
    assert_nothing_written(&work);
}

#[test]
fn an_unreachable_registry_says_so_and_writes_nothing() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let work = common::Workdir::offline();
    work.write("main.tf", &format!("module \"rds\" {{\n  source  = \"127.0.0.1:{port}/acme/rds/aws\"\n  version = \"~> 1.0\"\n}}\n"));
    let run = init(&work, &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("cannot reach 127.0.0.1 for the registry's service discovery"), "{run:?}");
    assert!(run.stderr.contains(&format!("http://127.0.0.1:{port}/.well-known/terraform.json")), "{run:?}");
    assert_nothing_written(&work);
}

#[test]
fn a_version_on_a_git_source_is_refused() {
    let work = common::Workdir::offline();
    work.write("main.tf", "module \"rds\" {\n  source  = \"git::https://example.com/rds.git?ref=v1.0.0\"\n  version = \"1.0.0\"\n}\n");
    let run = init(&work, &[]);
    assert_ne!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("only registry modules have versions") && run.stderr.contains("main.tf:1:1"), "{run:?}");
    assert_nothing_written(&work);
}

fn assert_nothing_written(work: &common::Workdir) {
    assert!(!work.path().join(".strata").exists(), "init wrote .strata");
    assert!(!work.path().join(".strata.modules.lock.json").exists(), "init wrote the lock");
}

#[test]
fn a_configuration_without_modules_gets_no_module_files() {
    let work = common::Workdir::offline();
    work.write("main.tf", "variable \"name\" {\n  type = string\n}\n");
    init_ok(&work, &[]);
    assert!(!work.path().join(".strata/modules").exists());
    assert!(!work.path().join(".strata.modules.lock.json").exists());
}

#[test]
fn local_modules_are_recorded_without_fetching() {
    let work = common::Workdir::offline();
    work.write("main.tf", "module \"db\" {\n  source = \"./modules/db\"\n}\n");
    write(work.path(), "modules/db/main.tf", "module \"subnets\" {\n  source = \"../subnets\"\n}\n");
    write(work.path(), "modules/subnets/main.tf", "variable \"ids\" {\n  type    = list(string)\n  default = []\n}\n");
    let out = init_ok(&work, &[]);
    assert!(out.contains("- db in modules/db\n") && out.contains("- db.subnets in modules/subnets\n"), "{out}");
    assert_eq!(record(&work, "db.subnets")["Dir"], "modules/subnets");
    assert!(!work.path().join(".strata.modules.lock.json").exists(), "local modules lock nothing");
}

#[test]
fn an_installed_git_module_is_planned_from_where_init_put_it_and_never_fetched_by_a_plan() {
    let repo = ModuleRepo::new();
    let work = common::Workdir::offline();
    work.write(
        "main.tf",
        &format!("module \"rds\" {{\n  source     = \"git::{}?ref=v1.0.0\"\n  identifier = \"orders\"\n  subnet_ids = [\"subnet-a\", \"subnet-b\"]\n}}\n\noutput \"address\" {{\n  value = module.rds.db_instance_address\n}}\n", repo.url()),
    );
    let before = work.strata(&["validate"]);
    assert_eq!(before.code, 1, "{before:?}");
    assert!(before.stderr.contains("module.rds is not installed") && before.stderr.contains("run strata init"), "{before:?}");

    init_ok(&work, &[]);
    let validate = work.strata(&["validate"]);
    assert_eq!(validate.code, 0, "{validate:?}");
    let plan = work.strata(&["plan"]);
    assert_eq!(plan.code, 0, "{plan:?}");
    assert!(plan.stdout.contains("# module.rds.aws_db_instance.this will be created"), "{plan:?}");
    assert!(plan.stdout.contains("# module.rds.module.db_subnet_group.aws_db_subnet_group.this will be created"), "{plan:?}");

    // The source changes: the plan refuses the stale installation instead of fetching.
    let text = std::fs::read_to_string(work.path().join("main.tf")).unwrap().replace("?ref=v1.0.0", "?ref=v1.1.0");
    work.write("main.tf", &text);
    let stale = work.strata(&["plan"]);
    assert_eq!(stale.code, 1, "{stale:?}");
    assert!(stale.stderr.contains("module.rds is not installed"), "{stale:?}");
}
