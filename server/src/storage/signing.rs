//! Signed, expiring URLs for data files.
//!
//! Local tables are served by the portal itself at `/files/{table_id}/{path}?sp=r&exp=&sig=`,
//! where `sig` is an HMAC-SHA256 over the table, the path, the permission and the expiry.
//! Anything tampered with or expired is refused with 403. `sp=r` ("signed permissions: read",
//! as in Azure SAS) also matters to delta-kernel-based clients (the official Python client's
//! delta format path): they fetch a URL over HTTP only when its query carries a known signature
//! key, and otherwise look for the path on their local disk.
//!
//! Object-store tables are never proxied: their URLs are pre-signed by the store's own scheme
//! (S3 SigV4, Azure SAS, GCS V4) through `object_store`'s `Signer`, and point at the store.
//! [`FileUrls`] is the one place that chooses between the two.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

use super::stores::StoreRoot;
use super::TableState;
use crate::error::{PortalError, Result};
use crate::primitives::keys::{finish, Keyring};
use crate::primitives::time::now_ms;

/// Path segments keep these characters readable; everything else is percent-encoded.
/// The only permission a file URL grants.
const READ: &str = "r";

const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'=').remove(b'~');

#[derive(Clone)]
pub struct UrlSigner {
    keys: Keyring,
    public_url: String,
    pub ttl_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    pub expires_at: i64,
}

impl UrlSigner {
    pub fn new(keys: Keyring, public_url: &str, ttl_secs: u64) -> Self {
        Self { keys, public_url: public_url.trim_end_matches('/').into(), ttl_ms: ttl_secs as i64 * 1000 }
    }

    /// A signer with one fixed key (tests).
    #[cfg(test)]
    pub fn with_key(key: &[u8], public_url: &str, ttl_secs: u64) -> Self {
        Self::new(Keyring::new(key.to_vec(), vec![]), public_url, ttl_secs)
    }

    /// A URL for `path` (relative to the table root, as in the Delta log) of a local table.
    pub fn sign(&self, table_id: &str, path: &str) -> SignedUrl {
        self.urls(table_id).sign(path)
    }

    /// The URLs of one answer about a local table: keyed once, all expiring together.
    pub fn urls(&self, table_id: &str) -> PortalUrls {
        let expires_at = now_ms() + self.ttl_ms;
        let mut mac = self.keys.keyed();
        mac.update(signed_head(table_id).as_bytes());
        let prefix = format!("{}/files/{table_id}/", self.public_url);
        PortalUrls {
            // The rest of a URL is percent-encoded path, digits and base64url.
            json_safe: !prefix.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20),
            prefix,
            query: format!("?sp={READ}&exp={expires_at}&sig="),
            signed_tail: signed_tail(expires_at),
            mac,
            expires_at,
        }
    }

    /// Checks a presented signature: 403 when tampered with or expired.
    pub fn verify(&self, table_id: &str, path: &str, permission: &str, expires_at: i64, sig: &str) -> Result<()> {
        if permission != READ {
            return Err(PortalError::Forbidden("this file link is not valid".into()));
        }
        if !self.keys.verify(&[signed_head(table_id).as_bytes(), path.as_bytes(), signed_tail(expires_at).as_bytes()], sig) {
            return Err(PortalError::Forbidden("this file link is not valid".into()));
        }
        if expires_at <= now_ms() {
            return Err(PortalError::Forbidden("this file link has expired; query the table again for a fresh one".into()));
        }
        Ok(())
    }

    /// Seals a small payload (a paging cursor, a refresh token) so that a client can hand it
    /// back but cannot forge or alter it.
    pub fn seal(&self, payload: &[u8]) -> String {
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), self.keys.sign(&[b"sealed\n", payload]))
    }

    /// The payload of a token made by [`seal`](Self::seal), or `None` if it was not made here.
    pub fn unseal(&self, token: &str) -> Option<Vec<u8>> {
        let (body, sig) = token.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(body).ok()?;
        self.keys.verify(&[b"sealed\n", &payload], sig).then_some(payload)
    }

    /// A keyed MAC of `data` for one `purpose` (form tokens), distinct from every URL signature.
    pub fn mac(&self, purpose: &str, data: &str) -> String {
        self.keys.sign(&[b"purpose\n", purpose.as_bytes(), b"\n", data.as_bytes()])
    }

    /// Checks a MAC made by [`mac`](Self::mac) under any key of the ring.
    pub fn verify_mac(&self, purpose: &str, data: &str, sig: &str) -> bool {
        self.keys.verify(&[b"purpose\n", purpose.as_bytes(), b"\n", data.as_bytes()], sig)
    }
}

// A file URL's signature covers `{table}\n{path}\n{permission}\n{expiry}`: the head, the
// path, the tail. Signing keys the head once per answer; verifying feeds the three pieces.
fn signed_head(table_id: &str) -> String {
    format!("{table_id}\n")
}

fn signed_tail(expires_at: i64) -> String {
    format!("\n{READ}\n{expires_at}")
}

/// Signs the file URLs of one answer about a local table. The key schedule, the table's part
/// of the signed text and the expiry are done once; each URL then costs one MAC of its path.
pub struct PortalUrls {
    prefix: String,
    query: String,
    signed_tail: String,
    mac: Hmac<Sha256>,
    /// Whether its URLs can be written into JSON without escaping.
    json_safe: bool,
    pub expires_at: i64,
}

impl PortalUrls {
    pub fn sign(&self, path: &str) -> SignedUrl {
        let mut url = String::with_capacity(self.prefix.len() + path.len() + self.query.len() + 48);
        self.write(path, &mut url);
        SignedUrl { url, expires_at: self.expires_at }
    }

    pub fn json_safe(&self) -> bool {
        self.json_safe
    }

    /// Appends the URL of `path` to `out`.
    pub fn write(&self, path: &str, out: &mut String) {
        out.push_str(&self.prefix);
        for (i, segment) in path.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            out.extend(utf8_percent_encode(segment, SEGMENT));
        }
        out.push_str(&self.query);
        let mut mac = self.mac.clone();
        mac.update(path.as_bytes());
        mac.update(self.signed_tail.as_bytes());
        finish(mac, out);
    }
}

/// Who signs one answer's file URLs: the portal for a local table, the store for the others.
pub enum FileUrls<'a> {
    Portal(Arc<PortalUrls>),
    Store { root: &'a StoreRoot, ttl_ms: i64 },
}

impl<'a> FileUrls<'a> {
    pub fn of(signer: &UrlSigner, table_id: &str, state: &'a TableState) -> Self {
        match state.store_root() {
            Some(root) => Self::Store { root, ttl_ms: signer.ttl_ms },
            None => Self::Portal(Arc::new(signer.urls(table_id))),
        }
    }

    /// A GET URL for `path`, relative to the table root as in the Delta log (decoded).
    pub async fn sign(&self, path: &str) -> Result<SignedUrl> {
        match self {
            Self::Portal(urls) => Ok(urls.sign(path)),
            Self::Store { root, ttl_ms } => {
                // Taken before signing, so the store's own expiry is never earlier than the one we announce.
                let expires_at = now_ms() + ttl_ms;
                let key = root.signing_key(path)?;
                let url = root
                    .bucket
                    .signer
                    .signed_url(http::Method::GET, &key, Duration::from_millis(*ttl_ms as u64))
                    .await
                    .map_err(|e| PortalError::store(format!("signing a URL for `{path}`"), e))?;
                Ok(SignedUrl { url: url.into(), expires_at })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer(ttl: u64) -> UrlSigner {
        UrlSigner::with_key(b"k", "http://h:1/", ttl)
    }

    fn parts(url: &str) -> (String, i64, String) {
        let u = url::Url::parse(url).unwrap();
        let q: std::collections::HashMap<_, _> = u.query_pairs().into_owned().collect();
        assert_eq!(q["sp"], "r");
        (u.path().to_string(), q["exp"].parse().unwrap(), q["sig"].clone())
    }

    #[test]
    fn urls_go_into_json_unescaped_only_when_nothing_needs_escaping() {
        assert!(signer(60).urls("t1").json_safe());
        assert!(!UrlSigner::with_key(b"k", "http://h:1/a\"b", 60).urls("t1").json_safe());
    }

    #[test]
    fn signed_urls_verify_and_encode_paths() {
        let s = signer(60);
        let signed = s.sign("t1", "partner_id=P 1/part-0.parquet");
        assert!(signed.url.starts_with("http://h:1/files/t1/partner_id=P%201/part-0.parquet?sp=r&exp="));
        let (_, exp, sig) = parts(&signed.url);
        assert_eq!(exp, signed.expires_at);
        s.verify("t1", "partner_id=P 1/part-0.parquet", "r", exp, &sig).unwrap();
        assert!(s.verify("t1", "partner_id=P 1/part-0.parquet", "rw", exp, &sig).is_err());
    }

    #[test]
    fn one_answers_urls_verify_each_on_its_own() {
        let s = signer(60);
        let urls = s.urls("t1");
        for path in ["a.parquet", "day=2026-01-01/part 0.parquet", "x/y/z%.parquet"] {
            let signed = urls.sign(path);
            assert_eq!(signed.expires_at, urls.expires_at);
            let (_, exp, sig) = parts(&signed.url);
            s.verify("t1", path, "r", exp, &sig).unwrap();
            assert!(s.verify("t2", path, "r", exp, &sig).is_err());
        }
    }

    #[test]
    fn sealed_tokens_cannot_be_forged() {
        let s = signer(60);
        let token = s.seal(b"{\"version\":3}");
        assert_eq!(s.unseal(&token).unwrap(), b"{\"version\":3}");
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode(b"{\"version\":0}"), token.split_once('.').unwrap().1);
        assert_eq!(s.unseal(&forged), None);
        assert_eq!(UrlSigner::with_key(b"other", "http://h", 60).unseal(&token), None);
        for junk in ["", ".", "abc", "!!.!!"] {
            assert_eq!(s.unseal(junk), None);
        }
    }

    #[test]
    fn tampering_and_expiry_are_refused() {
        let s = signer(60);
        let (_, exp, sig) = parts(&s.sign("t1", "a.parquet").url);
        for (table, path, e) in [("t2", "a.parquet", exp), ("t1", "b.parquet", exp), ("t1", "a.parquet", exp + 1)] {
            assert_eq!(s.verify(table, path, "r", e, &sig).unwrap_err().status(), 403);
        }
        let other_key = UrlSigner::with_key(b"other", "http://h:1", 60);
        assert!(other_key.verify("t1", "a.parquet", "r", exp, &sig).is_err());
        let expired = UrlSigner { ttl_ms: -1, ..signer(1) };
        let (_, exp, sig) = parts(&expired.sign("t1", "a.parquet").url);
        assert!(expired.verify("t1", "a.parquet", "r", exp, &sig).unwrap_err().to_string().contains("expired"));
    }
}
