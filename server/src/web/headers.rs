//! Headers every answer carries. No framing (`X-Frame-Options: DENY`, CSP `frame-ancestors
//! 'none'`): pages with live buttons must not be clickjacked. No `Referer` (`no-referrer`): secret
//! links (activation, admin sign-in) must not leak to sub-requests. No caching (`no-store`) of
//! anything but the site's static files: pages, JSON and downloads are per caller. No powerful
//! browser features (`Permissions-Policy`). HTTPS only, once seen (HSTS), when the public URL is
//! https. App pages get a Content-Security-Policy naming the nonce of their inline hydration
//! scripts ([`stamp_pages`]); everything else gets one that runs no script at all.

use axum::extract::{Request, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::primitives::secrets;

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

/// The nonce of one page's inline scripts: made here, per request, so the header and the page
/// cannot disagree. Leptos stamps it on its scripts through [`provide_page_nonce`].
#[derive(Clone)]
struct PageNonce(String);

/// Gives every answer of the app router a fresh nonce and, when the answer is an HTML page, the
/// Content-Security-Policy that lets exactly that page's inline scripts run: scripts from the site
/// and the stamped inline ones; WebAssembly compiled from the site's bundle; styles, images and
/// requests only to the site; no plugins, no framing; forms post only here.
pub async fn stamp_pages(mut req: Request, next: Next) -> Response {
    let nonce = secrets::generate("");
    req.extensions_mut().insert(PageNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let is_page = res.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if is_page {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        );
        if let Ok(value) = HeaderValue::from_str(&policy) {
            res.headers_mut().insert(CONTENT_SECURITY_POLICY, value);
        }
    }
    res
}

/// Part of every render's context: hands Leptos the nonce [`stamp_pages`] made for this request.
pub fn provide_page_nonce() {
    let nonce = leptos::prelude::use_context::<Parts>().and_then(|parts| parts.extensions.get::<PageNonce>().cloned());
    if let Some(PageNonce(nonce)) = nonce {
        leptos::prelude::provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

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
