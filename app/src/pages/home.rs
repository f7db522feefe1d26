use leptos::prelude::*;

/// The landing page. The partner catalog replaces it once sign-in exists.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">"Welcome to the Partner Data Portal"</h1>
            <p class="mt-2 text-slate-600">
                "Your data is shared over the open Delta Sharing protocol. "
                "Open the activation link you received to download your credential file, "
                "then read the data with pandas, Spark, Power BI or Tableau."
            </p>
            <p class="mt-4 text-sm text-slate-500">
                "Sharing endpoint: " <code class="rounded bg-slate-100 px-1">"/delta-sharing"</code>
            </p>
        </section>
    }
}
