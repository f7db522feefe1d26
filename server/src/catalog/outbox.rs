//! The outbox: notifications waiting to be sent, and what became of them. Every replica's
//! sender claims due messages by a lease (as export workers claim jobs); a message's
//! `dedupe_key` makes it once only, whichever replica noticed its cause.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::{new_id, now_ms, Catalog};
use crate::error::Result;

/// A message to queue.
pub struct NewMessage<'a> {
    /// The same key twice queues one message (`token-expiry:<token>:14:<contact>`).
    pub dedupe_key: &'a str,
    pub recipient_id: &'a str,
    pub contact_id: Option<&'a str>,
    /// A webhook's message (a JSON body POSTed to `target`), else an e-mail.
    pub webhook_id: Option<&'a str>,
    pub kind: &'a str,
    /// The e-mail address, or the webhook's URL.
    pub target: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Message {
    pub id: String,
    pub recipient_id: String,
    pub contact_id: Option<String>,
    pub webhook_id: Option<String>,
    pub kind: String,
    pub target: String,
    pub subject: String,
    pub body: String,
    /// `queued`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

const COLUMNS: &str =
    "id, recipient_id, contact_id, webhook_id, kind, target, subject, body, status, attempts, last_error, created_at, sent_at";

impl Catalog {
    /// Queues `m` unless a message with its key was queued before; whether it is new.
    pub async fn enqueue(&self, m: &NewMessage<'_>) -> Result<bool> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO outbox (id, dedupe_key, recipient_id, contact_id, webhook_id, channel, kind, target, subject, body, status, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', 0, $11, $11) ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(m.dedupe_key)
        .bind(m.recipient_id)
        .bind(m.contact_id)
        .bind(m.webhook_id)
        .bind(if m.webhook_id.is_some() { "webhook" } else { "email" })
        .bind(m.kind)
        .bind(m.target)
        .bind(m.subject)
        .bind(m.body)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The next due message for `worker` to send: queued and due, or held by a sender whose
    /// lease lapsed; e-mails only when `email` (a portal without SMTP sends webhooks only).
    pub async fn claim_message(&self, worker: &str, lease_until: i64, email: bool) -> Result<Option<Message>> {
        let now = now_ms();
        let skip_locked = if self.postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
        let channels = if email { "" } else { "channel = 'webhook' AND " };
        let due = format!("({channels}((status = 'queued' AND next_at <= $3) OR (status = 'sending' AND lease_until < $3)))");
        let sql = format!(
            "UPDATE outbox SET status = 'sending', lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
             WHERE id = (SELECT id FROM outbox WHERE {due} ORDER BY next_at, id LIMIT 1 {skip_locked}) AND {due} RETURNING {COLUMNS}"
        );
        let row = sqlx::query(&sql).bind(worker).bind(lease_until).bind(now).fetch_optional(&self.pool).await?;
        row.as_ref().map(message_from_row).transpose()
    }

    pub async fn message_sent(&self, id: &str, worker: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $3, last_error = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(worker)
            .bind(now_ms())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A send that failed: tried again at `retry_at`, or failed for good.
    pub async fn message_not_sent(&self, id: &str, worker: &str, error: &str, retry_at: Option<i64>) -> Result<()> {
        let (status, next) = match retry_at {
            Some(at) => ("queued", at),
            None => ("failed", now_ms()),
        };
        sqlx::query("UPDATE outbox SET status = $3, next_at = $4, last_error = $5, lease_owner = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(worker)
            .bind(status)
            .bind(next)
            .bind(error)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A recipient's messages, newest first.
    pub async fn messages_of(&self, recipient_id: &str, limit: i64) -> Result<Vec<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE recipient_id = $1 ORDER BY created_at DESC, id LIMIT $2");
        sqlx::query(&sql).bind(recipient_id).bind(limit).fetch_all(&self.pool).await?.iter().map(message_from_row).collect()
    }

    /// A webhook's delivery log, newest first.
    pub async fn messages_of_webhook(&self, webhook_id: &str, limit: i64) -> Result<Vec<Message>> {
        let sql = format!("SELECT {COLUMNS} FROM outbox WHERE webhook_id = $1 ORDER BY created_at DESC, id LIMIT $2");
        sqlx::query(&sql).bind(webhook_id).bind(limit).fetch_all(&self.pool).await?.iter().map(message_from_row).collect()
    }
}

fn message_from_row(r: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: r.try_get("id")?,
        recipient_id: r.try_get("recipient_id")?,
        contact_id: r.try_get("contact_id")?,
        webhook_id: r.try_get("webhook_id")?,
        kind: r.try_get("kind")?,
        target: r.try_get("target")?,
        subject: r.try_get("subject")?,
        body: r.try_get("body")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        sent_at: r.try_get("sent_at")?,
    })
}
