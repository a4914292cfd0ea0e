//! The provider portal: the service provider staff use in a browser, built on the public API through its SDK
//! like any other client. Pages are server-rendered with GOV.UK Frontend's own component templates
//! ([`govuk`]). See `docs/portal.md`.

pub mod govuk;
