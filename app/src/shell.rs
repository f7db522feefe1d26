//! The HTML document and the router: one place lists every page of the portal.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};

use crate::pages::{activate::ActivatePage, home::HomePage, not_found::NotFound};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
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
                <div class="mx-auto flex max-w-5xl items-center justify-between px-4 py-3">
                    <a href="/" class="text-lg font-semibold tracking-tight text-slate-900">
                        "Partner Data Portal"
                    </a>
                </div>
            </header>
            <main class="mx-auto max-w-5xl px-4 py-8">
                // Pages that load data render fully on the server (Async) so they work without JavaScript.
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/activate/:code") view=ActivatePage ssr=SsrMode::Async/>
                </Routes>
            </main>
        </Router>
    }
}
