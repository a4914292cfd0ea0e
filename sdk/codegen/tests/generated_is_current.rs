//! The SDK's committed code is what the committed spec generates: `cargo test` fails on drift, naming the
//! command that fixes it.

use provider_api_sdk_codegen::{GENERATED_PATH, SPEC_PATH, generate_from_path, workspace_root};

#[test]
fn the_committed_sdk_is_generated_from_the_committed_spec() {
    let root = workspace_root();
    let code = generate_from_path(&root.join(SPEC_PATH)).expect("the committed spec generates");
    let committed = std::fs::read_to_string(root.join(GENERATED_PATH)).unwrap_or_default();
    assert!(
        committed == code,
        "{GENERATED_PATH} is stale: run `cargo run -p provider-api-sdk-codegen` and commit the result"
    );
}
