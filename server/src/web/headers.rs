//! Headers every answer carries. No framing (`X-Frame-Options: DENY`, CSP `frame-ancestors
//! 'none'`): pages with live buttons must not be clickjacked. No `Referer` (`no-referrer`): secret
//! links (activation, admin sign-in) must not leak to sub-requests. No caching (`no-store`) of
//! anything but the site's static files: pages, JSON and downloads are per caller.

use axum::extract::Request;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

/// Where the site's static files (wasm, JS, CSS) are served from.
const STATIC_PREFIX: &str = "/pkg/";

pub async fn protect(req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with(STATIC_PREFIX);
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static("frame-ancestors 'none'"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !cacheable {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
