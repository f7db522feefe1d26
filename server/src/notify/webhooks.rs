//! Partners' webhooks: events POSTed as JSON to a URL the partner registers, signed so the
//! receiver can tell them from forgeries. The signing secret of a webhook is derived from the
//! portal's webhook key and the webhook's id (`whsec_…`): nothing secret is stored per webhook,
//! and the partner can read it again on `/connect`. Sent through the outbox like e-mail, with
//! the same retries, so each message's attempts are the webhook's delivery log.
//!
//! Each request carries `X-Portal-Event`, `X-Portal-Delivery` (the message id: the same on
//! retries) and `X-Portal-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use url::Host;

use crate::catalog::{Message, NewMessage, Recipient, Webhook};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;
use crate::Services;

const ROOT: &str = "webhook-root";
const NAME_MAX: usize = 60;

fn hmac_hex(key: &[u8], data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// The webhook's signing secret.
pub async fn secret(s: &Services, webhook_id: &str) -> Result<String> {
    let root = s.catalog.portal_secret(ROOT, &hex::encode(secrets::random_bytes())).await?;
    Ok(format!("whsec_{}", hmac_hex(root.as_bytes(), webhook_id.as_bytes())))
}

/// `X-Portal-Signature` of `body` sent at `unix_secs`.
pub fn signature(secret: &str, unix_secs: i64, body: &str) -> String {
    format!("t={unix_secs},v1={}", hmac_hex(secret.as_bytes(), format!("{unix_secs}.{body}").as_bytes()))
}

/// Registers a webhook of `recipient` at `url`, checked.
pub async fn register(s: &Services, recipient: &Recipient, name: &str, url: &str) -> Result<Webhook> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(PortalError::field("name", format!("give the webhook a name of 1 to {NAME_MAX} characters")));
    }
    let (url, _) = checked_url(s, url.trim()).await?;
    s.catalog.add_webhook(&recipient.id, name, url.as_str()).await
}

/// A URL the portal may POST to: https to a public address, unless `webhook_allow_private`.
/// Returns the addresses checked, which the request then connects to (no second lookup that a
/// rebinding name server could answer differently); none when private addresses are allowed.
async fn checked_url(s: &Services, text: &str) -> Result<(url::Url, Vec<SocketAddr>)> {
    let url = url::Url::parse(text).map_err(|_| PortalError::field("url", format!("`{text}` is not a URL")))?;
    let private_ok = s.settings.webhook_allow_private;
    match url.scheme() {
        "https" => {}
        "http" if private_ok => {}
        _ => return Err(PortalError::field("url", "a webhook URL must start with https://")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(PortalError::field("url", "put no user name or password in the URL; check the signature instead"));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<SocketAddr> = match url.host() {
        None => return Err(PortalError::field("url", "the URL has no host")),
        Some(_) if private_ok => return Ok((url, Vec::new())),
        Some(Host::Ipv4(ip)) => vec![SocketAddr::new(IpAddr::V4(ip), port)],
        Some(Host::Ipv6(ip)) => vec![SocketAddr::new(IpAddr::V6(ip), port)],
        Some(Host::Domain(name)) => {
            let lookup = tokio::time::timeout(Duration::from_secs(5), tokio::net::lookup_host((name, port))).await;
            match lookup {
                Ok(Ok(found)) => found.collect(),
                _ => return Err(PortalError::field("url", format!("`{name}` cannot be found"))),
            }
        }
    };
    if addresses.is_empty() || addresses.iter().any(|a| !is_public(&a.ip())) {
        let host = url.host_str().unwrap_or_default();
        return Err(PortalError::field(
            "url",
            format!("`{host}` is not a public address; the portal posts only to public https receivers"),
        ));
    }
    Ok((url, addresses))
}

/// Not loopback, private, link-local (cloud metadata), shared, reserved, documentation,
/// benchmarking or multicast; IPv6 forms that carry an IPv4 address are judged by it.
fn is_public(ip: &IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || a >= 240
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b)))
        }
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            let embedded =
                |high: u16, low: u16| IpAddr::V4(std::net::Ipv4Addr::new((high >> 8) as u8, high as u8, (low >> 8) as u8, low as u8));
            // NAT64 (64:ff9b::/96), 6to4 (2002::/16) and the old IPv4-compatible ::a.b.c.d.
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] || segments[..6] == [0; 6] && (segments[6] != 0 || segments[7] > 1) {
                return is_public(&embedded(segments[6], segments[7]));
            }
            if segments[0] == 0x2002 {
                return is_public(&embedded(segments[1], segments[2]));
            }
            let first = segments[0];
            !(v6.is_loopback() || v6.is_unspecified() || v6.is_multicast() || (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80)
        }
    }
}

/// Queues `event` with its JSON `payload` for every webhook of `recipient`; how many.
pub async fn to_webhooks(s: &Services, recipient: &Recipient, event: &str, cause: &str, payload: &serde_json::Value) -> Result<usize> {
    let mut queued = 0;
    for hook in s.catalog.webhooks_of(&recipient.id).await? {
        queued += usize::from(queue(s, recipient, &hook, event, cause, payload).await?);
    }
    Ok(queued)
}

/// Queues `event` for one webhook, once per `cause`; whether it is new.
pub async fn queue(
    s: &Services,
    recipient: &Recipient,
    hook: &Webhook,
    event: &str,
    cause: &str,
    payload: &serde_json::Value,
) -> Result<bool> {
    let body = serde_json::json!({ "event": event, "recipient": recipient.name, "data": payload }).to_string();
    let key = format!("{cause}:{}", hook.id);
    let message = NewMessage {
        dedupe_key: &key,
        recipient_id: &recipient.id,
        contact_id: None,
        webhook_id: Some(&hook.id),
        kind: event,
        target: &hook.url,
        subject: event,
        body: &body,
    };
    s.catalog.enqueue(&message).await
}

/// POSTs a webhook message; `Err` says why it did not land (tried again later).
pub async fn post(s: &Services, client: &reqwest::Client, m: &Message) -> Result<(), String> {
    let hook = m.webhook_id.as_deref().ok_or("a webhook message without its webhook")?;
    // Checked again at each send: the name may point elsewhere now.
    let (url, pinned) = checked_url(s, &m.target).await.map_err(|e| e.to_string())?;
    let secret = secret(s, hook).await.map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    // Connects to the addresses just checked, not to whatever the name resolves to next.
    let pinned_client;
    let client = match (url.host_str(), pinned.is_empty()) {
        (Some(host), false) => {
            pinned_client = builder().resolve_to_addrs(host, &pinned).build().map_err(|e| e.to_string())?;
            &pinned_client
        }
        _ => client,
    };
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .header("user-agent", "partner-data-portal-webhooks")
        .header("x-portal-event", &m.kind)
        .header("x-portal-delivery", &m.id)
        .header("x-portal-signature", signature(&secret, now, &m.body))
        .body(m.body.clone())
        .send()
        .await
        .map_err(|e| format!("could not reach the receiver: {e}"))?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {}", response.status()))
    }
}

/// The HTTP client webhooks go out with: no redirects (a receiver cannot bounce the portal
/// elsewhere), short timeouts.
pub fn client() -> Result<reqwest::Client> {
    builder().build().map_err(|e| PortalError::fault("webhook client", e))
}

fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_of_the_time_and_body() {
        let sig = signature("whsec_k", 1_767_000_000, "{}");
        assert_eq!(sig, format!("t=1767000000,v1={}", hmac_hex(b"whsec_k", b"1767000000.{}")));
        assert_ne!(sig, signature("whsec_k", 1_767_000_001, "{}"));
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(&private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_public(&public.parse().unwrap()), "{public}");
        }
    }
}
