//! `/login`: sign in with an access token or the `.share` credential file. The form posts to the
//! server (multipart, so the file travels in the body); tokens never appear in a URL.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{Card, Notice};
use crate::contract::get_session;

fn error_text(code: &str) -> &'static str {
    match code {
        "invalid" => "That access token is not valid. Check that you copied all of it, or use your credential file.",
        "expired" => "That access token has expired. Ask your contact for a new activation link.",
        "revoked" => "That access token was revoked. Ask your contact for a new activation link.",
        "file" => "That file is not a credential file. Choose the config.share file you downloaded.",
        "missing" => "Enter your access token or choose your credential file.",
        "form" => "The sign-in form had expired. Please try again.",
        "oidc" => "Signing in with your company account did not complete. Please try again.",
        "oidc_unknown" => "Your company account signed in, but no partner access is set up for it. Ask your contact to connect your organisation's sign-in.",
        "network" => "Your organisation's access does not allow sign-in from this network.",
        "sso_off" => "Sign-in with a company account is not set up on this portal.",
        _ => "Signing in did not work just now. Please try again in a minute.",
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.read().get("error");
    let signed_out = move || query.read().get("signed_out").is_some();
    let next = move || query.read().get("next").unwrap_or_else(|| "/".into());
    let session = Resource::new(|| (), |_| get_session());
    let field = "mt-1 block w-full rounded-lg border border-slate-300 px-3 py-2 text-slate-900 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-200";
    view! {
        <Card title="Sign in to your data">
            <div class="space-y-4">
                {move || error().map(|code| view! { <Notice tone="error">{error_text(&code)}</Notice> })}
                {move || signed_out().then(|| view! { <Notice tone="success">"You are signed out."</Notice> })}
                <p class="text-slate-600">
                    "Use the access token from your contact, or the credential file ("
                    <code>"config.share"</code>") you downloaded with your activation link."
                </p>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        let s = session.await.unwrap_or_default();
                        let already = s.partner.clone().map(|p| view! {
                            <Notice tone="info">"You are signed in as " <strong>{p}</strong> ". " <a class="underline" href="/">"Go to your data"</a></Notice>
                        });
                        view! {
                            {already}
                            <form method="post" action="/login" enctype="multipart/form-data" class="space-y-4">
                                <input type="hidden" name="csrf" value=s.csrf/>
                                <input type="hidden" name="next" value=next/>
                                <div>
                                    <label for="token" class="block text-sm font-medium text-slate-700">"Access token"</label>
                                    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" class=field
                                        aria-describedby="token-help"/>
                                    <p id="token-help" class="mt-1 text-xs text-slate-500">"Starts with dss_. Pasted, never shown."</p>
                                </div>
                                <div class="flex items-center gap-3 text-xs uppercase tracking-wide text-slate-400">
                                    <span class="h-px flex-1 bg-slate-200"></span>"or"<span class="h-px flex-1 bg-slate-200"></span>
                                </div>
                                <div>
                                    <label for="credential_file" class="block text-sm font-medium text-slate-700">"Credential file"</label>
                                    <input id="credential_file" name="credential_file" type="file" accept=".share,application/json"
                                        class="mt-1 block w-full text-sm text-slate-700 file:mr-3 file:rounded-md file:border-0 file:bg-slate-100 file:px-3 file:py-2 file:font-medium hover:file:bg-slate-200"/>
                                </div>
                                <button type="submit" class="w-full rounded-lg bg-indigo-700 px-4 py-2.5 font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-300">
                                    "Sign in"
                                </button>
                            </form>
                            {s.sso.iter().map(|(index, name)| view! {
                                <a href=format!("/auth/oidc/start?as=partner&idp={index}&next={}", crate::contract::grammar::encode(&next())) rel="external"
                                    class="block w-full rounded-lg border border-slate-300 px-4 py-2.5 text-center font-medium text-slate-800 hover:bg-slate-50 focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-300">
                                    {format!("Sign in with {name}")}
                                </a>
                            }).collect_view()}
                        }
                    })}
                </Suspense>
            </div>
        </Card>
    }
}

/// `GET /logout`: a confirmation with the sign-out button (signing out is a POST).
#[component]
pub fn LogoutPage() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_session());
    view! {
        <Card title="Sign out">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    let s = session.await.unwrap_or_default();
                    view! {
                        <form method="post" action="/logout">
                            <input type="hidden" name="csrf" value=s.csrf/>
                            <p class="text-slate-600">"End your session on this browser."</p>
                            <button type="submit" class="mt-4 rounded-lg bg-indigo-700 px-4 py-2 font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-4 focus-visible:ring-indigo-300">"Sign out"</button>
                        </form>
                    }
                })}
            </Suspense>
        </Card>
    }
}
