//! A signed-in person, as a handler receives them: their SDK client (with a current access token), who they
//! are and the organisation they are working for. The tokens stay on the server, in the sign-in's own row
//! (`sessions::Tokens`), which the session names.

use std::hash::BuildHasher;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use provider_api_sdk::Client;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use crate::Portal;
use crate::address::PersonAddress;
use crate::render::{SignedInHeader, service_problem};
use crate::sessions::Tokens;

/// The session key of [`Person`].
pub const PERSON: &str = "person";

/// Access tokens are renewed this long before they expire, so a page never starts with one about to lapse.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// What the session knows about the person signed in.
#[derive(Clone, Serialize, Deserialize)]
pub struct Person {
    pub user_id: Uuid,
    pub name: String,
    /// The key to their tokens (`SqlSessionStore::sign_in`).
    pub sign_in: String,
    /// Where they have access, as the API said at sign-in.
    pub organisations: Vec<Organisation>,
    /// The one they chose to work for (chosen for them when there is only one).
    pub organisation_id: Option<Uuid>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub roles: Vec<String>,
    /// Empty when the access covers every location.
    pub location_ids: Vec<Uuid>,
}

impl Person {
    pub fn organisation(&self) -> Option<&Organisation> {
        let id = self.organisation_id?;
        self.organisations.iter().find(|o| o.id == id)
    }

    /// The page header, naming them and their organisation, for a page in `section`.
    pub fn header(&self, section: &'static str) -> SignedInHeader {
        SignedInHeader {
            person: self.name.clone(),
            organisation: self.organisation().map(|o| o.name.clone()),
            section,
            idle_seconds: None,
        }
    }
}

fn needs_renewal(tokens: &Tokens, now: OffsetDateTime) -> bool {
    now.unix_timestamp() + RENEW_BEFORE_EXPIRY.as_secs() as i64 >= tokens.access_expires_at
}

/// A signed-in person, for handlers that need one. Without a session, they are sent to sign in and brought
/// back here afterwards.
pub struct SignedIn {
    pub person: Person,
    pub client: Client,
    pub session: Session,
    idle_timeout: Duration,
}

impl SignedIn {
    /// The page header for a page in `section`.
    pub fn header(&self, section: &'static str) -> SignedInHeader {
        SignedInHeader { idle_seconds: Some(self.idle_timeout.as_secs()), ..self.person.header(section) }
    }
}

impl FromRequestParts<Portal> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, portal: &Portal) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, portal).await.map_err(IntoResponse::into_response)?;
        let Ok(PersonAddress(address)) = PersonAddress::from_request_parts(parts, portal).await;
        let back_here = || {
            let path = parts.uri.path_and_query().map_or("/dashboard", |p| p.as_str());
            let query = serde_urlencoded::to_string([("return_to", path)]).unwrap_or_default();
            Redirect::to(&format!("/sign-in?{query}")).into_response()
        };
        let Some(person) = session.get::<Person>(PERSON).await.map_err(|_| service_problem())? else {
            return Err(back_here());
        };
        let store = portal.sessions().database();
        let Some(mut tokens) = store.sign_in(&person.sign_in).await.map_err(|_| service_problem())? else {
            // Signed out (in another tab) or ended at the API: the session's person is a leftover.
            session.flush().await.map_err(|_| service_problem())?;
            return Err(back_here());
        };
        if needs_renewal(&tokens, OffsetDateTime::now_utc()) {
            match renew(portal, &session, &person, address).await? {
                Some(renewed) => tokens = renewed,
                None => return Err(back_here()),
            }
        }
        let client = portal.client_with(&tokens.access_token, address);
        Ok(Self { person, client, session, idle_timeout: portal.config().idle_timeout })
    }
}

/// Renews the access token with the refresh token, which the API rotates. Two requests of one sign-in must
/// not both spend the same refresh token (the API would take the second for a thief and end the sign-in), so
/// renewals take turns on a lock, and each re-reads the tokens as stored before deciding: the first renews, the
/// next finds the renewed tokens. `None`: the sign-in has ended (revoked, expired, or signed out meanwhile).
async fn renew(
    portal: &Portal,
    session: &Session,
    person: &Person,
    address: Option<std::net::IpAddr>,
) -> Result<Option<Tokens>, Response> {
    let store = portal.sessions().database();
    let lock = &portal.inner.renewals[stripe(&portal.inner.hasher, &person.sign_in) % portal.inner.renewals.len()];
    let _turn = lock.lock().await;
    let Some(current) = store.sign_in(&person.sign_in).await.map_err(|_| service_problem())? else {
        return Ok(None);
    };
    if !needs_renewal(&current, OffsetDateTime::now_utc()) {
        return Ok(Some(current));
    }
    let renewed = portal.app_for(address).refresh(&current.refresh_token).await;
    match renewed {
        Ok(tokens) => {
            let tokens = Tokens {
                access_token: tokens.access_token,
                access_expires_at: OffsetDateTime::now_utc().unix_timestamp() + tokens.expires_in.as_secs() as i64,
                refresh_token: tokens.refresh_token,
            };
            if !store.renew_sign_in(&person.sign_in, &tokens).await.map_err(|_| service_problem())? {
                return Ok(None);
            }
            Ok(Some(tokens))
        }
        // Only the API saying the sign-in is over (`invalid_grant`: revoked, expired, or spent) ends the session.
        // Anything else (the API unreachable, or too busy) is a problem to try again, not a reason to lose work.
        Err(error) if error.to_string().contains("invalid_grant") => {
            tracing::info!(%error, "a portal sign-in has ended at the API; signing the person out");
            store.end_sign_in(&person.sign_in).await.map_err(|_| service_problem())?;
            session.flush().await.map_err(|_| service_problem())?;
            Ok(None)
        }
        Err(error) => {
            tracing::warn!(%error, "a portal sign-in could not be renewed now");
            Err(service_problem())
        }
    }
}

fn stripe(hasher: &std::hash::RandomState, sign_in: &str) -> usize {
    hasher.hash_one(sign_in) as usize
}
