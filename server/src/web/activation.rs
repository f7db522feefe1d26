//! `POST /activate/{code}`: spends the one-time link and returns the `.share` profile.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use crate::catalog::{now_ms, AuditEvent};
use crate::error::PortalError;
use crate::Services;

pub async fn redeem(
    State(s): State<Arc<Services>>,
    Path(code): Path<String>,
    req: Request,
) -> Response {
    let result = s.credentials.redeem(&code).await;
    let (actor, status) = match &result {
        Ok((recipient, _)) => (format!("recipient:{}", recipient.name), StatusCode::OK),
        Err(e) => ("anonymous".to_string(), e.status()),
    };
    let event = AuditEvent {
        at: now_ms(),
        actor,
        action: "activateCredential".into(),
        status: i64::from(status.as_u16()),
        user_agent: req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(String::from),
        client_ip: req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()),
        ..Default::default()
    };
    if let Err(e) = s.catalog.record(&event).await {
        tracing::error!(error = %e, "could not write audit event");
    }
    match result {
        Ok((_, issued)) => {
            let profile = s.credentials.profile(&issued);
            let body = serde_json::to_string_pretty(&profile).unwrap_or_default();
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "application/json; charset=utf-8"),
                    (header::CONTENT_DISPOSITION, "attachment; filename=\"config.share\""),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => failure_page(e),
    }
}

/// A browser posted this form: answer with a readable page, still with the 4xx status.
fn failure_page(e: PortalError) -> Response {
    let status = e.status();
    let message = match status {
        StatusCode::GONE => "This activation link was already used or has expired. Ask your contact for a new one.",
        StatusCode::NOT_FOUND => "This activation link is not valid. Check that you copied all of it.",
        _ => "Something went wrong while creating your credential file. Please try again in a minute.",
    };
    let page = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Activation</title>\
         <link rel=\"stylesheet\" href=\"/pkg/portal.css\"></head><body class=\"min-h-screen bg-slate-50 text-slate-900\">\
         <main class=\"mx-auto max-w-xl px-4 py-16\"><h1 class=\"text-2xl font-semibold\">Credential not available</h1>\
         <p class=\"mt-3 text-slate-600\">{message}</p><a class=\"mt-4 inline-block text-indigo-700 underline\" href=\"/\">Portal home</a></main></body></html>"
    );
    (status, Html(page)).into_response()
}
