//! `GET/PUT /v1/me/email-preferences` (which of the emails about waiting work a person receives) and
//! `GET /v1/organisations/{organisation_id}/emails` (the organisation's record of who was told what, when).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use provider_api_core::emails::{EmailKind, QueuedEmail};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use provider_api_core::field_error::FieldError;

use crate::auth::principal::{AdminOrg, Authorized, Principal, Subject};
use crate::http::pagination::{After, PageQuery, page};
use crate::http::{Path, Problem, Query, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_email_preferences, put_email_preferences))
        .routes(routes!(list_organisation_emails))
}

/// Which emails about waiting work the person receives, for every organisation they belong to. All are sent
/// unless the person turns them off. Invitations and password resets are always sent: they answer something
/// the person asked for.
#[derive(Debug, Clone, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"review_waiting": true, "question_asked": true, "notification_due": false,
    "notification_late": true, "registration_information_requested": true})))]
pub struct EmailPreferences {
    /// A colleague asked for a draft notification to be reviewed and sent (submitters).
    pub review_waiting: bool,
    /// The regulator asked a question about a notification (its sender, and submitters).
    pub question_asked: bool,
    /// A draft notification the person started or last edited is due soon.
    pub notification_due: bool,
    /// A draft notification the person started or last edited is late.
    pub notification_late: bool,
    /// The regulator asked for information about a registration application (its maker, and admins).
    pub registration_information_requested: bool,
}

impl EmailPreferences {
    fn from_opt_outs(opted_out: &[EmailKind]) -> Self {
        let wants = |kind| !opted_out.contains(&kind);
        Self {
            review_waiting: wants(EmailKind::ReviewWaiting),
            question_asked: wants(EmailKind::QuestionAsked),
            notification_due: wants(EmailKind::NotificationDue),
            notification_late: wants(EmailKind::NotificationLate),
            registration_information_requested: wants(EmailKind::RegistrationInformationRequested),
        }
    }

    fn opt_outs(&self) -> Vec<EmailKind> {
        [
            (EmailKind::ReviewWaiting, self.review_waiting),
            (EmailKind::QuestionAsked, self.question_asked),
            (EmailKind::NotificationDue, self.notification_due),
            (EmailKind::NotificationLate, self.notification_late),
            (EmailKind::RegistrationInformationRequested, self.registration_information_requested),
        ]
        .into_iter()
        .filter(|(_, wanted)| !wanted)
        .map(|(kind, _)| kind)
        .collect()
    }
}

/// A `PUT` body as sent, so that every choice missing or not true or false is named at once (deserialising
/// straight into [`EmailPreferences`] would stop at the first).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceAnswers {
    review_waiting: Option<serde_json::Value>,
    question_asked: Option<serde_json::Value>,
    notification_due: Option<serde_json::Value>,
    notification_late: Option<serde_json::Value>,
    registration_information_requested: Option<serde_json::Value>,
}

impl PreferenceAnswers {
    fn checked(self) -> Result<EmailPreferences, Problem> {
        let mut errors = Vec::new();
        let mut answer = |name: &str, value: Option<serde_json::Value>| match value {
            Some(serde_json::Value::Bool(wanted)) => wanted,
            None | Some(serde_json::Value::Null) => {
                errors.push(FieldError::new(
                    format!("/{name}"),
                    "required",
                    "Say whether you want these emails: true or false.",
                ));
                false
            }
            Some(_) => {
                errors.push(FieldError::new(format!("/{name}"), "invalid_type", "Must be true or false."));
                false
            }
        };
        let preferences = EmailPreferences {
            review_waiting: answer("review_waiting", self.review_waiting),
            question_asked: answer("question_asked", self.question_asked),
            notification_due: answer("notification_due", self.notification_due),
            notification_late: answer("notification_late", self.notification_late),
            registration_information_requested: answer(
                "registration_information_requested",
                self.registration_information_requested,
            ),
        };
        if errors.is_empty() { Ok(preferences) } else { Err(Problem::validation(errors)) }
    }
}

/// The signed-in person whose choices these are: not software acting as itself. Checked before the body is
/// read, so software is refused (403) whatever it sends.
struct ChoosingPerson(Uuid);

impl axum::extract::FromRequestParts<AppState> for ChoosingPerson {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Problem> {
        let principal = Principal::from_request_parts(parts, state).await?;
        match &principal.subject {
            Subject::User(user) => Ok(Self(user.id)),
            Subject::Client(_) => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not permitted",
                "Only people have email preferences; an API client acting as itself receives no email.",
            )),
        }
    }
}

/// Your email preferences
///
/// Which of the emails about waiting work you receive (all of them, unless you have turned some off).
#[utoipa::path(
    get,
    path = "/v1/me/email-preferences",
    tag = tags::IDENTITY,
    operation_id = "get_email_preferences",
    responses(
        (status = 200, description = "Your choices", body = EmailPreferences),
        (status = 403, description = "An API client acting as itself"),
    ),
)]
async fn get_email_preferences(
    State(state): State<AppState>,
    ChoosingPerson(user_id): ChoosingPerson,
) -> Result<Json<EmailPreferences>, Problem> {
    Ok(Json(EmailPreferences::from_opt_outs(&state.store.email_opt_outs(user_id).await?)))
}

/// Choose your email preferences
///
/// Replaces your choices: every kind must be given, `true` to receive it. Applies to emails queued from now
/// on, for every organisation you belong to.
#[utoipa::path(
    put,
    path = "/v1/me/email-preferences",
    tag = tags::IDENTITY,
    operation_id = "put_email_preferences",
    request_body = EmailPreferences,
    responses(
        (status = 200, description = "Your choices, as saved", body = EmailPreferences),
        (status = 403, description = "An API client acting as itself"),
        (status = 422, description = "A kind is missing or is not true or false"),
    ),
)]
async fn put_email_preferences(
    State(state): State<AppState>,
    ChoosingPerson(user_id): ChoosingPerson,
    ValidatedJson(answers): ValidatedJson<PreferenceAnswers>,
) -> Result<Json<EmailPreferences>, Problem> {
    let preferences = answers.checked()?;
    state.store.set_email_opt_outs(user_id, &preferences.opt_outs()).await?;
    Ok(Json(EmailPreferences::from_opt_outs(&state.store.email_opt_outs(user_id).await?)))
}

/// Where an email stands.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Waiting to be sent, or being tried again after a failure (`last_error` says what went wrong).
    Queued,
    /// Handed to the mail server (`sent_at`).
    Sent,
    /// Given up after many attempts over about two days (`last_error` says why).
    Abandoned,
}

/// One email to one member: what about, to whom, and when it was sent. Not its words, which are the same for
/// everyone told, nor the address (the member's, then).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EmailRecord {
    pub id: Uuid,
    pub kind: EmailKind,
    /// `notification` or `registration_application`.
    #[schema(example = "notification")]
    pub object_type: String,
    pub object_id: Uuid,
    /// The member it was for.
    pub user_id: Uuid,
    pub status: EmailStatus,
    /// When it was queued.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<OffsetDateTime>,
    pub attempts: i64,
    /// What the mail server said last time it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub last_error: Option<String>,
}

impl From<QueuedEmail> for EmailRecord {
    fn from(e: QueuedEmail) -> Self {
        let status = match (e.sent_at, e.abandoned_at) {
            (Some(_), _) => EmailStatus::Sent,
            (None, Some(_)) => EmailStatus::Abandoned,
            (None, None) => EmailStatus::Queued,
        };
        Self {
            id: e.id,
            kind: e.kind,
            object_type: e.object_type,
            object_id: e.object_id,
            user_id: e.user_id,
            status,
            created_at: e.created_at,
            sent_at: e.sent_at,
            attempts: e.attempts,
            last_error: e.last_error,
        }
    }
}

/// A page of the organisation's emails.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailPage {
    pub items: Vec<EmailRecord>,
    /// The cursor for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// The organisation's emails
///
/// Every email about waiting work sent (or queued) to the organisation's members, oldest first: what it was
/// about, which member it was for, and when it was sent. For the question "was anyone told?". Admins only.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/emails",
    tag = tags::ORGANISATIONS,
    operation_id = "list_organisation_emails",
    params(("organisation_id" = Uuid, Path, description = "The organisation"), PageQuery),
    responses((status = 200, description = "A page of emails", body = EmailPage)),
)]
async fn list_organisation_emails(
    State(state): State<AppState>,
    _admin: Authorized<AdminOrg>,
    Path(organisation_id): Path<Uuid>,
    Query(query): Query<PageQuery>,
) -> Result<Json<EmailPage>, Problem> {
    let (limit, after) = (query.limit()?, query.after()?);
    let rows = state.store.emails_after(organisation_id, after.created_at, after.id, i64::from(limit) + 1).await?;
    let (items, next) = page(rows, limit, |e| After { created_at: e.created_at, id: e.id }, EmailRecord::from);
    Ok(Json(EmailPage { items, next }))
}
