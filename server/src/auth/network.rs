//! IP allow-lists: a recipient with CIDRs may call only from those networks, on every door
//! (Delta Sharing API, activation link, portal pages, JSON API, downloads).

use std::net::{IpAddr, SocketAddr};

use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ipnet::IpNet;

use crate::catalog::Recipient;
use crate::error::{PortalError, Result};

/// Where the connection came from, as the `peer` middleware recorded it. Internal: the middleware
/// replaces whatever a client sent under this name.
pub const PEER_HEADER: &str = "x-portal-peer";

/// Parses an allow-list, refusing the first malformed entry by name. A bare address is a /32 or /128.
pub fn parse_allow_list(entries: &[String]) -> Result<Vec<String>> {
    Ok(parse_networks(entries)?.iter().map(|n| n.to_string()).collect())
}

/// Networks from their text (CIDRs or bare addresses); the first malformed entry is named.
pub fn parse_networks(entries: &[String]) -> Result<Vec<IpNet>> {
    entries
        .iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .map(|e| {
            let net = e.parse::<IpNet>().or_else(|_| e.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                PortalError::field("ipAllowList", format!("`{e}` is not an IPv4 or IPv6 network (e.g. 203.0.113.0/24 or 2001:db8::/32)"))
            })?;
            Ok(net.trunc())
        })
        .collect()
}

/// `Forbidden` unless the recipient's allow-list is empty or holds the address.
pub fn admits(recipient: &Recipient, ip: Option<IpAddr>) -> Result<()> {
    if recipient.ip_allow.is_empty() {
        return Ok(());
    }
    let Some(ip) = ip.map(|ip| ip.to_canonical()) else {
        return Err(PortalError::Forbidden("this recipient may only call from its allowed networks".into()));
    };
    let allowed = recipient.ip_allow.iter().filter_map(|n| n.parse::<IpNet>().ok()).any(|net| net.contains(&ip));
    if allowed {
        Ok(())
    } else {
        Err(PortalError::Forbidden(format!("requests from {ip} are not allowed for this recipient")))
    }
}

/// The peer address recorded on the request.
pub fn peer(headers: &HeaderMap) -> Option<IpAddr> {
    headers.get(PEER_HEADER)?.to_str().ok()?.parse().ok()
}

/// The one header the proxies maintain. Only that one is read: a proxy passes the other on as
/// the client wrote it, so reading both would let a client choose its own address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For`, which nginx (`$proxy_add_x_forwarded_for`) and most balancers append to.
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=…`.
    Forwarded,
}

impl ForwardedHeader {
    pub fn parse(text: &str) -> Result<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(Self::XForwardedFor),
            "forwarded" => Ok(Self::Forwarded),
            other => Err(PortalError::Config(format!("PORTAL_FORWARDED_HEADER must be x-forwarded-for or forwarded; got `{other}`"))),
        }
    }
}

/// The reverse proxies in front of the portal, as `record_peer` needs them.
#[derive(Clone, Debug, Default)]
pub struct Proxies {
    pub trusted: Vec<IpNet>,
    pub header: ForwardedHeader,
}

/// Records the client's address under [`PEER_HEADER`], overwriting anything a client sent: the
/// connection's address, or, when that is a trusted proxy, the address the proxies say they
/// were called from (the nearest untrusted hop of the configured header).
pub async fn record_peer(State(proxies): State<Arc<Proxies>>, mut req: Request, next: Next) -> Response {
    let connection = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical());
    let ip = connection.map(|ip| client_address(ip, req.headers(), &proxies));
    req.headers_mut().remove(PEER_HEADER);
    if let Some(value) = ip.and_then(|ip| HeaderValue::from_str(&ip.to_string()).ok()) {
        req.headers_mut().insert(PEER_HEADER, value);
    }
    next.run(req).await
}

/// The client behind `connection`: walks the forwarding chain from the nearest hop back while
/// the hops are trusted proxies. Untrusted peers' headers are ignored entirely.
pub fn client_address(connection: IpAddr, headers: &HeaderMap, proxies: &Proxies) -> IpAddr {
    let is_trusted = |ip: &IpAddr| proxies.trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&connection) {
        return connection;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    match proxies.header {
        ForwardedHeader::Forwarded => {
            for value in headers.get_all("forwarded") {
                for element in value.to_str().unwrap_or_default().split(',') {
                    let found = element
                        .split(';')
                        .filter_map(|pair| pair.trim().split_once('='))
                        .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"));
                    hops.extend(found.and_then(|(_, v)| forwarded_ip(v)));
                }
            }
        }
        ForwardedHeader::XForwardedFor => {
            for value in headers.get_all("x-forwarded-for") {
                hops.extend(value.to_str().unwrap_or_default().split(',').filter_map(forwarded_ip));
            }
        }
    }
    let mut client = connection;
    for hop in hops.into_iter().rev() {
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    client
}

/// An address as forwarding headers write it: `203.0.113.7`, `"[2001:db8::1]:4711"`, `192.0.2.1:80`.
fn forwarded_ip(text: &str) -> Option<IpAddr> {
    let t = text.trim().trim_matches('"');
    if let Some(rest) = t.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    t.parse::<IpAddr>().ok().or_else(|| t.parse::<SocketAddr>().ok().map(|s| s.ip())).map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(list: &[&str]) -> Recipient {
        Recipient {
            id: "r".into(),
            name: "r".into(),
            comment: None,
            properties: Default::default(),
            created_at: 0,
            team_id: "default".into(),
            ip_allow: parse_allow_list(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap(),
            oidc: None,
            limits: Default::default(),
        }
    }

    #[test]
    fn allow_lists_match_v4_and_v6_networks() {
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert!(admits(&with(&[]), None).is_ok());
        let r = with(&["10.0.0.0/8", "2001:db8::/32", "192.0.2.7"]);
        assert!(admits(&r, ip("10.1.2.3")).is_ok());
        assert!(admits(&r, ip("::ffff:10.1.2.3")).is_ok());
        assert!(admits(&r, ip("2001:db8::1")).is_ok());
        assert!(admits(&r, ip("192.0.2.7")).is_ok());
        assert_eq!(admits(&r, ip("192.0.2.8")).unwrap_err().status(), 403);
        assert_eq!(admits(&r, ip("127.0.0.1")).unwrap_err().status(), 403);
        assert!(admits(&r, None).is_err());
        assert_eq!(with(&["10.1.2.3/8"]).ip_allow, ["10.0.0.0/8"]);
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let trusted = Proxies { trusted: parse_networks(&["10.0.0.0/8".into()]).unwrap(), header: ForwardedHeader::XForwardedFor };
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(*k, HeaderValue::from_str(v).unwrap());
            }
            h
        };
        let forged = headers(&[("x-forwarded-for", "198.51.100.1")]);
        // Anyone else's header is ignored.
        assert_eq!(client_address(ip("203.0.113.9"), &forged, &trusted), ip("203.0.113.9"));
        assert_eq!(client_address(ip("10.0.0.2"), &forged, &trusted), ip("198.51.100.1"));
        // A client that sends its own X-Forwarded-For cannot hide behind it: the proxy appends.
        let chain = headers(&[("x-forwarded-for", "192.0.2.66, 203.0.113.9, 10.0.0.3")]);
        assert_eq!(client_address(ip("10.0.0.2"), &chain, &trusted), ip("203.0.113.9"));
        // Only the configured header counts: a client's own `Forwarded` passes nginx untouched.
        let standard = headers(&[("forwarded", "for=\"[2001:db8::7]:4711\";proto=https, for=10.0.0.5")]);
        assert_eq!(client_address(ip("10.0.0.2"), &standard, &trusted), ip("10.0.0.2"));
        let rfc = Proxies { header: ForwardedHeader::Forwarded, ..trusted.clone() };
        assert_eq!(client_address(ip("10.0.0.2"), &standard, &rfc), ip("2001:db8::7"));
        assert_eq!(client_address(ip("10.0.0.2"), &chain, &rfc), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn malformed_networks_name_the_entry() {
        for bad in ["10.0.0.0/33", "300.1.1.1", "fe80::/129", "office"] {
            let e = parse_allow_list(&[bad.to_string()]).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
            assert_eq!(e.status(), 400);
        }
    }
}
