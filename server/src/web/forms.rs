//! Gives every browser request its form token (see `auth::forms`): pages put it in their forms,
//! and a browser without any portal cookie gets the random one the token is bound to.

use std::sync::Arc;

use app::contract::FormToken;
use axum::extract::{Request, State};
use axum::http::header::SET_COOKIE;
use axum::middleware::Next;
use axum::response::Response;

use crate::auth::forms::{self, BINDING_COOKIE};
use crate::auth::sessions::set_cookie;
use crate::Services;

pub async fn bind_forms(State(s): State<Arc<Services>>, mut req: Request, next: Next) -> Response {
    let (binding, minted) = match forms::binding(req.headers()) {
        Some(b) => (b, false),
        None => (forms::new_binding(), true),
    };
    req.extensions_mut().insert(FormToken(forms::token(&s.signer, &binding)));
    let mut response = next.run(req).await;
    if minted {
        if let Ok(cookie) = set_cookie(BINDING_COOKIE, &binding, None, s.sessions.secure()).parse() {
            response.headers_mut().append(SET_COOKIE, cookie);
        }
    }
    response
}
