//! `/admin`: the team's recipients (status, last access, rows and bytes read), their usage over
//! time, shares, and forms to create either.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::usage::UsagePanel;
use super::{section, show, AdminNav, FieldError, FormBase, Outcome, StatusBadge, TeamSelect};
use crate::components::ui::{BUTTON, FIELD, LABEL, PRIMARY};
use crate::components::{bytes, plural, readable_time, thousands, Loading};
use crate::contract::grammar::encode;
use crate::contract::{get_admin_home, AdminHomeView};

#[component]
pub fn AdminHomePage() -> impl IntoView {
    let query = use_query_map();
    let page = Resource::new(move || query.read().get("q"), get_admin_home);
    view! {
        <Transition fallback=|| view! { <Loading what="partners"/> }>
            {move || Suspend::new(async move { show(page.await, |v| view! { <Overview v/> }.into_any()) })}
        </Transition>
    }
}

#[component]
fn Overview(v: AdminHomeView) -> impl IntoView {
    super::provide_outcome(&v.session);
    let csrf = v.session.csrf.clone();
    let recipients = v.recipients.clone();
    let shares = v.shares.clone();
    view! {
        <AdminNav session=v.session.clone()/>
        <Outcome/>
        <div class="mb-6 flex flex-wrap items-center justify-between gap-3">
            <h1 class="text-2xl font-semibold">"Partners"</h1>
            <a href="/admin/onboard" class=PRIMARY>"Onboard a partner"</a>
        </div>
        {section("Recipients", "recipients", view! {
            <form method="get" action="/admin" role="search" class="mb-3 flex flex-wrap items-end gap-2">
                <div class="grow"><label for="recipient-search" class=LABEL>"Find a recipient (name, comment or property value, e.g. P001)"</label>
                    <input id="recipient-search" name="q" type="search" value=v.search.clone() class=FIELD/></div>
                <button type="submit" class=BUTTON>"Search"</button>
            </form>
            {(v.matching > recipients.len()).then(|| view! {
                <p class="mb-2 text-sm text-slate-600" role="status">{format!("Showing {} of {} recipients; search to narrow the list.", recipients.len(), v.matching)}</p>
            })}
            {if recipients.is_empty() && !v.search.is_empty() {
                view! { <p class="text-slate-600">{format!("No recipient matches \u{201c}{}\u{201d}.", v.search)}</p> }.into_any()
            } else if recipients.is_empty() {
                view! { <p class="text-slate-600">"No recipients yet. Onboard your first partner to create one."</p> }.into_any()
            } else {
                view! {
                    <div class="overflow-x-auto">
                        <table class="min-w-full text-left text-sm">
                            <thead class="text-slate-600"><tr>
                                <th scope="col" class="py-2 pr-4">"Recipient"</th>
                                <th scope="col" class="py-2 pr-4">"Team"</th>
                                <th scope="col" class="py-2 pr-4">"Status"</th>
                                <th scope="col" class="py-2 pr-4">"Last access"</th>
                                <th scope="col" class="py-2 pr-4 text-right">"Rows read"</th>
                                <th scope="col" class="py-2 pr-4 text-right">"Bytes read"</th>
                            </tr></thead>
                            <tbody>
                                {recipients.into_iter().map(|r| view! {
                                    <tr class="border-t border-slate-100">
                                        <td class="py-2 pr-4"><a class="font-medium text-indigo-700 hover:underline" href=format!("/admin/recipients/{}", encode(&r.name))>{r.name.clone()}</a></td>
                                        <td class="py-2 pr-4">{r.team.clone()}</td>
                                        <td class="py-2 pr-4"><StatusBadge status=r.status.clone()/></td>
                                        <td class="py-2 pr-4">{r.last_access.as_deref().map(readable_time).unwrap_or_else(|| "never".into())}</td>
                                        <td class="py-2 pr-4 text-right tabular-nums">{thousands(r.rows_read.max(0) as u64)}</td>
                                        <td class="py-2 pr-4 text-right tabular-nums">{bytes(r.bytes_read.max(0) as u64)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        })}
        <UsagePanel usage=v.usage.clone() whose="your partners".to_string() audit="/admin/audit".to_string()/>
        {section("Shares", "shares", view! {
            {if shares.is_empty() {
                view! { <p class="text-slate-600">"No shares yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100">
                        {shares.into_iter().map(|s| view! {
                            <li class="flex flex-wrap items-baseline justify-between gap-2 py-2">
                                <a class="font-medium text-indigo-700 hover:underline" href=format!("/admin/shares/{}", encode(&s.name))>{s.name.clone()}</a>
                                <span class="text-sm text-slate-600">{format!("team {} · {} · {}", s.team, plural(s.tables, "table"), plural(s.grants, "recipient"))}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            }}
        })}
        <div class="grid gap-6 md:grid-cols-2">
            {section("New share", "new-share", view! {
                <form method="post" action="/admin/shares" class="space-y-3">
                    <FormBase csrf=csrf.clone() back="/admin"/>
                    <div><label for="share-name" class=LABEL>"Share name"</label><input id="share-name" name="name" required class=FIELD/><FieldError field="name"/></div>
                    <div><label for="share-comment" class=LABEL>"Comment"</label><input id="share-comment" name="comment" class=FIELD/></div>
                    <div><TeamSelect teams=v.teams.clone() id="share-team"/></div>
                    <button type="submit" class=PRIMARY>"Create share"</button>
                </form>
            })}
            {section("New recipient", "new-recipient", view! {
                <form method="post" action="/admin/recipients" class="space-y-3">
                    <FormBase csrf=csrf.clone() back="/admin"/>
                    <div><label for="recipient-name" class=LABEL>"Recipient name"</label><input id="recipient-name" name="name" required class=FIELD/></div>
                    <div><label for="recipient-properties" class=LABEL>"Properties (one name=value per line, e.g. partner_id=P001)"</label>
                        <textarea id="recipient-properties" name="properties" rows="3" class=FIELD></textarea><FieldError field="properties"/></div>
                    <div><label for="recipient-ip" class=LABEL>"IP allow-list (CIDRs, comma-separated; empty = any network)"</label>
                        <input id="recipient-ip" name="ip_allow" class=FIELD placeholder="203.0.113.0/24, 2001:db8::/32"/><FieldError field="ipAllowList"/></div>
                    <div><TeamSelect teams=v.teams.clone() id="recipient-team"/></div>
                    <button type="submit" class=PRIMARY>"Create recipient"</button>
                </form>
            })}
        </div>
    }
}
