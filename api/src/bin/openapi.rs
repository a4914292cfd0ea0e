//! Writes `openapi/v1.json` from the API's code, and the problem-code table of `docs/api-conventions.md` from
//! `api/src/http/codes.rs`; with `--check`, fails when either is stale. Built from the API crate alone, so a client of the API that needs a regenerated SDK (the portal) can never stop the document
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
    let spec = match provider_api_http::openapi::write_or_check(&out, check) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("provider-api-openapi: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    if spec != ExitCode::SUCCESS {
        return spec;
    }
    codes_table(check)
}

/// The problem-code table in the docs, generated from the list the API gives codes from.
fn codes_table(check: bool) -> ExitCode {
    use provider_api_http::http::codes::{DOCS_PATH, with_current_table};
    let docs = match std::fs::read_to_string(DOCS_PATH) {
        Ok(docs) => docs,
        Err(error) => {
            eprintln!("provider-api-openapi: cannot read {DOCS_PATH}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(current) = with_current_table(&docs) else {
        eprintln!("provider-api-openapi: {DOCS_PATH} has lost the markers around its problem-code table");
        return ExitCode::FAILURE;
    };
    if current == docs {
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!("provider-api-openapi: {DOCS_PATH}'s problem-code table is stale; run without --check");
        return ExitCode::FAILURE;
    }
    match std::fs::write(DOCS_PATH, current) {
        Ok(()) => {
            println!("wrote the problem-code table in {DOCS_PATH}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("provider-api-openapi: cannot write {DOCS_PATH}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("provider-api-openapi: {problem}\nusage: provider-api-openapi [--check] [--out PATH]");
    ExitCode::from(2)
}
