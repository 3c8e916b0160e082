//! The `strata` binary: wires the providers into the engine and runs the command line.
//!
//! This is the one place that names concrete providers; the engine modules below never do.

mod addrs;
mod apply;
mod cli;
mod config;
mod context;
mod diag;
mod drift;
mod ephemeral;
mod eval;
mod format;
#[cfg(test)]
mod fuzz;
mod graph;
mod inspect;
mod instances;
mod modules;
mod plan;
mod providers;
mod secrets;
mod state;
mod typecheck;
mod ui;
mod vars;

use std::sync::Arc;

use strata_provider_sdk::Provider;

#[tokio::main]
async fn main() {
    let code = cli::run(std::env::args().collect(), provider_factories()).await;
    std::process::exit(code);
}

/// Every provider strata has: AWS, PostgreSQL, and PostgreSQL again under the community
/// provider's name (`postgresql`), so its configurations work unchanged.
fn provider_factories() -> Vec<providers::ProviderFactory> {
    vec![
        || Arc::new(strata_provider_aws::AwsProvider::new()) as Arc<dyn Provider>,
        || Arc::new(strata_provider_postgres::PostgresProvider::new()),
        || Arc::new(strata_provider_postgres::CommunityProvider::new()),
    ]
}
