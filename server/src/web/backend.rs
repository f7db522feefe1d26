//! The UI contract (`app::backend::PortalBackend`), implemented with the server's capabilities.

use std::sync::Arc;

use app::backend::PortalBackend;
use app::contract::ActivationState;

use crate::auth::credentials::LinkState;
use crate::Services;

pub struct UiBackend(pub Arc<Services>);

#[async_trait::async_trait]
impl PortalBackend for UiBackend {
    async fn activation_state(&self, code: &str) -> Result<ActivationState, String> {
        let state = self.0.credentials.link_state(code).await.map_err(|e| {
            tracing::error!(error = %e, "activation lookup failed");
            "could not check the link".to_string()
        })?;
        Ok(match state {
            LinkState::Ready { recipient, expires_at } => ActivationState::Ready { recipient: recipient.name, expires_at: readable_utc(expires_at) },
            LinkState::Used(r) => ActivationState::Used { recipient: r.name },
            LinkState::Expired(r) => ActivationState::Expired { recipient: r.name },
            LinkState::Unknown => ActivationState::Unknown,
        })
    }
}

/// `24 Nov 2026, 10:12` — the page adds "(UTC)".
fn readable_utc(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms).map(|t| t.format("%-d %b %Y, %H:%M").to_string()).unwrap_or_default()
}
