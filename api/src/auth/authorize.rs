//! The authorization endpoint (RFC 6749 §4.1 with PKCE, RFC 7636): a server-rendered sign-in and consent page
//! that works without JavaScript, then a redirect back to the application with a single-use code.
//!
//! Until the application and its redirect URI are known to be genuine, errors are shown here (as a page to a
//! browser, as a problem to anything else) and never redirected; after that, they go back to the application
//! as `error=` parameters, as RFC 6749 §4.1.2.1 requires.

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use provider_api_core::accounts::{AuthorizationCode, IntegratorApp, User, normalise_email};
use provider_api_core::capability::{Capability, parse_list};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use minijinja::context;

use super::two_factor::{self, Pending, Stage};
use super::{device, pages, secret, sign_in};
use crate::http::client_address::ClientAddress;
use crate::http::{Problem, Query};
use crate::openapi::tags;
use crate::state::AppState;

/// How long a code may wait to be exchanged.
const CODE_LIFETIME: time::Duration = time::Duration::minutes(2);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(show_authorization_page, submit_authorization_page))
}

/// The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3).
#[derive(Debug, Clone, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct AuthorizationRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The integrator application's id.
    pub client_id: Option<String>,
    /// One of the application's registered redirect URIs, exactly.
    pub redirect_uri: Option<String>,
    /// Space-separated scopes; by default all the application may ask for.
    pub scope: Option<String>,
    /// Returned unchanged with the code; the application uses it to defend against CSRF.
    pub state: Option<String>,
    /// BASE64URL(SHA-256(code_verifier)), 43 characters. Required.
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
}

/// The sign-in form as the page posts it: the authorization request again, and the person's answer.
#[derive(Default, Deserialize, ToSchema)]
#[schema(examples(json!({"response_type": "code", "client_id": "0193a5b2-7c1e-7000-8000-0000000000c1", "redirect_uri": "https://app.carenotes.example/oauth/callback", "scope": "notifications:read notifications:write", "state": "af0ifjsldkj", "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "code_challenge_method": "S256", "email": "sam.carter@riverside.example", "password": "correct horse battery staple", "decision": "allow"})))]
pub struct SignInForm {
    #[serde(flatten)]
    pub request: AuthorizationRequest,
    pub email: Option<String>,
    pub password: Option<String>,
    /// `allow` or `deny`.
    pub decision: Option<String>,
    /// After the password, the page the form comes from: `verify` (a code), `enrol` (setting up an
    /// authenticator) or `recovery_codes_saved` (the recovery codes have been seen).
    pub step: Option<String>,
    /// The pending sign-in the second-factor pages carry (signed by the server).
    pub pending: Option<String>,
    /// The code from the authenticator app, or a recovery code.
    pub code: Option<String>,
}

provider_api_core::debug_redacting!(SignInForm {
    shown: [request, email, decision, step],
    redacted: [password, pending, code]
});

/// A request whose application and redirect URI have been checked.
struct Checked {
    app: IntegratorApp,
    redirect_uri: String,
    state: Option<String>,
    scopes: BTreeSet<Capability>,
    code_challenge: String,
    request: AuthorizationRequest,
}

/// Show the sign-in and consent page
///
/// Where an integrator application sends a person to sign in and allow it to act for them (OAuth 2.0
/// authorization code flow; PKCE with S256 is required). A page for people, not an API: it answers HTML to
/// browsers. Problems with the application or redirect URI are shown here; every other problem is sent back
/// to the redirect URI as an `error` parameter.
#[utoipa::path(
    get,
    path = "/v1/oauth/authorize",
    tag = tags::OAUTH,
    operation_id = "show_authorization_page",
    params(AuthorizationRequest),
    responses(
        (status = 200, description = "The sign-in and consent page", content_type = "text/html", body = String),
        (status = 303, description = "Back to the application with an `error` (and `state`)"),
        (status = 400, description = "Unknown application or redirect URI: a page for a browser, a problem otherwise",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
    ),
    security(()),
)]
async fn show_authorization_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(request): Query<AuthorizationRequest>,
) -> Response {
    match check(&state, request).await {
        Ok(Outcome::Show(checked)) => page(StatusCode::OK, &checked, None, ""),
        Ok(Outcome::Redirect(redirect)) => redirect,
        Ok(Outcome::Refuse(why)) => refuse(why, &headers),
        Err(problem) => problem.into_response(),
    }
}

/// Sign in and answer the consent page
///
/// The page's form. On a correct email and password and `decision=allow`, redirects (303) to the
/// application with a single-use `code` (valid two minutes) and its `state`; on `deny`, with
/// `error=access_denied`. A wrong email or password shows the page again with a message that does not say
/// which was wrong; repeated failures, per account and per address, must wait before trying again. An account
/// with a second factor (or that must have one: staff, and admins and submitters of organisations that
/// require it) is answered with the page for its code, or for setting one up, and the form then continues with
/// `step`, `pending` and `code` (a browser's journey; software gets 401 `second_factor_required`).
#[utoipa::path(
    post,
    path = "/v1/oauth/authorize",
    tag = tags::OAUTH,
    operation_id = "submit_authorization_page",
    request_body(content = SignInForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "The password was right and the account signs in with a second factor: the page for the code (or for setting up an authenticator app, or the recovery codes, shown once)",
            content((String = "text/html"))),
        (status = 303, description = "Back to the application with a `code`, or an `error`"),
        (status = 400, description = "Unknown application or redirect URI: a page for a browser, a problem otherwise",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
        (status = 401, description = "The email or password is wrong: the page again for a browser, a problem otherwise",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
        (status = 429, description = "Too many failed attempts, with `Retry-After`: the page again for a browser, a problem otherwise",
            content((crate::http::problem::ProblemDetails = "application/problem+json"), (String = "text/html"))),
    ),
    security(()),
)]
async fn submit_authorization_page(
    State(state): State<AppState>,
    ClientAddress(peer): ClientAddress,
    slot: Option<axum::Extension<crate::audit::AuditSlot>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Problem> {
    let form: SignInForm = serde_urlencoded::from_bytes(&body).map_err(|e| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "The form is malformed", e.to_string())
    })?;
    let checked = match check(&state, form.request).await? {
        Outcome::Show(checked) => checked,
        Outcome::Redirect(redirect) => return Ok(redirect),
        Outcome::Refuse(why) => return Ok(refuse(why, &headers)),
    };
    // The audit trail records the application signed in through, and on success who signed in.
    let record = |user: Option<uuid::Uuid>| {
        if let Some(axum::Extension(slot)) = &slot {
            slot.set(user, Some(checked.app.id));
        }
    };
    record(None);
    if form.decision.as_deref() != Some("allow") {
        return Ok(back(
            &state.tokens.issuer,
            &checked.redirect_uri,
            &[("error", "access_denied")],
            checked.state.as_deref(),
        ));
    }

    let email = form.email.clone().unwrap_or_default();
    let (user, device) = match form.step.as_deref() {
        None => {
            let presented = form.password.clone().unwrap_or_default();
            let (user, device) =
                match sign_in::check(&state, &headers, peer, &normalise_email(&email), &presented).await? {
                    sign_in::Checked::Right { user, device } => (user, device),
                    sign_in::Checked::Wait(wait) => return Ok(too_many(&headers, &checked, wait, &email)),
                    sign_in::Checked::Wrong => {
                        let message = "The email address or password is wrong.";
                        if !wants_html(&headers) {
                            return Err(Problem::new(
                                StatusCode::UNAUTHORIZED,
                                "invalid_credentials",
                                "Sign-in failed",
                                message,
                            ));
                        }
                        return Ok(page(StatusCode::UNAUTHORIZED, &checked, Some(message), &email));
                    }
                };
            // The password was right: a second factor, when the person has one or must.
            let enrolled = state.store.authenticator(user.id).await?.is_some_and(|a| a.confirmed_at.is_some());
            let stage = if enrolled {
                Some(Stage::Verify)
            } else if two_factor::required(&state, &user).await? {
                Some(Stage::Enrol)
            } else {
                None
            };
            if let Some(stage) = stage {
                record(Some(user.id));
                if !wants_html(&headers) {
                    return Err(Problem::new(
                        StatusCode::UNAUTHORIZED,
                        "second_factor_required",
                        "A second factor is needed",
                        "This account signs in with a code from an authenticator app: sign in in a browser.",
                    ));
                }
                if stage == Stage::Enrol {
                    // A key being set up in the last 15 minutes is shown again (another tab, a retry), so
                    // whichever page is answered, the key confirmed is the one in the person's app.
                    let now = state.clock.now();
                    let kept_since = now - two_factor::PENDING_FOR;
                    state.store.start_authenticator(user.id, &two_factor::new_secret(), now, kept_since).await?;
                }
                let pending = Pending::new(&state, user.id, request_digest(&checked), stage, device);
                return second_factor_page(&state, StatusCode::OK, &checked, &user, &pending, None, None).await;
            }
            (user, device)
        }
        Some(step) => {
            let stage = match step {
                "verify" => Stage::Verify,
                "enrol" => Stage::Enrol,
                "recovery_codes_saved" => Stage::RecoveryCodes,
                _ => return Ok(refuse("The sign-in form is not one of this service's.", &headers)),
            };
            let pending = match Pending::read(
                &state,
                form.pending.as_deref().unwrap_or_default(),
                stage,
                &request_digest(&checked),
            )
            .await
            {
                Some(pending) => pending,
                None => return Ok(expired(&headers)),
            };
            let user = match state.store.user(pending.sub).await?.filter(|u| !u.disabled) {
                Some(user) => user,
                None => return Ok(expired(&headers)),
            };
            record(Some(user.id));
            let code = form.code.clone().unwrap_or_default();
            match stage {
                Stage::Verify => {
                    let throttle = &state.sign_in.second_factor;
                    let key = user.id.to_string();
                    if let Err(wait) = throttle.attempt(&key).await {
                        let message =
                            format!("Too many wrong codes. Wait {} seconds, then try again.", wait.as_secs().max(1));
                        let mut response = second_factor_page(
                            &state,
                            StatusCode::TOO_MANY_REQUESTS,
                            &checked,
                            &user,
                            &pending,
                            Some(&message),
                            None,
                        )
                        .await?;
                        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait.as_secs().max(1)));
                        return Ok(response);
                    }
                    if !second_factor_is_right(&state, &user, checked.app.id, &code).await? {
                        let message = "The code is wrong, or has been used. Enter the code your authenticator app \
                                       shows now, or one of your recovery codes.";
                        return wrong_code(&state, &checked, &user, &pending, message).await;
                    }
                    throttle.clear(&key).await;
                    (user, pending.device)
                }
                Stage::Enrol => {
                    let setting_up = state.store.authenticator(user.id).await?.filter(|a| a.confirmed_at.is_none());
                    let Some(setting_up) = setting_up else { return Ok(expired(&headers)) };
                    let Some(step) = two_factor::matching_step(&setting_up.secret, &code, state.clock.now()) else {
                        let message = "The code is wrong. Enter the 6-digit code your authenticator app shows now.";
                        return wrong_code(&state, &checked, &user, &pending, message).await;
                    };
                    let (codes, hashes) = two_factor::new_recovery_codes();
                    let confirmed = state
                        .store
                        .confirm_authenticator(user.id, &setting_up.secret, step, &hashes, state.clock.now())
                        .await?;
                    if !confirmed {
                        return Ok(expired(&headers));
                    }
                    audit_event(&state, user.id, checked.app.id, "two_factor_enrolled").await;
                    let next =
                        Pending::new(&state, user.id, request_digest(&checked), Stage::RecoveryCodes, pending.device);
                    return second_factor_page(&state, StatusCode::OK, &checked, &user, &next, None, Some(&codes))
                        .await;
                }
                Stage::RecoveryCodes => (user, pending.device),
            }
        }
    };
    record(Some(user.id));

    let code = secret::generate(secret::prefix::AUTHORIZATION_CODE);
    state
        .store
        .create_authorization_code(&AuthorizationCode {
            code_hash: secret::hash(&code),
            app_id: checked.app.id,
            user_id: user.id,
            redirect_uri: checked.redirect_uri.clone(),
            code_challenge: checked.code_challenge.clone(),
            scopes: checked.scopes.iter().copied().collect(),
            family_id: Uuid::new_v4(),
            expires_at: state.clock.now() + CODE_LIFETIME,
            used_at: None,
        })
        .await?;
    let mut response = back(&state.tokens.issuer, &checked.redirect_uri, &[("code", &code)], checked.state.as_deref());
    response.headers_mut().append(header::SET_COOKIE, device::remember(&state, user.id, device));
    Ok(response)
}

/// 429 with `Retry-After`: the sign-in page again for a browser, a problem otherwise.
fn too_many(headers: &HeaderMap, checked: &Checked, wait: std::time::Duration, email: &str) -> Response {
    let seconds = wait.as_secs().max(1);
    let message = format!("Too many failed attempts. Wait {seconds} seconds, then try again.");
    let mut response = if wants_html(headers) {
        page(StatusCode::TOO_MANY_REQUESTS, checked, Some(&message), email)
    } else {
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "too_many_attempts", "Too many failed sign-ins", message)
            .into_response()
    };
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// A second-factor page whose sign-in has lapsed (or was never ours): start again.
fn expired(headers: &HeaderMap) -> Response {
    if wants_html(headers) {
        return pages::problem_page(
            StatusCode::BAD_REQUEST,
            "Your sign-in has timed out",
            "More than 15 minutes passed since you gave your password, or the page was not this service's.",
            "Go back to the application you came from and sign in again.",
        );
    }
    Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "The sign-in has lapsed", "Sign in again.").into_response()
}

/// Whether `code` is a current code from the person's authenticator (not used before) or one of their unused
/// recovery codes, which it then spends.
async fn second_factor_is_right(state: &AppState, user: &User, app: Uuid, code: &str) -> Result<bool, Problem> {
    let Some(authenticator) = state.store.authenticator(user.id).await?.filter(|a| a.confirmed_at.is_some()) else {
        return Ok(false);
    };
    if let Some(step) = two_factor::matching_step(&authenticator.secret, code, state.clock.now()) {
        return Ok(state.store.use_step(user.id, step).await?);
    }
    let used = state.store.use_recovery_code(user.id, &two_factor::recovery_code_hash(code), state.clock.now()).await?;
    if used {
        audit_event(state, user.id, app, "recovery_code_used").await;
    }
    Ok(used)
}

/// An entry in the audit trail for something the sign-in pages did besides signing in.
async fn audit_event(state: &AppState, user: Uuid, app: Uuid, action: &str) {
    let entry = provider_api_core::audit::NewEntry {
        actor_user: Some(user),
        actor_client: Some(app),
        status: 200,
        ..provider_api_core::audit::NewEntry::at(state.clock.now(), action, "POST", "/v1/oauth/authorize")
    };
    if let Err(error) = state.audit.append(entry).await {
        tracing::error!(%error, action, "could not write an audit entry of a sign-in step");
    }
}

/// The same page again, saying the code was wrong (401).
async fn wrong_code(
    state: &AppState,
    checked: &Checked,
    user: &User,
    pending: &Pending,
    message: &str,
) -> Result<Response, Problem> {
    second_factor_page(state, StatusCode::UNAUTHORIZED, checked, user, pending, Some(message), None).await
}

/// The page after the password: entering a code (`Verify`), setting up an authenticator (`Enrol`), or the
/// recovery codes, shown once (`RecoveryCodes`, with `codes`).
async fn second_factor_page(
    state: &AppState,
    status: StatusCode,
    checked: &Checked,
    user: &User,
    pending: &Pending,
    error: Option<&str>,
    codes: Option<&[String]>,
) -> Result<Response, Problem> {
    let hidden = hidden_fields(checked);
    let pending_token = pending.sign(state);
    let form_action = format!(" {}", origin(&checked.redirect_uri));
    let app = &checked.app.name;
    let rendered = match pending.stage {
        Stage::Verify => pages::page(
            status,
            "two_factor_verify.html",
            context! { title => "Enter your security code", app, hidden, pending => pending_token, error, error_field => "code" },
            form_action.trim_end(),
        ),
        Stage::Enrol => {
            let setting_up = state.store.authenticator(user.id).await?.filter(|a| a.confirmed_at.is_none());
            let Some(setting_up) = setting_up else { return Ok(expired(&HeaderMap::new())) };
            let qr = two_factor::qr_code(&setting_up.secret, &user.email);
            let key = two_factor::secret_for_people(&setting_up.secret);
            pages::page(
                status,
                "two_factor_enrol.html",
                context! {
                    title => "Set up two-factor authentication", app, hidden, pending => pending_token, error,
                    error_field => "code", qr, key, account => user.email.clone(), issuer => "Care Quality Commission"
                },
                form_action.trim_end(),
            )
        }
        Stage::RecoveryCodes => pages::page(
            status,
            "recovery_codes.html",
            context! { title => "Save your recovery codes", app, hidden, pending => pending_token, codes => codes.unwrap_or_default() },
            form_action.trim_end(),
        ),
    };
    Ok(rendered)
}

/// What to do with an authorization request.
enum Outcome {
    /// Show the page.
    Show(Box<Checked>),
    /// Send an error back to the (genuine) application.
    Redirect(Response),
    /// Refuse here: the application or redirect URI cannot be trusted with the answer.
    Refuse(&'static str),
}

/// A refusal, as a page for a browser and as a problem for anything else.
/// Browsers ask for HTML; anything else gets problem details, like every other error of the API.
fn wants_html(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"))
}

fn refuse(why: &'static str, headers: &HeaderMap) -> Response {
    if wants_html(headers) {
        return pages::problem_page(
            StatusCode::BAD_REQUEST,
            "There is a problem with this sign-in link",
            why,
            "Go back to the application you came from and try again. If the problem continues, contact the \
             application's supplier.",
        );
    }
    Problem::new(StatusCode::BAD_REQUEST, "invalid_request", "The authorization request is invalid", why)
        .into_response()
}

async fn check(state: &AppState, request: AuthorizationRequest) -> Result<Outcome, Problem> {
    let app = match request.client_id.as_deref().and_then(|id| id.parse::<Uuid>().ok()) {
        Some(id) => state.store.integrator_app(id).await?.filter(|app| app.revoked_at.is_none()),
        None => None,
    };
    let Some(app) = app else {
        return Ok(Outcome::Refuse("The application is not registered with the Care Quality Commission."));
    };
    let Some(redirect_uri) = request.redirect_uri.clone().filter(|uri| app.redirect_uris().any(|r| r == uri)) else {
        return Ok(Outcome::Refuse("The application asked to return to an address it has not registered."));
    };
    let state_param = request.state.clone();
    let fail = |error: &str| {
        Ok(Outcome::Redirect(back(&state.tokens.issuer, &redirect_uri, &[("error", error)], state_param.as_deref())))
    };

    if request.response_type.as_deref() != Some("code") {
        return fail("unsupported_response_type");
    }
    let challenge = request.code_challenge.clone().unwrap_or_default();
    let challenge_ok =
        challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if request.code_challenge_method.as_deref() != Some("S256") || !challenge_ok {
        return fail("invalid_request");
    }
    let allowed = app.scopes();
    let scopes = match request.scope.as_deref().filter(|s| !s.trim().is_empty()) {
        None => allowed.clone(),
        Some(asked) => match parse_list::<Capability>(asked) {
            Ok(asked) if asked.is_subset(&allowed) => asked,
            _ => return fail("invalid_scope"),
        },
    };
    Ok(Outcome::Show(Box::new(Checked {
        app,
        redirect_uri,
        state: state_param,
        scopes,
        code_challenge: challenge,
        request,
    })))
}

/// A 303 to the application's redirect URI with `params` and `state` added to its query.
/// Every answer names the issuer (RFC 9207), so an application talking to several authorization servers can
/// tell which one answered and a mix-up attack fails.
fn back(issuer: &str, redirect_uri: &str, params: &[(&str, &str)], state: Option<&str>) -> Response {
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    let query = serde_urlencoded::to_string(&pairs).expect("pairs of strings encode");
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{redirect_uri}{separator}{query}")).into_response()
}

/// PKCE S256 (RFC 7636 §4.6): does the verifier hash to the challenge?
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    well_formed && URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

/// What a second-factor page's pending sign-in is bound to: every parameter of the authorization request it
/// began with (the application, where the answer goes, the scopes, `state` and the PKCE challenge), so that it
/// can finish that request only.
fn request_digest(checked: &Checked) -> String {
    secret::hash(&serde_urlencoded::to_string(request_fields(checked)).expect("strings encode"))
}

/// The authorization request's parameters, carried by every page of a sign-in as hidden fields.
fn hidden_fields(checked: &Checked) -> Vec<minijinja::Value> {
    request_fields(checked).into_iter().map(|(name, value)| context! { name, value }).collect()
}

fn request_fields(checked: &Checked) -> Vec<(&'static str, &str)> {
    let request = &checked.request;
    [
        ("response_type", request.response_type.as_deref()),
        ("client_id", request.client_id.as_deref()),
        ("redirect_uri", request.redirect_uri.as_deref()),
        ("scope", request.scope.as_deref()),
        ("state", request.state.as_deref()),
        ("code_challenge", request.code_challenge.as_deref()),
        ("code_challenge_method", request.code_challenge_method.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.map(|value| (name, value)))
    .collect()
}

fn page(status: StatusCode, checked: &Checked, error: Option<&str>, email: &str) -> Response {
    let hidden = request_fields(checked);
    // "Forgot your password?" comes back to this very page afterwards.
    let this_page = format!("/v1/oauth/authorize?{}", serde_urlencoded::to_string(&hidden).expect("strings encode"));
    let forgot = format!(
        "/v1/oauth/password-reset?{}",
        serde_urlencoded::to_string([("return_to", this_page.as_str())]).expect("strings encode")
    );
    let hidden: Vec<_> = hidden.into_iter().map(|(name, value)| context! { name, value }).collect();
    let scopes: Vec<&str> = checked.scopes.iter().map(|s| describe(*s)).collect();
    let app = &checked.app.name;
    // The regulator's own applications (the portal) are signed in to; anyone else's are allowed to act.
    let first_party = checked.app.first_party;
    let title = if first_party { format!("Sign in to {app}") } else { format!("Sign in to allow {app}") };
    // The form posts here and is answered with a redirect to the application; browsers apply form-action to
    // that redirect too, so the policy names the application's origin as well.
    let form_action = format!(" {}", origin(&checked.redirect_uri));
    pages::page(
        status,
        "sign_in.html",
        context! { title, app, first_party, hidden, scopes, error, error_field => "email", email, forgot },
        form_action.trim_end(),
    )
}

/// The origin (scheme, host and port) of a registered redirect URI.
fn origin(uri: &str) -> String {
    match uri.parse::<axum::http::Uri>() {
        Ok(parsed) => match (parsed.scheme_str(), parsed.authority()) {
            (Some(scheme), Some(authority)) => {
                format!("{scheme}://{}", authority.as_str().rsplit('@').next().unwrap_or(""))
            }
            _ => String::new(),
        },
        Err(_) => String::new(),
    }
}

/// What a scope lets an application do, as the consent page and the OpenAPI document word it.
pub fn describe(scope: Capability) -> &'static str {
    match scope {
        Capability::OrgRead => "see your organisations, their locations and members",
        Capability::OrgAdmin => "manage members, invitations, API clients and settings",
        Capability::NotificationsRead => "read notifications",
        Capability::NotificationsWrite => "prepare and edit draft notifications",
        Capability::NotificationsSubmit => "submit notifications to the Care Quality Commission",
        Capability::DocumentsRead => "read documents",
        Capability::DocumentsWrite => "upload documents",
        Capability::RegistrationsRead => "read registration applications",
        Capability::RegistrationsWrite => "prepare and edit registration applications",
        Capability::RegistrationsSubmit => "submit registration applications",
        Capability::Staff => "use your role as a member of the Care Quality Commission's staff",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_the_rfc_7636_example() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!pkce_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cN"));
        assert!(!pkce_matches("short", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn the_redirect_keeps_an_existing_query_and_encodes_parameters() {
        let response = back("https://cqc.example", "https://app.example/cb?x=1", &[("code", "a b")], Some("s&t"));
        assert_eq!(
            response.headers()[header::LOCATION],
            "https://app.example/cb?x=1&code=a+b&state=s%26t&iss=https%3A%2F%2Fcqc.example"
        );
    }
}
