//! Endpoints for the regulator's staff, under `/v1/admin/`: provider records and their enrolment codes,
//! user accounts, and integrator applications. Staff have no provider membership; these endpoints need a
//! staff role (403 naming it otherwise).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use provider_api_core::accounts::{IntegratorApp, Organisation, User};
use provider_api_core::capability::{Capability, StaffRole};
use provider_api_core::domain::ProviderId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::auth::principal::StaffAdmin;
use crate::auth::secret;
use crate::http::pagination::{After, PageQuery, page};
use crate::http::{Path, Problem, Query, ValidatedJson};
use crate::openapi::tags;
use crate::organisations::{OrganisationView, not_blank};
use crate::state::AppState;

/// How long an enrolment code stays redeemable.
const ENROLMENT_CODE_LIFETIME: time::Duration = time::Duration::days(30);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_provider_record, list_all_organisations))
        .routes(routes!(issue_enrolment_code))
        .routes(routes!(list_users))
        .routes(routes!(disable_user))
        .routes(routes!(reset_two_factor))
        .routes(routes!(register_integrator_app, list_integrator_apps))
        .routes(routes!(record_registered_location))
}

/// A location already on the regulator's register, brought across with what it is registered for.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"location_id": "1-545611283", "name": "Riverside House", "address": {"line_1": "2 River Lane", "town": "Newcastle upon Tyne", "postcode": "NE1 4ST"}, "regulated_activities": ["personal_care", "accommodation_nursing_or_personal_care"], "manager": {"full_name": "Alex Reid", "email": "alex.reid@riverside.example"}})))]
pub struct RegisteredLocationRecord {
    /// The regulator's location ID (`1-` and 8 to 11 digits, or an NHS site's ODS code).
    #[validate(custom(function = "valid_location_id"))]
    #[schema(max_length = 32, example = "1-545611283")]
    pub location_id: String,
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300, example = "Riverside House")]
    pub name: String,
    #[validate(nested)]
    pub address: crate::organisations::Address,
    /// Regulated activity codes registered there.
    #[validate(length(min = 1, max = 14))]
    #[schema(min_items = 1, max_items = 14, example = json!(["personal_care"]))]
    pub regulated_activities: Vec<String>,
    /// Its registered manager, if it has one.
    #[serde(default)]
    #[validate(nested)]
    #[schema(nullable = false)]
    pub manager: Option<ManagerRecord>,
}

/// A registered manager, as the register holds them.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManagerRecord {
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200)]
    pub full_name: String,
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    pub email: String,
}

fn valid_location_id(value: &str) -> Result<(), ValidationError> {
    provider_api_core::domain::LocationId::parse(value)
        .map(drop)
        .map_err(|e| ValidationError::new(e.code).with_message(e.message))
}

/// Record a registered location
///
/// Brings a location of a provider registered before this service across from the register, with its
/// regulated activities and manager, so the provider can notify about it. Locations registered through an
/// application here need no such record. The organisation must be a provider record (with a provider ID;
/// 409 otherwise); a location ID can be recorded once (409).
#[utoipa::path(
    post,
    path = "/v1/admin/organisations/{organisation_id}/registered-locations",
    tag = tags::ADMIN,
    operation_id = "record_registered_location",
    params(("organisation_id" = Uuid, Path)),
    request_body = RegisteredLocationRecord,
    responses(
        (status = 201, description = "Recorded: the organisation's registered details now", body = provider_api_core::registrations::registered::RegisteredDetails),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 404, description = "No such organisation"),
        (status = 409, description = "Not a provider record, or that location ID is recorded already"),
    ),
)]
async fn record_registered_location(
    State(state): State<AppState>,
    _: StaffAdmin,
    Path(organisation_id): Path<Uuid>,
    ValidatedJson(record): ValidatedJson<RegisteredLocationRecord>,
) -> Result<(StatusCode, Json<provider_api_core::registrations::registered::RegisteredDetails>), Problem> {
    use provider_api_core::registrations::registered::{Changes, NewRegisteredLocation, RegisteredManager};
    let organisation = state
        .store
        .organisation(organisation_id)
        .await?
        .ok_or_else(|| Problem::not_found("There is no organisation with this id."))?;
    if organisation.provider_id.is_none() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not_a_provider",
            "Not a registered provider",
            "Only a provider record (with a provider ID) can have locations brought across from the register.",
        ));
    }
    let mut errors = Vec::new();
    for (i, code) in record.regulated_activities.iter().enumerate() {
        if !state.activity_codes.contains(code) || record.regulated_activities[..i].contains(code) {
            errors.push(provider_api_core::field_error::FieldError::new(
                format!("/regulated_activities/{i}"),
                "unknown_activity",
                "Give each regulated activity code once, from GET /v1/reference/regulated-activities.",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    let postcode = provider_api_core::domain::Postcode::parse(&record.address.postcode).map_err(|e| {
        Problem::validation(vec![provider_api_core::field_error::FieldError::new(
            "/address/postcode",
            e.code,
            e.message,
        )])
    })?;
    let location_id = provider_api_core::domain::LocationId::parse(&record.location_id).map_err(|e| {
        Problem::validation(vec![provider_api_core::field_error::FieldError::new("/location_id", e.code, e.message)])
    })?;
    let now = state.clock.now();
    let id = Uuid::now_v7();
    let changes = Changes {
        new_locations: vec![NewRegisteredLocation {
            id,
            location_id: location_id.as_str().to_owned(),
            name: record.name.trim().to_owned(),
            line_1: record.address.line_1.trim().to_owned(),
            line_2: record.address.line_2.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()),
            town: record.address.town.trim().to_owned(),
            postcode: postcode.to_string(),
        }],
        add_activities: record.regulated_activities.iter().map(|a| (id, a.clone())).collect(),
        managers: record
            .manager
            .map(|m| {
                (id, RegisteredManager { full_name: m.full_name.trim().to_owned(), email: m.email, registered_at: now })
            })
            .into_iter()
            .collect(),
        ..Default::default()
    };
    state.store.record_registration(organisation_id, &changes, now).await?;
    Ok((StatusCode::CREATED, Json(state.store.registered_details(organisation_id).await?)))
}

/// A registered provider's record, as the regulator holds it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Riverside Care Ltd", "provider_id": "1-199747506"})))]
pub struct NewProviderRecord {
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300, example = "Riverside Care Ltd")]
    pub name: String,
    /// The provider ID (`1-` and 8 to 11 digits, or an NHS trust's ODS code; the server checks it).
    #[validate(custom(function = "valid_provider_id"))]
    #[schema(max_length = 32, example = "1-199747506")]
    pub provider_id: String,
}

fn valid_provider_id(value: &str) -> Result<(), ValidationError> {
    ProviderId::parse(value).map(drop).map_err(|e| ValidationError::new(e.code).with_message(e.message))
}

/// Create a provider record
///
/// The organisation of a registered provider, so that its people can claim it with an enrolment code.
/// A provider ID can belong to one organisation only (409).
#[utoipa::path(
    post,
    path = "/v1/admin/organisations",
    tag = tags::ADMIN,
    operation_id = "create_provider_record",
    request_body = NewProviderRecord,
    responses(
        (status = 201, description = "Created", body = OrganisationView),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 409, description = "That provider ID belongs to another organisation"),
    ),
)]
async fn create_provider_record(
    State(state): State<AppState>,
    _: StaffAdmin,
    ValidatedJson(new): ValidatedJson<NewProviderRecord>,
) -> Result<(StatusCode, Json<OrganisationView>), Problem> {
    let provider_id = ProviderId::parse(&new.provider_id).map_err(|e| {
        Problem::validation(vec![provider_api_core::field_error::FieldError::new("/provider_id", e.code, e.message)])
    })?;
    let now = state.clock.now();
    let organisation = Organisation {
        id: Uuid::new_v4(),
        name: new.name.trim().to_owned(),
        provider_id: Some(provider_id.to_string()),
        four_eyes: true,
        software_submits: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    state.store.create_organisation(&organisation).await?;
    Ok((StatusCode::CREATED, Json(organisation.into())))
}

/// List every organisation
///
/// All organisations, providers and applicants, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/admin/organisations",
    tag = tags::ADMIN,
    operation_id = "list_all_organisations",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of organisations", body = OrganisationPage),
        (status = 403, description = "Not staff with `staff_admin`"),
    ),
)]
async fn list_all_organisations(
    State(state): State<AppState>,
    _: StaffAdmin,
    Query(query): Query<PageQuery>,
) -> Result<Json<OrganisationPage>, Problem> {
    let (limit, after) = (query.limit()?, query.after()?);
    let rows = state.store.organisations_after(after.created_at, after.id, i64::from(limit) + 1).await?;
    let (items, next) = page(rows, limit, |o| After { created_at: o.created_at, id: o.id }, OrganisationView::from);
    Ok(Json(OrganisationPage { items, next }))
}

/// A page of organisations.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationPage {
    pub items: Vec<OrganisationView>,
    /// The cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<UserView>,
    /// The cursor of the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub next: Option<String>,
}

/// An enrolment code, shown this once.
#[derive(Serialize, ToSchema)]
pub struct IssuedEnrolmentCode {
    pub organisation_id: Uuid,
    /// Give it to the provider by a trusted channel (post to the registered address, as Companies House does).
    #[schema(example = "pae_kF3q...")]
    pub code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
}

provider_api_core::debug_redacting!(IssuedEnrolmentCode { shown: [organisation_id, expires_at], redacted: [code] });

/// Issue an enrolment code
///
/// A single-use code (30 days) for a provider record: the first person to redeem it becomes the
/// organisation's admin. Only for registered providers (409 for an applicant's organisation).
#[utoipa::path(
    post,
    path = "/v1/admin/organisations/{organisation_id}/enrolment-codes",
    tag = tags::ADMIN,
    operation_id = "issue_enrolment_code",
    params(("organisation_id" = Uuid, Path, description = "The provider record")),
    responses(
        (status = 201, description = "The code, shown this once", body = IssuedEnrolmentCode),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 409, description = "Not a registered provider"),
    ),
)]
async fn issue_enrolment_code(
    State(state): State<AppState>,
    StaffAdmin(staff): StaffAdmin,
    Path(organisation_id): Path<Uuid>,
) -> Result<(StatusCode, Json<IssuedEnrolmentCode>), Problem> {
    let organisation =
        state.store.organisation(organisation_id).await?.ok_or_else(|| Problem::not_found("No such organisation."))?;
    if organisation.provider_id.is_none() {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "not_a_provider",
            "Not a registered provider",
            "Enrolment codes are for registered providers; an applicant's creator is already its admin.",
        ));
    }
    let now = state.clock.now();
    let (code, record) =
        crate::register::enrolment::new_code(organisation_id, staff.id, now, now + ENROLMENT_CODE_LIFETIME);
    // A reissue: any code of the provider's still open ends as this one is issued.
    state.store.issue_enrolment_codes(std::slice::from_ref(&record), now).await?;
    Ok((StatusCode::CREATED, Json(IssuedEnrolmentCode { organisation_id, code, expires_at: record.expires_at })))
}

/// A person's account, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub staff_roles: Vec<StaffRole>,
    /// A disabled account cannot sign in, and its tokens stop working.
    pub disabled: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<User> for UserView {
    fn from(u: User) -> Self {
        Self {
            staff_roles: u.staff_roles().into_iter().collect(),
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            disabled: u.disabled,
            created_at: u.created_at,
        }
    }
}

/// List users
///
/// Every person's account, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/admin/users",
    tag = tags::ADMIN,
    operation_id = "list_users",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of users", body = UserPage),
        (status = 403, description = "Not staff with `staff_admin`"),
    ),
)]
async fn list_users(
    State(state): State<AppState>,
    _: StaffAdmin,
    Query(query): Query<PageQuery>,
) -> Result<Json<UserPage>, Problem> {
    let (limit, after) = (query.limit()?, query.after()?);
    let rows = state.store.users_after(after.created_at, after.id, i64::from(limit) + 1).await?;
    let (items, next) = page(rows, limit, |u| After { created_at: u.created_at, id: u.id }, UserView::from);
    Ok(Json(UserPage { items, next }))
}

/// Disable a user
///
/// The person can no longer sign in, and every token they hold stops working at once. Staff cannot
/// disable their own account (409).
#[utoipa::path(
    post,
    path = "/v1/admin/users/{user_id}/disable",
    tag = tags::ADMIN,
    operation_id = "disable_user",
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 200, description = "Disabled", body = UserView),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 404, description = "No such user"),
        (status = 409, description = "Staff cannot disable themselves"),
    ),
)]
async fn disable_user(
    State(state): State<AppState>,
    StaffAdmin(staff): StaffAdmin,
    Path(user_id): Path<Uuid>,
) -> Result<Json<UserView>, Problem> {
    if staff.id == user_id {
        return Err(Problem::new(
            StatusCode::CONFLICT,
            "self_disable",
            "Cannot disable yourself",
            "Ask another staff admin.",
        ));
    }
    let user =
        state.store.set_user_disabled(user_id, true).await?.ok_or_else(|| Problem::not_found("No such user."))?;
    Ok(Json(user.into()))
}

/// Reset a person's second factor
///
/// Removes their authenticator and recovery codes, for someone who has lost both: they set up a new one at
/// their next sign-in (and must, if they are staff or their organisation requires it). Confirm who is asking
/// by another route first; the reset is on the audit trail. Resetting someone who has none is done already
/// (204).
#[utoipa::path(
    delete,
    path = "/v1/admin/users/{user_id}/two-factor",
    tag = tags::ADMIN,
    operation_id = "reset_two_factor",
    params(("user_id" = Uuid, Path, description = "The user")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not staff with `staff_admin`"),
        (status = 404, description = "No such user"),
    ),
)]
async fn reset_two_factor(
    State(state): State<AppState>,
    StaffAdmin(_): StaffAdmin,
    Path(user_id): Path<Uuid>,
) -> Result<StatusCode, Problem> {
    if state.store.user(user_id).await?.is_none() {
        return Err(Problem::not_found("No such user."));
    }
    state.store.remove_authenticator(user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// https, or http to this machine's loopback (RFC 8252 §7.3: native apps), exactly; no fragment.
fn valid_redirect_uri(uri: &str) -> bool {
    if uri.len() > 2000 || uri.contains('#') || uri.chars().any(char::is_whitespace) {
        return false;
    }
    let Ok(parsed) = uri.parse::<axum::http::Uri>() else { return false };
    match (parsed.scheme_str(), parsed.host()) {
        (Some("https"), Some(host)) => !host.is_empty(),
        (Some("http"), Some(host)) => matches!(host, "localhost" | "127.0.0.1" | "[::1]"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::valid_redirect_uri;

    #[test]
    fn plain_http_is_only_for_the_loopback_host_itself() {
        for good in ["https://app.example/cb", "http://localhost:8000/cb", "http://127.0.0.1/cb", "http://[::1]:9/cb"] {
            assert!(valid_redirect_uri(good), "{good}");
        }
        for bad in [
            "http://app.example/cb",
            "http://localhost.evil.example/cb",
            "http://127.0.0.1.nip.io/cb",
            "https://app.example/cb#frag",
            "javascript:alert(1)",
            "",
        ] {
            assert!(!valid_redirect_uri(bad), "{bad}");
        }
    }
}

fn redirect_uris(uris: &[String]) -> Result<(), ValidationError> {
    if uris.iter().all(|u| valid_redirect_uri(u)) {
        Ok(())
    } else {
        Err(ValidationError::new("redirect_uri")
            .with_message("Each redirect URI must be https (http only for localhost), without a fragment.".into()))
    }
}

/// A third-party application to register.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Care Notes Online", "redirect_uris": ["https://app.carenotes.example/oauth/callback"], "scopes": ["org:read", "notifications:read", "notifications:write", "documents:write"], "confidential": true})))]
pub struct NewIntegratorApp {
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200, example = "Care Notes Online")]
    pub name: String,
    /// Exact redirect URIs: https, or http for localhost only; no fragment (the server checks).
    #[validate(length(min = 1, max = 10), custom(function = "redirect_uris"))]
    #[schema(min_items = 1, max_items = 10)]
    pub redirect_uris: Vec<String>,
    /// The scopes it may ask people for (at least one).
    #[validate(length(min = 1, max = 10))]
    #[schema(min_items = 1, max_items = 10)]
    pub scopes: Vec<Capability>,
    /// A confidential application (a server) gets a secret; a public one (browser, mobile) relies on PKCE.
    pub confidential: bool,
    /// One of the regulator's own applications (the provider portal, the staff portal): people signed in
    /// through it act in a first-party session, which alone may be handed an API client's credentials. Never
    /// for a third party's software. Default `false`.
    #[serde(default)]
    #[schema(default = false)]
    pub first_party: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegratorAppView {
    /// The OAuth `client_id`.
    pub id: Uuid,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<Capability>,
    pub confidential: bool,
    /// One of the regulator's own applications (see `NewIntegratorApp.first_party`).
    pub first_party: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<IntegratorApp> for IntegratorAppView {
    fn from(app: IntegratorApp) -> Self {
        Self {
            first_party: app.first_party,
            redirect_uris: app.redirect_uris().map(str::to_owned).collect(),
            scopes: app.scopes().into_iter().collect(),
            confidential: app.secret_hash.is_some(),
            id: app.id,
            name: app.name,
            created_at: app.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct RegisteredIntegratorApp {
    pub app: IntegratorAppView,
    /// For a confidential application: its secret, shown this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub client_secret: Option<String>,
}

provider_api_core::debug_redacting!(RegisteredIntegratorApp { shown: [app], redacted: [client_secret] });

/// Register an integrator application
///
/// Software that will act for people who sign in and consent, never with more than they have: a third
/// party's, or (with `first_party`) one of the regulator's own applications.
#[utoipa::path(
    post,
    path = "/v1/admin/integrator-apps",
    tag = tags::ADMIN,
    operation_id = "register_integrator_app",
    request_body = NewIntegratorApp,
    responses(
        (status = 201, description = "Registered", body = RegisteredIntegratorApp),
        (status = 403, description = "Not staff with `staff_admin`"),
    ),
)]
async fn register_integrator_app(
    State(state): State<AppState>,
    StaffAdmin(staff): StaffAdmin,
    ValidatedJson(new): ValidatedJson<NewIntegratorApp>,
) -> Result<(StatusCode, Json<RegisteredIntegratorApp>), Problem> {
    let client_secret = new.confidential.then(|| secret::generate(secret::prefix::CLIENT_SECRET));
    let scopes: std::collections::BTreeSet<Capability> = new.scopes.into_iter().collect();
    let app = IntegratorApp {
        id: Uuid::new_v4(),
        name: new.name.trim().to_owned(),
        redirect_uris: new.redirect_uris.join("\n"),
        secret_hash: client_secret.as_deref().map(secret::hash),
        scopes: scopes.iter().copied().collect(),
        created_by: Some(staff.id),
        created_at: state.clock.now(),
        revoked_at: None,
        first_party: new.first_party,
    };
    state.store.create_integrator_app(&app).await?;
    Ok((StatusCode::CREATED, Json(RegisteredIntegratorApp { app: app.into(), client_secret })))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegratorApps {
    pub items: Vec<IntegratorAppView>,
}

/// List integrator applications
///
/// Every registered application.
#[utoipa::path(
    get,
    path = "/v1/admin/integrator-apps",
    tag = tags::ADMIN,
    operation_id = "list_integrator_apps",
    responses(
        (status = 200, description = "The applications", body = IntegratorApps),
        (status = 403, description = "Not staff with `staff_admin`"),
    ),
)]
async fn list_integrator_apps(State(state): State<AppState>, _: StaffAdmin) -> Result<Json<IntegratorApps>, Problem> {
    let items = state.store.integrator_apps().await?.into_iter().map(IntegratorAppView::from).collect();
    Ok(Json(IntegratorApps { items }))
}
