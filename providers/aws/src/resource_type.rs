//! What one resource type declares about itself, in one place: its schema, the form of its import
//! id, the id of the object a create makes (for adoption), how its authorship mark is checked,
//! and its refresh, plan, apply and delete entry points. `lib.rs` holds the one list of types and
//! routes every `Provider` call through it, so a new type is its module plus one line there, and
//! no call can forget a type.
//!
//! Owns the contract and the context (`Cx`) a type's entry points get. It makes no API calls.

use async_trait::async_trait;
use strata_provider_sdk::{ApplyFailure, Authorship, PlannedChange, ProviderError, ResourceSchema, Value};

use crate::config::Clients;
use crate::rds_instance::Replacements;
use crate::secrets::Vault;
use crate::standalone_rules::Claims;

/// What a type's entry points may use: the clients (in the resource's region; absent while the
/// provider is not yet configured, for offline plans) and the provider's memory between calls.
pub struct Cx<'a> {
    pub clients: Option<&'a Clients>,
    /// Passwords seen by plan, for the apply that follows (see `secrets`).
    pub vault: &'a Vault,
    /// Instances plan decided to replace, for the delete that starts each replace.
    pub replacements: &'a Replacements,
}

impl<'a> Cx<'a> {
    pub fn clients(&self) -> Result<&'a Clients, ProviderError> {
        self.clients
            .ok_or_else(|| ProviderError::new("the aws provider was used before it was configured"))
    }
}

/// A resource type whose object's name may be generated from a prefix (`name_prefix`), as
/// Terraform generates it: which attribute is the name, which the prefix.
#[derive(Clone, Copy, Debug)]
pub struct NamePrefix {
    pub name: &'static str,
    pub prefix: &'static str,
}

/// What a type declares about itself, as one constant in its module. Every field must be given:
/// a type that cannot be imported or adopted says `None`, it does not inherit a silent default.
pub struct About {
    pub name: &'static str,
    /// Its schema; the shared arguments (`region`, `tags_all`) included (`schema::regional`).
    pub schema: fn() -> ResourceSchema,
    /// What `strata import` takes, as the hint shows it ("the group name"); `None`: not importable.
    pub import_id: Option<&'static str>,
    /// The attribute naming its object, when one does: import finds the object by it (unless the
    /// type says more) and it is the adoption id of a create. `None`: the type says itself.
    pub named_by: Option<&'static str>,
    /// Arguments AWS does not keep (`skip_destroy`): refresh carries them over from state, a
    /// change to one is a state-only update, and the type's own plan never sees them change.
    pub local_arguments: &'static [&'static str],
    /// Its name may be generated from a prefix at create.
    pub name_prefix: Option<NamePrefix>,
}

/// One resource type: its `About`, and entry points. Authorship has no default: a type that
/// cannot prove it made an object must answer false in `authored` itself.
#[async_trait]
pub trait ResourceType: Sync {
    fn about(&self) -> &'static About;

    fn name(&self) -> &'static str {
        self.about().name
    }

    fn schema(&self) -> ResourceSchema {
        (self.about().schema)()
    }

    fn import_id_form(&self) -> Option<&'static str> {
        self.about().import_id
    }

    fn local_arguments(&self) -> &'static [&'static str] {
        self.about().local_arguments
    }

    fn name_prefix(&self) -> Option<NamePrefix> {
        self.about().name_prefix
    }

    /// The security group rules a state of this type manages (the standalone rule types), for
    /// the group's type to leave alone.
    fn claim_rules(&self, state: &Value, claims: &mut Claims) {
        let _ = (state, claims);
    }

    /// `live` without the rules other resources claim (the group's type).
    fn release_claimed(&self, live: &mut Value, claims: &Claims) {
        let _ = (live, claims);
    }

    /// The live objects of `states`, one answer each, in order; `None` when one is gone.
    async fn refresh(&self, cx: &Cx<'_>, states: &[&Value]) -> Result<Vec<Option<Value>>, ProviderError>;

    async fn plan(&self, cx: &Cx<'_>, prior: Option<&Value>, desired: &Value) -> Result<PlannedChange, ProviderError>;

    /// A replacement nothing forces (`-replace`), when the type does more than delete then
    /// create; `None` for the default.
    async fn plan_replace(&self, cx: &Cx<'_>, prior: &Value, desired: &Value) -> Option<Result<PlannedChange, ProviderError>> {
        let _ = (cx, prior, desired);
        None
    }

    async fn plan_delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<PlannedChange, ProviderError>;

    /// Create (no `prior`) or update; answers the object as it now is.
    async fn apply(&self, cx: &Cx<'_>, prior: Option<&Value>, planned: &Value, authorship: Option<&Authorship>) -> Result<Value, ApplyFailure>;

    async fn delete(&self, cx: &Cx<'_>, prior: &Value) -> Result<(), ApplyFailure>;

    /// The live object an import id names, in refresh's shape: by default, the object the
    /// `named_by` attribute names.
    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>, ProviderError> {
        let Some(key) = self.about().named_by else {
            return Err(ProviderError::new(format!("{} cannot be imported: it has no object of its own in AWS", self.name())));
        };
        let keyed = Value::object([(key, Value::from(id))]);
        Ok(self.refresh(cx, &[&keyed]).await?.pop().flatten())
    }

    /// The import id of the object a create of `planned` makes; `None` when it has no such id
    /// before the create (then an interrupted create cannot be adopted, and is never guessed).
    fn adoption_id(&self, planned: &Value) -> Option<String> {
        planned.get_str(self.about().named_by?).map(str::to_owned)
    }

    /// Whether `live` (what `import` found for an adoption id) carries the mark of the intent
    /// `intent_id`.
    async fn authored(&self, cx: &Cx<'_>, live: &Value, intent_id: &str) -> Result<bool, ProviderError>;
}

