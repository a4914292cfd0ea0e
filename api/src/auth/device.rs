//! Browsers a person has signed in on before. A successful sign-in sets a cookie naming the browser, signed
//! by the server for that account; on a later sign-in, the cookie lets the browser be throttled as itself
//! rather than with its address or the whole account. So an attacker guessing at someone's password from
//! anywhere, even their office, cannot keep them out of their own browser (`docs/identity.md`).
//!
//! The cookie is a compact ES256 JWS (`typ` `device+jwt`) signed with the token key, so every node can check
//! it; after a key rotation the old key's cookies lapse with the key, and the browser is new again.

use axum::http::{HeaderMap, HeaderValue, header};
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::state::AppState;

const TYPE: &str = "device+jwt";
const AUDIENCE: &str = "provider-api/sign-in-device";
/// How long a browser is remembered after its last sign-in.
const REMEMBERED_FOR: time::Duration = time::Duration::days(365);

#[derive(Debug, Serialize, Deserialize)]
struct DeviceClaims {
    iss: String,
    aud: String,
    /// The account the browser signed in to.
    sub: Uuid,
    /// The browser.
    device: Uuid,
    iat: i64,
    exp: i64,
}

/// The cookie's name: `__Secure-` prefixed (so only https can set it) when the service is served over https.
fn cookie_name(state: &AppState) -> &'static str {
    if state.public_base_url.starts_with("https://") { "__Secure-device" } else { "device" }
}

/// The browser this request comes from, if it has signed in to `user` before.
pub async fn recognised(state: &AppState, headers: &HeaderMap, user: Uuid) -> Option<Uuid> {
    let name = cookie_name(state);
    let presented = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(n, _)| *n == name)
        .map(|(_, value)| value.to_owned())
        .collect::<Vec<_>>();
    for token in presented {
        if let Some(claims) = verify(state, &token).await
            && claims.sub == user
        {
            return Some(claims.device);
        }
    }
    None
}

async fn verify(state: &AppState, token: &str) -> Option<DeviceClaims> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != Algorithm::ES256 || header.typ.as_deref() != Some(TYPE) {
        return None;
    }
    let key = state.tokens.keys.decoding(&header.kid?, state.store.as_ref()).await?;
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_audience(&[AUDIENCE]);
    validation.set_issuer(&[state.tokens.issuer.as_str()]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    // Lapsed by the service's clock (a test's, when it sets one), not the machine's.
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<DeviceClaims>(token, &key, &validation).ok()?.claims;
    (claims.exp >= state.clock.now().unix_timestamp()).then_some(claims)
}

/// The `Set-Cookie` that remembers this browser (as `device`, or a new one) for `user`.
pub fn remember(state: &AppState, user: Uuid, device: Option<Uuid>) -> HeaderValue {
    let now = state.clock.now();
    let claims = DeviceClaims {
        iss: state.tokens.issuer.clone(),
        aud: AUDIENCE.to_owned(),
        sub: user,
        device: device.unwrap_or_else(Uuid::new_v4),
        iat: now.unix_timestamp(),
        exp: (now + REMEMBERED_FOR).unix_timestamp(),
    };
    let token = state.tokens.sign_statement(TYPE, &claims);
    let secure = if cookie_name(state).starts_with("__Secure-") { "; Secure" } else { "" };
    let cookie = format!(
        "{}={token}; Path=/v1/oauth/authorize; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        cookie_name(state),
        REMEMBERED_FOR.whole_seconds()
    );
    HeaderValue::from_str(&cookie).expect("a JWS is a valid header value")
}
