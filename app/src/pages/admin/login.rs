//! `/admin/login` (single sign-on, or how to get a one-time link) and `/admin/login/:code`
//! (a one-time link, spent only by pressing its button: link previews cannot use it up).

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::components::ui::PRIMARY;
use crate::components::{transport_error, Card, Loading, Notice};
use crate::contract::{get_admin_link, get_admin_login, AdminLinkState};

fn error_text(code: &str) -> &'static str {
    match code {
        "not_admin" => {
            "Your account signed in, but it has no admin rights in the portal. Ask a platform administrator to add you to the admin group."
        }
        "no_team" => "Your account belongs to a provider team the portal does not know yet. Ask a platform administrator to create it.",
        "oidc" => "Single sign-on did not complete. Please try again.",
        "sso_off" => "Single sign-on is not configured on this portal.",
        "sso_unavailable" => "The identity provider cannot be reached just now. Please try again in a minute.",
        "form" => "The form had expired. Please try again.",
        _ => "Signing in did not work just now. Please try again in a minute.",
    }
}

#[component]
pub fn AdminLoginPage() -> impl IntoView {
    let query = use_query_map();
    let (error, signed_out, next) = query.with_untracked(|q| (q.get("error"), q.get("signed_out").is_some(), q.get("next")));
    let page = Resource::new(|| (), |_| get_admin_login());
    let start = format!("/auth/oidc/start?as=admin&next={}", crate::contract::grammar::encode(&next.unwrap_or_else(|| "/admin".into())));
    view! {
        <Card title="Admin console">
            {signed_out.then(|| view! { <div class="mb-4"><Notice tone="success">"You have signed out of the console."</Notice></div> })}
            {error.map(|e| view! { <div class="mb-4"><Notice tone="error">{error_text(&e)}</Notice></div> })}
            <Suspense fallback=|| view! { <Loading what="sign-in options"/> }>
                {move || {
                    let start = start.clone();
                    Suspend::new(async move {
                        match page.await {
                            Ok(v) if v.sso => view! {
                                <p class="text-slate-600">"Sign in with your company account to onboard and govern partners."</p>
                                <a href=start rel="external" class=format!("{PRIMARY} mt-4 inline-block")>"Sign in with single sign-on"</a>
                            }.into_any(),
                            Ok(_) => view! {
                                <p class="text-slate-600">"Single sign-on is not configured. On the server, run"</p>
                                <pre class="mt-2 rounded bg-slate-100 p-2 font-mono text-sm">"portal admin login-link"</pre>
                                <p class="mt-2 text-slate-600">"and open the one-time link it prints (it works once, for 15 minutes)."</p>
                            }.into_any(),
                            Err(_) => transport_error(),
                        }
                    })
                }}
            </Suspense>
        </Card>
    }
}

#[component]
pub fn AdminLinkPage() -> impl IntoView {
    let params = use_params_map();
    let code = move || params.read().get("code").unwrap_or_default();
    let state = Resource::new(code, get_admin_link);
    let failed = use_query_map().with_untracked(|q| q.get("error").is_some());
    view! {
        <Suspense fallback=|| view! { <Loading what="your sign-in link"/> }>
            {move || Suspend::new(async move {
                let action = format!("/admin/login/{}", code());
                match state.await {
                    Ok(AdminLinkState::Ready { team }) => view! {
                        <Card title="Sign in to the admin console">
                            {failed.then(|| view! { <div class="mb-4"><Notice tone="error">"The form had expired. Press the button again."</Notice></div> })}
                            <p class="text-slate-600">{match team {
                                Some(t) => format!("This one-time link signs this browser in as an administrator of team {t}."),
                                None => "This one-time link signs this browser in as a platform administrator (all teams).".to_string(),
                            }}</p>
                            <form method="post" action=action class="mt-4">
                                <crate::components::form_token::FormToken/>
                                <button type="submit" class=PRIMARY>"Sign in as administrator"</button>
                            </form>
                        </Card>
                    }.into_any(),
                    Ok(AdminLinkState::Used) => view! {
                        <Card title="Link already used">
                            <p class="text-slate-600">"This sign-in link was already used or has expired. Ask for a new one (" <code>"portal admin login-link"</code> ")."</p>
                        </Card>
                    }.into_any(),
                    Ok(AdminLinkState::Unknown) => view! {
                        <Card title="Link not valid">
                            <p class="text-slate-600">"This sign-in link is not valid. Check that you copied all of it."</p>
                        </Card>
                    }.into_any(),
                    Err(_) => transport_error(),
                }
            })}
        </Suspense>
    }
}
