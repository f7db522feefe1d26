//! What every table request starts from: the caller's table, authorized and opened for
//! listing, and the request headers that shape the answer.

use axum::extract::Path;
use axum::http::HeaderMap;

use super::capabilities::{Capabilities, HEADER as CAPABILITIES};
use super::lines::FileIdHash;
use crate::auth::{Access, AuthorizedTable, Caller, ScopedTable};
use crate::error::{PortalError, Result};
use crate::storage::At;
use crate::Services;

pub type TablePath = Path<(String, String, String)>;

pub async fn open(s: &Services, t: &AuthorizedTable, at: At) -> Result<ScopedTable> {
    t.open_for_listing(&s.stores, at).await
}

pub async fn authorize(s: &Services, caller: &Caller, (share, schema, table): &(String, String, String)) -> Result<AuthorizedTable> {
    Access::new(&s.catalog, &caller.recipient).table(share, schema, table).await
}

pub fn capabilities(headers: &HeaderMap) -> Capabilities {
    Capabilities::parse(headers.get(CAPABILITIES).and_then(|v| v.to_str().ok()))
}

/// The `fileidhash` request header: `parquet` (md5) or `delta` (sha256); anything else is a 400.
pub fn file_id_hash(headers: &HeaderMap) -> Result<Option<FileIdHash>> {
    let Some(value) = headers.get("fileidhash") else { return Ok(None) };
    match value.to_str().unwrap_or_default().to_ascii_lowercase().as_str() {
        "parquet" => Ok(Some(FileIdHash::Md5)),
        "delta" => Ok(Some(FileIdHash::Sha256)),
        other => Err(PortalError::InvalidParameter(format!("unknown fileidhash `{other}`; use parquet or delta"))),
    }
}
