//! Valid example forms for every notification type, as JSON: the tests start from these and break one
//! field at a time. They are the examples the API publishes (`core::notifications::examples`).

use provider_api_core::notifications::NotificationType;
use serde_json::Value;

pub use provider_api_core::notifications::examples::reporter;

/// A complete, valid form of each type (`detained_patient_return` and `manager_return` also need a
/// `follows_id` naming a submitted notification of the type they follow).
pub fn valid(kind: &str) -> Value {
    let kind: NotificationType = kind.parse().unwrap_or_else(|e| panic!("{e}"));
    provider_api_core::notifications::examples::example(kind)
}

pub const TYPES: [&str; 16] = [
    "death",
    "death_of_detained_patient",
    "detained_patient_absence",
    "detained_patient_return",
    "serious_injury",
    "abuse",
    "police_incident",
    "dols_outcome",
    "service_disruption",
    "under_18_in_adult_psychiatric_unit",
    "manager_absence",
    "manager_return",
    "change_of_details",
    "revised_statement_of_purpose",
    "death_of_registered_provider",
    "liquidator_appointment",
];
