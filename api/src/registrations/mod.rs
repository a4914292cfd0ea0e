//! Registration applications: every application type as typed sections edited independently, the
//! checklist that says exactly what is missing, four-eyes submission with a signed receipt, and the
//! regulator's workflow through to a decision that updates the organisation's registered details. See
//! `docs/registrations.md`.
//!
//! The sections, the checklist, the record's lifecycle and what a decision grants are core's
//! (`provider_api_core::registrations`); this module is the HTTP side: routes, views and the regulator's
//! workflow.

mod admin;
mod checklist;
mod routes;
pub mod views;

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(admin::router())
}
