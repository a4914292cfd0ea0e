//! Whether an organisation requires a second factor of its admins and submitters (`docs/identity.md`): they
//! then set one up at their next sign-in, and sign in with it from then on.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;
use validator::Validate;

use crate::auth::principal::{AdminOrg, Authorized, ReadOrg, Session};
use crate::http::{Path, Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_two_factor_policy, set_two_factor_policy))
}

/// An admin of the organisation in the path, a person in a first-party session: neither software acting as
/// itself nor a third party's application the admin consented to may loosen how people sign in. Checked
/// before the request body is read.
struct PersonAdmin;

impl axum::extract::FromRequestParts<AppState> for PersonAdmin {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> Result<Self, Problem> {
        let authorized = Authorized::<AdminOrg>::from_request_parts(parts, state).await?;
        if authorized.principal.session != Session::FirstParty {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not permitted",
                "Only a person, signed in to the Care Quality Commission's own service, changes how the \
                 organisation's people sign in: neither software acting as itself nor another application can.",
            ));
        }
        Ok(Self)
    }
}

/// The organisation's rule for second factors.
#[derive(Debug, Serialize, ToSchema)]
#[schema(examples(json!({"required": true, "required_since": "2026-12-07T09:30:00Z"})))]
pub struct TwoFactorPolicy {
    /// Whether its admins and submitters must sign in with a second factor.
    pub required: bool,
    /// Since when, if it is required.
    #[serde(with = "time::serde::rfc3339::option", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime, nullable = false)]
    pub required_since: Option<OffsetDateTime>,
}

/// A change to the rule.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"required": true})))]
pub struct NewTwoFactorPolicy {
    /// Whether its admins and submitters must sign in with a second factor.
    pub required: bool,
}

/// Get the second-factor rule
///
/// Whether the organisation's admins and submitters must sign in with a second factor (a code from an
/// authenticator app). Staff of the regulator always must.
#[utoipa::path(
    get,
    path = "/v1/organisations/{organisation_id}/two-factor-policy",
    tag = tags::ORGANISATIONS,
    operation_id = "get_two_factor_policy",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    responses((status = 200, description = "The rule", body = TwoFactorPolicy)),
)]
async fn get_two_factor_policy(
    State(state): State<AppState>,
    _: Authorized<ReadOrg>,
    Path(organisation_id): Path<Uuid>,
) -> Result<Json<TwoFactorPolicy>, Problem> {
    let since = state.store.two_factor_policy(organisation_id).await?;
    Ok(Json(TwoFactorPolicy { required: since.is_some(), required_since: since }))
}

/// Set the second-factor rule
///
/// Requires (or no longer requires) a second factor of the organisation's admins and submitters. Those
/// without one set it up at their next sign-in, on the sign-in pages; sign-ins they already hold carry on
/// until they end. Only a person in the regulator's own service (a first-party session) may change it.
#[utoipa::path(
    put,
    path = "/v1/organisations/{organisation_id}/two-factor-policy",
    tag = tags::ORGANISATIONS,
    operation_id = "set_two_factor_policy",
    params(("organisation_id" = Uuid, Path, description = "The organisation")),
    request_body = NewTwoFactorPolicy,
    responses((status = 200, description = "The rule now", body = TwoFactorPolicy)),
)]
async fn set_two_factor_policy(
    State(state): State<AppState>,
    _: PersonAdmin,
    Path(organisation_id): Path<Uuid>,
    ValidatedJson(new): ValidatedJson<NewTwoFactorPolicy>,
) -> Result<Json<TwoFactorPolicy>, Problem> {
    state.store.set_two_factor_policy(organisation_id, new.required, state.clock.now()).await?;
    let since = state.store.two_factor_policy(organisation_id).await?;
    Ok(Json(TwoFactorPolicy { required: since.is_some(), required_since: since }))
}
