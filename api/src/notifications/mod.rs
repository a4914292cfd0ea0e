//! Statutory notifications (Care Quality Commission (Registration) Regulations 2009): typed, versioned
//! forms; drafts shared by a team and edited with `If-Match`; complete checking; four-eyes submission with
//! a signed receipt; idempotent creation and submission; and the regulator's triage. See
//! `docs/notifications.md`.
//!
//! The forms, their rules and the record's lifecycle are core's (`provider_api_core::notifications`); this
//! module is the HTTP side: routes, views and the regulator's triage.

mod admin;
mod routes;
pub mod views;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(admin::router())
}
