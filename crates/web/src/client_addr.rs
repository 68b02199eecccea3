//! Which address a request comes from, for per-address limits such as login throttling.
//!
//! Behind a reverse proxy every connection comes from the proxy, so one office's typos would
//! lock out everyone. The proxy names the real client in `X-Forwarded-For`, but anyone can send
//! that header: it is believed only from the addresses configured as `trusted_proxies`, and
//! read from the right, where the nearest proxy appended what it saw.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::State;

/// The proxies whose `X-Forwarded-For` is believed: single addresses or networks.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses `10.0.0.5`, `10.0.0.0/8`, `::1` or `fd00::/8`; an error names the entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|e| {
                let e = e.as_ref().trim();
                e.parse::<IpNet>()
                    .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        format!("trusted_proxies: '{e}' is not an IP address or network (CIDR)")
                    })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The configured entries, as text (for `config check`).
    pub fn entries(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// The client behind a connection from `peer`: the peer itself unless it is a trusted
    /// proxy; then the right-most `X-Forwarded-For` entry that is not a trusted proxy (or the
    /// left-most, if every hop is trusted).
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            // A hop that is not an address cannot have been written by a trusted proxy: stop at
            // the last one that was.
            let Some(ip) = parse_hop(hop) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        client
    }
}

/// An `X-Forwarded-For` entry: a bare address, or one with a port (`1.2.3.4:5678`, `[::1]:80`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .map(canonical)
}

/// IPv4 clients of a dual-stack listener arrive as `::ffff:a.b.c.d`; count them as `a.b.c.d`.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address, for per-address limits.
pub struct ClientAddr(pub String);

impl FromRequestParts<State> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &State) -> Result<Self, Self::Rejection> {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientAddr("unknown".into()));
        };
        Ok(ClientAddr(
            state
                .opts
                .trusted_proxies
                .client(peer, &parts.headers)
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_claim() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("203.0.113.9"), &headers(&["1.1.1.1"])),
            ip("203.0.113.9")
        );
        let t = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
        assert_eq!(
            t.client(ip("203.0.113.9"), &headers(&["1.1.1.1"])),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxies_name_the_client_from_the_right() {
        let t = TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.7"]).unwrap();
        // The client forged a first entry; the proxy appended the real address.
        let h = headers(&["6.6.6.6, 198.51.100.4"]);
        assert_eq!(t.client(ip("10.1.2.3"), &h), ip("198.51.100.4"));
        // Two proxies, the header split over two lines.
        let h = headers(&["6.6.6.6, 198.51.100.4", "192.0.2.7"]);
        assert_eq!(t.client(ip("10.1.2.3"), &h), ip("198.51.100.4"));
        // With a port, and IPv4-mapped peers.
        let h = headers(&["198.51.100.4:5555"]);
        assert_eq!(t.client(ip("::ffff:10.0.0.1"), &h), ip("198.51.100.4"));
        // No header: the proxy itself.
        assert_eq!(t.client(ip("10.0.0.1"), &HeaderMap::new()), ip("10.0.0.1"));
        // Garbage past a trusted hop stops the walk at that hop.
        let h = headers(&["not an address, 10.9.9.9"]);
        assert_eq!(t.client(ip("10.0.0.1"), &h), ip("10.9.9.9"));
    }

    #[test]
    fn bad_entries_are_named() {
        let e = TrustedProxies::parse(&["10.0.0.0/8", "proxy.internal"]).unwrap_err();
        assert!(e.contains("proxy.internal"), "{e}");
        assert!(TrustedProxies::parse(&["::1", "fd00::/8"]).is_ok());
    }
}
