//! A local directory as a backup destination: dumps and manifests side by side, the manifest
//! renamed into place last so that it is whole or absent.

use std::path::{Path, PathBuf};

use strata_provider_sdk::ProviderError;

use crate::backup::artefacts::{io_error, manifest_name, prefix, size_of, Artefact, Condition, Manifest, WRITTEN_BY};

/// The policy's backups in `dir`, oldest first; none when `dir` does not exist.
pub fn list(dir: &Path, token: &str) -> Result<Vec<Artefact>, ProviderError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(err) => return Err(io_error("cannot list", dir, &err)),
    };
    let prefix = prefix(token);
    let mut found = Vec::new();
    for entry in entries {
        let name = entry.map_err(|err| io_error("cannot list", dir, &err))?.file_name().to_string_lossy().into_owned();
        if !(name.starts_with(&prefix) && name.ends_with(".manifest.json")) {
            continue;
        }
        let manifest = read_manifest(&dir.join(&name))?;
        if manifest.written_by != WRITTEN_BY || manifest.policy != token {
            continue;
        }
        let dump = dir.join(&manifest.file);
        let condition = match size_of(&dump) {
            Ok(bytes) if bytes == manifest.bytes => Condition::Present,
            Ok(_) => Condition::Damaged,
            Err(_) => Condition::Missing,
        };
        found.push(Artefact { location: dump.display().to_string(), manifest, condition });
    }
    Ok(found)
}

fn read_manifest(path: &Path) -> Result<Manifest, ProviderError> {
    let text = std::fs::read_to_string(path).map_err(|err| io_error("cannot read", path, &err))?;
    Manifest::parse(&text, &path.display().to_string())
}

/// Writes the manifest beside its dump: to a temporary name, synced, then renamed, so a
/// manifest is either whole or absent.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> Result<PathBuf, ProviderError> {
    let path = dir.join(manifest_name(&manifest.policy, &manifest.backup_id));
    let temporary = dir.join(format!("{}{}.manifest.partial", prefix(&manifest.policy), manifest.backup_id));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temporary)?;
        std::io::Write::write_all(&mut file, manifest.to_json().as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    };
    write().map_err(|err| io_error("cannot write", &path, &err))?;
    Ok(path)
}

/// Removes a backup: the manifest first, so an interrupted prune leaves an unlisted dump (swept
/// as a leftover) rather than a manifest whose dump is gone.
pub fn remove(dir: &Path, artefact: &Artefact) -> Result<(), ProviderError> {
    let manifest = dir.join(manifest_name(&artefact.manifest.policy, &artefact.manifest.backup_id));
    std::fs::remove_file(&manifest).map_err(|err| io_error("cannot remove", &manifest, &err))?;
    remove_dump(&dir.join(&artefact.manifest.file))
}

fn remove_dump(path: &Path) -> Result<(), ProviderError> {
    let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
    match removed {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(io_error("cannot remove", path, &err)),
        _ => Ok(()),
    }
}

/// Removes what an interrupted backup or prune of this policy left: dumps and partial files
/// with its token that no manifest names. Nothing without the token is touched.
/// `listed` is what `list` found there.
pub fn sweep_leftovers(dir: &Path, token: &str, listed: &[Artefact]) -> Result<Vec<String>, ProviderError> {
    let prefix = prefix(token);
    let mut swept = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return Ok(swept) };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && !name.ends_with(".manifest.json") && !listed.iter().any(|a| a.manifest.file == name) {
            let path = dir.join(&name);
            remove_dump(&path)?;
            swept.push(path.display().to_string());
        }
    }
    Ok(swept)
}
