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
use super::snapshots::Snapshots;
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
    /// The signer writes the key into the URL unescaped (object_store's GCS signer does): a
    /// `%` in a key (delta-rs and Spark escape partition values with it) would then name
    /// another object, so such keys are handed over already escaped.
    escape_for_signer: bool,
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
        KeyPath::parse(&full).map_err(|e| PortalError::store(format!("file key `{relative}`"), e))
    }

    /// The key as the bucket's signer must be given it to sign a URL for `relative`.
    pub fn signing_key(&self, relative: &str) -> Result<KeyPath> {
        let key = self.key(relative)?;
        if !self.bucket.escape_for_signer {
            return Ok(key);
        }
        let escaped: Vec<String> =
            key.as_ref().split('/').map(|s| percent_encoding::utf8_percent_encode(s, URL_SEGMENT).to_string()).collect();
        KeyPath::parse(escaped.join("/")).map_err(|e| PortalError::store(format!("file key `{relative}`"), e))
    }
}

/// Everything but unreserved characters is escaped in a URL path segment.
const URL_SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The configured entries and the stores built from them so far.
#[derive(Default)]
pub struct Stores {
    /// Entries with their parsed prefixes, longest first.
    entries: Vec<(Place, StorageEntry)>,
    built: Mutex<HashMap<BucketKey, Bucket>>,
    /// Loaded Delta snapshots of the tables these stores hold (local ones too).
    snapshots: Snapshots,
}

/// A built store: (the matching entry, or the env vars; family; bucket).
type BucketKey = (Option<usize>, Family, String);

impl Stores {
    pub fn new(entries: Vec<StorageEntry>) -> Result<Self> {
        let mut parsed = Vec::new();
        for entry in entries {
            let place =
                Place::parse(&entry.prefix).map_err(|e| PortalError::Config(format!("[[storage]] prefix `{}`: {e}", entry.prefix)))?;
            let Place::Store { scheme, .. } = &place else {
                return Err(PortalError::Config(format!(
                    "[[storage]] prefix `{}` must be an s3://, az://, abfss:// or gs:// URL",
                    entry.prefix
                )));
            };
            let family =
                Family::of(scheme).ok_or_else(|| PortalError::Config(format!("[[storage]] prefix `{}`: unknown store", entry.prefix)))?;
            // Misspelt options are caught at start, not at the first table read.
            for key in entry.options.keys() {
                let known = match family {
                    Family::S3 => key.to_ascii_lowercase().parse::<object_store::aws::AmazonS3ConfigKey>().is_ok(),
                    Family::Azure => key.to_ascii_lowercase().parse::<AzureConfigKey>().is_ok(),
                    Family::Gcs => key.to_ascii_lowercase().parse::<object_store::gcp::GoogleConfigKey>().is_ok(),
                };
                if !known {
                    return Err(PortalError::Config(format!("[[storage]] {}: unknown option `{key}`", entry.prefix)));
                }
            }
            parsed.push((place, entry));
        }
        // Longest first, so the first entry that contains a place is the one that wins.
        parsed.sort_by_key(|(place, _)| std::cmp::Reverse(if let Place::Store { segments, .. } = place { segments.len() } else { 0 }));
        register_log_stores();
        Ok(Self { entries: parsed, built: Mutex::default(), snapshots: Snapshots::default() })
    }

    /// A cache budget other than the default (`snapshot_cache_mb`; 0 reads every snapshot afresh).
    pub fn with_snapshot_cache(mut self, budget_bytes: usize) -> Self {
        self.snapshots = Snapshots::new(budget_bytes);
        self
    }

    pub fn snapshots(&self) -> &Snapshots {
        &self.snapshots
    }

    /// Which credentials a location is read with (`None` for a local one), without building a store.
    pub fn credentials_of(&self, location: &str) -> Option<String> {
        let place = Place::parse(location).ok()?;
        let Place::Store { scheme, .. } = &place else { return None };
        Some(self.credentials(self.entry_for(&place), Family::of(scheme)?))
    }

    /// The entry whose prefix contains `place`, longest first.
    fn entry_for(&self, place: &Place) -> Option<usize> {
        self.entries.iter().position(|(prefix, _)| prefix.contains(place))
    }

    /// What the console says reads a bucket: the entry's prefix or the env vars.
    fn credentials(&self, entry: Option<usize>, family: Family) -> String {
        match entry {
            Some(i) => format!("[[storage]] {}", self.entries[i].1.prefix),
            None => family.env_names().to_string(),
        }
    }

    /// The store of a table URL (`s3://bucket/path`, `az://container/path`,
    /// `abfss://container@account.dfs.core.windows.net/path`, `gs://bucket/path`).
    pub fn root(&self, url: &Url) -> Result<StoreRoot> {
        let place = Place::parse(url.as_str())?;
        let Place::Store { scheme, authority, segments } = &place else {
            return Err(PortalError::Internal(format!("`{url}` is not an object-store URL")));
        };
        let family = Family::of(scheme).ok_or_else(|| PortalError::InvalidParameter(format!("`{url}`: unknown storage scheme")))?;
        let entry = self.entry_for(&place);
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
        let credentials = self.credentials(entry, family);
        // The bucket alone: the table's path must not become part of the store's root.
        let bucket_url = bucket_url(url);
        let unusable = |e: object_store::Error| {
            PortalError::InvalidParameter(format!("storage for `{url}` ({credentials}) is not usable: {}", brief(&e)))
        };
        let (store, signer): (Arc<DynObjectStore>, Arc<dyn Signer>) = match family {
            Family::S3 => {
                let b = if entry.is_some() { AmazonS3Builder::new() } else { AmazonS3Builder::from_env() };
                let b = with_options(b, &options, &credentials, |b, k, v| b.with_config(k, v))?;
                let s = Arc::new(b.with_url(bucket_url.as_str()).build().map_err(unusable)?);
                (s.clone(), s)
            }
            Family::Azure => {
                let b = if entry.is_some() { MicrosoftAzureBuilder::new() } else { MicrosoftAzureBuilder::from_env() };
                let b = with_options(b, &options, &credentials, |b, k, v| b.with_config(k, v))?.with_url(bucket_url.as_str());
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
                let b = if entry.is_some() { GoogleCloudStorageBuilder::new() } else { GoogleCloudStorageBuilder::from_env() };
                let b = with_options(b, &options, &credentials, |b, k, v| b.with_config(k, v))?;
                let s = Arc::new(b.with_url(bucket_url.as_str()).build().map_err(unusable)?);
                (s.clone(), s)
            }
        };
        Ok(Bucket { store, signer, credentials, escape_for_signer: family == Family::Gcs })
    }

    /// Reads the table's log directory once, to turn a store's refusal into a line an admin can act on.
    pub async fn diagnose(&self, location: &str, root: &StoreRoot) -> PortalError {
        let log = match root.key("_delta_log") {
            Ok(k) => k,
            Err(e) => return e,
        };
        let refused = || {
            PortalError::NotATable(format!(
                "`{location}` cannot be read: the storage refused the portal's credentials ({})",
                root.bucket.credentials
            ))
        };
        let no_bucket = || PortalError::NotATable(format!("`{location}` cannot be read: the bucket or container does not exist"));
        match root.bucket.store.list_with_delimiter(Some(&log)).await {
            Ok(listing) if listing.objects.is_empty() => {
                PortalError::NotATable(format!("`{location}` is not a Delta table: it has no _delta_log"))
            }
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
    [(401, "401 Unauthorized"), (403, "403 Forbidden"), (404, "404 Not Found")]
        .into_iter()
        .find(|(_, t)| text.contains(t))
        .map(|(code, _)| code)
}

/// Sets each option on a store builder, by the builder's own name for it.
fn with_options<B, K: std::str::FromStr>(
    mut builder: B,
    options: &[(String, String)],
    credentials: &str,
    set: impl Fn(B, K, &str) -> B,
) -> Result<B> {
    for (name, value) in options {
        let key = name.parse().map_err(|_| PortalError::Config(format!("{credentials}: unknown option `{name}`")))?;
        builder = set(builder, key, value);
    }
    Ok(builder)
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

    #[test]
    fn the_longest_prefix_wins_and_the_environment_is_the_fallback() {
        let opts = |key: &'static str| [("aws_access_key_id", key), ("aws_secret_access_key", "s"), ("aws_region", "eu-central-1")];
        let stores = Stores::new(vec![entry("s3://lake/", &opts("AKIA_BUCKET")), entry("s3://lake/sales", &opts("AKIA_SALES"))]).unwrap();
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
        let err = Stores::new(vec![entry("s3://b", &[("aws_no_such_option", "x")])]).err().unwrap().to_string();
        assert_eq!(err, "[[storage]] s3://b: unknown option `aws_no_such_option`");
    }
}

/// GCS: no local server verifies V4 signatures, so the URL is checked here, independently of
/// object_store: the canonical request is rebuilt from the URL as Google's documentation
/// describes it and the RSA signature verified with the service account's public key.
#[cfg(test)]
mod gcs_tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn openssl(args: &[&str]) -> Vec<u8> {
        let out = std::process::Command::new("openssl").args(args).output().expect("openssl runs");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    #[tokio::test]
    async fn gcs_urls_carry_a_v4_signature_of_the_exact_key() {
        let dir = tempfile::tempdir().unwrap();
        let pem = dir.path().join("key.pem");
        openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pem.to_str().unwrap()]);
        let public_der = openssl(&["rsa", "-in", pem.to_str().unwrap(), "-RSAPublicKey_out", "-outform", "DER"]);
        let key_json = serde_json::json!({
            "type": "service_account", "client_email": "portal@example.iam.gserviceaccount.com",
            "private_key": std::fs::read_to_string(&pem).unwrap(), "private_key_id": "k1",
        });
        let entry =
            StorageEntry { prefix: "gs://lake".into(), options: [("google_service_account_key".to_string(), key_json.to_string())].into() };
        let stores = Stores::new(vec![entry]).unwrap();
        let root = stores.root(&Url::parse("gs://lake/sales").unwrap()).unwrap();
        let key = root.signing_key("partner_id=P 2%ü/part-0.parquet").unwrap();
        let url = root.bucket.signer.signed_url(http::Method::GET, &key, std::time::Duration::from_secs(600)).await.unwrap();

        assert_eq!(url.host_str(), Some("storage.googleapis.com"));
        assert_eq!(url.path(), "/lake/sales/partner_id%3DP%202%25%C3%BC/part-0.parquet");
        let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let signature = pairs.iter().position(|(k, _)| k == "X-Goog-Signature").map(|i| pairs.remove(i).1).unwrap();
        let found: HashMap<String, String> = pairs.iter().cloned().collect();
        let get = |name: &str| found[name].clone();
        assert_eq!(get("X-Goog-Expires"), "600");
        assert!(get("X-Goog-Credential").starts_with("portal@example.iam.gserviceaccount.com/"));
        pairs.sort();
        let strict = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%2D", "-")
                .replace("%2E", ".")
                .replace("%5F", "_")
                .replace("%7E", "~")
        };
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{}={}", strict(k), strict(v))).collect();
        let string_to_sign = |path: &str| {
            let canonical = format!("GET\n{path}\n{}\nhost:storage.googleapis.com\n\nhost\nUNSIGNED-PAYLOAD", query.join("&"));
            let scope = get("X-Goog-Credential").split_once('/').unwrap().1.to_string();
            format!("GOOG4-RSA-SHA256\n{}\n{scope}\n{}", get("X-Goog-Date"), hex::encode(Sha256::digest(canonical.as_bytes())))
        };
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public_der);
        let signature = hex::decode(&signature).unwrap();
        public.verify(string_to_sign(url.path()).as_bytes(), &signature).expect("the signature verifies");
        assert!(public.verify(string_to_sign("/lake/sales/part-1.parquet").as_bytes(), &signature).is_err(), "and holds for this key only");
    }
}
