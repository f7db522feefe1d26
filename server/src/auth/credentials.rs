//! Bearer tokens and activation links: issuing them, and turning a presented token into a caller.

use crate::primitives::time::rfc3339_ms;
use serde::Serialize;

use std::sync::Arc;

use super::federation::Federation;
use crate::catalog::{now_ms, Catalog, Recipient, TokenRecord, TokenStatus};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;

pub(super) const TOKEN_PREFIX: &str = "dss_";
/// The access tokens of the portal's token endpoint (`oauth_clients`).
pub(super) const ACCESS_TOKEN_PREFIX: &str = "dso_";
const ACTIVATION_PREFIX: &str = "act_";
/// Tokens from activation links live a year unless an admin says otherwise (Databricks' maximum).
pub const DEFAULT_TOKEN_TTL_DAYS: u32 = 365;
pub const DEFAULT_ACTIVATION_TTL_HOURS: u32 = 72;

/// An authenticated recipient.
#[derive(Clone, Debug)]
pub struct Caller {
    pub recipient: Recipient,
    /// The token (or OAuth client, or federation policy) it came in with.
    pub token_id: String,
    pub via: Via,
}

/// How a caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Via {
    /// One of the recipient's own tokens, or a browser session opened with one.
    Token,
    /// An access token of the portal's token endpoint, given to this OAuth client.
    Client { client_id: String, name: String },
    /// A JWT of the partner's own identity provider, admitted by a federation policy.
    Federated { issuer: String, subject: String },
}

impl Via {
    /// An audit line's detail, with how a caller that did not come with a token of its own
    /// authenticated added to it.
    pub fn added_to(&self, detail: Option<String>) -> Option<String> {
        let via = match self {
            Self::Token => return detail,
            Self::Client { client_id, name } => format!("oauth client {client_id} ({name})"),
            Self::Federated { issuer, subject } => format!("federated iss={issuer} sub={subject}"),
        };
        Some(match detail {
            Some(detail) => format!("{detail}; {via}"),
            None => via,
        })
    }
}

/// A recipient's token limits: the admin's per-recipient values, else the portal's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenPolicy {
    pub max_days: u32,
    pub max_active: u32,
}

/// A freshly issued token: the only moment the plain token exists (sealed while it waits to be shown).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct IssuedToken {
    pub record: TokenRecord,
    pub token: String,
}

/// Never prints the token itself, so it cannot end up in a log line.
impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken").field("record", &self.record).field("token", &"<redacted>").finish()
    }
}

/// The v1 bearer-token profile (`config.share`) every official client and BI connector reads.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub share_credentials_version: u32,
    pub endpoint: String,
    pub bearer_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_time: Option<String>,
}

/// What an activation link is, as seen by a visitor.
pub enum LinkState {
    Ready { recipient: Recipient, expires_at: i64 },
    Used(Recipient),
    Expired(Recipient),
    Unknown,
}

#[derive(Clone)]
pub struct Credentials {
    catalog: Catalog,
    public_url: String,
    endpoint: String,
    defaults: TokenPolicy,
    access_token_secs: u32,
    federation: Arc<Federation>,
}

impl Credentials {
    /// `public_url`: where partners reach the portal (the sharing endpoint and the token
    /// endpoint are under it).
    pub fn new(catalog: Catalog, public_url: String, defaults: TokenPolicy) -> Self {
        let federation = Arc::new(Federation::new().expect("an HTTP client without custom TLS settings always builds"));
        let endpoint = format!("{public_url}/delta-sharing");
        Self { catalog, public_url, endpoint, defaults, access_token_secs: crate::config::DEFAULT_ACCESS_TOKEN_SECS, federation }
    }

    /// How long the token endpoint's access tokens live.
    pub fn with_access_token_secs(mut self, secs: u32) -> Self {
        self.access_token_secs = secs;
        self
    }

    pub fn access_token_secs(&self) -> u32 {
        self.access_token_secs
    }

    /// The token endpoint of a partner's identity provider, from its discovery document.
    pub async fn federation_token_endpoint(&self, issuer: &str) -> Option<String> {
        self.federation.token_endpoint(issuer).await
    }

    pub(super) fn public_url(&self) -> &str {
        &self.public_url
    }

    pub(super) fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The portal-wide token limits (a recipient's own policy may narrow or widen them).
    pub fn defaults(&self) -> TokenPolicy {
        self.defaults
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An admin-issued token (the CLI); no policy applies to admins.
    pub async fn create_token(&self, recipient: &str, name: Option<&str>, ttl_days: Option<u32>) -> Result<IssuedToken> {
        let recipient = self.catalog.recipient(recipient).await?;
        let token = secrets::generate(TOKEN_PREFIX);
        let record = self.catalog.insert_token(&recipient.id, name, &secrets::hash(&token), expiry_after_days(ttl_days)).await?;
        Ok(IssuedToken { record, token })
    }

    /// A partner's employee signed in through their identity provider: the browser session
    /// stands on a token of its own, named after the person, that ends with the session (and
    /// shows on `/connect`, where it can be revoked like any other).
    pub async fn single_sign_on(&self, recipient: &Recipient, who: &str, hours: u32) -> Result<Caller> {
        let token = secrets::generate(TOKEN_PREFIX);
        let name = format!("{}{who}", crate::catalog::SSO_TOKEN_PREFIX);
        let expires_at = now_ms() + i64::from(hours) * 3_600_000;
        let record = self.catalog.insert_token(&recipient.id, Some(&name), &secrets::hash(&token), Some(expires_at)).await?;
        Ok(Caller { recipient: recipient.clone(), token_id: record.id, via: Via::Token })
    }

    pub fn profile(&self, issued: &IssuedToken) -> Profile {
        Profile {
            share_credentials_version: 1,
            endpoint: self.endpoint.clone(),
            bearer_token: issued.token.clone(),
            expiration_time: issued.record.expires_at.map(rfc3339_ms),
        }
    }

    /// `Authorization: Bearer <token>` → the caller, or 401 for anything missing, unknown,
    /// revoked or expired: one of the recipient's tokens, an access token of the portal's token
    /// endpoint, or a JWT of a partner's identity provider that a federation policy admits.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Caller> {
        let token = bearer(header)?;
        if token.starts_with(ACCESS_TOKEN_PREFIX) {
            return self.authenticate_access_token(token).await;
        }
        if Federation::looks_like_jwt(token) {
            let federated = self.federation.verify(&self.catalog, token).await?;
            let via = Via::Federated { issuer: federated.issuer, subject: federated.subject };
            return Ok(Caller { recipient: federated.recipient, token_id: format!("federation:{}", federated.policy_id), via });
        }
        self.authenticate_token(token).await
    }

    /// One of the recipient's own tokens only (what a browser signs in with).
    pub async fn authenticate_token(&self, token: &str) -> Result<Caller> {
        let presented = secrets::hash(token);
        let Some((record, stored, recipient)) = self.catalog.token_by_hash(&presented).await? else {
            return Err(PortalError::BadCredentials("invalid bearer token".into()));
        };
        if !secrets::same_hash(&presented, &stored) {
            return Err(PortalError::BadCredentials("invalid bearer token".into()));
        }
        match record.status(now_ms()) {
            TokenStatus::Active => {}
            TokenStatus::Revoked => return Err(stale(recipient.name, "this bearer token was revoked")),
            TokenStatus::Expired => return Err(stale(recipient.name, "this bearer token has expired")),
        }
        self.catalog.touch_token(&record).await?;
        Ok(Caller { recipient, token_id: record.id, via: Via::Token })
    }

    /// Creates a one-time link; returns the code to put in the URL (never stored).
    pub async fn create_activation_link(&self, recipient: &str, ttl_hours: u32) -> Result<String> {
        if ttl_hours == 0 {
            return Err(PortalError::InvalidParameter("--ttl-hours must be at least 1".into()));
        }
        let code = secrets::generate(ACTIVATION_PREFIX);
        let expires_at = now_ms() + i64::from(ttl_hours) * 3_600_000;
        self.catalog.insert_activation_link(recipient, &secrets::hash(&code), expires_at).await?;
        Ok(code)
    }

    /// Looks at a link without spending it.
    pub async fn link_state(&self, code: &str) -> Result<LinkState> {
        let presented = secrets::hash(code);
        let Some((link, stored)) = self.catalog.activation_link(&presented).await? else {
            return Ok(LinkState::Unknown);
        };
        if !secrets::same_hash(&presented, &stored) {
            return Ok(LinkState::Unknown);
        }
        Ok(if link.used_at.is_some() {
            LinkState::Used(link.recipient)
        } else if link.expires_at <= now_ms() {
            LinkState::Expired(link.recipient)
        } else {
            LinkState::Ready { recipient: link.recipient, expires_at: link.expires_at }
        })
    }

    /// Spends the link and returns the recipient's new profile. Works exactly once.
    pub async fn redeem(&self, code: &str) -> Result<(Recipient, IssuedToken)> {
        let presented = secrets::hash(code);
        let found = self.catalog.activation_link(&presented).await?;
        let Some((link, _)) = found.filter(|(_, stored)| secrets::same_hash(&presented, stored)) else {
            return Err(PortalError::NotFound("this activation link does not exist".into()));
        };
        let token = secrets::generate(TOKEN_PREFIX);
        let expires = expiry_after_days(Some(DEFAULT_TOKEN_TTL_DAYS));
        let record = self.catalog.redeem_activation_link(&link.id, &secrets::hash(&token), expires).await?;
        Ok((link.recipient, IssuedToken { record, token }))
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(header: Option<&str>) -> Result<&str> {
    header
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| PortalError::Unauthenticated("missing bearer token".into()))
}

fn expiry_after_days(days: Option<u32>) -> Option<i64> {
    days.map(|d| now_ms() + i64::from(d) * 86_400_000)
}

/// A token of `recipient` that no longer works: refused, and the refusal names whose it was.
fn stale(recipient: String, message: &str) -> PortalError {
    PortalError::StaleToken { recipient, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_catalog;
    use std::collections::BTreeMap;

    async fn setup() -> (Credentials, Catalog, tempfile::TempDir) {
        let (catalog, dir) = test_catalog().await;
        catalog.create_recipient("acme", None, BTreeMap::new()).await.unwrap();
        (Credentials::new(catalog.clone(), "http://h".into(), TokenPolicy { max_days: 365, max_active: 5 }), catalog, dir)
    }

    #[tokio::test]
    async fn tokens_authenticate_until_revoked() {
        let (creds, catalog, _d) = setup().await;
        let issued = creds.create_token("acme", None, Some(1)).await.unwrap();
        let caller = creds.authenticate(Some(&format!("Bearer {}", issued.token))).await.unwrap();
        assert_eq!(caller.recipient.name, "acme");
        for bad in [None, Some("Bearer "), Some("Basic abc"), Some("Bearer dss_forged")] {
            assert_eq!(creds.authenticate(bad).await.unwrap_err().status(), 401, "{bad:?}");
        }
        catalog.revoke_token("acme", &issued.record.id).await.unwrap();
        let err = creds.authenticate(Some(&format!("Bearer {}", issued.token))).await.unwrap_err();
        assert!(err.to_string().contains("revoked"));
        let profile = creds.profile(&issued);
        assert_eq!(profile.share_credentials_version, 1);
        assert!(profile.expiration_time.unwrap().ends_with('Z'));
    }

    #[tokio::test]
    async fn expired_tokens_are_refused() {
        let (creds, catalog, _d) = setup().await;
        let r = catalog.recipient("acme").await.unwrap();
        let token = secrets::generate(TOKEN_PREFIX);
        catalog.insert_token(&r.id, None, &secrets::hash(&token), Some(now_ms() - 1)).await.unwrap();
        let err = creds.authenticate(Some(&format!("Bearer {token}"))).await.unwrap_err();
        assert!(err.to_string().contains("expired"));
    }

    #[tokio::test]
    async fn activation_links_redeem_exactly_once() {
        let (creds, _catalog, _d) = setup().await;
        let code = creds.create_activation_link("acme", 1).await.unwrap();
        assert!(matches!(creds.link_state(&code).await.unwrap(), LinkState::Ready { .. }));
        // Looking does not spend it.
        assert!(matches!(creds.link_state(&code).await.unwrap(), LinkState::Ready { .. }));
        let (recipient, issued) = creds.redeem(&code).await.unwrap();
        assert_eq!(recipient.name, "acme");
        creds.authenticate(Some(&format!("Bearer {}", issued.token))).await.unwrap();
        assert_eq!(creds.redeem(&code).await.unwrap_err().status(), 410);
        assert!(matches!(creds.link_state(&code).await.unwrap(), LinkState::Used(_)));
        assert!(matches!(creds.link_state("act_nope").await.unwrap(), LinkState::Unknown));
        assert_eq!(creds.redeem("act_nope").await.unwrap_err().status(), 404);
        assert!(creds.create_activation_link("acme", 0).await.is_err());
        assert_eq!(creds.create_activation_link("nobody", 1).await.unwrap_err().status(), 404);
    }

    #[tokio::test]
    async fn concurrent_redeems_hand_out_one_credential() {
        let (creds, _catalog, _d) = setup().await;
        let code = creds.create_activation_link("acme", 1).await.unwrap();
        let attempts = (0..8).map(|_| {
            let (creds, code) = (creds.clone(), code.clone());
            tokio::spawn(async move { creds.redeem(&code).await.is_ok() })
        });
        let mut wins = 0;
        for a in attempts {
            wins += a.await.unwrap() as usize;
        }
        assert_eq!(wins, 1);
    }
}
