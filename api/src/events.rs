//! The organisation's event feed, `GET /v1/organisations/{organisation_id}/events?after=`: every status
//! change of a notification or an application, and every document's scan result, numbered per organisation, so care-management software can
//! follow progress without polling each object. Events are thin (ids, types and statuses, never content or
//! health data); the history tables' triggers write them in the same transaction as the change.

use axum::Json;
use axum::extract::State;
use provider_api_core::capability::Capability;
use provider_api_core::events::ObjectType;
use provider_api_store::registrations::{EventFilter, OrganisationEvent};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::auth::principal::{Authorized, ReadOrg};
use crate::http::{Problem, Query};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(organisation_events))
}

/// Where to read from.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// The `seq` of the last event you have (the `next` of the previous page); 0 or absent for the start.
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// How many events to return (1–500; default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// A status change: which object, what happened, and the status it moved to.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventView {
    /// This event's position in the organisation's feed: strictly increasing, without reordering.
    pub seq: i64,
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub object_type: ObjectType,
    pub object_id: Uuid,
    /// What happened (`created`, `submitted`, `acknowledged`, `decided`, …), as in the object's history.
    #[schema(example = "submitted")]
    pub action: String,
    /// The object's status after it.
    #[schema(example = "submitted")]
    pub status: String,
    /// For a notification or a document at a location: the location.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    /// On a `submitted` event: the reference the receipt quotes.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "N-261125-7K3M9QXT")]
    pub reference: Option<String>,
}

impl From<OrganisationEvent> for EventView {
    fn from(e: OrganisationEvent) -> Self {
        Self {
            seq: e.seq,
            id: e.id,
            at: e.at,
            object_type: e.object_type,
            object_id: e.object_id,
            action: e.action,
            status: e.status,
            location_id: e.location_id,
            reference: e.reference,
        }
    }
}

/// A page of the feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventPage {
    pub items: Vec<EventView>,
    /// Pass as `after` to read on: the last event's `seq` (or your `after` again when there was nothing new).
    pub next: i64,
}

/// The organisation's event feed
///
/// Every status change of the organisation's notifications and registration applications, and every
/// document's malware-scan result, in order, after `after`. Poll with the `next` of the previous page. Events
/// carry ids, types, statuses and (on `submitted`) the receipt's reference only; see docs/events.md. You see
/// the events of what you may read: notifications with `notifications:read` and documents with
/// `documents:read` (at your locations, if your access is limited), applications with `registrations:read`
/// (and access to every location).
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/events",
    tag = tags::ORGANISATIONS,
    operation_id = "organisation_events",
    params(("organisation_id" = Uuid, Path), EventQuery),
    responses((status = 200, description = "A page of events", body = EventPage)),
)]
async fn organisation_events(
    State(state): State<AppState>,
    authorized: Authorized<ReadOrg>,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventPage>, Problem> {
    let access = &authorized.access;
    let (after, limit) = crate::http::pagination::by_seq(query.after, query.limit)?;
    let filter = EventFilter {
        notifications: access.decide(Capability::NotificationsRead, None).allowed,
        documents: access.decide(Capability::DocumentsRead, None).allowed,
        locations: access.locations.as_ref().map(|l| l.iter().copied().collect()),
        applications: access.decide(Capability::RegistrationsRead, None).allowed && access.locations.is_none(),
    };
    let items: Vec<EventView> = state
        .store
        .organisation_events(access.organisation_id, after, &filter, i64::from(limit))
        .await?
        .into_iter()
        .map(EventView::from)
        .collect();
    let next = items.last().map_or(after, |e| e.seq);
    Ok(Json(EventPage { items, next }))
}
