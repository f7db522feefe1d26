//! Sends the outbox: each replica claims due messages by a lease and hands them to the SMTP
//! server, or POSTs them to a webhook; a failure is tried again later (30 s, 2, 8, 32 minutes),
//! then recorded as failed.

use std::sync::Arc;
use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message as Email, Tokio1Executor};

use crate::catalog::Message;
use crate::config::{SmtpSettings, SmtpTls};
use crate::error::{PortalError, Result};
use crate::primitives::time::now_ms;
use crate::Services;

const POLL: Duration = Duration::from_secs(2);
const LEASE: Duration = Duration::from_secs(60);
/// Tries of one message in all.
const MAX_ATTEMPTS: i64 = 5;

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn new(settings: &SmtpSettings) -> Result<Self> {
        let config = |e: lettre::transport::smtp::Error| PortalError::Config(format!("PORTAL_SMTP_HOST `{}`: {e}", settings.host));
        let builder = match settings.tls {
            SmtpTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(config)?,
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(config)?,
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host),
        };
        let mut builder = builder.port(settings.port).timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.0.clone()));
        }
        let from = settings.from.parse().map_err(|e| PortalError::Config(format!("PORTAL_SMTP_FROM: {e}")))?;
        Ok(Self { transport: builder.build(), from })
    }

    async fn send(&self, m: &Message) -> Result<(), String> {
        let to: Mailbox = m.target.parse().map_err(|e| format!("`{}` is not an e-mail address: {e}", m.target))?;
        let email = Email::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&m.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| e.to_string())?;
        self.transport.send(email).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Sends due messages for as long as the server runs (webhooks only, without SMTP settings).
pub async fn send_forever(s: Arc<Services>, worker: String) {
    let mailer = match s.settings.smtp.as_ref().map(Mailer::new).transpose() {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "e-mail is off: the SMTP settings do not work");
            None
        }
    };
    let client = match super::webhooks::client() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "notifications are off");
            return;
        }
    };
    let senders = Senders { mailer, client };
    loop {
        match s.catalog.claim_message(&worker, now_ms() + LEASE.as_millis() as i64, senders.mailer.is_some()).await {
            Ok(Some(m)) => deliver(&s, &senders, &worker, m).await,
            Ok(None) => tokio::time::sleep(POLL).await,
            Err(e) => {
                tracing::warn!(error = %e, "could not look at the outbox");
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

struct Senders {
    mailer: Option<Mailer>,
    client: reqwest::Client,
}

async fn deliver(s: &Services, senders: &Senders, worker: &str, m: Message) {
    let sent = match (&m.webhook_id, &senders.mailer) {
        (Some(_), _) => super::webhooks::post(s, &senders.client, &m).await,
        (None, Some(mailer)) => mailer.send(&m).await,
        (None, None) => Err("e-mail is not configured".into()),
    };
    let outcome = match sent {
        Ok(()) => s.catalog.message_sent(&m.id, worker).await,
        Err(e) => {
            let retry = (m.attempts < MAX_ATTEMPTS).then(|| now_ms() + 30_000 * 4_i64.pow((m.attempts - 1).clamp(0, 4) as u32));
            // A webhook's URL may carry the partner's own token: it is not logged.
            let to = if m.webhook_id.is_some() { "webhook" } else { m.target.as_str() };
            tracing::warn!(message = %m.id, to, error = %e, retry = retry.is_some(), "a notification could not be sent");
            s.catalog.message_not_sent(&m.id, worker, &e, retry).await
        }
    };
    if let Err(e) = outcome {
        tracing::warn!(message = %m.id, error = %e, "could not record an e-mail's outcome");
    }
}
