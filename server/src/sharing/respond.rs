//! Response shapes of the protocol: one-line JSON for lists, ndjson for streams, with the
//! headers clients require, plus the note each handler leaves for the audit log.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::capabilities::{Format, HEADER as CAPABILITIES};
pub use crate::catalog::AuditNote;

pub const TABLE_VERSION: &str = "delta-table-version";

/// Compact, single-line JSON with an explicit charset (Python reads the first line only).
pub fn json<T: Serialize>(body: &T, note: AuditNote) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut resp = (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], text).into_response();
    resp.extensions_mut().insert(note);
    resp
}

pub struct Stream {
    pub version: i64,
    pub format: Format,
    pub end_stream: bool,
    pub body: String,
}

pub fn ndjson(s: Stream, file_id_hash: Option<&str>, note: AuditNote) -> Response {
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson; charset=utf-8"));
    headers.insert(TABLE_VERSION, HeaderValue::from(s.version));
    let caps = if s.end_stream {
        format!("responseformat={};includeendstreamaction=true", s.format.name())
    } else {
        format!("responseformat={}", s.format.name())
    };
    headers.insert(CAPABILITIES, HeaderValue::from_str(&caps).expect("ascii"));
    if let Some(h) = file_id_hash {
        headers.insert("fileidhash", HeaderValue::from_str(h).expect("validated"));
    }
    let mut resp = (StatusCode::OK, headers, s.body).into_response();
    resp.extensions_mut().insert(note);
    resp
}

/// `/version` and the deprecated HEAD: the header, no body.
pub fn version_only(version: i64, note: AuditNote) -> Response {
    let mut resp = (StatusCode::OK, [(TABLE_VERSION, HeaderValue::from(version))]).into_response();
    resp.extensions_mut().insert(note);
    resp
}

/// Errors axum answers by itself (405, undecodable paths or query strings) come as plain text;
/// clients expect the protocol's `{"errorCode","message"}` everywhere.
pub async fn json_errors(resp: Response) -> Response {
    let status = resp.status();
    let is_json = resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.is_success() || status.is_redirection() || is_json {
        return resp;
    }
    let text =
        axum::body::to_bytes(resp.into_body(), 64 * 1024).await.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
    let code = match status {
        StatusCode::NOT_FOUND => "RESOURCE_DOES_NOT_EXIST",
        StatusCode::METHOD_NOT_ALLOWED => "UNSUPPORTED_OPERATION",
        s if s.is_client_error() => "MALFORMED_REQUEST",
        _ => "INTERNAL_ERROR",
    };
    let message = if status.is_server_error() { String::new() } else { text };
    let body = serde_json::json!({ "errorCode": code, "message": message }).to_string();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}
