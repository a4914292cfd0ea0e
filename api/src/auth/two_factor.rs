//! Two-factor sign-in: a time-based one-time code (TOTP, RFC 6238: HMAC-SHA1, 6 digits, 30-second steps, the
//! kind every authenticator app reads from a QR code) after the password, with ten single-use recovery codes
//! for a lost phone. Who must use one, and who may: `docs/identity.md`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

use super::secret;
use crate::http::Problem;
use crate::state::AppState;

const STEP_SECONDS: i64 = 30;
/// A code for the step before or after the current one is accepted too: phones' clocks drift.
const SKEW_STEPS: i64 = 1;
const RECOVERY_CODES: usize = 10;
/// Recovery codes are read off paper: no 0/o, 1/l/i.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const ISSUER: &str = "Care Quality Commission";

/// A new shared secret: 160 bits, RFC 4226's recommended length.
pub fn new_secret() -> Vec<u8> {
    secret::random_bytes::<20>().to_vec()
}

fn totp(secret: &[u8], account: &str) -> TOTP {
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        0,
        STEP_SECONDS as u64,
        secret.to_vec(),
        Some(ISSUER.into()),
        account.into(),
    )
}

/// The secret as people type it into an app: base32, in groups of four.
pub fn secret_for_people(secret: &[u8]) -> String {
    let base32 = totp(secret, "x").get_secret_base32();
    base32.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

/// The secret a setup key (as [`secret_for_people`] shows it) stands for.
pub fn secret_from_key(key: &str) -> Option<Vec<u8>> {
    let key: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    totp_rs::Secret::Encoded(key).to_bytes().ok()
}

/// The code an authenticator app shows for `secret` during time step `step` (what a person types).
pub fn code_for_step(secret: &[u8], step: i64) -> String {
    totp(secret, "x").generate((step.max(0) * STEP_SECONDS) as u64)
}

/// The time step `now` falls in.
pub fn step_at(now: time::OffsetDateTime) -> i64 {
    now.unix_timestamp().div_euclid(STEP_SECONDS)
}

/// The `otpauth://` address an app reads from the QR code.
pub fn setup_url(secret: &[u8], account: &str) -> String {
    totp(secret, account).get_url()
}

/// The QR code of [`setup_url`], as an SVG `data:` URL for an `<img>` (with its own alt text).
pub fn qr_code(secret: &[u8], account: &str) -> String {
    let svg = qrcode::QrCode::new(setup_url(secret, account).as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color>()
                .min_dimensions(200, 200)
                .dark_color(qrcode::render::svg::Color("#0b0c0c"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build()
        })
        .unwrap_or_default();
    format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg))
}

/// The time step `code` is right for, within the skew, if any (compared in constant time).
pub fn matching_step(secret: &[u8], code: &str, now: time::OffsetDateTime) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "x");
    let current = now.unix_timestamp().div_euclid(STEP_SECONDS);
    (current - SKEW_STEPS..=current + SKEW_STEPS)
        .filter(|step| *step >= 0)
        .find(|step| bool::from(totp.generate((step * STEP_SECONDS) as u64).as_bytes().ct_eq(code.as_bytes())))
}

/// Ten new recovery codes, as shown (`xxxxx-xxxxx`), with the hashes kept.
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let letters: String = secret::random_bytes::<10>()
                .iter()
                .map(|b| RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &letters[..5], &letters[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_code_hash(c)).collect();
    (codes, hashes)
}

/// What is kept of a recovery code: however it is typed (case, spaces, the hyphen), one hash.
pub fn recovery_code_hash(code: &str) -> String {
    let normal: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    secret::hash(&normal)
}

/// Whether `user` must sign in with a second factor: every member of the regulator's staff, and admins and
/// submitters of an organisation that requires it.
pub async fn required(state: &AppState, user: &provider_api_core::accounts::User) -> Result<bool, Problem> {
    if !user.staff_roles.0.is_empty() {
        return Ok(true);
    }
    use provider_api_core::capability::Role;
    for membership in state.store.memberships_of(user.id).await? {
        let roles = membership.roles();
        let answerable = roles.contains(&Role::Admin) || roles.contains(&Role::Submitter);
        if answerable && state.store.two_factor_policy(membership.organisation_id).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Where a sign-in stands between its pages: signed by the server, so the password step cannot be skipped,
/// bound to the application it is for, and short-lived.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    iss: String,
    aud: String,
    pub sub: Uuid,
    /// A digest of the authorization request the sign-in began with (`authorize::request_digest`).
    request: String,
    pub stage: Stage,
    /// The browser, when it had signed in before (`auth::device`).
    pub device: Option<Uuid>,
    exp: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The password was right; a code is wanted.
    Verify,
    /// The password was right; an authenticator is being set up.
    Enrol,
    /// Set up; the recovery codes have been shown.
    RecoveryCodes,
}

const PENDING_TYPE: &str = "signin-pending+jwt";
const PENDING_AUDIENCE: &str = "provider-api/sign-in-pending";
/// Long enough to install an app and scan a code.
pub const PENDING_FOR: time::Duration = time::Duration::minutes(15);

impl Pending {
    pub fn new(state: &AppState, user: Uuid, request: String, stage: Stage, device: Option<Uuid>) -> Self {
        Self {
            iss: state.tokens.issuer.clone(),
            aud: PENDING_AUDIENCE.into(),
            sub: user,
            request,
            stage,
            device,
            exp: (state.clock.now() + PENDING_FOR).unix_timestamp(),
        }
    }

    pub fn sign(&self, state: &AppState) -> String {
        state.tokens.sign_statement(PENDING_TYPE, self)
    }

    /// The pending sign-in `token` states, if it is ours, current, at `stage` and for the authorization request
    /// whose digest is `request`.
    pub async fn read(state: &AppState, token: &str, stage: Stage, request: &str) -> Option<Self> {
        use jsonwebtoken::{Algorithm as Jws, Validation};
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Jws::ES256 || header.typ.as_deref() != Some(PENDING_TYPE) {
            return None;
        }
        let key = state.tokens.keys.decoding(&header.kid?, state.store.as_ref()).await?;
        let mut validation = Validation::new(Jws::ES256);
        validation.set_audience(&[PENDING_AUDIENCE]);
        validation.set_issuer(&[state.tokens.issuer.as_str()]);
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        // Lapsed by the service's clock (a test's, when it sets one), not the machine's.
        validation.validate_exp = false;
        let pending = jsonwebtoken::decode::<Self>(token, &key, &validation).ok()?.claims;
        let current = pending.exp >= state.clock.now().unix_timestamp();
        (current && pending.stage == stage && pending.request == request).then_some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_matches_its_step_and_the_steps_beside_it_only() {
        // RFC 6238 Appendix B: the SHA-1 secret "12345678901234567890" at 59 s gives 94287082 (8 digits); six
        // digits are its last six.
        let secret = b"12345678901234567890".to_vec();
        let at = time::OffsetDateTime::from_unix_timestamp(59).unwrap();
        assert_eq!(matching_step(&secret, "287082", at), Some(1));
        assert_eq!(matching_step(&secret, "287 082", at), Some(1), "spaces are ignored");
        let later = time::OffsetDateTime::from_unix_timestamp(59 + 30 * 5).unwrap();
        assert_eq!(matching_step(&secret, "287082", later), None, "five steps later it is stale");
        assert_eq!(matching_step(&secret, "28708", at), None);
        assert_eq!(matching_step(&secret, "abcdef", at), None);
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_hash_however_they_are_typed() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        assert!(codes[0].len() == 11 && codes[0].as_bytes()[5] == b'-', "{}", codes[0]);
        assert_eq!(recovery_code_hash(&codes[0].to_uppercase().replace('-', " ")), hashes[0]);
    }

    #[test]
    fn the_secret_reads_in_groups_of_four_and_the_setup_url_names_the_service() {
        let secret = vec![0u8; 20];
        assert_eq!(secret_for_people(&secret), "AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAAA");
        let url = setup_url(&secret, "sam@example.org");
        assert!(url.starts_with("otpauth://totp/Care%20Quality%20Commission:sam%40example.org?"), "{url}");
        assert!(qr_code(&secret, "sam@example.org").starts_with("data:image/svg+xml;base64,"));
        let random = new_secret();
        assert_eq!(secret_from_key(&secret_for_people(&random)), Some(random), "the key gives the secret back");
    }
}
