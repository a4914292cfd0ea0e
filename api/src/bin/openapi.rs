//! Writes `openapi/v1.json` from the API's code, or with `--check` fails when it is stale. Built from the API
//! crate alone, so a client of the API that needs a regenerated SDK (the portal) can never stop the document
//! it is regenerated from being written.
//!
//!     cargo run -p provider-api-http --bin provider-api-openapi [-- --check] [-- --out PATH]

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut out = PathBuf::from(provider_api_http::openapi::SPEC_PATH);
    let mut check = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--out" => match args.next() {
                Some(path) => out = PathBuf::from(path),
                None => return usage("--out needs a path"),
            },
            other => return usage(&format!("unknown argument {other}")),
        }
    }
    match provider_api_http::openapi::write_or_check(&out, check) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("provider-api-openapi: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("provider-api-openapi: {problem}\nusage: provider-api-openapi [--check] [--out PATH]");
    ExitCode::from(2)
}
