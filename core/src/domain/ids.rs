//! Identifiers the regulator assigns: provider and location IDs, and NHS ODS codes.

use std::sync::LazyLock;

use regex::Regex;

use super::{Invalid, check_length, string_newtype};

static CQC_ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^1-[0-9]{8,11}$").expect("id pattern compiles"));
static ODS_CODE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Z0-9]{1,9}$").expect("ODS pattern compiles"));

/// An NHS Organisation Data Service code: 1–9 letters and digits (`RL4`, `H85037`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OdsCode(String);

impl OdsCode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        check_length(input, "ODS code")?;
        let upper = input.trim().to_ascii_uppercase();
        if ODS_CODE.is_match(&upper) {
            Ok(Self(upper))
        } else {
            Err(Invalid::new("ods_code_format", "An ODS code is 1 to 9 letters and digits, for example RL4."))
        }
    }
}

string_newtype!(
    OdsCode,
    pattern = "^[A-Z0-9]{1,9}$",
    description = "An NHS ODS code: 1 to 9 upper-case letters and digits.",
    example = "RL4"
);

/// Parses the regulator's `1-` + 8 to 11 digits form, or (for NHS bodies) an ODS code.
fn parse_registered_id(input: &str, what: &'static str, code: &'static str, example: &str) -> Result<String, Invalid> {
    check_length(input, what)?;
    let trimmed = input.trim();
    if CQC_ID.is_match(trimmed) {
        return Ok(trimmed.to_owned());
    }
    if !trimmed.starts_with("1-")
        && let Ok(ods) = OdsCode::parse(trimmed)
    {
        return Ok(ods.0);
    }
    Err(Invalid::new(
        code,
        format!("A {what} is 1- followed by 8 to 11 digits (for example {example}), or an NHS ODS code."),
    ))
}

/// A provider ID: `1-` and 8 to 11 digits, or an NHS trust's ODS code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProviderId(String);

impl ProviderId {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        parse_registered_id(input, "provider ID", "provider_id_format", "1-199747506").map(Self)
    }
}

string_newtype!(
    ProviderId,
    pattern = "^(1-[0-9]{8,11}|[A-Z0-9]{1,9})$",
    description = "A provider ID the regulator assigned: 1- and 8 to 11 digits, or an NHS trust's ODS code.",
    example = "1-199747506"
);

/// A location ID: `1-` and 8 to 11 digits, or an NHS site's ODS code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationId(String);

impl LocationId {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        parse_registered_id(input, "location ID", "location_id_format", "1-545611283").map(Self)
    }
}

string_newtype!(
    LocationId,
    pattern = "^(1-[0-9]{8,11}|[A-Z0-9]{1,9})$",
    description = "A location ID the regulator assigned: 1- and 8 to 11 digits, or an NHS site's ODS code.",
    example = "1-545611283"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_regulator_ids_and_ods_codes() {
        assert_eq!(ProviderId::parse("1-199747506").unwrap().as_str(), "1-199747506");
        assert_eq!(ProviderId::parse("rl4").unwrap().as_str(), "RL4");
        assert_eq!(LocationId::parse("1-545611283").unwrap().as_str(), "1-545611283");
        assert_eq!(LocationId::parse("1-12345678901").unwrap().as_str(), "1-12345678901");
        assert_eq!(OdsCode::parse("h85037").unwrap().as_str(), "H85037");
    }

    #[test]
    fn rejects_malformed_ids() {
        for input in ["1-1234567", "1-123456789012", "2-199747506", "1-19974750A", "RL4-X", "ABCDEFGHIJ", "1-"] {
            assert!(ProviderId::parse(input).is_err(), "{input:?} should be refused");
        }
        assert_eq!(ProviderId::parse("1-123").unwrap_err().code, "provider_id_format");
        assert_eq!(LocationId::parse("x y").unwrap_err().code, "location_id_format");
    }

    #[test]
    fn serialises_as_the_normalised_string_and_parses_on_deserialise() {
        let id: ProviderId = serde_json::from_str("\"rl4\"").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"RL4\"");
        assert!(serde_json::from_str::<ProviderId>("\"1-1\"").is_err());
    }
}
