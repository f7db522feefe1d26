//! IP allow-lists: a recipient with CIDRs may call only from those networks, on every door
//! (Delta Sharing API, activation link, portal pages, JSON API, downloads).

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
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
    entries
        .iter()
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .map(|e| {
            let net = e
                .parse::<IpNet>()
                .or_else(|_| e.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| PortalError::field("ipAllowList", format!("`{e}` is not an IPv4 or IPv6 network (e.g. 203.0.113.0/24 or 2001:db8::/32)")))?;
            Ok(net.trunc().to_string())
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

/// Records the connection's address under [`PEER_HEADER`], overwriting anything a client sent.
pub async fn record_peer(mut req: Request, next: Next) -> Response {
    let ip = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string());
    req.headers_mut().remove(PEER_HEADER);
    if let Some(value) = ip.and_then(|ip| HeaderValue::from_str(&ip).ok()) {
        req.headers_mut().insert(PEER_HEADER, value);
    }
    next.run(req).await
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
    fn malformed_networks_name_the_entry() {
        for bad in ["10.0.0.0/33", "300.1.1.1", "fe80::/129", "office"] {
            let e = parse_allow_list(&[bad.to_string()]).unwrap_err();
            assert!(e.to_string().contains(bad), "{e}");
            assert_eq!(e.status(), 400);
        }
    }
}
