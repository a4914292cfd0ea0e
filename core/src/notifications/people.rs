//! The people and parties notification forms name: a person using the service (never by name), an injured
//! person, a member of staff, the contact, and the reporter every form carries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::forms::fields::*;

/// Age bands, as on the regulator's forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum AgeBand {
    #[serde(rename = "<1")]
    Under1,
    #[serde(rename = "1-4")]
    From1To4,
    #[serde(rename = "5-11")]
    From5To11,
    #[serde(rename = "12-15")]
    From12To15,
    #[serde(rename = "16-17")]
    From16To17,
    #[serde(rename = "18-24")]
    From18To24,
    #[serde(rename = "25-34")]
    From25To34,
    #[serde(rename = "35-44")]
    From35To44,
    #[serde(rename = "45-54")]
    From45To54,
    #[serde(rename = "55-64")]
    From55To64,
    #[serde(rename = "65-74")]
    From65To74,
    #[serde(rename = "75-84")]
    From75To84,
    #[serde(rename = "85+")]
    From85,
}

impl AgeBand {
    pub fn is_child(self) -> bool {
        matches!(self, Self::Under1 | Self::From1To4 | Self::From5To11 | Self::From12To15 | Self::From16To17)
    }
}

/// Age bands on injury forms, which alone allow `stillborn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum InjuryAgeBand {
    #[serde(rename = "stillborn")]
    Stillborn,
    #[serde(rename = "<1")]
    Under1,
    #[serde(rename = "1-4")]
    From1To4,
    #[serde(rename = "5-11")]
    From5To11,
    #[serde(rename = "12-15")]
    From12To15,
    #[serde(rename = "16-17")]
    From16To17,
    #[serde(rename = "18-24")]
    From18To24,
    #[serde(rename = "25-34")]
    From25To34,
    #[serde(rename = "35-44")]
    From35To44,
    #[serde(rename = "45-54")]
    From45To54,
    #[serde(rename = "55-64")]
    From55To64,
    #[serde(rename = "65-74")]
    From65To74,
    #[serde(rename = "75-84")]
    From75To84,
    #[serde(rename = "85+")]
    From85,
}

/// A person using the service, identified without a name: the provider's own identifier and an age band,
/// and optionally an NHS number with date of birth (the pair the regulator matches on).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceUser {
    pub identifier: PersonIdentifier,
    pub age_band: AgeBand,
    /// When they started using the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub started_using_service_on: Option<PastDate>,
    /// Given with `date_of_birth` (the server requires both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nhs_number: Option<NhsNumberText>,
    /// Given with `nhs_number` (the server requires both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub date_of_birth: Option<PastDate>,
}

/// The person injured, as [`ServiceUser`] but with the injury forms' age bands.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InjuredPerson {
    pub identifier: PersonIdentifier,
    pub age_band: InjuryAgeBand,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub started_using_service_on: Option<PastDate>,
    /// Given with `date_of_birth` (the server requires both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nhs_number: Option<NhsNumberText>,
    /// Given with `nhs_number` (the server requires both or neither).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub date_of_birth: Option<PastDate>,
}

/// A member of staff named on a form (staff may be named; people using the service never are).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub name: ShortText,
    /// Their job title or role.
    pub role: ShortText,
}

/// Who the regulator should contact about this notification.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: ShortText,
    pub role: ShortText,
    pub phone: Phone,
    pub email: Email,
}

/// What every form carries: who completed it, whom to contact, the provider's own reference and the
/// regulated activities concerned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reporter {
    pub completed_by: StaffMember,
    pub contact: Contact,
    /// The provider's own reference for this event, quoted back in correspondence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider_reference: Option<ShortText>,
    /// The regulated activities concerned (at least one).
    #[schema(min_items = 1, max_items = 14)]
    pub regulated_activities: Vec<ActivityCode>,
}
