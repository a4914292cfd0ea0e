//! The API's own pages for people (signing in, and what goes wrong on the way), in GOV.UK Frontend's markup
//! from the same components and assets as the portal's (`provider_api_govuk`), served from `/assets`.

use std::sync::LazyLock;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};
use minijinja::{Environment, Value, context};

static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/templates");

static ENVIRONMENT: LazyLock<Environment<'static>> =
    LazyLock::new(|| provider_api_govuk::environment(|name| TEMPLATES.get_file(name).and_then(|f| f.contents_utf8())));

/// Nothing inline and nothing from elsewhere; `form_action` adds where the page's form may lead (its redirect).
pub fn content_security_policy(form_action: &str) -> String {
    format!(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'{form_action}; frame-ancestors 'none'"
    )
}

/// `template` rendered with `values` (which must give `title`; `error` makes it start "Error: "), with the
/// page's security headers.
pub fn page(status: StatusCode, template: &str, values: Value, form_action: &str) -> Response {
    let rendered = ENVIRONMENT.get_template(template).and_then(|t| t.render(values));
    let mut response = match rendered {
        Ok(html) => {
            (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-store")], html)
                .into_response()
        }
        Err(error) => {
            tracing::error!(template, error = %error, "a page failed to render");
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Sorry, there is a problem with the service. Try again later.",
            )
                .into_response();
        }
    };
    let headers = response.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(form_action)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// A page that says what went wrong and what to do, with nothing to fill in.
pub fn problem_page(status: StatusCode, title: &str, message: &str, advice: &str) -> Response {
    page(status, "problem.html", context! { title, message, advice }, "")
}
