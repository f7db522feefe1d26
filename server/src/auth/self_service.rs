//! Partners managing their own tokens (`/connect`): one named token per tool, rotation with an
//! overlap window, revocation, all inside the limits an admin set (lifetime, active tokens).
//!
//! A new token exists in plain text only until the partner has seen it once: `Reveals` keeps
//! it sealed, bound to its recipient, for the redirect that shows it, then forgets it.

use super::credentials::{Credentials, IssuedToken, TokenPolicy};
use crate::catalog::{now_ms, Recipient, TokenRecord, TokenStatus};
use crate::error::{PortalError, Result};
use crate::primitives::secrets;

/// The longest token name, and the longest overlap a rotation may leave the old token.
pub const MAX_NAME_CHARS: usize = 60;
pub const MAX_OVERLAP_HOURS: u32 = 168;

impl Credentials {
    pub async fn policy(&self, recipient: &Recipient) -> Result<TokenPolicy> {
        let (days, active) = self.catalog().token_policy(&recipient.id).await?;
        let defaults = self.defaults();
        let narrow = |v: Option<i64>, d: u32| v.and_then(|v| u32::try_from(v).ok()).filter(|v| *v > 0).unwrap_or(d);
        Ok(TokenPolicy { max_days: narrow(days, defaults.max_days), max_active: narrow(active, defaults.max_active) })
    }

    /// The recipient's tokens, newest first.
    pub async fn tokens(&self, recipient: &Recipient) -> Result<Vec<TokenRecord>> {
        let mut tokens = self.catalog().tokens_of(&recipient.name).await?;
        tokens.reverse();
        Ok(tokens)
    }

    /// A named token valid for `days` (at most the policy's lifetime; the lifetime if not given).
    pub async fn create_named(&self, recipient: &Recipient, name: &str, days: Option<u32>) -> Result<IssuedToken> {
        let policy = self.policy(recipient).await?;
        let name = checked_name(name)?;
        let days = checked_days(days, policy)?;
        let token = secrets::generate(super::credentials::TOKEN_PREFIX);
        // The lifetime counts from the record's own creation time.
        let mut record = TokenRecord::new(&recipient.id, Some(name), None);
        record.expires_at = Some(record.created_at + days_ms(days));
        if let Err(active) = self.catalog().store_token_within(&record, &secrets::hash(&token), i64::from(policy.max_active)).await? {
            return Err(PortalError::field(
                "limit",
                format!("you can have at most {} active tokens and have {active}; revoke one you no longer use first", policy.max_active),
            ));
        }
        Ok(IssuedToken { record, token })
    }

    /// A new token with the old one's name and a full lifetime; the old one keeps working for
    /// `overlap_hours` (0: it stops now), so a tool can be switched over without downtime.
    pub async fn rotate(&self, recipient: &Recipient, token_id: &str, overlap_hours: u32) -> Result<IssuedToken> {
        if overlap_hours > MAX_OVERLAP_HOURS {
            return Err(PortalError::field(
                "overlap_hours",
                format!("the old token can keep working for at most {MAX_OVERLAP_HOURS} hours"),
            ));
        }
        let old = self.catalog().token_of(&recipient.id, token_id).await?;
        if old.status(now_ms()) != TokenStatus::Active {
            return Err(PortalError::field("revoked", format!("token {token_id} is no longer active; create a new one instead")));
        }
        let policy = self.policy(recipient).await?;
        let token = secrets::generate(super::credentials::TOKEN_PREFIX);
        let mut record = TokenRecord::new(&recipient.id, old.name.as_deref(), None);
        record.expires_at = Some(record.created_at + days_ms(policy.max_days));
        let old_until = record.created_at + i64::from(overlap_hours) * 3_600_000;
        self.catalog().rotate_token(&old.id, old_until, &record, &secrets::hash(&token), i64::from(policy.max_active)).await.map_err(
            |e| match e {
                PortalError::Conflict(m) => PortalError::field("revoked", m),
                e => e,
            },
        )?;
        Ok(IssuedToken { record, token })
    }

    /// Revokes one of the recipient's own tokens (another recipient's is `NotFound`).
    pub async fn revoke_own(&self, recipient: &Recipient, token_id: &str) -> Result<()> {
        let token = self.catalog().token_of(&recipient.id, token_id).await?;
        if token.revoked_at.is_some() {
            return Err(PortalError::field("revoked", format!("token {token_id} is already revoked")));
        }
        self.catalog().revoke_token(&recipient.name, &token.id).await
    }
}

pub(super) fn checked_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(PortalError::field(
            "name",
            format!("give the token a name of 1 to {MAX_NAME_CHARS} characters, such as \"Power BI refresh\""),
        ));
    }
    // That name marks browser sessions of single sign-on, which the token limit leaves out.
    if name.to_lowercase().starts_with(&crate::catalog::SSO_TOKEN_PREFIX.to_lowercase()) {
        return Err(PortalError::field("name", "that name is kept for single sign-on sessions; choose another"));
    }
    Ok(name)
}

fn checked_days(days: Option<u32>, policy: TokenPolicy) -> Result<u32> {
    match days {
        None => Ok(policy.max_days),
        Some(d) if (1..=policy.max_days).contains(&d) => Ok(d),
        Some(_) => Err(PortalError::field("days", format!("a token can be valid for 1 to {} days", policy.max_days))),
    }
}

fn days_ms(days: u32) -> i64 {
    i64::from(days) * 86_400_000
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{test_catalog, Catalog};
    use std::collections::BTreeMap;

    async fn setup(max_days: u32, max_active: u32) -> (Credentials, Catalog, Recipient, tempfile::TempDir) {
        let (catalog, dir) = test_catalog().await;
        let r = catalog.create_recipient("acme", None, BTreeMap::new()).await.unwrap();
        let creds = Credentials::new(catalog.clone(), "http://h".into(), TokenPolicy { max_days, max_active });
        (creds, catalog, r, dir)
    }

    fn bearer(t: &IssuedToken) -> String {
        format!("Bearer {}", t.token)
    }

    #[tokio::test]
    async fn named_tokens_respect_the_policy() {
        let (creds, catalog, r, _d) = setup(30, 2).await;
        let a = creds.create_named(&r, " Power BI ", None).await.unwrap();
        assert_eq!(a.record.name.as_deref(), Some("Power BI"));
        let lifetime = a.record.expires_at.unwrap() - a.record.created_at;
        assert_eq!(lifetime, 30 * 86_400_000);
        assert!(matches!(creds.create_named(&r, "x", Some(31)).await, Err(PortalError::Field { field: "days", .. })));
        assert!(matches!(creds.create_named(&r, "  ", None).await, Err(PortalError::Field { field: "name", .. })));
        creds.create_named(&r, "pandas", Some(1)).await.unwrap();
        assert!(matches!(creds.create_named(&r, "third", None).await, Err(PortalError::Field { field: "limit", .. })));
        // An admin's per-recipient policy overrides the defaults.
        catalog.set_token_policy("acme", None, Some(3)).await.unwrap();
        creds.create_named(&r, "third", None).await.unwrap();
    }

    #[tokio::test]
    async fn rotation_overlaps_then_the_old_token_stops() {
        let (creds, _catalog, r, _d) = setup(30, 5).await;
        let old = creds.create_named(&r, "Tableau", None).await.unwrap();
        let kept = creds.rotate(&r, &old.record.id, 2).await.unwrap();
        assert_eq!(kept.record.name.as_deref(), Some("Tableau"));
        creds.authenticate(Some(&bearer(&old))).await.unwrap();
        creds.authenticate(Some(&bearer(&kept))).await.unwrap();
        let now = creds.rotate(&r, &kept.record.id, 0).await.unwrap();
        assert_eq!(creds.authenticate(Some(&bearer(&kept))).await.unwrap_err().status(), 401);
        creds.authenticate(Some(&bearer(&now))).await.unwrap();
        // A stopped token cannot be rotated again.
        assert!(matches!(creds.rotate(&r, &kept.record.id, 0).await, Err(PortalError::Field { field: "revoked", .. })));
        assert!(creds.rotate(&r, &now.record.id, MAX_OVERLAP_HOURS + 1).await.is_err());
    }

    #[tokio::test]
    async fn rotation_keeps_within_the_limit_and_moves_sessions() {
        let (creds, catalog, r, _d) = setup(30, 2).await;
        let a = creds.create_named(&r, "a", None).await.unwrap();
        let b = creds.create_named(&r, "b", None).await.unwrap();
        // Two active of two: a rotation may exceed the limit by its old token while it overlaps…
        let a1 = creds.rotate(&r, &a.record.id, 1).await.unwrap();
        // …but not rotate again while three are active (that would mint tokens without end).
        assert!(matches!(creds.rotate(&r, &b.record.id, 1).await, Err(PortalError::Field { field: "limit", .. })));
        assert!(matches!(creds.rotate(&r, &a1.record.id, 0).await, Err(PortalError::Field { field: "limit", .. })));
        creds.authenticate(Some(&bearer(&a))).await.unwrap();
        catalog.revoke_token("acme", &b.record.id).await.unwrap();
        catalog.revoke_token("acme", &a1.record.id).await.unwrap();
        let sessions = crate::auth::Sessions::new(catalog.clone(), 1, false);
        let caller = creds.authenticate(Some(&bearer(&a))).await.unwrap();
        let secret = sessions.replace(None, &caller).await.unwrap();
        let a2 = creds.rotate(&r, &a.record.id, 0).await.unwrap();
        // The browser that signed in with the old token is now signed in with the new one.
        assert_eq!(sessions.resume(&secret).await.unwrap().token_id, a2.record.id);
    }

    #[tokio::test]
    async fn only_own_tokens_can_be_changed() {
        let (creds, catalog, r, _d) = setup(30, 5).await;
        let other = catalog.create_recipient("nordic", None, BTreeMap::new()).await.unwrap();
        let theirs = creds.create_named(&other, "theirs", None).await.unwrap();
        assert_eq!(creds.revoke_own(&r, &theirs.record.id).await.unwrap_err().status(), 404);
        assert_eq!(creds.rotate(&r, &theirs.record.id, 0).await.unwrap_err().status(), 404);
        creds.authenticate(Some(&bearer(&theirs))).await.unwrap();
        creds.revoke_own(&other, &theirs.record.id).await.unwrap();
        assert_eq!(creds.authenticate(Some(&bearer(&theirs))).await.unwrap_err().status(), 401);
        assert!(matches!(creds.revoke_own(&other, &theirs.record.id).await, Err(PortalError::Field { field: "revoked", .. })));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_creations_cannot_pass_the_token_limit() {
        let (creds, catalog, r, _d) = setup(30, 3).await;
        let creds = std::sync::Arc::new(creds);
        let attempts: Vec<_> = (0..12)
            .map(|i| {
                let (creds, r) = (creds.clone(), r.clone());
                tokio::spawn(async move { creds.create_named(&r, &format!("tool {i}"), None).await })
            })
            .collect();
        let mut created = 0;
        for attempt in attempts {
            match attempt.await.unwrap() {
                Ok(_) => created += 1,
                Err(e) => assert!(matches!(e, PortalError::Field { field: "limit", .. }), "{e}"),
            }
        }
        assert_eq!(created, 3);
        assert_eq!(catalog.tokens_of("acme").await.unwrap().len(), 3);
    }

    #[tokio::test]
    async fn a_new_token_is_revealed_once_to_its_owner() {
        let (creds, _catalog, r, _d) = setup(30, 5).await;
        let (creds, catalog, r, _d) = (creds, _catalog, r, _d);
        let reveals: crate::auth::Reveals<IssuedToken> = crate::auth::Reveals::new(catalog, "token");
        let issued = creds.create_named(&r, "pandas", None).await.unwrap();
        let id = reveals.put(&r.id, &issued).await.unwrap();
        assert!(reveals.take(&id, "someone-else").await.unwrap().is_none());
        assert_eq!(reveals.take(&id, &r.id).await.unwrap().unwrap().token, issued.token);
        assert!(reveals.take(&id, &r.id).await.unwrap().is_none());
    }
}
