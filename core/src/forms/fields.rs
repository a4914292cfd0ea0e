//! The value types notification forms are built from. Each one carries both its rule and its published
//! JSON Schema, so the schema software validates against offline and the server's check are one definition.
//!
//! Rules JSON Schema cannot express (a date not in the future, the NHS number's check digit) are named by a
//! custom `format` the server enforces (see `validation.rs`) and spelled out in the field's description, and
//! a `pattern` still gives offline validators the shape.

use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::NhsNumber;

/// Custom formats the server checks beyond what JSON Schema can say.
pub mod formats {
    pub const PAST_DATE: &str = "past-date";
    pub const PAST_DATE_TIME: &str = "past-date-time";
    pub const NHS_NUMBER: &str = "nhs-number";
    pub const POSTCODE: &str = "uk-postcode";
}

const DATE_PATTERN: &str = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
const DATE_TIME_PATTERN: &str =
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$";

/// Whether a `YYYY-MM-DD` string is a real calendar date no later than the date in England at `at`.
pub fn is_past_date(value: &str, at: OffsetDateTime) -> bool {
    parse_date(value).is_some_and(|date| date <= crate::clock::date_in_england(at))
}

/// Whether an RFC 3339 timestamp is real and not after `at` (a minute's grace for clock skew).
pub fn is_past_date_time(value: &str, at: OffsetDateTime) -> bool {
    OffsetDateTime::parse(value, &Rfc3339).is_ok_and(|when| when <= at + time::Duration::minutes(1))
}

pub fn parse_date(value: &str) -> Option<Date> {
    Date::parse(value, format_description!("[year]-[month]-[day]")).ok()
}

pub fn is_nhs_number(value: &str) -> bool {
    // The published pattern already asks for exactly 10 digits; this adds the Modulus 11 check.
    value.len() == 10 && NhsNumber::parse(value).is_ok()
}

/// Declares a newtype over `String` whose schema is a string with the given rules; the server enforces the
/// same schema (it validates against the published one), so the constants are the only definition.
#[macro_export]
#[doc(hidden)]
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident { $($rule:ident = $value:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let builder = ObjectBuilder::new().schema_type(Type::String);
                $(let builder = $crate::text_type!(@rule builder, $rule, $value);)*
                builder.into()
            }
        }

        impl ToSchema for $name {}

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
    };
    (@rule $b:ident, min, $v:expr) => { $b.min_length(Some($v)) };
    (@rule $b:ident, max, $v:expr) => { $b.max_length(Some($v)) };
    (@rule $b:ident, pattern, $v:expr) => { $b.pattern(Some($v)) };
    (@rule $b:ident, format, $v:expr) => { $b.format(Some(SchemaFormat::Custom($v.into()))) };
    (@rule $b:ident, known_format, $v:expr) => { $b.format(Some(SchemaFormat::KnownFormat($v))) };
    (@rule $b:ident, description, $v:expr) => { $b.description(Some($v)) };
    (@rule $b:ident, example, $v:expr) => { $b.examples([serde_json::json!($v)]) };
}

/// Something must be written, not just spaces.
const NOT_BLANK: &str = r"\S";

text_type!(
    /// A short piece of text: a name, a role, a title.
    ShortText { min = 1, max = 200, pattern = NOT_BLANK, description = "Up to 200 characters; not blank." }
);

text_type!(
    /// A full account in the provider's words. Generous on purpose: the old 2,000-character limit made people
    /// leave out what mattered.
    LongText {
        min = 1,
        max = 50_000,
        pattern = NOT_BLANK,
        description = "Up to 50,000 characters; not blank. Describe people by role or your identifier, never by name."
    }
);

text_type!(
    /// A UK or international telephone number.
    Phone {
        min = 7,
        max = 20,
        pattern = r"^\+?[0-9][0-9 ()-]{5,18}[0-9]$",
        description = "A telephone number: digits, spaces, brackets, hyphens, optionally a leading +.",
        example = "020 7946 0000"
    }
);

text_type!(
    /// An email address.
    Email {
        min = 3,
        max = 254,
        pattern = r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        known_format = KnownFormat::Email,
        description = "An email address.",
        example = "registered.manager@riverside.example"
    }
);

text_type!(
    /// The provider's own pseudonymous identifier for a person: never their name.
    PersonIdentifier {
        min = 1,
        max = 64,
        pattern = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$",
        description = "Your own identifier for the person (letters, digits, . _ / -), which you can link back \
to your records. Never a name.",
        example = "RES-0042"
    }
);

text_type!(
    /// A calendar date that is not in the future.
    PastDate {
        pattern = DATE_PATTERN,
        format = formats::PAST_DATE,
        description = "A date (YYYY-MM-DD) that is not in the future (the server checks the calendar and today's date).",
        example = "2026-11-20"
    }
);

text_type!(
    /// Any calendar date, past or future.
    CalendarDate {
        pattern = DATE_PATTERN,
        known_format = KnownFormat::Date,
        description = "A date (YYYY-MM-DD).",
        example = "2026-12-01"
    }
);

text_type!(
    /// A moment that is not in the future.
    PastDateTime {
        pattern = DATE_TIME_PATTERN,
        format = formats::PAST_DATE_TIME,
        description = "An RFC 3339 date and time with its offset (for example 2026-11-20T14:05:00Z) that is not \
in the future (the server checks).",
        example = "2026-11-20T14:05:00Z"
    }
);

text_type!(
    /// An NHS number: the Modulus 11 check digit is verified.
    NhsNumberText {
        pattern = "^[0-9]{10}$",
        format = formats::NHS_NUMBER,
        description = "An NHS number: 10 digits without spaces, the last a Modulus 11 check digit (the server checks it).",
        example = "9434765919"
    }
);

text_type!(
    /// A regulated activity's code from `GET /v1/reference/regulated-activities`.
    ActivityCode {
        min = 1,
        max = 64,
        pattern = "^[a-z][a-z_]*$",
        description = "A regulated activity code from GET /v1/reference/regulated-activities (the server checks it \
is one).",
        example = "personal_care"
    }
);

impl PastDate {
    pub fn date(&self) -> Option<Date> {
        parse_date(&self.0)
    }
}

impl CalendarDate {
    pub fn date(&self) -> Option<Date> {
        parse_date(&self.0)
    }
}

impl PastDateTime {
    pub fn at(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.0, &Rfc3339).ok()
    }
}
