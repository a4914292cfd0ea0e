//! The address a request comes from. Behind a load balancer the TCP peer is the balancer, so when the peer is
//! one of the configured trusted proxies, the client is the right-most address in `X-Forwarded-For` that is
//! not itself a trusted proxy. A header from anyone else is ignored: it is trivially forged.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::http::Problem;
use crate::state::AppState;

pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return address,
            // Anything unreadable ends the chain: trust stops where the proxies' own records stop.
            Err(_) => return peer,
        }
    }
    peer
}

/// The request's client address, as [`client_address`] decides it.
pub struct ClientAddress(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(address)| address.ip())
            .unwrap_or(IpAddr::from([0, 0, 0, 0]));
        Ok(Self(client_address(peer, &parts.headers, &state.trusted_proxies)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", forwarded.parse().unwrap());
        headers
    }

    #[test]
    fn only_a_trusted_proxy_is_believed_and_only_up_to_the_first_untrusted_hop() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let client: IpAddr = "203.0.113.9".parse().unwrap();
        let trusted = [proxy, "10.0.0.6".parse().unwrap()];

        assert_eq!(client_address(proxy, &headers("203.0.113.9"), &trusted), client);
        assert_eq!(client_address(proxy, &headers("198.51.100.1, 203.0.113.9, 10.0.0.6"), &trusted), client);
        let stranger: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(client_address(stranger, &headers("203.0.113.9"), &trusted), stranger, "a forged header is ignored");
        assert_eq!(client_address(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_address(proxy, &headers("garbage"), &trusted), proxy);
    }
}
