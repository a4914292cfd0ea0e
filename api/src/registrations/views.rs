//! What the API shows of applications.

use axum::http::{HeaderMap, HeaderValue, header};
use provider_api_core::clock::date_in_england;
use provider_api_core::registrations::catalogue::{ApplicationType, SectionName};
use provider_api_core::registrations::model::{Action, Application, Decision, Event, Proposal, SectionRow, Status};
use provider_api_core::registrations::sections::DocumentPurpose;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, OffsetDateTime};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

use crate::actor_view::{ActorView, ApprovalView};
use crate::http::etag::etag;

/// The 10-week target for a decision, counted from acceptance as complete.
pub const DECISION_TARGET: time::Duration = time::Duration::weeks(10);

/// A section's content as sent or stored: an object whose schema `GET /v1/registration-application-types`
/// publishes for each type and section. While drafting it may be incomplete; the checklist says what is
/// missing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SectionContent(pub serde_json::Map<String, Value>);

impl PartialSchema for SectionContent {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            // Every section's own schema carries a whole example; this is the `when` section, alike in every type.
            .examples(provider_api_core::registrations::examples::example(
                provider_api_core::registrations::ApplicationType::AddLocation,
                provider_api_core::registrations::SectionName::When,
            ))
            .description(Some(
                "A section's content, possibly incomplete: its schema is published per type and section by \
`GET /v1/registration-application-types`. Fields given must be valid; the checklist reports what is missing.",
            ))
            .into()
    }
}

impl ToSchema for SectionContent {}

/// The section's own schema is the rule (checked in the handler, so every problem comes back at once).
impl validator::Validate for SectionContent {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        Ok(())
    }
}

/// One section of a type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionType {
    pub name: SectionName,
    /// The JSON Schema (2020-12) the server validates this section against.
    #[schema(value_type = Object)]
    pub schema: Value,
}

/// An application type: its sections and the documents it needs.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationTypeView {
    #[serde(rename = "type")]
    pub kind: ApplicationType,
    pub title: String,
    pub sections: Vec<SectionType>,
    /// The documents every application of this type needs, each a separate file (a cancellation of all
    /// regulated activities needs none).
    pub required_documents: Vec<DocumentPurpose>,
}

/// Every application type.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationTypeList {
    pub items: Vec<ApplicationTypeView>,
}

/// A section: its content and version (also its `ETag`, for `If-Match` on the next `PUT`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SectionView {
    pub name: SectionName,
    pub content: SectionContent,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_edited_by: Option<ActorView>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl From<SectionRow> for SectionView {
    fn from(s: SectionRow) -> Self {
        Self {
            name: s.section(),
            content: SectionContent(s.content.0),
            version: s.version,
            last_edited_by: ActorView::new(s.edited_by_user, s.edited_by_client),
            updated_at: s.updated_at,
        }
    }
}

pub fn section_headers(s: &SectionRow) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag(s.version));
    headers
}

/// Proof of what the regulator received, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ApplicationReceipt {
    /// The reference to quote in any correspondence about this application.
    #[schema(example = "R-261126-7K3M9Q2X")]
    pub reference: String,
    pub application_id: Uuid,
    pub organisation_id: Uuid,
    #[serde(rename = "type")]
    pub kind: ApplicationType,
    #[serde(with = "time::serde::rfc3339")]
    pub received_at: OffsetDateTime,
    /// SHA-256 (hex) of the canonical form (RFC 8785) of `{"documents": [...], "sections": {...}}`: every
    /// section's content and each attached document's SHA-256.
    #[schema(pattern = "^[0-9a-f]{64}$")]
    pub content_sha256: String,
    /// A compact JWS (ES256, `typ` `registration-receipt+jwt`) whose claims repeat the fields above, signed
    /// with a key published at `/.well-known/receipt-keys.json` (every key that has ever signed; the JWKS drops
    /// retired ones).
    pub jws: String,
}

/// Where an assessment stands against the 10-week target.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Target {
    /// Ten weeks after acceptance as complete.
    #[serde(with = "provider_api_core::registrations::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub decision_due_on: Date,
    /// Days left (negative once overdue); absent once decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub days_left: Option<i64>,
    pub overdue: bool,
}

/// A registration application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[serde(rename = "type")]
    pub kind: ApplicationType,
    pub status: Status,
    /// Moves on with every change to any section or the status; send it in `If-Match` to submit.
    pub version: i64,
    /// Each section with its own version (for `If-Match` on `PUT …/sections/{section}`).
    pub sections: Vec<SectionView>,
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
    /// A colleague's approval of this version, while it holds (a section write clears it), and of the version
    /// sent, once submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub approval: Option<ApprovalView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub submitted_by: Option<ActorView>,
    /// Once submitted (a resubmission after a return earns a new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub receipt: Option<ApplicationReceipt>,
    /// When the regulator accepted it as complete.
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(nullable = false, value_type = Option<String>, format = DateTime)]
    pub accepted_at: Option<OffsetDateTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub target: Option<Target>,
    /// The regulator's inspector assessing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub inspector_id: Option<Uuid>,
    /// Requests for information not yet answered.
    pub open_requests: usize,
    /// Why the regulator returned it as incomplete (the latest return).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub returned_reasons: Vec<String>,
    /// The notice of proposal, once served.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub proposal: Option<Proposal>,
    /// The notice of decision, once served.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub decision: Option<Decision>,
}

impl ApplicationView {
    /// The application as shown at `now` (its decision target counts days in England).
    pub fn new(a: Application, sections: Vec<SectionRow>, open_requests: usize, now: OffsetDateTime) -> Self {
        let status = a.status();
        let kind = a.kind();
        let workflow = a.workflow();
        let receipt = a.receipt.as_ref().zip(a.reference.as_ref()).zip(a.submitted_at).map(|((jws, reference), at)| {
            ApplicationReceipt {
                reference: reference.clone(),
                application_id: a.id,
                organisation_id: a.organisation_id,
                kind,
                received_at: at,
                content_sha256: a.content_sha256.clone().unwrap_or_default(),
                jws: jws.clone(),
            }
        });
        let target = a.accepted_at.map(|accepted| {
            let due = date_in_england(accepted + DECISION_TARGET);
            let today = date_in_england(now);
            let decided_on = a.decided_at.map(|d| d.date());
            Target {
                decision_due_on: due,
                days_left: decided_on.is_none().then(|| (due - today).whole_days()),
                overdue: decided_on.unwrap_or(today) > due,
            }
        });
        let mut sections: Vec<SectionView> = sections.into_iter().map(SectionView::from).collect();
        sections.sort_by_key(|s| kind.sections().iter().position(|n| *n == s.name));
        Self {
            id: a.id,
            organisation_id: a.organisation_id,
            kind,
            status,
            version: a.version,
            sections,
            created_by: ActorView::new(a.created_by_user, a.created_by_client),
            last_edited_by: ActorView::new(a.edited_by_user, a.edited_by_client),
            created_at: a.created_at,
            updated_at: a.updated_at,
            approval: ApprovalView::new(a.approved_by_user, a.approved_version, a.approved_at),
            submitted_by: ActorView::new(a.submitted_by_user, a.submitted_by_client),
            receipt,
            accepted_at: a.accepted_at,
            target,
            inspector_id: a.inspector_id,
            open_requests,
            returned_reasons: workflow.returned_reasons,
            proposal: workflow.proposal,
            decision: workflow.decision,
        }
    }
}

pub fn application_headers(a: &Application, with_location: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag(a.version));
    if with_location {
        let path = format!("/v1/organisations/{}/registration-applications/{}", a.organisation_id, a.id);
        headers.insert(header::LOCATION, HeaderValue::from_str(&path).expect("ids make a valid header"));
    }
    headers
}

/// An application in a list, without its sections.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationSummary {
    pub id: Uuid,
    pub organisation_id: Uuid,
    #[serde(rename = "type")]
    pub kind: ApplicationType,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub reference: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    #[schema(nullable = false, value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<OffsetDateTime>,
    /// Whole days since it was (last) submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub age_days: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub target: Option<Target>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub inspector_id: Option<Uuid>,
}

impl ApplicationSummary {
    /// The summary as shown at `now`.
    pub fn new(a: Application, now: OffsetDateTime) -> Self {
        let view = ApplicationView::new(a.clone(), Vec::new(), 0, now);
        Self {
            id: a.id,
            organisation_id: a.organisation_id,
            kind: view.kind,
            status: view.status,
            reference: a.reference,
            created_at: a.created_at,
            submitted_at: a.submitted_at,
            age_days: a.submitted_at.map(|at| (now - at).whole_days()),
            target: view.target,
            inspector_id: a.inspector_id,
        }
    }
}

/// A page of applications.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationPage {
    pub items: Vec<ApplicationSummary>,
    /// The cursor for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// One entry of an application's history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationHistoryEntry {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub by: Option<ActorView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub from_status: Option<Status>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub to_status: Option<Status>,
    /// For section edits: the section.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub section: Option<SectionName>,
    /// For section edits: JSON Pointers of the fields that changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, format = Date)]
    pub due_on: Option<String>,
    /// For an answer: the request it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub thread_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Uuid>,
    /// For an approval: the version approved.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub version: Option<i64>,
}

impl From<Event> for ApplicationHistoryEntry {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            at: e.at,
            action: e.action,
            by: ActorView::new(e.actor_user, e.actor_client),
            from_status: e.from_status,
            to_status: e.to_status,
            section: e.section,
            fields: e.fields.map(|f| f.split(' ').map(str::to_owned).collect()).unwrap_or_default(),
            message: e.message,
            due_on: e.due_on,
            thread_id: e.thread_id,
            attachments: e.attachments.map(|a| a.0).unwrap_or_default(),
            version: e.version,
        }
    }
}

/// An application's history, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationHistory {
    pub items: Vec<ApplicationHistoryEntry>,
}

/// A message in a thread.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ThreadMessage {
    pub id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub by: Option<ActorView>,
    pub message: String,
    /// Documents of the organisation sent with it.
    pub attachments: Vec<Uuid>,
}

/// A request for information and its answers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InformationThread {
    /// The request's id: answer it at `…/information-requests/{thread_id}/answers`.
    pub id: Uuid,
    pub request: ThreadMessage,
    /// The date the regulator needs the answer by.
    #[serde(with = "provider_api_core::registrations::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub due_on: Date,
    pub answers: Vec<ThreadMessage>,
    /// `false` once answered.
    pub open: bool,
}

/// Every request for information, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InformationThreads {
    pub items: Vec<InformationThread>,
}

impl InformationThreads {
    pub fn from_history(events: &[Event]) -> Self {
        let message = |e: &Event| ThreadMessage {
            id: e.id,
            at: e.at,
            by: ActorView::new(e.actor_user, e.actor_client),
            message: e.message.clone().unwrap_or_default(),
            attachments: e.attachments.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
        };
        let items = events
            .iter()
            .filter(|e| e.action == Action::InformationRequested)
            .map(|request| {
                let answers: Vec<ThreadMessage> = events
                    .iter()
                    .filter(|e| e.action == Action::InformationProvided && e.thread_id == Some(request.id))
                    .map(message)
                    .collect();
                InformationThread {
                    id: request.id,
                    request: message(request),
                    due_on: request
                        .due_on
                        .as_deref()
                        .and_then(provider_api_core::forms::fields::parse_date)
                        .unwrap_or(request.at.date()),
                    open: answers.is_empty(),
                    answers,
                }
            })
            .collect();
        Self { items }
    }

    pub fn open(&self) -> usize {
        self.items.iter().filter(|t| t.open).count()
    }
}
