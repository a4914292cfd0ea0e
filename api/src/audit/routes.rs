//! `GET /v1/admin/audit` (staff role `staff_admin`): the trail, filtered and paged by chain position. Reading
//! it is itself recorded.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use provider_api_core::audit::{Entry, Filter, timestamp};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::principal::StaffAdmin;
use crate::http::{Problem, Query};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_audit_entries))
}

/// Filters (all optional, combined with AND).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The `seq` of the last entry you have (the `next` of the previous page); 0 or absent for the start.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// How many entries to return (1–500; default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// A person's or an API client's id.
    pub actor: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    /// An operation id (`submit_notification`) or command (`cli.create_staff`).
    #[param(max_length = 100)]
    pub action: Option<String>,
    /// Entries whose object path starts with this (`/v1/organisations/{id}/notifications/{id}`).
    #[param(max_length = 500)]
    pub object: Option<String>,
    /// At or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<OffsetDateTime>,
}

/// An entry of the audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Its position in the chain: 1, 2, 3… without gaps.
    pub seq: i64,
    pub id: Uuid,
    /// When (RFC 3339, microseconds, UTC), as hashed.
    pub at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub actor_user: Option<Uuid>,
    /// The API client, or for a person through an integrator application, that application.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub actor_client: Option<Uuid>,
    /// The operation (`submit_notification`) or command.
    pub action: String,
    pub method: String,
    /// The object's path; for a creation, the new object's.
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub organisation_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub request_id: Option<String>,
    /// The HTTP status answered (0 for a command).
    pub status: i32,
    /// Anything else kept (the client address), as JSON text.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub detail: Option<String>,
    /// SHA-256 (hex) of the entry before it (64 zeros for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) over `prev_hash`, a newline and the canonical JSON of the fields above.
    pub hash: String,
}

impl From<Entry> for AuditEntryView {
    fn from(e: Entry) -> Self {
        Self {
            seq: e.seq,
            id: e.id,
            at: e.at,
            actor_user: e.actor_user,
            actor_client: e.actor_client,
            action: e.action,
            method: e.method,
            object: e.object,
            organisation_id: e.organisation_id,
            request_id: e.request_id,
            status: e.status,
            detail: e.detail,
            prev_hash: e.prev_hash,
            hash: e.hash,
        }
    }
}

/// A page of the trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    /// Pass as `after` to read on: the last entry's `seq` (or your `after` again when there was nothing more).
    pub next: i64,
}

/// The audit trail
///
/// Every state change made through the API, every sign-in (successful or not) and every staff read of
/// sensitive content, in chain order: who (person and client), what, which object, when and the request id.
/// Entries cannot be changed or removed; `provider-api audit verify` checks the hash chain.
#[utoipa::path(
    get,
    path = "/v1/admin/audit",
    tag = tags::ADMIN,
    operation_id = "list_audit_entries",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 403, description = "Not staff with `staff_admin`"),
    ),
)]
async fn list_audit_entries(
    State(state): State<AppState>,
    _: StaffAdmin,
    Query(query): Query<AuditQuery>,
) -> Result<Json<AuditPage>, Problem> {
    let (after, limit) = crate::http::pagination::by_seq(query.after, query.limit)?;
    if query.action.as_ref().is_some_and(|a| a.chars().count() > 100)
        || query.object.as_ref().is_some_and(|o| o.chars().count() > 500)
    {
        return Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            "The query string is invalid",
            "action is at most 100 characters, object at most 500.",
        ));
    }
    let filter = Filter {
        actor: query.actor,
        organisation_id: query.organisation_id,
        action: query.action,
        object_prefix: query.object,
        from: query.from.map(timestamp),
        before: query.before.map(timestamp),
    };
    let items: Vec<AuditEntryView> = state
        .store
        .audit_entries(&filter, after, i64::from(limit))
        .await?
        .into_iter()
        .map(AuditEntryView::from)
        .collect();
    let next = items.last().map_or(after, |e| e.seq);
    Ok(Json(AuditPage { items, next }))
}
