use std::sync::Arc;

use provider_api_core::clock::Clock;
use provider_api_store::Store;

use crate::auth::throttle::Throttle;
use crate::auth::token::TokenService;
use crate::http::rate_limit::RateLimits;
use crate::mail::Mailer;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// The time, for everything the server does (the system clock; tests set their own).
    pub clock: Arc<dyn Clock>,
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenService>,
    pub sign_in: Arc<SignInThrottles>,
    pub rate_limits: Arc<RateLimits>,
    pub mailer: Arc<dyn Mailer>,
    /// Wakes the worker that emails people about waiting work (`mail::outbox`).
    pub emails: Arc<crate::mail::outbox::EmailQueue>,
    /// The API's own address (the issuer URL), where its own pages are (password reset).
    pub public_base_url: String,
    /// The portal's address, where emails send people to act (`Config::portal_url`); none without a portal.
    pub portal_url: Option<String>,
    /// Invitation emails an organisation may send in any 24 hours.
    pub invitations_per_day: u32,
    /// Load balancers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// No request runs longer than this (the timeout layer stops it), so an idempotency key claimed longer
    /// ago than this by a request that never finished can be taken over.
    pub request_timeout: std::time::Duration,
    /// The regulated activity codes: reference data, changed only by a migration (so by a new release), read
    /// once at start-up rather than on every notification.
    pub activity_codes: Arc<std::collections::BTreeSet<String>>,
    /// The service-type and service-user-band codes, likewise read once (sections and the checklist use them).
    pub service_types: Arc<std::collections::BTreeSet<String>>,
    pub service_user_bands: Arc<std::collections::BTreeSet<String>>,
    /// Document storage, limits and scanning.
    pub documents: Arc<crate::documents::Documents>,
    /// Appends to the audit trail, in batches.
    pub audit: crate::audit::AuditWriter,
}

/// Backoff after failed sign-ins, and after failed client authentication (a wrong client secret), per address;
/// and password reset emails, per account (every request counts, so a few are sent and then they wait).
///
/// A sign-in is counted against the account *where it is tried*: from a browser the account has signed in on
/// before, that browser (`auth::device`); from anywhere else, the address. Guessing from one place slows that
/// place only, so it cannot lock the person out of their own browser, or out of the account from elsewhere.
/// Guessing spread over many addresses meets the account's own, far more lenient, count, which a remembered
/// browser does not feel; and an address guessing at many accounts meets the per-address count (lenient too,
/// since offices share addresses). See `docs/identity.md`.
pub struct SignInThrottles {
    /// An account, at one address or on one remembered browser.
    pub accounts: Throttle,
    /// An account, wherever it is tried from (but not from a remembered browser).
    pub accounts_anywhere: Throttle,
    pub addresses: Throttle,
    pub client_secrets: Throttle,
    pub reset_emails: Throttle,
    /// Wrong second-factor codes, per person (after a right password).
    pub second_factor: Throttle,
}

impl SignInThrottles {
    /// Counted in `shared` by every node when it is given (and by this node while it is away).
    pub fn new(shared: Option<Arc<crate::http::shared_counts::SharedCounts>>) -> Self {
        let throttle = |name, free| Throttle::sharing(name, free, shared.clone());
        Self {
            accounts: throttle("accounts", 5),
            accounts_anywhere: throttle("accounts-anywhere", 100),
            addresses: throttle("addresses", 50),
            client_secrets: throttle("client-secrets", 5),
            reset_emails: throttle("reset-emails", 3),
            second_factor: throttle("second-factor", 5),
        }
    }
}
