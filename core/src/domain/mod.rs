//! Domain value types, parsed at the edge so that a value of one of these types is always valid.
//!
//! Each type parses from loosely formatted input (case, spacing), stores the normalised form, and
//! serialises as that string. A parse failure says, in words a person can act on, what is wrong.

use std::borrow::Cow;

mod ids;
mod nhs_number;
mod postcode;

pub use ids::{LocationId, OdsCode, ProviderId};
pub use nhs_number::NhsNumber;
pub use postcode::Postcode;

/// Why a value was refused: a stable code and a message for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub code: &'static str,
    pub message: Cow<'static, str>,
}

impl Invalid {
    pub(crate) fn new(code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { code, message: message.into() }
    }
}

/// Input longer than this (in characters, as JSON Schema's `maxLength` counts) is refused before any pattern
/// runs on it: every identifier here is short.
const MAX_IDENTIFIER_INPUT: usize = 32;

fn check_length(input: &str, what: &'static str) -> Result<(), Invalid> {
    if input.trim().is_empty() {
        return Err(Invalid::new("required", format!("Enter the {what}.")));
    }
    if input.chars().count() > MAX_IDENTIFIER_INPUT {
        return Err(Invalid::new("too_long", format!("This is too long to be a {what}.")));
    }
    Ok(())
}

/// Implements `Display`, `AsRef<str>`, serde (as the normalised string, parsing on the way in) and
/// an OpenAPI string schema for a newtype over `String` that has a `parse` constructor.
macro_rules! string_newtype {
    ($ty:ident, pattern = $pattern:expr, description = $description:expr, example = $example:expr) => {
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::domain::Invalid;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }

        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    .description(Some($description))
                    .examples([serde_json::json!($example)])
                    .into()
            }
        }

        impl utoipa::ToSchema for $ty {}
    };
}
pub(crate) use string_newtype;
