//! Proof that strata made an object: what lets the engine adopt what an interrupted apply created,
//! and nothing else.
//!
//! Before every create the engine records an intent with a random id. The provider's create leaves
//! a mark that only that call can leave, tied to the intent: on AWS the create call itself carries
//! the tag [`INTENT_TAG`] with the intent's id; on PostgreSQL the creating transaction's id is
//! recorded in the intent (through [`Authorship::record`]) before COMMIT, and a live object whose
//! catalog row (`xmin`) was written by that transaction can only be the one it created. An object
//! with the same name but without the mark (made by hand, by another workspace or team) is never
//! adopted: [`crate::Provider::authored`] answers no, and the engine leaves it alone.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::error::ProviderError;

/// The tag key an AWS create sets to the intent's id. Providers hide it from state, diffs and drift.
pub const INTENT_TAG: &str = "strata:intent";

/// What recording one mark returns: done once the mark is durably stored.
pub type MarkRecorded = Pin<Box<dyn Future<Output = Result<(), ProviderError>> + Send>>;

/// Handed to a create: the intent's id, and a way to add marks to the intent before the create
/// can complete.
#[derive(Clone)]
pub struct Authorship {
    /// The intent's random id (a UUID).
    pub intent_id: String,
    recorder: Arc<dyn Fn(String) -> MarkRecorded + Send + Sync>,
    /// The marks stored so far, for a retry to tell its own earlier attempt's object from a foreign one.
    recorded: Arc<Mutex<Vec<String>>>,
}

impl Authorship {
    pub fn new(intent_id: impl Into<String>, recorder: impl Fn(String) -> MarkRecorded + Send + Sync + 'static) -> Authorship {
        Authorship { intent_id: intent_id.into(), recorder: Arc::new(recorder), recorded: Arc::default() }
    }

    /// Records `mark` in the intent and waits until it is stored: a provider calls it before the
    /// create can commit (a retry after a dropped connection records its own mark too).
    pub async fn record(&self, mark: String) -> Result<(), ProviderError> {
        (self.recorder)(mark.clone()).await?;
        self.recorded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(mark);
        Ok(())
    }

    /// The marks recorded so far through this authorship (every attempt's).
    pub fn marks(&self) -> Vec<String> {
        self.recorded.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

impl fmt::Debug for Authorship {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorship").field("intent_id", &self.intent_id).finish_non_exhaustive()
    }
}

/// What an intent holds for the authorship check: its id and the marks its create recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Proof {
    pub intent_id: String,
    pub marks: Vec<String>,
}
