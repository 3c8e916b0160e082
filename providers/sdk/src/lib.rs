//! The provider contract of strata.
//!
//! Owns what the engine and every provider must agree on: the [`Value`] model (with values that are
//! only known after apply), the [`schema`] a provider declares for its configuration, resources and
//! data sources, the [`change`] types that travel through plan and apply, the [`authorship`] proof
//! that lets the engine adopt only what it created, and the [`Provider`] trait.
//!
//! It must not know about the CLI, the configuration language, the state file or any particular
//! system (SQL, AWS): those live in the engine and in the provider crates.

pub mod authorship;
pub mod change;
pub mod duty;
pub mod error;
pub mod inspect;
pub mod provider;
pub mod schema;
pub mod value;

pub use authorship::{Authorship, Proof, INTENT_TAG};
pub use change::{Action, ApplyFailure, ApplyRequest, Declared, ObjectNames, PlanRequest, Progress, PlannedChange, RefreshRequest, RestoreRequest};
pub use error::ProviderError;
pub use inspect::{InspectScope, Inspected, Inspection};
pub use provider::{delete_then_create, Provider};
pub use schema::{AllowedValues, Attribute, Block, Nesting, NestedBlock, ProviderSchema, ResourceSchema, Syntax, Type};
pub use value::Value;
