//! The provider portal against a real API server: the server on port 0 with the portal beside it (as
//! `provider-api serve` runs them), driven as a browser would (a cookie jar, forms posted, redirects followed
//! one at a time so each can be checked), its HTML read with a parser.

mod documents;
mod notifications;
mod records;
mod sign_in;
mod standalone;
mod team;
