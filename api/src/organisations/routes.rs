use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use provider_api_core::accounts::{Location, Membership, Organisation};
use provider_api_core::capability::Role;
use provider_api_core::domain::Postcode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::auth::principal::{AdminOrg, Authorized, Person, ReadOrg};
use crate::http::etag::{etag, stale};
use crate::http::{IfMatch, Path, Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_organisation))
        .routes(routes!(get_organisation, update_organisation))
        .routes(routes!(list_locations, create_location))
        .routes(routes!(get_location))
}

/// An organisation: a registered provider, or an applicant not yet registered.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationView {
    pub id: Uuid,
    /// The organisation's name.
    #[schema(example = "Riverside Care Ltd")]
    pub name: String,
    /// The provider ID the regulator assigned, once registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "1-199747506")]
    pub provider_id: Option<String>,
    pub settings: Settings,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// How the organisation works (see docs/review.md).
#[derive(Debug, Serialize, ToSchema)]
pub struct Settings {
    /// Four eyes: what people send is reviewed by a second person. A draft's last editor submits it only once a
    /// colleague with the submitter role has approved its current version; a colleague may also submit it.
    /// On by default; it applies only while at least two people can submit (`four_eyes_in_effect`).
    pub four_eyes: bool,
    /// Whether four eyes applies now: the setting is on and at least two people (not disabled) hold the
    /// submitter role. A one-person provider sends its own notifications; the rule starts when a second
    /// submitter joins. In the organisation's own responses (not in the regulator's lists of organisations).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub four_eyes_in_effect: Option<bool>,
    /// Software acting as itself (an API client with `notifications:submit` or `registrations:submit`) sends
    /// without a person's approval. Off: it sends only a version a person approved. On by default.
    pub software_submits: bool,
}

impl From<Organisation> for OrganisationView {
    fn from(o: Organisation) -> Self {
        Self {
            id: o.id,
            name: o.name,
            provider_id: o.provider_id,
            settings: Settings {
                four_eyes: o.four_eyes,
                four_eyes_in_effect: None,
                software_submits: o.software_submits,
            },
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// With its `ETag`, for `If-Match` on the next update, and whether four eyes applies now (how many people
/// can submit, read beside it).
async fn organisation_response(
    state: &AppState,
    status: StatusCode,
    organisation: Organisation,
) -> Result<Response, Problem> {
    let submitters = state.store.submission_context(organisation.id, None).await?.map_or(0, |c| c.submitters);
    let tag = etag(organisation.version);
    let mut view = OrganisationView::from(organisation);
    view.settings.four_eyes_in_effect =
        Some(provider_api_core::workflow::four_eyes_in_effect(view.settings.four_eyes, submitters));
    let mut response = (status, Json(view)).into_response();
    response.headers_mut().insert(header::ETAG, tag);
    Ok(response)
}

pub(crate) fn not_blank(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(ValidationError::new("blank").with_message("This must not be blank.".into()));
    }
    Ok(())
}

/// A new organisation, made by a person who will be its first admin.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Riverside Care Ltd"})))]
pub struct NewOrganisation {
    /// The legal name.
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300, example = "Riverside Care Ltd")]
    pub name: String,
}

/// Create an organisation
///
/// For an applicant that is not registered yet: the person creating it becomes its admin. (An existing
/// registered provider is claimed with an enrolment code from the regulator instead.) People only: API
/// clients belong to an organisation already.
#[utoipa::path(
    post,
    path = "/v1/organisations",
    tag = tags::ORGANISATIONS,
    operation_id = "create_organisation",
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Created; the caller is its admin", body = OrganisationView,
            headers(("ETag" = String, description = "The version, for If-Match"), ("Location" = String, description = "Its address"))),
        (status = 403, description = "Only people can create organisations"),
    ),
)]
async fn create_organisation(
    State(state): State<AppState>,
    Person(user): Person,
    ValidatedJson(new): ValidatedJson<NewOrganisation>,
) -> Result<Response, Problem> {
    let now = state.clock.now();
    let organisation = Organisation {
        id: Uuid::new_v4(),
        name: new.name.trim().to_owned(),
        provider_id: None,
        four_eyes: true,
        software_submits: true,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    state.store.create_organisation(&organisation).await?;
    let membership = Membership {
        user_id: user.id,
        organisation_id: organisation.id,
        roles: [Role::Admin].into_iter().collect(),
        location_ids: None,
        created_at: now,
    };
    state.store.put_membership(&membership).await?;
    let location = format!("/v1/organisations/{}", organisation.id);
    let mut response = organisation_response(&state, StatusCode::CREATED, organisation).await?;
    response.headers_mut().insert(header::LOCATION, location.parse().expect("a path is a valid header"));
    Ok(response)
}

/// Get an organisation
///
/// The organisation and its settings, with an `ETag` to send as `If-Match` when updating it.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "get_organisation",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 200, description = "The organisation", body = OrganisationView,
        headers(("ETag" = String, description = "The version, for If-Match")))),
)]
async fn get_organisation(
    State(state): State<AppState>,
    _: Authorized<ReadOrg>,
    Path(organisation_id): Path<Uuid>,
) -> Result<Response, Problem> {
    let organisation =
        state.store.organisation(organisation_id).await?.ok_or_else(|| Problem::not_found("No such organisation."))?;
    organisation_response(&state, StatusCode::OK, organisation).await
}

/// Changes to an organisation (JSON Merge Patch, RFC 7396): fields left out stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Riverside Care Limited"})))]
pub struct OrganisationChanges {
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", nullable = false, min_length = 1, max_length = 300)]
    pub name: Option<String>,
    #[schema(nullable = false)]
    pub settings: Option<SettingsChanges>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChanges {
    /// Only a person changes this (software acting as itself cannot lift the review of what it sends).
    #[schema(nullable = false)]
    pub four_eyes: Option<bool>,
    /// Only a person changes this: software acting as itself cannot decide what it may send.
    #[schema(nullable = false)]
    pub software_submits: Option<bool>,
}

/// Update an organisation
///
/// Changes the name or settings (JSON Merge Patch). `If-Match` is required: 428 without it, 412 if the
/// organisation changed since it was read.
#[utoipa::path(
    patch,
    path = "/v1/organisations/{organisation_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "update_organisation",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("If-Match" = String, Header, description = "The ETag last read"),
    ),
    request_body(content = OrganisationChanges, content_type = "application/merge-patch+json"),
    responses((status = 200, description = "Updated", body = OrganisationView,
        headers(("ETag" = String, description = "The new version")))),
)]
async fn update_organisation(
    State(state): State<AppState>,
    authorized: Authorized<AdminOrg>,
    Path(organisation_id): Path<Uuid>,
    if_match: IfMatch,
    ValidatedJson(changes): ValidatedJson<OrganisationChanges>,
) -> Result<Response, Problem> {
    let settings = changes.settings.as_ref();
    // How the organisation reviews what it sends is for people to decide: software acting as itself (even
    // holding the admin role) could otherwise lift the review of its own submissions.
    let touches_review = settings.is_some_and(|s| s.four_eyes.is_some() || s.software_submits.is_some());
    if touches_review && authorized.principal.actor().user.is_none() {
        return Err(Problem::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Not permitted",
            "Only a person changes how the organisation reviews what it sends (four eyes, and whether software \
may send on its own): software acting as itself cannot.",
        ));
    }
    let expected = if_match.version()?;
    let current =
        state.store.organisation(organisation_id).await?.ok_or_else(|| Problem::not_found("No such organisation."))?;
    if current.version != expected {
        return Err(stale());
    }
    let name = changes.name.as_deref().map_or(current.name.as_str(), str::trim);
    let four_eyes = settings.and_then(|s| s.four_eyes).unwrap_or(current.four_eyes);
    let software_submits = settings.and_then(|s| s.software_submits).unwrap_or(current.software_submits);
    let now = state.clock.now_for(organisation_id);
    let updated = state
        .store
        .update_organisation(organisation_id, name, four_eyes, software_submits, expected, now)
        .await?
        .ok_or_else(stale)?;
    organisation_response(&state, StatusCode::OK, updated).await
}

/// A postal address in England.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    #[validate(length(min = 1, max = 200), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 200, example = "1 River Lane")]
    pub line_1: String,
    #[validate(length(max = 200))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, max_length = 200)]
    pub line_2: Option<String>,
    #[validate(length(min = 1, max = 100), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 100, example = "Newcastle upon Tyne")]
    pub town: String,
    /// A UK postcode (the server checks it), in any case and spacing; returned in normal form.
    #[validate(custom(function = "valid_postcode"))]
    #[schema(max_length = 32, example = "NE1 4ST")]
    pub postcode: String,
}

fn valid_postcode(value: &str) -> Result<(), ValidationError> {
    Postcode::parse(value).map(drop).map_err(|e| ValidationError::new(e.code).with_message(e.message))
}

/// A place the organisation provides care from.
#[derive(Debug, Serialize, ToSchema)]
pub struct LocationView {
    pub id: Uuid,
    pub organisation_id: Uuid,
    /// The location ID the regulator assigned, once registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "1-545611283")]
    pub location_id: Option<String>,
    #[schema(example = "Riverside House")]
    pub name: String,
    pub address: Address,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<Location> for LocationView {
    fn from(l: Location) -> Self {
        Self {
            id: l.id,
            organisation_id: l.organisation_id,
            location_id: l.location_id,
            name: l.name,
            address: Address { line_1: l.address_line_1, line_2: l.address_line_2, town: l.town, postcode: l.postcode },
            created_at: l.created_at,
        }
    }
}

/// Every location of an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct Locations {
    pub items: Vec<LocationView>,
}

/// List locations
///
/// Every location of the organisation, oldest first.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/locations",
    tag = tags::ORGANISATIONS,
    operation_id = "list_locations",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 200, description = "The locations", body = Locations)),
)]
async fn list_locations(
    State(state): State<AppState>,
    _: Authorized<ReadOrg>,
    Path(organisation_id): Path<Uuid>,
) -> Result<Json<Locations>, Problem> {
    let items = state.store.locations(organisation_id).await?.into_iter().map(LocationView::from).collect();
    Ok(Json(Locations { items }))
}

/// A new location.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"name": "Riverside Court", "address": {"line_1": "2 River Lane", "town": "Newcastle upon Tyne", "postcode": "NE1 4ST"}})))]
pub struct NewLocation {
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300, example = "Riverside House")]
    pub name: String,
    #[validate(nested)]
    pub address: Address,
}

/// Add a location
///
/// Records a place the organisation provides care from. Its regulator location ID is assigned on
/// registration, not here.
#[utoipa::path(
    post,
    path = "/v1/organisations/{organisation_id}/locations",
    tag = tags::ORGANISATIONS,
    operation_id = "create_location",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    request_body = NewLocation,
    responses((status = 201, description = "Added", body = LocationView,
        headers(("Location" = String, description = "Its address")))),
)]
async fn create_location(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path(organisation_id): Path<Uuid>,
    ValidatedJson(new): ValidatedJson<NewLocation>,
) -> Result<(StatusCode, HeaderMap, Json<LocationView>), Problem> {
    let postcode = Postcode::parse(&new.address.postcode).map_err(|e| {
        Problem::validation(vec![provider_api_core::field_error::FieldError::new(
            "/address/postcode",
            e.code,
            e.message,
        )])
    })?;
    let location = Location {
        id: Uuid::new_v4(),
        organisation_id,
        location_id: None,
        name: new.name.trim().to_owned(),
        address_line_1: new.address.line_1.trim().to_owned(),
        address_line_2: new.address.line_2.map(|l| l.trim().to_owned()).filter(|l| !l.is_empty()),
        town: new.address.town.trim().to_owned(),
        postcode: postcode.to_string(),
        created_at: state.clock.now_for(organisation_id),
    };
    state.store.create_location(&location).await?;
    let mut headers = HeaderMap::new();
    let address = format!("/v1/organisations/{organisation_id}/locations/{}", location.id);
    headers.insert(header::LOCATION, address.parse().expect("a path is a valid header"));
    Ok((StatusCode::CREATED, headers, Json(location.into())))
}

/// Get a location
///
/// One location of the organisation.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/locations/{location_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "get_location",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("location_id" = Uuid, Path, description = "The location (our id, not the regulator's location ID)"),
    ),
    responses((status = 200, description = "The location", body = LocationView)),
)]
async fn get_location(
    State(state): State<AppState>,
    _: Authorized<ReadOrg>,
    Path((organisation_id, location_id)): Path<(Uuid, Uuid)>,
) -> Result<Json<LocationView>, Problem> {
    let location = state.store.locations(organisation_id).await?.into_iter().find(|l| l.id == location_id);
    location.map(|l| Json(l.into())).ok_or_else(|| Problem::not_found("This organisation has no such location."))
}
