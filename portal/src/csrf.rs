//! Cross-site request forgery: every form that changes something carries the session's token in a hidden
//! `csrf_token` field, compared in constant time. `SameSite=Lax` already keeps the cookie off other sites'
//! posts; the token is the defence that does not depend on the browser.

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use minijinja::context;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use crate::render::page;

const KEY: &str = "csrf_token";

/// The session's token, made on first use.
pub async fn token(session: &Session) -> Result<String, Response> {
    if let Some(token) = session.get::<String>(KEY).await.map_err(|_| crate::render::service_problem())? {
        return Ok(token);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    let token = URL_SAFE_NO_PAD.encode(bytes);
    session.insert(KEY, &token).await.map_err(|_| crate::render::service_problem())?;
    Ok(token)
}

/// Checks a form's token; on a missing or wrong one, the page that says what to do.
pub async fn check(session: &Session, presented: Option<&str>) -> Result<(), Response> {
    let expected = session.get::<String>(KEY).await.map_err(|_| crate::render::service_problem())?;
    match (expected, presented) {
        (Some(expected), Some(presented)) if bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) => Ok(()),
        _ => Err(page(StatusCode::FORBIDDEN, "pages/form_expired.html", context! { title => "This form has expired" })),
    }
}
