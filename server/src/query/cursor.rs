//! `_next` tokens: opaque, sealed, bound to one view and pinned to the version its first page
//! read, so paging stays consistent while the table changes underneath.

use app::contract::grammar::TableQuery;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{PortalError, Result};
use crate::storage::UrlSigner;

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// Table version.
    v: i64,
    /// Rows before the page.
    o: u64,
    /// Fingerprint of the view (filters, order, columns).
    q: String,
}

pub fn seal(signer: &UrlSigner, version: i64, offset: u64, view: &TableQuery) -> String {
    let payload = serde_json::to_vec(&Cursor { v: version, o: offset, q: fingerprint(view) }).expect("a cursor serializes");
    signer.seal(&payload)
}

/// The version and offset of a page token, which must have been made for this view.
pub fn open(signer: &UrlSigner, token: &str, view: &TableQuery) -> Result<(i64, u64)> {
    let invalid = || PortalError::BadQuery { column: None, message: "this `_next` page link was altered or belongs to another view; start again from the first page".into() };
    let cursor: Cursor = signer.unseal(token).and_then(|p| serde_json::from_slice(&p).ok()).ok_or_else(invalid)?;
    if cursor.q != fingerprint(view) {
        return Err(invalid());
    }
    Ok((cursor.v, cursor.o))
}

fn fingerprint(view: &TableQuery) -> String {
    let canonical = view.first_page().to_query_string(false);
    hex::encode(&Sha256::digest(canonical.as_bytes())[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_belong_to_their_view() {
        let signer = UrlSigner::new(b"k".to_vec(), "http://h", 60);
        let view = TableQuery::parse_query_string("country=DE&_sort=units").unwrap();
        let token = seal(&signer, 3, 200, &view);
        assert_eq!(open(&signer, &token, &view).unwrap(), (3, 200));
        let other = TableQuery::parse_query_string("country=FR&_sort=units").unwrap();
        assert_eq!(open(&signer, &token, &other).unwrap_err().status(), 400);
        assert!(open(&signer, "junk", &view).is_err());
        assert!(open(&UrlSigner::new(b"x".to_vec(), "http://h", 60), &token, &view).is_err());
    }
}
