//! What the API shows of a notification, to providers and to the regulator's staff.

use axum::http::{HeaderMap, HeaderValue, header};
use provider_api_core::notifications::catalogue::{Deadline, LocationRule, NotificationType};
pub use provider_api_core::notifications::model::{Attachment, AttachmentPurpose};
use provider_api_core::notifications::model::{Event, Notification, Status};
use provider_api_core::notifications::receipt::Receipt;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::actor_view::{ActorView, ApprovalView};
use crate::http::etag::etag;

/// The regulator's open request for more information.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InformationRequest {
    pub message: String,
    /// When the regulator needs the answer by (YYYY-MM-DD).
    #[schema(format = Date)]
    pub due_on: String,
}

/// How the regulator closed a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Nothing further needed.
    NoFurtherAction,
    /// Passed to an inspection team to follow up.
    ReferredToInspection,
    /// Passed to local authority safeguarding.
    ReferredToSafeguarding,
    /// Enforcement is being considered.
    EnforcementConsidered,
    /// It was not a notifiable event.
    NotNotifiable,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoFurtherAction => "no_further_action",
            Self::ReferredToInspection => "referred_to_inspection",
            Self::ReferredToSafeguarding => "referred_to_safeguarding",
            Self::EnforcementConsidered => "enforcement_considered",
            Self::NotNotifiable => "not_notifiable",
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Closure {
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub note: Option<String>,
}

/// A form as stored: an object whose `type` names its form. A draft's may be incomplete; `POST …/validate`
/// says what is missing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DraftContent(pub serde_json::Map<String, Value>);

impl PartialSchema for DraftContent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .required("type")
            .additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::FreeForm(true)))
            .description(Some(
                "A notification form, possibly incomplete: `type` names the form, whose schema `GET \
/v1/notification-types` publishes. Fields given must be valid; missing ones are reported by `validate`.",
            ))
            .into()
    }
}

impl ToSchema for DraftContent {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push(("NotificationType".into(), NotificationType::schema()));
    }
}

/// A document to attach: one of the organisation's documents (`/v1/organisations/{id}/documents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttachment {
    pub document_id: Uuid,
    pub purpose: AttachmentPurpose,
}

/// A statutory notification.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// The location it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub status: Status,
    /// The earlier notification this one is a later part of (a patient's return after their absence).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub follows_id: Option<Uuid>,
    pub content: DraftContent,
    /// The documents it refers to; frozen with the content on submission.
    pub attachments: Vec<Attachment>,
    /// Changes with every edit; send it back in `If-Match` (it is also the `ETag`).
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by: Option<ActorView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_edited_by: Option<ActorView>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// A colleague's approval of this version, while it holds (an edit clears it), and of the version sent,
    /// once submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub approval: Option<ApprovalView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub submitted_by: Option<ActorView>,
    /// Once submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub receipt: Option<Receipt>,
    /// While the regulator is waiting for an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub information_request: Option<InformationRequest>,
    /// Once closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub closure: Option<Closure>,
}

impl NotificationView {
    pub fn from(n: Notification) -> Self {
        let content = serde_json::from_str(&n.content).unwrap_or_default();
        let kind = n.kind;
        let receipt = n.receipt_view();
        let status = n.status();
        Self {
            id: n.id,
            organisation_id: n.organisation_id,
            location_id: n.location_id,
            kind,
            status,
            follows_id: n.follows_id,
            content: DraftContent(content),
            attachments: n.attachments.0.clone(),
            version: n.version,
            created_by: ActorView::new(n.created_by_user, n.created_by_client),
            last_edited_by: ActorView::new(n.edited_by_user, n.edited_by_client),
            created_at: n.created_at,
            updated_at: n.updated_at,
            approval: ApprovalView::new(n.approved_by_user, n.approved_version, n.approved_at),
            submitted_by: ActorView::new(n.submitted_by_user, n.submitted_by_client),
            receipt,
            information_request: match (status, n.request_message, n.request_due_on) {
                (Status::InformationRequested, Some(message), Some(due_on)) => {
                    Some(InformationRequest { message, due_on })
                }
                _ => None,
            },
            closure: n
                .outcome
                .as_deref()
                .and_then(|o| serde_json::from_value(Value::String(o.to_owned())).ok())
                .map(|outcome| Closure { outcome, note: n.outcome_note }),
        }
    }
}

/// The headers of a single notification: its `ETag`, and where it lives.
pub fn notification_headers(n: &Notification, with_location: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag(n.version));
    if with_location {
        let path = format!("/v1/organisations/{}/notifications/{}", n.organisation_id, n.id);
        headers.insert(header::LOCATION, HeaderValue::from_str(&path).expect("ids make a valid header"));
    }
    headers
}

/// A notification in a list: enough to triage or pick, without the (sensitive) content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationSummary {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reference: Option<String>,
    /// The provider's own reference for it (`content.reporter.provider_reference`), when given: how people
    /// in the organisation tell their notifications apart in a list, without any of the content about people.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider_reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(nullable = false)]
    pub submitted_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub created_by: Option<ActorView>,
}

/// The one part of the content a list shows: read alone, not the whole form.
#[derive(serde::Deserialize)]
struct ReporterOnly {
    reporter: Option<ProviderReferenceOnly>,
}

#[derive(serde::Deserialize)]
struct ProviderReferenceOnly {
    provider_reference: Option<String>,
}

fn provider_reference(content: &str) -> Option<String> {
    let parsed: ReporterOnly = serde_json::from_str(content).ok()?;
    parsed.reporter?.provider_reference.filter(|r| !r.trim().is_empty())
}

impl From<Notification> for NotificationSummary {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id,
            organisation_id: n.organisation_id,
            location_id: n.location_id,
            kind: n.kind,
            status: n.status(),
            provider_reference: provider_reference(&n.content),
            reference: n.reference,
            created_at: n.created_at,
            submitted_at: n.submitted_at,
            created_by: ActorView::new(n.created_by_user, n.created_by_client),
        }
    }
}

/// A page of notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationSummary>,
    /// The cursor of the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// One entry of a notification's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: provider_api_core::notifications::model::Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub by: Option<ActorView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub from_status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub to_status: Option<Status>,
    /// For edits: JSON Pointers of the fields that changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// A request's or response's message, or a closure note.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = Date)]
    pub due_on: Option<String>,
    /// For an approval: the version approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version: Option<i64>,
}

impl From<Event> for HistoryEntry {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            at: e.at,
            action: e.action,
            by: ActorView::new(e.actor_user, e.actor_client),
            from_status: e.from_status,
            to_status: e.to_status,
            fields: e.fields.map(|f| f.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
            message: e.message,
            due_on: e.due_on,
            version: e.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub items: Vec<HistoryEntry>,
}

/// A notification type: what it is for, the law behind it, when it is due, and its form's JSON Schema.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationTypeView {
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub title: &'static str,
    /// The regulation of the Care Quality Commission (Registration) Regulations 2009 that requires it.
    pub regulation: &'static str,
    pub deadline: Deadline,
    pub location: LocationRule,
    /// The type of notification this one follows (its `follows_id` must name one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub follows: Option<NotificationType>,
    pub schema_version: u32,
    /// The form's JSON Schema (2020-12): exactly what the server accepts on submission.
    #[schema(value_type = Object)]
    pub schema: &'static Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationTypeList {
    pub items: Vec<NotificationTypeView>,
}

/// Whether a notification is ready to submit.
#[derive(Debug, Serialize, ToSchema)]
pub struct ValidationReport {
    /// Always true: a notification with problems gets a 422 listing every one.
    pub valid: bool,
    pub schema_version: u32,
}
