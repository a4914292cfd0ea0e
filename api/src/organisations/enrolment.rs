//! Claiming a registered provider's organisation with an enrolment code from the regulator.

use axum::Json;
use axum::extract::State;
use provider_api_core::accounts::Membership;
use provider_api_core::capability::Role;
use provider_api_core::field_error::FieldError;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

use super::OrganisationView;
use crate::auth::principal::Person;
use crate::auth::secret;
use crate::http::{Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(redeem_enrolment_code))
}

#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"code": "pae_kF3qT7mW2xB9"})))]
pub struct Enrolment {
    /// The code the regulator sent (`pae_…`).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100, example = "pae_kF3q...")]
    pub code: String,
}

provider_api_core::debug_redacting!(Enrolment { shown: [], redacted: [code] });

/// Redeem an enrolment code
///
/// The signed-in person becomes an admin of the registered provider the code was issued for. Each code
/// works once, for 30 days; a used, expired or unknown code is refused alike (422), so codes cannot be
/// probed. People only.
#[utoipa::path(
    post,
    path = "/v1/enrolments",
    tag = tags::ORGANISATIONS,
    operation_id = "redeem_enrolment_code",
    request_body = Enrolment,
    responses(
        (status = 200, description = "Now an admin of this organisation", body = OrganisationView),
        (status = 403, description = "Only people can enrol"),
    ),
)]
async fn redeem_enrolment_code(
    State(state): State<AppState>,
    Person(user): Person,
    ValidatedJson(enrolment): ValidatedJson<Enrolment>,
) -> Result<Json<OrganisationView>, Problem> {
    let now = state.clock.now();
    let Some(code) = state.store.redeem_enrolment_code(&secret::hash(enrolment.code.trim()), user.id, now).await?
    else {
        return Err(Problem::validation(vec![FieldError::new(
            "/code",
            "invalid_code",
            "This code is not valid: it may be mistyped, used already or expired. Ask the regulator for a new one.",
        )]));
    };
    let roles = match state.store.membership(user.id, code.organisation_id).await? {
        Some(existing) => {
            let mut roles = existing.roles();
            roles.insert(Role::Admin);
            roles.into()
        }
        None => [Role::Admin].into_iter().collect(),
    };
    let membership = Membership {
        user_id: user.id,
        organisation_id: code.organisation_id,
        roles,
        location_ids: None,
        created_at: now,
    };
    state.store.put_membership(&membership).await?;
    let organisation = state
        .store
        .organisation(code.organisation_id)
        .await?
        .ok_or_else(|| Problem::not_found("No such organisation."))?;
    Ok(Json(organisation.into()))
}
