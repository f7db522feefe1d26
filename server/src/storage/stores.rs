//! Object stores (S3, Azure Blob / ADLS Gen2, GCS) and their credentials.
//!
//! Credentials never live in the catalog: a table's URL is matched against the `[[storage]]`
//! entries of `portal.toml` (longest prefix wins) and, when none matches, the store's standard
//! environment variables (`AWS_*`, `AZURE_*`, `GOOGLE_*`) apply. A matched entry is complete on
//! its own: it never mixes with the environment, so one bucket's keys cannot leak into another's
//! requests. One store is built per (entry, bucket) and kept; it both reads the table and signs
//! its file URLs, so the signed host is exactly the one the portal itself reads from.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use object_store::aws::AmazonS3Builder;
use object_store::azure::{AzureConfigKey, MicrosoftAzureBuilder};
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::path::Path as KeyPath;
use object_store::signer::Signer;
use object_store::{DynObjectStore, ObjectStore};
use serde::Deserialize;
use url::Url;

use super::azure_sas::AccountKeySas;
use super::location::Place;
use crate::error::{PortalError, Result};

/// One `[[storage]]` entry: the URL prefix it covers and the object_store options for it
/// (`aws_access_key_id`, `azure_storage_account_key`, `google_service_account_key`, `endpoint`, …).
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageEntry {
    pub prefix: String,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

impl std::fmt::Debug for StorageEntry {
    /// Option names only: the values are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageEntry").field("prefix", &self.prefix).field("options", &self.options.keys().collect::<Vec<_>>()).finish()
    }
}

/// The store families the portal reads, named as in [`Place`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Family {
    S3,
    Azure,
    Gcs,
}

impl Family {
    fn of(place_scheme: &str) -> Option<Self> {
        match place_scheme {
            "s3" => Some(Self::S3),
            "az" | "abfss" => Some(Self::Azure),
            "gs" => Some(Self::Gcs),
            _ => None,
        }
    }

    fn env_names(self) -> &'static str {
        match self {
            Self::S3 => "the AWS_* environment variables",
            Self::Azure => "the AZURE_* environment variables",
            Self::Gcs => "the GOOGLE_* environment variables",
        }
    }
}

/// A bucket's store, able to read and to sign.
#[derive(Clone, Debug)]
pub struct Bucket {
    pub store: Arc<DynObjectStore>,
    pub signer: Arc<dyn Signer>,
    /// Which credentials it uses, for the console: `[[storage]] s3://bucket/` or the env vars.
    pub credentials: String,
}

/// A table in an object store: its bucket and the key prefix of its root.
#[derive(Clone, Debug)]
pub struct StoreRoot {
    pub bucket: Bucket,
    /// The table root inside the bucket (no leading or trailing `/`).
    pub prefix: KeyPath,
}

impl StoreRoot {
    /// The full key of a file given relative to the table root (decoded, as in [`FileAction`](super::FileAction)).
    pub fn key(&self, relative: &str) -> Result<KeyPath> {
        let full = if self.prefix.as_ref().is_empty() { relative.to_string() } else { format!("{}/{relative}", self.prefix) };
        KeyPath::parse(&full).map_err(|e| PortalError::Storage(format!("file key `{relative}`: {e}")))
    }
}

/// The configured entries and the stores built from them so far.
#[derive(Default)]
pub struct Stores {
    /// Entries with their parsed prefixes, longest first.
    entries: Vec<(Place, StorageEntry)>,
    built: Mutex<HashMap<(Option<usize>, Family, String), Bucket>>,
}

impl Stores {
    pub fn new(entries: Vec<StorageEntry>) -> Result<Self> {
        let mut parsed = Vec::new();
        for entry in entries {
            let place = Place::parse(&entry.prefix).map_err(|e| PortalError::Config(format!("[[storage]] prefix `{}`: {e}", entry.prefix)))?;
            if !matches!(place, Place::Store { .. }) {
                return Err(PortalError::Config(format!("[[storage]] prefix `{}` must be an s3://, az://, abfss:// or gs:// URL", entry.prefix)));
            }
            parsed.push((place, entry));
        }
        parsed.sort_by_key(|(place, _)| std::cmp::Reverse(place.depth()));
        register_log_stores();
        Ok(Self { entries: parsed, built: Mutex::default() })
    }

    /// Which credentials a location is read with (`None` for a local one), without building a store.
    pub fn credentials_of(&self, location: &str) -> Option<String> {
        let place = Place::parse(location).ok()?;
        let Place::Store { scheme, .. } = &place else { return None };
        Some(match self.entries.iter().find(|(prefix, _)| prefix.contains(&place)) {
            Some((_, entry)) => format!("[[storage]] {}", entry.prefix),
            None => Family::of(scheme)?.env_names().to_string(),
        })
    }

    /// The store of a table URL (`s3://bucket/path`, `az://container/path`,
    /// `abfss://container@account.dfs.core.windows.net/path`, `gs://bucket/path`).
    pub fn root(&self, url: &Url) -> Result<StoreRoot> {
        let place = Place::parse(url.as_str())?;
        let Place::Store { scheme, authority, segments } = &place else {
            return Err(PortalError::Internal(format!("`{url}` is not an object-store URL")));
        };
        let family = Family::of(scheme).ok_or_else(|| PortalError::InvalidParameter(format!("`{url}`: unknown storage scheme")))?;
        let entry = self.entries.iter().position(|(prefix, _)| prefix.contains(&place));
        let key = (entry, family, authority.clone());
        let bucket = {
            // Building is quick and never awaits: a plain lock is enough.
            let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
            match built.get(&key) {
                Some(b) => b.clone(),
                None => {
                    let b = self.build(url, family, entry)?;
                    built.insert(key, b.clone());
                    b
                }
            }
        };
        Ok(StoreRoot { bucket, prefix: KeyPath::from_iter(segments.iter().map(String::as_str)) })
    }

    fn build(&self, url: &Url, family: Family, entry: Option<usize>) -> Result<Bucket> {
        let options: Vec<(String, String)> = match entry {
            Some(i) => self.entries[i].1.options.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.clone())).collect(),
            None => Vec::new(),
        };
        let credentials = match entry {
            Some(i) => format!("[[storage]] {}", self.entries[i].1.prefix),
            None => family.env_names().to_string(),
        };
        // The bucket alone: the table's path must not become part of the store's root.
        let bucket_url = bucket_url(url);
        let unusable = |e: object_store::Error| PortalError::InvalidParameter(format!("storage for `{url}` ({credentials}) is not usable: {}", brief(&e)));
        let unknown = |k: &str| PortalError::Config(format!("{credentials}: unknown option `{k}`"));
        let (store, signer): (Arc<DynObjectStore>, Arc<dyn Signer>) = match family {
            Family::S3 => {
                let mut b = if entry.is_some() { AmazonS3Builder::new() } else { AmazonS3Builder::from_env() };
                for (k, v) in &options {
                    b = b.with_config(k.parse().map_err(|_| unknown(k))?, v);
                }
                let s = Arc::new(b.with_url(bucket_url.as_str()).build().map_err(unusable)?);
                (s.clone(), s)
            }
            Family::Azure => {
                let mut b = if entry.is_some() { MicrosoftAzureBuilder::new() } else { MicrosoftAzureBuilder::from_env() };
                for (k, v) in &options {
                    b = b.with_config(k.parse().map_err(|_| unknown(k))?, v);
                }
                let b = b.with_url(bucket_url.as_str());
                let get = |k: AzureConfigKey| b.get_config_value(&k);
                // The URL is parsed only at `build`: the container is the host (`az://container`)
                // or the user part (`abfss://container@account.dfs.core.windows.net`), the
                // account the host's first label there.
                let container = if url.username().is_empty() { url.host_str() } else { Some(url.username()) };
                let account = get(AzureConfigKey::AccountName)
                    .or_else(|| (!url.username().is_empty()).then(|| url.host_str()?.split('.').next().map(String::from)).flatten());
                let sas = match (account, get(AzureConfigKey::AccessKey), container) {
                    (Some(account), Some(key), Some(container)) => {
                        AccountKeySas::new(&account, &key, get(AzureConfigKey::Endpoint).as_deref(), container).map(Arc::new)
                    }
                    _ => None,
                };
                let s = Arc::new(b.build().map_err(unusable)?);
                match sas {
                    Some(sas) => (s, sas),
                    None => (s.clone(), s),
                }
            }
            Family::Gcs => {
                let mut b = if entry.is_some() { GoogleCloudStorageBuilder::new() } else { GoogleCloudStorageBuilder::from_env() };
                for (k, v) in &options {
                    b = b.with_config(k.parse().map_err(|_| unknown(k))?, v);
                }
                let s = Arc::new(b.with_url(bucket_url.as_str()).build().map_err(unusable)?);
                (s.clone(), s)
            }
        };
        Ok(Bucket { store, signer, credentials })
    }

    /// Reads the table's log directory once, to turn a store's refusal into a line an admin can act on.
    pub async fn diagnose(&self, location: &str, root: &StoreRoot) -> PortalError {
        let log = match root.key("_delta_log") {
            Ok(k) => k,
            Err(e) => return e,
        };
        let refused =
            || PortalError::NotATable(format!("`{location}` cannot be read: the storage refused the portal's credentials ({})", root.bucket.credentials));
        let no_bucket = || PortalError::NotATable(format!("`{location}` cannot be read: the bucket or container does not exist"));
        match root.bucket.store.list_with_delimiter(Some(&log)).await {
            Ok(listing) if listing.objects.is_empty() => PortalError::NotATable(format!("`{location}` is not a Delta table: it has no _delta_log")),
            Ok(_) => PortalError::NotATable(format!("`{location}` cannot be read as a Delta table")),
            Err(object_store::Error::NotFound { .. }) => no_bucket(),
            Err(object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. }) => refused(),
            // Listing errors come wrapped as `Generic`; the store's answer is in the text.
            Err(e) => match status_of(&e) {
                Some(401 | 403) => refused(),
                Some(404) => no_bucket(),
                _ => PortalError::NotATable(format!("`{location}` cannot be read: {}", brief(&e))),
            },
        }
    }
}

/// The HTTP status a store answered with, as a wrapped error reports it.
fn status_of(e: &object_store::Error) -> Option<u16> {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&s.to_string());
        source = s.source();
    }
    [(401, "401 Unauthorized"), (403, "403 Forbidden"), (404, "404 Not Found")].into_iter().find(|(_, t)| text.contains(t)).map(|(code, _)| code)
}

/// `scheme://authority/` of a table URL.
fn bucket_url(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_path("/");
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// The first line of a store error, without its request details. Object store errors carry no
/// credentials (requests are signed in headers), but response bodies can be long.
fn brief(e: &object_store::Error) -> String {
    let mut text = e.to_string();
    if let Some(source) = std::error::Error::source(e) {
        text = format!("{text}: {source}");
    }
    let line = text.lines().next().unwrap_or_default();
    line.chars().take(300).collect()
}

impl Place {
    /// Segments below the root, for "longest prefix wins".
    fn depth(&self) -> usize {
        match self {
            Place::Local(p) => p.components().count(),
            Place::Store { segments, .. } => segments.len() + 1,
        }
    }
}

/// deltalake reads object-store tables through the stores built here; it only needs to know
/// that these schemes use its default (read-only, for us) log store.
pub fn register_log_stores() {
    use deltalake::logstore::{default_logstore, logstore_factories, LogStore, LogStoreFactory, ObjectStoreRef, StorageConfig};
    struct Plain;
    impl LogStoreFactory for Plain {
        fn with_options(
            &self,
            prefixed: ObjectStoreRef,
            root: ObjectStoreRef,
            location: &Url,
            options: &StorageConfig,
        ) -> deltalake::DeltaResult<Arc<dyn LogStore>> {
            Ok(default_logstore(prefixed, root, location, options))
        }
    }
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let registry = logstore_factories();
        for scheme in super::location::STORE_SCHEMES {
            if let Ok(url) = Url::parse(&format!("{scheme}://")) {
                registry.insert(url, Arc::new(Plain));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(prefix: &str, options: &[(&str, &str)]) -> StorageEntry {
        StorageEntry { prefix: prefix.into(), options: options.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect() }
    }

    fn s3_options(key: &str) -> Vec<(&'static str, String)> {
        vec![("aws_access_key_id", key.to_string())]
    }

    #[test]
    fn the_longest_prefix_wins_and_entries_never_mix_with_the_environment() {
        let a = s3_options("AKIA_BUCKET");
        let b = s3_options("AKIA_SALES");
        let opts = |o: &[(&'static str, String)]| -> Vec<(&str, &str)> {
            let mut v: Vec<(&str, &str)> = o.iter().map(|(k, v)| (*k, v.as_str())).collect();
            v.extend([("aws_secret_access_key", "s"), ("aws_region", "eu-central-1")]);
            v
        };
        let stores = Stores::new(vec![entry("s3://lake/", &opts(&a)), entry("s3://lake/sales", &opts(&b))]).unwrap();
        let deep = stores.root(&Url::parse("s3://lake/sales/orders").unwrap()).unwrap();
        assert_eq!(deep.bucket.credentials, "[[storage]] s3://lake/sales");
        assert_eq!(deep.prefix.as_ref(), "sales/orders");
        let other = stores.root(&Url::parse("s3://lake/salesforce/x").unwrap()).unwrap();
        assert_eq!(other.bucket.credentials, "[[storage]] s3://lake/");
        let elsewhere = stores.root(&Url::parse("s3://other/t").unwrap()).unwrap();
        assert_eq!(elsewhere.bucket.credentials, "the AWS_* environment variables");
        assert!(!format!("{:?}", stores.entries).contains("AKIA"), "Debug never shows option values");
    }

    #[test]
    fn keys_keep_characters_that_need_escaping() {
        let stores = Stores::new(vec![entry("s3://b", &[("aws_region", "us-east-1"), ("aws_skip_signature", "true")])]).unwrap();
        let root = stores.root(&Url::parse("s3://b/t%20x").unwrap()).unwrap();
        assert_eq!(root.key("p=a b%3D/ü.parquet").unwrap().as_ref(), "t x/p=a b%3D/ü.parquet");
    }

    #[test]
    fn bad_entries_are_named() {
        let err = Stores::new(vec![entry("/data/lake", &[])]).err().unwrap().to_string();
        assert!(err.contains("must be an s3://"), "{err}");
        let stores = Stores::new(vec![entry("s3://b", &[("aws_no_such_option", "x")])]).unwrap();
        let err = stores.root(&Url::parse("s3://b/t").unwrap()).unwrap_err().to_string();
        assert!(err.contains("unknown option `aws_no_such_option`"), "{err}");
    }
}
