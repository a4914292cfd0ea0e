//! Registration applications: every application type as typed sections, the checklist that says exactly
//! what is missing, the record with its lifecycle, and what a decision grants (the organisation's registered
//! details). The routes are the API's (`api/src/registrations`).

pub mod catalogue;
pub mod checklist;
pub mod decisions;
pub mod examples;
pub mod grant;
pub mod model;
pub mod registered;
pub mod sections;
pub mod workflow;

pub use catalogue::{ApplicationType, SectionName};

time::serde::format_description!(pub iso_date, Date, "[year]-[month]-[day]");
