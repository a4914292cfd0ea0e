//! The address of the person using the portal, which the portal passes on to the API (`X-Forwarded-For`) so
//! the API limits and audits by it rather than by the portal's own. Behind the portal's own load balancer the
//! TCP peer is the balancer: then, and only when the peer is a configured trusted proxy, the person is the
//! right-most address in `X-Forwarded-For` that is not itself one (the same rule as the API's).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::Portal;

/// Who is at the other end of this request, if the server knows (it does when served with connection info).
pub struct PersonAddress(pub Option<IpAddr>);

impl FromRequestParts<Portal> for PersonAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, portal: &Portal) -> Result<Self, Self::Rejection> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(address)| address.ip());
        Ok(Self(peer.map(|peer| person(peer, &parts.headers, &portal.config().trusted_proxies))))
    }
}

fn person(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for hop in hops.iter().rev() {
        match hop.parse::<IpAddr>() {
            Ok(address) if trusted.contains(&address) => continue,
            Ok(address) => return address,
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 10.0.0.6".parse().unwrap());
        let proxy: IpAddr = "10.0.0.6".parse().unwrap();
        let stranger: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(person(proxy, &headers, &[proxy]), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(person(stranger, &headers, &[proxy]), stranger);
        assert_eq!(person(proxy, &HeaderMap::new(), &[proxy]), proxy);
    }
}
