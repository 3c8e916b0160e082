//! One function per command: load what it needs, call the engine, print the result, return the
//! exit code.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use strata_provider_sdk::{Action, Value};

use super::args::{ApplyArgs, Command, DestroyArgs, FmtArgs, LockArgs, OutputArgs, PlanArgs, PlanFormat, RunArgs, StateCommand, TargetArgs, VarArgs};
use super::drift::RefreshOnly;
use super::progress::Progress;
use super::{print_diagnostics, state_cmds};
use crate::addrs::ResourceInstance;
use crate::apply::{ApplyReport, Event, Executor};
use crate::context::{Context, LoadOptions};
use crate::diag::{Diagnostic, Diagnostics, Location, Result};
use crate::plan::adopt::adopt_interrupted;
use crate::plan::guards::refuse_data_loss;
use crate::plan::planner::{make_plan, PlanOptions};
use crate::plan::targeting::{narrowing_warning, Targeting};
use crate::plan::render::{literal, render_plan};
use crate::plan::{file, Plan};
use crate::providers::Providers;
use crate::secrets::{redact, MASK};
use crate::state::store::StateStore;
use crate::state::State;
use crate::ui::Style;

/// Exit code of `plan -detailed-exitcode` when there are changes.
const EXIT_CHANGES: i32 = 2;
/// Exit code of `fmt -check` when a file needs formatting.
const EXIT_UNFORMATTED: i32 = 3;
/// Set by `-input=false`: every question fails as it does without a terminal.
static NEVER_ASK: AtomicBool = AtomicBool::new(false);

pub async fn dispatch(cli: super::Cli, argv: &[String], providers: Providers, style: &Style) -> Result<i32> {
    if let Some(dir) = &cli.chdir {
        std::env::set_current_dir(dir).map_err(|err| {
            Diagnostic::error(format!("cannot change to the directory {}: {err}", dir.display())).hint("check the path given to -chdir")
        })?;
    }
    if cli.input == Some(false) {
        NEVER_ASK.store(true, Ordering::Relaxed);
    }
    let runner = Runner { argv, providers, style };
    let result = match cli.command {
        Command::Validate(args) => runner.validate(args.json),
        Command::Version(args) => Ok(version(args.json)),
        Command::Plan(args) => runner.plan(args).await,
        Command::Apply(args) => runner.apply(args).await,
        Command::Destroy(args) => runner.destroy(args).await,
        Command::State(command) => runner.state(command),
        Command::Import(args) => async { state_cmds::import(&runner.load_locking(&args.vars, &args.lock, true)?, &args).await }.await,
        Command::Restore(args) => async { super::restore::run(&runner.load(&args.vars, true)?, &args).await }.await,
        Command::Graph(args) => runner.graph(&args),
        Command::Output(args) => output(&args),
        Command::Show(args) => super::show::run(&args, &runner.providers, runner.style),
        Command::Fmt(args) => fmt(args),
        Command::Drift(args) => super::drift::run(args, |vars| runner.load(vars, true), &runner.providers, runner.style).await,
        Command::Init(args) => super::backend_cmds::init(&args),
        Command::Workspace(command) => super::backend_cmds::workspace(command),
        Command::ForceUnlock(args) => super::backend_cmds::force_unlock(&args),
        Command::Inspect(args) => super::inspect::run(&args, &runner.providers, || runner.load(&args.vars, false)).await,
    };
    if cli.verbose {
        eprint!("{}", redact(&call_report(&runner.providers)));
    }
    result
}

/// One line per provider that made calls: `aws: 4 API calls (ec2:DescribeSecurityGroups 1, ...)`.
fn call_report(providers: &Providers) -> String {
    providers
        .call_counts()
        .into_iter()
        .map(|(name, counts)| {
            let total: u64 = counts.iter().map(|(_, n)| n).sum();
            let each: Vec<String> = counts.iter().map(|(call, n)| format!("{call} {n}")).collect();
            format!("{name}: {total} API calls ({})\n", each.join(", "))
        })
        .collect()
}

struct Runner<'a> {
    argv: &'a [String],
    providers: Providers,
    style: &'a Style,
}

impl Runner<'_> {
    fn load(&self, vars: &VarArgs, require_variables: bool) -> Result<Context> {
        let ctx = self.load_quietly(vars, require_variables)?;
        print_diagnostics(&ctx.warnings, self.style);
        Ok(ctx)
    }

    /// `load` leaving the configuration's warnings to the caller (in `ctx.warnings`).
    fn load_quietly(&self, vars: &VarArgs, require_variables: bool) -> Result<Context> {
        let variables = vars.ordered(self.argv);
        let options = LoadOptions { dir: Path::new("."), variables: &variables, state_path: vars.state.as_deref(), require_variables };
        Context::load(&options, self.providers.clone())
    }

    /// `load` for a command that takes the state lock, honouring its `-lock` and `-lock-timeout`.
    fn load_locking(&self, vars: &VarArgs, lock: &LockArgs, require_variables: bool) -> Result<Context> {
        let mut ctx = self.load(vars, require_variables)?;
        ctx.lock = lock.options();
        Ok(ctx)
    }

    /// `strata validate [-json]`: every problem in the configuration, found without touching anything.
    fn validate(&self, json: bool) -> Result<i32> {
        let found = self.check_configuration();
        if json {
            let diagnostics = match &found {
                Ok(warnings) | Err(warnings) => warnings,
            };
            println!("{}", redact(&super::json::validate_report(diagnostics).to_string()));
            return Ok(if found.is_ok() { 0 } else { 1 });
        }
        print_diagnostics(&found?, self.style);
        println!("{} The configuration is valid.", self.style.added("Success!"));
        Ok(0)
    }

    /// The configuration's warnings, or its errors (with the warnings).
    fn check_configuration(&self) -> std::result::Result<Diagnostics, Diagnostics> {
        let options = LoadOptions { dir: Path::new("."), variables: &[], state_path: None, require_variables: false };
        let ctx = Context::load(&options, self.providers.clone())?;
        let nothing_known = BTreeMap::new();
        let mut found = ctx.warnings.clone();
        for (address, _) in ctx.config.all_resources() {
            if let Err(errors) = ctx.desired_for_validation(&address, &nothing_known) {
                found.extend(errors);
            }
        }
        for name in ctx.config.providers.keys() {
            if let Err(errors) = ctx.provider_settings(name, &nothing_known) {
                found.extend(errors);
            }
        }
        for output in ctx.config.outputs.values() {
            if let Err(errors) = ctx.scope(&nothing_known).eval_attr(&output.value) {
                found.extend(errors);
            }
        }
        if let Err(errors) = crate::plan::guards::check_moves(&ctx) {
            found.extend(errors);
        }
        if let Err(errors) = crate::plan::guards::check_lifecycles(&ctx, false) {
            found.extend(errors);
        }
        found.into_result()
    }

    async fn plan(&self, args: PlanArgs) -> Result<i32> {
        if args.json {
            return Ok(self.plan_json(&args).await);
        }
        let ctx = self.load_locking(&args.vars, &args.lock, true)?;
        if args.refresh_only {
            return super::drift::refresh_only(&ctx, RefreshOnly::Plan { detailed_exitcode: args.detailed_exitcode }, self.style).await;
        }
        let plan = self.saved_plan(&ctx, &args).await?;
        print!("{}", super::show::render_plan_as(&plan, args.format, &ctx.providers, self.style));
        print_diagnostics(&plan.warnings, self.style);
        if let Some(out) = &args.out {
            let saved = format!("\nSaved the plan to {0}. To apply exactly this plan: strata apply {0}", out.display());
            // A markdown plan is a comment body: the note goes to stderr so it stays out of it.
            if args.format == PlanFormat::Markdown { eprintln!("{saved}") } else { println!("{saved}") }
        }
        let code = plan_exit_code(&args, &plan);
        discard(plan);
        Ok(code)
    }

    /// `plan -json`: everything, errors included, as JSON lines on stdout; exit 1 on errors.
    async fn plan_json(&self, args: &PlanArgs) -> i32 {
        let (plan, found) = match self.load_quietly(&args.vars, true) {
            Err(errors) => (None, errors),
            Ok(mut ctx) => {
                ctx.lock = args.lock.options();
                match self.saved_plan(&ctx, args).await {
                    Ok(plan) => (Some(plan), ctx.warnings.clone()),
                    Err(errors) => (None, Diagnostics(ctx.warnings.0.iter().cloned().chain(errors.0).collect())),
                }
            }
        };
        for line in super::json::plan_lines(plan.as_ref(), &found) {
            println!("{}", redact(&line.to_string()));
        }
        match &plan {
            Some(plan) if !found.has_errors() => plan_exit_code(args, plan),
            _ => 1,
        }
    }

    /// A fresh plan under the state lock, written to `-out` when given.
    async fn saved_plan(&self, ctx: &Context, args: &PlanArgs) -> Result<Plan> {
        let mut store = ctx.store();
        let _lock = store.lock("plan")?;
        let (plan, state) = fresh_plan(ctx, store.load()?, self.plan_options(args.destroy, &args.targeting, args.allow_data_loss)?).await?;
        discard(state);
        if let Some(out) = &args.out {
            file::write(out, &plan, &ctx.config)?;
        }
        Ok(plan)
    }


    async fn apply(&self, args: ApplyArgs) -> Result<i32> {
        if args.refresh_only {
            return super::drift::refresh_only(&self.load_locking(&args.vars, &args.lock, true)?, RefreshOnly::Apply { auto_approve: args.run.auto_approve }, self.style).await;
        }
        match &args.plan_file {
            Some(path) => self.apply_saved(path, &args).await,
            // apply -destroy is destroy, consent to lose what it destroys included.
            None => self.plan_and_apply(&args.vars, &args.lock, self.plan_options(args.destroy, &args.targeting, args.allow_data_loss || args.destroy)?, args.run).await,
        }
    }

    async fn destroy(&self, args: DestroyArgs) -> Result<i32> {
        // Destroy is explicit consent to lose what it destroys; prevent_destroy still refuses at plan time.
        self.plan_and_apply(&args.vars, &args.lock, self.plan_options(true, &args.targeting, true)?, args.run).await
    }

    /// The options for a fresh plan, warning (as Terraform does) when targeting narrows it.
    fn plan_options(&self, destroy: bool, args: &TargetArgs, allow_data_loss: bool) -> Result<PlanOptions> {
        let targeting = Targeting::parse(&args.target, &args.exclude, &args.replace)?;
        if targeting.narrows() {
            print_diagnostics(&narrowing_warning().into(), self.style);
        }
        Ok(PlanOptions { destroy, targeting, allow_data_loss, skip_refresh: args.refresh == Some(false) })
    }

    async fn plan_and_apply(&self, vars: &VarArgs, lock: &LockArgs, options: PlanOptions, run: RunArgs) -> Result<i32> {
        let ctx = self.load_locking(vars, lock, true)?;
        let mut store = ctx.store();
        let _lock = store.lock(if options.destroy { "destroy" } else { "apply" })?;
        let existing = store.load()?;
        let existing = record_adoptions(&ctx, &mut store, existing).await?;
        let (plan, state) = fresh_plan(&ctx, existing, options).await?;
        print!("{}", redact(&render_plan(&plan, &ctx.providers, self.style)));
        if !plan.has_changes() {
            return record_digests(&mut store, state, &plan);
        }
        refuse_data_loss(&plan)?;
        if !run.auto_approve && !confirm()? {
            println!("\nApply cancelled.");
            return Ok(1);
        }
        self.execute(&ctx, &mut store, state, &plan, run.parallelism).await
    }

    async fn apply_saved(&self, path: &Path, args: &ApplyArgs) -> Result<i32> {
        if !Targeting::parse(&args.targeting.target, &args.targeting.exclude, &args.targeting.replace)?.is_empty() {
            return Err(Diagnostic::error("-target, -exclude and -replace cannot be used with a saved plan")
                .hint("a saved plan holds only the changes it was made with; pass these options to strata plan -out FILE instead")
                .into());
        }
        refuse_variables_with_saved_plan(&args.vars)?;
        let saved = file::read(path)?;
        let mut ctx = self.load_locking(&args.vars, &args.lock, false)?;
        saved.merge_variables(&mut ctx.variables)?;
        if file::config_digest(&ctx.config) != saved.config_digest {
            return Err(Diagnostic::error("the configuration changed since this plan was made")
                .hint("make a new plan with strata plan -out FILE, review it, and apply that")
                .into());
        }
        let mut store = ctx.store();
        let _lock = store.lock("apply")?;
        let existing = store.load()?;
        check_plan_matches_state(&saved.plan, existing.as_ref())?;
        let mut plan = saved.plan;
        plan.allow_data_loss |= args.allow_data_loss;
        refuse_data_loss(&plan)?;
        // The plan was made against the state with an interrupted apply's objects adopted.
        let state = record_adoptions(&ctx, &mut store, existing).await?.unwrap_or_default();
        self.execute(&ctx, &mut store, state, &plan, args.run.parallelism).await
    }

    async fn execute(&self, ctx: &Context, store: &mut StateStore, state: State, plan: &Plan, parallelism: usize) -> Result<i32> {
        println!();
        let progress = Progress::detect(self.style);
        let observe = |event: Event<'_>| progress.observe(&event);
        let executor = Executor::new(ctx, store, state, parallelism);
        let (state, report, errors) = executor.run(plan, &observe).await;
        for (address, cause) in &report.skipped {
            eprintln!("{}: skipped, because {cause} failed", address);
        }
        print_backups(&report);
        let mut all = Diagnostics::default();
        for (_, error) in &report.failed {
            all.extend(error.clone());
        }
        all.extend(errors);
        if !all.is_empty() {
            return Err(all);
        }
        if plan.destroy {
            println!("\n{}", self.style.added(&format!("Destroy complete! Resources: {} destroyed.", count_succeeded(&report, &[Action::Delete]))));
        } else {
            println!("\n{}", self.style.added(&apply_summary(&report)));
            print_outputs(&state);
            print_diagnostics(&crate::plan::conditions::failed_checks(ctx, &crate::plan::planner::state_as_known(&state)), self.style);
        }
        Ok(0)
    }

    fn state(&self, command: StateCommand) -> Result<i32> {
        match command {
            StateCommand::List { filter, state } => {
                let state = read_state(state.as_deref())?;
                let wanted = |address: &str| filter.as_ref().is_none_or(|f| address.contains(f.as_str()));
                for address in state.instances().map(|i| i.address().to_string()).filter(|a| wanted(a)) {
                    println!("{address}");
                }
                // On stderr: stdout stays one address per line, for scripts.
                if let Some(pending) = state_cmds::pending_report(state.pending.iter().filter(|p| wanted(&p.address))) {
                    eprint!("\n{pending}");
                }
                Ok(0)
            }
            StateCommand::Show { address, state } => {
                let wanted: ResourceInstance = address.parse().map_err(|e: String| Diagnostic::error(e))?;
                let state = read_state(state.as_deref())?;
                let shown = wanted.to_string();
                let pending = state_cmds::pending_report(state.pending.iter().filter(|p| p.address == shown));
                let Some(resource) = state.get(&wanted) else {
                    let missing = Diagnostic::error(format!("{wanted} is not in the state")).hint("list what is there with strata state list");
                    return Err(match pending {
                        Some(pending) => missing.detail(pending),
                        None => missing,
                    }
                    .into());
                };
                print!("{}", resource_hcl(resource));
                if let Some(pending) = pending {
                    print!("\n{pending}");
                }
                Ok(0)
            }
            StateCommand::Pull { state } => state_cmds::pull(state.as_deref()),
            StateCommand::Rm { addresses, state, lock } => state_cmds::remove(&addresses, state.as_deref(), lock.options()),
            StateCommand::Mv { from, to, state, lock } => state_cmds::rename(&from, &to, state.as_deref(), lock.options()),
            StateCommand::Diff { old, new, detailed_exitcode } => state_cmds::diff(&old, &new, detailed_exitcode, &self.providers, self.style),
        }
    }

    fn graph(&self, args: &VarArgs) -> Result<i32> {
        let ctx = self.load(args, false)?;
        print!("{}", ctx.graph.to_dot());
        Ok(0)
    }
}

fn plan_exit_code(args: &PlanArgs, plan: &Plan) -> i32 {
    if args.detailed_exitcode && plan.has_changes() { EXIT_CHANGES } else { 0 }
}

/// `strata version [-json]`; the JSON has the keys of `terraform version -json` that apply.
fn version(json: bool) -> i32 {
    let version = env!("CARGO_PKG_VERSION");
    let platform = format!("{}_{}", std::env::consts::OS, std::env::consts::ARCH);
    if json {
        println!("{}", serde_json::json!({ "strata_version": version, "platform": platform, "provider_selections": {} }));
    } else {
        println!("strata v{version}\non {platform}");
    }
    0
}

/// Refreshes and plans against `existing`, the state as stored now.
/// After a plan with no changes: the digests it found for unchanged resources, recorded in one
/// state write (see `plan::unchanged`), so the next plan need not compare them.
fn record_digests(store: &mut StateStore, mut state: State, plan: &Plan) -> Result<i32> {
    if crate::plan::unchanged::record_digests(&mut state, plan) {
        state.serial += 1;
        store.write(&state)?;
    }
    Ok(0)
}

/// Lets go of a large value a command is done with as it is about to exit, without freeing it
/// piece by piece: for a plan or state of thousands of resources that takes longer than the exit,
/// which hands the memory back at once. Only for plain data (nothing whose drop does work).
fn discard<T>(value: T) {
    std::mem::forget(value);
}

async fn fresh_plan(ctx: &Context, existing: Option<State>, options: PlanOptions) -> Result<(Plan, State)> {
    let had_state = existing.is_some();
    let mut state = existing.unwrap_or_default();
    // Plan adopts in memory only; apply has recorded its adoptions already (`record_adoptions`).
    for resolution in adopt_interrupted(ctx, &mut state).await? {
        eprintln!("{}", resolution.describe());
    }
    let mut plan = make_plan(ctx, &state, options).await?;
    if !had_state {
        plan.prior_lineage = None;
        plan.prior_serial = None;
    }
    Ok((plan, state))
}

/// Resolves what an interrupted apply left pending (see `crate::plan::adopt`) and records the
/// outcome at once, before anything is planned: one state write, serial + 1. Takes the state just
/// loaded from `store` and returns it as now stored.
async fn record_adoptions(ctx: &Context, store: &mut StateStore, existing: Option<State>) -> Result<Option<State>> {
    let Some(mut state) = existing else { return Ok(None) };
    let resolutions = adopt_interrupted(ctx, &mut state).await?;
    if !resolutions.is_empty() {
        for resolution in &resolutions {
            eprintln!("{}", resolution.describe());
        }
        state.serial += 1;
        store.write(&state)?;
    }
    Ok(Some(state))
}

/// A saved plan holds the variable values it was made with; a `-var` given now would be silently
/// ignored, so it is refused, as Terraform does.
fn refuse_variables_with_saved_plan(vars: &VarArgs) -> Result<()> {
    let given = if !vars.var.is_empty() { "-var" } else if !vars.var_file.is_empty() { "-var-file" } else { return Ok(()) };
    Err(Diagnostic::error(format!("{given} cannot be used with a saved plan"))
        .detail("the plan file holds the variable values it was made with; they cannot change at apply time")
        .hint("pass the variables to strata plan -out FILE, review that plan, and apply it without -var")
        .into())
}

fn check_plan_matches_state(plan: &Plan, state: Option<&State>) -> Result<()> {
    let now = state.map(|s| (s.lineage.clone(), s.serial));
    let then = plan.prior_lineage.clone().zip(plan.prior_serial);
    if now == then {
        return Ok(());
    }
    let describe = |x: &Option<(String, u64)>| x.as_ref().map_or("no state".to_owned(), |(l, s)| format!("lineage {l}, serial {s}"));
    Err(Diagnostic::error("the state changed since this plan was made")
        .detail(format!("the plan was made against {}; the state is now {}", describe(&then), describe(&now)))
        .hint("make a new plan with strata plan -out FILE and apply that")
        .into())
}

/// An output's value as printed: masked when sensitive.
fn shown(output: &crate::state::OutputState) -> serde_json::Value {
    if output.sensitive {
        serde_json::Value::String(MASK.to_owned())
    } else {
        output.value.clone()
    }
}

/// The end of an apply, as Terraform prints it: `Outputs:` and one `NAME = VALUE` line each.
fn print_outputs(state: &State) {
    if state.outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    print_output_lines(state);
}

fn print_output_lines(state: &State) {
    for (name, output) in &state.outputs {
        println!("{name} = {}", literal_or_mask(&shown(output), output.sensitive));
    }
}

/// `strata output`: the outputs recorded by the last apply. Sensitive values are masked in every
/// form, JSON included: strata never prints a secret.
fn output(args: &OutputArgs) -> Result<i32> {
    let state = read_state(args.state.as_deref())?;
    if let Some(name) = &args.name {
        let output = state.outputs.get(name).ok_or_else(|| {
            let known: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
            Diagnostic::error(format!("no output named \"{name}\" in the state")).hint(crate::diag::suggestion(name, known))
        })?;
        let value = shown(output);
        println!("{}", if args.json { redact(&value.to_string()) } else { literal_or_mask(&value, output.sensitive) });
        return Ok(0);
    }
    if args.json {
        let all: serde_json::Map<String, serde_json::Value> = state
            .outputs
            .iter()
            .map(|(name, output)| (name.clone(), serde_json::json!({ "sensitive": output.sensitive, "value": shown(output) })))
            .collect();
        println!("{}", redact(&serde_json::to_string_pretty(&all).unwrap_or_default()));
        return Ok(0);
    }
    print_output_lines(&state);
    Ok(0)
}

fn literal_or_mask(value: &serde_json::Value, sensitive: bool) -> String {
    if sensitive { MASK.to_owned() } else { redact(&literal(&Value::from_json(value))) }
}

/// The configured state (or the file `-state` names), which must exist.
pub(super) fn read_state(path: Option<&Path>) -> Result<State> {
    let mut store = super::backend_cmds::configured_store(path, crate::state::backend::LockOptions::default())?;
    store.load()?.ok_or_else(|| no_state(&store))
}

pub(super) fn no_state(store: &StateStore) -> Diagnostics {
    Diagnostic::error(format!("no state in {}", store.describe())).hint("nothing has been applied here yet, or pass -state PATH").into()
}

pub(super) fn confirm() -> Result<bool> {
    let not_a_terminal = Diagnostic::error("apply needs confirmation, but input is not a terminal")
        .hint("pass -auto-approve to apply without asking (as CI jobs do), or save a plan and apply the file");
    ask_yes("\nDo you want to perform these actions? Only 'yes' will be accepted.\n  Enter a value: ", not_a_terminal)
}

/// Prints `prompt` and reads the answer: true only for "yes". Without a terminal to ask on,
/// `not_a_terminal` is the error.
pub(super) fn ask_yes(prompt: &str, not_a_terminal: Diagnostic) -> Result<bool> {
    if NEVER_ASK.load(Ordering::Relaxed) || !std::io::stdin().is_terminal() {
        return Err(not_a_terminal.into());
    }
    print!("{prompt}");
    let _ = std::io::stdout().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).map_err(|err| Diagnostic::error(format!("cannot read the answer: {err}")))?;
    Ok(answer.trim() == "yes")
}

/// Where apply copied data aside, so the reader knows where to look (also recorded in state).
fn print_backups(report: &ApplyReport) {
    if report.backups.is_empty() {
        return;
    }
    println!("\nBackups taken:");
    for (address, location) in &report.backups {
        println!("  {address}: {}", redact(location));
    }
}

fn count_succeeded(report: &ApplyReport, wanted: &[Action]) -> usize {
    report.succeeded.iter().filter(|(_, a)| wanted.contains(a)).count()
}

fn apply_summary(report: &ApplyReport) -> String {
    let count = |wanted: &[Action]| count_succeeded(report, wanted);
    format!(
        "Apply complete! Resources: {} added, {} changed, {} replaced, {} destroyed.",
        count(&[Action::Create]),
        count(&[Action::Update]),
        count(&[Action::Replace]),
        count(&[Action::Delete])
    )
}

/// One resource in state as `state show` prints it: a header and an HCL-like block.
pub(super) fn resource_hcl(instance: crate::state::Instance<'_>) -> String {
    let body = hcl_body(&instance.value(), &instance.sensitive_attributes, 2);
    let (resource, kind) = (instance.resource, if instance.resource.mode == crate::state::StateMode::Data { "data" } else { "resource" });
    format!("# {}:\n{kind} \"{}\" \"{}\" {{\n{body}}}\n", instance.address(), resource.type_name, resource.name)
}

/// An object as HCL-like lines: lists of objects as nested blocks, sensitive values masked.
fn hcl_body(value: &Value, sensitive: &std::collections::BTreeSet<String>, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let Some(map) = value.as_object() else { return String::new() };
    let is_blocks = |v: &Value| v.as_list().is_some_and(|items| !items.is_empty() && items.iter().all(|i| i.as_object().is_some()));
    let width = map.iter().filter(|(_, v)| !is_blocks(v) && !v.is_null()).map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (key, item) in map.iter().filter(|(_, v)| !is_blocks(v) && !v.is_null()) {
        let shown = if sensitive.contains(key) { MASK.to_owned() } else { redact(&literal(item)) };
        out.push_str(&format!("{pad}{key:width$} = {shown}\n"));
    }
    for (key, items) in map.iter().filter(|(_, v)| is_blocks(v)) {
        if sensitive.contains(key) {
            out.push_str(&format!("\n{pad}{key} = {MASK}\n"));
            continue;
        }
        for item in items.as_list().unwrap_or(&[]) {
            out.push_str(&format!("\n{pad}{key} {{\n{}{pad}}}\n", hcl_body(item, &Default::default(), indent + 2)));
        }
    }
    out
}

fn fmt(args: FmtArgs) -> Result<i32> {
    let roots = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths };
    let mut unformatted = Vec::new();
    let mut errors = Diagnostics::default();
    for path in roots.iter().flat_map(|root| hcl_files(root)) {
        let text = std::fs::read_to_string(&path).map_err(|err| Diagnostic::error(format!("cannot read {}: {err}", path.display())))?;
        let formatted = match crate::format::format_source(&text) {
            Ok(formatted) => formatted,
            Err(err) => {
                let location = Location { file: std::sync::Arc::from(path.as_path()), line: err.location().line(), column: err.location().column() };
                errors.push(Diagnostic::error(format!("invalid HCL syntax: {}", err.message())).at(Some(&location)));
                continue;
            }
        };
        if formatted != text {
            if !args.check {
                std::fs::write(&path, formatted).map_err(|err| Diagnostic::error(format!("cannot write {}: {err}", path.display())))?;
            }
            println!("{}", path.display());
            unformatted.push(path);
        }
    }
    if errors.has_errors() {
        return Err(errors);
    }
    Ok(if args.check && !unformatted.is_empty() { EXIT_UNFORMATTED } else { 0 })
}

fn hcl_files(root: &Path) -> Vec<PathBuf> {
    if root.is_file() {
        return vec![root.to_path_buf()];
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "tf" || e == "tfvars"))
        .collect();
    files.sort();
    files
}
