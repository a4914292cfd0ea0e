//! Rust client for the provider API.
//!
//! [`generated`] is produced from the API's OpenAPI document by progenitor (`provider-api-sdk-codegen`) and
//! committed, so building the SDK needs nothing outside this crate; it is re-exported here as [`Client`], [`types`] and [`Error`]. The modules beside it are written by hand: they
//! add what a generator cannot (connection defaults, problem handling, OAuth 2.0 tokens with a retry after a
//! 401, idempotency keys reused across retries, tus uploads in `upload`) and never edit generated code.

#[allow(clippy::all, clippy::pedantic, unused_imports, dead_code, missing_docs, unreachable_pub)]
// Generated code is committed exactly as the generator writes it (its check compares bytes); rustfmt would
// re-indent its block doc comments on every run.
#[rustfmt::skip]
pub mod generated;

pub mod auth;
mod connect;
pub mod idempotent;
mod problem;
/// Verifying a receipt's signature against the regulator's receipt keys.
pub mod receipt;
pub mod upload;

pub use connect::ClientBuilder;
pub use generated::{Client, Error, ResponseValue, types};
pub use problem::ProblemExt;
