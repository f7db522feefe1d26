//! The HTML document and the router: one place lists every page of the portal.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::components::session_bar::SessionBar;
use crate::pages::admin::{
    audit::AdminAuditPage,
    locations::AdminLocationsPage,
    login::{AdminLinkPage, AdminLoginPage},
    onboard::AdminOnboardPage,
    overview::AdminHomePage,
    preview::AdminPreviewPage,
    recipient::AdminRecipientPage,
    share::AdminSharePage,
    teams::AdminTeamsPage,
};
use crate::pages::{
    activate::ActivatePage,
    connect::ConnectPage,
    exports::ExportsPage,
    home::HomePage,
    login::{LoginPage, LogoutPage},
    not_found::NotFound,
    saved_views::SavedViewPage,
    table::TablePage,
};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <script src="/copy.js" defer></script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="portal" href="/pkg/portal.css"/>
        <Title text="Partner Data Portal"/>
        <Router>
            <header class="border-b border-slate-200 bg-white">
                <div class="mx-auto flex max-w-7xl items-center justify-between gap-4 px-4 py-3">
                    <a href="/" class="flex items-center gap-2 text-lg font-semibold tracking-tight text-slate-900">
                        <span class="inline-block h-6 w-6 rounded-md bg-indigo-700" aria-hidden="true"></span>
                        "Partner Data Portal"
                    </a>
                    <SessionBar/>
                </div>
            </header>
            <main class="mx-auto max-w-7xl px-4 py-8">
                // Pages that load data render fully on the server (Async) so they work without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/logout") view=LogoutPage ssr=SsrMode::Async/>
                    <Route path=path!("/shares/:share/:schema/:table") view=TablePage ssr=SsrMode::Async/>
                    <Route path=path!("/activate/:code") view=ActivatePage ssr=SsrMode::Async/>
                    <Route path=path!("/connect") view=ConnectPage ssr=SsrMode::Async/>
                    <Route path=path!("/exports") view=ExportsPage ssr=SsrMode::Async/>
                    <Route path=path!("/views/:id") view=SavedViewPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin") view=AdminHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/recipients") view=AdminHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/shares") view=AdminHomePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/login") view=AdminLoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/login/:code") view=AdminLinkPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/onboard") view=AdminOnboardPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/recipients/:name") view=AdminRecipientPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/shares/:name") view=AdminSharePage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/shares/:name/preview") view=AdminPreviewPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/audit") view=AdminAuditPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/api-tokens") view=AdminTeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/teams") view=AdminTeamsPage ssr=SsrMode::Async/>
                    <Route path=path!("/admin/locations") view=AdminLocationsPage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
