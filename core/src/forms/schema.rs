//! Publishing a form as a standalone JSON Schema (2020-12): the schemas utoipa derives for the OpenAPI
//! document, with every referenced schema gathered under `$defs`.

use serde_json::Value;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::Schema;

pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

pub fn collect_definitions(referenced: Vec<(String, RefOr<Schema>)>, defs: &mut serde_json::Map<String, Value>) {
    for (name, schema) in referenced {
        let mut value = serde_json::to_value(schema).expect("a schema serialises");
        rewrite_refs(&mut value);
        defs.insert(name, value);
    }
}

/// `#/components/schemas/X` (OpenAPI) becomes `#/$defs/X` (a standalone schema).
pub fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if key == "$ref"
                    && let Value::String(target) = item
                    && let Some(name) = target.strip_prefix("#/components/schemas/")
                {
                    *target = format!("#/$defs/{name}");
                } else {
                    rewrite_refs(item);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}
