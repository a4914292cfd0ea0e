//! The time a request arrived, by the server's clock, for the field rules that depend on the date ("not in the
//! past", "served in the last 90 days"). Those rules run while the body is validated, before the handler, as
//! plain functions (`validator`'s `custom`), so they cannot be handed the state's clock: a layer reads the
//! clock once per request and keeps the time for the request's task.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use provider_api_core::clock::date_in_england;
use time::{Date, OffsetDateTime};

use crate::state::AppState;

tokio::task_local! {
    static REQUEST_TIME: OffsetDateTime;
}

/// The layer: the rest of the request runs with its arrival time kept.
pub async fn keep(State(state): State<AppState>, request: Request, next: Next) -> Response {
    REQUEST_TIME.scope(state.clock.now(), next.run(request)).await
}

/// When this request arrived.
pub fn now() -> OffsetDateTime {
    REQUEST_TIME.try_with(|at| *at).expect("the request-time layer wraps every route")
}

/// The date in England when this request arrived.
pub fn today() -> Date {
    date_in_england(now())
}
