//! The header's right side: who is signed in, and the sign-out button (a form, so it works
//! without JavaScript and carries the form token).

use leptos::prelude::*;

use crate::contract::get_session;

#[component]
pub fn SessionBar() -> impl IntoView {
    // Asked again on every navigation: activation and sign-in change who is signed in.
    let location = leptos_router::hooks::use_location();
    let session = Resource::new(move || location.pathname.get(), |_| get_session());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match session.await {
                    Ok(s) => match s.partner {
                        Some(partner) => view! {
                            <div class="flex flex-wrap items-center justify-end gap-x-4 gap-y-2 text-sm">
                                <nav aria-label="Your portal" class="flex gap-4 font-medium">
                                    <a href="/connect" class="text-indigo-700 hover:underline">"Connect your tools"</a>
                                    <a href="/exports" class="text-indigo-700 hover:underline">"Your exports"</a>
                                </nav>
                                <span class="hidden text-slate-600 lg:inline">"Signed in as "<strong class="text-slate-900">{partner}</strong></span>
                                <form method="post" action="/logout">
                                    <input type="hidden" name="csrf" value=s.csrf/>
                                    <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 font-medium text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500">
                                        "Sign out"
                                    </button>
                                </form>
                            </div>
                        }.into_any(),
                        // The console has its own sign-in and sign-out.
                        None if location.pathname.get_untracked().starts_with("/admin") => ().into_any(),
                        None => view! {
                            <a href="/login" class="text-sm font-medium text-indigo-700 hover:underline">"Sign in"</a>
                        }.into_any(),
                    },
                    Err(_) => ().into_any(),
                }
            })}
        </Suspense>
    }
}
