//! A request body must be what the published document says it may be, not only what the typed parse lets
//! through: serde reads `null` for an optional field as if it were left out, so without this the server would
//! accept bodies its own OpenAPI document calls invalid (and a client generated from that document could never
//! send). Checked after the typed parse and the field rules, so their more specific errors come first; only
//! bodies that contain a `null` are checked at all.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use provider_api_core::forms::validation::{Completeness, schema_errors};
use serde_json::{Value, json};

use super::problem::Problem;

/// The published document's schemas, read once.
static SCHEMAS: LazyLock<Value> = LazyLock::new(|| {
    let document: Value = serde_json::from_str(&crate::openapi::spec_json()).expect("the served document is JSON");
    json!({"schemas": document["components"]["schemas"]})
});

/// One compiled validator per component schema, made on first use.
static VALIDATORS: LazyLock<Mutex<HashMap<String, Option<Arc<jsonschema::Validator>>>>> =
    LazyLock::new(Default::default);

fn validator(name: &str) -> Option<Arc<jsonschema::Validator>> {
    let mut validators = VALIDATORS.lock().expect("the validator cache lock is never poisoned");
    validators
        .entry(name.to_owned())
        .or_insert_with(|| {
            SCHEMAS["schemas"].get(name)?;
            let root = json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$ref": format!("#/components/schemas/{name}"),
                "components": &*SCHEMAS,
            });
            // Formats are the field rules' to judge (they already have): this is about shape and nulls.
            let compiled = jsonschema::options()
                .should_validate_formats(false)
                .build(&root)
                .unwrap_or_else(|error| panic!("the published schema {name} compiles: {error}"));
            Some(Arc::new(compiled))
        })
        .clone()
}

/// 422 with a pointer for each `null` in `body` where the published schema of `T` does not allow one. Other
/// departures are the typed parse's and the field rules' to find (they did), or, for free-form content such as
/// a notification's form, the machinery that validates it with its own messages.
pub fn check<T: utoipa::ToSchema>(body: &[u8]) -> Result<(), Problem> {
    // Most bodies hold no `null` at all: a byte scan spares them a second parse.
    if !body.windows(4).any(|w| w == b"null") {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else { return Ok(()) };
    if !has_null(&value) {
        return Ok(());
    }
    let Some(validator) = validator(&T::name()) else { return Ok(()) };
    let errors: Vec<_> =
        schema_errors(&validator, &Value::Null, &value, Completeness::Complete, super::request_time::now())
            .into_iter()
            .filter(|error| value.pointer(&error.pointer).is_some_and(Value::is_null))
            .map(|mut error| {
                error.code = "invalid_type".into();
                error.detail = "Leave this field out rather than send null: it is never null.".into();
                error
            })
            .collect();
    if errors.is_empty() { Ok(()) } else { Err(Problem::validation(errors)) }
}

fn has_null(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(fields) => fields.values().any(has_null),
        _ => false,
    }
}
