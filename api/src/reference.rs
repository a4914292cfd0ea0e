use axum::Json;
use axum::extract::State;
use provider_api_core::reference::{RegulatedActivity, ServiceType, ServiceUserBand};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::Problem;
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_regulated_activities))
        .routes(routes!(list_service_types))
        .routes(routes!(list_service_user_bands))
}

// Reference lists are short and bounded, so they are complete and never paginated. Each has its own type
// (not a generic) so that the spec names its item schema and the SDK reuses it.

/// Every regulated activity, in Schedule 1 order.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegulatedActivities {
    /// All 14 activities.
    pub items: Vec<RegulatedActivity>,
}

/// Every service type, healthcare first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceTypes {
    /// All service types.
    pub items: Vec<ServiceType>,
}

/// Every service-user band.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceUserBands {
    /// All service-user bands.
    pub items: Vec<ServiceUserBand>,
}

/// List the regulated activities
///
/// All 14 regulated activities of Schedule 1 to the 2014 Regulations, in schedule order. Registrations and
/// notifications name activities by their `code`.
#[utoipa::path(
    get,
    path = "/v1/reference/regulated-activities",
    tag = tags::REFERENCE,
    operation_id = "list_regulated_activities",
    responses((status = 200, description = "Every regulated activity", body = RegulatedActivities)),
    security(()),
)]
async fn list_regulated_activities(State(state): State<AppState>) -> Result<Json<RegulatedActivities>, Problem> {
    Ok(Json(RegulatedActivities { items: state.store.regulated_activities().await? }))
}

/// List the service types
///
/// The kinds of service a location can be registered to provide, healthcare and adult social care.
#[utoipa::path(
    get,
    path = "/v1/reference/service-types",
    tag = tags::REFERENCE,
    operation_id = "list_service_types",
    responses((status = 200, description = "Every service type", body = ServiceTypes)),
    security(()),
)]
async fn list_service_types(State(state): State<AppState>) -> Result<Json<ServiceTypes>, Problem> {
    Ok(Json(ServiceTypes { items: state.store.service_types().await? }))
}

/// List the service-user bands
///
/// The groups of people a service can be registered to care for.
#[utoipa::path(
    get,
    path = "/v1/reference/service-user-bands",
    tag = tags::REFERENCE,
    operation_id = "list_service_user_bands",
    responses((status = 200, description = "Every service-user band", body = ServiceUserBands)),
    security(()),
)]
async fn list_service_user_bands(State(state): State<AppState>) -> Result<Json<ServiceUserBands>, Problem> {
    Ok(Json(ServiceUserBands { items: state.store.service_user_bands().await? }))
}
