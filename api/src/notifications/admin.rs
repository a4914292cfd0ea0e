//! The regulator's side, under `/v1/admin/notifications` (staff role `staff_triage`): a triage queue across
//! providers, acknowledgement, requests for information, and closure. Drafts are never the regulator's to
//! see. Every staff read of a notification's content is written to its history.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use provider_api_core::actor::Actor;
use provider_api_core::forms::fields::parse_date;
use provider_api_core::notifications::catalogue::NotificationType;
use provider_api_core::notifications::model::{Action, Event, Notification, Status};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::routes::{changed_meanwhile, single};
use super::views::*;
use crate::auth::principal::StaffTriage;
use crate::http::pagination::{After, PageQuery, ago, page};
use crate::http::{Path, Problem, Query, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(triage_queue))
        .routes(routes!(notification_counts))
        .routes(routes!(staff_get_notification))
        .routes(routes!(staff_notification_history))
        .routes(routes!(acknowledge_notification))
        .routes(routes!(request_information))
        .routes(routes!(close_notification))
}

/// Filters for the triage queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct QueueQuery {
    /// How many items to return (1–100; default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page, exactly as given: it is opaque, and anything else (an empty or made-up
    /// one) is refused with 400 `invalid_query`.
    pub cursor: Option<String>,
    /// Default: everything sent and not closed.
    pub status: Option<Status>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<NotificationType>,
    /// The provider (organisation).
    pub organisation_id: Option<Uuid>,
    pub location_id: Option<Uuid>,
    /// Only those submitted at least this many hours ago (the oldest first in any case).
    #[param(minimum = 0, maximum = 100000)]
    pub older_than_hours: Option<u32>,
}

/// The triage queue
///
/// Notifications sent by every provider, oldest first, filtered by type, status, provider, location and
/// age. Items leave out the content (reading it is recorded), the provider's own reference included.
#[utoipa::path(
    get,
    path = "/v1/admin/notifications",
    tag = tags::ADMIN,
    operation_id = "triage_queue",
    params(QueueQuery),
    responses(
        (status = 200, description = "A page of the queue", body = NotificationPage),
        (status = 403, description = "Not staff with `staff_triage`"),
    ),
)]
async fn triage_queue(
    State(state): State<AppState>,
    _staff: StaffTriage,
    Query(query): Query<QueueQuery>,
) -> Result<Json<NotificationPage>, Problem> {
    let paging = PageQuery { limit: query.limit, cursor: query.cursor.clone() };
    let (limit, after) = (paging.limit()?, paging.after()?);
    let statuses = match query.status {
        Some(Status::Draft | Status::Discarded) => Vec::new(),
        Some(status) => vec![status],
        None => vec![Status::Submitted, Status::Acknowledged, Status::InformationRequested, Status::Responded],
    };
    if statuses.is_empty() {
        return Ok(Json(NotificationPage { items: Vec::new(), next: None }));
    }
    let filter = provider_api_core::notifications::model::Filter {
        organisation_id: query.organisation_id,
        statuses,
        kind: query.kind.map(|k| k.as_str().to_owned()),
        locations: query.location_id.map(|l| vec![l]),
        submitted_before: ago(
            state.clock.now(),
            query.older_than_hours,
            100_000,
            time::Duration::HOUR,
            "older_than_hours",
        )?,
        ..Default::default()
    };
    let rows = state.store.notifications(&filter, after.created_at, after.id, i64::from(limit) + 1).await?;
    // The provider's own reference is free text in the content: staff read it with the content, which is
    // recorded, not in the queue.
    let without_content = |n| NotificationSummary { provider_reference: None, ..NotificationSummary::from(n) };
    let (items, next) = page(rows, limit, |n| After { created_at: n.created_at, id: n.id }, without_content);
    Ok(Json(NotificationPage { items, next }))
}

/// How many notifications are in each status.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusCounts {
    pub submitted: i64,
    pub acknowledged: i64,
    pub information_requested: i64,
    pub responded: i64,
    pub closed: i64,
}

/// Counts by status
///
/// How many notifications the regulator holds in each status, across providers.
#[utoipa::path(
    get,
    path = "/v1/admin/notifications/counts",
    tag = tags::ADMIN,
    operation_id = "notification_counts",
    responses(
        (status = 200, description = "Counts", body = StatusCounts),
        (status = 403, description = "Not staff with `staff_triage`"),
    ),
)]
async fn notification_counts(
    State(state): State<AppState>,
    _staff: StaffTriage,
) -> Result<Json<StatusCounts>, Problem> {
    let counts = state.store.notification_counts().await?;
    let of = |status: Status| counts.iter().find(|(s, _)| s == status.as_str()).map_or(0, |(_, n)| *n);
    Ok(Json(StatusCounts {
        submitted: of(Status::Submitted),
        acknowledged: of(Status::Acknowledged),
        information_requested: of(Status::InformationRequested),
        responded: of(Status::Responded),
        closed: of(Status::Closed),
    }))
}

/// A sent notification, or 404 (drafts are the provider's alone).
async fn sent(state: &AppState, id: Uuid) -> Result<Notification, Problem> {
    state
        .store
        .notification(id)
        .await?
        .filter(|n| n.status().sent())
        .ok_or_else(|| Problem::not_found("There is no submitted notification with this id."))
}

fn staff_actor(staff: &StaffTriage) -> Actor {
    Actor { user: Some(staff.0.id), client: None }
}

/// Read a notification (recorded)
///
/// The notification with its content. Its content is special-category data, so every read is written to
/// its history, which the provider can see.
#[utoipa::path(
    get,
    path = "/v1/admin/notifications/{notification_id}",
    tag = tags::ADMIN,
    operation_id = "staff_get_notification",
    params(("notification_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The notification", body = NotificationView,
            headers(("ETag" = String, description = "The version"))),
        (status = 403, description = "Not staff with `staff_triage`"),
    ),
)]
async fn staff_get_notification(
    State(state): State<AppState>,
    staff: StaffTriage,
    Path(id): Path<Uuid>,
) -> Result<Response, Problem> {
    let notification = sent(&state, id).await?;
    let event = Event::new(id, Action::ViewedByStaff, staff_actor(&staff), state.clock.now());
    // Recorded before the content leaves: a read that cannot be recorded does not happen.
    state.store.append_notification_event(&event).await?;
    Ok(single(StatusCode::OK, notification))
}

/// A notification's history (staff)
///
/// The same history the provider sees.
#[utoipa::path(
    get,
    path = "/v1/admin/notifications/{notification_id}/history",
    tag = tags::ADMIN,
    operation_id = "staff_notification_history",
    params(("notification_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The history", body = History),
        (status = 403, description = "Not staff with `staff_triage`"),
    ),
)]
async fn staff_notification_history(
    State(state): State<AppState>,
    _staff: StaffTriage,
    Path(id): Path<Uuid>,
) -> Result<Json<History>, Problem> {
    sent(&state, id).await?;
    let items = state.store.notification_events(id).await?.into_iter().map(HistoryEntry::from).collect();
    Ok(Json(History { items }))
}

/// Moves a sent notification one step, recording who and why.
async fn step(
    state: &AppState,
    staff: &StaffTriage,
    id: Uuid,
    next: Status,
    action: Action,
    change: impl FnOnce(&mut Notification, &mut Event),
) -> Result<Response, Problem> {
    let current = sent(state, id).await?;
    let from = current.status();
    from.transition(next)?;
    let now = state.clock.now_for(current.organisation_id);
    let mut updated = current.clone();
    updated.status = next;
    updated.version += 1;
    updated.updated_at = now;
    let mut event = Event::new(id, action, staff_actor(staff), now).transition(from, next);
    change(&mut updated, &mut event);
    if !state.store.update_notification(&updated, current.version, &[event], None).await? {
        return Err(changed_meanwhile());
    }
    Ok(single(StatusCode::OK, updated))
}

/// Acknowledge a notification
///
/// Tells the provider the regulator has it (`submitted` → `acknowledged`; 409 from any other state).
#[utoipa::path(
    post,
    path = "/v1/admin/notifications/{notification_id}/acknowledge",
    tag = tags::ADMIN,
    operation_id = "acknowledge_notification",
    params(("notification_id" = Uuid, Path)),
    responses(
        (status = 403, description = "Not staff with `staff_triage`"),
        (status = 200, description = "Acknowledged", body = NotificationView),
        (status = 409, description = "Not in a state to acknowledge"),
    ),
)]
async fn acknowledge_notification(
    State(state): State<AppState>,
    staff: StaffTriage,
    Path(id): Path<Uuid>,
) -> Result<Response, Problem> {
    step(&state, &staff, id, Status::Acknowledged, Action::Acknowledged, |_, _| {}).await
}

fn future_date(value: &str) -> Result<(), ValidationError> {
    match parse_date(value) {
        Some(date) if date >= crate::http::request_time::today() => Ok(()),
        Some(_) => Err(ValidationError::new("in_past").with_message("The due date must not be in the past.".into())),
        None => Err(ValidationError::new("not_a_date").with_message("Give a date as YYYY-MM-DD.".into())),
    }
}

/// A request to the provider for more information.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"message": "Send the falls risk assessment that was in place before the fall, and say when it was last reviewed.", "due_on": "2026-12-15"})))]
pub struct NewInformationRequest {
    /// What the regulator needs, in words the provider can act on.
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub message: String,
    /// When the answer is due (YYYY-MM-DD, today or later).
    #[validate(custom(function = "future_date"))]
    #[schema(format = Date, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$", example = "2026-12-09")]
    pub due_on: String,
}

/// Ask the provider for more information
///
/// Opens a request the provider sees on the notification and answers through
/// `POST …/notifications/{notification_id}/responses` (`acknowledged` or `responded` →
/// `information_requested`).
#[utoipa::path(
    post,
    path = "/v1/admin/notifications/{notification_id}/information-requests",
    tag = tags::ADMIN,
    operation_id = "request_information",
    params(("notification_id" = Uuid, Path)),
    request_body = NewInformationRequest,
    responses(
        (status = 403, description = "Not staff with `staff_triage`"),
        (status = 200, description = "Requested", body = NotificationView),
        (status = 409, description = "Not in a state to ask"),
    ),
)]
async fn request_information(
    State(state): State<AppState>,
    staff: StaffTriage,
    Path(id): Path<Uuid>,
    ValidatedJson(request): ValidatedJson<NewInformationRequest>,
) -> Result<Response, Problem> {
    let asked = step(&state, &staff, id, Status::InformationRequested, Action::InformationRequested, |n, event| {
        n.request_message = Some(request.message.clone());
        n.request_due_on = Some(request.due_on.clone());
        event.message = Some(request.message);
        event.due_on = Some(request.due_on);
    })
    .await;
    state.emails.wake();
    asked
}

/// How a notification was dealt with.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"outcome": "referred_to_safeguarding", "note": "Passed to the local authority's safeguarding team, which is already involved."})))]
pub struct NewClosure {
    pub outcome: Outcome,
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[serde(default)]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S", nullable = false)]
    pub note: Option<String>,
}

/// Close a notification
///
/// Records the outcome (`acknowledged` or `responded` → `closed`).
#[utoipa::path(
    post,
    path = "/v1/admin/notifications/{notification_id}/close",
    tag = tags::ADMIN,
    operation_id = "close_notification",
    params(("notification_id" = Uuid, Path)),
    request_body = NewClosure,
    responses(
        (status = 403, description = "Not staff with `staff_triage`"),
        (status = 200, description = "Closed", body = NotificationView),
        (status = 409, description = "Not in a state to close"),
    ),
)]
async fn close_notification(
    State(state): State<AppState>,
    staff: StaffTriage,
    Path(id): Path<Uuid>,
    ValidatedJson(closure): ValidatedJson<NewClosure>,
) -> Result<Response, Problem> {
    step(&state, &staff, id, Status::Closed, Action::Closed, |n, event| {
        n.outcome = Some(closure.outcome.as_str().to_owned());
        n.outcome_note = closure.note.clone();
        n.request_message = None;
        n.request_due_on = None;
        event.message = closure.note;
    })
    .await
}
