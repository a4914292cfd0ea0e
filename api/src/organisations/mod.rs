//! Organisations and what belongs to them: locations, members and their roles, API clients.
//! Everything here is scoped by `/v1/organisations/{organisation_id}`: the caller's access there is checked
//! first (404 outside it), then the capability (403).

mod api_clients;
mod members;
mod routes;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub(crate) use routes::not_blank;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(members::router()).merge(api_clients::router())
}
