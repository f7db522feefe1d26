//! Activation links: what a visitor of `/activate/{code}` may learn.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What an activation link can show a visitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationState {
    /// The credential file can still be downloaded, until `expires_at` (RFC 3339; pages show it readable).
    Ready { recipient: String, expires_at: String },
    /// Downloaded once already: a one-time link never hands out a second credential.
    Used { recipient: String },
    /// The link's time ran out before anyone used it.
    Expired { recipient: String },
    /// No such link (or a mistyped one): nothing about any recipient is revealed.
    Unknown,
}

/// Looks up an activation link without spending it (GET must never spend a one-time link).
#[server(prefix = "/_fn", input = server_fn::codec::GetUrl)]
pub async fn get_activation_state(code: String) -> Result<ActivationState, ServerFnError> {
    let backend = crate::backend::current()?;
    let state = backend.activation_state(&code).await.map_err(ServerFnError::new)?;
    let status = match state {
        ActivationState::Ready { .. } => http_status::OK,
        ActivationState::Used { .. } | ActivationState::Expired { .. } => http_status::GONE,
        ActivationState::Unknown => http_status::NOT_FOUND,
    };
    crate::backend::set_status(status);
    Ok(state)
}

/// Status codes the pages set, kept as plain numbers so the contract stays free of `http`.
pub mod http_status {
    pub const OK: u16 = 200;
    pub const NOT_FOUND: u16 = 404;
    pub const GONE: u16 = 410;
}
