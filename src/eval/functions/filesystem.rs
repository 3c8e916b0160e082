//! Filesystem functions. Relative paths are read from the configuration directory; `abspath`,
//! `basename` and `dirname` are pure path arithmetic with Go's filepath semantics.

use std::path::{Component, Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use strata_provider_sdk::Value;

use super::{Args, Category::Filesystem as Fs, FnResult, Function};
use crate::diag::Diagnostic;

pub(super) const FUNCTIONS: &[Function] = &[
    Function::new("abspath", Fs, &["path"], abspath),
    Function::new("basename", Fs, &["path"], |a| Ok(Value::String(basename(&a.string(0)?)))),
    Function::new("dirname", Fs, &["path"], |a| Ok(Value::String(dirname(&a.string(0)?)))),
    Function::new("file", Fs, &["path"], file),
    Function::new("filebase64", Fs, &["path"], |a| Ok(Value::String(STANDARD.encode(read_bytes(a, 0)?)))),
    Function::new("fileexists", Fs, &["path"], fileexists),
    Function::new("fileset", Fs, &["path", "pattern"], fileset),
    Function::new("pathexpand", Fs, &["path"], |a| Ok(Value::String(expand_home(&a.string(0)?)))),
    Function::expression("templatefile", Fs, &["path", "vars"]),
];

/// `~` or `~/...` with the home directory in front, as Terraform's pathexpand does.
pub(super) fn expand_home(path: &str) -> String {
    let home = std::env::var("HOME").unwrap_or_default();
    match path.strip_prefix('~') {
        Some(rest) if !home.is_empty() && (rest.is_empty() || rest.starts_with('/')) => format!("{home}{rest}"),
        _ => path.to_owned(),
    }
}

fn abspath(args: &Args) -> FnResult {
    let path = PathBuf::from(args.string(0)?);
    let absolute = if path.is_absolute() {
        path
    } else {
        std::env::current_dir().map_err(|err| args.fail(err))?.join(path)
    };
    Ok(Value::String(clean(&absolute)))
}

/// Removes `.` and resolves `..` lexically, as Go's filepath.Clean.
fn clean(path: &Path) -> String {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                parts.pop();
            }
            Component::Normal(part) => parts.push(part),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    let joined: Vec<String> = parts.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    format!("/{}", joined.join("/"))
}

/// Go's filepath.Base: the last element, trailing slashes ignored; "." for an empty path.
pub(super) fn basename(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's filepath.Dir: all but the last element, cleaned; "." when there is no directory.
pub(super) fn dirname(path: &str) -> String {
    let dir = match path.rfind('/') {
        Some(0) => return "/".to_owned(),
        Some(i) => &path[..i],
        None => return ".".to_owned(),
    };
    let cleaned = dir.trim_end_matches('/');
    if cleaned.is_empty() { "/".to_owned() } else { cleaned.to_owned() }
}

fn no_file(given: &str) -> String {
    format!(
        "no file exists at {given:?}; this function works only with files that are distributed as part of the configuration source code, so if this file will be created by a resource in this configuration you must instead obtain this result from an attribute of that resource"
    )
}

/// The bytes of the file argument `index` names.
pub(super) fn read_bytes(args: &Args, index: usize) -> Result<Vec<u8>, Diagnostic> {
    let (given, path) = args.path(index)?;
    std::fs::read(&path).map_err(|err| match err.kind() {
        std::io::ErrorKind::NotFound => args.invalid(index, no_file(&given)),
        _ => args.invalid(index, format!("failed to read file {given:?}: {err}")),
    })
}

/// The text of the file argument `index` names, which must be UTF-8.
pub(super) fn read_text(args: &Args, index: usize) -> Result<String, Diagnostic> {
    let given = args.string(index)?;
    String::from_utf8(read_bytes(args, index)?).map_err(|_| {
        args.invalid(index, format!("contents of {given:?} are not valid UTF-8; use the filebase64 function to obtain the Base64 encoded contents or the other file functions (e.g. filemd5, filesha256) to obtain file hashing results instead"))
    })
}

fn file(args: &Args) -> FnResult {
    read_text(args, 0).map(Value::String)
}

fn fileexists(args: &Args) -> FnResult {
    let (given, path) = args.path(0)?;
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => Ok(Value::Bool(true)),
        Ok(_) => Err(args.fail(format!("{given:?} is a directory, not a file"))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Value::Bool(false)),
        Err(err) => Err(args.fail(format!("failed to stat {given:?}: {err}"))),
    }
}

/// The files (not directories) under `path` whose path relative to it matches `pattern`, with
/// forward slashes, sorted.
fn fileset(args: &Args) -> FnResult {
    let (_, base) = args.path(0)?;
    let pattern = args.string(1)?;
    let matcher = globset::GlobBuilder::new(&pattern)
        .literal_separator(true)
        .build()
        .map_err(|err| args.fail(format!("failed to glob pattern ({pattern}): {err}")))?
        .compile_matcher();
    let mut found = Vec::new();
    walk(&base, &base, &matcher, &mut found).map_err(|err| args.fail(format!("failed to glob pattern ({pattern}): {err}")))?;
    found.sort();
    Ok(Value::List(found.into_iter().map(Value::String).collect()))
}

fn walk(base: &Path, dir: &Path, matcher: &globset::GlobMatcher, found: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        // Recursing only into real directories, never through symlinks, keeps a link cycle finite.
        if entry.file_type()?.is_dir() {
            walk(base, &path, matcher, found)?;
        } else if !path.is_file() {
            continue;
        } else if let Ok(relative) = path.strip_prefix(base) {
            let relative = relative.to_string_lossy().replace('\\', "/");
            if matcher.is_match(&relative) {
                found.push(relative);
            }
        }
    }
    Ok(())
}
