//! Bearer tokens and activation links: issuing them, and turning a presented token into a caller.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::secrets;
use crate::catalog::{now_ms, Catalog, Recipient, TokenRecord};
use crate::error::{PortalError, Result};

const TOKEN_PREFIX: &str = "dss_";
const ACTIVATION_PREFIX: &str = "act_";
/// Tokens from activation links live a year unless an admin says otherwise (Databricks' maximum).
pub const DEFAULT_TOKEN_TTL_DAYS: u32 = 365;
pub const DEFAULT_ACTIVATION_TTL_HOURS: u32 = 72;

/// An authenticated recipient.
#[derive(Clone, Debug)]
pub struct Caller {
    pub recipient: Recipient,
    pub token_id: String,
}

/// A freshly issued token: the only moment the plain token exists.
pub struct IssuedToken {
    pub record: TokenRecord,
    pub token: String,
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
    endpoint: String,
}

impl Credentials {
    pub fn new(catalog: Catalog, endpoint: String) -> Self {
        Self { catalog, endpoint }
    }

    pub async fn create_token(&self, recipient: &str, ttl_days: Option<u32>) -> Result<IssuedToken> {
        let recipient = self.catalog.recipient(recipient).await?;
        let token = secrets::generate(TOKEN_PREFIX);
        let record = self.catalog.insert_token(&recipient.id, &secrets::hash(&token), expiry_after_days(ttl_days)).await?;
        Ok(IssuedToken { record, token })
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
    /// revoked or expired.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Caller> {
        let token = header
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| PortalError::Unauthenticated("missing bearer token".into()))?;
        let presented = secrets::hash(token);
        let Some((record, stored, recipient)) = self.catalog.token_by_hash(&presented).await? else {
            return Err(PortalError::Unauthenticated("invalid bearer token".into()));
        };
        if !secrets::same_hash(&presented, &stored) {
            return Err(PortalError::Unauthenticated("invalid bearer token".into()));
        }
        match record.status(now_ms()) {
            "active" => {}
            "revoked" => return Err(PortalError::Unauthenticated("this bearer token was revoked".into())),
            _ => return Err(PortalError::Unauthenticated("this bearer token has expired".into())),
        }
        self.catalog.touch_token(&record.id).await?;
        Ok(Caller { recipient, token_id: record.id })
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

fn expiry_after_days(days: Option<u32>) -> Option<i64> {
    days.map(|d| now_ms() + i64::from(d) * 86_400_000)
}

pub fn rfc3339_ms(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}
