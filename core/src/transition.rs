//! A step a lifecycle does not allow: what the thing is now, and why it cannot take the step. The API answers
//! it with 409 `invalid_transition` naming the current status.

/// Refused because of the state something is in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct TransitionError {
    /// The current status (`closed`).
    pub current: &'static str,
    /// What cannot happen and why, for the person who asked.
    pub detail: String,
}

impl TransitionError {
    pub fn new(current: &'static str, detail: impl Into<String>) -> Self {
        Self { current, detail: detail.into() }
    }
}
