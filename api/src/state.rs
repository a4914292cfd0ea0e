use std::sync::Arc;

use crate::auth::throttle::Throttle;
use crate::auth::token::TokenService;
use crate::http::rate_limit::RateLimits;
use crate::mail::Mailer;
use crate::store::Store;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenService>,
    pub sign_in: Arc<SignInThrottles>,
    pub rate_limits: Arc<RateLimits>,
    pub mailer: Arc<dyn Mailer>,
    /// Where people are sent from emails (the issuer URL).
    pub public_base_url: String,
    /// Load balancers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<std::net::IpAddr>>,
    /// Document storage, limits and scanning.
    pub documents: Arc<crate::documents::Documents>,
}

/// Backoff after failed sign-ins: per account, and (more leniently, since offices share addresses) per
/// client address.
pub struct SignInThrottles {
    pub accounts: Throttle,
    pub addresses: Throttle,
}

impl Default for SignInThrottles {
    fn default() -> Self {
        Self { accounts: Throttle::new(5), addresses: Throttle::new(50) }
    }
}
