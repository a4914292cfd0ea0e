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
