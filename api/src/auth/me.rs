//! `GET /v1/me` and `GET /v1/me/permissions`: who the caller is, and what it may do where, and why not.

use axum::Json;
use axum::extract::State;
use provider_api_core::capability::{Capability, Role, StaffRole};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::principal::{Decision, Principal, Subject};
use crate::http::{Problem, Query};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me)).routes(routes!(get_my_permissions))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrincipalKind {
    /// A person.
    User,
    /// A provider's software acting as itself.
    ApiClient,
}

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub kind: PrincipalKind,
    /// The user's id, or the API client's id.
    pub id: Uuid,
    /// The person's name, or the client's.
    pub name: String,
    /// The person's email (users only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub email: Option<String>,
    /// The OAuth client the access token was issued to.
    pub client_id: Uuid,
    /// The scopes of the access token.
    pub scopes: Vec<Capability>,
    /// The regulator's staff roles (staff only; empty otherwise).
    pub staff_roles: Vec<StaffRole>,
    /// Where the caller has access, and with which roles.
    pub organisations: Vec<MyOrganisation>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MyOrganisation {
    pub organisation_id: Uuid,
    pub name: String,
    pub roles: Vec<Role>,
    /// The locations the access is limited to; absent when it covers every location.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_ids: Option<Vec<Uuid>>,
}

/// Who am I?
///
/// The caller of this request: a person or an API client, the token's scopes, and the organisations it has
/// access to with its roles there.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = tags::IDENTITY,
    operation_id = "get_me",
    responses((status = 200, description = "The caller", body = Me)),
)]
async fn get_me(State(state): State<AppState>, principal: Principal) -> Result<Json<Me>, Problem> {
    let scopes = principal.claims.scopes().into_iter().collect();
    let staff_roles = principal.staff_roles().into_iter().collect();
    let client_id = principal.claims.client_id;
    let me = match &principal.subject {
        Subject::Client(client) => {
            let organisation = state.store.organisation(client.organisation_id).await?;
            Me {
                kind: PrincipalKind::ApiClient,
                id: client.id,
                name: client.name.clone(),
                email: None,
                client_id,
                scopes,
                staff_roles,
                organisations: organisation
                    .map(|o| MyOrganisation {
                        organisation_id: o.id,
                        name: o.name,
                        roles: client.roles().into_iter().collect(),
                        location_ids: client.locations().map(|l| l.into_iter().collect()),
                    })
                    .into_iter()
                    .collect(),
            }
        }
        Subject::User(user) => {
            let mut organisations = Vec::new();
            for membership in state.store.memberships_of(user.id).await? {
                if let Some(organisation) = state.store.organisation(membership.organisation_id).await? {
                    organisations.push(MyOrganisation {
                        organisation_id: organisation.id,
                        name: organisation.name,
                        roles: membership.roles().into_iter().collect(),
                        location_ids: membership.locations().map(|l| l.into_iter().collect()),
                    });
                }
            }
            Me {
                kind: PrincipalKind::User,
                id: user.id,
                name: user.display_name.clone(),
                email: Some(user.email.clone()),
                client_id,
                scopes,
                staff_roles,
                organisations,
            }
        }
    };
    Ok(Json(me))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PermissionsQuery {
    /// The organisation to ask about.
    pub organisation: Uuid,
    /// A location of that organisation, to take location limits into account.
    pub location: Option<Uuid>,
}

/// What the caller may do in one organisation (and location), permission by permission.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyPermissions {
    pub organisation_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    /// The caller's roles there.
    pub roles: Vec<Role>,
    /// Every permission, allowed or not, with the reason when not.
    pub permissions: Vec<Decision>,
}

/// What may I do here, and why not?
///
/// For each permission: whether the caller may use it in the organisation (and at the location, when given),
/// and if not, why (a missing role, a scope the token was not granted, a location limit). An organisation the
/// caller has no access to is 404, as everywhere.
#[utoipa::path(
    get,
    path = "/v1/me/permissions",
    tag = tags::IDENTITY,
    operation_id = "get_my_permissions",
    params(PermissionsQuery),
    responses((status = 200, description = "Every permission, decided", body = MyPermissions)),
)]
async fn get_my_permissions(
    State(state): State<AppState>,
    principal: Principal,
    Query(query): Query<PermissionsQuery>,
) -> Result<Json<MyPermissions>, Problem> {
    let access = principal.access(&state, query.organisation).await?;
    if let Some(location) = query.location {
        let known = state.store.locations(query.organisation).await?.iter().any(|l| l.id == location);
        if !known {
            return Err(Problem::not_found("This organisation has no location with this id."));
        }
    }
    Ok(Json(MyPermissions {
        organisation_id: query.organisation,
        location_id: query.location,
        roles: access.roles.iter().copied().collect(),
        permissions: Capability::provider().map(|c| access.decide(c, query.location)).collect(),
    }))
}
