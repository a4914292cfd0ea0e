//! The pages anyone may see, signed in or not: the start page, the footer's pages, and page not found.

use std::sync::LazyLock;

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};
use minijinja::{Environment, context};

use crate::{SERVICE_NAME, govuk};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

static ENVIRONMENT: LazyLock<Environment<'static>> =
    LazyLock::new(|| govuk::environment(|name| TEMPLATES.get_file(name).and_then(|f| f.contents_utf8())));

/// The name of the browser's one cookie, as the cookies page lists it.
pub const SESSION_COOKIE: &str = "portal_session";

pub fn routes() -> Router {
    Router::new()
        .route(
            "/",
            get(|| async {
                page(StatusCode::OK, "pages/start.html", "Send notifications to the Care Quality Commission")
            }),
        )
        .route(
            "/accessibility",
            get(|| async { page(StatusCode::OK, "pages/accessibility.html", "Accessibility statement") }),
        )
        .route("/cookies", get(|| async { page(StatusCode::OK, "pages/cookies.html", "Cookies") }))
        .route("/privacy", get(|| async { page(StatusCode::OK, "pages/privacy.html", "Privacy notice") }))
        .fallback(|| async { page(StatusCode::NOT_FOUND, "pages/not_found.html", "Page not found") })
}

/// `template` rendered with the context every page has.
fn page(status: StatusCode, template: &str, title: &str) -> Response {
    let rendered = ENVIRONMENT.get_template(template).and_then(|t| {
        t.render(context! {
            title,
            service_name => SERVICE_NAME,
            session_cookie => SESSION_COOKIE,
        })
    });
    match rendered {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(error) => {
            tracing::error!(template, error = %error, "a page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Sorry, there is a problem with the service. Try again later.",
            )
                .into_response()
        }
    }
}
