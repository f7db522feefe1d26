//! The portal server: capabilities as sibling modules, composed once in [`Services`].
//!
//! Dependencies point one way: `web` → (`sharing`, `query`, `auth`, `storage`, `demo`) → `catalog`.

pub mod auth;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod demo;
pub mod error;
pub mod export;
pub mod query;
pub mod sharing;
pub mod storage;
pub mod web;

use auth::{Credentials, Reveals, Sessions, TokenPolicy};
use export::jobs::ExportJobs;
use catalog::Catalog;
use config::Settings;
use error::Result;
use storage::UrlSigner;

/// Everything a request handler or a CLI command needs, built once from the settings.
pub struct Services {
    pub settings: Settings,
    pub catalog: Catalog,
    pub credentials: Credentials,
    pub sessions: Sessions,
    pub signer: UrlSigner,
    /// New self-service tokens waiting to be shown once.
    pub reveals: Reveals,
    pub jobs: ExportJobs,
}

impl Services {
    pub async fn open(settings: Settings) -> Result<Self> {
        std::fs::create_dir_all(&settings.data_dir)?;
        let catalog = Catalog::open(&settings.database_url).await?;
        let defaults = TokenPolicy { max_days: settings.token_max_days, max_active: settings.token_max_active };
        let credentials = Credentials::new(catalog.clone(), settings.sharing_endpoint(), defaults);
        let sessions = Sessions::new(catalog.clone(), settings.session_ttl_hours, settings.is_https());
        let signer = UrlSigner::new(UrlSigner::load_key(&settings.data_dir)?, &settings.public_url, settings.url_ttl_secs);
        let jobs = ExportJobs::new(catalog.clone(), &settings);
        Ok(Self { settings, catalog, credentials, sessions, signer, reveals: Reveals::default(), jobs })
    }
}
