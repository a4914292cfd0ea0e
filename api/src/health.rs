//! Liveness and readiness, for load balancers and orchestrators. Not versioned: they describe this process.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::Problem;
use crate::openapi::tags;
use crate::state::AppState;

/// A readiness probe must answer well inside a load balancer's check interval.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when alive; `ready` when ready to serve.
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Check the process is alive
///
/// Answers whenever the process can serve HTTP, whatever the state of the database.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = tags::HEALTH,
    operation_id = "get_health",
    responses((status = 200, description = "The process is alive", body = Health, example = json!({"status": "ok"}))),
    security(()),
)]
async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Check the service is ready
///
/// Ready when the database answers a query within two seconds; otherwise 503, so a load balancer sends
/// traffic elsewhere until it recovers.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = tags::HEALTH,
    operation_id = "get_readiness",
    responses((status = 200, description = "Ready to serve", body = Health, example = json!({"status": "ready"}))),
    security(()),
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    match tokio::time::timeout(READINESS_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready" })),
        Ok(Err(error)) => {
            let mut problem = Problem::service_unavailable("The database is not answering.", 5);
            problem.internal = Some(error.to_string());
            Err(problem)
        }
        Err(_) => Err(Problem::service_unavailable("The database did not answer in time.", 5)),
    }
}
