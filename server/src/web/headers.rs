//! Headers every answer carries. No framing (`X-Frame-Options: DENY`, CSP `frame-ancestors
//! 'none'`): pages with live buttons must not be clickjacked. No `Referer` (`no-referrer`): secret
//! links (activation, admin sign-in) must not leak to sub-requests. No caching (`no-store`) of
//! anything but the site's static files: pages, JSON and downloads are per caller. No powerful
//! browser features (`Permissions-Policy`). HTTPS only, once seen (HSTS), when the public URL is
//! https. Pages set their own Content-Security-Policy (with the nonce of their inline hydration
//! scripts, `app::backend`); everything else gets one that runs no script at all.

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// Where the site's static files (wasm, JS, CSS) are served from.
const STATIC_PREFIX: &str = "/pkg/";

/// For answers that are not app pages (JSON, downloads, the few server-written pages): their
/// stylesheet may load; nothing may run.
const NO_SCRIPT_POLICY: &str =
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const PERMISSIONS_POLICY: &str =
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=(), interest-cohort=()";

/// Two years, subdomains included: the value browsers' preload lists ask for.
const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Whether the portal is served over https (then HSTS is sent).
#[derive(Clone, Copy)]
pub struct Https(pub bool);

pub async fn protect(State(Https(https)): State<Https>, req: Request, next: Next) -> Response {
    let cacheable = req.uri().path().starts_with(STATIC_PREFIX);
    let mut res = next.run(req).await;
    let headers = res.headers_mut();
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.entry(CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(NO_SCRIPT_POLICY));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(HeaderName::from_static("permissions-policy"), HeaderValue::from_static(PERMISSIONS_POLICY));
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    if !cacheable {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
