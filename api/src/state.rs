use std::sync::Arc;

use crate::auth::throttle::Throttle;
use crate::auth::token::TokenService;
use crate::http::rate_limit::RateLimits;
use crate::store::Store;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub tokens: Arc<TokenService>,
    pub sign_in: Arc<SignInThrottles>,
    pub rate_limits: Arc<RateLimits>,
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
