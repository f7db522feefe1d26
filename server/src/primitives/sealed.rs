//! Sealing a value under a one-time secret (authenticated encryption, ChaCha20-Poly1305).
//!
//! A value waiting to be shown once (a new token) is kept in the catalog only sealed under a
//! random secret that the catalog never sees (the caller hands it to the browser); whoever reads
//! the catalog learns nothing of the value, and a sealed value opens only with its secret and
//! for the same context (owner, purpose).

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305};
use sha2::{Digest, Sha256};

fn key(secret: &str) -> LessSafeKey {
    let bytes = Sha256::digest([b"portal sealed value\n".as_slice(), secret.as_bytes()].concat());
    LessSafeKey::new(UnboundKey::new(&CHACHA20_POLY1305, &bytes).expect("32-byte key"))
}

/// `plain` sealed under `secret` for `context`. Each secret seals one value only, so the fixed
/// nonce is never reused under one key.
pub fn seal(secret: &str, context: &str, plain: &[u8]) -> Vec<u8> {
    let mut data = plain.to_vec();
    key(secret)
        .seal_in_place_append_tag(Nonce::assume_unique_for_key([0; 12]), Aad::from(context.as_bytes()), &mut data)
        .expect("a small value seals");
    data
}

/// The value sealed by [`seal`], or `None` for another secret, context or altered bytes.
pub fn open(secret: &str, context: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let mut data = sealed.to_vec();
    let plain = key(secret).open_in_place(Nonce::assume_unique_for_key([0; 12]), Aad::from(context.as_bytes()), &mut data).ok()?;
    Some(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_only_with_its_secret_and_context() {
        let sealed = seal("s1", "owner-a", b"dss_token");
        assert!(!sealed.windows(9).any(|w| w == b"dss_token"));
        assert_eq!(open("s1", "owner-a", &sealed).unwrap(), b"dss_token");
        assert_eq!(open("s2", "owner-a", &sealed), None);
        assert_eq!(open("s1", "owner-b", &sealed), None);
        let mut altered = sealed.clone();
        altered[0] ^= 1;
        assert_eq!(open("s1", "owner-a", &altered), None);
    }
}
