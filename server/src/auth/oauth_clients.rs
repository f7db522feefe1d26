//! OAuth clients for partners' pipelines (RFC 6749 client credentials): a pipeline holds a
//! client id and secret and fetches short-lived access tokens from `POST /oauth/token`; the
//! official clients do that themselves from a version-2 `oauth_client_credentials` profile.
//!
//! Access tokens are opaque (`dso_` and 256 random bits), stored only as hashes, and die with
//! their client: a revoked client's tokens stop at once, which a self-contained JWT could not.
//! Partners create clients within the same limits as tokens (lifetime, number active); admins'
//! clients have none. A rotation gives a new secret and keeps the old one working for an overlap.

use std::net::IpAddr;

use serde::Serialize;

use super::credentials::{Caller, Credentials, Via, ACCESS_TOKEN_PREFIX};
use crate::catalog::{now_ms, OAuthClient, Recipient, TokenStatus};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;

const CLIENT_ID_PREFIX: &str = "dsc_";
const SECRET_PREFIX: &str = "dcs_";
/// The most access tokens one client may hold alive at once: a pipeline reuses its token until
/// it nearly expires, so more means a loop gone wrong, and the catalog must not grow with it.
const MAX_LIVE_TOKENS: i64 = 1000;

/// A client just created or rotated: the only moment its secret exists in plain text.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct IssuedClient {
    pub client: OAuthClient,
    pub secret: String,
}

/// Never prints the secret, so it cannot end up in a log line.
impl std::fmt::Debug for IssuedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedClient").field("client", &self.client).field("secret", &"<redacted>").finish()
    }
}

/// The version-2 profile the official clients read: they fetch their own access tokens.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientProfile {
    pub share_credentials_version: u32,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub endpoint: String,
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A token endpoint's answer to a good request (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct AccessToken {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u32,
}

/// Who was given an access token, for the audit line.
pub struct Granted {
    pub token: AccessToken,
    pub client: OAuthClient,
    pub recipient: Recipient,
}

/// The token endpoint's refusals, answered as RFC 6749 §5.2 says.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    /// Unknown client, wrong secret, revoked or expired client: 401.
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    InvalidRequest(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error(transparent)]
    Portal(#[from] PortalError),
}

impl Credentials {
    /// A partner's new client, within the recipient's limits (`None` policy: an admin's, without).
    pub async fn create_client(&self, recipient: &Recipient, name: &str, by_partner: bool) -> Result<IssuedClient> {
        let name = super::self_service::checked_name(name).map_err(|e| match e {
            PortalError::Field { field: "name", .. } => {
                PortalError::field("name", "give the client the name of its pipeline, 1 to 60 characters, such as \"Nightly orders load\"")
            }
            e => e,
        })?;
        let (expires_at, max_active) = if by_partner {
            let policy = self.policy(recipient).await?;
            (Some(now_ms() + i64::from(policy.max_days) * 86_400_000), i64::from(policy.max_active))
        } else {
            (None, i64::MAX)
        };
        let client = OAuthClient {
            id: uuid::Uuid::new_v4().simple().to_string()[..16].to_string(),
            recipient_id: recipient.id.clone(),
            name: name.to_string(),
            client_id: format!("{CLIENT_ID_PREFIX}{}", uuid::Uuid::new_v4().simple()),
            created_at: now_ms(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
            previous_until: None,
        };
        let secret = secrets::generate(SECRET_PREFIX);
        if let Err(active) = self.catalog().store_client_within(&client, &secrets::hash(&secret), max_active).await? {
            return Err(PortalError::field(
                "client_limit",
                format!("you can have at most {max_active} active OAuth clients and have {active}; revoke one you no longer use first"),
            ));
        }
        Ok(IssuedClient { client, secret })
    }

    /// The recipient's clients, newest first.
    pub async fn clients(&self, recipient: &Recipient) -> Result<Vec<OAuthClient>> {
        let mut clients = self.catalog().clients_of(&recipient.id).await?;
        clients.reverse();
        Ok(clients)
    }

    /// A new secret for one of the recipient's clients (by id or client id); the old one keeps
    /// working for `overlap_hours` (0: it stops now). A partner's client gets a full lifetime again.
    pub async fn rotate_client(&self, recipient: &Recipient, id: &str, overlap_hours: u32, by_partner: bool) -> Result<IssuedClient> {
        if overlap_hours > super::self_service::MAX_OVERLAP_HOURS {
            return Err(PortalError::field(
                "overlap_hours",
                format!("the old secret can keep working for at most {} hours", super::self_service::MAX_OVERLAP_HOURS),
            ));
        }
        let mut client = self.catalog().client_of(&recipient.id, id).await?;
        if client.status(now_ms()) != TokenStatus::Active {
            return Err(PortalError::field("revoked", format!("OAuth client {} is no longer active; create a new one", client.client_id)));
        }
        if by_partner {
            let policy = self.policy(recipient).await?;
            client.expires_at = Some(now_ms() + i64::from(policy.max_days) * 86_400_000);
        }
        let secret = secrets::generate(SECRET_PREFIX);
        client.previous_until = Some(now_ms() + i64::from(overlap_hours) * 3_600_000);
        self.catalog()
            .rotate_client_secret(&client, &secrets::hash(&secret), client.previous_until.unwrap_or_default(), client.expires_at)
            .await
            .map_err(|e| match e {
                PortalError::Conflict(m) => PortalError::field("revoked", m),
                e => e,
            })?;
        Ok(IssuedClient { client, secret })
    }

    /// Revokes one of the recipient's clients (another recipient's is `NotFound`); its access
    /// tokens stop at once.
    pub async fn revoke_client(&self, recipient: &Recipient, id: &str) -> Result<OAuthClient> {
        let client = self.catalog().client_of(&recipient.id, id).await?;
        self.catalog().revoke_client(&client).await.map_err(|e| match e {
            PortalError::Conflict(m) => PortalError::field("revoked", m),
            e => e,
        })?;
        Ok(client)
    }

    /// The client credentials grant: the client's id and secret → a short-lived access token,
    /// asked for from `peer` (the recipient's IP allow-list applies here as on every read).
    pub async fn grant(&self, client_id: &str, secret: &str, peer: Option<IpAddr>) -> std::result::Result<Granted, GrantError> {
        let invalid = |why: &str| GrantError::InvalidClient(why.to_string());
        let found = self.catalog().client_secrets(client_id).await?;
        // Hash the presented secret even for an unknown client: the answer takes as long.
        let presented = secrets::hash(secret);
        let Some(found) = found else {
            return Err(invalid("unknown client or wrong secret"));
        };
        let matches = secrets::same_hash(&presented, &found.secret_hash);
        let matches_previous = found.previous_hash.as_deref().is_some_and(|h| secrets::same_hash(&presented, h));
        if !(matches || matches_previous) {
            return Err(invalid("unknown client or wrong secret"));
        }
        match found.client.status(now_ms()) {
            TokenStatus::Active => {}
            TokenStatus::Revoked => return Err(invalid("this client was revoked")),
            TokenStatus::Expired => return Err(invalid("this client has expired; create a new one on the Connect page")),
        }
        super::network::admits(&found.recipient, peer)?;
        let access_token = secrets::generate(ACCESS_TOKEN_PREFIX);
        let lifetime = self.access_token_secs();
        let now = now_ms();
        // Never beyond the client's own end.
        let expires_at = found.client.expires_at.unwrap_or(i64::MAX).min(now + i64::from(lifetime) * 1000);
        if !self.catalog().insert_oauth_token(&found.client, &secrets::hash(&access_token), expires_at, MAX_LIVE_TOKENS).await? {
            return Err(GrantError::Portal(PortalError::Throttled { retry_after_secs: 60 }));
        }
        let expires_in = u32::try_from((expires_at - now) / 1000).unwrap_or(lifetime);
        Ok(Granted {
            token: AccessToken { access_token, token_type: "Bearer", expires_in },
            client: found.client,
            recipient: found.recipient,
        })
    }

    /// The caller behind one of the token endpoint's access tokens.
    pub(super) async fn authenticate_access_token(&self, token: &str) -> Result<Caller> {
        let presented = secrets::hash(token);
        let refused = |why: &str| PortalError::BadCredentials(why.to_string());
        let Some((stored, expires_at, client, recipient)) = self.catalog().oauth_token_by_hash(&presented).await? else {
            return Err(refused("invalid access token; fetch a new one from the token endpoint"));
        };
        if !secrets::same_hash(&presented, &stored) {
            return Err(refused("invalid access token"));
        }
        let now = now_ms();
        if expires_at <= now {
            return Err(refused("this access token has expired; fetch a new one from the token endpoint"));
        }
        if client.status(now) != TokenStatus::Active {
            return Err(refused("the OAuth client of this access token was revoked or has expired"));
        }
        Ok(Caller { recipient, token_id: client.id.clone(), via: Via::Client { client_id: client.client_id, name: client.name } })
    }

    /// The profile a pipeline puts beside its code: the official clients fetch tokens with it.
    pub fn client_profile(&self, issued: &IssuedClient) -> ClientProfile {
        ClientProfile {
            share_credentials_version: 2,
            kind: "oauth_client_credentials",
            endpoint: self.endpoint().to_string(),
            token_endpoint: self.token_endpoint(),
            client_id: issued.client.client_id.clone(),
            client_secret: issued.secret.clone(),
            scope: None,
        }
    }

    /// `POST /oauth/token` of this portal.
    pub fn token_endpoint(&self) -> String {
        format!("{}/oauth/token", self.public_url())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenPolicy;
    use crate::catalog::{test_catalog, Catalog};
    use crate::config::DEFAULT_ACCESS_TOKEN_SECS;
    use std::collections::BTreeMap;

    async fn setup(max_active: u32) -> (Credentials, Catalog, Recipient, tempfile::TempDir) {
        let (catalog, dir) = test_catalog().await;
        let r = catalog.create_recipient("acme", None, BTreeMap::new()).await.unwrap();
        let creds = Credentials::new(catalog.clone(), "http://h".into(), TokenPolicy { max_days: 30, max_active });
        (creds, catalog, r, dir)
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    #[tokio::test]
    async fn a_client_gets_access_tokens_that_act_as_its_recipient() {
        let (creds, _catalog, r, _d) = setup(5).await;
        let issued = creds.create_client(&r, "nightly load", true).await.unwrap();
        assert!(issued.client.client_id.starts_with(CLIENT_ID_PREFIX));
        let granted = creds.grant(&issued.client.client_id, &issued.secret, None).await.unwrap();
        assert_eq!(granted.token.expires_in, DEFAULT_ACCESS_TOKEN_SECS);
        let caller = creds.authenticate(Some(&bearer(&granted.token.access_token))).await.unwrap();
        assert_eq!(caller.recipient.name, "acme");
        assert!(matches!(caller.via, Via::Client { ref name, .. } if name == "nightly load"));
        // The secret is not a bearer token, and a wrong secret gets nothing.
        assert_eq!(creds.authenticate(Some(&bearer(&issued.secret))).await.unwrap_err().status(), 401);
        assert!(matches!(creds.grant(&issued.client.client_id, "dcs_wrong", None).await, Err(GrantError::InvalidClient(_))));
        assert!(matches!(creds.grant("dsc_unknown", &issued.secret, None).await, Err(GrantError::InvalidClient(_))));
        let profile = creds.client_profile(&issued);
        assert_eq!((profile.share_credentials_version, profile.kind), (2, "oauth_client_credentials"));
        assert_eq!(profile.token_endpoint, "http://h/oauth/token");
    }

    #[tokio::test]
    async fn revoking_a_client_stops_its_access_tokens_at_once() {
        let (creds, _catalog, r, _d) = setup(5).await;
        let issued = creds.create_client(&r, "load", true).await.unwrap();
        let token = creds.grant(&issued.client.client_id, &issued.secret, None).await.unwrap().token.access_token;
        creds.revoke_client(&r, &issued.client.client_id).await.unwrap();
        assert_eq!(creds.authenticate(Some(&bearer(&token))).await.unwrap_err().status(), 401);
        assert!(
            matches!(creds.grant(&issued.client.client_id, &issued.secret, None).await, Err(GrantError::InvalidClient(m)) if m.contains("revoked"))
        );
        assert!(matches!(creds.revoke_client(&r, &issued.client.id).await, Err(PortalError::Field { field: "revoked", .. })));
    }

    #[tokio::test]
    async fn rotation_keeps_the_old_secret_for_the_overlap_only() {
        let (creds, _catalog, r, _d) = setup(5).await;
        let first = creds.create_client(&r, "load", true).await.unwrap();
        let second = creds.rotate_client(&r, &first.client.id, 1, true).await.unwrap();
        assert_eq!(second.client.client_id, first.client.client_id, "the client id stays");
        creds.grant(&first.client.client_id, &first.secret, None).await.unwrap();
        creds.grant(&first.client.client_id, &second.secret, None).await.unwrap();
        let third = creds.rotate_client(&r, &first.client.id, 0, true).await.unwrap();
        assert!(creds.grant(&first.client.client_id, &second.secret, None).await.is_err());
        assert!(creds.grant(&first.client.client_id, &first.secret, None).await.is_err());
        creds.grant(&first.client.client_id, &third.secret, None).await.unwrap();
    }

    #[tokio::test]
    async fn partners_keep_within_their_limit_and_to_their_own_clients() {
        let (creds, catalog, r, _d) = setup(1).await;
        creds.create_client(&r, "one", true).await.unwrap();
        assert!(matches!(creds.create_client(&r, "two", true).await, Err(PortalError::Field { field: "client_limit", .. })));
        // An admin is not bound by the partner's limit.
        creds.create_client(&r, "two", false).await.unwrap();
        let other = catalog.create_recipient("nordic", None, BTreeMap::new()).await.unwrap();
        let theirs = creds.create_client(&other, "theirs", true).await.unwrap();
        assert_eq!(creds.revoke_client(&r, &theirs.client.id).await.unwrap_err().status(), 404);
        assert_eq!(creds.rotate_client(&r, &theirs.client.client_id, 0, true).await.unwrap_err().status(), 404);
        assert!(matches!(creds.create_client(&r, " ", true).await, Err(PortalError::Field { field: "name", .. })));
    }
}
