//! How a request the portal refuses before any handler runs (throttled, too large), or that the
//! framework refuses by itself (a wrong method, a path that is not UTF-8), is answered:
//! `{"errorCode","message"}` to API clients, a readable page to browsers.

use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::error::PortalError;

/// Paths whose callers are programs (the protocol, signed files, the JSON API, server functions).
const API_PREFIXES: [&str; 4] = ["/delta-sharing", "/files/", "/api/", "/_fn/"];

fn is_api(uri: &Uri) -> bool {
    API_PREFIXES.iter().any(|p| uri.path().starts_with(p))
}

pub fn refuse(uri: &Uri, e: PortalError) -> Response {
    if is_api(uri) {
        return e.into_response();
    }
    let retry_after = match &e {
        PortalError::Throttled { retry_after_secs } => Some(*retry_after_secs),
        _ => None,
    };
    let title = match &e {
        PortalError::Throttled { .. } => "Too many failed sign-ins",
        PortalError::TooLarge(_) | PortalError::UriTooLong(_) => "Request too large",
        _ => "Request refused",
    };
    let mut response = (e.status(), page(title, &sentence(&e.public_message()))).into_response();
    if let Some(secs) = retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// A minimal page in the portal's style, for answers that do not go through the app's router.
pub fn page(title: &str, message: &str) -> Html<String> {
    let (title, message) = (escape(title), escape(message));
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/portal.css\"></head>\
         <body class=\"min-h-screen bg-slate-50 text-slate-900\"><main class=\"mx-auto max-w-xl px-4 py-16\">\
         <h1 class=\"text-2xl font-semibold\">{title}</h1><p class=\"mt-3 text-slate-600\">{message}</p>\
         <a class=\"mt-4 inline-block text-indigo-700 underline\" href=\"/\">Portal home</a></main></body></html>"
    ))
}

/// An error message as a sentence on a page: capitalised, with a full stop.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut text: String = chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default();
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Errors axum and the file server answer by themselves (405, undecodable paths or query strings,
/// missing static files) come as plain text or with no body; they are given the portal's shape.
/// The portal's own errors (JSON, pages) pass untouched.
pub async fn framework_errors(req: Request, next: Next) -> Response {
    let (uri, method) = (req.uri().clone(), req.method().clone());
    let response = next.run(req).await;
    let status = response.status();
    let content_type = response.headers().get(header::CONTENT_TYPE).map(|v| v.as_bytes().to_vec()).unwrap_or_default();
    let ours = content_type.starts_with(b"application/json") || content_type.starts_with(b"text/html");
    if method == Method::HEAD || ours || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).trim().to_string());
    let text = text.ok().filter(|t| !t.is_empty()).unwrap_or_else(|| status.canonical_reason().unwrap_or("refused").to_lowercase());
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("RESOURCE_DOES_NOT_EXIST", text),
        StatusCode::METHOD_NOT_ALLOWED => ("UNSUPPORTED_OPERATION", format!("this address does not take {method} requests")),
        StatusCode::PAYLOAD_TOO_LARGE | StatusCode::URI_TOO_LONG => ("REQUEST_TOO_LARGE", text),
        s if s.is_client_error() => ("MALFORMED_REQUEST", text),
        _ => ("INTERNAL_ERROR", String::new()),
    };
    if is_api(&uri) {
        let body = serde_json::json!({ "errorCode": code, "message": message }).to_string();
        return (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    }
    let message = if message.is_empty() { "Something went wrong on our side. Try again in a minute.".to_string() } else { message };
    (status, page("Request refused", &sentence(&message))).into_response()
}
