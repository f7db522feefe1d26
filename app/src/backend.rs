//! The server side of the contract: the trait the `server` crate implements, and the helpers
//! server functions use to reach it. Compiled only for `ssr`.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::*;

use crate::contract::ActivationState;

/// Everything the UI needs from the server's capabilities.
#[async_trait]
pub trait PortalBackend: Send + Sync + 'static {
    async fn activation_state(&self, code: &str) -> Result<ActivationState, String>;
}

/// The backend as provided to every render and server-function call.
#[derive(Clone)]
pub struct Backend(pub Arc<dyn PortalBackend>);

pub fn current() -> Result<Arc<dyn PortalBackend>, ServerFnError> {
    use_context::<Backend>()
        .map(|b| b.0)
        .ok_or_else(|| ServerFnError::new("portal backend missing from context"))
}

/// Sets the HTTP status of the page being rendered (e.g. 404 for an unknown link).
pub fn set_status(code: u16) {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = http::StatusCode::from_u16(code) {
            options.set_status(status);
        }
    }
}
