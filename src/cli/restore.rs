//! `strata restore ADDR [-backup ID] -target-database NAME`: one of a backup policy's backups
//! into a new database, checked against the backup's manifest (schema fingerprint, row counts).
//! An existing database is replaced only with `-replace-existing`, and only after the user
//! confirms it (or passes `-auto-approve`). Nothing in state changes.

use strata_provider_sdk::RestoreRequest;

use super::args::RestoreArgs;
use super::commands::ask_yes;
use super::state_cmds::{not_in_state, parse};
use crate::context::Context;
use crate::diag::{Diagnostic, Result};
use crate::plan::planner::{configure_provider, provider_error, state_as_known};

pub async fn run(ctx: &Context, args: &RestoreArgs) -> Result<i32> {
    let address = parse(&args.address)?;
    let mut store = ctx.store();
    let state = store.load()?.unwrap_or_default();
    let Some(resource) = state.get(&address) else { return Err(not_in_state(&address.to_string(), &state)) };
    if args.replace_existing && !args.auto_approve && !confirm_replace(&args.target_database)? {
        println!("Restore cancelled; nothing was changed.");
        return Ok(1);
    }
    let provider_name = resource.provider();
    if !configure_provider(ctx, &provider_name, &state_as_known(&state)).await? {
        return Err(Diagnostic::error(format!("provider \"{provider_name}\" cannot be configured: its configuration depends on values known only after apply"))
            .hint("apply first, then restore")
            .into());
    }
    let request = RestoreRequest {
        type_name: address.type_name().to_owned(),
        state: resource.value(),
        backup: args.backup.clone(),
        target: args.target_database.clone(),
        replace_existing: args.replace_existing,
    };
    let lines = ctx.providers.get(&provider_name)?.restore(&request).await.map_err(|err| provider_error(&address.to_string(), err, None))?;
    for line in lines {
        println!("{address}: {line}");
    }
    println!("\nRestore complete: {} holds the backup and matches its manifest.", args.target_database);
    Ok(0)
}

fn confirm_replace(target: &str) -> Result<bool> {
    let not_a_terminal = Diagnostic::error("-replace-existing needs confirmation, but input is not a terminal")
        .hint("pass -auto-approve as well to replace the database without asking");
    ask_yes(&format!("\nIf the database \"{target}\" exists, it is dropped with everything in it before the restore. Only 'yes' will be accepted.\n  Enter a value: "), not_a_terminal)
}
