//! What someone typed into a form the portal could not take, kept so the page shows it again instead of losing
//! it: when their session ended while they were typing (they sign in and are brought back to it), or when the
//! form's token no longer matched the session (signed in again in another tab). Kept in the session for one
//! page, shown once, never saved until they send the page again.
//!
//! Only a request that presented the session cookie keeps anything. `SameSite=Lax` keeps the cookie off other
//! sites' posts, so another site cannot plant answers in someone's form this way.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use tower_sessions::Session;

use crate::render::{page, service_problem};

const KEY: &str = "kept_form";

#[derive(Serialize, Deserialize)]
struct Kept {
    path: String,
    fields: Vec<(String, String)>,
}

/// Whether the browser sent the portal's session cookie (under either of its names).
fn came_with_session_cookie(headers: &HeaderMap) -> bool {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).any(|pair| {
        let name = pair.trim().split('=').next().unwrap_or_default();
        name == crate::SESSION_COOKIE || name.strip_prefix("__Host-") == Some(crate::SESSION_COOKIE)
    })
}

async fn keep(session: &Session, headers: &HeaderMap, path: &str, fields: &[(String, String)]) -> Result<(), Response> {
    if !came_with_session_cookie(headers) {
        return Ok(());
    }
    let fields = fields.iter().filter(|(name, _)| name != "csrf_token").cloned().collect();
    session.insert(KEY, Kept { path: path.to_owned(), fields }).await.map_err(|_| service_problem())
}

/// The session has ended: keep what was typed for the page at `path`, and sign in to come back to it.
pub async fn sign_in_again(
    session: &Session,
    headers: &HeaderMap,
    path: &str,
    fields: &[(String, String)],
) -> Response {
    if let Err(response) = keep(session, headers, path, fields).await {
        return response;
    }
    let query = serde_urlencoded::to_string([("return_to", path)]).unwrap_or_default();
    Redirect::to(&format!("/sign-in?{query}")).into_response()
}

/// The form's token did not match: keep what was typed for the page at `path`, and say how to get back to it.
pub async fn form_expired(session: &Session, headers: &HeaderMap, path: &str, fields: &[(String, String)]) -> Response {
    if let Err(response) = keep(session, headers, path, fields).await {
        return response;
    }
    page(
        StatusCode::FORBIDDEN,
        "pages/form_expired.html",
        context! { title => "This form has expired", back => path, kept => came_with_session_cookie(headers) },
    )
}

/// What was kept for the page at `path`, once: the next visit shows the page as it is saved.
pub async fn take(session: &Session, path: &str) -> Option<Vec<(String, String)>> {
    let kept: Kept = session.get(KEY).await.ok().flatten()?;
    if kept.path != path {
        return None;
    }
    let _ = session.remove::<Kept>(KEY).await;
    Some(kept.fields)
}

/// Time ran out on a page (its warning's script sends the page's form here): keep what was typed, and come back
/// to the page, signing in again first if the session has ended. Nothing is saved or sent.
pub async fn resume(
    session: Session,
    headers: HeaderMap,
    signed_in: Result<crate::signed_in::SignedIn, Response>,
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let back = pairs.iter().find(|(name, _)| name == "return_to").map(|(_, v)| v.as_str());
    let back = crate::sign_in::local_path(back);
    let fields: Vec<_> = pairs.into_iter().filter(|(name, _)| name != "return_to").collect();
    if signed_in.is_err() {
        return sign_in_again(&session, &headers, &back, &fields).await;
    }
    if let Err(response) = keep(&session, &headers, &back, &fields).await {
        return response;
    }
    Redirect::to(&back).into_response()
}

/// Answers the warning's "Stay signed in": the request itself extends the session.
pub async fn keep_alive(_signed_in: crate::signed_in::SignedIn) -> StatusCode {
    StatusCode::NO_CONTENT
}
