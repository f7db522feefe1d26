//! Size limits on what a client sends, refused with their own errors before any handler reads
//! the request: the address (path and query) and the body. Header sizes are hyper's (431).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::middleware::Next;
use axum::response::Response;

use super::refusal::refuse;
use crate::error::PortalError;
use crate::Services;

/// The longest path and query accepted; a table view with dozens of filters fits many times.
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub async fn limit(State(s): State<Arc<Services>>, req: Request, next: Next) -> Response {
    let uri_len = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        let e = PortalError::UriTooLong(format!("the request address is {uri_len} bytes; the portal accepts at most {MAX_URI_BYTES}"));
        return refuse(req.uri(), e);
    }
    // A NUL is never part of a name, an id or a filter; refused here so that it reaches neither
    // a file path nor the catalog (Postgres refuses it in text).
    if percent_encoding::percent_decode_str(req.uri().path_and_query().map_or("", |p| p.as_str())).any(|b| b == 0) {
        return refuse(req.uri(), PortalError::InvalidParameter("the request address contains a NUL character".into()));
    }
    let max = s.settings.max_body_bytes;
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return refuse(req.uri(), too_large(max));
    }
    // A body without a declared length is cut at the same limit while it is read
    // (`DefaultBodyLimit`); the extractor's rejection becomes the portal's own error here. No
    // handler answers 413 by itself.
    let uri = req.uri().clone();
    let response = next.run(req).await;
    if response.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return refuse(&uri, too_large(max));
    }
    response
}

pub fn too_large(max: usize) -> PortalError {
    PortalError::TooLarge(format!("the request body is larger than the {max} bytes the portal accepts"))
}
