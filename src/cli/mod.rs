//! The command line: arguments (Terraform's single-dash style, `-auto-approve`), dispatch to the
//! commands, exit codes, and printing diagnostics.
//!
//! Owns what users type and see; the engine modules it calls know nothing of terminals or flags.

mod args;
mod backend_cmds;
mod commands;
mod drift;
mod inspect;
mod json;
mod progress;
mod restore;
mod show;
mod state_cmds;


use clap::Parser;

use crate::diag::{render, Diagnostics};
use crate::providers::Providers;
use crate::ui::Style;

pub use args::Cli;

/// Runs strata with `argv` and returns the process exit code.
pub async fn run(argv: Vec<String>, providers: Vec<crate::providers::ProviderFactory>) -> i32 {
    let typed = argv.clone();
    let argv = args::normalize(argv);
    let cli = match Cli::try_parse_from(&argv) {
        Ok(cli) => cli,
        Err(err) => {
            let shown = args::as_typed(&err.render().to_string(), &typed);
            if err.use_stderr() { eprint!("{shown}") } else { print!("{shown}") }
            return if err.use_stderr() { 1 } else { 0 };
        }
    };
    let style = Style::detect(cli.no_color);
    match commands::dispatch(cli, &argv, Providers::new(providers), &style).await {
        Ok(code) => code,
        Err(errors) => {
            print_diagnostics(&errors, &style);
            1
        }
    }
}

pub(crate) fn print_diagnostics(diagnostics: &Diagnostics, style: &Style) {
    for diagnostic in &diagnostics.0 {
        eprint!("\n{}", crate::secrets::redact(&render(diagnostic, style)));
    }
}
