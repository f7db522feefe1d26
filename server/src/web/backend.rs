//! The UI contract (`app::backend::PortalBackend`), implemented with the server's capabilities.

use std::sync::Arc;

use app::backend::PortalBackend;
use app::contract::grammar::TableQuery;
use app::contract::{
    table_href, ActivationState, AdminAuditView, AdminHomeView, AdminLinkState, AdminLocationsView, AdminLoginView, AdminOnboardView,
    AdminPreviewView, AdminRecipientView, AdminShareView, AdminTeamsView, AuditQuery, CatalogView, ConnectView, ExampleTable, ExportsView,
    FormToken, IssuedView, Loaded, Problem, SavedViewRow, SessionView, TableView, TokenRow,
};
use axum::http::request::Parts;

use super::{callers, envelope};
use crate::auth::credentials::LinkState;
use crate::auth::{Access, Caller};
use crate::catalog::{now_ms, Recipient};
use crate::error::PortalError;
use crate::primitives::time::rfc3339_ms;
use crate::saved_views::{self, SavedViews};
use crate::{export, query, Services};

pub struct UiBackend(pub Arc<Services>);

/// What a page read is noted with in the audit log.
#[derive(Default)]
struct Noted {
    rows: Option<u64>,
    detail: Option<String>,
}

impl UiBackend {
    /// The UI's envelope: authenticates the page request, runs `read`, audits it as `action` (if
    /// any) with the same line builder as every other route, and says what the page shows.
    async fn partner_read<T, F>(&self, request: &Parts, action: Option<&str>, object: Option<String>, read: F) -> Loaded<T>
    where
        F: AsyncFnOnce(&Caller) -> Result<(T, Noted), PortalError>,
    {
        let s = &self.0;
        let caller = match callers::partner(s, &request.headers).await {
            Ok(caller) => caller,
            // Signed in, but from a network the recipient does not allow.
            Err(e @ PortalError::Forbidden(_)) => return Loaded::Failed { status: 403, message: e.to_string() },
            Err(_) => return Loaded::SignedOut,
        };
        let result = read(&caller).await;
        if let Some(action) = action {
            let status = result.as_ref().map_or_else(|e| e.status().as_u16(), |_| 200);
            let mut event = envelope::event(&request.headers, envelope::partner_actor(&caller.recipient.name), action, status);
            event.object = object;
            if let Ok((_, noted)) = &result {
                event.rows = noted.rows.and_then(|n| i64::try_from(n).ok());
                event.detail = noted.detail.clone();
            }
            event.detail = caller.via.added_to(event.detail);
            s.catalog.audit(&event).await;
        }
        let action = action.unwrap_or("page");
        match result {
            Ok((value, _)) => Loaded::Ready(value),
            Err(PortalError::NotFound(m)) => Loaded::NotFound(m),
            Err(e) if e.status().is_client_error() => Loaded::Failed { status: e.status().as_u16(), message: e.to_string() },
            Err(e) => {
                tracing::error!(error = %e, action, "page read failed");
                Loaded::Failed { status: 500, message: "Something went wrong on our side. Please try again in a minute.".into() }
            }
        }
    }
}

#[async_trait::async_trait]
impl PortalBackend for UiBackend {
    async fn activation_state(&self, code: &str) -> Result<ActivationState, String> {
        let state = self.0.credentials.link_state(code).await.map_err(|e| {
            tracing::error!(error = %e, "activation lookup failed");
            "could not check the link".to_string()
        })?;
        Ok(match state {
            LinkState::Ready { recipient, expires_at } => {
                ActivationState::Ready { recipient: recipient.name, expires_at: rfc3339_ms(expires_at) }
            }
            LinkState::Used(r) => ActivationState::Used { recipient: r.name },
            LinkState::Expired(r) => ActivationState::Expired { recipient: r.name },
            LinkState::Unknown => ActivationState::Unknown,
        })
    }

    async fn session(&self, request: &Parts) -> SessionView {
        let partner = callers::partner(&self.0, &request.headers).await.ok().map(|c| c.recipient.name);
        let csrf = request.extensions.get::<FormToken>().map(|t| t.0.clone()).unwrap_or_default();
        SessionView { partner, csrf, sso: self.0.partner_sign_ins() }
    }

    async fn catalog(&self, request: &Parts) -> Loaded<CatalogView> {
        self.partner_read(request, Some("portal.catalog"), None, async |caller: &Caller| {
            let mut view = query::catalog::catalog(&self.0, &caller.recipient).await?;
            let saved = SavedViews::new(&self.0.catalog, &caller.recipient).list().await?;
            view.saved = crate::deliveries::rows(&self.0, &caller.recipient, saved).await?;
            let tables: usize = view.shares.iter().flat_map(|s| &s.schemas).map(|s| s.tables.len()).sum();
            Ok((view, Noted { detail: Some(format!("tables={tables}")), ..Noted::default() }))
        })
        .await
    }

    async fn table_view(&self, request: &Parts, share: &str, schema: &str, table: &str, raw_query: &str) -> Loaded<TableView> {
        // The filter builder's form answers with the canonical, bookmarkable URL, before any
        // data is read.
        // The view is parsed here, once; everything inward takes the typed query.
        let parsed = TableQuery::parse_query_string(raw_query);
        if let Some(query) = parsed.as_ref().ok().filter(|q| q.from_form) {
            if callers::partner(&self.0, &request.headers).await.is_err() {
                return Loaded::SignedOut;
            }
            return Loaded::Redirect(format!("{}{}", table_href(share, schema, table), query.href_suffix()));
        }
        let object = Some(format!("{share}.{schema}.{table}"));
        self.partner_read(request, Some("portal.preview"), object, async |caller: &Caller| {
            let outcome = query::view(&self.0, &caller.recipient, share, schema, table, parsed).await?;
            let grid = outcome.grid.map_err(problem);
            let chart = outcome.chart.map(|c| c.map_err(problem));
            let noted = match &grid {
                Ok(g) => Noted {
                    rows: Some(g.rows.len() as u64),
                    detail: Some(format!("rows={} query={}", g.rows.len(), outcome.query.to_query_string(false))),
                },
                Err(p) => Noted { detail: Some(format!("problem={}", p.message)), ..Noted::default() },
            };
            let view = TableView {
                meta: outcome.meta,
                query: outcome.query,
                description: outcome.description,
                grid,
                public_url: self.0.settings.public_url.clone(),
                job_rows: self.0.settings.export_job_rows,
                saved: {
                    let all = SavedViews::new(&self.0.catalog, &caller.recipient).list().await?;
                    let these = all.into_iter().filter(|v| saved_views::is_of(v, share, schema, table)).collect();
                    crate::deliveries::rows(&self.0, &caller.recipient, these).await?
                },
                chart,
                limits: export::limits::partner(&caller.recipient, self.0.catalog.export_jobs_started_today(&caller.recipient.id).await?),
            };
            Ok((view, noted))
        })
        .await
    }

    async fn saved_view(&self, request: &Parts, id: &str) -> Loaded<()> {
        let opened = self
            .partner_read(request, Some("view.open"), Some(id.to_string()), async |caller: &Caller| {
                let view = SavedViews::new(&self.0.catalog, &caller.recipient).get(id).await?;
                Ok((SavedViewRow::from(view).href(), Noted::default()))
            })
            .await;
        match opened {
            Loaded::Ready(href) => Loaded::Redirect(href),
            Loaded::Redirect(to) => Loaded::Redirect(to),
            Loaded::SignedOut => Loaded::SignedOut,
            Loaded::NotFound(m) => Loaded::NotFound(m),
            Loaded::Failed { status, message } => Loaded::Failed { status, message },
        }
    }

    async fn connect(&self, request: &Parts, issued: Option<&str>, client: Option<&str>) -> Loaded<ConnectView> {
        let s = &self.0;
        self.partner_read(request, Some("portal.connect"), None, async |caller: &Caller| {
            let recipient = &caller.recipient;
            let policy = s.credentials.policy(recipient).await?;
            let now = now_ms();
            let tokens = s
                .credentials
                .tokens(recipient)
                .await?
                .into_iter()
                .map(|t| TokenRow {
                    status: t.status(now).as_str().into(),
                    this_browser: t.id == caller.token_id,
                    name: t.name.clone().unwrap_or_else(|| "Unnamed token".into()),
                    created: rfc3339_ms(t.created_at),
                    last_used: t.last_used_at.map(rfc3339_ms),
                    expires: t.expires_at.map(rfc3339_ms),
                    id: t.id,
                })
                .collect();
            let issued = match issued {
                Some(id) => s.reveals.take(id, &recipient.id).await?,
                None => None,
            };
            let issued = issued.map(|i| IssuedView {
                name: i.record.name.clone().unwrap_or_default(),
                expires: i.record.expires_at.map(rfc3339_ms),
                profile: serde_json::to_string_pretty(&s.credentials.profile(&i)).unwrap_or_default(),
                token: i.token,
            });
            let issued_client = match client {
                Some(id) => s.issued_clients.take(id, &recipient.id).await?,
                None => None,
            };
            let view = ConnectView {
                partner: recipient.name.clone(),
                endpoint: s.credentials.endpoint().to_string(),
                tokens,
                max_days: policy.max_days,
                max_active: policy.max_active,
                example: example_table(s, recipient).await,
                issued,
                token_endpoint: s.credentials.token_endpoint(),
                clients: s.credentials.clients(recipient).await?.iter().map(|c| crate::admin::views::client(c, now)).collect(),
                issued_client: issued_client.map(|i| crate::admin::machine_access::issued_view(s, &i)),
                federation: super::connect::federation_profiles(s, recipient).await?,
                webhooks: super::webhooks::views_of(s, recipient).await?,
            };
            Ok((view, Noted::default()))
        })
        .await
    }

    async fn admin_login(&self, request: &Parts) -> AdminLoginView {
        super::admin_pages::login(&self.0, request)
    }

    async fn admin_link(&self, code: &str) -> AdminLinkState {
        super::admin_pages::link(&self.0, code).await
    }

    async fn admin_home(&self, request: &Parts, search: &str) -> Loaded<AdminHomeView> {
        super::admin_pages::home(&self.0, request, search).await
    }

    async fn admin_recipient(&self, request: &Parts, name: &str, issued: Option<&str>) -> Loaded<AdminRecipientView> {
        super::admin_pages::recipient(&self.0, request, name, issued).await
    }

    async fn admin_share(&self, request: &Parts, name: &str) -> Loaded<AdminShareView> {
        super::admin_pages::share(&self.0, request, name).await
    }

    async fn admin_audit(&self, request: &Parts, query: &AuditQuery) -> Loaded<AdminAuditView> {
        super::admin_pages::audit(&self.0, request, query).await
    }

    async fn admin_teams(&self, request: &Parts, issued: Option<&str>) -> Loaded<AdminTeamsView> {
        super::admin_pages::teams(&self.0, request, issued).await
    }

    async fn admin_locations(&self, request: &Parts) -> Loaded<AdminLocationsView> {
        super::admin_pages::locations(&self.0, request).await
    }

    async fn admin_preview(&self, request: &Parts, share: &str, table: &str, as_recipient: Option<&str>) -> Loaded<AdminPreviewView> {
        super::admin_pages::preview(&self.0, request, share, table, as_recipient).await
    }

    async fn admin_onboard(
        &self,
        request: &Parts,
        step: u8,
        share: Option<&str>,
        recipient: Option<&str>,
        issued: Option<&str>,
    ) -> Loaded<AdminOnboardView> {
        super::admin_pages::onboard(&self.0, request, step, share, recipient, issued).await
    }

    async fn exports(&self, request: &Parts) -> Loaded<ExportsView> {
        let s = &self.0;
        let csrf = request.extensions.get::<FormToken>().map(|t| t.0.clone()).unwrap_or_default();
        // Polled every two seconds while a job runs: not audited (creating and downloading are).
        self.partner_read(request, None, None, async move |caller: &Caller| {
            let jobs = s.jobs.list(&caller.recipient).await?;
            Ok((ExportsView { jobs: jobs.iter().map(|j| super::exports::job_view(s, j)).collect(), csrf }, Noted::default()))
        })
        .await
    }
}

/// The first table shared with the recipient, for the guides' examples (none if nothing is
/// shared or it cannot be read just now).
async fn example_table(s: &Services, recipient: &Recipient) -> Option<ExampleTable> {
    let access = Access::new(&s.catalog, recipient);
    for share in access.shares(None, 20).await.ok()?.items {
        let Some(t) = access.tables(&share.name, None, None, 1).await.ok()?.items.into_iter().next() else { continue };
        let meta = query::table_meta(s, recipient, &t.share_name, &t.schema_name, &t.name).await.ok()?;
        return Some(ExampleTable {
            csv_url: format!("{}{}/export.csv", s.settings.public_url, meta.api_href()),
            share: meta.share,
            schema: meta.schema,
            name: meta.name,
            columns: meta.columns,
        });
    }
    None
}

/// A view the portal could not answer, as the page shows it (a fault is logged, not shown).
fn problem(e: PortalError) -> Problem {
    match e {
        PortalError::BadQuery { column, message } => Problem { message, column, status: 400 },
        e if e.status().is_client_error() => Problem { message: e.to_string(), column: None, status: e.status().as_u16() },
        e => {
            tracing::error!(error = %e, "preview failed");
            Problem { message: "This view could not be read. Please try again in a minute.".into(), column: None, status: 500 }
        }
    }
}
