//! Where the portal's HMAC keys come from, and their rotation.
//!
//! `secret_key` (with `previous_secret_keys` for an overlap) when configured; otherwise keys
//! generated in the catalog, so replicas sharing a catalog agree with no setting at all. Replicas
//! reload catalog keys every [`RELOAD_EVERY`]; a rotated key is stored at once but signs only
//! [`ACTIVATION_DELAY`] later, when every replica verifies it already.

use std::path::Path;
use std::time::Duration;

use crate::catalog::{Catalog, SigningKey};
use crate::config::Settings;
use crate::error::{PortalError, Result};
use crate::primitives::keys::Keyring;
use crate::primitives::secrets;
use crate::primitives::time::now_ms;

pub const RELOAD_EVERY: Duration = Duration::from_secs(20);
/// A new key signs this long after it is stored: three reloads, so every replica knows it.
pub const ACTIVATION_DELAY: Duration = Duration::from_secs(60);

/// The ring every signer shares, and where it is kept up to date from.
#[derive(Clone)]
pub struct PortalKeys {
    pub ring: Keyring,
    /// `None` when the keys are configured (nothing to reload).
    catalog: Option<Catalog>,
}

impl PortalKeys {
    pub async fn load(settings: &Settings, catalog: &Catalog) -> Result<Self> {
        if let Some(key) = &settings.secret_key {
            let previous = settings.previous_secret_keys.iter().map(|k| k.0.as_bytes().to_vec()).collect();
            return Ok(Self { ring: Keyring::new(key.0.as_bytes().to_vec(), previous), catalog: None });
        }
        let mut keys = catalog.signing_keys(now_ms()).await?;
        if keys.is_empty() {
            // A single-process portal of an earlier release kept its key in the data directory:
            // adopting it keeps the links it signed working.
            let first = legacy_key(&settings.data_dir)?.unwrap_or_else(|| hex::encode(secrets::random_bytes()));
            catalog.insert_first_signing_key(&first).await?;
            keys = catalog.signing_keys(now_ms()).await?;
        }
        let (signing, verifying) = ring_of(&keys, now_ms())?;
        Ok(Self { ring: Keyring::new(signing, verifying), catalog: Some(catalog.clone()) })
    }

    /// Picks up keys rotated by any replica or the CLI.
    pub async fn reload(&self) -> Result<()> {
        if let Some(catalog) = &self.catalog {
            let (signing, verifying) = ring_of(&catalog.signing_keys(now_ms()).await?, now_ms())?;
            self.ring.replace(signing, verifying);
        }
        Ok(())
    }

    /// Reloads the keys for as long as the server runs.
    pub async fn reload_forever(self) {
        if self.catalog.is_none() {
            return;
        }
        let mut tick = tokio::time::interval(RELOAD_EVERY);
        loop {
            tick.tick().await;
            if let Err(e) = self.reload().await {
                tracing::warn!(error = %e, "could not reload the signing keys");
            }
        }
    }
}

/// A new generated key: it signs after [`ACTIVATION_DELAY`]; the keys before it verify until
/// `overlap_hours` after that. Refused when the keys are configured (rotate them in the settings).
pub async fn rotate(settings: &Settings, catalog: &Catalog, overlap_hours: u32) -> Result<SigningKey> {
    if settings.secret_key.is_some() {
        return Err(PortalError::InvalidParameter(
            "the key is set by PORTAL_SECRET_KEY: rotate it there (the old key goes to PORTAL_PREVIOUS_SECRET_KEYS for the overlap)".into(),
        ));
    }
    let active_from = now_ms() + ACTIVATION_DELAY.as_millis() as i64;
    let id = format!("k{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    catalog
        .rotate_signing_key(&id, &hex::encode(secrets::random_bytes()), active_from, active_from + i64::from(overlap_hours) * 3_600_000)
        .await?;
    catalog
        .signing_keys(now_ms())
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or_else(|| PortalError::Internal("the new key was not stored".into()))
}

/// The key that signs at `now` (the newest active one) and the others, which verify.
fn ring_of(keys: &[SigningKey], now: i64) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
    let signing = keys
        .iter()
        .rev()
        .find(|k| k.active_from <= now)
        .or(keys.first())
        .ok_or_else(|| PortalError::Internal("no signing key in the catalog".into()))?;
    let bytes = |k: &SigningKey| hex::decode(&k.secret).map_err(|_| PortalError::Internal(format!("signing key {} is corrupt", k.id)));
    let verifying = keys.iter().filter(|k| k.id != signing.id).map(bytes).collect::<Result<_>>()?;
    Ok((bytes(signing)?, verifying))
}

fn legacy_key(data_dir: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(data_dir.join("signing.key")) {
        Ok(text) if hex::decode(text.trim()).is_ok_and(|k| !k.is_empty()) => Ok(Some(text.trim().to_string())),
        Ok(_) => Err(PortalError::Config(format!("{} is corrupt", data_dir.join("signing.key").display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_catalog;

    #[tokio::test]
    async fn replicas_share_one_generated_key_and_rotation_overlaps() {
        let (catalog, dir) = test_catalog().await;
        let settings = Settings::for_tests(dir.path());
        let (a, b) = tokio::join!(PortalKeys::load(&settings, &catalog), PortalKeys::load(&settings, &catalog));
        let (a, b) = (a.unwrap(), b.unwrap());
        let signed = a.ring.sign(&[b"cursor"]);
        assert!(b.ring.verify(&[b"cursor"], &signed));
        assert_eq!(b.ring.sign(&[b"cursor"]), signed);

        let new = rotate(&settings, &catalog, 24).await.unwrap();
        assert!(new.active_from > now_ms());
        a.reload().await.unwrap();
        // Until the new key is active everyone still signs with the old one; both verify.
        assert_eq!(a.ring.sign(&[b"cursor"]), signed);
        let (signing, verifying) = ring_of(&catalog.signing_keys(now_ms()).await.unwrap(), new.active_from).unwrap();
        assert_eq!(hex::encode(&signing), new.secret);
        let after = Keyring::new(signing, verifying);
        assert!(after.verify(&[b"cursor"], &signed));
        // Past the overlap the old key is gone.
        let later = new.active_from + 24 * 3_600_000 + 1;
        let (signing, verifying) = ring_of(&catalog.signing_keys(later).await.unwrap(), later).unwrap();
        assert!(!Keyring::new(signing, verifying).verify(&[b"cursor"], &signed));
    }

    #[tokio::test]
    async fn a_configured_key_is_used_and_not_rotated_here() {
        let (catalog, dir) = test_catalog().await;
        let mut settings = Settings::for_tests(dir.path());
        settings.secret_key = Some(crate::config::Secret("s".repeat(32)));
        let keys = PortalKeys::load(&settings, &catalog).await.unwrap();
        assert!(Keyring::new("s".repeat(32).into_bytes(), vec![]).verify(&[b"x"], &keys.ring.sign(&[b"x"])));
        assert!(catalog.signing_keys(0).await.unwrap().is_empty());
        assert!(rotate(&settings, &catalog, 1).await.unwrap_err().to_string().contains("PORTAL_SECRET_KEY"));
    }
}
