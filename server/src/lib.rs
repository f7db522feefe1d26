//! The portal server: capabilities as sibling modules, composed once in [`Services`].
//!
//! Dependencies point one way: `web` → (`admin`, `sharing`, `query`, `export`, `saved_views`, `auth`, `storage`, `demo`) → `catalog`.

// The console's page views are deeply nested types; the compiler needs more room to lay them out.
#![recursion_limit = "256"]

pub mod admin;
pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod deliveries;
pub mod demo;
pub mod error;
pub mod export;
pub mod metrics;
pub mod notify;
pub mod primitives;
pub mod query;
pub mod saved_views;
pub mod sharing;
pub mod storage;
pub mod web;

/// The property tests' budget: `PORTAL_FUZZ_CASES` cases per property (default 256; `make fuzz`
/// raises it). Each run draws fresh random inputs; a failure prints its shrunk input.
#[cfg(test)]
pub(crate) fn fuzz_config() -> proptest::test_runner::Config {
    let cases = std::env::var("PORTAL_FUZZ_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(256);
    proptest::test_runner::Config { cases, failure_persistence: None, ..Default::default() }
}

use auth::{Credentials, Reveals, Sessions, TokenPolicy};
use catalog::Catalog;
use config::Settings;
use error::Result;
use export::jobs::ExportJobs;
use storage::{Stores, UrlSigner};

/// Everything a request handler or a CLI command needs, built once from the settings.
pub struct Services {
    pub settings: Settings,
    pub catalog: Catalog,
    pub credentials: Credentials,
    pub sessions: Sessions,
    pub signer: UrlSigner,
    /// Object stores and their credentials (`[[storage]]` and the stores' env vars).
    pub stores: Stores,
    /// The portal's HMAC keys (configured, or generated in the catalog and reloaded).
    pub keys: auth::keys::PortalKeys,
    /// New self-service tokens waiting to be shown once.
    pub reveals: Reveals<auth::credentials::IssuedToken>,
    pub jobs: ExportJobs,
    pub metrics: metrics::Metrics,
    /// Single sign-on, when an identity provider is configured (admins, and partners bound to it).
    pub oidc: Option<auth::oidc::Oidc>,
    /// Partners' own identity providers.
    pub partner_idps: Vec<auth::oidc::Oidc>,
    /// New activation links and admin API tokens waiting to be shown once in the console.
    pub issued_links: Reveals<app::contract::IssuedLink>,
    pub issued_api_tokens: Reveals<String>,
    /// OAuth clients created or rotated just now (partner's or admin's), until their secret is shown.
    pub issued_clients: Reveals<auth::oauth_clients::IssuedClient>,
    /// Failed authentications by client address.
    pub throttle: auth::throttle::Throttle,
}

impl Services {
    /// Identity providers partners may sign in with, by the index sign-ins carry: 0 the portal's
    /// own (when configured), then each partner identity provider.
    pub fn sign_in_provider(&self, index: usize) -> Option<&auth::oidc::Oidc> {
        match index {
            0 => self.oidc.as_ref(),
            i => self.partner_idps.get(i - 1),
        }
    }

    /// The choices of the partner sign-in page: (index, name).
    pub fn partner_sign_ins(&self) -> Vec<(usize, String)> {
        let own = self.oidc.iter().map(|o| (0, o.name().to_string()));
        own.chain(self.partner_idps.iter().enumerate().map(|(i, o)| (i + 1, o.name().to_string()))).collect()
    }

    pub async fn open(settings: Settings) -> Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)?;
        let catalog = Catalog::open(&settings.database_url).await?;
        let defaults = TokenPolicy { max_days: settings.token_max_days, max_active: settings.token_max_active };
        let credentials =
            Credentials::new(catalog.clone(), settings.public_url.clone(), defaults).with_access_token_secs(settings.oauth_token_secs);
        let sessions = Sessions::new(catalog.clone(), settings.session_ttl_hours, settings.is_https());
        let keys = auth::keys::PortalKeys::load(&settings, &catalog).await?;
        let signer = UrlSigner::new(keys.ring.clone(), &settings.public_url, settings.url_ttl_secs);
        let stores = Stores::new(settings.storage.clone())?.with_snapshot_cache(settings.snapshot_cache_mb << 20);
        let jobs = ExportJobs::new(catalog.clone(), &settings, &stores)?;
        let oidc = settings.oidc.clone().map(|o| auth::oidc::Oidc::new(o, catalog.clone())).transpose()?;
        let partner_idps =
            settings.partner_idps.iter().cloned().map(|o| auth::oidc::Oidc::new(o, catalog.clone())).collect::<Result<_>>()?;
        let throttle = auth::throttle::Throttle::new(catalog.clone(), settings.auth_failures_per_minute);
        Ok(Self {
            settings,
            catalog: catalog.clone(),
            credentials,
            sessions,
            signer,
            stores,
            keys,
            reveals: Reveals::new(catalog.clone(), "token"),
            jobs,
            metrics: metrics::Metrics::default(),
            oidc,
            partner_idps,
            issued_links: Reveals::new(catalog.clone(), "activation-link"),
            issued_api_tokens: Reveals::new(catalog.clone(), "admin-api-token"),
            issued_clients: Reveals::new(catalog.clone(), "oauth-client"),
            throttle,
        })
    }
}
