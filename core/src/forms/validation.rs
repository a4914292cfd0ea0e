//! Checking a form against its published JSON Schema: every problem at once, each with a JSON Pointer and
//! words a person can act on.
//!
//! Validating with the published schema itself, rather than a second copy of its rules, is what lets
//! software that validates offline be sure the server agrees. The server adds only what the schema names in
//! a custom `format` (dates not in the future, the NHS number check digit) and each form's cross-field rules.

use std::cell::Cell;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use time::OffsetDateTime;

use super::fields::{formats, is_nhs_number, is_past_date, is_past_date_time, parse_date};
use crate::domain::NhsNumber;
use crate::field_error::{FieldError, pointer_token};

/// How much a form must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// A draft: fields may be missing, but what is there must be right.
    Draft,
    /// For submission: everything required, and the rules between fields hold.
    Complete,
}

/// A validator for a published schema, enforcing the custom formats the server defines.
pub fn compile(schema: &Value) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    jsonschema::options()
        .should_validate_formats(true)
        .should_ignore_unknown_formats(false)
        .with_format(formats::PAST_DATE, |value: &str| is_past_date(value, checked_at()))
        .with_format(formats::PAST_DATE_TIME, |value: &str| is_past_date_time(value, checked_at()))
        .with_format(formats::NHS_NUMBER, is_nhs_number)
        .with_format(formats::POSTCODE, |value: &str| crate::domain::Postcode::parse(value).is_ok())
        // OpenAPI's integer formats: the type and bounds in the schema already say it all.
        .with_format("int32", |_: &str| true)
        .with_format("int64", |_: &str| true)
        .with_format("uuid", |value: &str| uuid::Uuid::parse_str(value).is_ok())
        .build(schema)
}

thread_local! {
    /// The time a check runs at, for the formats that depend on it ("not in the future"). The validators are
    /// compiled once and shared, so their format functions cannot be given the time; [`schema_errors`] sets it
    /// here for the length of one synchronous check and clears it after.
    static CHECKED_AT: Cell<Option<OffsetDateTime>> = const { Cell::new(None) };
}

fn checked_at() -> OffsetDateTime {
    CHECKED_AT.get().expect("time-dependent formats are checked only inside schema_errors, which sets the time")
}

/// Every problem the schema finds in `content` (pointers relative to it), checked as at `at` (a date "not in
/// the future" is compared with the date in England then); a draft may lack required fields.
pub fn schema_errors(
    validator: &jsonschema::Validator,
    schema: &Value,
    content: &Value,
    completeness: Completeness,
    at: OffsetDateTime,
) -> Vec<FieldError> {
    struct Clear;
    impl Drop for Clear {
        fn drop(&mut self) {
            CHECKED_AT.set(None);
        }
    }
    CHECKED_AT.set(Some(at));
    let _clear = Clear;
    validator
        .iter_errors(content)
        .filter(|error| {
            completeness == Completeness::Complete || !matches!(error.kind(), ValidationErrorKind::Required { .. })
        })
        .flat_map(|error| match conditional_requirement(schema, &error) {
            Some(problem) => vec![problem],
            None => field_errors(error.instance_path().as_str(), error.kind(), error.instance()),
        })
        .collect()
}

/// A field required by another answer (`if`/`then`, whose `description` says why) or given only with another
/// (`dependentRequired`): said in those terms rather than a bare "This is required".
fn conditional_requirement(schema: &Value, error: &jsonschema::ValidationError) -> Option<FieldError> {
    let ValidationErrorKind::Required { property } = error.kind() else { return None };
    let name = property.as_str().unwrap_or_default();
    let pointer = format!("{}/{}", error.instance_path().as_str(), escape(name));
    let rule = error.schema_path().as_str();
    if let Some(at) = rule.find("/then/") {
        let why = at_schema_path(schema, &rule[..at + "/then".len()]).and_then(|then| then["description"].as_str());
        return Some(FieldError::new(
            pointer,
            "required",
            why.unwrap_or("Another answer makes this required.").to_owned(),
        ));
    }
    if !rule.ends_with("/dependentRequired") {
        return None;
    }
    let with = at_schema_path(schema, rule)
        .and_then(Value::as_object)
        .and_then(|pairs| pairs.iter().find(|(_, needs)| needs.as_array().is_some_and(|n| n.contains(property))))
        .map(|(given, _)| format!("`{given}`"))
        .unwrap_or_else(|| "the field it goes with".to_owned());
    Some(FieldError::new(
        pointer,
        "required_with",
        format!("Give this with {with}, or neither: the regulator matches people on the two together."),
    ))
}

/// The schema a validation error's schema path leads to from `root`, following each `$ref` it passes through
/// (to `#/$defs/…` or `#/components/schemas/…` within `root`).
fn at_schema_path<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let mut here = root;
    for segment in path.split('/').skip(1) {
        here = if segment == "$ref" {
            root.pointer(here["$ref"].as_str()?.strip_prefix('#')?)?
        } else {
            here.get(segment.replace("~1", "/").replace("~0", "~"))
                .or_else(|| segment.parse::<usize>().ok().and_then(|i| here.get(i)))?
        };
    }
    Some(here)
}

/// A name given for a person using the service (`/person/name`, `/people/0/surname`): the forms identify
/// them by the provider's own identifier, and say so rather than only "no such field".
fn is_a_persons_name(path: &str, field: &str) -> bool {
    const NAMES: &[&str] =
        &["name", "full_name", "first_name", "last_name", "surname", "forename", "given_name", "family_name"];
    let person = path.split('/').rev().find(|segment| segment.parse::<usize>().is_err()).unwrap_or_default();
    NAMES.contains(&field) && (person.contains("person") || person.contains("people"))
}

fn field_errors(path: &str, kind: &ValidationErrorKind, instance: &Value) -> Vec<FieldError> {
    let at = |code: &'static str, detail: String| vec![FieldError::new(path.to_owned(), code, detail)];
    match kind {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            vec![FieldError::new(format!("{path}/{}", escape(name)), "required", "This is required.")]
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => unexpected
            .iter()
            .map(|name| {
                let detail = if is_a_persons_name(path, name) {
                    format!(
                        "People using the service are identified by your own identifier for them (`identifier`, \
with `age_band`), never by name: remove `{name}`."
                    )
                } else {
                    format!("There is no field `{name}` here; check its spelling against the form's schema.")
                };
                FieldError::new(format!("{path}/{}", escape(name)), "unknown_field", detail)
            })
            .collect(),
        ValidationErrorKind::Type { kind } => at("wrong_type", format!("This must be {}.", type_name(kind))),
        ValidationErrorKind::Enum { options } => {
            let choices: Vec<String> =
                options.as_array().into_iter().flatten().map(|o| o.as_str().unwrap_or_default().to_owned()).collect();
            at("not_allowed", format!("Choose one of: {}.", choices.join(", ")))
        }
        ValidationErrorKind::OneOfNotValid { context } => match labelled_choices(context) {
            Some(choices) => at("not_allowed", format!("Choose one of: {}.", choices.join(", "))),
            None => at("invalid", "This matches none of the forms it may take.".into()),
        },
        ValidationErrorKind::MinLength { limit: 1 } => at("blank", "This must not be empty.".into()),
        ValidationErrorKind::MinLength { limit } => {
            at("too_short", format!("This must be at least {limit} characters."))
        }
        ValidationErrorKind::MaxLength { limit } => at("too_long", format!("This must be at most {limit} characters.")),
        ValidationErrorKind::Pattern { pattern } => pattern_error(path, pattern),
        ValidationErrorKind::Format { format } => format_error(path, format, instance),
        ValidationErrorKind::Minimum { limit } => at("too_small", format!("This must be at least {limit}.")),
        ValidationErrorKind::Maximum { limit } => at("too_large", format!("This must be at most {limit}.")),
        ValidationErrorKind::MinItems { limit } => at("too_few", format!("Give at least {limit}.")),
        ValidationErrorKind::MaxItems { limit } => at("too_many", format!("Give at most {limit}.")),
        ValidationErrorKind::UniqueItems => at("duplicate", "Give each value once.".into()),
        other => at("invalid", format!("{other:?}")),
    }
}

/// The values of a choice published as `oneOf: [{const, title}]`, when every branch failed only its `const`.
fn labelled_choices(branches: &[Vec<jsonschema::ValidationError<'static>>]) -> Option<Vec<String>> {
    branches
        .iter()
        .map(|errors| match errors.as_slice() {
            [only] => match only.kind() {
                ValidationErrorKind::Constant { expected_value: Value::String(value) } => Some(value.clone()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn pattern_error(path: &str, pattern: &str) -> Vec<FieldError> {
    let (code, detail) = match pattern {
        // The validator reports `\S` expanded into the ECMAScript whitespace class it compiled it to.
        p if p == r"\S" || p.starts_with("[^ \t\n") => ("blank", "This must not be blank.".to_owned()),
        p if p.contains("@") => ("email_format", "This is not an email address.".to_owned()),
        p if p.starts_with(r"^\+?") => (
            "phone_format",
            "Give a telephone number: digits, spaces, brackets or hyphens, optionally starting with +.".into(),
        ),
        p if p.starts_with("^[A-Za-z0-9]") => (
            "identifier_format",
            "Your identifier for the person: letters, digits and . _ / - only (never their name).".to_owned(),
        ),
        p if p.ends_with(r"[0-9]{2}$") && p.len() < 40 => ("date_format", "Give a date as YYYY-MM-DD.".to_owned()),
        p if p.contains("T[0-9]") => {
            ("date_time_format", "Give a date and time with its offset, for example 2026-11-20T14:05:00Z.".to_owned())
        }
        "^[0-9]{10}$" => ("nhs_number_format", "An NHS number is 10 digits, without spaces.".to_owned()),
        "^[a-z][a-z_]*$" => ("code_format", "Give a code in lower case, for example personal_care.".to_owned()),
        other => ("format", format!("This does not match the pattern {other}.")),
    };
    vec![FieldError::new(path.to_owned(), code, detail)]
}

fn format_error(path: &str, format: &str, instance: &Value) -> Vec<FieldError> {
    let text = instance.as_str().unwrap_or_default();
    let (code, detail): (&'static str, String) = match format {
        formats::PAST_DATE if parse_date(text).is_none() => ("not_a_date", "This is not a real date.".into()),
        formats::PAST_DATE => ("in_future", "This date is in the future.".into()),
        formats::PAST_DATE_TIME
            if time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_err() =>
        {
            ("not_a_date_time", "This is not a real date and time.".into())
        }
        formats::PAST_DATE_TIME => ("in_future", "This is in the future.".into()),
        formats::NHS_NUMBER => match NhsNumber::parse(text) {
            Err(invalid) => (invalid.code, invalid.message.into_owned()),
            Ok(_) => ("nhs_number_format", "Give the NHS number as 10 digits without spaces.".into()),
        },
        formats::POSTCODE => match crate::domain::Postcode::parse(text) {
            Err(invalid) => (invalid.code, invalid.message.into_owned()),
            Ok(_) => ("postcode_format", "This is not a UK postcode.".into()),
        },
        "uuid" => ("uuid_format", "This is not an id (a UUID).".into()),
        "email" => ("email_format", "This is not an email address.".into()),
        "date" => ("not_a_date", "This is not a real date.".into()),
        other => ("format", format!("This is not a valid {other}.")),
    };
    // Pattern and format can both fail on one value; the pattern's message is enough then.
    if matches!(code, "not_a_date" | "not_a_date_time" | "nhs_number_format") && !looks_like(format, text) {
        return Vec::new();
    }
    vec![FieldError::new(path.to_owned(), code, detail)]
}

/// Whether the value has the shape the pattern asks for (so the format's own message adds something).
fn looks_like(format: &str, text: &str) -> bool {
    match format {
        formats::PAST_DATE | "date" => text.len() == 10,
        formats::NHS_NUMBER => text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit()),
        _ => true,
    }
}

fn type_name(kind: &jsonschema::error::TypeKind) -> String {
    let name = |t: &jsonschema::JsonType| match t.to_string().as_str() {
        "object" => "an object".to_owned(),
        "array" => "a list".to_owned(),
        "integer" => "a whole number".to_owned(),
        "boolean" => "true or false".to_owned(),
        other => format!("a {other}"),
    };
    match kind {
        jsonschema::error::TypeKind::Single(t) => name(t),
        jsonschema::error::TypeKind::Multiple(set) => set.iter().map(|t| name(&t)).collect::<Vec<_>>().join(" or "),
    }
}

fn escape(name: &str) -> String {
    pointer_token(name).into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use time::macros::datetime;

    use super::*;

    #[test]
    fn a_name_for_a_person_using_the_service_is_refused_with_why() {
        assert!(is_a_persons_name("/person", "name"));
        assert!(is_a_persons_name("/people/0", "surname"));
        assert!(!is_a_persons_name("/reporter/contact", "name"), "staff are named");
        assert!(!is_a_persons_name("/person", "nickname"));
    }

    fn past_date_errors(value: &str, at: OffsetDateTime) -> Vec<FieldError> {
        let schema = json!({"type": "string", "format": formats::PAST_DATE});
        let validator = compile(&schema).unwrap();
        schema_errors(&validator, &schema, &json!(value), Completeness::Complete, at)
    }

    #[test]
    fn at_half_past_midnight_in_summer_today_is_englands_date_not_utcs() {
        // 23:30 UTC on 15 June is 00:30 BST on 16 June: the 16th is today, not the future.
        let at = datetime!(2026-06-15 23:30 UTC);
        assert_eq!(past_date_errors("2026-06-16", at), vec![]);
        let future = past_date_errors("2026-06-17", at);
        assert_eq!(future.iter().map(|e| e.code.as_ref()).collect::<Vec<_>>(), ["in_future"]);
    }

    #[test]
    fn across_both_clock_changes_today_follows_englands_clocks() {
        // The night the clocks go forward (29 March 2026): 23:30 UTC is already 00:30 BST on the 30th.
        assert_eq!(past_date_errors("2026-03-30", datetime!(2026-03-29 23:30 UTC)), vec![]);
        // The night before, 23:30 UTC is 23:30 GMT: the 29th is still tomorrow.
        assert_eq!(past_date_errors("2026-03-29", datetime!(2026-03-28 23:30 UTC)).len(), 1);
        // The night the clocks go back (25 October 2026): 23:30 UTC on the 24th is 00:30 BST on the 25th...
        assert_eq!(past_date_errors("2026-10-25", datetime!(2026-10-24 23:30 UTC)), vec![]);
        // ...and 23:30 UTC on the 25th is 23:30 GMT, still the 25th.
        assert_eq!(past_date_errors("2026-10-26", datetime!(2026-10-25 23:30 UTC)).len(), 1);
    }

    #[test]
    fn the_time_is_cleared_after_each_check() {
        past_date_errors("2026-06-16", datetime!(2026-06-15 23:30 UTC));
        assert!(CHECKED_AT.get().is_none());
    }
}
