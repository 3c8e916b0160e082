//! `strata inspect`: reads what a live database holds and writes a configuration for it, with
//! import blocks, into a new directory (see `crate::inspect`).

use std::path::Path;

use strata_provider_sdk::{InspectScope, Value};

use super::args::InspectArgs;
use crate::addrs::ProviderConfig;
use crate::diag::{Diagnostic, Result};
use crate::plan::planner::{configure_provider, provider_error};
use crate::providers::Providers;

pub async fn run(args: &InspectArgs, providers: &Providers, load: impl Fn() -> Result<crate::context::Context>) -> Result<i32> {
    let excluded = crate::inspect::exclusions(&args.exclude)?;
    refuse_existing_configuration(&args.out)?;
    let name = ProviderConfig::default_of(&args.provider);
    // The current directory's provider block when it has a configuration; else the environment (libpq's PG* variables).
    let has_configuration = !crate::config::tf_files(Path::new("."))?.is_empty();
    let context = if has_configuration { Some(load()?) } else { None };
    let provider = match &context {
        Some(ctx) => {
            if !configure_provider(ctx, &name, &Default::default()).await? {
                return Err(Diagnostic::error(format!("provider \"{name}\" cannot be configured: its settings depend on values known only after apply")).hint("run strata inspect from a directory without .tf files, with the PG* environment variables set").into());
            }
            ctx.providers.get(&name)?.clone()
        }
        None => {
            let provider = providers.named(&args.provider)?.clone();
            provider.configure(&Value::Null).await.map_err(|err| provider_error(&format!("provider \"{name}\""), err, None))?;
            provider
        }
    };
    let scope = InspectScope { namespaces: args.schemas.clone() };
    let inspection = provider.inspect(&scope).await.map_err(|err| provider_error(&format!("provider \"{name}\""), err, None))?;
    let files = crate::inspect::configuration(&inspection, provider.schema(), &excluded)?;
    std::fs::create_dir_all(&args.out).map_err(|err| cannot_write(&args.out, &err))?;
    for (file, text) in &files {
        let path = args.out.join(file);
        std::fs::write(&path, text).map_err(|err| cannot_write(&path, &err))?;
    }
    let excluded_count = inspection.objects.iter().filter(|o| crate::inspect::is_excluded(o, &excluded)).count();
    let written = inspection.objects.len() - excluded_count;
    println!("Inspected {written} object(s) into {} ({} file(s)); {excluded_count} excluded, {} listed as not declarable.", args.out.display(), files.len(), inspection.unsupported.len());
    println!("\nstrata plan in {} adopts them through {} and shows what differs.", args.out.display(), crate::inspect::IMPORTS_FILE);
    Ok(0)
}

/// Inspect writes a whole configuration: never into (and so over) an existing one.
fn refuse_existing_configuration(out: &Path) -> Result<()> {
    if out.is_dir() && !crate::config::tf_files(out)?.is_empty() {
        return Err(Diagnostic::error(format!("{} already holds .tf files; nothing was inspected", out.display())).hint("give -out a new or empty directory").into());
    }
    Ok(())
}

fn cannot_write(path: &Path, err: &std::io::Error) -> crate::diag::Diagnostics {
    Diagnostic::error(format!("cannot write {}: {err}", path.display())).hint("check that the -out directory can be written").into()
}
