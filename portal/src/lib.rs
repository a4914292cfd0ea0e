//! The provider portal: the service provider staff use in a browser, built on the public API through its SDK
//! like any other client. Pages are server-rendered with GOV.UK Frontend's own component templates
//! ([`govuk`]). See `docs/portal.md`.

pub mod assets;
pub mod govuk;
mod pages;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

/// The service's name, as every page's header and title give it.
pub const SERVICE_NAME: &str = "Provider portal";

/// What the browser may load and send: this origin only, and nothing inline. No page has an inline script or
/// style (GOV.UK Frontend starts from `/assets/portal.mjs`), so none is allowed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; \
frame-ancestors 'none'; form-action 'self'";

/// The portal's routes, to be mounted beside the API at `/`.
pub fn router() -> Router {
    let header = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
    };
    pages::routes()
        .merge(assets::routes())
        .layer(header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .layer(header(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header(header::REFERRER_POLICY, "same-origin"))
        .layer(header(header::X_FRAME_OPTIONS, "DENY"))
}
