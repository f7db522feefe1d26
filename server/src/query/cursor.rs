//! `_next` tokens: opaque, sealed, bound to one table, one recipient and one view, and pinned to
//! the version the first page read, so paging stays consistent while the table changes
//! underneath. Being bound to the table matters: the pinned version is read without asking for
//! history rights again.

use app::contract::grammar::TableQuery;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{PortalError, Result};
use crate::storage::UrlSigner;

#[derive(Serialize, Deserialize)]
struct Cursor {
    /// What the token is (other sealed tokens, e.g. the protocol's, never parse as this).
    k: String,
    /// Shared table id.
    t: String,
    /// Recipient id.
    r: String,
    /// Table version.
    v: i64,
    /// Rows before the page.
    o: u64,
    /// Fingerprint of the view (filters, order, columns).
    q: String,
}

const KIND: &str = "rows-page";

/// Whose page of which table a token continues.
pub struct Owner<'a> {
    pub table_id: &'a str,
    pub recipient_id: &'a str,
}

pub fn seal(signer: &UrlSigner, owner: &Owner, version: i64, offset: u64, view: &TableQuery) -> String {
    let cursor =
        Cursor { k: KIND.into(), t: owner.table_id.into(), r: owner.recipient_id.into(), v: version, o: offset, q: fingerprint(view) };
    signer.seal(&serde_json::to_vec(&cursor).expect("a cursor serializes"))
}

/// The version and offset of a page token, which must have been made for this owner and view.
pub fn open(signer: &UrlSigner, token: &str, owner: &Owner, view: &TableQuery) -> Result<(i64, u64)> {
    let invalid = || PortalError::BadQuery {
        column: None,
        message: "this `_next` page link was altered or belongs to another view; start again from the first page".into(),
    };
    let cursor: Cursor = signer.unseal(token).and_then(|p| serde_json::from_slice(&p).ok()).ok_or_else(invalid)?;
    if cursor.k != KIND || cursor.t != owner.table_id || cursor.r != owner.recipient_id || cursor.q != fingerprint(view) {
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
        let signer = UrlSigner::with_key(b"k", "http://h", 60);
        let owner = Owner { table_id: "t1", recipient_id: "r1" };
        let view = TableQuery::parse_query_string("country=DE&_sort=units").unwrap();
        let token = seal(&signer, &owner, 3, 200, &view);
        assert_eq!(open(&signer, &token, &owner, &view).unwrap(), (3, 200));
        let other = TableQuery::parse_query_string("country=FR&_sort=units").unwrap();
        assert_eq!(open(&signer, &token, &owner, &other).unwrap_err().status(), 400);
        // Another table (perhaps one shared without history) or another recipient: refused.
        assert!(open(&signer, &token, &Owner { table_id: "t2", recipient_id: "r1" }, &view).is_err());
        assert!(open(&signer, &token, &Owner { table_id: "t1", recipient_id: "r2" }, &view).is_err());
        assert!(open(&signer, "junk", &owner, &view).is_err());
        assert!(open(&signer, &signer.seal(b"{\"version\":3}"), &owner, &view).is_err());
        assert!(open(&UrlSigner::with_key(b"x", "http://h", 60), &token, &owner, &view).is_err());
    }
}
