//! Secrets waiting to be shown once (a new token, a new activation link or admin API token) or
//! used once (a sign-in in progress), each bound to its owner, for at most [`Reveals::TTL`].
//!
//! They live in the catalog, so the redirect that shows one may land on any replica. The catalog
//! holds only the value sealed under the one-time id (which goes to the browser and is stored
//! hashed): reading the catalog reveals nothing.

use std::marker::PhantomData;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::catalog::Catalog;
use crate::error::{PortalError, Result};
use crate::primitives::time::now_ms;
use crate::primitives::{sealed, secrets};

pub struct Reveals<T> {
    catalog: Catalog,
    kind: &'static str,
    value: PhantomData<fn() -> T>,
}

impl<T: Serialize + DeserializeOwned> Reveals<T> {
    pub const TTL: Duration = Duration::from_secs(600);

    /// `kind` keeps one purpose's ids from opening another's values.
    pub fn new(catalog: Catalog, kind: &'static str) -> Self {
        Self { catalog, kind, value: PhantomData }
    }

    /// Keeps `value` for `owner`; returns the one-time id to show it by.
    pub async fn put(&self, owner: &str, value: &T) -> Result<String> {
        let id = secrets::generate("rv_");
        let plain = serde_json::to_vec(value).map_err(|e| PortalError::fault("reveal", e))?;
        let sealed = STANDARD.encode(sealed::seal(&id, &self.context(owner), &plain));
        let now = now_ms();
        self.catalog
            .put_reveal(&secrets::hash(&id), self.kind, &secrets::hash(owner), &sealed, now + Self::TTL.as_millis() as i64, now)
            .await?;
        Ok(id)
    }

    /// The value behind `id`, once, and only to its own owner.
    pub async fn take(&self, id: &str, owner: &str) -> Result<Option<T>> {
        let Some(stored) = self.catalog.take_reveal(&secrets::hash(id), self.kind, &secrets::hash(owner), now_ms()).await? else {
            return Ok(None);
        };
        let plain = STANDARD.decode(stored).ok().and_then(|bytes| sealed::open(id, &self.context(owner), &bytes));
        Ok(plain.and_then(|p| serde_json::from_slice(&p).ok()))
    }

    fn context(&self, owner: &str) -> String {
        format!("{}\n{owner}", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_catalog;

    #[tokio::test]
    async fn shown_once_to_its_owner_on_any_replica() {
        let (catalog, _d) = test_catalog().await;
        let here: Reveals<String> = Reveals::new(catalog.clone(), "token");
        let there: Reveals<String> = Reveals::new(catalog.clone(), "token");
        let id = here.put("acme", &"dss_secret".to_string()).await.unwrap();
        assert_eq!(there.take(&id, "someone-else").await.unwrap(), None);
        assert_eq!(Reveals::<String>::new(catalog.clone(), "link").take(&id, "acme").await.unwrap(), None);
        assert_eq!(there.take(&id, "acme").await.unwrap().as_deref(), Some("dss_secret"));
        assert_eq!(here.take(&id, "acme").await.unwrap(), None);
        // The catalog never holds the value in the clear.
        let id = here.put("acme", &"dss_visible_if_plain".to_string()).await.unwrap();
        let rows = catalog.texts("SELECT sealed FROM reveals").await;
        assert!(rows.iter().all(|r| !r.contains("dss_visible") && !STANDARD.decode(r).unwrap().windows(11).any(|w| w == b"dss_visible")));
        assert!(here.take(&id, "acme").await.unwrap().is_some());
    }
}
