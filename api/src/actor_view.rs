//! How the record shows who did something, in every resource's history and status fields.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// Who did something: a person, software, or a person through an integrator's software (both).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub user_id: Option<Uuid>,
    /// The API client or integrator application.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub client_id: Option<Uuid>,
}

impl ActorView {
    pub fn new(user_id: Option<Uuid>, client_id: Option<Uuid>) -> Option<Self> {
        (user_id.is_some() || client_id.is_some()).then_some(Self { user_id, client_id })
    }
}

/// A person's approval of one version of a draft: the review four eyes asks for (see docs/review.md). Shown
/// while it holds (an edit clears it) and kept once the draft is sent, as the record of who reviewed it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Approval)]
pub struct ApprovalView {
    /// The person who approved.
    pub user_id: Uuid,
    /// The version approved.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: time::OffsetDateTime,
}

impl ApprovalView {
    pub fn new(user_id: Option<Uuid>, version: Option<i64>, at: Option<time::OffsetDateTime>) -> Option<Self> {
        Some(Self { user_id: user_id?, version: version?, at: at? })
    }
}
