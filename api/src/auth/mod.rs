//! Authentication and authorization: the OAuth 2.0 server that issues tokens, the keys that sign them, the
//! extractor that verifies them, and the rule that decides what a principal may do. See `docs/identity.md`.

pub mod authorize;
pub mod device;
pub mod keys;
pub mod me;
pub mod oauth;
pub mod pages;
pub mod password;
pub mod password_reset;
pub mod principal;
pub mod secret;
pub mod sign_in;
pub mod throttle;
pub mod token;
pub mod two_factor;

pub use principal::{Access, Principal, Subject};
