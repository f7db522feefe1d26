use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::backend::set_status(crate::contract::http_status::NOT_FOUND);
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6">
            <h1 class="text-2xl font-semibold">"Page not found"</h1>
            <p class="mt-2 text-slate-600">"There is nothing at this address."</p>
            <a class="mt-4 inline-block text-indigo-700 underline" href="/">"Go to the portal home"</a>
        </section>
    }
}
