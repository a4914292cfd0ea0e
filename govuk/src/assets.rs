//! The stylesheet, scripts and icon pages load, embedded in the binary and served from `/assets`. `start.mjs`
//! starts GOV.UK Frontend's components, loaded as a module since no page has an inline script.

use axum::Router;
use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets");

/// Where the assets are served.
pub const PATH: &str = "/assets";

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/assets/{*file}", get(asset))
}

async fn asset(Path(file): Path<String>) -> Response {
    let Some(found) = ASSETS.get_file(&file) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "Not found")
            .into_response();
    };
    let content_type = match file.rsplit_once('.').map(|(_, extension)| extension) {
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    // Names are not fingerprinted, so browsers keep them for an hour and then check again.
    ([(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "public, max-age=3600")], found.contents())
        .into_response()
}
