//! What notification e-mails link to: a delivered file (`/deliveries/{job}?exp=&sig=`), which
//! opens the sign-in page first when needed, and a contact's opt-out of one kind of e-mail
//! (`/notifications/opt-out?contact=&kind=&sig=`), a page with one button (a link that changed
//! something by itself would be "clicked" by mail scanners).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::callers;
use super::refusal::{escape, page};
use super::signin::see_other;
use crate::deliveries;
use crate::notify::{self, Kind};
use crate::Services;

/// A delivered file: to its download once the browser is the recipient's, else sign-in first.
pub async fn delivered_file(
    State(s): State<Arc<Services>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let exp: i64 = q.get("exp").and_then(|e| e.parse().ok()).unwrap_or_default();
    let sig = q.get("sig").map(String::as_str).unwrap_or_default();
    if !deliveries::file_link_valid(&s, &id, exp, sig) {
        let message = "This link has expired or is not a link the portal sent. Your exports are listed on the portal's Exports page.";
        return (StatusCode::GONE, page("Link expired", message)).into_response();
    }
    match callers::partner(&s, &headers).await {
        Ok(_) => see_other(&format!("/api/v1/exports/{}/file", app::contract::grammar::encode(&id))),
        Err(_) => {
            let back = format!("/deliveries/{}?exp={exp}&sig={}", app::contract::grammar::encode(&id), app::contract::grammar::encode(sig));
            see_other(&format!("/login?next={}", app::contract::grammar::encode(&back)))
        }
    }
}

/// The opt-out page (GET) and its button (POST).
pub async fn opt_out(State(s): State<Arc<Services>>, method: axum::http::Method, Query(q): Query<HashMap<String, String>>) -> Response {
    let field = |k: &str| q.get(k).map(String::as_str).unwrap_or_default();
    let (contact_id, sig) = (field("contact"), field("sig"));
    let kind = Kind::parse(field("kind"));
    let contact = match kind.filter(|k| notify::opt_out_signed(&s, contact_id, *k, sig)) {
        Some(_) => s.catalog.contact(contact_id).await,
        None => Ok(None),
    };
    let (contact, kind) = match (contact, kind) {
        (Ok(Some(c)), Some(k)) => (c, k),
        (Err(e), _) => return e.into_response(),
        _ => {
            let message = "This link is not one the portal sent, or its contact was removed. Nothing was changed.";
            return (StatusCode::NOT_FOUND, page("Link not valid", message)).into_response();
        }
    };
    if method == axum::http::Method::POST {
        if let Err(e) = notify::opt_out(&s, &contact, kind).await {
            return e.into_response();
        }
        let message =
            format!("{} will no longer get e-mails about {}. Your data provider can turn them on again.", contact.email, kind.words());
        return page("Done", &message).into_response();
    }
    let action = format!(
        "/notifications/opt-out?contact={}&kind={}&sig={}",
        escape(contact_id),
        kind.as_str(),
        escape(&app::contract::grammar::encode(sig))
    );
    Html(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Stop these e-mails</title><link rel=\"stylesheet\" href=\"/pkg/portal.css\"></head>\
         <body class=\"min-h-screen bg-slate-50 text-slate-900\"><main class=\"mx-auto max-w-xl px-4 py-16\">\
         <h1 class=\"text-2xl font-semibold\">Stop these e-mails?</h1>\
         <p class=\"mt-3 text-slate-600\">{} gets e-mails about {}.</p>\
         <form method=\"post\" action=\"{action}\" class=\"mt-4\"><button type=\"submit\" class=\"rounded-lg bg-indigo-700 px-4 py-2 font-medium text-white\">Stop these e-mails</button></form>\
         </main></body></html>",
        escape(&contact.email),
        escape(kind.words())
    ))
    .into_response()
}
