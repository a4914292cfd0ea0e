//! "Forgot your password?": a person asks for a link by email, and the link (single use, one hour) lets them
//! choose a new password, which ends every sign-in they had. The answer to asking is the same whether or not
//! an account has that email, and takes the same time (the work is done after answering), so nobody can find
//! out who has an account. Two doors to the same rules: JSON operations for software that shows its own screens
//! (`/v1/password-resets`, in the SDK), and pages for people in the sign-in page's markup
//! (`/v1/oauth/password-reset`, linked from the sign-in page, which they return to afterwards).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use minijinja::context;
use provider_api_core::accounts::{PasswordReset, normalise_email};
use provider_api_core::field_error::FieldError;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

use super::{pages, password, secret};
use crate::http::{Problem, Query, ValidatedJson};
use crate::mail::Mail;
use crate::openapi::tags;
use crate::state::AppState;

/// How long a link works.
const LINK_LIFETIME: time::Duration = time::Duration::hours(1);
/// Where the emailed link leads.
const NEW_PASSWORD_PATH: &str = "/v1/oauth/password-reset/new";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(request_password_reset))
        .routes(routes!(reset_password))
        .routes(routes!(show_password_reset_page, submit_password_reset_page))
        .routes(routes!(show_new_password_page, submit_new_password_page))
}

/// Where to go back to afterwards: the sign-in page the person came from, and nothing else.
fn sign_in_page(candidate: Option<&str>) -> Option<String> {
    candidate
        .filter(|path| path.starts_with("/v1/oauth/authorize?") && !path.contains(['\r', '\n', '#']))
        .map(str::to_owned)
}

fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReturnTo {
    /// The sign-in page (`/v1/oauth/authorize?…`) to return to afterwards.
    pub return_to: Option<String>,
}

/// Show the "forgot your password?" page
///
/// A page for people (HTML): asks for the email address to send a reset link to.
#[utoipa::path(
    get,
    path = "/v1/oauth/password-reset",
    tag = tags::OAUTH,
    operation_id = "show_password_reset_page",
    params(ReturnTo),
    responses((status = 200, description = "The page", content_type = "text/html", body = String)),
    security(()),
)]
async fn show_password_reset_page(Query(query): Query<ReturnTo>) -> Response {
    request_page(StatusCode::OK, "", sign_in_page(query.return_to.as_deref()), None)
}

fn request_page(status: StatusCode, email: &str, return_to: Option<String>, error: Option<&str>) -> Response {
    pages::page(
        status,
        "password_reset.html",
        context! { title => "Reset your password", email, return_to, error, error_field => "email" },
        "",
    )
}

/// Asking for a reset link.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"email": "sam.carter@riverside.example"})))]
pub struct PasswordResetRequest {
    /// The account's email address.
    #[validate(length(min = 3, max = 320))]
    #[schema(min_length = 3, max_length = 320)]
    pub email: String,
}

/// Ask for a password reset link
///
/// Emails a link to choose a new password (single use, valid one hour, leading to this service's page for it)
/// to the account with this address, if there is one. The answer is 202 either way, and takes the same time,
/// so it says nothing about who has an account. Repeated requests for one account send a few emails, then
/// wait. Staff accounts are not reset this way.
#[utoipa::path(
    post,
    path = "/v1/password-resets",
    tag = tags::OAUTH,
    operation_id = "request_password_reset",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If there is such an account, a link is on its way"),
        (status = 422, description = "The email address is missing or is not one"),
    ),
    security(()),
)]
async fn request_password_reset(
    State(state): State<AppState>,
    ValidatedJson(request): ValidatedJson<PasswordResetRequest>,
) -> Result<StatusCode, Problem> {
    let email = checked_email(&request.email)
        .map_err(|message| Problem::validation(vec![FieldError::new("/email", "email_format", message)]))?;
    tokio::spawn(send_link(state, email, None));
    Ok(StatusCode::ACCEPTED)
}

/// The page's form.
#[derive(Default, Deserialize, ToSchema)]
#[schema(examples(json!({"email": "sam.carter@riverside.example", "return_to": "/v1/oauth/authorize?response_type=code&client_id=0193a5b2-7c1e-7000-8000-0000000000c1"})))]
pub struct PasswordResetForm {
    /// The account's email address.
    pub email: Option<String>,
    /// The sign-in page (`/v1/oauth/authorize?…`) to return to afterwards.
    pub return_to: Option<String>,
}

/// Answer the "forgot your password?" page
///
/// The page's form, for people: as `POST /v1/password-resets`, answered with a "check your email" page (202),
/// or the page again with the error (422).
#[utoipa::path(
    post,
    path = "/v1/oauth/password-reset",
    tag = tags::OAUTH,
    operation_id = "submit_password_reset_page",
    request_body(content = PasswordResetForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 202, description = "Check your email", content_type = "text/html", body = String),
        (status = 422, description = "The email address is missing or is not one: the page again for a browser, a problem otherwise",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
    ),
    security(()),
)]
async fn submit_password_reset_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let form: PasswordResetForm = serde_urlencoded::from_bytes(&body).map_err(malformed)?;
    let return_to = sign_in_page(form.return_to.as_deref());
    let typed = form.email.unwrap_or_default();
    let email = match checked_email(&typed) {
        Ok(email) => email,
        Err(message) if wants_html(&headers) => {
            return Ok(request_page(StatusCode::UNPROCESSABLE_ENTITY, &typed, return_to, Some(message)));
        }
        Err(message) => return Err(Problem::validation(vec![FieldError::new("/email", "email_format", message)])),
    };
    tokio::spawn(send_link(state, email.clone(), return_to));
    Ok(pages::page(
        StatusCode::ACCEPTED,
        "password_reset_sent.html",
        context! { title => "Check your email", email },
        "",
    ))
}

fn malformed(error: serde_urlencoded::de::Error) -> Problem {
    Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "The form is malformed", error.to_string())
}

/// The address as given (trimmed), or why it is not one.
fn checked_email(email: &str) -> Result<String, &'static str> {
    let email = email.trim();
    if looks_like_email(email) {
        Ok(email.to_owned())
    } else {
        Err("Enter an email address in the correct format, like name@example.com")
    }
}

fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !email.contains(char::is_whitespace)
}

async fn send_link(state: AppState, email: String, return_to: Option<String>) {
    let key = normalise_email(&email);
    // A few emails an account, then a doubling wait: nobody can flood someone's inbox through this.
    let throttle = &state.sign_in.reset_emails;
    if throttle.attempt(&key).await.is_err() {
        tracing::info!("a password reset email was not sent: too many asked for this account lately");
        return;
    }
    let user = match state.store.user_by_email(&key).await {
        Ok(Some(user)) if !user.disabled && user.staff_roles.0.is_empty() => user,
        Ok(_) => return,
        Err(error) => {
            tracing::error!(%error, "could not look up an account for a password reset");
            return;
        }
    };
    let token = secret::generate(secret::prefix::PASSWORD_RESET);
    let now = state.clock.now();
    let reset = PasswordReset {
        token_hash: secret::hash(&token),
        user_id: user.id,
        return_to,
        created_at: now,
        expires_at: now + LINK_LIFETIME,
        used_at: None,
    };
    if let Err(error) = state.store.create_password_reset(&reset).await {
        tracing::error!(%error, "could not record a password reset");
        return;
    }
    let query = serde_urlencoded::to_string([("token", token.as_str())]).expect("a string encodes");
    let mail = Mail {
        to: user.email.clone(),
        subject: "Reset your password for the Care Quality Commission's provider service".into(),
        body: format!(
            "Someone asked to reset the password of your account on the Care Quality Commission's provider \
             service.\n\nTo choose a new password, open this link within 1 hour:\n\n{}{NEW_PASSWORD_PATH}?{query}\n\n\
             The link works once. Choosing a new password signs you out everywhere.\n\nIf you did not ask, you \
             can ignore this email: your password has not changed.\n",
            state.public_base_url
        ),
    };
    if let Err(error) = state.mailer.send(mail).await {
        tracing::error!(%error, "could not send a password reset email");
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResetLink {
    /// The secret from the emailed link.
    pub token: Option<String>,
}

/// Show the "choose a new password" page
///
/// Where the emailed link leads (HTML). A link that is unknown, used or expired gets 400 and a page that says
/// to ask for another.
#[utoipa::path(
    get,
    path = "/v1/oauth/password-reset/new",
    tag = tags::OAUTH,
    operation_id = "show_new_password_page",
    params(ResetLink),
    responses(
        (status = 200, description = "The page", content_type = "text/html", body = String),
        (status = 400, description = "The link is unknown, used or expired: a page for a browser, a problem otherwise",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
    ),
    security(()),
)]
async fn show_new_password_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(link): Query<ResetLink>,
) -> Result<Response, Problem> {
    let token = link.token.unwrap_or_default();
    let usable = match token.starts_with(secret::prefix::PASSWORD_RESET) {
        true => state.store.password_reset(&secret::hash(&token)).await?.filter(|r| r.usable(state.clock.now())),
        false => None,
    };
    if usable.is_none() {
        if wants_html(&headers) {
            return Ok(link_expired_page());
        }
        return Err(Problem::new(StatusCode::BAD_REQUEST, "invalid_token", "The link cannot be used", LINK_EXPIRED));
    }
    Ok(new_password_page(StatusCode::OK, &token, None))
}

fn new_password_page(status: StatusCode, token: &str, error: Option<&str>) -> Response {
    pages::page(
        status,
        "new_password.html",
        context! { title => "Choose a new password", token, error, error_field => "password" },
        "",
    )
}

const LINK_EXPIRED: &str = "This link has expired or has already been used.";

/// For software, as an invitation's code that cannot be used is: the token field is wrong.
fn link_expired() -> Problem {
    Problem::validation(vec![FieldError::new(
        "/token",
        "invalid_token",
        format!("{LINK_EXPIRED} Each link works once, for 1 hour: ask for a new one."),
    )])
}

fn link_expired_page() -> Response {
    pages::page(
        StatusCode::BAD_REQUEST,
        "password_reset_expired.html",
        context! { title => "This link has expired", message => LINK_EXPIRED },
        "",
    )
}

/// Choosing a new password.
#[derive(Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"token": "paw_placeholder-from-the-emailed-link", "password": "correct horse battery staple"})))]
pub struct NewPassword {
    /// The secret from the emailed link (`paw_…`).
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub token: String,
    /// At least 12 characters.
    #[validate(length(min = 1, max = 1024))]
    #[schema(min_length = 1, max_length = 1024)]
    pub password: String,
}

provider_api_core::debug_redacting!(NewPassword { shown: [], redacted: [token, password] });

/// Why a new password was not set.
enum Refusal {
    Password(&'static str),
    Link,
}

/// Spends the link: checks the password first, so a refused one leaves the link usable.
async fn complete(
    state: &AppState,
    token: &str,
    new_password: &str,
) -> Result<PasswordReset, Result<Refusal, Problem>> {
    password::check_new(new_password).map_err(|why| Ok(Refusal::Password(why)))?;
    if !token.starts_with(secret::prefix::PASSWORD_RESET) {
        return Err(Ok(Refusal::Link));
    }
    // The link is looked up before the (deliberately slow) password hash, so made-up links cost a query, not a
    // hash each. Spending it below still decides, atomically, whether it is used.
    let token_hash = secret::hash(token);
    let now = state.clock.now();
    match state.store.password_reset(&token_hash).await {
        Ok(Some(reset)) if reset.used_at.is_none() && reset.expires_at > now => {}
        Ok(_) => return Err(Ok(Refusal::Link)),
        Err(error) => return Err(Err(error.into())),
    }
    let hashed = password::hash_off_the_workers(new_password).await;
    match state.store.reset_password(&token_hash, &hashed, now).await {
        Ok(Some(reset)) => Ok(reset),
        Ok(None) => Err(Ok(Refusal::Link)),
        Err(error) => Err(Err(error.into())),
    }
}

fn record(slot: &Option<axum::Extension<crate::audit::AuditSlot>>, reset: &PasswordReset) {
    if let Some(axum::Extension(slot)) = slot {
        slot.set(Some(reset.user_id), None);
    }
}

/// Choose a new password
///
/// Spends an emailed link: sets the password and ends every sign-in the person had (their refresh tokens are
/// revoked). 204; otherwise 422 with a per-field error: `/password` too short or too long (the link is not
/// spent), or `/token` `invalid_token` for a link that is unknown, used or expired.
#[utoipa::path(
    post,
    path = "/v1/password-resets/complete",
    tag = tags::OAUTH,
    operation_id = "reset_password",
    request_body = NewPassword,
    responses(
        (status = 204, description = "The password is changed; every sign-in has ended"),
        (status = 422, description = "The password is too short or too long, or the link is unknown, used or expired"),
    ),
    security(()),
)]
async fn reset_password(
    State(state): State<AppState>,
    slot: Option<axum::Extension<crate::audit::AuditSlot>>,
    ValidatedJson(new): ValidatedJson<NewPassword>,
) -> Result<StatusCode, Problem> {
    match complete(&state, new.token.trim(), &new.password).await {
        Ok(reset) => {
            record(&slot, &reset);
            Ok(StatusCode::NO_CONTENT)
        }
        Err(Ok(Refusal::Password(why))) => {
            Err(Problem::validation(vec![FieldError::new("/password", "password_length", why)]))
        }
        Err(Ok(Refusal::Link)) => Err(link_expired()),
        Err(Err(problem)) => Err(problem),
    }
}

/// The page's form.
#[derive(Default, Deserialize, ToSchema)]
#[schema(examples(json!({"token": "paw_placeholder-from-the-emailed-link", "password": "correct horse battery staple"})))]
pub struct NewPasswordForm {
    pub token: Option<String>,
    pub password: Option<String>,
}

provider_api_core::debug_redacting!(NewPasswordForm { shown: [], redacted: [token, password] });

/// Answer the "choose a new password" page
///
/// The page's form, for people: as `POST /v1/password-resets/complete`, answered with a "password changed"
/// page and a way back to the sign-in page they came from (200), the page again with the error (422), or a
/// page saying the link has expired (400). Anything but a browser gets that operation's problems.
#[utoipa::path(
    post,
    path = "/v1/oauth/password-reset/new",
    tag = tags::OAUTH,
    operation_id = "submit_new_password_page",
    request_body(content = NewPasswordForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Your password has been changed", content_type = "text/html", body = String),
        (status = 400, description = "The link is unknown, used or expired: a page for a browser; a malformed form: a problem",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
        (status = 422, description = "The password is too short or too long (the page again for a browser), or for anything but a browser the link cannot be used",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
    ),
    security(()),
)]
async fn submit_new_password_page(
    State(state): State<AppState>,
    slot: Option<axum::Extension<crate::audit::AuditSlot>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let form: NewPasswordForm = serde_urlencoded::from_bytes(&body).map_err(malformed)?;
    let html = wants_html(&headers);
    let token = form.token.unwrap_or_default();
    match complete(&state, token.trim(), &form.password.unwrap_or_default()).await {
        Ok(reset) => {
            record(&slot, &reset);
            Ok(pages::page(
                StatusCode::OK,
                "password_changed.html",
                context! { title => "Your password has been changed", return_to => reset.return_to },
                "",
            ))
        }
        Err(Ok(Refusal::Password(why))) if html => {
            Ok(new_password_page(StatusCode::UNPROCESSABLE_ENTITY, &token, Some(why)))
        }
        Err(Ok(Refusal::Password(why))) => {
            Err(Problem::validation(vec![FieldError::new("/password", "password_length", why)]))
        }
        Err(Ok(Refusal::Link)) if html => Ok(link_expired_page()),
        Err(Ok(Refusal::Link)) => Err(link_expired()),
        Err(Err(problem)) => Err(problem),
    }
}
