//! For operators and load balancers: `/healthz` (alive), `/readyz` (catalog reachable and
//! migrated, not shutting down), `/metrics` (Prometheus; a bearer token on the public listener,
//! or open on the separate `metrics_addr`), and the request metrics themselves.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::metrics::Gauges;
use crate::primitives::secrets;
use crate::primitives::time::now_ms;
use crate::Services;

/// False once the server is draining: load balancers then take the replica out.
pub static READY: AtomicBool = AtomicBool::new(true);

/// The health checks, and `/metrics` when `open` (the separate listener) or a token is set.
pub fn router(services: Arc<Services>, open_metrics: bool) -> Router {
    let metrics = move |State(s): State<Arc<Services>>, headers: HeaderMap| async move { metrics(s, headers, open_metrics).await };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn(name_route))
        .with_state(services)
}

async fn healthz() -> Response {
    no_store((StatusCode::OK, "ok\n").into_response())
}

async fn readyz(State(s): State<Arc<Services>>) -> Response {
    let answer = if !READY.load(Ordering::Relaxed) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n".to_string())
    } else {
        match s.catalog.migrated().await {
            Ok(true) => (StatusCode::OK, "ready\n".to_string()),
            Ok(false) => (StatusCode::SERVICE_UNAVAILABLE, "the catalog is not migrated to this release\n".to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "readiness check: catalog unreachable");
                (StatusCode::SERVICE_UNAVAILABLE, "the catalog is unreachable\n".to_string())
            }
        }
    };
    no_store(answer.into_response())
}

async fn metrics(s: Arc<Services>, headers: HeaderMap, open: bool) -> Response {
    let allowed = open
        || s.settings.metrics_token.as_ref().is_some_and(|token| {
            let presented = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            secrets::same_hash(&secrets::hash(presented), &secrets::hash(&token.0))
        });
    if !allowed {
        // As for any unknown path: the public listener does not say that metrics exist.
        return crate::error::PortalError::NotFound("no such page".into()).into_response();
    }
    let gauges = async {
        let (pool_open, pool_idle) = s.catalog.pool_use();
        Ok::<_, crate::error::PortalError>(Gauges {
            export_jobs: s.catalog.export_job_counts().await?,
            sessions: s.catalog.active_sessions(now_ms()).await?,
            pool_open,
            pool_idle,
            snapshots: s.stores.snapshots().stats(),
        })
    };
    match gauges.await {
        Ok(gauges) => {
            no_store(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], s.metrics.render(&gauges)).into_response())
        }
        Err(e) => e.into_response(),
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    r
}

/// Where the router writes the matched route template for [`observe`] to read.
#[derive(Clone, Default)]
struct RouteSlot(Arc<Mutex<Option<String>>>);

/// Counts and times every request by its route template (never the raw path: names and ids
/// would make a series per partner).
pub async fn observe(State(s): State<Arc<Services>>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Only the standard methods name a series: a client's invented ones would grow them unbounded.
    let method = match req.method().as_str() {
        m @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => m.to_string(),
        _ => "other".to_string(),
    };
    let slot = RouteSlot::default();
    req.extensions_mut().insert(slot.clone());
    let response = next.run(req).await;
    let route = slot.0.lock().unwrap_or_else(|e| e.into_inner()).take().unwrap_or_else(|| "unmatched".into());
    s.metrics.request(&route, &method, response.status().as_u16(), started.elapsed());
    response
}

/// Inside each router (as a route layer): records which route matched.
pub async fn name_route(req: Request, next: Next) -> Response {
    if let (Some(path), Some(slot)) = (req.extensions().get::<MatchedPath>(), req.extensions().get::<RouteSlot>()) {
        *slot.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(path.as_str().to_string());
    }
    next.run(req).await
}
