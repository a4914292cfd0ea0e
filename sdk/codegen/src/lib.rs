//! Turns the published OpenAPI 3.1 document into the SDK's generated Rust code.
//!
//! progenitor reads OpenAPI 3.0 only, so [`downgrade`] first rewrites the document into the equivalent 3.0
//! form; [`for_progenitor`] then makes the SDK-only adjustments; [`generate`] runs progenitor. The published
//! document stays 3.1: this rendering exists only inside the SDK build.

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value, json};

/// The first line of the generated file.
pub const HEADER: &str = "// @generated from openapi/v1.json by provider-api-sdk-codegen. Do not edit: change the API, \
then run `cargo run -p provider-api-http --bin provider-api-openapi` and `cargo run -p provider-api-sdk-codegen`.\n";

/// The committed spec and the committed generated code, relative to the workspace root.
pub const SPEC_PATH: &str = "openapi/v1.json";
pub const GENERATED_PATH: &str = "sdk/src/generated.rs";

/// The workspace root, from this crate's manifest directory (`sdk/codegen`).
pub fn workspace_root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Reads the 3.1 document at `path` and returns the SDK's generated source.
pub fn generate_from_path(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    let document: Value = serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    generate(document)
}

pub fn generate(document: Value) -> Result<String> {
    let document = for_progenitor(downgrade(document)?);
    let spec: openapiv3::OpenAPI =
        serde_json::from_value(document).context("the downgraded document is not valid OpenAPI 3.0")?;
    let settings = progenitor::GenerationSettings::default()
        .with_interface(progenitor::InterfaceStyle::Builder)
        .with_tag(progenitor::TagStyle::Merged)
        .with_derive("PartialEq")
        // Every request passes through the hand-written auth layer, which attaches a bearer token if the
        // client has credentials (see sdk/src/auth.rs).
        .with_inner_type(tokens("crate::auth::Auth")?)
        .with_pre_hook_async(tokens("crate::auth::attach_token")?)
        .to_owned();
    let mut generator = progenitor::Generator::new(&settings);
    let tokens = generator.generate_tokens(&spec).map_err(|e| anyhow::anyhow!("progenitor: {e}"))?;
    let file: syn::File = syn::parse2(tokens).context("progenitor produced code that does not parse")?;
    Ok(format!("{HEADER}{}", prettyplease::unparse(&file)))
}

fn tokens(path: &str) -> Result<proc_macro2::TokenStream> {
    path.parse().map_err(|e| anyhow::anyhow!("{path}: {e}"))
}

/// Rewrites an OpenAPI 3.1 document as the equivalent OpenAPI 3.0.3 document.
///
/// - `type: [T, "null"]` becomes `type: T` with `nullable: true`;
/// - `oneOf`/`anyOf` with a `{type: "null"}` branch loses the branch and becomes nullable (a lone `$ref` is
///   wrapped in `allOf`, since 3.0 ignores siblings of `$ref`); so does a `$ref` with a description beside it;
/// - labelled choices (`oneOf` of `{const, title}`) become an `enum` of their values; rules between fields
///   (`if`/`then` in `allOf`, `dependentRequired`) are dropped, since 3.0 cannot state them;
/// - `const` becomes a one-value `enum`; numeric `exclusiveMinimum`/`exclusiveMaximum` become the boolean
///   form beside `minimum`/`maximum`; schema `examples` becomes `example`;
/// - `webhooks`, `jsonSchemaDialect` and `license.identifier` (3.1 only) are dropped.
pub fn downgrade(mut document: Value) -> Result<Value> {
    let version = document.get("openapi").and_then(Value::as_str).unwrap_or_default();
    if !version.starts_with("3.1") {
        bail!("expected an OpenAPI 3.1 document, found version {version:?}");
    }
    let root = document.as_object_mut().context("the document is not an object")?;
    root.insert("openapi".into(), json!("3.0.3"));
    root.remove("webhooks");
    root.remove("jsonSchemaDialect");
    if let Some(license) = root.get_mut("info").and_then(|i| i.get_mut("license")).and_then(Value::as_object_mut) {
        license.remove("identifier");
    }
    for_each_schema(&mut document, &mut downgrade_schema)?;
    Ok(document)
}

/// SDK-only adjustments:
/// - progenitor types only `application/json` bodies, while we also use `application/problem+json` (errors)
///   and `application/merge-patch+json` (partial updates): JSON all the same, which the server accepts as
///   `application/json`, so the SDK sends and reads every `+json` type as JSON;
/// - operations that answer HTML are pages for people's browsers (the sign-in page), not API calls: they are
///   left out, and the hand-written `auth` module builds their URLs instead;
/// - an open object with no declared properties (a draft form, which may hold any of its type's fields) is
///   typed as a JSON map: typify would otherwise make a struct of only its `required` members and drop the
///   rest when reading it;
/// - operations that take a file's bytes as their body (the tus protocol's `HEAD`/`OPTIONS`/`PATCH`, the
///   single-request upload) are left out too: progenitor types bodies as JSON or forms only, and the
///   hand-written `upload` module drives them, streaming from a file or any reader.
pub fn for_progenitor(mut document: Value) -> Value {
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for schema in schemas.values_mut() {
            let open =
                schema.get("additionalProperties") == Some(&Value::Bool(true)) && schema.get("properties").is_none();
            if open && let Some(schema) = schema.as_object_mut() {
                schema.remove("required");
            }
        }
    }
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            if let Some(item) = item.as_object_mut() {
                item.retain(|method, operation| {
                    !answers_html(operation)
                        && !takes_file_bytes(operation)
                        && !matches!(method.as_str(), "head" | "options")
                });
            }
        }
        paths.retain(|_, item| item.as_object().is_none_or(|ops| ops.keys().any(|k| is_method(k))));
    }
    visit_media_maps(&mut document, &mut |content| {
        let json_types: Vec<String> =
            content.keys().filter(|k| k.starts_with("application/") && k.ends_with("+json")).cloned().collect();
        for media_type in json_types {
            let media = content.remove(&media_type).expect("listed above");
            content.entry("application/json").or_insert(media);
        }
        // The SDK asks for JSON; a CSV the same operation offers is for people's own tools (a letter run).
        if content.contains_key("application/json") {
            content.remove("text/csv");
        }
    });
    document
}

fn answers_html(operation: &Value) -> bool {
    operation
        .get("responses")
        .and_then(Value::as_object)
        .is_some_and(|responses| responses.values().any(|r| r.pointer("/content/text~1html").is_some()))
}

/// Whether the operation's body is something other than JSON or a form: a file's bytes.
fn takes_file_bytes(operation: &Value) -> bool {
    operation.pointer("/requestBody/content").and_then(Value::as_object).is_some_and(|content| {
        content.keys().any(|media_type| {
            !(media_type == "application/json"
                || media_type.ends_with("+json")
                || media_type == "application/x-www-form-urlencoded")
        })
    })
}

fn is_method(key: &str) -> bool {
    matches!(key, "get" | "put" | "post" | "delete" | "options" | "head" | "patch" | "trace")
}

/// Calls `f` on every schema at the places OpenAPI puts them (components, parameters, bodies, responses,
/// headers). `f` recurses into subschemas itself.
fn for_each_schema(document: &mut Value, f: &mut dyn FnMut(&mut Value) -> Result<()>) -> Result<()> {
    if let Some(schemas) = document.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for schema in schemas.values_mut() {
            f(schema)?;
        }
    }
    if let Some(components) = document.get_mut("components").and_then(Value::as_object_mut) {
        for (key, section) in components.iter_mut() {
            if matches!(key.as_str(), "parameters" | "responses" | "requestBodies" | "headers") {
                // Iterate the named components, so a component called `schema` is not taken for one.
                for component in section.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                    schemas_below(component, f)?;
                }
            }
        }
    }
    if let Some(paths) = document.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut() {
            schemas_below(item, f)?;
        }
    }
    Ok(())
}

/// Finds schemas inside path items, operations, parameters, bodies, responses and headers: every `schema`
/// key in them, without descending into the schemas themselves (their `properties` could be named `schema`).
fn schemas_below(value: &mut Value, f: &mut dyn FnMut(&mut Value) -> Result<()>) -> Result<()> {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match key.as_str() {
                    "schema" => f(child)?,
                    "example" | "examples" => {}
                    _ => schemas_below(child, f)?,
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                schemas_below(item, f)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn visit_media_maps(value: &mut Value, f: &mut dyn FnMut(&mut Map<String, Value>)) {
    match value {
        Value::Object(map) => {
            if let Some(content) = map.get_mut("content").and_then(Value::as_object_mut) {
                f(content);
            }
            for child in map.values_mut() {
                visit_media_maps(child, f);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| visit_media_maps(item, f)),
        _ => {}
    }
}

fn downgrade_schema(schema: &mut Value) -> Result<()> {
    let Some(map) = schema.as_object_mut() else { return Ok(()) };

    // Labelled choices (`oneOf: [{const, title}]`) are a plain enum to 3.0 and to the SDK's types.
    let labelled = |branch: &Value| {
        branch.as_object().is_some_and(|b| {
            b.contains_key("const") && b.keys().all(|k| matches!(k.as_str(), "const" | "title" | "description"))
        })
    };
    if let Some(Value::Array(branches)) = map.get("oneOf")
        && !branches.is_empty()
        && branches.iter().all(labelled)
    {
        let values: Vec<Value> = branches.iter().map(|b| b["const"].clone()).collect();
        map.remove("oneOf");
        map.insert("enum".into(), Value::Array(values));
    }
    // Rules between fields (3.1's `if`/`then`, `dependentRequired`) have no 3.0 form; the server applies them.
    map.remove("dependentRequired");
    if let Some(Value::Array(parts)) = map.get_mut("allOf") {
        parts.retain(|part| {
            !part.as_object().is_some_and(|p| p.keys().all(|k| matches!(k.as_str(), "if" | "then" | "else")))
        });
        if parts.is_empty() {
            map.remove("allOf");
        }
    }

    for key in ["items", "additionalProperties", "not"] {
        if let Some(child) = map.get_mut(key) {
            downgrade_schema(child)?;
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(children) = map.get_mut(key).and_then(Value::as_array_mut) {
            for child in children {
                downgrade_schema(child)?;
            }
        }
    }
    if let Some(properties) = map.get_mut("properties").and_then(Value::as_object_mut) {
        for child in properties.values_mut() {
            downgrade_schema(child)?;
        }
    }

    if let Some(Value::Array(types)) = map.get("type") {
        let non_null: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
        let nullable = non_null.len() < types.len();
        match non_null.as_slice() {
            [single] => {
                map.insert("type".into(), single.clone());
            }
            [] => bail!("a schema whose only type is null cannot be expressed in OpenAPI 3.0"),
            _ => bail!("a schema with several types ({types:?}) cannot be expressed in OpenAPI 3.0"),
        }
        if nullable {
            map.insert("nullable".into(), json!(true));
        }
    }

    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = map.get(key) else { continue };
        let is_null = |b: &Value| b.get("type") == Some(&json!("null")) && b.as_object().is_some_and(|o| o.len() == 1);
        if !branches.iter().any(is_null) {
            continue;
        }
        let rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
        map.remove(key);
        map.insert("nullable".into(), json!(true));
        match rest.len() {
            0 => bail!("a schema whose only branch is null cannot be expressed in OpenAPI 3.0"),
            1 => {
                map.insert("allOf".into(), Value::Array(rest));
            }
            _ => {
                map.insert(key.into(), Value::Array(rest));
            }
        }
    }

    if map.contains_key("$ref") && map.len() > 1 {
        let reference = map.remove("$ref").expect("checked above");
        map.insert("allOf".into(), json!([{ "$ref": reference }]));
    }

    if let Some(value) = map.remove("const") {
        map.insert("enum".into(), json!([value]));
    }
    for (exclusive, inclusive) in [("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")] {
        if let Some(bound) = map.get(exclusive).filter(|v| v.is_number()).cloned() {
            map.insert(inclusive.into(), bound);
            map.insert(exclusive.into(), json!(true));
        }
    }
    if let Some(Value::Array(examples)) = map.remove("examples")
        && let Some(first) = examples.into_iter().next()
    {
        map.entry("example").or_insert(first);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema_downgraded(schema: Value) -> Value {
        let document = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"S": schema}}});
        downgrade(document).unwrap()["components"]["schemas"]["S"].clone()
    }

    #[test]
    fn labelled_choices_become_an_enum_and_rules_between_fields_are_dropped() {
        let schema = json!({"type": "string", "oneOf": [{"const": "a", "title": "A"}, {"const": "b", "title": "B"}]});
        assert_eq!(schema_downgraded(schema), json!({"type": "string", "enum": ["a", "b"]}));
        let form = json!({"type": "object", "properties": {"x": {"type": "string"}},
            "allOf": [{"if": {"required": ["x"]}, "then": {"required": ["y"]}}], "dependentRequired": {"x": ["y"]}});
        assert_eq!(schema_downgraded(form), json!({"type": "object", "properties": {"x": {"type": "string"}}}));
    }

    #[test]
    fn type_arrays_with_null_become_nullable() {
        assert_eq!(schema_downgraded(json!({"type": ["string", "null"]})), json!({"type": "string", "nullable": true}));
        assert_eq!(schema_downgraded(json!({"type": ["integer"]})), json!({"type": "integer"}));
    }

    #[test]
    fn several_non_null_types_are_refused_rather_than_guessed() {
        let document = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
            "components": {"schemas": {"S": {"type": ["string", "integer"]}}}});
        assert!(downgrade(document).is_err());
    }

    #[test]
    fn a_nullable_reference_becomes_all_of_and_keeps_its_description() {
        let schema = json!({"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/T"}], "description": "d"});
        assert_eq!(
            schema_downgraded(schema),
            json!({"allOf": [{"$ref": "#/components/schemas/T"}], "nullable": true, "description": "d"})
        );
    }

    #[test]
    fn a_nullable_union_of_several_keeps_the_others() {
        let schema = json!({"anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]});
        assert_eq!(
            schema_downgraded(schema),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}], "nullable": true})
        );
    }

    #[test]
    fn a_reference_with_siblings_is_wrapped_so_the_siblings_survive() {
        let schema = json!({"$ref": "#/components/schemas/T", "description": "d"});
        assert_eq!(
            schema_downgraded(schema),
            json!({"allOf": [{"$ref": "#/components/schemas/T"}], "description": "d"})
        );
        let bare = json!({"$ref": "#/components/schemas/T"});
        assert_eq!(schema_downgraded(bare.clone()), bare);
    }

    #[test]
    fn const_becomes_a_one_value_enum() {
        assert_eq!(schema_downgraded(json!({"const": "x"})), json!({"enum": ["x"]}));
    }

    #[test]
    fn numeric_exclusive_bounds_become_boolean_flags() {
        assert_eq!(
            schema_downgraded(json!({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10})),
            json!({"type": "number", "minimum": 0, "exclusiveMinimum": true, "maximum": 10, "exclusiveMaximum": true})
        );
    }

    #[test]
    fn schema_examples_become_a_single_example() {
        assert_eq!(
            schema_downgraded(json!({"type": "string", "examples": ["a", "b"]})),
            json!({"type": "string", "example": "a"})
        );
    }

    #[test]
    fn nested_schemas_are_rewritten_everywhere() {
        let schema = json!({"type": "object", "properties": {
            "list": {"type": "array", "items": {"type": ["string", "null"]}},
            "map": {"type": "object", "additionalProperties": {"const": 1}},
            "schema": {"type": ["boolean", "null"]}
        }});
        let out = schema_downgraded(schema);
        assert_eq!(out["properties"]["list"]["items"], json!({"type": "string", "nullable": true}));
        assert_eq!(out["properties"]["map"]["additionalProperties"], json!({"enum": [1]}));
        assert_eq!(out["properties"]["schema"], json!({"type": "boolean", "nullable": true}));
    }

    #[test]
    fn schemas_in_parameters_bodies_and_responses_are_rewritten() {
        let document = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"post": {
            "parameters": [{"name": "q", "in": "query", "schema": {"type": ["integer", "null"]}}],
            "requestBody": {"content": {"application/json": {"schema": {"type": ["string", "null"]}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"const": true}}}}}
        }}}});
        let out = downgrade(document).unwrap();
        let op = &out["paths"]["/x"]["post"];
        assert_eq!(op["parameters"][0]["schema"], json!({"type": "integer", "nullable": true}));
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(op["responses"]["200"]["content"]["application/json"]["schema"], json!({"enum": [true]}));
    }

    #[test]
    fn document_level_31_fields_are_dropped() {
        let document = json!({"openapi": "3.1.0", "jsonSchemaDialect": "x", "webhooks": {},
            "info": {"title": "t", "version": "1", "license": {"name": "MIT", "identifier": "MIT"}}, "paths": {}});
        let out = downgrade(document).unwrap();
        assert_eq!(out["openapi"], "3.0.3");
        assert!(out.get("webhooks").is_none() && out.get("jsonSchemaDialect").is_none());
        assert_eq!(out["info"]["license"], json!({"name": "MIT"}));
    }

    #[test]
    fn only_31_documents_are_accepted() {
        assert!(downgrade(json!({"openapi": "3.0.3"})).is_err());
    }

    #[test]
    fn operations_that_answer_html_are_left_to_the_browser() {
        let document = json!({"paths": {
            "/page": {"get": {"responses": {"200": {"content": {"text/html": {}}}}}},
            "/mixed": {"get": {"responses": {"200": {"content": {"application/json": {}}}}},
                       "post": {"responses": {"400": {"content": {"text/html": {}, "application/json": {}}}}}},
        }});
        let out = for_progenitor(document);
        assert!(out["paths"].get("/page").is_none());
        assert!(out["paths"]["/mixed"].get("get").is_some());
        assert!(out["paths"]["/mixed"].get("post").is_none());
    }

    #[test]
    fn open_objects_become_maps_in_the_sdk() {
        let document = json!({"components": {"schemas": {
            "Draft": {"type": "object", "required": ["type"], "additionalProperties": true},
            "Closed": {"type": "object", "required": ["a"], "properties": {"a": {"type": "string"}}}
        }}});
        let out = for_progenitor(document);
        assert!(out.pointer("/components/schemas/Draft/required").is_none());
        assert_eq!(out.pointer("/components/schemas/Closed/required"), Some(&json!(["a"])));
    }

    #[test]
    fn operations_that_take_file_bytes_are_left_to_the_upload_module() {
        let document = json!({"paths": {
            "/uploads": {"options": {"responses": {}}, "post": {"requestBody": {"content": {"application/offset+octet-stream": {}}}}},
            "/uploads/{id}": {"head": {"responses": {}}, "delete": {"responses": {}}},
            "/documents": {"post": {"requestBody": {"content": {"application/pdf": {}, "text/plain": {}}}},
                           "get": {"responses": {}}},
        }});
        let out = for_progenitor(document);
        assert!(out["paths"].get("/uploads").is_none());
        assert_eq!(out["paths"]["/uploads/{id}"].as_object().unwrap().keys().collect::<Vec<_>>(), ["delete"]);
        assert_eq!(out["paths"]["/documents"].as_object().unwrap().keys().collect::<Vec<_>>(), ["get"]);
    }

    #[test]
    fn merge_patch_bodies_are_sent_as_json_by_the_sdk() {
        let document =
            json!({"paths": {"/x": {"patch": {"requestBody": {"content": {"application/merge-patch+json": {}}}}}}});
        let out = for_progenitor(document);
        assert!(out["paths"]["/x"]["patch"]["requestBody"]["content"]["application/json"].is_object());
    }

    #[test]
    fn problem_json_is_read_as_json_by_the_sdk() {
        let document = json!({"components": {"responses": {"E": {"description": "e",
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}}}});
        let out = for_progenitor(document);
        assert!(out["components"]["responses"]["E"]["content"]["application/json"].is_object());
    }

    #[test]
    fn the_committed_spec_downgrades_to_valid_openapi_30_with_no_31_constructs_left() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../openapi/v1.json");
        let document: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let out = downgrade(document).unwrap();
        let text = out.to_string();
        assert!(!text.contains(r#""type":["#), "a type array survived");
        assert!(!text.contains(r#"{"type":"null"}"#), "a null branch survived");
        serde_json::from_value::<openapiv3::OpenAPI>(out).unwrap();
    }
}
