//! Checking a person's password where they sign in (the sign-in page, accepting an invitation with an
//! existing account): throttled before the check, counted where it is tried from, and hashed off the async
//! workers. See `SignInThrottles` for what is counted where.

use std::net::IpAddr;
use std::time::Duration;

use axum::http::HeaderMap;
use provider_api_core::accounts::User;
use uuid::Uuid;

use super::throttle::attempt_all;
use super::{device, password};
use crate::http::Problem;
use crate::http::client_address::allowance_key;
use crate::state::AppState;

/// What came of a password check.
pub enum Checked {
    /// The right password for an active account; `device` is the browser, if it had signed in here before.
    Right { user: User, device: Option<Uuid> },
    /// Wrong (or no such account, or a disabled one: they read the same).
    Wrong,
    /// Too many failures here lately: try again after this long (the password was not checked).
    Wait(Duration),
}

/// Checks `password` for the account `email_normalised`, from `address`, with the request's cookies.
pub async fn check(
    state: &AppState,
    headers: &HeaderMap,
    address: IpAddr,
    email_normalised: &str,
    presented: &str,
) -> Result<Checked, Problem> {
    let user = state.store.user_by_email(email_normalised).await?;
    let device = match &user {
        Some(user) => device::recognised(state, headers, user.id).await,
        None => None,
    };
    let throttles = &state.sign_in;
    let here = match device {
        Some(device) => format!("account:{email_normalised}|device:{device}"),
        None => format!("account:{email_normalised}|address:{}", allowance_key(address)),
    };
    let anywhere = format!("account:{email_normalised}");
    let address_key = format!("address:{}", allowance_key(address));
    let keys: Vec<(&super::throttle::Throttle, &str)> = match device {
        Some(_) => vec![(&throttles.accounts, &here)],
        None => vec![
            (&throttles.addresses, &address_key),
            (&throttles.accounts_anywhere, &anywhere),
            (&throttles.accounts, &here),
        ],
    };
    let attempts = match attempt_all(&keys).await {
        Ok(attempts) => attempts,
        Err(wait) => return Ok(Checked::Wait(wait)),
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    let right = password::verify_off_the_workers(presented, hash.as_deref()).await;
    match user.filter(|u| right && !u.disabled) {
        Some(user) => {
            throttles.accounts.clear(&here).await;
            if device.is_none() {
                // A remembered browser is never counted against the account as a whole or its address, so its
                // success clears neither: it must not hand someone guessing elsewhere a fresh allowance.
                throttles.accounts_anywhere.clear(&anywhere).await;
                throttles.addresses.refund(&address_key, attempts[0]).await;
            }
            Ok(Checked::Right { user, device })
        }
        None => Ok(Checked::Wrong),
    }
}
