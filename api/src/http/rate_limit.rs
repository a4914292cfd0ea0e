//! Rate limits (governor, GCRA): per principal, per organisation, and per client address for requests
//! without a valid token, with a stricter per-address limit on the OAuth endpoints. One noisy client uses up
//! its own allowance (and its organisation's), never another organisation's.
//!
//! Responses carry the IETF httpapi draft headers `RateLimit-Policy: "<name>";q=<quota>;w=60` and
//! `RateLimit: "<name>";r=<remaining>;t=<seconds>`; a refusal is 429 problem+json with `Retry-After`.
//! Limits are held in memory, so each node enforces its own, unless `rate_limit_store` names a Redis: then every
//! node spends from one count there (`shared_counts`), and falls back to its own while Redis is away (see
//! docs/operations.md).

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use super::Problem;
use crate::auth::token::AccessClaims;
use crate::state::AppState;

type Limiter<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;

/// Requests a minute allowed to each kind of caller.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub per_principal: NonZeroU32,
    pub per_organisation: NonZeroU32,
    pub per_address: NonZeroU32,
    pub sign_in_per_address: NonZeroU32,
    pub sign_in_per_client: NonZeroU32,
}

pub struct RateLimits {
    quotas: Quotas,
    /// Counts every node shares, when configured; the limiters below count on this node alone otherwise, and
    /// while Redis is not answering.
    shared: Option<std::sync::Arc<super::shared_counts::SharedCounts>>,
    principals: Limiter<Uuid>,
    organisations: Limiter<Uuid>,
    addresses: Limiter<IpAddr>,
    sign_in: Limiter<IpAddr>,
    sign_in_clients: Limiter<Uuid>,
    clock: DefaultClock,
}

/// Claims the limiter has already verified, handed on so the principal extractor need not verify again.
#[derive(Debug, Clone)]
pub struct VerifiedClaims(pub AccessClaims);

fn limiter<K: Clone + std::hash::Hash + Eq>(per_minute: NonZeroU32) -> Limiter<K> {
    RateLimiter::keyed(Quota::per_minute(per_minute)).with_middleware::<StateInformationMiddleware>()
}

impl RateLimits {
    pub fn new(quotas: Quotas) -> Self {
        Self::sharing(quotas, None)
    }

    /// Limits counted in `shared` by every node (and here, while it is away).
    pub fn sharing(quotas: Quotas, shared: Option<std::sync::Arc<super::shared_counts::SharedCounts>>) -> Self {
        Self {
            shared,
            principals: limiter(quotas.per_principal),
            organisations: limiter(quotas.per_organisation),
            addresses: limiter(quotas.per_address),
            sign_in: limiter(quotas.sign_in_per_address),
            sign_in_clients: limiter(quotas.sign_in_per_client),
            clock: DefaultClock::default(),
            quotas,
        }
    }

    /// Forgets callers whose allowance is full again, so memory tracks only recent callers.
    pub fn forget_idle(&self) {
        self.principals.retain_recent();
        self.organisations.retain_recent();
        self.addresses.retain_recent();
        self.sign_in.retain_recent();
        self.sign_in_clients.retain_recent();
    }

    /// Spends one of a confidential client's token-endpoint requests, once it has authenticated; a refusal is
    /// the 429 to answer.
    pub async fn charge_client(&self, client_id: Uuid) -> Result<(), Problem> {
        self.check(&self.sign_in_clients, &client_id, "client", self.quotas.sign_in_per_client)
            .await
            .map(drop)
            .map_err(|outcome| outcome.problem())
    }

    /// Where the limits are counted, for `/readyz`.
    pub async fn health(&self) -> crate::health::RateLimitsHealth {
        match &self.shared {
            None => crate::health::RateLimitsHealth { store: "memory", shared: false, detail: None },
            Some(shared) => {
                let sharing = shared.sharing().await;
                crate::health::RateLimitsHealth { store: "redis", shared: sharing.shared, detail: sharing.detail }
            }
        }
    }

    async fn check<K: Clone + std::hash::Hash + Eq + std::fmt::Display>(
        &self,
        limiter: &Limiter<K>,
        key: &K,
        name: &'static str,
        quota: NonZeroU32,
    ) -> Result<Outcome, Outcome> {
        use super::shared_counts::Gcra;
        if let Some(shared) = &self.shared
            && let Some(decided) = shared.gcra(name, &key.to_string(), quota.get()).await
        {
            return match decided {
                Gcra::Allowed { remaining } => Ok(Outcome { name, quota, remaining, wait: Duration::ZERO }),
                Gcra::Refused { wait } => Err(Outcome { name, quota, remaining: 0, wait }),
            };
        }
        match limiter.check_key(key) {
            Ok(snapshot) => {
                Ok(Outcome { name, quota, remaining: snapshot.remaining_burst_capacity(), wait: Duration::ZERO })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.clock.now());
                Err(Outcome { name, quota, remaining: 0, wait })
            }
        }
    }
}

/// One limiter's decision, as the headers report it.
struct Outcome {
    name: &'static str,
    quota: NonZeroU32,
    remaining: u32,
    wait: Duration,
}

impl Outcome {
    fn seconds(&self) -> u64 {
        self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0)
    }

    fn headers(&self, response: &mut Response) {
        let policy = format!("\"{}\";q={};w=60", self.name, self.quota);
        let state = format!("\"{}\";r={};t={}", self.name, self.remaining, self.seconds());
        let headers = response.headers_mut();
        headers.insert("ratelimit-policy", HeaderValue::from_str(&policy).expect("ASCII"));
        headers.insert("ratelimit", HeaderValue::from_str(&state).expect("ASCII"));
    }

    fn problem(&self) -> Problem {
        let detail = format!("Too many requests; try again in {} seconds.", self.seconds().max(1));
        let policy = format!("\"{}\";q={};w=60", self.name, self.quota);
        let state = format!("\"{}\";r={};t={}", self.name, self.remaining, self.seconds());
        Problem::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "Too many requests", detail)
            .with_header(header::RETRY_AFTER, HeaderValue::from(self.seconds().max(1)))
            .with_header(
                header::HeaderName::from_static("ratelimit-policy"),
                HeaderValue::from_str(&policy).expect("ASCII"),
            )
            .with_header(header::HeaderName::from_static("ratelimit"), HeaderValue::from_str(&state).expect("ASCII"))
    }

    fn refusal(&self) -> Response {
        self.problem().into_response()
    }
}

/// Paths that are never limited: probes, documentation, and the sign-in pages' stylesheet and scripts.
fn exempt(path: &str) -> bool {
    matches!(path, "/healthz" | "/readyz" | "/v1/openapi.json")
        || path.starts_with("/docs")
        || path.starts_with("/assets/")
}

/// Endpoints that take passwords or secrets from anonymous callers: slowed down per address.
fn is_oauth(path: &str) -> bool {
    path.starts_with("/v1/oauth/") || path == "/v1/invitations/accept"
}

/// A token or revocation request from a confidential client presenting its secret (HTTP Basic). It is limited
/// as that client once the secret checks out, and wrong secrets are slowed per address, both where the client
/// is authenticated (`auth::oauth`), not here: a web application makes every person's requests from one
/// address, which must not stand for all of them.
fn is_confidential_client_request(path: &str, request: &Request) -> bool {
    matches!(path, "/v1/oauth/token" | "/v1/oauth/revoke")
        && crate::auth::oauth::basic_credentials(request.headers()).is_some()
}

pub async fn limit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if exempt(&path) {
        return next.run(request).await;
    }
    let address = super::client_address::client_address(peer.ip(), request.headers(), &state.trusted_proxies);
    let peer_address = peer.ip().to_canonical();
    let limits = &state.rate_limits;
    let quotas = limits.quotas;
    let key = super::client_address::allowance_key(address);
    let decided = if is_confidential_client_request(&path, &request) {
        if address == peer_address {
            return next.run(request).await;
        }
        // A trusted proxy (the portal) named the person it asks for: their address pays too, so that one
        // person looping junk sign-ins cannot spend the application's allowance for everyone.
        limits.check(&limits.sign_in, &key, "sign-in", quotas.sign_in_per_address).await
    } else if is_oauth(&path) {
        limits.check(&limits.sign_in, &key, "sign-in", quotas.sign_in_per_address).await
    } else if let Some(claims) = verified_claims(&state, bearer(&request)).await {
        // Only an API client spends its organisation's allowance: a person's path may name any organisation,
        // even one they cannot see, and must not drain another organisation's quota.
        let organisation = claims.org;
        let principal = limits.check(&limits.principals, &claims.sub, "principal", quotas.per_principal).await;
        request.extensions_mut().insert(VerifiedClaims(claims));
        match (principal, organisation) {
            (Ok(principal), Some(organisation)) => limits
                .check(&limits.organisations, &organisation, "organisation", quotas.per_organisation)
                .await
                .map(|_| principal),
            (principal, _) => principal,
        }
    } else {
        limits.check(&limits.addresses, &key, "address", quotas.per_address).await
    };
    match decided {
        Ok(outcome) => {
            let mut response = next.run(request).await;
            outcome.headers(&mut response);
            response
        }
        Err(outcome) => outcome.refusal(),
    }
}

/// The claims of a valid bearer token, if the request carries one. Only a verified token may choose whose
/// allowance a request spends, or anyone could spend someone else's.
async fn verified_claims(state: &AppState, token: Option<String>) -> Option<AccessClaims> {
    state.tokens.verify(&token?, state.store.as_ref()).await.ok()
}

/// The bearer token, copied out so no borrow of the request is held across an await.
fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_key_gets_its_quota_then_a_refusal_that_says_when_to_retry() {
        let two = NonZeroU32::new(2).unwrap();
        let limits = RateLimits::new(Quotas {
            per_principal: two,
            per_organisation: two,
            per_address: two,
            sign_in_per_address: two,
            sign_in_per_client: two,
        });
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(limits.check(&limits.principals, &a, "principal", two).await.is_ok());
        assert!(limits.check(&limits.principals, &a, "principal", two).await.is_ok());
        let refused = limits.check(&limits.principals, &a, "principal", two).await.err().expect("the third is refused");
        assert!(refused.seconds() >= 1);
        assert!(limits.check(&limits.principals, &b, "principal", two).await.is_ok(), "another key is unaffected");
    }
}
