//! Every integration test, in one binary (see `autotests` in Cargo.toml): one module per
//! area, sharing `common`. Run one area with `cargo test --test integration instances::`.

mod common;

mod authorship;
mod aws_backup;
mod aws_data_guards;
mod aws_faults;
mod aws_modules;
mod aws_restore_drill;
mod aws_seed;
mod aws_sg_rules;
mod aws_snapshots;
mod backups;
mod bad_input;
mod ci_examples;
mod cli;
mod column_kinds;
mod conditions;
mod crash_safety;
mod data_loss_guards;
mod drift;
mod dynamic_blocks;
mod examples;
mod fail_closed;
mod harness;
mod import;
mod instances;
mod locking;
mod module_sources;
mod modules;
mod one_graph;
mod postgres_faults;
mod provider_aliases;
mod remote_state;
mod renames;
mod schema_lifecycle;
mod schema_property;
mod schema_safety;
mod secrets;
mod self_locking;
mod show;
mod state_backend_faults;
mod state_commands;
mod state_encryption;
mod targeting;
mod variables;
