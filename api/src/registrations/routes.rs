//! The applicant's side, under `/v1/organisations/{organisation_id}/registration-applications`: drafting by
//! section, the checklist, submission, withdrawal, answering the regulator and making representations; the
//! organisation's registered details; and the public catalogue of types.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use provider_api_core::capability::Capability;
use provider_api_core::clock::date_in_england;
use provider_api_core::documents::ScanStatus;
use provider_api_core::forms::validation::Completeness;
use provider_api_core::registrations::catalogue::{ApplicationType, SectionName};
use provider_api_core::registrations::checklist::Checklist;
use provider_api_core::registrations::decisions::representations_open;
use provider_api_core::registrations::model::{Action, Application, Event, Filter, SectionRow, Status};
use provider_api_core::registrations::registered::RegisteredDetails;
use provider_api_core::registrations::sections::{DocumentsSection, PublishedCodes, unknown_codes};
use provider_api_core::registrations::workflow;
use provider_api_core::stored::JsonText;
use provider_api_store::registrations::SectionWrite;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use super::checklist;
use super::views::*;
use crate::auth::principal::{
    Access, Authorized, Principal, ReadRegistrations, SubmitRegistrations, WriteRegistrations,
};
use crate::http::etag::stale;
use crate::http::idempotency::{Claim, Claimed, IdempotencyKey};
use crate::http::pagination::{After, PageQuery, page};
use crate::http::{IfMatch, Path, Problem, Query, ValidatedJson, ValidatedJsonBytes};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_application_types))
        .routes(routes!(list_applications, create_application))
        .routes(routes!(get_application))
        .routes(routes!(get_application_section, put_application_section))
        .routes(routes!(application_checklist))
        .routes(routes!(approve_application))
        .routes(routes!(submit_application))
        .routes(routes!(withdraw_application))
        .routes(routes!(application_history))
        .routes(routes!(list_information_requests))
        .routes(routes!(answer_information_request))
        .routes(routes!(make_representations))
        .routes(routes!(registration_details))
}

/// List registration application types
///
/// Every type of application, with its sections (each with the JSON Schema the server validates it
/// against) and the documents it needs.
#[utoipa::path(
    get,
    path = "/v1/registration-application-types",
    tag = tags::REGISTRATIONS,
    operation_id = "list_application_types",
    security(()),
    responses((status = 200, description = "Every type", body = ApplicationTypeList)),
)]
async fn list_application_types() -> Json<ApplicationTypeList> {
    let items = ApplicationType::ALL
        .iter()
        .map(|&kind| ApplicationTypeView {
            kind,
            title: kind.title().to_owned(),
            sections: kind
                .sections()
                .iter()
                .map(|&name| SectionType {
                    name,
                    schema: kind.section_schema(name).expect("listed sections are published").clone(),
                })
                .collect(),
            required_documents: kind.required_documents(&BTreeMap::new()),
        })
        .collect();
    Json(ApplicationTypeList { items })
}

/// Filters for a list of applications.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ApplicationQuery {
    /// How many items to return (1–100; default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `next` of the previous page, exactly as given: it is opaque, and anything else (an empty or made-up
    /// one) is refused with 400 `invalid_query`.
    pub cursor: Option<String>,
    pub status: Option<Status>,
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<ApplicationType>,
}

/// List applications
///
/// The organisation's registration applications, oldest first, without their sections.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration-applications",
    tag = tags::REGISTRATIONS,
    operation_id = "list_applications",
    params(("organisation_id" = Uuid, Path), ApplicationQuery),
    responses((status = 200, description = "A page of applications", body = ApplicationPage)),
)]
async fn list_applications(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
    Query(query): Query<ApplicationQuery>,
) -> Result<Json<ApplicationPage>, Problem> {
    require_unlimited(&authorized.access, Capability::RegistrationsRead)?;
    let paging = PageQuery { limit: query.limit, cursor: query.cursor.clone() };
    let (limit, after) = (paging.limit()?, paging.after()?);
    let filter = Filter {
        organisation_id: Some(authorized.access.organisation_id),
        statuses: query.status.into_iter().collect(),
        kind: query.kind.map(|k| k.as_str().to_owned()),
        ..Default::default()
    };
    let rows = state.store.applications(&filter, after.created_at, after.id, i64::from(limit) + 1).await?;
    let now = state.clock.now_for(authorized.access.organisation_id);
    let (items, next) =
        page(rows, limit, |a| After { created_at: a.created_at, id: a.id }, |a| ApplicationSummary::new(a, now));
    Ok(Json(ApplicationPage { items, next }))
}

/// A new application.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"type": "add_location"})))]
pub struct NewApplication {
    #[serde(rename = "type")]
    pub kind: ApplicationType,
}

/// Start an application
///
/// Creates an application of the given type with every section empty. Sections are then written one at a
/// time (`PUT …/sections/{section}`), by as many colleagues as like at once. Needs `registrations:write`
/// and an `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/registration-applications",
    tag = tags::REGISTRATIONS,
    operation_id = "create_application",
    params(("organisation_id" = Uuid, Path), crate::http::idempotency::IdempotencyKeyHeader),
    request_body = NewApplication,
    responses(
        (status = 201, description = "The new application", body = ApplicationView,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "Its address"))),
        (status = 400, description = "No Idempotency-Key"),
        (status = 409, description = "The same Idempotency-Key is in use by a request still running"),
    ),
)]
async fn create_application(
    State(state): State<AppState>,
    authorized: Authorized<WriteRegistrations>,
    key: IdempotencyKey,
    ValidatedJsonBytes(new, raw): ValidatedJsonBytes<NewApplication>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    require_unlimited(&access, Capability::RegistrationsWrite)?;
    let operation = format!("create_application {}", access.organisation_id);
    let claim = match Claim::begin(&state, &principal, key, &operation, &raw).await? {
        Claimed::Replay(response) => return Ok(response),
        Claimed::Fresh(claim) => claim,
    };
    let result = async {
        let now = state.clock.now_for(access.organisation_id);
        let actor = principal.actor();
        let application = Application {
            id: Uuid::now_v7(),
            organisation_id: access.organisation_id,
            kind: new.kind,
            status: Status::Draft,
            version: 1,
            created_by_user: actor.user,
            created_by_client: actor.client,
            edited_by_user: actor.user,
            edited_by_client: actor.client,
            created_at: now,
            updated_at: now,
            reference: None,
            submitted_at: None,
            submitted_by_user: None,
            submitted_by_client: None,
            content_sha256: None,
            receipt: None,
            accepted_at: None,
            inspector_id: None,
            decided_at: None,
            workflow: JsonText::default(),
            approved_by_user: None,
            approved_version: None,
            approved_at: None,
        };
        let sections: Vec<SectionRow> = new
            .kind
            .sections()
            .iter()
            .map(|name| SectionRow {
                application_id: application.id,
                name: *name,
                content: JsonText::default(),
                version: 1,
                edited_by_user: None,
                edited_by_client: None,
                updated_at: now,
            })
            .collect();
        let event = Event::new(application.id, Action::Created, actor, now);
        let headers = application_headers(&application, true);
        let view = ApplicationView::new(application.clone(), sections.clone(), 0, now);
        let (done, response) = claim.respond(StatusCode::CREATED, headers, &view);
        state.store.insert_application(&application, &sections, &[event], Some(&done)).await?;
        Ok(response)
    }
    .await;
    claim.settle(&state, result).await
}

/// Get an application
///
/// With every section, its status, its receipt once submitted, and the regulator's notices. The `ETag` is
/// its version, for `If-Match` when submitting.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}",
    tag = tags::REGISTRATIONS,
    operation_id = "get_application",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, description = "The application", body = ApplicationView,
        headers(("ETag" = String, description = "The version, for If-Match")))),
)]
async fn get_application(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Response, Problem> {
    let application = visible(&state, &authorized.access, id).await?;
    full(&state, StatusCode::OK, application).await
}

/// Get a section
///
/// One section's content; the `ETag` is the section's own version, for `If-Match` on the next `PUT`.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/sections/{section}",
    tag = tags::REGISTRATIONS,
    operation_id = "get_application_section",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path), ("section" = SectionName, Path)),
    responses(
        (status = 200, description = "The section", body = SectionView, headers(("ETag" = String, description = "The section's version"))),
        (status = 404, description = "No such application, or this type has no such section"),
    ),
)]
async fn get_application_section(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
    Path((_, id, section)): Path<(Uuid, Uuid, SectionName)>,
) -> Result<Response, Problem> {
    let application = visible(&state, &authorized.access, id).await?;
    let row = section_row(&state, &application, section).await?;
    Ok(section_response(row))
}

/// Write a section
///
/// Replaces one section's content. Fields given must be valid, reference codes included (422 lists every
/// one that is not, and nothing is stored); missing ones are reported by the checklist. Needs `If-Match` with
/// the **section's** `ETag`, so two people never overwrite each other; colleagues can write other sections at
/// the same time. The write moves the application's version too (approving and submitting need the
/// application's new `ETag`) and clears an approval. Only drafts and returned applications can be edited (409
/// otherwise).
#[utoipa::path(
    put,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/sections/{section}",
    tag = tags::REGISTRATIONS,
    operation_id = "put_application_section",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path), ("section" = SectionName, Path),
        ("If-Match" = String, Header, description = "The section's ETag you last read")),
    request_body = SectionContent,
    responses(
        (status = 200, description = "The section as written", body = SectionView, headers(("ETag" = String, description = "The section's new version"))),
        (status = 404, description = "No such application, or this type has no such section"),
        (status = 409, description = "Not editable any more"),
    ),
)]
async fn put_application_section(
    State(state): State<AppState>,
    authorized: Authorized<WriteRegistrations>,
    Path((_, id, section)): Path<(Uuid, Uuid, SectionName)>,
    if_match: IfMatch,
    ValidatedJson(content): ValidatedJson<SectionContent>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let application = visible(&state, &access, id).await?;
    let current = section_row(&state, &application, section).await?;
    let expected = if_match.version()?;
    application.status().require_editable()?;
    if expected != current.version {
        return Err(stale_section(section));
    }
    let kind = application.kind();
    let fields = content.0;
    let content = Value::Object(fields.clone());
    let at = format!("/sections/{section}");
    let mut errors = kind.check_section(
        section,
        &content,
        Completeness::Draft,
        None,
        state.clock.now_for(access.organisation_id),
        "",
    );
    if errors.is_empty() {
        // Reference codes are the regulator's: an unknown one is refused now, not only by the checklist.
        let codes = PublishedCodes {
            activities: &state.activity_codes,
            service_types: &state.service_types,
            service_user_bands: &state.service_user_bands,
        };
        errors = unknown_codes(&content, codes, "");
    }
    if section == SectionName::Documents
        && errors.is_empty()
        && let Ok(documents) = DocumentsSection::deserialize(&content)
    {
        let ids: Vec<Uuid> = documents.attachments.iter().map(|a| a.document_id).collect();
        crate::documents::require_visible(&state, &access, &ids).await?;
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let old = Value::Object(current.content.0.clone());
    let changed = provider_api_core::forms::changes::changed_fields(&old, &content);
    if changed.is_empty() {
        return Ok(section_response(current));
    }
    let now = state.clock.now_for(access.organisation_id);
    let actor = principal.actor();
    let updated = SectionRow {
        content: JsonText(fields),
        version: current.version + 1,
        edited_by_user: actor.user,
        edited_by_client: actor.client,
        updated_at: now,
        ..current.clone()
    };
    let mut event = Event::new(id, Action::SectionEdited, actor, now);
    event.section = Some(section);
    event.fields = Some(changed.iter().map(|p| format!("{at}{p}")).collect::<Vec<_>>().join(" "));
    match state.store.update_section(&updated, current.version, &event).await? {
        SectionWrite::Written => Ok(section_response(updated)),
        SectionWrite::Stale => Err(stale_section(section)),
        SectionWrite::Frozen => {
            // Sent (or withdrawn) since we read it: say what it is now.
            visible(&state, &access, id).await?.status().require_editable()?;
            Err(changed_meanwhile())
        }
    }
}

/// The application's checklist
///
/// For every section and every required document: complete, incomplete or not started, and exactly what is
/// missing or wrong (JSON Pointers into the application). Submission is refused, with the same problems,
/// until `ready` is true. Changes nothing.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/checklist",
    tag = tags::REGISTRATIONS,
    operation_id = "application_checklist",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, description = "The checklist", body = Checklist)),
)]
async fn application_checklist(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<Checklist>, Problem> {
    let application = visible(&state, &authorized.access, id).await?;
    let sections = contents(&state, id).await?;
    Ok(Json(checklist::build(&state, application.kind(), application.organisation_id, sections).await?))
}

/// Approve an application
///
/// A person with the `submitter` role records that they reviewed this version of a draft (or returned)
/// application, named by `If-Match` with the application's `ETag`. Where the organisation requires four eyes,
/// its last editor may submit it only once someone else has approved its current version; any section write
/// afterwards clears the approval. Approving moves the version: submit with the new `ETag`. Refused (403
/// `four_eyes`) to the last editor and to software acting as itself. See docs/review.md.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/approval",
    tag = tags::REGISTRATIONS,
    operation_id = "approve_application",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The application's ETag, of the version you reviewed")),
    responses(
        (status = 200, description = "Approved", body = ApplicationView,
            headers(("ETag" = String, description = "The new version, which carries the approval"))),
        (status = 403, description = "The last editor, or software acting as itself (`four_eyes`)"),
        (status = 409, description = "Neither a draft nor returned"),
        (status = 412, description = "Changed since the version named"),
    ),
)]
async fn approve_application(
    State(state): State<AppState>,
    authorized: Authorized<SubmitRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    let expected = if_match.version()?;
    current.status().transition(Status::Submitted)?;
    if expected != current.version {
        return Err(stale());
    }
    let now = state.clock.now_for(current.organisation_id);
    let (approved, event) = workflow::approve(&current, principal.actor(), now)?;
    if !state.store.update_application(&approved, current.version, &[event], None, None).await? {
        return Err(stale());
    }
    full(&state, StatusCode::OK, approved).await
}

/// Submit an application
///
/// Sends a draft (or a returned application, corrected) to the regulator. The checklist must be clean (422
/// with every problem otherwise), the organisation's review rule applies (under four eyes, a submitter who
/// last edited it needs a colleague's approval of this version: see `approve_application`), attached
/// documents are frozen, and a signed receipt is returned. Needs the `submitter`
/// role or the `registrations:submit` scope, `If-Match` with the application's `ETag` (so what you reviewed
/// is what is sent) and an `Idempotency-Key`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/submit",
    tag = tags::REGISTRATIONS,
    operation_id = "submit_application",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path),
        ("If-Match" = String, Header, description = "The ETag of the version you reviewed"),
        crate::http::idempotency::IdempotencyKeyHeader),
    responses(
        (status = 200, description = "Submitted, with its receipt", body = ApplicationView,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "No Idempotency-Key"),
        (status = 409, description = "Not a draft, or the same Idempotency-Key is in use"),
        (status = 422, description = "The checklist is not clean: every problem"),
    ),
)]
async fn submit_application(
    State(state): State<AppState>,
    authorized: Authorized<SubmitRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    if_match: IfMatch,
    key: IdempotencyKey,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    let expected = if_match.version()?;
    let operation = format!("submit_application {id}");
    let claim = match Claim::begin(&state, &principal, key, &operation, &[]).await? {
        Claimed::Replay(response) => return Ok(response),
        Claimed::Fresh(claim) => claim,
    };
    claim.settle(&state, submit(&state, &principal, current, expected, &claim).await).await
}

async fn submit(
    state: &AppState,
    principal: &Principal,
    current: Application,
    expected: i64,
    claim: &Claim,
) -> Result<Response, Problem> {
    // Checked again by `may_submit`; first here so that a sent application is 409, not a stale If-Match 412.
    current.status().transition(Status::Submitted)?;
    if expected != current.version {
        return Err(stale());
    }
    let kind = current.kind();
    let rows = state.store.application_sections(current.id).await?;
    let sections = by_name(&rows)?;
    let checklist = checklist::build(state, kind, current.organisation_id, sections.clone()).await?;
    if !checklist.ready {
        return Err(Problem::validation(checklist.problems()));
    }
    let actor = principal.actor();
    let facts = state.store.submission_context(current.organisation_id, None).await?.ok_or_else(Problem::internal)?;
    workflow::may_submit(&current, actor, facts.policy())?;
    let documents = freeze(state, current.organisation_id, &sections).await?;
    let now = state.clock.now_for(current.organisation_id);
    let (mut submitted, event) = workflow::seal(&current, &sections, &documents, actor, now)?;
    let claims = workflow::receipt_claims(&submitted, &state.tokens.issuer);
    submitted.receipt = Some(state.tokens.sign_statement(workflow::RECEIPT_TYPE, &claims));
    let headers = application_headers(&submitted, false);
    let view = ApplicationView::new(submitted.clone(), rows, 0, now);
    let (done, response) = claim.respond(StatusCode::OK, headers, &view);
    if !state.store.update_application(&submitted, current.version, &[event], Some(&done), None).await? {
        return Err(stale());
    }
    Ok(response)
}

/// A document as the receipt covers it.
#[derive(Debug, Clone, Serialize)]
struct FrozenDocument {
    document_id: Uuid,
    purpose: provider_api_core::registrations::sections::DocumentPurpose,
    sha256: String,
}

/// Freezes every attached document (they can no longer be deleted) and returns them with their SHA-256s.
async fn freeze(
    state: &AppState,
    organisation_id: Uuid,
    sections: &BTreeMap<SectionName, Value>,
) -> Result<Vec<FrozenDocument>, Problem> {
    let attached = sections
        .get(&SectionName::Documents)
        .and_then(|d| DocumentsSection::deserialize(d).ok())
        .map(|d| d.attachments)
        .unwrap_or_default();
    let mut frozen = Vec::with_capacity(attached.len());
    for attachment in attached {
        let document = state
            .store
            .document(attachment.document_id)
            .await?
            .filter(|d| d.organisation_id == organisation_id)
            .ok_or_else(|| Problem::not_found("An attached document no longer exists."))?;
        frozen.push(FrozenDocument { document_id: document.id, purpose: attachment.purpose, sha256: document.sha256 });
    }
    if !frozen.is_empty() {
        let ids: Vec<Uuid> = frozen.iter().map(|d| d.document_id).collect();
        if !state.store.freeze_documents(&ids, state.clock.now()).await? {
            return Err(crate::documents::deleted_while_sending());
        }
    }
    Ok(frozen)
}

/// Withdraw an application
///
/// Withdraws it at any point before a decision. A draft needs `registrations:write`; an application already
/// sent needs `registrations:submit`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/withdraw",
    tag = tags::REGISTRATIONS,
    operation_id = "withdraw_application",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses(
        (status = 200, description = "Withdrawn", body = ApplicationView, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "Already decided or withdrawn"),
    ),
)]
async fn withdraw_application(
    State(state): State<AppState>,
    authorized: Authorized<WriteRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    let from = current.status();
    let next = from.transition(Status::Withdrawn)?;
    if from != Status::Draft {
        access.require(Capability::RegistrationsSubmit, None)?;
    }
    let now = state.clock.now_for(access.organisation_id);
    // Withdrawal ends it: the 10-week clock stops too.
    let updated = Application { decided_at: Some(now), ..current.moved(next, now) };
    let event = Event::new(id, Action::Withdrawn, principal.actor(), now).transition(from, next);
    if !state.store.update_application(&updated, current.version, &[event], None, None).await? {
        return Err(changed_meanwhile());
    }
    full(&state, StatusCode::OK, updated).await
}

/// An application's history
///
/// Every step, oldest first: who (the person, and for software which client) did what and when; which
/// fields each section edit changed; every transition; the regulator's requests and notices and the
/// applicant's answers; and each time a member of the regulator's staff read it.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/history",
    tag = tags::REGISTRATIONS,
    operation_id = "application_history",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, description = "The history", body = ApplicationHistory)),
)]
async fn application_history(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<ApplicationHistory>, Problem> {
    visible(&state, &authorized.access, id).await?;
    let items = state.store.application_events(id).await?.into_iter().map(ApplicationHistoryEntry::from).collect();
    Ok(Json(ApplicationHistory { items }))
}

/// Requests for information
///
/// The regulator's requests for information about this application, each with its due date and answers.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/information-requests",
    tag = tags::REGISTRATIONS,
    operation_id = "list_information_requests",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    responses((status = 200, description = "Every request, oldest first", body = InformationThreads)),
)]
async fn list_information_requests(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
) -> Result<Json<InformationThreads>, Problem> {
    visible(&state, &authorized.access, id).await?;
    Ok(Json(InformationThreads::from_history(&state.store.application_events(id).await?)))
}

/// A message from the applicant, with documents.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"message": "The staffing structure for Riverside Court is attached.", "attachments": [provider_api_core::examples::DOCUMENT_ID]})))]
pub struct ApplicantMessage {
    #[validate(length(min = 1, max = 50000), custom(function = "crate::organisations::not_blank"))]
    #[schema(min_length = 1, max_length = 50000, pattern = r"\S")]
    pub message: String,
    /// Documents of this organisation sent with it (frozen, like a submission's).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub attachments: Vec<Uuid>,
}

/// Answer a request for information
///
/// Answers one of the regulator's requests (404 for an unknown one, 409 if already answered). Once every
/// request is answered the application goes back to `under_assessment`. Needs `registrations:write`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/information-requests/{request_id}/answers",
    tag = tags::REGISTRATIONS,
    operation_id = "answer_information_request",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path), ("request_id" = Uuid, Path)),
    request_body = ApplicantMessage,
    responses(
        (status = 200, description = "Answered: the requests now", body = InformationThreads),
        (status = 409, description = "Already answered, or the application is past that stage"),
    ),
)]
async fn answer_information_request(
    State(state): State<AppState>,
    authorized: Authorized<WriteRegistrations>,
    Path((_, id, request_id)): Path<(Uuid, Uuid, Uuid)>,
    ValidatedJson(answer): ValidatedJson<ApplicantMessage>,
) -> Result<Json<InformationThreads>, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    let history = state.store.application_events(id).await?;
    let threads = InformationThreads::from_history(&history);
    let thread = threads
        .items
        .iter()
        .find(|t| t.id == request_id)
        .ok_or_else(|| Problem::not_found("There is no such request for information on this application."))?;
    if current.status() != Status::InformationRequested && thread.open {
        return Err(Problem::invalid_transition(
            current.status.as_str(),
            format!("This application is {}; requests can no longer be answered.", current.status()),
        ));
    }
    if !thread.open {
        return Err(Problem::in_state(
            "already_answered",
            "Already answered",
            current.status.as_str(),
            "This request has been answered already; the regulator will ask again if it needs more.",
        ));
    }
    crate::documents::require_visible(&state, &access, &answer.attachments).await?;
    require_clean(&state, &answer.attachments).await?;
    freeze_ids(&state, &answer.attachments).await?;
    let now = state.clock.now_for(access.organisation_id);
    let mut event = Event::new(id, Action::InformationProvided, principal.actor(), now);
    event.thread_id = Some(request_id);
    event.message = Some(answer.message);
    event.attachments = Some(JsonText(answer.attachments.clone()));
    let updated = if threads.open() == 1 {
        event = event.transition(Status::InformationRequested, Status::UnderAssessment);
        current.moved(Status::UnderAssessment, now)
    } else {
        Application { version: current.version + 1, updated_at: now, ..current.clone() }
    };
    if !state.store.update_application(&updated, current.version, &[event], None, None).await? {
        return Err(changed_meanwhile());
    }
    Ok(Json(InformationThreads::from_history(&state.store.application_events(id).await?)))
}

/// Make representations
///
/// Answers a notice of proposal within its window (28 days from the date the notice was served; 409
/// `representations_closed` after that, or once made). Needs `registrations:submit`.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/registration-applications/{application_id}/representations",
    tag = tags::REGISTRATIONS,
    operation_id = "make_representations",
    params(("organisation_id" = Uuid, Path), ("application_id" = Uuid, Path)),
    request_body = ApplicantMessage,
    responses(
        (status = 200, description = "Made", body = ApplicationView, headers(("ETag" = String, description = "The new version"))),
        (status = 409, description = "No notice of proposal, or its window has closed"),
    ),
)]
async fn make_representations(
    State(state): State<AppState>,
    authorized: Authorized<SubmitRegistrations>,
    Path((_, id)): Path<(Uuid, Uuid)>,
    ValidatedJson(representations): ValidatedJson<ApplicantMessage>,
) -> Result<Response, Problem> {
    let Authorized { principal, access, .. } = authorized;
    let current = visible(&state, &access, id).await?;
    let mut workflow = current.workflow();
    let now = state.clock.now_for(access.organisation_id);
    let proposal = match (&mut workflow.proposal, current.status()) {
        (Some(proposal), Status::ProposalIssued) => proposal,
        _ => {
            return Err(Problem::in_state(
                "no_proposal",
                "No notice of proposal",
                current.status.as_str(),
                "Representations answer a notice of proposal, and none is open on this application.",
            ));
        }
    };
    if !representations_open(proposal, date_in_england(now)) {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "representations_closed",
            "The window for representations has closed",
            format!(
                "Representations were due by {} (28 days from service of the notice), or have been made already.",
                proposal.representations_due_on
            ),
        ));
    }
    crate::documents::require_visible(&state, &access, &representations.attachments).await?;
    require_clean(&state, &representations.attachments).await?;
    freeze_ids(&state, &representations.attachments).await?;
    proposal.representations_made_at = Some(now);
    let mut updated = Application { version: current.version + 1, updated_at: now, ..current.clone() };
    updated.workflow = JsonText(workflow);
    let mut event = Event::new(id, Action::RepresentationsMade, principal.actor(), now);
    event.message = Some(representations.message);
    event.attachments = Some(JsonText(representations.attachments.clone()));
    if !state.store.update_application(&updated, current.version, &[event], None, None).await? {
        return Err(changed_meanwhile());
    }
    full(&state, StatusCode::OK, updated).await
}

/// Registered details
///
/// What the organisation is registered for: its provider ID, its registered locations with the regulated
/// activities and manager of each, its conditions and its partners. Only decisions on applications change
/// these, and notifications are checked against them.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/registration",
    tag = tags::REGISTRATIONS,
    operation_id = "registration_details",
    params(("organisation_id" = Uuid, Path)),
    responses((status = 200, description = "The registered details", body = RegisteredDetails)),
)]
async fn registration_details(
    State(state): State<AppState>,
    authorized: Authorized<ReadRegistrations>,
) -> Result<Json<RegisteredDetails>, Problem> {
    require_unlimited(&authorized.access, Capability::RegistrationsRead)?;
    Ok(Json(state.store.registered_details(authorized.access.organisation_id).await?))
}

// Shared with the regulator's handlers.

/// The application, if the caller can see it: 404 for another organisation's. Registration is the whole
/// organisation's business, so access limited to some locations is refused (403).
async fn visible(state: &AppState, access: &Access, id: Uuid) -> Result<Application, Problem> {
    require_unlimited(access, Capability::RegistrationsRead)?;
    let not_found = || Problem::not_found("There is no application with this id that you can see.");
    let application = state.store.application(id).await?.ok_or_else(not_found)?;
    if application.organisation_id != access.organisation_id {
        return Err(not_found());
    }
    Ok(application)
}

fn require_unlimited(access: &Access, capability: Capability) -> Result<(), Problem> {
    access.require_every_location(
        capability,
        "Registration concerns the whole organisation; your access is limited to some locations.",
    )
}

async fn section_row(state: &AppState, application: &Application, section: SectionName) -> Result<SectionRow, Problem> {
    state.store.application_sections(application.id).await?.into_iter().find(|s| s.name == section).ok_or_else(|| {
        Problem::not_found(format!("An application of type `{}` has no `{section}` section.", application.kind()))
    })
}

fn section_response(row: SectionRow) -> Response {
    let headers = section_headers(&row);
    let mut response = Json(SectionView::from(row)).into_response();
    response.headers_mut().extend(headers);
    response
}

/// Every section's content by name.
pub(super) async fn contents(state: &AppState, id: Uuid) -> Result<BTreeMap<SectionName, Value>, Problem> {
    by_name(&state.store.application_sections(id).await?)
}

fn by_name(rows: &[SectionRow]) -> Result<BTreeMap<SectionName, Value>, Problem> {
    Ok(rows.iter().map(|s| (s.section(), Value::Object(s.content.0.clone()))).collect())
}

/// The application with its sections, as a response with its `ETag`.
pub(super) async fn full(state: &AppState, status: StatusCode, a: Application) -> Result<Response, Problem> {
    let sections = state.store.application_sections(a.id).await?;
    let open = if a.status() == Status::InformationRequested {
        InformationThreads::from_history(&state.store.application_events(a.id).await?).open()
    } else {
        0
    };
    let headers = application_headers(&a, false);
    let mut response = (status, Json(ApplicationView::new(a, sections, open, state.clock.now()))).into_response();
    response.headers_mut().extend(headers);
    Ok(response)
}

pub(super) fn changed_meanwhile() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "changed_meanwhile",
        "Changed at the same moment",
        "Someone else changed this application at the same moment; read it again and retry.",
    )
}

/// 412 for a section write: the usual words, and which `ETag` a section takes (the application's is the
/// commonest mistake, and on a new application both are "1", so it shows only later).
fn stale_section(section: SectionName) -> Problem {
    let mut problem = stale();
    problem.detail = format!(
        "This section has changed since the version named, or the ETag sent is not this section's. A section \
takes its own ETag (GET …/sections/{section}), not the application's; read it again, reapply your change and \
send its ETag."
    );
    problem
}

/// Documents sent with a message must be scanned clean, as a submission's must (422 naming each other one).
async fn require_clean(state: &AppState, ids: &[Uuid]) -> Result<(), Problem> {
    let mut errors = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let status = state.store.document(*id).await?.map(|d| d.scan_status);
        if status != Some(ScanStatus::Clean) {
            let status = status.map_or("unknown", ScanStatus::as_str);
            errors.push(provider_api_core::field_error::FieldError::new(
                format!("/attachments/{i}"),
                "not_clean",
                format!("This document's malware scan is {status}; only documents scanned clean can be sent."),
            ));
        }
    }
    if errors.is_empty() { Ok(()) } else { Err(Problem::validation(errors)) }
}

/// Documents sent with a message are frozen, as a submission's are.
async fn freeze_ids(state: &AppState, ids: &[Uuid]) -> Result<(), Problem> {
    if !ids.is_empty() && !state.store.freeze_documents(ids, state.clock.now()).await? {
        return Err(crate::documents::deleted_while_sending());
    }
    Ok(())
}
