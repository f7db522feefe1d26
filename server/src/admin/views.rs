//! Catalog records as the admin API and the console show them.

use app::contract::{LinkSummary, OidcView, RecipientSummary, TokenSummary};

use crate::catalog::{LinkRecord, OidcBinding, Recipient, TokenRecord, TokenStatus, Usage};
use crate::primitives::time::rfc3339_ms;

/// Tokens ending within this window make a recipient `expiring`.
const EXPIRING_MS: i64 = 7 * 24 * 3_600_000;

/// Where a recipient stands: `new`, `invited`, `activated`, `expiring`, `expired` or `revoked`.
/// Single sign-on tokens live only as long as a browser session, so they never make a
/// recipient `expiring`.
pub fn status(tokens: &[TokenRecord], links: &[LinkRecord], now: i64) -> &'static str {
    let active: Vec<&TokenRecord> = tokens.iter().filter(|t| t.status(now) == TokenStatus::Active).collect();
    if !active.is_empty() {
        let lasting = active.iter().any(|t| t.expires_at.is_none_or(|e| e - now > EXPIRING_MS) || t.is_single_sign_on());
        return if lasting { "activated" } else { "expiring" };
    }
    if links.iter().any(|l| l.status(now) == "pending") {
        return "invited";
    }
    match tokens.iter().max_by_key(|t| t.revoked_at.or(t.expires_at).unwrap_or(0)) {
        None => "new",
        Some(last) if last.revoked_at.is_some() => "revoked",
        Some(_) => "expired",
    }
}

pub fn summary(r: &Recipient, team: &str, status: &str, usage: Option<&Usage>) -> RecipientSummary {
    RecipientSummary {
        name: r.name.clone(),
        comment: r.comment.clone(),
        team: team.to_string(),
        properties: r.properties.clone(),
        ip_allow_list: r.ip_allow.clone(),
        oidc: r.oidc.as_ref().map(oidc_view),
        status: status.to_string(),
        last_access: usage.and_then(|u| u.last_access).map(rfc3339_ms),
        rows_read: usage.map_or(0, |u| u.rows),
        bytes_read: usage.map_or(0, |u| u.bytes),
        created_at: rfc3339_ms(r.created_at),
        limits: crate::export::limits::view(&r.limits),
    }
}

pub fn oidc_view(b: &OidcBinding) -> OidcView {
    OidcView { issuer: b.issuer.clone(), email_domain: b.email_domain.clone(), claim: b.claim.clone() }
}

pub fn token(t: &TokenRecord, now: i64) -> TokenSummary {
    TokenSummary {
        id: t.id.clone(),
        name: t.name.clone(),
        status: t.status(now).as_str().into(),
        created_at: rfc3339_ms(t.created_at),
        expires_at: t.expires_at.map(rfc3339_ms),
        last_used_at: t.last_used_at.map(rfc3339_ms),
    }
}

pub fn link(l: &LinkRecord, now: i64) -> LinkSummary {
    LinkSummary {
        id: l.id.clone(),
        status: l.status(now).to_string(),
        created_at: rfc3339_ms(l.created_at),
        expires_at: rfc3339_ms(l.expires_at),
    }
}

pub fn client(c: &crate::catalog::OAuthClient, now: i64) -> app::contract::ClientSummary {
    app::contract::ClientSummary {
        id: c.id.clone(),
        client_id: c.client_id.clone(),
        name: c.name.clone(),
        status: c.status(now).as_str().into(),
        created_at: rfc3339_ms(c.created_at),
        expires_at: c.expires_at.map(rfc3339_ms),
        last_used_at: c.last_used_at.map(rfc3339_ms),
        previous_secret_until: c.previous_until.filter(|u| *u > now).map(rfc3339_ms),
    }
}

pub fn policy(p: &crate::catalog::FederationPolicy) -> app::contract::FederationPolicyView {
    app::contract::FederationPolicyView {
        id: p.id.clone(),
        name: p.name.clone(),
        issuer: p.issuer.clone(),
        audiences: p.audiences.clone(),
        subject_claim: p.subject_claim.clone(),
        subject_values: p.subject_values.clone(),
        scope: p.scope.clone(),
        created_at: rfc3339_ms(p.created_at),
    }
}

pub fn contact(c: &crate::catalog::Contact) -> app::contract::ContactView {
    app::contract::ContactView { id: c.id.clone(), email: c.email.clone(), name: c.name.clone(), opted_out: c.opted_out.clone() }
}

pub fn notification(m: &crate::catalog::Message) -> app::contract::NotificationView {
    app::contract::NotificationView {
        to: m.target.clone(),
        kind: m.kind.clone(),
        subject: m.subject.clone(),
        status: m.status.clone(),
        attempts: m.attempts,
        error: m.last_error.clone(),
        created_at: rfc3339_ms(m.created_at),
        sent_at: m.sent_at.map(rfc3339_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(expires_at: Option<i64>, revoked_at: Option<i64>) -> TokenRecord {
        TokenRecord { id: "t".into(), recipient_id: "r".into(), name: None, created_at: 0, expires_at, last_used_at: None, revoked_at }
    }

    #[test]
    fn statuses_follow_tokens_then_links() {
        let now = 1_000_000_000_000;
        let pending = LinkRecord { id: "l".into(), created_at: 0, expires_at: now + 1, used_at: None };
        assert_eq!(status(&[], &[], now), "new");
        assert_eq!(status(&[], std::slice::from_ref(&pending), now), "invited");
        assert_eq!(status(&[token(None, None)], &[], now), "activated");
        assert_eq!(status(&[token(Some(now + 3_600_000), None)], &[], now), "expiring");
        assert_eq!(status(&[token(Some(now - 1), None)], &[], now), "expired");
        assert_eq!(status(&[token(None, Some(now - 1))], &[], now), "revoked");
        assert_eq!(status(&[token(None, Some(now - 1))], &[pending], now), "invited");
    }
}
