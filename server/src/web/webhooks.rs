//! Partners' webhooks over HTTP: the `/connect` forms (`POST /connect/webhooks`,
//! `/connect/webhooks/{id}/test`, `/connect/webhooks/{id}/remove`) and the JSON API
//! (`GET|POST /api/v1/webhooks`, `GET|DELETE /api/v1/webhooks/{id}`, `POST …/{id}/test`).
//! Another recipient's webhook is a 404.

use std::sync::Arc;

use app::contract::{WebhookDeliveryView, WebhookView};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use super::admin_api::body;
use super::callers::{PartnerCaller, PartnerChange, PartnerForm};
use super::envelope::Audit;
use super::signin::see_other;
use crate::catalog::{Recipient, Webhook};
use crate::error::{PortalError, Result};
use crate::notify::webhooks;
use crate::primitives::time::{now_ms, rfc3339_ms};
use crate::Services;

/// Deliveries listed with each webhook.
const LOGGED: i64 = 20;

/// A webhook as its owner sees it (`with_secret`: the signing secret too).
pub async fn view(s: &Services, hook: &Webhook, with_secret: bool) -> Result<WebhookView> {
    let deliveries = s.catalog.messages_of_webhook(&hook.id, LOGGED).await?;
    Ok(WebhookView {
        id: hook.id.clone(),
        name: hook.name.clone(),
        url: hook.url.clone(),
        created_at: rfc3339_ms(hook.created_at),
        secret: if with_secret { Some(webhooks::secret(s, &hook.id).await?) } else { None },
        deliveries: deliveries
            .into_iter()
            .map(|m| WebhookDeliveryView {
                id: m.id,
                event: m.kind,
                status: m.status,
                attempts: m.attempts,
                error: m.last_error,
                created_at: rfc3339_ms(m.created_at),
                sent_at: m.sent_at.map(rfc3339_ms),
            })
            .collect(),
    })
}

/// The recipient's webhooks, each with its secret and log (the `/connect` page).
pub async fn views_of(s: &Services, recipient: &Recipient) -> Result<Vec<WebhookView>> {
    let mut out = Vec::new();
    for hook in s.catalog.webhooks_of(&recipient.id).await? {
        out.push(view(s, &hook, true).await?);
    }
    Ok(out)
}

async fn owned(s: &Services, recipient: &Recipient, id: &str) -> Result<Webhook> {
    s.catalog.webhook(&recipient.id, id).await?.ok_or_else(|| PortalError::NotFound(format!("there is no webhook {id}")))
}

/// Queues a `ping` to one webhook, so the partner can check the receiver and its signature check.
async fn ping(s: &Services, recipient: &Recipient, hook: &Webhook) -> Result<()> {
    let payload = serde_json::json!({ "webhook": hook.id });
    webhooks::queue(s, recipient, hook, "ping", &format!("ping:{}", now_ms()), &payload).await.map(|_| ())
}

// ---- forms ----

pub async fn create_form(State(s): State<Arc<Services>>, audit: Audit, form: Result<PartnerForm>) -> Response {
    let done = async {
        let form = form?;
        webhooks::register(&s, &form.caller.recipient, form.field("name"), form.field("url")).await
    }
    .await;
    match done {
        Ok(hook) => {
            audit.object(hook.id.clone());
            see_other(&format!("/connect?webhook=added#webhook-{}", hook.id))
        }
        Err(e) => refused(&audit, e),
    }
}

pub async fn test_form(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    let back = format!("/connect?webhook=pinged#webhook-{id}");
    on_webhook(&s, &id, &audit, form, &back, async |s, recipient, hook| ping(s, recipient, hook).await).await
}

pub async fn remove_form(State(s): State<Arc<Services>>, Path(id): Path<String>, audit: Audit, form: Result<PartnerForm>) -> Response {
    on_webhook(&s, &id, &audit, form, "/connect?webhook=removed#webhooks", async |s, recipient, hook| {
        s.catalog.remove_webhook(&recipient.id, &hook.id).await.map(|_| ())
    })
    .await
}

/// A form acting on the caller's webhook `id`, answered with a redirect to `done`.
async fn on_webhook<F>(s: &Services, id: &str, audit: &Audit, form: Result<PartnerForm>, done: &str, act: F) -> Response
where
    F: AsyncFnOnce(&Services, &Recipient, &Webhook) -> Result<()>,
{
    audit.object(id.to_string());
    let outcome = async {
        let form = form?;
        let hook = owned(s, &form.caller.recipient, id).await?;
        act(s, &form.caller.recipient, &hook).await
    }
    .await;
    match outcome {
        Ok(()) => see_other(done),
        Err(e) => refused(audit, e),
    }
}

fn refused(audit: &Audit, e: PortalError) -> Response {
    audit.refused(&e);
    match e {
        PortalError::Field { field, .. } => see_other(&format!("/connect?error=webhook_{field}#webhooks")),
        PortalError::Unauthenticated(_) => see_other("/login?next=/connect"),
        PortalError::NotFound(_) => see_other("/connect?error=webhook_gone#webhooks"),
        e if e.status().is_client_error() => see_other("/connect?error=form#webhooks"),
        e => {
            tracing::error!(error = %e, "webhook form failed");
            see_other("/connect?error=unavailable#webhooks")
        }
    }
}

// ---- JSON API ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    name: String,
    url: String,
}

pub async fn list(State(s): State<Arc<Services>>, PartnerCaller(caller): PartnerCaller) -> Result<Json<serde_json::Value>> {
    let mut items = Vec::new();
    for hook in s.catalog.webhooks_of(&caller.recipient.id).await? {
        items.push(view(&s, &hook, false).await?);
    }
    Ok(Json(serde_json::json!({ "items": items })))
}

pub async fn create(State(s): State<Arc<Services>>, PartnerChange(caller): PartnerChange, audit: Audit, bytes: Bytes) -> Result<Response> {
    let new: NewWebhook = body(&bytes)?;
    let hook = webhooks::register(&s, &caller.recipient, &new.name, &new.url).await?;
    audit.object(hook.id.clone());
    Ok((StatusCode::CREATED, Json(view(&s, &hook, true).await?)).into_response())
}

pub async fn show(
    State(s): State<Arc<Services>>,
    PartnerCaller(caller): PartnerCaller,
    Path(id): Path<String>,
) -> Result<Json<WebhookView>> {
    let hook = owned(&s, &caller.recipient, &id).await?;
    Ok(Json(view(&s, &hook, true).await?))
}

pub async fn test(
    State(s): State<Arc<Services>>,
    PartnerChange(caller): PartnerChange,
    Path(id): Path<String>,
    audit: Audit,
) -> Result<Response> {
    audit.object(id.clone());
    let hook = owned(&s, &caller.recipient, &id).await?;
    ping(&s, &caller.recipient, &hook).await?;
    Ok((StatusCode::ACCEPTED, Json(view(&s, &hook, false).await?)).into_response())
}

pub async fn delete(
    State(s): State<Arc<Services>>,
    PartnerChange(caller): PartnerChange,
    Path(id): Path<String>,
    audit: Audit,
) -> Result<Response> {
    audit.object(id.clone());
    let hook = owned(&s, &caller.recipient, &id).await?;
    s.catalog.remove_webhook(&caller.recipient.id, &hook.id).await?;
    Ok(Json(serde_json::json!({ "deleted": hook.id })).into_response())
}
