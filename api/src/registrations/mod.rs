//! Registration applications: every application type as typed sections edited independently, the
//! checklist that says exactly what is missing, four-eyes submission with a signed receipt, and the
//! regulator's workflow through to a decision that updates the organisation's registered details. See
//! `docs/registrations.md`.

mod admin;
pub mod catalogue;
pub mod checklist;
mod grant;
pub mod model;
pub mod registered;
mod routes;
pub mod sections;
pub mod views;

pub use catalogue::{ApplicationType, SectionName};

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(admin::router())
}
