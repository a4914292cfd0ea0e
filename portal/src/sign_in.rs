//! Signing in and out. The portal is a confidential, first-party application of the API: `/sign-in` sends the
//! person to the API's sign-in page (the authorization-code flow with PKCE), `/auth/callback` takes the code
//! back and exchanges it server to server, and the tokens stay in the session. People in several
//! organisations choose one. Signing out revokes the sign-in at the API and ends the session.

use axum::Form;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use minijinja::context;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use crate::address::PersonAddress;
use crate::config::CALLBACK_PATH;
use crate::render::{page, service_problem};
use crate::sessions::Tokens;
use crate::signed_in::{Organisation, PERSON, Person, SignedIn};
use crate::{Portal, csrf};

const PENDING: &str = "pending_sign_in";
/// Where people land after signing in when they were not on their way somewhere.
pub const HOME: &str = "/dashboard";

pub fn routes() -> Router<Portal> {
    Router::new()
        .route("/sign-in", get(start))
        .route(CALLBACK_PATH, get(callback))
        .route("/choose-organisation", get(show_organisations).post(choose_organisation))
        .route("/sign-out", get(confirm_sign_out).post(sign_out))
}

/// A sign-in on its way through the API's page: what the callback must check, and where to return.
#[derive(Serialize, Deserialize)]
struct Pending {
    state: String,
    pkce_verifier: String,
    redirect_uri: String,
    return_to: String,
}

#[derive(Deserialize)]
struct StartQuery {
    return_to: Option<String>,
}

/// Only a path on this site, so a crafted sign-in link cannot send someone elsewhere afterwards. Browsers drop
/// tabs and newlines from a URL and read `\` as `/`, so a path with any of them, or any control character or
/// space, is refused rather than cleaned (`/\t/evil.example` would become `//evil.example`).
pub(crate) fn local_path(candidate: Option<&str>) -> String {
    match candidate {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace()) =>
        {
            path.to_owned()
        }
        _ => HOME.to_owned(),
    }
}

fn host(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::HOST).and_then(|v| v.to_str().ok())
}

async fn start(
    State(portal): State<Portal>,
    session: Session,
    headers: HeaderMap,
    Query(query): Query<StartQuery>,
) -> Response {
    let config = &portal.inner.config;
    let origin = config.origin_for(host(&headers)).to_owned();
    let redirect_uri = format!("{origin}{CALLBACK_PATH}");
    let authorize_base = config.api_public_url.clone().unwrap_or(origin);
    // No scopes named: the portal asks for everything it is registered for; the person's roles decide.
    let request =
        match provider_api_sdk::auth::authorization_url(&authorize_base, &config.client_id, &redirect_uri, &[]) {
            Ok(request) => request,
            Err(error) => {
                tracing::error!(%error, "the sign-in link could not be built");
                return service_problem();
            }
        };
    let pending = Pending {
        state: request.state,
        pkce_verifier: request.pkce_verifier,
        redirect_uri,
        return_to: local_path(query.return_to.as_deref()),
    };
    if session.insert(PENDING, &pending).await.is_err() {
        return service_problem();
    }
    Redirect::to(&request.url).into_response()
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(portal): State<Portal>,
    session: Session,
    PersonAddress(address): PersonAddress,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Ok(pending) = session.remove::<Pending>(PENDING).await else { return service_problem() };
    let problem = |message: &str| {
        page(
            StatusCode::BAD_REQUEST,
            "pages/sign_in_problem.html",
            context! { title => "You are not signed in", message },
        )
    };
    let Some(pending) = pending else {
        return problem("The sign-in took too long, or was started in another browser.");
    };
    let state_matches =
        query.state.as_deref().is_some_and(|s| bool::from(s.as_bytes().ct_eq(pending.state.as_bytes())));
    if !state_matches {
        return problem("The sign-in could not be checked.");
    }
    if let Some(error) = query.error {
        let message = if error == "access_denied" {
            "You cancelled signing in."
        } else {
            tracing::warn!(error, "the API refused the portal's sign-in request");
            "The sign-in could not be completed."
        };
        return problem(message);
    }
    let Some(code) = query.code else { return problem("The sign-in could not be checked.") };
    let tokens = match portal.app_for(address).exchange_code(&pending.redirect_uri, &code, &pending.pkce_verifier).await
    {
        Ok(tokens) => tokens,
        Err(error) => {
            tracing::warn!(%error, "the portal could not exchange a sign-in code");
            return problem("The sign-in could not be completed.");
        }
    };
    let me = match portal.client_with(&tokens.access_token, address).get_me().send().await {
        Ok(me) => me.into_inner(),
        Err(error) => {
            tracing::error!(%error, "the API did not say who signed in");
            return service_problem();
        }
    };
    let organisations: Vec<Organisation> = me
        .organisations
        .into_iter()
        .map(|o| Organisation {
            id: o.organisation_id,
            name: o.name,
            roles: o.roles.iter().map(ToString::to_string).collect(),
            location_ids: o.location_ids,
        })
        .collect();
    let tokens = Tokens {
        access_token: tokens.access_token,
        access_expires_at: OffsetDateTime::now_utc().unix_timestamp() + tokens.expires_in.as_secs() as i64,
        refresh_token: tokens.refresh_token,
    };
    let Ok(sign_in) = portal.sessions().database().insert_sign_in(&tokens).await else {
        return service_problem();
    };
    let person = Person {
        user_id: me.id,
        name: me.name,
        sign_in,
        organisation_id: match organisations.as_slice() {
            [only] => Some(only.id),
            _ => None,
        },
        organisations,
    };
    // A new session id on signing in, so an id planted before (session fixation) is worth nothing after.
    if session.cycle_id().await.is_err() || session.insert(PERSON, &person).await.is_err() {
        return service_problem();
    }
    if person.organisations.is_empty() {
        return page(
            StatusCode::OK,
            "pages/no_organisation.html",
            context! { title => "You do not have access to a provider yet", header => person.header("") },
        );
    }
    if person.organisation_id.is_none() {
        let query = serde_urlencoded::to_string([("return_to", pending.return_to.as_str())]).unwrap_or_default();
        return Redirect::to(&format!("/choose-organisation?{query}")).into_response();
    }
    Redirect::to(&pending.return_to).into_response()
}

async fn show_organisations(signed_in: SignedIn, Query(query): Query<StartQuery>) -> Response {
    organisations_page(&signed_in, StatusCode::OK, local_path(query.return_to.as_deref()), None).await
}

async fn organisations_page(
    signed_in: &SignedIn,
    status: StatusCode,
    return_to: String,
    error: Option<&str>,
) -> Response {
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let items: Vec<_> = signed_in
        .person
        .organisations
        .iter()
        .map(|o| {
            context! {
                value => o.id.to_string(),
                text => o.name.clone(),
                hint => context! { text => format!("Your roles: {}", o.roles.join(", ")) },
                checked => signed_in.person.organisation_id == Some(o.id),
            }
        })
        .collect();
    let errors: Vec<_> = error.map(|text| context! { text => text, href => "#organisation" }).into_iter().collect();
    page(
        status,
        "radios_question.html",
        context! {
            title => "Which organisation are you working for?",
            header => signed_in.header(""),
            action => "/choose-organisation",
            hidden => vec![
                context! { name => "csrf_token", value => csrf_token },
                context! { name => "return_to", value => return_to },
            ],
            name => "organisation",
            hint => "You can change this at any time from the top of each page.",
            items, errors, error_message => error,
        },
    )
}

#[derive(Deserialize)]
struct OrganisationChoice {
    csrf_token: Option<String>,
    organisation: Option<String>,
    return_to: Option<String>,
}

async fn choose_organisation(mut signed_in: SignedIn, Form(form): Form<OrganisationChoice>) -> Response {
    if let Err(response) = csrf::check(&signed_in.session, form.csrf_token.as_deref()).await {
        return response;
    }
    let return_to = local_path(form.return_to.as_deref());
    let chosen = form
        .organisation
        .and_then(|id| id.parse::<Uuid>().ok())
        .filter(|id| signed_in.person.organisations.iter().any(|o| o.id == *id));
    let Some(id) = chosen else {
        return organisations_page(
            &signed_in,
            StatusCode::UNPROCESSABLE_ENTITY,
            return_to,
            Some("Select the organisation you are working for"),
        )
        .await;
    };
    signed_in.person.organisation_id = Some(id);
    if signed_in.session.insert(PERSON, &signed_in.person).await.is_err() {
        return service_problem();
    }
    Redirect::to(&return_to).into_response()
}

async fn confirm_sign_out(signed_in: SignedIn) -> Response {
    let csrf_token = match csrf::token(&signed_in.session).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    page(
        StatusCode::OK,
        "pages/sign_out.html",
        context! { title => "Are you sure you want to sign out?", header => signed_in.header(""), csrf_token },
    )
}

#[derive(Deserialize)]
struct SignOutForm {
    csrf_token: Option<String>,
}

async fn sign_out(
    State(portal): State<Portal>,
    session: Session,
    PersonAddress(address): PersonAddress,
    Form(form): Form<SignOutForm>,
) -> Response {
    if let Err(response) = csrf::check(&session, form.csrf_token.as_deref()).await {
        return response;
    }
    let store = portal.sessions().database();
    if let Ok(Some(person)) = session.get::<Person>(PERSON).await
        && let Ok(Some(tokens)) = store.sign_in(&person.sign_in).await
    {
        // Revoking the refresh token ends the sign-in at the API (no more renewals); the access token is revoked
        // too, or it would keep working until it expires.
        let app = portal.app_for(address);
        for token in [&tokens.refresh_token, &tokens.access_token] {
            if let Err(error) = app.revoke(token).await {
                tracing::warn!(%error, "the API did not confirm revoking a portal sign-in's token");
            }
        }
        if store.end_sign_in(&person.sign_in).await.is_err() {
            return service_problem();
        }
    }
    if session.flush().await.is_err() {
        return service_problem();
    }
    page(StatusCode::OK, "pages/signed_out.html", context! { title => "You have signed out" })
}
