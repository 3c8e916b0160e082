//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::state::backend::LockOptions;
use crate::vars::CliVariable;

/// strata: plan and apply database infrastructure (AWS RDS and PostgreSQL schemas) declared in
/// Terraform-syntax `.tf` files.
#[derive(Parser, Debug)]
#[command(name = "strata", version, about, long_about = None)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(long = "chdir", global = true, value_name = "DIR")]
    pub chdir: Option<PathBuf>,
    /// No colours in output (also: the NO_COLOR environment variable).
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// Also print, on stderr, how many calls each provider made (AWS API calls, catalog queries).
    #[arg(long = "verbose", global = true)]
    pub verbose: bool,
    /// -input=false never asks anything (strata never prompts for variables; an apply without
    /// -auto-approve then fails instead of asking for confirmation).
    #[arg(long = "input", global = true, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub input: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check that the configuration is well-formed and type-correct; touches nothing.
    Validate(ValidateArgs),
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Make the changes: from a saved plan file, or from a fresh plan.
    Apply(ApplyArgs),
    /// Delete everything in state.
    Destroy(DestroyArgs),
    /// Read and edit the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Adopt an existing object into the state under an address the configuration has.
    Import(ImportArgs),
    /// Restore a backup policy's backup into a new database and check it against the backup's manifest.
    Restore(RestoreArgs),
    /// Print the dependency graph in Graphviz DOT.
    Graph(VarArgs),
    /// Print output values from the state (sensitive ones masked).
    Output(OutputArgs),
    /// Show a saved plan (or, without FILE, the state): for people, as Terraform's JSON, or as a PR comment.
    Show(ShowArgs),
    /// Rewrite .tf files in the canonical style.
    Fmt(FmtArgs),
    /// Report what drifted from the state (exit 0 none, 2 drift, 1 error); writes nothing.
    Drift(DriftArgs),
    /// Install the modules the configuration calls, check the state backend and record it; with -migrate-state, move every workspace's state into it.
    Init(InitArgs),
    /// Workspaces: one state each (new, select, list, show, delete).
    #[command(subcommand)]
    Workspace(WorkspaceCommand),
    /// Write a configuration, with import blocks, for what a live database holds.
    Inspect(InspectArgs),
    /// Release the state lock LOCK_ID that an operation no longer running left behind.
    ForceUnlock(ForceUnlockArgs),
    /// Print strata's version.
    Version(JsonArgs),
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// As JSON, in the shape of `terraform validate -json` (valid, error_count, warning_count, diagnostics).
    #[arg(long = "json")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct JsonArgs {
    /// As JSON.
    #[arg(long = "json")]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct InitArgs {
    /// Copy every workspace's state from the previously initialized backend (or the local files) into the configured one.
    #[arg(long = "migrate-state")]
    pub migrate_state: bool,
    /// With -migrate-state: overwrite a destination state with another lineage or a higher serial.
    #[arg(long = "force-copy", requires = "migrate_state")]
    pub force_copy: bool,
    /// Resolve every module's source again (newest matching registry version, git refs' current commits), ignoring the lock.
    #[arg(long = "upgrade")]
    pub upgrade: bool,
}

#[derive(Subcommand, Debug)]
pub enum WorkspaceCommand {
    /// Create workspace NAME with an empty state and select it.
    New { name: String },
    /// Use workspace NAME from now on (recorded in .strata/environment; STRATA_WORKSPACE overrides).
    Select { name: String },
    /// List the workspaces; the selected one is marked with *.
    List,
    /// Print the selected workspace.
    Show,
    /// Delete workspace NAME and its state (-force when it still manages resources).
    Delete {
        /// Delete even though its state still manages resources (they stay live, unmanaged).
        #[arg(long = "force")]
        force: bool,
        name: String,
    },
}

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    /// Do not ask for confirmation (required when input is not a terminal).
    #[arg(long = "force")]
    pub force: bool,
    /// The lock id, as the error reporting the lock printed it.
    pub lock_id: String,
}

/// `-lock` and `-lock-timeout`, for the commands that take the state lock (plan, apply, destroy,
/// import, `state rm`/`mv`, `drift ack`); read-only commands (graph, drift, show) have neither.
#[derive(Args, Debug, Clone, Default)]
pub struct LockArgs {
    /// -lock=false runs without the state lock (a warning says so): another run at the same time could lose writes.
    #[arg(long = "lock", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub lock: Option<bool>,
    /// How long to wait for the state lock before failing: 30s, 2m, 1h (default 0s: fail at once).
    #[arg(long = "lock-timeout", value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<Duration>,
}

impl LockArgs {
    pub fn options(&self) -> LockOptions {
        LockOptions { enabled: self.lock.unwrap_or(true), timeout: self.lock_timeout.unwrap_or_default() }
    }
}

/// `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().map_err(|_| format!("\"{text}\" is not a duration; write 30s, 2m or 1h"))?;
    let seconds = match unit {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("unknown unit \"{unit}\" in \"{text}\"; use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("\"{text}\" is not a duration; write 30s, 2m or 1h"))
}

#[derive(Args, Debug, Clone, Default)]
pub struct VarArgs {
    /// Set a variable: -var NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub var: Vec<String>,
    /// Read variables from a .tfvars file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_file: Vec<PathBuf>,
    /// The state file (default: strata.state.json, or the strata block's state_path).
    #[arg(long = "state", value_name = "PATH")]
    pub state: Option<PathBuf>,
}

impl VarArgs {
    /// `-var` and `-var-file` in the order given on the command line.
    pub fn ordered(&self, argv_order: &[String]) -> Vec<CliVariable> {
        let mut vars = self.var.iter();
        let mut files = self.var_file.iter();
        let mut ordered = Vec::new();
        for arg in argv_order {
            if arg == "--var" || arg.starts_with("--var=") {
                ordered.extend(vars.next().cloned().map(CliVariable::Assignment));
            } else if arg == "--var-file" || arg.starts_with("--var-file=") {
                ordered.extend(files.next().cloned().map(CliVariable::File));
            }
        }
        ordered.extend(vars.cloned().map(CliVariable::Assignment));
        ordered.extend(files.cloned().map(CliVariable::File));
        ordered
    }
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Save the plan to FILE for `strata apply FILE`.
    #[arg(long = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Plan to delete everything in state.
    #[arg(long = "destroy")]
    pub destroy: bool,
    /// human (default) or markdown (a pull-request comment).
    #[arg(long = "format", value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    #[command(flatten)]
    pub targeting: TargetArgs,
    /// Only accept what is live into state (drift), changing nothing live.
    #[arg(long = "refresh-only", conflicts_with_all = ["destroy", "out"])]
    pub refresh_only: bool,
    /// As JSON lines, like Terraform's machine-readable UI: one `diagnostic`, `planned_change` or
    /// `change_summary` message per line, each with @level and @message.
    #[arg(long = "json", conflicts_with_all = ["format", "refresh_only"])]
    pub json: bool,
    /// Record in the saved plan (-out) that its data-losing changes may be applied.
    #[arg(long = "allow-data-loss")]
    pub allow_data_loss: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

/// What a fresh plan covers, shared by plan, apply and destroy: `-target`, `-exclude` and
/// `-replace` (each takes one resource's exact address, `TYPE.NAME`, and may be repeated), and
/// `-refresh=false`.
#[derive(Args, Debug, Clone, Default)]
pub struct TargetArgs {
    /// -refresh=false plans against the state as recorded, without reading live objects (drift goes unseen).
    #[arg(long = "refresh", value_name = "BOOL", num_args = 0..=1, default_missing_value = "true")]
    pub refresh: Option<bool>,
    /// Plan only ADDR and what it depends on (for destroy: ADDR and what depends on it).
    #[arg(long = "target", value_name = "ADDR")]
    pub target: Vec<String>,
    /// Leave out ADDR and what depends on it (for destroy: ADDR and what it depends on).
    #[arg(long = "exclude", value_name = "ADDR")]
    pub exclude: Vec<String>,
    /// Replace ADDR even if nothing forces it (deleted, then created again).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
}

/// How changes are carried out, shared by apply and destroy.
#[derive(Args, Debug, Clone, Copy)]
pub struct RunArgs {
    /// Go ahead without asking (required when not run interactively).
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// How many independent changes run at once.
    #[arg(long = "parallelism", default_value_t = 10, value_name = "N")]
    pub parallelism: usize,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// A plan file saved by `strata plan -out FILE`.
    pub plan_file: Option<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub targeting: TargetArgs,
    /// Only accept what is live into state (drift), changing nothing live.
    #[arg(long = "refresh-only", conflicts_with = "plan_file")]
    pub refresh_only: bool,
    /// Delete everything in state, as strata destroy does.
    #[arg(long = "destroy", conflicts_with_all = ["plan_file", "refresh_only", "allow_data_loss"])]
    pub destroy: bool,
    /// Apply changes that lose data (drop a table or column, replace an instance); refused without it.
    #[arg(long = "allow-data-loss")]
    pub allow_data_loss: bool,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Args, Debug)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub targeting: TargetArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List the resources in state.
    List {
        /// Only addresses containing this text.
        filter: Option<String>,
        #[arg(long = "state", value_name = "PATH")]
        state: Option<PathBuf>,
    },
    /// Show one resource's attributes (sensitive values masked).
    Show {
        address: String,
        #[arg(long = "state", value_name = "PATH")]
        state: Option<PathBuf>,
    },
    /// Print the state as JSON, sensitive values masked (the state file is the faithful copy).
    Pull {
        #[arg(long = "state", value_name = "PATH")]
        state: Option<PathBuf>,
    },
    /// Stop managing resources without deleting anything live.
    Rm {
        #[arg(required = true)]
        addresses: Vec<String>,
        #[arg(long = "state", value_name = "PATH")]
        state: Option<PathBuf>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Rename a resource in state (same type), and the dependencies that name it.
    Mv {
        from: String,
        to: String,
        #[arg(long = "state", value_name = "PATH")]
        state: Option<PathBuf>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// What changed between two state files, per resource and attribute (sensitive values masked).
    Diff {
        old: PathBuf,
        new: PathBuf,
        /// Exit 0 when the states are the same, 2 when they differ, 1 on error.
        #[arg(long = "detailed-exitcode")]
        detailed_exitcode: bool,
    },
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The address in the configuration to record the object under: TYPE.NAME.
    pub address: String,
    /// The object's id: an instance identifier, a security group id, a group's name, a table's
    /// `schema.name` (or `name` in public).
    pub id: String,
    #[command(flatten)]
    pub vars: VarArgs,
    #[command(flatten)]
    pub lock: LockArgs,
}

#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// The backup policy in state: postgres_backup_policy.NAME.
    pub address: String,
    /// The backup's id (strata state show ADDR lists them); the newest good one when not given.
    #[arg(long = "backup")]
    pub backup: Option<String>,
    /// The database to restore into; it must not exist, unless -replace-existing.
    #[arg(long = "target-database")]
    pub target_database: String,
    /// Drop the target database first when it exists (asks for confirmation unless -auto-approve).
    #[arg(long = "replace-existing")]
    pub replace_existing: bool,
    /// Replace an existing target database without asking.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// One output's value alone.
    pub name: Option<String>,
    /// As JSON: `{"NAME": {"sensitive": false, "value": ...}}`, or the named output's value.
    #[arg(long = "json")]
    pub json: bool,
    #[arg(long = "state", value_name = "PATH")]
    pub state: Option<PathBuf>,
}

/// How a plan is shown.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Human,
    Markdown,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// A plan file saved by `strata plan -out FILE`; without it, the state.
    pub plan_file: Option<PathBuf>,
    /// As JSON: Terraform's plan format for a plan file, its state format for the state.
    #[arg(long = "json", conflicts_with = "format")]
    pub json: bool,
    /// human (default) or markdown (a pull-request comment; plan files only).
    #[arg(long = "format", value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
    /// Without FILE: the state file to show (default: strata.state.json, or the strata block's state_path).
    #[arg(long = "state", value_name = "PATH")]
    pub state: Option<PathBuf>,
}

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct DriftArgs {
    #[command(subcommand)]
    pub command: Option<DriftCommand>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// As JSON for machines (same as -format json).
    #[arg(long = "json")]
    pub json: bool,
    /// How to print the report: human, markdown (an issue body) or json.
    #[arg(long = "format", value_enum, default_value_t = DriftFormat::Human)]
    pub format: DriftFormat,
    /// When there is drift, POST a Slack-compatible message to URL.
    #[arg(long = "webhook", value_name = "URL")]
    pub webhook: Option<String>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriftFormat {
    Human,
    Markdown,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum DriftCommand {
    /// Accept known drift on ADDR or ADDR.attribute until a date (recorded in state).
    Ack {
        /// TYPE.NAME or TYPE.NAME.attribute (e.g. aws_db_instance.main.instance_class).
        target: String,
        /// When the acknowledgement ends: an RFC 3339 date (2030-01-31) or date-time.
        #[arg(long = "until", value_name = "DATE")]
        until: String,
        /// Why this drift is accepted.
        #[arg(long = "reason", value_name = "TEXT")]
        reason: String,
        /// The state file (default: strata.state.json, or the strata block's state_path).
        #[arg(long = "state", value_name = "PATH")]
        state: Option<PathBuf>,
        #[command(flatten)]
        lock: LockArgs,
    },
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// The directory to write into (created; it must hold no .tf files yet).
    #[arg(long = "out", value_name = "DIR")]
    pub out: PathBuf,
    /// A schema to read (repeatable); every schema that is not the system's when not given.
    #[arg(long = "schema", value_name = "NAME")]
    pub schemas: Vec<String>,
    /// Leave out objects whose schema.name (or import id) matches PATTERN (* and ?; repeatable).
    #[arg(long = "exclude", value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// The provider to inspect through.
    #[arg(long = "provider", default_value = "postgres")]
    pub provider: String,
    #[command(flatten)]
    pub vars: VarArgs,
}

#[derive(Args, Debug)]
pub struct FmtArgs {
    /// Only check; exit 3 when a file is not formatted.
    #[arg(long = "check")]
    pub check: bool,
    /// Files or directories (default: the current directory).
    pub paths: Vec<PathBuf>,
}

/// Accepts Terraform's single-dash long flags (`-auto-approve`, `-var=x=1`) by turning them into
/// clap's double-dash form. Single letters (`-h`) and negative numbers are left alone, and so is
/// everything after `--`.
pub fn normalize(argv: Vec<String>) -> Vec<String> {
    let mut seen_separator = false;
    argv.into_iter()
        .enumerate()
        .map(|(i, arg)| {
            if arg == "--" {
                seen_separator = true;
            }
            if i > 0 && !seen_separator && is_single_dash_word(&arg) {
                format!("-{arg}")
            } else {
                arg
            }
        })
        .collect()
}

/// A parse error as the user typed the flags: `-lock-timeout`, not the `--lock-timeout` that
/// `normalize` made of it.
pub fn as_typed(message: &str, typed: &[String]) -> String {
    let single_dash = typed.iter().skip(1).filter(|arg| is_single_dash_word(arg)).map(|arg| arg.split('=').next().unwrap_or(arg));
    single_dash.fold(message.to_owned(), |text, flag| text.replace(&format!("-{flag}"), flag))
}

fn is_single_dash_word(arg: &str) -> bool {
    arg.starts_with('-') && !arg.starts_with("--") && arg.len() > 2 && arg[1..].starts_with(|c: char| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_timeouts_read_as_durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn single_dash_flags_become_long_flags() {
        let argv = ["strata", "apply", "-auto-approve", "-var=a=-1", "-h", "-5"].map(String::from).to_vec();
        assert_eq!(normalize(argv), ["strata", "apply", "--auto-approve", "--var=a=-1", "-h", "-5"]);
    }

    #[test]
    fn errors_name_flags_as_typed() {
        let typed = ["strata", "plan", "-lock-timout=5s"].map(String::from);
        assert_eq!(as_typed("unexpected argument '--lock-timout' found", &typed), "unexpected argument '-lock-timout' found");
    }
}
