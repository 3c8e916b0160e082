//! `strata init [-migrate-state] [-upgrade]`, `strata workspace ...` and `strata force-unlock`: the commands
//! about where the state lives rather than what is in it; and finding the configured state for
//! the commands that read it without loading a whole context.
//!
//! Owns these commands' checks, prompts and messages. Backends, workspaces, locks and migrations
//! themselves belong to `crate::state`; nothing here plans, applies or touches anything live.

use std::path::Path;

use super::args::{ForceUnlockArgs, InitArgs, WorkspaceCommand};
use crate::config::Settings;
use crate::diag::{Diagnostic, Result};
use crate::state::backend::{check_workspace_name, local_state_path, record_backend, recorded_backend, select_workspace};
use crate::state::backend::{BackendConfig, LockOptions, StateSetup, DEFAULT_WORKSPACE, WORKSPACE_ENV};
use crate::state::migrate::migrate;
use crate::state::store::StateStore;
use crate::state::State;

/// The state the configuration here uses (or the file `-state` names, opened with the
/// configuration's encryption key), for commands that need no context. A directory without `.tf`
/// files means the default local file, unencrypted.
pub(super) fn configured_store(state_override: Option<&Path>, lock: LockOptions) -> Result<StateStore> {
    Ok(configured_setup(state_override)?.store(lock))
}

fn configured_setup(state_override: Option<&Path>) -> Result<StateSetup> {
    StateSetup::resolve(&configured_settings()?, Path::new("."), state_override)
}

fn configured_settings() -> Result<Settings> {
    let dir = Path::new(".");
    Ok(if has_configuration(dir) { crate::config::load_settings(dir)? } else { Settings::default() })
}

fn has_configuration(dir: &Path) -> bool {
    std::fs::read_dir(dir).into_iter().flatten().filter_map(|e| e.ok()).any(|e| e.path().extension().is_some_and(|ext| ext == "tf"))
}

/// `strata init`: installs the modules the configuration calls (`crate::modules`, fetching
/// only here; `-upgrade` resolves them afresh), checks the configured backend (connecting and
/// creating its tables), moves the state into it with `-migrate-state`, and records it as
/// initialized. Only the `strata` settings are loaded, as Terraform's init reads only what it needs:
/// the rest of the configuration is validate's and plan's.
pub fn init(args: &InitArgs) -> Result<i32> {
    let dir = Path::new(".");
    crate::modules::install::install(dir, args.upgrade, &mut |line| println!("{line}"))?;
    let settings = crate::config::load_settings(dir)?;
    let local_path = local_state_path(&settings, dir, None);
    let destination = StateSetup::configured(&settings, dir, &local_path)?;
    destination.backend.check()?;
    let previous = recorded_backend(dir)?.unwrap_or(BackendConfig::Local { path: local_path });
    if !previous.same_place(&destination.backend) {
        let source = destination.over(previous);
        if args.migrate_state {
            migrate_between(&source, &destination, args.force_copy)?;
        } else {
            refuse_leaving_state_behind(&source, &destination)?;
        }
    }
    record_backend(dir, &destination.backend)?;
    println!("Initialized {}. Workspace: {}.", destination.backend.describe(), destination.workspace);
    Ok(0)
}

fn migrate_between(source: &StateSetup, destination: &StateSetup, force_copy: bool) -> Result<()> {
    println!("Migrating state from {} to {}:", source.backend.describe(), destination.backend.describe());
    let moved = migrate(source, destination, force_copy)?;
    for each in &moved {
        let how = if each.already_there { "already there" } else { "copied" };
        println!("  workspace \"{}\": serial {}, {} resource(s), {how}", each.workspace, each.serial, each.resources);
    }
    if moved.is_empty() {
        println!("  there was no state to move");
    }
    println!("The previous copy was left as it was.");
    Ok(())
}

/// Switching backends without `-migrate-state` would leave what the old one manages behind.
fn refuse_leaving_state_behind(source: &StateSetup, destination: &StateSetup) -> Result<()> {
    for workspace in source.backend.workspaces()? {
        let managed = source.store_for(&workspace, LockOptions::default()).load()?.map_or(0, |s| s.instance_count());
        if managed > 0 {
            return Err(Diagnostic::error(format!("{} holds state that {} does not have", source.backend.describe(), destination.backend.describe()))
                .detail(format!("workspace \"{workspace}\" manages {managed} resource(s) there"))
                .hint("run strata init -migrate-state to move every workspace's state into the configured backend")
                .into());
        }
    }
    Ok(())
}

/// `strata workspace new|select|list|show|delete`.
pub fn workspace(command: WorkspaceCommand) -> Result<i32> {
    let setup = StateSetup::resolve_any_workspace(&configured_settings()?, Path::new("."), None)?;
    match command {
        WorkspaceCommand::List => {
            for name in setup.backend.workspaces()? {
                println!("{} {name}", if name == setup.workspace { "*" } else { " " });
            }
        }
        WorkspaceCommand::Show => println!("{}", setup.workspace),
        WorkspaceCommand::New { name } => {
            check_workspace_name(&name)?;
            if setup.backend.workspaces()?.contains(&name) {
                let hint = format!("switch to it with strata workspace select {name}");
                return Err(Diagnostic::error(format!("workspace \"{name}\" already exists")).hint(hint).into());
            }
            let mut store = setup.store_for(&name, LockOptions::default());
            let _lock = store.lock("workspace new")?;
            store.write(&State::new())?;
            select(&name)?;
            println!("Created and switched to workspace \"{name}\": its state is empty, so strata plan proposes creating everything.");
        }
        WorkspaceCommand::Select { name } => {
            check_workspace_name(&name)?;
            if !setup.backend.workspaces()?.contains(&name) {
                return Err(Diagnostic::error(format!("workspace \"{name}\" does not exist"))
                    .hint(format!("create it with strata workspace new {name}; strata workspace list shows the others"))
                    .into());
            }
            select(&name)?;
            println!("Switched to workspace \"{name}\".");
        }
        WorkspaceCommand::Delete { force, name } => delete_workspace(&setup, &name, force)?,
    }
    Ok(0)
}

fn select(name: &str) -> Result<()> {
    select_workspace(Path::new("."), name)?;
    if let Ok(overriding) = std::env::var(WORKSPACE_ENV) {
        eprintln!("Warning: {WORKSPACE_ENV}={overriding} is set and takes precedence over the selected workspace.");
    }
    Ok(())
}

fn delete_workspace(setup: &StateSetup, name: &str, force: bool) -> Result<()> {
    if name == DEFAULT_WORKSPACE {
        return Err(Diagnostic::error("the default workspace cannot be deleted").into());
    }
    if name == setup.workspace {
        return Err(Diagnostic::error(format!("workspace \"{name}\" is the current workspace"))
            .hint(format!("switch to another first: strata workspace select {DEFAULT_WORKSPACE}"))
            .into());
    }
    if !setup.backend.workspaces()?.iter().any(|n| n == name) {
        return Err(Diagnostic::error(format!("workspace \"{name}\" does not exist")).hint("strata workspace list shows the workspaces").into());
    }
    let mut store = setup.store_for(name, LockOptions::default());
    let _lock = store.lock("workspace delete")?;
    let managed = store.load()?.map_or(0, |s| s.instance_count());
    if managed > 0 && !force {
        return Err(Diagnostic::error(format!("workspace \"{name}\" still manages {managed} resource(s)"))
            .detail("deleting it forgets them; they stay live but nothing manages them any more")
            .hint(format!("destroy them first (strata workspace select {name}, strata destroy), or pass -force"))
            .into());
    }
    setup.backend.delete_workspace(name)?;
    println!("Deleted workspace \"{name}\".");
    Ok(())
}

/// `strata force-unlock [-force] LOCK_ID`: clears the selected workspace's lock when it is safe.
pub fn force_unlock(args: &ForceUnlockArgs) -> Result<i32> {
    let setup = configured_setup(None)?;
    if !args.force && !confirm_unlock(&args.lock_id)? {
        println!("force-unlock cancelled.");
        return Ok(1);
    }
    println!("{}", setup.backend.force_unlock(&setup.workspace, &args.lock_id)?);
    Ok(0)
}

fn confirm_unlock(id: &str) -> Result<bool> {
    let not_a_terminal = Diagnostic::error("force-unlock needs confirmation, but input is not a terminal")
        .hint(format!("pass -force once you are sure the operation holding the lock is gone: strata force-unlock -force {id}"));
    super::commands::ask_yes(&format!("Releasing lock {id} lets another operation write the state while the holder may still be running.\nOnly 'yes' will be accepted: "), not_a_terminal)
}
