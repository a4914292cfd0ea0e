//! A signed-in person, as a handler receives them: their SDK client (with a current access token), who they
//! are and the organisation they are working for. The tokens live in the server-side session only.

use std::hash::BuildHasher;
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use provider_api_sdk::Client;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::Session;
use tower_sessions::session_store::SessionStore;
use uuid::Uuid;

use crate::Portal;
use crate::address::PersonAddress;
use crate::render::{SignedInHeader, service_problem};

/// The session key of [`Person`].
pub const PERSON: &str = "person";

/// Access tokens are renewed this long before they expire, so a page never starts with one about to lapse.
const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(60);

/// What the session knows about the person signed in.
#[derive(Clone, Serialize, Deserialize)]
pub struct Person {
    pub user_id: Uuid,
    pub name: String,
    pub access_token: String,
    /// Unix seconds.
    pub access_expires_at: i64,
    pub refresh_token: String,
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
        SignedInHeader { person: self.name.clone(), organisation: self.organisation().map(|o| o.name.clone()), section }
    }

    fn needs_renewal(&self, now: OffsetDateTime) -> bool {
        now.unix_timestamp() + RENEW_BEFORE_EXPIRY.as_secs() as i64 >= self.access_expires_at
    }
}

/// A signed-in person, for handlers that need one. Without a session, they are sent to sign in and brought
/// back here afterwards.
pub struct SignedIn {
    pub person: Person,
    pub client: Client,
    pub session: Session,
}

impl SignedIn {
    /// The page header for a page in `section`.
    pub fn header(&self, section: &'static str) -> SignedInHeader {
        self.person.header(section)
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
        let Some(mut person) = session.get::<Person>(PERSON).await.map_err(|_| service_problem())? else {
            return Err(back_here());
        };
        if person.needs_renewal(OffsetDateTime::now_utc()) {
            match renew(portal, &session, person, address).await? {
                Some(renewed) => person = renewed,
                None => return Err(back_here()),
            }
        }
        let client = portal.client_with(&person.access_token, address);
        Ok(Self { person, client, session })
    }
}

/// Renews the access token with the refresh token, which the API rotates. Two requests of one session must
/// not both spend the same refresh token (the API would take the second for a thief and end the sign-in), so
/// renewals of a session take turns on a lock, and each re-reads the session as stored before deciding: the
/// first renews, the next finds the renewed tokens. `None`: the sign-in has ended (revoked, or expired).
async fn renew(
    portal: &Portal,
    session: &Session,
    stale: Person,
    address: Option<std::net::IpAddr>,
) -> Result<Option<Person>, Response> {
    let id = session.id().ok_or_else(service_problem)?;
    let lock = &portal.inner.renewals[stripe(&portal.inner.hasher, id) % portal.inner.renewals.len()];
    let _turn = lock.lock().await;
    let stored = portal.inner.store.load(&id).await.map_err(|_| service_problem())?;
    let current = stored
        .and_then(|record| record.data.get(PERSON).cloned())
        .and_then(|value| serde_json::from_value::<Person>(value).ok())
        .filter(|p| p.user_id == stale.user_id)
        .unwrap_or(stale);
    if !current.needs_renewal(OffsetDateTime::now_utc()) {
        session.insert(PERSON, &current).await.map_err(|_| service_problem())?;
        return Ok(Some(current));
    }
    let renewed = portal.app_for(address).refresh(&current.refresh_token).await;
    match renewed {
        Ok(tokens) => {
            let person = Person {
                access_token: tokens.access_token,
                access_expires_at: OffsetDateTime::now_utc().unix_timestamp() + tokens.expires_in.as_secs() as i64,
                refresh_token: tokens.refresh_token,
                ..current
            };
            session.insert(PERSON, &person).await.map_err(|_| service_problem())?;
            // Saved now, not when the response is: the next request in line must find the new refresh token.
            session.save().await.map_err(|_| service_problem())?;
            Ok(Some(person))
        }
        // Only the API saying the sign-in is over (`invalid_grant`: revoked, expired, or spent) ends the session.
        // Anything else (the API unreachable, or too busy) is a problem to try again, not a reason to lose work.
        Err(error) if error.to_string().contains("invalid_grant") => {
            tracing::info!(%error, "a portal sign-in has ended at the API; signing the person out");
            session.flush().await.map_err(|_| service_problem())?;
            Ok(None)
        }
        Err(error) => {
            tracing::warn!(%error, "a portal sign-in could not be renewed now");
            Err(service_problem())
        }
    }
}

fn stripe(hasher: &std::hash::RandomState, id: tower_sessions::session::Id) -> usize {
    hasher.hash_one(id.0) as usize
}
