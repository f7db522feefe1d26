//! The portal's HMAC keys: one signs, every key of the ring verifies.
//!
//! Everything the portal hands out and takes back signed (file URLs, paging cursors, refresh and
//! page tokens, form tokens) is a MAC under the ring's signing key. Rotation adds a key: for an
//! overlap the old keys still verify, so nothing signed before the rotation breaks at once. The
//! ring is shared by clones and can be replaced while the server runs (replicas reload it).

use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::secrets::same_hash;

/// The keys in use: the first signs, all verify.
#[derive(Clone)]
pub struct Keyring {
    keys: Arc<RwLock<Arc<Vec<Vec<u8>>>>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keyring({} keys)", self.current().len())
    }
}

impl Keyring {
    /// A ring of `signing` followed by keys that only verify. Panics on an empty signing key,
    /// which callers rule out when they read keys.
    pub fn new(signing: Vec<u8>, verifying: Vec<Vec<u8>>) -> Self {
        assert!(!signing.is_empty(), "a signing key has bytes");
        Self { keys: Arc::new(RwLock::new(Arc::new(std::iter::once(signing).chain(verifying).collect()))) }
    }

    /// Puts new keys in place for every clone of this ring.
    pub fn replace(&self, signing: Vec<u8>, verifying: Vec<Vec<u8>>) {
        let fresh = Self::new(signing, verifying).current();
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = fresh;
    }

    fn current(&self) -> Arc<Vec<Vec<u8>>> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The MAC of `parts` under the signing key, URL-safe.
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        mac(&self.current()[0], parts)
    }

    /// The signing key's MAC, keyed once: clones of it sign many messages (the URLs of one
    /// answer) without repeating the key schedule. [`finish`] encodes a finished MAC as
    /// [`sign`](Self::sign) does.
    pub fn keyed(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.current()[0]).expect("HMAC takes keys of any length")
    }

    /// True when `sig` is the MAC of `parts` under any key of the ring (in constant time per key).
    pub fn verify(&self, parts: &[&[u8]], sig: &str) -> bool {
        self.current().iter().fold(false, |ok, key| same_hash(&mac(key, parts), sig) | ok)
    }
}

fn mac(key: &[u8], parts: &[&[u8]]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    let mut out = String::with_capacity(43);
    finish(mac, &mut out);
    out
}

/// Appends the URL-safe encoding of a finished MAC to `out`.
pub fn finish(mac: Hmac<Sha256>, out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_key_signs_and_the_old_still_verifies() {
        let old = Keyring::new(b"old".to_vec(), vec![]);
        let signed_before = old.sign(&[b"cursor"]);
        let ring = old.clone();
        ring.replace(b"new".to_vec(), vec![b"old".to_vec()]);
        // Every clone sees the rotation.
        assert_ne!(old.sign(&[b"cursor"]), signed_before);
        assert!(old.verify(&[b"cursor"], &signed_before));
        assert!(ring.verify(&[b"cursor"], &ring.sign(&[b"cursor"])));
        assert!(!ring.verify(&[b"other"], &signed_before));
        // After the overlap the old key is dropped and its signatures stop verifying.
        ring.replace(b"new".to_vec(), vec![]);
        assert!(!ring.verify(&[b"cursor"], &signed_before));
    }

    #[test]
    fn a_keyed_mac_signs_as_sign_does() {
        let ring = Keyring::new(b"key".to_vec(), vec![]);
        let mut mac = ring.keyed();
        mac.update(b"a\n");
        let mut signed = String::new();
        finish(mac.clone(), &mut signed);
        assert_eq!(signed, ring.sign(&[b"a\n"]));
        assert!(ring.verify(&[b"a", b"\n"], &signed));
    }
}
