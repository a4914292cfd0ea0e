//! The organisation's event feed: what its entries are about.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What an event of the feed is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    Notification,
    RegistrationApplication,
    /// A document's malware scan finished (`action` `scanned`; `status` clean, infected or failed).
    Document,
    /// The organisation's provider record changed from the regulator's register (`action` `register_updated`;
    /// `status` `registered`).
    Organisation,
    /// A location was created or changed from the register (`action` `register_created` or `register_updated`).
    Location,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Notification => "notification",
            Self::RegistrationApplication => "registration_application",
            Self::Document => "document",
            Self::Organisation => "organisation",
            Self::Location => "location",
        }
    }
}

named_by_serde!(ObjectType, "event object type");
