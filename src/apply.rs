//! Carrying out a plan.
//!
//! Owns the order of work (a resource after everything it depends on; a delete after everything
//! that depended on the deleted object), running independent changes concurrently up to a bound,
//! re-evaluating each resource's configuration once its dependencies exist, recording every result
//! in state as soon as it is known (one atomic write per finished resource), recording the intent
//! before every create (so an interrupted apply's objects are adopted, not created twice; see
//! `crate::plan::adopt`), running changes that lock the same relation one at a time (see
//! `relation_locks`), and skipping what depends on a failure. It must not decide what to
//! change: that is the plan's job.

mod relation_locks;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::stream::{FuturesUnordered, StreamExt};
use strata_provider_sdk::authorship::MarkRecorded;
use strata_provider_sdk::{Action, ApplyRequest, Authorship, Declared, PlanRequest, Progress, Provider, ProviderError, Value};
use tokio::sync::{mpsc, oneshot};

use crate::addrs::{AbsResource, InstanceKey, Mode, ModuleInstance, ProviderConfig, ResourceInstance};
use crate::context::Context;
use crate::diag::{Diagnostic, Diagnostics, Result};
use crate::eval::{Known, KnownResource};
use crate::graph::Node;
use crate::plan::conditions::{instance_conditions_hold, When};
use crate::plan::guards::ignoring_changes;
use crate::plan::planner::{configure_provider, provider_error};
use crate::plan::targeting::replace_was_requested;
use crate::plan::{Plan, ResourceChange};
use crate::state::store::{now_rfc3339, StateStore};
use crate::state::{BackupRecord, OutputState, PendingCreate, State};
use relation_locks::RelationLocks;

/// How often a long-running change reports that it is still running.
pub const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// What happened, for the caller to show.
#[derive(Debug)]
pub enum Event<'a> {
    Started { address: &'a ResourceInstance, action: Action },
    Finished { address: &'a ResourceInstance, action: Action, elapsed: Duration, id: Option<String> },
    /// Sent every [`PROGRESS_EVERY`] while a change runs, so an unattended log shows it is alive.
    StillRunning { address: &'a ResourceInstance, action: Action, elapsed: Duration, detail: Option<String> },
    Failed { address: &'a ResourceInstance, action: Action },
}

#[derive(Debug, Default)]
pub struct ApplyReport {
    pub succeeded: Vec<(ResourceInstance, Action)>,
    pub failed: Vec<(ResourceInstance, Diagnostics)>,
    /// Resources not attempted, with the failed resource they waited for.
    pub skipped: Vec<(ResourceInstance, ResourceInstance)>,
    /// Where applied changes copied data aside (also recorded in state).
    pub backups: Vec<(ResourceInstance, String)>,
}

impl ApplyReport {
    pub fn is_success(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }
}

/// One unit of work: a planned change, or reading a data source.
struct Task<'p> {
    address: ResourceInstance,
    action: Action,
    change: Option<&'p ResourceChange>,
    /// The resources (and data sources) it needs first.
    dependencies: BTreeSet<AbsResource>,
    /// The provider configuration that applies it.
    provider: ProviderConfig,
}

/// What a running create asks the executor to write in its intent.
enum IntentMessage {
    /// The create is about to start.
    Announce(PendingCreate),
    /// The provider's mark of authorship (see `strata_provider_sdk::authorship`), before the create can complete.
    Mark { address: String, mark: String },
}

/// An intent change for the executor to record in state; answered once it is written.
type IntentRequest = (IntentMessage, oneshot::Sender<Result<()>>);

struct Outcome {
    value: Option<Value>,
    sensitive: BTreeSet<String>,
    /// Whether the object changed live (and state must be written).
    wrote: bool,
    /// The digest of the configuration the object now matches (see `plan::unchanged`).
    desired_digest: Option<String>,
}

pub struct Executor<'c> {
    pub ctx: &'c Context,
    pub store: &'c mut StateStore,
    pub state: State,
    pub parallelism: usize,
    /// State changes nothing live needed written at once (digests of unchanged resources): written
    /// with the run's last write.
    unsaved: bool,
    /// The resources changed since the last write: what the next journal record holds.
    touched: BTreeSet<ResourceInstance>,
}

impl<'c> Executor<'c> {
    pub fn new(ctx: &'c Context, store: &'c mut StateStore, state: State, parallelism: usize) -> Executor<'c> {
        Executor { ctx, store, state, parallelism, unsaved: false, touched: BTreeSet::new() }
    }
    pub async fn run(mut self, plan: &Plan, observe: &dyn Fn(Event<'_>)) -> (State, ApplyReport, Diagnostics) {
        self.ctx.providers.use_state_salt(&self.state.secret_salt);
        let mut known = initial_known(plan);
        let tasks = tasks(self.ctx, plan, &self.state, &known);
        let waits_for = ordering(&tasks);
        let mut report = ApplyReport::default();
        let mut errors = Diagnostics::default();
        if let Err(err) = self.record_moves(plan) {
            errors.extend(err);
            return (self.state, report, errors);
        }
        // Consent covers what the reviewed plan showed; data loss that appears only now was never reviewed.
        let consented = plan.allow_data_loss || plan.destroy;
        let mut started: BTreeSet<usize> = BTreeSet::new();
        let mut failed: BTreeMap<usize, ResourceInstance> = BTreeMap::new();
        // Declared before `running`, whose tasks borrow it.
        let relation_locks = RelationLocks::default();
        let mut running = FuturesUnordered::new();
        let mut begun_at: BTreeMap<usize, (Instant, Progress)> = BTreeMap::new();
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + PROGRESS_EVERY, PROGRESS_EVERY);
        // Once per provider configuration, not per task: each scans every task.
        let providers: BTreeSet<&ProviderConfig> = tasks.iter().map(|t| &t.provider).collect();
        let provider_needs: BTreeMap<&ProviderConfig, BTreeSet<AbsResource>> = providers
            .into_iter()
            .map(|provider| {
                let blocks = self.ctx.graph.resource_dependencies(&Node::Provider(provider.clone()));
                (provider, self.ctx.resources_seen_from(&ModuleInstance::root(), &blocks, tasks.iter().map(|t| &t.address)))
            })
            .collect();
        // Tasks run concurrently but the state has one writer: this loop.
        let (intent_sender, mut intent_requests) = mpsc::unbounded_channel::<IntentRequest>();
        let mut schedule = Schedule::new(&waits_for);
        loop {
            while running.len() < self.parallelism.max(1) {
                let Some(index) = schedule.next_ready() else { break };
                let task = &tasks[index];
                started.insert(index);
                let progress = Progress::default();
                begun_at.insert(index, (Instant::now(), progress.clone()));
                if task.action.is_change() {
                    observe(Event::Started { address: &task.address, action: task.action });
                }
                let snapshot = visible_to(self.ctx, &known, task, &provider_needs[&task.provider]);
                let ctx = self.ctx;
                let intents = intent_sender.clone();
                let relation_locks = &relation_locks;
                running.push(async move {
                    let begun = Instant::now();
                    let result = run_task(ctx, task, &snapshot, &intents, relation_locks, consented, &progress).await;
                    (index, result, begun.elapsed())
                });
            }
            let finished = tokio::select! {
                finished = running.next() => finished,
                Some((intent, written)) = intent_requests.recv() => {
                    let _ = written.send(self.record_intent(intent));
                    continue;
                }
                _ = ticker.tick() => {
                    for (&index, (begun, progress)) in begun_at.iter().filter(|(&i, _)| tasks[i].action.is_change()) {
                        observe(Event::StillRunning { address: &tasks[index].address, action: tasks[index].action, elapsed: begun.elapsed(), detail: progress.latest() });
                    }
                    continue;
                }
            };
            let Some((index, result, elapsed)) = finished else { break };
            begun_at.remove(&index);
            let task = &tasks[index];
            match result {
                Ok(outcome) => {
                    schedule.finished(index);
                    if let Some(change) = task.change.filter(|c| c.action.is_change()) {
                        report.backups.extend(self.record_backups(change));
                    }
                    if let Err(err) = self.record(task, &outcome) {
                        errors.extend(err);
                    }
                    if task.action.is_change() {
                        let id = outcome.value.as_ref().and_then(|v| v.get_str("id")).map(str::to_owned);
                        observe(Event::Finished { address: &task.address, action: task.action, elapsed, id });
                        report.succeeded.push((task.address.clone(), task.action));
                    }
                    if let Some(value) = outcome.value {
                        known.insert(task.address.clone(), KnownResource { value, sensitive: outcome.sensitive });
                    }
                }
                Err(failure) => {
                    if let Err(err) = self.record_failure(task, failure.partial, failure.in_doubt) {
                        errors.extend(err);
                    }
                    observe(Event::Failed { address: &task.address, action: task.action });
                    failed.insert(index, task.address.clone());
                    report.failed.push((task.address.clone(), failure.error));
                }
            }
        }
        for (index, task) in tasks.iter().enumerate() {
            if !started.contains(&index) {
                let cause = first_failed_cause(index, &waits_for, &failed).unwrap_or_else(|| task.address.clone());
                report.skipped.push((task.address.clone(), cause));
            }
        }
        if report.is_success() {
            if let Err(err) = self.record_outputs(plan, &known) {
                errors.extend(err);
            }
        }
        // The run ends with the state whole again (the journal's records folded in).
        if let Err(err) = self.store.fold_journal(&self.state) {
            errors.extend(err);
        }
        (self.state, report, errors)
    }

    /// Puts one finished task into state and writes it.
    fn record(&mut self, task: &Task<'_>, outcome: &Outcome) -> Result<()> {
        let before = (self.state.get(&task.address).map(|i| i.state.clone()), self.state.pending.len());
        // The intent goes in the same write as the result it announced.
        let address = task.address.to_string();
        self.state.pending.retain(|p| p.address != address);
        match &outcome.value {
            Some(value) => {
                self.state.put(&task.address, &task.provider, value, outcome.sensitive.clone(), &task.dependencies);
                self.state.set_desired_digest(&task.address, outcome.desired_digest.clone());
            }
            None => {
                self.state.remove(&task.address);
            }
        }
        if let Some(change) = task.change {
            self.state.set_prevent_destroy(&task.address, change.prevent_destroy);
        }
        let changed = (self.state.get(&task.address).map(|i| i.state), self.state.pending.len()) != (before.0.as_ref(), before.1);
        if changed {
            self.touched.insert(task.address.clone());
        }
        if changed && (outcome.wrote || task.address.mode() == Mode::Data || task.action == Action::Delete) {
            self.persist()?;
        } else if changed {
            self.unsaved = true;
        }
        Ok(())
    }

    /// Records what a failed task left: the object it reports (with its intent dropped, as in
    /// `record`), else only the intent dropped. An intent stays only when the create may have
    /// completed unseen (`in_doubt`): any other failed create made nothing of strata's, and an
    /// object by its name is someone else's, never to be adopted.
    fn record_failure(&mut self, task: &Task<'_>, partial: Option<Value>, in_doubt: bool) -> Result<()> {
        match partial {
            Some(partial) => self.record(task, &Outcome { value: Some(partial).filter(|v| !v.is_null()), sensitive: BTreeSet::new(), wrote: true, desired_digest: None }),
            None if in_doubt => Ok(()),
            None => {
                let address = task.address.to_string();
                let before = self.state.pending.len();
                self.state.pending.retain(|p| p.address != address);
                if self.state.pending.len() != before { self.persist() } else { Ok(()) }
            }
        }
    }

    /// Moves state to the addresses the plan's moves name, in one write before anything else runs,
    /// so a plan whose only change is a move still records it.
    fn record_moves(&mut self, plan: &Plan) -> Result<()> {
        let before = self.state.clone();
        for change in &plan.changes {
            if let Some(from) = change.moved_from.as_ref().filter(|from| before.get(from).is_some() && before.get(&change.address).is_none()) {
                self.state.rename(from, &change.address);
            }
        }
        if self.state != before { self.persist_whole() } else { Ok(()) }
    }

    /// Adds the backups an applied change took to state (written with the change's own result).
    fn record_backups(&mut self, change: &ResourceChange) -> Vec<(ResourceInstance, String)> {
        let taken_at = now_rfc3339();
        for location in &change.backups {
            self.state.backups.push(BackupRecord { address: change.address.to_string(), location: location.clone(), taken_at: taken_at.clone() });
        }
        change.backups.iter().map(|location| (change.address.clone(), location.clone())).collect()
    }

    /// Writes the intent to create a resource before its provider is asked to, and the marks its
    /// provider records before the create can complete.
    fn record_intent(&mut self, message: IntentMessage) -> Result<()> {
        match message {
            IntentMessage::Announce(intent) => {
                self.state.pending.retain(|p| p.address != intent.address);
                self.state.pending.push(intent);
            }
            IntentMessage::Mark { address, mark } => match self.state.pending.iter_mut().find(|p| p.address == address) {
                Some(intent) => intent.marks.push(mark),
                None => return Err(Diagnostic::error(format!("{address}: a mark of authorship came for a create with no intent recorded")).into()),
            },
        }
        self.persist()
    }

    /// Writes what changed since the last write, as one journal record.
    fn persist(&mut self) -> Result<()> {
        self.unsaved = false;
        self.state.serial += 1;
        self.store.write_change(&self.state, &std::mem::take(&mut self.touched))
    }

    /// Writes the whole state, folding in the journal.
    fn persist_whole(&mut self) -> Result<()> {
        self.unsaved = false;
        self.state.serial += 1;
        self.touched.clear();
        self.store.write(&self.state)
    }

    fn record_outputs(&mut self, plan: &Plan, known: &Known) -> Result<()> {
        let scope = self.ctx.scope(known);
        let mut outputs = BTreeMap::new();
        if !plan.destroy {
            for (name, output) in &self.ctx.config.outputs {
                let value = scope.eval_attr(&output.value)?.value;
                if !value.is_wholly_known() {
                    // It reads a resource -target or -exclude left out, never created: it stays as recorded.
                    outputs.extend(self.state.outputs.get(name).map(|recorded| (name.clone(), recorded.clone())));
                    continue;
                }
                outputs.insert(name.clone(), OutputState { value: value.to_json(), sensitive: output.sensitive });
            }
        }
        if outputs != self.state.outputs || self.state.serial == 0 || self.unsaved {
            self.state.outputs = outputs;
            self.persist_whole()?;
        }
        Ok(())
    }
}

/// What a task can read of `known`: what it depends on, and what its provider's block refers to
/// (not the whole map: a copy of that for every task would cost the square of the estate). A
/// periodic resource's apply, rare and handed the configuration beside it (see
/// `declared_beside`), reads all of it.
fn visible_to(ctx: &Context, known: &Known, task: &Task<'_>, provider_needs: &BTreeSet<AbsResource>) -> Known {
    let periodic = task.change.is_some() && ctx.providers.resource_schema(&task.address.resource).is_ok_and(|schema| schema.periodic);
    if periodic {
        return known.clone();
    }
    task.dependencies.iter().chain(provider_needs).flat_map(|resource| instances_of(known, resource)).map(|(a, k)| (a.clone(), k.clone())).collect()
}

/// The known instances of `resource`: a range of the map, since instances sort by resource first.
fn instances_of<'k>(known: &'k Known, resource: &'k AbsResource) -> impl Iterator<Item = (&'k ResourceInstance, &'k KnownResource)> {
    known.range(resource.instance(InstanceKey::None)..).take_while(move |(address, _)| address.module == resource.module && address.resource == resource.resource)
}

/// The planned changes plus a read for every instance of every data source, expanded with what
/// is `known` before apply starts.
fn tasks<'p>(ctx: &Context, plan: &'p Plan, state: &State, known: &Known) -> Vec<Task<'p>> {
    let mut tasks: Vec<Task<'p>> = plan
        .changes
        .iter()
        .map(|c| {
            let provider = ctx.provider_of(&c.address, state.get(&c.address).map(|i| i.provider()));
            Task { address: c.address.clone(), action: c.action, change: Some(c), dependencies: c.dependencies.clone(), provider }
        })
        .collect();
    if !plan.destroy {
        // A data source may read what another one found (subnets of the VPC found first).
        for (address, _) in ctx.config.all_resources().filter(|(a, _)| a.resource.mode == Mode::Data) {
            // Instances that cannot be told yet are read by no task; what refers to them fails as unknown.
            for (instance, _) in ctx.instances_of(&address, known).ok().flatten().unwrap_or_default() {
                let dependencies = ctx.dependencies_of(&instance, known);
                let provider = ctx.provider_of(&instance, None);
                tasks.push(Task { address: instance, action: Action::NoOp, change: None, dependencies, provider });
            }
        }
    }
    tasks
}

/// For each task, the tasks it must wait for.
/// Dependencies name whole resources, so a task waits for every instance of them.
fn ordering(tasks: &[Task<'_>]) -> Vec<BTreeSet<usize>> {
    let mut of_resource: BTreeMap<AbsResource, Vec<usize>> = BTreeMap::new();
    for (i, task) in tasks.iter().enumerate() {
        of_resource.entry(task.address.resource()).or_default().push(i);
    }
    let mut dependants: BTreeMap<&AbsResource, Vec<usize>> = BTreeMap::new();
    for (j, task) in tasks.iter().enumerate() {
        for dependency in &task.dependencies {
            dependants.entry(dependency).or_default().push(j);
        }
    }
    let mut waits_for = vec![BTreeSet::new(); tasks.len()];
    for (i, task) in tasks.iter().enumerate() {
        if task.action == Action::Delete {
            // Everything that depended on the deleted object goes first.
            waits_for[i].extend(dependants.get(&task.address.resource()).into_iter().flatten().filter(|&&j| j != i));
        } else {
            let upstream = task.dependencies.iter().filter_map(|d| of_resource.get(d)).flatten();
            waits_for[i].extend(upstream.filter(|&&j| j != i && tasks[j].action != Action::Delete));
        }
    }
    waits_for
}

/// Which tasks may start: those whose every dependency finished. Kept as counts, so finding the
/// next costs nothing like a scan of every task.
struct Schedule {
    /// For each task, how many of its dependencies have not finished yet.
    unfinished: Vec<usize>,
    dependants: Vec<Vec<usize>>,
    /// Ready and not started, in task order.
    ready: BTreeSet<usize>,
}

impl Schedule {
    fn new(waits_for: &[BTreeSet<usize>]) -> Schedule {
        let mut dependants = vec![Vec::new(); waits_for.len()];
        for (task, dependencies) in waits_for.iter().enumerate() {
            for &dependency in dependencies {
                dependants[dependency].push(task);
            }
        }
        let unfinished: Vec<usize> = waits_for.iter().map(BTreeSet::len).collect();
        let ready = (0..waits_for.len()).filter(|&task| unfinished[task] == 0).collect();
        Schedule { unfinished, dependants, ready }
    }

    fn next_ready(&mut self) -> Option<usize> {
        self.ready.pop_first()
    }

    /// `task` succeeded: what waited only for it is ready. (What waits for a failed task never is.)
    fn finished(&mut self, task: usize) {
        for &dependant in &self.dependants[task] {
            self.unfinished[dependant] -= 1;
            if self.unfinished[dependant] == 0 {
                self.ready.insert(dependant);
            }
        }
    }
}

fn first_failed_cause(index: usize, waits_for: &[BTreeSet<usize>], failed: &BTreeMap<usize, ResourceInstance>) -> Option<ResourceInstance> {
    let mut stack = vec![index];
    let mut seen = BTreeSet::new();
    while let Some(current) = stack.pop() {
        for &dependency in &waits_for[current] {
            if let Some(address) = failed.get(&dependency) {
                return Some(address.clone());
            }
            if seen.insert(dependency) {
                stack.push(dependency);
            }
        }
    }
    None
}

/// Unchanged resources are known from the start, and so are those about to be deleted, as they
/// are until then (a provider block may still need them to reach what is deleted first).
fn initial_known(plan: &Plan) -> Known {
    let as_known = |c: &ResourceChange| match c.action {
        Action::NoOp => c.after.clone(),
        Action::Delete => c.before.clone(),
        _ => None,
    };
    plan.changes
        .iter()
        .filter_map(|c| as_known(c).map(|value| (c.address.clone(), KnownResource { value, sensitive: c.sensitive.clone() })))
        .collect()
}

/// Why a task failed, and what it left.
struct TaskError {
    error: Diagnostics,
    /// The object as it now is, when state must record it (`Some(Value::Null)`: known to be gone).
    partial: Option<Value>,
    /// A create was sent and may have completed: its intent stays.
    in_doubt: bool,
}

impl From<Diagnostics> for TaskError {
    fn from(error: Diagnostics) -> TaskError {
        TaskError { error, partial: None, in_doubt: false }
    }
}

async fn run_task(
    ctx: &Context,
    task: &Task<'_>,
    known: &Known,
    intents: &mpsc::UnboundedSender<IntentRequest>,
    relation_locks: &RelationLocks,
    consented: bool,
    progress: &Progress,
) -> std::result::Result<Outcome, TaskError> {
    let location = ctx.config.resource(&task.address.config()).map(|r| r.location.clone());
    let subject = task.address.to_string();
    let provider = ctx.providers.get(&task.provider)?;
    if !configure_provider(ctx, &task.provider, known).await? {
        let why = Diagnostic::error(format!("provider \"{}\" is still not fully configured when {subject} is due", task.provider))
            .hint("its provider block refers to values that no resource applied before this one provides; check the provider block's references");
        return Err(Diagnostics::from(why).into());
    }
    let Some(change) = task.change else {
        let (desired, sensitive) = ctx.desired(&task.address, known)?;
        let value = provider.read_data(task.address.type_name(), &desired).await.map_err(|e| provider_error(&subject, e, location.as_ref()))?;
        return Ok(Outcome { value: Some(value), sensitive, wrote: false, desired_digest: None });
    };
    let apply = |request: ApplyRequest| {
        let (subject, location) = (subject.clone(), location.clone());
        async move {
            provider.apply(&request).await.map_err(|failure| TaskError {
                error: provider_error(&subject, failure.error, location.as_ref()),
                partial: failure.partial,
                in_doubt: failure.in_doubt,
            })
        }
    };
    let delete = |old: Value| apply(ApplyRequest { type_name: task.address.type_name().to_owned(), action: Action::Delete, prior: Some(old), planned: Value::Null, authorship: None, declared: vec![], progress: progress.clone() });
    match change.action {
        // A state-only update (a move, prevent_destroy) is still written.
        Action::NoOp => {
            let wrote = !change.state_updates.is_empty() || change.importing.is_some();
            Ok(Outcome { value: change.before.clone(), sensitive: change.sensitive.clone(), wrote, desired_digest: change.desired_digest.clone() })
        }
        Action::Delete => {
            // A forgotten resource (removed block, destroy = false) only leaves the state.
            if let Some(prior) = change.before.as_ref().filter(|_| !change.forget) {
                let deletion = provider.plan_delete(task.address.type_name(), prior).await.map_err(|e| provider_error(&subject, e, None))?;
                let _held = relation_locks.hold(&task.provider.to_string(), &deletion.locks).await;
                delete(prior.clone()).await?;
            }
            Ok(Outcome { value: None, sensitive: BTreeSet::new(), wrote: true, desired_digest: None })
        }
        Action::Create | Action::Update | Action::Replace => {
            instance_conditions_hold(ctx, &task.address, When::Before, None, known)?;
            let (desired, sensitive) = ctx.desired(&task.address, known)?;
            // A replacement -replace asked for is planned as the planner did, by the provider's plan_replace (which may
            // promise a snapshot before the delete: asking again here makes this process keep that promise).
            let requested = change.before.as_ref().filter(|_| replace_was_requested(change));
            let prior = if requested.is_some() { None } else { change.before.clone() };
            let desired = ignoring_changes(ctx, &task.address.config(), desired, prior.as_ref());
            let type_name = task.address.type_name().to_owned();
            let final_plan = match requested {
                Some(old) => provider.plan_replace(&type_name, old, &desired).await,
                None => provider.plan(&PlanRequest { type_name, prior, desired }).await,
            };
            let final_plan = final_plan.map_err(|e| provider_error(&subject, e, None))?;
            if final_plan.action != change.action {
                return Err(inconsistent(&task.address, change.action, final_plan.action).into());
            }
            if !consented && change.data_loss.is_empty() && !final_plan.data_loss.is_empty() {
                return Err(unreviewed_data_loss(&task.address, &final_plan.data_loss).into());
            }
            // Held until the task ends: through a replacement's delete, create and, last, old object's delete.
            let _held = relation_locks.hold(&task.provider.to_string(), &final_plan.locks).await;
            let mut prior = change.before.clone();
            let replacing = change.action == Action::Replace;
            // create_before_destroy keeps the old object until the new one exists.
            let old = if replacing && change.create_before_destroy { prior.take() } else { None };
            if replacing && !change.create_before_destroy {
                if let Some(old) = prior.take() {
                    // A provider that failed before deleting anything (a replace's snapshot, say) hands the old object back.
                    delete(old).await.map_err(|failure| TaskError { partial: failure.partial.or(Some(Value::Null)), ..failure })?;
                }
            }
            let action = if replacing { Action::Create } else { change.action };
            // After a replace's delete nothing is left; with create_before_destroy the old object still is, and stays in state.
            let deleted_first = replacing && old.is_none();
            let authorship = match action {
                Action::Create => announce_create(provider.as_ref(), &task.provider, &task.address, &final_plan.planned, intents)
                    .await
                    .map_err(|error| TaskError { error, partial: deleted_first.then_some(Value::Null), in_doubt: false })?,
                _ => None,
            };
            let declared = declared_beside(ctx, &task.address, known)?;
            let value = apply(ApplyRequest { type_name: task.address.type_name().to_owned(), action, prior, planned: final_plan.planned, authorship, declared, progress: progress.clone() })
                .await
                .map_err(|failure| {
                    let partial = if deleted_first { failure.partial.or(Some(Value::Null)) } else if old.is_some() { None } else { failure.partial };
                    TaskError { partial, ..failure }
                })?;
            if let Some(old) = old {
                delete(old).await.map_err(|failure| TaskError { error: old_object_left(&task.address, failure.error), partial: Some(value.clone()), in_doubt: false })?;
            }
            // A postcondition only apply could tell fails the task with the object recorded as it now is.
            if let Err(error) = instance_conditions_hold(ctx, &task.address, When::After, Some(&value), known) {
                return Err(TaskError { error, partial: Some(value), in_doubt: false });
            }
            Ok(Outcome { value: Some(value), sensitive, wrote: true, desired_digest: change.desired_digest.clone() })
        }
    }
}

/// For a periodic resource (a duty such as a restore drill), the other managed resources of its
/// provider as the configuration declares them; for any other, none. A resource whose desired
/// value is not wholly known yet (it refers to one still being applied) is left out: the duty
/// checks what the configuration settles.
fn declared_beside(ctx: &Context, address: &ResourceInstance, known: &Known) -> std::result::Result<Vec<Declared>, TaskError> {
    if !ctx.providers.resource_schema(&address.resource)?.periodic {
        return Ok(vec![]);
    }
    let beside = ctx.config.all_resources().filter(|(other, _)| other.resource.mode == Mode::Managed && other.provider() == address.provider());
    let not_periodic = beside.filter(|(other, _)| ctx.providers.resource_schema(&other.resource).is_ok_and(|schema| !schema.periodic));
    let instances = not_periodic.flat_map(|(other, _)| ctx.instances_of(&other, known).ok().flatten().unwrap_or_default().into_iter().map(|(instance, _)| instance));
    let declared = instances.filter_map(|other| {
        let (desired, _) = ctx.desired(&other, known).ok().filter(|(desired, _)| desired.is_wholly_known())?;
        Some(Declared { address: other.to_string(), type_name: other.type_name().to_owned(), desired })
    });
    Ok(declared.collect())
}

/// Has the executor record the intent to create `address` (when its provider can name the object
/// the create makes) and waits until it is written: only then may the create start. Answers the
/// authorship the create gets: the intent's random id, and a way to add marks to it.
async fn announce_create(provider: &dyn Provider, config: &ProviderConfig, address: &ResourceInstance, planned: &Value, intents: &mpsc::UnboundedSender<IntentRequest>) -> Result<Option<Authorship>> {
    let Some(import_id) = provider.adoption_id(address.type_name(), planned) else { return Ok(None) };
    let intent = PendingCreate {
        address: address.to_string(),
        type_name: address.type_name().to_owned(),
        provider: config.to_string(),
        import_id,
        id: uuid::Uuid::new_v4().to_string(),
        marks: vec![],
        recorded_at: now_rfc3339(),
    };
    let authorship = Authorship::new(intent.id.clone(), mark_recorder(address.to_string(), intents.clone()));
    write_intent(intents, IntentMessage::Announce(intent)).await.map_err(|()| {
        Diagnostic::error(format!("{address}: apply stopped before the intent to create it was recorded; nothing was created"))
    })??;
    Ok(Some(authorship))
}

/// How a provider adds a mark to the intent of `address`: through the executor, which writes it.
fn mark_recorder(address: String, intents: mpsc::UnboundedSender<IntentRequest>) -> impl Fn(String) -> MarkRecorded + Send + Sync {
    move |mark| {
        let (address, intents) = (address.clone(), intents.clone());
        Box::pin(async move {
            let message = IntentMessage::Mark { address: address.clone(), mark };
            match write_intent(&intents, message).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(error)) => Err(ProviderError::new(format!("{address}: the mark of authorship could not be recorded: {error}"))),
                Err(()) => Err(ProviderError::new(format!("{address}: apply stopped before the mark of authorship was recorded"))),
            }
        })
    }
}

/// Sends one intent change to the executor and waits for its write; `Err(())` when apply stopped first.
async fn write_intent(intents: &mpsc::UnboundedSender<IntentRequest>, message: IntentMessage) -> std::result::Result<Result<()>, ()> {
    let (written, on_written) = oneshot::channel();
    intents.send((message, written)).map_err(|_| ())?;
    on_written.await.map_err(|_| ())
}

/// The new object of a create_before_destroy replacement exists and is recorded; the old one could not be deleted.
fn old_object_left(address: &ResourceInstance, error: Diagnostics) -> Diagnostics {
    let mut all = error;
    all.push(
        Diagnostic::error(format!("{address}: the new object was created and recorded in state, but the old one could not be deleted"))
            .hint("the old object is no longer managed by strata: delete it by hand once the cause above is fixed"),
    );
    all
}

/// The reviewed plan lost no data here, but the plan made with the values now known does.
fn unreviewed_data_loss(address: &ResourceInstance, lines: &[String]) -> Diagnostics {
    Diagnostic::error(format!("{address}: with the values now known this change loses data, which the reviewed plan did not show"))
        .detail(lines.iter().map(|line| crate::secrets::redact(line)).collect::<Vec<_>>().join("\n"))
        .hint("nothing was changed for this resource; run strata plan again to review it, and apply with -allow-data-loss if the loss is intended")
        .into()
}

fn inconsistent(address: &ResourceInstance, planned: Action, now: Action) -> Diagnostics {
    Diagnostic::error(format!("{address}: the plan said {planned:?}, but with the values now known the provider says {now:?}"))
        .hint("something changed since the plan was made; run strata plan again")
        .into()
}
