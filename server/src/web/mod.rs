//! The HTTP surface: the Delta Sharing API, signed file downloads, activation, and the Leptos UI.

mod activation;
mod admin_api;
mod admin_auth;
mod admin_forms;
mod admin_pages;
mod api;
mod backend;
mod callers;
mod connect;
mod envelope;
mod export;
mod exports;
mod files;
mod forms;
#[cfg(test)]
mod fuzz;
mod headers;
mod limits;
mod notifications;
mod oauth;
mod openapi;
pub mod ops;
mod outcome;
mod refusal;
mod saved_views;
mod signin;
mod throttling;
mod views;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

use app::{shell, App};
use axum::routing::{delete, get, patch, post, put};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::trace::TraceLayer;

use crate::error::{PortalError, Result};
use crate::Services;
use envelope::audited;

pub fn router(services: Arc<Services>) -> Router {
    let settings = &services.settings;
    let leptos_options = LeptosOptions::builder()
        .output_name("portal")
        .site_root(settings.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(settings.addr)
        .build();
    let ui_backend = app::backend::Backend(Arc::new(backend::UiBackend(services.clone())));
    let context = move || {
        provide_context(ui_backend.clone());
        headers::provide_page_nonce();
    };
    let routes = generate_route_list(App);

    let named = || axum::middleware::from_fn(ops::name_route);
    let sharing = crate::sharing::router(services.clone())
        .route_layer(named())
        .fallback(|| async { PortalError::NotFound("no such Delta Sharing endpoint".into()) });
    let files = Router::new()
        .route("/files/{table_id}/{*path}", get(files::download).head(files::download))
        // Links in e-mails: signed, so they need no form token.
        .route("/deliveries/{id}", get(notifications::delivered_file))
        .route("/notifications/opt-out", get(notifications::opt_out).post(notifications::opt_out))
        .route("/oauth/token", post(oauth::token))
        .route_layer(named())
        .with_state(services.clone());
    // Every partner route is audited under its action (see `envelope`); polling a job is not.
    let s = &services;
    let api =
        Router::new()
            .route("/shares/{share}/schemas/{schema}/tables/{table}/rows", audited(s, "api.rows", get(api::rows)))
            .route("/shares/{share}/schemas/{schema}/tables/{table}/export.csv", audited(s, "export.csv", get(export::csv)))
            .route("/shares/{share}/schemas/{schema}/tables/{table}/export.xlsx", audited(s, "export.xlsx", get(export::xlsx)))
            .route("/shares/{share}/schemas/{schema}/tables/{table}/chart.svg", audited(s, "export.chart", get(export::chart_svg)))
            .route("/shares/{share}/schemas/{schema}/tables/{table}/chart.png", audited(s, "export.chart", get(export::chart_png)))
            .route("/shares/{share}/schemas/{schema}/tables/{table}/exports", audited(s, "export.jobCreate", post(exports::create)))
            .route("/exports", audited(s, "export.jobList", get(exports::list)))
            .route("/exports/{id}", get(exports::show).merge(audited(s, "export.jobCancel", delete(exports::cancel))))
            .route("/exports/{id}/file", audited(s, "export.jobDownload", get(exports::file)))
            .route("/views", audited(s, "view.list", get(saved_views::list)).merge(audited(s, "view.save", post(saved_views::create))))
            .route(
                "/views/{id}",
                audited(s, "view.show", get(saved_views::show))
                    .merge(audited(s, "view.rename", patch(saved_views::rename)))
                    .merge(audited(s, "view.delete", delete(saved_views::delete))),
            )
            .route(
                "/views/{id}/delivery",
                audited(s, "view.setDelivery", put(saved_views::set_delivery)).merge(audited(
                    s,
                    "view.removeDelivery",
                    delete(saved_views::remove_delivery),
                )),
            )
            .route("/webhooks", audited(s, "webhook.list", get(webhooks::list)).merge(audited(s, "webhook.create", post(webhooks::create))))
            .route(
                "/webhooks/{id}",
                audited(s, "webhook.show", get(webhooks::show)).merge(audited(s, "webhook.delete", delete(webhooks::delete))),
            )
            .route("/webhooks/{id}/test", audited(s, "webhook.test", post(webhooks::test)))
            .route("/openapi.json", get(openapi::document))
            .nest("/admin", admin_api::router())
            .route_layer(named())
            .fallback(|| async { PortalError::NotFound("no such API endpoint".into()) })
            .with_state(services.clone());

    // Browser pages and forms: every response carries what the forms need (see `forms`).
    let forms = Router::new()
        .route("/activate/{code}", post(activation::redeem))
        .route("/login", post(signin::sign_in))
        .route("/logout", post(signin::sign_out))
        .route("/connect/tokens", audited(s, "connect.createToken", post(connect::create)))
        .route("/connect/tokens/{id}/rotate", audited(s, "connect.rotateToken", post(connect::rotate)))
        .route("/connect/tokens/{id}/revoke", audited(s, "connect.revokeToken", post(connect::revoke)))
        .route("/connect/clients", audited(s, "connect.createOAuthClient", post(connect::create_client)))
        .route("/connect/clients/{id}/rotate", audited(s, "connect.rotateOAuthClient", post(connect::rotate_client)))
        .route("/connect/clients/{id}/revoke", audited(s, "connect.revokeOAuthClient", post(connect::revoke_client)))
        .route("/connect/webhooks", audited(s, "webhook.create", post(webhooks::create_form)))
        .route("/connect/webhooks/{id}/test", audited(s, "webhook.test", post(webhooks::test_form)))
        .route("/connect/webhooks/{id}/remove", audited(s, "webhook.delete", post(webhooks::remove_form)))
        .route("/exports", audited(s, "export.jobCreate", post(exports::create_form)))
        .route("/exports/{id}/cancel", audited(s, "export.jobCancel", post(exports::cancel_form)))
        // The list of saved views is on the home page.
        .route("/views", get(|| async { signin::see_other("/#saved-views") }).merge(audited(s, "view.save", post(saved_views::save_form))))
        .route("/views/{id}/rename", audited(s, "view.rename", post(saved_views::rename_form)))
        .route("/views/{id}/delete", audited(s, "view.delete", post(saved_views::delete_form)))
        .route("/views/{id}/delivery", audited(s, "view.setDelivery", post(saved_views::delivery_form)))
        .route("/views/{id}/delivery/delete", audited(s, "view.removeDelivery", post(saved_views::delivery_delete_form)))
        .merge(admin_routes())
        .route_layer(named())
        .with_state(services.clone());
    let server_fns = {
        let context = context.clone();
        move |req| leptos_axum::handle_server_fns_with_context(context.clone(), req)
    };
    let ui = Router::new()
        .route("/_fn/{*name}", get(server_fns.clone()).post(server_fns))
        .leptos_routes_with_context(&leptos_options, routes, context.clone(), {
            let options = leptos_options.clone();
            move || shell(options.clone())
        })
        .route_layer(named())
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .layer(axum::middleware::from_fn(headers::stamp_pages))
        .with_state(leptos_options);
    let browser = forms.merge(ui).layer(axum::middleware::from_fn_with_state(services.clone(), forms::bind_forms));

    let proxies = Arc::new(crate::auth::network::Proxies { trusted: settings.trusted_proxies.clone(), header: settings.forwarded_header });
    Router::new()
        .nest("/delta-sharing", sharing)
        .merge(files)
        .nest("/api/v1", api)
        .merge(ops::router(services.clone(), false))
        .merge(browser)
        // Outermost first on the way in: the peer's address, then the limits, then the throttle.
        .layer(axum::extract::DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(services.clone(), throttling::throttle))
        .layer(axum::middleware::from_fn_with_state(services.clone(), limits::limit))
        .layer(axum::middleware::from_fn_with_state(proxies, crate::auth::network::record_peer))
        .layer(axum::middleware::from_fn(refusal::framework_errors))
        .layer(axum::middleware::from_fn_with_state(headers::Https(settings.is_https()), headers::protect))
        .layer(axum::middleware::from_fn_with_state(services.clone(), ops::observe))
        .layer(TraceLayer::new_for_http())
}

/// Console sign-in and forms (the pages themselves are Leptos routes).
fn admin_routes() -> Router<Arc<Services>> {
    use admin_forms as f;
    Router::new()
        .route("/admin/login/{code}", post(admin_auth::redeem_link))
        .route("/admin/logout", post(admin_auth::sign_out))
        .route("/auth/oidc/start", get(admin_auth::start))
        .route("/auth/oidc/callback", get(admin_auth::callback))
        .route("/admin/audit.csv", get(admin_api::audit_csv))
        .route("/admin/shares", post(f::create_share))
        .route("/admin/shares/{name}/edit", post(f::edit_share))
        .route("/admin/shares/{name}/delete", post(f::delete_share))
        .route("/admin/shares/{name}/tables", post(f::add_table))
        .route("/admin/shares/{name}/tables/{table}/edit", post(f::edit_table))
        .route("/admin/shares/{name}/tables/{table}/remove", post(f::remove_table))
        .route("/admin/shares/{name}/grants", post(f::grant))
        .route("/admin/shares/{name}/grants/{recipient}/revoke", post(f::revoke_grant))
        .route("/admin/recipients", post(f::create_recipient))
        .route("/admin/recipients/{name}/edit", post(f::edit_recipient))
        .route("/admin/recipients/{name}/limits", post(f::set_limits))
        .route("/admin/recipients/{name}/contacts", post(f::add_contact))
        .route("/admin/recipients/{name}/contacts/{id}/remove", post(f::remove_contact))
        .route("/admin/recipients/{name}/grants", post(f::grant_share))
        .route("/admin/recipients/{name}/delete", post(f::delete_recipient))
        .route("/admin/recipients/{name}/activation-link", post(f::activation_link))
        .route("/admin/recipients/{name}/rotate", post(f::rotate))
        .route("/admin/recipients/{name}/tokens/{id}/revoke", post(f::revoke_token))
        .route("/admin/recipients/{name}/oauth-clients", post(f::create_client))
        .route("/admin/recipients/{name}/oauth-clients/{id}/rotate", post(f::rotate_client))
        .route("/admin/recipients/{name}/oauth-clients/{id}/revoke", post(f::revoke_client))
        .route("/admin/recipients/{name}/federation-policies", post(f::add_policy))
        .route("/admin/recipients/{name}/federation-policies/{id}/remove", post(f::remove_policy))
        .route("/admin/locations", post(f::create_location))
        .route("/admin/locations/{name}/grants", post(f::grant_location))
        .route("/admin/locations/{name}/grants/{team}/revoke", post(f::revoke_location))
        .route("/admin/locations/{name}/delete", post(f::delete_location))
        .route("/admin/teams", post(f::create_team))
        .route("/admin/api-tokens", post(f::create_api_token))
        .route("/admin/api-tokens/{id}/revoke", post(f::revoke_api_token))
}

/// Serves until SIGTERM or Ctrl-C, then drains: `/readyz` turns 503, new connections are
/// refused, requests in flight get `shutdown_grace_secs` to finish, and running export jobs go
/// back to the queue for another replica.
pub async fn serve(services: Arc<Services>) -> Result<()> {
    let settings = &services.settings;
    let addr = settings.addr;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| PortalError::Config(format!("cannot listen on {addr}: {e}")))?;
    if let Some(metrics_addr) = settings.metrics_addr {
        let listener = tokio::net::TcpListener::bind(metrics_addr)
            .await
            .map_err(|e| PortalError::Config(format!("cannot listen on {metrics_addr}: {e}")))?;
        let app = ops::router(services.clone(), true);
        tokio::spawn(async move { axum::serve(listener, app).await });
        tracing::info!(%metrics_addr, "metrics and health checks listening");
    }
    crate::export::jobs::ExportJobs::start(&services).await?;
    tokio::spawn(crate::admin::audit_log::sweep_forever(services.clone()));
    tokio::spawn(services.keys.clone().reload_forever());
    let replica = services.jobs.replica().to_string();
    tokio::spawn(crate::notify::sender::send_forever(services.clone(), replica.clone()));
    tokio::spawn(crate::notify::reminders::remind_forever(services.clone(), replica.clone()));
    tokio::spawn(crate::deliveries::run_forever(services.clone(), replica));
    tracing::info!(%addr, public_url = %settings.public_url, "portal listening");
    let app = router(services.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (drain, draining) = tokio::sync::watch::channel(());
    let mut server = tokio::spawn(async move {
        let mut draining = draining;
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = draining.changed().await;
            })
            .await
    });
    tokio::select! {
        ended = &mut server => return ended.map_err(|e| PortalError::fault("server task", e))?.map_err(Into::into),
        _ = shutdown_signal() => {}
    }
    tracing::info!("stopping: finishing requests in flight");
    ops::READY.store(false, std::sync::atomic::Ordering::Relaxed);
    let _ = drain.send(());
    let grace = std::time::Duration::from_secs(settings.shutdown_grace_secs);
    let (_, drained) = tokio::join!(services.jobs.stop(grace), tokio::time::timeout(grace, &mut server));
    if drained.is_err() {
        tracing::warn!(grace_secs = grace.as_secs(), "requests still running after the grace period were cut off");
        server.abort();
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
