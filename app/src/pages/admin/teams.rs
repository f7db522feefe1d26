//! `/admin/teams`: provider teams (platform admins create them) and admin API tokens.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{section, show, AdminNav, FieldError, FormBase, Outcome};
use crate::components::ui::{CopyButton, DANGER, FIELD, LABEL, PRIMARY};
use crate::components::{readable_time, Loading};
use crate::contract::{get_admin_teams, AdminTeamsView};

#[component]
pub fn AdminTeamsPage() -> impl IntoView {
    let query = use_query_map();
    let issued = move || query.read().get("issued");
    let page = Resource::new(issued, get_admin_teams);
    view! {
        <Transition fallback=|| view! { <Loading what="teams"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Teams v/> }.into_any()) })}
        </Transition>
    }
}

#[component]
fn Teams(v: AdminTeamsView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let csrf = v.session.csrf.clone();
    let platform = v.session.team.is_none();
    let team_names: Vec<String> = v.teams.iter().map(|t| t.name.clone()).collect();
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <h1 class="mb-4 text-2xl font-semibold">"Teams and API tokens"</h1>
        {v.issued_token.clone().map(|token| view! {
            <section id="new-token" aria-labelledby="new-token-heading" class="mb-6 rounded-xl border border-emerald-300 bg-emerald-50 p-5">
                <h2 id="new-token-heading" class="text-lg font-semibold text-emerald-900">"New API token"</h2>
                <p class="text-sm text-emerald-900">"Copy it now: it is shown only once. Send it as Authorization: Bearer … to /api/v1/admin."</p>
                <label for="api-token" class="sr-only">"API token"</label>
                <div class="mt-2 flex gap-2"><input id="api-token" readonly value=token class=FIELD spellcheck="false"/><CopyButton target="api-token"/></div>
            </section>
        })}
        {section("Teams", "teams", view! {
            <ul class="text-sm">{v.teams.clone().into_iter().map(|t| view! { <li>{t.name.clone()}</li> }).collect_view()}</ul>
            {platform.then(|| view! {
                <form method="post" action="/admin/teams" class="mt-3 flex items-end gap-2">
                    <FormBase csrf=csrf.clone()/>
                    <div><label for="team-name" class=LABEL>"New team"</label><input id="team-name" name="name" required class=FIELD/><FieldError field="name"/></div>
                    <button type="submit" class=PRIMARY>"Create team"</button>
                </form>
            })}
        })}
        {section("Admin API tokens", "api-tokens", view! {
            <p class="text-sm text-slate-600">"Automation uses these on /api/v1/admin (described at " <a class="underline" href="/api/v1/openapi.json" rel="external">"/api/v1/openapi.json"</a> "). A token sees only its team."</p>
            <ul class="mt-2 divide-y divide-slate-100 text-sm">
                {v.tokens.clone().into_iter().map(|t| view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 py-2">
                        <span>{format!("{} · {} · {} · created {} by {}", t.name, t.id, t.team.clone().unwrap_or_else(|| "all teams".into()), readable_time(&t.created_at), t.created_by)}</span>
                        {if t.status == "active" {
                            view! {
                                <form method="post" action=format!("/admin/api-tokens/{}/revoke", t.id)>
                                    <FormBase csrf=csrf.clone()/>
                                    <button type="submit" class=DANGER aria-label=format!("Revoke API token {}", t.name)>"Revoke"</button>
                                </form>
                            }.into_any()
                        } else {
                            view! { <span class="text-slate-500">"revoked"</span> }.into_any()
                        }}
                    </li>
                }).collect_view()}
            </ul>
            <form method="post" action="/admin/api-tokens" class="mt-3 grid gap-3 md:grid-cols-3">
                <FormBase csrf=csrf.clone()/>
                <div><label for="token-name" class=LABEL>"Token name (what uses it)"</label><input id="token-name" name="name" required class=FIELD/></div>
                <div>
                    <label for="token-team" class=LABEL>"Scope"</label>
                    <select id="token-team" name="team" class=FIELD>
                        {platform.then(|| view! { <option value="">"All teams (platform)"</option> })}
                        {team_names.into_iter().map(|t| view! { <option value=t.clone()>{format!("Team {t}")}</option> }).collect_view()}
                    </select>
                </div>
                <div class="flex items-end"><button type="submit" class=PRIMARY>"Create API token"</button></div>
            </form>
        })}
    }
}
