//! Generates the client from the committed OpenAPI document on every build in which it changed, so the SDK
//! can never drift from the spec (and the spec cannot drift from the server: `api`'s freshness test).

use std::path::PathBuf;

fn main() {
    let spec = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("../openapi/v1.json");
    println!("cargo:rerun-if-changed={}", spec.display());
    let code = provider_api_sdk_codegen::generate_from_path(&spec)
        .unwrap_or_else(|error| panic!("could not generate the SDK from {}: {error:#}", spec.display()));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("generated.rs");
    std::fs::write(&out, code).unwrap_or_else(|error| panic!("could not write {}: {error}", out.display()));
}
