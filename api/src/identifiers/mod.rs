//! Checks identifiers the way every other endpoint will, so software can clean its data before it sends it:
//! NHS numbers (Modulus 11), postcodes, provider and location IDs and ODS codes. Stores nothing.

use axum::Json;
use provider_api_core::domain::{Invalid, LocationId, NhsNumber, OdsCode, Postcode, ProviderId};
use provider_api_core::field_error::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::{Validate, ValidationError};

use crate::http::{Problem, ValidatedJson};
use crate::openapi::tags;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(validate_identifiers))
}

/// Identifiers to check. Send any of them, at least one; each is checked independently.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "at_least_one"))]
#[schema(examples(json!({"nhs_number": "943 476 5919", "postcode": "sw1a 1aa", "provider_id": "1-199747506"})))]
pub struct IdentifierCheck {
    /// An NHS number, with or without spaces.
    #[validate(custom(function = "check_nhs_number"))]
    #[schema(example = "943 476 5919", max_length = 32)]
    pub nhs_number: Option<String>,
    /// A UK postcode in any case and spacing.
    #[validate(custom(function = "check_postcode"))]
    #[schema(example = "sw1a 1aa", max_length = 32)]
    pub postcode: Option<String>,
    /// A provider ID (`1-` and 8 to 11 digits) or an NHS trust's ODS code.
    #[validate(custom(function = "check_provider_id"))]
    #[schema(example = "1-199747506", max_length = 32)]
    pub provider_id: Option<String>,
    /// A location ID (`1-` and 8 to 11 digits) or an NHS site's ODS code.
    #[validate(custom(function = "check_location_id"))]
    #[schema(example = "1-545611283", max_length = 32)]
    pub location_id: Option<String>,
    /// An NHS Organisation Data Service code.
    #[validate(custom(function = "check_ods_code"))]
    #[schema(example = "RL4", max_length = 32)]
    pub ods_code: Option<String>,
}

/// The identifiers that were sent, each in its normal form.
/// A field is present exactly when it was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckedIdentifiers {
    /// The NHS number as 10 digits.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub nhs_number: Option<NhsNumber>,
    /// The postcode in upper case with one space before the inward code.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub postcode: Option<Postcode>,
    /// The provider ID; an ODS code in upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub provider_id: Option<ProviderId>,
    /// The location ID; an ODS code in upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub location_id: Option<LocationId>,
    /// The ODS code in upper case.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub ods_code: Option<OdsCode>,
}

fn at_least_one(check: &IdentifierCheck) -> Result<(), ValidationError> {
    let IdentifierCheck { nhs_number, postcode, provider_id, location_id, ods_code } = check;
    if [nhs_number, postcode, provider_id, location_id, ods_code].iter().all(|field| field.is_none()) {
        return Err(ValidationError::new("empty").with_message("Send at least one identifier to check.".into()));
    }
    Ok(())
}

fn as_validation<T>(parsed: Result<T, Invalid>) -> Result<(), ValidationError> {
    parsed.map(drop).map_err(|invalid| ValidationError::new(invalid.code).with_message(invalid.message))
}

fn check_nhs_number(value: &str) -> Result<(), ValidationError> {
    as_validation(NhsNumber::parse(value))
}
fn check_postcode(value: &str) -> Result<(), ValidationError> {
    as_validation(Postcode::parse(value))
}
fn check_provider_id(value: &str) -> Result<(), ValidationError> {
    as_validation(ProviderId::parse(value))
}
fn check_location_id(value: &str) -> Result<(), ValidationError> {
    as_validation(LocationId::parse(value))
}
fn check_ods_code(value: &str) -> Result<(), ValidationError> {
    as_validation(OdsCode::parse(value))
}

/// Parses an optional field that validation has already passed; the error arm only keeps this total.
fn normalised<T>(
    pointer: &str,
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Problem> {
    value
        .map(parse)
        .transpose()
        .map_err(|invalid| Problem::validation(vec![FieldError::new(pointer, invalid.code, invalid.message)]))
}

/// Check identifiers
///
/// Checks each identifier sent and returns it in normal form, or a 422 naming every invalid one. The NHS
/// number check proves only that the number is well formed (its Modulus 11 check digit), never that it
/// belongs to a particular person. Nothing is stored.
#[utoipa::path(
    post,
    path = "/v1/identifiers/validate",
    tag = tags::REFERENCE,
    operation_id = "validate_identifiers",
    request_body = IdentifierCheck,
    responses(
        (status = 200, description = "Every identifier is valid; each is returned in normal form", body = CheckedIdentifiers,
            example = json!({"nhs_number": "9434765919", "postcode": "SW1A 1AA", "provider_id": "1-199747506"})),
    ),
    security(()),
)]
async fn validate_identifiers(
    ValidatedJson(check): ValidatedJson<IdentifierCheck>,
) -> Result<Json<CheckedIdentifiers>, Problem> {
    Ok(Json(CheckedIdentifiers {
        nhs_number: normalised("/nhs_number", check.nhs_number.as_deref(), NhsNumber::parse)?,
        postcode: normalised("/postcode", check.postcode.as_deref(), Postcode::parse)?,
        provider_id: normalised("/provider_id", check.provider_id.as_deref(), ProviderId::parse)?,
        location_id: normalised("/location_id", check.location_id.as_deref(), LocationId::parse)?,
        ods_code: normalised("/ods_code", check.ods_code.as_deref(), OdsCode::parse)?,
    }))
}
