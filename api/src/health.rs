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
    /// Readiness only: where this node counts rate limits and sign-in backoff.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub rate_limits: Option<RateLimitsHealth>,
}

/// Where rate limits and sign-in backoff are counted. A node whose Redis is away still serves (it counts on
/// its own meanwhile), so this is a detail of readiness, not a reason to refuse traffic.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RateLimitsHealth {
    /// `memory` (each node counts on its own) or `redis` (every node shares one count).
    #[schema(example = "redis")]
    pub store: &'static str,
    /// Whether this node's counts are shared with the other nodes now.
    pub shared: bool,
    /// Why not, when the store is Redis and it is not answering.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub detail: Option<String>,
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
    Json(Health { status: "ok", rate_limits: None })
}

/// Check the service is ready
///
/// Ready when the database answers a query within two seconds; otherwise 503, so a load balancer sends
/// traffic elsewhere until it recovers. `rate_limits` says where this node counts its limits: a Redis that is
/// not answering is reported there, but does not make the node unready (it counts on its own meanwhile).
#[utoipa::path(
    get,
    path = "/readyz",
    tag = tags::HEALTH,
    operation_id = "get_readiness",
    responses((status = 200, description = "Ready to serve", body = Health, example = json!({"status": "ready", "rate_limits": {"store": "redis", "shared": true}}))),
    security(()),
)]
async fn readyz(State(state): State<AppState>) -> Result<Json<Health>, Problem> {
    match tokio::time::timeout(READINESS_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => Ok(Json(Health { status: "ready", rate_limits: Some(state.rate_limits.health().await) })),
        Ok(Err(error)) => {
            let mut problem = Problem::service_unavailable("The database is not answering.", 5);
            problem.internal = Some(error.to_string());
            Err(problem)
        }
        Err(_) => Err(Problem::service_unavailable("The database did not answer in time.", 5)),
    }
}
