//! The pages anyone may see, signed in or not: the start page, the footer's pages, and page not found.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use minijinja::context;

use crate::render::page;

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/",
            get(|| async {
                page(
                    StatusCode::OK,
                    "pages/start.html",
                    context! { title => "Send notifications to the Care Quality Commission" },
                )
            }),
        )
        .route(
            "/accessibility",
            get(|| async {
                page(StatusCode::OK, "pages/accessibility.html", context! { title => "Accessibility statement" })
            }),
        )
        .route(
            "/cookies",
            get(|| async { page(StatusCode::OK, "pages/cookies.html", context! { title => "Cookies" }) }),
        )
        .route(
            "/privacy",
            get(|| async { page(StatusCode::OK, "pages/privacy.html", context! { title => "Privacy notice" }) }),
        )
        .fallback(|| async {
            page(StatusCode::NOT_FOUND, "pages/not_found.html", context! { title => "Page not found" })
        })
}
