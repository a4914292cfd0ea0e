//! Organisations and what belongs to them: locations, members and their roles, API clients.
//! Everything here is scoped by `/v1/organisations/{organisation_id}`: the caller's access there is checked
//! first (404 outside it), then the capability (403).

mod api_clients;
mod enrolment;
mod invitations;
mod members;
mod routes;
mod two_factor;

pub use routes::{Address, OrganisationView};

use std::collections::BTreeSet;

use utoipa_axum::router::OpenApiRouter;
use uuid::Uuid;

use crate::http::Problem;
use crate::state::AppState;

pub(crate) use routes::not_blank;

/// Checks the location limits name locations of this organisation (422 otherwise).
pub(crate) async fn check_locations(
    state: &AppState,
    organisation_id: Uuid,
    ids: Option<&[Uuid]>,
) -> Result<(), Problem> {
    let Some(ids) = ids else { return Ok(()) };
    let known: BTreeSet<Uuid> = state.store.locations(organisation_id).await?.iter().map(|l| l.id).collect();
    let errors: Vec<_> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !known.contains(id))
        .map(|(i, _)| {
            provider_api_core::field_error::FieldError::new(
                format!("/location_ids/{i}"),
                "unknown_location",
                "This organisation has no such location.",
            )
        })
        .collect();
    if errors.is_empty() { Ok(()) } else { Err(Problem::validation(errors)) }
}

pub fn router() -> OpenApiRouter<AppState> {
    routes::router()
        .merge(members::router())
        .merge(api_clients::router())
        .merge(enrolment::router())
        .merge(invitations::router())
        .merge(two_factor::router())
}
