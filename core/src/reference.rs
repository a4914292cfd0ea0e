//! Reference data the regulator publishes: regulated activities, service types and service-user bands.
//!
//! Stable `code`s are what other resources (registrations, notifications) refer to; names may be reworded.

use serde::Serialize;
use utoipa::ToSchema;

/// A regulated activity from Schedule 1 of the Health and Social Care Act 2008 (Regulated Activities)
/// Regulations 2014.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct RegulatedActivity {
    /// Stable identifier; never reused or renamed.
    #[schema(example = "personal_care", pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub code: String,
    /// The paragraph of Schedule 1 that defines the activity (1 to 14).
    #[schema(example = 1, minimum = 1)]
    pub schedule_number: i32,
    /// The activity's name as the regulations give it.
    #[schema(example = "Personal care")]
    pub name: String,
}

/// The kind of service a location provides, as the regulator classifies it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ServiceType {
    /// Stable identifier; never reused or renamed.
    #[schema(example = "care_home_with_nursing", pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub code: String,
    /// The service type's published name.
    #[schema(example = "Care home service with nursing")]
    pub name: String,
    /// Whether the service is healthcare or adult social care.
    #[cfg_attr(feature = "sqlx", sqlx(try_from = "String"))]
    pub sector: Sector,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Healthcare,
    SocialCare,
}

impl TryFrom<String> for Sector {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        match value.as_str() {
            "healthcare" => Ok(Self::Healthcare),
            "social_care" => Ok(Self::SocialCare),
            other => Err(format!("unknown sector {other:?}")),
        }
    }
}

/// A group of people a service is registered to care for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[cfg_attr(feature = "sqlx", derive(sqlx::FromRow))]
pub struct ServiceUserBand {
    /// Stable identifier; never reused or renamed.
    #[schema(example = "dementia", pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub code: String,
    /// The band's published name.
    #[schema(example = "Dementia")]
    pub name: String,
}
