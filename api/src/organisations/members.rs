//! Members: people with roles in an organisation, optionally limited to some of its locations.

use std::collections::BTreeSet;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use provider_api_core::accounts::{Member, Membership};
use provider_api_core::capability::Role;
use provider_api_core::stored::SpaceList;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use crate::auth::principal::{AdminOrg, Authorized, ReadOrg};
use crate::http::{Path, Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_members)).routes(routes!(update_member, remove_member))
}

/// A person's membership of an organisation.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// The locations the membership is limited to; absent when it covers every location.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_ids: Option<Vec<Uuid>>,
    #[serde(with = "time::serde::rfc3339")]
    pub joined_at: OffsetDateTime,
}

impl From<Member> for MemberView {
    fn from(m: Member) -> Self {
        Self {
            roles: m.roles().into_iter().collect(),
            location_ids: m.locations().map(|l| l.into_iter().collect()),
            user_id: m.user_id,
            email: m.email,
            display_name: m.display_name,
            joined_at: m.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Members {
    pub items: Vec<MemberView>,
}

/// List members
///
/// Everyone with a role in the organisation, with their roles and location limits.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/members",
    tag = tags::ORGANISATIONS,
    operation_id = "list_members",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 200, description = "The members", body = Members)),
)]
async fn list_members(
    State(state): State<AppState>,
    _: Authorized<ReadOrg>,
    Path(organisation_id): Path<Uuid>,
) -> Result<Json<Members>, Problem> {
    let items = state.store.members(organisation_id).await?.into_iter().map(MemberView::from).collect();
    Ok(Json(Members { items }))
}

/// A member's roles and location limits, replacing the ones they have.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"roles": ["drafter"], "location_ids": null})))]
pub struct MemberRoles {
    /// At least one role.
    #[validate(length(min = 1, max = 4, message = "Give at least one role."))]
    #[schema(min_items = 1, max_items = 4)]
    pub roles: Vec<Role>,
    /// Locations of this organisation (the server checks) to limit the membership to; `null` or absent for
    /// every location.
    #[serde(default)]
    #[validate(length(min = 1, max = 1000, message = "Give at least one location, or null for every location."))]
    #[schema(min_items = 1, max_items = 1000)]
    pub location_ids: Option<Vec<Uuid>>,
}

/// A 409 for changes that would leave nobody able to administer the organisation.
fn last_admin() -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "last_admin",
        "An organisation needs an admin",
        "This would leave the organisation without an admin. Make someone else an admin first.",
    )
}

/// Change a member's roles
///
/// Replaces the member's roles and location limits. The last admin cannot stop being one (409).
#[utoipa::path(
    put,
    path = "/v1/organisations/{organisation_id}/members/{user_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "update_member",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("user_id" = Uuid, Path, description = "The member"),
    ),
    request_body = MemberRoles,
    responses(
        (status = 200, description = "Updated", body = MemberView),
        (status = 409, description = "This would leave the organisation without an admin (`last_admin`)"),
    ),
)]
async fn update_member(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path((organisation_id, user_id)): Path<(Uuid, Uuid)>,
    ValidatedJson(change): ValidatedJson<MemberRoles>,
) -> Result<Json<MemberView>, Problem> {
    super::check_locations(&state, organisation_id, change.location_ids.as_deref()).await?;
    let members = state.store.members(organisation_id).await?;
    let Some(member) = members.iter().find(|m| m.user_id == user_id) else {
        return Err(Problem::not_found("This organisation has no such member."));
    };
    let roles: BTreeSet<Role> = change.roles.iter().copied().collect();
    let admins = members.iter().filter(|m| m.roles().contains(&Role::Admin)).count();
    if member.roles().contains(&Role::Admin) && !roles.contains(&Role::Admin) && admins == 1 {
        return Err(last_admin());
    }
    let locations: Option<BTreeSet<Uuid>> = change.location_ids.map(|ids| ids.into_iter().collect());
    let membership = Membership {
        user_id,
        organisation_id,
        roles: roles.iter().copied().collect(),
        location_ids: locations.clone().map(SpaceList::from),
        created_at: member.created_at,
    };
    state.store.put_membership(&membership).await?;
    let updated = Member { roles: membership.roles, location_ids: membership.location_ids, ..member.clone() };
    Ok(Json(updated.into()))
}

/// Remove a member
///
/// Ends the person's membership (their account stays). The last admin cannot be removed (409).
#[utoipa::path(
    delete,
    path = "/v1/organisations/{organisation_id}/members/{user_id}",
    tag = tags::ORGANISATIONS,
    operation_id = "remove_member",
    params(
        ("organisation_id" = Uuid, Path, description = "The organisation"),
        ("user_id" = Uuid, Path, description = "The member"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 409, description = "This would leave the organisation without an admin (`last_admin`)"),
    ),
)]
async fn remove_member(
    State(state): State<AppState>,
    _: Authorized<AdminOrg>,
    Path((organisation_id, user_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, Problem> {
    let members = state.store.members(organisation_id).await?;
    let Some(member) = members.iter().find(|m| m.user_id == user_id) else {
        return Err(Problem::not_found("This organisation has no such member."));
    };
    let admins = members.iter().filter(|m| m.roles().contains(&Role::Admin)).count();
    if member.roles().contains(&Role::Admin) && admins == 1 {
        return Err(last_admin());
    }
    state.store.remove_membership(user_id, organisation_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
