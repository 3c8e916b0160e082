//! Fetching a git package with the `git` command line: clone, check out a tag, branch or commit
//! (or the commit the lock names), and drop the `.git` directory (what was checked out is recorded
//! in the manifest and the lock).

use std::path::Path;
use std::process::Command;

use crate::diag::Diagnostic;

/// Clones `url` into `into` and checks out `pinned` (a locked commit) if given, else `reference`,
/// else the remote's default branch; answers the commit checked out.
pub(super) fn fetch(url: &str, reference: Option<&str>, pinned: Option<&str>, into: &Path) -> Result<String, Diagnostic> {
    for name in reference.into_iter().chain(pinned) {
        if name.starts_with('-') || name.contains("..") || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Diagnostic::error(format!("\"{name}\" is not a git ref")).hint("a ref is a tag, a branch or a commit id"));
        }
    }
    let into_text = into.to_string_lossy();
    git(None, &["clone", "--quiet", "--no-checkout", "--", url, &into_text]).map_err(|stderr| {
        Diagnostic::error(format!("cannot clone {url}"))
            .detail(stderr)
            .hint("check the URL, that the repository exists and that you can reach it: `git clone URL` must work here")
    })?;
    let commit = match (pinned, reference) {
        (Some(commit), _) => resolve(into, commit).ok_or_else(|| {
            Diagnostic::error(format!("the commit {commit} that {} locks is no longer in {url}", super::manifest::LOCK_FILE))
                .hint("run strata init -upgrade to resolve the ref again (and update the lock)")
        })?,
        (None, Some(reference)) => resolve(into, reference).ok_or_else(|| {
            Diagnostic::error(format!("git ref \"{reference}\" not found in {url}"))
                .detail(available_refs(into))
                .hint("set ?ref= in the module's source to one of the repository's tags or branches, or to a commit id")
        })?,
        (None, None) => resolve(into, "HEAD").ok_or_else(|| {
            Diagnostic::error(format!("{url} has no default branch to check out")).hint("add ?ref=TAG, BRANCH or COMMIT to the module's source")
        })?,
    };
    git(Some(into), &["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", &commit]).map_err(|stderr| {
        Diagnostic::error(format!("cannot check out {commit} of {url}")).detail(stderr)
    })?;
    std::fs::remove_dir_all(into.join(".git")).map_err(|err| Diagnostic::error(format!("cannot remove {}: {err}", into.join(".git").display())))?;
    Ok(commit)
}

/// The commit `name` (a tag, a local or remote branch, or a commit id) names in the clone at `dir`.
fn resolve(dir: &Path, name: &str) -> Option<String> {
    [name.to_owned(), format!("refs/tags/{name}"), format!("refs/remotes/origin/{name}")]
        .iter()
        .find_map(|candidate| git(Some(dir), &["rev-parse", "--verify", "--quiet", &format!("{candidate}^{{commit}}")]).ok())
        .map(|out| out.trim().to_owned())
        .filter(|commit| !commit.is_empty())
}

fn available_refs(dir: &Path) -> String {
    let list = |args: &[&str]| git(Some(dir), args).map(|out| out.lines().map(str::trim).filter(|l| !l.is_empty() && *l != "HEAD" && !l.ends_with("/HEAD")).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    let tags = list(&["tag", "--list"]);
    let branches = list(&["branch", "--remotes", "--format=%(refname:lstrip=3)"]);
    format!("tags: {}; branches: {}", if tags.is_empty() { "none" } else { &tags }, if branches.is_empty() { "none" } else { &branches })
}

/// Runs git (in `dir`, if given) without prompting for credentials; stdout, or stderr on failure.
fn git(dir: Option<&Path>, args: &[&str]) -> Result<String, String> {
    let mut command = Command::new("git");
    if let Some(dir) = dir {
        command.current_dir(dir);
    }
    command.args(args).env("GIT_TERMINAL_PROMPT", "0").env("GIT_ASKPASS", "true").stdin(std::process::Stdio::null());
    let output = command.output().map_err(|err| format!("cannot run git: {err} (is git installed and on PATH?)"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}
