//! Regenerates the SDK's committed code (`sdk/src/generated.rs`) from the committed spec (`openapi/v1.json`),
//! or with `--check` fails when it is stale. The SDK itself builds from the committed code alone, so a vendor
//! depending on it needs neither this generator nor the server's sources.
//!
//!     cargo run -p provider-api-sdk-codegen [-- --check]

use std::process::ExitCode;

use provider_api_sdk_codegen::{GENERATED_PATH, SPEC_PATH, generate_from_path, workspace_root};

fn main() -> ExitCode {
    let check = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(other) => {
            eprintln!("provider-api-sdk-codegen: unknown argument {other}\nusage: provider-api-sdk-codegen [--check]");
            return ExitCode::from(2);
        }
    };
    let root = workspace_root();
    let code = match generate_from_path(&root.join(SPEC_PATH)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("provider-api-sdk-codegen: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    let out = root.join(GENERATED_PATH);
    if check {
        if std::fs::read_to_string(&out).unwrap_or_default() != code {
            eprintln!("{GENERATED_PATH} is stale: run `cargo run -p provider-api-sdk-codegen` and commit the result");
            return ExitCode::FAILURE;
        }
        return ExitCode::SUCCESS;
    }
    if let Err(error) = std::fs::write(&out, code) {
        eprintln!("provider-api-sdk-codegen: could not write {GENERATED_PATH}: {error}");
        return ExitCode::FAILURE;
    }
    eprintln!("provider-api-sdk-codegen: wrote {GENERATED_PATH}");
    ExitCode::SUCCESS
}
