//! The error a provider reports: what went wrong and what the user can do about it.

use std::fmt;

/// An error from a provider, shown to the user as `message`, then `hint` on its own line.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderError {
    pub message: String,
    /// What to check or do; providers should say it whenever they can.
    pub hint: Option<String>,
}

impl ProviderError {
    pub fn new(message: impl Into<String>) -> Self {
        ProviderError { message: message.into(), hint: None }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Written in a hint where the resource's address belongs (a provider does not know it); the
/// engine puts the address there.
pub const ADDRESS: &str = "{address}";

/// The hint for a create that found an object of its name already there: it is someone else's.
/// `id` is what `strata import` accepts for it.
pub fn not_managed_hint(id: &str) -> String {
    format!("the object is not managed by this state (possibly another workspace or team): use `strata import {ADDRESS} {id}` to manage it, or choose another name")
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ProviderError {}
