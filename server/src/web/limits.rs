//! Size limits on what a client sends, refused with their own errors before any handler reads
//! the request: the address (path and query) and the body, which is read whole here. Header
//! sizes are hyper's (431).

use std::sync::Arc;

use axum::body::Body;
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
    // The whole body is read here, cut at the same limit when no length was declared. A handler
    // that refuses a request before reading its body (a wrong content type, a stale form token,
    // a throttle) would otherwise leave bytes unread: hyper then closes the keep-alive
    // connection after the answer, and a client that reuses it meets a connection dropped
    // without an answer. Bodies are small by design (forms, JSON), never streamed uploads.
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, max).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let e = if e.into_inner().is::<http_body_util::LengthLimitError>() {
                too_large(max)
            } else {
                PortalError::Malformed("the request body could not be read to its end".into())
            };
            return refuse(&parts.uri, e);
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

pub fn too_large(max: usize) -> PortalError {
    PortalError::TooLarge(format!("the request body is larger than the {max} bytes the portal accepts"))
}
