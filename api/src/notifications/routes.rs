//! The provider's side: drafting, validating, submitting and answering notifications, under
//! `/v1/organisations/{organisation_id}/notifications`, and the public catalogue of types.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use provider_api_core::capability::Capability;
use provider_api_core::field_error::FieldError;
use provider_api_core::forms::validation::Completeness;
use provider_api_core::notifications::catalogue::{LocationRule, NotificationContent, NotificationType};
use provider_api_core::notifications::model::{Action, Event, Filter, Notification, Status};
use provider_api_core::notifications::receipt;
use provider_api_core::notifications::validation::check;
use provider_api_core::notifications::workflow;
use provider_api_core::stored::JsonText;
use provider_api_store::SubmissionContext;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::views::*;
use crate::auth::principal::{
    Access, Authorized, Principal, ReadNotifications, SubmitNotifications, WriteNotifications,
};
use crate::http::etag::stale;
use crate::http::idempotency::{Claim, Claimed, IdempotencyKey, IdempotencyKeyHeader};
use crate::http::pagination::{After, PageQuery, page};
use crate::http::{IfMatch, Path, Problem, Query, ValidatedJson, ValidatedJsonBytes};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notification_types))
        .routes(routes!(list_notifications, create_notification))
        .routes(routes!(get_notification, update_notification))
        .routes(routes!(validate_notification))
        .routes(routes!(approve_notification))
        .routes(routes!(request_notification_review))
        .routes(routes!(submit_notification))
        .routes(routes!(discard_notification))
        .routes(routes!(notification_history))
        .routes(routes!(respond_to_notification))
        .routes(routes!(submit_new_notification))
}

/// List notification types
///
/// Every statutory notification type, with the regulation behind it, its deadline, and the JSON Schema of
/// its form: the very schema the server validates against, so software can check a form offline and be
/// sure the server agrees. Rules a schema cannot state (a date not in the future, the NHS number's check
/// digit, one field required because of another) are named in the field descriptions.
#[utoipa::path(
    get,
    path = "/v1/notification-types",
    tag = tags::NOTIFICATIONS,
    operation_id = "list_notification_types",
    security(()),
    responses((status = 200, description = "Every type", body = NotificationTypeList)),
)]
async fn list_notification_types() -> Json<NotificationTypeList> {
    let items = NotificationType::ALL
        .iter()
        .map(|&kind| {
            let info = kind.info();
            NotificationTypeView {
                kind,
                title: info.title,
                regulation: info.regulation,
                deadline: info.deadline,
                location: info.location,
                follows: info.follows,
                schema_version: info.schema_version,
                schema: kind.json_schema(),
            }
        })
        .collect();
    Json(NotificationTypeList { items })
}

/// Filters for a list of notifications (all optional, combined with AND).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    /// How many items to return (1–100; default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page, exactly as given: it is opaque, and anything else (an empty or made-up
    /// one) is refused with 400 `invalid_query`.
    pub cursor: Option<String>,
    pub status: Option<Status>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<NotificationType>,
    pub location_id: Option<Uuid>,
    /// Created at or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_from: Option<OffsetDateTime>,
    /// Created before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub created_before: Option<OffsetDateTime>,
    /// Submitted at or after (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub submitted_from: Option<OffsetDateTime>,
    /// Submitted before (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub submitted_before: Option<OffsetDateTime>,
    /// Created by this person or API client.
    pub created_by: Option<Uuid>,
}

impl NotificationQuery {
    pub fn page(&self) -> PageQuery {
        PageQuery { limit: self.limit, cursor: self.cursor.clone() }
    }

    pub fn filter(&self) -> Filter {
        Filter {
            organisation_id: None,
            statuses: self.status.into_iter().collect(),
            kind: self.kind.map(|k| k.as_str().to_owned()),
            locations: self.location_id.map(|l| vec![l]),
            created_from: self.created_from,
            created_before: self.created_before,
            submitted_from: self.submitted_from,
            submitted_before: self.submitted_before,
            created_by: self.created_by,
        }
    }
}

/// List notifications
///
/// The organisation's notifications, oldest first, filtered and a page at a time. A member whose access is
/// limited to some locations sees only theirs. Items leave out the content; read one for it.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/notifications",
    tag = tags::NOTIFICATIONS,
    operation_id = "list_notifications",
    params(("organisation_id" = Uuid, Path), NotificationQuery),
    responses((status = 200, description = "A page of notifications", body = NotificationPage)),
)]
async fn list_notifications(
    State(state): State<AppState>,
    authorized: Authorized<ReadNotifications>,
    Query(query): Query<NotificationQuery>,
) -> Result<Json<NotificationPage>, Problem> {
    let paging = query.page();
    let (limit, after) = (paging.limit()?, paging.after()?);
    let mut filter = query.filter();
    filter.organisation_id = Some(authorized.access.organisation_id);
    if let Some(allowed) = &authorized.access.locations {
        filter.locations = Some(match filter.locations {
            Some(asked) => asked.into_iter().filter(|l| allowed.contains(l)).collect(),
            None => allowed.iter().copied().collect(),
        });
    }
    let rows = state.store.notifications(&filter, after.created_at, after.id, i64::from(limit) + 1).await?;
    let (items, next) = page(rows, limit, |n| After { created_at: n.created_at, id: n.id }, NotificationSummary::from);
    Ok(Json(NotificationPage { items, next }))
}

/// A new draft.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"location_id": provider_api_core::examples::LOCATION_ID, "content": {"type": "serious_injury", "description": "Fell in the lounge and fractured a hip."}})))]
pub struct NewNotification {
    /// The location it concerns: one of the organisation's (required by most types before submission).
    #[serde(default)]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    /// For a later part (a return after an absence): the notification it follows.
    #[serde(default)]
    #[schema(nullable = false)]
    pub follows_id: Option<Uuid>,
    pub content: DraftContent,
    /// Documents of this organisation to attach (another organisation's are 404).
    #[serde(default)]
    #[validate(length(max = 50, message = "Attach at most 50 documents."))]
    #[schema(max_items = 50)]
    pub attachments: Vec<NewAttachment>,
}

/// Create a draft notification
///
/// Starts a draft, complete or not: anyone with `notifications:write` (a drafter, a submitter, or software)
/// can create one, and colleagues can carry on with it. Fields given must be valid (422 lists every one
/// that is not); missing ones are fine until submission. Needs an `Idempotency-Key`: a retry with the same
/// key and body returns the same draft rather than a second one.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications",
    tag = tags::NOTIFICATIONS,
    operation_id = "create_notification",
    params(("organisation_id" = Uuid, Path), IdempotencyKeyHeader),
    request_body = NewNotification,
    responses(
        (status = 201, description = "The draft", body = NotificationView,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "Its address"))),
        (status = 400, description = "No Idempotency-Key"),
        (status = 409, description = "The same Idempotency-Key is in use by a request still running"),
    ),
)]
async fn create_notification(
    State(state): State<AppState>,
    authorized: Authorized<WriteNotifications>,
    key: IdempotencyKey,
    ValidatedJsonBytes(new, raw): ValidatedJsonBytes<NewNotification>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let operation = format!("create_notification {}", access.organisation_id);
    let claim = match Claim::begin(&state, &principal, key, &operation, &raw).await? {
        Claimed::Replay(response) => return Ok(response),
        Claimed::Fresh(claim) => claim,
    };
    claim.settle(&state, create_draft(&state, &principal, &access, new, &claim).await).await
}

async fn create_draft(
    state: &AppState,
    principal: &Principal,
    access: &Access,
    new: NewNotification,
    claim: &Claim,
) -> Result<Response, Problem> {
    let kind = content_type_of(&new.content.0)?;
    access.require(Capability::NotificationsWrite, new.location_id)?;
    if new.location_id.is_none() {
        require_unlimited(access)?;
    }
    check_attachments(state, access, &new.attachments).await?;
    let content = Value::Object(new.content.0);
    let mut errors =
        prefixed("/content", check(kind, &content, Completeness::Draft, state.clock.now_for(access.organisation_id)));
    let facts = context(state, access.organisation_id, new.location_id).await?;
    let location = (new.location_id, facts.location_known);
    errors.extend(
        envelope_errors(state, access.organisation_id, kind, location, new.follows_id, Completeness::Draft).await?,
    );
    errors.extend(activity_errors(state, access.organisation_id, new.location_id, &content).await?);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let now = state.clock.now_for(access.organisation_id);
    let actor = principal.actor();
    let notification = Notification::draft(
        access.organisation_id,
        kind,
        content.to_string(),
        (new.location_id, new.follows_id),
        listed(&new.attachments),
        actor,
        now,
    );
    let event = Event::new(notification.id, Action::Created, actor, now);
    let headers = notification_headers(&notification, true);
    let (done, response) = claim.respond(StatusCode::CREATED, headers, &NotificationView::from(notification.clone()));
    state.store.insert_notification(&notification, &[event], Some(&done)).await?;
    Ok(response)
}

/// Get a notification
///
/// With its content, status, receipt once submitted, and any open request from the regulator. The `ETag`
/// is its version, for `If-Match` on the next change.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}",
    tag = tags::NOTIFICATIONS,
    operation_id = "get_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path)),
    responses((status = 200, description = "The notification", body = NotificationView,
        headers(("ETag" = String, description = "The version, for If-Match")))),
)]
async fn get_notification(
    State(state): State<AppState>,
    authorized: Authorized<ReadNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Response, Problem> {
    let notification = visible(&state, &authorized.access, id).await?;
    Ok(single(StatusCode::OK, notification))
}

/// A JSON Merge Patch (RFC 7396) of a draft: members given replace, `null` removes, absent ones stay.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"content": {"immediate_actions": "Ambulance called; family told.", "categories": ["fracture"]}})))]
pub struct NotificationPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub location_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Uuid>)]
    pub follows_id: Option<Option<Uuid>>,
    /// Merged into the form: fields given replace, `null` removes a field. `type` cannot change.
    #[serde(default)]
    #[schema(value_type = Object, nullable = false)]
    pub content: Option<serde_json::Map<String, Value>>,
    /// Replaces the list of attached documents; `[]` or `null` leaves none attached, and leaving it out leaves
    /// the list as it is.
    #[serde(default, deserialize_with = "attachments_or_none")]
    #[validate(length(max = 50, message = "Attach at most 50 documents."))]
    #[schema(max_items = 50)]
    pub attachments: Option<Vec<NewAttachment>>,
}

/// As a merge patch removes a member set to `null`: `null` is no attachments (`Some([])`), not "unchanged",
/// which is what leaving the member out means (`None`).
fn attachments_or_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<NewAttachment>>, D::Error> {
    Option::<Vec<NewAttachment>>::deserialize(deserializer).map(|list| Some(list.unwrap_or_default()))
}

/// Tells a member set to `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Option<Uuid>>, D::Error> {
    Option::<Uuid>::deserialize(deserializer).map(Some)
}

/// Edit a draft
///
/// A JSON Merge Patch (`application/merge-patch+json`, RFC 7396) of the draft's location, `follows_id` and
/// form. `If-Match` is required (428 without it; 412 when someone else has changed it since you read it), so
/// two people editing the same draft never overwrite each other. Fields given must be valid; the history
/// records who changed which fields.
#[utoipa::path(
    patch,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}",
    tag = tags::NOTIFICATIONS,
    operation_id = "update_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The ETag you last read")),
    request_body(content = NotificationPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The edited draft", body = NotificationView,
            headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Not a draft any more"),
    ),
)]
async fn update_notification(
    State(state): State<AppState>,
    authorized: Authorized<WriteNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    ValidatedJson(patch): ValidatedJson<NotificationPatch>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = draft_at_version(&state, &access, id, Capability::NotificationsWrite, &if_match).await?;
    let kind = current.kind;
    let mut updated = current.clone();
    let old_content: Value = serde_json::from_str(&current.content).map_err(|_| Problem::internal())?;
    let mut content = old_content.clone();
    if let Some(patch_content) = patch.content {
        if patch_content.get("type").is_some_and(|t| t.as_str() != Some(kind.as_str())) {
            return Err(Problem::validation(vec![FieldError::new(
                "/content/type",
                "immutable",
                "A draft's type cannot change; discard it and start one of the other type.",
            )]));
        }
        json_patch::merge(&mut content, &Value::Object(patch_content));
    }
    if let Some(location_id) = patch.location_id {
        access.require(Capability::NotificationsWrite, location_id)?;
        if location_id.is_none() {
            require_unlimited(&access)?;
        }
        updated.location_id = location_id;
    }
    if let Some(follows_id) = patch.follows_id {
        updated.follows_id = follows_id;
    }
    if let Some(attachments) = &patch.attachments {
        check_attachments(&state, &access, attachments).await?;
        updated.attachments = JsonText(listed(attachments));
    }
    let mut errors =
        prefixed("/content", check(kind, &content, Completeness::Draft, state.clock.now_for(access.organisation_id)));
    errors.extend(
        envelope_errors(
            &state,
            access.organisation_id,
            kind,
            (updated.location_id, context(&state, access.organisation_id, updated.location_id).await?.location_known),
            updated.follows_id,
            Completeness::Draft,
        )
        .await?,
    );
    errors.extend(activity_errors(&state, access.organisation_id, updated.location_id, &content).await?);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let mut changed =
        prefixed_pointers("/content", provider_api_core::forms::changes::changed_fields(&old_content, &content));
    if updated.location_id != current.location_id {
        changed.push("/location_id".into());
    }
    if updated.follows_id != current.follows_id {
        changed.push("/follows_id".into());
    }
    if updated.attachments != current.attachments {
        changed.push("/attachments".into());
    }
    if changed.is_empty() {
        return Ok(single(StatusCode::OK, current));
    }
    let now = state.clock.now_for(access.organisation_id);
    let actor = principal.actor();
    updated.content = content.to_string();
    updated.version = current.version + 1;
    updated.updated_at = now;
    updated.edited_by_user = actor.user;
    updated.edited_by_client = actor.client;
    updated.clear_approval();
    let mut event = Event::new(id, Action::Edited, actor, now);
    event.fields = Some(changed.join(" "));
    if !state.store.update_notification(&updated, current.version, &[event], None).await? {
        return Err(stale());
    }
    Ok(single(StatusCode::OK, updated))
}

/// Check a notification
///
/// Checks the draft exactly as submission would, and reports **every** problem at once (a 422 whose
/// `errors` point at each field), or a clean bill. Changes nothing.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/validate",
    tag = tags::NOTIFICATIONS,
    operation_id = "validate_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Ready to submit", body = ValidationReport),
        (status = 422, description = "Every problem, each with a JSON Pointer"),
    ),
)]
async fn validate_notification(
    State(state): State<AppState>,
    authorized: Authorized<ReadNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<ValidationReport>, Problem> {
    let notification = visible(&state, &authorized.access, id).await?;
    let (kind, _) = complete_check(&state, &notification).await?;
    Ok(Json(ValidationReport { valid: true, schema_version: kind.info().schema_version }))
}

/// The draft `id` as the caller may act on it with `capability` (at its location), at the version `If-Match`
/// names: 404 when they cannot see it, 403 when they cannot do this there, 409 when it is not a draft, and 412
/// when it has moved on since that version.
async fn draft_at_version(
    state: &AppState,
    access: &Access,
    id: Uuid,
    capability: Capability,
    if_match: &IfMatch,
) -> Result<Notification, Problem> {
    let current = visible(state, access, id).await?;
    access.require(capability, current.location_id)?;
    let expected = if_match.version()?;
    current.status().require_draft()?;
    if expected != current.version {
        return Err(stale());
    }
    Ok(current)
}

/// Approve a draft notification
///
/// A person with the `submitter` role records that they reviewed this version (named by `If-Match`). Where
/// the organisation requires four eyes, a draft may be submitted by its last editor only once someone else has
/// approved its current version; any edit afterwards clears the approval. Approving moves the version (the
/// notification now shows the approval): submit with the new `ETag`. Refused (403 `four_eyes`) to the
/// draft's last editor and to software acting as itself: a review is a second person's. See docs/review.md.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/approval",
    tag = tags::NOTIFICATIONS,
    operation_id = "approve_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The ETag of the version you reviewed")),
    responses(
        (status = 200, description = "Approved", body = NotificationView,
            headers(("ETag" = String, description = "The new version, which carries the approval"))),
        (status = 403, description = "The last editor, or software acting as itself (`four_eyes`)"),
        (status = 409, description = "Not a draft"),
        (status = 412, description = "Changed since the version named"),
    ),
)]
async fn approve_notification(
    State(state): State<AppState>,
    authorized: Authorized<SubmitNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = draft_at_version(&state, &access, id, Capability::NotificationsSubmit, &if_match).await?;
    let now = state.clock.now_for(current.organisation_id);
    let (approved, event) = workflow::approve(&current, principal.actor(), now)?;
    if !state.store.update_notification(&approved, current.version, &[event], None).await? {
        return Err(stale());
    }
    Ok(single(StatusCode::OK, approved))
}

/// Ask for a draft to be reviewed
///
/// Tells the organisation's submitters (those who can see its location, and have not chosen otherwise) that
/// this draft is ready for them to review and send: each is emailed a link, never its type or content. Recorded in the history (`review_requested`, naming the version). Once per version: asking
/// again about the same version is 409 `review_already_requested`; an approved version needs no review
/// (409 `already_approved`). Needs the `drafter` or `submitter` role (or `notifications:write`), and
/// `If-Match`, so the review asked for is of the version you saw.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/review-requests",
    tag = tags::NOTIFICATIONS,
    operation_id = "request_notification_review",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The ETag of the version to be reviewed")),
    responses(
        (status = 204, description = "Asked: the submitters are being emailed"),
        (status = 409, description = "Not a draft, approved already, or asked already for this version"),
        (status = 412, description = "Changed since the version named"),
    ),
)]
async fn request_notification_review(
    State(state): State<AppState>,
    authorized: Authorized<WriteNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<StatusCode, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = draft_at_version(&state, &access, id, Capability::NotificationsWrite, &if_match).await?;
    let history = state.store.notification_events(id).await?;
    let now = state.clock.now_for(current.organisation_id);
    let event = workflow::request_review(&current, &history, principal.actor(), now)?;
    // Two requests at once both pass the check above; the store keeps one a version (a unique index).
    match state.store.append_notification_event(&event).await {
        Err(provider_api_store::StoreError::Conflict { .. }) => {
            return Err(workflow::ReviewRequestError::AlreadyAsked.into());
        }
        appended => appended?,
    }
    state.emails.wake();
    Ok(StatusCode::NO_CONTENT)
}

/// Submit a notification
///
/// Sends a draft to the regulator: it is checked completely (422 with every problem otherwise), the
/// organisation's review rule is applied (under four eyes, a submitter who last edited it needs a colleague's
/// approval of this version: see `approve_notification`), its content is frozen, and a signed receipt is
/// returned. Needs the `submitter` role or the `notifications:submit` scope,
/// `If-Match` (so what you reviewed is what is sent) and an `Idempotency-Key` (a retry returns the same
/// receipt).
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/submit",
    tag = tags::NOTIFICATIONS,
    operation_id = "submit_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The ETag of the version you reviewed"), IdempotencyKeyHeader),
    responses(
        (status = 200, description = "Submitted, with its receipt", body = NotificationView,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "No Idempotency-Key"),
        (status = 409, description = "Not a draft, or the same Idempotency-Key is in use"),
        (status = 422, description = "Not complete: every problem"),
    ),
)]
async fn submit_notification(
    State(state): State<AppState>,
    authorized: Authorized<SubmitNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    key: IdempotencyKey,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    access.require(Capability::NotificationsSubmit, current.location_id)?;
    let expected = if_match.version()?;
    let operation = format!("submit_notification {id}");
    let claim = match Claim::begin(&state, &principal, key, &operation, &[]).await? {
        Claimed::Replay(response) => return Ok(response),
        Claimed::Fresh(claim) => claim,
    };
    claim.settle(&state, submit_draft(&state, &principal, current, expected, &claim).await).await
}

async fn submit_draft(
    state: &AppState,
    principal: &Principal,
    current: Notification,
    expected: i64,
    claim: &Claim,
) -> Result<Response, Problem> {
    // Checked again by `may_submit`; first here so that a sent notification is 409, not a stale If-Match 412.
    current.status().transition(Status::Submitted)?;
    if expected != current.version {
        return Err(stale());
    }
    let (kind, facts) = complete_check(state, &current).await?;
    let actor = principal.actor();
    workflow::may_submit(&current, actor, facts.policy())?;
    let attachments = freeze_attachments(state, &current).await?;
    let now = state.clock.now_for(current.organisation_id);
    let (mut submitted, event) = workflow::seal(current.clone(), kind, actor, &attachments, now)?;
    sign_receipt(state, &mut submitted);
    let headers = notification_headers(&submitted, false);
    let (done, response) = claim.respond(StatusCode::OK, headers, &NotificationView::from(submitted.clone()));
    if !state.store.update_notification(&submitted, current.version, &[event], Some(&done)).await? {
        return Err(stale());
    }
    Ok(response)
}

/// Signs the receipt of a sealed notification with the server's key.
fn sign_receipt(state: &AppState, sealed: &mut Notification) {
    let claims = workflow::receipt_claims(sealed, &state.tokens.issuer);
    sealed.receipt = Some(state.tokens.sign_statement(receipt::RECEIPT_TYPE, &claims));
}

/// A whole serious-injury notification with its evidence attached, as published.
fn submission_example() -> Value {
    use provider_api_core::examples::{DOCUMENT_ID, LOCATION_ID};
    let form = provider_api_core::notifications::examples::example("serious_injury".parse().expect("a type"));
    serde_json::json!({"location_id": LOCATION_ID, "content": form,
                       "attachments": [{"document_id": DOCUMENT_ID, "purpose": "evidence"}]})
}

/// A complete, well-formed notification ready to send.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(submission_example))]
pub struct NotificationSubmission {
    /// The location it concerns (required by most types).
    #[serde(default)]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    /// For a later part: the notification it follows.
    #[serde(default)]
    #[schema(nullable = false)]
    pub follows_id: Option<Uuid>,
    #[schema(value_type = NotificationContent)]
    pub content: Value,
    /// Documents of this organisation to attach, each scanned clean (another organisation's are 404).
    #[serde(default)]
    #[validate(length(max = 50, message = "Attach at most 50 documents."))]
    #[schema(max_items = 50)]
    pub attachments: Vec<NewAttachment>,
}

/// Create and submit a notification
///
/// For software with `notifications:submit` that has the whole form at hand: creates the notification and
/// submits it in one call, returning its receipt. Checked exactly as a submission (422 with every problem).
/// Needs an `Idempotency-Key`: a retry with the same key and body returns the same receipt and never makes
/// a second notification. Refused (403 `four_eyes`) when the organisation requires a second person to
/// review before submission and the caller is a person (nobody else has seen it), and to software acting as
/// itself where the organisation's `software_submits` setting is off (see docs/review.md).
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notification-submissions",
    tag = tags::NOTIFICATIONS,
    operation_id = "submit_new_notification",
    params(("organisation_id" = Uuid, Path), IdempotencyKeyHeader),
    request_body = NotificationSubmission,
    responses(
        (status = 201, description = "Submitted, with its receipt", body = NotificationView,
            headers(("ETag" = String, description = "The version"), ("Location" = String, description = "Its address"))),
        (status = 400, description = "No Idempotency-Key"),
        (status = 409, description = "The same Idempotency-Key is in use by a request still running"),
    ),
)]
async fn submit_new_notification(
    State(state): State<AppState>,
    authorized: Authorized<SubmitNotifications>,
    key: IdempotencyKey,
    ValidatedJsonBytes(submission, raw): ValidatedJsonBytes<NotificationSubmission>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let operation = format!("submit_new_notification {}", access.organisation_id);
    let claim = match Claim::begin(&state, &principal, key, &operation, &raw).await? {
        Claimed::Replay(response) => return Ok(response),
        Claimed::Fresh(claim) => claim,
    };
    claim.settle(&state, create_and_submit(&state, &principal, &access, submission, &claim).await).await
}

async fn create_and_submit(
    state: &AppState,
    principal: &Principal,
    access: &Access,
    submission: NotificationSubmission,
    claim: &Claim,
) -> Result<Response, Problem> {
    let Value::Object(content) = submission.content else {
        return Err(Problem::validation(vec![FieldError::new("/content", "wrong_type", "This must be an object.")]));
    };
    let kind = content_type_of(&content)?;
    access.require(Capability::NotificationsSubmit, submission.location_id)?;
    if submission.location_id.is_none() {
        require_unlimited(access)?;
    }
    let actor = principal.actor();
    let facts = context(state, access.organisation_id, submission.location_id).await?;
    // Written and sent in one step: under four eyes, only software acting as itself may.
    workflow::may_submit_new(actor, facts.policy())?;
    check_attachments(state, access, &submission.attachments).await?;
    let content = Value::Object(content);
    let mut errors = prefixed(
        "/content",
        check(kind, &content, Completeness::Complete, state.clock.now_for(access.organisation_id)),
    );
    errors.extend(
        envelope_errors(
            state,
            access.organisation_id,
            kind,
            (submission.location_id, facts.location_known),
            submission.follows_id,
            Completeness::Complete,
        )
        .await?,
    );
    errors.extend(activity_errors(state, access.organisation_id, submission.location_id, &content).await?);
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let now = state.clock.now_for(access.organisation_id);
    let draft = Notification::draft(
        access.organisation_id,
        kind,
        content.to_string(),
        (submission.location_id, submission.follows_id),
        listed(&submission.attachments),
        actor,
        now,
    );
    let attachments = freeze_attachments(state, &draft).await?;
    // History is ordered by time-ordered ids: the creation is recorded first.
    let created = Event::new(draft.id, Action::Created, actor, now);
    let (mut submitted, submitted_event) = workflow::seal(draft, kind, actor, &attachments, now)?;
    sign_receipt(state, &mut submitted);
    let events = [created, submitted_event];
    let headers = notification_headers(&submitted, true);
    let (done, response) = claim.respond(StatusCode::CREATED, headers, &NotificationView::from(submitted.clone()));
    state.store.insert_notification(&submitted, &events, Some(&done)).await?;
    Ok(response)
}

/// Discard a draft
///
/// Abandons a draft (it stays in the history, marked discarded). `If-Match` required.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/discard",
    tag = tags::NOTIFICATIONS,
    operation_id = "discard_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The ETag you last read")),
    responses(
        (status = 200, description = "Discarded", body = NotificationView, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Not a draft"),
    ),
)]
async fn discard_notification(
    State(state): State<AppState>,
    authorized: Authorized<WriteNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    access.require(Capability::NotificationsWrite, current.location_id)?;
    let expected = if_match.version()?;
    let next = current.status().transition(Status::Discarded)?;
    if expected != current.version {
        return Err(stale());
    }
    let actor = principal.actor();
    let now = state.clock.now_for(access.organisation_id);
    let mut updated = current.clone();
    updated.status = next;
    updated.version += 1;
    updated.updated_at = now;
    let event = Event::new(id, Action::Discarded, actor, now).transition(Status::Draft, next);
    if !state.store.update_notification(&updated, current.version, &[event], None).await? {
        return Err(stale());
    }
    Ok(single(StatusCode::OK, updated))
}

/// A notification's history
///
/// Every change, oldest first: who (the person, and for software which client) did what and when, which
/// fields each edit changed, every transition, the regulator's requests and the provider's answers, and
/// each time a member of the regulator's staff read the content.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/history",
    tag = tags::NOTIFICATIONS,
    operation_id = "notification_history",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path)),
    responses((status = 200, description = "The history", body = History)),
)]
async fn notification_history(
    State(state): State<AppState>,
    authorized: Authorized<ReadNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<History>, Problem> {
    visible(&state, &authorized.access, id).await?;
    let items = state.store.notification_events(id).await?.into_iter().map(HistoryEntry::from).collect();
    Ok(Json(History { items }))
}

/// The provider's answer to the regulator's request for information.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"message": "The falls risk assessment is attached; it was last reviewed on 1 November."})))]
pub struct NewResponse {
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub message: String,
}

/// Answer the regulator's request
///
/// Answers an open request for information (the notification must be `information_requested`; 409
/// otherwise). Needs `notifications:write`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/notifications/{notification_id}/responses",
    tag = tags::NOTIFICATIONS,
    operation_id = "respond_to_notification",
    params(("organisation_id" = Uuid, Path), ("notification_id" = Uuid, Path)),
    request_body = NewResponse,
    responses(
        (status = 200, description = "Answered", body = NotificationView, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "No open request"),
    ),
)]
async fn respond_to_notification(
    State(state): State<AppState>,
    authorized: Authorized<WriteNotifications>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    ValidatedJson(answer): ValidatedJson<NewResponse>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    access.require(Capability::NotificationsWrite, current.location_id)?;
    let from = current.status();
    let next = from.transition(Status::Responded)?;
    let actor = principal.actor();
    let now = state.clock.now_for(access.organisation_id);
    let mut updated = current.clone();
    updated.status = next;
    updated.version += 1;
    updated.updated_at = now;
    let mut event = Event::new(id, Action::Responded, actor, now).transition(from, next);
    event.message = Some(answer.message);
    if !state.store.update_notification(&updated, current.version, &[event], None).await? {
        return Err(changed_meanwhile());
    }
    Ok(single(StatusCode::OK, updated))
}

// Shared by the provider's and the staff's handlers.

async fn check_attachments(state: &AppState, access: &Access, attachments: &[NewAttachment]) -> Result<(), Problem> {
    let ids: Vec<Uuid> = attachments.iter().map(|a| a.document_id).collect();
    crate::documents::require_visible(state, access, &ids).await
}

fn listed(attachments: &[NewAttachment]) -> Vec<Attachment> {
    attachments.iter().map(|a| Attachment { document_id: a.document_id, purpose: a.purpose, sha256: None }).collect()
}

/// On submission: every attached document must be scanned clean; they are frozen (no longer deletable) and
/// their SHA-256s recorded, for the receipt to cover.
async fn freeze_attachments(state: &AppState, n: &Notification) -> Result<Vec<Attachment>, Problem> {
    let mut frozen = Vec::with_capacity(n.attachments.len());
    let mut errors = Vec::new();
    for (i, attachment) in n.attachments.iter().cloned().enumerate() {
        let document = state
            .store
            .document(attachment.document_id)
            .await?
            .filter(|d| d.organisation_id == n.organisation_id)
            .ok_or_else(|| Problem::not_found("An attached document no longer exists."))?;
        if document.scan_status != provider_api_core::documents::ScanStatus::Clean {
            errors.push(FieldError::new(
                format!("/attachments/{i}/document_id"),
                "not_clean",
                format!(
                    "This document's malware scan is {}; only documents scanned clean can be sent.",
                    document.scan_status
                ),
            ));
        }
        frozen.push(Attachment { sha256: Some(document.sha256.clone()), ..attachment });
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    if !frozen.is_empty() {
        // Frozen before the submission is written: a document can never be deleted from under a sent
        // notification (if the write then fails, the documents merely stay frozen).
        let ids: Vec<Uuid> = frozen.iter().map(|a| a.document_id).collect();
        if !state.store.freeze_documents(&ids, state.clock.now_for(n.organisation_id)).await? {
            return Err(crate::documents::deleted_while_sending());
        }
    }
    Ok(frozen)
}

/// The notification, if the caller can see it: 404 for another organisation's or, for a member limited to
/// some locations, one elsewhere.
pub(super) async fn visible(state: &AppState, access: &Access, id: Uuid) -> Result<Notification, Problem> {
    let not_found = || Problem::not_found("There is no notification with this id that you can see.");
    let notification = state.store.notification(id).await?.ok_or_else(not_found)?;
    if notification.organisation_id != access.organisation_id {
        return Err(not_found());
    }
    if !access.reaches(notification.location_id) {
        return Err(not_found());
    }
    Ok(notification)
}

pub(super) fn single(status: StatusCode, notification: Notification) -> Response {
    let headers = notification_headers(&notification, false);
    let mut response = (status, Json(NotificationView::from(notification))).into_response();
    response.headers_mut().extend(headers);
    response
}

pub(super) fn changed_meanwhile() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "changed_meanwhile",
        "Changed at the same moment",
        "Someone else changed this notification at the same moment; read it again and retry.",
    )
}

fn require_unlimited(access: &Access) -> Result<(), Problem> {
    access.require_every_location(
        Capability::NotificationsWrite,
        "Your access is limited to some locations, so a notification you make must name one of them.",
    )
}

/// The form's type, which every draft must name.
fn content_type_of(content: &serde_json::Map<String, Value>) -> Result<NotificationType, Problem> {
    let invalid = |code, detail: String| Problem::validation(vec![FieldError::new("/content/type", code, detail)]);
    match content.get("type") {
        None => Err(invalid("required", "Name the form's type; GET /v1/notification-types lists them.".into())),
        Some(Value::String(name)) => name.parse().map_err(|_| {
            invalid(
                "not_allowed",
                format!("There is no notification type {name:?}; GET /v1/notification-types lists them."),
            )
        }),
        Some(_) => Err(invalid("wrong_type", "This must be a string.".into())),
    }
}

/// Every problem with a stored notification as a submission; its type when there are none.
async fn complete_check(state: &AppState, n: &Notification) -> Result<(NotificationType, SubmissionContext), Problem> {
    let kind = n.kind;
    let content: Value = serde_json::from_str(&n.content).map_err(|_| Problem::internal())?;
    let facts = context(state, n.organisation_id, n.location_id).await?;
    let mut errors =
        prefixed("/content", check(kind, &content, Completeness::Complete, state.clock.now_for(n.organisation_id)));
    let location = (n.location_id, facts.location_known);
    errors
        .extend(envelope_errors(state, n.organisation_id, kind, location, n.follows_id, Completeness::Complete).await?);
    errors.extend(activity_errors(state, n.organisation_id, n.location_id, &content).await?);
    if errors.is_empty() { Ok((kind, facts)) } else { Err(Problem::validation(errors)) }
}

/// The organisation's four-eyes setting and whether the location is one of its own, in one read.
async fn context(
    state: &AppState,
    organisation_id: Uuid,
    location_id: Option<Uuid>,
) -> Result<SubmissionContext, Problem> {
    state.store.submission_context(organisation_id, location_id).await?.ok_or_else(Problem::internal)
}

/// The location and the notification followed, checked against the organisation's records.
async fn envelope_errors(
    state: &AppState,
    organisation_id: Uuid,
    kind: NotificationType,
    (location_id, location_known): (Option<Uuid>, bool),
    follows_id: Option<Uuid>,
    completeness: Completeness,
) -> Result<Vec<FieldError>, Problem> {
    let info = kind.info();
    let complete = completeness == Completeness::Complete;
    let mut errors = Vec::new();
    match location_id {
        Some(_) if !location_known => {
            errors.push(FieldError::new("/location_id", "unknown_location", "This organisation has no such location."));
        }
        Some(_) => {}
        None if complete && info.location == LocationRule::Required => {
            errors.push(FieldError::new("/location_id", "required", "Name the location where this happened."));
        }
        None => {}
    }
    match (follows_id, info.follows) {
        (Some(_), None) => errors.push(FieldError::new(
            "/follows_id",
            "not_allowed",
            format!("A {kind} notification does not follow another."),
        )),
        (None, Some(earlier)) if complete => errors.push(FieldError::new(
            "/follows_id",
            "required",
            format!("Name the {earlier} notification this one follows."),
        )),
        (Some(id), Some(earlier)) => {
            let found = state.store.notification(id).await?.filter(|n| n.organisation_id == organisation_id);
            match found {
                None => errors.push(FieldError::new(
                    "/follows_id",
                    "unknown_notification",
                    "There is no such notification here.",
                )),
                Some(n) if n.kind != earlier => errors.push(FieldError::new(
                    "/follows_id",
                    "wrong_type",
                    format!("This must name a {earlier} notification."),
                )),
                Some(n) if !n.status().sent() => errors.push(FieldError::new(
                    "/follows_id",
                    "not_submitted",
                    format!("The {earlier} notification must be submitted first."),
                )),
                Some(_) => {}
            }
        }
        _ => {}
    }
    Ok(errors)
}

/// Regulated activity codes must be the regulator's, and registered: at the notification's location (which
/// must itself be registered), or at any of the organisation's locations for a notification about the whole
/// provider. Statutory notifications come from registered providers only.
async fn activity_errors(
    state: &AppState,
    organisation_id: Uuid,
    location_id: Option<Uuid>,
    content: &Value,
) -> Result<Vec<FieldError>, Problem> {
    let codes = content.pointer("/reporter/regulated_activities").and_then(Value::as_array);
    let registered = state.store.registered_activities(organisation_id).await?;
    let mut errors = Vec::new();
    let at_location = location_id.map(|id| registered.iter().find(|(l, _)| *l == id));
    if matches!(at_location, Some(None)) {
        errors.push(FieldError::new(
            "/location_id",
            "location_not_registered",
            "This location is not registered with the regulator (or its registration was removed); a \
notification can only concern a registered location (GET /v1/organisations/{id}/registration).",
        ));
    }
    let allowed = |code: &str| match at_location {
        Some(Some((_, activities))) => activities.iter().any(|a| a == code),
        _ => registered.iter().any(|(_, activities)| activities.iter().any(|a| a == code)),
    };
    for (i, code) in codes.into_iter().flatten().enumerate() {
        let Some(code) = code.as_str() else { continue };
        let pointer = format!("/content/reporter/regulated_activities/{i}");
        if !state.activity_codes.contains(code) {
            errors.push(FieldError::new(
                pointer,
                "unknown_activity",
                "This is not a regulated activity code; GET /v1/reference/regulated-activities lists them.",
            ));
        } else if !allowed(code) {
            errors.push(FieldError::new(
                pointer,
                "activity_not_registered",
                "The organisation is not registered for this activity here; a notification can only concern \
registered activities (GET /v1/organisations/{id}/registration).",
            ));
        }
    }
    Ok(errors)
}

fn prefixed(prefix: &str, errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.into_iter().map(|e| FieldError { pointer: format!("{prefix}{}", e.pointer), ..e }).collect()
}

fn prefixed_pointers(prefix: &str, pointers: Vec<String>) -> Vec<String> {
    pointers.into_iter().map(|p| format!("{prefix}{p}")).collect()
}
