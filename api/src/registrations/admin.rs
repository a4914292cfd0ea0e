//! The regulator's side, under `/v1/admin/registration-applications` (staff role `staff_registration`): the
//! queue with each application's age against the 10-week target, validation (accept, or return as
//! incomplete), inspectors, requests for information, notices of proposal and of decision. A grant updates
//! the organisation's registered details in the same transaction as the decision.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use provider_api_core::actor::Actor;
use provider_api_core::capability::StaffRole;
use provider_api_core::clock::date_in_england;
use provider_api_core::field_error::FieldError;
use provider_api_core::forms::fields::parse_date;
use provider_api_core::registrations::catalogue::ApplicationType;
use provider_api_core::registrations::decisions::decide;
use provider_api_core::registrations::model::{
    Action, Application, Decision, DecisionKind, Event, Filter, Proposal, ProposalKind, Status,
};
use provider_api_core::stored::JsonText;
use provider_api_store::StoreError;
use serde::Deserialize;
use time::Date;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use super::routes::{changed_meanwhile, contents, full};
use super::views::*;
use crate::auth::principal::StaffRegistration;
use crate::http::pagination::{After, PageQuery, ago, page};
use crate::http::{Path, Problem, Query, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

/// Representations may be made for 28 days after a notice of proposal is served; an appeal may be made for
/// 28 days after a notice of decision is served.
const NOTICE_PERIOD: time::Duration = time::Duration::days(28);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(registration_queue))
        .routes(routes!(staff_get_application))
        .routes(routes!(staff_application_history))
        .routes(routes!(accept_application))
        .routes(routes!(return_application))
        .routes(routes!(assign_inspector))
        .routes(routes!(request_application_information))
        .routes(routes!(issue_proposal))
        .routes(routes!(issue_decision))
}

/// Filters for the registration queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RegistrationQueueQuery {
    /// How many items to return (1–100; default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page, exactly as given: it is opaque, and anything else (an empty or made-up
    /// one) is refused with 400 `invalid_query`.
    pub cursor: Option<String>,
    /// Default: everything sent and not yet decided.
    pub status: Option<Status>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<ApplicationType>,
    /// The provider (organisation).
    pub organisation_id: Option<Uuid>,
    pub inspector_id: Option<Uuid>,
    /// Only those past the 10-week target (accepted more than 10 weeks ago and undecided).
    pub overdue: Option<bool>,
    /// Only those submitted at least this many days ago.
    #[param(minimum = 0, maximum = 10000)]
    pub older_than_days: Option<u32>,
}

/// The registration queue
///
/// Applications sent by every provider, oldest first, each with its age and where it stands against the
/// 10-week target; filtered by status, type, provider, inspector, age and overdue.
#[utoipa::path(
    get,
    path = "/v1/admin/registration-applications",
    tag = tags::ADMIN,
    operation_id = "registration_queue",
    params(RegistrationQueueQuery),
    responses(
        (status = 200, description = "A page of the queue", body = ApplicationPage),
        (status = 403, description = "Not staff with `staff_registration`"),
    ),
)]
async fn registration_queue(
    State(state): State<AppState>,
    _staff: StaffRegistration,
    Query(query): Query<RegistrationQueueQuery>,
) -> Result<Json<ApplicationPage>, Problem> {
    let paging = PageQuery { limit: query.limit, cursor: query.cursor.clone() };
    let (limit, after) = (paging.limit()?, paging.after()?);
    let open = [Status::Submitted, Status::UnderAssessment, Status::InformationRequested, Status::ProposalIssued];
    let statuses = match query.status {
        Some(Status::Draft) => return Ok(Json(ApplicationPage { items: Vec::new(), next: None })),
        Some(status) => vec![status],
        None => open.to_vec(),
    };
    let now = state.clock.now();
    let overdue = query.overdue == Some(true);
    let filter = Filter {
        organisation_id: query.organisation_id,
        statuses: if overdue { statuses.into_iter().filter(|s| open.contains(s)).collect() } else { statuses },
        kind: query.kind.map(|k| k.as_str().to_owned()),
        inspector_id: query.inspector_id,
        submitted_before: ago(now, query.older_than_days, 10_000, time::Duration::DAY, "older_than_days")?,
        accepted_before: overdue.then(|| now - DECISION_TARGET),
    };
    if filter.statuses.is_empty() {
        return Ok(Json(ApplicationPage { items: Vec::new(), next: None }));
    }
    let rows = state.store.applications(&filter, after.created_at, after.id, i64::from(limit) + 1).await?;
    let (items, next) =
        page(rows, limit, |a| After { created_at: a.created_at, id: a.id }, |a| ApplicationSummary::new(a, now));
    Ok(Json(ApplicationPage { items, next }))
}

/// Read an application
///
/// The whole application. The read is written to its history first (it holds personal details).
#[utoipa::path(
    get,
    path = "/v1/admin/registration-applications/{application_id}",
    tag = tags::ADMIN,
    operation_id = "staff_get_application",
    params(("application_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The application", body = ApplicationView, headers(("ETag" = String, description = "The version"))),
        (status = 403, description = "Not staff with `staff_registration`"),
    ),
)]
async fn staff_get_application(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
) -> Result<Response, Problem> {
    let application = sent(&state, id).await?;
    let actor = Actor { user: Some(staff.id), client: None };
    state
        .store
        .append_application_event(&Event::new(
            id,
            Action::ViewedByStaff,
            actor,
            state.clock.now_for(application.organisation_id),
        ))
        .await?;
    full(&state, StatusCode::OK, application).await
}

/// An application's history (staff)
///
/// Every step, oldest first, as the applicant sees it.
#[utoipa::path(
    get,
    path = "/v1/admin/registration-applications/{application_id}/history",
    tag = tags::ADMIN,
    operation_id = "staff_application_history",
    params(("application_id" = Uuid, Path)),
    responses(
        (status = 200, description = "The history", body = ApplicationHistory),
        (status = 403, description = "Not staff with `staff_registration`"),
    ),
)]
async fn staff_application_history(
    State(state): State<AppState>,
    _staff: StaffRegistration,
    Path(id): Path<Uuid>,
) -> Result<Json<ApplicationHistory>, Problem> {
    sent(&state, id).await?;
    let items = state.store.application_events(id).await?.into_iter().map(ApplicationHistoryEntry::from).collect();
    Ok(Json(ApplicationHistory { items }))
}

/// Accept as complete
///
/// Validation passed: the application is complete and assessment begins; the 10-week target runs from now.
#[utoipa::path(
    post,
    path = "/v1/admin/registration-applications/{application_id}/accept",
    tag = tags::ADMIN,
    operation_id = "accept_application",
    params(("application_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Under assessment", body = ApplicationView),
        (status = 403, description = "Not staff with `staff_registration`"),
        (status = 409, description = "Not waiting for validation"),
    ),
)]
async fn accept_application(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
) -> Result<Response, Problem> {
    let current = sent(&state, id).await?;
    let now = state.clock.now_for(current.organisation_id);
    let next = current.status().transition(Status::UnderAssessment)?;
    let mut updated = current.moved(next, now);
    updated.accepted_at = Some(now);
    let event = Event::new(id, Action::Accepted, staff_actor(&staff), now).transition(current.status(), next);
    save(&state, &current, updated, vec![event]).await
}

/// Why an application is returned.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reasons": ["The statement of purpose does not mention the new location."]})))]
pub struct ReturnReasons {
    /// What is missing or wrong, each in a sentence the applicant can act on.
    #[validate(length(min = 1, max = 50), custom(function = "all_written"))]
    #[schema(min_items = 1, max_items = 50)]
    pub reasons: Vec<String>,
}

fn all_written(reasons: &[String]) -> Result<(), ValidationError> {
    if reasons.iter().all(|r| !r.trim().is_empty() && r.chars().count() <= 5000) {
        return Ok(());
    }
    Err(ValidationError::new("blank")
        .with_message("Each reason must be written out, in at most 5,000 characters.".into()))
}

/// Return as incomplete
///
/// Validation failed: the application goes back to the applicant with the reasons; they can correct it
/// and submit it again.
#[utoipa::path(
    post,
    path = "/v1/admin/registration-applications/{application_id}/return",
    tag = tags::ADMIN,
    operation_id = "return_application",
    params(("application_id" = Uuid, Path)),
    request_body = ReturnReasons,
    responses(
        (status = 200, description = "Returned", body = ApplicationView),
        (status = 403, description = "Not staff with `staff_registration`"),
        (status = 409, description = "Not waiting for validation"),
    ),
)]
async fn return_application(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
    ValidatedJson(body): ValidatedJson<ReturnReasons>,
) -> Result<Response, Problem> {
    let current = sent(&state, id).await?;
    let now = state.clock.now_for(current.organisation_id);
    let next = current.status().transition(Status::Returned)?;
    let mut updated = current.moved(next, now);
    let mut workflow = current.workflow();
    workflow.returned_reasons = body.reasons.iter().map(|r| r.trim().to_owned()).collect();
    let mut event = Event::new(id, Action::Returned, staff_actor(&staff), now).transition(current.status(), next);
    event.message = Some(workflow.returned_reasons.join("\n"));
    updated.workflow = JsonText(workflow);
    save(&state, &current, updated, vec![event]).await
}

/// The inspector to assign.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"inspector_id": provider_api_core::examples::INSPECTOR_ID})))]
pub struct InspectorAssignment {
    /// A member of staff with the `staff_registration` role.
    pub inspector_id: Uuid,
}

/// Assign an inspector
///
/// Names the member of staff assessing the application (any time after submission, until a decision).
#[utoipa::path(
    post,
    path = "/v1/admin/registration-applications/{application_id}/inspector",
    tag = tags::ADMIN,
    operation_id = "assign_inspector",
    params(("application_id" = Uuid, Path)),
    request_body = InspectorAssignment,
    responses(
        (status = 200, description = "Assigned", body = ApplicationView),
        (status = 403, description = "Not staff with `staff_registration`"),
        (status = 409, description = "Already decided"),
    ),
)]
async fn assign_inspector(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
    ValidatedJson(body): ValidatedJson<InspectorAssignment>,
) -> Result<Response, Problem> {
    let current = sent(&state, id).await?;
    not_decided(&current)?;
    let inspector = state.store.user(body.inspector_id).await?;
    if !inspector.is_some_and(|u| !u.disabled && u.staff_roles().contains(&StaffRole::StaffRegistration)) {
        return Err(Problem::validation(vec![FieldError::new(
            "/inspector_id",
            "not_an_inspector",
            "This is not a member of staff with the staff_registration role.",
        )]));
    }
    let now = state.clock.now_for(current.organisation_id);
    let updated = Application {
        inspector_id: Some(body.inspector_id),
        version: current.version + 1,
        updated_at: now,
        ..current.clone()
    };
    let mut event = Event::new(id, Action::InspectorAssigned, staff_actor(&staff), now);
    event.message = Some(body.inspector_id.to_string());
    save(&state, &current, updated, vec![event]).await
}

/// A request for information.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"message": "Send the staffing structure for the new location, showing night cover.", "due_on": "2026-12-15"})))]
pub struct NewApplicationInformationRequest {
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub message: String,
    /// When the answer is needed by: today or later.
    #[validate(custom(function = "not_past"))]
    #[schema(format = Date, example = "2026-12-10")]
    pub due_on: String,
}

fn not_past(value: &str) -> Result<(), ValidationError> {
    match parse_date(value) {
        None => Err(ValidationError::new("not_a_date").with_message("Give a date as YYYY-MM-DD.".into())),
        Some(date) if date < crate::http::request_time::today() => {
            Err(ValidationError::new("in_past").with_message("This date has passed.".into()))
        }
        Some(_) => Ok(()),
    }
}

/// Request information
///
/// Asks the applicant for more, with a due date: a new thread they answer through the API. The application
/// waits in `information_requested` until every request is answered.
#[utoipa::path(
    post,
    path = "/v1/admin/registration-applications/{application_id}/information-requests",
    tag = tags::ADMIN,
    operation_id = "request_application_information",
    params(("application_id" = Uuid, Path)),
    request_body = NewApplicationInformationRequest,
    responses(
        (status = 200, description = "Asked", body = ApplicationView),
        (status = 403, description = "Not staff with `staff_registration`"),
        (status = 409, description = "Not under assessment"),
    ),
)]
async fn request_application_information(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
    ValidatedJson(body): ValidatedJson<NewApplicationInformationRequest>,
) -> Result<Response, Problem> {
    let current = sent(&state, id).await?;
    let from = current.status();
    let next = from.transition(Status::InformationRequested)?;
    let now = state.clock.now_for(current.organisation_id);
    let updated = current.moved(next, now);
    let mut event = Event::new(id, Action::InformationRequested, staff_actor(&staff), now);
    if from != next {
        event = event.transition(from, next);
    }
    event.message = Some(body.message);
    event.due_on = Some(body.due_on);
    let saved = save(&state, &current, updated, vec![event]).await;
    state.emails.wake();
    saved
}

/// A notice of proposal.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "proposal_conditions"))]
#[schema(examples(json!({"proposal": "refuse", "reasons": "The proposed manager has not shown the experience the role needs."})))]
pub struct NewProposal {
    pub proposal: ProposalKind,
    /// The conditions proposed (required to grant with conditions).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub conditions: Vec<String>,
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub reasons: String,
    /// When the notice was served (default today); the 28 days for representations run from it.
    #[serde(default)]
    #[validate(custom(function = "served_recently"))]
    #[schema(format = Date, nullable = false)]
    pub served_on: Option<String>,
}

fn proposal_conditions(p: &NewProposal) -> Result<(), ValidationError> {
    conditions_rule(p.proposal == ProposalKind::GrantWithConditions, &p.conditions)
}

fn conditions_rule(with_conditions: bool, conditions: &[String]) -> Result<(), ValidationError> {
    if conditions.iter().any(|c| c.trim().is_empty() || c.chars().count() > 5000) {
        return Err(ValidationError::new("blank")
            .with_message("Each condition must be written out, in at most 5,000 characters.".into()));
    }
    match (with_conditions, conditions.is_empty()) {
        (true, true) => Err(ValidationError::new("conditions_required")
            .with_message("Give the conditions, since this grants with conditions.".into())),
        (false, false) => Err(ValidationError::new("conditions_not_allowed")
            .with_message("Conditions go with a grant with conditions only.".into())),
        _ => Ok(()),
    }
}

/// A notice is served today or in the last 90 days, never in the future.
fn served_recently(value: &str) -> Result<(), ValidationError> {
    let today = crate::http::request_time::today();
    match parse_date(value) {
        None => Err(ValidationError::new("not_a_date").with_message("Give a date as YYYY-MM-DD.".into())),
        Some(date) if date > today => {
            Err(ValidationError::new("in_future").with_message("This date is in the future.".into()))
        }
        Some(date) if date < today - time::Duration::days(90) => {
            Err(ValidationError::new("too_old")
                .with_message("A notice is recorded within 90 days of its service.".into()))
        }
        Some(_) => Ok(()),
    }
}

fn served(value: Option<&str>, today: Date) -> Date {
    value.and_then(parse_date).unwrap_or(today)
}

/// Serve a notice of proposal
///
/// Proposes to refuse, or to grant with conditions. The applicant then has 28 days from service to make
/// representations; a decision waits until they have, or the window has closed.
#[utoipa::path(
    post,
    path = "/v1/admin/registration-applications/{application_id}/proposal",
    tag = tags::ADMIN,
    operation_id = "issue_proposal",
    params(("application_id" = Uuid, Path)),
    request_body = NewProposal,
    responses(
        (status = 200, description = "Served", body = ApplicationView),
        (status = 403, description = "Not staff with `staff_registration`"),
        (status = 409, description = "Not under assessment"),
    ),
)]
async fn issue_proposal(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
    ValidatedJson(body): ValidatedJson<NewProposal>,
) -> Result<Response, Problem> {
    let current = sent(&state, id).await?;
    let from = current.status();
    let next = from.transition(Status::ProposalIssued)?;
    let now = state.clock.now_for(current.organisation_id);
    let served_on = served(body.served_on.as_deref(), date_in_england(state.clock.now_for(current.organisation_id)));
    let mut workflow = current.workflow();
    workflow.proposal = Some(Proposal {
        proposal: body.proposal,
        conditions: body.conditions.iter().map(|c| c.trim().to_owned()).collect(),
        reasons: body.reasons.clone(),
        served_on,
        representations_due_on: served_on + NOTICE_PERIOD,
        representations_made_at: None,
    });
    let mut updated = current.moved(next, now);
    updated.workflow = JsonText(workflow);
    let mut event = Event::new(id, Action::ProposalIssued, staff_actor(&staff), now).transition(from, next);
    event.message = Some(body.reasons);
    event.due_on = Some((served_on + NOTICE_PERIOD).to_string());
    save(&state, &current, updated, vec![event]).await
}

/// A notice of decision.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "decision_conditions"))]
#[schema(examples(json!({"decision": "grant", "reasons": "The applicant has shown that the regulations will be met at the new location."})))]
pub struct NewDecision {
    pub decision: DecisionKind,
    /// The conditions imposed (required to grant with conditions).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub conditions: Vec<String>,
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub reasons: String,
    /// When the notice was served (default today); the 28 days to appeal run from it.
    #[serde(default)]
    #[validate(custom(function = "served_recently"))]
    #[schema(format = Date, nullable = false)]
    pub served_on: Option<String>,
}

fn decision_conditions(d: &NewDecision) -> Result<(), ValidationError> {
    conditions_rule(d.decision == DecisionKind::GrantWithConditions, &d.conditions)
}

/// Serve a notice of decision
///
/// Grants (outright, from assessment or after a proposal), grants with conditions or refuses (both only
/// after a notice of proposal whose window for representations has closed or been used). A grant assigns
/// identifiers in the regulator's format (`1-` and digits) and updates the registered details in the same
/// transaction.
#[utoipa::path(
    post,
    path = "/v1/admin/registration-applications/{application_id}/decision",
    tag = tags::ADMIN,
    operation_id = "issue_decision",
    params(("application_id" = Uuid, Path)),
    request_body = NewDecision,
    responses(
        (status = 200, description = "Decided", body = ApplicationView),
        (status = 403, description = "Not staff with `staff_registration`"),
        (status = 409, description = "Not ready for this decision (no proposal, or the window for representations is open)"),
    ),
)]
async fn issue_decision(
    State(state): State<AppState>,
    StaffRegistration(staff): StaffRegistration,
    Path(id): Path<Uuid>,
    ValidatedJson(body): ValidatedJson<NewDecision>,
) -> Result<Response, Problem> {
    let current = sent(&state, id).await?;
    let from = current.status();
    let today = date_in_england(state.clock.now_for(current.organisation_id));
    let served_on = served(body.served_on.as_deref(), today);
    let mut workflow = current.workflow();
    let next = decide(from, workflow.proposal.as_ref(), body.decision, &body.conditions, served_on, today)?;
    let sections = contents(&state, id).await?;
    let organisation = state.store.organisation(current.organisation_id).await?.ok_or_else(Problem::internal)?;
    let conditions: Vec<String> = body.conditions.iter().map(|c| c.trim().to_owned()).collect();
    // A fresh identifier that collides with an existing one fails its unique constraint: try again with new ones.
    for _ in 0..3 {
        let now = state.clock.now_for(current.organisation_id);
        let (changes, provider_id, location_ids) = if next == Status::Granted {
            let (changes, provider_id, location_ids) = provider_api_core::registrations::grant::changes(
                current.kind(),
                &sections,
                organisation.provider_id.is_some(),
                &conditions,
                now,
            )?;
            (Some(changes), provider_id, location_ids)
        } else {
            (None, None, Vec::new())
        };
        workflow.decision = Some(Decision {
            decision: body.decision,
            conditions: conditions.clone(),
            reasons: body.reasons.clone(),
            served_on,
            appeal_by: served_on + NOTICE_PERIOD,
            provider_id,
            location_ids,
        });
        let mut updated = current.moved(next, now);
        updated.decided_at = Some(now);
        updated.workflow = JsonText(workflow.clone());
        let mut event = Event::new(id, Action::Decided, staff_actor(&staff), now).transition(from, next);
        event.message = Some(body.reasons.clone());
        event.due_on = Some((served_on + NOTICE_PERIOD).to_string());
        match state.store.update_application(&updated, current.version, &[event], None, changes.as_ref()).await {
            Ok(true) => return full(&state, StatusCode::OK, updated).await,
            Ok(false) => return Err(changed_meanwhile()),
            Err(StoreError::Conflict { constraint })
                if constraint == provider_api_store::registrations::DETAILS_CHANGED =>
            {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "registration_changed",
                    "The registered details have changed",
                    "What this application changes has changed since it was made (another decision removed or \
changed it); refuse it, or ask the applicant to withdraw it and apply again.",
                ));
            }
            Err(StoreError::Conflict { constraint }) => {
                tracing::warn!(constraint, "a new identifier collided; drawing again");
            }
            Err(error) => return Err(error.into()),
        }
    }
    Err(Problem::internal())
}

/// A sent application (the regulator never sees drafts): 404 otherwise.
async fn sent(state: &AppState, id: Uuid) -> Result<Application, Problem> {
    state
        .store
        .application(id)
        .await?
        .filter(|a| a.status().sent() || a.submitted_at.is_some())
        .ok_or_else(|| Problem::not_found("There is no submitted application with this id."))
}

fn not_decided(application: &Application) -> Result<(), Problem> {
    if application.status().decided() {
        return Err(Problem::invalid_transition(
            application.status.as_str(),
            format!("This application is {}; nothing more happens to it.", application.status()),
        ));
    }
    Ok(())
}

fn staff_actor(staff: &provider_api_core::accounts::User) -> Actor {
    Actor { user: Some(staff.id), client: None }
}

async fn save(
    state: &AppState,
    current: &Application,
    updated: Application,
    events: Vec<Event>,
) -> Result<Response, Problem> {
    if !state.store.update_application(&updated, current.version, &events, None, None).await? {
        return Err(changed_meanwhile());
    }
    full(state, StatusCode::OK, updated).await
}
