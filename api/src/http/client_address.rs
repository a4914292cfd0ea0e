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
    // A socket bound to [::] sees an IPv4 peer as ::ffff:a.b.c.d; it is the IPv4 address, and is matched and
    // recorded as such (`trusted` is canonical too: see `Config::trusted_proxies`).
    let peer = peer.to_canonical();
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
        match hop.parse::<IpAddr>().map(|address| address.to_canonical()) {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return address,
            // Anything unreadable ends the chain: trust stops where the proxies' own records stop.
            Err(_) => return peer,
        }
    }
    peer
}

/// Whose allowance a request from `address` spends. One IPv4 address is one allowance; an IPv6 network is
/// handed out a /64 at a time (RFC 6177 and every ISP), so a single host can use 2^64 addresses and only the
/// /64 stands for one caller.
pub fn allowance_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        v4 => v4,
    }
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

        let mapped: IpAddr = "::ffff:10.0.0.5".parse().unwrap();
        assert_eq!(client_address(mapped, &headers("203.0.113.9"), &trusted), client, "an IPv4-mapped proxy");
        assert_eq!(client_address(proxy, &headers("::ffff:203.0.113.9"), &trusted), client, "an IPv4-mapped client");
    }

    #[test]
    fn an_ipv6_allowance_is_its_64_and_an_ipv4_one_its_address() {
        let key = |a: &str| allowance_key(a.parse().unwrap()).to_string();
        assert_eq!(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("198.51.100.4"), "198.51.100.4");
        assert_eq!(key("::ffff:198.51.100.4"), "198.51.100.4");
    }
}
