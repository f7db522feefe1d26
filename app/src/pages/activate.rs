//! `/activate/{code}`: names the recipient and offers the one-time credential download.
//! The download button is a plain form POST to the same URL, handled by the server, so a
//! mail scanner's GET never spends the link and the page works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::form_token::FormToken;
use crate::components::{readable_time, Card};
use crate::contract::{get_activation_state, ActivationState};

#[component]
pub fn ActivatePage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let state = Resource::new(code, get_activation_state);
    view! {
        <Suspense fallback=|| view! { <p class="text-slate-500">"Checking your link…"</p> }>
            {move || Suspend::new(async move {
                match state.await {
                    Ok(state) => view! { <ActivationCard state code=code()/> }.into_any(),
                    Err(_) => view! {
                        <Card title="Something went wrong">
                            <p class="text-slate-600">"We could not check this link. Please try again in a minute."</p>
                        </Card>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ActivationCard(state: ActivationState, code: String) -> impl IntoView {
    match state {
        ActivationState::Ready { recipient, expires_at } => view! {
            <Card title=format!("Credentials for {recipient}")>
                <p class="text-slate-600">
                    "This link gives you a credential file (" <code>"config.share"</code>
                    ") for reading your shared data with pandas, Spark, Power BI or Tableau."
                </p>
                <p class="mt-2 font-medium text-amber-700">
                    "The file can be downloaded only once. Store it somewhere safe."
                </p>
                <p class="mt-1 text-sm text-slate-500">"The link expires at " {readable_time(&expires_at)} "."</p>
                <form method="post" action=format!("/activate/{code}") class="mt-6">
                    <FormToken/>
                    <button type="submit"
                        class="rounded-lg bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-300">
                        "Download credential file"
                    </button>
                </form>
                <p class="mt-6 border-t border-slate-100 pt-4 text-slate-600">
                    "Downloading also signs this browser in. Afterwards, "
                    <a href="/" class="font-medium text-indigo-700 underline">"continue to your data"</a>
                    " to browse, filter and preview your tables."
                </p>
            </Card>
        }.into_any(),
        ActivationState::Used { recipient } => view! {
            <Card title="This link was already used".to_string()>
                <p class="text-slate-600">
                    "The credential file for " <strong>{recipient}</strong>
                    " was downloaded already. Ask your contact for a new activation link if you need another one."
                </p>
            </Card>
        }.into_any(),
        ActivationState::Expired { recipient } => view! {
            <Card title="This link has expired".to_string()>
                <p class="text-slate-600">
                    "The activation link for " <strong>{recipient}</strong>
                    " is no longer valid. Ask your contact for a new one."
                </p>
            </Card>
        }.into_any(),
        ActivationState::Unknown => view! {
            <Card title="Link not found".to_string()>
                <p class="text-slate-600">"This activation link is not valid. Check that you copied all of it."</p>
            </Card>
        }.into_any(),
    }
}
