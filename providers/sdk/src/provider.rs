//! The [`Provider`] trait: what every provider module implements; and [`delete_then_create`], the
//! replacement plan every provider gets unless it says more.

use async_trait::async_trait;

use crate::authorship::Proof;
use crate::change::{Action, ApplyFailure, ApplyRequest, Declared, ObjectNames, PlanRequest, PlannedChange, RefreshRequest, RestoreRequest};
use crate::error::ProviderError;
use crate::inspect::{InspectScope, Inspection};
use crate::schema::ProviderSchema;
use crate::value::Value;

/// A provider module: manages the resource types its schema declares.
///
/// The engine calls `configure` once before anything else, then `refresh`, `plan` and `apply` for
/// resources of its types, possibly concurrently. A provider must never touch an object that was not
/// handed to it in a request.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name as used in configuration (`postgres`, `aws`).
    fn name(&self) -> &'static str;

    fn schema(&self) -> &ProviderSchema;

    /// Take the evaluated `provider` block (null when there is none) and connect.
    async fn configure(&self, config: &Value) -> Result<(), ProviderError>;

    /// The state's salt (random, one per state) for the fingerprints a provider keeps of secrets
    /// it cannot read back (an instance password): the same secret in two states must give two
    /// fingerprints. Handed in before the state's resources are planned, so comparing works.
    fn use_state_salt(&self, salt: &str) {
        let _ = salt;
    }

    /// Read the live objects for many resources at once, in as few calls as the system allows.
    /// Answers one entry per request, in order: `None` when the object no longer exists.
    async fn refresh(&self, requests: &[RefreshRequest]) -> Result<Vec<Option<Value>>, ProviderError>;

    /// Decide what apply must do to bring the live object to the desired configuration.
    async fn plan(&self, request: &PlanRequest) -> Result<PlannedChange, ProviderError>;

    /// Carry out a planned change and return the object as it now is (`Value::Null` after delete).
    async fn apply(&self, request: &ApplyRequest) -> Result<Value, ApplyFailure>;

    /// Say what deleting the live object `prior` will do (shown in the plan: a final snapshot's
    /// name, say) or refuse it at plan time. Apply must then do exactly that.
    async fn plan_delete(&self, type_name: &str, prior: &Value) -> Result<PlannedChange, ProviderError> {
        let _ = (type_name, prior);
        Ok(PlannedChange::new(Action::Delete, Value::Null))
    }

    /// Plan replacing the live object `prior` with a new one made from `desired` although nothing
    /// forces it (`strata plan -replace`). The answer's action is `Replace`, its `planned` the new
    /// object; apply deletes `prior`, then creates from nothing, and asks this again just before, so
    /// whatever the answer promises (a snapshot before the delete, say) must then happen in apply.
    /// The default is [`delete_then_create`]; override it to do more than that.
    async fn plan_replace(&self, type_name: &str, prior: &Value, desired: &Value) -> Result<PlannedChange, ProviderError> {
        delete_then_create(self, type_name, prior, desired).await
    }

    /// The live object that `id` names (an instance identifier, a security group id, a table's
    /// `schema.name`), in the shape `refresh` returns, for `strata import`; `None` when there is
    /// no such object.
    async fn import(&self, type_name: &str, id: &str) -> Result<Option<Value>, ProviderError> {
        let _ = id;
        Err(ProviderError::new(format!("{} cannot import {type_name}", self.name())))
    }

    /// The id `import` accepts for the object a create of `planned` would make, found by its
    /// deterministic name (an instance identifier, a table's `schema.name`); `None` when the
    /// object has no such name or it is not yet known. The engine records it before the create so
    /// that an apply killed between the create and its state write can adopt the object later.
    fn adoption_id(&self, type_name: &str, planned: &Value) -> Option<String> {
        let _ = (type_name, planned);
        None
    }

    /// Whether `live` (what `import` found for an interrupted create's `adoption_id`) carries
    /// the mark that create left (`proof`: the intent's id and recorded marks; see
    /// [`crate::authorship`]). Only then does the engine adopt it. The default, no proof, leaves
    /// every such object alone.
    async fn authored(&self, type_name: &str, live: &Value, proof: &Proof) -> Result<bool, ProviderError> {
        let _ = (type_name, live, proof);
        Ok(false)
    }

    /// What a resource of `type_name` whose value is `value` (planned, or prior for a delete)
    /// makes and names by literal name, for apply order: see [`ObjectNames`]. The default names
    /// nothing.
    fn object_names(&self, type_name: &str, value: &Value) -> ObjectNames {
        let _ = (type_name, value);
        ObjectNames::default()
    }

    /// Warnings that need this configuration's whole plan rather than one resource's (a table
    /// whose row-level security no planned policy serves): handed every resource it planned, as
    /// it will be (deletes left out), answers one list per resource, in order.
    async fn review(&self, planned: &[Declared]) -> Result<Vec<Vec<String>>, ProviderError> {
        Ok(vec![Vec::new(); planned.len()])
    }

    /// For each request, the live objects next to it that strata does not manage (an index
    /// added by hand to a managed table), one description each, for `strata drift`. Answers one
    /// entry per request, in order.
    async fn unmanaged(&self, requests: &[RefreshRequest]) -> Result<Vec<Vec<String>>, ProviderError> {
        Ok(vec![Vec::new(); requests.len()])
    }

    /// How many calls of each kind this provider has made to the system it manages so far
    /// (API operations, catalog queries), for `-verbose`. Empty when it does not count.
    fn call_counts(&self) -> Vec<(String, u64)> {
        Vec::new()
    }

    /// Restore one of the backups the resource in `request` holds into the database it names and
    /// check it (`strata restore`); one line per step and check. Never over an existing database
    /// unless `replace_existing`.
    async fn restore(&self, request: &RestoreRequest) -> Result<Vec<String>, ProviderError> {
        Err(ProviderError::new(format!("{} cannot restore {}", self.name(), request.type_name)))
    }

    /// Every live object in `scope` that this provider's resource types can declare, for
    /// `strata inspect`. Reads only.
    async fn inspect(&self, scope: &InspectScope) -> Result<Inspection, ProviderError> {
        let _ = scope;
        Err(ProviderError::new(format!("the {} provider cannot inspect what is live", self.name())))
    }

    /// Read a data source.
    async fn read_data(&self, type_name: &str, config: &Value) -> Result<Value, ProviderError> {
        let _ = config;
        Err(ProviderError::new(format!("data source {type_name} is not supported by {}", self.name())))
    }
}

/// A replacement planned as `plan_delete` of `prior`, then `plan` of `desired` from nothing, their
/// operations and reviewer lines in that order: what [`Provider::plan_replace`] answers unless a
/// provider says more.
pub async fn delete_then_create<P: Provider + ?Sized>(provider: &P, type_name: &str, prior: &Value, desired: &Value) -> Result<PlannedChange, ProviderError> {
    let deletion = provider.plan_delete(type_name, prior).await?;
    let creation = provider.plan(&PlanRequest { type_name: type_name.to_owned(), prior: None, desired: desired.clone() }).await?;
    Ok(PlannedChange {
        action: Action::Replace,
        replace_because: vec![],
        operations: [deletion.operations, creation.operations].concat(),
        warnings: [deletion.warnings, creation.warnings].concat(),
        data_loss: [deletion.data_loss, creation.data_loss].concat(),
        locking: [deletion.locking, creation.locking].concat(),
        backups: [deletion.backups, creation.backups].concat(),
        locks: [deletion.locks, creation.locks].concat(),
        duties: [deletion.duties, creation.duties].concat(),
        planned: creation.planned,
    })
}
