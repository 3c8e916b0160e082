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
