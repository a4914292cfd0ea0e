//! Statutory notifications (Care Quality Commission (Registration) Regulations 2009): typed, versioned
//! forms; drafts shared by a team and edited with `If-Match`; complete checking; four-eyes submission with
//! a signed receipt; idempotent creation and submission; and the regulator's triage. See
//! `docs/notifications.md`.

mod admin;
pub mod catalogue;
pub mod fields;
pub mod forms;
pub mod model;
pub mod receipt;
mod routes;
pub mod validation;
pub mod views;

pub use catalogue::{NotificationContent, NotificationType};
pub use model::{Action, Event, Filter, Notification, Status};
pub use routes::{IdempotencyKeyHeader, changed_fields};

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    routes::router().merge(admin::router())
}
