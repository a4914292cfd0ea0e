//! An organisation's registered details: what the regulator has granted it. Only a decision on an
//! application changes them (see `grant.rs`), and notifications are checked against them.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// What the organisation is registered for.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct RegisteredDetails {
    /// The regulator's provider ID, once registered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, example = "1-199747506")]
    pub provider_id: Option<String>,
    /// Registered locations (never ones removed).
    pub locations: Vec<RegisteredLocation>,
    /// Conditions of registration in force.
    pub conditions: Vec<Condition>,
    /// Partners, for a partnership.
    pub partners: Vec<Partner>,
}

impl RegisteredDetails {
    pub fn location(&self, id: Uuid) -> Option<&RegisteredLocation> {
        self.locations.iter().find(|l| l.id == id)
    }
}

/// A registered location and what is registered there.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RegisteredLocation {
    /// The location's id in this API (`/v1/organisations/{id}/locations/{location_id}`).
    pub id: Uuid,
    /// The regulator's location ID.
    #[schema(example = "1-545611283")]
    pub location_id: String,
    pub name: String,
    /// Regulated activity codes registered at this location.
    pub activities: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub manager: Option<RegisteredManager>,
    /// The registered manager as the regulator's published register names them (docs/register.md): a name
    /// only, never matched to a person here, so unverified. `manager` is the one registered through this
    /// service.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub published_manager: Option<PublishedManager>,
}

/// A registered manager as the published register names them.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublishedManager {
    #[schema(example = "A. Manager")]
    pub full_name: String,
    /// Always false: a name from the register is not an identity.
    pub verified: bool,
    /// The date of the register it came from.
    #[serde(with = "super::iso_date")]
    #[schema(value_type = String, format = Date)]
    pub as_of: time::Date,
}

/// A location's registered manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RegisteredManager {
    pub full_name: String,
    pub email: String,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
}

/// A condition of registration.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Condition {
    pub id: Uuid,
    /// The location it applies to; the whole registration when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<Uuid>,
    pub wording: String,
    #[serde(with = "time::serde::rfc3339")]
    pub imposed_at: OffsetDateTime,
}

/// A registered partner.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct Partner {
    pub id: Uuid,
    pub full_name: String,
    pub email: String,
    #[serde(with = "time::serde::rfc3339")]
    pub registered_at: OffsetDateTime,
}

/// What a decision changes in the registered details, written in the same transaction as the decision.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    /// Set the organisation's provider ID (a first registration).
    pub provider_id: Option<String>,
    /// New registered locations, each with its regulator location ID.
    pub new_locations: Vec<NewRegisteredLocation>,
    /// Existing locations of the organisation to register, with a location ID.
    pub register_locations: Vec<(Uuid, String)>,
    pub deregister_locations: Vec<Uuid>,
    pub add_activities: Vec<(Uuid, String)>,
    pub remove_activities: Vec<(Uuid, String)>,
    /// Set (or replace) a location's manager.
    pub managers: Vec<(Uuid, RegisteredManager)>,
    pub remove_managers: Vec<Uuid>,
    pub add_conditions: Vec<Condition>,
    pub remove_conditions: Vec<Uuid>,
    /// (condition, new wording)
    pub vary_conditions: Vec<(Uuid, String)>,
    pub add_partners: Vec<Partner>,
    pub remove_partners: Vec<Uuid>,
    /// Cancel the whole registration: every location deregistered.
    pub cancel_all: bool,
}

#[derive(Debug, Clone)]
pub struct NewRegisteredLocation {
    pub id: Uuid,
    pub location_id: String,
    pub name: String,
    pub line_1: String,
    pub line_2: Option<String>,
    pub town: String,
    pub postcode: String,
}

/// A new identifier in the regulator's format: `1-` and 9 digits, the first not zero (the unique
/// constraints catch the rare collision, and the decision is retried).
pub fn new_identifier() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let number = 100_000_000 + u64::from_le_bytes(bytes) % 900_000_000;
    format!("1-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProviderId;

    #[test]
    fn new_identifiers_are_in_the_regulators_format() {
        for _ in 0..1000 {
            let id = new_identifier();
            assert_eq!(id.len(), 11, "{id}");
            assert!(ProviderId::parse(&id).is_ok(), "{id}");
        }
    }
}
