//! Black-box tests of the HTTP API: each starts the real server on port 0 with a fresh database and drives it
//! through the SDK, and through raw HTTP for what the SDK cannot send. One file per resource or concern.

mod admin;
mod audit;
mod consent;
mod docs;
mod documents;
mod emails;
mod england;
mod errors;
mod health;
mod hostile;
mod identifiers;
mod invitations;
mod lifecycle;
mod matrix;
mod notifications;
mod oauth;
mod oauth_hardening;
mod organisations;
mod password_reset;
mod rate_limits;
mod reference;
mod register;
mod registrations;
mod review;
mod shared_limits;
mod sign_in;
mod sign_in_abuse;
mod site;
mod two_factor;
mod two_nodes;
