//! Pages rendered from the portal's templates (`templates/`), which extend `layout.html` and use GOV.UK
//! Frontend's component macros.

use std::sync::LazyLock;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};
use minijinja::{Environment, Value, context};

use crate::SERVICE_NAME;

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

static ENVIRONMENT: LazyLock<Environment<'static>> =
    LazyLock::new(|| provider_api_govuk::environment(|name| TEMPLATES.get_file(name).and_then(|f| f.contents_utf8())));

/// The header of a signed-in page: who is signed in, for which organisation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SignedInHeader {
    pub person: String,
    pub organisation: Option<String>,
    /// The navigation item the page belongs to (`tasks`, …).
    pub section: &'static str,
    /// How long the session lasts without a request, for the warning before it ends; none where there is no
    /// work to lose.
    pub idle_seconds: Option<u64>,
}

/// `template` rendered with `values` and what every page has. `values` must give `title`; `errors` (a list)
/// makes the title start "Error: "; `header` ([`SignedInHeader`]) shows the signed-in navigation.
pub fn page(status: StatusCode, template: &str, values: Value) -> Response {
    let rendered = ENVIRONMENT.get_template(template).and_then(|t| {
        t.render(context! { service_name => SERVICE_NAME, session_cookie => crate::SESSION_COOKIE, ..values })
    });
    match rendered {
        Ok(html) => {
            (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
                .into_response()
        }
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

/// The page people see when the API cannot be reached or answers unexpectedly: they can do nothing about it
/// but try later, and what they typed is kept.
pub fn service_problem() -> Response {
    page(
        StatusCode::BAD_GATEWAY,
        "pages/service_problem.html",
        context! { title => "Sorry, there is a problem with the service" },
    )
}

/// A page saying something cannot be done, why, and where to go back to (`pages/not_permitted.html`).
pub fn cannot(
    status: StatusCode,
    header: SignedInHeader,
    title: &str,
    text: &str,
    back: &str,
    back_text: &str,
) -> Response {
    page(status, "pages/not_permitted.html", context! { title, header, text, back, back_text })
}
