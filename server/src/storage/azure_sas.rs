//! Azure Blob service SAS for one container, signed with the account key.
//!
//! `object_store`'s own Azure signer puts the *escaped* URL path into the string to sign, while
//! Azure (and Azurite) sign the blob's *name*: keys with a space, `%`, `=` or non-ASCII letters
//! (partition values) then get 403. This signer follows the service-SAS rules instead; where no
//! account key is configured (user delegation) the store's own signer is used.

use std::time::Duration;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use object_store::path::Path as KeyPath;
use object_store::signer::Signer;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;
use url::Url;

/// The SAS version signed (the string-to-sign layout below is the one since 2020-12-06).
const VERSION: &str = "2022-11-02";
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub struct AccountKeySas {
    account: String,
    key: Vec<u8>,
    /// `https://<account>.blob.core.windows.net/<container>` or the configured endpoint's.
    container_url: Url,
    container: String,
}

impl std::fmt::Debug for AccountKeySas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountKeySas").field("account", &self.account).field("container_url", &self.container_url.as_str()).finish()
    }
}

impl AccountKeySas {
    /// `None` when the key is not base64 (the store then refuses it anyway).
    pub fn new(account: &str, key_base64: &str, endpoint: Option<&str>, container: &str) -> Option<Self> {
        let key = STANDARD.decode(key_base64.trim()).ok()?;
        let base = match endpoint {
            Some(e) => e.trim_end_matches('/').to_string(),
            None => format!("https://{account}.blob.core.windows.net"),
        };
        let container_url = Url::parse(&format!("{base}/{}", utf8_percent_encode(container, SEGMENT))).ok()?;
        Some(Self { account: account.to_string(), key, container_url, container: container.to_string() })
    }

    /// A read URL for `blob` valid from `now` for `ttl`.
    pub fn sign_at(&self, blob: &str, now: chrono::DateTime<chrono::Utc>, ttl: Duration) -> Url {
        let start = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let expiry = (now + chrono::Duration::from_std(ttl).unwrap_or_default()).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let resource = format!("/blob/{}/{}/{blob}", self.account, self.container);
        // permissions, start, expiry, resource, identifier, IP, protocol, version, resource type,
        // snapshot time, encryption scope, then the five response-header overrides.
        let to_sign = format!("r\n{start}\n{expiry}\n{resource}\n\n\n\n{VERSION}\nb\n\n\n\n\n\n\n");
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(to_sign.as_bytes());
        let sig = STANDARD.encode(mac.finalize().into_bytes());
        let mut url = self.container_url.clone();
        let encoded: Vec<String> = blob.split('/').map(|s| utf8_percent_encode(s, SEGMENT).to_string()).collect();
        url.set_path(&format!("{}/{}", url.path().trim_end_matches('/'), encoded.join("/")));
        url.query_pairs_mut()
            .append_pair("sv", VERSION)
            .append_pair("st", &start)
            .append_pair("se", &expiry)
            .append_pair("sr", "b")
            .append_pair("sp", "r")
            .append_pair("sig", &sig);
        url
    }
}

#[async_trait]
impl Signer for AccountKeySas {
    async fn signed_url(&self, method: http::Method, path: &KeyPath, expires_in: Duration) -> object_store::Result<Url> {
        if method != http::Method::GET {
            return Err(object_store::Error::NotSupported { source: format!("only GET URLs are signed, not {method}").into() });
        }
        Ok(self.sign_at(path.as_ref(), chrono::Utc::now(), expires_in))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_signed_unescaped_and_sent_escaped() {
        let sas = AccountKeySas::new("acct", "a2V5", None, "lake").unwrap();
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let url = sas.sign_at("t/p=P 2%ü/x.parquet", now, Duration::from_secs(3600));
        assert_eq!(url.path(), "/lake/t/p%3DP%202%25%C3%BC/x.parquet");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(
            (q["st"].as_str(), q["se"].as_str(), q["sp"].as_str(), q["sr"].as_str()),
            ("2026-11-30T12:00:00Z", "2026-11-30T13:00:00Z", "r", "b")
        );
        // HMAC-SHA256 with key "key" over the string to sign, which names the blob unescaped.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"key").unwrap();
        mac.update(
            b"r\n2026-11-30T12:00:00Z\n2026-11-30T13:00:00Z\n/blob/acct/lake/t/p=P 2%\xc3\xbc/x.parquet\n\n\n\n2022-11-02\nb\n\n\n\n\n\n\n",
        );
        assert_eq!(q["sig"], STANDARD.encode(mac.finalize().into_bytes()));
        assert_eq!(url.host_str(), Some("acct.blob.core.windows.net"));
    }
}
